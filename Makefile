# Two commands for a newcomer:  `make repro` (install, then run the pipeline)
# and `make test` (install, then run the tests).
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: repro test lint setup dataset browser

repro: setup  ## install everything, then run the default pipeline
	dvc repro

test: setup browser  ## install everything, then run the test suite
	pytest

lint: setup
	ruff check src stages tests bench
	ruff format --check src stages tests bench

setup: $(VENV)/.installed dataset

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The offline mirror of Fashion-MNIST, Debian's package, where apt-get is usable.
dataset:
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq dataset-fashion-mnist \
		|| echo "warning: could not install dataset-fashion-mnist; the download stage will use the internet mirrors"; \
	fi

# Headless Chromium for the test that renders the HTML report.
browser:
	@if ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then \
		( $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
		  || ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null ) ) \
		|| echo "warning: could not install chromium; the report rendering test will be skipped"; \
	fi

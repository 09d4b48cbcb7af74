"""Stage report: the run in one self-contained HTML page.

    python stages/report.py params.yaml metrics plots data/prepared reports/index.html

Reads every metrics file, every PNG and dvclive history under plots/, data/prepared/meta.json
(for the model cards) and the params; skips whatever a run did not make.
"""

import sys
from pathlib import Path

from repgen.errors import run_main
from repgen.io import atomic_path
from repgen.report import build_report


def main(argv: list[str]) -> None:
    params, metrics, plots, prepared, out = (Path(a) for a in argv[:5])
    page = build_report(params=params, metrics=metrics, plots=plots, prepared=prepared)
    with atomic_path(out) as tmp:
        tmp.write_text(page, encoding="utf-8")


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

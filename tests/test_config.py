"""params.yaml validation: every kind of bad input stops a stage with one line."""

import subprocess
import sys

import pytest
import yaml

from repgen import config
from repgen.errors import RepgenError
from tests.conftest import ROOT

BAD_PARAMS = [
    ({"classifier": {"epochz": 3}}, "classifier.epochz: unknown key; allowed keys here: epochs"),
    (
        {"classifier": {"epochs": "many"}},
        "classifier.epochs = 'many': Input should be a valid integer",
    ),
    ({"classifier": {"epochs": 0}}, "classifier.epochs = 0: Input should be greater than 0"),
    ({"training": {"strategy": "tpu"}}, "training.strategy = 'tpu': Input should be 'auto'"),
    ({"data": {"dataset": "cifar"}}, "data.dataset = 'cifar': Input should be 'fashion-mnist'"),
    ({"data": {"dataset": "folder"}}, "data: dataset 'folder' needs data.folder"),
    ({"corrupt": {"gaussian": [0.3, 1.5]}}, "corrupt.gaussian.1 = 1.5: Input should be less than"),
    (
        {"corrupt": {"superres_factors": [3]}},
        "corrupt.superres_factors.0 = 3: Input should be 2 or 4",
    ),
    ({"seed": -1}, "seed = -1: Input should be greater than or equal to 0"),
    ({"sed": 1}, "sed: unknown key; allowed keys here: seed, data"),
]


@pytest.mark.parametrize(("raw", "expected"), BAD_PARAMS)
def test_bad_params_name_the_key_and_what_is_allowed(raw, expected):
    with pytest.raises(RepgenError) as err:
        config.parse(raw, "params.yaml")
    message = str(err.value)
    assert message.startswith("params.yaml: ")
    assert expected in message
    assert "\n" not in message


def test_defaults_and_the_committed_params_are_valid():
    committed = config.load(ROOT / "params.yaml")
    assert committed.classifier.epochs > 0
    assert config.parse({}).data.dataset == "fashion-mnist"


def test_params_are_frozen():
    params = config.parse({})
    with pytest.raises(Exception, match="frozen"):
        params.classifier.epochs = 3


def test_unreadable_params_file(tmp_path):
    with pytest.raises(RepgenError, match="params file not found"):
        config.load(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("classifier: [epochs: 3\n")
    with pytest.raises(RepgenError, match="not valid YAML"):
        config.load(tmp_path / "params.yaml")


def test_a_stage_with_bad_params_exits_nonzero_and_writes_nothing(tmp_path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"]["train_limit"] = -5
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "raw").mkdir()
    result = subprocess.run(
        [sys.executable, str(ROOT / "stages" / "prepare.py"), "raw", "prepared"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == (
        "error: params.yaml: data.train_limit = -5: Input should be greater than 0"
    )
    assert not (tmp_path / "prepared").exists()

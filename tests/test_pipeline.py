"""The real `dvc repro`, on tiny generated data, in a temporary copy of the project."""

import json

import yaml

from tests.conftest import run


def stages_run(output: str) -> list[str]:
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")]


def test_dvc_repro_runs_then_reruns_only_what_changed(project):
    first = run(["dvc", "repro"], project)
    assert {"download", "prepare", "corrupt", "train@classifier"} <= set(stages_run(first.stdout))
    accuracy = json.loads((project / "metrics" / "classifier.json").read_text())
    assert 0 <= accuracy["test"]["accuracy"] <= 1
    assert (project / "plots" / "corrupt" / "corruptions.png").is_file()

    # Nothing changed: nothing runs.
    second = run(["dvc", "repro"], project)
    assert stages_run(second.stdout) == [], second.stdout

    # One param of one model: only its stage and what depends on it are out of date.
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["classifier"]["epochs"] += 1
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    status = json.loads(run(["dvc", "status", "--json"], project).stdout)
    assert "train@classifier" in status
    assert not {"download", "prepare", "corrupt"} & set(status)
    assert not [s for s in status if s.startswith("train@") and s != "train@classifier"]

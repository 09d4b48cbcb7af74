"""Versioned results on the tiny pipeline, in one temporary git repository shared by the module:
a sweep through DVC's experiment queue, one of its points committed, the three `dvc * diff`
commands between the two commits, the regression gate on real metrics files, and a DVC
remote that moves a trained model to a fresh clone.

Only the stages up to evaluate_classifier run, so the module stays small as models are added:
one `dvc repro` and one queued experiment that trains.
"""

import json
from pathlib import Path

import pytest
import yaml

from conftest import make_project, run
from repgen.cli import main

TARGETS = ["train@classifier", "evaluate_classifier"]


def commit(root: Path, message: str) -> None:
    run(["git", "add", "-A"], root)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message], root)


def dvc_json(root: Path, *args: str):
    return json.loads(run(["dvc", *args, "--json"], root).stdout)


def check(root: Path, *args: str) -> int:
    """`repgen check` in-process; its exit status."""
    try:
        main(["--root", str(root), "check", *args])
    except SystemExit as exit_:
        return exit_.code
    return 0


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """The tiny project with the classifier trained and evaluated, committed."""
    root = make_project(tmp_path_factory.mktemp("versioning"))
    run(["dvc", "repro", *TARGETS], root)
    commit(root, "classifier")
    return root


@pytest.fixture(scope="module")
def sweep(repo) -> dict[str, dict]:
    """Two queued experiments: `base` (the committed width: nothing to rerun) and `wide` (twice
    the width); by name, their git commit (`rev`) and params and metrics (`data`)."""
    width = yaml.safe_load((repo / "params.yaml").read_text())["classifier"]["width"]
    for name, value in (("base", width), ("wide", 2 * width)):
        queue = ["dvc", "exp", "run", "--queue", "-n", name, *TARGETS]
        run([*queue, "-S", f"classifier.width={value}"], repo)
    run(["dvc", "exp", "run", "--run-all"], repo)
    shown = dvc_json(repo, "exp", "show")
    experiments = [exp for commit in shown for exp in commit.get("experiments") or []]
    return {rev["name"]: rev for exp in experiments for rev in exp["revs"]}


@pytest.fixture(scope="module")
def history(repo, sweep) -> Path:
    """The repo with the `wide` experiment committed on top of the first commit, as a user
    keeps the best point of a sweep. (Its files come from the experiment's git commit:
    `dvc exp apply` would also check out the outputs of stages this module never runs.)"""
    run(["git", "checkout", sweep["wide"]["rev"], "--", "."], repo)
    run(["dvc", "checkout", *TARGETS], repo)
    commit(repo, "classifier twice as wide, from the sweep")
    return repo


def test_sweep_runs_two_points_through_the_queue(repo, sweep):
    width = yaml.safe_load((repo / "params.yaml").read_text())["classifier"]["width"]
    assert set(sweep) == {"base", "wide"}
    data = {name: rev["data"] for name, rev in sweep.items()}
    widths = {
        name: d["params"]["params.yaml"]["data"]["classifier"]["width"] for name, d in data.items()
    }
    assert widths == {"base": width, "wide": 2 * width}
    losses = {
        name: d["metrics"]["metrics/train/classifier.json"]["data"]["train"]["loss"]
        for name, d in data.items()
    }
    assert losses["base"] != losses["wide"]


def test_params_diff_between_commits(history):
    diff = dvc_json(history, "params", "diff", "HEAD~1", "HEAD")
    width = diff["params.yaml"]["classifier.width"]
    assert width["new"] == 2 * width["old"]


def test_metrics_diff_between_commits(history):
    diff = dvc_json(history, "metrics", "diff", "HEAD~1", "HEAD")
    loss = diff["metrics/train/classifier.json"]["train.loss"]
    assert loss["old"] != loss["new"] and loss["diff"] == pytest.approx(loss["new"] - loss["old"])


def test_plots_diff_between_commits(history):
    data = dvc_json(history, "plots", "diff", "HEAD~1", "HEAD")["data"]
    (loss_plot,) = data["plots/train/classifier/plots/metrics/train/loss.tsv"]
    values = loss_plot["content"]["data"]["values"]
    by_rev = {row["rev"]: float(row["loss"]) for row in values}
    assert set(by_rev) == {"HEAD~1", "HEAD"} and by_rev["HEAD~1"] != by_rev["HEAD"]


def test_gate_on_the_pipeline_metrics(history, capsys):
    path = history / "metrics" / "classifier.json"
    committed = json.loads(path.read_text())
    accuracy = committed["test"]["accuracy"]
    try:
        path.write_text(json.dumps({**committed, "test": {"accuracy": accuracy - 0.05}}))
        assert check(history) == 1
        assert "failing: classifier.test.accuracy" in capsys.readouterr().out
        path.write_text(json.dumps({**committed, "test": {"accuracy": accuracy + 0.05}}))
        assert check(history) == 0
        assert "improved" in capsys.readouterr().out
    finally:
        run(["git", "checkout", "--", str(path)], history)


def test_push_to_and_pull_from_a_remote(history, tmp_path):
    run(["dvc", "remote", "add", "-d", "shared", str(tmp_path / "remote")], history)
    commit(history, "a shared DVC remote")
    run(["dvc", "push", "prepare", "train@classifier"], history)

    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(history), str(clone)], tmp_path)
    assert not (clone / "models" / "classifier.keras").exists()
    run(["dvc", "pull", "prepare", "train@classifier"], clone)
    model = "models/classifier.keras"
    assert (clone / model).read_bytes() == (history / model).read_bytes()
    assert "up to date" in run(["dvc", "status", "train@classifier"], clone).stdout


def test_bench_scripts_print_their_figures(history):
    out = run(
        ["python", "bench/pipeline.py", "--force", "--single-item", "evaluate_classifier"], history
    ).stdout
    (row,) = [line.split() for line in out.splitlines() if line.startswith("evaluate_classifier")]
    assert float(row[1]) > 0 and float(row[2]) > 50  # seconds, peak MiB of a TensorFlow process
    assert "second, no-op dvc repro:" in out

    out = run(["python", "bench/throughput.py", "--samples", "8"], history).stdout
    assert any(line.split()[0] == "classifier" for line in out.splitlines() if line.strip())

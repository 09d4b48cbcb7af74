"""The regression gate: tolerance rules, pinned judgements, and `repgen check` on a small git
repository of hand-written metrics (no pipeline run)."""

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, run
from repgen import gate
from repgen.cli import main
from repgen.errors import RepgenError

DEFAULT_RULES = gate.load_rules(ROOT / "gate.yaml")

METRICS = {
    "denoising.json": {"gaussian_0.3": {"bm3d": {"psnr": 25.0, "ssim": 0.80}}},
    "generative.json": {"gan": {"fid": 40.0, "precision": 0.6, "samples_per_second": 900.0}},
    "classifier.json": {"test": {"accuracy": 0.90}},
    "train/gan.json": {"seconds": 60.0, "train": {"g_loss": 1.2}},
}


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("denoising.gaussian_0.3.bm3d.psnr", "higher"),
        ("superres.superres_gan.ssim", "higher"),
        ("generative.diffusion_ddim_50.fid", "lower"),
        ("generative.gan.samples_per_second", "ignore"),
        ("likelihood.flow.bits_per_dim", "lower"),
        ("latent.vae.knn_accuracy", "higher"),
        ("downstream.real_10_plus_gan.accuracy_mean", "higher"),
        ("downstream.real_10.accuracy_std", "ignore"),
        ("train/classifier.valid.loss", "ignore"),
        ("train/gan.seconds", "ignore"),
    ],
)
def test_default_rules_cover_the_metrics_files(name, direction):
    assert gate._rule_for(name, DEFAULT_RULES).direction == direction


@pytest.mark.parametrize(
    ("name", "old", "new", "status"),
    [
        ("denoising.gaussian_0.3.bm3d.psnr", 25.0, 24.85, "within slack"),  # -0.15 dB, slack 0.2
        ("denoising.gaussian_0.3.bm3d.psnr", 25.0, 24.75, "regressed"),
        ("denoising.gaussian_0.3.bm3d.psnr", 25.0, 25.01, "improved"),
        ("generative.gan.fid", 40.0, 41.9, "within slack"),  # +4.75 %, slack 5 %
        ("generative.gan.fid", 40.0, 42.1, "regressed"),
        ("generative.gan.fid", 40.0, 30.0, "improved"),
        ("generative.gan.fid", 40.0, 40.0, "unchanged"),
        ("generative.gan.fid", 40.0, float("nan"), "regressed"),
        ("generative.gan.samples_per_second", 900.0, 9.0, "ignored"),
        ("generative.gan.fid", None, 40.0, "added"),
        ("generative.gan.fid", 40.0, None, "missing"),
        ("made.up.metric", 1.0, 0.0, "no rule"),
    ],
)
def test_judge(name, old, new, status):
    assert gate.judge(old, new, gate._rule_for(name, DEFAULT_RULES)) == status


def test_flatten_names_file_and_dotted_key():
    tree = {"a": {"b": 1, "c": [2, 3.5]}, "note": "text", "flag": True}
    assert gate.flatten(tree, "train/gan") == {
        "train/gan.a.b": 1.0,
        "train/gan.a.c.0": 2.0,
        "train/gan.a.c.1": 3.5,
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("rules: [{match: '*.psnr', direction: up}]", "rules.0.direction"),
        ("rules: [{match: '*.psnr', direction: higher, slack: 1}]", "rules.0.slack"),
        ("rules: [{direction: higher}]", "rules.0.match"),
        ("rules: [{match: '*.fid', direction: lower, rel: -1}]", "rules.0.rel"),
        ("thresholds: {}", "rules"),
        ("rules: [unclosed", "not valid YAML"),
    ],
)
def test_malformed_tolerance_file_is_one_clear_error(tmp_path, text, says):
    path = tmp_path / "gate.yaml"
    path.write_text(text)
    with pytest.raises(RepgenError, match=says) as err:
        gate.load_rules(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def write_metrics(root: Path, metrics: dict) -> None:
    for name, tree in metrics.items():
        (root / "metrics" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "metrics" / name).write_text(json.dumps(tree))


def edited(**changes) -> dict:
    """METRICS with some values replaced, e.g. edited(fid=45.0)."""
    out = json.loads(json.dumps(METRICS))
    gan, bm3d = out["generative.json"]["gan"], out["denoising.json"]["gaussian_0.3"]["bm3d"]
    for key, value in changes.items():
        (bm3d if key in ("psnr", "ssim") else gan)[key] = value
    return out


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository with the default gate.yaml and METRICS committed."""
    shutil.copy(ROOT / "gate.yaml", tmp_path / "gate.yaml")
    write_metrics(tmp_path, METRICS)
    run(["git", "init", "-q"], tmp_path)
    run(["git", "add", "-A"], tmp_path)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"], tmp_path)
    return tmp_path


def check(repo: Path, *args: str) -> int:
    """`repgen check` in-process; its exit status."""
    try:
        main(["--root", str(repo), "check", *args])
    except SystemExit as exit_:
        return exit_.code
    return 0


def test_check_fails_on_a_regression(repo, capsys):
    write_metrics(repo, edited(psnr=24.5, samples_per_second=1.0))
    assert check(repo) == 1
    out = capsys.readouterr().out
    assert "denoising.gaussian_0.3.bm3d.psnr" in out and "regressed" in out
    assert "FAILED" in out and "failing: denoising.gaussian_0.3.bm3d.psnr" in out


def test_check_passes_an_improvement_and_slow_timings(repo, capsys):
    write_metrics(repo, edited(fid=30.0, psnr=25.1, samples_per_second=1.0))
    assert check(repo, "--md") == 0
    out = capsys.readouterr().out
    assert "| generative.gan.fid | 40 | 30 | -10 (-25.0%) | improved |" in out
    assert "samples_per_second" not in out  # ignored rows are hidden without --all
    assert "passed" in out


def test_check_against_an_older_revision(repo, capsys):
    write_metrics(repo, edited(fid=50.0))
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "worse"], repo)
    assert check(repo) == 0  # the workspace is HEAD
    assert "unchanged" in capsys.readouterr().out
    assert check(repo, "--against", "HEAD~1") == 1  # FID 40 -> 50 since HEAD~1
    assert "regressed" in capsys.readouterr().out


def test_a_lost_metric_fails_unless_allowed(repo, capsys):
    (repo / "metrics" / "classifier.json").unlink()
    assert check(repo) == 1
    assert "classifier.test.accuracy" in capsys.readouterr().out
    assert check(repo, "--allow-missing") == 0


def test_unknown_revision_is_one_line(repo, capsys):
    assert check(repo, "--against", "no-such-branch") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown revision 'no-such-branch'") and "\n" not in err


def test_malformed_tolerance_file_exits_2(repo, capsys):
    (repo / "gate.yaml").write_text("rules: [{match: '*.fid', direction: sideways}]")
    assert check(repo) == 2
    assert "gate.yaml: rules.0.direction" in capsys.readouterr().err

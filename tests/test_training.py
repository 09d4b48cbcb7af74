"""The training harness: resume after a kill ends where a straight run ends; NaN stops."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

from repgen.errors import RepgenError
from repgen.training import TrainPaths, fit, load_model, shuffled_batches

SCRIPT = textwrap.dedent(
    """
    import logging, sys, time
    import numpy as np
    from repgen.models.classifier import build_classifier
    from repgen.training import TrainPaths, fit, shuffled_batches

    root, delay = sys.argv[1], float(sys.argv[2])
    rng = np.random.default_rng(0)
    x = rng.random((256, 28, 28, 1), dtype=np.float32)
    y = (x[:, :14].mean(axis=(1, 2, 3)) > x[:, 14:].mean(axis=(1, 2, 3))).astype("int64")

    logging.basicConfig(level=logging.INFO)

    def on_epoch_end(model, epoch, live):  # room to kill the process between epochs
        time.sleep(delay)

    fit("tiny", build=lambda: build_classifier(num_classes=2, width=4, feature_dim=8,
                                                learning_rate=1e-2),
        batches=lambda e: shuffled_batches((x, y), 32, seed=3, epoch=e), epochs=3, seed=3,
        fingerprint="f", paths=TrainPaths.for_model("tiny", root + "/tiny.keras", root),
        on_epoch_end=on_epoch_end)
    """
)


def train(root, delay=0.0, **popen):
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(root), str(delay)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def weights(path):
    return [np.asarray(w) for w in load_model(path).weights]


def test_a_killed_run_resumes_and_ends_like_a_straight_run(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert train(straight).wait(timeout=300) == 0

    # Kill the second run with SIGKILL once its first checkpoint exists.
    process = train(resumed, delay=3.0)
    state = resumed / "models" / "checkpoints" / "tiny" / "state.npz"
    deadline = time.time() + 240
    while not state.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert state.exists(), "no checkpoint after the first epoch"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (resumed / "tiny.keras").exists()

    rerun = train(resumed)
    _, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr
    assert "resuming after epoch" in stderr
    for a, b in zip(weights(straight / "tiny.keras"), weights(resumed / "tiny.keras"), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not state.exists()  # a finished run leaves no checkpoint behind


def fit_tiny(x, y, root, build=None, **kwargs):
    """Two epochs of a 2-class classifier (of width 4 unless `build` says) through the harness."""
    from repgen.models.classifier import build_classifier

    paths = TrainPaths.for_model("tiny", root / "m.keras", root)
    fit(
        "tiny",
        build=build or (lambda: build_classifier(num_classes=2, width=4, feature_dim=8)),
        batches=lambda e: shuffled_batches((x, y), 32, seed=0, epoch=e),
        epochs=2,
        seed=0,
        fingerprint="f",
        paths=paths,
        **kwargs,
    )
    return paths


def linear_classifier() -> keras.Model:
    """Logits straight from the pixels: a NaN in the input is a NaN in the loss. (The conv
    classifier's ReLU and pooling may turn NaN into a number on some CPUs' kernels.)"""
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return model


def test_non_finite_loss_stops_with_a_clear_error(tmp_path):
    x = np.full((64, 28, 28, 1), np.nan, np.float32)
    y = np.zeros(64, np.int64)
    with pytest.raises(RepgenError, match=r"tiny: loss became nan at epoch 1, batch 1"):
        fit_tiny(x, y, tmp_path, build=linear_classifier)
    assert not (tmp_path / "m.keras").exists()


def test_history_and_summary_are_written(tmp_path):
    from repgen.io import read_json

    rng = np.random.default_rng(0)
    x = rng.random((64, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 2, 64)
    paths = fit_tiny(x, y, tmp_path, valid=shuffled_batches((x, y), 32, seed=0, epoch=0))
    summary = read_json(paths.metrics)
    assert summary["epochs"] == 2 and np.isfinite(summary["train"]["loss"])
    assert "loss" in summary["valid"]
    curve = (paths.live / "plots" / "metrics" / "train" / "loss.tsv").read_text().splitlines()
    assert len(curve) == 3  # header + one row per epoch

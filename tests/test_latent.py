"""Latent-space metrics on toy embeddings whose answers are known, and the evaluate_latent stage."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from repgen import config
from repgen.metrics import latent
from repgen.models.autoencoder import MODELS, build
from tests.test_autoencoder import TINY, write_tiny_data

ROOT = Path(__file__).resolve().parents[1]


def two_clusters(n: int = 40, seed: int = 0):
    """Points around (-5, 0, ...) labelled 0 and around (+5, 0, ...) labelled 1, in 6 dims."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    points = rng.normal(0, 1, (n, 6))
    points[:, 0] += np.where(labels == 1, 5.0, -5.0)
    return points, labels


def test_an_isometry_is_perfectly_trustworthy_and_a_shuffle_is_not():
    points, _ = two_clusters()
    rotation = np.linalg.qr(np.random.default_rng(1).normal(size=(6, 6)))[0]
    assert latent.trustworthiness(points, 3 * points @ rotation, k=5) == pytest.approx(1.0)
    shuffled = np.random.default_rng(2).permutation(points)  # codes of other points
    assert latent.trustworthiness(points, shuffled, k=5) < 0.75


def test_knn_and_probe_on_separable_and_on_flipped_labels():
    train, train_y = two_clusters(seed=0)
    test, test_y = two_clusters(seed=1)
    assert latent.knn_accuracy(train, train_y, test, test_y, k=5) == 1.0
    assert latent.linear_probe_accuracy(train, train_y, test, test_y) == 1.0
    assert latent.knn_accuracy(train, train_y, test, 1 - test_y, k=5) == 0.0
    assert latent.linear_probe_accuracy(train, train_y, test, 1 - test_y) == 0.0


def test_tsne_is_seeded_and_two_dimensional():
    points, _ = two_clusters(30)
    first, second = latent.tsne(points, seed=3), latent.tsne(points, seed=3)
    assert first.shape == (30, 2)
    np.testing.assert_allclose(first, second)


def test_evaluate_latent_stage(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "stages"))
    import evaluate_latent

    monkeypatch.chdir(tmp_path)
    write_tiny_data(tmp_path)
    raw = {
        **TINY,
        "vae": {"conditional": True},  # a conditional VAE lists no encoder
        "evaluate_latent": {"fit_size": 40, "tsne_points": 24, "neighbors": 5},
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    params = config.parse(raw)
    (tmp_path / "models").mkdir()
    for name in MODELS:
        build(name, getattr(params, name)).save(tmp_path / "models" / f"{name}.keras")

    evaluate_latent.main(["data/prepared", "models", "metrics/latent.json", "plots/latent"])
    metrics = json.loads((tmp_path / "metrics" / "latent.json").read_text())
    assert set(metrics) == set(MODELS)
    for name, scores in metrics.items():
        assert 0 <= scores["trustworthiness"] <= 1
        assert 0 <= scores["knn_accuracy"] <= 1 and 0 <= scores["linear_probe_accuracy"] <= 1
        with Image.open(tmp_path / "plots" / "latent" / f"{name}.png") as image:
            assert image.size[0] > 100
    assert metrics["autoencoder"]["code_dim"] == 4

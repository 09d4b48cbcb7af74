"""FID, KID, precision/recall and class entropy against independent computations and
pinned answers; drawing samples from a generator and laying them out."""

import math

import numpy as np
import pytest

from repgen.errors import RepgenError
from repgen.generative import balanced_labels, class_rows, draw_samples, matched_counts
from repgen.generators import Generator
from repgen.metrics import generative as gm
from repgen.models.classifier import build_classifier


def exact_gaussian_set(mean: np.ndarray, cov_sqrt: np.ndarray, n: int, seed: int) -> np.ndarray:
    """n points whose sample mean is exactly `mean` and sample covariance exactly
    cov_sqrt @ cov_sqrt.T (whitened noise: zero mean, identity covariance by construction)."""
    d = len(mean)
    z = np.random.default_rng(seed).normal(size=(n, d))
    z -= z.mean(axis=0)
    q, _ = np.linalg.qr(z)  # (n, d) orthonormal columns, still zero mean
    white = q * math.sqrt(n - 1)  # sample covariance I
    return mean + white @ cov_sqrt.T


def fid_by_eigh(a: np.ndarray, b: np.ndarray) -> float:
    """FID the other way round: Tr((S_a^1/2 S_b S_a^1/2)^1/2) from symmetric eigensystems."""

    def sym_sqrt(m):
        w, v = np.linalg.eigh(m)
        return (v * np.sqrt(np.clip(w, 0, None))) @ v.T

    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = sym_sqrt(s_a)
    cross = np.trace(sym_sqrt(root_a @ s_b @ root_a))
    diff = a.mean(0) - b.mean(0)
    return float(diff @ diff + np.trace(s_a) + np.trace(s_b) - 2 * cross)


def test_fid_of_identical_sets_is_zero():
    x = np.random.default_rng(0).normal(size=(500, 8))
    assert gm.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)


def test_fid_of_two_gaussians_matches_the_closed_form():
    # Diagonal covariances: FID = |mu_a - mu_b|^2 + sum_i (sqrt(var_a_i) - sqrt(var_b_i))^2.
    mean_a, mean_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    std_a, std_b = np.array([1.0, 2.0, 0.5]), np.array([3.0, 1.0, 0.5])
    a = exact_gaussian_set(mean_a, np.diag(std_a), 400, seed=1)
    b = exact_gaussian_set(mean_b, np.diag(std_b), 300, seed=2)
    expected = 1.0 + 0.0 + 4.0 + (1 - 3) ** 2 + (2 - 1) ** 2 + 0.0  # = 10
    assert gm.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_fid_agrees_with_an_eigendecomposition_on_correlated_features():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(600, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6)) + 0.5
    assert gm.frechet_distance(a, b) == pytest.approx(fid_by_eigh(a, b), rel=1e-8)
    assert gm.frechet_distance(a, b) == pytest.approx(gm.frechet_distance(b, a), rel=1e-8)


def kid_direct(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with k(u, v) = (u.v / d + 1)^3, by explicit double loops."""
    m, d = len(x), x.shape[1]

    def k(u, v):
        return (float(np.dot(u, v)) / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_agrees_with_the_direct_quadratic_formula():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(40, 5)), rng.normal(0.3, 1.2, size=(40, 5))
    # One block holding every sample: a permutation, under which MMD^2 does not change.
    got = gm.kernel_inception_distance(x, y, blocks=1, block_size=40)
    assert got == pytest.approx(kid_direct(x, y), rel=1e-10)


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(2000, 4)), rng.normal(size=(2000, 4))
    same = gm.kernel_inception_distance(x, y, blocks=10, block_size=500)
    shifted = gm.kernel_inception_distance(x, y + 1.0, blocks=10, block_size=500)
    assert abs(same) < 0.01
    assert shifted > 0.5


def line(points) -> np.ndarray:
    """Points on the x axis of the plane, as (N, 2) features."""
    return np.stack([np.asarray(points, float), np.zeros(len(points))], axis=1)


def test_precision_and_recall_on_a_toy_set_with_a_known_answer():
    real = line(range(10))  # 3rd-neighbour radii: 3 at the two ends, 2 inside
    fake = line([0, 1, 2, 3, 4, 50, 51, 52, 53, 54])
    # Half the fakes lie on the real manifold. The fake balls around 0..4 reach x = 7
    # (4 + radius 3), so reals 0..7 are covered and 8, 9 are not.
    scores = gm.manifold_scores(real, fake, k=3)
    assert scores["precision"] == pytest.approx(0.5)
    assert scores["recall"] == pytest.approx(0.8)
    np.testing.assert_allclose(gm.manifold_radii(real, 3), [3, 2, 2, 2, 2, 2, 2, 2, 2, 3])


def test_density_and_coverage_on_the_same_toy_set():
    real = line(range(10))
    fake = line([0, 1, 2, 3, 4, 50, 51, 52, 53, 54])
    # Real balls around each fake at 0..4: 3, 4, 5, 6 and 5 of them (radius 3 at the ends,
    # 2 inside), none beyond, so density = 23 / (k = 3 x 10 fakes). The nearest fake of the
    # reals 0..6 lies inside their ball (6 -> 4 at distance 2); of 7, 8 and 9 it does not.
    scores = gm.manifold_scores(real, fake, k=3)
    assert scores["density"] == pytest.approx(23 / 30)
    assert scores["coverage"] == pytest.approx(0.7)


def test_a_cluster_in_a_wide_outlier_ball_fools_precision_not_coverage():
    real = line([0, 1, 2, 3, 100])  # the outlier's ball reaches back to x = 2
    fake = line([60] * 10)
    scores = gm.manifold_scores(real, fake, k=3)
    assert scores["precision"] == 1.0
    assert scores["coverage"] == pytest.approx(0.2) and scores["density"] == pytest.approx(1 / 3)


def test_precision_and_recall_of_identical_and_disjoint_sets():
    x = np.random.default_rng(6).normal(size=(300, 5))
    same, apart = gm.manifold_scores(x, x), gm.manifold_scores(x, x + 100.0)
    assert (same["precision"], same["recall"]) == (1.0, 1.0)
    assert (apart["precision"], apart["recall"]) == (0.0, 0.0)


def test_class_entropy_in_bits():
    assert gm.class_entropy_bits(np.arange(1000) % 10, 10) == pytest.approx(math.log2(10))
    assert gm.class_entropy_bits(np.full(50, 3), 10) == 0.0
    assert gm.class_entropy_bits(np.array([0, 1]), 4) == pytest.approx(1.0)


def test_classifier_features_and_scores_on_a_small_classifier():
    classifier = build_classifier(num_classes=4, width=4, feature_dim=8)
    images = np.random.default_rng(7).integers(0, 256, (60, 28, 28), dtype=np.uint8)
    feats = gm.classifier_features(classifier, images, batch_size=16)
    assert feats.features.shape == (60, 8) and feats.features.dtype == np.float64
    assert feats.predicted.shape == (60,) and set(feats.predicted) <= set(range(4))
    result = gm.scores(feats, feats, kid_blocks=2, kid_block_size=30)
    assert result["fid"] == pytest.approx(0.0, abs=1e-6)
    assert result["precision"] == result["recall"] == 1.0
    assert result["coverage"] == 1.0 and result["density"] >= 1.0
    assert set(result) == {
        "fid",
        "kid",
        "precision",
        "recall",
        "density",
        "coverage",
        "class_entropy_bits",
    }


def _noisy_means(model, n, labels, seed):
    """A sampler that ignores the model: class-dependent brightness plus noise."""
    rng = np.random.default_rng(seed)
    base = np.zeros(n) if labels is None else labels / 4.0
    return np.clip(base[:, None, None] + rng.normal(0, 0.05, (n, 28, 28)), 0, 1)


def test_draw_samples_is_class_balanced_batched_and_seeded():
    gen = Generator(name="g", model="g", conditional=True, sample=_noisy_means)
    images, labels, seconds = draw_samples(gen, None, n=103, num_classes=4, seed=1, batch=25)
    assert images.shape == (103, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(labels), [26, 26, 26, 25])
    np.testing.assert_array_equal(labels, balanced_labels(103, 4))
    assert seconds > 0
    again, _, _ = draw_samples(gen, None, n=103, num_classes=4, seed=1, batch=25)
    np.testing.assert_array_equal(images, again)
    assert abs(int(images[labels == 3].mean()) - 191) < 5  # 0.75 * 255


def test_samplers_of_one_model_are_matched_at_the_smaller_sample_count():
    gens = [
        Generator(name=name, model=model, conditional=True, sample=_noisy_means)
        for name, model in [("d_fast", "d"), ("d_slow", "d"), ("d_mid", "d"), ("gan", "gan")]
    ]
    counts = {"d_fast": 2000, "d_slow": 200, "d_mid": 500, "gan": 10_000}
    assert matched_counts(gens, counts) == {"d_fast": 200, "d_mid": 200}
    assert matched_counts(gens[3:], counts) == {}
    features = gm.Features(np.arange(12.0).reshape(6, 2), np.arange(6) % 3, 3)
    first = features.first(3)
    np.testing.assert_array_equal(first.features, [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(first.predicted, [0, 1, 2])


def test_draw_samples_rejects_a_sampler_of_the_wrong_shape():
    gen = Generator(
        name="bad",
        model="bad",
        conditional=False,
        sample=lambda model, n, labels, seed: np.zeros((n, 14, 14)),
    )
    with pytest.raises(RepgenError, match="bad.*shape"):
        draw_samples(gen, None, n=10, num_classes=4, seed=0)


def test_class_rows_one_row_per_class_or_plain_rows():
    images = np.arange(40, dtype=np.uint8).repeat(784).reshape(40, 28, 28)
    labels = np.arange(40) % 4
    rows = class_rows(images, labels, num_classes=4, per_class=3)
    assert [len(r) for r in rows] == [3, 3, 3, 3]
    assert rows[1][0, 0, 0] == pytest.approx(1 / 255)  # the first image of class 1 is image 1
    plain = class_rows(images, None, num_classes=4, per_class=3)
    assert [len(r) for r in plain] == [3, 3, 3, 3]

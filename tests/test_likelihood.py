"""Bits per dimension: the dequantization term, the change of variables, the IWAE bound and
the discretized logistic, on cases with a known answer."""

import math

import numpy as np
import pytest
import tensorflow as tf

from repgen.metrics import likelihood as lk


def _dequantized(images: np.ndarray, seed: int = 0) -> tf.Tensor:
    noise = np.random.default_rng(seed).random(images.shape, dtype=np.float32)
    return lk.dequantize(tf.constant(images), tf.constant(noise))


def test_uniform_data_through_the_identity_is_8_bits_per_dim():
    images = np.random.default_rng(0).integers(0, 256, (50, 28, 28)).astype(np.float32)
    y = _dequantized(images)
    assert float(tf.reduce_min(y)) >= 0.0 and float(tf.reduce_max(y)) < 1.0
    log_density = lk.change_of_variables(tf.zeros(50), tf.zeros(50))  # p(y) = 1 on [0, 1)^D
    nll = lk.continuous_nll_nats(log_density, 28 * 28)
    np.testing.assert_allclose(lk.bits_per_dim(nll.numpy(), 28 * 28), 8.0, rtol=1e-6)


def test_half_range_data_under_a_matching_density_is_7_bits_per_dim():
    # Pixels uniform on 0..127 have 7 bits of entropy each. The map f(y) = 2y sends their
    # dequantized values uniformly onto [0, 1), with log|det df/dy| = D log 2.
    dims = 16
    images = np.random.default_rng(1).integers(0, 128, (200, dims)).astype(np.float32)
    y = _dequantized(images)
    z = 2.0 * y
    assert float(tf.reduce_max(z)) < 1.0
    log_det = tf.fill([200], dims * math.log(2.0))
    log_density = lk.change_of_variables(tf.zeros(200), log_det)  # uniform base on [0, 1)^D
    bpd = lk.bits_per_dim(lk.continuous_nll_nats(log_density, dims), dims)
    np.testing.assert_allclose(bpd.numpy(), 7.0, rtol=1e-6)


def test_standard_normal_log_prob_matches_scipy():
    from scipy.stats import norm

    z = np.random.default_rng(2).standard_normal((3, 4, 5)).astype(np.float32)
    expected = norm.logpdf(z).reshape(3, -1).sum(axis=1)
    np.testing.assert_allclose(lk.standard_normal_log_prob(tf.constant(z)), expected, rtol=1e-5)


def test_importance_weighted_bound_is_the_log_mean_weight():
    log_w = tf.constant(np.log([[1.0, 2.0], [3.0, 2.0]]), tf.float32)  # (k=2, B=2)
    np.testing.assert_allclose(lk.importance_weighted_bound(log_w), np.log([2.0, 2.0]), rtol=1e-6)


@pytest.mark.parametrize(("mean", "log_scale"), [(0.3, -3.0), (-0.2, -1.0), (0.99, -6.0)])
def test_discretized_logistic_is_a_distribution_over_256_values(mean, log_scale):
    x = tf.constant(np.arange(256, dtype=np.float32) / 255.0)
    log_p = lk.discretized_logistic_log_prob(x, tf.fill([256], mean), tf.fill([256], log_scale))
    np.testing.assert_allclose(float(tf.reduce_sum(tf.exp(log_p))), 1.0, atol=1e-4)


def test_discretized_logistic_matches_the_logistic_cdf_on_an_inner_bin():
    from scipy.stats import logistic

    mean, scale, k = 0.5, 0.05, 140
    expected = logistic.cdf((k + 0.5) / 255, mean, scale) - logistic.cdf(
        (k - 0.5) / 255, mean, scale
    )
    got = lk.discretized_logistic_log_prob(
        tf.constant([k / 255]), tf.constant([mean]), tf.constant([math.log(scale)])
    )
    np.testing.assert_allclose(np.exp(got.numpy()), [expected], rtol=1e-4)


def test_summary_reports_nats_and_bits():
    out = lk.summary(np.array([784 * math.log(2) * 3.0] * 4), 784)
    assert out["bits_per_dim"] == pytest.approx(3.0)
    assert out["nll_nats"] == pytest.approx(784 * math.log(2) * 3.0, abs=1e-3)
    assert out["images"] == 4

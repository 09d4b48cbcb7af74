"""Likelihood in bits per dimension for 8-bit images, comparable with published figures.

Symbols: x is an 8-bit image with D pixels (values k in 0..255); u ~ U[0, 1)^D is the
dequantization noise; y = (x + u) / 256 is the dequantized image in [0, 1)^D; p is a
continuous density on [0, 1)^D (a flow), P a discrete distribution on 0..255 (a VAE
decoder with a discretized likelihood).

- Dequantization (Theis et al. 2016, eq. 3): for every density p on y,
  log P(x) >= E_u[log p(y)] - D log 256, so nll(x) = -log p(y) + D log 256 in nats is an
  upper bound on the discrete negative log-likelihood, and bits/dim = nll / (D log 2).
  Uniform data through the identity has p = 1 and comes out at exactly 8 bits/dim.
- Change of variables (Dinh et al. 2017, eq. 3): log p(y) = log p_Z(f(y)) + log|det df/dy|.
- Importance-weighted bound (Burda et al. 2016, eq. 8):
  log P(x) >= log (1/k) sum_i P(x, z_i) / q(z_i | x), z_i ~ q(z | x).

All functions take and return TensorFlow tensors or NumPy arrays, per image (no mean).
"""

import math

import numpy as np
import tensorflow as tf

LEVELS = 256  # an 8-bit pixel takes 256 values


def dequantize(images: tf.Tensor, noise: tf.Tensor) -> tf.Tensor:
    """uint8-valued images and noise u in [0, 1) of the same shape -> y = (x + u) / 256.

    255 + u rounds up to 256 in float32 for u within 2^-16 of 1; the clip keeps y below 1."""
    y = (tf.cast(images, tf.float32) + noise) / LEVELS
    return tf.minimum(y, np.nextafter(np.float32(1), np.float32(0)))


def dequantization_nats(dims: int) -> float:
    """D log 256: what the continuous density on [0, 1)^D must add to be a discrete nll."""
    return dims * math.log(LEVELS)


def change_of_variables(log_prob_z: tf.Tensor, log_det: tf.Tensor) -> tf.Tensor:
    """log p(y) = log p_Z(f(y)) + log|det df/dy| (Dinh et al. 2017, eq. 3)."""
    return log_prob_z + log_det


def standard_normal_log_prob(z: tf.Tensor) -> tf.Tensor:
    """log N(z; 0, I) summed over every axis but the first: (B, ...) -> (B,)."""
    axes = list(range(1, len(z.shape)))
    return tf.reduce_sum(-0.5 * tf.square(z) - 0.5 * math.log(2 * math.pi), axis=axes)


def continuous_nll_nats(log_density: tf.Tensor, dims: int) -> tf.Tensor:
    """Discrete nll bound of 8-bit data from a density on the dequantized [0, 1)^D."""
    return -log_density + dequantization_nats(dims)


def bits_per_dim(nll_nats, dims: int):
    """Negative log-likelihood in nats per image -> bits per dimension."""
    return nll_nats / (dims * math.log(2.0))


def importance_weighted_bound(log_weights: tf.Tensor) -> tf.Tensor:
    """log (1/k) sum_i w_i from log w of shape (k, B) -> (B,) (Burda et al. 2016, eq. 8)."""
    k = tf.cast(tf.shape(log_weights)[0], log_weights.dtype)
    return tf.reduce_logsumexp(log_weights, axis=0) - tf.math.log(k)


def discretized_logistic_log_prob(x: tf.Tensor, mean: tf.Tensor, log_scale: tf.Tensor) -> tf.Tensor:
    """log P(x) per pixel for x = k / 255 under a logistic discretized into 256 bins.

    The bin of k is [k - 1/2, k + 1/2] / 255, with the edge bins extended to -inf and +inf
    so the 256 probabilities sum to one (Salimans et al. 2017, PixelCNN++, eq. 2).
    """
    half_bin = 0.5 / (LEVELS - 1)
    inv_scale = tf.exp(-log_scale)
    upper = inv_scale * (x - mean + half_bin)
    lower = inv_scale * (x - mean - half_bin)

    # 1. The edge bins: log sigmoid(upper) at k = 0, log (1 - sigmoid(lower)) at k = 255.
    log_cdf_upper = upper - tf.nn.softplus(upper)
    log_survival_lower = -tf.nn.softplus(lower)

    # 2. Inner bins: log of a difference of sigmoids; where it underflows (a narrow, far
    #    logistic) the density at the bin centre times the bin width is used instead.
    delta = tf.sigmoid(upper) - tf.sigmoid(lower)
    centre = inv_scale * (x - mean)
    log_pdf_centre = centre - log_scale - 2.0 * tf.nn.softplus(centre)
    log_inner = tf.where(
        delta > 1e-5,
        tf.math.log(tf.maximum(delta, 1e-12)),
        log_pdf_centre - math.log(LEVELS - 1),
    )

    # 3. Pick per pixel.
    return tf.where(
        x < half_bin, log_cdf_upper, tf.where(x > 1.0 - half_bin, log_survival_lower, log_inner)
    )


def summary(nll_nats: np.ndarray, dims: int) -> dict:
    """Mean nll in nats per image and in bits/dim, with the standard error of the mean."""
    nll_nats = np.asarray(nll_nats, np.float64)
    sem = nll_nats.std(ddof=1) / math.sqrt(len(nll_nats)) if len(nll_nats) > 1 else 0.0
    return {
        "nll_nats": round(float(nll_nats.mean()), 3),
        "bits_per_dim": round(float(bits_per_dim(nll_nats.mean(), dims)), 4),
        "bits_per_dim_sem": round(float(bits_per_dim(sem, dims)), 4),
        "images": len(nll_nats),
    }

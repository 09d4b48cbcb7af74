"""The VAE: KL term against the closed form, shapes, finite and falling loss, KL warm-up,
the importance-weighted bound, sampling, save and load, and the registries."""

import numpy as np
import pytest
import tensorflow as tf
from scipy import integrate, stats

from repgen import config
from repgen.encoders import encoders
from repgen.generators import find
from repgen.models import vae
from repgen.training import load_model


def _kl_by_quadrature(mu: float, log_var: float) -> float:
    """KL(N(mu, sigma^2) || N(0, 1)) as the integral of q log(q / p), numerically."""
    q = stats.norm(mu, np.exp(0.5 * log_var))
    value, _ = integrate.quad(
        lambda z: q.pdf(z) * (q.logpdf(z) - stats.norm.logpdf(z)), mu - 30, mu + 30, limit=200
    )
    return value


def _images(n: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, (n, 28, 28))
    images[:, 10:18, 6:22] = 200
    return images.astype(np.uint8), rng.integers(0, 10, n)


def test_kl_term_matches_the_integral():
    mu = np.array([[0.0, 1.5, -0.7]], np.float32)
    log_var = np.array([[0.0, -1.2, 0.8]], np.float32)
    expected = sum(_kl_by_quadrature(m, v) for m, v in zip(mu[0], log_var[0], strict=True))
    got = float(vae.kl_divergence(tf.constant(mu), tf.constant(log_var))[0])
    assert got == pytest.approx(expected, rel=1e-5)


def test_gaussian_log_prob_matches_scipy():
    z, mu, log_var = np.array([[0.3, -1.0]]), np.array([[0.1, 0.5]]), np.array([[-0.5, 0.4]])
    expected = stats.norm(mu, np.exp(0.5 * log_var)).logpdf(z).sum()
    got = vae.gaussian_log_prob(*(tf.constant(a, tf.float32) for a in (z, mu, log_var)))
    assert float(got[0]) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("conditional", [False, True])
def test_shapes(conditional):
    model = vae.VAE(latent_dim=5, width=4, conditional=conditional)
    images, labels = _images(3)
    y = labels if conditional else None
    mu, log_var = model.encode(tf.constant(vae.to_input(images)), y)
    assert mu.shape == log_var.shape == (3, 5)
    mean, log_scale = model.decode(mu, y)
    assert mean.shape == log_scale.shape == (3, 28, 28, 1)
    assert model(vae.to_input(images), y).shape == (3, 28, 28, 1)
    samples = vae.sample(model, 4, labels=np.array([1, 2, 3, 4]) if conditional else None)
    assert samples.shape == (4, 28, 28) and 0.0 <= samples.min() <= samples.max() <= 1.0


def test_conditional_model_needs_labels():
    model = vae.VAE(latent_dim=2, width=4, conditional=True)
    with pytest.raises(ValueError, match="labels"):
        model.encode(tf.zeros((1, 28, 28, 1)))


def test_one_step_lowers_the_loss_and_losses_are_finite():
    images, labels = _images(32)
    model = vae.build_vae(latent_dim=4, width=4, learning_rate=2e-3)
    _, before = vae.importance_weighted_nll(model, images, k=4, seed=0)  # fixed-noise ELBO
    logs = model.train_on_batch(vae.to_input(images), labels, return_dict=True)
    assert all(np.isfinite(v) for v in logs.values())
    assert set(logs) >= {"loss", "reconstruction", "kl", "bits_per_dim"}
    _, after = vae.importance_weighted_nll(model, images, k=4, seed=0)
    assert after.mean() < before.mean()


def test_kl_warmup_rises_to_beta():
    model = vae.build_vae(latent_dim=2, width=4, beta=0.5, warmup_steps=4)
    weights = []
    for _ in range(6):
        weights.append(float(model.kl_weight()))
        model.optimizer.iterations.assign_add(1)
    np.testing.assert_allclose(weights, [0.125, 0.25, 0.375, 0.5, 0.5, 0.5], rtol=1e-6)
    assert float(vae.VAE(beta=0.3).kl_weight()) == pytest.approx(0.3)


def test_importance_weighted_bound_is_tighter_than_the_elbo():
    images, _ = _images(8)
    model = vae.VAE(latent_dim=3, width=4)
    iw, elbo = vae.importance_weighted_nll(model, images, k=32, seed=1)
    assert iw.shape == elbo.shape == (8,)
    assert np.all(iw <= elbo + 1e-3) and np.all(np.isfinite(iw))


def test_interpolations_and_walks_have_grid_shapes():
    images, _ = _images(4)
    model = vae.VAE(latent_dim=3, width=4)
    rows = vae.interpolations(model, np.stack([images[:2], images[2:]]), steps=5)
    assert rows.shape == (2, 5, 28, 28)
    assert vae.latent_walk(model, rows=3, steps=6, seed=0).shape == (3, 6, 28, 28)


def test_save_and_load_round_trip(tmp_path):
    images, labels = _images(4)
    model = vae.build_vae(latent_dim=3, width=4, conditional=True, beta=0.7)
    model.train_on_batch(vae.to_input(images), labels)
    model.save(tmp_path / "vae.keras")
    loaded = load_model(tmp_path / "vae.keras")
    assert isinstance(loaded, vae.VAE) and loaded.conditional and loaded.beta == 0.7
    np.testing.assert_allclose(
        vae.encode_mean(loaded, images, labels),
        vae.encode_mean(model, images, labels),
        rtol=1e-5,
        atol=1e-6,
    )


def test_registries_follow_the_conditional_param():
    conditional = config.parse({"vae": {"conditional": True}})
    assert find(conditional, "vae").conditional
    assert not [e for e in encoders(conditional) if e.model == "vae"]
    plain = config.parse({})
    assert not find(plain, "vae").conditional
    encoder = next(e for e in encoders(plain) if e.model == "vae")
    model = vae.VAE(latent_dim=3, width=4)
    assert encoder.encode(model, _images(2)[0]).shape == (2, 3)

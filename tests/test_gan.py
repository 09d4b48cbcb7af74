"""The DCGAN: shapes, losses, one training step, EMA, save/load, gradient penalty, labels."""

import json

import numpy as np
import pytest
import tensorflow as tf

from repgen import config
from repgen.generators import find
from repgen.models import gan as G
from repgen.training import load_model

TINY = dict(latent_dim=8, width=4, num_classes=4)


def tiny_gan(**overrides) -> G.GAN:
    model = G.GAN(**{**TINY, **overrides})
    model.compile()
    return model


def batch(n=16, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.random((n, 28, 28, 1), dtype=np.float32)
    return tf.constant(images), tf.constant(rng.integers(0, 4, n), tf.int32)


def test_shapes_and_sample_range():
    model = tiny_gan()
    z = np.zeros((5, 8), np.float32)
    labels = np.arange(5) % 4
    assert model.generator([z, labels]).shape == (5, 28, 28, 1)
    assert model.discriminator([np.zeros((5, 28, 28, 1)), labels]).shape == (5, 1)
    images = G.sample(model, 7, None, seed=0)
    assert images.shape == (7, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0


@pytest.mark.parametrize("loss", G.LOSSES)
@pytest.mark.parametrize("spectral_norm", [False, True])
def test_one_step_changes_both_networks_with_finite_losses(loss, spectral_norm):
    model = tiny_gan(loss=loss, spectral_norm=spectral_norm, conditional=False)
    before_g = [w.copy() for w in model.generator.get_weights()]
    before_d = [w.copy() for w in model.discriminator.get_weights()]
    before_ema = [w.copy() for w in model.ema_generator.get_weights()]
    logs = model.train_step(batch())
    assert np.isfinite(float(logs["g_loss"])) and np.isfinite(float(logs["d_loss"]))

    def changed(before, after):
        return any(not np.allclose(b, a) for b, a in zip(before, after, strict=True))

    assert changed(before_g, model.generator.get_weights())
    assert changed(before_d, model.discriminator.get_weights())
    assert changed(before_ema, model.ema_generator.get_weights())


def test_ema_warms_up_then_lags_behind_the_generator():
    model = tiny_gan(ema_decay=0.999)
    for _ in range(3):
        model.train_step(batch())
    kernel = model.generator.trainable_weights[0]
    ema_kernel = model.ema_generator.trainable_weights[0]
    # after 3 steps the decay is min(0.999, (1 + t) / (10 + t)) < 0.5: the EMA follows
    initial = G.GAN(**TINY).generator.trainable_weights[0]
    assert not np.allclose(ema_kernel, kernel)
    assert np.abs(ema_kernel - kernel).mean() < np.abs(initial - kernel).mean()


def test_save_and_load_round_trip(tmp_path):
    model = tiny_gan(loss="wgan-gp")
    model.train_step(batch())
    model.save(tmp_path / "gan.keras")
    loaded = load_model(tmp_path / "gan.keras")
    assert loaded.get_config() == model.get_config()
    np.testing.assert_allclose(
        G.sample(loaded, 6, np.arange(6) % 4, seed=1), G.sample(model, 6, np.arange(6) % 4, seed=1)
    )


def test_gradient_penalty_of_a_linear_critic_is_the_norm_gap():
    # D(x) = <w, x>: the gradient is w everywhere, so GP = (||w|| - 1)^2 for any mix.
    rng = np.random.default_rng(0)
    w = tf.constant(rng.normal(size=(1, 28, 28, 1)) * 0.1, tf.float32)
    real, fake = batch(4, seed=1)[0], batch(4, seed=2)[0]
    epsilon = tf.constant(rng.random((4, 1, 1, 1)), tf.float32)
    penalty = G.gradient_penalty(
        lambda x: tf.reduce_sum(w * x, axis=[1, 2, 3]), real, fake, epsilon
    )
    expected = (np.linalg.norm(w.numpy()) - 1.0) ** 2
    np.testing.assert_allclose(float(penalty), expected, rtol=1e-5)


def test_gradient_penalty_of_a_quadratic_critic_uses_the_interpolate():
    # D(x) = ||x||^2 / 2: the gradient at x^ is x^ itself, x^ = eps x + (1 - eps) x~.
    real = tf.fill((2, 28, 28, 1), 0.1)
    fake = tf.zeros((2, 28, 28, 1))
    epsilon = tf.constant([0.5, 1.0], shape=(2, 1, 1, 1))
    penalty = G.gradient_penalty(
        lambda x: 0.5 * tf.reduce_sum(x**2, axis=[1, 2, 3]), real, fake, epsilon
    )
    norms = np.array([0.05, 0.1]) * 28  # ||x^|| = eps * 0.1 * sqrt(784)
    np.testing.assert_allclose(float(penalty), np.mean((norms - 1.0) ** 2), rtol=1e-5)


def test_conditional_generator_uses_the_embedding_of_its_label():
    model = tiny_gan(conditional=True)
    embedding = model.generator.get_layer("class_embedding")
    z = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    labels = np.array([3, 1])
    before = model.generator([z, labels], training=False).numpy()

    table = embedding.get_weights()[0]
    table[3] += 5.0  # change only class 3's embedding
    embedding.set_weights([table])
    after = model.generator([z, labels], training=False).numpy()
    assert not np.allclose(after[0], before[0])  # the label-3 image followed its embedding
    np.testing.assert_allclose(after[1], before[1])  # the label-1 image did not


def test_conditional_discriminator_projects_its_label():
    model = tiny_gan(conditional=True)
    images = batch(2)[0].numpy()
    labels = np.array([2, 0])
    before = model.discriminator([images, labels]).numpy()
    projection = [layer for layer in model.discriminator.layers if "embedding" in layer.name][0]
    table = projection.get_weights()[0]
    table[2] += 1.0
    projection.set_weights([table])
    after = model.discriminator([images, labels]).numpy()
    assert not np.allclose(after[0], before[0])
    np.testing.assert_allclose(after[1], before[1])


def test_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="allowed: bce, hinge, wgan-gp"):
        G.GAN(loss="lsgan", **TINY)


def test_registered_as_a_conditional_generator():
    params = config.parse({"gan": {"conditional": True}})
    gen = find(params, "gan")
    assert (gen.name, gen.model, gen.conditional) == ("gan", "gan", True)
    model = tiny_gan()
    assert gen.sample(model, n=3, labels=np.array([0, 1, 2]), seed=0).shape == (3, 28, 28)


def test_stage_trains_and_logs_a_synthetic_sample_grid(project):
    from PIL import Image

    from tests.conftest import run

    run(["dvc", "repro", "train@gan"], project)
    loaded = load_model(project / "models" / "gan.keras")
    assert loaded.conditional and loaded.num_classes == 4
    grid = Image.open(project / "plots" / "train" / "gan" / "plots" / "images" / "samples.png")
    assert grid.text["Synthetic"] == "true" and grid.text["Model"] == "gan"
    summary = json.loads((project / "metrics" / "train" / "gan.json").read_text())
    assert summary["epochs"] == 1 and np.isfinite(summary["train"]["g_loss"])

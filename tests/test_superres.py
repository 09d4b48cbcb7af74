"""Super-resolution: shapes, the content and adversarial steps, save/load, metrics, stages."""

import json

import numpy as np
import pytest
import tensorflow as tf

from repgen.corrupt import downscale
from repgen.models import superres as S
from repgen.training import load_model
from tests.conftest import run

TINY = dict(width=4, blocks=1)


def tiny(adversarial_weight=0.0, factor=2):
    model = S.SuperResolution(factor=factor, adversarial_weight=adversarial_weight, **TINY)
    model.compile()
    return model


def pairs(n=8, factor=2, seed=0):
    high = np.random.default_rng(seed).random((n, 28, 28), dtype=np.float32)
    low = downscale(high, factor)
    return tf.constant(low[..., None]), tf.constant(high[..., None])


def test_pixel_shuffle_moves_channels_into_space():
    x = np.arange(2 * 2 * 4, dtype=np.float32).reshape(1, 2, 2, 4)  # (B, H, W, r*r)
    y = S.PixelShuffle(factor=2)(x).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(y, tf.nn.depth_to_space(x, 2).numpy()[0, :, :, 0])


@pytest.mark.parametrize("factor", [2, 4])
def test_generator_upscales_by_the_factor_any_size(factor):
    model = tiny(factor=factor)
    assert model.generator(np.zeros((3, 28 // factor, 28 // factor, 1))).shape == (3, 28, 28, 1)
    assert model.generator(np.zeros((1, 10, 6, 1))).shape == (1, 10 * factor, 6 * factor, 1)


def test_content_step_lowers_the_loss_and_leaves_the_discriminator():
    model = tiny()
    d_before = [w.copy() for w in model.discriminator.get_weights()]
    data = pairs()
    first = float(model.train_step(data)["content_loss"])
    for _ in range(20):
        model.content_tracker.reset_state()
        last = float(model.train_step(data)["content_loss"])
    assert np.isfinite(first) and last < first
    for b, a in zip(d_before, model.discriminator.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_adversarial_step_changes_both_networks():
    content = tiny()
    model = S.SuperResolution(adversarial_weight=1e-2, **TINY)
    model.generator.set_weights(content.generator.get_weights())
    model.compile()
    g_before = [w.copy() for w in model.generator.get_weights()]
    d_before = [w.copy() for w in model.discriminator.get_weights()]
    logs = model.train_step(pairs())
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert set(logs) == {"content_loss", "g_adversarial_loss", "d_loss"}
    for before, net in ((g_before, model.generator), (d_before, model.discriminator)):
        assert any(not np.allclose(b, a) for b, a in zip(before, net.get_weights(), strict=True))


def test_save_and_load_round_trip(tmp_path):
    model = tiny(adversarial_weight=1e-3)
    model.train_step(pairs())
    model.save(tmp_path / "sr.keras")
    loaded = load_model(tmp_path / "sr.keras")
    low = pairs()[0].numpy()[..., 0]
    np.testing.assert_allclose(S.upscale(loaded, low), S.upscale(model, low), atol=1e-6)


def test_quality_matches_skimage_per_image_means():
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    rng = np.random.default_rng(0)
    target = rng.random((3, 28, 28))
    predicted = np.clip(target + rng.normal(0, 0.1, target.shape), 0, 1)
    scores = S.quality(predicted, target)
    psnr = np.mean(
        [
            peak_signal_noise_ratio(t, p, data_range=1)
            for t, p in zip(target, predicted, strict=True)
        ]
    )
    ssim = np.mean(
        [structural_similarity(t, p, data_range=1) for t, p in zip(target, predicted, strict=True)]
    )
    assert scores["psnr"] == pytest.approx(psnr, rel=1e-9)
    assert scores["ssim"] == pytest.approx(ssim, rel=1e-9)


def test_bicubic_keeps_a_constant_image_and_the_size():
    low = np.full((2, 14, 14), 0.4, np.float32)
    np.testing.assert_allclose(S.bicubic(low, 2), 0.4, atol=1e-6)
    assert S.bicubic(low, 2).shape == (2, 28, 28)


def test_stages_train_both_generators_and_evaluate(project):
    run(["dvc", "repro", "evaluate_superres"], project)
    scores = json.loads((project / "metrics" / "superres.json").read_text())
    assert set(scores) == {"bicubic", "superres", "superres_gan"}
    for method in scores.values():
        assert np.isfinite(method["psnr"]) and 0 < method["ssim"] <= 1
    assert (project / "models" / "superres_gan.keras").is_file()
    picture = project / "plots" / "superres" / "comparison.png"
    from PIL import Image

    assert Image.open(picture).text["Synthetic"] == "true"

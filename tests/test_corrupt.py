"""Corruptions: each kind does what its level says, seeded; low-resolution copies; splits."""

import numpy as np
import pytest

from repgen import config
from repgen.corrupt import corrupt, corrupt_all, downscale, setting_name, settings
from repgen.data import splits

GRAY = np.full((200, 28, 28), 0.5, np.float32)


def test_gaussian_noise_has_the_level_as_standard_deviation():
    noisy = corrupt(GRAY, "gaussian", 0.1, seed=0)
    assert abs((noisy - GRAY).std() - 0.1) < 0.005
    assert noisy.min() >= 0 and noisy.max() <= 1


def test_salt_and_pepper_replaces_the_level_fraction():
    noisy = corrupt(GRAY, "salt_and_pepper", 0.2, seed=0)
    changed = np.isin(noisy, (0.0, 1.0)).mean()
    assert abs(changed - 0.2) < 0.01


def test_poisson_noise_shrinks_with_more_photons():
    weak = np.abs(corrupt(GRAY, "poisson", 100, seed=0) - GRAY).mean()
    strong = np.abs(corrupt(GRAY, "poisson", 5, seed=0) - GRAY).mean()
    assert strong > 2 * weak
    assert abs(corrupt(GRAY, "poisson", 20, seed=0).mean() - 0.5) < 0.01  # unbiased


def test_speckle_is_multiplicative():
    image = np.zeros((10, 28, 28), np.float32)
    image[:, :, 14:] = 0.8
    noisy = corrupt(image, "speckle", 0.3, seed=0)
    assert np.all(noisy[:, :, :14] == 0)  # black stays black
    assert noisy[:, :, 14:].std() > 0.1


def test_masking_hides_about_the_level_fraction_in_blocks():
    ones = np.ones((50, 28, 28), np.float32)
    masked = corrupt(ones, "masking", 0.25, seed=0, mask_block=4)
    hidden = (masked == 0).mean(axis=(1, 2))
    assert np.all(hidden >= 0.25) and np.all(hidden < 0.25 + 16 / 784 + 1e-6)


def test_same_seed_same_noise_and_unknown_kind():
    a = corrupt(GRAY, "gaussian", 0.3, seed=7)
    np.testing.assert_array_equal(a, corrupt(GRAY, "gaussian", 0.3, seed=7))
    assert not np.array_equal(a, corrupt(GRAY, "gaussian", 0.3, seed=8))
    with pytest.raises(ValueError, match="unknown corruption kind 'blur'"):
        corrupt(GRAY, "blur", 0.3, seed=0)


def test_corrupt_all_covers_every_configured_setting():
    params = config.parse({"corrupt": {"gaussian": [0.1, 0.5], "speckle": [], "poisson": [4]}})
    out = corrupt_all((GRAY * 255).astype(np.uint8), params.corrupt, seed=0, stream=1)
    expected = [setting_name(k, v) for k, v in settings(params.corrupt)]
    assert list(out) == expected
    assert "gaussian_0.5" in out and "poisson_4" in out and "salt_and_pepper_0.1" in out
    assert all(v.dtype == np.uint8 and v.shape == (200, 28, 28) for v in out.values())


def test_downscale_averages_blocks():
    image = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    np.testing.assert_allclose(downscale(image, 2)[0], [[2.5, 4.5], [10.5, 12.5]])
    assert downscale(np.zeros((3, 28, 28)), 4).shape == (3, 7, 7)


def test_limit_is_class_balanced_and_fixed():
    labels = np.repeat(np.arange(10), 100)
    images = np.arange(1000)
    x1, y1 = splits.limit(images, labels, 200)
    x2, _ = splits.limit(images, labels, 200)
    assert np.bincount(y1).tolist() == [20] * 10
    np.testing.assert_array_equal(x1, x2)
    assert splits.limit(images, labels, None)[0] is images

"""Noise and degradation of images in [0, 1]: the corruptions the denoisers are scored on.

Kinds and what their level means:
  gaussian         additive noise of standard deviation `level`
  salt_and_pepper  a fraction `level` of pixels set to 0 or 1
  speckle          multiplicative noise x + x * n, n of standard deviation `level`
  poisson          shot noise with `level` photons for a white pixel (lower is noisier)
  masking          random square blocks set to 0 until a fraction `level` is covered
"""

import numpy as np
from skimage.transform import downscale_local_mean
from skimage.util import random_noise

from repgen.io import to_uint8

KINDS = ("gaussian", "salt_and_pepper", "speckle", "poisson", "masking")


def setting_name(kind: str, level: float) -> str:
    """The key of one corruption setting, e.g. 'gaussian_0.3', as the metrics files use it."""
    return f"{kind}_{level:g}"


def settings(corrupt_params) -> list[tuple[str, float]]:
    """Every (kind, level) that the corrupt params list, in a fixed order."""
    return [(kind, float(level)) for kind in KINDS for level in getattr(corrupt_params, kind)]


def mask_blocks(
    images: np.ndarray, fraction: float, block: int, rng: np.random.Generator
) -> np.ndarray:
    """Zero random `block`-sized squares of each image until about `fraction` of it is covered."""
    n, h, w = images.shape[:3]
    out = images.copy()
    covered = np.zeros((n, h, w), bool)
    target = fraction * h * w
    # Each image draws blocks until it reaches its target; blocks may overlap.
    while True:
        todo = np.flatnonzero(covered.sum(axis=(1, 2)) < target)
        if todo.size == 0:
            break
        ys = rng.integers(0, h - block + 1, todo.size)
        xs = rng.integers(0, w - block + 1, todo.size)
        for i, y, x in zip(todo, ys, xs, strict=True):
            covered[i, y : y + block, x : x + block] = True
    out[covered] = 0.0
    return out


def corrupt(
    images: np.ndarray,
    kind: str,
    level: float,
    *,
    seed: int | np.random.Generator,
    mask_block: int = 4,
) -> np.ndarray:
    """Corrupt float images in [0, 1], shape (N, H, W); returns a new float32 array in [0, 1]."""
    rng = np.random.default_rng(seed)
    images = np.asarray(images, np.float64)
    if kind == "gaussian":
        out = random_noise(images, mode="gaussian", var=level**2, rng=rng, clip=True)
    elif kind == "salt_and_pepper":
        out = random_noise(images, mode="s&p", amount=level, rng=rng)
    elif kind == "speckle":
        out = random_noise(images, mode="speckle", var=level**2, rng=rng, clip=True)
    elif kind == "poisson":
        out = np.clip(rng.poisson(images * level) / level, 0.0, 1.0)
    elif kind == "masking":
        out = mask_blocks(images, level, mask_block, rng)
    else:
        raise ValueError(f"unknown corruption kind '{kind}'; allowed: {', '.join(KINDS)}")
    return out.astype(np.float32)


def downscale(images: np.ndarray, factor: int) -> np.ndarray:
    """Box-filter downscaling by an integer factor: (N, H, W) -> (N, H/f, W/f)."""
    return downscale_local_mean(np.asarray(images, np.float32), (1, factor, factor))


def corrupt_all(
    images_u8: np.ndarray, corrupt_params, seed: int, stream: int
) -> dict[str, np.ndarray]:
    """Every configured setting applied to uint8 images; returns {setting name: uint8 images}.

    `stream` separates the random streams of different splits under the same seed.
    """
    clean = np.asarray(images_u8, np.float32) / 255.0
    out = {}
    for index, (kind, level) in enumerate(settings(corrupt_params)):
        rng = np.random.default_rng([seed, stream, index])
        noisy = corrupt(clean, kind, level, seed=rng, mask_block=corrupt_params.mask_block)
        out[setting_name(kind, level)] = to_uint8(noisy)
    return out

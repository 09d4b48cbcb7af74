"""Image quality against a clean reference, and the classical denoisers scored beside models.

    psnr(clean, restored), ssim(clean, restored)   # float (N, H, W) in [0, 1] -> mean over N

Both are skimage.metrics with data_range 1, computed per image and averaged over the set.
SSIM uses skimage's defaults (7x7 uniform window); the N images go in as the channels of one
call, which returns exactly the mean of the per-image values. An exact restoration would
have an infinite PSNR; it counts as MAX_PSNR (100 dB), so that means stay finite.

The classical denoisers take noisy images (N, H, W) in [0, 1] and each one's noise standard
deviation (the true one for Gaussian noise, else skimage's estimate), and return the
restored images in [0, 1]; BM3D runs on a mosaic of the images (see `bm3d_mosaic`).
"""

import math
from collections.abc import Callable
from functools import partial

import bm3d
import numpy as np
from scipy.ndimage import median_filter
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from skimage.restoration import (
    denoise_nl_means,
    denoise_tv_chambolle,
    denoise_wavelet,
    estimate_sigma,
)

MAX_PSNR = 100.0


def _pair(clean: np.ndarray, restored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    clean = np.asarray(clean, np.float64)
    restored = np.asarray(restored, np.float64)
    if clean.shape != restored.shape or clean.ndim != 3:
        raise ValueError(
            f"expected two (N, H, W) arrays of one shape, got {clean.shape} and {restored.shape}"
        )
    return clean, restored


def psnr_each(clean: np.ndarray, restored: np.ndarray) -> np.ndarray:
    """PSNR in dB of each image, (N,); an exact restoration counts as MAX_PSNR."""
    clean, restored = _pair(clean, restored)
    exact = np.all(clean == restored, axis=(1, 2))
    return np.array(
        [
            MAX_PSNR if same else peak_signal_noise_ratio(c, r, data_range=1.0)
            for c, r, same in zip(clean, restored, exact, strict=True)
        ]
    )


def psnr(clean: np.ndarray, restored: np.ndarray) -> float:
    """Mean PSNR in dB over the images."""
    return float(np.mean(psnr_each(clean, restored)))


def ssim(clean: np.ndarray, restored: np.ndarray) -> float:
    """Mean SSIM over the images."""
    clean, restored = _pair(clean, restored)
    # (N, H, W) -> (H, W, N): per-channel SSIM averaged over channels = the mean over images
    return float(
        structural_similarity(
            np.moveaxis(clean, 0, -1), np.moveaxis(restored, 0, -1), data_range=1.0, channel_axis=-1
        )
    )


def quality(clean: np.ndarray, restored: np.ndarray) -> dict[str, float]:
    """{"psnr": mean dB, "ssim": mean SSIM}, rounded for the metrics files."""
    return {"psnr": round(psnr(clean, restored), 3), "ssim": round(ssim(clean, restored), 4)}


def noise_sigma(image: np.ndarray) -> float:
    """skimage's wavelet estimate of the Gaussian noise standard deviation of one image."""
    return float(estimate_sigma(image))


def classical_denoisers(
    *,
    median_size: int = 3,
    tv_weight: float = 0.1,
) -> dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]:
    """The classical methods by their metric names: (noisy (N, H, W), sigmas (N,)) -> restored
    (N, H, W) in [0, 1]."""

    def nl_means(image, sigma):
        # h = 0.8 sigma with fast_mode and sigma given, as skimage's examples advise
        return denoise_nl_means(
            image, h=0.8 * sigma, sigma=sigma, patch_size=3, patch_distance=5, fast_mode=True
        )

    def tv(image, sigma):
        return denoise_tv_chambolle(image, weight=tv_weight)

    def wavelet(image, sigma):
        return denoise_wavelet(
            image, sigma=sigma, method="BayesShrink", mode="soft", rescale_sigma=True
        )

    def median(image, sigma):
        return median_filter(image, size=median_size, mode="reflect")

    methods = {"nl_means": nl_means, "tv": tv, "wavelet": wavelet, "median": median}
    out = {name: partial(_each, method) for name, method in methods.items()}
    out["bm3d"] = bm3d_mosaic
    return out


def _each(method, noisy: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """Apply a single-image method image by image, clipped to [0, 1]."""
    out = [method(np.asarray(x, np.float64), float(s)) for x, s in zip(noisy, sigmas, strict=True)]
    return np.clip(np.asarray(out, np.float32), 0.0, 1.0)


def bm3d_mosaic(noisy: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """BM3D on the images tiled into one square mosaic, with their mean sigma.

    The bm3d package spends seconds per call whatever the image size, so one call on a
    mosaic of N 28x28 images is about N/10 times faster than N calls. Its block matching may
    then draw similar patches from neighbouring images, which can only help it.
    """
    n, h, w = noisy.shape
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    padded = np.zeros((rows * cols, h, w), np.float64)
    padded[:n] = noisy
    mosaic = padded.reshape(rows, cols, h, w).transpose(0, 2, 1, 3).reshape(rows * h, cols * w)
    out = bm3d.bm3d(mosaic, sigma_psd=max(float(np.mean(sigmas)), 1e-3))
    out = np.asarray(out).reshape(rows, h, cols, w).transpose(0, 2, 1, 3)  # (rows, cols, h, w)
    return np.clip(out.reshape(rows * cols, h, w)[:n], 0.0, 1.0).astype(np.float32)

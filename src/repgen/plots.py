"""Pictures: image grids, and labelled rows of images for comparisons and sample sheets."""

import io
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from repgen.io import save_png  # noqa: E402


def image_grid(images: np.ndarray, ncols: int, *, pad: int = 2, fill: float = 1.0) -> np.ndarray:
    """Tile float images in [0, 1], shape (N, H, W), into one (rows*H', ncols*W') image."""
    images = np.asarray(images, np.float32)
    n, h, w = images.shape
    nrows = -(-n // ncols)
    grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad), fill, np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y : y + h, x : x + w] = image
    return grid


def figure_to_array(fig) -> np.ndarray:
    """Render a matplotlib figure to an RGB uint8 array and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return np.asarray(Image.open(buffer).convert("RGB"))


def labelled_rows(
    rows: list[np.ndarray],
    labels: list[str],
    path: str | os.PathLike,
    *,
    title: str | None = None,
    synthetic_from: str | None = None,
    scale: float = 0.9,
) -> None:
    """Save rows of images (each (K, H, W) in [0, 1]) as one PNG, a label left of each row."""
    ncols = max(len(row) for row in rows)
    height = len(rows) * scale + (0.5 if title else 0.1)
    fig, axes = plt.subplots(len(rows), 1, figsize=(ncols * scale + 1.8, height), squeeze=False)
    for ax, row, label in zip(axes[:, 0], rows, labels, strict=True):
        ax.imshow(image_grid(row, ncols, pad=1), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
        for spine in ax.spines.values():
            spine.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_png(path, figure_to_array(fig), synthetic_from=synthetic_from)

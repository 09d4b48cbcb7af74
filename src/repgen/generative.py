"""Samples from the generator registry, their scores, and the pictures of them.

    images, labels, seconds = draw_samples(gen, model, n=10_000, num_classes=10, seed=42)
    rows = class_rows(images, labels, num_classes=10, per_class=10)
    labelled_rows(rows, class_names, "plots/generative/samples/gan.png", synthetic_from="gan")

A conditional generator is asked for class-balanced labels (0, 1, ..., C-1, 0, 1, ...), so
every class gets n / C samples; an unconditional one samples freely.
"""

import logging
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from repgen.data.prepared import load_split
from repgen.errors import RepgenError
from repgen.interfaces import Generator
from repgen.io import save_png, to_uint8
from repgen.plots import figure_to_array, image_grid

log = logging.getLogger(__name__)


def balanced_labels(n: int, num_classes: int) -> np.ndarray:
    """int64 (n,) labels cycling through the classes, so each has n / C of them (+-1)."""
    return np.arange(n, dtype=np.int64) % num_classes


def draw_samples(
    gen: Generator, model, *, n: int, num_classes: int, seed: int, batch: int = 1000
) -> tuple[np.ndarray, np.ndarray | None, float]:
    """uint8 (n, 28, 28) samples, their labels (None if unconditional), and seconds taken.

    Sampled in calls of `batch` images, call i seeded with seed + i, so the samples do not
    depend on how fast the machine is, only on (seed, batch).
    """
    labels = balanced_labels(n, num_classes) if gen.conditional else None
    parts = []
    start = time.perf_counter()
    for i, first in enumerate(range(0, n, batch)):
        size = min(batch, n - first)
        wanted = None if labels is None else labels[first : first + size]
        parts.append(_checked(gen.sample(model, size, wanted, seed + i), size, gen.name))
    seconds = time.perf_counter() - start
    return to_uint8(np.concatenate(parts)), labels, seconds


def _checked(images: np.ndarray, size: int, name: str) -> np.ndarray:
    images = np.asarray(images, np.float32)
    if images.shape != (size, 28, 28):
        raise RepgenError(
            f"generator {name}: sample() returned shape {images.shape}, expected ({size}, 28, 28)"
        )
    if not np.isfinite(images).all():
        raise RepgenError(f"generator {name}: sample() returned non-finite pixels")
    return images


def class_rows(
    images: np.ndarray, labels: np.ndarray | None, *, num_classes: int, per_class: int
) -> list[np.ndarray]:
    """Rows of float [0, 1] images for a sample sheet: one row per class when there are labels
    (the first `per_class` of each), else the first images, `per_class` to a row."""
    images = np.asarray(images, np.float32) / 255.0
    if labels is None:
        count = min(len(images), num_classes * per_class)
        return [images[i : i + per_class] for i in range(0, count, per_class)]
    return [images[labels == c][:per_class] for c in range(num_classes) if (labels == c).any()]


def side_by_side(
    panels: dict[str, list[np.ndarray]],
    path,
    *,
    synthetic_from: str | None = None,
    scale: float = 0.28,
) -> None:
    """One figure with a grid per panel (title -> rows), left to right."""
    ncols = max(len(row) for rows in panels.values() for row in rows)
    nrows = max(len(rows) for rows in panels.values())
    size = (len(panels) * (ncols * scale + 0.3), nrows * scale + 0.8)
    fig = Figure(figsize=size)
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, (title, rows) in zip(axes[0], panels.items(), strict=True):
        tiles = np.concatenate([_padded(row, ncols) for row in rows])  # (rows * ncols, 28, 28)
        ax.imshow(image_grid(tiles, ncols, pad=1), cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    save_png(path, figure_to_array(fig), synthetic_from=synthetic_from)


def _padded(row: np.ndarray, ncols: int) -> np.ndarray:
    """A row of images filled up to `ncols` with white tiles."""
    fill = np.ones((ncols - len(row), *row.shape[1:]), np.float32)
    return np.concatenate([row, fill])


def sample_counts(cfg, names: list[str]) -> dict[str, int]:
    """Samples per generator: evaluate_generative.n_samples, or its per-generator override."""
    for unknown in sorted(set(cfg.n_samples_for) - set(names)):
        log.warning(
            "evaluate_generative.n_samples_for: no generator %r is configured "
            "(configured: %s); ignoring it",
            unknown,
            ", ".join(names) or "none",
        )
    return {name: cfg.n_samples_for.get(name, cfg.n_samples) for name in names}


def matched_counts(generators: list[Generator], counts: dict[str, int]) -> dict[str, int]:
    """For each generator that drew more samples than another sampler of the same model, the
    smaller count: its first that many samples are scored again, so that samplers of one model
    compare at equal n (FID is biased upward at small n)."""
    smallest: dict[str, int] = {}
    for gen in generators:
        smallest[gen.model] = min(counts[gen.name], smallest.get(gen.model, counts[gen.name]))
    return {
        gen.name: smallest[gen.model]
        for gen in generators
        if counts[gen.name] > smallest[gen.model]
    }


def baselines(prepared: Path, n: int, seed: int) -> dict[str, np.ndarray]:
    """The floor (real training images) and the ceiling (uniform noise), n images each."""
    train_x, _ = load_split(prepared, "train")
    rng = np.random.default_rng(seed)
    real = train_x[rng.choice(len(train_x), min(n, len(train_x)), replace=False)]
    noise = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    return {"real_train": real, "noise": noise}

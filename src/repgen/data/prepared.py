"""The prepared dataset: train/valid/test splits as uint8 (N, 28, 28) images with int labels.

images, labels = load_split("data/prepared", "test")
"""

from pathlib import Path

import numpy as np

from repgen.io import load_npz, read_json


def load_split(folder: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N, 28, 28) and labels int64 (N,) of one split."""
    arrays = load_npz(Path(folder) / f"{split}.npz")
    return arrays["images"], arrays["labels"].astype(np.int64)


def class_names(folder: str | Path) -> list[str]:
    """The class names of the prepared dataset, index = label."""
    return read_json(Path(folder) / "meta.json")["class_names"]

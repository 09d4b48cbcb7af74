"""The prepared dataset: train/valid/test splits as uint8 (N, 28, 28) images with int labels.

images, labels = load_split("data/prepared", "test")
"""

from pathlib import Path

import numpy as np

from repgen.data import idx, splits
from repgen.data.registry import DATASETS
from repgen.errors import RepgenError
from repgen.io import load_npz, read_json

SPLITS = ("train", "valid", "test")


def make_splits(raw_dir: str | Path, data_params) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Split the downloaded data: the dataset's fixed split, or a stratified one for folders."""
    raw_dir = Path(raw_dir)
    meta = read_json(raw_dir / "meta.json")
    if meta["dataset"] in DATASETS:
        train_x, train_y, test_x, test_y = idx.read_idx_dataset(raw_dir)
        valid_size = DATASETS[meta["dataset"]].valid_size
    else:
        arrays = load_npz(raw_dir / "images.npz")
        x, y = arrays["images"], arrays["labels"]
        train_x, train_y, test_x, test_y = _split_off(x, y, data_params.test_fraction, "test")
        valid_size = data_params.valid_fraction / (1 - data_params.test_fraction)
    train_x, train_y, valid_x, valid_y = _split_off(train_x, train_y, valid_size, "valid")
    out = {"train": (train_x, train_y), "valid": (valid_x, valid_y), "test": (test_x, test_y)}
    limits = {
        "train": data_params.train_limit,
        "valid": data_params.valid_limit,
        "test": data_params.test_limit,
    }
    return {name: splits.limit(*out[name], limits[name]) for name in SPLITS}


def _split_off(images, labels, size, name):
    try:
        return splits.stratified_split(images, labels, size)
    except ValueError as err:  # too few images of some class to split off a stratified share
        raise RepgenError(
            f"cannot split off a stratified {name} set: {err}; add images to "
            "the smallest classes or change data.valid_fraction/test_fraction"
        ) from err


def load_split(folder: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N, 28, 28) and labels int64 (N,) of one split."""
    arrays = load_npz(Path(folder) / f"{split}.npz")
    return arrays["images"], arrays["labels"].astype(np.int64)


def class_names(folder: str | Path) -> list[str]:
    """The class names of the prepared dataset, index = label."""
    return read_json(Path(folder) / "meta.json")["class_names"]

"""From downloaded data to the prepared splits: the dataset's fixed split, or a stratified
one for a folder of the user's images; then the optional size limits."""

from pathlib import Path

import numpy as np

from repgen.data import idx
from repgen.data.registry import DATASETS
from repgen.data.splits import SPLITS, limit, stratified_split
from repgen.errors import RepgenError
from repgen.io import load_npz, read_json


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
    return {name: limit(*out[name], limits[name]) for name in SPLITS}


def _split_off(images, labels, size, name):
    try:
        return stratified_split(images, labels, size)
    except ValueError as err:  # too few images of some class to split off a stratified share
        raise RepgenError(
            f"cannot split off a stratified {name} set: {err}; add images to "
            "the smallest classes or change data.valid_fraction/test_fraction"
        ) from err

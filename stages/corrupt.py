"""Stage corrupt: noise augmentation of the valid and test sets, and low-resolution copies.

    python stages/corrupt.py data/prepared data/corrupted plots/corrupt/corruptions.png

Writes {valid,test}.npz (one uint8 array per corruption setting, e.g. 'gaussian_0.3'),
lowres_x<f>.npz (train/valid/test downscaled by f) and one picture of every corruption.
"""

import sys
from pathlib import Path

import numpy as np

from repgen import config
from repgen.corrupt import corrupt_all, downscale
from repgen.data.prepared import load_split
from repgen.errors import run_main
from repgen.io import save_npz, to_uint8
from repgen.plots import labelled_rows


def main(argv: list[str]) -> None:
    prepared, out, picture = Path(argv[0]), Path(argv[1]), Path(argv[2])
    params = config.load()
    cfg = params.corrupt

    for stream, split in enumerate(("valid", "test"), start=1):
        images, _ = load_split(prepared, split)
        save_npz(out / f"{split}.npz", **corrupt_all(images, cfg, params.seed, stream))

    for factor in cfg.superres_factors:
        low = {
            split: to_uint8(downscale(load_split(prepared, split)[0] / 255.0, factor))
            for split in ("train", "valid", "test")
        }
        save_npz(out / f"lowres_x{factor}.npz", **low)

    save_preview(prepared, out, picture, cfg.preview_images)


def save_preview(prepared: Path, out: Path, picture: Path, n: int) -> None:
    """Clean test images, then each corruption of the same images, a row each."""
    clean = load_split(prepared, "test")[0][:n]
    corrupted = np.load(out / "test.npz", allow_pickle=False)
    rows = [clean / 255.0] + [corrupted[name][:n] / 255.0 for name in corrupted.files]
    labels = ["clean", *corrupted.files]
    labelled_rows(rows, labels, picture, title="Corruptions of the same test images")


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

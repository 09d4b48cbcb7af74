"""`repgen sample`: a grid of images from any registered generator.

repgen sample gan --n 64 --class 3 --out grid.png --seed 0
"""

import argparse
import math
from pathlib import Path

import numpy as np

from repgen import config
from repgen.data.prepared import class_names
from repgen.errors import RepgenError
from repgen.generators import find
from repgen.io import save_png
from repgen.plots import image_grid
from repgen.training import load_model

MAX_IMAGES = 10_000


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "sample",
        help="draw a grid of synthetic images from a trained generator",
        description="Draw a grid of synthetic images from a trained generator.",
    )
    parser.add_argument("model", help="a generator name, e.g. gan (see metrics/generative.json)")
    parser.add_argument("--n", type=int, default=64, help="number of images (default: 64)")
    parser.add_argument(
        "--class",
        dest="label",
        type=int,
        default=None,
        help="class index, for a class-conditional generator",
    )
    parser.add_argument("--out", default="samples.png", help="PNG to write (default: samples.png)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return parser


def _labels(args, gen, root: Path):
    """The label array for --class, checked against the generator and the dataset's classes."""
    if args.label is None:
        return None
    if not gen.conditional:
        raise RepgenError(f"--class {args.label}: generator '{gen.name}' is not class-conditional")
    names = class_names(root / "data" / "prepared")
    if not 0 <= args.label < len(names):
        shown = ", ".join(f"{i}={name}" for i, name in enumerate(names))
        raise RepgenError(
            f"--class {args.label}: out of range; allowed: 0..{len(names) - 1} ({shown})"
        )
    return np.full(args.n, args.label, np.int64)


def run(args) -> None:
    if not 0 < args.n <= MAX_IMAGES:
        raise RepgenError(f"--n {args.n}: must be between 1 and {MAX_IMAGES}")
    root = Path(args.root)
    gen = find(config.load(root / "params.yaml"), args.model)
    labels = _labels(args, gen, root)
    model = load_model(root / "models" / f"{gen.model}.keras")
    images = gen.sample(model, n=args.n, labels=labels, seed=args.seed)  # (n, 28, 28)
    save_png(args.out, image_grid(images, math.ceil(math.sqrt(args.n))), synthetic_from=gen.name)
    print(f"wrote {args.n} images from {gen.name} to {args.out}")

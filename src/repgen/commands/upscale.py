"""`repgen upscale`: super-resolution of one image with a trained generator.

repgen upscale small.png big.png [--model superres_gan]
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from repgen.errors import RepgenError
from repgen.io import save_png
from repgen.models.superres import upscale
from repgen.training import load_model

MODELS = ("superres", "superres_gan")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "upscale",
        help="upscale a grayscale image with the super-resolution generator",
        description="Upscale an image (converted to grayscale) by the model's factor.",
    )
    parser.add_argument("input", help="image to upscale (PNG, JPEG, ...)")
    parser.add_argument("output", help="PNG to write")
    parser.add_argument(
        "--model",
        choices=MODELS,
        default="superres",
        help="content-loss (superres, default) or adversarial (superres_gan)",
    )
    return parser


def read_gray(path: Path) -> np.ndarray:
    """An image file as float32 (H, W) in [0, 1]; a RepgenError if it is not an image."""
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L"), np.float32) / 255.0
    except FileNotFoundError:
        raise RepgenError(f"{path}: file not found") from None
    except (UnidentifiedImageError, OSError) as err:
        raise RepgenError(f"{path}: not a readable image ({err})") from None


def run(args) -> None:
    low = read_gray(Path(args.input))
    model = load_model(Path(args.root) / "models" / f"{args.model}.keras")
    high = upscale(model, low[None])[0]  # (factor H, factor W)
    save_png(args.output, high, synthetic_from=args.model)
    print(f"wrote {args.output} ({low.shape[1]}x{low.shape[0]} -> {high.shape[1]}x{high.shape[0]})")

"""`repgen denoise`: clean an image, or a folder of images, with the denoising autoencoder.

    repgen denoise noisy.png clean.png
    repgen denoise noisy_folder/ clean_folder/

The model is fully convolutional, so an image of any size is denoised whole, not in tiles
and not resized: it is padded by reflection to a multiple of 4 (the U-Net's two
down-samplings) and cropped back. A colour image is denoised channel by channel (alpha is
kept as it is). The model learnt 28x28 Fashion-MNIST clothes, light on a dark background, so
it works best on images at that scale and in that style.
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from repgen.errors import RepgenError
from repgen.io import save_png
from repgen.models.autoencoder import reconstruct
from repgen.training import load_model

MODEL = "denoising_autoencoder"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "denoise",
        help="denoise an image or a folder of images with the denoising autoencoder",
        description="Denoise an image of any size (grayscale or colour), or every image in a "
        "folder, with models/denoising_autoencoder.keras.",
    )
    parser.add_argument("input", help="image (PNG, JPEG, ...) or folder of images")
    parser.add_argument("output", help="PNG to write, or the folder to write PNGs into")
    return parser


def read_image(path: Path) -> np.ndarray:
    """An image file as float32 (H, W) or (H, W, C) in [0, 1]; a RepgenError if it is not."""
    try:
        with Image.open(path) as image:
            image.load()
            gray = image.mode in ("1", "L", "LA", "I", "I;16", "F")
            alpha = "A" in image.getbands() or "transparency" in image.info
            mode = "L" if gray else ("RGBA" if alpha else "RGB")
            return np.asarray(image.convert(mode), np.float32) / 255.0
    except FileNotFoundError:
        raise RepgenError(f"{path}: file not found") from None
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise RepgenError(
            f"{path}: not a readable image (allowed: PNG, JPEG and the other "
            f"formats Pillow reads) ({err})"
        ) from None


def denoise_image(model, image: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, C) in [0, 1] -> the same shape, denoised channel by channel."""
    planes = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)  # (C, H, W)
    colour = planes[:3] if image.ndim == 3 else planes
    h, w = planes.shape[1:]
    pad = ((0, 0), (0, -h % 4), (0, -w % 4))
    mode = "reflect" if min(h, w) > 1 else "edge"
    restored = reconstruct(model, np.pad(colour, pad, mode=mode))[:, :h, :w]  # (C, H, W)
    if image.ndim == 2:
        return restored[0]
    return np.moveaxis(np.concatenate([restored, planes[3:]]), 0, -1)  # (H, W, C), alpha kept


def _pairs(source: Path, target: Path) -> list[tuple[Path, Path]]:
    if not source.is_dir():
        return [(source, target)]
    files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise RepgenError(
            f"{source}: no images in this folder (allowed suffixes: {', '.join(IMAGE_SUFFIXES)})"
        )
    return [(p, target / f"{p.stem}.png") for p in files]


def run(args) -> None:
    pairs = _pairs(Path(args.input), Path(args.output))
    images = [read_image(source) for source, _ in pairs]  # every input checked before work
    model = load_model(Path(args.root) / "models" / f"{MODEL}.keras")
    for (source, target), image in zip(pairs, images, strict=True):
        save_png(
            target,
            denoise_image(model, image),
            synthetic_from=MODEL,
            description=f"{source.name} denoised",
        )
        print(f"wrote {target} ({image.shape[1]}x{image.shape[0]})")

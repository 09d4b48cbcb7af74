"""Reader for a user's own images: one subfolder per class, any size or colour."""

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from repgen.errors import RepgenError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
SIZE = 28


def _load_image(path: Path) -> np.ndarray:
    """One image as 28x28 uint8 grayscale."""
    try:
        with Image.open(path) as image:
            image = image.convert("L")
            return np.asarray(image.resize((SIZE, SIZE), Image.Resampling.LANCZOS), np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise RepgenError(f"{path}: not a readable PNG or JPEG image ({err})") from err


def read_image_folder(root: str | Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Images (N, 28, 28) uint8, labels (N,) int64 and class names (the sorted subfolders)."""
    root = Path(root)
    if not root.is_dir():
        raise RepgenError(f"data.folder: {root} is not a folder")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise RepgenError(
            f"data.folder: {root} has no class subfolders; put each class's images "
            "in a subfolder named after the class"
        )
    if len(classes) < 2:
        raise RepgenError(
            f"data.folder: {root} has a single class '{classes[0]}'; "
            "at least two class subfolders are needed"
        )
    images, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(
            p for p in (root / name).iterdir() if p.is_file() and not p.name.startswith(".")
        )
        if not files:
            raise RepgenError(f"data.folder: class folder {root / name} is empty")
        for path in files:
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                raise RepgenError(
                    f"{path}: unsupported file type '{path.suffix}'; allowed: .png, .jpg, .jpeg"
                )
            images.append(_load_image(path))
            labels.append(label)
    return np.stack(images), np.asarray(labels, np.int64), tuple(classes)

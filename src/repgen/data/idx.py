"""Reader for the IDX format (gzipped), as Fashion-MNIST and MNIST are published."""

import gzip
import zlib
from pathlib import Path

import numpy as np

from repgen.errors import RepgenError

_UBYTE = 0x08  # the only element type these datasets use


def read_idx(path: str | Path) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes into an array of its declared shape."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise RepgenError(f"{path.name}: not a complete gzip file ({err})") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _UBYTE or raw[3] not in (1, 3):
        raise RepgenError(
            f"{path.name}: wrong IDX magic number {raw[:4].hex() or 'empty'}; "
            "expected 00000801 (labels) or 00000803 (images)"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + int(np.prod(shape)):
        raise RepgenError(
            f"{path.name}: IDX header declares shape {shape} but the file holds "
            f"{len(raw) - header} data bytes"
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def read_idx_dataset(folder: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four arrays (train images, train labels, test images, test labels) of a folder."""
    folder = Path(folder)
    arrays = [
        read_idx(folder / name)
        for name in (
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        )
    ]
    for images, labels in (arrays[0:2], arrays[2:4]):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise RepgenError(
                f"{folder}: images {images.shape} and labels {labels.shape} do not match"
            )
    return tuple(arrays)

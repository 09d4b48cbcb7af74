"""The folder source: a user's images, one subfolder per class, and every way it can be wrong."""

import numpy as np
import pytest
from PIL import Image

from repgen.data.folder import read_image_folder
from repgen.errors import RepgenError
from tests.conftest import write_image_folder


def test_reads_any_size_and_colour_as_28x28_grayscale(tmp_path):
    root = write_image_folder(tmp_path / "images", n_per_class=3, n_classes=3)
    Image.new("RGBA", (50, 20), (255, 0, 0, 255)).save(root / "class_0" / "wide.png")
    Image.new("RGB", (64, 64), (0, 0, 255)).save(root / "class_2" / "photo.JPG", format="JPEG")
    images, labels, classes = read_image_folder(root)
    assert images.shape == (11, 28, 28) and images.dtype == np.uint8
    assert classes == ("class_0", "class_1", "class_2")
    assert np.bincount(labels).tolist() == [4, 3, 4]


def test_missing_folder(tmp_path):
    with pytest.raises(RepgenError, match="is not a folder"):
        read_image_folder(tmp_path / "nope")


def test_folder_without_classes(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(RepgenError, match="no class subfolders"):
        read_image_folder(tmp_path / "empty")


def test_single_class(tmp_path):
    root = write_image_folder(tmp_path / "images", n_per_class=2, n_classes=1)
    with pytest.raises(RepgenError, match="single class 'class_0'; at least two"):
        read_image_folder(root)


def test_empty_class_folder(tmp_path):
    root = write_image_folder(tmp_path / "images", n_per_class=2, n_classes=2)
    (root / "class_9").mkdir()
    with pytest.raises(RepgenError, match="class_9 is empty"):
        read_image_folder(root)


def test_unreadable_image(tmp_path):
    root = write_image_folder(tmp_path / "images", n_per_class=2, n_classes=2)
    (root / "class_1" / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(RepgenError, match=r"broken\.png: not a readable PNG or JPEG"):
        read_image_folder(root)


def test_unsupported_file_type(tmp_path):
    root = write_image_folder(tmp_path / "images", n_per_class=2, n_classes=2)
    (root / "class_1" / "notes.txt").write_text("hello")
    with pytest.raises(RepgenError, match=r"unsupported file type '\.txt'"):
        read_image_folder(root)

"""`repgen sample` and `repgen upscale` on tiny trained models, and on bad input."""

import numpy as np
import pytest
from PIL import Image

from repgen import cli
from repgen.io import write_json
from repgen.models.gan import GAN
from repgen.models.superres import SuperResolution

CLASSES = ["a", "b", "c", "d"]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A project folder with params, the prepared data's class names and two tiny models."""
    root = tmp_path_factory.mktemp("cli")
    (root / "params.yaml").write_text("gan:\n  conditional: true\n")
    write_json(root / "data" / "prepared" / "meta.json", {"class_names": CLASSES})
    (root / "models").mkdir()
    GAN(latent_dim=8, width=4, num_classes=4).save(root / "models" / "gan.keras")
    SuperResolution(width=4, blocks=1).save(root / "models" / "superres.keras")
    return root


def repgen(root, *args):
    cli.main(["--root", str(root), *args])


def error_of(capsys, root, *args) -> str:
    with pytest.raises(SystemExit) as exit_info:
        repgen(root, *args)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_sample_writes_a_synthetic_grid(root, tmp_path):
    out = tmp_path / "grid.png"
    repgen(root, "sample", "gan", "--n", "9", "--class", "3", "--out", str(out), "--seed", "1")
    image = Image.open(out)
    assert image.size == (3 * 30 + 2, 3 * 30 + 2)  # 3x3 tiles of 28 px, 2 px padding
    assert image.text["Synthetic"] == "true" and image.text["Model"] == "gan"


def test_sample_is_reproducible_with_a_seed(root, tmp_path):
    for name in ("a.png", "b.png"):
        repgen(root, "sample", "gan", "--n", "4", "--out", str(tmp_path / name), "--seed", "5")
    a, b = (np.asarray(Image.open(tmp_path / n)) for n in ("a.png", "b.png"))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "unknown generator 'nope'; available: gan"),
        (["gan", "--class", "4"], "--class 4: out of range; allowed: 0..3"),
        (["gan", "--class", "-1"], "--class -1: out of range"),
        (["gan", "--n", "0"], "--n 0: must be between 1 and 10000"),
        (["gan", "--n", "-3"], "--n -3: must be between 1"),
    ],
)
def test_sample_rejects_bad_input(root, tmp_path, capsys, args, message):
    err = error_of(capsys, root, "sample", *args, "--out", str(tmp_path / "x.png"))
    assert message in err
    assert not (tmp_path / "x.png").exists()


def test_sample_refuses_a_class_for_an_unconditional_generator(tmp_path, capsys):
    (tmp_path / "params.yaml").write_text("gan:\n  conditional: false\n")
    (tmp_path / "models").mkdir()
    err = error_of(capsys, tmp_path, "sample", "gan", "--class", "1")
    assert "generator 'gan' is not class-conditional" in err


def test_upscale_doubles_the_size(root, tmp_path):
    small = tmp_path / "small.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (14, 10), np.uint8)).save(small)
    out = tmp_path / "big.png"
    repgen(root, "upscale", str(small), str(out))
    image = Image.open(out)
    assert image.size == (20, 28) and image.text["Model"] == "superres"


def test_upscale_rejects_a_file_that_is_not_an_image(root, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("not a picture")
    assert "bad.png: not a readable image" in error_of(
        capsys, root, "upscale", str(bad), str(tmp_path / "o.png")
    )
    missing = tmp_path / "missing.png"
    assert "missing.png: file not found" in error_of(
        capsys, root, "upscale", str(missing), str(tmp_path / "o.png")
    )


def test_upscale_names_a_missing_model(root, tmp_path, capsys):
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((14, 14), np.uint8)).save(small)
    err = error_of(
        capsys, root, "upscale", str(small), str(tmp_path / "o.png"), "--model", "superres_gan"
    )
    assert "superres_gan.keras: model not found" in err

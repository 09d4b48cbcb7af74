"""PSNR/SSIM against hand-computed values, the classical denoisers, the evaluate_denoising
stage and the `repgen denoise` command."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from repgen.metrics.image_quality import bm3d_mosaic, classical_denoisers, psnr, psnr_each, ssim
from repgen.models.autoencoder import DenoisingAutoencoder, compile_model
from tests.test_autoencoder import TINY, write_tiny_data

ROOT = Path(__file__).resolve().parents[1]


def test_psnr_against_hand_computed_values():
    clean = np.zeros((2, 8, 8))
    restored = np.stack([np.full((8, 8), 0.1), np.full((8, 8), 0.01)])
    # MSE 0.01 -> 10 log10(1 / 0.01) = 20 dB; MSE 1e-4 -> 40 dB
    np.testing.assert_allclose(psnr_each(clean, restored), [20.0, 40.0])
    assert psnr(clean, restored) == pytest.approx(30.0)
    assert psnr_each(clean, clean).tolist() == [100.0, 100.0]  # exact: capped, not inf


def test_ssim_against_hand_computed_values():
    # constant images a, b: SSIM = (2ab + C1) / (a^2 + b^2 + C1), C1 = (0.01 * 1)^2
    a, b, c1 = 0.5, 0.25, 1e-4
    expected = (2 * a * b + c1) / (a**2 + b**2 + c1)
    clean, restored = np.full((3, 8, 8), a), np.full((3, 8, 8), b)
    assert ssim(clean, restored) == pytest.approx(expected, rel=1e-6)
    assert ssim(clean, clean) == pytest.approx(1.0)


def test_ssim_of_a_stack_is_the_mean_over_images():
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    clean, noisy = rng.random((5, 28, 28)), rng.random((5, 28, 28))
    each = [structural_similarity(c, n, data_range=1.0) for c, n in zip(clean, noisy, strict=True)]
    assert ssim(clean, noisy) == pytest.approx(np.mean(each), rel=1e-9)
    with pytest.raises(ValueError, match="shape"):
        ssim(clean, noisy[:4])


def smooth_images(n: int = 4) -> np.ndarray:
    y, x = np.mgrid[0:28, 0:28] / 27.0
    return np.stack([0.2 + 0.6 * (x * (i + 1) % 1.0 > 0.5) * y for i in range(n)])


def test_every_classical_method_improves_on_gaussian_noise():
    clean = smooth_images()
    noisy = np.clip(clean + np.random.default_rng(1).normal(0, 0.2, clean.shape), 0, 1)
    for name, method in classical_denoisers().items():
        restored = method(noisy, np.full(len(noisy), 0.2))
        assert restored.shape == clean.shape and 0 <= restored.min() <= restored.max() <= 1
        assert psnr(clean, restored) > psnr(clean, noisy) + 1, name


def test_bm3d_mosaic_keeps_the_images_in_order():
    images = np.random.default_rng(2).random((5, 28, 28))  # 5 -> a 3x2 mosaic with a blank
    out = bm3d_mosaic(images, np.full(5, 1e-3))  # almost no noise: almost the identity
    assert out.shape == images.shape
    assert np.abs(out - images).mean() < 0.02


def tiny_project(tmp_path, monkeypatch) -> Path:
    """Tiny data, params and a (random) denoising autoencoder in a project folder."""
    monkeypatch.chdir(tmp_path)
    write_tiny_data(tmp_path)
    params = {**TINY, "evaluate_denoising": {"subset_size": 6, "preview_images": 3}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    model = compile_model(
        DenoisingAutoencoder(width=4, noise={"gaussian": [0.3]}, name="denoising_autoencoder"),
        learning_rate=1e-3,
    )
    (tmp_path / "models").mkdir()
    model.save(tmp_path / "models" / "denoising_autoencoder.keras")
    return tmp_path


def test_evaluate_denoising_stage(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "stages"))
    import evaluate_denoising

    tiny_project(tmp_path, monkeypatch)
    evaluate_denoising.main(
        [
            "data/prepared",
            "data/corrupted",
            "models/denoising_autoencoder.keras",
            "metrics/denoising.json",
            "plots/denoising",
        ]
    )
    metrics = json.loads((tmp_path / "metrics" / "denoising.json").read_text())
    assert metrics["subset_size"] == 6 and metrics["test_size"] == 48
    methods = {
        "noisy",
        "nl_means",
        "tv",
        "wavelet",
        "median",
        "bm3d",
        "denoising_autoencoder",
        "denoising_autoencoder_full",
    }
    for setting in ("gaussian_0.3", "salt_and_pepper_0.1"):
        assert set(metrics[setting]) == methods
        for scores in metrics[setting].values():
            assert np.isfinite(scores["psnr"]) and -1 <= scores["ssim"] <= 1
        with Image.open(tmp_path / "plots" / "denoising" / f"{setting}.png") as image:
            assert image.text["Synthetic"] == "true"


def repgen(root: Path, *args: str) -> subprocess.CompletedProcess:
    command = Path(sys.executable).parent / "repgen"
    return subprocess.run(
        [str(command), "--root", str(root), *args], capture_output=True, text=True
    )


def test_cli_denoises_a_png_of_any_size_and_a_folder(tmp_path, monkeypatch):
    root = tiny_project(tmp_path, monkeypatch)
    rgb = (np.random.default_rng(3).random((30, 41, 3)) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "in.png")
    done = repgen(root, "denoise", str(tmp_path / "in.png"), str(tmp_path / "out.png"))
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "out.png") as out:
        assert out.size == (41, 30) and out.mode == "RGB"
        assert out.text["Synthetic"] == "true" and out.text["Model"] == "denoising_autoencoder"

    folder = tmp_path / "folder"
    folder.mkdir()
    Image.fromarray(rgb[..., 0]).save(folder / "gray.jpg")
    done = repgen(root, "denoise", str(folder), str(tmp_path / "outs"))
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "outs" / "gray.png") as out:
        assert out.size == (41, 30) and out.mode == "L"


def test_cli_refuses_a_file_that_is_not_an_image(tmp_path, monkeypatch):
    root = tiny_project(tmp_path, monkeypatch)
    (tmp_path / "notes.png").write_text("not an image")
    done = repgen(root, "denoise", str(tmp_path / "notes.png"), str(tmp_path / "out.png"))
    assert done.returncode == 2
    assert "notes.png: not a readable image" in done.stderr
    assert not (tmp_path / "out.png").exists()

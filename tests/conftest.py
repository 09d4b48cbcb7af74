"""Shared fixtures: tiny generated data, and a temporary copy of the project to run in."""

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

# Small but real settings for every section, so the whole pipeline runs in a few minutes.
# Each model family adds its own section here.
TINY_PARAMS = {
    "data": {"dataset": "folder", "valid_fraction": 0.2, "test_fraction": 0.2},
    "corrupt": {
        "gaussian": [0.3],
        "salt_and_pepper": [0.1],
        "speckle": [],
        "poisson": [],
        "masking": [0.25],
        "superres_factors": [2],
        "preview_images": 4,
    },
    "classifier": {"epochs": 1, "batch_size": 32, "width": 4, "feature_dim": 16},
    "gan": {"epochs": 1, "batch_size": 16, "width": 4, "latent_dim": 8, "grid_images": 16},
    "superres": {
        "width": 4,
        "blocks": 1,
        "batch_size": 16,
        "train_limit": 64,
        "epochs": 1,
        "gan_epochs": 1,
    },
    "vae": {"epochs": 1, "batch_size": 32, "width": 4, "latent_dim": 4},
    "autoencoder": {"epochs": 1, "batch_size": 32, "hidden": 16, "codings": 4, "preview_images": 4},
    "conv_autoencoder": {
        "epochs": 1,
        "batch_size": 32,
        "width": 4,
        "codings": 4,
        "preview_images": 4,
    },
    "denoising_autoencoder": {
        "epochs": 1,
        "batch_size": 32,
        "width": 4,
        "valid_limit": 16,
        "preview_images": 4,
    },
    "evaluate_denoising": {"subset_size": 8, "preview_images": 3},
    "evaluate_latent": {"fit_size": 64, "tsne_points": 24, "neighbors": 5},
    "flow": {"epochs": 1, "batch_size": 32, "couplings": 1, "hidden": 4, "depth": 1},
    "evaluate_likelihood": {
        "iw_samples": 4,
        "test_limit": 16,
        "grid_images": 4,
        "interpolation_steps": 3,
    },
    "evaluate_generative": {
        "n_samples": 100,
        "sample_batch": 50,
        "kid_blocks": 5,
        "kid_block_size": 50,
        "grid_per_class": 4,
    },
    "downstream": {
        "real_per_class": [3],
        "generators": None,
        "synthetic_per_class": 5,
        "seeds": 2,
        "steps": 10,
        "full_pool_steps": 10,
        "batch_size": 16,
    },
    "diffusion": {
        "epochs": 1,
        "batch_size": 32,
        "timesteps": 20,
        "widths": [8, 16],
        "embedding_dim": 16,
        "samplers": [{"kind": "ddim", "steps": 5}, {"kind": "ddpm"}],
    },
}


def class_images(n_per_class: int, n_classes: int = 4, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Easy-to-learn uint8 (N, 28, 28) images: class k is a bright bar at a k-dependent place."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label in range(n_classes):
        for _ in range(n_per_class):
            image = rng.integers(0, 40, (28, 28))
            row = 3 + label * 22 // max(n_classes - 1, 1)
            image[max(row - 2, 0) : row + 2, 4:24] = rng.integers(180, 255)
            images.append(image)
            labels.append(label)
    return np.asarray(images, np.uint8), np.asarray(labels, np.uint8)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzipped IDX file."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_image_folder(root: Path, n_per_class: int = 30, n_classes: int = 4) -> Path:
    """A folder source: one subfolder of PNGs per class (RGB, 32x32, to test conversion)."""
    images, labels = class_images(n_per_class, n_classes)
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        rgb = np.stack([image] * 3, axis=-1)
        Image.fromarray(rgb).resize((32, 32)).save(folder / f"{i:04d}.png")
    return root


def deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = (
            deep_merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def run(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command with the project's venv first on PATH; capture its output."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project (code, dvc.yaml, params) in its own git repository, with tiny
    params and a generated image folder as its dataset."""
    return make_project(tmp_path)


# Skipped anywhere in the tree, and skipped only at these paths (src/repgen/data is code).
_SKIP_NAMES = {".venv", ".git", "__pycache__", ".pytest_cache", ".ruff_cache"}
_SKIP_PATHS = {"data", "models", "reports", "dvclive", ".dvc/cache", ".dvc/tmp"}


def _ignore(folder: str, names: list[str]) -> list[str]:
    relative = Path(folder).relative_to(ROOT)
    return [
        n
        for n in names
        if n in _SKIP_NAMES or n.endswith(".egg-info") or (relative / n).as_posix() in _SKIP_PATHS
    ]


def make_project(tmp_path: Path) -> Path:
    """The `project` fixture's work, for fixtures of a wider scope (tmp_path_factory)."""
    dest = tmp_path / "project"
    shutil.copytree(ROOT, dest, ignore=_ignore)
    for generated in ("metrics", "plots", "dvc.lock"):
        target = dest / generated
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    folder = write_image_folder(tmp_path / "images")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params = deep_merge(params, TINY_PARAMS)
    params["data"]["folder"] = str(folder)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q"], dest)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A"], dest)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tiny"], dest)
    return dest

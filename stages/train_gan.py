"""Stage train@gan: the DCGAN (loss, spectral norm, EMA generator, labels from params.gan).

    python stages/train_gan.py data/prepared models/gan.keras

Logs a grid of EMA-generator samples from fixed noise after every epoch (plots/train/gan).
"""

import sys
from pathlib import Path

import numpy as np

from repgen import config
from repgen.data import splits
from repgen.data.prepared import class_names, load_split
from repgen.errors import run_main
from repgen.io import save_png, to_uint8
from repgen.models.gan import build_gan
from repgen.plots import image_grid
from repgen.training import TrainPaths, fingerprint, fit, shuffled_batches


def sample_grid(params, num_classes: int):
    """on_epoch_end: the same noise (and labels, one class per row) every epoch."""
    n = params.gan.grid_images
    rng = np.random.default_rng(params.seed)
    z = rng.standard_normal((n, params.gan.latent_dim)).astype(np.float32)
    ncols = max(int(np.ceil(np.sqrt(n))), 1)
    labels = (np.arange(n) // ncols) % num_classes  # row r shows class r

    def log_grid(model, epoch, live):
        grid = to_uint8(image_grid(model.generate(z, labels), ncols))
        live.log_image("samples.png", grid)
        # dvclive writes plain PNGs; rewrite the same file so it says it is synthetic
        save_png(Path(live.plots_dir) / "images" / "samples.png", grid, synthetic_from="gan")

    return log_grid


def main(argv: list[str]) -> None:
    prepared, model_path = Path(argv[0]), Path(argv[1])
    params = config.load()
    cfg = params.gan

    images, labels = splits.limit(*load_split(prepared, "train"), cfg.train_limit)
    train = ((images.astype(np.float32) / 255.0)[..., None], labels.astype(np.int32))
    num_classes = len(class_names(prepared))

    fit(
        "gan",
        build=lambda: build_gan(cfg, num_classes=num_classes, seed=params.seed),
        batches=lambda epoch: shuffled_batches(
            train, cfg.batch_size, seed=params.seed, epoch=epoch, drop_remainder=True
        ),
        epochs=cfg.epochs,
        seed=params.seed,
        fingerprint=fingerprint(cfg, params.seed, files=(prepared / "train.npz",)),
        paths=TrainPaths.for_model("gan", model_path),
        strategy=params.training.strategy,
        on_epoch_end=sample_grid(params, num_classes),
    )


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

"""Stage train@vae: the variational autoencoder, trained on the negative ELBO.

    python stages/train_vae.py data/prepared models/vae.keras

Logs samples from fixed codes and reconstructions of fixed valid images after every
epoch (plots/train/vae/images).
"""

import math
import sys
from pathlib import Path

import numpy as np

from repgen import config
from repgen.data import splits
from repgen.data.prepared import class_names, load_split
from repgen.errors import run_main
from repgen.io import save_png, to_uint8
from repgen.models.vae import build_vae, decode_means, to_input
from repgen.plots import image_grid
from repgen.training import TrainPaths, fingerprint, fit, shuffled_batches


def epoch_images(params, valid_images: np.ndarray, valid_labels: np.ndarray):
    """on_epoch_end: samples from the same codes, and the same images reconstructed."""
    rng = np.random.default_rng(params.seed)
    z = rng.standard_normal((64, params.vae.latent_dim)).astype(np.float32)
    labels = np.arange(64) // 8 % 10 if params.vae.conditional else None  # a class per row
    shown, shown_labels = to_input(valid_images[:32]), valid_labels[:32]

    def log_images(model, epoch, live):
        folder = Path(live.plots_dir) / "images"
        samples = image_grid(decode_means(model, z, labels), 8)
        recon = model(shown, shown_labels if model.conditional else None).numpy()[..., 0]
        pairs = np.stack([shown[..., 0], recon], axis=1).reshape(-1, 28, 28)  # (2 * N, 28, 28)
        save_png(folder / "samples.png", to_uint8(samples), synthetic_from="vae")
        save_png(
            folder / "reconstructions.png",
            to_uint8(image_grid(pairs, 8)),
            synthetic_from="vae",
            description="pairs: test image, then its reconstruction",
        )

    return log_images


def main(argv: list[str]) -> None:
    prepared, model_path = Path(argv[0]), Path(argv[1])
    params = config.load()
    cfg = params.vae

    images, labels = splits.limit(*load_split(prepared, "train"), cfg.train_limit)
    valid_images, valid_labels = load_split(prepared, "valid")
    train = (to_input(images), labels.astype(np.int32))
    valid = (to_input(valid_images), valid_labels.astype(np.int32))
    steps = math.ceil(len(images) / cfg.batch_size)

    fit(
        "vae",
        build=lambda: build_vae(
            latent_dim=cfg.latent_dim,
            width=cfg.width,
            num_classes=len(class_names(prepared)),
            conditional=cfg.conditional,
            beta=cfg.beta,
            warmup_steps=round(cfg.warmup_epochs * steps),
            seed=params.seed,
            learning_rate=cfg.learning_rate,
        ),
        batches=lambda epoch: shuffled_batches(
            train, cfg.batch_size, seed=params.seed, epoch=epoch
        ),
        epochs=cfg.epochs,
        seed=params.seed,
        fingerprint=fingerprint(cfg, params.seed, files=(prepared / "train.npz",)),
        paths=TrainPaths.for_model("vae", model_path),
        valid=shuffled_batches(valid, 500, seed=0, epoch=0),
        strategy=params.training.strategy,
        on_epoch_end=epoch_images(params, valid_images, valid_labels),
    )


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

"""Stage train@flow: the RealNVP normalizing flow, trained on the exact negative
log-likelihood of uniformly dequantized images (in bits per dimension).

    python stages/train_flow.py data/prepared models/flow.keras

Logs samples from fixed codes at the configured temperature after every epoch
(plots/train/flow/images).
"""

import math
import sys
from pathlib import Path

from repgen import config
from repgen.data import splits
from repgen.data.prepared import load_split
from repgen.errors import run_main
from repgen.io import save_png, to_uint8
from repgen.models.flow import build_flow, sample, to_input
from repgen.plots import image_grid
from repgen.training import TrainPaths, fingerprint, fit, shuffled_batches

VALID_IMAGES = 2000  # the per-epoch validation figure; evaluate_likelihood uses the test set


def epoch_samples(params):
    """on_epoch_end: 64 samples from the same codes every epoch."""

    def log_samples(model, epoch, live):
        images = sample(model, 64, seed=params.seed, temperature=params.flow.temperature)
        save_png(
            Path(live.plots_dir) / "images" / "samples.png",
            to_uint8(image_grid(images, 8)),
            synthetic_from="flow",
        )

    return log_samples


def main(argv: list[str]) -> None:
    prepared, model_path = Path(argv[0]), Path(argv[1])
    params = config.load()
    cfg = params.flow

    images, labels = splits.limit(*load_split(prepared, "train"), cfg.train_limit)
    train = (to_input(images),)
    valid = (to_input(load_split(prepared, "valid")[0][:VALID_IMAGES]),)

    fit(
        "flow",
        build=lambda: build_flow(
            scales=cfg.scales,
            couplings=cfg.couplings,
            hidden=cfg.hidden,
            depth=cfg.depth,
            alpha=cfg.alpha,
            seed=params.seed,
            learning_rate=cfg.learning_rate,
            decay_steps=math.ceil(len(images) / cfg.batch_size) * cfg.epochs,
            init_images=images[:10_000],
        ),
        batches=lambda epoch: shuffled_batches(
            train, cfg.batch_size, seed=params.seed, epoch=epoch
        ),
        epochs=cfg.epochs,
        seed=params.seed,
        fingerprint=fingerprint(cfg, params.seed, files=(prepared / "train.npz",)),
        paths=TrainPaths.for_model("flow", model_path),
        valid=shuffled_batches(valid, 500, seed=0, epoch=0),
        strategy=params.training.strategy,
        on_epoch_end=epoch_samples(params),
    )


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

"""Stage train@superres: the super-resolution generator on the content (pixel MSE) loss.

    python stages/train_superres.py data/prepared models/superres.keras [data/corrupted]

Reads data/corrupted/lowres_x<superres.factor>.npz; stage train_superres_gan fine-tunes
the result adversarially.
"""

import sys
from pathlib import Path

from repgen import config
from repgen.errors import run_main
from repgen.models.superres import build_superres, load_pairs
from repgen.training import TrainPaths, fingerprint, fit, shuffled_batches


def main(argv: list[str]) -> None:
    prepared, model_path = Path(argv[0]), Path(argv[1])
    corrupted = Path(argv[2]) if len(argv) > 2 else Path("data/corrupted")
    params = config.load()
    cfg = params.superres

    train = load_pairs(prepared, corrupted, cfg.factor, "train", cfg.train_limit)
    valid = load_pairs(prepared, corrupted, cfg.factor, "valid", 1000)

    fit(
        "superres",
        build=lambda: build_superres(cfg, adversarial=False),
        batches=lambda epoch: shuffled_batches(
            train, cfg.batch_size, seed=params.seed, epoch=epoch
        ),
        epochs=cfg.epochs,
        seed=params.seed,
        fingerprint=fingerprint(
            cfg,
            params.seed,
            files=(prepared / "train.npz", corrupted / f"lowres_x{cfg.factor}.npz"),
        ),
        paths=TrainPaths.for_model("superres", model_path),
        valid=shuffled_batches(valid, 500, seed=0, epoch=0),
        strategy=params.training.strategy,
    )


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

"""Stage train_superres_gan: adversarial fine-tuning of the content-loss generator (SRGAN).

    python stages/train_superres_gan.py data/prepared data/corrupted models/superres.keras \
        models/superres_gan.keras
"""

import sys
from pathlib import Path

from repgen import config
from repgen.errors import run_main
from repgen.models.superres import build_superres, load_pairs
from repgen.training import TrainPaths, fingerprint, fit, load_model, shuffled_batches


def main(argv: list[str]) -> None:
    prepared, corrupted = Path(argv[0]), Path(argv[1])
    initial_path, model_path = Path(argv[2]), Path(argv[3])
    params = config.load()
    cfg = params.superres

    train = load_pairs(prepared, corrupted, cfg.factor, "train", cfg.train_limit)
    valid = load_pairs(prepared, corrupted, cfg.factor, "valid", 1000)
    initial = load_model(initial_path)

    fit(
        "superres_gan",
        build=lambda: build_superres(cfg, adversarial=True, initial=initial),
        batches=lambda epoch: shuffled_batches(
            train, cfg.batch_size, seed=params.seed + 1, epoch=epoch, drop_remainder=True
        ),
        epochs=cfg.gan_epochs,
        seed=params.seed,
        fingerprint=fingerprint(
            cfg,
            params.seed,
            files=(prepared / "train.npz", corrupted / f"lowres_x{cfg.factor}.npz", initial_path),
        ),
        paths=TrainPaths.for_model("superres_gan", model_path),
        valid=shuffled_batches(valid, 500, seed=0, epoch=0),
        strategy=params.training.strategy,
    )


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

"""Stage train@classifier: the domain classifier that the feature-based metrics use.

python stages/train_classifier.py data/prepared models/classifier.keras
"""

import math
import sys
from pathlib import Path

from repgen import config
from repgen.data.prepared import class_names, load_split
from repgen.errors import run_main
from repgen.models.classifier import build_classifier, to_input
from repgen.training import TrainPaths, fingerprint, fit, shuffled_batches


def main(argv: list[str]) -> None:
    prepared, model_path = Path(argv[0]), Path(argv[1])
    params = config.load()
    cfg = params.classifier

    train_x, train_y = load_split(prepared, "train")
    valid = (to_input(load_split(prepared, "valid")[0]), load_split(prepared, "valid")[1])
    train = (to_input(train_x), train_y)
    steps = math.ceil(len(train_y) / cfg.batch_size)

    fit(
        "classifier",
        build=lambda: build_classifier(
            num_classes=len(class_names(prepared)),
            width=cfg.width,
            feature_dim=cfg.feature_dim,
            dropout=cfg.dropout,
            augment=cfg.augment,
            learning_rate=cfg.learning_rate,
            decay_steps=steps * cfg.epochs,
        ),
        batches=lambda epoch: shuffled_batches(
            train, cfg.batch_size, seed=params.seed, epoch=epoch
        ),
        epochs=cfg.epochs,
        seed=params.seed,
        fingerprint=fingerprint(cfg, params.seed, files=(prepared / "train.npz",)),
        paths=TrainPaths.for_model("classifier", model_path),
        valid=shuffled_batches(valid, 512, seed=0, epoch=0),
        strategy=params.training.strategy,
    )


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

"""Stage train@diffusion: the DDPM-trained U-Net and its pictures.

    python stages/train_diffusion.py data/prepared models/diffusion.keras

Writes models/diffusion.keras; metrics/train/diffusion.json (the harness's losses);
plots/train/diffusion/{samples_by_class,trajectory,forward}.png. The samplers' speeds are
measured where their samples are scored: evaluate_generative.
"""

import math
import sys
from pathlib import Path

from repgen import config
from repgen.data.prepared import class_names, load_split
from repgen.errors import run_main
from repgen.models.diffusion import from_params, save_pictures, to_model_input
from repgen.training import TrainPaths, fingerprint, fit, shuffled_batches


def main(argv: list[str]) -> None:
    prepared, model_path = Path(argv[0]), Path(argv[1])
    params = config.load()
    cfg = params.diffusion
    names = class_names(prepared)
    paths = TrainPaths.for_model("diffusion", model_path)

    train_x, train_y = load_split(prepared, "train")
    train = (to_model_input(train_x[: cfg.train_limit]), train_y[: cfg.train_limit].astype("int32"))
    valid_x, valid_y = load_split(prepared, "valid")
    valid = (to_model_input(valid_x[:1000]), valid_y[:1000].astype("int32"))
    steps = math.ceil(len(train[1]) / cfg.batch_size) * cfg.epochs

    model = fit(
        "diffusion",
        build=lambda: from_params(cfg, num_classes=len(names), decay_steps=steps),
        batches=lambda epoch: shuffled_batches(
            train, cfg.batch_size, seed=params.seed, epoch=epoch
        ),
        epochs=cfg.epochs,
        seed=params.seed,
        fingerprint=fingerprint(cfg, params.seed, files=(prepared / "train.npz",)),
        paths=paths,
        valid=shuffled_batches(valid, 500, seed=0, epoch=0),
        strategy=params.training.strategy,
    )
    default = cfg.samplers[0]  # the pictures use the default sampler's step count (DDIM)
    save_pictures(
        model,
        names,
        valid_x[0],
        paths.live,
        steps=default.steps or cfg.timesteps,
        guidance=cfg.guidance,
        seed=params.seed,
    )


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

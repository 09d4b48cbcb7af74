"""Stage train@denoising_autoencoder: the denoising autoencoder (a small U-Net).

    python stages/train_denoising_autoencoder.py data/prepared \
        models/denoising_autoencoder.keras [data/corrupted]

Fresh corruption every batch; validated on the fixed corruptions of data/corrupted/valid.npz.
Reconstructions of fixed validation images: dvclive images each epoch, and
plots/train/denoising_autoencoder/reconstructions.png after training.
"""

import sys
from pathlib import Path

from repgen import config
from repgen.errors import run_main
from repgen.models.autoencoder import fit_autoencoder


def main(argv: list[str]) -> None:
    prepared, model_path = Path(argv[0]), Path(argv[1])
    corrupted = Path(argv[2]) if len(argv) > 2 else Path("data/corrupted")
    fit_autoencoder("denoising_autoencoder", config.load(), prepared, model_path, corrupted)


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

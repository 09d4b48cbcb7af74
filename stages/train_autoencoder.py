"""Stage train@autoencoder: the chapter's dense autoencoder.

    python stages/train_autoencoder.py data/prepared models/autoencoder.keras

Reconstructions of fixed validation images: dvclive images each epoch, and
plots/train/autoencoder/reconstructions.png after training.
"""

import sys
from pathlib import Path

from repgen import config
from repgen.errors import run_main
from repgen.models.autoencoder import fit_autoencoder


def main(argv: list[str]) -> None:
    fit_autoencoder("autoencoder", config.load(), Path(argv[0]), Path(argv[1]))


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

"""Stage prepare: the fixed train/valid/test split, with optional size limits.

python stages/prepare.py data/raw data/prepared
"""

import logging
import sys
from pathlib import Path

from repgen import config
from repgen.data.preparation import make_splits
from repgen.errors import run_main
from repgen.io import read_json, save_npz, write_json

log = logging.getLogger("prepare")


def main(argv: list[str]) -> None:
    raw, out = Path(argv[0]), Path(argv[1])
    params = config.load().data
    splits = make_splits(raw, params)
    for name, (images, labels) in splits.items():
        save_npz(out / f"{name}.npz", images=images, labels=labels)
        log.info("%s: %d images, %d classes", name, len(labels), len(set(labels.tolist())))
    meta = read_json(raw / "meta.json")
    meta["sizes"] = {name: len(labels) for name, (_, labels) in splits.items()}
    write_json(out / "meta.json", meta)


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

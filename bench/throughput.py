"""Per model: training throughput of its last training run, and sampling throughput measured now.

    python bench/throughput.py                 # after `dvc repro`, in the project folder
    python bench/throughput.py --samples 1000

Training: epochs x training images / seconds, from metrics/train/<model>.json, so it counts
what an epoch costs in the pipeline, validation and per-epoch sample images included.
Sampling: each generator of the registry draws --samples images once to warm up (tracing,
kernels) and once timed; a generator whose model is not trained yet is skipped.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from repgen import config
from repgen.data.prepared import class_names, load_split
from repgen.generators import generators
from repgen.training import load_model

PREPARED = Path("data/prepared")


def training_throughput() -> None:
    n_train = len(load_split(PREPARED, "train")[1])
    print(
        f"{'model':24} {'epochs':>6} {'seconds':>9} {'images/s':>9}   ({n_train} training images)"
    )
    for path in sorted(Path("metrics/train").glob("*.json")):
        summary = json.loads(path.read_text())
        rate = summary["epochs"] * n_train / max(summary["seconds"], 1e-9)
        print(f"{path.stem:24} {summary['epochs']:6d} {summary['seconds']:9.1f} {rate:9.0f}")


def sampling_throughput(n: int) -> None:
    num_classes = len(class_names(PREPARED))
    print(f"\n{'generator':24} {'samples':>7} {'seconds':>9} {'samples/s':>9}")
    for gen in generators(config.load()):
        path = Path("models") / f"{gen.model}.keras"
        if not path.is_file():
            print(f"{gen.name:24} skipped: {path} not trained yet")
            continue
        model = load_model(path)
        labels = np.arange(n) % num_classes if gen.conditional else None
        gen.sample(model, n, labels, 0)  # warm-up
        start = time.perf_counter()
        gen.sample(model, n, labels, 1)
        seconds = time.perf_counter() - start
        print(f"{gen.name:24} {n:7d} {seconds:9.2f} {n / seconds:9.1f}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=500, help="images per generator")
    args = parser.parse_args(argv)
    training_throughput()
    sampling_throughput(args.samples)


if __name__ == "__main__":
    main(sys.argv[1:])

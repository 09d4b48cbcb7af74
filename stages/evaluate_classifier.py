"""Stage evaluate_classifier: accuracy of the domain classifier on the valid and test sets.

python stages/evaluate_classifier.py data/prepared models/classifier.keras metrics/classifier.json
"""

import sys
from pathlib import Path

import numpy as np

from repgen.data.prepared import load_split
from repgen.errors import run_main
from repgen.io import write_json
from repgen.models.classifier import to_input
from repgen.training import load_model


def main(argv: list[str]) -> None:
    prepared, model_path, metrics_path = Path(argv[0]), Path(argv[1]), Path(argv[2])
    model = load_model(model_path)
    results = {}
    for split in ("valid", "test"):
        images, labels = load_split(prepared, split)
        predicted = model.predict(to_input(images), batch_size=512, verbose=0).argmax(axis=1)
        results[split] = {"accuracy": round(float(np.mean(predicted == labels)), 4)}
    write_json(metrics_path, results)


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

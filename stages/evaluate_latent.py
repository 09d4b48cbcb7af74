"""Stage evaluate_latent: the codes of every registered encoder (repgen.encoders).

    python stages/evaluate_latent.py data/prepared models metrics/latent.json plots/latent

For each encoder: `<name>.trustworthiness` (k = neighbors, pixels -> codes, on the t-SNE
points), `.knn_accuracy` and `.linear_probe_accuracy` (fit on `fit_size` training codes,
scored on the whole test set) in metrics/latent.json, and plots/latent/<name>.png: a t-SNE
scatter of the first `tsne_points` test codes, coloured by class.
"""

import logging
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from repgen import config, encoders
from repgen.data.prepared import class_names, load_split
from repgen.data.splits import limit
from repgen.errors import run_main
from repgen.io import save_png, write_json
from repgen.metrics import latent
from repgen.plots import figure_to_array
from repgen.training import load_model

log = logging.getLogger("evaluate_latent")


def scatter(points: np.ndarray, labels: np.ndarray, names: list[str], path: Path, title: str):
    """Save a t-SNE scatter (N, 2) coloured by class, with a legend of class names."""
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    for label, name in enumerate(names):
        chosen = labels == label
        ax.scatter(
            points[chosen, 0], points[chosen, 1], s=4, label=name, color=plt.cm.tab10(label % 10)
        )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    ax.legend(markerscale=3, fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    save_png(path, figure_to_array(fig))


def scores(train_codes, train_y, shown_x, test_codes, test_y, k: int) -> dict:
    """The numbers of one encoder; trustworthiness on the shown (t-SNE) test images only."""
    shown_codes = test_codes[: len(shown_x)]
    return {
        "code_dim": int(test_codes.shape[1]),
        "trustworthiness": round(latent.trustworthiness(shown_x, shown_codes, k), 4),
        "knn_accuracy": round(latent.knn_accuracy(train_codes, train_y, test_codes, test_y, k), 4),
        "linear_probe_accuracy": round(
            latent.linear_probe_accuracy(train_codes, train_y, test_codes, test_y), 4
        ),
    }


def main(argv: list[str]) -> None:
    prepared, models = Path(argv[0]), Path(argv[1])
    metrics_path, pictures = Path(argv[2]), Path(argv[3])
    params = config.load()
    cfg = params.evaluate_latent

    train_x, train_y = limit(*load_split(prepared, "train"), cfg.fit_size)
    test_x, test_y = load_split(prepared, "test")
    shown = min(cfg.tsne_points, len(test_x))
    names = class_names(prepared)
    results = {}
    for enc in encoders.encoders(params):
        start = time.perf_counter()
        model = load_model(models / f"{enc.model}.keras")
        train_codes, test_codes = enc.encode(model, train_x), enc.encode(model, test_x)
        k = min(cfg.neighbors, len(train_y) - 1, shown // 2 - 1)
        results[enc.name] = scores(train_codes, train_y, test_x[:shown], test_codes, test_y, k)
        points = latent.tsne(test_codes[:shown], seed=params.seed)
        scatter(
            points,
            test_y[:shown],
            names,
            pictures / f"{enc.name}.png",
            f"t-SNE of {shown} test codes: {enc.name} ({test_codes.shape[1]} dims)",
        )
        log.info("%s: %s (%.1fs)", enc.name, results[enc.name], time.perf_counter() - start)
    write_json(metrics_path, results)


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

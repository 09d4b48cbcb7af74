"""Stage downstream: few real images per class, alone and with synthetic ones added.

    python stages/downstream.py data/prepared data/samples metrics/downstream.json \
        plots/downstream

Reads the samples evaluate_generative wrote; those with labels (conditional generators)
join the experiment. See repgen.downstream for the settings and the protocol.
"""

import sys
from pathlib import Path

from repgen import config
from repgen.data.prepared import class_names, load_split
from repgen.downstream import accuracy_chart, run_settings, settings, train_and_test
from repgen.errors import RepgenError, run_main
from repgen.io import load_npz, write_json


def _conditional_samples(folder: Path, wanted: tuple[str, ...] | None) -> dict:
    """name -> (images, labels) of the wanted sample files (None: every one with labels)."""
    found = {}
    for path in sorted(folder.glob("*.npz")):
        arrays = load_npz(path)
        if "labels" in arrays and (wanted is None or path.stem in wanted):
            found[path.stem] = (arrays["images"], arrays["labels"].astype("int64"))
    missing = [name for name in wanted or () if name not in found]
    if missing:
        raise RepgenError(
            f"downstream.generators: no class-conditional samples of "
            f"{missing[0]!r} in {folder}; available: {', '.join(found) or 'none'}"
        )
    return found


def main(argv: list[str]) -> None:
    prepared, samples = Path(argv[0]), Path(argv[1])
    metrics_path, plots = Path(argv[2]), Path(argv[3])
    params = config.load()
    cfg = params.downstream

    train, test = load_split(prepared, "train"), load_split(prepared, "test")
    pools = settings(
        train,
        _conditional_samples(samples, cfg.generators),
        real_per_class=cfg.real_per_class,
        synthetic_per_class=cfg.synthetic_per_class,
        real_share=cfg.real_share,
    )

    def train_one(pool, seed: int, name: str) -> float:
        whole_pool = name == "real_all" or name.startswith("synthetic_only_")
        steps = cfg.full_pool_steps if whole_pool else cfg.steps
        return train_and_test(
            pool,
            test,
            seed=seed,
            steps=steps,
            batch_size=cfg.batch_size,
            classifier_cfg=params.classifier,
            num_classes=len(class_names(prepared)),
        )

    results = run_settings(pools, [params.seed + i for i in range(cfg.seeds)], train_one)
    write_json(metrics_path, results)
    write_json(
        plots / "accuracy.json", [{"setting": name, **values} for name, values in results.items()]
    )
    accuracy_chart(results, plots / "accuracy.png")


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

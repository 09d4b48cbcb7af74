"""Stage evaluate_generative: every generator of the registry scored against the test set.

    python stages/evaluate_generative.py data/prepared models/classifier.keras models \
        metrics/generative.json plots/generative data/samples

Beside them, `real_train` (the floor) and uniform `noise` (the ceiling). Writes samples (with
labels when conditional) to data/samples/<name>.npz for downstream, a sheet per generator and
one side-by-side figure. A sampler of a model that has a sampler with fewer samples also gets
`<name>.matched`: the scores of its first samples, as many, to compare at equal n.
"""

import shutil
import sys
from functools import partial
from pathlib import Path

from repgen import config, generative
from repgen.data.prepared import class_names, load_split
from repgen.errors import run_main
from repgen.generators import generators
from repgen.io import save_npz, write_json
from repgen.metrics.generative import classifier_features, scores
from repgen.plots import labelled_rows
from repgen.training import load_model


def main(argv: list[str]) -> None:
    prepared, classifier_path, models = Path(argv[0]), Path(argv[1]), Path(argv[2])
    metrics_path, plots, samples = Path(argv[3]), Path(argv[4]), Path(argv[5])
    params = config.load()
    cfg = params.evaluate_generative
    registry = generators(params)
    counts = generative.sample_counts(cfg, [gen.name for gen in registry])
    for folder in (plots, samples):  # this stage's outputs alone: no stale generator left
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    classifier = load_model(classifier_path)
    names = class_names(prepared)
    test_x, test_y = load_split(prepared, "test")
    score = partial(
        scores,
        classifier_features(classifier, test_x),
        k=cfg.nearest_k,
        kid_blocks=cfg.kid_blocks,
        kid_block_size=cfg.kid_block_size,
        seed=params.seed,
    )
    results = {
        name: score(classifier_features(classifier, images))
        for name, images in generative.baselines(prepared, cfg.n_samples, params.seed).items()
    }
    rows_of = partial(generative.class_rows, num_classes=len(names), per_class=cfg.grid_per_class)
    panels = {"real (test)": rows_of(test_x, test_y)}

    features = {}
    for gen in registry:
        images, labels, seconds = generative.draw_samples(
            gen,
            load_model(models / f"{gen.model}.keras"),
            n=counts[gen.name],
            num_classes=len(names),
            seed=params.seed,
            batch=cfg.sample_batch,
        )
        features[gen.name] = classifier_features(classifier, images)
        results[gen.name] = {
            **score(features[gen.name]),
            "samples_per_second": round(len(images) / seconds, 2),
            "n_samples": len(images),
        }
        extra = {} if labels is None else {"labels": labels}
        save_npz(samples / f"{gen.name}.npz", images=images, **extra)
        rows = rows_of(images, labels)
        labelled_rows(
            rows,
            names if gen.conditional else [""] * len(rows),
            plots / "samples" / f"{gen.name}.png",
            title=f"{gen.name} (synthetic)",
            synthetic_from=gen.name,
        )
        panels[f"{gen.name}\nFID {results[gen.name]['fid']:.3g}"] = rows

    write_json(
        plots / "scores.json", [{"generator": name, **values} for name, values in results.items()]
    )
    for name, n in generative.matched_counts(registry, counts).items():
        results[name]["matched"] = {"n_samples": n, **score(features[name].first(n))}
    write_json(metrics_path, results)
    generative.side_by_side(
        panels,
        plots / "samples" / "all.png",
        synthetic_from=", ".join(gen.name for gen in registry) or None,
    )


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

"""The downstream experiment: does synthetic data help a classifier that has few real images?

    pools = settings(train, synthetic, real_per_class=(10, 100), synthetic_per_class=500)
    results = run_settings(pools, test, seeds=[42, 43, 44], train=partial(train_and_test, ...))

The settings, each trained from scratch with the domain classifier's architecture:
- `real_<n>`: n real training images per class;
- `real_<n>_plus_<gen>`: the same n real ones plus `synthetic_per_class` samples per class
  from a conditional generator; the real images are repeated until they make `real_share`
  of the pool (half, by default), so each batch holds real and synthetic images alike
  instead of 20 synthetic images for every real one;
- `synthetic_only_<gen>`: every sample of the generator and no real image: the
  classification accuracy score (Ravuri & Vinyals 2019);
- `real_all`: every real training image, the upper bound.

Seed s picks the few-shot subset, the synthetic subset and the initial weights, so `real_n`
and `real_n_plus_<gen>` see the same real images under one seed (a paired comparison).
Protocol caveat: the generators were trained on every labelled training image, so the
few-shot classifier gets, through them, information from labels it never sees itself.
"""

import logging
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from repgen.errors import RepgenError
from repgen.io import save_png
from repgen.models.classifier import build_classifier, to_input
from repgen.plots import figure_to_array
from repgen.training import seed_everything

log = logging.getLogger(__name__)

Pool = tuple[np.ndarray, np.ndarray]  # uint8 images (N, 28, 28), int64 labels (N,)
Setting = Callable[[int], Pool]  # seed -> the training pool
_SYNTHETIC_HINT = "lower downstream.synthetic_per_class or raise evaluate_generative.n_samples"


def per_class(pool: Pool, n: int, seed: int, *, source: str, hint: str) -> Pool:
    """n images of each class of `pool`, drawn without replacement with `seed`."""
    images, labels = pool
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        where = np.flatnonzero(labels == label)
        if len(where) < n:
            raise RepgenError(
                f"{source}: class {label} has {len(where)} images, {n} needed; {hint}"
            )
        chosen.append(rng.choice(where, n, replace=False))
    chosen = np.sort(np.concatenate(chosen))
    return images[chosen], labels[chosen]


def settings(
    train: Pool,
    synthetic: dict[str, Pool],
    *,
    real_per_class: tuple[int, ...],
    synthetic_per_class: int,
    real_share: float | None = None,
) -> dict[str, Setting]:
    """Every setting of the experiment by name, each a function of the seed."""

    def real(n: int) -> Setting:
        return lambda seed: per_class(
            train, n, seed, source="training set", hint="lower downstream.real_per_class"
        )

    def plus(n: int, name: str) -> Setting:
        def pool(seed: int) -> Pool:
            few = real(n)(seed)
            extra = per_class(
                synthetic[name],
                synthetic_per_class,
                seed,
                source=f"samples of {name}",
                hint=_SYNTHETIC_HINT,
            )
            if real_share is not None:
                copies = max(1, round(real_share / (1 - real_share) * len(extra[1]) / len(few[1])))
                few = (np.tile(few[0], (copies, 1, 1)), np.tile(few[1], copies))
            return np.concatenate([few[0], extra[0]]), np.concatenate([few[1], extra[1]])

        return pool

    found: dict[str, Setting] = {}
    for n in real_per_class:
        found[f"real_{n}"] = real(n)
        for name in synthetic:
            found[f"real_{n}_plus_{name}"] = plus(n, name)
    for name in synthetic:
        found[f"synthetic_only_{name}"] = lambda seed, name=name: synthetic[name]
    found["real_all"] = lambda seed: train
    return found


def train_and_test(
    pool: Pool,
    test: Pool,
    *,
    seed: int,
    steps: int,
    batch_size: int,
    classifier_cfg,
    num_classes: int,
) -> float:
    """Test accuracy of the classifier's architecture trained `steps` steps on `pool`."""
    seed_everything(seed)
    cfg = classifier_cfg
    model = build_classifier(
        num_classes=num_classes,
        width=cfg.width,
        feature_dim=cfg.feature_dim,
        dropout=cfg.dropout,
        augment=cfg.augment,
        learning_rate=cfg.learning_rate,
        decay_steps=steps,
    )
    # A few hundred steps leave batch norm's moving statistics (momentum 0.99) near their
    # initial values, and the test-time network near chance; let them follow faster.
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    images, labels = pool
    data = (
        tf.data.Dataset.from_tensor_slices((to_input(images), labels))
        .shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(batch_size)
    )
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    probabilities = model.predict(to_input(test[0]), batch_size=1000, verbose=0)
    return float(np.mean(probabilities.argmax(axis=1) == test[1]))


def run_settings(
    pools: dict[str, Setting], seeds: list[int], train: Callable[[Pool, int, str], float]
) -> dict[str, dict[str, float]]:
    """accuracy_mean and accuracy_std (sample std, ddof 1; 0 for one seed) of every setting."""
    results = {}
    for name, pool in pools.items():
        accuracies = []
        for seed in seeds:
            start = time.perf_counter()
            accuracies.append(train(pool(seed), seed, name))
            log.info(
                "%s, seed %d: test accuracy %.4f (%.1fs)",
                name,
                seed,
                accuracies[-1],
                time.perf_counter() - start,
            )
        results[name] = {
            "accuracy_mean": round(float(np.mean(accuracies)), 4),
            "accuracy_std": round(float(np.std(accuracies, ddof=1)) if len(seeds) > 1 else 0.0, 4),
            "seeds": len(seeds),
        }
    return results


def accuracy_chart(results: dict[str, dict[str, float]], path) -> None:
    """Horizontal bars of mean test accuracy with one-std error bars, one per setting."""
    names = list(results)
    means = [results[n]["accuracy_mean"] for n in names]
    stds = [results[n]["accuracy_std"] for n in names]
    colours = [
        "tab:green" if "_plus_" in n else "tab:orange" if n.startswith("synthetic") else "tab:blue"
        for n in names
    ]
    fig = Figure(figsize=(7, 0.4 * len(names) + 1.2))
    ax = fig.subplots()
    ax.barh(names, means, xerr=stds, color=colours, capsize=3)
    for y, (mean, std) in enumerate(zip(means, stds, strict=True)):
        ax.text(mean + std + 0.01, y, f"{mean:.3f}", va="center", fontsize=8)
    ax.set_xlim(0, 1.1)
    ax.invert_yaxis()
    ax.set_xlabel(
        f"test accuracy (mean, error bar = 1 std over {results[names[0]]['seeds']} seeds)"
    )
    ax.set_title("Downstream classifier: real, real + synthetic, synthetic only")
    fig.tight_layout()
    save_png(path, figure_to_array(fig))

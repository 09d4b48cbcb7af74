"""The one training harness every model uses.

    model = fit(
        "classifier",
        build=lambda: make_compiled_model(),       # called inside the distribution scope
        batches=lambda epoch: dataset_for(epoch),  # the training data of one epoch
        epochs=10, seed=42, fingerprint=config_json,
        valid=valid_dataset,
    )

What it guarantees:
- seeded and deterministic: the same params give the same weights on the same machine;
- a checkpoint after every epoch (weights, optimizer and random-generator state, history);
  a rerun with the same fingerprint resumes where the last one stopped and ends with the
  same weights as a run that was never interrupted;
- a non-finite loss stops training with an error naming the epoch and batch;
- per-epoch history through dvclive (plots/train/<name>) and a summary in
  metrics/train/<name>.json; one progress line per epoch on stderr.

A model with optimizers of its own (a GAN's two) builds them in `build_optimizers()`, so
that their state exists before a checkpoint is restored into it. Models draw their random
numbers from a keras.random.SeedGenerator attribute, so its state is checkpointed too.
"""

import hashlib
import json
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from dvclive import Live

from repgen.errors import RepgenError
from repgen.io import atomic_path, load_npz, sha256_of, write_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainPaths:
    """Where one model's training writes, by the project's conventions."""

    model: Path  # the trained model, Keras format (a DVC output)
    checkpoints: Path  # resume state; not a DVC output, so it survives an interrupted run
    live: Path  # dvclive history and images
    metrics: Path  # final losses, epochs, seconds

    @classmethod
    def for_model(cls, name: str, model_path: str | os.PathLike, root: str | os.PathLike = "."):
        root = Path(root)
        return cls(
            model=Path(model_path),
            checkpoints=root / "models" / "checkpoints" / name,
            live=root / "plots" / "train" / name,
            metrics=root / "metrics" / "train" / f"{name}.json",
        )


def fingerprint(*parts, files: tuple[str | os.PathLike, ...] = ()) -> str:
    """A hash of everything that shapes a training run: params (pydantic or JSON-able) and
    the contents of its input files. A checkpoint is resumed only under the same one."""
    digest = hashlib.sha256()
    for part in parts:
        part = part.model_dump(mode="json") if hasattr(part, "model_dump") else part
        digest.update(json.dumps(part, sort_keys=True).encode())
    for path in files:
        digest.update(sha256_of(Path(path)).encode())
    return digest.hexdigest()


def seed_everything(seed: int) -> None:
    """Python, NumPy and TensorFlow seeds, and deterministic TensorFlow ops."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def distribution_strategy(kind: str = "auto") -> tf.distribute.Strategy:
    """The tf.distribute strategy named by the `training.strategy` param."""
    if kind == "auto":
        gpus = tf.config.list_logical_devices("GPU")
        kind = "mirrored" if len(gpus) > 1 else "default"
    if kind == "default":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        # Every GPU; without GPUs, every logical CPU device (one, unless the CPU was split
        # with tf.config.set_logical_device_configuration, as the scale-out test does).
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    if kind == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise RepgenError(
                "training.strategy = 'multi_worker' needs the TF_CONFIG environment "
                "variable describing the cluster"
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise RepgenError(
        f"training.strategy = {kind!r}: allowed: auto, default, mirrored, multi_worker"
    )


def shuffled_batches(
    arrays: tuple[np.ndarray, ...],
    batch_size: int,
    *,
    seed: int,
    epoch: int,
    transform: Callable | None = None,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """One epoch of shuffled batches; the order depends only on (seed, epoch), so a resumed
    run sees the same batches as an uninterrupted one."""
    data = tf.data.Dataset.from_tensor_slices(arrays)
    data = data.shuffle(len(arrays[0]), seed=seed * 100_003 + epoch, reshuffle_each_iteration=False)
    data = data.batch(batch_size, drop_remainder=drop_remainder)
    if transform is not None:
        data = data.map(transform, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return data.prefetch(tf.data.AUTOTUNE)


def _optimizers(model: keras.Model) -> list[keras.optimizers.Optimizer]:
    found = [model.optimizer] if getattr(model, "optimizer", None) is not None else []
    for name in sorted(vars(model)):
        value = getattr(model, name, None)
        if isinstance(value, keras.optimizers.Optimizer) and all(value is not o for o in found):
            found.append(value)
    return found


def _state_variables(model: keras.Model) -> list:
    """Every variable a checkpoint holds, in a fixed order: the model's, then optimizers'."""
    if hasattr(model, "build_optimizers"):
        model.build_optimizers()
    elif getattr(model, "optimizer", None) is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    variables = list(model.variables)
    for optimizer in _optimizers(model):
        variables.extend(optimizer.variables)
    return variables


class _Checkpoint:
    """One .npz per model: all variables plus a JSON header (fingerprint, epoch, history)."""

    def __init__(self, folder: Path, fingerprint: str):
        self.path = folder / "state.npz"
        self.fingerprint = fingerprint

    def save(self, model: keras.Model, epoch: int, history: list[dict], seconds: float) -> None:
        header = {
            "fingerprint": self.fingerprint,
            "epoch": epoch,
            "history": history,
            "seconds": seconds,
        }
        arrays = {f"v{i:05d}": np.asarray(v) for i, v in enumerate(_state_variables(model))}
        with atomic_path(self.path) as tmp, open(tmp, "wb") as f:
            np.savez(f, header=np.array(json.dumps(header)), **arrays)

    def restore(self, model: keras.Model) -> dict | None:
        """Load the saved state into `model`; None when there is none for this fingerprint."""
        if not self.path.is_file():
            return None
        try:
            arrays = load_npz(self.path)
            header = json.loads(str(arrays.pop("header")))
        except (RepgenError, KeyError, json.JSONDecodeError) as err:
            log.warning("ignoring unreadable checkpoint %s (%s)", self.path, err)
            return None
        if header.get("fingerprint") != self.fingerprint:
            log.info("checkpoint %s was made with other params or data; starting afresh", self.path)
            return None
        variables = _state_variables(model)
        saved = [arrays[f"v{i:05d}"] for i in range(len(arrays))]
        if [tuple(a.shape) for a in saved] != [tuple(v.shape) for v in variables]:
            log.warning("checkpoint %s does not fit this model; starting afresh", self.path)
            return None
        for variable, value in zip(variables, saved, strict=True):
            variable.assign(value)
        return header


class _Guard(keras.callbacks.Callback):
    """Stops with a clear error as soon as any logged loss or metric is not finite."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs, f"epoch {self.epoch + 1}, batch {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs, f"the end of epoch {epoch + 1}")

    def _check(self, logs, where):
        for key, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                raise RepgenError(
                    f"{self.name}: {key} became {float(value)} at {where}; training stopped "
                    f"(the checkpoint of the last complete epoch is kept). Lower "
                    f"{self.name}.learning_rate or check the input data."
                )


def _log_epoch(live: Live, logs: dict) -> None:
    for key, value in logs.items():
        split, metric = ("valid", key[4:]) if key.startswith("val_") else ("train", key)
        live.log_metric(f"{split}/{metric}", float(value), plot=True)
    live.next_step()


def _summary(history: list[dict], seconds: float) -> dict:
    final = history[-1] if history else {}
    train = {k: v for k, v in final.items() if not k.startswith("val_")}
    valid = {k[4:]: v for k, v in final.items() if k.startswith("val_")}
    return {"epochs": len(history), "seconds": round(seconds, 1), "train": train, "valid": valid}


def fit(
    name: str,
    *,
    build: Callable[[], keras.Model],
    batches: Callable[[int], tf.data.Dataset],
    epochs: int,
    seed: int,
    fingerprint: str,
    paths: TrainPaths,
    valid: tf.data.Dataset | None = None,
    strategy: str = "auto",
    on_epoch_end: Callable[[keras.Model, int, Live], None] | None = None,
    extra_metrics: Callable[[keras.Model], dict] | None = None,
) -> keras.Model:
    """Train a model with checkpoints and resume; save it to `paths.model` and return it.

    `fingerprint` must change whenever anything that shapes training changes (params, data);
    a checkpoint with another fingerprint is ignored.
    `extra_metrics(model)` returns keys to add to metrics/train/<name>.json.
    """
    seed_everything(seed)
    with distribution_strategy(strategy).scope():
        model = build()
    if not model.built:
        raise AssertionError(f"{name}: build() must return a built model")

    checkpoint = _Checkpoint(paths.checkpoints, fingerprint)
    state = checkpoint.restore(model) or {"epoch": 0, "history": [], "seconds": 0.0}
    history, seconds = state["history"], state["seconds"]
    if state["epoch"]:
        log.info("%s: resuming after epoch %d of %d", name, state["epoch"], epochs)

    shutil.rmtree(paths.live, ignore_errors=True)
    with Live(str(paths.live), save_dvc_exp=False, dvcyaml=None, report=None) as live:
        for logs in history:  # replay the epochs an earlier run completed
            _log_epoch(live, logs)
        guard = _Guard(name)
        verbose = 1 if sys.stdout.isatty() else 0
        for epoch in range(state["epoch"], epochs):
            start = time.perf_counter()
            result = model.fit(
                batches(epoch),
                validation_data=valid,
                initial_epoch=epoch,
                epochs=epoch + 1,
                callbacks=[guard],
                verbose=verbose,
                shuffle=False,
            )
            logs = {k: float(v[-1]) for k, v in result.history.items()}
            seconds += time.perf_counter() - start
            history.append(logs)
            _log_epoch(live, logs)
            if on_epoch_end is not None:
                on_epoch_end(model, epoch, live)
            checkpoint.save(model, epoch + 1, history, seconds)
            shown = ", ".join(f"{k} {v:.4g}" for k, v in logs.items())
            took = time.perf_counter() - start
            log.info("%s epoch %d/%d: %s (%.1fs)", name, epoch + 1, epochs, shown, took)

    with atomic_path(paths.model) as tmp:
        model.save(tmp)
    summary = _summary(history, seconds)
    if extra_metrics is not None:  # keys measured on the trained model, e.g. sampling speed
        summary.update(extra_metrics(model))
    write_json(paths.metrics, summary)
    shutil.rmtree(paths.checkpoints, ignore_errors=True)
    return model


def load_model(path: str | os.PathLike) -> keras.Model:
    """Load a model saved by `fit` (Keras format, safe mode on)."""
    path = Path(path)
    if not path.is_file():
        raise RepgenError(f"{path}: model not found; run `dvc repro` to train it")
    try:
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except (ValueError, OSError) as err:
        raise RepgenError(f"{path}: not a loadable Keras model ({err})") from err

"""The downstream experiment's pieces, and the evaluate_generative -> downstream -> report
stages end to end on tiny data with a tiny, really trained generator."""

import importlib.util
import json

import keras
import numpy as np
import pytest
import yaml
from PIL import Image

from repgen.data.prepared import load_split
from repgen.downstream import per_class, run_settings, settings, train_and_test
from repgen.errors import RepgenError
from repgen.generators import Generator
from repgen.io import save_npz, write_json
from repgen.models.classifier import build_classifier, to_input
from repgen.training import TrainPaths, fit, shuffled_batches
from tests.conftest import ROOT, TINY_PARAMS, class_images, deep_merge

CLASSES = ["top", "upper", "lower", "bottom"]


def pool(n_per_class: int, seed: int = 0):
    images, labels = class_images(n_per_class, len(CLASSES), seed=seed)
    return images, labels.astype(np.int64)


def test_per_class_draws_n_of_each_class_and_depends_on_the_seed():
    images, labels = pool(10)
    x, y = per_class((images, labels), 3, seed=1, source="s", hint="h")
    np.testing.assert_array_equal(np.bincount(y), [3, 3, 3, 3])
    again = per_class((images, labels), 3, seed=1, source="s", hint="h")
    other = per_class((images, labels), 3, seed=2, source="s", hint="h")
    np.testing.assert_array_equal(x, again[0])
    assert not np.array_equal(x, other[0])
    with pytest.raises(RepgenError, match="class 0 has 10 images, 11 needed; lower it"):
        per_class((images, labels), 11, seed=1, source="s", hint="lower it")


def test_settings_names_and_the_paired_real_subset():
    train, synthetic = pool(10), {"g": pool(8, seed=1)}
    found = settings(train, synthetic, real_per_class=(2, 5), synthetic_per_class=4)
    assert list(found) == [
        "real_2",
        "real_2_plus_g",
        "real_5",
        "real_5_plus_g",
        "synthetic_only_g",
        "real_all",
    ]
    real, plus = found["real_2"](7), found["real_2_plus_g"](7)
    assert len(plus[1]) == 8 + 16
    np.testing.assert_array_equal(plus[0][:8], real[0])  # the same real images under a seed
    assert len(found["synthetic_only_g"](0)[1]) == 32 and len(found["real_all"](0)[1]) == 40
    # real_share 0.5: the 8 real images are repeated twice, as many as the 16 synthetic ones
    balanced = settings(
        train, synthetic, real_per_class=(2,), synthetic_per_class=4, real_share=0.5
    )["real_2_plus_g"](7)
    assert len(balanced[1]) == 16 + 16
    np.testing.assert_array_equal(balanced[0][8:16], real[0])
    np.testing.assert_array_equal(balanced[0][16:], plus[0][8:])  # the same synthetic ones
    with pytest.raises(RepgenError, match="samples of g.*synthetic_per_class"):
        settings(train, synthetic, real_per_class=(2,), synthetic_per_class=9)["real_2_plus_g"](0)


def test_run_settings_reports_mean_and_sample_std_over_seeds():
    accuracies = {("a", 1): 0.5, ("a", 2): 0.7, ("b", 1): 0.9, ("b", 2): 0.9}
    results = run_settings(
        {"a": lambda s: s, "b": lambda s: s}, [1, 2], lambda p, seed, name: accuracies[(name, seed)]
    )
    assert results["a"] == {"accuracy_mean": 0.6, "accuracy_std": 0.1414, "seeds": 2}
    assert results["b"]["accuracy_std"] == 0.0


def test_train_and_test_learns_an_easy_task():
    cfg = TINY_PARAMS["classifier"]
    classifier_cfg = type(
        "Cfg", (), {**cfg, "dropout": 0.0, "augment": False, "learning_rate": 5e-3}
    )
    accuracy = train_and_test(
        pool(10),
        pool(10, seed=5),
        seed=0,
        steps=40,
        batch_size=16,
        classifier_cfg=classifier_cfg,
        num_classes=4,
    )
    assert accuracy > 0.6  # chance is 0.25


# ----------------------------------------------------------------------------- end to end


def class_mean_decoder(images: np.ndarray, labels: np.ndarray) -> keras.Model:
    """A tiny generator, trained for real: label -> the class's mean image (MSE)."""
    label = keras.Input((), dtype="int32", name="label")
    x = keras.layers.Embedding(len(CLASSES), 28 * 28)(label)  # (B, 784)
    out = keras.layers.Reshape((28, 28))(x)  # (B, 28, 28)
    model = keras.Model(label, out)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    model.fit(labels, images / 255.0, epochs=150, batch_size=len(labels), verbose=0)
    return model


def sample_conditional(model, n, labels, seed):
    noise = np.random.default_rng(seed).normal(0, 0.1, (n, 28, 28))
    return np.clip(model.predict(labels, verbose=0) + noise, 0, 1)


def sample_unconditional(model, n, labels, seed):
    labels = np.random.default_rng(seed + 1000).integers(0, len(CLASSES), n)
    return sample_conditional(model, n, labels, seed)


def load_stage(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "stages" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_world(root):
    """params.yaml, data/prepared, a classifier trained through the harness (so its dvclive
    history exists), and a trained tiny generator at models/tiny.keras."""
    params = deep_merge(yaml.safe_load((ROOT / "params.yaml").read_text()), TINY_PARAMS)
    params["data"]["folder"] = str(root)  # never read: data/prepared is made here
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for split, (n, seed) in {"train": (30, 0), "valid": (5, 1), "test": (25, 2)}.items():
        images, labels = pool(n, seed)
        save_npz(root / "data" / "prepared" / f"{split}.npz", images=images, labels=labels)
    write_json(
        root / "data" / "prepared" / "meta.json",
        {
            "class_names": CLASSES,
            "dataset": "folder",
            "sizes": {"train": 120, "valid": 20, "test": 100},
        },
    )
    train = load_split(root / "data" / "prepared", "train")
    fit(
        "classifier",
        build=lambda: build_classifier(num_classes=4, width=4, feature_dim=16),
        batches=lambda epoch: shuffled_batches(
            (to_input(train[0]), train[1]), 16, seed=0, epoch=epoch
        ),
        epochs=2,
        seed=0,
        fingerprint="tiny",
        paths=TrainPaths.for_model("classifier", root / "models" / "classifier.keras", root),
    )
    class_mean_decoder(*train).save(root / "models" / "tiny.keras")


EVALUATE_ARGS = [
    "data/prepared",
    "models/classifier.keras",
    "models",
    "metrics/generative.json",
    "plots/generative",
    "data/samples",
]
DOWNSTREAM_ARGS = ["data/prepared", "data/samples", "metrics/downstream.json", "plots/downstream"]
REPORT_ARGS = ["params.yaml", "metrics", "plots", "data/prepared", "reports/index.html"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("downstream")
    registry = [
        Generator("tiny", "tiny", True, sample_conditional),
        Generator("tiny_free", "tiny", False, sample_unconditional),
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        make_world(root)
        evaluate = load_stage("evaluate_generative")
        patch.setattr(evaluate, "generators", lambda params: registry)
        evaluate.main(EVALUATE_ARGS)
        load_stage("downstream").main(DOWNSTREAM_ARGS)
        load_stage("report").main(REPORT_ARGS)
    return root


def test_generative_metrics_cover_every_generator_the_floor_and_the_ceiling(world):
    scores = json.loads((world / "metrics" / "generative.json").read_text())
    assert set(scores) == {"real_train", "noise", "tiny", "tiny_free"}
    keys = {"fid", "kid", "precision", "recall", "class_entropy_bits"}
    assert all(keys <= set(values) for values in scores.values())
    assert {"samples_per_second", "n_samples"} <= set(scores["tiny"])
    assert scores["tiny"]["n_samples"] == 100
    assert scores["real_train"]["fid"] < scores["noise"]["fid"]
    assert scores["tiny"]["fid"] < scores["noise"]["fid"]
    plot_rows = json.loads((world / "plots" / "generative" / "scores.json").read_text())
    assert sorted(row["generator"] for row in plot_rows) == sorted(scores)


def test_samples_are_saved_for_downstream_with_labels_only_when_conditional(world):
    with np.load(world / "data" / "samples" / "tiny.npz") as data:
        assert data["images"].shape == (100, 28, 28) and data["images"].dtype == np.uint8
        np.testing.assert_array_equal(np.bincount(data["labels"]), [25] * 4)
    with np.load(world / "data" / "samples" / "tiny_free.npz") as data:
        assert set(data.files) == {"images"}


def test_every_sample_picture_is_marked_synthetic(world):
    folder = world / "plots" / "generative" / "samples"
    assert {p.name for p in folder.glob("*.png")} == {"tiny.png", "tiny_free.png", "all.png"}
    for name, model in [("tiny", "tiny"), ("tiny_free", "tiny_free"), ("all", "tiny, tiny_free")]:
        with Image.open(folder / f"{name}.png") as image:
            assert image.text["Synthetic"] == "true" and image.text["Model"] == model


def test_downstream_has_every_setting_for_conditional_generators_only(world):
    results = json.loads((world / "metrics" / "downstream.json").read_text())
    assert sorted(results) == sorted(
        ["real_3", "real_3_plus_tiny", "synthetic_only_tiny", "real_all"]
    )
    for values in results.values():
        assert 0 <= values["accuracy_mean"] <= 1 and values["accuracy_std"] >= 0
        assert values["seeds"] == 2
    assert (world / "plots" / "downstream" / "accuracy.png").is_file()


def test_report_holds_the_run(world):
    page = (world / "reports" / "index.html").read_text()
    for text in [
        "metrics/generative.json",
        "metrics/downstream.json",
        "real_3_plus_tiny",
        "Model card: classifier",
        "the few-shot classifier did not",
        "synthetic, from tiny",
    ]:
        assert text in page, text
    assert 'src="plots/' not in page and '<img src="data:image/png;base64,' in page


def test_an_empty_registry_scores_the_floor_and_the_ceiling(world, monkeypatch):
    monkeypatch.chdir(world)
    evaluate = load_stage("evaluate_generative")
    monkeypatch.setattr(evaluate, "generators", lambda params: [])
    out = [
        "data/prepared",
        "models/classifier.keras",
        "models",
        "metrics/empty.json",
        "plots/empty",
        "data/empty_samples",
    ]
    evaluate.main(out)
    assert set(json.loads((world / "metrics" / "empty.json").read_text())) == {
        "real_train",
        "noise",
    }
    assert list((world / "data" / "empty_samples").iterdir()) == []
    with Image.open(world / "plots" / "empty" / "samples" / "all.png") as image:
        assert "Synthetic" not in image.text  # only real images in it
    # ... and downstream, with no sample file, has the real settings alone
    pools = settings(pool(5), {}, real_per_class=(3,), synthetic_per_class=5)
    assert list(pools) == ["real_3", "real_all"]


def test_downstream_takes_the_named_conditional_generators(tmp_path):
    images, labels = pool(3)
    save_npz(tmp_path / "cond.npz", images=images, labels=labels)
    save_npz(tmp_path / "free.npz", images=images)
    pick = load_stage("downstream")._conditional_samples
    assert list(pick(tmp_path, None)) == ["cond"]
    assert list(pick(tmp_path, ("cond",))) == ["cond"]
    with pytest.raises(RepgenError, match="'free'.*available: cond"):
        pick(tmp_path, ("cond", "free"))

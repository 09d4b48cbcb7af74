"""The three autoencoders: shapes, loss, a training step, corruption, save/load, the stage."""

import keras
import numpy as np
import pytest
from PIL import Image

from repgen import config
from repgen.io import save_npz, write_json
from repgen.models.autoencoder import (
    ConvAutoencoder,
    DenoisingAutoencoder,
    DenseAutoencoder,
    build,
    compile_model,
    encoders,
    fit_autoencoder,
)
from repgen.training import load_model

NOISE = {"gaussian": [0.3], "salt_and_pepper": [0.1], "masking": [0.25], "dropout": [0.5]}


def tiny(kind: str):
    if kind == "dense":
        return DenseAutoencoder(hidden=16, codings=4, name="autoencoder")
    if kind == "conv":
        return ConvAutoencoder(width=4, codings=4, name="conv_autoencoder")
    return DenoisingAutoencoder(width=4, noise=NOISE, seed=1, name="denoising_autoencoder")


def images(n: int = 16, seed: int = 0) -> np.ndarray:
    """float32 (n, 28, 28, 1): bright squares on dark, like clothes on the background."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28, 1), np.float32)
    for i in range(n):
        y0, x0 = rng.integers(2, 14, 2)
        x[i, y0 : y0 + 12, x0 : x0 + 12] = rng.uniform(0.5, 1.0)
    return x


KINDS = ("dense", "conv", "dae")
CODE_DIMS = {"dense": 4, "conv": 4, "dae": 7 * 7 * 16}


@pytest.mark.parametrize("kind", KINDS)
def test_shapes_codes_and_finite_loss(kind):
    model = compile_model(tiny(kind), learning_rate=1e-3)
    x = images(8)
    assert model(x).shape == (8, 28, 28, 1)
    assert model.encode(x).shape == (8, CODE_DIMS[kind])
    loss = model.evaluate(x, x, verbose=0)
    assert np.isfinite(loss) and loss > 0


@pytest.mark.parametrize("kind", KINDS)
def test_training_lowers_the_loss_on_a_tiny_batch(kind):
    keras.utils.set_random_seed(2)  # the initial weights; unseeded, a run now and then fails
    model = compile_model(tiny(kind), learning_rate=3e-3)
    x = images(16)
    # validation pairs: the denoiser is judged on fixed corrupted inputs, the others on x
    inputs = model.training_input(x).numpy() if kind == "dae" else x
    before = model.evaluate(inputs, x, verbose=0)
    model.fit(x, batch_size=16, epochs=30, verbose=0)
    assert model.evaluate(inputs, x, verbose=0) < 0.7 * before


def test_denoiser_loss_is_the_clipped_error_plus_a_tenth_of_the_raw_one():
    clean = np.array([[0.0, 0.5, 1.0, 0.2]], np.float32)
    output = np.array([[-0.5, 0.5, 1.5, 0.4]], np.float32)  # clipped: [0, 0.5, 1, 0.4]
    loss = float(tiny("dae").training_loss(output, clean))
    # clipped errors (0, 0, 0, 0.2), raw errors (0.5, 0, 0.5, 0.2)
    assert loss == pytest.approx(0.04 / 4 + 0.1 * (0.25 + 0.25 + 0.04) / 4, rel=1e-6)
    # the plain autoencoders keep the plain MSE
    assert float(tiny("dense").training_loss(output, clean)) == pytest.approx(0.54 / 4, rel=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_save_and_load_round_trip(kind, tmp_path):
    model = compile_model(tiny(kind), learning_rate=1e-3)
    x = images(4)
    path = tmp_path / f"{kind}.keras"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
    np.testing.assert_allclose(loaded.encode(x), model.encode(x), atol=1e-6)


def test_dae_is_fully_convolutional():
    model = compile_model(tiny("dae"), learning_rate=1e-3)
    assert model(np.zeros((2, 40, 52, 1), np.float32)).shape == (2, 40, 52, 1)


@pytest.mark.parametrize(
    ("kind", "level", "changed"),
    [
        ("salt_and_pepper", 0.2, 0.2),  # of pixels hit
        ("dropout", 0.5, 0.5),
        ("masking", 0.25, 0.25),  # of cells hidden
    ],
)
def test_in_graph_corruption_hits_the_configured_fraction(kind, level, changed):
    model = compile_model(
        DenoisingAutoencoder(width=4, noise={kind: [level]}, seed=3), learning_rate=1e-3
    )
    x = np.full((64, 28, 28, 1), 0.5, np.float32)
    noisy = model.training_input(x).numpy()
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert abs(np.mean(noisy != 0.5) - changed) < 0.03


def test_gaussian_corruption_has_the_configured_spread():
    model = compile_model(
        DenoisingAutoencoder(width=4, noise={"gaussian": [0.1]}, seed=3), learning_rate=1e-3
    )
    x = np.full((64, 28, 28, 1), 0.5, np.float32)
    assert abs(np.std(model.training_input(x).numpy()) - 0.1) < 0.005


def test_weights_choose_the_settings():
    model = DenoisingAutoencoder(
        width=4,
        noise={"gaussian": [0.1, 0.3], "dropout": [0.5]},
        noise_weights={"gaussian": 3.0, "dropout": 1.0},
    )
    np.testing.assert_allclose(np.exp(model.setting_logits), [0.375, 0.375, 0.25], rtol=1e-6)
    with pytest.raises(ValueError, match="blur"):
        DenoisingAutoencoder(noise={"blur": [1.0]})


def test_registered_as_encoders():
    names = [enc.name for enc in encoders(config.Params())]
    assert names == ["autoencoder", "conv_autoencoder", "denoising_autoencoder"]


def write_tiny_data(root, n: int = 48):
    """data/prepared and data/corrupted with n images per split."""
    x = (images(n)[..., 0] * 255).astype(np.uint8)
    labels = np.arange(n) % 4
    prepared, corrupted = root / "data" / "prepared", root / "data" / "corrupted"
    for split in ("train", "valid", "test"):
        save_npz(prepared / f"{split}.npz", images=x, labels=labels)
    write_json(prepared / "meta.json", {"class_names": ["a", "b", "c", "d"]})
    noisy = {
        "gaussian_0.3": np.clip(x + 60, 0, 255).astype(np.uint8),
        "salt_and_pepper_0.1": x[:, ::-1].copy(),
    }
    save_npz(corrupted / "valid.npz", **noisy)
    save_npz(corrupted / "test.npz", **noisy)
    return prepared, corrupted


TINY = {
    "corrupt": {
        "gaussian": [0.3],
        "salt_and_pepper": [0.1],
        "speckle": [],
        "poisson": [],
        "masking": [],
    },
    "autoencoder": {"epochs": 1, "batch_size": 16, "hidden": 8, "codings": 4, "preview_images": 3},
    "conv_autoencoder": {
        "epochs": 1,
        "batch_size": 16,
        "width": 4,
        "codings": 4,
        "preview_images": 3,
    },
    "denoising_autoencoder": {
        "epochs": 2,
        "batch_size": 16,
        "width": 4,
        "valid_limit": 8,
        "preview_images": 3,
    },
}


@pytest.mark.parametrize("name", ["autoencoder", "denoising_autoencoder"])
def test_stage_trains_saves_and_shows_reconstructions(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    prepared, corrupted = write_tiny_data(tmp_path)
    params = config.parse(TINY)
    model_path = tmp_path / "models" / f"{name}.keras"
    corrupted = corrupted if name == "denoising_autoencoder" else None
    fit_autoencoder(name, params, prepared, model_path, corrupted)

    assert load_model(model_path).name == name
    picture = tmp_path / "plots" / "train" / name / "reconstructions.png"
    with Image.open(picture) as image:
        assert image.text["Synthetic"] == "true" and image.text["Model"] == name
    epochs = sorted((tmp_path / "plots" / "train" / name).rglob("epoch_*.png"))
    assert len(epochs) == params.model_dump()[name]["epochs"]


def test_build_names_each_model():
    params = config.parse(TINY)
    for name in ("autoencoder", "conv_autoencoder", "denoising_autoencoder"):
        assert build(name, getattr(params, name)).name == name

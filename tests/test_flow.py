"""The RealNVP flow: exact inverse, log-determinant against a numerical Jacobian, bits/dim,
training, sampling, save and load."""

import numpy as np
import pytest
import tensorflow as tf

from repgen import config
from repgen.generators import find
from repgen.models import flow
from repgen.training import load_model


def _randomized(model: flow.RealNVP, seed: int = 0, std: float = 0.1) -> flow.RealNVP:
    """Random weights everywhere (the last layer of a coupling starts at zero, which would
    make every coupling the identity)."""
    rng = np.random.default_rng(seed)
    for variable in model.trainable_variables:
        variable.assign(std * rng.standard_normal(variable.shape).astype(np.float32))
    return model


def _flat_codes(model, x) -> np.ndarray:
    codes, _ = model.forward(tf.constant(x))
    return np.concatenate([c.numpy().reshape(len(x), -1) for c in codes], axis=1)


@pytest.fixture(scope="module")
def small():
    return _randomized(flow.RealNVP(image_size=4, scales=2, couplings=2, hidden=8, depth=1))


def test_inverse_recovers_the_input():
    model = _randomized(flow.RealNVP(hidden=8, couplings=2, depth=1))
    x = np.random.default_rng(0).uniform(0.0, 1.0, (4, 28, 28, 1)).astype(np.float32)
    codes, log_det = model.forward(tf.constant(x))
    assert [tuple(c.shape[1:]) for c in codes] == model.code_shapes() == [(14, 14, 2), (7, 7, 8)]
    assert np.all(np.isfinite(log_det.numpy()))
    assert np.max(np.abs(model.inverse(codes).numpy() - x)) < 1e-4


def test_log_det_matches_a_numerical_jacobian(small):
    rng = np.random.default_rng(1)
    x = rng.uniform(0.2, 0.8, (1, 4, 4, 1)).astype(np.float32)
    _, log_det = small.forward(tf.constant(x))
    eps = 1e-3
    steps = np.eye(16, dtype=np.float32).reshape(16, 4, 4, 1) * eps  # one pixel moved per row
    jacobian = (_flat_codes(small, x + steps) - _flat_codes(small, x - steps)) / (2 * eps)
    sign, numeric = np.linalg.slogdet(jacobian.astype(np.float64))
    assert sign != 0
    np.testing.assert_allclose(float(log_det[0]), numeric, atol=0.02)


def test_identity_start_gives_the_logit_bits_per_dim():
    # At initialisation every coupling is the identity, so log p is the Gaussian density
    # of the logit-transformed pixels plus the logit's log-determinant, which is computable.
    model = flow.RealNVP(image_size=4, scales=1, couplings=1, hidden=4, depth=1)
    images = np.random.default_rng(2).integers(0, 256, (8, 4, 4)).astype(np.uint8)
    noise = tf.random.stateless_uniform((8, 4, 4, 1), seed=[3, 0])
    y = (images[..., None] + noise.numpy()) / 256.0
    a = model.alpha
    s = a + (1 - 2 * a) * y
    h = np.log(s) - np.log1p(-s)
    log_p = (
        (-0.5 * h**2 - 0.5 * np.log(2 * np.pi) + np.log(1 - 2 * a) - np.log(s) - np.log1p(-s))
        .reshape(8, -1)
        .sum(axis=1)
    )
    expected = -log_p + 16 * np.log(256)
    np.testing.assert_allclose(flow.nll_nats(model, images, seed=3), expected, rtol=1e-4)


def test_training_step_lowers_the_loss_and_is_finite():
    images = np.random.default_rng(4).integers(0, 60, (32, 28, 28)).astype(np.uint8)
    model = flow.build_flow(hidden=8, couplings=1, depth=1, learning_rate=1e-2)
    before = flow.nll_nats(model, images, seed=0).mean()
    logs = model.train_on_batch(flow.to_input(images), return_dict=True)
    assert np.isfinite(logs["loss"]) and np.isfinite(logs["bits_per_dim"])
    assert flow.nll_nats(model, images, seed=0).mean() < before


def test_samples_have_the_image_shape_and_range(small):
    model = _randomized(flow.RealNVP(hidden=8, couplings=1, depth=1), std=0.02)
    images = flow.sample(model, 5, seed=0, temperature=0.7)
    assert images.shape == (5, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_array_equal(images, flow.sample(model, 5, seed=0, temperature=0.7))


def test_save_and_load_round_trip(tmp_path):
    model = _randomized(flow.build_flow(hidden=8, couplings=1, depth=1, alpha=0.01))
    model.save(tmp_path / "flow.keras")
    loaded = load_model(tmp_path / "flow.keras")
    assert isinstance(loaded, flow.RealNVP) and loaded.alpha == 0.01
    images = np.random.default_rng(5).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    np.testing.assert_allclose(
        flow.nll_nats(loaded, images, seed=1), flow.nll_nats(model, images, seed=1), rtol=1e-5
    )


def test_registered_as_an_unconditional_generator():
    params = config.parse({"flow": {"temperature": 0.5}})
    gen = find(params, "flow")
    assert gen.model == "flow" and not gen.conditional

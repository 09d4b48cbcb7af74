"""The diffusion model: schedules, the forward process, the samplers, guidance, the model."""

import math

import keras
import numpy as np
import pytest

from repgen import config
from repgen.errors import RepgenError
from repgen.models import diffusion as D
from repgen.training import load_model

TINY = dict(timesteps=20, widths=(8, 16), embedding_dim=16, num_classes=3)


def tiny_model(**overrides) -> D.Diffusion:
    keras.utils.set_random_seed(0)
    return D.build_diffusion(learning_rate=3e-3, **{**TINY, **overrides})


def randomize_output(model: D.Diffusion) -> None:
    """The last layer starts at zero; give it weights so predictions depend on the inputs."""
    rng = np.random.default_rng(1)
    for net in (model.network, model.ema_network):
        layer = net.layers[-1]
        layer.set_weights([rng.normal(0, 0.1, w.shape) for w in layer.get_weights()])


def gaussian_predictor(mu: float, s: float, alpha_bar: np.ndarray, kind: str):
    """The exact minimum-MSE network for data x_0 ~ N(mu, s^2) in every pixel."""

    def predict(x_t, t):
        ab = alpha_bar[t - 1].reshape(-1, 1, 1, 1)
        eps = np.sqrt(1 - ab) * (x_t - np.sqrt(ab) * mu) / (ab * s**2 + 1 - ab)  # E[eps | x_t]
        x_0 = (x_t - np.sqrt(1 - ab) * eps) / np.sqrt(ab)  # E[x_0 | x_t]
        return np.sqrt(ab) * eps - np.sqrt(1 - ab) * x_0 if kind == "v" else eps

    return predict


# ----------------------------------------------------------------------------- schedule


def test_cosine_alpha_bar_is_the_closed_form():
    T, s = 1000, 0.008
    t = np.arange(1, T + 1)
    f = np.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2 / math.cos(s / (1 + s) * math.pi / 2) ** 2
    ab = D.alpha_bars("cosine", T)
    np.testing.assert_allclose(ab[:-1], f[:-1], rtol=1e-10)  # the last beta is clipped at 0.999
    assert 0 < ab[-1] < 1e-6


def test_linear_alpha_bar_is_the_product_of_the_ddpm_betas():
    betas = [1e-4 + (0.02 - 1e-4) * i / 999 for i in range(1000)]
    expected = np.cumprod([1 - b for b in betas])
    ab = D.alpha_bars("linear", 1000)
    np.testing.assert_allclose(ab, expected, rtol=1e-10)
    assert ab[-1] == pytest.approx(4.0358e-5, rel=1e-3)  # DDPM's T = 1000 end point


def test_schedules_fall_monotonically_and_unknown_kinds_fail():
    for kind in D.SCHEDULES:
        ab = D.alpha_bars(kind, 50)
        assert ab.shape == (50,) and np.all(np.diff(ab) < 0) and 0 < ab[-1] < ab[0] < 1
    with pytest.raises(RepgenError, match="allowed: linear, cosine"):
        D.alpha_bars("quadratic", 10)


def test_q_sample_has_the_right_mean_and_variance():
    n, ab = 200_000, 0.3
    x_0 = np.full((n, 2, 1, 1), 0.5, np.float32)
    x_0[:, 1] = -0.8
    eps = np.random.default_rng(0).standard_normal(x_0.shape).astype(np.float32)
    x_t = np.asarray(D.q_sample(x_0, np.full(n, ab, np.float32), eps))
    np.testing.assert_allclose(
        x_t.mean(axis=0).ravel(), math.sqrt(ab) * np.array([0.5, -0.8]), atol=0.01
    )
    np.testing.assert_allclose(x_t.var(axis=0).ravel(), [1 - ab, 1 - ab], rtol=0.02)


@pytest.mark.parametrize("kind", D.PREDICTIONS)
def test_split_prediction_inverts_the_targets(kind):
    rng = np.random.default_rng(0)
    x_0, eps = rng.uniform(-1, 1, (4, 3, 3, 1)), rng.standard_normal((4, 3, 3, 1))
    ab = np.array([0.9, 0.5, 0.1, 0.01])
    a, b = np.sqrt(ab).reshape(-1, 1, 1, 1), np.sqrt(1 - ab).reshape(-1, 1, 1, 1)
    x_t = a * x_0 + b * eps
    target = a * eps - b * x_0 if kind == "v" else eps
    got_x0, got_eps = D.split_prediction(target, x_t, ab, kind)
    np.testing.assert_allclose(got_x0, x_0, atol=1e-9)
    np.testing.assert_allclose(got_eps, eps, atol=1e-9)


# ----------------------------------------------------------------------------- samplers


def test_ddim_timesteps_run_from_T_down_to_one():
    assert list(D.ddim_timesteps(10, 4)) == [10, 7, 4, 1]
    assert list(D.ddim_timesteps(5, 5)) == [5, 4, 3, 2, 1]
    with pytest.raises(RepgenError, match="DDIM steps = 11"):
        D.ddim_timesteps(10, 11)


def test_ddim_with_eta_zero_is_deterministic():
    ab = D.alpha_bars("cosine", 50)
    predict = gaussian_predictor(0.2, 0.3, ab, "v")
    x_T = np.random.default_rng(0).standard_normal((8, 2, 2, 1))
    runs = [
        D.ddim_sample(predict, x_T, ab, steps=10, kind="v", rng=np.random.default_rng(seed))
        for seed in (1, 2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
    noisy = [
        D.ddim_sample(
            predict, x_T, ab, steps=10, kind="v", eta=1.0, rng=np.random.default_rng(seed)
        )
        for seed in (1, 2)
    ]
    assert np.abs(noisy[0] - noisy[1]).max() > 1e-3


@pytest.mark.parametrize("kind", D.PREDICTIONS)
def test_ddim_with_all_steps_follows_the_exact_flow_of_the_learned_model(kind):
    # For Gaussian data the probability-flow ODE keeps z = (x_t - E x_t) / std(x_t) fixed, so
    # the deterministic sampler must map x_T to mu + s z_T; the exact denoiser stands in for
    # the trained network.
    mu, s, T = 0.2, 0.3, 1000
    ab = D.alpha_bars("linear", T)
    x_T = np.random.default_rng(0).standard_normal((2000, 1, 1, 1))
    x_0 = D.ddim_sample(
        gaussian_predictor(mu, s, ab, kind), x_T, ab, steps=T, kind=kind, clip=False
    )
    z_T = (x_T - math.sqrt(ab[-1]) * mu) / math.sqrt(ab[-1] * s**2 + 1 - ab[-1])
    np.testing.assert_allclose(x_0, mu + s * z_T, atol=0.01)


def test_ancestral_ddpm_is_ddim_with_eta_one_over_all_steps():
    ab = D.alpha_bars("cosine", 30)
    predict = gaussian_predictor(-0.1, 0.4, ab, "eps")
    x_T = np.random.default_rng(0).standard_normal((16, 2, 2, 1)).astype(np.float32)
    ddpm = D.ddpm_sample(predict, x_T, ab, kind="eps", rng=np.random.default_rng(3))
    ddim = D.ddim_sample(
        predict, x_T, ab, steps=30, kind="eps", eta=1.0, rng=np.random.default_rng(3)
    )
    np.testing.assert_allclose(ddpm, ddim, atol=1e-5)


def test_ancestral_samples_have_the_data_distribution():
    # With the exact denoiser plugged in, ancestral sampling is exact as T grows (at T = 100 the
    # posterior variance of Eq. 7 still shrinks the spread by about 6 %).
    mu, s = 0.1, 0.25
    ab = D.alpha_bars("cosine", 1000)
    x_T = np.random.default_rng(0).standard_normal((20_000, 1, 1, 1)).astype(np.float32)
    x_0 = D.ddpm_sample(
        gaussian_predictor(mu, s, ab, "v"), x_T, ab, kind="v", rng=np.random.default_rng(1)
    )
    assert x_0.mean() == pytest.approx(mu, abs=0.01)
    assert x_0.std() == pytest.approx(s, rel=0.03)


# ----------------------------------------------------------------------------- guidance, model


@pytest.fixture(scope="module")
def random_model() -> D.Diffusion:
    """A tiny conditional model whose predictions depend on every input (not trained)."""
    model = tiny_model()
    randomize_output(model)
    return model


def test_guidance_zero_is_the_unconditional_prediction_and_one_the_conditional(random_model):
    model = random_model
    rng = np.random.default_rng(0)
    x_t = rng.standard_normal((6, 28, 28, 1)).astype(np.float32)
    t = np.array([1, 5, 10, 15, 19, 20])
    labels = np.array([0, 1, 2, 0, 1, 2], np.int32)

    def direct(y):
        return model.ema_network([x_t, t[:, None] / 20.0, y[:, None]]).numpy()

    null = np.full(6, model.num_classes, np.int32)
    np.testing.assert_allclose(
        D.guided_predictor(model, labels, 0.0)(x_t, t), direct(null), atol=1e-5
    )
    np.testing.assert_allclose(
        D.guided_predictor(model, None, 3.0)(x_t, t), direct(null), atol=1e-5
    )
    np.testing.assert_allclose(
        D.guided_predictor(model, labels, 1.0)(x_t, t), direct(labels), atol=1e-5
    )
    guided = direct(null) + 2.5 * (direct(labels) - direct(null))
    np.testing.assert_allclose(D.guided_predictor(model, labels, 2.5)(x_t, t), guided, atol=1e-4)
    assert np.abs(direct(labels) - direct(null)).max() > 1e-4  # the label matters


def test_training_lowers_a_finite_loss_and_moves_the_ema_weights():
    model = tiny_model()
    images = D.to_model_input(np.tile(np.linspace(0, 255, 28, dtype=np.uint8), (64, 28, 1)))
    labels = np.arange(64) % 3
    first = model.evaluate(images, labels, batch_size=64, verbose=0)
    before = [w.copy() for w in model.ema_network.get_weights()]
    model.fit(images, labels, batch_size=16, epochs=10, verbose=0)
    last = model.evaluate(images, labels, batch_size=64, verbose=0)
    assert math.isfinite(first) and math.isfinite(last) and last < 0.8 * first
    moved = [
        np.abs(a - b).max() for a, b in zip(before, model.ema_network.get_weights(), strict=True)
    ]
    assert max(moved) > 0


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
def test_samples_have_the_image_shape_and_range(sampler, random_model):
    model = random_model
    images = D.sample(
        model, 5, np.array([0, 1, 2, 0, 1]), seed=0, sampler=sampler, steps=4, batch_size=3
    )
    assert images.shape == (5, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    unconditional = D.sample(model, 2, None, seed=0, sampler=sampler, steps=4)
    assert unconditional.shape == (2, 28, 28)


def test_unconditional_model_refuses_labels():
    model = tiny_model(num_classes=None)
    assert D.sample(model, 2, None, steps=2).shape == (2, 28, 28)
    with pytest.raises(RepgenError, match="unconditional"):
        D.sample(model, 2, np.array([0, 1]), steps=2)


def test_save_and_load_round_trip(tmp_path):
    model = tiny_model(prediction="eps", schedule="linear", attention=True)
    randomize_output(model)
    path = tmp_path / "diffusion.keras"
    model.save(path)
    loaded = load_model(path)  # safe_mode on
    assert isinstance(loaded, D.Diffusion)
    assert (loaded.prediction, loaded.schedule, loaded.timesteps) == ("eps", "linear", 20)
    labels = np.array([2, 1])
    np.testing.assert_array_equal(
        D.sample(model, 2, labels, seed=3, steps=3), D.sample(loaded, 2, labels, seed=3, steps=3)
    )


# ----------------------------------------------------------------------------- params, registry


def test_generators_follow_the_sampler_params():
    params = config.parse(
        {
            "diffusion": {
                "timesteps": 50,
                "guidance": 2.0,
                "samplers": [
                    {"kind": "ddim", "steps": 10},
                    {"kind": "ddim", "steps": 10, "eta": 0.5},
                    {"kind": "ddpm"},
                ],
            }
        }
    )
    gens = D.generators(params)
    assert [g.name for g in gens] == [
        "diffusion_ddim_10",
        "diffusion_ddim_10_eta0.5",
        "diffusion_ddpm",
    ]
    assert all(g.model == "diffusion" and g.conditional for g in gens)
    assert gens[0].sample.keywords == {"sampler": "ddim", "steps": 10, "eta": 0.0, "guidance": 2.0}
    assert gens[2].sample.keywords["steps"] == 50


@pytest.mark.parametrize(
    "samplers, message",
    [
        ([{"kind": "ddim"}], "needs steps"),
        ([{"kind": "ddim", "steps": 300}], "needs steps"),
        ([{"kind": "ddpm", "steps": 10}], "leave out its steps"),
        ([], "at least one"),
    ],
)
def test_bad_sampler_params_fail_at_load(samplers, message):
    with pytest.raises(RepgenError, match=message):
        config.parse({"diffusion": {"samplers": samplers}})


def test_widths_must_suit_group_norm():
    with pytest.raises(RepgenError, match="multiples of 8"):
        D.build_unet(widths=(12, 24))

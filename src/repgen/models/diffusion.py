"""Denoising diffusion (Ho et al. 2020, "DDPM") with fast deterministic sampling (Song et al.
2021, "DDIM"), class conditioning and classifier-free guidance (Ho & Salimans 2022).

Names follow the papers, written once here:
    t               timestep, 1..T (index t - 1 in the schedule arrays)
    beta_t          noise added at step t; alpha_t = 1 - beta_t
    alpha_bar_t     prod_{s<=t} alpha_s, the signal power left at t (DDIM's "alpha_t")
    x_0, x_t        a clean image in [-1, 1] and its noised version at t
    eps             the standard normal noise in x_t = sqrt(alpha_bar_t) x_0
                    + sqrt(1 - alpha_bar_t) eps (DDPM Eq. 4)
    v               sqrt(alpha_bar_t) eps - sqrt(1 - alpha_bar_t) x_0, the "velocity" target
                    (Salimans & Ho 2022, Sec. 4); better conditioned than eps near t = T
    w               guidance scale: pred = pred(null) + w (pred(label) - pred(null));
                    w = 0 is unconditional, w = 1 plain conditional, w > 1 guided

Designed for a 2-core CPU: the U-Net works at 14x14 after a learned 2x2 patch embedding
(a stride-2 convolution, i.e. pixel-unshuffle followed by a 1x1 projection) and goes down to
7x7, so one network call costs a few MFLOPs per image. With the cosine schedule and
v-prediction, DDIM over 50 of the 200 steps with eta = 1 (fresh noise at each step) comes
within a few percent of the full ancestral chain's FID at a quarter of the cost;
deterministic DDIM (eta = 0) over the same 50 steps trails it by about a fifth.

    model = build_diffusion(num_classes=10)
    model.fit(images_in_minus1_1_with_labels)
    images = sample(model, n, labels, sampler="ddim", steps=50, eta=1.0)  # (n, 28, 28) in [0, 1]
"""

import math
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from repgen.errors import RepgenError

SCHEDULES = ("linear", "cosine")
PREDICTIONS = ("eps", "v")


# ----------------------------------------------------------------------------- schedule


def alpha_bars(kind: str, timesteps: int) -> np.ndarray:
    """alpha_bar_t for t = 1..T, float64 (T,).

    linear: betas evenly from 1e-4 to 0.02 at T = 1000 (DDPM Sec. 4), scaled by 1000 / T so
    that other T span the same noise levels (clipped at 0.999 for very small T).
    cosine: alpha_bar(t) = f(t) / f(0) with
    f(t) = cos^2((t / T + s) / (1 + s) * pi / 2), s = 0.008 (Nichol & Dhariwal 2021, Eq. 17),
    betas clipped at 0.999 so the last step stays invertible.
    """
    if kind == "linear":
        scale = 1000 / timesteps
        betas = np.linspace(scale * 1e-4, scale * 0.02, timesteps, dtype=np.float64)
        return np.cumprod(1.0 - np.minimum(betas, 0.999))
    if kind == "cosine":
        s = 0.008
        f = np.cos((np.arange(timesteps + 1) / timesteps + s) / (1 + s) * math.pi / 2) ** 2
        betas = np.clip(1.0 - f[1:] / f[:-1], 0.0, 0.999)
        return np.cumprod(1.0 - betas)
    raise RepgenError(f"diffusion.schedule = {kind!r}: allowed: {', '.join(SCHEDULES)}")


def q_sample(x_0, alpha_bar, eps):
    """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps (DDPM Eq. 4); alpha_bar (B,)."""
    alpha_bar = ops.reshape(alpha_bar, (-1, 1, 1, 1))  # (B, 1, 1, 1)
    return ops.sqrt(alpha_bar) * x_0 + ops.sqrt(1.0 - alpha_bar) * eps


def split_prediction(prediction, x_t, alpha_bar, kind: str):
    """The network output (eps or v) as the pair (x_0 estimate, eps estimate)."""
    a = np.sqrt(alpha_bar).reshape(-1, 1, 1, 1)
    b = np.sqrt(1.0 - alpha_bar).reshape(-1, 1, 1, 1)
    if kind == "v":  # x_0 = a x_t - b v, eps = b x_t + a v
        return a * x_t - b * prediction, b * x_t + a * prediction
    return (x_t - b * prediction) / a, prediction


# ----------------------------------------------------------------------------- network


@keras.saving.register_keras_serializable(package="repgen")
class SinusoidalEmbedding(keras.layers.Layer):
    """t / T in [0, 1], shape (B, 1) -> (B, dim) sines and cosines (Transformer-style)."""

    def __init__(self, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim

    def call(self, t):
        half = self.dim // 2
        freqs = ops.exp(-math.log(10_000.0) * ops.arange(half, dtype="float32") / half)
        angles = 1000.0 * ops.cast(t, "float32") * freqs[None, :]  # (B, half)
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}


def _residual_block(x, emb, channels: int):
    """GroupNorm-swish-conv twice, the embedding added between (DDPM's Wide-ResNet block)."""
    skip = x if x.shape[-1] == channels else keras.layers.Conv2D(channels, 1)(x)
    h = keras.layers.GroupNormalization(groups=8)(x)
    h = keras.layers.Conv2D(channels, 3, padding="same")(keras.activations.silu(h))
    h = h + keras.layers.Reshape((1, 1, channels))(keras.layers.Dense(channels)(emb))
    h = keras.layers.GroupNormalization(groups=8)(h)
    h = keras.layers.Conv2D(channels, 3, padding="same")(keras.activations.silu(h))
    return h + skip


def _attention(x, heads: int = 4):
    """Self-attention over the H*W positions, residual."""
    _, h, w, c = x.shape
    y = keras.layers.GroupNormalization(groups=8)(x)
    y = keras.layers.Reshape((h * w, c))(y)  # (B, H*W, C)
    y = keras.layers.MultiHeadAttention(heads, c // heads)(y, y)
    return x + keras.layers.Reshape((h, w, c))(y)  # (B, H, W, C)


def build_unet(
    *,
    widths: tuple[int, ...] = (32, 64),
    blocks: int = 1,
    attention: bool = False,
    num_classes: int | None = 10,
    embedding_dim: int = 64,
) -> keras.Model:
    """The denoiser: (x_t (B, 28, 28, 1), t / T (B, 1), label (B, 1)) -> (B, 28, 28, 1).

    Levels at 14x14, 7x7, ... with `widths` channels and `blocks` residual blocks each;
    attention at the lowest level when `attention`. Label `num_classes` is the null label
    that classifier-free guidance trains with; no label input when num_classes is None.
    """
    if any(width % 8 for width in widths) or len(widths) not in (1, 2):
        raise RepgenError(f"diffusion.widths = {list(widths)}: allowed: one or two multiples of 8")
    x_t = keras.Input((28, 28, 1), name="x_t")
    t = keras.Input((1,), name="t")
    inputs = [x_t, t]
    emb = SinusoidalEmbedding(embedding_dim)(t)  # (B, E)
    if num_classes is not None:
        label = keras.Input((1,), dtype="int32", name="label")
        inputs.append(label)
        class_emb = keras.layers.Embedding(num_classes + 1, embedding_dim)(label)  # (B, 1, E)
        emb = emb + keras.layers.Flatten()(class_emb)  # (B, E)
    emb = keras.layers.Dense(4 * embedding_dim, activation="silu")(emb)  # (B, 4E)

    # 2x2 patches: (B, 28, 28, 1) -> (B, 14, 14, w0); a quarter of the positions to convolve
    x = keras.layers.Conv2D(widths[0], 2, strides=2)(x_t)
    skips = []
    for level, width in enumerate(widths):
        if level > 0:
            x = keras.layers.Conv2D(width, 3, strides=2, padding="same")(x)  # halve H, W
        for _ in range(blocks):
            x = _residual_block(x, emb, width)
            skips.append(x)
    if attention:
        x = _attention(x)
    x = _residual_block(x, emb, widths[-1])
    for level in reversed(range(len(widths))):
        for _ in range(blocks):
            x = keras.layers.Concatenate()([x, skips.pop()])
            x = _residual_block(x, emb, widths[level])
        if level > 0:
            x = keras.layers.UpSampling2D(interpolation="nearest")(x)  # double H, W
    x = keras.activations.silu(keras.layers.GroupNormalization(groups=8)(x))
    # back to pixels: (B, 14, 14, w0) -> (B, 28, 28, 1); zero init, so training starts at 0
    out = keras.layers.Conv2DTranspose(1, 2, strides=2, kernel_initializer="zeros")(x)
    return keras.Model(inputs, out, name="unet")


# ----------------------------------------------------------------------------- model


@keras.saving.register_keras_serializable(package="repgen")
class Diffusion(keras.Model):
    """A U-Net denoiser trained with DDPM's simple loss (Alg. 1), plus its EMA copy.

    `network` is trained; `ema_network` (an exponential moving average of its weights) is
    the one the samplers use. Images go in as (B, 28, 28, 1) in [-1, 1] with int labels.
    """

    def __init__(
        self,
        *,
        timesteps: int = 200,
        schedule: str = "cosine",
        prediction: str = "v",
        widths: tuple[int, ...] = (32, 64),
        blocks: int = 1,
        attention: bool = False,
        num_classes: int | None = 10,
        embedding_dim: int = 64,
        class_dropout: float = 0.1,
        ema_decay: float = 0.995,  # short runs: a window of ~200 steps
        **kwargs,
    ):
        super().__init__(**kwargs)
        if prediction not in PREDICTIONS:
            raise RepgenError(f"diffusion.prediction = {prediction!r}: allowed: eps, v")
        self.timesteps, self.schedule, self.prediction = timesteps, schedule, prediction
        self.widths, self.blocks, self.attention = tuple(widths), blocks, attention
        self.num_classes, self.embedding_dim = num_classes, embedding_dim
        self.class_dropout, self.ema_decay = class_dropout, ema_decay
        self.alpha_bar = alpha_bars(schedule, timesteps)  # float64 (T,)

        unet = dict(
            widths=self.widths,
            blocks=blocks,
            attention=attention,
            num_classes=num_classes,
            embedding_dim=embedding_dim,
        )
        self.network = build_unet(**unet)
        self.ema_network = build_unet(**unet)
        self.ema_network.set_weights(self.network.get_weights())
        self.ema_network.trainable = False  # moved by the EMA update, not by the optimizer
        self.seed_generator = keras.random.SeedGenerator()
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.built = True  # both networks are built above; nothing waits for a first call

    def get_config(self):
        return {
            **super().get_config(),
            "timesteps": self.timesteps,
            "schedule": self.schedule,
            "prediction": self.prediction,
            "widths": list(self.widths),
            "blocks": self.blocks,
            "attention": self.attention,
            "num_classes": self.num_classes,
            "embedding_dim": self.embedding_dim,
            "class_dropout": self.class_dropout,
            "ema_decay": self.ema_decay,
        }

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, inputs, training=False):
        return self.ema_network(inputs, training=training)

    def _noised(self, images, labels):
        """Alg. 1, steps 1-4: draw t and eps, make x_t and the regression target."""
        # 1. t ~ Uniform({1, ..., T}), eps ~ N(0, I)
        batch = ops.shape(images)[0]
        t = keras.random.randint((batch,), 1, self.timesteps + 1, seed=self.seed_generator)
        eps = keras.random.normal(ops.shape(images), seed=self.seed_generator)

        # 2. x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps  (Eq. 4)
        alpha_bar = ops.take(ops.convert_to_tensor(self.alpha_bar, "float32"), t - 1)  # (B,)
        x_t = q_sample(images, alpha_bar, eps)

        # 3. the target: eps (Eq. 14) or v = sqrt(alpha_bar) eps - sqrt(1 - alpha_bar) x_0
        if self.prediction == "v":
            a = ops.reshape(ops.sqrt(alpha_bar), (-1, 1, 1, 1))  # (B, 1, 1, 1)
            target = a * eps - ops.sqrt(1.0 - a * a) * images
        else:
            target = eps

        # 4. classifier-free guidance: the null label with probability class_dropout
        inputs = [x_t, ops.cast(t, "float32")[:, None] / self.timesteps]  # t / T (B, 1)
        if self.num_classes is not None:
            drop = keras.random.uniform((batch,), seed=self.seed_generator) < self.class_dropout
            labels = ops.where(drop, self.num_classes, ops.cast(labels, "int32"))
            inputs.append(labels[:, None])  # (B, 1)
        return inputs, target

    def train_step(self, data):
        images, labels = data
        inputs, target = self._noised(images, labels)

        # 5. a gradient step on || target - network(x_t, t, label) ||^2  (Eq. 14)
        with tf.GradientTape() as tape:
            loss = ops.mean(ops.square(target - self.network(inputs, training=True)))
        weights = self.network.trainable_weights
        self.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))

        # 6. EMA of the weights, with a warm-up so a short run's average is not mostly init
        step = ops.cast(self.optimizer.iterations, "float32")
        decay = ops.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        for weight, ema in zip(self.network.weights, self.ema_network.weights, strict=True):
            ema.assign(decay * ema + (1.0 - decay) * weight)

        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        images, labels = data
        inputs, target = self._noised(images, labels)
        loss = ops.mean(ops.square(target - self.ema_network(inputs, training=False)))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


def build_diffusion(
    *, learning_rate: float = 2e-3, decay_steps: int | None = None, **kwargs
) -> Diffusion:
    """A compiled Diffusion model (Adam; cosine decay over `decay_steps` when given)."""
    model = Diffusion(**kwargs)
    schedule = (
        keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, alpha=0.1)
        if decay_steps
        else learning_rate
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule))
    model.optimizer.build(model.network.trainable_weights)
    return model


def from_params(cfg, *, num_classes: int, decay_steps: int | None = None) -> Diffusion:
    """build_diffusion with the `diffusion` params section (config.DiffusionParams)."""
    return build_diffusion(
        learning_rate=cfg.learning_rate,
        decay_steps=decay_steps,
        timesteps=cfg.timesteps,
        schedule=cfg.schedule,
        prediction=cfg.prediction,
        widths=cfg.widths,
        blocks=cfg.blocks,
        attention=cfg.attention,
        embedding_dim=cfg.embedding_dim,
        num_classes=num_classes if cfg.class_conditional else None,
        class_dropout=cfg.class_dropout,
        ema_decay=cfg.ema_decay,
    )


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [-1, 1]."""
    return (np.asarray(images, np.float32) / 127.5 - 1.0)[..., None]


# ----------------------------------------------------------------------------- samplers

# predict(x_t (B, 28, 28, 1), t (B,) int in 1..T) -> network output (eps or v), (B, 28, 28, 1)
Predictor = Callable[[np.ndarray, np.ndarray], np.ndarray]


def ddim_timesteps(timesteps: int, steps: int) -> np.ndarray:
    """The sub-sequence tau of DDIM (Sec. 4.2): `steps` timesteps from T down to 1, even."""
    if not 1 <= steps <= timesteps:
        raise RepgenError(f"DDIM steps = {steps}: allowed: 1 to the model's T = {timesteps}")
    return np.unique(np.round(np.linspace(1, timesteps, steps)).astype(int))[::-1]


def _x0_and_eps(predict, x_t, t, alpha_bar, kind, clip):
    """The network's estimate of x_0 (clipped to the data range) and the eps it implies."""
    ab = np.full(len(x_t), alpha_bar[t - 1])
    x_0, eps = split_prediction(predict(x_t, np.full(len(x_t), t)), x_t, ab, kind)
    if clip:  # x_0 lies in [-1, 1]; recompute eps so the pair stays consistent (Eq. 9)
        x_0 = np.clip(x_0, -1.0, 1.0)
        eps = (x_t - math.sqrt(ab[0]) * x_0) / math.sqrt(1.0 - ab[0])
    return x_0, eps


def ddim_sample(
    predict: Predictor,
    x_T: np.ndarray,
    alpha_bar: np.ndarray,
    *,
    steps: int,
    kind: str,
    eta: float = 0.0,
    rng: np.random.Generator | None = None,
    clip: bool = True,
    trajectory: list | None = None,
) -> np.ndarray:
    """DDIM (Song et al. 2021): x_T -> x_0 over `steps` timesteps; eta = 0 is deterministic."""
    x_t = x_T
    taus = ddim_timesteps(len(alpha_bar), steps)
    for i, t in enumerate(taus):
        ab = alpha_bar[t - 1]
        ab_prev = alpha_bar[taus[i + 1] - 1] if i + 1 < len(taus) else 1.0

        # 1. predicted x_0 and eps from the network (Eq. 9)
        x_0, eps = _x0_and_eps(predict, x_t, t, alpha_bar, kind, clip)

        # 2. sigma_tau = eta sqrt((1 - ab_prev) / (1 - ab)) sqrt(1 - ab / ab_prev)  (Eq. 16)
        sigma = eta * math.sqrt((1 - ab_prev) / (1 - ab)) * math.sqrt(1 - ab / ab_prev)

        # 3. x_prev = sqrt(ab_prev) x_0 + sqrt(1 - ab_prev - sigma^2) eps + sigma z  (Eq. 12)
        x_t = math.sqrt(ab_prev) * x_0 + math.sqrt(max(1 - ab_prev - sigma**2, 0.0)) * eps
        if sigma > 0:
            x_t = x_t + sigma * rng.standard_normal(x_t.shape, dtype=np.float32)
        if trajectory is not None:
            trajectory.append(x_t)
    return x_t


def ddpm_sample(
    predict: Predictor,
    x_T: np.ndarray,
    alpha_bar: np.ndarray,
    *,
    kind: str,
    rng: np.random.Generator,
    clip: bool = True,
    trajectory: list | None = None,
) -> np.ndarray:
    """Ancestral sampling (Ho et al. 2020, Alg. 2) over all T steps, through the posterior
    q(x_{t-1} | x_t, x_0) of Eq. 6-7 with the network's x_0 estimate plugged in."""
    x_t = x_T
    for t in range(len(alpha_bar), 0, -1):
        ab = alpha_bar[t - 1]
        ab_prev = alpha_bar[t - 2] if t > 1 else 1.0
        beta = 1.0 - ab / ab_prev

        # 1. the network's x_0 estimate, clipped to [-1, 1]
        x_0, _ = _x0_and_eps(predict, x_t, t, alpha_bar, kind, clip)

        # 2. posterior mean: sqrt(ab_prev) beta / (1 - ab) x_0
        #    + sqrt(alpha_t) (1 - ab_prev) / (1 - ab) x_t  (Eq. 7)
        mean = (math.sqrt(ab_prev) * beta / (1 - ab)) * x_0 + (
            math.sqrt(1 - beta) * (1 - ab_prev) / (1 - ab)
        ) * x_t

        # 3. x_{t-1} = mean + sqrt(beta_tilde) z, beta_tilde = (1 - ab_prev) / (1 - ab) beta
        #    (Eq. 7); no noise on the last step (Alg. 2, line 3)
        x_t = mean
        if t > 1:
            std = math.sqrt((1 - ab_prev) / (1 - ab) * beta)
            x_t = mean + std * rng.standard_normal(mean.shape, dtype=np.float32)
        if trajectory is not None:
            trajectory.append(x_t)
    return x_t


def guided_predictor(model: Diffusion, labels: np.ndarray | None, guidance: float) -> Predictor:
    """The EMA network as a Predictor, guided: pred(null) + w (pred(label) - pred(null)).

    w = 0 and label-free sampling need only the null pass, w = 1 only the labelled one.
    """
    network = _compiled(model)
    T = float(model.timesteps)
    null = model.num_classes

    def call(x_t, t, y):
        if null is None:
            return network(x_t, t[:, None] / T).numpy()
        return network(x_t, t[:, None] / T, y[:, None]).numpy()

    def predict(x_t, t):
        x_t, t = x_t.astype(np.float32), t.astype(np.float32)
        null_labels = np.full(len(x_t), null or 0, np.int32)
        if labels is None or guidance == 0:
            return call(x_t, t, null_labels)
        if guidance == 1:
            return call(x_t, t, labels)
        both = call(
            np.concatenate([x_t, x_t]),
            np.concatenate([t, t]),
            np.concatenate([labels, null_labels]),
        )
        conditional, unconditional = both[: len(x_t)], both[len(x_t) :]
        return unconditional + guidance * (conditional - unconditional)

    return predict


def _compiled(model: Diffusion):
    """The EMA network as one traced function (any batch size), cached on the model."""
    if getattr(model, "_compiled_ema", None) is None:
        network = model.ema_network
        signature = [tf.TensorSpec((None, 28, 28, 1)), tf.TensorSpec((None, 1))]  # x_t, t / T
        if model.num_classes is not None:
            signature.append(tf.TensorSpec((None, 1), tf.int32))  # label
        model._compiled_ema = tf.function(
            lambda *inputs: network(list(inputs), training=False),
            input_signature=signature,  # traced once, for every batch size
            autograph=False,  # a plain call: nothing to convert
        )
    return model._compiled_ema


def sample(
    model: Diffusion,
    n: int,
    labels: np.ndarray | None = None,
    seed: int = 0,
    *,
    sampler: str = "ddim",
    steps: int = 25,
    eta: float = 0.0,
    guidance: float = 1.0,
    batch_size: int = 500,
    trajectory: list | None = None,
) -> np.ndarray:
    """n images, float32 (n, 28, 28) in [0, 1]; `labels` (n,) ints or None (unconditional).

    `trajectory`, when a list, receives the x_t after every step (first batch only).
    """
    if sampler not in ("ddim", "ddpm"):
        raise RepgenError(f"diffusion sampler = {sampler!r}: allowed: ddim, ddpm")
    if labels is not None and model.num_classes is None:
        raise RepgenError("this diffusion model is unconditional; sample it with labels=None")
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, n, batch_size):
        size = min(batch_size, n - start)
        chunk = None if labels is None else np.asarray(labels[start : start + size], np.int32)
        predict = guided_predictor(model, chunk, guidance)
        x_T = rng.standard_normal((size, 28, 28, 1), dtype=np.float32)
        record = trajectory if start == 0 else None
        if sampler == "ddim":
            x_0 = ddim_sample(
                predict,
                x_T,
                model.alpha_bar,
                steps=steps,
                kind=model.prediction,
                eta=eta,
                rng=rng,
                trajectory=record,
            )
        else:
            x_0 = ddpm_sample(
                predict, x_T, model.alpha_bar, kind=model.prediction, rng=rng, trajectory=record
            )
        out.append(x_0[..., 0])  # (size, 28, 28)
    return np.clip((np.concatenate(out) + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------------------- registry


def sampler_name(kind: str, steps: int | None = None, eta: float = 0.0) -> str:
    """The generator's name, as metrics/generative.json keys it: diffusion_ddim_20, ..."""
    if kind == "ddpm":
        return "diffusion_ddpm"
    return f"diffusion_ddim_{steps}" + (f"_eta{eta:g}" if eta else "")


def generators(params) -> list:
    """One Generator per sampler in params.diffusion.samplers; the first is the default."""
    from functools import partial

    from repgen.interfaces import Generator

    cfg = params.diffusion
    return [
        Generator(
            name=sampler_name(s.kind, s.steps, s.eta),
            model="diffusion",
            conditional=cfg.class_conditional,
            sample=partial(
                sample,
                sampler=s.kind,
                steps=s.steps or cfg.timesteps,
                eta=s.eta,
                guidance=cfg.guidance,
            ),
        )
        for s in cfg.samplers
    ]


# ----------------------------------------------------------------------------- pictures


def _to_unit(x: np.ndarray) -> np.ndarray:
    """(N, 28, 28, 1) in [-1, 1] -> (N, 28, 28) in [0, 1]."""
    return np.clip((x[..., 0] + 1.0) / 2.0, 0.0, 1.0)


def picture_samples(
    model: Diffusion,
    class_names: list[str],
    path,
    *,
    per_class: int = 10,
    steps: int = 20,
    guidance: float = 1.0,
    seed: int = 0,
) -> None:
    """A row of DDIM samples per class (one unconditional row for an unconditional model)."""
    from repgen.plots import labelled_rows

    names = class_names if model.num_classes is not None else ["unconditional"]
    labels = np.repeat(np.arange(len(names)), per_class) if model.num_classes else None
    images = sample(model, len(names) * per_class, labels, seed, steps=steps, guidance=guidance)
    rows = list(images.reshape(len(names), per_class, 28, 28))  # a (per_class, 28, 28) per row
    labelled_rows(
        rows,
        names,
        path,
        title=f"diffusion, DDIM {steps} steps, guidance {guidance:g}",
        synthetic_from="diffusion",
    )


def picture_trajectory(
    model: Diffusion,
    path,
    *,
    n: int = 6,
    steps: int = 20,
    columns: int = 10,
    guidance: float = 1.0,
    seed: int = 0,
) -> None:
    """The reverse process of `n` DDIM samples, noise to image: a row per sample."""
    from repgen.plots import labelled_rows

    labels = np.arange(n) % model.num_classes if model.num_classes else None
    trajectory: list = []
    sample(model, n, labels, seed, steps=steps, guidance=guidance, trajectory=trajectory)
    shown = np.linspace(0, len(trajectory) - 1, columns - 1).round().astype(int)
    x_T = np.random.default_rng(seed).standard_normal((n, 28, 28, 1), dtype=np.float32)
    frames = [_to_unit(x_T)] + [_to_unit(trajectory[i]) for i in shown]  # columns x (n, 28, 28)
    rows = list(np.stack(frames, axis=1))  # n x (columns, 28, 28)
    labelled_rows(
        rows,
        [f"sample {i + 1}" for i in range(n)],
        path,
        title=f"reverse process, x_T (left) to x_0 (right), DDIM {steps} steps",
        synthetic_from="diffusion",
    )


def picture_forward(
    model: Diffusion, image: np.ndarray, path, *, columns: int = 10, seed: int = 0
) -> None:
    """The forward process q(x_t | x_0) of one real uint8 (28, 28) image, t = 0 to T."""
    from repgen.plots import labelled_rows

    x_0 = to_model_input(image[None])  # (1, 28, 28, 1)
    ts = np.linspace(0, model.timesteps, columns).round().astype(int)
    eps = np.random.default_rng(seed).standard_normal(x_0.shape).astype(np.float32)
    alpha_bar = np.concatenate([[1.0], model.alpha_bar])  # alpha_bar_0 = 1: x_0 itself
    # x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps  (DDPM Eq. 4)
    frames = [np.sqrt(alpha_bar[t]) * x_0 + np.sqrt(1 - alpha_bar[t]) * eps for t in ts]
    row = _to_unit(np.concatenate(frames))  # (columns, 28, 28)
    labelled_rows([row], ["x_t"], path, title=f"forward process, t = {', '.join(map(str, ts))}")


def save_pictures(
    model: Diffusion,
    class_names: list[str],
    real_image: np.ndarray,
    folder,
    *,
    steps: int,
    guidance: float,
    seed: int = 0,
) -> None:
    """samples_by_class.png, trajectory.png and forward.png in `folder`."""
    from pathlib import Path

    folder = Path(folder)
    picture_samples(
        model,
        class_names,
        folder / "samples_by_class.png",
        steps=steps,
        guidance=guidance,
        seed=seed,
    )
    picture_trajectory(model, folder / "trajectory.png", steps=steps, guidance=guidance, seed=seed)
    picture_forward(model, real_image, folder / "forward.png", seed=seed)

"""The variational autoencoder (Kingma & Welling 2014) for 8-bit images, optionally conditional.

Symbols: x the image (pixel values k / 255 in [0, 1]), y its class, z the latent code.
q(z | x) = N(mu, diag(exp(log_var))) is the encoder, p(z) = N(0, I) the prior, and
P(x | z) the decoder: one logistic per pixel, discretized into the 256 pixel values
(Salimans et al. 2017), so log P(x | z) is a log-probability of the 8-bit image and the
bound in bits per dimension compares with published figures.

Loss, the negative ELBO (Kingma & Welling 2014, eq. 3) with a weight on the KL term
(beta, Higgins et al. 2017) that rises linearly from 0 over `warmup_steps` (KL warm-up,
Sønderby et al. 2016):

    L = -E_q[log P(x | z)] + beta_t KL(q(z | x) || p(z))

With `conditional`, a one-hot y enters the encoder (as extra image channels) and the
decoder (beside z); every distribution above is then also conditioned on y.

    model = build_vae(latent_dim=16, width=32, learning_rate=1e-3)
    model.fit(batches_of_(images01, labels))
"""

import math

import keras
import numpy as np
import tensorflow as tf

from repgen.interfaces import Encoder, Generator
from repgen.metrics.likelihood import (
    discretized_logistic_log_prob,
    importance_weighted_bound,
    standard_normal_log_prob,
)

SIZE = 28
DIMS = SIZE * SIZE
MIN_LOG_SCALE = -7.0  # a pixel bin is 1/255 wide (log -5.5); narrower logistics gain nothing


def _encoder(*, latent_dim: int, width: int, channels: int) -> keras.Model:
    inputs = keras.Input((SIZE, SIZE, channels))
    x = keras.layers.Conv2D(width, 4, strides=2, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(2 * width, 4, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)  # (B, 7 * 7 * 2w)
    x = keras.layers.Dense(8 * width, activation="relu")(x)
    outputs = keras.layers.Dense(2 * latent_dim)(x)  # (B, 2 * latent): mu and log_var
    return keras.Model(inputs, outputs, name="encoder")


def _decoder(*, latent_dim: int, width: int, conditions: int) -> keras.Model:
    inputs = keras.Input((latent_dim + conditions,))
    x = keras.layers.Dense(8 * width, activation="relu")(inputs)
    x = keras.layers.Dense(7 * 7 * 2 * width, activation="relu")(x)
    x = keras.layers.Reshape((7, 7, 2 * width))(x)  # (B, 7, 7, 2w)
    x = keras.layers.Conv2DTranspose(2 * width, 4, strides=2, padding="same", activation="relu")(
        x
    )  # (B, 14, 14, 2w)
    x = keras.layers.Conv2DTranspose(width, 4, strides=2, padding="same", activation="relu")(
        x
    )  # (B, 28, 28, w)
    outputs = keras.layers.Conv2D(2, 3, padding="same")(x)  # (B, 28, 28, 2): mean, log scale
    return keras.Model(inputs, outputs, name="decoder")


def kl_divergence(mu: tf.Tensor, log_var: tf.Tensor) -> tf.Tensor:
    """KL(N(mu, diag exp(log_var)) || N(0, I)) per row, closed form (Kingma & Welling, B)."""
    return 0.5 * tf.reduce_sum(tf.square(mu) + tf.exp(log_var) - log_var - 1.0, axis=-1)


def gaussian_log_prob(z: tf.Tensor, mu: tf.Tensor, log_var: tf.Tensor) -> tf.Tensor:
    """log N(z; mu, diag exp(log_var)) per row."""
    terms = tf.square(z - mu) * tf.exp(-log_var) + log_var + math.log(2 * math.pi)
    return -0.5 * tf.reduce_sum(terms, axis=-1)


@keras.saving.register_keras_serializable(package="repgen")
class VAE(keras.Model):
    """Convolutional encoder to a Gaussian posterior; discretized-logistic decoder."""

    def __init__(
        self,
        *,
        latent_dim: int = 16,
        width: int = 32,
        num_classes: int = 10,
        conditional: bool = False,
        beta: float = 1.0,
        warmup_steps: int = 0,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.latent_dim, self.width, self.num_classes = latent_dim, width, num_classes
        self.conditional, self.beta, self.warmup_steps, self.seed = (
            conditional,
            beta,
            warmup_steps,
            seed,
        )
        conditions = num_classes if conditional else 0
        self.encoder = _encoder(latent_dim=latent_dim, width=width, channels=1 + conditions)
        self.decoder = _decoder(latent_dim=latent_dim, width=width, conditions=conditions)
        self.noise = keras.random.SeedGenerator(seed)
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("loss", "reconstruction", "kl", "bits_per_dim")
        }
        self.built = True  # the encoder and decoder above are built from their Inputs

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "width": self.width,
            "num_classes": self.num_classes,
            "conditional": self.conditional,
            "beta": self.beta,
            "warmup_steps": self.warmup_steps,
            "seed": self.seed,
        }

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _one_hot(self, labels, n: int) -> tf.Tensor | None:
        if not self.conditional:
            return None
        if labels is None:
            raise ValueError("a conditional VAE needs class labels")
        return tf.one_hot(tf.reshape(tf.cast(labels, tf.int32), [n]), self.num_classes)

    def encode(self, images: tf.Tensor, labels=None) -> tuple[tf.Tensor, tf.Tensor]:
        """Images (B, 28, 28, 1) in [0, 1] -> posterior mean and log variance, (B, latent)."""
        x = images
        y = self._one_hot(labels, tf.shape(images)[0])
        if y is not None:  # the label as constant extra channels
            planes = tf.ones_like(images) * y[:, None, None, :]  # (B, 28, 28, C)
            x = tf.concat([images, planes], axis=-1)  # (B, 28, 28, 1 + C)
        mu, log_var = tf.split(self.encoder(x), 2, axis=-1)
        return mu, log_var

    def decode(self, z: tf.Tensor, labels=None) -> tuple[tf.Tensor, tf.Tensor]:
        """Codes (B, latent) -> per-pixel logistic mean and log scale, each (B, 28, 28, 1)."""
        y = self._one_hot(labels, tf.shape(z)[0])
        h = z if y is None else tf.concat([z, y], axis=-1)  # (B, latent + C)
        mean, log_scale = tf.split(self.decoder(h), 2, axis=-1)
        return mean, tf.maximum(log_scale, MIN_LOG_SCALE)

    def log_likelihood(self, images, z, labels=None) -> tf.Tensor:
        """log P(x | z) of 8-bit images (values k / 255), summed over pixels: (B,)."""
        mean, log_scale = self.decode(z, labels)
        log_prob = discretized_logistic_log_prob(images, mean, log_scale)
        return tf.reduce_sum(log_prob, axis=[1, 2, 3])

    def call(self, images, labels=None):
        """Reconstruction: the decoder's mean at the posterior mean, clipped to [0, 1]."""
        mu, _ = self.encode(images, labels)
        return tf.clip_by_value(self.decode(mu, labels)[0], 0.0, 1.0)

    def kl_weight(self) -> tf.Tensor:
        """beta_t: beta, scaled by the warm-up fraction while warming up."""
        if self.warmup_steps <= 0:
            return tf.constant(self.beta, tf.float32)
        step = tf.cast(self.optimizer.iterations + 1, tf.float32)
        return self.beta * tf.minimum(1.0, step / self.warmup_steps)

    def _terms(self, data) -> tuple[tf.Tensor, tf.Tensor]:
        """Per-image reconstruction nll and KL in nats, with one reparameterised sample."""
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        # 1. q(z | x): mean and log variance.
        mu, log_var = self.encode(images, labels)
        # 2. Reparameterisation: z = mu + sigma * eps, eps ~ N(0, I) (Kingma & Welling, eq. 10).
        eps = keras.random.normal(tf.shape(mu), seed=self.noise)
        z = mu + tf.exp(0.5 * log_var) * eps
        # 3. -log P(x | z) and the closed-form KL.
        return -self.log_likelihood(images, z, labels), kl_divergence(mu, log_var)

    def _update(self, loss, reconstruction, kl) -> dict:
        self.trackers["loss"].update_state(loss)
        self.trackers["reconstruction"].update_state(reconstruction)
        self.trackers["kl"].update_state(kl)
        # The ELBO in bits/dim (beta = 1): an upper bound on the test figure.
        self.trackers["bits_per_dim"].update_state((reconstruction + kl) / (DIMS * math.log(2)))
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data):
        with tf.GradientTape() as tape:
            reconstruction, kl = self._terms(data)
            loss = tf.reduce_mean(reconstruction + self.kl_weight() * kl)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        return self._update(loss, reconstruction, kl)

    def test_step(self, data):
        reconstruction, kl = self._terms(data)
        return self._update(tf.reduce_mean(reconstruction + self.beta * kl), reconstruction, kl)

    def log_importance_weights(self, images, labels=None, *, k: int, seed: int) -> tf.Tensor:
        """log w_i = log P(x | z_i) + log p(z_i) - log q(z_i | x), z_i ~ q: (k, B)."""
        mu, log_var = self.encode(images, labels)
        b = tf.shape(mu)[0]
        eps = tf.random.stateless_normal([k, b, self.latent_dim], seed=[seed, 0])
        z = mu[None] + tf.exp(0.5 * log_var)[None] * eps  # (k, B, latent)
        flat_z = tf.reshape(z, [k * b, self.latent_dim])  # (k B, latent)
        repeat = tf.tile(images, [k, 1, 1, 1])  # (k B, 28, 28, 1), k-major like flat_z
        flat_labels = None if labels is None else tf.tile(labels, [k])
        log_px = tf.reshape(self.log_likelihood(repeat, flat_z, flat_labels), [k, b])
        log_pz = tf.reshape(standard_normal_log_prob(flat_z), [k, b])
        return log_px + log_pz - gaussian_log_prob(z, mu[None], log_var[None])


def build_vae(*, learning_rate: float = 1e-3, **kwargs) -> VAE:
    """A compiled VAE; keyword arguments go to VAE."""
    model = VAE(**kwargs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return model


def to_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1), pixel k at k / 255."""
    return (np.asarray(images, np.float32) / 255.0)[..., None]


def _labels_for(model: VAE, n: int, labels, rng: np.random.Generator):
    if not model.conditional:
        return None
    if labels is None:
        return rng.integers(0, model.num_classes, n)
    return np.asarray(labels, np.int64)


def decode_means(model: VAE, z: np.ndarray, labels=None, batch_size: int = 500) -> np.ndarray:
    """Codes (N, latent) -> the decoder's means, float32 (N, 28, 28) clipped to [0, 1]."""
    out = []
    for start in range(0, len(z), batch_size):
        part = None if labels is None else labels[start : start + batch_size]
        mean, _ = model.decode(tf.constant(z[start : start + batch_size], tf.float32), part)
        out.append(np.clip(mean.numpy()[..., 0], 0.0, 1.0))
    return np.concatenate(out) if out else np.zeros((0, SIZE, SIZE), np.float32)


def sample(model: VAE, n: int, labels=None, seed: int = 0) -> np.ndarray:
    """n images, float32 (n, 28, 28) in [0, 1]: z ~ p(z), then the decoder's mean (the
    usual VAE picture; a draw from the per-pixel logistics would add pixel noise)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, model.latent_dim)).astype(np.float32)
    return decode_means(model, z, _labels_for(model, n, labels, rng))


def encode_mean(model: VAE, images: np.ndarray, labels=None, batch_size: int = 500):
    """uint8 (N, 28, 28) (and labels, for a conditional VAE) -> posterior means (N, latent)."""
    codes = []
    for start in range(0, len(images), batch_size):
        x = tf.constant(to_input(images[start : start + batch_size]))
        y = None if labels is None else tf.constant(labels[start : start + batch_size])
        codes.append(model.encode(x, y)[0].numpy())
    return np.concatenate(codes)


def generators(params) -> list[Generator]:
    """The VAE's sampler; conditional when `vae.conditional` is set."""
    return [Generator(name="vae", model="vae", conditional=params.vae.conditional, sample=sample)]


def encoders(params) -> list[Encoder]:
    """The posterior mean as the VAE's code. A conditional VAE's code needs the label and is
    built to carry no class information, so only the unconditional VAE is listed."""
    if params.vae.conditional:
        return []
    return [Encoder(name="vae", model="vae", encode=encode_mean)]


def importance_weighted_nll(
    model: VAE, images: np.ndarray, labels=None, *, k: int, seed: int, batch_size: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (N, 28, 28) -> per-image nll bounds in nats, float64 (N,) each: the k-sample
    importance-weighted one (Burda et al. 2016) and the plain ELBO (its k-sample mean)."""
    iw, elbo = [], []
    for start in range(0, len(images), batch_size):
        x = tf.constant(to_input(images[start : start + batch_size]))
        y = None if labels is None else tf.constant(labels[start : start + batch_size])
        log_w = model.log_importance_weights(x, y, k=k, seed=seed + start)  # (k, B)
        iw.append(-importance_weighted_bound(log_w).numpy())
        elbo.append(-tf.reduce_mean(log_w, axis=0).numpy())
    return np.concatenate(iw).astype(np.float64), np.concatenate(elbo).astype(np.float64)


def interpolations(model: VAE, images: np.ndarray, labels=None, *, steps: int) -> np.ndarray:
    """Decoded straight lines between the posterior means of image pairs (a[i], b[i]):
    images uint8 (2, P, 28, 28) -> float32 (P, steps, 28, 28), ends included."""
    a, b = (encode_mean(model, side, labels) for side in images)  # (P, latent) each
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]  # (1, steps, 1)
    z = (1 - t) * a[:, None] + t * b[:, None]  # (P, steps, latent)
    flat_labels = None if labels is None else np.repeat(labels, steps)
    decoded = decode_means(model, z.reshape(-1, model.latent_dim), flat_labels)
    return decoded.reshape(len(a), steps, SIZE, SIZE)  # (P, steps, 28, 28)


def latent_walk(
    model: VAE, *, rows: int, steps: int, seed: int, radius: float = 2.5, labels=None
) -> np.ndarray:
    """Decoded codes along lines through the prior's centre, z = r u with u a random unit
    direction per row and r from -radius to radius: float32 (rows, steps, 28, 28)."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((rows, model.latent_dim)).astype(np.float32)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    r = np.linspace(-radius, radius, steps, dtype=np.float32)[None, :, None]  # (1, steps, 1)
    z = r * u[:, None]  # (rows, steps, latent)
    flat_labels = None if labels is None else np.repeat(labels, steps)
    decoded = decode_means(model, z.reshape(-1, model.latent_dim), flat_labels)
    return decoded.reshape(rows, steps, SIZE, SIZE)  # (rows, steps, 28, 28)


def save_pictures(
    model: VAE,
    images: np.ndarray,
    labels: np.ndarray,
    folder,
    *,
    grid_images: int,
    steps: int,
    seed: int = 0,
) -> None:
    """vae_samples.png, vae_reconstructions.png and vae_interpolations.png in `folder`, from
    test images uint8 (N >= 8, 28, 28) and their labels (used when the model is conditional)."""
    from pathlib import Path

    from repgen.io import save_png, to_uint8
    from repgen.plots import image_grid, labelled_rows

    folder = Path(folder)
    conditional = labels.astype(np.int32) if model.conditional else None
    samples = sample(model, grid_images, seed=seed)
    save_png(
        folder / "vae_samples.png",
        to_uint8(image_grid(samples, int(np.ceil(np.sqrt(grid_images))))),
        synthetic_from="vae",
        description="VAE samples: decoder means at codes from the prior",
    )
    shown = images[:8]
    recon = model(to_input(shown), None if conditional is None else conditional[:8])
    labelled_rows(
        [shown / 255.0, recon.numpy()[..., 0]],
        ["test", "reconstructed"],
        folder / "vae_reconstructions.png",
        title="VAE reconstructions",
        synthetic_from="vae",
    )
    pairs = np.stack([images[0:4], images[4:8]])  # (2, 4, 28, 28): image i+4 from image i
    held = None if conditional is None else conditional[0:4]  # the start image's label
    rows = interpolations(model, pairs, held, steps=steps)
    walk = latent_walk(model, rows=4, steps=steps, seed=seed, labels=held)
    labelled_rows(
        [*rows, *walk],
        [f"pair {i + 1}" for i in range(4)] + [f"line {i + 1}" for i in range(4)],
        folder / "vae_interpolations.png",
        title="VAE: between two test images; along lines through z = 0",
        synthetic_from="vae",
    )

"""Super-resolution: a residual generator with sub-pixel upsampling, trained on a content
(pixel MSE) loss, then fine-tuned with an adversarial loss as in SRGAN (Ledig et al. 2017,
arXiv:1609.04802).

Generator: low-res (B, h, w, 1) -> conv -> residual blocks -> sub-pixel convolution
(Shi et al. 2016, arXiv:1609.05158) x log2(factor) -> a residual image added to the
bilinear upsampling of the input -> (B, factor h, factor w, 1). It is fully convolutional,
so it upscales images of any size. Images are in [0, 1].

Losses, with y the high-res image, G(x) the generator's output and D a discriminator logit:
  content      L_c = mean((G(x) - y)^2)
  adversarial  L_G = L_c + adversarial_weight * softplus(-D(G(x)))       (non-saturating)
               L_D = softplus(-D(y)) + softplus(D(G(x)))
"""

import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from skimage.metrics import structural_similarity

from repgen.data.prepared import load_split
from repgen.interfaces import TwoOptimizers
from repgen.io import load_npz


@keras.saving.register_keras_serializable(package="repgen")
class PixelShuffle(keras.layers.Layer):
    """Depth to space: (B, H, W, r*r*C) -> (B, r H, r W, C)."""

    def __init__(self, *, factor: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        r = self.factor
        b, h, w = keras.ops.shape(x)[0], keras.ops.shape(x)[1], keras.ops.shape(x)[2]
        c = x.shape[-1] // (r * r)
        x = keras.ops.reshape(x, (b, h, w, r, r, c))  # (B, H, W, r, r, C)
        x = keras.ops.transpose(x, (0, 1, 3, 2, 4, 5))  # (B, H, r, W, r, C)
        return keras.ops.reshape(x, (b, h * r, w * r, c))  # (B, rH, rW, C)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _residual_block(x, width: int):
    h = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
    h = keras.layers.Conv2D(width, 3, padding="same")(h)
    return keras.layers.Add()([x, h])


def build_generator(*, factor: int = 2, width: int = 32, blocks: int = 3) -> keras.Model:
    """Low-res (B, h, w, 1) -> high-res (B, factor h, factor w, 1), both in [0, 1]."""
    low = keras.Input((None, None, 1), name="low_res")
    h = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(low)  # (B, h, w, C)
    skip = h
    for _ in range(blocks):
        h = _residual_block(h, width)
    h = keras.layers.Add()([skip, keras.layers.Conv2D(width, 3, padding="same")(h)])
    for _ in range(int(math.log2(factor))):  # each step doubles the size
        h = keras.layers.Conv2D(4 * width, 3, padding="same")(h)  # (B, H, W, 4C)
        h = PixelShuffle(factor=2)(h)  # (B, 2H, 2W, C)
        h = keras.layers.ReLU()(h)
    residual = keras.layers.Conv2D(1, 3, padding="same")(h)
    base = keras.layers.UpSampling2D(factor, interpolation="bilinear")(low)
    return keras.Model(low, keras.layers.Add()([base, residual]), name="generator")


def build_discriminator(*, width: int = 32) -> keras.Model:
    """High-res images (B, 28, 28, 1) in [0, 1] -> logits (B, 1)."""
    images = keras.Input((28, 28, 1), name="images")
    h = keras.layers.Conv2D(width, 4, strides=2, padding="same")(images)
    h = keras.layers.LeakyReLU(0.2)(h)  # (B, 14, 14, C)
    h = keras.layers.Conv2D(2 * width, 4, strides=2, padding="same")(h)
    h = keras.layers.LeakyReLU(0.2)(h)  # (B, 7, 7, 2C)
    h = keras.layers.Flatten()(h)  # (B, 7 * 7 * 2C)
    return keras.Model(images, keras.layers.Dense(1)(h), name="discriminator")


@keras.saving.register_keras_serializable(package="repgen")
class SuperResolution(TwoOptimizers, keras.Model):
    """Generator (and discriminator) of super-resolution; content loss alone when
    adversarial_weight is 0, else SRGAN-style fine-tuning. Batches are (low, high) images."""

    def __init__(
        self,
        *,
        factor: int = 2,
        width: int = 32,
        blocks: int = 3,
        adversarial_weight: float = 0.0,
        learning_rate: float = 1e-3,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.factor, self.width, self.blocks = factor, width, blocks
        self.adversarial_weight, self.learning_rate = adversarial_weight, learning_rate
        self.generator = build_generator(factor=factor, width=width, blocks=blocks)
        self.discriminator = build_discriminator(width=width)
        self.content_tracker = keras.metrics.Mean(name="content_loss")
        self.g_adv_tracker = keras.metrics.Mean(name="g_adversarial_loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.built = True

    @property
    def adversarial(self) -> bool:
        return self.adversarial_weight > 0

    def make_optimizers(self):
        """Adam for the generator; for the discriminator (used when adversarial) beta_1 0.5."""
        return (
            keras.optimizers.Adam(self.learning_rate),
            keras.optimizers.Adam(self.learning_rate, beta_1=0.5),
        )

    @property
    def metrics(self):
        if self.adversarial:
            return [self.content_tracker, self.g_adv_tracker, self.d_loss_tracker]
        return [self.content_tracker]

    def call(self, low, training=False):
        return self.generator(low, training=training)

    def train_step(self, data):
        low, high = data
        if self.adversarial:
            self._discriminator_step(low, high)
        with tf.GradientTape() as tape:
            # 1. content loss L_c
            fake = self.generator(low, training=True)
            content = tf.reduce_mean(tf.square(fake - high))
            loss = content
            # 2. the adversarial term of L_G
            if self.adversarial:
                adversarial = tf.reduce_mean(tf.nn.softplus(-self.discriminator(fake)))
                loss = content + self.adversarial_weight * adversarial
                self.g_adv_tracker.update_state(adversarial)
        variables = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(
            zip(tape.gradient(loss, variables), variables, strict=True)
        )
        self.content_tracker.update_state(content)
        return {m.name: m.result() for m in self.metrics}

    def _discriminator_step(self, low, high):
        fake = self.generator(low, training=False)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(high, training=True)
            fake_logits = self.discriminator(fake, training=True)
            loss = tf.reduce_mean(tf.nn.softplus(-real_logits) + tf.nn.softplus(fake_logits))
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(
            zip(tape.gradient(loss, variables), variables, strict=True)
        )
        self.d_loss_tracker.update_state(loss)

    def test_step(self, data):
        low, high = data
        content = tf.reduce_mean(tf.square(self.generator(low, training=False) - high))
        self.content_tracker.update_state(content)
        return {self.content_tracker.name: self.content_tracker.result()}

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "width": self.width,
            "blocks": self.blocks,
            "adversarial_weight": self.adversarial_weight,
            "learning_rate": self.learning_rate,
        }


def build_superres(cfg, *, adversarial: bool, initial: keras.Model | None = None):
    """A compiled SuperResolution model from the `superres` params section; `initial` (the
    content-loss model) gives the generator's starting weights for adversarial fine-tuning."""
    model = SuperResolution(
        factor=cfg.factor,
        width=cfg.width,
        blocks=cfg.blocks,
        adversarial_weight=cfg.adversarial_weight if adversarial else 0.0,
        learning_rate=cfg.gan_learning_rate if adversarial else cfg.learning_rate,
    )
    if initial is not None:
        model.generator.set_weights(initial.generator.get_weights())
    model.compile()
    return model


def to_input(images_u8: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) -> float32 (N, H, W, 1) in [0, 1]."""
    return (np.asarray(images_u8, np.float32) / 255.0)[..., None]


def upscale(model: SuperResolution, low: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Float images in [0, 1], shape (N, h, w) -> float32 (N, factor h, factor w) in [0, 1]."""
    low = np.asarray(low, np.float32)[..., None]  # (N, h, w, 1)
    out = model.generator.predict(low, batch_size=batch_size, verbose=0)[..., 0]
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def bicubic(low: np.ndarray, factor: int) -> np.ndarray:
    """Bicubic interpolation (Keys, a = -0.5) of (N, h, w) images in [0, 1], clipped."""
    n, h, w = low.shape
    up = tf.image.resize(
        np.asarray(low, np.float32)[..., None], (h * factor, w * factor), method="bicubic"
    )  # (N, fh, fw, 1)
    return np.clip(up.numpy()[..., 0], 0.0, 1.0)


def quality(predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """Mean PSNR (dB) and SSIM over (N, H, W) images in [0, 1], data range 1.

    PSNR is computed per image as skimage.metrics.peak_signal_noise_ratio does; SSIM over
    the images as channels, which averages the per-image SSIM.
    """
    predicted, target = np.asarray(predicted, np.float64), np.asarray(target, np.float64)
    mse = np.mean((predicted - target) ** 2, axis=(1, 2))  # (N,)
    psnr = 10.0 * np.log10(1.0 / np.maximum(mse, 1e-10))
    ssim = structural_similarity(
        target.transpose(1, 2, 0), predicted.transpose(1, 2, 0), data_range=1.0, channel_axis=-1
    )
    return {"psnr": float(psnr.mean()), "ssim": float(ssim)}


def load_pairs(
    prepared, corrupted, factor: int, split: str, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(low-res, high-res) float32 (N, h, w, 1) and (N, 28, 28, 1) in [0, 1] of one split:
    data/corrupted/lowres_x<factor>.npz beside the prepared images, first `limit` of them."""
    low = load_npz(Path(corrupted) / f"lowres_x{factor}.npz")[split][:limit]
    high = load_split(prepared, split)[0][:limit]
    return to_input(low), to_input(high)

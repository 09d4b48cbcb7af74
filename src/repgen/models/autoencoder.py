"""The autoencoders of the chapter: dense, convolutional and denoising.

All three take float32 (B, 28, 28, 1) images in [0, 1] and are trained on the mean squared
error (the loss that PSNR measures); `reconstruct` clips their outputs to [0, 1]:

- `DenseAutoencoder`: the chapter's stacked autoencoder, 784-128-codings-128-784, sigmoid out;
- `ConvAutoencoder`: two strided convolutions down to a small dense code and back up;
- `DenoisingAutoencoder`: a small U-Net (two scales of skip connections) that maps a corrupted
  image to the clean one, as the input plus a predicted correction. Every training batch is
  corrupted afresh inside `train_step`, each image with its own setting drawn from the
  configured kinds and levels (weighted), so one model serves every corruption the
  evaluation uses. It is fully convolutional, so it also denoises images of other sizes
  (multiples of 4); its code is the flattened bottleneck. Its loss is the error of the
  output clipped to [0, 1], what `reconstruct` reports: the net may then overshoot below 0
  on the black background, where the clip gives the exact zeros that SSIM rewards (SSIM's
  constants make a residual of 0.01 on a black patch cost it a fifth); a tenth of the
  unclipped error keeps a gradient on pixels stuck below 0.

The in-graph corruptions follow repgen.corrupt (skimage.util.random_noise) except two
approximations, both cheap in TensorFlow: Poisson noise is drawn as its Gaussian limit
x + sqrt(x / level) * n, and masking hides cells of a randomly shifted grid of `mask_block`
squares, each with probability `level`, rather than placing overlapping blocks until the
covered fraction reaches `level`. The evaluation uses the exact corruptions of data/corrupted.
"""

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from repgen.interfaces import Encoder
from repgen.io import load_npz, save_png, to_uint8
from repgen.plots import image_grid, labelled_rows

IMAGE_SHAPE = (28, 28, 1)

# The kinds the denoising autoencoder trains on: repgen.corrupt's, plus the chapter's dropout
# (each pixel zeroed with probability `level`).
NOISE_KINDS = ("gaussian", "salt_and_pepper", "speckle", "poisson", "masking", "dropout")


class ReconstructionModel(keras.Model):
    """Shared training logic: MSE between the output and the clean image, one loss tracker.

    Training batches are clean images (B, 28, 28, 1); `training_input` may corrupt them.
    Validation batches are (input, target) pairs, so a denoiser is validated on fixed noise.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def training_input(self, clean):
        return clean

    def training_loss(self, output, clean):
        return ops.mean(ops.square(output - clean))

    def train_step(self, data):
        clean = data[0] if isinstance(data, tuple) else data
        noisy = self.training_input(clean)
        with tf.GradientTape() as tape:
            loss = self.training_loss(self(noisy, training=True), clean)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        inputs, targets = data
        reported = ops.clip(self(inputs), 0.0, 1.0)  # as `reconstruct` reports it
        self.loss_tracker.update_state(ops.mean(ops.square(reported - targets)))
        return {"loss": self.loss_tracker.result()}

    def encode(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """float32 (N, 28, 28, 1) in [0, 1] -> codes float32 (N, D).

        Batch by batch into one array: predict() holds every batch and their concatenation at
        once, three times the codes' size (2 GiB for the denoiser's 3136-dim training codes).
        """
        encoder = self.encoder
        codes = None
        for start in range(0, len(images), batch_size):
            batch = ops.convert_to_numpy(encoder(images[start : start + batch_size]))
            batch = batch.reshape(len(batch), -1)  # (B, D)
            if codes is None:
                codes = np.empty((len(images), batch.shape[1]), np.float32)
            codes[start : start + len(batch)] = batch
        return codes


@keras.saving.register_keras_serializable(package="repgen")
class DenseAutoencoder(ReconstructionModel):
    """784 -> hidden -> codings -> hidden -> 784, ReLU inside, sigmoid out."""

    def __init__(self, *, hidden: int = 128, codings: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.hidden, self.codings = hidden, codings
        self.encoder = keras.Sequential(
            [
                keras.Input(IMAGE_SHAPE),
                layers.Flatten(),  # (B, 784)
                layers.Dense(hidden, activation="relu"),
                layers.Dense(codings, name="codings"),  # linear: the code is not squashed
            ],
            name="encoder",
        )
        self.decoder = keras.Sequential(
            [
                keras.Input((codings,)),
                layers.Dense(hidden, activation="relu"),
                layers.Dense(784, activation="sigmoid"),
                layers.Reshape(IMAGE_SHAPE),  # (B, 28, 28, 1)
            ],
            name="decoder",
        )

    def call(self, images, training=False):
        return self.decoder(self.encoder(images, training=training), training=training)

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "codings": self.codings}


@keras.saving.register_keras_serializable(package="repgen")
class ConvAutoencoder(ReconstructionModel):
    """Two stride-2 convolutions (w, 2w) to a dense code of `codings` numbers, and back."""

    def __init__(self, *, width: int = 16, codings: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.width, self.codings = width, codings
        self.encoder = keras.Sequential(
            [
                keras.Input(IMAGE_SHAPE),
                layers.Conv2D(
                    width, 3, strides=2, padding="same", activation="relu"
                ),  # (B,14,14,w)
                layers.Conv2D(2 * width, 3, strides=2, padding="same", activation="relu"),  # 7x7x2w
                layers.Flatten(),  # (B, 7 * 7 * 2w)
                layers.Dense(codings, name="codings"),
            ],
            name="encoder",
        )
        self.decoder = keras.Sequential(
            [
                keras.Input((codings,)),
                layers.Dense(7 * 7 * 2 * width, activation="relu"),
                layers.Reshape((7, 7, 2 * width)),  # (B, 7, 7, 2w)
                layers.Conv2DTranspose(width, 3, strides=2, padding="same", activation="relu"),
                layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid"),
            ],
            name="decoder",
        )  # (B, 28, 28, 1)

    def call(self, images, training=False):
        return self.decoder(self.encoder(images, training=training), training=training)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "codings": self.codings}


def unet(width: int, depth_convs: int = 2) -> keras.Model:
    """A two-scale U-Net (w, 2w, 4w channels): (B, H, W, 1) -> input + correction (B, H, W, 1).

    H and W must be multiples of 4. The layer named "bottleneck" is the code.
    """

    def convs(x, channels, n, name=None):
        for i in range(n):
            x = layers.Conv2D(
                channels, 3, padding="same", activation="relu", name=name if i == n - 1 else None
            )(x)
        return x

    inputs = keras.Input((None, None, 1), name="image")
    skip1 = convs(inputs, width, depth_convs)  # (B, H, W, w)
    x = layers.Conv2D(2 * width, 3, strides=2, padding="same", activation="relu")(skip1)
    skip2 = convs(x, 2 * width, depth_convs - 1)  # (B, H/2, W/2, 2w)
    x = layers.Conv2D(4 * width, 3, strides=2, padding="same", activation="relu")(skip2)
    x = convs(x, 4 * width, depth_convs, name="bottleneck")  # (B, H/4, W/4, 4w)
    x = layers.Conv2DTranspose(2 * width, 2, strides=2, activation="relu")(x)  # (B, H/2, W/2, 2w)
    x = convs(layers.Concatenate()([x, skip2]), 2 * width, depth_convs - 1)
    x = layers.Conv2DTranspose(width, 2, strides=2, activation="relu")(x)  # (B, H, W, w)
    x = convs(layers.Concatenate()([x, skip1, inputs]), width, depth_convs - 1)
    # Residual: the net predicts the correction to its input, so it starts at the identity
    # and learns much faster than predicting the clean image outright.
    correction = layers.Conv2D(1, 3, padding="same")(x)  # (B, H, W, 1)
    return keras.Model(inputs, layers.Add()([inputs, correction]), name="unet")


@keras.saving.register_keras_serializable(package="repgen")
class DenoisingAutoencoder(ReconstructionModel):
    """A U-Net denoiser trained on fresh corruption every batch.

    `noise` maps each kind of NOISE_KINDS to its levels; `noise_weights` (same keys) is the share
    of training images that kind gets, split evenly among its levels.
    """

    def __init__(
        self,
        *,
        width: int = 16,
        noise: dict | None = None,
        noise_weights: dict | None = None,
        mask_block: int = 4,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.width, self.mask_block, self.seed = width, mask_block, seed
        self.noise = {k: [float(v) for v in levels] for k, levels in (noise or {}).items()}
        self.noise_weights = {k: float(v) for k, v in (noise_weights or {}).items()}
        unknown = set(self.noise) - set(NOISE_KINDS)
        if unknown or not self.noise:
            raise ValueError(f"noise kinds {sorted(unknown) or 'none'}: allowed {NOISE_KINDS}")
        self.settings = [(k, lv) for k in NOISE_KINDS for lv in self.noise.get(k, [])]
        shares = [self.noise_weights.get(k, 1.0) / len(self.noise[k]) for k, _ in self.settings]
        self.setting_logits = np.log(np.asarray(shares, np.float32) / sum(shares))
        self.net = unet(width)
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def encoder(self):
        return keras.Model(self.net.inputs, self.net.get_layer("bottleneck").output)

    def call(self, images, training=False):
        return self.net(images, training=training)

    def training_loss(self, output, clean):
        """MSE of the clipped output, plus a tenth of the unclipped MSE (module docstring)."""
        clipped = ops.mean(ops.square(ops.clip(output, 0.0, 1.0) - clean))
        return clipped + 0.1 * ops.mean(ops.square(output - clean))

    def training_input(self, clean):
        """Each image gets one (kind, level) drawn by weight, applied in-graph."""
        choice = tf.random.stateless_categorical(
            tf.broadcast_to(self.setting_logits, (ops.shape(clean)[0], len(self.settings))),
            1,
            seed=self._seed(),
        )[:, 0]  # (B,)
        candidates = ops.stack([self._corrupt(clean, k, lv) for k, lv in self.settings])
        pick = ops.one_hot(choice, len(self.settings))  # (B, S)
        pick = ops.transpose(pick)[:, :, None, None, None]  # (S, B, 1, 1, 1)
        return ops.sum(candidates * pick, axis=0)  # (B, H, W, 1)

    def _seed(self):
        return ops.cast(keras.random.randint((2,), 0, 2**31 - 1, seed=self.seed_generator), "int32")

    def _corrupt(self, x, kind: str, level: float):
        shape = ops.shape(x)
        gen = self.seed_generator
        if kind == "gaussian":
            return ops.clip(x + level * keras.random.normal(shape, seed=gen), 0.0, 1.0)
        if kind == "speckle":
            return ops.clip(x + x * level * keras.random.normal(shape, seed=gen), 0.0, 1.0)
        if kind == "poisson":  # the Gaussian limit of Poisson(level * x) / level
            spread = ops.sqrt(x / level) * keras.random.normal(shape, seed=gen)
            return ops.clip(x + spread, 0.0, 1.0)
        u = keras.random.uniform(shape, seed=gen)
        if kind == "salt_and_pepper":  # half of the hit pixels white, half black
            return ops.where(u < level / 2, 1.0, ops.where(u < level, 0.0, x))
        if kind == "dropout":
            return ops.where(u < level, 0.0, x)
        return x * self._block_mask(shape, level)  # masking

    def _block_mask(self, shape, level):
        """1 where visible: a grid of `mask_block` cells, shifted at random per batch."""
        b, h, w = shape[0], shape[1], shape[2]
        cells_h, cells_w = h // self.mask_block + 1, w // self.mask_block + 1
        keep = keras.random.uniform((b, cells_h, cells_w, 1), seed=self.seed_generator) >= level
        keep = ops.repeat(
            ops.repeat(ops.cast(keep, "float32"), self.mask_block, axis=1), self.mask_block, axis=2
        )  # (B, cells_h * block, cells_w * block, 1)
        offset = keras.random.randint((2,), 0, self.mask_block, seed=self.seed_generator)
        return ops.slice(keep, (0, offset[0], offset[1], 0), (b, h, w, 1))  # (B, H, W, 1)

    def get_config(self):
        return {
            **super().get_config(),
            "width": self.width,
            "noise": self.noise,
            "noise_weights": self.noise_weights,
            "mask_block": self.mask_block,
            "seed": self.seed,
        }


def compile_model(
    model: ReconstructionModel, *, learning_rate: float, decay_steps: int | None = None
) -> ReconstructionModel:
    """Build on a dummy batch and compile with Adam (cosine decay when `decay_steps`)."""
    model(np.zeros((1, *IMAGE_SHAPE), np.float32))
    schedule = (
        keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps)
        if decay_steps
        else learning_rate
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule))
    return model


def build(name: str, cfg, *, decay_steps: int | None = None, seed: int = 0) -> ReconstructionModel:
    """The compiled model `name` from its params section."""
    if name == "autoencoder":
        model = DenseAutoencoder(hidden=cfg.hidden, codings=cfg.codings, name=name)
    elif name == "conv_autoencoder":
        model = ConvAutoencoder(width=cfg.width, codings=cfg.codings, name=name)
    elif name == "denoising_autoencoder":
        model = DenoisingAutoencoder(
            width=cfg.width,
            noise=cfg.noise.model_dump(),
            noise_weights=cfg.noise_weights.model_dump(),
            mask_block=cfg.mask_block,
            seed=seed,
            name=name,
        )
    else:
        raise ValueError(f"unknown autoencoder {name!r}; allowed: {', '.join(MODELS)}")
    return compile_model(model, learning_rate=cfg.learning_rate, decay_steps=decay_steps)


MODELS = ("autoencoder", "conv_autoencoder", "denoising_autoencoder")


def to_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]."""
    return (np.asarray(images, np.float32) / 255.0)[..., None]


def reconstruct(model: keras.Model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """float images (N, H, W) in [0, 1] -> the model's output (N, H, W) in [0, 1]."""
    images = np.asarray(images, np.float32)[..., None]  # (N, H, W, 1)
    out = model.predict(images, batch_size=batch_size, verbose=0)[..., 0]
    return np.clip(out, 0.0, 1.0)  # the denoiser's residual output is not bounded


def _encode(model: ReconstructionModel, images_u8: np.ndarray) -> np.ndarray:
    return model.encode(to_input(images_u8))


def encoders(params) -> list[Encoder]:
    """The codes of all three autoencoders, for evaluate_latent."""
    return [Encoder(name, name, _encode) for name in MODELS]


def preview_rows(model: keras.Model, clean: np.ndarray, inputs: dict[str, np.ndarray]):
    """Rows of images (K, 28, 28) and their labels: the clean images, then per input set
    (e.g. one per corruption) the input and the model's output."""
    rows, labels = [clean], ["clean"]
    for name, images in inputs.items():
        if name != "clean":
            rows.append(images)
            labels.append(name)
        rows.append(reconstruct(model, images))
        labels.append("denoised" if name != "clean" else "reconstruction")
    return rows, labels


def preview_logger(name: str, clean: np.ndarray, inputs: dict[str, np.ndarray]):
    """on_epoch_end for fit(): the same validation images, reconstructed, as a dvclive image."""

    def log(model, epoch, live):
        rows, _ = preview_rows(model, clean, inputs)
        grid = to_uint8(image_grid(np.concatenate(rows), len(clean)))
        image = f"reconstructions/epoch_{epoch + 1:03d}.png"
        live.log_image(image, grid)
        # dvclive writes plain PNGs; rewrite the file so that it says it is synthetic
        save_png(Path(live.plots_dir) / "images" / image, grid, synthetic_from=name)

    return log


def fit_autoencoder(
    name: str, params, prepared: Path, model_path: Path, corrupted: Path | None = None
) -> keras.Model:
    """Train the autoencoder `name` through the harness, then save its reconstructions PNG.

    Plain autoencoders validate on reconstructing the valid set; the denoising one on the
    first `valid_limit` valid images of every setting in `corrupted`/valid.npz.
    """
    from repgen.data.prepared import load_split
    from repgen.data.splits import limit
    from repgen.training import TrainPaths, fingerprint, fit, shuffled_batches

    cfg = getattr(params, name)
    train_x = to_input(limit(*load_split(prepared, "train"), cfg.train_limit)[0])
    clean_u8 = load_split(prepared, "valid")[0]
    files = [prepared / "train.npz", prepared / "valid.npz"]
    clean = clean_u8[: cfg.preview_images] / 255.0
    preview = {"clean": clean}
    if corrupted is None:
        valid = (to_input(clean_u8), to_input(clean_u8))
    else:
        noisy = load_npz(corrupted / "valid.npz")
        files.append(corrupted / "valid.npz")
        n = min(cfg.valid_limit, len(clean_u8))
        valid = (
            np.concatenate([to_input(v[:n]) for v in noisy.values()]),
            np.concatenate([to_input(clean_u8[:n])] * len(noisy)),
        )
        preview = {key: v[: cfg.preview_images] / 255.0 for key, v in noisy.items()}
    steps = -(-len(train_x) // cfg.batch_size)
    paths = TrainPaths.for_model(name, model_path)
    model = fit(
        name,
        build=lambda: build(name, cfg, decay_steps=steps * cfg.epochs, seed=params.seed),
        batches=lambda epoch: shuffled_batches(
            (train_x,), cfg.batch_size, seed=params.seed, epoch=epoch
        ),
        epochs=cfg.epochs,
        seed=params.seed,
        fingerprint=fingerprint(cfg, params.seed, files=tuple(files)),
        paths=paths,
        valid=shuffled_batches(valid, 512, seed=0, epoch=0),
        strategy=params.training.strategy,
        on_epoch_end=preview_logger(name, clean, preview),
    )
    rows, labels = preview_rows(model, clean, preview)
    labelled_rows(
        rows,
        labels,
        paths.live / "reconstructions.png",
        synthetic_from=name,
        title=f"{name}: validation images",
    )
    return model

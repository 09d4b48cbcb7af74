"""What a generator and an encoder are: the two small interfaces the model modules
implement, kept apart from the registries (repgen.generators, repgen.encoders) so that a
model module can name them without importing every other model; and the two-optimizer
protocol of adversarial models that the training harness relies on."""

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

# sample(model, n, labels, seed) -> float32 (n, 28, 28) in [0, 1]; labels is an int array
# of shape (n,) for a conditional generator, or None for unconditional sampling.
Sampler = Callable[..., np.ndarray]


@dataclass(frozen=True)
class Generator:
    """One way of drawing images from one trained model."""

    name: str  # the key in metrics/generative.json, e.g. "diffusion_ddim_50"
    model: str  # the trained model's name: models/<model>.keras
    conditional: bool  # accepts class labels
    sample: Sampler


@dataclass(frozen=True)
class Encoder:
    """One way of encoding images with one trained model."""

    name: str  # the key in metrics/latent.json
    model: str  # the trained model's name: models/<model>.keras
    encode: Callable[..., np.ndarray]  # (model, uint8 images (N, 28, 28)) -> float32 (N, D)


class TwoOptimizers:
    """Mixin for a keras.Model with a generator and a discriminator, each with its own
    optimizer, `g_optimizer` and `d_optimizer`, from `make_optimizers()`.

    The harness calls `build_optimizers()` before restoring a checkpoint, so the optimizer
    slots exist when their saved values are loaded; `compile` builds them too.
    """

    generator: keras.Model
    discriminator: keras.Model

    def make_optimizers(self) -> tuple[keras.optimizers.Optimizer, keras.optimizers.Optimizer]:
        """(generator's optimizer, discriminator's optimizer), unbuilt."""
        raise NotImplementedError

    def build_optimizers(self) -> None:
        if getattr(self, "g_optimizer", None) is None:
            self.g_optimizer, self.d_optimizer = self.make_optimizers()
        if not self.g_optimizer.built:
            self.g_optimizer.build(self.generator.trainable_variables)
            self.d_optimizer.build(self.discriminator.trainable_variables)

    def compile(self, **kwargs):
        self.build_optimizers()
        super().compile(optimizer=self.g_optimizer, **kwargs)

"""What a generator and an encoder are: the two small interfaces the model modules
implement, kept apart from the registries (repgen.generators, repgen.encoders) so that a
model module can name them without importing every other model."""

from collections.abc import Callable
from dataclasses import dataclass

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

"""The registry of encoders: every model that maps images to codes, for evaluate_latent.

    for enc in encoders(params):
        model = load_model(f"models/{enc.model}.keras")
        codes = enc.encode(model, images)  # images uint8 (N, 28, 28) -> float32 (N, D)

A model module joins by defining `encoders(params) -> list[Encoder]` and being listed
in _MODULES.
"""

import importlib

from repgen.interfaces import Encoder

__all__ = ["Encoder", "encoders"]


def encoders(params) -> list[Encoder]:
    """Every encoder that the params configure, in a fixed order."""
    found: list[Encoder] = []
    for module in _MODULES:
        found.extend(importlib.import_module(module).encoders(params))
    return found


# Model modules that define `encoders(params) -> list[Encoder]`.
_MODULES: list[str] = [
    "repgen.models.autoencoder",
    "repgen.models.vae",
]

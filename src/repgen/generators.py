"""The registry of generators: every model that makes images, and how to sample it.

One entry per sampler setting, named as metrics/generative.json names it (for example
`gan`, `diffusion_ddim_50`). The evaluation stages, the downstream stage and
`repgen sample` all go through this registry, so a new generator joins them all by adding
one entry to `generators()`.

    for gen in generators(params):
        model = load_model(f"models/{gen.model}.keras")
        images = gen.sample(model, n=64, labels=None, seed=0)  # float32 (64, 28, 28) in [0, 1]
"""

import importlib

from repgen.interfaces import Generator, Sampler

__all__ = ["Generator", "Sampler", "find", "generators"]


def generators(params) -> list[Generator]:
    """Every generator that the params configure, in a fixed order."""
    found: list[Generator] = []
    for module in _MODULES:
        found.extend(importlib.import_module(module).generators(params))
    return found


def find(params, name: str) -> Generator:
    """The generator called `name` (or the first one of model `name`); a RepgenError if none."""
    from repgen.errors import RepgenError

    available = generators(params)
    for gen in available:
        if gen.name == name:
            return gen
    for gen in available:
        if gen.model == name:
            return gen
    names = ", ".join(g.name for g in available) or "none configured"
    raise RepgenError(f"unknown generator '{name}'; available: {names}")


# Model modules that define `generators(params) -> list[Generator]`, in report order.
_MODULES: list[str] = [
    "repgen.models.gan",
    "repgen.models.vae",
    "repgen.models.flow",
    "repgen.models.diffusion",
]

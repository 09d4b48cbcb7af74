"""Stage evaluate_likelihood: bits per dimension of the VAE and the flow on the test set,
and the pictures of both models.

    python stages/evaluate_likelihood.py data/prepared models/vae.keras models/flow.keras \
        metrics/likelihood.json plots/likelihood

The flow's figure is exact (one uniform dequantization draw per image); the VAE's is the
importance-weighted bound with `likelihood.iw_samples` samples, its decoder a discretized
likelihood of the 8-bit pixels. Both are upper bounds on the discrete nll of the 8-bit
test images, in the units of published figures.
"""

import sys
import time
from pathlib import Path

import numpy as np

from repgen import config
from repgen.data import splits
from repgen.data.prepared import load_split
from repgen.errors import run_main
from repgen.io import save_png, to_uint8, write_json
from repgen.metrics.likelihood import summary
from repgen.models import flow, vae
from repgen.plots import image_grid
from repgen.training import load_model

DIMS = 28 * 28


def vae_metrics(model, images, labels, cfg, seed: int) -> dict:
    labels = labels.astype(np.int32) if model.conditional else None
    start = time.perf_counter()
    iw, elbo = vae.importance_weighted_nll(model, images, labels, k=cfg.iw_samples, seed=seed)
    out = summary(iw, DIMS)
    out["elbo_bits_per_dim"] = summary(elbo, DIMS)["bits_per_dim"]
    out.update(
        iw_samples=cfg.iw_samples,
        conditional=model.conditional,
        seconds=round(time.perf_counter() - start, 1),
    )
    return out


def flow_metrics(model, images, seed: int) -> dict:
    start = time.perf_counter()
    out = summary(flow.nll_nats(model, images, seed=seed), DIMS)
    return {**out, "seconds": round(time.perf_counter() - start, 1)}


def main(argv: list[str]) -> None:
    prepared, vae_path, flow_path = Path(argv[0]), Path(argv[1]), Path(argv[2])
    metrics_path, plots = Path(argv[3]), Path(argv[4])
    params = config.load()
    cfg = params.evaluate_likelihood
    images, labels = splits.limit(*load_split(prepared, "test"), cfg.test_limit)

    vae_model, flow_model = load_model(vae_path), load_model(flow_path)
    metrics = {
        "vae": vae_metrics(vae_model, images, labels, cfg, params.seed),
        "flow": flow_metrics(flow_model, images, params.seed),
    }
    write_json(metrics_path, metrics)

    vae.save_pictures(
        vae_model,
        images,
        labels,
        plots,
        grid_images=cfg.grid_images,
        steps=cfg.interpolation_steps,
        seed=params.seed,
    )
    n, ncols = cfg.grid_images, int(np.ceil(np.sqrt(cfg.grid_images)))
    samples = flow.sample(flow_model, n, seed=params.seed, temperature=params.flow.temperature)
    save_png(
        plots / "flow_samples.png",
        to_uint8(image_grid(samples, ncols)),
        synthetic_from="flow",
        description=f"temperature {params.flow.temperature}",
    )


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

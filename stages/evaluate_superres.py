"""Stage evaluate_superres: PSNR and SSIM of bicubic interpolation and of both generators.

    python stages/evaluate_superres.py data/prepared data/corrupted models/superres.keras \
        models/superres_gan.keras metrics/superres.json plots/superres/comparison.png

metrics/superres.json holds `<method>.psnr` and `.ssim` for bicubic, superres (content loss)
and superres_gan (adversarial), means over the test set; the picture shows the same test
images as low-res input, bicubic, each generator and the original.
"""

import logging
import sys
from pathlib import Path

import numpy as np

from repgen import config
from repgen.errors import run_main
from repgen.io import write_json
from repgen.models.superres import bicubic, load_pairs, quality, upscale
from repgen.plots import labelled_rows
from repgen.training import load_model

log = logging.getLogger("evaluate_superres")
PREVIEW = 10


def nearest(low: np.ndarray, factor: int) -> np.ndarray:
    """Pixel replication, so the low-res row is shown at the same size as the others."""
    return low.repeat(factor, axis=1).repeat(factor, axis=2)  # (N, fh, fw)


def main(argv: list[str]) -> None:
    prepared, corrupted = Path(argv[0]), Path(argv[1])
    model_paths = {"superres": Path(argv[2]), "superres_gan": Path(argv[3])}
    metrics_path, picture = Path(argv[4]), Path(argv[5])
    factor = config.load().superres.factor

    low, high = (a[..., 0] for a in load_pairs(prepared, corrupted, factor, "test"))
    outputs = {"bicubic": bicubic(low, factor)}
    for name, path in model_paths.items():
        outputs[name] = upscale(load_model(path), low)

    scores = {name: quality(images, high) for name, images in outputs.items()}
    for name, score in scores.items():
        log.info("%s: PSNR %.2f dB, SSIM %.4f", name, score["psnr"], score["ssim"])
    write_json(metrics_path, scores)

    rows = [nearest(low[:PREVIEW], factor)] + [o[:PREVIEW] for o in outputs.values()]
    labels = [f"low-res (x{factor})", *outputs, "original"]
    labelled_rows(
        rows + [high[:PREVIEW]],
        labels,
        picture,
        synthetic_from="superres, superres_gan",
        title="Super-resolution of the same test images",
    )


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

"""Stage evaluate_denoising: PSNR and SSIM of every denoiser at every corruption setting.

    python stages/evaluate_denoising.py data/prepared data/corrupted \
        models/denoising_autoencoder.keras metrics/denoising.json plots/denoising

metrics/denoising.json: `<setting>.<method>.psnr` and `.ssim` for the noisy input, the
classical methods and the denoising autoencoder, all on the first `subset_size` test images
(`subset_size` at the top level); `<setting>.denoising_autoencoder_full` scores the model on
the whole test set (`test_size`). One picture per setting, plots/denoising/<setting>.png:
the same test images clean, noisy, and restored by each method.
"""

import logging
import sys
import time
from pathlib import Path

import numpy as np

from repgen import config
from repgen.corrupt import setting_name, settings
from repgen.data.prepared import load_split
from repgen.errors import RepgenError, run_main
from repgen.io import load_npz, write_json
from repgen.metrics.image_quality import classical_denoisers, noise_sigma, quality
from repgen.models.autoencoder import reconstruct
from repgen.plots import labelled_rows
from repgen.training import load_model

log = logging.getLogger("evaluate_denoising")
MODEL = "denoising_autoencoder"


def sigmas_for(kind: str, level: float, noisy: np.ndarray) -> np.ndarray:
    """The noise standard deviation each classical method is told: the truth for Gaussian
    noise (their most favourable case), skimage's estimate for the other kinds."""
    if kind == "gaussian":
        return np.full(len(noisy), level)
    return np.array([noise_sigma(image) for image in noisy])


def score_setting(kind, level, clean, noisy, model, cfg) -> tuple[dict, dict]:
    """Scores of every method at one setting, and the restored subset images for the picture."""
    n = cfg.subset_size
    restored = {"noisy": noisy[:n]}
    sigmas = sigmas_for(kind, level, noisy[:n])
    for name, method in classical_denoisers(
        median_size=cfg.median_size, tv_weight=cfg.tv_weight
    ).items():
        start = time.perf_counter()
        restored[name] = method(noisy[:n], sigmas)
        log.info("%s %s: %.1fs", setting_name(kind, level), name, time.perf_counter() - start)
    full = reconstruct(model, noisy)
    restored[MODEL] = full[:n]
    scores = {name: quality(clean[:n], images) for name, images in restored.items()}
    scores[f"{MODEL}_full"] = quality(clean, full)
    return scores, restored


def picture(clean, restored: dict, path: Path, n: int, name: str) -> None:
    """The first n test images: clean, then as each method left them."""
    shown = {"clean": clean[:n], **{k: v[:n] for k, v in restored.items()}}
    rows, title = list(shown.values()), f"{name}: first {n} test images"
    labelled_rows(rows, list(shown), path, title=title, synthetic_from=MODEL)


def main(argv: list[str]) -> None:
    prepared, corrupted, model_path = Path(argv[0]), Path(argv[1]), Path(argv[2])
    metrics_path, pictures = Path(argv[3]), Path(argv[4])
    params = config.load()
    cfg = params.evaluate_denoising

    clean = load_split(prepared, "test")[0] / 255.0
    noisy_sets = load_npz(corrupted / "test.npz")
    model = load_model(model_path)
    subset = min(cfg.subset_size, len(clean))
    results = {"subset_size": subset, "test_size": len(clean)}
    for kind, level in settings(params.corrupt):
        name = setting_name(kind, level)
        if name not in noisy_sets:
            raise RepgenError(
                f"{corrupted / 'test.npz'} has no setting {name!r}; rerun the "
                "corrupt stage (dvc repro corrupt)"
            )
        scores, restored = score_setting(kind, level, clean, noisy_sets[name] / 255.0, model, cfg)
        results[name] = scores
        picture(clean, restored, pictures / f"{name}.png", cfg.preview_images, name)
        dae = scores[MODEL]
        best = max(v["psnr"] for k, v in scores.items() if not k.startswith(MODEL))
        log.info(
            "%s: %s %.2f dB / %.3f, best other %.2f dB", name, MODEL, dae["psnr"], dae["ssim"], best
        )
    write_json(metrics_path, results)


if __name__ == "__main__":
    run_main(main, sys.argv[1:])

"""The HTML report: what it holds, that it copes with a partial run, and that a real browser
(headless Chromium) shows every image and every table of it."""

import shutil
import subprocess

import numpy as np
import pytest
import yaml
from dvclive import Live

from repgen.io import save_png, write_json
from repgen.plots import labelled_rows
from repgen.report import _belongs_to, build_report, metrics_frame, model_metrics, read_metrics
from tests.conftest import run

METRICS = {
    "classifier": {"test": {"accuracy": 0.91}, "valid": {"accuracy": 0.9}},
    "generative": {
        "gan": {
            "fid": 12.5,
            "kid": 0.01,
            "precision": 0.7,
            "recall": 0.5,
            "class_entropy_bits": 3.3,
            "samples_per_second": 900.0,
        },
        "real_train": {
            "fid": 0.4,
            "kid": 0.0,
            "precision": 0.8,
            "recall": 0.8,
            "class_entropy_bits": 3.32,
        },
        "noise": {
            "fid": 400.0,
            "kid": 1.2,
            "precision": 0.0,
            "recall": 0.0,
            "class_entropy_bits": 0.5,
        },
    },
    "downstream": {
        "real_10": {"accuracy_mean": 0.62, "accuracy_std": 0.02, "seeds": 3},
        "real_10_plus_gan": {"accuracy_mean": 0.7, "accuracy_std": 0.01, "seeds": 3},
        "synthetic_only_gan": {"accuracy_mean": 0.75, "accuracy_std": 0.01, "seeds": 3},
        "real_all": {"accuracy_mean": 0.88, "accuracy_std": 0.005, "seeds": 3},
    },
    "denoising": {
        "gaussian_0.3": {
            "noisy": {"psnr": 12.0, "ssim": 0.3},
            "denoising_autoencoder": {"psnr": 20.0, "ssim": 0.7},
        }
    },
}
TRAIN = {"epochs": 3, "seconds": 10.0, "train": {"loss": 0.3}, "valid": {"loss": 0.35}}


def make_run(root):
    """What a run leaves behind: params, metrics, dvclive histories, pictures, meta.json."""
    (root / "params.yaml").write_text(
        yaml.safe_dump(
            {
                "seed": 1,
                "data": {"dataset": "fashion-mnist"},
                "downstream": {"real_per_class": [10, 100]},
            }
        )
    )
    for name, data in METRICS.items():
        write_json(root / "metrics" / f"{name}.json", data)
    for model in ("classifier", "gan"):
        write_json(root / "metrics" / "train" / f"{model}.json", TRAIN)
        # dvclive's own layout, written as the training harness writes it
        with Live(
            str(root / "plots" / "train" / model), save_dvc_exp=False, dvcyaml=None, report=None
        ) as live:
            for epoch in range(3):
                live.log_metric("train/loss", 1.0 / (epoch + 1), plot=True)
                live.log_metric("valid/loss", 1.2 / (epoch + 1), plot=True)
                live.next_step()
    rng = np.random.default_rng(0)
    labelled_rows(
        [rng.random((4, 28, 28))] * 2,
        ["a", "b"],
        root / "plots" / "generative" / "samples" / "gan.png",
        synthetic_from="gan",
    )
    save_png(root / "plots" / "corrupt" / "corruptions.png", rng.random((28, 56)))
    write_json(
        root / "data" / "prepared" / "meta.json",
        {"class_names": ["T-shirt/top", "Trouser"], "sizes": {"train": 55000, "test": 10000}},
    )


def report_of(root) -> str:
    return build_report(
        params=root / "params.yaml",
        metrics=root / "metrics",
        plots=root / "plots",
        prepared=root / "data" / "prepared",
    )


@pytest.fixture
def report_file(tmp_path):
    make_run(tmp_path)
    path = tmp_path / "reports" / "index.html"
    path.parent.mkdir()
    path.write_text(report_of(tmp_path), encoding="utf-8")
    return path


def test_metrics_frame_puts_the_last_key_in_columns():
    frame = metrics_frame(METRICS["denoising"])
    assert list(frame.index) == ["gaussian_0.3.noisy", "gaussian_0.3.denoising_autoencoder"]
    assert list(frame.columns) == ["psnr", "ssim"]
    assert frame.loc["gaussian_0.3.noisy", "psnr"] == 12.0


def test_metrics_belong_to_models_by_name():
    assert _belongs_to("gan", "gan") and _belongs_to("real_10_plus_gan", "gan")
    assert _belongs_to("diffusion_ddim_50", "diffusion")
    assert _belongs_to("synthetic_only_diffusion_ddpm", "diffusion")
    assert not _belongs_to("conv_autoencoder", "autoencoder")
    assert not _belongs_to("real_10", "gan")


def test_report_holds_every_part(report_file):
    page = report_file.read_text()
    for name in ("classifier", "generative", "downstream", "denoising"):
        assert f"metrics/{name}.json" in page
    assert "Model card: gan" in page and "Model card: classifier" in page
    assert page.count("Misuse risk of synthetic images") == 1  # the GAN's card only
    assert page.count("<b>Marking.</b>") == 2
    assert "generators saw all training labels; the few-shot classifier did not" in page
    assert "synthetic, from gan" in page and page.count("class='synthetic'") == 1
    assert "gan: per-epoch history" in page and "classifier: per-epoch history" in page
    assert "splits: train 55000, test 10000" in page
    assert "<h3>plots/generative/samples/</h3>" in page
    # self-contained: no file or network reference anywhere
    assert 'src="data:image/png;base64,' in page
    assert "http://" not in page and "https://" not in page and 'src="plots' not in page


def test_model_card_lists_that_models_metrics(report_file):
    frame = model_metrics("gan", read_metrics(report_file.parents[1] / "metrics"))
    metrics = set(frame["metric"])
    assert {
        "gan.fid",
        "real_10_plus_gan.accuracy_mean",
        "synthetic_only_gan.accuracy_mean",
        "valid.loss",
    } <= metrics
    assert "real_train.fid" not in metrics and "real_10.accuracy_mean" not in metrics
    assert "<td>downstream.json</td>" in report_file.read_text()


def test_report_of_an_empty_run(tmp_path):
    (tmp_path / "params.yaml").write_text("seed: 3\n")
    page = build_report(
        params=tmp_path / "params.yaml",
        metrics=tmp_path / "metrics",
        plots=tmp_path / "plots",
        prepared=tmp_path / "data" / "prepared",
    )
    assert "No trained model yet" in page and "No per-epoch history" in page
    assert "<td>3</td>" in page  # the params table


def test_report_stage_follows_every_stage_that_writes_metrics_or_plots(project):
    edges = run(["dvc", "dag", "--dot", "report"], project).stdout
    for upstream in (
        "downstream",
        "evaluate_generative",
        "evaluate_classifier",
        "train@classifier",
        "corrupt",
        "prepare",
    ):
        assert f'"{upstream}" -> "report"' in edges or f"{upstream} -> report" in edges, edges


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

IMAGES_LOADED = """return Array.from(document.images).map(
    img => [img.alt, img.complete, img.naturalWidth]);"""
TABLE_ROWS = """return Array.from(document.querySelectorAll('table')).map(
    t => t.querySelectorAll('tbody tr').length);"""


def chromium_driver(profile):
    """A headless Chromium under Selenium, or a skip saying what is missing."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip(
            "chromium or chromedriver not installed (make browser, or apt-get install "
            "chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=driver)
    try:
        return webdriver.Chrome(options=options, service=service)
    except Exception as err:  # noqa: BLE001 - any start-up failure means no browser here
        pytest.skip(f"headless chromium did not start: {err}")


def test_report_renders_in_headless_chromium(report_file, tmp_path):
    browser = chromium_driver(tmp_path / "profile")
    try:
        browser.get(report_file.as_uri())
        images = browser.execute_script(IMAGES_LOADED)
        tables = browser.execute_script(TABLE_ROWS)
        browser.save_screenshot(str(tmp_path / "report.png"))
    finally:
        browser.quit()
    assert len(images) >= 4, images  # two curves, two pictures
    assert all(complete and width > 0 for _, complete, width in images), images
    assert len(tables) >= 6 and all(rows > 0 for rows in tables), tables
    assert (tmp_path / "report.png").stat().st_size > 0


def test_chromium_command_line_dumps_the_report(report_file, tmp_path):
    """The same page through the plain command line (no driver): the DOM has every table."""
    browser = shutil.which("chromium")
    if not browser:
        pytest.skip("chromium not installed (make browser)")
    dom = subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'p'}",
            "--dump-dom",
            report_file.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert dom.count("<table") == report_file.read_text().count("<table") > 0

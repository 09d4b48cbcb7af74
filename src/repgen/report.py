"""The run's report: one self-contained HTML page (images inlined, no server, no network).

    html = build_report(params="params.yaml", metrics="metrics", plots="plots",
                        prepared="data/prepared")
    Path("reports/index.html").write_text(html)

It shows whatever the run made and skips what it did not: a table per metrics file, the
per-epoch training curves (drawn from dvclive's .tsv files), every PNG under plots/, a model
card for each trained model, and the params.
"""

import base64
import html
import io
import json
from pathlib import Path

import pandas as pd
import yaml
from matplotlib.figure import Figure
from PIL import Image

from repgen.report_text import (
    DEFAULT_CARD,
    DOWNSTREAM_PROTOCOL,
    GENERATIVE_FAMILIES,
    METRIC_NOTES,
    MISUSE_RISK,
    MODEL_CARDS,
    SYNTHETIC_RULE,
)

_STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figcaption { font-size: 0.8em; color: #555; max-width: 480px; }
img { max-width: 100%; border: 1px solid #eee; }
.card { border: 1px solid #bbb; border-radius: 6px; padding: 0.5em 1em; margin: 1em 0; }
.synthetic { color: #a40; font-weight: bold; }
"""


def flatten(obj, prefix: str = "") -> dict[str, object]:
    """Nested dicts to {"a.b.c": leaf}; lists and empty dicts stay leaves."""
    if isinstance(obj, dict) and obj:
        out = {}
        for key, value in obj.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: obj}


def metrics_frame(data: dict) -> pd.DataFrame:
    """A metrics file as a table: the last key part is the column, the rest the row."""
    cells: dict[str, dict[str, object]] = {}
    for key, value in flatten(data).items():
        row, _, column = key.rpartition(".")
        cells.setdefault(row or "(all)", {})[column] = value
    return pd.DataFrame.from_dict(cells, orient="index")


def _table(frame: pd.DataFrame, *, index: bool = True) -> str:
    return frame.to_html(na_rep="", float_format=lambda x: f"{x:.4g}", border=0, index=index)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figure(png: bytes, caption: str, *, alt: str) -> str:
    return (
        f'<figure><img src="{_data_uri(png)}" alt="{html.escape(alt)}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def synthetic_model(path: Path) -> str | None:
    """The model named in a PNG's metadata when it says it is synthetic, else None."""
    with Image.open(path) as image:
        text = getattr(image, "text", {})
    return text.get("Model", "unknown model") if text.get("Synthetic") == "true" else None


def read_metrics(metrics: Path) -> dict[str, dict]:
    """Every metrics/*.json by file name, plus metrics/train/*.json as "train/<model>"."""
    found = {}
    for path in sorted(metrics.glob("*.json")) + sorted(metrics.glob("train/*.json")):
        try:
            found[path.relative_to(metrics).with_suffix("").as_posix()] = json.loads(
                path.read_text()
            )
        except json.JSONDecodeError:
            continue  # a half-written file from a failed run: nothing to show
    return found


def metrics_section(all_metrics: dict[str, dict]) -> str:
    """One table per metrics file; the training summaries in one table, a row per model."""
    parts = ["<h2 id='metrics'>Metrics</h2>"]
    train = {
        k.removeprefix("train/"): flatten(v)
        for k, v in all_metrics.items()
        if k.startswith("train/")
    }
    for name, data in all_metrics.items():
        if name.startswith("train/") or not isinstance(data, dict) or not data:
            continue
        parts.append(f"<h3>metrics/{html.escape(name)}.json</h3>")
        if name in METRIC_NOTES:
            parts.append(f"<p>{METRIC_NOTES[name]}</p>")
        parts.append(_table(metrics_frame(data)))
    if train:
        parts.append("<h3>metrics/train/&lt;model&gt;.json</h3>")
        parts.append(_table(pd.DataFrame.from_dict(train, orient="index")))
    return "\n".join(parts)


def training_curves(plots: Path) -> dict[str, bytes]:
    """model -> PNG of its per-epoch curves, one panel per metric, a line per split."""
    curves = {}
    for model_dir in sorted(p for p in (plots / "train").glob("*") if p.is_dir()):
        series: dict[str, dict[str, pd.DataFrame]] = {}
        root = model_dir / "plots" / "metrics"
        for tsv in sorted(root.rglob("*.tsv")):
            split = tsv.parent.relative_to(root).as_posix()
            series.setdefault(tsv.stem, {})[split if split != "." else ""] = pd.read_csv(
                tsv, sep="\t"
            )
        if series:
            curves[model_dir.name] = _curve_png(model_dir.name, series)
    return curves


def _curve_png(model: str, series: dict[str, dict[str, pd.DataFrame]]) -> bytes:
    fig = Figure(figsize=(3.6 * len(series), 2.8))
    axes = fig.subplots(1, len(series), squeeze=False)
    for ax, (metric, splits) in zip(axes[0], series.items(), strict=True):
        for split, frame in splits.items():
            ax.plot(
                frame["step"] + 1, frame[metric], marker="o", markersize=3, label=split or metric
            )
        ax.set_title(f"{model}: {metric}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def curves_section(plots: Path) -> str:
    curves = training_curves(plots)
    parts = ["<h2 id='curves'>Training curves</h2>"]
    if not curves:
        parts.append("<p>No per-epoch history under plots/train/ yet.</p>")
    for model, png in curves.items():
        parts.append(
            _figure(
                png,
                f"{html.escape(model)}: per-epoch history (dvclive)",
                alt=f"training curves of {model}",
            )
        )
    return "\n".join(parts)


def pictures_section(plots: Path) -> str:
    """Every PNG under plots/, grouped by folder, synthetic ones labelled as such."""
    parts = ["<h2 id='pictures'>Pictures</h2>", f"<p>{SYNTHETIC_RULE}</p>"]
    folder = None
    for path in sorted(plots.rglob("*.png")):
        if path.parent != folder:
            folder = path.parent
            shown = folder.relative_to(plots.parent).as_posix()
            parts.append(f"<h3>{html.escape(shown)}/</h3>")
        model = synthetic_model(path)
        mark = (
            f" <span class='synthetic'>synthetic, from {html.escape(model)}</span>" if model else ""
        )
        parts.append(_figure(path.read_bytes(), html.escape(path.name) + mark, alt=path.name))
    return "\n".join(parts)


def _belongs_to(key_part: str, model: str) -> bool:
    """Whether a metrics key part (a row name) is about `model`: `gan`, `diffusion_ddim_50`,
    `real_10_plus_gan`, `synthetic_only_gan`."""
    return (
        key_part == model
        or key_part.startswith(model + "_")
        or f"_plus_{model}" in key_part
        or key_part.startswith(f"synthetic_only_{model}")
    )


def model_metrics(model: str, all_metrics: dict[str, dict]) -> pd.DataFrame:
    """Every metric about `model`, one row per file and key."""
    rows = []
    for name, data in all_metrics.items():
        if name == f"train/{model}":
            rows.extend((f"{name}.json", k, v) for k, v in flatten(data).items())
            continue
        if name.startswith("train/") or not isinstance(data, dict):
            continue
        for key, value in flatten(data).items():
            if any(_belongs_to(part, model) for part in key.split(".")[:-1]):
                rows.append((f"{name}.json", key, value))
    return pd.DataFrame(rows, columns=["file", "metric", "value"])


def model_card(model: str, all_metrics: dict[str, dict], data_line: str) -> str:
    """A model card: data, intended use, metrics, failure modes, misuse risk, the marking."""
    card = MODEL_CARDS.get(model, DEFAULT_CARD)
    family = next((f for f in GENERATIVE_FAMILIES if model == f or model.startswith(f)), None)
    metrics = model_metrics(model, all_metrics)
    parts = [
        f"<div class='card'><h3>Model card: {html.escape(model)}</h3>",
        f"<p><b>Model.</b> {card['what']}</p>",
        f"<p><b>Data.</b> {data_line}</p>",
        f"<p><b>Intended use.</b> {card['use']}</p>",
        "<p><b>Metrics.</b></p>",
        _table(metrics, index=False) if len(metrics) else "<p>None recorded yet.</p>",
        f"<p><b>Known failure modes.</b> {card['failures']}</p>",
    ]
    if family is not None:
        parts.append(f"<p><b>Misuse risk of synthetic images.</b> {MISUSE_RISK}</p>")
    parts.append(f"<p><b>Marking.</b> {SYNTHETIC_RULE}</p></div>")
    return "\n".join(parts)


def data_description(params: dict, prepared: Path) -> str:
    """One sentence on the training data, from params and data/prepared/meta.json if present."""
    data = params.get("data", {})
    dataset = data.get("dataset", "unknown")
    if dataset == "folder":
        dataset = f"the image folder {data.get('folder')}"
    line = f"Dataset {html.escape(str(dataset))}, as 28x28 grayscale uint8 images"
    meta = prepared / "meta.json"
    if meta.is_file():
        info = json.loads(meta.read_text())
        sizes = info.get("sizes", {})
        sizes = ", ".join(f"{k} {sizes[k]}" for k in ("train", "valid", "test") if k in sizes)
        classes = ", ".join(info.get("class_names", []))
        line += f"; splits: {sizes}; classes: {html.escape(classes)}"
    return line + ". Every model trains on the train split only; the test split is held out."


def cards_section(all_metrics: dict[str, dict], params: dict, prepared: Path) -> str:
    models = [k.removeprefix("train/") for k in all_metrics if k.startswith("train/")]
    parts = ["<h2 id='cards'>Model cards</h2>"]
    if not models:
        parts.append("<p>No trained model yet (metrics/train/ is empty).</p>")
    line = data_description(params, prepared)
    parts.extend(model_card(model, all_metrics, line) for model in models)
    return "\n".join(parts)


def params_section(params: dict) -> str:
    rows = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in flatten(params).items()}
    frame = pd.DataFrame({"value": pd.Series(rows, dtype=object)})
    return "<h2 id='params'>Params</h2>\n" + _table(frame)


def build_report(
    *, params: str | Path, metrics: str | Path, plots: str | Path, prepared: str | Path
) -> str:
    """The whole report as one HTML string."""
    raw = yaml.safe_load(Path(params).read_text()) or {}
    all_metrics = read_metrics(Path(metrics)) if Path(metrics).is_dir() else {}
    sections = [
        metrics_section(all_metrics),
        f"<h2 id='protocol'>Downstream protocol</h2>\n<p>{DOWNSTREAM_PROTOCOL}</p>",
        curves_section(Path(plots)),
        pictures_section(Path(plots)),
        cards_section(all_metrics, raw, Path(prepared)),
        params_section(raw),
    ]
    toc = " · ".join(
        f"<a href='#{a}'>{t}</a>"
        for a, t in [
            ("metrics", "Metrics"),
            ("protocol", "Downstream protocol"),
            ("curves", "Curves"),
            ("pictures", "Pictures"),
            ("cards", "Model cards"),
            ("params", "Params"),
        ]
    )
    return (
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>repgen report</title><style>{_STYLE}</style></head><body>\n"
        f"<h1>repgen report</h1>\n<p>{toc}</p>\n" + "\n".join(sections) + "\n</body></html>\n"
    )

"""The regression gate behind `repgen check`: this workspace's metrics against a git revision's.

    rules = load_rules(Path("gate.yaml"))
    rows = compare(revision_metrics(root, "HEAD"), workspace_metrics(root), rules)
    print(table(rows)); failed = any(row.fails for row in rows)

A metric is named by its file under metrics/ (without `.json`) and its dotted key, e.g.
`denoising.gaussian_0.3.bm3d.psnr` or `train/gan.valid.loss`. The first rule whose fnmatch
pattern matches that name decides its direction (higher or lower is better, or ignore) and
its slack: the worsening still tolerated, the larger of an absolute amount and a fraction
of the old value. Worse than the slack is a regression; a metric that the revision has and
the workspace lacks fails too, unless allowed.
"""

import fnmatch
import json
import math
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from repgen.errors import RepgenError

METRICS_DIR = "metrics"
FAILING = ("regressed", "missing")


class Rule(BaseModel):
    """One line of the tolerance file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: str  # fnmatch pattern on the metric's name
    direction: Literal["higher", "lower", "ignore"]
    abs: Annotated[float, Field(ge=0)] = 0.0  # tolerated worsening, in the metric's unit
    rel: Annotated[float, Field(ge=0)] = 0.0  # tolerated worsening, a fraction of the old value

    def slack(self, old: float) -> float:
        return max(self.abs, self.rel * abs(old))


class Tolerances(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Row:
    """One metric compared: values before and after, and what the gate makes of it."""

    name: str
    old: float | None
    new: float | None
    status: str  # improved, regressed, within slack, unchanged, added, missing, ignored, no rule

    @property
    def fails(self) -> bool:
        return self.status in FAILING


def load_rules(path: Path) -> tuple[Rule, ...]:
    """Parse the tolerance file; a RepgenError naming the file and the bad entry if malformed."""
    if not path.is_file():
        raise RepgenError(f"{path}: tolerance file not found; pass --tolerances PATH")
    try:
        return Tolerances.model_validate(yaml.safe_load(path.read_text())).rules
    except yaml.YAMLError as err:
        raise RepgenError(f"{path}: not valid YAML ({' '.join(str(err).split())})") from err
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        raise RepgenError(
            f"{path}: {where}: {first['msg']}; expected `rules:` as a list of "
            "{match: PATTERN, direction: higher|lower|ignore, abs: NUMBER, rel: NUMBER}"
        ) from err


def flatten(tree, prefix: str) -> dict[str, float]:
    """Nested JSON -> {"prefix.a.b": number}; strings, booleans and nulls are dropped."""
    if isinstance(tree, dict):
        out = {}
        for key, value in tree.items():
            out.update(flatten(value, f"{prefix}.{key}"))
        return out
    if isinstance(tree, list):
        return {
            k: v for i, value in enumerate(tree) for k, v in flatten(value, f"{prefix}.{i}").items()
        }
    if isinstance(tree, int | float) and not isinstance(tree, bool):
        return {prefix: float(tree)}
    return {}


def _parse(text: str, where: str) -> dict[str, float]:
    try:
        tree = json.loads(text)
    except json.JSONDecodeError as err:
        raise RepgenError(f"{where}: not valid JSON ({err})") from err
    name = where.split(":")[-1].removeprefix(f"{METRICS_DIR}/").removesuffix(".json")
    return flatten(tree, name)


def workspace_metrics(root: Path) -> dict[str, float]:
    """Every number in metrics/**/*.json of the working tree."""
    out = {}
    for path in sorted((root / METRICS_DIR).rglob("*.json")):
        out.update(_parse(path.read_text(), path.relative_to(root).as_posix()))
    return out


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    except FileNotFoundError as err:
        raise RepgenError("git not found; `repgen check` reads old metrics with git") from err


def revision_metrics(root: Path, rev: str) -> dict[str, float]:
    """Every number in metrics/**/*.json as committed at `rev` (any name git understands)."""
    if _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").returncode != 0:
        raise RepgenError(
            f"unknown revision '{rev}': not a commit of the git repository at {root.resolve()} "
            "(allowed: a branch, tag or commit such as HEAD, HEAD~1, main or origin/main)"
        )
    listed = _git(root, "ls-tree", "-r", "--name-only", rev, "--", METRICS_DIR)
    out = {}
    for path in sorted(p for p in listed.stdout.splitlines() if p.endswith(".json")):
        shown = _git(root, "show", f"{rev}:{path}")
        out.update(_parse(shown.stdout, f"{rev}:{path}"))
    return out


def _rule_for(name: str, rules: tuple[Rule, ...]) -> Rule | None:
    return next((rule for rule in rules if fnmatch.fnmatchcase(name, rule.match)), None)


def judge(old: float | None, new: float | None, rule: Rule | None) -> str:
    """The status of one metric that moved from `old` to `new` under `rule`."""
    if rule is None:
        return "no rule"
    if rule.direction == "ignore":
        return "ignored"
    if old is None:
        return "added"
    if new is None:
        return "missing"
    if math.isnan(new) or math.isnan(old):
        return "regressed" if math.isnan(new) else "improved"
    if new == old:
        return "unchanged"
    worsening = old - new if rule.direction == "higher" else new - old
    if worsening > rule.slack(old):
        return "regressed"
    return "improved" if worsening < 0 else "within slack"


def compare(
    before: dict[str, float],
    after: dict[str, float],
    rules: tuple[Rule, ...],
    *,
    allow_missing: bool = False,
) -> list[Row]:
    """One row per metric in either set, sorted by name."""
    rows = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        status = judge(old, new, _rule_for(name, rules))
        if status == "missing" and allow_missing:
            status = "ignored"
        rows.append(Row(name, old, new, status))
    return rows


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _change(row: Row) -> str:
    if row.old is None or row.new is None:
        return "-"
    if row.new == row.old:
        return "0"
    change = f"{row.new - row.old:+.4g}"
    return f"{change} ({(row.new - row.old) / abs(row.old):+.1%})" if row.old else change


def table(rows: list[Row], *, markdown: bool = False) -> str:
    """The rows as an aligned text table, or a Markdown table (for a CI job summary)."""
    header = ("metric", "old", "new", "change", "status")
    cells = [header] + [
        (r.name, _number(r.old), _number(r.new), _change(r), r.status) for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join([lines[0], "|" + "---|" * len(header), *lines[1:]])
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip() for c in cells
    )


def summary(rows: list[Row]) -> str:
    """One line: how many of each status, and the names of those that fail the gate."""
    counts = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    line = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    failing = [row.name for row in rows if row.fails]
    if failing:
        return f"FAILED: {line}; failing: {', '.join(failing)}"
    return f"passed: {line or 'no metrics'}"

"""dvc.yaml names every src/ module each stage imports, so DVC reruns exactly what changed."""

import ast
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

SRC = ROOT / "src"


def module_path(name: str) -> Path | None:
    base = SRC / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    """The repgen modules a file imports, including `importlib.import_module("repgen....")`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and re.fullmatch(r"repgen(\.\w+)+", str(node.value)):
            found.add(node.value)
    return {name for name in found if name.startswith("repgen") and module_path(name)}


def closure(script: Path) -> set[Path]:
    """Every src/repgen file the script imports, directly or through other repgen modules."""
    seen: set[Path] = set()
    todo = [script]
    while todo:
        for name in imported_modules(todo.pop()):
            path = module_path(name)
            if path not in seen:
                seen.add(path)
                todo.append(path)
    return {p for p in seen if p.name != "__init__.py"}  # package files hold no code


def expanded_stages() -> dict[str, dict]:
    """dvc.yaml's stages with foreach expanded (${key} and ${item.<field>} substituted)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    out = {}
    for name, stage in stages.items():
        if "foreach" not in stage:
            out[name] = stage
            continue
        for key, item in stage["foreach"].items():
            text = yaml.safe_dump(stage["do"]).replace("${key}", key)
            for field, value in item.items():
                text = text.replace(f"${{item.{field}}}", str(value))
            out[f"{name}@{key}"] = yaml.safe_load(text)
    return out


def dep_paths(stage: dict) -> set[str]:
    return {d if isinstance(d, str) else next(iter(d)) for d in stage.get("deps", [])}


STAGES = expanded_stages()


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_lists_its_script_and_every_src_module_it_imports(name):
    stage = STAGES[name]
    script = re.search(r"python (stages/\S+\.py)", stage["cmd"]).group(1)
    deps = dep_paths(stage)
    assert script in deps
    needed = {str(p.relative_to(ROOT)) for p in closure(ROOT / script)}
    missing = sorted(needed - deps)
    assert not missing, f"{name} imports but does not list: {missing}"

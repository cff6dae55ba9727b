"""The import contract: layers point down only.

    cli -> recipes (distill, sft, rl, eval, serve) and api -> train -> inference
        -> rewards, metrics, generation, cues, formats -> models, data

`api`, the Python API, sits beside the recipes: it runs `eval` (`emoreason.evaluate`), and `serve`
answers `/v1/analyze` through it (`Explainer`), so among them `serve -> api -> eval`; the API never
imports `serve` or `cli` (what both share lives below, in `inference`).

Every import statement under src/emoreason counts, including the lazy ones inside functions: a
deferred import is still a dependency, just one that fails later. A violation names the file,
the line and the forbidden module. The package root, `emoreason/__init__.py`, is in no layer: it
wires them (it imports `cues` so that `data` handles `?cues=`; see `emoreason.data.spec_options`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "emoreason"
RECIPES_API_AND_CLI = {"rl", "sft", "distill", "eval", "serve", "api", "cli"}
SHARED_MACHINERY = {"train", "inference"}
MIDDLE = {"formats", "rewards", "metrics", "cues", "generation"}
CONTRACT = {  # layer -> the top-level emoreason modules it must never import
    **{layer: RECIPES_API_AND_CLI | SHARED_MACHINERY for layer in MIDDLE},
    **{layer: RECIPES_API_AND_CLI | SHARED_MACHINERY | MIDDLE for layer in ("data", "models")},
    "train": RECIPES_API_AND_CLI,
    "inference": RECIPES_API_AND_CLI | {"train"},
    "api": {"serve", "cli"},
}


def emoreason_imports(file: Path) -> list[tuple[int, str]]:
    """(line, top-level emoreason module) of every import in `file`, at any depth; relative
    imports are resolved against the file's package."""
    package = list(file.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), str(file))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            # `from emoreason import cues` imports the module named after `import`
            names = [f"{module}.{alias.name}" for alias in node.names] if module == "emoreason" else [module]
        else:
            continue
        found.extend((node.lineno, name.split(".")[1]) for name in names if name.startswith("emoreason."))
    return found


def violations(layer: str) -> list[str]:
    files = sorted((PACKAGE / layer).rglob("*.py")) or [PACKAGE / f"{layer}.py"]
    return [
        f"{file.relative_to(PACKAGE.parent)}:{line} imports emoreason.{target}"
        for file in files
        if file.is_file()
        for line, target in emoreason_imports(file)
        if target in CONTRACT[layer]
    ]


@pytest.mark.parametrize("layer", sorted(CONTRACT))
def test_layer_imports_point_down_only(layer: str) -> None:
    found = violations(layer)
    assert not found, f"{layer} must not import {', '.join(sorted(CONTRACT[layer]))}:\n" + "\n".join(found)

"""The layout ARCHITECTURE.md describes, held true: layers that import only downwards, no import
circle, one import path per name, and the CLI a thin layer over the library."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "evaltool"

#: lowest first; a module may import from its own layer or a lower one, never a higher one
LAYERS = [
    ("evaltool", "evaltool.errors", "evaltool.periods"),
    ("evaltool.data",),
    ("evaltool.config",),
    ("evaltool.instruments",),
    ("evaltool.analysis",),
    ("evaltool.core",),
    ("evaltool.report",),
    # the top: entry points, and plugins (built-in ones are plugins like any other)
    (
        "evaltool.api",
        "evaltool.cli",
        "evaltool.__main__",
        "evaltool.template",
        "evaltool.testing",
        "evaltool.synthetic",
        "evaltool.plugins",
    ),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    best, level = -1, None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and len(prefix) > best and (prefix != "evaltool" or module == prefix):
                best, level = len(prefix), i
    assert level is not None, f"{module} is in no layer: add it to LAYERS and ARCHITECTURE.md"
    return level


def imports(path: Path) -> dict[str, bool]:
    """Modules of evaltool that ``path`` imports -> whether at module level (run on import).
    Imports under ``if TYPE_CHECKING:`` are type hints only, and are left out."""
    tree = ast.parse(path.read_text())
    found: dict[str, bool] = {}

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = [child.module] + [f"{child.module}.{a.name}" for a in child.names]
                for name in names:
                    if name.startswith("evaltool") and _exists(name):
                        found[name] = found.get(name, False) or top
            elif isinstance(child, ast.Import):
                for a in child.names:
                    if a.name.startswith("evaltool"):
                        found[a.name] = found.get(a.name, False) or top
            inner = top and not isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            visit(child, inner)

    visit(tree, True)
    return found


def _exists(name: str) -> bool:
    base = PACKAGE.parent / Path(*name.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {m: imports(p) for m, p in MODULES.items()}


def test_every_import_goes_down_the_layers():
    assert "evaltool.core" in GRAPH["evaltool.api"]  # the graph is read, not empty
    assert GRAPH["evaltool.analysis.survival.table"]["evaltool.data.contract"]  # module level
    upward = [
        f"{m} (layer {layer_of(m)}) imports {dep} (layer {layer_of(dep)})"
        for m, deps in GRAPH.items()
        for dep in deps
        if layer_of(dep) > layer_of(m)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_circle():
    """Between modules, counting every import (module level and inside functions), except
    a package importing its own parts and a part its own package."""

    def related(a: str, b: str) -> bool:
        return a.startswith(b + ".") or b.startswith(a + ".")

    edges = {
        m: {d for d in deps if d in MODULES and d != m and not related(m, d)}
        for m, deps in GRAPH.items()
    }
    circles, state = [], {}

    def walk(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                circles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif nxt not in state:
                walk(nxt, path + [nxt])
        state[node] = "done"

    for m in sorted(edges):
        if m not in state:
            walk(m, [m])
    assert not circles, "\n".join(circles)


@pytest.mark.parametrize("old", ["instrument", "hookspecs", "scoring", "tables", "columns"])
def test_the_old_import_paths_are_gone(old):
    """The 0.1 re-exports are removed at 0.1 (issue 26): one import path per name, the
    author API being ``evaltool.instruments``."""
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"evaltool.{old}")
    assert not (PACKAGE / f"{old}.py").exists()


def test_the_author_api_is_one_import():
    import evaltool.instruments as api

    for name in api.__all__:
        assert getattr(api, name) is not None
    with pytest.raises(AttributeError):
        api.NoSuchThing  # noqa: B018


def test_the_cli_is_a_thin_layer():
    """Each command calls the library: the CLI imports nothing from the analyses or the
    data layer directly, only the api, settings, errors and the report's text helpers."""
    allowed = (
        "evaltool",
        "evaltool.api",
        "evaltool.config",
        "evaltool.errors",
        "evaltool.periods",
        "evaltool.report.",
        "evaltool.template",
        "evaltool.instruments.registry",
    )
    direct = [
        d for d in GRAPH["evaltool.cli"] if not any(d == a or d.startswith(a) for a in allowed)
    ]
    assert not direct, direct

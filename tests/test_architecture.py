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


#: what the CLI may import: the api, the errors, the package (its version) and the report's
#: presentation modules that print or draw what an api call returned
CLI_MAY_IMPORT = {
    "evaltool",
    "evaltool.api",
    "evaltool.errors",
    "evaltool.report.text",
    "evaltool.report.json_output",
    "evaltool.report.value_tables",
    "evaltool.report.km_png",
}


def cli_reaches_past_the_api(graph: dict[str, bool]) -> list[str]:
    """The CLI's imports of evaltool that are none of ``CLI_MAY_IMPORT`` (names, not prefixes:
    ``evaltool`` allows the package itself, not everything in it)."""
    return sorted(d for d in graph if d not in CLI_MAY_IMPORT)


def test_the_cli_is_a_thin_layer():
    """Each command parses its options, makes one api call and prints or writes what it
    returns: the CLI imports nothing from the analyses, the data, the settings, the
    instruments or the core directly (issue 26: the old allowlist held the bare prefix
    ``evaltool`` and so allowed everything)."""
    assert "evaltool.api" in GRAPH["evaltool.cli"]  # the graph of the CLI is read
    assert not cli_reaches_past_the_api(GRAPH["evaltool.cli"])


def test_the_thin_cli_check_can_fail(tmp_path):
    """The check finds an import of the analyses inside a command, as the old cli.py had."""
    old = tmp_path / "cli.py"
    old.write_text(
        "def rates():\n"
        "    from evaltool.analysis.rates import Rates\n"
        "    from evaltool.config import required_baseline\n"
    )
    assert cli_reaches_past_the_api(imports(old)) == [
        "evaltool.analysis.rates",
        "evaltool.config",
    ]


def test_every_command_has_its_api_call():
    """The library has a call for every command (``evaltool.api``), each in ``__all__``."""
    import evaltool.api as api
    from evaltool.cli import app

    calls = {
        "validate": "validate",
        "score": "score_and_write",
        "summary": "score_and_write",
        "due": "due_and_write",
        "scores": "scores_and_write",
        "compare": "compare",
        "survival": "survival",
        "rates": "rates",
        "areas": "areas",
        "audit": "audit",
        "init": "write_starter",
        "plugins": "plugins",
        "benchmarks": "benchmarks",
        "value": "value",
        "costs": "unit_costs",
        "instruments": "registry_for",
    }
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert commands == set(calls)
    for name in calls.values():
        assert name in api.__all__ and callable(getattr(api, name))

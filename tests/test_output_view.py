"""What a renderer gets (issue 23.7): the publication and the return's facts, never the
results. A third-party renderer registered through the plugin hook can reach no client id and
no hidden count from its Output; the JSON holds every figure the workbook holds; the
client-level sheets of ``--internal`` come only through ``Output.internal``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import textwrap

import numpy as np
import openpyxl
import pandas as pd
import pytest

from evaltool import api
from evaltool.analysis.windows import Window
from evaltool.data.benchmark import Benchmark, Point
from evaltool.instruments.registry import build_registry
from evaltool.instruments.results import Cite, Headline
from evaltool.periods import Period
from evaltool.report.disclosure import RANGE, SUPPRESSED
from evaltool.report.excel import render_excel
from evaltool.report.facts import Facts, Internal
from evaltool.report.json_output import render_json
from evaltool.report.output import Output, output_for, write_output
from evaltool.report.publish import ANNEX, Published, Table, publish
from evaltool.report.renderers import renderers_of
from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

#: the example with every optional part on: the propensity comparison, value for money and
#: payment by results (so that every sheet and the board's every chart has its figures)
FULL = (
    EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        "[survival]",
        '[comparison]\npropensity = ["prior_children_removed", "care_experienced"]\n'
        "bootstrap = 20\n\n[survival]",
    )
    + "\n[value]\nenabled = true\nservice_cost = [150000, 150000]\nparents_per_year = 30\n"
    + "\n[pbr]\nenabled = true\n"
)

PROBE = """
from evaltool.instruments import hookimpl
from evaltool.report.renderers import OutputRenderer

SEEN = []


def _render(output, path):
    SEEN.append(output)
    with open(path, "w") as f:
        f.write("probe")


@hookimpl
def evaltool_output_renderers():
    return [OutputRenderer("probe", "what a third party's renderer is handed", _render)]
"""


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    folder = tmp_path_factory.mktemp("full")
    toml = folder / "evaltool.toml"
    toml.write_text(FULL, encoding="utf-8")
    return api.run(EXAMPLE, api.load_settings(toml), "2025-Q4")


@pytest.fixture(scope="module")
def pub(full):
    return publish(full)


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A third party's plugin offering a renderer, installed as an entry point."""
    root = tmp_path / "site"
    info = root / "probe_renderer-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: probe-renderer\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[evaltool]\nprobe = probe_renderer\n")
    (root / "probe_renderer.py").write_text(textwrap.dedent(PROBE))
    monkeypatch.syspath_prepend(str(root))
    import importlib

    importlib.invalidate_caches()
    return root


#: every type a renderer may meet walking its Output: the view, the facts, and plain values
ALLOWED = (
    Output,
    Published,
    Table,
    Facts,
    Headline,
    Cite,
    Period,
    Window,
    Benchmark,
    Point,
    str,
    int,
    float,
    bool,
    type(None),
    dt.date,
    dt.datetime,
    np.generic,
    type(pd.NA),
    type(pd.NaT),
)


def reachable(root: object) -> list[tuple[str, object]]:
    """Every object reachable from ``root`` by fields, items and frame cells, with its path;
    a type outside ``ALLOWED`` (and frames) is returned too, and not walked into."""
    seen: set[int] = set()
    out: list[tuple[str, object]] = []
    todo: list[tuple[str, object]] = [("output", root)]
    while todo:
        path, obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        out.append((path, obj))
        if isinstance(obj, pd.DataFrame):
            for col in obj.columns:
                todo.append((f"{path}.columns", col))
                for i, v in enumerate(obj[col].tolist()):
                    todo.append((f"{path}[{i}, {col!r}]", v))
            for i, v in enumerate(obj.index.tolist()):
                todo.append((f"{path}.index[{i}]", v))
        elif isinstance(obj, dict):
            for k, v in obj.items():
                todo += [(f"{path} key", k), (f"{path}[{k!r}]", v)]
        elif isinstance(obj, list | tuple | set | frozenset):
            todo += [(f"{path}[{i}]", v) for i, v in enumerate(obj)]
        elif dataclasses.is_dataclass(obj) and isinstance(obj, ALLOWED):
            for f in dataclasses.fields(obj):
                todo.append((f"{path}.{f.name}", getattr(obj, f.name)))
    return out


def test_a_plugins_renderer_reaches_no_client_id_and_no_hidden_count(full, probe, tmp_path):
    registry = build_registry()
    assert "probe" in renderers_of(registry)  # registered through the hook, as any plugin
    loaded = full.loaded
    saved = loaded.registry
    loaded.registry = registry
    try:
        write_output(full, tmp_path / "return.probe")
    finally:
        loaded.registry = saved
    import probe_renderer

    (output,) = probe_renderer.SEEN
    fields = {f.name for f in dataclasses.fields(output)}
    assert fields == {"publication", "facts", "status", "audience", "revises", "internal"}
    assert output.internal is None  # no client-level rows in a normal output
    found = reachable(output)
    # only the view's own types: no Results, Publication (its true counts, keys and
    # relations), SummaryTable (the unprotected frames), Settings, fits or client frames
    wrong = [
        f"{path}: {type(obj).__name__}"
        for path, obj in found
        if not isinstance(obj, (*ALLOWED, pd.DataFrame, dict, list, tuple))
    ]
    assert not wrong, wrong[:10]
    # every frame is a published table's shown values or its hidden-or-not mask
    tables = [obj for _, obj in found if isinstance(obj, Table)]
    frames = {id(obj) for _, obj in found if isinstance(obj, pd.DataFrame)}
    assert frames == {id(t.values) for t in tables} | {id(t.suppressed) for t in tables}
    # a hidden figure is its symbol, a share's bound, or a count the range of tens it is in
    hidden = 0
    for t in tables:
        for col in t.values.columns:
            for v, h in zip(t.values[col], t.suppressed[col], strict=True):
                if h:
                    hidden += 1
                    ranged = isinstance(v, str) and RANGE.match(v)
                    assert v == SUPPRESSED or ranged, (t.name, col, v)
    assert hidden > 0  # the example hides figures: the check above was tried
    # and no client reference, anywhere
    ids = set(full.loaded.dataset.tables["clients"]["client_id"].astype(str))
    texts = {obj for _, obj in found if isinstance(obj, str)}
    assert not ids & texts, sorted(ids & texts)[:5]
    # the Annex and the Definitions are tables of the publication, protected with the rest
    names = {t.name for t in tables}
    assert {"logrank", "cox", "definitions", "cmp-overlap"} <= names
    assert {t.name for t in output.publication.sheets[ANNEX]} >= {"logrank", "cox"}


def test_internal_sheets_come_only_when_asked_for(full, pub):
    normal = output_for(full, pub)
    assert normal.internal is None
    internal = output_for(full, pub, internal=True)
    assert isinstance(internal.internal, Internal)
    ids = set(full.loaded.dataset.tables["clients"]["client_id"].astype(str))
    scores = next(iter(internal.internal.scores.values()))
    assert set(scores["client_id"].astype(str)) & ids  # client-level rows: only here


def _numbers(value) -> list[float]:
    """Every number in a JSON document (keys aside)."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, list):
        return [x for v in value for x in _numbers(v)]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [float(value)]
    return []


def _precision(number_format: str) -> float:
    """Half the last printed digit of a number format (0.0% -> 0.0005); General: exact."""
    fmt = number_format.split(";")[0]
    if fmt == "General":
        return 1e-9
    decimals = len(fmt.split(".")[1].rstrip("%")) if "." in fmt else 0
    if fmt.endswith("%"):
        decimals += 2
    return 0.5 * 10**-decimals + 1e-9


def test_the_json_holds_every_figure_the_workbook_holds(full, pub, tmp_path):
    output = output_for(full, pub)
    xlsx, js = tmp_path / "return.xlsx", tmp_path / "return.json"
    render_excel(output, str(xlsx))
    render_json(output, str(js))
    numbers = sorted(_numbers(json.loads(js.read_text(encoding="utf-8"))))
    wb = openpyxl.load_workbook(xlsx, data_only=True)  # formulas: the values they show
    missing, checked = [], 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v):
                    continue
                checked += 1
                tol = _precision(cell.number_format)
                i = np.searchsorted(numbers, v - tol)
                if not (i < len(numbers) and numbers[i] <= v + tol):
                    missing.append(f"{ws.title}!{cell.coordinate} = {v} ({cell.number_format})")
    assert checked > 500  # the workbook's figures were read
    assert not missing, missing[:20]


def test_the_renderer_hook_lives_with_the_report():
    """The hook keeps its name (plugins still work) and its spec is the report's."""
    from evaltool.instruments import hookspecs
    from evaltool.report import renderers

    assert not hasattr(hookspecs, "evaltool_output_renderers")
    assert hasattr(renderers, "evaltool_output_renderers")
    registry = build_registry(autoload=False)
    assert set(renderers_of(registry)) == {"xlsx", "json", "html", "pdf"}
    outputs = next(p for p in registry.plugins if p.name == "evaltool.plugins.outputs")
    assert outputs.outputs == ["xlsx", "json", "html", "pdf"]


def test_the_board_reads_the_output_alone(full, pub):
    """The board page's figures come from the Output alone (its comparison and value for
    money paragraphs included): made again from a copy of the Output, it is the same page."""
    from evaltool.report.board import board_html

    output = output_for(full, pub)
    assert "Results" not in {type(v).__name__ for _, v in reachable(output)}
    page = board_html(output)
    assert page == board_html(dataclasses.replace(output))
    assert "id='comparison'" in page and "id='value'" in page


def test_the_power_of_a_comparison_is_a_protected_table_not_words(full, pub):
    """The power sentence counts parents with new proceedings ("With 20 parents with new
    proceedings and 79% ..."): printed as words beside a table, it gave away the medians
    table's hidden 'all' events (and so the comparison cohort's, by difference). It is a
    table of the publication now, declared the same count as the medians table's, and no
    word of the view states it."""
    import re

    view = pub.published()
    said = [
        obj
        for _, obj in reachable(Output(view, output_for(full, pub).facts))
        if isinstance(obj, str) and re.search(r"With \d+ parents with new proceedings", obj)
    ]
    assert not said, said[:2]
    # the effective sample size of the adjusted comparison is a count (ATT: the service
    # cohort's number of parents): a cell of the cmp-size table too, never words
    assert "ess" not in view.texts["comparison"]
    size = view.shown["cmp-size"].values.set_index("Cohort")
    parents = view.shown["km-median"].values.set_index("Group").at["service", "Clients"]
    assert size.at["service", "Parents"] == parents  # the same parents, shown alike
    power = view.shown["power"]
    medians = view.shown["km-median"].values.set_index("Group")
    events, all_events = (
        power.values.iloc[0]["Parents with new proceedings"],
        medians.at["all", "Events"],
    )
    assert (events == SUPPRESSED) == (all_events == SUPPRESSED)
    if events != SUPPRESSED:
        assert events == all_events
        hidden = power.suppressed.iloc[0]
        assert not hidden.any()

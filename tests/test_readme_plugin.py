"""A plugin written only from the README: the README's code, built, installed as an entry point,
checked by the harness, and seen in a return as a service would run it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from evaltool.cli import app
from evaltool.testing import check_instrument
from tests.conftest import EXAMPLE, EXAMPLE_CONFIG, ROOT


def readme_block(first_line: str, language: str) -> str:
    """The README's fenced ``language`` block that starts with ``first_line``."""
    text = (ROOT / "README.md").read_text()
    for block in re.findall(rf"```{language}\n(.*?)```", text, re.S):
        if block.startswith(first_line):
            return block
    raise AssertionError(f"README has no {language} block starting {first_line!r}")


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The README's plugin, installed the way pip would: a module and an entry point."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "evaltool_attendance.py").write_text(readme_block("# evaltool_attendance.py", "python"))
    entry = readme_block("[project.entry-points.evaltool]", "toml")
    name, target = re.search(r'^(\w+) = "([\w.]+)"', entry, re.M).groups()
    info = site / "evaltool_attendance-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: evaltool-attendance\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(f"[evaltool]\n{name} = {target}\n")
    monkeypatch.syspath_prepend(str(site))
    return site


def test_the_readme_plugin_passes_the_harness(installed):
    from evaltool.testing import instrument_from_registry

    check_instrument(instrument_from_registry("attendance"))


def test_the_readme_plugin_appears_in_the_return(installed, tmp_path, runner):
    data = tmp_path / "service.xlsx"
    shutil.copy(EXAMPLE, data)
    wb = openpyxl.load_workbook(data)
    head = [c.value for c in wb["clients"][1]]
    cohort = head.index("cohort")
    # sessions are the service's: its own clients (a comparison cohort's would not count)
    clients = [
        r[0].value
        for r in wb["clients"].iter_rows(min_row=2)
        if r[0].value and r[cohort].value != "comparison"
    ]
    ws = wb.create_sheet("sessions")
    ws.append(["client_id", "session_date", "attended"])
    rng = np.random.default_rng(3)
    for cid in clients[:40]:
        for _ in range(int(rng.integers(2, 6))):
            day = f"{int(rng.integers(1, 28)):02d}/{int(rng.integers(1, 13)):02d}/2025"
            ws.append([cid, day, "yes" if rng.random() < 0.7 else "no"])
    wb.save(data)
    config = tmp_path / "evaltool.toml"
    config.write_text(
        re.sub(r"enabled = \[", 'enabled = ["attendance", ', EXAMPLE_CONFIG.read_text(), count=1)
    )
    out = tmp_path / "return.xlsx"
    result = runner.invoke(
        app, ["score", str(data), "--period", "2025-Q4", "--out", str(out), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert "Session attendance" in book.sheetnames
    rows = [[c.value for c in r] for r in book["Session attendance"].iter_rows()]
    header = next(i for i, r in enumerate(rows) if r[0] == "Window")
    assert [rows[header + 1][0], rows[header + 2][0]] == ["Quarter", "To date"]
    offered = rows[header + 2][rows[header].index("Sessions offered")]
    assert offered == ws.max_row - 1  # every session so far, to the period end
    summary = [[c.value for c in r] for r in book["Summary"].iter_rows()]
    line = next(r for r in summary if r[0] == "Session attendance")
    share = rows[header + 2][rows[header].index("Share attended")]
    assert line[1] == f"{share:.0%} of sessions offered were attended"


def test_the_readme_names_only_what_exists():
    """Every name the README's plugin imports is part of the author API."""
    import evaltool.instruments as api

    code = readme_block("# evaltool_attendance.py", "python")
    names = re.search(r"from evaltool.instruments import \((.*?)\)", code, re.S).group(1)
    for name in (n.strip() for n in names.split(",") if n.strip()):
        assert name in api.__all__, name
    assert Path(api.__file__).parent.name == "instruments"


def test_json_output_holds_the_returns_protected_figures(tmp_path, runner):
    """The built-in json renderer: the same cells as the Excel return, c where it has c."""
    import json

    args = ["score", str(EXAMPLE), "--period", "2025-Q4", "--config", str(EXAMPLE_CONFIG)]
    xlsx, js = tmp_path / "r.xlsx", tmp_path / "r.json"
    assert runner.invoke(app, [*args, "--out", str(xlsx)]).exit_code == 0
    result = runner.invoke(app, [*args, "--out", str(js)])
    assert result.exit_code == 0, result.output
    out = json.loads(js.read_text())
    assert out["period"] == "2025-Q4" and out["small_number_threshold"] >= 1
    book = openpyxl.load_workbook(xlsx)
    star = next(t for t in out["sheets"]["recurrent-care-star"] if t["name"].endswith("quarter"))
    ws = [[c.value for c in r] for r in book["Recurrent care domains"].iter_rows()]
    header = next(i for i, r in enumerate(ws) if r[:2] == star["columns"][:2])
    for k, row in enumerate(star["rows"]):
        assert ws[header + 1 + k][: len(row)] == row
    hidden = [v for t in out["sheets"]["recurrent-care-star"] for r in t["rows"] for v in r]
    assert "[c]" in hidden  # small numbers are hidden in the JSON as in the return
    summary = {r[0]: r[1] for r in ([c.value for c in r] for r in book["Summary"].iter_rows())}
    assert out["headlines"]["gas"] == summary["Goal attainment (GAS)"]
    assert "client_id" not in js.read_text()


def test_an_unknown_output_format_is_named_with_the_ones_there_are(tmp_path, runner):
    out = tmp_path / "r.docx"
    result = runner.invoke(app, ["score", str(EXAMPLE), "--period", "2025-Q4", "--out", str(out)])
    assert result.exit_code == 1
    assert "no output format for .docx; use one of: .html (the one-page board summary)" in (
        " ".join(result.output.split())
    )
    assert ".xlsx (the funder return" in result.output and not out.exists()


def test_a_plugin_adds_an_output_format(tmp_path, monkeypatch, runner):
    """Registered like the built-ins: the core protects and records, the plugin lays out."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "csvout.py").write_text(
        "from evaltool.instruments import hookimpl\n"
        "from evaltool.report.output import OutputRenderer\n\n"
        "def render(output, path):\n"
        "    pub = output.publication\n"
        "    with open(path, 'w') as f:\n"
        "        for name, shown in pub.shown.items():\n"
        "            f.write(name + ',' + ','.join(map(str, shown.values.iloc[0])) + '\\n')\n\n"
        "@hookimpl\n"
        "def evaltool_output_renderers():\n"
        "    return [OutputRenderer('csv', 'first rows as CSV', render)]\n"
    )
    info = site / "csvout-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: csvout\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[evaltool]\ncsvout = csvout\n")
    monkeypatch.syspath_prepend(str(site))
    out = tmp_path / "r.csv"
    args = ["score", str(EXAMPLE), "--period", "2025-Q4", "--config", str(EXAMPLE_CONFIG)]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert any(line.startswith("gas,Quarter,") for line in lines)
    listed = runner.invoke(app, ["plugins"]).output
    assert "csvout" in listed and "outputs: csv" in listed

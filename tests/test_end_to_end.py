"""Whole runs: every instrument reaches the return; plugin and definition-file instruments too."""

from __future__ import annotations

import csv

import openpyxl
import pandas as pd
import pytest

from evaltool.cli import app
from evaltool.instruments.registry import build_registry
from evaltool.synthetic import generate, write_xlsx
from tests.conftest import BUILTIN, find_table, score_cli, sheet_rows


def test_score_reports_every_builtin_instrument(example, tmp_path, runner):
    out = tmp_path / "r.xlsx"
    result = score_cli(runner, example, out)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    registry = build_registry()
    for name in BUILTIN:
        assert registry.get(name).title[:31] in wb.sheetnames
    summary = sheet_rows(wb["Summary"])
    lines = {r[0]: r[1] for r in summary if r[0]}
    assert lines["Goal attainment (GAS)"].startswith("goals scored")


@pytest.mark.parametrize("name", BUILTIN)
def test_scores_export_for_every_instrument(example, tmp_path, runner, name):
    out = tmp_path / f"{name}.csv"
    result = runner.invoke(
        app,
        ["scores", str(example), "--instrument", name, "--out", str(out), "--period", "2025-Q4"],
    )
    assert result.exit_code == 0, result.output
    with open(out, newline="") as fh:
        header = next(csv.reader(fh))
    assert header[0] == ("response" if name == "service-feedback" else "client_id")
    assert "comment" not in header


def test_plugin_and_definition_file_instruments_in_a_score_run(tmp_path, runner):
    tables = generate(80, seed=9)
    started = tables["clients"].dropna(subset=["start_date"])
    ids = started["client_id"].tolist()[:30]
    rng = pd.Series(range(len(ids)))
    tables["confidence"] = pd.DataFrame(
        {
            "client_id": ids * 2,
            "rating_date": list(started["start_date"].iloc[:30] + pd.Timedelta(days=5)) * 1
            + list(started["start_date"].iloc[:30] + pd.Timedelta(days=120)),
            "rating": list(rng % 4 + 2) + list(rng % 5 + 4),
        }
    )
    tables["wellbeing"] = pd.DataFrame(
        {
            "client_id": ids,
            "assessment_date": list(started["start_date"].iloc[:30]),
            "mood": list(rng % 5 + 1),
            "sleep": list((rng + 2) % 5 + 1),
        }
    )
    data = write_xlsx(tables, tmp_path / "svc.xlsx")
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "wellbeing.toml").write_text(
        'name = "wellbeing-5"\nkind = "domain_scale"\ntitle = "Wellbeing (5-point)"\n'
        'table = "wellbeing"\nscale = { min = 1, max = 5 }\n'
        'domains = [{ id = "mood", label = "Mood" }, { id = "sleep", label = "Sleep" }]\n'
    )
    cfg = tmp_path / "evaltool.toml"
    cfg.write_text(
        '[instruments]\nenabled = ["gas", "parenting-confidence", "wellbeing-5"]\n'
        'paths = ["defs"]\n'
    )
    out = tmp_path / "r.xlsx"
    result = runner.invoke(
        app, ["score", str(data), "--config", str(cfg), "--period", "2025-Q4", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    conf = find_table(
        wb["Parenting confidence (example p"], "Parenting confidence (example plugin)"
    )
    to_date = conf.set_index("Window").loc["To date"]
    # every one of the 30 clients has a first and a later rating before the period end
    assert to_date["Clients"] == 30
    first = pd.Series(list(rng % 4 + 2), dtype=float)
    assert to_date["Mean first"] == pytest.approx(first.mean(), abs=0.0051)  # as printed
    cover = " ".join(str(c.value) for row in wb["Cover"].iter_rows() for c in row if c.value)
    assert "evaltool-example-plugin 0.1.0" in cover  # its instrument is used: it is named
    well = wb["Wellbeing (5-point)"]
    mood = find_table(well, "Wellbeing (5-point): to date (first vs latest reading)")
    # one reading each: nobody has two readings, so the count is a true zero
    assert mood.set_index("Domain").loc["Mood", "Clients with 2+ readings"] == 0

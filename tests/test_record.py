"""The record of returns written: what it keeps, how earlier returns constrain the next one,
revisions marked, and a return refused when a hidden figure could be worked out."""

from __future__ import annotations

import datetime as dt
import sqlite3

import openpyxl
import pytest

from evaltool.api import run
from evaltool.config import load_settings
from evaltool.errors import DisclosureError
from evaltool.report import record
from evaltool.report.excel import write_return
from evaltool.synthetic import generate
from tests.conftest import EXAMPLE, EXAMPLE_CONFIG, find_table, score_cli


def test_each_return_is_recorded_with_aggregates_only(tmp_path, runner, private_record):
    for period in ("2025-Q3", "2025-Q4"):
        result = score_cli(runner, EXAMPLE, tmp_path / f"{period}.xlsx", period=period)
        assert result.exit_code == 0, result.output
    db = sqlite3.connect(private_record)
    assert [p for (p,) in db.execute("select period from returns")] == ["2025-Q3", "2025-Q4"]
    ids = set(generate()["clients"]["client_id"])
    dump = "\n".join(db.iterdump())
    assert not any(f"'{i}'" in dump or f"|{i}|" in dump for i in ids)
    hidden = db.execute("select count(*) from cells where hidden = 1").fetchone()[0]
    assert hidden > 0
    cover = openpyxl.load_workbook(tmp_path / "2025-Q4.xlsx")["Cover"]
    rows = {r[0].value: r[1].value for r in cover.iter_rows(max_col=2) if r[0].value}
    assert rows["Earlier returns taken into account"] == "2025-Q3"


def test_a_return_that_would_give_away_a_hidden_figure_is_not_written(tmp_path, private_record):
    settings = load_settings(EXAMPLE_CONFIG)
    results = run(EXAMPLE, settings, "2025-Q4")
    closures = results.activity[1].data
    quarter = closures[closures["Window"] == "Quarter"].set_index("Closure reason")["Closures"]
    small = [r for r, v in quarter.items() if 0 < v <= 2]
    assert small, "the example has a small closure count this quarter"

    # an earlier return (hand-made) already showed every other figure of the quarter's column:
    # the hidden ones add up to the total less those, a range narrower than allowed
    def key(reason: str) -> str:
        return f"2025-Q4|closures|Window=Quarter,Closure reason={reason}|Closures"

    cells = {key(r): (float(v), r in small) for r, v in quarter.items()}
    record.write(private_record, "2025-Q4", dt.date(2026, 3, 31), "0", {}, {}, cells, [])
    out = tmp_path / "r.xlsx"
    with pytest.raises(DisclosureError, match="could be worked out"):
        write_return(results, out)
    assert not out.exists()
    db = sqlite3.connect(private_record)
    assert db.execute("select count(*) from returns").fetchone()[0] == 1  # not recorded


def test_a_figure_that_changed_since_it_was_sent_is_marked_revised(tmp_path, private_record):
    settings = load_settings(EXAMPLE_CONFIG)
    first = write_return(run(EXAMPLE, settings, "2025-Q3"), tmp_path / "q3.xlsx")
    table = find_table(
        openpyxl.load_workbook(first)["Activity"], "Activity by quarter (service cohort)"
    )
    shown = table[table["Quarter"] == "2024-25 Q2"].iloc[0]
    assert shown["Referrals"] != "[c]"
    # the record says 2024-25 Q2's referrals were printed as one more than the data now give
    db = sqlite3.connect(private_record)
    with db:
        db.execute(
            "update cells set value = value + 1 where key = ?",
            ("activity|Quarter=2024-25 Q2|Referrals",),
        )
    second = write_return(run(EXAMPLE, settings, "2025-Q4"), tmp_path / "q4.xlsx")
    lines = [
        str(row[0].value)
        for row in openpyxl.load_workbook(second)["Activity"].iter_rows()
        if row[0].value
    ]
    start = next(i for i, line in enumerate(lines) if "[r]" in line)
    note = " ".join(lines[start : start + 3])  # a long note wraps over lines
    assert f"2024-25 Q2, Referrals (was {shown['Referrals'] + 1})" in note


def test_a_record_that_is_not_a_database_is_a_clear_error(tmp_path, runner, private_record):
    private_record.write_text("not a database")
    out = tmp_path / "r.xlsx"
    result = score_cli(runner, EXAMPLE, out)
    assert result.exit_code == 1, result.output
    assert "record of returns" in result.output and "cannot be used" in result.output
    assert not out.exists()
    assert private_record.read_text() == "not a database"  # never overwritten


def test_every_count_cell_has_its_own_key():
    """A key names one cell in every return that prints it; two cells sharing one would be
    linked as one quantity (a Kaplan-Meier row is its group and its time)."""
    from evaltool.report.publish import cell_keys, gather

    results = run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4")
    keys = cell_keys([t for ts in gather(results).values() for t in ts], results.period)
    assert len(set(keys.values())) == len(keys)
    assert "2025-Q4|km|Group=service,Months=36,Days=1095|Events so far" in keys.values()


def test_two_services_sharing_a_settings_folder_keep_their_evidence_apart(tmp_path, runner):
    """Each service's returns are evidence for its own next return only."""
    from evaltool.synthetic import write_csv_folder

    for name, seed in (("North", 3), ("South", 12)):
        data = write_csv_folder(generate(12, seed=seed), tmp_path / name)
        config = tmp_path / f"{name}.toml"
        config.write_text(f'[service]\nname = "{name}"\n')
        for period in ("2024-Q2", "2025-Q4"):
            out = tmp_path / f"{name}-{period}.xlsx"
            result = score_cli(runner, data, out, config=config, period=period)
            assert result.exit_code == 0, result.output
    cover = openpyxl.load_workbook(tmp_path / "South-2025-Q4.xlsx")["Cover"]
    rows = {r[0].value: r[1].value for r in cover.iter_rows(max_col=2) if r[0].value}
    assert rows["Earlier returns taken into account"] == "2024-Q2"

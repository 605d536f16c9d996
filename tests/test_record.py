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
        result = score_cli(runner, EXAMPLE, tmp_path / f"{period}.xlsx", "--final", period=period)
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


def refused(runner, tmp_path, private_record, *extra) -> str:
    """Run a final return (or a draft) against the record; it must be refused in words
    (exit 1, never 3), nothing written, the record untouched. The message."""
    before = private_record.read_bytes() if private_record.is_file() else None
    out = tmp_path / "r.xlsx"
    result = score_cli(runner, EXAMPLE, out, *extra)
    assert result.exit_code == 1, result.output
    assert "unexpected internal error" not in result.output
    message = " ".join(result.output.split())
    assert f"the record of returns {private_record} (set by EVALTOOL_RECORD)" in message
    assert "EVALTOOL_RECORD" in message and "[reporting] record" in message
    assert "Nothing was written" in message
    assert not out.exists()
    if before is not None:
        assert private_record.read_bytes() == before  # never changed, never overwritten
    return message


@pytest.mark.parametrize("final", [["--final"], []], ids=["final", "draft"])
def test_a_record_that_is_not_a_database_is_a_clear_error(tmp_path, runner, private_record, final):
    private_record.write_text("not a database")
    message = refused(runner, tmp_path, private_record, *final)
    assert "cannot be read: file is not a database" in message
    assert "restore it from your backup" in message


def a_record(path, period="2025-Q3") -> None:
    """A record holding one (hand-made) final return."""
    cells = {f"{period}|closures|Window=Quarter,Closure reason=Moved away|Closures": (7.0, False)}
    record.write(path, period, dt.date(2025, 12, 31), "0", {}, {}, cells, [])


def test_a_record_written_by_a_newer_evaltool_is_refused(tmp_path, runner, private_record):
    a_record(private_record)
    db = sqlite3.connect(private_record)
    db.execute(f"pragma user_version = {record.SCHEMA_VERSION + 1}")
    db.close()
    for final in (["--final"], []):
        message = refused(runner, tmp_path, private_record, *final)
        assert (
            f"was written by a newer evaltool (record format {record.SCHEMA_VERSION + 1}" in message
        )
        assert "upgrade evaltool" in message


def test_a_database_that_is_not_a_record_is_refused(tmp_path, runner, private_record):
    db = sqlite3.connect(private_record)
    db.execute("create table returns (id integer primary key, period text)")
    db.commit()
    db.close()
    message = refused(runner, tmp_path, private_record, "--final")
    assert "its 'returns' table has no inputs, period_end, settings, version, written_at" in message
    db = sqlite3.connect(private_record)
    db.execute("create table other (x)")
    db.execute("drop table returns")
    db.commit()
    db.close()
    assert "it has no 'returns' table" in refused(runner, tmp_path, private_record, "--final")


def test_a_damaged_record_is_refused(tmp_path, runner, private_record):
    a_record(private_record)
    data = bytearray(private_record.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the first page's schema overwritten
    private_record.write_bytes(bytes(data))
    message = refused(runner, tmp_path, private_record, "--final")
    assert "cannot be read" in message


def test_a_read_only_record_is_refused_for_a_final_return_and_read_for_a_draft(
    tmp_path, runner, private_record
):
    a_record(private_record)
    private_record.chmod(0o444)
    message = refused(runner, tmp_path, private_record, "--final")
    assert "is read-only" in message and "make it writable" in message
    result = score_cli(runner, EXAMPLE, tmp_path / "draft.xlsx")  # a draft only reads it
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "not kept in the record, so later drafts are not protected with it" in said
    assert "is read-only" in said and "Nothing was written" not in said
    cover = openpyxl.load_workbook(tmp_path / "draft.xlsx")["Cover"]
    rows = {r[0].value: r[1].value for r in cover.iter_rows(max_col=2) if r[0].value}
    assert rows["Earlier returns taken into account"] == "2025-Q3"


def test_a_record_in_a_missing_folder_or_that_is_a_folder_is_refused(tmp_path, runner, monkeypatch):
    folder = tmp_path / "records"
    folder.mkdir()
    monkeypatch.setenv("EVALTOOL_RECORD", str(folder))
    message = refused(runner, tmp_path, folder, "--final")
    assert "is a folder" in message and "name a file" in message
    missing = tmp_path / "nowhere" / "record.sqlite"
    monkeypatch.setenv("EVALTOOL_RECORD", str(missing))
    message = refused(runner, tmp_path, missing, "--final")
    assert "the folder" in message and "does not exist" in message
    assert not missing.parent.exists()


def test_an_older_record_is_brought_up_to_date(tmp_path, runner, private_record):
    """A record written before versions were stored (format 1) is read, and a final return
    adds its format's columns (its returns counted as final)."""
    db = sqlite3.connect(private_record)
    db.executescript(OLD_SCHEMA)
    db.execute(
        "insert into returns values (1, '2025-Q3', '2025-12-31', '2026-01-05T10:00:00', "
        "'0.1.0', '{}', '{}')"
    )
    db.commit()
    db.close()
    out = tmp_path / "r.xlsx"
    result = score_cli(runner, EXAMPLE, out, "--final")
    assert result.exit_code == 0, result.output
    db = sqlite3.connect(private_record)
    assert db.execute("pragma user_version").fetchone()[0] == record.SCHEMA_VERSION
    rows = db.execute("select id, period, status, revises from returns").fetchall()
    assert rows == [(1, "2025-Q3", "final", None), (2, "2025-Q4", "final", None)]


#: the record's format before versions were stored (evaltool 0.1.0)
OLD_SCHEMA = """
create table returns (id integer primary key, period text not null, period_end text not null,
    written_at text not null, version text not null, inputs text not null,
    settings text not null);
create table cells (return_id integer not null references returns(id), key text not null,
    value real not null, hidden integer not null, primary key (return_id, key));
create table relations (return_id integer not null references returns(id), op text not null,
    terms text not null);
"""


HOLD = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("begin immediate")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_record_another_program_holds_is_refused_after_a_wait(
    tmp_path, runner, private_record, monkeypatch
):
    """Another process holds the record locked (a run of evaltool writing its return): a
    final return waits, then stops in words; a draft, which only reads, goes ahead."""
    import subprocess
    import sys

    a_record(private_record)
    monkeypatch.setattr(record, "WAIT_SECONDS", 0.5)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(private_record), "60"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        message = refused(runner, tmp_path, private_record, "--final")
        assert "is in use by another run of evaltool" in message
        assert (
            "waited 0.5 seconds" in message and "run again when the other has finished" in message
        )
        result = score_cli(runner, EXAMPLE, tmp_path / "draft.xlsx")
        assert result.exit_code == 0, result.output
        assert "not kept in the record" in result.output and "is in use" in result.output
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture(scope="module")
def two_quarters():
    """Two quarters of a small synthetic service."""
    from evaltool.config import Settings

    tables = generate(40, seed=8)
    return [run(tables_path(tables), Settings(service="Racing"), p) for p in ("2025-Q3", "2025-Q4")]


def tables_path(tables):
    import tempfile
    from pathlib import Path

    from evaltool.synthetic import write_csv_folder

    return write_csv_folder(tables, Path(tempfile.mkdtemp()) / "data")


def race(quarters, tmp_path, slow: float) -> list[object]:
    """Write both quarters' final returns at the same moment, each renderer slowed down by
    ``slow`` seconds: what each run ended with (its path, or the error)."""
    import threading

    from evaltool.report.json_output import render_json
    from evaltool.report.output import OutputRenderer, write_output
    from evaltool.report.renderers import renderers_of

    start = threading.Barrier(len(quarters))
    outcome: list[object] = [None] * len(quarters)

    def slow_json(output, path):
        import time

        time.sleep(slow)
        render_json(output, path)

    def one(k: int) -> None:
        results = quarters[k]
        renderers = dict(renderers_of(results.loaded.registry))
        renderers["json"] = OutputRenderer("json", "slow", slow_json)
        results.loaded.registry.renderers = renderers
        start.wait()
        try:
            outcome[k] = write_output(results, tmp_path / f"{results.period.code}.json")
        except Exception as exc:  # noqa: BLE001 (the test looks at it)
            outcome[k] = exc

    threads = [threading.Thread(target=one, args=(k,)) for k in range(len(quarters))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome


def test_two_final_returns_at_once_take_turns(tmp_path, two_quarters, private_record, monkeypatch):
    """Issue 23 route 6: two runs at the same time sharing one record both read it empty,
    both wrote, and neither was protected with the other. Now the second waits for the
    first (long enough here for the first to finish), and is protected with it."""
    import json

    monkeypatch.setattr(record, "WAIT_SECONDS", 300.0)

    outcome = race(two_quarters, tmp_path, slow=1.0)
    assert all(not isinstance(o, Exception) for o in outcome), outcome
    taken = [
        json.loads((tmp_path / f"{q.period.code}.json").read_text())[
            "earlier_returns_taken_into_account"
        ]
        for q in two_quarters
    ]
    db = sqlite3.connect(private_record)
    order = [p for (p,) in db.execute("select period from returns order by id")]
    assert sorted(order) == ["2025-Q3", "2025-Q4"]
    first, second = order
    by_period = dict(zip(["2025-Q3", "2025-Q4"], taken, strict=True))
    assert first not in by_period[first]
    assert by_period[second] == [first]  # the second run read the first one's return


def test_a_final_return_that_waits_too_long_stops_and_writes_nothing(
    tmp_path, two_quarters, private_record, monkeypatch
):
    monkeypatch.setattr(record, "WAIT_SECONDS", 0.2)
    outcome = race(two_quarters, tmp_path, slow=2.0)
    failed = [o for o in outcome if isinstance(o, Exception)]
    assert len(failed) == 1, outcome
    assert "is in use by another run of evaltool" in str(failed[0])
    db = sqlite3.connect(private_record)
    assert db.execute("select count(*) from returns").fetchone()[0] == 1
    written = [p for p in tmp_path.glob("*.json")]
    assert len(written) == 1  # the run that stopped wrote nothing


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
            result = score_cli(runner, data, out, "--final", config=config, period=period)
            assert result.exit_code == 0, result.output
    cover = openpyxl.load_workbook(tmp_path / "South-2025-Q4.xlsx")["Cover"]
    rows = {r[0].value: r[1].value for r in cover.iter_rows(max_col=2) if r[0].value}
    assert rows["Earlier returns taken into account"] == "2024-Q2"

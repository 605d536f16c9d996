"""Drafts and final returns, revisions, and the audience (issue 23, points 5 and 6).

A run makes a draft unless --final: DRAFT on every page, protected as a final return made now
would be, never recorded. A second final return of a quarter with other figures is a revision.
A shared output (``[reporting] audience = "shared"``) has exact counts, its marking on every
page, and is never recorded nor taken into account as a published return."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from evaltool.api import run
from evaltool.cli import app
from evaltool.config import load_settings
from evaltool.errors import DisclosureError
from evaltool.report import record
from evaltool.report.disclosure import RANGE
from evaltool.report.output import DRAFT_MARKING, SHARED_MARKING, write_output
from evaltool.synthetic import generate, write_csv_folder
from tests.conftest import EXAMPLE, EXAMPLE_CONFIG, all_cell_text, bound_holds, score_cli


def cover(path: Path) -> dict[str, object]:
    ws = openpyxl.load_workbook(path)["Cover"]
    return {r[0].value: r[1].value for r in ws.iter_rows(max_col=2) if r[0].value}


def returns_in(path: Path) -> list[tuple]:
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    try:
        return db.execute("select id, period, status, revises from returns order by id").fetchall()
    finally:
        db.close()


def test_a_run_without_final_is_a_draft_marked_on_every_page_and_kept_only_as_a_draft(
    tmp_path, runner, private_record
):
    out = tmp_path / "draft.xlsx"
    result = score_cli(runner, EXAMPLE, out)
    assert result.exit_code == 0, result.output
    assert "DRAFT" in result.output and "--final" in result.output
    wb = openpyxl.load_workbook(out)
    assert len(wb.worksheets) > 8
    for ws in wb.worksheets:
        assert ws.oddHeader.left.text == DRAFT_MARKING, ws.title
        assert ws.oddFooter.center.text == DRAFT_MARKING, ws.title
        assert ws.oddHeader.right.text == "OFFICIAL", ws.title
        assert "DRAFT" in str(ws["A1"].value), ws.title  # on screen too
    assert str(cover(out)["Status"]).startswith("DRAFT")
    # kept apart, so that the next quarter's draft is protected with it; never a final
    assert f"kept in {private_record} as a draft" in result.output
    assert returns_in(private_record) == [(1, "2025-Q4", "draft", None)]
    assert private_record.stat().st_mode & 0o777 == 0o600

    page = tmp_path / "board.html"
    args = ["summary", str(EXAMPLE), "--period", "2025-Q4", "--out", str(page)]
    result = runner.invoke(app, [*args, "--config", str(EXAMPLE_CONFIG)])
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert html.count(DRAFT_MARKING) == 2  # at the top and at the foot of the page
    assert returns_in(private_record) == [(1, "2025-Q4", "draft", None)]


def test_a_final_return_is_recorded_and_marked_final(tmp_path, runner, private_record):
    out = tmp_path / "final.json"
    result = score_cli(runner, EXAMPLE, out, "--final")
    assert result.exit_code == 0, result.output
    assert f"recorded in {private_record}" in result.output
    sent = json.loads(out.read_text())
    assert (sent["status"], sent["audience"], sent["marking"]) == ("final", "published", "OFFICIAL")
    assert returns_in(private_record) == [(1, "2025-Q4", "final", None)]
    assert private_record.stat().st_mode & 0o777 == 0o600  # as sensitive as the data

    draft = tmp_path / "draft.json"
    assert score_cli(runner, EXAMPLE, draft).exit_code == 0
    assert json.loads(draft.read_text())["status"] == "draft"
    assert [r[2] for r in returns_in(private_record)] == ["final", "draft"]
    again = tmp_path / "again.json"  # the quarter's final return drops its drafts
    assert score_cli(runner, EXAMPLE, again, "--final").exit_code == 0
    assert [r[2] for r in returns_in(private_record)] == ["final", "copy"]


@pytest.fixture(scope="module")
def q4():
    return run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4")


def test_a_draft_is_protected_with_the_recorded_finals(tmp_path, q4, private_record):
    """A draft is as safe as a final return made now: refused where the final would be."""
    closures = q4.activity[1].data
    quarter = closures[closures["Window"] == "Quarter"].set_index("Closure reason")["Closures"]
    small = [r for r, v in quarter.items() if 0 < v <= 5]
    assert small

    def key(reason: str) -> str:
        return f"2025-Q4|closures|Window=Quarter,Closure reason={reason}|Closures"

    cells = {key(r): (float(v), r in small) for r, v in quarter.items()}
    record.write(private_record, "2025-Q4", q4.period.end, "0", {}, {}, cells, [])
    out = tmp_path / "draft.xlsx"
    with pytest.raises(DisclosureError, match="could be worked out"):
        write_output(q4, out, final=False)
    assert not out.exists()
    assert len(returns_in(private_record)) == 1


def test_a_draft_hides_what_a_final_made_now_would(tmp_path, monkeypatch, q4):
    settings = load_settings(EXAMPLE_CONFIG)
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    q3 = run(EXAMPLE, settings, "2025-Q3")
    for where in (a, b):  # the same final return of the quarter before, in two records
        monkeypatch.setenv("EVALTOOL_RECORD", str(where))
        write_output(q3, tmp_path / f"q3-{where.stem}.json")
    monkeypatch.setenv("EVALTOOL_RECORD", str(a))
    write_output(q4, tmp_path / "draft.json", final=False)
    monkeypatch.setenv("EVALTOOL_RECORD", str(b))
    write_output(q4, tmp_path / "final.json", final=True)
    draft = json.loads((tmp_path / "draft.json").read_text())
    final = json.loads((tmp_path / "final.json").read_text())
    assert draft["sheets"] == final["sheets"]
    assert any("[c]" in json.dumps(t["rows"]) for ts in final["sheets"].values() for t in ts)
    assert [r[2] for r in returns_in(a)] == ["final", "draft"]  # kept apart, as a draft
    assert [r[2] for r in returns_in(b)] == ["final", "final"]


def test_a_second_final_with_other_figures_is_a_revision(tmp_path, runner, private_record):
    tables = generate(40, seed=5)
    data = write_csv_folder(tables, tmp_path / "data")
    config = tmp_path / "evaltool.toml"
    config.write_text('[service]\nname = "Revised"\n')
    first = tmp_path / "first.xlsx"
    assert score_cli(runner, data, first, "--final", config=config).exit_code == 0
    assert cover(first)["Status"] == "Final return."
    again = tmp_path / "again.json"  # the same figures in another format: not a revision
    assert score_cli(runner, data, again, "--final", config=config).exit_code == 0
    assert json.loads(again.read_text())["status"] == "final"

    gone = tables["clients"]["client_id"].iloc[-1]  # a client taken out of the data
    for name, t in list(tables.items()):
        if "client_id" in t:
            tables[name] = t[t["client_id"] != gone]
    changed = write_csv_folder(tables, tmp_path / "changed")
    draft = tmp_path / "draft.xlsx"  # a draft first: it says what its final would be
    assert score_cli(runner, changed, draft, config=config).exit_code == 0
    assert "A final return of this period was made on " in str(cover(draft)["Status"])
    revised = tmp_path / "revised.xlsx"
    result = score_cli(runner, changed, revised, "--final", config=config)
    assert result.exit_code == 0, result.output
    status = str(cover(revised)["Status"])
    assert status.startswith("REVISION of the final return of this period made on "), status
    assert returns_in(private_record) == [
        (1, "2025-Q4", "final", None),
        (2, "2025-Q4", "copy", 1),
        (3, "2025-Q4", "revision", 1),
    ]


@pytest.fixture
def shared_config(tmp_path) -> Path:
    text = EXAMPLE_CONFIG.read_text().replace(
        "[reporting]\n", '[reporting]\naudience = "shared"\n', 1
    )
    config = tmp_path / "shared.toml"
    config.write_text(text)
    return config


def test_a_shared_return_has_exact_counts_its_marking_and_no_record(
    tmp_path, runner, private_record, shared_config
):
    # a final published return first: the shared one must neither be protected with it
    # nor be taken into account by the next published one
    assert (
        score_cli(runner, EXAMPLE, tmp_path / "q3.xlsx", "--final", period="2025-Q3").exit_code == 0
    )
    before = returns_in(private_record)
    out = tmp_path / "shared.xlsx"
    result = score_cli(runner, EXAMPLE, out, "--final", config=shared_config)
    assert result.exit_code == 0, result.output
    text = all_cell_text(out)
    assert not any("[c]" in t for t in text)
    wb = openpyxl.load_workbook(out)
    for ws in wb.worksheets:
        assert ws.oddHeader.right.text == SHARED_MARKING, ws.title
    assert cover(out)["Marking"] == SHARED_MARKING
    assert returns_in(private_record) == before  # never recorded

    # the same quarter published: small counts hidden, and the shared one not counted
    published = tmp_path / "published.xlsx"
    assert score_cli(runner, EXAMPLE, published, "--final").exit_code == 0
    assert any("[c]" in t for t in all_cell_text(published))
    assert cover(published)["Earlier returns taken into account"] == "2025-Q3"
    assert [r[2] for r in returns_in(private_record)] == ["final", "final"]


def test_a_shared_output_shows_the_counts_the_published_one_hides(q4, tmp_path, monkeypatch):
    """Exact counts: every count the published return hides is printed in the shared one."""
    from dataclasses import replace

    write_output(q4, tmp_path / "published.json", final=False)
    shared = replace(
        q4, loaded=replace(q4.loaded, settings=replace(q4.settings, audience="shared"))
    )
    write_output(shared, tmp_path / "shared.json", final=False)
    write_output(shared, tmp_path / "shared.html", final=True)
    page = (tmp_path / "shared.html").read_text()
    assert page.count(SHARED_MARKING) == 2 and "[c]" not in page and "DRAFT" not in page
    assert "[c]" not in (tmp_path / "shared.json").read_text()
    published = json.loads((tmp_path / "published.json").read_text())
    exact = json.loads((tmp_path / "shared.json").read_text())
    assert (exact["audience"], exact["marking"], exact["status"]) == (
        "shared",
        SHARED_MARKING,
        "draft",
    )
    hidden = 0
    for sheet, tables in published["sheets"].items():
        # Definitions: words (the shared one has no symbol for a hidden figure); Data quality:
        # the shared one gives the rows read, the published one the tables only
        if sheet in ("Definitions", "Data quality"):
            continue
        for p, e in zip(tables, exact["sheets"][sheet], strict=True):
            for prow, erow in zip(p["rows"], e["rows"], strict=True):
                for pv, ev in zip(prow, erow, strict=True):
                    if pv == "[c]":
                        hidden += 1
                        assert ev not in ("[c]", None), (sheet, p["name"], prow, erow)
                    elif isinstance(pv, str) and pv.startswith("at "):  # a share as a bound
                        assert bound_holds(pv, ev), (sheet, p["name"], prow, erow)
                    elif isinstance(pv, str) and RANGE.match(pv):  # a count as its range
                        low, high = map(int, RANGE.match(pv).groups())
                        assert low <= ev <= high, (sheet, p["name"], prow, erow)
                    else:
                        assert pv == ev, (sheet, p["name"], prow, erow)
    assert hidden > 20


def test_a_shared_output_never_holds_client_level_sheets(tmp_path, runner, shared_config):
    out = tmp_path / "shared.xlsx"
    result = score_cli(runner, EXAMPLE, out, "--internal", config=shared_config)
    assert result.exit_code == 1
    assert "--internal" in result.output and "shared" in result.output
    assert not out.exists()


def test_audience_is_checked(tmp_path):
    from evaltool.errors import ConfigError

    config = tmp_path / "evaltool.toml"
    config.write_text('[reporting]\naudience = "public"\n')
    with pytest.raises(ConfigError, match="reporting.audience is 'public'; use one of: published"):
        load_settings(config)


def test_a_series_of_drafts_is_protected_as_a_series_and_never_binds_a_final(
    tmp_path, private_record, monkeypatch
):
    """A manager who makes a draft each quarter and never --final must not be able to send
    a set that gives people away: each draft is protected with the latest draft of every
    other quarter without a final return (before, three drafts of this 12-client service
    gave back hidden referrals and starts exactly, and two goals' total first rating). A final
    return is protected with the finals alone, so the drafts never bind what is sent."""
    from evaltool.config import Settings
    from evaltool.report.audit import attack

    data = write_csv_folder(generate(12, seed=1), tmp_path / "data")
    drafts = []
    for period in ("2025-Q1", "2025-Q2", "2025-Q3"):
        out = tmp_path / f"draft-{period}.xlsx"
        write_output(run(data, Settings(service="Drafty"), period), out, final=False)
        drafts.append(out)
    assert attack(drafts) == []
    assert [r[1:3] for r in returns_in(private_record)] == [
        ("2025-Q1", "draft"),
        ("2025-Q2", "draft"),
        ("2025-Q3", "draft"),
    ]
    cover_row = cover(drafts[-1])["Earlier returns taken into account"]
    assert cover_row == "2025-Q1 (draft), 2025-Q2 (draft)"

    q3 = run(data, Settings(service="Drafty"), "2025-Q3")
    final = tmp_path / "final-2025-Q3.json"
    write_output(q3, final, final=True)
    assert [r[1:3] for r in returns_in(private_record)] == [
        ("2025-Q1", "draft"),
        ("2025-Q2", "draft"),
        ("2025-Q3", "final"),  # the quarter's draft is dropped
    ]
    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "empty.sqlite"))
    alone = tmp_path / "alone.json"  # the same final return made with no record at all
    write_output(q3, alone, final=True)
    sheets = [json.loads(f.read_text())["sheets"] for f in (final, alone)]
    assert sheets[0] == sheets[1]


def test_a_draft_never_holds_up_a_final_return(tmp_path, q4, private_record, monkeypatch):
    """A draft reads the record without holding it while it is protected (the long part)
    and is kept in a moment at the end: a final return made meanwhile is not refused as
    'in use'. Before, keeping drafts held the record from start to end."""
    from evaltool.report import output

    record.write(private_record, "2025-Q3", q4.period.end, "0", {}, {}, {}, [])
    protect = output.publish_or_refuse
    free = []

    def while_protecting(results, earlier, where):
        with record.Record(private_record, write=True, wait=0) as other:  # a final, meanwhile
            free.append(other.write)
        return protect(results, earlier, where)

    monkeypatch.setattr(output, "publish_or_refuse", while_protecting)
    write_output(q4, tmp_path / "draft.json", final=False)
    assert free == [True]
    assert [r[1:3] for r in returns_in(private_record)] == [
        ("2025-Q3", "final"),
        ("2025-Q4", "draft"),
    ]

"""`evaltool due`: the team's to-do list, worked out by hand for a few clients."""

from __future__ import annotations

import openpyxl
import pandas as pd

from evaltool.cli import app
from tests.conftest import sheet_rows, workbook


def _data(tmp_path):
    clients = [
        # A: last goal review 05/01/2026, 176 days before 30/06/2026: 86 days over 90
        {
            "client_id": "A",
            "referral_date": "01/12/2025",
            "start_date": "01/01/2026",
            "key_worker": "Sam",
            "birth_year": 1995,
            "closure_reason": None,
            "end_date": None,
        },
        # B: referred 01/05/2026, not started: waiting 60 days, 32 over 28
        {
            "client_id": "B",
            "referral_date": "01/05/2026",
            "start_date": None,
            "key_worker": "Ali",
            "birth_year": 1990,
            "closure_reason": None,
            "end_date": None,
        },
        # C: closed 01/03/2026 with no reason
        {
            "client_id": "C",
            "referral_date": "01/10/2025",
            "start_date": "01/11/2025",
            "key_worker": "Sam",
            "birth_year": 1999,
            "closure_reason": None,
            "end_date": "01/03/2026",
        },
        # D: started 01/06/2026, no review yet: 29 days, not due
        {
            "client_id": "D",
            "referral_date": "15/05/2026",
            "start_date": "01/06/2026",
            "key_worker": "Ali",
            "birth_year": 2001,
            "closure_reason": None,
            "end_date": None,
        },
        # E: reviewed 15/06/2026: not due; a birth year that is no year: an error to fix
        {
            "client_id": "E",
            "referral_date": "01/12/2025",
            "start_date": "01/01/2026",
            "key_worker": "Ali",
            "birth_year": "nineteen",
            "closure_reason": None,
            "end_date": None,
        },
    ]
    goals = [
        {"client_id": "A", "goal_id": "g1", "review_date": "01/01/2026", "level": -1},
        {"client_id": "A", "goal_id": "g1", "review_date": "05/01/2026", "level": 0},
        {"client_id": "E", "goal_id": "g1", "review_date": "15/06/2026", "level": 0},
    ]
    proceedings = [
        {
            "client_id": "A",
            "issued_date": "01/01/2020",
            "concluded_date": "01/06/2020",
            "outcome": None,
        },
        {
            "client_id": "B",
            "issued_date": "01/01/2021",
            "concluded_date": "01/06/2021",
            "outcome": "care_order",
        },
    ]
    return workbook(tmp_path, {"clients": clients, "goals": goals, "proceedings": proceedings})


def test_the_list_names_what_is_due_by_client_and_key_worker(tmp_path, runner):
    data = _data(tmp_path)
    out = tmp_path / "lists" / "due.xlsx"
    args = ["due", str(data), "--as-of", "2026-06-30", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "INTERNAL: it names clients" in result.output
    assert "5 item(s) for 2 key worker(s)" in result.output  # D and E are not due
    ws = openpyxl.load_workbook(out)["To do"]
    assert ws["A1"].value == "INTERNAL – NOT FOR CIRCULATION"
    assert ws.oddHeader.center.text == "INTERNAL – NOT FOR CIRCULATION"
    rows = sheet_rows(ws)
    header = next(i for i, r in enumerate(rows) if r[0] == "Client reference")
    items = pd.DataFrame(rows[header + 1 :], columns=rows[header], dtype=object)
    got = {
        (r["Client reference"], r["What is due"], r["Days overdue"]) for _, r in items.iterrows()
    }
    assert got == {
        ("B", "waiting to start for 60 days (allowed: 28)", 32),
        ("A", "no Goal attainment (GAS) goal review for 176 days (due every 90)", 86),
        ("C", "closed with no closure reason recorded", None),
        ("A", "proceedings issued 01/01/2020: concluded, no outcome recorded", None),
        (
            "E",
            "fix in the records: birth_year is 'nineteen': not a number "
            "(expected a whole number from 1900 to 2099)",
            None,
        ),
    }
    workers = dict(zip(items["Client reference"], items["Key worker"], strict=False))
    assert workers["A"] == "Sam" and workers["B"] == "Ali"
    assert list(items["Key worker"]) == sorted(items["Key worker"])  # grouped by worker


def test_days_per_instrument_come_from_the_settings(tmp_path, runner):
    data = _data(tmp_path)
    config = tmp_path / "evaltool.toml"
    config.write_text("[due]\nwaiting_days = 90\n\n[due.instruments]\ngas = 200\n")
    out = tmp_path / "due.xlsx"
    args = ["due", str(data), "--as-of", "2026-06-30", "--out", str(out), "--config", str(config)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(
        str(c.value)
        for row in openpyxl.load_workbook(out)["To do"].iter_rows()
        for c in row
        if c.value
    )
    assert "waiting to start" not in text and "goal review" not in text
    assert "closed with no closure reason recorded" in text


def test_a_list_for_a_day_in_the_future_is_refused(tmp_path, runner):
    data = _data(tmp_path)
    out = tmp_path / "due.xlsx"
    result = runner.invoke(app, ["due", str(data), "--as-of", "2999-01-01", "--out", str(out)])
    assert result.exit_code == 1
    assert "--as-of 2999-01-01 is in the future" in result.output
    assert not out.exists()


def test_a_list_for_a_past_day_leaves_out_what_came_later(tmp_path, runner):
    """Issue 25: `due --as-of` a past day listed every later record as a problem (twice). On
    31/03/2026 (typed dd/mm/yyyy), worked out by hand from _data: B (referred 01/05/2026) and
    D (15/05/2026) were not referred yet, so neither B's wait nor B's proceedings are items;
    A's last review (05/01/2026) was 85 days before, E's start (01/01/2026) 89 days before:
    within 90, not due (E's review of 15/06/2026 had not happened). Left: C's closure, A's
    proceedings, and E's birth year, an error in a record that existed then."""
    data = _data(tmp_path)
    out = tmp_path / "due.xlsx"
    result = runner.invoke(app, ["due", str(data), "--as-of", "31/03/2026", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = sheet_rows(openpyxl.load_workbook(out)["To do"])
    header = next(i for i, r in enumerate(rows) if r[0] == "Client reference")
    items = pd.DataFrame(rows[header + 1 :], columns=rows[header], dtype=object)
    got = {(r["Client reference"], r["What is due"]) for _, r in items.iterrows()}
    assert got == {
        ("C", "closed with no closure reason recorded"),
        ("A", "proceedings issued 01/01/2020: concluded, no outcome recorded"),
        (
            "E",
            "fix in the records: birth_year is 'nineteen': not a number "
            "(expected a whole number from 1900 to 2099)",
        ),
    }

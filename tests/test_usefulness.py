"""A return that is safe and still says something: the detail is hidden before the headline,
and no cell is hidden that the protection does not need."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from evaltool.analysis.activity import activity_tables
from evaltool.analysis.windows import activity_by_window, summary_windows
from evaltool.instruments.results import SummaryTable
from evaltool.periods import parse_period
from evaltool.report.disclosure import (
    Cells,
    audit,
    headline_rank,
    protect,
    table_relations,
)

THRESHOLD = 5


def test_a_quarter_and_a_part_are_detail_a_total_to_date_is_the_headline():
    frame = pd.DataFrame(
        {
            "Window": ["Quarter"] * 3 + ["To date"] * 3,
            "Reason": ["a", "b", "All"] * 2,
            "N": [1, 7, 8, 9, 12, 21],
        }
    )
    t = SummaryTable("t", "t", frame, counts=("N",), total_row="All")
    rank = headline_rank([t])
    assert [rank[("t", r, "N")] for r in range(6)] == [0, 0, 1, 1, 1, 2]


def test_a_part_is_hidden_to_protect_its_sibling_not_the_total():
    # 2 is hidden (primary); one more cell of the group must go: a part, never the total
    frame = pd.DataFrame({"Reason": ["a", "b", "c", "All"], "N": [2, 7, 30, 39]})
    t = SummaryTable("t", "t", frame, counts=("N",), total_row="All")
    shown = protect([t], THRESHOLD)["t"].values["N"].tolist()
    assert shown[0] == "c" and shown[3] == 39
    assert shown.count("c") == 2


def _secondary(tables, shown):
    cells = Cells(tables)
    hidden = {
        (t.name, r, col)
        for t in tables
        for col in t.counts
        for r in range(len(t.data))
        if shown[t.name].suppressed.at[r, col]
    }
    secondary = {ref for ref in hidden if cells.value[ref] > THRESHOLD}
    return cells, hidden, secondary


def test_every_cell_hidden_to_protect_another_is_needed(example):
    """Minimal suppression on the activity tables of a real quarter: show any cell hidden to
    protect another and the reader's audit finds a small count again. (Greedy suppression
    used to leave cells hidden that a later choice had made needless.)"""
    from evaltool.api import load, load_settings
    from tests.conftest import EXAMPLE_CONFIG

    loaded = load(example, load_settings(EXAMPLE_CONFIG))
    period = parse_period("2025-Q4", "financial")
    tables = activity_tables(loaded.dataset.clients, period)
    first = loaded.dataset.clients["referral_date"].min().date()
    tables.append(activity_by_window(tables[0], summary_windows(period, first)))
    shown = protect(tables, THRESHOLD)
    cells, hidden, secondary = _secondary(tables, shown)
    relations = [rel for t in tables for rel in table_relations(t)]
    assert secondary, "the example's activity needs some secondary suppression"
    for ref in secondary:
        rest = hidden - {ref}
        values = {k: v for k, v in cells.value.items() if k not in rest}
        assert audit(values, rest, relations, THRESHOLD), f"{ref} was hidden for nothing"


def test_no_window_before_the_first_referral_is_needed_for_the_check():
    # summary_windows starts "all time" at the first referral's quarter (sanity of the fixture)
    period = parse_period("2025-Q4", "financial")
    windows = summary_windows(period, dt.date(2023, 5, 1))
    assert windows[-1].quarters[0].label.startswith("2023-24 Q1")


def test_the_measure_of_what_a_return_hides_counts_by_hand(tmp_path, monkeypatch):
    """``benchmarks/run.py --usefulness`` on a small service: its figures agree with the
    publication's own masks, counted here cell by cell."""
    from evaltool.api import run
    from evaltool.config import Settings
    from evaltool.report.publish import publish
    from evaltool.report.usefulness import usefulness
    from evaltool.synthetic import generate, write_csv_folder

    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    data = write_csv_folder(generate(n_clients=12, seed=13), tmp_path / "data")
    results = run(data, Settings(), "2025-Q4")
    pub = publish(results)
    u = usefulness(results, pub)
    above = hidden_above = 0
    for tables in pub.sheets.values():
        for t in tables:
            frame = t.data.reset_index(drop=True)
            for col in t.counts:
                if col not in frame:
                    continue
                for r, v in pd.to_numeric(frame[col], errors="coerce").items():
                    if not pd.isna(v) and v > 5:
                        above += 1
                        hidden_above += bool(pub.shown[t.name].suppressed.at[r, col])
    assert (u.above, u.hidden_above) == (above, hidden_above)
    assert 0 <= u.key_rows_shown <= u.key_rows == 6
    assert u.least <= u.hidden_above  # the protection hides no less than any safe one must


def test_the_least_any_safe_suppression_hides_is_counted_group_by_group():
    """The bound printed beside the usefulness target, by hand, row by row (threshold 5):
    12 + 1 + 1: the two small parts add up to 2, each 0..2: one more cell must go;
    9 + 5 + 0: the 5 hidden with the 0 lies in 0..5, six values: nothing more;
    10 + 7 + 3: a lone small part beside no zero is exact: one more;
    8 + 6 + 6: nothing small; 2 + 3 + 3: the small parts add up to 8: each 0..8, enough.
    A total row over a lone small part (7 + 3 = 10) is a group too."""
    from evaltool.report.usefulness import least_hidden

    frame = pd.DataFrame(
        {
            "Domain": list("abcde"),
            "Pairs": [14, 14, 20, 20, 8],
            "Improved": [12, 9, 10, 8, 2],
            "Unchanged": [1, 5, 7, 6, 3],
            "Worse": [1, 0, 3, 6, 3],
        }
    )
    parts = ("Improved", "Unchanged", "Worse")
    t = SummaryTable("t", "t", frame, counts=("Pairs", *parts), sums={"Pairs": parts})
    assert least_hidden([t], THRESHOLD) == 2
    assert least_hidden([t], 1) == 0  # with threshold 1, only row a's two 1s: 0..2 is enough
    reasons = pd.DataFrame({"Reason": ["x", "y", "All"], "N": [7, 3, 10]})
    r = SummaryTable("r", "r", reasons, counts=("N",), total_row="All")
    assert least_hidden([t, r], THRESHOLD) == 3  # a lone 3 beside 7: exact


def test_a_summary_mostly_hidden_says_why_in_words():
    """A small service's Summary of ``c`` after ``c`` gets a reason, with the earlier returns
    that count (not this quarter's own other formats); half or more hidden is the trigger."""
    from types import SimpleNamespace

    from evaltool.report.key_figures import mostly_hidden

    def pub(values, earlier):
        cols = ["Referrals", "Starts", "Closures", "Active caseload at the end"]
        frame = pd.DataFrame([values] * 5, columns=cols)
        return SimpleNamespace(
            shown={"activity-windows": SimpleNamespace(values=frame)}, earlier_periods=earlier
        )

    said = mostly_hidden(pub(["c", "c", 7, "c"], ["2025-Q3", "2025-Q4"]), 5, "2025-Q4")
    assert said.startswith("15 of the 20 key figures are hidden")
    assert "The earlier returns (2025-Q3) count too" in said and "more than 5" in said
    alone = mostly_hidden(pub(["c", 9, 7, "c"], []), 5, "2025-Q4")  # half: said, no earlier
    assert alone.startswith("10 of the 20") and "earlier" not in alone
    assert mostly_hidden(pub(["c", 9, 7, 12], ["2025-Q3"]), 5, "2025-Q4") is None

"""Small-number suppression: primary, secondary (totals and row sums) and derived values."""

from __future__ import annotations

import pandas as pd

from evaltool.instruments.results import SummaryTable
from evaltool.report.disclosure import suppress


def shown(table: SummaryTable, threshold: int = 5) -> list[list[object]]:
    return suppress(table, threshold).values.to_numpy().tolist()


def test_primary_counts_one_to_threshold_and_true_zeros():
    t = SummaryTable(
        "t",
        "t",
        pd.DataFrame({"Group": ["a", "b", "c", "d"], "People": [0, 1, 5, 6]}),
        counts=("People",),
    )
    assert [r[1] for r in shown(t)] == [0, "c", "c", 6]


def test_a_total_that_would_reveal_a_single_suppressed_cell():
    # 3 + 10 + 12 = 25: with only the 3 hidden, 25 - 10 - 12 would give it back,
    # so the smallest other non-zero part (10) is hidden too.
    frame = pd.DataFrame({"Reason": ["a", "b", "c", "All"], "Closures": [3, 10, 12, 25]})
    t = SummaryTable("t", "t", frame, counts=("Closures",), total_row="All")
    result = suppress(t, 5)
    assert [r[1] for r in result.values.to_numpy().tolist()] == ["c", "c", 12, 25]
    assert (result.primary, result.secondary) == (1, 1)


def test_when_the_other_parts_are_zero_the_total_is_hidden():
    frame = pd.DataFrame({"Reason": ["a", "b", "c", "All"], "Closures": [3, 0, 0, 3]})
    t = SummaryTable("t", "t", frame, counts=("Closures",), total_row="All")
    # everyone is in one category: the zeros are hidden too, so which one cannot be read
    assert [r[1] for r in shown(t)] == ["c", "c", "c", "c"]
    frame = pd.DataFrame({"Reason": ["a", "b", "All"], "Closures": [2, 0, 8]})
    frame.loc[2, "Closures"] = 8  # an inconsistent total is still protected
    t = SummaryTable("t", "t", frame, counts=("Closures",), total_row="All")
    assert [r[1] for r in shown(t)] == ["c", "c", 8]  # one non-zero part: the group hidden


def test_totals_are_protected_within_each_window():
    frame = pd.DataFrame(
        {
            "Window": ["Quarter"] * 3 + ["To date"] * 3,
            "Reason": ["a", "b", "All"] * 2,
            "Closures": [2, 9, 11, 20, 30, 50],
        }
    )
    t = SummaryTable("t", "t", frame, counts=("Closures",), total_row="All")
    assert [r[2] for r in shown(t)] == ["c", "c", 11, 20, 30, 50]


def test_row_sums_are_protected_and_derived_values_follow_their_count():
    frame = pd.DataFrame(
        {
            "Measure": ["m"],
            "Pairs": [20],
            "Improved": [12],
            "Unchanged": [3],
            "Worse": [5],
            "Mean change": [1.5],
            "Share improved": [0.6],
        }
    )
    t = SummaryTable(
        "t",
        "t",
        frame,
        counts=("Pairs", "Improved", "Unchanged", "Worse"),
        derived={"Mean change": "Pairs", "Share improved": "Improved"},
        sums={"Pairs": ("Improved", "Unchanged", "Worse")},
    )
    [row] = shown(t)
    # Unchanged 3 and Worse 5 are both primary: two hidden cells, nothing more needed
    assert row == ["m", 20, 12, "c", "c", 1.5, 0.6]
    frame.loc[0, "Worse"] = 9
    frame.loc[0, "Pairs"] = 24
    [row] = shown(SummaryTable("t", "t", frame, counts=t.counts, derived=t.derived, sums=t.sums))
    # now only Unchanged is primary: the smallest other part (Worse 9) goes too
    assert row[1:5] == [24, 12, "c", "c"]
    small = frame.assign(Pairs=4, Improved=2, Unchanged=1, Worse=1)
    [row] = shown(SummaryTable("t", "t", small, counts=t.counts, derived=t.derived, sums=t.sums))
    assert row[5:] == ["c", "c"]  # means and shares of a suppressed count are suppressed


def test_not_applicable_and_not_available():
    frame = pd.DataFrame({"G": ["a", "b"], "People": [0, 10], "Mean": [float("nan")] * 2})
    t = SummaryTable("t", "t", frame, counts=("People",), derived={"Mean": "People"})
    assert [r[2] for r in shown(t)] == ["z", ":"]

"""Shared scoring helpers, checked on small frames worked by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from evaltool.instruments.kit import first_and_latest, first_and_latest_rows, runs, until


def test_first_and_latest_orders_by_key_then_date_and_keeps_row_order_on_ties():
    data = pd.DataFrame(
        {
            "client_id": ["b", "a", "b", "a", "a", "b"],
            "goal_id": ["g1", "g2", "g1", "g1", "g2", "g1"],
            "date": pd.to_datetime(
                ["2025-03-01", "2025-02-01", "2025-01-01", "2025-05-01", "2025-02-01", "2025-03-01"]
            ),
            "level": [1, 2, 3, 4, 5, 6],
        }
    )
    first, last, rows = first_and_latest_rows(data, ["client_id", "goal_id"], "date")
    # keys in sorted order; b/g1 is read on 1 Jan (3) then twice on 1 Mar (1, then 6);
    # a/g2 twice on 1 Feb (2, then 5)
    keys = list(zip(first["client_id"], first["goal_id"], strict=True))
    assert keys == [("a", "g1"), ("a", "g2"), ("b", "g1")]
    assert list(zip(last["client_id"], last["goal_id"], strict=True)) == keys
    assert list(first["level"]) == [4, 2, 3]
    assert list(last["level"]) == [4, 5, 6]
    assert list(rows) == [1, 2, 3]


def test_first_and_latest_puts_blank_dates_last_and_handles_no_rows():
    data = pd.DataFrame(
        {"client_id": ["a", "a", "a"], "date": pd.to_datetime([None, "2025-02-01", "2025-01-01"])}
    ).assign(level=[1, 2, 3])
    first, last, _ = first_and_latest_rows(data, ["client_id"], "date")
    assert (first["level"].tolist(), last["level"].tolist()) == ([3], [1])
    first, last, rows = first_and_latest_rows(data.iloc[:0], ["client_id"], "date")
    assert first.empty and last.empty and len(rows) == 0


def test_runs_of_a_sorted_array():
    starts, ends = runs(np.array([1, 1, 2, 3, 3, 3]))
    assert (starts.tolist(), ends.tolist()) == ([0, 2, 3], [1, 2, 5])
    starts, ends = runs(np.array([], dtype=np.int64))
    assert (len(starts), len(ends)) == (0, 0)


def test_until_keeps_the_same_frame_when_nothing_is_cut():
    data = pd.DataFrame({"date": pd.to_datetime(["2025-01-01", "2025-03-31"])})
    assert until(data, "date", dt.date(2025, 3, 31)) is data
    assert until(data, "date", None) is data
    assert len(until(data, "date", dt.date(2025, 3, 30))) == 1


def test_first_and_latest_keeps_its_keyed_form_for_plugins():
    data = pd.DataFrame(
        {
            "client_id": ["b", "a", "a"],
            "date": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-02-01"]),
            "level": [1, 2, 3],
        }
    )
    first, last = first_and_latest(data, ["client_id"], "date")
    assert first["level"].to_dict() == {"a": 3, "b": 1}
    assert last["level"].to_dict() == {"a": 2, "b": 1}

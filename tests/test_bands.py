"""A hidden share printed as a bound ("at most 20%"): the tightest in steps of 5% that leaves
its count, and what its denominator has beyond it, threshold + 1 possible values, and that the
audit finds narrows no other hidden count. Each expected bound is worked out by hand here."""

from __future__ import annotations

import pandas as pd

from evaltool.instruments.results import Relation, SummaryTable
from evaltool.report.disclosure import audit, protect

THRESHOLD = 5


def _table(rows: dict, **kw) -> SummaryTable:
    return SummaryTable(
        "t",
        "t",
        pd.DataFrame(rows),
        counts=("With", "Of"),
        derived={"Share": ("With", "Of")},
        percent=("Share",),
        ratios={"Share": ("With", "Of")},
        **kw,
    )


def test_one_of_twelve_is_at_most_45_percent():
    # 1 of 12: the count is hidden (1 <= 5); a bound k/20 leaves the count 0..floor(12k/20),
    # which must be 6 values: 12k/20 >= 5, k >= 8.33, so k = 9: "at most 45%"
    t = _table({"With": [1], "Of": [12], "Share": [1 / 12]})
    bounds: list[Relation] = []
    shown = protect([t], THRESHOLD, bands_out=bounds)["t"]
    assert shown.values.at[0, "With"] == "c"
    assert shown.values.at[0, "Share"] == "at most 45%"
    assert not shown.suppressed.at[0, "Share"]
    assert bounds == [Relation(((("t", 0, "With"), 20.0), (("t", 0, "Of"), -9.0)), "<=")]


def test_a_bound_that_with_another_would_narrow_a_count_is_looser():
    # rows a (1 of 20) and b (5 of 100), their total 6 shown: each hidden count is 0..6.
    # a: k/20 of 20 leaves 0..k, so k = 5, "at most 25%" (a <= 5, b = 6 - a is 1..6: 6 values).
    # b: "at most 5%" (b <= 5) would make a = 6 - b at least 1: a and b both in 1..5, five
    # values, a leak; so the next step, "at most 10%" (b <= 10: nothing new)
    t = _table(
        {
            "Row": ["a", "b", "All"],
            "With": [1, 5, 6],
            "Of": [20, 100, 120],
            "Share": [0.05, 0.05, 0.05],
        },
        total_row="All",
    )
    bounds: list[Relation] = []
    shown = protect([t], THRESHOLD, bands_out=bounds)["t"].values
    assert shown["With"].tolist() == ["c", "c", 6]
    assert shown["Share"].tolist()[:2] == ["at most 25%", "at most 10%"]
    # and the refused one does leak: with b <= 5 the audit narrows both to 1..5
    value = {("t", 2, "With"): 6.0, ("t", 0, "Of"): 20.0, ("t", 1, "Of"): 100.0}
    hidden = {("t", 0, "With"), ("t", 1, "With")}
    total = Relation(((("t", 0, "With"), 1), (("t", 1, "With"), 1), (("t", 2, "With"), -1)))
    tight = Relation(((("t", 1, "With"), 20.0), (("t", 1, "Of"), -1.0)), "<=")
    leaks = audit(value, hidden, [total, bounds[0], tight], THRESHOLD)
    assert sorted((leak.cell[1], leak.low, leak.high) for leak in leaks) == [(0, 1, 5), (1, 1, 5)]
    assert audit(value, hidden, [total, *bounds], THRESHOLD) == []


def test_fourteen_of_fifteen_is_at_least_65_percent():
    # 14 improved, 1 not, of 15: the 1 is hidden, and with it the 14 (the smaller of 14 and
    # 15). "at least k/20" leaves the rest 0..15 - ceil(15k/20), which must be 6 values:
    # ceil(15k/20) <= 10, k <= 13: "at least 65%" (14/15 is 93%)
    t = SummaryTable(
        "t",
        "t",
        pd.DataFrame({"Improved": [14], "Not": [1], "Of": [15], "Share": [14 / 15]}),
        counts=("Improved", "Not", "Of"),
        sums={"Of": ("Improved", "Not")},
        derived={"Share": ("Improved", "Of")},
        percent=("Share",),
        ratios={"Share": ("Improved", "Of")},
    )
    shown = protect([t], THRESHOLD)["t"].values
    assert shown.iloc[0].tolist() == ["c", "c", 15, "at least 65%"]


def test_no_bound_where_none_leaves_enough_values():
    # 1 of 8: "at most 50%" leaves 0..4, five values; no bound up to half will do
    t = _table({"With": [1], "Of": [8], "Share": [1 / 8]})
    assert protect([t], THRESHOLD)["t"].values.at[0, "Share"] == "c"


def test_a_hidden_denominator_takes_a_bound_only_where_it_is_known_to_be_someone():
    # b's denominator (25) is a's (22, sent before: public) plus this quarter's 3 people, who
    # must not be worked out: 25 is hidden. The reader knows it is at least 22, so a share of
    # it tells nothing new by being printed: b (3 of 25) takes "at most 20%" (20 x 3 <= 4 x 25;
    # k = 4 is the first whose 0..floor(25k/20) holds 6 values). a (2 of 22) is "at most 25%".
    def table() -> SummaryTable:
        return _table(
            {"Row": ["a", "b"], "With": [2, 3], "Of": [22, 25], "Share": [2 / 22, 3 / 25]},
            relations=(Relation(((("t", 1, "Of"), 1), (("t", 0, "Of"), -1), ("q", -1))),),
            unseen={"q": 3.0},
        )

    shown = protect([table()], THRESHOLD, public={("t", 0, "Of")})["t"].values
    assert shown["Of"].tolist() == [22, "c"]
    assert shown["Share"].tolist() == ["at most 25%", "at most 20%"]
    # where nothing says the denominator is anyone (a's 22 is not known), no bound is printed
    # of it: printing a share would say it is at least 1
    shown = protect([table()], THRESHOLD)["t"].values
    assert [v for v, o in zip(shown["Share"], shown["Of"], strict=True) if o == "c"] == ["c"]

"""A hidden share printed as a bound ("at most 20%"). The bound is worked out from what the
reader sees (the shown denominator d), never from the hidden count: the least step k1/20
that leaves the count 0..floor(k1 d/20) threshold + 1 values, or the greatest k2/20 that
leaves d less the count as many. A share is then at most k1/20 (printed), at least k2/20
(printed) or between (c); it is printed only where the audit finds none of the three would
narrow a hidden count. Each expected figure is worked out by hand here."""

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
    # k1/20 of 12 leaves the count 0..floor(12 k1/20), 6 values: 12 k1/20 >= 5, k1 = 9 (45%)
    t = _table({"With": [1], "Of": [12], "Share": [1 / 12]})
    bounds: list[Relation] = []
    shown = protect([t], THRESHOLD, bands_out=bounds)["t"]
    assert shown.values.at[0, "With"] == "c"
    assert shown.values.at[0, "Share"] == "at most 45%"
    assert not shown.suppressed.at[0, "Share"]
    # what it tells, for the record: the count is at most 5 (12 x 5/12, the shown 12 carrying
    # the constant)
    assert bounds == [Relation(((("t", 0, "With"), 1.0), (("t", 0, "Of"), -5 / 12)), "<=")]


def test_the_bound_does_not_depend_on_the_hidden_count():
    # a bound picked as the tightest step above the share would say the share is above the
    # step below: 1 to 5 of 25 all print "at most 20%" (k1 = 4: floor(25 x 4/20) = 5)
    printed = {
        protect([_table({"With": [n], "Of": [25], "Share": [n / 25]})], THRESHOLD)["t"].values.at[
            0, "Share"
        ]
        for n in range(1, 6)
    }
    assert printed == {"at most 20%"}


def test_no_bound_where_the_share_not_printed_would_give_a_count_away():
    # rows a (1 of 20) and b (5 of 100), their total 6 shown. For a, "at most 25%" (a <= 5)
    # is safe, but a reader knows a share between the bounds (25% and 75% of 20) prints c:
    # a c there would say a is 6 to 14, so a = 6 and b = 0. The true one is printed only
    # where all three are safe: so neither takes its tightest bound. A step looser, a's
    # "between" (30% to 70% of 20: 7 to 13) cannot be beside the 6, nor can b's (10% to 90%
    # of 100: 11 to 89): "at most 30%" and "at most 10%", which say nothing the 6 did not
    t = _table(
        {
            "Row": ["a", "b", "All"],
            "With": [1, 5, 6],
            "Of": [20, 100, 120],
            "Share": [0.05, 0.05, 0.05],
        },
        total_row="All",
    )
    shown = protect([t], THRESHOLD)["t"].values
    assert shown["With"].tolist() == ["c", "c", 6]
    assert shown["Share"].tolist()[:2] == ["at most 30%", "at most 10%"]
    value = {("t", 2, "With"): 6.0, ("t", 0, "Of"): 20.0, ("t", 1, "Of"): 100.0}
    hidden = {("t", 0, "With"), ("t", 1, "With")}
    total = Relation(((("t", 0, "With"), 1), (("t", 1, "With"), 1), (("t", 2, "With"), -1)))
    a_between = Relation(((("t", 0, "Of"), 6 / 20), (("t", 0, "With"), -1)), "<=")  # a >= 6
    leaks = audit(value, hidden, [total, a_between], THRESHOLD)
    assert [(leak.cell, leak.low, leak.high) for leak in leaks] == [(("t", 1, "With"), 0, 0)]
    a_most = Relation(((("t", 0, "With"), 1), (("t", 0, "Of"), -5 / 20)), "<=")  # a <= 5
    assert audit(value, hidden, [total, a_most], THRESHOLD) == []


def test_fourteen_of_fifteen_is_at_least_65_percent():
    # 14 improved, 1 not, of 15: the 1 is hidden, and with it the 14. k2/20 of 15 leaves the
    # rest 0..15 - ceil(15 k2/20), 6 values: ceil(15 k2/20) <= 10, k2 = 13 (65%); k1 = 7
    # (35%: at most 5); between them the rest would be 6 to 9: every outcome safe
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
    # 1 of 8: "at most 50%" leaves 0..4, five values; "at least 50%" leaves the rest 0..4
    t = _table({"With": [1], "Of": [8], "Share": [1 / 8]})
    assert protect([t], THRESHOLD)["t"].values.at[0, "Share"] == "c"


def test_a_hidden_denominator_takes_its_step_from_what_the_reader_knows_of_it():
    # b's denominator (25) is a's (22, sent before: public) plus this quarter's 3 people, and
    # is hidden. Its step comes from the least the reader can give it, 22, never from 25: a
    # step from 25 (k = 4, 20%, the first with floor(25k/20) >= 5) would say the denominator
    # is 25 to 33. From 22: floor(22k/20) >= 5 at k = 5, "at most 25%" (3/25 is 12%). a (2 of
    # 22, shown) is "at most 25%" too
    def table() -> SummaryTable:
        return _table(
            {"Row": ["a", "b"], "With": [2, 3], "Of": [22, 25], "Share": [2 / 22, 3 / 25]},
            relations=(Relation(((("t", 1, "Of"), 1), (("t", 0, "Of"), -1), ("q", -1))),),
            unseen={"q": 3.0},
        )

    bounds: list[Relation] = []
    shown = protect([table()], THRESHOLD, public={("t", 0, "Of")}, bands_out=bounds)["t"].values
    assert shown["Of"].tolist() == [22, "c"]
    assert shown["Share"].tolist() == ["at most 25%", "at most 25%"]
    assert Relation(((("t", 1, "With"), 20.0), (("t", 1, "Of"), -5.0)), "<=") in bounds
    # where nothing says the denominator is anyone (a's 22 not sent before), no bound of it:
    # printing a share would say it is at least 1
    shown = protect([table()], THRESHOLD)["t"].values
    assert [v for v, o in zip(shown["Share"], shown["Of"], strict=True) if o == "c"] == ["c"]


def test_the_outcomes_never_overlap():
    # adversary's finding: of 10, "at most 50%" (0..5) and "at least 50%" (5..10) overlapped
    # at 5, which printed the first, so "at least 50%" meant 6..10 and the rest 0..4: five
    # values, where the audit had been told 0..5. Every count of every denominator has
    # exactly one outcome, and each outcome's relations are what it means
    from evaltool.report.disclosure import _outcomes

    top, bottom = ("t", 0, "With"), ("t", 0, "Of")
    for keep in (2, 3, THRESHOLD + 1, 11):  # the setting protection_values
        for d in range(1, 301):
            outcomes = _outcomes(top, bottom, float(d), keep)
            for n in range(d + 1):
                one = sum(a <= n <= b for _, a, b, _ in outcomes)
                assert one == (1 if outcomes else 0), (keep, d, n)
            for text, a, b, _ in outcomes:  # a printed bound leaves at least keep values
                assert not text or b - a + 1 >= keep, (keep, d, text)
    assert [text for text, *_ in _outcomes(top, bottom, 10.0, THRESHOLD + 1)] == ["at most 50%", ""]


def test_six_improved_of_ten_is_c_not_at_least_50_percent():
    # 10 with two readings, 6 improved, 4 not: "at most 50%" is false, no "at least" step
    # leaves the rest 6 values (55% of 10 leaves 0..4), so c: which reads "6 to 10"
    t = SummaryTable(
        "t",
        "t",
        pd.DataFrame({"Improved": [6], "Not": [4], "Of": [10], "Share": [0.6]}),
        counts=("Improved", "Not", "Of"),
        sums={"Of": ("Improved", "Not")},
        derived={"Share": ("Improved", "Of")},
        percent=("Share",),
        ratios={"Share": ("Improved", "Of")},
    )
    assert protect([t], THRESHOLD)["t"].values.at[0, "Share"] == "c"


def _parts(a: int, b: int) -> SummaryTable:
    return SummaryTable(
        "p",
        "p",
        pd.DataFrame({"A": [a], "B": [b], "Total": [a + b]}),
        counts=("A", "B", "Total"),
        sums={"Total": ("A", "B")},
    )


def test_a_count_hidden_to_protect_another_is_the_range_of_tens_it_is_in():
    # 17 = 3 + 14: the 3 is hidden, so the 14 too. A is tried first: the reader has A in
    # 0..17, so "0 to 9" (B 8..17) or "10 to 19" (B 0..7, eight values): both safe, "0 to 9"
    # printed. Then B, in 8..17 to the reader: "0 to 9" leaves A 8..9, not a small count;
    # "10 to 19" leaves A 0..7, eight values: both safe, "10 to 19" printed. The reader has
    # A = 17 - B in 0..7, eight values
    bounds: list[Relation] = []
    t = _parts(3, 14)
    cells = [("p", 0, "A"), ("p", 0, "B")]
    shown = protect([t], THRESHOLD, bands_out=bounds, ranged=cells)["p"]
    assert list(shown.values.loc[0, ["A", "B", "Total"]]) == ["0 to 9", "10 to 19", 17]
    assert shown.suppressed.at[0, "A"] and shown.suppressed.at[0, "B"]  # still hidden counts
    # the ranges are recorded as what they tell: the reader's A is 0..7, not fewer
    value = {("p", 0, "Total"): 17.0}
    rels = [Relation(((("p", 0, "A"), 1.0), (("p", 0, "B"), 1.0), (("p", 0, "Total"), -1.0)))]
    assert not audit(value, set(cells), [*rels, *bounds], THRESHOLD)
    # and the audit would see one more bound: B at least 13 leaves A 0..4, five values
    narrowed = [Relation(((("p", 0, "B"), -1.0), (("p", 0, "Total"), 13 / 17)), "<=")]
    assert audit(value, set(cells), [*rels, *bounds, *narrowed], THRESHOLD)


def test_a_range_is_printed_only_where_every_range_it_could_be_is_safe():
    # 13 = 1 + 12: B to the reader is 0..13; "10 to 19" would leave A 0..3, four values, so
    # no range is printed for B, whatever its value (2 + 11 prints the same)
    for a, b in ((1, 12), (2, 11)):
        shown = protect([_parts(a, b)], THRESHOLD, ranged=[("p", 0, "B")])["p"]
        assert shown.values.at[0, "B"] == "c"


def test_a_count_the_earlier_returns_say_cannot_be_is_hidden_not_a_crash():
    # an earlier return said B was at most 8 (data revised since: it is 14 now): no range
    # the reader allows holds the true count, so it stays c
    t = _parts(3, 14)
    earlier = [Relation(((("p", 0, "B"), 1.0), (("p", 0, "Total"), -8 / 17)), "<=")]
    shown = protect([t], THRESHOLD, earlier, ranged=[("p", 0, "B")])["p"]
    assert shown.values.at[0, "B"] == "c"


def test_a_relation_the_reader_has_only_while_a_hidden_cell_is_shown_bounds_no_range():
    # 14 = 1 + 13, and a relation known only while G is shown (a mean's parts: G is hidden)
    # puts B at 11 to 14. Taken as the reader's, it would make "10 to 19" say nothing new,
    # printed unchecked; the reader has B in 0..14, and "10 to 19" leaves A 0..4, five
    # values: no range for B (60 clients, 2025-Q1: a feedback item's positive answers)
    a, b, g = ("p", 0, "A"), ("p", 0, "B"), ("p", 0, "G")
    t = SummaryTable(
        "p",
        "p",
        pd.DataFrame({"A": [1], "B": [13], "Total": [14], "G": [2]}),
        counts=("A", "B", "Total", "G"),
        sums={"Total": ("A", "B")},
        relations=(Relation(((b, -1.0), (("p", 0, "Total"), 11 / 14)), "<=", given=g),),
    )
    bounds: list[Relation] = []
    shown = protect([t], THRESHOLD, bands_out=bounds, ranged=[a, b])["p"]
    assert shown.values.at[0, "B"] == "c"
    value = {("p", 0, "Total"): 14.0}
    rels = [Relation(((a, 1.0), (b, 1.0), (("p", 0, "Total"), -1.0)))]
    assert not audit(value, {a, b, g}, [*rels, *bounds], THRESHOLD)


def test_the_return_is_checked_again_with_every_bound_and_range_and_printed_without_them(
    monkeypatch,
):
    # should the bounds and ranges ever tell more together than each was checked for, the
    # return is printed without them: here a range of 13 to 14 for B (A would be 0 or 1)
    from evaltool.report import disclosure

    a, b, total = ("p", 0, "A"), ("p", 0, "B"), ("p", 0, "Total")
    wrong = [Relation(((b, -1.0), (total, 13 / 14)), "<=")]
    monkeypatch.setattr(disclosure, "_bands", lambda *args: ({b: "10 to 19"}, wrong))
    bounds: list[Relation] = []
    shown = protect([_parts(1, 13)], THRESHOLD, bands_out=bounds, ranged=[a, b])["p"]
    assert list(shown.values.loc[0, ["A", "B", "Total"]]) == ["c", "c", 14]
    assert bounds == []
    # and what is right is kept: the same with a range that tells nothing new
    right = [Relation(((b, -1.0), (total, 0.0)), "<=")]
    monkeypatch.setattr(disclosure, "_bands", lambda *args: ({b: "0 to 19"}, right))
    shown = protect([_parts(1, 13)], THRESHOLD, bands_out=bounds, ranged=[a, b])["p"]
    assert shown.values.at[0, "B"] == "0 to 19" and bounds == right

"""Before/after comparisons against R (t.test, wilcox.test, p.adjust) and worked examples."""

from __future__ import annotations

import csv
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltool.analysis.before_after import (
    BeforeAfter,
    holm,
    pair_readings,
    wilcoxon_signed_rank,
)
from evaltool.api import before_after, load
from evaltool.cli import app
from evaltool.config import load_settings
from evaltool.instruments.base import Measure
from evaltool.instruments.kit import first_and_latest_readings

FIXTURE = Path(__file__).parent / "fixtures" / "before_after"
COLUMNS = [
    "n",
    "goals",
    "baseline_mean",
    "baseline_sd",
    "latest_mean",
    "latest_sd",
    "mean_change",
    "ci_low",
    "ci_high",
    "t",
    "df",
    "p_t",
    "wilcoxon_v",
    "p_wilcoxon",
    "dz",
    "g",
    "improved",
    "unchanged",
    "worse",
    "reliable_improved",
    "reliable_worse",
    "p_holm",
]


def r_expected() -> list[dict]:
    with open(FIXTURE / "expected.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def fixture_summary() -> pd.DataFrame:
    settings = load_settings(FIXTURE / "evaltool.toml")
    loaded = load(FIXTURE / "data", settings)
    assert loaded.problems.ok, loaded.problems.errors[:3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no runtime or pandas warnings on the way
        return before_after(loaded)


def test_every_figure_matches_r(fixture_summary):
    ours = fixture_summary.set_index(["instrument", "measure"])
    expected = r_expected()
    assert len(expected) == len(ours) == 4
    for row in expected:
        got = ours.loc[(row["instrument"], row["measure"])]
        for col in COLUMNS:
            want = row[col]
            if want == "NA":
                assert got[col] is None or pd.isna(got[col]), (row["measure"], col)
            else:
                assert float(got[col]) == pytest.approx(float(want), rel=1e-9, abs=1e-12), (
                    row["measure"],
                    col,
                )


def test_excluded_units_are_counted(fixture_summary):
    calm = fixture_summary.set_index("measure").loc["calm"]
    # client 0013 has a single reading; client 0014's readings are 10 days apart
    assert (calm["excluded_single"], calm["excluded_too_close"]) == (1, 1)


def test_holm_is_not_holm_sidak(fixture_summary):
    ba = fixture_summary[fixture_summary["instrument"] == "ba-scale"]
    p = sorted(ba["p_t"])
    # Holm by hand: min(1, 3*p1), then max(previous, 2*p2), max(previous, p3)
    holm = [min(1, 3 * p[0])]
    holm.append(max(holm[0], min(1, 2 * p[1])))
    holm.append(max(holm[1], min(1, p[2])))
    assert sorted(ba["p_holm"]) == pytest.approx(holm)
    sidak_first = 1 - (1 - p[0]) ** 3
    assert min(ba["p_holm"]) != pytest.approx(sidak_first)


def test_holm_matches_r_with_ties_and_the_cap_at_one():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.04, 0.5, 0.005, 0.3), "holm")
    p = np.array([0.01, 0.04, 0.03, 0.04, 0.5, 0.005, 0.3])
    r = [0.060, 0.160, 0.150, 0.160, 0.600, 0.035, 0.600]
    assert holm(p) == pytest.approx(r, rel=1e-12)
    assert holm(np.array([0.6, 0.9])) == pytest.approx([1.0, 1.0])


def test_wilcoxon_worked_example():
    # changes 1, -2, 2, 3, 0: the zero is dropped; |d| ranks 1, 2.5, 2.5, 4; V = 1 + 2.5 + 4.
    # var = n(n+1)(2n+1)/24 - sum(t^3 - t)/48 = 7.5 - 6/48; z = (7.5 - 5 - 0.5) / sqrt(var)
    # R: wilcox.test(c(1,-2,2,3,0), exact=FALSE, correct=TRUE) -> V = 7.5, p = 0.461450987833
    v, n, p = wilcoxon_signed_rank(np.array([1, -2, 2, 3, 0.0]))
    assert (v, n) == (7.5, 4)
    assert p == pytest.approx(0.461450987833, rel=1e-10)


def readings(rows):
    frame = pd.DataFrame(rows, columns=["unit", "measure", "date", "value"])
    frame["client_id"] = frame["unit"]
    frame["date"] = pd.to_datetime(frame["date"])
    return frame[["unit", "client_id", "measure", "date", "value"]]


def fit(rows, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return BeforeAfter(**kw).fit(readings(rows), [Measure("m", "M")], "x").comparisons_.iloc[0]


def test_wide_and_long_readings_pair_alike():
    # a: m read 1 Jan (2), 1 Mar (blank), 1 May (5), given out of order; n read 1 Mar (7) only
    # b: m read 1 Jan (4) and 10 Jan (6): 9 days apart; n read 1 Jan (3) and 1 May (1)
    wide = pd.DataFrame(
        {
            "unit": ["a", "b", "a", "b", "a", "b"],
            "client_id": ["a", "b", "a", "b", "a", "b"],
            "date": pd.to_datetime(
                ["2025-05-01", "2025-01-10", "2025-01-01", "2025-01-01", "2025-03-01", "2025-05-01"]
            ),
            "m": [5, 6, 2, 4, np.nan, np.nan],
            "n": [np.nan, np.nan, np.nan, 3, 7, 1],
        }
    )
    long = wide.melt(["unit", "client_id", "date"], var_name="measure", value_name="value")
    long = long[["unit", "client_id", "measure", "date", "value"]]
    for shape in (wide, long):
        kept, excluded = pair_readings(first_and_latest_readings(shape), min_days=28)
        got = kept[["measure", "unit", "first", "latest", "readings", "days"]]
        assert got.astype({"measure": str}).values.tolist() == [
            ["m", "a", 2.0, 5.0, 2, 120],
            ["n", "b", 3.0, 1.0, 2, 120],
        ]
        assert excluded[["measure", "unit", "reason"]].astype(str).values.tolist() == [
            ["m", "b", "too close"],
            ["n", "a", "single reading"],
        ]
        # the pairs are read, never changed, by the comparison: pairing again gives the same
        pairs = first_and_latest_readings(shape)
        pair_readings(pairs, min_days=28)
        assert "reason" not in pairs and "change" not in pairs
        again, _ = pair_readings(pairs, min_days=28)
        pd.testing.assert_frame_equal(again, kept)


def test_n_of_one_is_refused_with_a_reason():
    row = fit([("a", "m", "2025-01-01", 3), ("a", "m", "2025-06-01", 5)])
    assert row["n"] == 1 and row["mean_change"] == 2
    assert row["note"] == "n = 1 is below the minimum of 5: no test run"
    assert math.isnan(row["t"]) and math.isnan(row["p_t"]) and math.isnan(row["p_holm"])


def test_all_changes_zero_is_refused_with_a_reason():
    rows = [(u, "m", d, 4) for u in "abcdef" for d in ("2025-01-01", "2025-06-01")]
    row = fit(rows)
    assert row["n"] == 6 and row["unchanged"] == 6
    assert row["note"] == "every change is zero: no test run"
    assert math.isnan(row["p_wilcoxon"]) and math.isnan(row["dz"])


def test_identical_nonzero_changes_are_refused():
    rows = [(u, "m", d, v) for u in "abcdef" for d, v in (("2025-01-01", 4), ("2025-06-01", 6))]
    assert fit(rows)["note"] == "every change is the same: no test run (no variation)"


def test_a_measure_with_no_second_reading():
    rows = [(u, "m", "2025-01-01", 4) for u in "abcdef"]
    row = fit(rows)
    assert (row["n"], row["excluded_single"]) == (0, 6)
    assert row["note"] == "no unit has two readings at least 28 days apart"
    assert math.isnan(row["baseline_mean"])


def test_min_days_is_a_setting():
    rows = [
        (u, "m", d, v)
        for u in "abcdef"
        for d, v in (("2025-01-01", 1), ("2025-01-20", 2 + "abcdef".index(u)))
    ]
    assert fit(rows)["n"] == 0
    assert fit(rows, min_days=14)["n"] == 6


def test_cli_json_has_the_documented_keys_and_r_values(runner):
    result = runner.invoke(
        app,
        [
            "compare",
            str(FIXTURE / "data"),
            "--config",
            str(FIXTURE / "evaltool.toml"),
            "--instrument",
            "gbo",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    for key in (
        "instrument",
        "measure",
        "n",
        "baseline_mean",
        "latest_mean",
        "mean_change",
        "ci_low",
        "ci_high",
        "t",
        "df",
        "p_t",
        "wilcoxon_v",
        "p_wilcoxon",
        "dz",
        "g",
        "improved",
        "unchanged",
        "worse",
        "p_holm",
    ):
        assert key in row
    r = next(e for e in r_expected() if e["instrument"] == "gbo")
    # goals analysed at parent level (issue 24): 11 parents with 22 goals, V 54 (was 160.5
    # over the 22 goals as if independent)
    assert (row["n"], row["goals"]) == (int(r["n"]), int(r["goals"])) == (11, 22)
    assert row["wilcoxon_v"] == float(r["wilcoxon_v"]) == 54
    assert row["p_wilcoxon"] == pytest.approx(float(r["p_wilcoxon"]), rel=1e-9)
    assert row["reliable_improved"] is None  # no reliability for GBO: not invented


def test_cli_table_states_the_method(runner):
    result = runner.invoke(
        app, ["compare", str(FIXTURE / "data"), "--config", str(FIXTURE / "evaltool.toml")]
    )
    assert result.exit_code == 0, result.output
    assert "continuity correction (R: exact=FALSE, correct=TRUE)" in result.output
    assert "ba-scale worry: Wilcoxon: 3 zero change(s) dropped" in result.output


def test_the_return_sheet_carries_r_figures_and_no_counts_in_notes(runner, tmp_path):
    import openpyxl

    from tests.conftest import find_table, score_cli

    out = tmp_path / "r.xlsx"
    result = score_cli(runner, FIXTURE / "data", out, config=FIXTURE / "evaltool.toml")
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(out)["Before and after"]
    table = find_table(ws, "Before/after fixture scale: first vs latest").set_index("Measure")
    r = {e["measure"]: e for e in r_expected()}
    assert table.loc["Calm", "Pairs"] == 12
    # the return holds figures as printed (2 decimals, p to 3): R's, rounded
    assert table.loc["Calm", "Mean change"] == round(float(r["calm"]["mean_change"]), 2)
    annex = openpyxl.load_workbook(out)["Annex - statistical tests"]
    tests = find_table(annex, "Before/after fixture scale: tests of the change").set_index(
        "Measure"
    )
    assert tests.loc["Calm", "Pairs"] == 12
    assert table.loc["Worry", "Better is"] == "lower"
    # Unchanged = 1 for calm is a small count: suppressed, and so is its partner cell
    # (hidden: [c], or the range of tens it is in)
    assert table.loc["Calm", "Unchanged"] in ("[c]", "0 to 9")
    calm = table.loc["Calm", ["Improved", "Unchanged", "Worse"]]
    assert sum(isinstance(v, str) for v in calm) >= 2
    # and so are calm's tests, which give its split back (V ranks the changes), and the Holm
    # p-values of every measure, adjusted over calm's too
    assert (tests.loc["Calm"].drop(["Pairs"]) == "[c]").all()
    assert (tests["p (Holm)"] == "[c]").all()


def test_a_review_after_the_period_end_does_not_displace_the_latest_within_it(tmp_path):
    from evaltool.config import Settings
    from tests.conftest import clients_rows, workbook

    # one unweighted goal: T = 50 + 10x / sqrt((1 - 0.3) + 0.3) = 50 + 10x
    goals = []
    for cid in ("A", "B", "C"):
        goals += [
            {"client_id": cid, "goal_id": "g", "review_date": "01/05/2024", "level": -2},
            {"client_id": cid, "goal_id": "g", "review_date": "01/11/2025", "level": 0},
            {"client_id": cid, "goal_id": "g", "review_date": "01/05/2026", "level": 2},
        ]
    path = workbook(tmp_path, {"clients": clients_rows(["A", "B", "C"]), "goals": goals})
    loaded = load(path, Settings(compare_min_n=2), only="gas")
    end_of_2025_q4 = pd.Timestamp("2026-03-31")
    row = before_after(loaded, end=end_of_2025_q4).iloc[0]
    assert (row["n"], row["baseline_mean"], row["latest_mean"]) == (3, 30.0, 50.0)
    row = before_after(loaded).iloc[0]  # no end: the May 2026 review counts
    assert row["latest_mean"] == 70.0


def test_every_before_after_row_says_its_strength_of_evidence(runner):
    args = ["compare", str(FIXTURE / "data"), "--config", str(FIXTURE / "evaltool.toml")]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and all(r["evidence"]["sms_level"] == 1 for r in rows)
    assert all("would have happened anyway" in r["evidence"]["statement"] for r in rows)
    text = runner.invoke(app, args).output
    assert "Maryland Scientific Methods Scale level 1 of 5" in " ".join(text.split())


def test_goal_ratings_are_analysed_with_parents_as_units_as_r(tmp_path):
    """Issue 24: goals of one parent move together (intraclass correlation of the change 0.44
    here), so the before/after comparison of a goal measure is over parents: each parent's
    pair is the mean of her goals' first and latest ratings, n counts parents and goals stand
    beside it. R: tests/fixtures/cluster/cluster.R (78 service parents with 194 goals; the
    goal-level SE 0.133 as if independent is 0.186 clustered by parent)."""
    import openpyxl

    from evaltool.api import run
    from evaltool.config import Settings
    from evaltool.report.excel import write_return
    from tests.conftest import find_table

    folder = Path(__file__).parent / "fixtures" / "cluster"
    want = pd.read_csv(folder / "expected_before_after.csv").iloc[0].to_dict()
    loaded = load(folder / "data", Settings())
    got = before_after(loaded, instrument="gbo").iloc[0]
    assert (got["n"], got["goals"]) == (int(want["n"]), int(want["goals"])) == (78, 194)
    for col, value in want.items():
        assert float(got[col]) == pytest.approx(float(value), rel=1e-9, abs=1e-12), col
    # the return's Before and after sheet: Pairs are parents, Goals beside them
    results = run(folder / "data", Settings(), "2025-Q4")
    ws = openpyxl.load_workbook(write_return(results, tmp_path / "r.xlsx"))["Before and after"]
    title = next(
        c.value
        for r in ws.iter_rows()
        for c in r
        if isinstance(c.value, str) and c.value.endswith(": first vs latest")
    )
    table = find_table(ws, title)
    assert (table.loc[0, "Pairs"], table.loc[0, "Goals"]) == (78, 194)
    text = " ".join(str(c.value) for r in ws.iter_rows() for c in r if c.value is not None)
    assert "the pairs are parents" in text

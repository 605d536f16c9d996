"""Kaplan-Meier at a fixed time before anyone has joined (issue 24.1, delayed entry).

With delayed entry a parent is at risk only after she joined. At a fixed time earlier than
every parent's entry the estimator gives S = 1 with CI [1, 1], as R's ``summary.survfit``
does (kept: the estimator is checked against R), but that is no measurement: nobody was
followed yet. A reader saw "0 at risk, 0% (0 to 0)" and a difference of "+0.0% [+0.0%,
+0.0%]", which read as a measured 0%. Everything a reader sees says instead "not estimated:
nobody followed yet at this time" (not available in the return's tables, null in the JSON)
where nobody had joined by then. At risk 0 *after* everyone then followed has left is
different: the estimate holds its last value.

The comparison fixture measured from the index issue (the default origin) has every parent
joining more than a year after her index: nobody is followed at 182 or 365 days."""

from __future__ import annotations

import json
import math

import numpy as np
import openpyxl
import pytest

from evaltool.analysis.survival.km import NOT_YET, KaplanMeier, as_read
from tests.conftest import ROOT, find_table

DATA = ROOT / "tests" / "fixtures" / "comparison" / "data"
SETTINGS = """
[service]
name = "Comparison fixture"
[comparison]
propensity = ["age_at_origin", "prior_children_removed", "care_experienced"]
weights = "att"
bootstrap = 20
"""
SHARES = ("survival", "ci_low", "ci_high")


def test_before_anyone_joined_the_estimator_stays_rs_but_is_not_read_as_a_figure():
    """By hand: three parents joining on days 300, 300 and 400 (leaving on 500 with an event,
    700 censored, 600 with an event). On day 182 nobody has joined: R's summary.survfit gives
    S = 1, CI [1, 1], kept by ``at``; as read, not estimated. On day 365 two have joined and
    nobody has had new proceedings: a measured 100% free of them, kept."""
    km = KaplanMeier().fit(
        np.array([500, 700, 600]), np.array([1, 0, 1]), entry=np.array([300, 300, 400])
    )
    at = km.at([182, 365])
    assert at["entered"].tolist() == [0, 2] and at["at_risk"].tolist() == [0, 2]
    assert at.loc[0, list(SHARES)].tolist() == [1.0, 1.0, 1.0]  # as R
    read = as_read(at)
    assert read["not_estimated"].tolist() == [NOT_YET, None]
    assert all(math.isnan(read.loc[0, c]) for c in SHARES)
    assert read.loc[1, list(SHARES)].tolist() == [1.0, 1.0, 1.0]


def test_at_risk_0_after_everyone_then_followed_has_left_holds_the_last_value():
    """One parent followed from day 0 to 100 and leaving, another joining on day 300: on day
    200 nobody is at risk, but one had been followed; the estimate (1, after no event) holds
    and is read as it is."""
    km = KaplanMeier().fit(np.array([100, 500]), np.array([0, 1]), entry=np.array([0, 300]))
    read = as_read(km.at([200]))
    assert (read.loc[0, "at_risk"], read.loc[0, "entered"]) == (0, 1)
    assert read.loc[0, "survival"] == 1.0 and read.loc[0, "not_estimated"] is None


@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    from typer.testing import CliRunner

    from evaltool.cli import app

    tmp = tmp_path_factory.mktemp("before_entry")
    cfg = tmp / "evaltool.toml"
    cfg.write_text(SETTINGS)
    base = [str(DATA), "--config", str(cfg), "--period", "2025-Q3"]
    out, page = tmp / "r.xlsx", tmp / "b.html"
    runner = CliRunner()
    assert runner.invoke(app, ["score", *base, "--out", str(out)]).exit_code == 0
    assert runner.invoke(app, ["summary", *base, "--out", str(page)]).exit_code == 0
    return out, page


def test_the_return_shows_not_available_before_anyone_joined(returned):
    from evaltool.report.audit import attack

    out, page = returned
    ws = openpyxl.load_workbook(out)["Time to next proceedings"]
    km = find_table(ws, "Share with new care proceedings, at fixed times")
    early = km[km["Days"].isin([182, 365])]
    assert len(early) == 6 and (early["At risk"] == 0).all() and (early["Events so far"] == 0).all()
    for col in ("New proceedings (cumulative)", "CI low", "CI high"):
        assert (early[col] == "[x]").all(), early[col].tolist()  # not available, not 0%
        later = km.loc[km["Days"] == 730, col]
        assert all(isinstance(v, float) and 0 < v < 1 for v in later)  # measured, as before
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert NOT_YET in text
    diff = find_table(
        ws, "Share with new care proceedings, service less comparison cohort, adjusted"
    )
    early = diff[diff["Days"].isin([182, 365])]
    for col in ("Difference, adjusted", "CI low", "CI high", "Difference, unadjusted"):
        assert (early[col] == "[x]").all(), early[col].tolist()
        assert all(isinstance(v, float) for v in diff.loc[diff["Days"] == 730, col])
    board = page.read_text()
    assert "0% by 6 months" not in board and "not estimated at 6 months" in board
    assert attack([out]) == []


def test_the_survival_command_says_not_estimated_in_text_and_null_in_json(runner):
    from evaltool.cli import app

    args = ["survival", str(DATA), "--extract-date", "2025-12-31"]
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    rows = [line for line in text.output.splitlines() if line.startswith("comparison  182")]
    assert len(rows) == 1 and NOT_YET in rows[0] and "100.0%" not in rows[0]
    data = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    row = next(r for r in data["survival_at"] if (r["group"], r["days"]) == ("comparison", 182))
    assert row["at_risk"] == 0 and row["not_estimated"] == NOT_YET
    for key in (*SHARES, "cumulative_incidence", "ci_incidence_low", "ci_incidence_high"):
        assert row[key] is None, key
    later = next(r for r in data["survival_at"] if (r["group"], r["days"]) == ("all", 730))
    assert later["not_estimated"] is None and 0 < later["cumulative_incidence"] < 1


def test_the_weighted_comparison_is_not_estimated_before_anyone_joined(runner):
    from evaltool.cli import app

    args = [
        "survival",
        str(DATA),
        "--extract-date",
        "2025-12-31",
        "--propensity",
        "age_at_origin,prior_children_removed,care_experienced",
        "--bootstrap",
        "5",
    ]
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    said = " ".join(text.output.split())
    assert "by 182 days, service less comparison: +0.0%" not in said
    assert f"by 182 days, service less comparison: {NOT_YET}" in said
    assert f"by 365 days, service less comparison: {NOT_YET}" in said
    assert "No E-value for the one-year difference: nobody in either cohort had joined" in said
    data = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    first = data["difference"][0]
    assert first["days"] == 182 and first["not_estimated"] == NOT_YET
    for key in ("difference", "ci_low", "ci_high", "difference_unweighted"):
        assert first[key] is None, key
    assert all(r["cumulative_incidence"] is None for r in data["survival_at"][:2])
    assert data["difference"][2]["not_estimated"] is None


def test_value_for_money_takes_no_effect_from_a_time_before_anyone_joined():
    """The value case read the cohorts' difference at 365 days as 0 (R's S = 1 in both):
    a measured "no effect" where nobody was followed. Now there is no effect at that time,
    said in words; at 730 days, where both cohorts have joined, there is one."""
    import datetime as dt

    from evaltool.analysis.value import comparison_effect
    from evaltool.api import load, time_to_proceedings
    from evaltool.config import Settings

    loaded = load(DATA, Settings())
    survival = time_to_proceedings(loaded, dt.date(2025, 12, 31), covariates=())
    assert (survival.survival_at_.query("days == 365")["entered"] == 0).all()
    found = comparison_effect(survival, None, 365)
    assert isinstance(found, str) and "nobody in one had joined by then" in found
    assert not isinstance(comparison_effect(survival, None, 730), str)


def test_a_benchmark_point_before_anyone_joined_is_not_set_beside_a_0():
    """A like-for-like benchmark with a point at 182 days, when no service parent had joined
    by then: no service figure beside it (it was 0% [0%, 0%]); at 730 days there is one."""
    import datetime as dt

    from evaltool.api import load
    from evaltool.config import Settings
    from evaltool.data.benchmark import Benchmark, Point

    bench = Benchmark(
        "like",
        "synthetic",
        (Point(182, 0.05), Point(730, 0.2)),
        origin="index-issue",
        selection="referred to a service",
    )
    loaded = load(DATA, Settings())
    from evaltool.analysis.survival import TimeToProceedings

    t = loaded.dataset.tables
    fit = TimeToProceedings(times=(182, 730), benchmark=bench).fit(
        t["clients"], t["proceedings"], dt.date(2025, 12, 31)
    )
    first, later = fit.benchmark_["rows"]
    assert fit.benchmark_["compared"]
    assert first["incidence"] is None and first["not_estimated"] == NOT_YET
    assert later["not_estimated"] is None and 0 < later["incidence"] < 1


def test_the_competing_risks_estimate_before_anyone_joined_is_not_estimated():
    """Aalen-Johansen on the three parents above (new proceedings, died, censored): on day
    182 nobody has joined, so its 0 [0, 0] is not read as a figure; on day 450 one of the
    three joined has had new proceedings."""
    from evaltool.analysis.survival.km import aalen_johansen

    aj = aalen_johansen(
        np.array([500, 700, 600]), np.array([1, 0, 2]), np.array([300, 300, 400]), [182, 550]
    )
    assert aj["entered"].tolist() == [0, 3] and aj.loc[0, "incidence"] == 0
    read = as_read(aj)
    assert read["not_estimated"].tolist() == [NOT_YET, None]
    assert math.isnan(read.loc[0, "incidence"]) and math.isnan(read.loc[0, "ci_high"])
    assert read.loc[1, "incidence"] == pytest.approx(1 / 3)


def test_joined_but_no_new_proceedings_is_a_measured_0_not_a_not_estimated():
    """The other case: parents of the comparison cohort had joined within the year but none
    had new proceedings (their events up to day 365 made censorings). That 0% is measured:
    the difference is shown, and the E-value is missing for want of a ratio, said so."""
    import pandas as pd

    from evaltool.analysis.comparison import Propensity, WeightedSurvival

    data = pd.read_csv(
        ROOT / "tests" / "fixtures" / "survival" / "weighted_entry" / "weighted_entry.csv",
        dtype={"client_id": str},
    )
    early = (data["cohort"] == "comparison") & (data["time"] <= 365) & (data["event"] == 1)
    assert early.any()
    data.loc[early, "event"] = 0
    covs = ("age_at_origin", "prior_children_removed", "care_experienced")
    fit = WeightedSurvival(Propensity(covs), times=(182, 365, 730), bootstrap=0).fit(data)
    year = fit.difference_.set_index("days").loc[365]
    assert year["not_estimated"] is None and year["difference"] > 0
    assert (fit.survival_at_.query("days == 365")["entered"] > 0).all()
    e = fit.evidence_["difference_e_value"]
    assert e["e_value"] is None
    assert "nobody in the comparison cohort had new proceedings within a year" in e["statement"]

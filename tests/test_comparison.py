"""Comparison designs checked against R (tests/fixtures/comparison/comparison.R and its output
in expected/): the propensity model (glm, binomial), ATE and ATT weights, standardised mean
differences and variance ratios written out in base R, effective sample sizes, weighted
Kaplan-Meier (survfit with weights: R's infinitesimal-jackknife variance for non-integer
weights), and the weighted Cox model with R's robust standard error (coxph, robust = TRUE).

The fixture's comparison cohort is younger and has had more children removed, both of which
raise the hazard: large differences before weighting, |SMD| < 0.1 after, and a weighted
difference smaller than the unweighted one, as that confounding implies."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from evaltool.analysis.comparison import (
    Propensity,
    WeightedCox,
    WeightedSurvival,
    balance,
    effective_sample_size,
)
from evaltool.analysis.survival.km import KaplanMeier
from evaltool.api import load, time_to_proceedings
from evaltool.config import Settings
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "comparison"
EXPECTED = FIXTURE / "expected"
COVS = ("age_at_origin", "prior_children_removed", "care_experienced")
TIMES = (182, 365, 730, 1095)


@pytest.fixture(scope="module")
def table():
    loaded = load(FIXTURE / "data", Settings())
    assert loaded.problems.ok, loaded.problems.errors[:3]
    fit = time_to_proceedings(loaded, dt.date(2025, 12, 31), origin="start", covariates=())
    return fit.table_


def weights_for(table, est):
    if est == "none":
        return table, np.ones(len(table))
    ps = Propensity(COVS, weights=est).fit(table)
    return ps.data_, ps.weights_


def test_the_propensity_model_is_rs_glm(table):
    ps = Propensity(COVS).fit(table)
    want = pd.read_csv(EXPECTED / "propensity.csv")
    got = ps.coefficients_
    assert list(got["term"]) == list(want["term"])
    np.testing.assert_allclose(got["coef"], want["coef"], atol=1e-6)
    np.testing.assert_allclose(got["se"], want["se"], atol=1e-5)
    np.testing.assert_allclose(got["z"], want["z"], atol=1e-5)
    scores = pd.read_csv(EXPECTED / "scores.csv", dtype={"client_id": str})
    mine = pd.Series(ps.score_, index=ps.data_["client_id"]).loc[scores["client_id"]]
    np.testing.assert_allclose(mine.to_numpy(), scores["score"], atol=1e-9)


@pytest.mark.parametrize("est", ["none", "ate", "att"])
def test_balance_and_effective_sample_size_match_r(table, est):
    data, w = weights_for(table, est)
    want = pd.read_csv(EXPECTED / "balance.csv")
    want = want[want["weights"] == est].set_index("covariate")
    got = balance(data, COVS, w).set_index("covariate")
    np.testing.assert_allclose(
        got.loc[list(COVS), "smd_weighted"], want.loc[list(COVS), "smd"], atol=1e-9
    )
    np.testing.assert_allclose(
        got.loc[list(COVS), "variance_ratio"], want.loc[list(COVS), "variance_ratio"], atol=1e-9
    )
    ess = pd.read_csv(EXPECTED / "ess.csv").set_index("weights").loc[est]
    mine = effective_sample_size(data, w)
    assert mine["service"] == pytest.approx(ess["service"], abs=1e-9)
    assert mine["comparison"] == pytest.approx(ess["comparison"], abs=1e-9)


def test_the_fixture_is_confounded_and_weighting_balances_it(table):
    for est in ("ate", "att"):
        data, w = weights_for(table, est)
        b = balance(data, COVS, w)
        assert (b["smd_unweighted"].abs() > 0.2).all()  # large differences before
        assert (b["smd_weighted"].abs() < 0.1).all() and not b["imbalanced"].any()


@pytest.mark.parametrize("est", ["none", "ate", "att"])
def test_weighted_kaplan_meier_matches_survfit(table, est):
    data, w = weights_for(table, est)
    want = pd.read_csv(EXPECTED / "km.csv")
    for group, flag in (("service", 1), ("comparison", 0)):
        m = (data["cohort_service"] == flag).to_numpy()
        km = KaplanMeier("log").fit(data["time"].to_numpy()[m], data["event"].to_numpy()[m], w[m])
        at = km.at(TIMES)
        r = want[(want["weights"] == est) & (want["group"] == group)]
        np.testing.assert_allclose(at["survival"], r["surv"], atol=1e-9)
        step = np.searchsorted(km.table_["time"], TIMES, side="right") - 1
        se = km.table_["se_log"].to_numpy()[step]
        np.testing.assert_allclose(at["survival"] * se, r["std_err"], atol=1e-9)
        np.testing.assert_allclose(at["ci_low"], r["lower"], atol=1e-9)
        np.testing.assert_allclose(at["ci_high"], r["upper"], atol=1e-9)


@pytest.mark.parametrize("est", ["none", "ate", "att"])
def test_weighted_cox_with_rs_robust_standard_error(table, est):
    data, w = weights_for(table, est)
    cox = WeightedCox().fit(
        data["time"].to_numpy(), data["event"].to_numpy(), data["cohort_service"].to_numpy(), w
    )
    want = pd.read_csv(EXPECTED / "cox.csv").set_index("weights").loc[est]
    assert cox.coef_[0] == pytest.approx(want["coef"], abs=1e-6)
    assert cox.se_[0] == pytest.approx(want["se"], abs=1e-5)
    assert cox.robust_se_[0] == pytest.approx(want["robust_se"], abs=1e-5)
    assert cox.loglik_ == pytest.approx(want["loglik"], abs=1e-6)


def test_the_weighted_difference_moves_the_way_the_confounding_implies(table):
    """The comparison cohort's higher risk is partly its youth and removals: weighting takes
    that out, so the service's apparent advantage shrinks (R: HR 0.583 unweighted, 0.729
    weighted)."""
    fit = WeightedSurvival(Propensity(COVS, weights="ate"), times=TIMES, bootstrap=50).fit(table)
    d = fit.difference_
    assert (d["difference_unweighted"] < 0).all()
    assert (d["difference"] > d["difference_unweighted"]).all()  # closer to no difference
    assert (d["ci_low"] <= d["difference"]).all() and (d["difference"] <= d["ci_high"]).all()
    assert (d["resamples"] == 50).all()
    assert fit.cox_["hr"].iloc[0] == pytest.approx(np.exp(-0.315950980764313), 1e-6)
    assert fit.evidence_["sms_level"] == 2
    again = WeightedSurvival(Propensity(COVS, weights="ate"), times=TIMES, bootstrap=50).fit(table)
    pd.testing.assert_frame_equal(again.difference_, d)  # seeded: the same CI every run


def test_matching_pairs_each_service_client_within_the_caliper(table):
    ps = Propensity(COVS, match=True).fit(table)
    t = ps.data_["cohort_service"].to_numpy() == 1
    logit = np.log(ps.score_ / (1 - ps.score_))
    assert set(np.unique(ps.weights_[t])) <= {0.0, 1.0}
    assert ps.weights_[~t].sum() == ps.weights_[t].sum()  # one to one, without replacement
    assert ps.weights_[~t].max() == 1
    assert ps.unmatched_ == int((ps.weights_[t] == 0).sum())
    # every matched comparison client is within 0.2 SD of the logit of some service client
    limit = 0.2 * logit.std(ddof=1)
    for j in np.flatnonzero(~t & (ps.weights_ > 0)):
        assert np.min(np.abs(logit[t] - logit[j])) <= limit


def test_the_command_adds_the_comparison_to_the_json(runner):
    from evaltool.cli import app

    args = [
        "survival",
        str(FIXTURE / "data"),
        "--extract-date",
        "2025-12-31",
        "--origin",
        "start",
        "--propensity",
        ",".join(COVS),
        "--weights",
        "att",
        "--bootstrap",
        "20",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["propensity"]["covariates"] == list(COVS)
    assert out["propensity"]["weights"] == "att"
    assert [r["term"] for r in out["propensity"]["coefficients"]] == ["(Intercept)", *COVS]
    assert set(out["balance"][0]) >= {
        "covariate",
        "smd_unweighted",
        "smd_weighted",
        "variance_ratio",
    }
    assert set(out["effective_sample_size"]) == {"service", "comparison"}
    cox = out["cox"][0]
    want = pd.read_csv(EXPECTED / "cox.csv").set_index("weights").loc["att"]
    assert cox["robust_se"] == pytest.approx(want["robust_se"], abs=1e-5)
    assert cox["se"] == pytest.approx(want["se"], abs=1e-5)
    assert out["unweighted"]["survival_at"] and out["evidence"]["sms_level"] == 2
    bad = runner.invoke(app, [*args[:-5], "--weights", "atc"])
    assert bad.exit_code == 1 and "--weights atc: use ate or att" in bad.output


SETTINGS = """
[service]
name = "Comparison fixture"
[survival]
origin = "start"
[comparison]
propensity = ["age_at_origin", "prior_children_removed", "care_experienced"]
weights = "att"
bootstrap = 30
"""


def test_the_return_and_the_board_show_design_balance_and_evidence(tmp_path, runner):
    """[comparison] in the settings: the Time to next proceedings sheet and the board page
    show the design, R's balance and hazard ratio, and the evidence level in words; the
    return survives the reader's attacks."""
    import openpyxl

    from evaltool.cli import app
    from evaltool.report.audit import attack
    from tests.conftest import find_table

    cfg = tmp_path / "evaltool.toml"
    cfg.write_text(SETTINGS)
    base = [str(FIXTURE / "data"), "--config", str(cfg), "--period", "2025-Q3"]
    out, page = tmp_path / "r.xlsx", tmp_path / "b.html"
    assert runner.invoke(app, ["score", *base, "--out", str(out)]).exit_code == 0
    assert runner.invoke(app, ["summary", *base, "--out", str(page)]).exit_code == 0
    ws = openpyxl.load_workbook(out)["Time to next proceedings"]
    shown = find_table(ws, "Balance of the cohorts before and after adjustment")
    want = pd.read_csv(EXPECTED / "balance.csv")
    for est, column in (("none", "SMD before"), ("att", "SMD after")):
        r = want[want["weights"] == est].set_index("covariate")["smd"]
        got = shown.set_index("Covariate")[column]
        np.testing.assert_allclose(got.loc[list(COVS)], r.loc[list(COVS)].round(2), atol=1e-9)
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    hr = np.exp(pd.read_csv(EXPECTED / "cox.csv").set_index("weights").loc["att", "coef"])
    assert f"Hazard ratio, service vs comparison {hr:.2f} (95% CI" in text
    assert "Maryland Scientific Methods Scale level 2 of 5" in text
    assert "It cannot rule out differences between the cohorts that were not measured" in text
    diff = find_table(
        ws, "Share with new care proceedings, service less comparison cohort, adjusted"
    )
    assert len(diff) == 4 and (diff["Difference, adjusted"] < 0).all()
    # the entry is defined beside the adjusted figures, and the one-year difference's E-value
    # is shown where the hazard ratio's is
    assert "Adjusted: Kaplan-Meier with the weights, each parent counted from the day" in text
    assert "The one-year difference as a ratio" in text
    board = page.read_text()
    assert f"comparison: {hr:.2f} (95% CI" in board and "level 2 of 5" in board
    assert "The one-year difference as a ratio" in board
    assert "alt='Bar chart of how the propensity scores of the two cohorts overlap" in board
    assert attack([out]) == []


def test_too_small_a_cohort_is_not_adjusted_in_the_return(tmp_path, runner):
    import openpyxl

    from evaltool.cli import app

    data = tmp_path / "data"
    data.mkdir()
    clients = pd.read_csv(FIXTURE / "data" / "clients.csv", dtype=str, keep_default_na=False)
    small = pd.concat(
        [clients[clients["cohort"] == "service"], clients[clients["cohort"] == "comparison"][:15]]
    )
    small.to_csv(data / "clients.csv", index=False)
    procs = pd.read_csv(FIXTURE / "data" / "proceedings.csv", dtype=str, keep_default_na=False)
    procs[procs["client_id"].isin(small["client_id"])].to_csv(data / "proceedings.csv", index=False)
    cfg = tmp_path / "evaltool.toml"
    cfg.write_text(SETTINGS)
    out = tmp_path / "r.xlsx"
    args = ["score", str(data), "--config", str(cfg), "--period", "2025-Q3", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(out)["Time to next proceedings"]
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert "Not shown: fewer than 20 parents in a cohort" in text
    assert "Balance of the cohorts" not in text


def test_the_overlap_picture_merges_ranges_until_no_small_count_is_left():
    from evaltool.analysis.comparison import coarse_overlap

    table = pd.DataFrame(
        {
            "score_from": [0.0, 0.1, 0.2, 0.3, 0.4],
            "score_to": [0.1, 0.2, 0.3, 0.4, 0.5],
            "service": [0, 2, 10, 9, 1],
            "comparison": [3, 8, 12, 0, 0],
        }
    )
    got = coarse_overlap(table, 5)
    # 0.4-0.5 (1 service) joins 0.3-0.4; 0.0-0.1 (3 comparison) joins 0.1-0.2 (2 service
    # still small, so 0.0-0.2 holds 2 service: it joins 0.2-0.3)
    assert got[["score_from", "score_to"]].values.tolist() == [[0.0, 0.3], [0.3, 0.5]]
    assert got["service"].tolist() == [12, 10] and got["comparison"].tolist() == [23, 0]
    for g in ("service", "comparison"):
        assert not got[g].between(1, 5).any()
        assert got[g].sum() == table[g].sum()
    assert coarse_overlap(table.assign(service=[0, 0, 2, 0, 0]), 5).empty  # nothing showable


def test_cohorts_a_propensity_model_cannot_compare_are_refused_in_words(table):
    from evaltool.errors import AnalysisError

    few = pd.concat([table[table["cohort_service"] == 1], table[table["cohort_service"] == 0][:6]])
    with pytest.raises(AnalysisError, match="6 in the comparison cohort; it needs at least 10"):
        Propensity(COVS).fit(few)
    # a covariate that is the cohort itself: no parent has a like in the other cohort
    apart = table.assign(care_experienced=table["cohort_service"])
    with pytest.raises(AnalysisError, match="tell the cohorts apart almost perfectly"):
        Propensity(("care_experienced",)).fit(apart)
    with pytest.raises(AnalysisError, match="needs some clients with new proceedings"):
        WeightedCox().fit(
            np.arange(1, 21), np.zeros(20), np.r_[np.ones(10), np.zeros(10)], np.ones(20)
        )


def test_the_before_after_change_compared_between_the_cohorts_matches_r():
    """Both cohorts have goal-based outcome ratings: lm(change ~ treat, weights = w) and its
    HC0 standard error (change.R). Older parents improve more and the service's are older:
    adjusting shrinks the difference (R: 1.34 unadjusted, 0.92 with the ATT weights)."""
    from evaltool.analysis.comparison import weighted_difference
    from evaltool.api import adjusted_before_after

    want = pd.read_csv(EXPECTED / "change.csv").set_index("weights")
    loaded = load(FIXTURE / "data", Settings())
    [row] = adjusted_before_after(loaded, Propensity(COVS, weights="att"), instrument="gbo")
    assert (row["instrument"], row["measure"]) == ("gbo", "score")
    assert (row["n_service"], row["n_comparison"]) == (120, 120)
    for key in ("difference", "robust_se", "mean_service", "mean_comparison"):
        assert row[key] == pytest.approx(want.loc["att", key], abs=1e-9), key
    assert row["difference_unweighted"] == pytest.approx(want.loc["none", "difference"])
    assert row["difference"] < row["difference_unweighted"]
    assert row["evidence"]["sms_level"] == 2 and not row["balance"]["imbalanced"].any()
    # the bare function on numbers worked out by hand: means 2 and 1
    t = np.array([1, 1, 1, 0, 0, 0])
    got = weighted_difference(np.array([1.0, 2, 3, 0, 0, 3]), t, np.ones(6))
    assert got["difference"] == pytest.approx(1.0)  # 2 less 1, worked out by hand


def test_the_payment_by_results_outcome_compared_between_the_cohorts_matches_r():
    """No new care proceedings within 36 months of starting (comparison: of referral), among
    parents followed for all 36 months (issue 24.6: not "decided", which let recent starters
    in only as failures); propensity model refitted on them; change.R."""
    from evaltool.api import adjusted_horizon

    want = pd.read_csv(EXPECTED / "horizon.csv").iloc[0]
    loaded = load(FIXTURE / "data", Settings())
    got = adjusted_horizon(loaded, Propensity(COVS, weights="att"), dt.date(2025, 12, 31))
    assert (got["n_service"], got["n_comparison"]) == (want["n_service"], want["n_comparison"])
    for key in ("difference", "robust_se", "mean_service", "mean_comparison"):
        assert got[key] == pytest.approx(want[key], abs=1e-9), key
    assert got["not_yet_or_lost"] == 240 - 96 - 100  # followed for under 36 months
    assert got["not_yet"] + got["lost"] == got["not_yet_or_lost"]
    assert got["not_yet_already_not_met"] > 0  # early failures wait with the rest
    assert got["evidence"]["sms_level"] == 2


def test_the_comparison_cohorts_readings_are_not_the_services_outcomes(tmp_path):
    """The fixture's comparison cohort has goal ratings too: the return's goal-based outcomes
    count the service's 120 parents only; the adjusted comparison uses both cohorts."""
    from evaltool.api import run

    results = run(FIXTURE / "data", Settings(), "2025-Q3")
    pairs = results.evaluations["gbo"].pairs
    assert pairs["client_id"].nunique() == 120
    clients = pd.read_csv(FIXTURE / "data" / "clients.csv", dtype=str)
    service = set(clients.loc[clients["cohort"] == "service", "client_id"])
    assert set(pairs["client_id"]) <= service
    row = results.comparisons.set_index(["instrument", "measure"]).loc[("gbo", "score")]
    assert row["n"] == 120


def test_the_matched_cox_model_leaves_unmatched_parents_out_as_r(table):
    """Issue 24: unmatched parents were kept with weight 0, so their events still counted
    among the tied deaths of Efron's correction (two event days here are shared by a matched
    and an unmatched parent). R: coxph on the matched parents with their weights, robust
    variance clustered by matched pair (matched.R)."""
    want = pd.read_csv(EXPECTED / "matched_cox.csv").iloc[0]
    fit = WeightedSurvival(Propensity(COVS, match=True), times=TIMES, bootstrap=0).fit(table)
    cox = fit.cox_.iloc[0]
    assert cox["coef"] == pytest.approx(want["coef"], abs=1e-7)
    assert cox["se"] == pytest.approx(want["se"], abs=1e-6)
    assert cox["robust_se"] == pytest.approx(want["robust_se"], abs=1e-6)
    assert fit.propensity.unmatched_ == 31
    assert int((fit.propensity.weights_ > 0).sum()) == want["n"] == 178


def test_survival_propensity_reports_the_model_it_used(runner):
    """Issue 24: `survival --propensity` printed the propensity model of the payment-by-
    results refit (on the parents whose 36 months are complete), not the one its figures used
    (all 240): the
    JSON's model is R's glm on everyone (comparison.R), with matching's unmatched count
    (matched.R); the payment-by-results row describes its own model."""
    from evaltool.cli import app

    args = ["survival", str(FIXTURE / "data"), "--extract-date", "2025-12-31"]
    args += ["--origin", "start", "--propensity", ",".join(COVS), "--match"]
    result = runner.invoke(app, [*args, "--bootstrap", "0", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    want = pd.read_csv(EXPECTED / "propensity.csv")
    got = pd.DataFrame(out["propensity"]["coefficients"])
    np.testing.assert_allclose(got["coef"], want["coef"], rtol=1e-6)
    np.testing.assert_allclose(got["se"], want["se"], rtol=1e-6)
    assert out["propensity"]["unmatched"] == 31
    horizon = out["no_new_proceedings_within_horizon"]
    decided = pd.read_csv(EXPECTED / "horizon.csv").iloc[0]  # change.R: complete follow-up
    assert horizon["propensity"]["parents"] == decided["n_service"] + decided["n_comparison"]
    assert horizon["propensity"]["coefficients"][0]["coef"] != pytest.approx(want["coef"][0])


CLUSTER = ROOT / "tests" / "fixtures" / "cluster"


@pytest.mark.parametrize("scheme", ["att", "ate", "match"])
def test_goals_within_parents_are_compared_with_parents_as_units_as_r(scheme):
    """Issue 24: the propensity model was fitted on goal rows and the standard error treated
    goals of one parent as independent. Now the model is fitted on parents (one row each),
    each parent's goals share her weight (w / k: every parent counts once) and the standard
    error is clustered by parent (matching: by matched pair), as R's lm(change ~ treat,
    weights) with sandwich::vcovCL (tests/fixtures/cluster/cluster.R; 160 parents, 1 to 4
    goals each, intraclass correlation of the change 0.44)."""
    from evaltool.api import adjusted_before_after

    want = pd.read_csv(CLUSTER / "expected_adjusted.csv").set_index("weights").loc[scheme]
    loaded = load(CLUSTER / "data", Settings())
    kind = {"match": True} if scheme == "match" else {"weights": scheme}
    [row] = adjusted_before_after(loaded, Propensity(COVS, **kind), instrument="gbo")
    for key in ("n_service", "n_comparison", "rows_service", "rows_comparison"):
        assert row[key] == want[key], key
    for key in (
        "difference",
        "robust_se",
        "mean_service",
        "mean_comparison",
        "difference_unweighted",
    ):
        assert row[key] == pytest.approx(want[key], rel=1e-9), key
    # clustering matters here: the SE as if the goals were independent is smaller (R)
    assert row["robust_se"] > want["se_goal_rows_independent"] * 1.1
    coefs = pd.DataFrame(row["propensity"]["coefficients"])
    r = pd.read_csv(CLUSTER / "expected_propensity.csv")
    np.testing.assert_allclose(coefs["coef"], r["coef"], rtol=1e-7)
    assert row["propensity"]["parents"] == 158


def test_the_adjusted_hazard_ratio_is_not_printed_beside_hidden_events(tmp_path, monkeypatch):
    """With a cohort's events hidden, the hazard ratio in words goes too, as the Annex's Cox
    model does (with one or two events a cohort they give the events back): the sheet and
    the board page say it is not shown, and why."""
    from evaltool.api import load_settings, run
    from evaltool.report.board import board_html
    from evaltool.report.excel import build_workbook
    from evaltool.report.output import output_for
    from evaltool.report.publish import publish, words_of

    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    cfg = tmp_path / "evaltool.toml"
    cfg.write_text(SETTINGS)
    results = run(FIXTURE / "data", load_settings(cfg), "2025-Q3")
    pub = publish(results)
    assert pub.texts["comparison"]["hr"] is not None  # the events are shown here
    pub.shown["km-median"].suppressed.loc[0, "Events"] = True  # as if one were hidden
    pub = words_of(results, pub)
    assert pub.texts["comparison"]["hr"] is None
    out = output_for(results, pub)
    said = "service vs comparison: not shown, as it rests on counts hidden in this return"
    assert said in board_html(out)
    ws = build_workbook(out)["Time to next proceedings"]
    assert any(c.value == said.split(": ")[1] for row in ws.iter_rows() for c in row)

"""The propensity-weighted comparison with delayed entry (issue 24.1): each parent at risk only
over (entry, time], counted by her weight, as R's ``Surv(entry, time, event)`` with
``weights =`` (tests/fixtures/survival/weighted_entry: weighted_entry.R, its output
weighted_entry.Rout and the CSVs it wrote; 200 synthetic parents, 109 entering late, some on
another's event day, 78 events on 68 days, non-integer weights).

Without entry the time between the index and joining, when no new set could be seen, counted
as time at risk: the weighted comparison gave a one-year recurrence far too low."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from evaltool.analysis.comparison import Propensity, WeightedCox, WeightedSurvival
from evaltool.analysis.evidence import e_value_rr
from evaltool.analysis.survival.km import KaplanMeier
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "survival" / "weighted_entry"
COVS = ("age_at_origin", "prior_children_removed", "care_experienced")
TIMES = (182, 365, 730)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(FIXTURE / "weighted_entry.csv", dtype={"client_id": str})


def test_the_fixture_has_what_it_is_meant_to_test(data):
    events = data[data["event"] == 1]
    assert (data["entry"] > 0).sum() > 100
    assert events["time"].duplicated().any()  # tied events
    assert data["entry"].isin(events["time"]).any()  # entering on another's event day
    assert not np.allclose(data["w"], data["w"].round())  # non-integer weights


@pytest.mark.parametrize("ci", ["log", "log-log"])
def test_weighted_kaplan_meier_with_late_entry_matches_survfit(data, ci):
    """R: survfit(Surv(entry, time, event) ~ 1, weights = w): the weighted numbers at risk,
    the estimate, and the standard error R gives for non-integer weights (its default then:
    the robust, infinitesimal-jackknife one, not Greenwood's), with its CI."""
    steps = pd.read_csv(FIXTURE / "km_steps.csv")
    at = pd.read_csv(FIXTURE / "km_at.csv")
    for group in ("service", "comparison"):
        part = data[data["cohort"] == group]
        km = KaplanMeier(ci).fit(part["time"], part["event"], part["w"], entry=part["entry"])
        want = steps[(steps["conf"] == ci) & (steps["group"] == group)].reset_index(drop=True)
        got = km.table_
        assert got["time"].tolist() == want["time"].tolist()
        np.testing.assert_allclose(got["at_risk"], want["n_risk"], rtol=1e-8)
        np.testing.assert_allclose(got["events"], want["n_event"], rtol=1e-8)
        np.testing.assert_allclose(got["survival"], want["survival"], rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(got["se_log"], want["std_err"], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(got["ci_low"], want["lower"], atol=1e-6, equal_nan=True)
        np.testing.assert_allclose(got["ci_high"], want["upper"], atol=1e-6, equal_nan=True)
        # not Greenwood's: R's two standard errors differ here by more than the tolerance
        assert np.abs(want["std_err"] - want["std_err_greenwood"]).max() > 1e-3
        r = at[(at["conf"] == ci) & (at["group"] == group)].reset_index(drop=True)
        mine = km.at(TIMES)
        np.testing.assert_allclose(mine["survival"], r["survival"], atol=1e-8)
        np.testing.assert_allclose(mine["ci_low"], r["ci_low"], atol=1e-6)
        np.testing.assert_allclose(mine["ci_high"], r["ci_high"], atol=1e-6)


def test_weighted_cox_with_late_entry_matches_coxph_robust(data):
    """R: coxph(Surv(entry, time, event) ~ cohort_service, weights = w, robust = TRUE,
    id = client_id, ties = "efron"), then with cluster = pair; and with two covariates."""
    want = pd.read_csv(FIXTURE / "cox.csv").set_index("model")
    args = (data["time"], data["event"], data["cohort_service"], data["w"])
    for model, cluster in (("robust", None), ("cluster", data["pair"].to_numpy())):
        cox = WeightedCox().fit(*args, cluster=cluster, entry=data["entry"])
        r = want.loc[model]
        assert cox.coef_[0] == pytest.approx(r["coef"], abs=1e-8)
        assert cox.loglik_ == pytest.approx(r["loglik"], abs=1e-8)
        assert cox.se_[0] == pytest.approx(r["se"], abs=1e-6)
        assert cox.robust_se_[0] == pytest.approx(r["robust_se"], abs=1e-6)
    two = pd.read_csv(FIXTURE / "cox_two.csv")
    x = data[["cohort_service", "prior_children_removed"]].to_numpy(float)
    cox = WeightedCox().fit(data["time"], data["event"], x, data["w"], entry=data["entry"])
    np.testing.assert_allclose(cox.coef_, two["coef"], atol=1e-8)
    np.testing.assert_allclose(cox.se_, two["se"], atol=1e-6)
    np.testing.assert_allclose(cox.robust_se_, two["robust_se"], atol=1e-6)


@pytest.mark.parametrize("est", ["att", "ate"])
def test_the_weighted_comparison_uses_entry_as_r(data, est):
    """The whole comparison against weighted_entry.R: R's glm propensity model, its weights,
    survfit with them on (entry, time], the difference in cumulative incidence, coxph with
    the robust variance; and the E-value of the one-year difference as a risk ratio."""
    fit = WeightedSurvival(Propensity(COVS, weights=est), times=TIMES, bootstrap=40).fit(data)
    km = pd.read_csv(FIXTURE / "weighted_km_at.csv")
    km = km[km["estimand"] == est]
    for group in ("service", "comparison"):
        got = fit.survival_at_[fit.survival_at_["group"] == group]
        want = km[km["group"] == group]
        np.testing.assert_allclose(got["survival"], want["survival"], atol=1e-8)
        np.testing.assert_allclose(got["ci_low"], want["ci_low"], atol=1e-6)
        np.testing.assert_allclose(got["ci_high"], want["ci_high"], atol=1e-6)
    [r] = pd.read_csv(FIXTURE / "weighted_cox.csv").query("estimand == @est").to_dict("records")
    np.testing.assert_allclose(
        fit.difference_["difference"],
        [r["difference_182"], r["difference_365"], r["difference_730"]],
        atol=1e-8,
    )
    c = fit.cox_.iloc[0]
    assert c["coef"] == pytest.approx(r["coef"], abs=1e-8)
    assert c["se"] == pytest.approx(r["se"], abs=1e-6)
    assert c["robust_se"] == pytest.approx(r["robust_se"], abs=1e-6)
    e = fit.evidence_["difference_e_value"]
    assert e["days"] == 365
    assert e["risk_ratio"] == pytest.approx(r["risk_ratio_365"], abs=1e-8)
    assert e["e_value"] == pytest.approx(r["e_value_365"], abs=1e-8)
    # the CI's limit nearer 1, from the bootstrap CI of the same risk ratio
    lo, hi = e["risk_ratio_ci_low"], e["risk_ratio_ci_high"]
    assert lo < e["risk_ratio"] < hi
    assert e["e_value_ci"] == pytest.approx(1.0 if lo <= 1 <= hi else e_value_rr(hi))
    assert "one-year" in e["statement"] and "E-value" in e["statement"]
    assert e["statement"] in fit.evidence_["statement"]  # shown where the others are


def test_the_bootstrap_resamples_with_entry(data):
    """The bootstrap's resamples are measured as the point estimate is: with entry. Every
    resample drawn from a data set whose entries are all 0 gives the old (immortal time)
    figures, so the two sets of resamples must differ; and the point lies inside its CI."""
    ps = Propensity(COVS)
    fit = WeightedSurvival(ps, times=(365,), bootstrap=60).fit(data)
    old = WeightedSurvival(ps, times=(365,), bootstrap=60).fit(data.assign(entry=0.0))
    d, o = fit.difference_.iloc[0], old.difference_.iloc[0]
    assert d["ci_low"] < d["difference"] < d["ci_high"]
    assert (d["ci_low"], d["ci_high"]) != pytest.approx((o["ci_low"], o["ci_high"]), abs=1e-3)


def two_cohorts(n: int = 1500) -> tuple[pd.DataFrame, pd.DataFrame, np.random.Generator]:
    """Two cohorts drawn alike (tests/test_survival.simulated_population: a true one-year
    recurrence of 20% from any set, each joining 0 to 4 years after her first set), and
    baseline characteristics drawn independently of everything: weights with no confounding
    to remove, near 1 but not whole numbers."""
    from tests.test_survival import simulated_population

    rng = np.random.default_rng(7)
    parts = []
    for k, cohort in enumerate(("service", "comparison")):
        c, s = simulated_population(n, seed=24 + k)
        c["client_id"] = c["client_id"] + cohort[0]
        s["client_id"] = s["client_id"] + cohort[0]
        c["cohort"] = cohort
        if cohort == "comparison":
            c["referral_date"] = c["start_date"]
            c["start_date"] = pd.NaT
        parts.append((c, s))
    clients = pd.concat([p[0] for p in parts], ignore_index=True)
    sets = pd.concat([p[1] for p in parts], ignore_index=True)
    return clients, sets, rng


def test_simulation_the_weighted_comparison_recovers_a_true_20_percent():
    """Issue 24.1 for the weighted comparison: a true one-year recurrence of 20% in both
    cohorts, weights with no confounding to remove. With entry each cohort's weighted
    one-year recurrence is near 20% (within 5 points: with late entry the first risk sets are
    small, so 1,500 parents a cohort are noisy; seen 23.1% and 17.4%), its CI holds it, and
    the weighted difference's CI holds 0; measured from the index with no entry (the old way)
    the figure is far too low (seen 4.7%, as the issue's 4.9%)."""
    from evaltool.analysis.survival import TimeToProceedings

    clients, sets, rng = two_cohorts()
    fit = TimeToProceedings(origin="index-issue", times=(365,)).fit(
        clients, sets, dt.date(2025, 12, 31)
    )
    t = fit.table_
    assert (t["entry"] > 0).mean() > 0.8
    t = t.assign(
        age_at_origin=rng.normal(28, 5, len(t)),
        prior_children_removed=rng.integers(0, 4, len(t)),
        care_experienced=rng.integers(0, 2, len(t)),
    )
    ps = Propensity(COVS)
    new = WeightedSurvival(ps, times=(365,), bootstrap=100).fit(t)
    assert not np.allclose(new.propensity.weights_, new.propensity.weights_.round())
    for row in new.survival_at_.itertuples():
        assert abs(row.cumulative_incidence - 0.20) < 0.05
        assert row.ci_incidence_low < 0.20 < row.ci_incidence_high
    d = new.difference_.iloc[0]
    assert d["ci_low"] < 0 < d["ci_high"]
    old = WeightedSurvival(ps, times=(365,), bootstrap=0).fit(t.assign(entry=0.0))
    for row in old.survival_at_.itertuples():
        assert row.ci_incidence_high < 0.15  # the old way: far too low, CI and all


@pytest.mark.parametrize("entry", ["start", "referral"])
def test_the_return_compares_the_cohorts_from_the_day_each_joined(entry):
    """The return's comparison (core.compare_cohorts) follows [survival] entry as the
    unweighted analysis does: it is fitted on the same table, each parent at risk from the
    day she joined under that setting (service start, or referral for everyone). From the
    index issue every parent here joins late; the numbers at risk a year on are counted by
    hand from the table, and the weighted curve is the (R-checked) weighted Kaplan-Meier on
    (entry, time]."""
    from evaltool.api import load, time_to_proceedings
    from evaltool.config import Settings
    from evaltool.core import compare_cohorts
    from evaltool.data.problems import ProblemList

    settings = Settings(comparison_propensity=COVS, comparison_bootstrap=20)
    loaded = load(ROOT / "tests" / "fixtures" / "comparison" / "data", settings)
    survival = time_to_proceedings(
        loaded, dt.date(2025, 12, 31), origin="index-issue", entry=entry, covariates=()
    )
    t = survival.table_
    assert (t["entry"] > 0).all() and survival.entry == entry
    fit = compare_cohorts(survival, settings, ProblemList())
    ps = fit.propensity
    assert ps.data_["entry"].tolist() == t["entry"].tolist()
    for group, flag in (("service", 1), ("comparison", 0)):
        m = (ps.data_["cohort_service"] == flag).to_numpy()
        part = ps.data_[m]
        row = fit.survival_at_.set_index(["group", "days"]).loc[(group, 365)]
        assert row["at_risk"] == ((part["entry"] < 365) & (part["time"] >= 365)).sum()
        km = KaplanMeier().fit(part["time"], part["event"], ps.weights_[m], part["entry"])
        assert row["survival"] == pytest.approx(km.at((365,))["survival"].iloc[0], abs=1e-12)
    # the other setting: each service parent joins on another day, and the comparison with her
    other = time_to_proceedings(
        loaded,
        dt.date(2025, 12, 31),
        origin="index-issue",
        entry="referral" if entry == "start" else "start",
        covariates=(),
    )
    again = compare_cohorts(other, settings, ProblemList()).propensity.data_
    service = (again["cohort_service"] == 1).to_numpy()
    assert (again["entry"][service] != ps.data_["entry"][service]).all()
    assert (again["entry"][~service] == ps.data_["entry"][~service]).all()


def test_a_run_with_another_entry_is_a_sensitivity_analysis(runner, tmp_path):
    """The primary analysis fixes the day each parent joins (the settings' [survival] entry):
    `--entry referral` against a `start` setting is labelled a sensitivity analysis, saying so,
    in the weighted comparison and the unweighted one alike; the settings' own entry is the
    primary analysis."""
    import json

    from evaltool.cli import app

    config = tmp_path / "evaltool.toml"
    config.write_text('[primary]\norigin = "start"\n[comparison]\nbootstrap = 0\n')
    data = ROOT / "tests" / "fixtures" / "comparison" / "data"
    args = ["survival", str(data), "--extract-date", "2025-12-31", "--json", "--origin", "start"]
    args += ["--propensity", ",".join(COVS), "--config", str(config)]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["evidence"]["analysis"] == "primary"
    out = runner.invoke(app, [*args, "--entry", "referral"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.stdout)
    assert got["evidence"]["analysis"] == "sensitivity"
    assert "entry referral (primary: start)" in got["evidence"]["statement"]
    plain = [a for a in args if a not in ("--propensity", ",".join(COVS))]
    out = runner.invoke(app, [*plain, "--entry", "referral"])
    assert out.exit_code == 0, out.output
    said = json.loads(out.stdout)["evidence"]["statement"]
    assert "entry referral (primary: start)" in said
    said = json.loads(runner.invoke(app, plain).stdout)["evidence"]["statement"]
    assert "Sensitivity analysis" in said  # unadjusted, not weighted: another method
    assert "entry referral" not in said


def test_no_e_value_where_a_cohort_has_no_return_within_the_year():
    """From the index issue, every parent of the comparison fixture joins after day 365: no
    new proceedings can be counted within the first year in either cohort, so there is no
    ratio and no E-value for it, and the evidence says so (nobody had joined: not estimated)
    rather than printing none."""
    from evaltool.api import load, time_to_proceedings
    from evaltool.config import Settings

    loaded = load(ROOT / "tests" / "fixtures" / "comparison" / "data", Settings())
    survival = time_to_proceedings(
        loaded, dt.date(2025, 12, 31), origin="index-issue", covariates=()
    )
    fit = WeightedSurvival(Propensity(COVS), times=TIMES, bootstrap=5).fit(survival.table_)
    e = fit.evidence_["difference_e_value"]
    assert e["e_value"] is None and e["risk_ratio"] is None
    assert (fit.survival_at_.query("days == 365")["entered"] == 0).all()
    assert e["statement"] == (
        "No E-value for the one-year difference: nobody in either cohort had joined within a "
        "year, so there is nothing to compare (not estimated: nobody followed yet at this time)."
    )
    assert e["statement"] in fit.evidence_["statement"]


def test_without_resamples_the_e_value_has_no_ci_and_the_json_no_nan(data):
    import json

    fit = WeightedSurvival(Propensity(COVS), times=TIMES, bootstrap=0).fit(data)
    e = fit.evidence_["difference_e_value"]
    assert e["e_value"] == pytest.approx(2.55791659623912, abs=1e-8)  # weighted_cox.csv, att
    assert e["e_value_ci"] is None and e["risk_ratio_ci_low"] is None
    assert "(no CI: no bootstrap resamples)" in e["statement"] and "nan" not in e["statement"]
    json.dumps(e, allow_nan=False)  # strict JSON: null, never NaN

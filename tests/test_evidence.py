"""The evidence a comparison earns (issue 24, point 3 and the power part of 8), each figure
checked by hand or against R (tests/fixtures/evidence/evidence.R, output evidence.Rout and
expected_*.csv; the R EValue package is not installed, so its formulas are written out there
from VanderWeele & Ding 2017 and the package's source): E-values of adjusted hazard ratios
(common outcome: converted to a risk ratio), risk ratios and standardised mean differences;
the minimum detectable hazard ratio (Schoenfeld); covariates refused when they are not
baseline characteristics; level 2 only with the core baseline set in the model and balanced;
one primary analysis and one default estimand."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from evaltool.analysis.comparison import (
    Propensity,
    WeightedSurvival,
    difference_evidence,
    weighted_difference,
)
from evaltool.analysis.evidence import (
    CORE_BASELINE,
    e_value,
    earned,
    hr_to_rr,
    minimum_detectable_hr,
    role,
)
from evaltool.api import load, time_to_proceedings
from evaltool.config import Settings, load_settings
from evaltool.errors import AnalysisError, ConfigError
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "comparison"
HERE = ROOT / "tests" / "fixtures" / "evidence"
COVS = ("age_at_origin", "prior_children_removed", "care_experienced")


@pytest.fixture(scope="module")
def table():
    loaded = load(FIXTURE / "data", Settings())
    assert loaded.problems.ok, loaded.problems.errors[:3]
    return time_to_proceedings(loaded, dt.date(2025, 12, 31), origin="start", covariates=()).table_


def test_the_papers_worked_example():
    """VanderWeele & Ding 2017: RR 3.9 (CI 1.8 to 8.7) has E-value 7.26, its CI 3.0."""
    got = e_value("rr", 3.9, 1.8, 8.7)
    assert got["e_value"] == pytest.approx(3.9 + math.sqrt(3.9 * 2.9))
    assert round(got["e_value"], 2) == 7.26
    assert got["e_value_ci"] == pytest.approx(3.0)  # 1.8 + sqrt(1.8 x 0.8) = 1.8 + 1.2


def test_e_values_by_hand():
    # below 1: inverted; the CI limit nearer 1 is the upper one; a CI holding 1 gives 1
    got = e_value("rr", 0.5, 0.3, 0.8)
    assert got["e_value"] == pytest.approx(2 + math.sqrt(2))
    assert got["e_value_ci"] == pytest.approx(1.25 + math.sqrt(1.25 * 0.25))
    assert e_value("rr", 0.8, 0.6, 1.1)["e_value_ci"] == 1.0
    # a common outcome: HR 0.5 -> RR (1 - 0.5^0.7071) / (1 - 0.5^1.4142) = 0.62014
    assert hr_to_rr(0.5) == pytest.approx(0.387453 / 0.624786, abs=1e-5)
    rr = 1 / hr_to_rr(0.5)
    common = e_value("hr", 0.5, 0.3, 0.8, common=True)
    assert common["e_value"] == pytest.approx(rr + math.sqrt(rr * (rr - 1)))
    assert "common outcome" in common["scale"]
    rare = e_value("hr", 0.5, 0.3, 0.8)
    assert rare["e_value"] == pytest.approx(2 + math.sqrt(2)) and "rare" in rare["scale"]
    # a standardised mean difference d = 0.5, SE 0.1: RR exp(0.455), CI limit exp(0.455 - 0.178)
    smd = e_value("smd", 0.5, se=0.1)
    r, lo = math.exp(0.455), math.exp(0.455 - 0.178)
    assert smd["e_value"] == pytest.approx(r + math.sqrt(r * (r - 1)))
    assert smd["e_value_ci"] == pytest.approx(lo + math.sqrt(lo * (lo - 1)))


def test_the_minimum_detectable_hazard_ratio_by_hand():
    """Schoenfeld: 100 events split evenly: log HR = (1.95996 + 0.84162) / sqrt(100 / 4)."""
    assert minimum_detectable_hr(100, 0.5) == pytest.approx(math.exp(-2.801585 / 5), abs=1e-6)
    # fewer events, or an uneven split, can only detect larger effects
    assert minimum_detectable_hr(30, 0.5) < minimum_detectable_hr(100, 0.5)
    assert minimum_detectable_hr(100, 0.1) < minimum_detectable_hr(100, 0.5)
    assert math.isnan(minimum_detectable_hr(0, 0.5))


@pytest.mark.parametrize("est", ["att", "ate"])
def test_the_weighted_hazard_ratios_e_value_and_power_match_r(table, est):
    want = pd.read_csv(HERE / "expected_cox.csv").set_index("weights").loc[est]
    fit = WeightedSurvival(Propensity(COVS, weights=est), bootstrap=0).fit(table)
    assert fit.cox_["hr"].iloc[0] == pytest.approx(want["hr"], abs=1e-6)
    e = fit.evidence_["e_value"]
    assert not want["rare"] and "common outcome" in e["scale"]  # 65% had new proceedings
    assert e["e_value"] == pytest.approx(want["e_value"], abs=1e-5)
    assert e["e_value_ci"] == pytest.approx(want["e_value_ci"], abs=1e-5)
    power = fit.evidence_["power"]
    assert power["events"] == want["events"]
    assert power["minimum_detectable_hr"] == pytest.approx(want["mdhr"], abs=1e-9)
    words = fit.evidence_["statement"]
    assert f"E-value {want['e_value']:.2f}" in words and f"{want['mdhr']:.2f} or below" in words
    rare = e_value("hr", want["hr"], want["hr_low"], want["hr_high"])
    assert rare["e_value"] == pytest.approx(want["e_value_rare"], abs=1e-5)


@pytest.mark.parametrize("outcome", ["met", "change"])
def test_the_e_value_of_a_difference_matches_r(outcome):
    """A yes/no outcome: the risk ratio of the weighted shares (delta-method CI from R's HC0
    variances of the two means); a score: the standardised mean difference."""
    x = pd.read_csv(HERE / "difference.csv")
    want = pd.read_csv(HERE / "expected_difference.csv").set_index("outcome").loc[outcome]
    y, t, w = x[outcome].to_numpy(float), x["treat"].to_numpy(), x["w"].to_numpy(float)
    got = difference_evidence(earned(COVS), y, t, w, weighted_difference(y, t, w))["e_value"]
    assert got["risk_ratio"] == pytest.approx(want["ratio"], abs=1e-9)
    assert got["e_value"] == pytest.approx(want["e_value"], abs=1e-9)
    assert got["e_value_ci"] == pytest.approx(want["e_value_ci"], abs=1e-9)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("client_id", "an identifier"),
        ("key_worker_id", "an identifier"),
        ("end_date", "a date after entry"),
        ("closure_reason", "after entry"),
        ("event", "an outcome"),
        ("time", "an outcome"),
        ("cohort", "what the propensity model predicts"),
    ],
)
def test_covariates_that_are_not_baseline_characteristics_are_refused(table, name, words):
    with pytest.raises(AnalysisError) as err:
        Propensity((*COVS, name)).fit(table)
    assert f"'{name}' is" in str(err.value) and words in str(err.value)
    assert "known when the parent entered" in str(err.value)


def test_a_date_column_is_refused_whatever_its_name(table):
    t = table.assign(assessed=pd.Timestamp("2024-01-01"))
    with pytest.raises(AnalysisError, match="assessed: a date is not a characteristic"):
        Propensity((*COVS, "assessed")).fit(t)


def test_the_settings_refuse_them_naming_the_setting_and_every_value(tmp_path):
    path = tmp_path / "evaltool.toml"
    path.write_text('[comparison]\npropensity = ["client_id", "age_at_origin", "end_date"]\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    text = str(err.value)
    assert "comparison.propensity" in text and path.name in text
    assert "'client_id' is an identifier" in text and "'end_date' is a date after entry" in text
    path.write_text('[survival]\ncovariates = ["cohort", "event"]\n')
    with pytest.raises(ConfigError, match="survival.covariates.*'event' is an outcome"):
        load_settings(path)
    path.write_text('[survival]\ncovariates = ["cohort", "age_at_origin"]\n')
    assert load_settings(path).survival_covariates == ("cohort", "age_at_origin")


def test_the_command_line_refuses_them_in_words(runner):
    from evaltool.cli import app

    args = ["survival", str(FIXTURE / "data"), "--extract-date", "2025-12-31"]
    out = runner.invoke(app, [*args, "--propensity", "client_id,age_at_origin"])
    assert out.exit_code != 0 and "Traceback" not in out.output
    text = " ".join(out.output.split())
    assert "--propensity = client_id,age_at_origin: 'client_id' is an identifier" in text
    compare = ["compare", str(FIXTURE / "data"), "--propensity", "age_at_origin,end_date"]
    out = runner.invoke(app, compare)
    assert out.exit_code != 0 and "'end_date' is a date after entry" in out.output
    out = runner.invoke(app, ["rates", str(FIXTURE / "data"), "--covariates", "client_id"])
    assert out.exit_code != 0 and "--covariates" in out.output and "identifier" in out.output


def test_one_covariate_does_not_earn_level_2(table):
    """The issue's attack: one covariate was level 2. Now the core baseline set is needed."""
    fit = WeightedSurvival(Propensity(("age_at_origin",)), bootstrap=0).fit(table)
    assert fit.evidence_["sms_level"] == 1
    assert "leaves out prior_children_removed, care_experienced" in fit.evidence_["statement"]
    full = WeightedSurvival(Propensity(COVS), bootstrap=0).fit(table)
    assert (
        full.evidence_["sms_level"] == 2
        and "balance every covariate" in full.evidence_["statement"]
    )
    # the settings may require more: then the core set alone is not enough
    more = WeightedSurvival(Propensity(COVS, required=(*CORE_BASELINE, "gender")), bootstrap=0)
    assert more.fit(table).evidence_["sms_level"] == 1
    # a Cox model adjusted by regression for one covariate is level 1 too
    loaded = load(FIXTURE / "data", Settings())
    one = time_to_proceedings(
        loaded, dt.date(2025, 12, 31), origin="start", covariates=("cohort", "age_at_origin")
    )
    assert one.evidence_["sms_level"] == 1
    core = time_to_proceedings(loaded, dt.date(2025, 12, 31), origin="start", covariates=COVS)
    core_cohort = time_to_proceedings(
        loaded, dt.date(2025, 12, 31), origin="start", covariates=("cohort", *COVS)
    )
    assert core.evidence_["sms_level"] == 1  # no cohort term: no comparison adjusted
    assert core_cohort.evidence_["sms_level"] == 2 and "e_value" in core_cohort.evidence_


def test_imbalance_after_weighting_is_level_1_with_the_reason():
    b = pd.DataFrame(
        {
            "covariate": list(COVS),
            "smd_weighted": [0.02, 0.15, np.nan],
            "imbalanced": [False, True, True],
        }
    )
    got = earned(COVS, b)
    assert got["sms_level"] == 1
    assert (
        "balance was not achieved on prior_children_removed, care_experienced" in (got["statement"])
    )
    good = b.assign(smd_weighted=[0.02, -0.09, 0.05], imbalanced=False)
    assert earned(COVS, good)["sms_level"] == 2
    assert "the largest 0.090, prior_children_removed" in earned(COVS, good)["statement"]


def test_one_primary_analysis_and_the_rest_sensitivity(runner, tmp_path):
    primary = {"origin": "start", "outcome": "any", "estimand": "att", "method": "weights"}
    assert role(primary, origin="start", outcome="any", estimand="att")["analysis"] == "primary"
    other = role(primary, origin="index-issue", estimand="ate", method="weights")
    assert other["analysis"] == "sensitivity"
    assert "origin index-issue (primary: start)" in other["statement"]
    assert "estimand ate (primary: att)" in other["statement"]
    from evaltool.cli import app

    config = tmp_path / "evaltool.toml"
    config.write_text('[primary]\norigin = "start"\n[comparison]\nbootstrap = 0\n')
    args = ["survival", str(FIXTURE / "data"), "--extract-date", "2025-12-31", "--json"]
    args += ["--origin", "start", "--propensity", ",".join(COVS), "--config", str(config)]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    got = json.loads(out.stdout)
    assert got["evidence"]["analysis"] == "primary"
    assert got["evidence"]["statement"].startswith("Primary analysis")
    assert got["propensity"]["weights"] == "att"  # the default estimand everywhere
    assert got["bootstrap"]["resamples"] == 0  # from the settings
    out = runner.invoke(app, [*args, "--weights", "ate"])
    assert json.loads(out.stdout)["evidence"]["analysis"] == "sensitivity"
    config.write_text('[primary]\nestimand = "both"\n')
    with pytest.raises(ConfigError, match="primary.estimand is 'both'; use one of: att, ate"):
        load_settings(config)


def test_one_default_estimand_and_1000_resamples():
    import inspect

    from evaltool.cli import rates, survival

    assert Settings().comparison_weights == "att" and Propensity(COVS).weights == "att"
    assert (
        Settings().comparison_bootstrap == 1000
        and WeightedSurvival(Propensity(COVS)).bootstrap == 1000
    )
    for command in (survival, rates):  # the commands take the settings' estimand
        assert inspect.signature(command).parameters["weights"].default is None


def test_survival_text_prints_the_strength_of_evidence_and_power(runner):
    from evaltool.cli import app

    args = ["survival", str(FIXTURE / "data"), "--extract-date", "2025-12-31", "--origin", "start"]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "Strength of evidence: Maryland Scientific Methods Scale level 1" in out.stdout
    assert "Sensitivity analysis" in out.stdout
    got = json.loads(runner.invoke(app, [*args, "--json"]).stdout)["evidence"]
    assert got["analysis"] == "sensitivity" and got["power"]["events"] == 155
    assert "an 80% chance (two-sided 5% test) of detecting a hazard ratio of 0.64" in out.stdout

"""Rates per client-year checked against R (tests/fixtures/comparison/rates.R, its output in
expected/rates.csv): Poisson glm with offset(log(years)), MASS::glm.nb, with and without the
ATT propensity weights, and sandwich::vcovHC(type = "HC0"); crude rates counted by hand."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from evaltool.analysis.comparison import Propensity
from evaltool.analysis.rates import Rates, follow_up
from evaltool.api import load
from evaltool.config import Settings
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "comparison"
COVS = ("age_at_origin", "prior_children_removed", "care_experienced")
EXTRACT = dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def tables():
    loaded = load(FIXTURE / "data", Settings())
    assert loaded.problems.ok, loaded.problems.errors[:3]
    return loaded.dataset.tables


@pytest.mark.parametrize("weights", ["none", "att"])
def test_poisson_and_negative_binomial_match_r(tables, weights):
    ps = Propensity(COVS, weights="att") if weights == "att" else None
    fit = Rates("pregnancies", COVS, ps).fit(tables, EXTRACT)
    want = pd.read_csv(FIXTURE / "expected" / "rates.csv")
    for model, got in (("poisson", fit.models_.poisson_), ("negbin", fit.models_.negbin_)):
        w = want[(want["model"] == model) & (want["weights"] == weights)]
        assert list(got["term"]) == ["(Intercept)", "cohort", *COVS]
        np.testing.assert_allclose(got["coef"], w["coef"], atol=1e-6)
        np.testing.assert_allclose(got["se"], w["se"], atol=1e-5)
        np.testing.assert_allclose(got["robust_se"], w["robust_se"], atol=1e-5)
        if model == "negbin":
            assert fit.models_.theta_ == pytest.approx(w["theta"].iloc[0], rel=1e-6)


def test_follow_up_and_crude_rates_counted_by_hand():
    """Three parents: A starts 01/01/2024 with pregnancies known before the start (not
    counted), on 01/06/2024 and on the extract date (counted); B, comparison, referred
    01/01/2025, one pregnancy; C moved away on 01/07/2025, a pregnancy after that not
    counted. Follow-up to 31/12/2025."""
    T = pd.Timestamp
    clients = pd.DataFrame(
        {
            "client_id": ["A", "B", "C"],
            "referral_date": [T("2023-12-01"), T("2025-01-01"), T("2024-12-01")],
            "start_date": [T("2024-01-01"), pd.NaT, T("2025-01-01")],
            "end_date": [pd.NaT, pd.NaT, T("2025-07-01")],
            "closure_reason": [None, None, "moved_away"],
            "cohort": ["service", "comparison", "service"],
        }
    )
    events = pd.DataFrame(
        {
            "client_id": ["A", "A", "A", "B", "C"],
            "known_date": [
                T("2023-11-01"),
                T("2024-06-01"),
                T("2025-12-31"),
                T("2025-03-01"),
                T("2025-08-01"),
            ],
        }
    )
    f = follow_up(clients, events, "known_date", EXTRACT).set_index("client_id")
    assert f.loc["A", "events"] == 2 and f.loc["B", "events"] == 1 and f.loc["C", "events"] == 0
    assert f.loc["A", "years"] == pytest.approx(730 / 365.25)  # 01/01/2024 to 31/12/2025
    assert f.loc["C", "years"] == pytest.approx(181 / 365.25)  # to the day she moved away
    assert f.loc["B", "years"] == pytest.approx(364 / 365.25)


def test_the_rates_command_json(runner):
    from evaltool.cli import app

    args = ["rates", str(FIXTURE / "data"), "--outcome", "pregnancies"]
    args += ["--extract-date", "2025-12-31", "--covariates", ",".join(COVS), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    crude = {r["group"]: r for r in out["crude"]}
    pregnancies = pd.read_csv(FIXTURE / "data" / "pregnancies.csv")
    assert crude["service"]["events"] + crude["comparison"]["events"] == len(pregnancies)
    want = pd.read_csv(FIXTURE / "expected" / "rates.csv")
    cohort = next(r for r in out["negative_binomial"] if r["term"] == "cohort")
    r = want[(want["model"] == "negbin") & (want["weights"] == "none") & (want["term"] == "treat")]
    assert cohort["rate_ratio"] == pytest.approx(np.exp(r["coef"].iloc[0]), abs=1e-6)
    assert out["evidence"]["sms_level"] == 2  # adjusted for covariates
    bad = runner.invoke(app, ["rates", str(FIXTURE / "data"), "--outcome", "births"])
    assert bad.exit_code != 0 and "--outcome births: use proceedings or pregnancies" in bad.output

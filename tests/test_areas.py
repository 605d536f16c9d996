"""Area-level difference in differences checked against R (tests/fixtures/comparison/areas.R,
its output in expected/areas.csv): glm(family = poisson) with area and year effects and the
log of live births as offset; sandwich::vcovCL clustered by area."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from evaltool.analysis.areas import AreaDiD
from evaltool.api import load
from evaltool.config import Settings
from tests.conftest import ROOT, workbook

FIXTURE = ROOT / "tests" / "fixtures" / "comparison"


@pytest.fixture(scope="module")
def fit():
    loaded = load(FIXTURE / "data", Settings())
    assert loaded.problems.ok, loaded.problems.errors[:3]
    return AreaDiD().fit(loaded.dataset.tables["areas"])


def test_the_service_period_estimate_matches_r(fit):
    want = pd.read_csv(FIXTURE / "expected" / "areas.csv").iloc[0]
    e = fit.estimate_
    assert e["coef"] == pytest.approx(want["coef"], abs=1e-6)
    assert e["se_model"] == pytest.approx(want["se_model"], abs=1e-5)
    assert e["se_cluster"] == pytest.approx(want["se_cluster"], abs=1e-5)
    assert (e["areas"], e["service_areas"], e["area_years"]) == (12, 5, 108)


def test_the_trends_are_counted_by_hand(fit):
    raw = pd.read_csv(FIXTURE / "data" / "areas.csv")
    part = raw[(raw["service_area"] == "no") & (raw["financial_year"] == "2016-17")]
    row = fit.trends_.set_index(["group", "financial_year"]).loc[("comparator areas", "2016-17")]
    assert row["infants"] == part["infants_entering_care"].sum()
    want = 10_000 * part["infants_entering_care"].sum() / part["live_births"].sum()
    assert row["per_10000"] == pytest.approx(want)
    assert not row["service_running"]
    running = fit.trends_.set_index(["group", "financial_year"])["service_running"]
    assert running[("service areas", "2018-19")] and not running[("service areas", "2017-18")]
    assert fit.evidence_["sms_level"] == 3 and "parallel" in fit.evidence_["statement"]


def test_the_areas_command(runner, tmp_path):
    from evaltool.cli import app

    out = runner.invoke(app, ["areas", str(FIXTURE / "data"), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data["estimate"]) >= {"coef", "se_cluster", "rate_ratio", "ci_low", "ci_high"}
    assert data["evidence"]["sms_level"] == 3
    png = tmp_path / "trends.png"
    assert runner.invoke(app, ["areas", str(FIXTURE / "data"), "--plot", str(png)]).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_area_rows_are_named(tmp_path, runner):
    from evaltool.cli import app

    rows = [
        {
            "area": "A",
            "financial_year": "2019/20",
            "infants_entering_care": 3,
            "live_births": 1000,
            "service_area": "yes",
            "service_from": "2019-20",
        },
        {
            "area": "A",
            "financial_year": "2020-21",
            "infants_entering_care": -1,
            "live_births": 1000,
            "service_area": "maybe",
            "service_from": "2019-20",
        },
    ]
    path = workbook(
        tmp_path, {"clients": [{"client_id": "1", "referral_date": "01/01/2020"}], "areas": rows}
    )
    result = runner.invoke(app, ["areas", str(path)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    for words in ("areas", "financial_year", "2019/20", "infants_entering_care", "service_area"):
        assert words in text, words

"""Area-level difference in differences checked against R: the two-way fixed-effects model
(tests/fixtures/comparison/areas.R, its output in expected/areas.csv: glm(family = poisson)
with area and year effects and the log of live births as offset; sandwich::vcovCL clustered
by area), and the designs valid under staggered starts (tests/fixtures/areas/stacked.R: the
stacked difference in differences, the event study and its pre-trend test)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evaltool.analysis.areas import AreaDiD
from evaltool.api import load
from evaltool.config import Settings
from evaltool.errors import AnalysisError
from tests.conftest import ROOT, workbook

FIXTURE = ROOT / "tests" / "fixtures" / "comparison"
STAGGERED = ROOT / "tests" / "fixtures" / "areas"


@pytest.fixture(scope="module")
def table():
    loaded = load(FIXTURE / "data", Settings())
    assert loaded.problems.ok, loaded.problems.errors[:3]
    return loaded.dataset.tables["areas"]


@pytest.fixture(scope="module")
def fit(table):
    return AreaDiD(permutations=49).fit(table)


def test_the_two_way_estimate_matches_r(fit):
    want = pd.read_csv(FIXTURE / "expected" / "areas.csv").iloc[0]
    e = fit.twfe_
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


def test_the_stacked_estimate_matches_r_with_t_on_g_minus_1(fit):
    """stacked.R: glm(poisson) on the stacks, vcovCL by area, qt(0.975, 11)."""
    want = pd.read_csv(STAGGERED / "expected_stacked.csv").iloc[0]
    e = fit.estimate_
    assert e["coef"] == pytest.approx(want["coef"], abs=1e-8)
    assert e["se_cluster"] == pytest.approx(want["se_cluster"], abs=1e-8)
    for key in ("ci_low", "ci_high", "p"):
        assert e[key] == pytest.approx(want[key], abs=1e-7), key
    assert e["df"] == 11 and e["stacked_rows"] == want["rows"]
    # by hand: stack 2018 is LA01-02 and the 7 never served (LA03-05 start within 3 years),
    # 2015-16 to 2021-22: 9 x 7 rows; stack 2019 is LA03-05 and the 7, 2016-17 to 2022-23
    assert want["rows"] == 9 * 7 + 10 * 7 and e["stacks"] == [2018, 2019]
    # the quick refit randomisation inference uses is the same model
    assert fit.quick_ == pytest.approx(want["coef"], abs=1e-8)


def test_not_yet_served_areas_are_controls_until_they_start(table):
    """With no years after the start (post = 0), the areas starting in 2019-20 are clean
    controls for the 2018-19 stack (not yet served in 2018-19); never an area already served."""
    d = AreaDiD(post=0, permutations=0)
    a = d._checked(table)
    s = d.stack(a)
    first = s[s["stack"] == 2018]
    assert sorted(first.loc[first["treated"] == 0, "area"].unique()) == [
        f"LA{i:02d}" for i in range(3, 13)
    ]
    assert not first.loc[first["treated"] == 0, "on"].any()
    second = s[s["stack"] == 2019]
    assert not {"LA01", "LA02"} & set(second["area"])  # served since 2018-19: never controls


def test_the_event_study_and_its_pretrend_test_match_r(fit):
    want = pd.read_csv(STAGGERED / "expected_event.csv")
    want["years_from_start"] = want["term"].str.replace("rel_", "").str.replace("m", "-")
    got = fit.event_study_.set_index("years_from_start")
    for r in want.itertuples():
        row = got.loc[int(r.years_from_start)]
        assert row["coef"] == pytest.approx(r.coef, abs=1e-7)
        assert row["se_cluster"] == pytest.approx(r.se_cluster, abs=1e-7)
    assert got.loc[-1, "rate_ratio"] == 1  # the reference year
    test = pd.read_csv(STAGGERED / "expected_pretrend.csv").iloc[0]
    assert fit.pretrend_["wald"] == pytest.approx(test["wald"], abs=1e-7)
    assert fit.pretrend_["p"] == pytest.approx(test["p"], abs=1e-7)
    assert (fit.pretrend_["df1"], fit.pretrend_["df2"]) == (2, 11) and fit.pretrend_["passed"]


def test_randomisation_inference_is_seeded_and_counts_as_it_says(table):
    """The p value is (1 + draws at least as far from 0 as the estimate) / (1 + draws), the
    draws dealing the start years to areas at random; here checked with the full model."""
    d = AreaDiD(permutations=15)
    got = d.fit(table).estimate_
    assert got == AreaDiD(permutations=15).fit(table).estimate_  # seeded
    a = d._checked(table)
    starts = a.groupby("area")["from"].first()
    rng = np.random.default_rng(d.seed)
    beyond = 0
    for _ in range(15):
        dealt = pd.Series(rng.permutation(starts.to_numpy(float)), index=starts.index)
        b = a.assign(**{"from": a["area"].map(dealt)})
        b["service"] = b["from"].notna()
        beyond += abs(d._stacked_coef(d.stack(b))[0]) >= abs(got["coef"])
    assert got["p_randomisation"] == pytest.approx((1 + beyond) / 16)


def test_level_3_only_when_the_trends_before_were_parallel(table):
    """The attack: level 3 was automatic. Service areas drifting down before they start fail
    the pre-trend test; with no second year before any start the trends cannot be checked."""
    t = table.copy()
    year = t["financial_year"].str[:4].astype(int)
    start = t["service_from"].str[:4].astype(float)
    before = (t["service_area"].astype(bool)) & (year < start)
    t.loc[before, "infants_entering_care"] = (
        t.loc[before, "infants_entering_care"] * np.exp(0.3 * (start - year)[before])
    ).round()
    drifting = AreaDiD(permutations=0).fit(t)
    assert not drifting.pretrend_["passed"] and drifting.pretrend_["p"] < 0.05
    assert drifting.evidence_["sms_level"] == 2
    assert (
        "Not level 3: the trends before the start were not parallel"
        in (drifting.evidence_["statement"])
    )
    late = table[table["financial_year"] >= "2017-18"].assign(service_from="2018-19")
    late.loc[~late["service_area"].astype(bool), "service_from"] = None
    short = AreaDiD(permutations=0).fit(late)
    assert short.pretrend_["leads"] == 0 and short.evidence_["sms_level"] == 2
    assert "cannot be checked" in short.evidence_["statement"]


def test_the_areas_command(runner, tmp_path):
    from evaltool.cli import app

    out = runner.invoke(app, ["areas", str(FIXTURE / "data"), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data["estimate"]) >= {"coef", "se_cluster", "rate_ratio", "ci_low", "ci_high"}
    assert {"p_randomisation", "df"} <= set(data["estimate"]) and data["pretrend"]["passed"]
    assert data["event_study"] and data["twfe"]["staggered"]
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


def area_rows():
    """Two areas, 2017-18 to 2019-20; one began in 2018-19."""
    rows = []
    for area, served in (("A", "yes"), ("B", "no")):
        for year in ("2017-18", "2018-19", "2019-20"):
            rows.append(
                {
                    "area": area,
                    "financial_year": year,
                    "infants_entering_care": 3,
                    "live_births": 1000,
                    "service_area": served,
                    "service_from": "2018-19" if served == "yes" else "",
                }
            )
    return rows


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        (
            {(1, "live_births"): "", (4, "live_births"): ""},
            ["blank live_births", "column live_births (D), rows 3, 6"],
        ),
        ({(5, "service_area"): "yes"}, ["service_area changes from year to year", "row 7"]),
        (
            {
                (0, "service_from"): "2017-18",
                (1, "service_from"): "2017-18",
                (2, "service_from"): "2017-18",
            },
            ["no year before the service began"],
        ),
        ({(2, "service_from"): "2019-20"}, ["service_from differs between the rows"]),
    ],
)
def test_bad_area_tables_are_errors_in_words_naming_the_rows(tmp_path, runner, changes, words):
    """Blank births were an internal error (log of nothing); a service flag that changes from
    year to year, or a service area with no year before it began, were taken as they came."""
    from evaltool.cli import app

    path = workbook(
        tmp_path,
        {
            "clients": [{"client_id": "1", "referral_date": "01/01/2020"}],
            "areas": _changed(changes),
        },
    )
    result = runner.invoke(app, ["areas", str(path)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "Traceback" not in text
    for w in words:
        assert w in text, (w, text)


def _changed(changes):
    rows = area_rows()
    for (i, key), value in changes.items():
        rows[i][key] = value
    return rows


def test_the_library_says_which_area_years_lack_births():
    rows = pd.DataFrame(_changed({(1, "live_births"): None}))
    rows["service_area"] = rows["service_area"] == "yes"
    rows["service_from"] = rows["service_from"].replace("", None)
    with pytest.raises(
        AnalysisError, match="live_births is blank or not above 0 in 1 area-year.*A 2018-19"
    ):
        AreaDiD(permutations=0).fit(rows)


def test_under_staggered_starts_the_stacked_estimate_recovers_the_effect_the_two_way_misses():
    """The attack: with staggered starts and an effect that grows with time since the start,
    the two-way model compares late starters with early ones already served, whose rates are
    still falling. Expected counts exactly (no noise): 4 areas start in 2014-15, 4 in
    2019-20, 2 never; the effect is -0.05 x (1 + years since the start) on the log scale, so
    over the stack's window (the start year and 3 after) it averages (-0.05 - 0.10 - 0.15 -
    0.20) / 4 = -0.125 by hand."""
    rows = []
    starts = {**{f"E{i}": 2014 for i in range(4)}, **{f"L{i}": 2019 for i in range(4)}}
    starts |= {"N0": None, "N1": None}
    for k, (area, start) in enumerate(starts.items()):
        for year in range(2011, 2023):
            effect = -0.05 * (1 + year - start) if start is not None and year >= start else 0
            rows.append(
                {
                    "area": area,
                    "financial_year": f"{year}-{(year + 1) % 100:02d}",
                    "infants_entering_care": 40 * np.exp(0.01 * k + 0.02 * (year - 2011) + effect),
                    "live_births": 10_000,
                    "service_area": start is not None,
                    "service_from": None if start is None else f"{start}-{(start + 1) % 100:02d}",
                }
            )
    fit = AreaDiD(permutations=0).fit(pd.DataFrame(rows))
    assert fit.estimate_["coef"] == pytest.approx(-0.125, abs=0.002)
    assert abs(fit.twfe_["coef"] - -0.125) > 0.02  # the two-way model: -0.095
    assert fit.twfe_["staggered"]


def _e_by_hand(rr: float) -> float:
    """VanderWeele & Ding's E-value of a ratio, written out: RR + sqrt(RR (RR - 1)), 1 / RR
    below 1."""
    rr = 1 / rr if rr < 1 else rr
    return rr + (rr * (rr - 1)) ** 0.5


def test_the_rate_ratio_has_its_e_value_by_hand_and_as_r(fit):
    """Issue 24.3: an E-value for every adjusted ratio, with its CI's. The stacked rate ratio
    0.899 is below 1, so its E-value is that of 1 / 0.899; its CI [0.72, 1.12] holds 1, so the
    CI's E-value is 1. stacked.R works both out with the same formula."""
    e = fit.estimate_
    assert e["rate_ratio"] < 1 and e["ci_low"] < 1 < e["ci_high"]
    assert e["e_value"] == pytest.approx(_e_by_hand(e["rate_ratio"]), rel=1e-12)
    assert e["e_value"] == pytest.approx(1.466, abs=1e-3)  # 1/0.8988 + sqrt(1.1126 x 0.1126)
    assert e["e_value_ci"] == 1.0
    want = pd.read_csv(STAGGERED / "expected_stacked.csv").iloc[0]
    assert e["e_value"] == pytest.approx(want["e_value"], abs=1e-7)
    assert e["e_value_ci"] == pytest.approx(want["e_value_ci"], abs=1e-12)
    # the two-way model's (a sensitivity analysis) too
    w = fit.twfe_
    assert w["e_value"] == pytest.approx(_e_by_hand(w["rate_ratio"]), rel=1e-12)
    limit = 1.0 if w["ci_low"] <= 1 <= w["ci_high"] else _e_by_hand(w["ci_high"])
    assert w["e_value_ci"] == pytest.approx(limit, rel=1e-12)
    assert "E-value 1.47 (its CI limit nearer 1: 1.00)" in fit.evidence_["statement"]
    assert "between the service areas and the comparator areas" in fit.evidence_["statement"]


def test_a_ci_clear_of_1_gives_the_e_value_of_its_limit_nearer_1(table):
    """Service areas with a third more infants entering care in their service years: the CI
    lies above 1 and its E-value is that of its lower limit."""
    t = table.copy()
    year = t["financial_year"].str[:4].astype(int)
    start = t["service_from"].str[:4].astype(float)
    on = t["service_area"].astype(bool) & (year >= start)
    t.loc[on, "infants_entering_care"] = (t.loc[on, "infants_entering_care"] * 1.6).round()
    e = AreaDiD(permutations=0).fit(t).estimate_
    assert e["ci_low"] > 1
    assert e["e_value"] == pytest.approx(_e_by_hand(e["rate_ratio"]), rel=1e-12)
    assert e["e_value_ci"] == pytest.approx(_e_by_hand(e["ci_low"]), rel=1e-12)
    assert 1 < e["e_value_ci"] < e["e_value"]


def test_the_areas_command_shows_the_e_value(runner):
    from evaltool.cli import app

    text = runner.invoke(app, ["areas", str(FIXTURE / "data")])
    assert text.exit_code == 0, text.output
    assert "E-value 1.47 (its CI limit nearer 1: 1.00)" in " ".join(text.output.split())
    assert "(199 draws); E-value 1.47, of the CI limit nearer 1 1.00" in " ".join(
        text.output.split()
    )
    data = json.loads(runner.invoke(app, ["areas", str(FIXTURE / "data"), "--json"]).stdout)
    assert data["estimate"]["e_value"] == pytest.approx(1.466, abs=1e-3)
    assert data["estimate"]["e_value_ci"] == 1.0
    assert data["evidence"]["e_value"]["e_value"] == data["estimate"]["e_value"]

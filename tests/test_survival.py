"""Time to next proceedings, checked against R's survival package (survfit, survdiff, coxph)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltool.analysis.survival import KaplanMeier, survival_table
from evaltool.analysis.survival.cox import covariate_frame, cox_zph, schoenfeld_residuals
from evaltool.api import load, time_to_proceedings
from evaltool.cli import app
from evaltool.config import load_settings
from evaltool.errors import AnalysisError
from evaltool.report.json_output import survival_json
from tests.conftest import clients_rows, workbook

FIXTURES = Path(__file__).parent / "fixtures" / "survival"
EXPECTED = FIXTURES / "expected"
EXTRACT = dt.date(2025, 12, 31)
COVARIATES = ("cohort", "age_at_origin", "prior_children_removed", "care_experienced")
#: R's figures for each fixture folder under each origin (survival.R): "ties" is index-conclusion
#: (the fixture settings' "index", the name earlier versions used), "ties-start" is start
#: "children" (return type, data contract v1.1) also under each outcome: "+new-child"
DATASETS = tuple(
    f"{folder}{'' if origin == 'index-conclusion' else '-' + origin}{outcome}"
    for origin in ("index-conclusion", "index-issue", "start")
    for folder, outcome in (
        ("example", ""),
        ("ties", ""),
        ("overlap", ""),
        ("children", ""),
        ("children", "+new-child"),
    )
)


def r_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(EXPECTED / name, dtype={"client_id": str})


def analysed(dataset: str, ci: str = "log"):
    name, _, outcome = dataset.partition("+")
    folder, _, origin = name.partition("-")
    settings = load_settings(FIXTURES / "evaltool.toml")
    loaded = load(FIXTURES / folder, settings)
    assert loaded.problems.ok, loaded.problems.errors[:3]
    return time_to_proceedings(
        loaded,
        EXTRACT,
        ci=ci,
        covariates=COVARIATES,
        origin=origin or None,
        outcome=outcome or None,
    )


@pytest.mark.parametrize("dataset", DATASETS)
def test_survival_table_matches_r(dataset):
    ours = analysed(dataset).table_.set_index("client_id").sort_index()
    r = r_csv(f"{dataset}_table.csv").set_index("client_id").sort_index()
    assert list(ours.index) == list(r.index)
    assert ours["time"].tolist() == r["time"].tolist()
    assert ours["entry"].tolist() == r["entry"].tolist()
    assert ours["event"].tolist() == r["status"].tolist()
    assert ours["age_at_origin"].tolist() == r["age_at_origin"].tolist()
    assert ours["overlap"].astype(int).tolist() == r["overlap"].tolist()
    if "return_type" in r:
        mine = ours["return_type"] if "return_type" in ours else pd.Series(None, ours.index)
        assert mine.fillna("").tolist() == r["return_type"].fillna("").tolist()


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("ci", ["log", "log-log"])
def test_kaplan_meier_steps_match_survfit(dataset, ci):
    result = analysed(dataset, ci)
    r = r_csv(f"{dataset}_km_steps.csv")
    r = r[r["conf"] == ci]
    for group in ("all", "service", "comparison"):
        want = r[r["group"] == group].reset_index(drop=True)
        got = result.km_[group].table_
        assert got["time"].tolist() == want["time"].tolist()
        assert got["at_risk"].tolist() == want["n_risk"].tolist()
        assert got["events"].tolist() == want["n_event"].tolist()
        np.testing.assert_allclose(got["survival"], want["survival"], rtol=1e-10)
        np.testing.assert_allclose(got["se_log"], want["std_err"], rtol=1e-9)
        np.testing.assert_allclose(got["ci_low"], want["lower"], rtol=1e-9, equal_nan=True)
        np.testing.assert_allclose(got["ci_high"], want["upper"], rtol=1e-9, equal_nan=True)


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("ci", ["log", "log-log"])
def test_values_at_times_match_summary_survfit(dataset, ci):
    result = analysed(dataset, ci)
    r = r_csv(f"{dataset}_km_at.csv")
    r = r[r["conf"] == ci]
    for group in ("all", "service", "comparison"):
        want = r[r["group"] == group].set_index("days")
        got = result.survival_at_[result.survival_at_["group"] == group].set_index("days")
        for days, row in want.iterrows():
            mine = got.loc[days]
            assert (mine["at_risk"], mine["events"]) == (row["at_risk"], row["events"])
            assert mine["survival"] == pytest.approx(row["survival"], rel=1e-10)
            assert mine["ci_low"] == pytest.approx(row["ci_low"], rel=1e-9, nan_ok=True)
            assert mine["ci_high"] == pytest.approx(row["ci_high"], rel=1e-9, nan_ok=True)


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("ci", ["log", "log-log"])
def test_medians_and_their_limits_match_r(dataset, ci):
    result = analysed(dataset, ci)
    r = r_csv(f"{dataset}_medians.csv")
    r = r[r["conf"] == ci].set_index("group")
    ours = result.medians_.set_index("group")
    for group in ("all", "service", "comparison"):
        for mine, theirs in (
            ("median_days", "median"),
            ("median_ci_low", "lcl"),
            ("median_ci_high", "ucl"),
        ):
            a, b = ours.loc[group, mine], r.loc[group, theirs]
            assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b), (group, mine)


@pytest.mark.parametrize("dataset", DATASETS)
def test_logrank_matches_survdiff(dataset):
    lr = analysed(dataset).logrank_
    r = r_csv(f"{dataset}_logrank.csv").iloc[0]
    assert lr["chi2"] == pytest.approx(r["chi2"], rel=1e-8)
    assert lr["df"] == r["df"] == 1
    assert lr["p"] == pytest.approx(r["p"], rel=1e-7)


@pytest.mark.parametrize("dataset", DATASETS)
def test_cox_matches_coxph_efron(dataset):
    cox = analysed(dataset).cox_.set_index("covariate")
    r = (
        r_csv(f"{dataset}_cox.csv")
        .set_index("covariate")
        .rename(index={"cohort_service": "cohort"})
    )
    for cov in COVARIATES:
        for col in ("coef", "hr", "hr_low", "hr_high", "se", "p"):
            assert cox.loc[cov, col] == pytest.approx(r.loc[cov, col], rel=1e-5), (cov, col)


@pytest.mark.parametrize("dataset", DATASETS)
def test_cox_fit_figures_match_r(dataset):
    # R: coxph(...)$loglik[2], $concordance["concordance"], $n, $nevent
    analysis = analysed(dataset)
    [r] = r_csv(f"{dataset}_cox_fit.csv").to_dict(orient="records")
    info = survival_json(analysis)["cox_info"]
    assert (info["n"], info["events"]) == (r["n"], r["events"])
    assert info["log_likelihood"] == pytest.approx(r["loglik"], rel=1e-9)
    assert info["concordance"] == pytest.approx(r["concordance"], rel=1e-12)
    assert analysis.concordance_ == info["concordance"]


@pytest.mark.parametrize("dataset", DATASETS)
def test_schoenfeld_residuals_match_r_with_efron_ties(dataset):
    # R: residuals(coxph(..., ties = "efron"), type = "schoenfeld"), at R's own coefficients
    table = analysed(dataset).table_
    beta = r_csv(f"{dataset}_cox.csv")["coef"].to_numpy()
    x = covariate_frame(table, COVARIATES).to_numpy(float)
    ours = schoenfeld_residuals(
        table["time"].to_numpy(float),
        table["event"].to_numpy(bool),
        x,
        beta,
        table["entry"].to_numpy(float),
    )
    times = np.sort(table.loc[table["event"] == 1, "time"].to_numpy(float))
    r = r_csv(f"{dataset}_schoenfeld.csv")

    def in_order(t, res):  # rows of tied events can come in any order: sort within a time
        keys = [np.round(res[:, k], 8) for k in reversed(range(res.shape[1]))]
        return res[np.lexsort([*keys, t])]

    assert times.tolist() == r["time"].tolist()
    np.testing.assert_allclose(
        in_order(times, ours), in_order(times, r.iloc[:, 1:].to_numpy()), rtol=1e-9, atol=1e-12
    )


ZPH = Path(__file__).parent / "fixtures" / "zph"


@pytest.mark.parametrize("model", ["plain", "entry", "weighted"])
def test_the_ph_test_is_r_cox_zph(model):
    """Issue 24: the test was lifelines' pre-3.0 approximation (rank transform, information
    constant over time). R's cox.zph in survival 3.x (km transform, full information, and a
    GLOBAL test), at R's own coefficients: tests/fixtures/zph/zph.R, with heavy ties, delayed
    entry and non-integer case weights."""
    data = pd.read_csv(ZPH / "data.csv")
    beta = pd.read_csv(ZPH / "expected" / f"{model}_coef.csv")["coef"].to_numpy()
    ours = cox_zph(
        data["time"].to_numpy(float),
        data["event"].to_numpy(bool),
        data[["cohort", "age", "prior"]].to_numpy(float),
        beta,
        ["cohort", "age", "prior"],
        entry=data["entry"].to_numpy(float) if model == "entry" else None,
        weights=data["weight"].to_numpy(float) if model == "weighted" else None,
    )
    r = pd.read_csv(ZPH / "expected" / f"{model}_zph.csv")
    assert ours["covariate"].tolist() == r["covariate"].tolist()
    assert ours["df"].tolist() == r["df"].tolist()
    np.testing.assert_allclose(ours["chi2"], r["chi2"], rtol=1e-9)
    np.testing.assert_allclose(ours["p"], r["p"], rtol=1e-8)


def test_the_cox_model_reports_cox_zph_with_its_own_fit():
    # through cox_model: lifelines' coefficients (to R's optimum), then cox_zph
    from evaltool.analysis.survival.cox import cox_model

    # the plain model: nobody enters late (the fixture's entry column is for the entry model)
    data = (
        pd.read_csv(ZPH / "data.csv")
        .assign(cohort_service=lambda d: d["cohort"])
        .drop(columns="entry")
    )
    notes: list[str] = []
    _, _, ph, _ = cox_model(data, ("cohort", "age", "prior"), notes)
    r = pd.read_csv(ZPH / "expected" / "plain_zph.csv")
    assert ph["covariate"].tolist() == ["cohort", "age", "prior", "GLOBAL"]
    np.testing.assert_allclose(ph["chi2"], r["chi2"], rtol=1e-6)
    np.testing.assert_allclose(ph["p"], r["p"], rtol=1e-6)


def test_a_known_km_by_hand():
    # times 2, 3, 3, 5+, 7 with events 1, 1, 1, 0, 1 -> S(2) = 4/5, S(3) = 4/5 * 1/4 ... by hand:
    # at 2: 5 at risk, 1 event -> 0.8; at 3: 4 at risk, 2 events -> 0.4; at 7: 1 at risk -> 0
    km = KaplanMeier().fit(np.array([2, 3, 3, 5, 7]), np.array([1, 1, 1, 0, 1]))
    assert km.table_["survival"].tolist() == pytest.approx([0.8, 0.4, 0.0])
    # Greenwood: var log S(3) = 1/(5*4) + 2/(4*2) = 0.05 + 0.25
    assert km.table_["se_log"].iloc[1] == pytest.approx(np.sqrt(0.30))
    # median: first time S <= 0.5 is 3
    assert km.median()[0] == 3


def survival_workbook(tmp_path, proceedings, clients=None):
    clients = clients or clients_rows(["A"], start="01/04/2024", referral="01/03/2024")
    return workbook(tmp_path, {"clients": clients, "proceedings": proceedings})


def test_an_event_on_the_extract_date_counts(tmp_path):
    path = survival_workbook(
        tmp_path,
        [
            {"client_id": "A", "issued_date": "01/01/2023", "concluded_date": "01/06/2023"},
            {"client_id": "A", "issued_date": "31/12/2025", "concluded_date": None},
        ],
    )
    loaded = load(path)
    table, _ = survival_table(
        loaded.dataset.clients, loaded.dataset.tables["proceedings"], EXTRACT, "index-conclusion"
    )
    assert table.loc[0, "event"] == 1
    assert table.loc[0, "time"] == (dt.date(2025, 12, 31) - dt.date(2023, 6, 1)).days
    table, _ = survival_table(
        loaded.dataset.clients,
        loaded.dataset.tables["proceedings"],
        dt.date(2025, 12, 30),
        "index-conclusion",
    )
    assert table.loc[0, "event"] == 0  # a day earlier it is not yet an event


def test_exclusions_are_counted_with_reasons(tmp_path):
    """B's index (issued 01/01/2024, before the start) concludes after it: fine under
    index-issue and index-conclusion; D's index is still open: not yet at risk under
    index-conclusion; E has no proceedings issued by the start."""
    clients = clients_rows(["A", "B", "C", "D", "E"], start="01/04/2024", referral="01/03/2024")
    clients[2]["start_date"] = None
    path = survival_workbook(
        tmp_path,
        [
            {"client_id": "A", "issued_date": "01/01/2023", "concluded_date": "01/06/2023"},
            {"client_id": "B", "issued_date": "01/01/2024", "concluded_date": "01/06/2024"},
            {"client_id": "D", "issued_date": "01/02/2024", "concluded_date": None},
            {"client_id": "E", "issued_date": "01/05/2024", "concluded_date": "01/09/2024"},
        ],
        clients,
    )
    loaded = load(path)
    clients, proceedings = loaded.dataset.clients, loaded.dataset.tables["proceedings"]
    table, excluded = survival_table(clients, proceedings, EXTRACT, "index-conclusion")
    assert table["client_id"].tolist() == ["A", "B"]
    assert table.loc[1, "time"] == (dt.date(2025, 12, 31) - dt.date(2024, 6, 1)).days
    reasons = dict(zip(excluded["Reason"], excluded["Clients"], strict=True))
    assert reasons == {  # every reason, zero or not, in one order
        "service cohort: never started": 1,
        "no proceedings issued by the start (comparison: referral) date": 1,
        "index proceedings not concluded by the extract date (not yet at risk)": 1,
        "origin after the extract date": 0,
        "joined on or after the extract date (not yet followed)": 0,
        "no follow-up after joining (moved away or died by the day they joined)": 0,
    }
    issued, excluded = survival_table(clients, proceedings, EXTRACT, "index-issue")
    assert issued["client_id"].tolist() == ["A", "B", "D"]
    assert issued.loc[2, "time"] == (dt.date(2025, 12, 31) - dt.date(2024, 2, 1)).days
    assert "index proceedings not concluded by the extract date (not yet at risk)" not in set(
        excluded["Reason"]
    )
    started, _ = survival_table(clients, proceedings, EXTRACT, origin="start")
    assert started["client_id"].tolist() == ["A", "B", "D", "E"]
    assert started.loc[0, "time"] == (dt.date(2025, 12, 31) - dt.date(2024, 4, 1)).days
    assert started.loc[3, "event"] == 1  # E: issued 01/05/2024, after the start


def test_an_overlapping_set_is_an_event_only_where_the_origin_allows_and_always_counted(
    tmp_path,
):
    """Index issued 01/01/2024 (before the start, 01/04/2024), concluded 01/12/2024; a new set
    issued 01/09/2024, before the index concluded: the overlap the research counts."""
    path = survival_workbook(
        tmp_path,
        [
            {"client_id": "A", "issued_date": "01/01/2024", "concluded_date": "01/12/2024"},
            {"client_id": "A", "issued_date": "01/09/2024", "concluded_date": None},
        ],
    )
    loaded = load(path)
    clients, proceedings = loaded.dataset.clients, loaded.dataset.tables["proceedings"]
    days = {
        "index-issue": (dt.date(2024, 9, 1) - dt.date(2024, 1, 1)).days,  # an event, day 244
        "start": (dt.date(2024, 9, 1) - dt.date(2024, 4, 1)).days,  # an event, day 153
        "index-conclusion": (dt.date(2025, 12, 31) - dt.date(2024, 12, 1)).days,  # censored
    }
    for origin, time in days.items():
        table, _ = survival_table(clients, proceedings, EXTRACT, origin)
        row = table.iloc[0]
        assert row["time"] == time, origin
        assert row["event"] == (origin != "index-conclusion"), origin
        assert bool(row["overlap"]), origin  # counted under every origin


def test_cox_errors_and_warnings_are_clear():
    settings = load_settings(FIXTURES / "evaltool.toml")
    loaded = load(FIXTURES / "ties", settings)
    result = time_to_proceedings(loaded, EXTRACT, covariates=COVARIATES)
    assert any("under 10 per covariate" in w for w in result.warnings_)
    with pytest.raises(AnalysisError, match="covariate 'shoe_size' is not a column"):
        time_to_proceedings(loaded, EXTRACT, covariates=("shoe_size",))
    with pytest.raises(AnalysisError, match="not numeric or yes/no"):
        time_to_proceedings(loaded, EXTRACT, covariates=("client_id",))


def test_cli_json_shape_and_values(runner, tmp_path):
    png = tmp_path / "km.png"
    result = runner.invoke(
        app,
        [
            "survival",
            str(FIXTURES / "ties"),
            "--config",
            str(FIXTURES / "evaltool.toml"),
            "--times",
            "365,730",
            "--ci",
            "log-log",
            "--covariates",
            ",".join(COVARIATES),
            "--plot",
            str(png),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["ci_transform"] == "log-log"
    rows = {(r["group"], r["days"]): r for r in out["survival_at"]}
    r = r_csv("ties_km_at.csv")
    want = r[(r["conf"] == "log-log") & (r["group"] == "all") & (r["days"] == 730)].iloc[0]
    got = rows[("all", 730)]
    assert got["survival"] == pytest.approx(want["survival"])
    assert (got["at_risk"], got["events"]) == (want["at_risk"], want["events"])
    assert set(out["logrank"]) >= {"chi2", "df", "p"}
    assert {c["covariate"] for c in out["cox"]} == set(COVARIATES)
    assert set(out["cox"][0]) >= {"covariate", "coef", "hr", "hr_low", "hr_high", "se", "p"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_bad_option_values(runner):
    result = runner.invoke(app, ["survival", str(FIXTURES / "ties"), "--ci", "plain"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: --ci plain: use one of log, log-log"
    result = runner.invoke(app, ["survival", str(FIXTURES / "ties"), "--times", "a,b"])
    assert "times must be whole numbers of days" in result.output


def test_the_origin_used_is_the_origin_reported(runner):
    """--origin start changes the events; JSON and text must say start, not the setting."""
    import json

    from evaltool.cli import app
    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

    out = {}
    for origin in ("index-issue", "index-conclusion", "start", "index"):
        args = ["survival", str(EXAMPLE), "--config", str(EXAMPLE_CONFIG), "--origin", origin]
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == 0, result.output
        out[origin] = json.loads(result.stdout)
        named = "index-conclusion" if origin == "index" else origin  # the earlier name
        assert out[origin]["origin"] == named
        assert out[origin]["origin_definition"].startswith(
            {"index-issue": "the issue date", "index-conclusion": "the conclusion date"}.get(
                named, "the service start date"
            )
        )
        text = runner.invoke(app, args)
        assert f"origin {named}," in text.output
    assert out["index-issue"]["survival_at"] != out["start"]["survival_at"]
    assert out["index"] == out["index-conclusion"]
    bad = runner.invoke(app, ["survival", str(EXAMPLE), "--origin", "referral"])
    assert bad.exit_code == 1
    assert "--origin referral: use one of index-issue, index-conclusion, start" in bad.output


def test_curves_are_split_only_by_a_coded_column(tmp_path, runner):
    """A group column of names or ids would print them in the return and the output."""
    from evaltool.cli import app
    from tests.conftest import EXAMPLE, score_cli

    config = tmp_path / "evaltool.toml"
    config.write_text('[survival]\ngroup = "client_id"\n')
    result = score_cli(runner, EXAMPLE, tmp_path / "r.xlsx", config=config)
    assert result.exit_code == 1 and "coded or yes/no column" in result.output
    result = runner.invoke(app, ["survival", str(EXAMPLE), "--group", "ethnicity"])
    assert result.exit_code == 1 and "coded or yes/no column" in result.output
    config.write_text('[survival]\ngroup = "care_experienced"\n')
    out = tmp_path / "r2.xlsx"
    result = score_cli(runner, EXAMPLE, out, config=config)
    assert result.exit_code == 0, result.output
    from evaltool.report.audit import attack

    assert attack([out]) == []


def test_survival_follows_up_as_the_last_quarters_return_would(runner, tmp_path):
    """One default for both: the end of the last quarter that has ended, stated; the same
    figure then reads the same in the command and in that quarter's return."""
    import datetime as dt
    import json

    from evaltool.cli import app
    from evaltool.periods import period_of
    from tests.conftest import EXAMPLE

    last = period_of(dt.date.today(), "financial").previous()
    result = runner.invoke(app, ["survival", str(EXAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    assert f"Follow-up to {last.end:%d/%m/%Y}, the end of {last.code}" in result.stderr
    assert json.loads(result.stdout)["extract_date"] == str(last.end)


def test_the_ph_test_of_a_single_event_is_not_made_up():
    # one event: g(t) centred over the events is 0, the information singular (R's solve()
    # stops); the test is NaN, never a number, and the Cox model still reports
    got = cox_zph(
        np.array([1.0, 2, 3, 4]),
        np.array([1, 0, 0, 0], bool),
        np.array([[0.0], [1], [0], [1]]),
        np.array([0.1]),
        ["x"],
    )
    assert got["covariate"].tolist() == ["x", "GLOBAL"]
    assert got["chi2"].isna().all() and got["p"].isna().all()


def test_a_doubtful_ph_test_is_noted_in_words():
    # the plain fit of tests/fixtures/zph flags nothing (R: every p > 0.1)
    from evaltool.analysis.survival.cox import cox_model

    data = (
        pd.read_csv(ZPH / "data.csv")
        .assign(cohort_service=lambda d: d["cohort"])
        .drop(columns="entry")
    )
    notes: list[str] = []
    cox_model(data, ("cohort", "age", "prior"), notes)
    assert not any("proportional hazards" in n for n in notes)
    # a covariate that is the time itself breaks proportional hazards beyond doubt
    data["late"] = (data["time"] > data["time"].median()).astype(float) * data["event"]
    cox_model(data, ("cohort", "late"), notes)
    assert notes == [
        "Cox model: proportional hazards doubtful for late, the model as a whole (GLOBAL) "
        "(cox.zph p < 0.05)"
    ]


ENTRY = FIXTURES / "entry"


def entry_table() -> pd.DataFrame:
    return pd.read_csv(ENTRY / "entry.csv", dtype={"client_id": str})


@pytest.mark.parametrize("ci", ["log", "log-log"])
def test_delayed_entry_kaplan_meier_matches_survfit_on_entry_time_event(ci):
    # R: survfit(Surv(entry, time, event) ~ 1), tests/fixtures/survival/entry/entry.R; 66 of
    # the 120 clients enter late, some after others' events
    d = entry_table()
    steps = pd.read_csv(ENTRY / "entry_km_steps.csv")
    at = pd.read_csv(ENTRY / "entry_km_at.csv")
    for group in ("all", "service", "comparison"):
        part = d if group == "all" else d[d["cohort"] == group]
        km = KaplanMeier(ci).fit(part["time"], part["event"], entry=part["entry"])
        want = steps[(steps["conf"] == ci) & (steps["group"] == group)].reset_index(drop=True)
        got = km.table_
        assert got["time"].tolist() == want["time"].tolist()
        assert got["at_risk"].tolist() == want["n_risk"].tolist()
        np.testing.assert_allclose(got["survival"], want["survival"], rtol=1e-10)
        np.testing.assert_allclose(got["se_log"], want["std_err"], rtol=1e-9)
        np.testing.assert_allclose(got["ci_low"], want["lower"], rtol=1e-9, equal_nan=True)
        np.testing.assert_allclose(got["ci_high"], want["upper"], rtol=1e-9, equal_nan=True)
        r = at[(at["conf"] == ci) & (at["group"] == group)].reset_index(drop=True)
        mine = km.at(tuple(r["days"]))
        assert mine["at_risk"].tolist() == r["at_risk"].tolist()
        assert mine["events"].tolist() == r["events"].tolist()
        np.testing.assert_allclose(mine["survival"], r["survival"], rtol=1e-10)
        np.testing.assert_allclose(mine["ci_low"], r["ci_low"], rtol=1e-9)
        np.testing.assert_allclose(mine["ci_high"], r["ci_high"], rtol=1e-9)


def test_delayed_entry_logrank_and_cox_match_coxph():
    # R: coxph(Surv(entry, time, event) ~ cohort_service, ties = "breslow")$score (unique
    # event times: the log-rank test), and the Efron model on cohort and prior removals
    from evaltool.analysis.survival import concordance
    from evaltool.analysis.survival.km import logrank

    d = entry_table()
    [r] = pd.read_csv(ENTRY / "entry_logrank.csv").to_dict(orient="records")
    lr = logrank(d, "cohort")
    assert lr["chi2"] == pytest.approx(r["chi2"], rel=1e-8)
    assert lr["p"] == pytest.approx(r["p"], rel=1e-8)
    # the test ignoring entry is another number: the entry is used
    assert logrank(d.drop(columns="entry"), "cohort")["chi2"] != pytest.approx(r["chi2"], rel=1e-3)
    from evaltool.analysis.survival.cox import cox_model

    notes: list[str] = []
    cox, info, _, fit = cox_model(d, ("cohort", "prior"), notes)
    want = pd.read_csv(ENTRY / "entry_cox.csv")
    for col in ("coef", "hr", "hr_low", "hr_high", "se", "p"):
        np.testing.assert_allclose(cox[col], want[col], rtol=1e-8)
    assert info["log_likelihood"] == pytest.approx(want["loglik"][0], rel=1e-10)
    lp = d[["cohort_service", "prior"]].to_numpy(float) @ fit.params_.to_numpy()
    c = concordance(d["time"].to_numpy(float), d["entry"].to_numpy(float), d["event"], lp)
    assert c == pytest.approx(want["concordance"][0], rel=1e-12)
    resid = schoenfeld_residuals(
        d["time"].to_numpy(float),
        d["event"].to_numpy(bool),
        d[["cohort_service", "prior"]].to_numpy(float),
        want["coef"].to_numpy(),
        d["entry"].to_numpy(float),
    )
    r_resid = pd.read_csv(ENTRY / "entry_schoenfeld.csv").iloc[:, 1:].to_numpy()
    np.testing.assert_allclose(resid, r_resid, rtol=1e-9, atol=1e-12)


def simulated_population(n: int = 3000, seed: int = 24) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parents with sets of care proceedings at a constant hazard: a new set within a year of
    any set's issue has probability 0.20 exactly (memoryless, so also from the index, the
    latest set before joining). Each joins 0 to 4 years after her first set; the extract is
    fixed, so most are followed past a year after joining."""
    rng = np.random.default_rng(seed)
    rate = -np.log(0.8) / 365
    day0 = pd.Timestamp("2012-01-01")
    extract = pd.Timestamp("2025-12-31")
    clients, sets = [], []
    for i in range(n):
        first = int(rng.integers(0, 2000))
        joined = first + int(rng.integers(0, 4 * 365))
        issued = [first]
        while issued[-1] < (extract - day0).days + 10:
            issued.append(issued[-1] + int(np.ceil(rng.exponential(1 / rate))))
        cid = f"S{i:05d}"
        start = day0 + pd.Timedelta(days=joined)
        clients.append(
            {"client_id": cid, "referral_date": start - pd.Timedelta(days=10), "start_date": start}
        )
        sets += [
            {
                "client_id": cid,
                "issued_date": day0 + pd.Timedelta(days=d),
                "concluded_date": day0 + pd.Timedelta(days=d + 1),
            }
            for d in issued
        ]
    c = pd.DataFrame(clients).assign(end_date=pd.NaT, closure_reason=None, cohort="service")
    return c, pd.DataFrame(sets)


def test_simulation_delayed_entry_recovers_a_true_one_year_recurrence_of_20_percent():
    """Issue 24.1: a true one-year recurrence of 20% from the index issue. With delayed entry
    the estimate's 95% CI contains 0.20; counted from the index with no entry (the old way),
    the time between the index and joining, when no new set can be seen, is counted at risk,
    and the CI lies well below 0.20. The Summary's headline (among parents followed a full
    year after joining) contains it too."""
    from scipy.stats import beta

    from evaltool.analysis.survival import TimeToProceedings
    from evaltool.analysis.windows import year_on

    clients, sets = simulated_population()
    fit = TimeToProceedings(origin="index-issue", times=(365,)).fit(clients, sets, EXTRACT)
    row = fit.survival_at_.set_index("group").loc["all"]
    assert row["ci_incidence_low"] < 0.20 < row["ci_incidence_high"]
    assert abs(row["cumulative_incidence"] - 0.20) < 0.02
    t = fit.table_
    assert (t["entry"] > 0).mean() > 0.8  # most joined after their index was issued
    naive = KaplanMeier().fit(t["time"].to_numpy(), t["event"].to_numpy()).at((365,)).iloc[0]
    assert 1 - naive["ci_low"] < 0.15  # the old way: far below the truth, CI and all
    _, returned, followed, _ = year_on(t, 365)
    k, m = int(returned.sum()), int(followed.sum())
    low, high = beta.ppf(0.025, k, m - k + 1), beta.ppf(0.975, k + 1, m - k)  # Clopper-Pearson
    assert low < 0.20 < high
    # the old headline, a year from the index issue, counted the same parents' index years
    old = ((t["event"] == 1) & (t["time"] <= 365)).sum() / (
        ((t["event"] == 1) & (t["time"] <= 365)) | (t["time"] >= 365)
    ).sum()
    assert old < 0.15


def test_entry_start_or_referral_and_who_is_left_out_worked_by_hand(tmp_path):
    """Four service parents referred 01/03/2024, started 01/04/2024 (C never started).
    A: index issued 01/01/2023, a new set 15/03/2024 (between referral and start).
    B: index issued 01/01/2023, moved away on the day she started.
    C: never started; index issued 01/01/2023, a new set 01/06/2024.
    D: died 01/06/2025, index 01/01/2024; a set issued 01/09/2025 after her death is not seen.
    Extract 31/12/2025."""
    clients = clients_rows(["A", "B", "C", "D"], start="01/04/2024", referral="01/03/2024")
    clients[1].update(end_date="01/04/2024", closure_reason="moved_away")
    clients[2]["start_date"] = None
    clients[3].update(end_date="01/06/2025", closure_reason="died")
    path = survival_workbook(
        tmp_path,
        [
            {"client_id": "A", "issued_date": "01/01/2023", "concluded_date": "01/06/2023"},
            {"client_id": "A", "issued_date": "15/03/2024", "concluded_date": None},
            {"client_id": "B", "issued_date": "01/01/2023", "concluded_date": "01/06/2023"},
            {"client_id": "C", "issued_date": "01/01/2023", "concluded_date": "01/06/2023"},
            {"client_id": "C", "issued_date": "01/06/2024", "concluded_date": None},
            {"client_id": "D", "issued_date": "01/01/2024", "concluded_date": "01/06/2024"},
            {"client_id": "D", "issued_date": "01/09/2025", "concluded_date": None},
        ],
        clients,
    )
    loaded = load(path)
    assert loaded.problems.ok, loaded.problems.errors
    c, p = loaded.dataset.clients, loaded.dataset.tables["proceedings"]
    days = lambda a, b: (pd.Timestamp(b) - pd.Timestamp(a)).days  # noqa: E731
    # entry at the start: A's index is the set of 15/03/2024 (the latest by the start), so
    # A enters on 01/04/2024, 17 days after it, and has not returned since
    t, excluded = survival_table(c, p, EXTRACT, "index-issue")
    t = t.set_index("client_id")
    assert list(t.index) == ["A", "D"]
    assert t.loc["A", "entry"] == days("2024-03-15", "2024-04-01")
    assert (t.loc["A", "time"], t.loc["A", "event"]) == (days("2024-03-15", "2025-12-31"), 0)
    # D: entered 91 days after her index, censored on the day she died: the later set unseen
    assert t.loc["D", "entry"] == days("2024-01-01", "2024-04-01")
    assert (t.loc["D", "time"], t.loc["D", "event"]) == (days("2024-01-01", "2025-06-01"), 0)
    assert bool(t.loc["D", "lost_to_follow_up"])
    reasons = dict(zip(excluded["Reason"], excluded["Clients"], strict=True))
    assert reasons["service cohort: never started"] == 1  # C
    assert reasons["no follow-up after joining (moved away or died by the day they joined)"] == 1
    # intention to treat: everyone from referral (01/03/2024), C kept. A's index is now the
    # 2023 set, and the set of 15/03/2024 is a return 14 days after joining
    t, excluded = survival_table(c, p, EXTRACT, "index-issue", entry="referral")
    t = t.set_index("client_id")
    assert list(t.index) == ["A", "B", "C", "D"]
    assert t.loc["A", "entry"] == days("2023-01-01", "2024-03-01")
    assert (t.loc["A", "time"], t.loc["A", "event"]) == (days("2023-01-01", "2024-03-15"), 1)
    assert (t.loc["B", "time"], t.loc["B", "event"]) == (days("2023-01-01", "2024-04-01"), 0)
    assert (t.loc["C", "time"], t.loc["C", "event"]) == (days("2023-01-01", "2024-06-01"), 1)
    assert "service cohort: never started" not in set(excluded["Reason"])
    # the Kaplan-Meier of the four by hand, on days from the index: A's event at 439 has A, B
    # and C at risk (entered at 425) and D (entered at 60, censored at 517): S = 3/4; B leaves
    # at 456; C's event at 517 has C and D (censored that day, still at risk): S = 3/4 * 1/2
    km = KaplanMeier().fit(t["time"], t["event"], entry=t["entry"])
    assert km.table_["at_risk"].tolist() == [4, 2]
    assert km.table_["survival"].tolist() == pytest.approx([0.75, 0.375])


def test_aalen_johansen_with_death_competing_matches_survfit_multi_state():
    # R: survfit(Surv(entry, time, state) ~ 1, id = client_id), state censor / proceedings /
    # died (entry.R): the cumulative incidence, its infinitesimal-jackknife SE and log CI
    from evaltool.analysis.survival.km import aalen_johansen

    d = entry_table()
    want = pd.read_csv(ENTRY / "entry_aalen_johansen.csv")
    assert d["died"].sum() == 12
    for group in ("all", "service", "comparison"):
        part = d if group == "all" else d[d["cohort"] == group]
        kind = np.where(part["event"] == 1, 1, np.where(part["died"] == 1, 2, 0))
        got = aalen_johansen(part["time"], kind, part["entry"], (182, 365, 730))
        w = want[want["group"] == group].reset_index(drop=True)
        for col in ("incidence", "se", "ci_low", "ci_high", "died"):
            np.testing.assert_allclose(got[col], w[col], rtol=1e-8, atol=1e-14)
        # below the Kaplan-Meier's 1 - S, which counts the dead as still at risk of a return
        km = KaplanMeier().fit(part["time"], part["event"], entry=part["entry"]).at((730,))
        assert got["incidence"].iloc[-1] < 1 - km["survival"].iloc[0]


def test_a_death_censors_and_brings_the_competing_risks_estimate(tmp_path):
    from evaltool.analysis.survival import TimeToProceedings
    from evaltool.report.text import survival_text

    clients = clients_rows(["A", "B"], start="01/04/2024", referral="01/03/2024")
    clients[1].update(end_date="01/06/2025", closure_reason="died")
    path = survival_workbook(
        tmp_path,
        [
            {"client_id": "A", "issued_date": "01/01/2024", "concluded_date": "01/06/2024"},
            {"client_id": "A", "issued_date": "01/09/2024", "concluded_date": None},
            {"client_id": "B", "issued_date": "01/01/2024", "concluded_date": "01/06/2024"},
            {"client_id": "B", "issued_date": "01/09/2025", "concluded_date": None},
        ],
        clients,
    )
    loaded = load(path)
    fit = TimeToProceedings(origin="index-issue", times=(365, 517)).fit(
        loaded.dataset.clients, loaded.dataset.tables["proceedings"], EXTRACT
    )
    t = fit.table_.set_index("client_id")
    assert t["died"].tolist() == [False, True] and t.loc["B", "event"] == 0
    # by hand: A's event at 244 days (both at risk): F1 = 1/2; B dies at 517: F2 = 1/2
    aj = fit.competing_.set_index(["group", "days"])
    assert aj.loc[("all", 517), "incidence"] == pytest.approx(0.5)
    assert aj.loc[("all", 517), "died"] == pytest.approx(0.5)
    assert survival_json(fit)["competing_risks"]["at"]
    assert "competing risk" in survival_text(fit)
    assert "counted from the day they joined us" in survival_text(fit)


def test_with_late_entries_disclosure_is_not_told_the_number_at_risk_never_rises():
    """With delayed entry the number at risk rises as parents join (here from 6 months to a
    year after the index): an identity saying it never rises would be false, and a solver
    given it finds no solution and protects nothing."""
    from evaltool.analysis.survival import TimeToProceedings
    from evaltool.report.survival_tables import survival_tables

    clients, sets = simulated_population(n=300)
    fit = TimeToProceedings(origin="index-issue", times=(182, 365, 730)).fit(clients, sets, EXTRACT)
    risk = fit.survival_at_.set_index(["group", "days"])["at_risk"]
    assert risk[("all", 365)] > risk[("all", 182)]  # it rises

    def falls(rel) -> bool:  # at risk at a later time <= at risk at an earlier one
        terms = [t for t, _ in rel.terms if isinstance(t, tuple) and t[0] == "km"]
        return (
            getattr(rel, "op", "") == "<="
            and len(terms) == 2 == len(rel.terms)
            and all(t[2] == "At risk" for t in terms)
        )

    assert not any(falls(rel) for rel in survival_tables(fit)[0].relations)
    # nobody late (origin start): the identity holds and is declared
    fit = TimeToProceedings(origin="start", times=(182, 365, 730)).fit(clients, sets, EXTRACT)
    assert any(falls(rel) for rel in survival_tables(fit)[0].relations)


def test_a_cox_model_with_no_finite_estimate_is_not_reported():
    """Nobody in the comparison cohort had new proceedings: the partial likelihood rises
    without end as the coefficient grows (R's coxph: "coefficient may be infinite"), and
    lifelines stops at a coefficient near 20 with a standard error in the thousands, which
    the Annex printed as a hazard ratio of 690,000,000 (an adversary, 2026-12-07). It is
    not reported; the same data with one comparison event give a finite estimate."""
    from evaltool.analysis.survival.cox import cox_model

    rng = np.random.default_rng(7)
    n = 30
    data = pd.DataFrame(
        {
            "time": rng.uniform(30, 1500, n).round(),
            "event": [1] * 6 + [0] * 9 + [0] * 15,  # the first 15 service, the rest comparison
            "cohort": ["service"] * 15 + ["comparison"] * 15,
        }
    ).assign(cohort_service=lambda d: (d["cohort"] == "service").astype(float))
    with pytest.raises(AnalysisError, match="no finite estimate for 'cohort'"):
        cox_model(data, ("cohort",), [])
    data.loc[20, "event"] = 1
    cox, _, _, _ = cox_model(data, ("cohort",), [])
    assert np.isfinite(cox["hr"]).all() and (cox["se"] < 20).all()

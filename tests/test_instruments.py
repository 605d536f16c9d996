"""The built-in instruments, with expected numbers worked out by hand (or by R) in the test."""

from __future__ import annotations

import math

import pytest

from evaltool.api import load
from evaltool.config import Settings
from evaltool.instruments.registry import build_registry
from evaltool.periods import parse_period
from evaltool.plugins.goal_attainment import GoalAttainment
from evaltool.plugins.pregnancies import involvement_years, poisson_exact_ci
from evaltool.testing import check_instrument
from tests.conftest import clients_rows, workbook

PERIOD = parse_period("2025-Q4", "financial")  # 1 Jan - 31 Mar 2026


def scored(tmp_path, tables, name, settings=None):
    """Load a hand-made workbook, then score and summarise one instrument."""
    loaded = load(workbook(tmp_path, tables), settings or Settings(), only=name)
    assert loaded.problems.ok, loaded.problems.errors[:3]
    inst = loaded.instruments[0]
    ctx = loaded.context(PERIOD)
    table = loaded.prepared(inst, PERIOD.end)
    return inst, inst.score(table, ctx), inst.summarise(table, ctx), table, ctx


def kiresuk_sherman(levels, weights, rho=0.3):
    """The published formula, written out independently of the plugin."""
    num = sum(w * x for w, x in zip(weights, levels, strict=True))
    den = math.sqrt((1 - rho) * sum(w * w for w in weights) + rho * sum(weights) ** 2)
    return 50 + 10 * num / den


# --- goal attainment -----------------------------------------------------------------------


def test_gas_published_examples_through_the_loader(tmp_path):
    levels, weights = (-2, 0, -1, 2, 0, 1), (3, 5, 1, 4, 2, 6)
    goals = [
        {
            "client_id": "001",
            "goal_id": f"g{i}",
            "review_date": "01/02/2026",
            "level": x,
            "weight": w,
        }
        for i, (x, w) in enumerate(zip(levels, weights, strict=True))
    ]
    goals += [
        {
            "client_id": "002",
            "goal_id": f"g{i}",
            "review_date": "01/02/2026",
            "level": 1,
            "weight": None,
        }
        for i in range(3)
    ]
    _, table, summary, _, _ = scored(
        tmp_path, {"clients": clients_rows(["001", "002"]), "goals": goals}, "gas"
    )
    t = table.set_index("client_id")["t_score"]
    assert t["001"] == pytest.approx(55.0, abs=1e-9)
    assert round(t["002"], 2) == 63.69
    assert kiresuk_sherman([1, 1, 1], [1, 1, 1]) == pytest.approx(t["002"])
    # goals at or above expected (level >= 0): client 001 has 0,2,0,1 -> 4; client 002 -> 3
    assert table.set_index("client_id")["goals_at_or_above_expected"].to_dict() == {
        "001": 4,
        "002": 3,
    }
    todate = summary[0].data.set_index("Window").loc["To date"]
    assert todate["Goals"] == 9 and todate["Goals at or above expected"] == 7
    assert todate["Share of goals at or above expected"] == pytest.approx(7 / 9)


def test_gas_baseline_uses_earliest_and_latest_uses_latest_review(tmp_path):
    goals = [
        {"client_id": "7", "goal_id": "a", "review_date": "01/05/2024", "level": -2, "weight": 2},
        {"client_id": "7", "goal_id": "a", "review_date": "01/11/2024", "level": 1, "weight": 2},
        {"client_id": "7", "goal_id": "b", "review_date": "01/05/2024", "level": -1, "weight": 1},
        {"client_id": "7", "goal_id": "b", "review_date": "01/08/2024", "level": 0, "weight": 1},
        {"client_id": "7", "goal_id": "b", "review_date": "01/04/2026", "level": 2, "weight": 1},
    ]
    _, table, _, _, _ = scored(tmp_path, {"clients": clients_rows(["7"]), "goals": goals}, "gas")
    row = table.iloc[0]
    assert row["t_score_baseline"] == pytest.approx(kiresuk_sherman([-2, -1], [2, 1]))
    # the April 2026 review is after the period end (31/03/2026): latest b is level 0
    assert row["t_score"] == pytest.approx(kiresuk_sherman([1, 0], [2, 1]))


def test_gas_deterioration_variant_accepts_minus_three(tmp_path):
    inst = GoalAttainment("gas3", "GAS -3", {"lowest_level": -3}, "test")
    assert inst.table().column("level").min == -3
    default = build_registry(autoload=False).get("gas")
    assert default.table().column("level").min == -2
    check_instrument(inst)


# --- goal based outcomes --------------------------------------------------------------------


def gbo_rows():
    # client A: goal 1 rated 2 then 7 (+5), goal 2 rated 4 then 5 (+1); client B: one rating only
    return [
        {"client_id": "A", "goal_id": "1", "rating_date": "01/05/2024", "score": 2},
        {"client_id": "A", "goal_id": "1", "rating_date": "01/02/2026", "score": 7},
        {"client_id": "A", "goal_id": "2", "rating_date": "01/05/2024", "score": 4},
        {"client_id": "A", "goal_id": "2", "rating_date": "01/02/2026", "score": 5},
        {"client_id": "B", "goal_id": "1", "rating_date": "01/05/2024", "score": 3},
    ]


def test_gbo_first_latest_and_no_reliable_change_without_a_threshold(tmp_path):
    inst, table, summary, _, _ = scored(
        tmp_path, {"clients": clients_rows(["A", "B"]), "gbo": gbo_rows()}, "gbo"
    )
    a = table.set_index("client_id").loc["A"]
    assert (a["mean_first"], a["mean_latest"], a["mean_change"]) == (3.0, 6.0, 3.0)
    assert "goals_reliably_improved" not in table
    todate = summary[0].data.set_index("Window").loc["To date"]
    assert todate["Goals rated twice or more"] == 2 and todate["Goals improved"] == 2
    assert "Goals reliably improved" not in summary[0].data
    assert "not set" in summary[0].note


def test_gbo_reliable_change_from_the_definition(tmp_path):
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "gbo3.toml").write_text(
        'name = "gbo3"\nkind = "goal_based_outcomes"\ntable = "gbo"\nscale = {min = 0, max = 10}\n'
        'reliable_change = 3\nreliable_change_source = "set for this test"\n'
    )
    settings = Settings(instrument_paths=(tmp_path / "defs",))
    _, table, summary, _, _ = scored(
        tmp_path, {"clients": clients_rows(["A", "B"]), "gbo": gbo_rows()}, "gbo3", settings
    )
    # only goal A1 (+5) reaches 3 points; A2 (+1) does not
    assert table.set_index("client_id").loc["A", "goals_reliably_improved"] == 1
    assert summary[0].data.set_index("Window").loc["To date", "Goals reliably improved"] == 1
    assert "3 points (source: set for this test)" in summary[0].note


# --- domain scale ----------------------------------------------------------------------------


def star_rows():
    base = {
        d: None
        for d in (
            "relationships",
            "housing",
            "money",
            "physical_health",
            "sexual_health",
            "substance_use",
            "contact_children",
            "safety",
            "support_network",
        )
    }
    return [
        {
            **base,
            "client_id": "A",
            "assessment_date": "01/05/2024",
            "emotional_wellbeing": 2,
            "housing": 6,
        },
        {
            **base,
            "client_id": "A",
            "assessment_date": "01/02/2026",
            "emotional_wellbeing": 7,
            "housing": 5,
        },
        {
            **base,
            "client_id": "B",
            "assessment_date": "01/05/2024",
            "emotional_wellbeing": 4,
            "housing": 3,
        },
        {
            **base,
            "client_id": "B",
            "assessment_date": "01/01/2025",
            "emotional_wellbeing": 4,
            "housing": 4,
        },
    ]


def test_domain_scale_distance_travelled_and_stage_movement(tmp_path):
    inst, table, summary, _, _ = scored(
        tmp_path, {"clients": clients_rows(["A", "B"]), "star": star_rows()}, "recurrent-care-star"
    )
    t = table.set_index("client_id")
    assert t.loc["A", "change_emotional_wellbeing"] == 5  # 2 -> 7
    assert t.loc["B", "change_housing"] == 1  # 3 -> 4
    todate = summary[1].data.set_index("Domain")
    ew = todate.loc["Emotional wellbeing"]
    # A: 2 -> 7 (Stuck -> Learning: up); B: 4 -> 4 (unchanged)
    assert (ew["Mean first"], ew["Mean latest"], ew["Mean distance travelled"]) == (3.0, 5.5, 2.5)
    assert (ew["Improved"], ew["Unchanged"], ew["Worse"]) == (1, 1, 0)
    assert (ew["Moved up a stage or more"], ew["Moved down a stage or more"]) == (1, 0)
    housing = todate.loc["Home and housing"]
    # A: 6 -> 5 (Believing -> Believing: worse, same stage); B: 3 -> 4 (same stage)
    assert (housing["Improved"], housing["Worse"], housing["Moved down a stage or more"]) == (
        1,
        1,
        0,
    )
    assert todate.loc["Money and benefits", "Clients with 2+ readings"] == 0
    assert summary[1].chart == "radar"


def test_a_five_point_scale_from_a_definition_file(tmp_path):
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "mini.toml").write_text(
        'name = "mini"\nkind = "domain_scale"\ntable = "mini"\nscale = {min = 1, max = 5}\n'
        'domains = [{id = "mood", label = "Mood"}]\n'
        'stages = [{name = "Low", from = 1, to = 2}, {name = "High", from = 3, to = 5}]\n'
    )
    settings = Settings(instrument_paths=(tmp_path / "defs",))
    rows = [
        {"client_id": "A", "assessment_date": "01/05/2024", "mood": 1},
        {"client_id": "A", "assessment_date": "01/06/2024", "mood": 5},
    ]
    _, table, summary, _, _ = scored(
        tmp_path, {"clients": clients_rows(["A"]), "mini": rows}, "mini", settings
    )
    assert table.loc[0, "change_mood"] == 4
    # a 6 is off this 1-5 scale
    rows[1]["mood"] = 6
    loaded = load(
        workbook(tmp_path, {"clients": clients_rows(["A"]), "mini": rows}, "b.xlsx"),
        settings,
        only="mini",
    )
    [problem] = loaded.problems.errors
    assert (problem.row, problem.value, problem.expected) == (3, "6", "a whole number from 1 to 5")


# --- feedback --------------------------------------------------------------------------------


def test_feedback_reverse_keying_and_share_positive(tmp_path):
    rows = [
        {
            "response_date": "10/01/2026",
            "listened": 5,
            "respected": 4,
            "helped": 2,
            "judged": 1,
            "recommend": 4,
            "comment": '=HYPERLINK("http://example.invalid","x")',
        },
        {
            "response_date": "10/02/2026",
            "listened": 3,
            "respected": 5,
            "helped": 4,
            "judged": 4,
            "recommend": None,
            "comment": "kind staff",
        },
        {
            "response_date": "10/05/2025",
            "listened": 4,
            "respected": 4,
            "helped": 4,
            "judged": 2,
            "recommend": 5,
            "comment": "",
        },
    ]
    inst, table, summary, _, _ = scored(
        tmp_path, {"clients": clients_rows(["A"]), "feedback": rows}, "service-feedback"
    )
    assert "client_id" not in table and "comment" not in table
    # reverse keyed on 1-5: judged 1 -> 5, 4 -> 2, 2 -> 4
    assert table["judged"].tolist() == [5, 2, 4]
    # totals of keyed items: 5+4+2+5+4 = 20; second incomplete (no recommend): 3+5+4+2 = 14
    assert table["total"].tolist() == [20, 14, 21]
    items = summary[1].data
    quarter = items[items["Window"] == "Quarter"].set_index("Item")
    judged = quarter.loc["I felt judged by the service (reverse-keyed)"]
    assert (judged["Answers"], judged["Positive answers"]) == (2, 1)  # keyed 5 and 2
    total = quarter.loc["Total score (complete responses)"]
    assert (total["Answers"], total["Mean"]) == (1, 20)
    assert summary[0].data.set_index("Window")["Responses"].to_dict() == {
        "Quarter": 2,
        "To date": 3,
    }
    everything = " ".join(str(v) for t in summary for v in t.data.to_numpy().ravel())
    assert "HYPERLINK" not in everything and "kind staff" not in everything


# --- partner access --------------------------------------------------------------------------


def test_partner_access_share_and_days_to_access(tmp_path):
    rows = [  # referred in the quarter (Jan-Mar 2026) unless noted; days to access in comments
        {
            "client_id": "A",
            "service_type": "housing",
            "referred_date": "05/01/2026",
            "accessed_date": "15/01/2026",
        },  # 10 days
        {
            "client_id": "B",
            "service_type": "housing",
            "referred_date": "05/01/2026",
            "accessed_date": "04/02/2026",
        },  # 30 days
        {
            "client_id": "C",
            "service_type": "housing",
            "referred_date": "10/03/2026",
            "accessed_date": None,
        },  # waiting
        {
            "client_id": "A",
            "service_type": "mental_health",
            "referred_date": "01/06/2025",
            "accessed_date": "21/06/2025",
        },  # 20 days, before the quarter
        {
            "client_id": "D",
            "service_type": "Mental Health",
            "referred_date": "20/03/2026",
            "accessed_date": "02/04/2026",
        },  # accessed after the period end: still waiting then
    ]
    _, _, summary, _, _ = scored(
        tmp_path,
        {"clients": clients_rows(["A", "B", "C", "D"]), "partner_access": rows},
        "partner-access",
    )
    quarter, todate = (t.data.set_index("Service type") for t in summary)
    h = quarter.loc["housing"]
    assert (h["Clients referred"], h["Clients accessed"], h["Referrals still waiting"]) == (3, 2, 1)
    assert h["Share accessed"] == pytest.approx(2 / 3)
    # median of 10 and 30 = 20; quartiles by linear interpolation (R type 7): 15 and 25
    assert (h["Median days to access"], h["Lower quartile days"], h["Upper quartile days"]) == (
        20,
        15,
        25,
    )
    assert quarter.loc["mental health", "Referrals still waiting"] == 1
    everyone = todate.loc["All services"]
    assert (everyone["Clients referred"], everyone["Clients accessed"]) == (4, 2)
    # days over all accessed referrals to date: 10, 30, 20 -> median 20
    assert everyone["Median days to access"] == 20


def test_partner_access_unknown_service_type_is_an_error(tmp_path):
    rows = [
        {
            "client_id": "A",
            "service_type": "dentist",
            "referred_date": "05/01/2026",
            "accessed_date": None,
        }
    ]
    loaded = load(
        workbook(tmp_path, {"clients": clients_rows(["A"]), "partner_access": rows}),
        only="partner-access",
    )
    [problem] = loaded.problems.errors
    assert problem.value == "dentist" and problem.expected.startswith("one of: mental_health")


# --- pregnancies -----------------------------------------------------------------------------


def test_zero_events_upper_limit_is_3689_over_t():
    for years in (1.0, 12.5, 250.0):
        lo, hi = poisson_exact_ci(0, years)
        assert lo == 0
        assert hi == pytest.approx(3.688879 / years, rel=1e-6)  # R: poisson.test(0, T)


def test_exact_poisson_interval_matches_r():
    # R 4.x: poisson.test(4, 2.5)$conf.int -> 0.4359461 4.0966355
    lo, hi = poisson_exact_ci(4, 2.5)
    assert (lo, hi) == (pytest.approx(0.4359461, rel=1e-6), pytest.approx(4.0966355, rel=1e-6))


def test_pregnancy_rate_timing_and_outcomes(tmp_path):
    clients = clients_rows(["A", "B"], start="01/04/2025", end=None)
    clients[1]["end_date"] = "30/09/2025"
    rows = [
        {"client_id": "A", "known_date": "01/02/2026", "outcome": "ongoing"},  # during, quarter
        {
            "client_id": "B",
            "known_date": "01/06/2025",
            "outcome": "live_birth",
            "outcome_date": "01/12/2025",
            "baby_care_status": "with_parent",
        },  # during
        {
            "client_id": "B",
            "known_date": "01/01/2026",
            "outcome": "miscarriage",
            "outcome_date": "01/02/2026",
        },  # after closure
    ]
    inst, table, summary, _, ctx = scored(
        tmp_path, {"clients": clients, "pregnancies": rows}, "pregnancies"
    )
    rate = summary[0].data.set_index("Window")
    # involvement to 31/03/2026: A 01/04/2025-31/03/2026 = 365 days; B 01/04-30/09/2025 = 183
    years = (365 + 183) / 365.25
    assert involvement_years(ctx.clients, None, PERIOD.end) == pytest.approx(years)
    todate = rate.loc["To date"]
    assert todate["During involvement"] == 2
    assert todate["After closure"] == 1
    assert todate["Pregnancies known"] == 3 and todate["Before start"] == 0
    # printed in whole years (1.50 is 2), and the rate from them: 2 in 2 years, 100 per 100
    assert todate["Client-years of involvement"] == 2
    assert todate["Rate per 100 client-years"] == pytest.approx(100.0)
    lo, hi = poisson_exact_ci(2, 2)
    assert (todate["Rate CI lower"], todate["Rate CI upper"]) == (
        pytest.approx(100 * lo),
        pytest.approx(100 * hi),
    )
    # the quarter (only A, 90 days): no client-years or rate, which would bound its caseload
    assert (
        rate.loc["Quarter", ["Client-years of involvement", "Rate per 100 client-years"]]
        .isna()
        .all()
    )
    outcomes = summary[1].data.set_index("Outcome")["Pregnancies"]
    assert outcomes[["ongoing", "live birth", "miscarriage", "All pregnancies"]].tolist() == [
        1,
        1,
        1,
        3,
    ]
    assert summary[2].data.set_index("Care status").loc["with parent", "Babies"] == 1


def test_contraception_counts_each_client_once(tmp_path):
    rows = [
        {"client_id": "A", "started_date": "01/05/2024", "method": "larc"},
        {"client_id": "A", "started_date": "01/07/2024", "method": "larc"},
        {"client_id": "B", "started_date": "01/02/2026", "method": "short_acting"},
    ]
    _, table, summary, _, _ = scored(
        tmp_path, {"clients": clients_rows(["A", "B"]), "contraception": rows}, "contraception"
    )
    t = summary[0].data.set_index("Window")
    assert t.loc["To date", "Clients who chose to start contraception"] == 2
    assert t.loc["To date", "Method: larc"] == 1
    assert t.loc["Quarter", "Method: short acting"] == 1
    assert table.set_index("client_id").loc["A", "started_larc"] == 2


def test_client_scores_for_a_period_use_only_readings_up_to_its_end():
    """Scores for 2024-Q2 (financial: Jul-Sep 2024) count assessments up to 30 September 2024
    (the domain scale's counts were overstated for most clients)."""
    import pandas as pd

    from evaltool.api import client_scores
    from evaltool.config import load_settings
    from evaltool.synthetic import generate
    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

    scores = client_scores(
        EXAMPLE, "recurrent-care-star", load_settings(EXAMPLE_CONFIG), "2024-Q2"
    ).set_index("client_id")
    star = generate()["star"]
    dates = pd.to_datetime(star["assessment_date"], dayfirst=True)
    truth = star[dates <= "2024-09-30"].groupby("client_id")["assessment_date"].nunique()
    assert scores["assessments"].to_dict() == truth.to_dict()


def test_no_pregnancy_recorded_at_all_is_no_data_not_a_rate_of_zero(tmp_path):
    """An empty pregnancies table gives ':' for the rate, not '0.0 (95% CI 0.0 to 18.9)';
    a zero is printed only where pregnancies are recorded and none fell in the window."""
    from evaltool.api import run
    from evaltool.report.disclosure import NOT_AVAILABLE
    from evaltool.report.publish import publish
    from evaltool.synthetic import generate, write_csv_folder

    tables = generate(150)
    tables["pregnancies"] = tables["pregnancies"].head(0)  # the header only
    data = write_csv_folder(tables, tmp_path / "data")
    results = run(data, Settings(), "2025-Q4")
    pub = publish(results)
    shown = pub.shown["pregnancy-rate"].values
    assert (shown["Rate per 100 client-years"] == NOT_AVAILABLE).all()
    assert (shown["Rate CI upper"] == NOT_AVAILABLE).all()
    line = results.headlines["pregnancies"]
    from evaltool.report.publish import headline_text

    assert headline_text(line, pub, "pregnancies") == "no data yet"


def test_every_instrument_scores_a_table_with_only_its_required_columns(tmp_path):
    """A case-management export often has only the columns it must: each built-in
    instrument's table cut to its required columns still gives a return (an optional column
    is blank throughout, not an internal error)."""
    from evaltool.api import run
    from evaltool.report.excel import write_return
    from evaltool.synthetic import generate, write_csv_folder

    tables = generate(n_clients=60, seed=11)
    registry = build_registry()
    for name in ("gas", "gbo", "recurrent-care-star", "partner-access", "pregnancies"):
        spec = registry.instruments[name].table()
        required = [c.name for c in spec.columns if c.required]
        tables[spec.name] = tables[spec.name][required]
    data = write_csv_folder(tables, tmp_path / "data")
    results = run(data, Settings(), "2025-Q4")
    assert results.problems.ok, results.problems.errors[:3]
    write_return(results, tmp_path / "r.xlsx")


def test_each_feedback_item_is_answered_at_most_once_a_response_and_by_every_complete_one(
    tmp_path, monkeypatch
):
    """Declared, and true on the example: an item's answers are at most the window's
    responses and at least its complete responses (an adversary, 2026-12-07: an item hidden
    beside 6 complete responses of 6 was 6, and the next return's 7 gave a quarter's one)."""
    from evaltool.api import run
    from evaltool.config import load_settings
    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    results = run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4")
    tables = {t.name: t for t in results.summary_tables["service-feedback"]}
    items, responses = tables["service-feedback-items"], tables["service-feedback-responses"]
    value = {}
    for t in (items, responses):
        frame = t.data.reset_index(drop=True)
        for col in t.counts:
            value.update({(t.name, r, col): frame.at[r, col] for r in frame.index})
    declared = [r for r in items.relations if r.op == "<="]
    rows = items.data.reset_index(drop=True)
    item_rows = [r for r in rows.index if not rows.at[r, "Item"].startswith("Total score")]
    assert len(declared) == 2 * len(item_rows)
    for rel in declared:
        assert sum(value[t] * c for t, c in rel.terms) <= 0, rel
    at_most = {rel.terms[1][0][0] for rel in declared}
    assert at_most == {responses.name, items.name}

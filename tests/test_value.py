"""Value for money (issue 27): the Green Book sums checked against a hand calculation to the
penny, unit costs as data (sources, price years, a service's own file over the shipped one),
the settings checked, the example with its comparison cohort and with a 'what if', the sheet
protected with the rest of the return, and a small service swept with value switched on."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from evaltool import api
from evaltool.analysis.value import appraise, value_for_money
from evaltool.config import SettingsError
from evaltool.data.costs import (
    Saving,
    ValueSettings,
    read_costs,
    read_deflator,
    unit_costs,
)
from evaltool.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "data" / "example-service.xlsx"
EXAMPLE_TOML = ROOT / "examples" / "evaltool.toml"

#: the worked example of the README's evaluator guide: a service paid GBP 100,000, 110,000
#: and 120,000 in its three years; each avoided set of proceedings saves a court case
#: (GBP 5,000, once) and 26 weeks of foster care a year for two years (GBP 700 a week); two
#: sets avoided a year; deadweight 25%; 3.5% discounting; a 4-year horizon
OWN_COSTS = """
[[cost]]
id = "court-case-own"
label = "Our court case"
value = 5000
unit = "per case"
price_year = 2024
source = "the worked example"

[[cost]]
id = "foster-care-week"
label = "A week of foster care (ours)"
value = 700
unit = "per child per week"
price_year = "2024-25"
source = "the worked example"
"""


def hand_worked_example() -> tuple[float, float]:
    """The worked example by hand, written out term by term (not through evaltool)."""
    one_set = [5000 + 26 * 700, 26 * 700]  # saved in the year of the event, and the next
    assert one_set == [23200, 18200]
    net = 2 * (1 - 0.25)  # two avoided a year, less 25% deadweight
    savings = [
        net * 23200,  # year 1: the first year's starters, year of the event
        net * 18200 + net * 23200,  # year 2: year 1's second year + year 2's first
        net * 18200 + net * 23200,  # year 3
        net * 18200,  # year 4: year 3's second year; the service has stopped
    ]
    assert savings == [34800, 62100, 62100, 27300]
    pv_savings = 34800 + 62100 / 1.035 + 62100 / 1.035**2 + 27300 / 1.035**3
    pv_costs = 100000 + 110000 / 1.035 + 120000 / 1.035**2
    return pv_costs, pv_savings


def test_worked_example_to_the_penny():
    pv_costs, pv_savings = hand_worked_example()
    assert round(pv_costs, 2) == 318301.48  # by hand: 100,000 + 106,280.19 + 112,021.28
    a = appraise([100000, 110000, 120000], 2, [23200, 18200], 4, 0.035, deadweight=0.25)
    assert round(a.pv_costs, 2) == round(pv_costs, 2)
    # by hand: 34,800 + 60,000.00 + 57,971.01 + 24,623.04
    assert round(a.pv_savings, 2) == round(pv_savings, 2) == 177394.05
    assert round(a.npv, 2) == round(pv_savings - pv_costs, 2)
    assert a.bcr == pytest.approx(pv_savings / pv_costs, abs=1e-12)
    assert list(a.years["savings"]) == [34800, 62100, 62100, 27300]


def test_worked_example_through_the_settings(tmp_path):
    """The same case from a service's own cost file and [value] settings, end to end."""
    own = tmp_path / "my-costs.toml"
    own.write_text(OWN_COSTS, encoding="utf-8")
    vs = ValueSettings(
        enabled=True,
        costs=own,
        price_year=2024,
        service_cost=(100000, 110000, 120000),
        savings=(Saving("court-case-own"), Saving("foster-care-week", 26, 2)),
        what_if_prevented_per_year=2,
        deadweight=0.25,
        optimism_bias=0.0,
        horizon_years=4,
    )
    import pandas as pd

    v = value_for_money(vs, None, None, pd.DataFrame(columns=["client_id"]), pd.Timestamp(
        "2025-12-31").date())  # fmt: skip
    pv_costs, pv_savings = hand_worked_example()
    assert v.central is not None
    assert round(v.central.pv_costs, 2) == round(pv_costs, 2)
    assert round(v.central.pv_savings, 2) == round(pv_savings, 2)
    # the service's own line replaced the shipped foster-care line, and says so
    foster = next(u for u, *_ in v.lines if u.id == "foster-care-week")
    assert foster.value == 700 and foster.origin == "my-costs.toml"
    # break-even: PV savings per avoided set a year x N = PV costs
    assert v.break_even == pytest.approx(pv_costs / (pv_savings / 2))
    # by hand: 318,301.48 / (177,394.05 / 2) = 3.59
    assert "pays for itself if it prevents 3.6 sets" in _board(v)
    # stated, not measured: no interval, and said so
    assert v.interval is None and "stated" in v.interval_words
    assert v.effect.level is None and "not measured" in v.effect.evidence


def _board(v) -> str:
    from evaltool.report.value_tables import board_paragraph

    return board_paragraph(v)


def test_shipped_unit_costs_name_source_price_year_and_check():
    costs = unit_costs()
    assert costs, "evaltool ships unit costs"
    for c in costs.values():
        assert c.source and c.price_year and c.unit and c.licence and c.checked
        assert "HACT" not in c.source  # its licence forbids bundling (FIELD.md 4.6)
    assert costs["court-public-law-case"].value == 4180
    assert costs["foster-care-week"].value == 646


def test_prices_moved_with_the_deflator():
    d = read_deflator()
    assert "December 2025" in d.vintage and d.index[2024] == 100
    # GBP 646 in 2016-17 prices (the 2016 index, 76.4554) in 2024 prices, by hand
    assert 646 * d.factor(2016, 2024) == pytest.approx(646 * 100 / 76.4554)
    assert round(646 * 100 / 76.4554, 2) == 844.94
    with pytest.raises(ConfigError, match="covers 1990 to 2024"):
        d.factor(2016, 2031)


def test_a_bad_cost_file_names_every_fault(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[cost]]\nid = "a"\nlabel = "A"\nvalue = "lots"\nunit = "u"\nprice_year = 2020\n'
        'source = "s"\n\n[[cost]]\nid = "b"\nlabel = "B"\nvalue = 1\nunit = "u"\n'
        'price_year = "last year"\nsource = "s"\ncolour = "red"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as exc:
        read_costs(bad)
    text = str(exc.value)
    assert "bad.toml has 2 problem(s)" in text
    assert "cost 1 (a): value 'lots'" in text
    assert "cost 2 (b): unknown colour" in text


def test_value_settings_are_checked(tmp_path):
    toml = tmp_path / "evaltool.toml"
    toml.write_text(
        "[value]\nenabled = true\ndiscount_rat = 0.035\ndeadweight = 1.5\n"
        'savings = [{cost = "court-public-law-case", quantity = -1}]\n',
        encoding="utf-8",
    )
    with pytest.raises(SettingsError) as exc:
        api.load_settings(toml)
    text = str(exc.value)
    assert "unknown setting 'discount_rat'" in text and "discount_rate" in text
    assert "value.deadweight = 1.5" in text
    assert "value.savings" in text


def test_an_unknown_saving_line_is_named(tmp_path):
    import pandas as pd

    vs = ValueSettings(service_cost=(1000,), savings=(Saving("no-such-cost"),),
                       what_if_prevented_per_year=1)  # fmt: skip
    with pytest.raises(ConfigError, match="no unit cost 'no-such-cost'; known: court-public"):
        value_for_money(vs, None, None, pd.DataFrame(), pd.Timestamp("2025-12-31").date())


def _example_settings(tmp_path: Path, extra: str) -> Path:
    toml = tmp_path / "evaltool.toml"
    toml.write_text(
        EXAMPLE_TOML.read_text(encoding="utf-8")
        + "\n[value]\nenabled = true\nservice_cost = [150000, 150000, 150000]\n"
        'savings = [{cost = "court-public-law-case"}, {cost = "foster-care-week", '
        "quantity = 52}]\n" + extra,
        encoding="utf-8",
    )
    return toml


@pytest.fixture(scope="module")
def example_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("value")
    settings = api.load_settings(_example_settings(tmp, ""))
    return api.run(EXAMPLE, settings, "2025-Q3")


def test_example_with_its_comparison_cohort(example_results):
    """The effect is evaltool's own cohort comparison (unadjusted, level 1), with its CI."""
    v = example_results.value
    assert v is not None and v.central is not None
    e = v.effect
    assert e.kind == "comparison" and e.level == 1 and "unadjusted" in e.words
    at = example_results.survival.survival_at_
    s = at[(at.group == "service") & (at.days == 1095)].iloc[0]
    c = at[(at.group == "comparison") & (at.days == 1095)].iloc[0]
    assert e.rate == pytest.approx(c.cumulative_incidence - s.cumulative_incidence)
    assert v.parents % 5 == 0  # from the data: rounded to the nearest 5
    # the interval is seeded: the same twice, and it holds the central ratio
    iv = v.interval
    assert iv["draws"] == 2000 and iv["bcr_low"] < v.central.bcr < iv["bcr_high"]
    again = api.value(EXAMPLE, example_results.settings, "2025-Q3")
    assert again.interval == iv
    text = _board(v)
    assert text.startswith("For every £1 spent on the service, about £")
    assert ", between " in text and "if the effect is as found" in text
    assert "Maryland Scientific Methods Scale level 1" in text


def test_example_sheet_is_protected_with_the_return(example_results):
    """Every figure of the sheet rests on the Kaplan-Meier counts it is derived from: where
    one of them is hidden, the figures are hidden with it (a cost x a count gives it back)."""
    from evaltool.report.publish import publish
    from evaltool.report.value_tables import SHEET

    pub = publish(example_results)
    assert [t.name for t in pub.sheets[SHEET]] == [
        "value", "value-unit-costs", "value-horizons", "value-sensitivity",
    ]  # fmt: skip
    assert not pub.leaks
    shown = pub.shown["value"]
    counts = [c for c in shown.values.columns if "at risk" in c or "events" in c]
    figures = [c for c in shown.values.columns if c not in counts]
    assert counts and figures
    hidden = shown.suppressed[counts].to_numpy().any()
    assert hidden  # the example's events by 3 years are few
    assert shown.suppressed[figures].to_numpy().all()
    # nor is the difference they rest on printed in a note or a label (a text beside a
    # hidden count is no protection)
    e = example_results.value.effect
    said = " ".join(
        [t.note for t in pub.sheets[SHEET]]
        + [str(x) for t in pub.sheets[SHEET] for x in t.data.to_numpy().ravel()]
    )
    for figure in (-e.rate, -e.rate_low, -e.rate_high):
        assert f"{figure:+.1%}" not in said and f"{abs(figure):.1%}" not in said
    # and the board page does not print the figures the sheet hides
    from evaltool.report.board import board_html
    from evaltool.report.output import output_for

    page = board_html(output_for(example_results, pub))
    assert "Value for money: not shown, as it rests on counts hidden in this return." in page
    assert "For every £1 spent" not in page


def test_example_what_if(tmp_path):
    settings = api.load_settings(
        _example_settings(tmp_path, "what_if_prevented_per_year = 3\ndeadweight = 0.1\n")
    )
    results = api.run(EXAMPLE, settings, "2025-Q3")
    v = results.value
    assert v.effect.kind == "what-if" and v.avoided == 3
    # by hand: 3 a year x (1 - 0.1) x (1 - 0.2 optimism bias) x one set's savings in 2024
    d = read_deflator()
    one = 4180 * d.factor(2017, 2024) + 52 * 646 * d.factor(2016, 2024)
    net = 3 * 0.9 * 0.8 * one
    pv = sum(net / 1.035**u for u in range(3))
    assert round(v.central.pv_savings, 2) == round(pv, 2)
    from evaltool.report.publish import publish

    pub = publish(results)
    shown = pub.shown["value"]
    assert not shown.suppressed.to_numpy().any()  # no count behind a stated effect
    assert shown.values.iloc[0]["Present value of savings"] == 1000 * round(pv / 1000)
    from evaltool.report.board import board_html
    from evaltool.report.output import output_for

    page = board_html(output_for(results, pub))
    assert "<h2>Value for money</h2>" in page and "For every £1 spent" in page
    assert "what if the service prevents 3 set(s)" in page


def test_relative_reduction_needs_a_baseline():
    import pandas as pd

    vs = ValueSettings(service_cost=(1000,), what_if_relative_reduction=0.2)
    v = value_for_money(vs, None, None, pd.DataFrame(), pd.Timestamp("2025-12-31").date())
    assert v.central is None and "needs a baseline" in v.not_computed


def test_cli_costs_and_value(tmp_path):
    from typer.testing import CliRunner

    from evaltool.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["costs"])
    assert out.exit_code == 0, out.output
    assert "court-public-law-case" in out.output and "price year 2017-18" in out.output
    assert "GDP deflator: HM Treasury" in out.output
    toml = _example_settings(tmp_path, "what_if_prevented_per_year = 2\n")
    out = runner.invoke(
        app, ["value", str(EXAMPLE), "--config", str(toml), "--period", "2025-Q3", "--json"]
    )
    assert out.exit_code == 0, out.output
    import json

    got = json.loads(out.output[out.output.index("{") :])
    assert got["effect"]["kind"] == "what-if" and got["pv_costs"] % 1000 == 0
    assert got["board"].startswith("For every £1 spent")


@pytest.mark.parametrize("period", ["2023-Q3", "2024-Q3", "2025-Q4"])
def test_small_service_sweep_with_value(tmp_path, period):
    """A 12-client synthetic service scores with value switched on, in every period: the
    value sheet is written (or says why not), with no internal error."""
    from evaltool.synthetic import generate, write_xlsx

    data = write_xlsx(generate(12, 3), tmp_path / "small.xlsx")
    toml = tmp_path / "evaltool.toml"
    toml.write_text("[value]\nenabled = true\nservice_cost = [90000, 90000]\n", encoding="utf-8")
    settings = api.load_settings(toml)
    out = tmp_path / "return.xlsx"
    results = api.score_and_write(data, settings, period, out)
    assert out.exists() and results.value is not None
    import openpyxl

    assert "Value for money" in openpyxl.load_workbook(out).sheetnames
    if results.value.central is None:
        assert results.value.not_computed


def test_wellby_only_with_a_life_satisfaction_gain():
    import pandas as pd

    vs = ValueSettings(service_cost=(1000,), what_if_prevented_per_year=1, parents_per_year=10)
    v = value_for_money(vs, None, None, pd.DataFrame(), pd.Timestamp("2025-12-31").date())
    assert not v.wellby["valued"] and "no life-satisfaction measure" in v.wellby["why"]
    vs = ValueSettings(service_cost=(1000,), what_if_prevented_per_year=1, parents_per_year=10,
                       wellby_points=0.5, price_year=2019)  # fmt: skip
    v = value_for_money(vs, None, None, pd.DataFrame(), pd.Timestamp("2025-12-31").date())
    # by hand: 0.5 points x 10 parents x GBP 13,000 (2019 prices), one year, undiscounted
    assert v.wellby["valued"] and math.isclose(v.wellby["pv"], 0.5 * 10 * 13000)
    assert "1.5%" in v.wellby["why"]


def test_shipped_files_are_in_the_package():
    here = ROOT / "evaltool" / "data" / "costs"
    assert {p.name for p in here.glob("*.toml")} == {"unit-costs.toml", "gdp-deflator.toml"}


def test_readme_shows_the_worked_example():
    """The README's evaluator guide gives the worked example's figures, as computed."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    a = appraise([100000, 110000, 120000], 2, [23200, 18200], 4, 0.035, deadweight=0.25)
    for figure in (a.pv_savings, a.pv_costs):
        assert f"£{figure:,.2f}" in readme
    assert f"-£{-a.npv:,.2f}" in readme and f"ratio {a.bcr:.2f}" in readme


def test_board_paragraph_for_a_stated_effect_gives_half_and_double():
    import pandas as pd

    vs = ValueSettings(service_cost=(100000,), what_if_prevented_per_year=2, parents_per_year=10,
                       optimism_bias=0.0, savings=(Saving("court-public-law-case"),))  # fmt: skip
    v = value_for_money(vs, None, None, pd.DataFrame(), pd.Timestamp("2025-12-31").date())
    d = read_deflator()
    one = 4180 * d.factor(2017, 2024)  # by hand: one court case in 2024 prices, year 1
    assert v.central.bcr == pytest.approx(2 * one / 100000)
    text = _board(v)
    half, double = one / 100000, 4 * one / 100000
    assert f"between £{half:.2f} and £{double:.2f} if the effect is half or double" in text


def test_benchmark_effect_is_level_1_and_skips_points_the_return_hides():
    from types import SimpleNamespace

    from evaltool.analysis.value import benchmark_effect

    def row(days, inc, at_risk, events):
        return {"days": days, "benchmark_incidence": 0.24, "incidence": inc,
                "ci_low": inc - 0.05, "ci_high": inc + 0.05, "at_risk": at_risk,
                "events": events}  # fmt: skip

    b = {"label": "Mothers", "source": "Broadhurst 2015", "not_compared": None,
         "rows": [row(365, 0.10, 40, 6), row(730, 0.14, 30, 3)]}  # fmt: skip
    e = benchmark_effect(SimpleNamespace(benchmark_=b), threshold=5)
    # the 730-day point has 3 new proceedings (hidden on the return): the 365-day one is used
    assert e.level == 1 and e.rate == pytest.approx(0.24 - 0.10)
    assert "indication, not an effect" in e.label and "10.0%" not in e.label
    b["rows"] = [row(730, 0.14, 4, 0)]
    assert "more than 5 parents at risk" in benchmark_effect(SimpleNamespace(benchmark_=b))


def test_example_adjusted_comparison_is_the_runs_own(tmp_path):
    """With [comparison] propensity the effect is the propensity-weighted difference the run
    computed (level 2 where balanced), its bootstrap CI carried into the interval."""
    toml = tmp_path / "evaltool.toml"
    toml.write_text(
        EXAMPLE_TOML.read_text(encoding="utf-8").replace(
            "[survival]",
            '[comparison]\npropensity = ["prior_children_removed", "care_experienced"]\n'
            "bootstrap = 20\n\n[survival]",
        )
        + "\n[value]\nenabled = true\nservice_cost = [150000, 150000]\nparents_per_year = 30\n",
        encoding="utf-8",
    )
    results = api.run(EXAMPLE, api.load_settings(toml), "2025-Q3")
    assert results.compared is not None
    v = results.value
    d = results.compared.difference_.set_index("days").loc[1095]
    assert v.effect.kind == "comparison" and "propensity weighted" in v.effect.words
    assert v.effect.rate == pytest.approx(-d["difference"])
    assert (v.effect.rate_low, v.effect.rate_high) == pytest.approx((-d["ci_high"], -d["ci_low"]))
    assert v.effect.level == results.compared.evidence_["sms_level"]
    assert v.avoided == pytest.approx(-d["difference"] * 30)


def test_enabled_without_a_cost_or_with_a_short_horizon_is_a_settings_error(tmp_path):
    toml = tmp_path / "evaltool.toml"
    toml.write_text("[value]\nenabled = true\nhorizon_years = 10\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="needs the service's cost"):
        api.load_settings(toml)
    toml.write_text("[value]\nservice_cost = [1, 2, 3, 4, 5]\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="shorter than the 5 years"):
        api.load_settings(toml)

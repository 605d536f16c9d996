"""The library has a call for every command, and the CLI prints what that call returns
(issue 26: the CLI fitted models itself for survival, rates, areas and the propensity
comparisons)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaltool import api
from evaltool.errors import ConfigError, EvaltoolError

ROOT = Path(__file__).resolve().parent.parent
BEFORE_AFTER = ROOT / "tests" / "fixtures" / "before_after"
COMPARISON = ROOT / "tests" / "fixtures" / "comparison" / "data"
COVS = "age_at_origin,prior_children_removed,care_experienced"


def test_compare_prints_what_the_api_returns(runner):
    from evaltool.cli import app

    settings = api.load_settings(BEFORE_AFTER / "evaltool.toml")
    found = api.compare(BEFORE_AFTER / "data", settings)
    args = ["compare", str(BEFORE_AFTER / "data"), "--config", str(BEFORE_AFTER / "evaltool.toml")]
    printed = runner.invoke(app, [*args, "--json"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == json.loads(json.dumps(found.json(), default=str))
    assert found.adjusted is None and len(found.before_after) > 0


def test_survival_and_rates_from_the_library_match_the_cli(runner):
    from evaltool.cli import app

    settings = api.load_settings(None)
    extract, note = api.follow_up_to("2025-12-31", settings)
    assert note is None
    found = api.survival(
        COMPARISON, settings, extract, origin="start", propensity=COVS, bootstrap=0
    )
    assert found.compared is not None and found.horizon is not None
    args = ["survival", str(COMPARISON), "--extract-date", "2025-12-31", "--origin", "start"]
    printed = runner.invoke(app, [*args, "--propensity", COVS, "--bootstrap", "0", "--json"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == json.loads(json.dumps(found.json(), default=str))
    fit = api.rates(COMPARISON, settings, extract, covariates=["age_at_origin"])
    assert fit.evidence_["analysis"] in ("primary", "sensitivity")


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda s: api.rates("no-such-file", s, None, weights="atc"), "--weights atc: use"),
        (lambda s: api.survival("no-such-file", s, None, ci="plain"), "--ci plain: use"),
        (lambda s: api.survival_choices(origin="referral"), "--origin referral: use"),
        (lambda s: api.compare(COMPARISON, s, propensity="client_id"), "--propensity"),
    ],
)
def test_a_bad_option_is_refused_by_the_library_in_the_clis_words(call, words):
    """Option values are checked by the api (before the data is read where they need no data),
    so a library user gets the refusal the command prints."""
    with pytest.raises(ConfigError, match=words):
        call(api.load_settings(None))


def test_audit_names_a_missing_return(tmp_path):
    with pytest.raises(EvaltoolError, match="not found; name the returns as sent"):
        api.audit([tmp_path / "q3.xlsx"], 5)


def test_value_defaults_to_the_last_quarter_ended(monkeypatch):
    seen = {}

    def fake_run(data, settings, period, **kwargs):
        seen["period"] = period
        raise EvaltoolError("stop")

    monkeypatch.setattr(api, "run", fake_run)
    with pytest.raises(EvaltoolError):
        api.value("x.xlsx", api.load_settings(None))
    import datetime as dt

    from evaltool.periods import period_of

    settings = api.load_settings(None)
    this = period_of(dt.date.today(), settings.calendar)
    assert seen["period"] == this.previous().code

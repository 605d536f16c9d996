"""Small and new services get a return (or a clear exit 1/2), never an internal error."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from evaltool.api import run
from evaltool.cli import app
from evaltool.config import Settings
from evaltool.data.costs import ValueSettings
from evaltool.errors import ConfigError
from evaltool.periods import parse_period
from evaltool.report.excel import write_return
from evaltool.synthetic import generate, write_csv_folder

QUARTERS = [f"{y}-Q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)]


#: 150 clients over twelve quarters, each final return protected with all the earlier ones:
#: two minutes of one worker (the example, 150 clients, runs in many tests by default)
SLOW = pytest.mark.skipif(
    not os.environ.get("EVALTOOL_SLOW"),
    reason="two minutes of the suite: set EVALTOOL_SLOW=1 to run (passed on 2026-12-06)",
)


@pytest.mark.parametrize(
    "n",
    [
        1,
        2,
        pytest.param(
            10,
            marks=pytest.mark.skipif(
                not os.environ.get("EVALTOOL_SLOW"),
                reason="45 s of the suite (twelve drafts, each protected with those before): "
                "set EVALTOOL_SLOW=1 (passed 2026-12-07); the 5-client series with the record "
                "and the audit runs always in test_audit",
            ),
        ),
        pytest.param(150, marks=SLOW),
    ],
)
def test_every_quarter_of_a_service_of_any_size_gives_a_return(tmp_path, n):
    """From the quarter of the first referral to the last; a quarter before it is a clear
    error (exit 1: no data yet). 5 and 30 clients are swept with the record and the audit in
    test_audit.py."""
    tables = generate(n_clients=n, seed=n)
    data = write_csv_folder(tables, tmp_path / "data")
    first = tables["clients"]["referral_date"].min()
    for period in QUARTERS:
        p = parse_period(period, "financial")
        if p.end < first.date():
            with pytest.raises(ConfigError, match=f"no data in or before {period}"):
                run(data, Settings(), period)
            continue
        out = write_return(run(data, Settings(), period), tmp_path / f"{period}.xlsx")
        assert out.exists()


def test_the_command_line_gives_a_small_service_its_return(tmp_path):
    data = write_csv_folder(generate(n_clients=5, seed=5), tmp_path / "data")
    out = tmp_path / "r.xlsx"
    result = CliRunner().invoke(app, ["score", str(data), "--period", "2023-Q1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists()


@pytest.mark.parametrize(
    "n",
    [
        3,
        8,
        20,
        pytest.param(
            40,
            marks=pytest.mark.skipif(
                not os.environ.get("EVALTOOL_SLOW"),
                reason="75 s of the suite: set EVALTOOL_SLOW=1 to run (3, 8 and 20 run always)",
            ),
        ),
    ],
)
def test_every_option_switched_on_a_small_service_still_gets_its_return(tmp_path, monkeypatch, n):
    """Payment by results and the propensity comparison on, every quarter: a return each
    time (the comparison, where the cohorts are too small or too unlike, is a warning in
    words, never an internal error). Found by hand: a quarter before any start broke the
    payment-by-results outcomes, and a small comparison cohort the propensity model. Each
    return with a record of its own: a series protected with the record is test_pbr's, and
    here it cost a minute of the suite."""
    from dataclasses import replace

    tables = generate(n_clients=n, seed=n)
    data = write_csv_folder(tables, tmp_path / "data")
    settings = replace(
        Settings(),
        pbr=True,
        comparison_propensity=("age_at_origin", "prior_children_removed"),
        comparison_bootstrap=10,
        value=ValueSettings(enabled=True, service_cost=(90000.0, 90000.0)),  # issue 27
    )
    first = tables["clients"]["referral_date"].min()
    warned = []
    for period in ("2023-Q3", "2024-Q1", "2024-Q3", "2025-Q4"):
        if parse_period(period, "financial").end < first.date():
            continue
        monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / f"record-{period}.sqlite"))
        results = run(data, settings, period)
        write_return(results, tmp_path / f"{period}.xlsx")
        warned += [p.message for p in results.problems.problems if "propensity" in p.message]
    if n < 20:  # too few in a cohort: said in words
        assert any("too few parents for a propensity model" in m for m in warned)

"""Small and new services get a return (or a clear exit 1/2), never an internal error."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from evaltool.api import run
from evaltool.cli import app
from evaltool.config import Settings
from evaltool.errors import ConfigError
from evaltool.periods import parse_period
from evaltool.report.excel import write_return
from evaltool.synthetic import generate, write_csv_folder

QUARTERS = [f"{y}-Q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)]


@pytest.mark.parametrize("n", [1, 2, 10, 150])
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

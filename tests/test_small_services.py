"""Small and new services get a return (or a clear exit 1/2), never an internal error."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from evaltool.api import run
from evaltool.cli import app
from evaltool.config import Settings
from evaltool.report.excel import write_return
from evaltool.synthetic import generate, write_csv_folder

QUARTERS = [f"{y}-Q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)]


@pytest.mark.parametrize("n", [1, 2, 10, 150])
def test_every_quarter_of_a_service_of_any_size_gives_a_return(tmp_path, n):
    """From the quarter of the first referral (and before it) to the last; 5 and 30 clients
    are swept with the record and the audit in test_audit.py."""
    data = write_csv_folder(generate(n_clients=n, seed=n), tmp_path / "data")
    for period in QUARTERS:
        out = write_return(run(data, Settings(), period), tmp_path / f"{period}.xlsx")
        assert out.exists()


def test_the_command_line_gives_a_small_service_its_return(tmp_path):
    data = write_csv_folder(generate(n_clients=5, seed=5), tmp_path / "data")
    out = tmp_path / "r.xlsx"
    result = CliRunner().invoke(app, ["score", str(data), "--period", "2023-Q1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists()

"""Small and new services get a return (or a clear exit 1/2), never an internal error."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from evaltool.cli import app
from evaltool.synthetic import generate, write_csv_folder


@pytest.mark.parametrize("n", [1, 5, 30])
def test_every_quarter_of_a_small_service_gives_a_return(tmp_path, n):
    data = write_csv_folder(generate(n_clients=n, seed=n), tmp_path / "data")
    runner = CliRunner()
    for period in ("2023-Q1", "2024-Q3", "2025-Q4"):  # the first quarter, a middle one, the last
        out = tmp_path / f"{period}.xlsx"
        result = runner.invoke(app, ["score", str(data), "--period", period, "--out", str(out)])
        assert result.exit_code == 0, (n, period, result.output)
        assert out.exists()

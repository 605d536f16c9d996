"""Nothing is lost: an output never replaces an input (whatever --force says), an existing
file is replaced only with --force, and two runs writing one file never both succeed."""

from __future__ import annotations

import hashlib
import re
import shutil

import pytest

from evaltool.cli import app
from evaltool.errors import OutputError
from evaltool.report.files import write_file
from evaltool.synthetic import generate, write_csv_folder
from tests.conftest import EXAMPLE, EXAMPLE_CONFIG, score_cli


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_score_never_writes_its_return_over_the_input(tmp_path, runner):
    data = shutil.copy(EXAMPLE, tmp_path / "data.xlsx")
    before = digest(data)
    (tmp_path / "sub").mkdir()
    for out in (data, tmp_path / "sub" / ".." / "data.xlsx"):
        result = score_cli(runner, data, out, "--force")
        assert result.exit_code == 1, result.output
        assert "one of the files this run reads" in result.output
    assert digest(data) == before


def test_validate_never_writes_its_report_over_the_input_or_an_existing_file(tmp_path, runner):
    data = shutil.copy(EXAMPLE, tmp_path / "data.xlsx")
    before = digest(data)
    result = runner.invoke(app, ["validate", str(data), "--report", str(data)])
    assert result.exit_code == 1 and "one of the files this run reads" in result.output
    assert digest(data) == before
    report = tmp_path / "problems.csv"
    report.write_text("keep me")
    result = runner.invoke(app, ["validate", str(data), "--report", str(report)])
    assert result.exit_code == 1 and "--force" in result.output
    assert report.read_text() == "keep me"
    result = runner.invoke(app, ["validate", str(data), "--report", str(report), "--force"])
    assert result.exit_code == 0, result.output
    assert report.read_text().startswith("severity")


def test_scores_never_write_over_an_input_table(tmp_path, runner):
    folder = write_csv_folder(generate(30), tmp_path / "data")
    goals = folder / "goals.csv"
    before = digest(goals)
    args = ["scores", str(folder), "--instrument", "gas", "--out", str(goals), "--force"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "one of the files this run reads" in result.output
    assert digest(goals) == before


def test_the_settings_file_is_an_input_too(tmp_path, runner):
    config = shutil.copy(EXAMPLE_CONFIG, tmp_path / "evaltool.xlsx")
    result = score_cli(runner, EXAMPLE, config, "--force", config=config)
    assert result.exit_code == 1 and "one of the files this run reads" in result.output


def test_a_file_written_meanwhile_by_another_run_is_not_replaced(tmp_path):
    target = tmp_path / "r.xlsx"

    def write(tmp):  # while this run writes, another one puts its return in place
        target.write_text("the other run's return")
        with open(tmp, "w") as fh:
            fh.write("this run's return")

    with pytest.raises(OutputError, match="written by another run"):
        write_file(target, write, force=False, suffix=".tmp")
    assert target.read_text() == "the other run's return"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.xlsx"]


def test_out_naming_a_folder_is_a_clear_error_and_a_missing_folder_is_made(tmp_path, runner):
    (tmp_path / "returns.xlsx").mkdir()
    result = score_cli(runner, EXAMPLE, tmp_path / "returns.xlsx", "--force")
    assert result.exit_code == 1 and "is a folder" in result.output
    out = tmp_path / "returns" / "2025" / "r.xlsx"  # as the README's example writes it
    result = score_cli(runner, EXAMPLE, out)
    assert result.exit_code == 0, result.output
    assert out.exists() and f"Created the folder {out.parent}" in result.output
    (tmp_path / "a-file").write_text("x")
    result = score_cli(runner, EXAMPLE, tmp_path / "a-file" / "r.xlsx")
    assert result.exit_code == 1 and "is a file, not a folder" in result.output


def test_a_benchmark_label_that_looks_like_a_formula_stays_text(tmp_path, runner):
    import openpyxl

    config = tmp_path / "evaltool.toml"
    config.write_text(
        "[survival]\nbenchmark = { proportion = 0.24, days = 2555, "
        'label = "=HYPERLINK(1)", source = "@SUM(1)" }\n'
    )
    out = tmp_path / "r.xlsx"
    result = score_cli(runner, EXAMPLE, out, config=config)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":  # only the Summary's references to a cell
                    assert ws.title == "Summary" and SUMMARY_REFERENCE.fullmatch(c.value)
                elif isinstance(c.value, str) and c.value.startswith(("=", "@")):
                    assert c.data_type == "s" and c.quotePrefix, (ws.title, c.coordinate)


SUMMARY_REFERENCE = re.compile(r"='[A-Za-z -]+'![A-Z]+[0-9]+")


def test_the_problem_list_never_writes_a_formula(tmp_path, runner):
    import csv

    tables = generate(30)
    tables["clients"]["birth_year"] = tables["clients"]["birth_year"].astype(object)
    tables["clients"].loc[0, "birth_year"] = '=HYPERLINK("http://example.invalid")'
    tables["clients"].loc[1, "birth_year"] = "@SUM(1)"
    folder = write_csv_folder(tables, tmp_path / "data")
    report = tmp_path / "problems.csv"
    result = runner.invoke(app, ["validate", str(folder), "--report", str(report)])
    assert result.exit_code == 2
    with open(report, newline="", encoding="utf-8") as fh:
        cells = [v for row in csv.reader(fh) for v in row]
    assert any("HYPERLINK" in v for v in cells)
    assert not any(v.startswith(("=", "+", "-", "@")) for v in cells)


def test_outputs_get_the_permissions_a_shared_drive_expects(tmp_path, runner):
    """As any program creates a file (0666 less the umask), not a temporary file's 0600."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        out = tmp_path / "r.xlsx"
        result = score_cli(runner, EXAMPLE, out)
        assert result.exit_code == 0, result.output
        problems = tmp_path / "problems.csv"
        runner.invoke(app, ["validate", str(EXAMPLE), "--report", str(problems)])
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert stat.S_IMODE(problems.stat().st_mode) == 0o644


def test_an_out_where_no_file_can_be_made_is_a_clear_error(runner):
    """/proc exists but takes no new file (as root too): the folder is named, exit 1."""
    result = score_cli(runner, EXAMPLE, "/proc/evaltool-return.xlsx")
    assert result.exit_code == 1, result.output
    assert "cannot create a file in /proc" in result.output

"""The command line: fast help, init, score, scores and exit codes."""

from __future__ import annotations

import csv
import subprocess
import sys

import openpyxl

from evaltool import __version__
from evaltool.cli import NO_SETTINGS, app
from evaltool.synthetic import generate, write_csv_folder
from tests.conftest import EXAMPLE_CONFIG, set_cells

HEAVY = ("pandas", "numpy", "statsmodels", "lifelines", "matplotlib", "scipy", "openpyxl")


def test_help_imports_no_heavy_library():
    code = (
        "import sys; sys.argv = ['evaltool', '--help']\n"
        "from evaltool.cli import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "Usage" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"evaltool {__version__}"


def test_init_writes_a_template_that_validates_and_has_dropdowns(tmp_path, runner):
    result = runner.invoke(app, ["init", str(tmp_path / "svc")])
    assert result.exit_code == 0, result.output
    toml, xlsx = tmp_path / "svc" / "evaltool.toml", tmp_path / "svc" / "service-data.xlsx"
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames[:3] == ["Guide", "clients", "proceedings"]
    assert [c.value for c in wb["clients"][1]][:3] == ["client_id", "referral_date", "start_date"]
    lists = [dv.formula1 for dv in wb["clients"].data_validations.dataValidation]
    assert '"service,comparison"' in lists and '"yes,no"' in lists
    assert wb["clients"]["A2"].number_format == "@"  # ids stay text
    assert wb["clients"]["B2"].number_format == "dd/mm/yyyy"
    # a filled-in first row passes validation with the starter settings
    set_cells(xlsx, "clients", {(2, "client_id"): "00001", (2, "referral_date"): "01/04/2025"})
    result = runner.invoke(app, ["validate", str(xlsx), "--config", str(toml)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK:")
    again = runner.invoke(app, ["init", str(tmp_path / "svc")])
    assert again.exit_code == 1 and "already exists; use --force" in again.output


def test_score_writes_the_return_and_refuses_to_overwrite(example, tmp_path, runner):
    out = tmp_path / "q4.xlsx"
    args = [
        "score",
        str(example),
        "--config",
        str(EXAMPLE_CONFIG),
        "--period",
        "2025-Q4",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output and "01 Jan 2026 to 31 Mar 2026" in result.output
    names = openpyxl.load_workbook(out).sheetnames
    assert names[:4] == ["Cover", "Contents", "Notes", "Summary"]
    assert names[-6:] == [
        "Before and after",
        "Time to next proceedings",
        "Annex - statistical tests",
        "Data quality",
        "Definitions",
        "Chart data",
    ]
    before = out.read_bytes()
    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert again.output.strip() == (
        f"Error: {out} already exists; use --force to replace it, or choose another --out"
    )
    assert out.read_bytes() == before
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0


def test_score_refuses_a_return_open_in_a_spreadsheet_program(example, tmp_path, runner):
    out = tmp_path / "q4.xlsx"
    (tmp_path / ".~lock.q4.xlsx#").write_text("someone")
    result = runner.invoke(app, ["score", str(example), "--period", "2025-Q4", "--out", str(out)])
    assert result.exit_code == 1
    assert "is open in a spreadsheet program" in result.output


def test_errors_are_one_line_with_the_fix(example, runner, tmp_path):
    result = runner.invoke(
        app, ["score", str(example), "--period", "Q4", "--out", str(tmp_path / "x.xlsx")]
    )
    assert result.exit_code == 1
    assert result.output.strip() == (  # no --config: said first, in one line
        f"{NO_SETTINGS}\nError: period 'Q4' is not a quarter; write it like 2025-Q3 or "
        "2025-26 Q3 (financial: Oct-Dec 2025)"
    )
    missing = runner.invoke(app, ["validate", str(tmp_path / "nope.xlsx")])
    assert missing.exit_code == 1 and "not found" in missing.output
    result = runner.invoke(
        app, ["scores", str(example), "--instrument", "gass", "--out", str(tmp_path / "s.csv")]
    )
    assert result.exit_code == 1
    assert "unknown instrument 'gass'" in result.output and "gas," in result.output


def test_scores_exports_client_table_with_client_id_first(example, tmp_path, runner):
    out = tmp_path / "gas.csv"
    result = runner.invoke(app, ["scores", str(example), "--instrument", "gas", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:4] == ["client_id", "goals", "t_score_baseline", "t_score"]
    assert all(len(r["client_id"]) == 5 for r in rows)  # leading zeros survive


def test_scores_csv_neutralises_formula_text(tmp_path, runner):
    folder = write_csv_folder(generate(30, seed=5), tmp_path / "csv")
    victim = (folder / "goals.csv").read_text().splitlines()[1].split(",")[0]
    for file in folder.glob("*.csv"):
        file.write_text(file.read_text().replace(victim, "=1+1"))
    out = tmp_path / "gas.csv"
    result = runner.invoke(app, ["scores", str(folder), "--instrument", "gas", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "'=1+1," in out.read_text()
    assert "sheet 'star' is not a table" not in result.output


def test_progress_is_shown_in_a_terminal_and_quiet_otherwise(monkeypatch, capsys):
    from evaltool.cli import progress_display

    with progress_display() as step:
        step("reading data")
    assert capsys.readouterr().err == ""  # not a terminal: nothing
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with progress_display() as step:
        step("reading data")
        step("validating")
    err = capsys.readouterr().err
    assert "reading data" in err and "validating" in err


def test_score_in_a_pipe_prints_only_the_result(example, tmp_path, runner):
    out = tmp_path / "r.xlsx"
    result = runner.invoke(app, ["score", str(example), "--period", "2025-Q4", "--out", str(out)])
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1 and result.stdout.startswith("Wrote ")


def test_validate_prints_each_problem_once(example, runner):
    set_cells(example, "clients", {(5, "referral_date"): "31/02/2025"})
    result = runner.invoke(app, ["validate", str(example)])
    assert result.exit_code == 2
    assert result.output.count("31/02/2025") == 1
    assert result.output.strip().endswith(
        "Error: the data has 1 problem(s); fix them and run validate again"
    )


def test_an_internal_error_is_one_line_exit_3_and_writes_nothing(
    example, tmp_path, runner, monkeypatch
):
    import evaltool.core

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(evaltool.core, "activity_tables", broken)
    out = tmp_path / "r.xlsx"
    result = runner.invoke(app, ["score", str(example), "--period", "2025-Q4", "--out", str(out)])
    assert result.exit_code == 3
    assert result.output.startswith(
        f"{NO_SETTINGS}\nError: unexpected internal error (RuntimeError: boom)"
    )
    assert "Traceback" not in result.output
    assert not out.exists()


def test_init_includes_the_instruments_of_installed_plugins(tmp_path, runner):
    """The example plugin is installed (make install): its table is in the template and its
    instrument in the starter list, like a built-in's."""
    import tomllib

    import openpyxl

    result = runner.invoke(app, ["init", str(tmp_path / "svc")])
    assert result.exit_code == 0, result.output
    settings = tomllib.loads((tmp_path / "svc" / "evaltool.toml").read_text())
    assert "parenting-confidence" in settings["instruments"]["enabled"]
    assert "confidence" in openpyxl.load_workbook(tmp_path / "svc" / "service-data.xlsx").sheetnames

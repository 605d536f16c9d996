"""Reporting periods and the settings file."""

import datetime as dt

import pytest

from evaltool.config import load_settings
from evaltool.errors import ConfigError
from evaltool.periods import parse_period, quarters_between


@pytest.mark.parametrize(
    "code, calendar, start, end",
    [
        ("2025-Q1", "financial", dt.date(2025, 4, 1), dt.date(2025, 6, 30)),
        ("2025-Q3", "financial", dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
        ("2025-Q4", "financial", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("2025-Q1", "calendar", dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
        ("2024-Q4", "calendar", dt.date(2024, 10, 1), dt.date(2024, 12, 31)),
    ],
)
def test_quarters(code, calendar, start, end):
    period = parse_period(code, calendar)
    assert (period.start, period.end) == (start, end)


def test_financial_label_names_the_year_span():
    assert parse_period("2025-Q4", "financial").label == "2025-26 Q4"


def test_bad_period_says_how_to_write_it():
    with pytest.raises(ConfigError, match="write it like 2025-Q3"):
        parse_period("Q3 2025", "financial")


@pytest.mark.parametrize("text", ["2025-26 Q3", "2025/26 Q3", "Q3 2025-26", "q3 2025/2026"])
def test_the_returns_own_label_is_a_period_too(text):
    """As the return labels the quarter (financial year 2025-26, Oct-Dec 2025)."""
    period = parse_period(text, "financial")
    assert (period.code, period.start) == ("2025-Q3", dt.date(2025, 10, 1))
    assert period.label == "2025-26 Q3"


def test_a_label_for_a_span_that_is_no_financial_year_is_refused():
    with pytest.raises(ConfigError, match="2025-26 Q3"):
        parse_period("2025-27 Q3", "financial")
    with pytest.raises(ConfigError):  # a calendar year has no "2025-26"
        parse_period("2025-26 Q3", "calendar")


def test_the_period_is_echoed_in_its_canonical_form(tmp_path, runner):
    from tests.conftest import EXAMPLE, score_cli

    result = score_cli(runner, EXAMPLE, tmp_path / "r.xlsx", period="2025-26 Q4")
    assert result.exit_code == 0, result.output
    assert "— 2025-Q4, 2025-26 Q4 (financial year)" in result.output


def test_quarters_between_runs_in_order():
    last = parse_period("2025-Q2", "financial")
    codes = [p.code for p in quarters_between(dt.date(2024, 5, 1), last)]
    assert codes == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2"]


def test_settings_file_values_and_overrides(tmp_path):
    cfg = tmp_path / "evaltool.toml"
    cfg.write_text(
        '[service]\nname = "S"\n[reporting]\ncalendar = "calendar"\n'
        "small_number_threshold = 3\nextract_date = 2026-01-31\n"
        '[columns.clients]\n"Client Ref" = "client_id"\n'
    )
    s = load_settings(cfg)
    assert (s.service, s.calendar, s.small_number_threshold) == ("S", "calendar", 3)
    assert s.extract_date == dt.date(2026, 1, 31)
    assert s.columns == {"clients": {"client ref": "client_id"}}
    assert s.with_overrides(extract_date=dt.date(2026, 2, 1)).extract_date == dt.date(2026, 2, 1)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[reporting]\ncalender = 'financial'\n", "unknown setting 'calender' in \\[reporting\\]"),
        ("[report]\n", "unknown section \\[report\\]"),
        ("[reporting]\ncalendar = 'fiscal'\n", "use one of: financial, calendar"),
        ("[reporting]\nsmall_number_threshold = -1\n", "whole number of at least 1"),
        (
            "[survival]\nbenchmark = { proportion = 24, days = 365, label = 'x', source = 'y' }\n",
            "share from 0 to 1",
        ),
        ("[reporting\n", "line 1: the section name '\\[reporting' needs its closing \\]"),
    ],
)
def test_config_mistakes_name_the_key(tmp_path, text, message):
    cfg = tmp_path / "evaltool.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(cfg)


def test_the_data_contract_document_is_the_code():
    """docs/data-contract.md is what the specs say (the return cites it by name and version)."""
    from evaltool.data.contract import CONTRACT_DOC
    from evaltool.template import contract_markdown
    from tests.conftest import ROOT

    written = (ROOT / CONTRACT_DOC).read_text(encoding="utf-8")
    assert written == contract_markdown(), (
        f"{CONTRACT_DOC} is out of date: python -m evaltool.template > {CONTRACT_DOC}"
    )


def test_every_source_the_return_cites_is_in_the_project(tmp_path):
    """The Definitions sheet cites documents; any file it names must exist in the project."""
    import re

    import openpyxl

    from evaltool.api import run
    from evaltool.config import load_settings
    from evaltool.report.excel import write_return
    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG, ROOT

    out = write_return(run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4"), tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(out)
    text = " ".join(
        str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None
    )
    cited = set(re.findall(r"[\w./-]+\.md\b", text))
    assert cited, "the return cites the data contract"
    for path in cited:
        assert (ROOT / path).is_file(), path


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8-sig"),
        lambda t: t.encode("utf-16"),
        lambda t: t.encode("cp1252"),
    ],
    ids=["utf-8 with BOM", "utf-16", "ansi"],
)
def test_settings_saved_by_a_windows_editor_are_read(tmp_path, encode):
    config = tmp_path / "evaltool.toml"
    config.write_bytes(encode('[service]\nname = "Café Service – North"\n'))
    assert load_settings(config).service == "Café Service – North"


def test_config_naming_a_folder_is_a_clear_error(tmp_path, runner):
    from evaltool.cli import app
    from tests.conftest import EXAMPLE

    result = runner.invoke(app, ["validate", str(EXAMPLE), "--config", str(tmp_path)])
    assert result.exit_code == 1 and "is a folder" in result.output


def test_a_header_with_spaces_left_unquoted_gets_the_quoting_hint(tmp_path):
    cfg = tmp_path / "evaltool.toml"
    cfg.write_text('[columns.clients]\nClient Ref = "client_id"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert 'A header with spaces or signs needs quotes: "Client Ref" = "client_id"' in str(
        err.value
    )


# Issue 25: settings are checked like data. Each of these was a wrong return with no error.
MANAGERS_MISTAKES = """\
[service]
name = "Leeds"

[instruments]
enabled = ["gas", "gbo"]

[columns.clients]
"Client Ref" = "client_id"
"Date Engaged" = "start date"

[codes.closure_reasons]
"moved on" = "moved_away"

[due.instruments]
gass = 60

[reporting]
calender = "financial"
small_number_threshold = -1
"""


def test_every_misnamed_setting_is_an_error_with_its_line_and_the_nearest_name(tmp_path):
    cfg = tmp_path / "evaltool.toml"
    from evaltool.api import load_settings as checked

    cfg.write_text(MANAGERS_MISTAKES)
    with pytest.raises(ConfigError) as caught:
        checked(cfg)  # the names too, against the contract and the installed instruments
    lines = str(caught.value).splitlines()
    assert lines[0] == "evaltool.toml has 5 problem(s); nothing was done:"
    expected = [  # in the order of the file, each with the nearest valid name
        "evaltool.toml, line 9: [columns.clients] maps 'date engaged' to 'start date', which "
        "is not a column of clients (did you mean 'start_date'?); its columns: client_id,",
        "evaltool.toml, line 11: [codes.closure_reasons]: there is no coded column "
        "'closure_reasons' (did you mean 'closure_reason'?); coded columns:",
        "evaltool.toml, line 15: [due.instruments] names 'gass', which is no instrument (did "
        "you mean 'gas'?); instruments:",
        "evaltool.toml, line 18: unknown setting 'calender' in [reporting] (did you mean "
        "'calendar'?); allowed: audience, calendar,",
        "evaltool.toml, line 19: reporting.small_number_threshold must be a whole number of "
        "at least 1",
    ]
    assert len(lines) == 6
    for line, start in zip(lines[1:], expected, strict=True):
        assert line.strip().startswith(start), line


def test_a_mistyped_mapping_target_writes_no_return(tmp_path, runner):
    """'Date Engaged' = 'start date': the return said 0 starts and no error (issue 25)."""
    from evaltool.cli import app
    from tests.conftest import EXAMPLE

    cfg = tmp_path / "evaltool.toml"
    cfg.write_text('[columns.clients]\n"Date Engaged" = "start date"\n')
    out = tmp_path / "r.xlsx"
    args = ["--period", "2025-Q4", "--out", str(out), "--config", str(cfg)]
    result = runner.invoke(app, ["score", str(EXAMPLE), *args])
    assert result.exit_code == 1
    assert "line 2: [columns.clients] maps 'date engaged' to 'start date'" in result.output
    assert "(did you mean 'start_date'?)" in result.output
    assert not out.exists()


def test_a_mistyped_covariate_is_an_error_with_the_nearest_name(tmp_path):
    from evaltool.api import load
    from tests.conftest import EXAMPLE

    cfg = tmp_path / "evaltool.toml"
    cfg.write_text('[survival]\ncovariates = ["cohort", "agee_at_origin"]\n')
    [error] = load(EXAMPLE, load_settings(cfg)).problems.errors
    assert error.message.startswith(
        "evaltool.toml, line 2: [survival] covariates names 'agee_at_origin', which is no "
        "column of clients (did you mean 'age_at_origin'?)"
    )


def test_curly_quotes_and_non_breaking_spaces_are_read_as_meant_and_said_once(tmp_path):
    cfg = tmp_path / "evaltool.toml"
    cfg.write_text(
        "[service]\nname = \u201cMother\u2019s Service\u201d\n"
        "[columns.clients]\n\u201cClient\u00a0Ref\u201d = \u2018client_id\u2019\n",
        encoding="utf-8",
    )
    s = load_settings(cfg)
    assert s.service == "Mother\u2019s Service"  # an apostrophe stays as written
    assert s.columns == {"clients": {"client ref": "client_id"}}
    [note] = s.notes
    assert "plain quotes and spaces" in note and "line(s) 2, 4" in note


@pytest.mark.parametrize(
    "line",
    [
        '"Date Engaged = "start_date"',
        '"Date Engaged" = "start_date',
        'Date Engaged" = "start_date"',
    ],
)
def test_a_missing_quote_is_said_in_words_with_its_line(tmp_path, line):
    cfg = tmp_path / "evaltool.toml"
    cfg.write_text(f"[service]\nname = 'S'\n[columns.clients]\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(cfg)
    message = str(caught.value)
    assert message.startswith(f"evaltool.toml, line 4: a quote mark is missing in {line!r}")
    assert "Expected" not in message and "Illegal" not in message  # no parser language


def sheets_renamed(tmp_path, names: dict[str, str]):
    import openpyxl

    from tests.conftest import EXAMPLE

    wb = openpyxl.load_workbook(EXAMPLE)
    for old, new in names.items():
        wb[old].title = new
    path = tmp_path / "export.xlsx"
    wb.save(path)
    return path


def test_sheet_names_map_like_headers(tmp_path):
    """The manager renames tabs every quarter: [tables] "Client List" = "clients"."""
    from evaltool.api import load
    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

    data = sheets_renamed(tmp_path, {"clients": "Client List", "goals": "Goal Reviews"})
    cfg = tmp_path / "evaltool.toml"
    cfg.write_text(
        EXAMPLE_CONFIG.read_text()
        + '\n[tables]\n"Client List" = "clients"\n"goal reviews" = "goals"\n'
    )
    mapped = load(data, load_settings(cfg))
    same = load(EXAMPLE, load_settings(EXAMPLE_CONFIG))
    assert mapped.problems.ok and not mapped.problems.warnings
    for name in ("clients", "goals"):
        assert mapped.dataset.tables[name].equals(same.dataset.tables[name])
    assert mapped.dataset.raw["clients"].sheet == "Client List"  # messages name the tab
    unmapped = load(data, load_settings(EXAMPLE_CONFIG))
    assert not unmapped.problems.ok


def test_file_names_map_like_headers_and_a_missing_one_is_an_error(tmp_path):
    import shutil

    from evaltool.api import load
    from tests.corpus import csv_folder

    folder = csv_folder(tmp_path)
    shutil.move(folder / "clients.csv", folder / "Client List.csv")
    cfg = tmp_path / "evaltool.toml"
    cfg.write_text('[tables]\n"client list" = "clients"\n')
    assert load(folder, load_settings(cfg)).problems.ok
    cfg.write_text('[tables]\n"client lists" = "clients"\n')
    errors = load(folder, load_settings(cfg)).problems.errors
    assert any(
        "map a file 'client lists' to the table 'clients' ([tables]), but" in e.message
        and "(did you mean 'Client List.csv'?)" in e.message
        for e in errors
    ), errors


def test_a_table_an_installed_instrument_reads_but_not_enabled_is_mentioned(tmp_path):
    from evaltool.api import load
    from evaltool.data.problems import NOTE
    from tests.conftest import EXAMPLE

    cfg = tmp_path / "evaltool.toml"
    cfg.write_text('[instruments]\nenabled = ["gas"]\n')
    notes = [p for p in load(EXAMPLE, load_settings(cfg)).problems.problems if p.severity == NOTE]
    said = {p.sheet for p in notes}
    assert {"gbo", "star", "feedback"} <= said and "goals" not in said
    assert all("not in [instruments] enabled" in p.message for p in notes)

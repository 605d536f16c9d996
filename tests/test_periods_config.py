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
        ("[reporting\n", "not valid TOML"),
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

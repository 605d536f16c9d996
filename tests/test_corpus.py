"""Every kind of bad input in tests/corpus.py: a clear exit code and message, nothing written,
no input changed."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from evaltool.cli import app
from tests.conftest import EXAMPLE_CONFIG
from tests.corpus import MAKERS

#: kind -> (command, exit code, what the message says: each part must appear)
EXPECTED = {
    "csv_semicolons": ("validate", 2, ["proceedings.csv", "semicolon-separated", "comma"]),
    "csv_tabs": ("validate", 2, ["proceedings.csv", "tab-separated"]),
    "csv_a_row_with_extra_values": (
        "validate",
        2,
        ["row 5 has 7 values but the header has 5", "proceedings.csv", "quotes"],
    ),
    "csv_utf16": ("validate", 0, ["clients.csv", "UTF-16"]),
    "csv_unbalanced_quote": ("validate", 2, ["partner_access.csv", "quote", "row 6"]),
    "two_files_for_one_table": ("validate", 2, ["CLIENTS.CSV", "clients.csv", "one table"]),
    # issue 26: poor messages, each once per cause, naming the cell and what to do
    "child_ids_separated_by_commas": (
        "validate",
        2,
        [
            "'00603-1,00603-2'",
            "'00603-2 / 00603-3'",
            "separated by ','",
            "by '/'",
            "';'",
            "row 2",
            "row 3",
            "2 error(s)",
        ],
    ),
    "child_ids_separated_by_words": (
        "validate",
        2,
        ["'00603-1 and 00603-3'", "'00911-1|00911-2'", "by 'and'", "by '|'", "2 error(s)"],
    ),
    "links_of_unknown_clients": (
        "validate",
        2,
        ["client_id not found", "ZZZ99", "ZZZ98", "2 error(s)"],
    ),
    "a_child_of_an_unknown_client": (
        "validate",
        2,
        ["sheet children", "sheet proceedings", "ZZZ99", "ZZZ98", "2 error(s)"],
    ),
    "a_password_protected_workbook": (
        "validate",
        1,
        ["service.xlsx", "password-protected", "without a password"],
    ),
    "a_password_protected_macro_workbook": (
        "validate",
        1,
        ["service.xlsm", "password-protected", "without a password"],
    ),
    "an_old_xls_workbook_named_xlsx": ("validate", 1, ["service.xlsx", "Excel 97-2003", "(.xlsx)"]),
    "a_merged_title_row": (
        "validate",
        2,
        [
            "sheet proceedings",
            "header is on row 2",
            "row 1 above it holds a title",
            "'Care proceedings export'",
            "1 error(s)",
        ],
    ),
    "a_merged_title_beside_a_run_date": (
        "validate",
        2,
        [
            "sheet goals",
            "header is on row 2",
            "'Goals export'",
            "'Run on 01/04/2026'",
            "1 error(s)",
        ],
    ),
    "csv_ragged_rows_in_two_files": (
        "validate",
        2,
        [
            "proceedings.csv",
            "row 5 has 6 values but the header has 5",
            "goals.csv",
            "row 10 has 6 values",
            "2 error(s)",
        ],
    ),
    "two_files_for_one_table_that_differ": (
        "validate",
        2,
        ["Clients.CSV", "clients.csv", "one table", "1 error(s)"],
    ),
    "two_sheets_for_one_table_that_differ": (
        "validate",
        2,
        ["'clients'", "'Clients '", "one table", "1 error(s)"],
    ),
    "a_nul_character_in_an_id": (
        "validate",
        2,
        ["goals.csv", "row 4", "column A", "NUL", "1 error(s)"],
    ),
    "a_nul_character_far_into_a_file": (
        "validate",
        2,
        ["goals.csv", "row 401", "column A", "NUL", "1 error(s)"],
    ),
    "nul_characters_in_two_files": (
        "validate",
        2,
        ["goals.csv", "row 7", "star.csv", "row 3", "NUL", "2 error(s)"],
    ),
    "ids_written_none_and_nan": ("validate", 2, ["'None'", "'NaN'", "rows 2-3"]),
    "ids_written_none_in_a_csv": ("validate", 2, ["'None'", "star.csv", "row 2"]),
    "a_cell_of_32767_characters": ("validate", 2, ["(32,767 characters)", "row 2"]),
    "a_wide_export": ("validate", 0, ["is valid"]),
    "a_repeated_header": ("validate", 2, ["two columns have the same header", "column F"]),
    "long_cells_in_a_csv": ("validate", 2, ["(20,000 characters)", "characters)"]),
    "two_sheets_for_one_table": ("validate", 2, ["'Clients '", "'clients'", "one table"]),
    "a_year_typed_as_a_date": ("validate", 2, ["2025", "a year"]),
    "a_date_in_1900": ("validate", 2, ["01/01/1900", "before 1990"]),
    "a_referral_in_the_future": ("validate", 2, ["14/02/2031", "after"]),
    "an_extract_date_inside_the_quarter": ("score", 1, ["01/02/2026", "before the end"]),
    "an_extract_date_in_the_future": ("score", 1, ["01/01/2031", "future"]),
    "a_period_that_has_not_ended": ("score", 1, ["2030", "not ended"]),
    "a_period_before_any_data": ("score", 1, ["2012", "no data"]),
    "a_zero_byte_workbook": ("validate", 1, ["empty (0 bytes)"]),
    "a_sheet_that_expands_without_bound": ("validate", 1, ["unpacks to", "MB"]),
    "title_rows_above_the_header": ("validate", 2, ["header is on row 4", "rows 1 to 3"]),
    "data_under_a_blank_header": ("validate", 2, ["no header", "column"]),
    "an_invisible_character_in_an_id": ("validate", 2, ["\\u200b"]),
    "a_mapping_whose_header_is_not_in_the_file": (
        "validate",
        2,
        [
            "[columns.proceedings] maps 'issued' to issued_date, but 'issued' is not a header of "
            "proceedings; its headers are 'client_id', 'Date issued'"
        ],
    ),
    "ids_that_lost_their_leading_zeros": (
        "validate",
        2,
        ["once its leading zeros are restored (as 5 digits)", "this file lost them", "goals.csv"],
    ),
    "a_threshold_of_zero": ("validate", 1, ["small_number_threshold = 0", "control off"]),
    "a_mapping_that_matches_nothing": (  # settings checked before the data (issue 25)
        "validate",
        1,
        [
            "line 30: [columns.clients] maps 'referred' to 'referal_date', which is not a column "
            "of clients (did you mean 'referral_date'?)",
            "line 31: [columns.visits]: there is no table 'visits'",
        ],
    ),
}


#: what must not appear: the wrong hint, a value shown as blank, a follow-on error
ABSENT = {
    "child_ids_separated_by_commas": ["not in the children table"],
    "child_ids_separated_by_words": ["not in the children table"],
    "links_of_unknown_clients": ["no set of proceedings", "not in the children table"],
    "a_merged_title_row": ["rows 1 to 1", "''", "not linked"],
    "two_files_for_one_table_that_differ": ["not found"],
    "two_sheets_for_one_table_that_differ": ["not found"],
    "a_nul_character_in_an_id": ["UTF-16"],
    "nul_characters_in_two_files": ["UTF-16"],
    "a_nul_character_far_into_a_file": ["not found"],
    "ids_written_none_and_nan": ["(blank)"],
    "ids_written_none_in_a_csv": ["(blank)"],
    "a_password_protected_workbook": ["zip"],
    "a_password_protected_macro_workbook": ["zip"],
}


def fingerprint(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix != ".sqlite"
    }


def test_every_kind_has_an_expectation():
    assert set(EXPECTED) == set(MAKERS)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_bad_input(kind, tmp_path, runner):
    command, code, parts = EXPECTED[kind]
    work = tmp_path / "work"
    work.mkdir()
    data, extra = MAKERS[kind](work)
    before = fingerprint(work)
    out = tmp_path / "return.xlsx"
    args = [command, str(data), "--config", str(EXAMPLE_CONFIG)]
    if command == "score":
        args += ["--out", str(out)]
        if "--period" not in extra:
            args += ["--period", "2025-Q4"]
    started = time.perf_counter()
    result = runner.invoke(app, args + extra)
    assert time.perf_counter() - started < 30, "took too long"  # no hang, no unbounded growth
    text = result.output
    assert result.exit_code == code, text
    flat = " ".join(text.split())  # the list is wrapped to the terminal's width
    for part in parts:
        assert " ".join(part.split()) in flat, f"{part!r} not in:\n{text}"
    assert "Traceback" not in text and "internal error" not in text
    for part in ABSENT.get(kind, []):
        assert part not in text, f"{part!r} in:\n{text}"
    assert len(text) < 20_000, "a value shown in full"  # every value capped
    assert not out.exists()
    assert fingerprint(work) == before  # no input changed


def test_a_workbook_in_the_1904_date_system_reads_the_same_dates(tmp_path):
    """Old Mac Excel counts serials from 1904: date cells and plain serial numbers alike."""
    import datetime as dt

    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    from evaltool.api import load
    from tests.conftest import EXAMPLE

    wb = openpyxl.load_workbook(EXAMPLE)
    wb.epoch = CALENDAR_MAC_1904  # date cells are saved as 1904 serials
    ws = wb["clients"]
    col = next(c.column_letter for c in ws[1] if c.value == "referral_date")
    ws[f"{col}2"] = (dt.date(2024, 3, 15) - dt.date(1904, 1, 1)).days  # a plain number
    ws[f"{col}2"].number_format = "General"
    path = tmp_path / "mac.xlsx"
    wb.save(path)
    ours = load(path).dataset.clients
    original = load(EXAMPLE).dataset.clients
    assert ours.loc[0, "referral_date"] == dt.datetime(2024, 3, 15)
    for name in ("start_date", "end_date"):
        assert ours[name].equals(original[name])
    assert ours["referral_date"].iloc[1:].equals(original["referral_date"].iloc[1:])


def test_a_quoted_comment_over_several_lines_is_no_runaway_quote(tmp_path, runner):
    """A cell may hold line breaks (a comment typed over two lines): only lines that look like
    whole rows show a quote that ran away."""
    import csv

    from tests.corpus import csv_folder

    folder = csv_folder(tmp_path)
    path = folder / "partner_access.csv"
    rows = list(csv.reader(path.open(newline="")))
    rows[3][-1] = "waiting for the GP,\nthen the clinic"  # one comma, not a whole row's worth
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output


def test_a_missing_mapped_header_gets_no_misleading_guess(tmp_path, runner):
    """Following 'is Concluded meant?' would have put conclusion dates in the issue column."""
    data, extra = MAKERS["a_mapping_whose_header_is_not_in_the_file"](tmp_path)
    result = runner.invoke(app, ["validate", str(data), *extra])
    assert result.exit_code == 2
    assert "meant?" not in result.output and "required column" not in result.output


def test_a_sheet_evaltool_does_not_use_may_have_title_rows(tmp_path, runner):
    """A service's own 'Notes' sheet with a title above a small table blocks nothing."""
    import openpyxl

    from tests.corpus import workbook_copy

    path = workbook_copy(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("Notes")
    ws["A1"] = "Notes for the commissioner"
    ws.append([])
    ws.append(["Date", "Note"])
    ws.append(["01/04/2026", "Export taken after the audit"])
    wb.save(path)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output


def test_a_csv_evaltool_does_not_use_may_be_in_any_dialect(tmp_path, runner):
    from tests.corpus import csv_folder

    folder = csv_folder(tmp_path)
    (folder / "notes.csv").write_text("date;note\n01/04/2026;export taken after the audit\n")
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("force", [[], ["--force"]])
@pytest.mark.parametrize("command", ["score", "due", "scores", "validate"])
def test_an_output_that_names_an_input_is_refused_once_plainly(command, force, tmp_path, runner):
    """With or without --force the answer is the same, before any work: the output would
    overwrite an input, choose another name (it said 'use --force', then refused --force)."""
    import shutil

    from tests.conftest import EXAMPLE

    data = Path(shutil.copy(EXAMPLE, tmp_path / "data.xlsx"))
    before = fingerprint(tmp_path)
    out = {"score": ["--out"], "due": ["--out"], "validate": ["--report"]}
    args = [command, str(data), "--config", str(EXAMPLE_CONFIG), *force]
    if command == "scores":
        args += ["--instrument", "gas", "--out", str(data)]
    else:
        args += [*out[command], str(data)]
    if command == "score":
        args += ["--period", "2025-Q4"]
    result = runner.invoke(app, args)
    text = " ".join(result.output.split())
    assert result.exit_code == 1, text
    assert "would overwrite data.xlsx" in text and "choose another name" in text, text
    assert "use --force" not in text and text.count("data.xlsx, one of") == 1, text
    assert fingerprint(tmp_path) == before

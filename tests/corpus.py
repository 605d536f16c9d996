"""Bad and awkward inputs of the kinds case-management exports and hand-kept spreadsheets
produce, each made from the example data (seeded synthetic) in a folder of its own.

Each maker returns ``(data, extra_args)``: the path to give ``evaltool`` and any options the
case needs. Large files are made at test time from a size parameter.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl

from evaltool.synthetic import generate, write_csv_folder
from tests.conftest import EXAMPLE

Maker = Callable[[Path], tuple[Path, list[str]]]
MAKERS: dict[str, Maker] = {}


def maker(func: Maker) -> Maker:
    MAKERS[func.__name__] = func
    return func


def csv_folder(tmp: Path) -> Path:
    return write_csv_folder(generate(60, seed=5, extract="2026-03-31"), tmp / "csv")


def workbook_copy(tmp: Path) -> Path:
    return Path(shutil.copy(EXAMPLE, tmp / "service.xlsx"))


def edit(path: Path, sheet: str, cells: dict[str, object]) -> Path:
    wb = openpyxl.load_workbook(path)
    for ref, value in cells.items():
        wb[sheet][ref] = value
    wb.save(path)
    return path


def first_data_cell(path: Path, sheet: str, header: str) -> str:
    """The cell reference of the first value under ``header``."""
    ws = openpyxl.load_workbook(path)[sheet]
    col = next(c.column_letter for c in ws[1] if c.value == header)
    return f"{col}2"


# --- CSV dialects and encodings -----------------------------------------------------------


@maker
def csv_semicolons(tmp: Path):
    folder = csv_folder(tmp)
    p = folder / "proceedings.csv"
    p.write_text(p.read_text().replace(",", ";"))
    return folder, []


@maker
def csv_tabs(tmp: Path):
    folder = csv_folder(tmp)
    p = folder / "proceedings.csv"
    p.write_text(p.read_text().replace(",", "\t"))
    return folder, []


@maker
def csv_utf16(tmp: Path):
    folder = csv_folder(tmp)
    p = folder / "clients.csv"
    p.write_bytes(p.read_text().encode("utf-16"))
    return folder, []


@maker
def csv_unbalanced_quote(tmp: Path):
    """One cell opens a quote and never closes it: the next rows would become one cell."""
    folder = csv_folder(tmp)
    p = folder / "partner_access.csv"
    lines = p.read_text().splitlines()
    for line, text in ((5, '"waiting for GP'), (12, 'GP said yes"')):  # a quote opened on
        row = lines[line].split(",")  # row 6 closes only on row 13
        row[-1] = text
        lines[line] = ",".join(row)
    p.write_text("\n".join(lines) + "\n")
    return folder, []


@maker
def two_files_for_one_table(tmp: Path):
    folder = csv_folder(tmp)
    shutil.copy(folder / "clients.csv", folder / "CLIENTS.CSV")
    return folder, []


@maker
def two_sheets_for_one_table(tmp: Path):
    path = workbook_copy(tmp)
    wb = openpyxl.load_workbook(path)
    copy = wb.copy_worksheet(wb["clients"])
    copy.title = "Clients "
    wb.save(path)
    return path, []


# --- dates --------------------------------------------------------------------------------


@maker
def a_year_typed_as_a_date(tmp: Path):
    path = workbook_copy(tmp)
    return edit(path, "clients", {first_data_cell(path, "clients", "referral_date"): 2025}), []


@maker
def a_date_in_1900(tmp: Path):
    path = workbook_copy(tmp)
    cell = first_data_cell(path, "clients", "referral_date")
    return edit(path, "clients", {cell: "01/01/1900"}), []


@maker
def a_referral_in_the_future(tmp: Path):
    path = workbook_copy(tmp)
    cell = first_data_cell(path, "clients", "referral_date")
    return edit(path, "clients", {cell: "14/02/2031"}), []


@maker
def an_extract_date_inside_the_quarter(tmp: Path):
    return workbook_copy(tmp), ["--extract-date", "2026-02-01"]


@maker
def an_extract_date_in_the_future(tmp: Path):
    return workbook_copy(tmp), ["--extract-date", "2031-01-01"]


@maker
def a_period_that_has_not_ended(tmp: Path):
    return workbook_copy(tmp), ["--period", "2030-Q1"]


@maker
def a_period_before_any_data(tmp: Path):
    return workbook_copy(tmp), ["--period", "2012-Q1"]


# --- workbooks ----------------------------------------------------------------------------


@maker
def a_zero_byte_workbook(tmp: Path):
    path = tmp / "service.xlsx"
    path.write_bytes(b"")
    return path, []


@maker
def a_sheet_that_expands_without_bound(tmp: Path, megabytes: int = 40):
    """A small file whose sheet unpacks to far more than the file's size (a zip bomb)."""
    path = workbook_copy(tmp)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    sheet = next(n for n in members if n.startswith("xl/worksheets/sheet"))
    xml = members[sheet]
    rows = b"<row>" + b'<c t="inlineStr"><is><t>x</t></is></c>' * 200 + b"</row>"
    members[sheet] = xml.replace(
        b"</sheetData>", rows * (megabytes * 1024 * 1024 // len(rows)) + b"</sheetData>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path, []


@maker
def title_rows_above_the_header(tmp: Path):
    path = workbook_copy(tmp)
    wb = openpyxl.load_workbook(path)
    ws = wb["proceedings"]
    ws.insert_rows(1, 3)
    ws["A1"] = "Care proceedings export"
    ws["A2"] = "Run on 01/04/2026 by the case-management system"
    wb.save(path)
    return path, []


@maker
def data_under_a_blank_header(tmp: Path):
    path = workbook_copy(tmp)
    wb = openpyxl.load_workbook(path)
    ws = wb["proceedings"]
    col = ws.max_column + 1
    for r in range(2, 6):
        ws.cell(row=r, column=col, value="note")
    wb.save(path)
    return path, []


@maker
def an_invisible_character_in_an_id(tmp: Path):
    path = workbook_copy(tmp)
    ws = openpyxl.load_workbook(path)["proceedings"]
    cell = first_data_cell(path, "proceedings", "client_id")
    value = ws[cell].value
    return edit(path, "proceedings", {cell: f"{value}\u200b"}), []


# --- settings -----------------------------------------------------------------------------


def settings_with(tmp: Path, extra: str) -> Path:
    config = tmp / "evaltool.toml"
    text = (EXAMPLE.parent.parent / "evaltool.toml").read_text()
    config.write_text(text + "\n" + extra + "\n")
    return config


@maker
def a_threshold_of_zero(tmp: Path):
    text = (EXAMPLE.parent.parent / "evaltool.toml").read_text()
    config = tmp / "evaltool.toml"
    config.write_text(text.replace("small_number_threshold = 5", "small_number_threshold = 0"))
    assert config.read_text() != text
    return workbook_copy(tmp), ["--config", str(config)]


@maker
def a_mapping_that_matches_nothing(tmp: Path):
    config = settings_with(
        tmp,
        '[columns.clients]\n"Client Ref" = "client_id"\n"Referred" = "referal_date"\n'
        '[columns.visits]\n"Visit" = "visit_date"',
    )
    return workbook_copy(tmp), ["--config", str(config)]


@maker
def csv_a_row_with_extra_values(tmp: Path):
    folder = csv_folder(tmp)
    p = folder / "proceedings.csv"
    lines = p.read_text().splitlines()
    lines[4] += ",extra,more"  # an unquoted comma in a value, say
    p.write_text("\n".join(lines) + "\n")
    return folder, []


@maker
def a_mapping_whose_header_is_not_in_the_file(tmp: Path):
    """The export says 'Date issued'; the settings map 'Issued' (issue 15's example)."""
    path = workbook_copy(tmp)
    ws_ref = first_data_cell(path, "proceedings", "issued_date").replace("2", "1")
    edit(path, "proceedings", {ws_ref: "Date issued"})
    config = settings_with(tmp, '[columns.proceedings]\n"Issued" = "issued_date"')
    return path, ["--config", str(config)]


@maker
def ids_that_lost_their_leading_zeros(tmp: Path):
    folder = csv_folder(tmp)
    p = folder / "goals.csv"
    lines = p.read_text().splitlines()
    lines[1:] = [line.lstrip("0") for line in lines[1:]]  # client_id is the first column
    p.write_text("\n".join(lines) + "\n")
    return folder, []


# --- issue 26: poor messages --------------------------------------------------------------


def _set_cells(path: Path, sheet: str, column: str, values: dict[int, object]) -> Path:
    """Put values in the rows (spreadsheet numbers) of the column headed ``column``."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    col = next(c.column_letter for c in ws[1] if c.value == column)
    for row, value in values.items():
        ws[f"{col}{row}"] = value
    wb.save(path)
    return path


@maker
def child_ids_separated_by_commas(tmp: Path):
    """Children of one client's sets, run together with ',' and '/' instead of ';'."""
    path = workbook_copy(tmp)  # rows 2-4 are client 00603's sets; 00603-1 to -3 are known
    return _set_cells(
        path, "proceedings", "child_ids", {2: "00603-1,00603-2", 3: "00603-2 / 00603-3"}
    ), []


@maker
def child_ids_separated_by_words(tmp: Path):
    path = workbook_copy(tmp)  # rows 5-6 are client 00911's sets
    return _set_cells(
        path, "proceedings", "child_ids", {4: "00603-1 and 00603-3", 5: "00911-1|00911-2"}
    ), []


@maker
def links_of_unknown_clients(tmp: Path):
    """A proceedings_children table whose rows name clients not in clients: one problem a
    row (the client), not also 'no such set' and 'no such child'."""
    path = workbook_copy(tmp)
    wb = openpyxl.load_workbook(path)
    ws = wb["proceedings"]
    pc = wb.create_sheet("proceedings_children")
    pc.append(["client_id", "issued_date", "child_id"])
    for row in ws.iter_rows(min_row=2, values_only=True):
        if row[4]:
            pc.append([row[0], row[1], row[4]])
    ws.delete_cols(5)
    pc["A2"], pc["A3"] = "ZZZ99", "ZZZ98"
    wb.save(path)
    return path, []


@maker
def a_child_of_an_unknown_client(tmp: Path):
    """A children row and a proceedings row each with a client not in clients: two causes,
    two problems (the set naming that child is not also reported)."""
    path = workbook_copy(tmp)
    _set_cells(path, "children", "client_id", {2: "ZZZ99"})
    return _set_cells(path, "proceedings", "client_id", {10: "ZZZ98"}), []


#: the example saved with a password (tests/fixtures/encrypted/README.md says how)
ENCRYPTED = (
    EXAMPLE.parent.parent.parent / "tests" / "fixtures" / "encrypted" / "password-secret.xlsx"
)


@maker
def a_password_protected_workbook(tmp: Path):
    return Path(shutil.copy(ENCRYPTED, tmp / "service.xlsx")), []


@maker
def a_password_protected_macro_workbook(tmp: Path):
    return Path(shutil.copy(ENCRYPTED, tmp / "service.xlsm")), []


@maker
def an_old_xls_workbook_named_xlsx(tmp: Path):
    """An Excel 97-2003 file is an OLE2 file too, with no encrypted package in it."""
    path = tmp / "service.xlsx"
    path.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 504
        + b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k\x00"
        + b"\x00" * 2048
    )
    return path, []


@maker
def a_merged_title_row(tmp: Path):
    path = workbook_copy(tmp)
    wb = openpyxl.load_workbook(path)
    ws = wb["proceedings"]
    ws.insert_rows(1)
    ws["A1"] = "Care proceedings export"
    ws.merge_cells("A1:E1")
    wb.save(path)
    return path, []


@maker
def a_merged_title_beside_a_run_date(tmp: Path):
    path = workbook_copy(tmp)
    wb = openpyxl.load_workbook(path)
    ws = wb["goals"]
    ws.insert_rows(1)
    ws["A1"], ws["D1"] = "Goals export", "Run on 01/04/2026"
    ws.merge_cells("A1:C1")
    ws.merge_cells("D1:E1")
    wb.save(path)
    return path, []


@maker
def csv_ragged_rows_in_two_files(tmp: Path):
    folder = csv_folder(tmp)
    for name, line in (("proceedings.csv", 4), ("goals.csv", 9)):
        p = folder / name
        lines = p.read_text().splitlines()
        lines[line] += ",extra"
        p.write_text("\n".join(lines) + "\n")
    return folder, []


@maker
def two_files_for_one_table_that_differ(tmp: Path):
    """An old export beside the new one: the tables that link to it would each fail."""
    folder = csv_folder(tmp)
    lines = (folder / "clients.csv").read_text().splitlines()
    (folder / "Clients.CSV").write_text("\n".join(lines[:5]) + "\n")
    return folder, []


@maker
def two_sheets_for_one_table_that_differ(tmp: Path):
    path = workbook_copy(tmp)
    wb = openpyxl.load_workbook(path)
    wb.copy_worksheet(wb["clients"]).title = "Clients "  # the new export, after the old
    wb["clients"].delete_rows(5, wb["clients"].max_row)
    wb.save(path)
    return path, []


def _csv_line(folder: Path, name: str, line: int, change: Callable[[str], str]) -> None:
    p = folder / name
    lines = p.read_text().splitlines()
    lines[line] = change(lines[line])
    p.write_text("\n".join(lines) + "\n")


@maker
def a_nul_character_in_an_id(tmp: Path):
    folder = csv_folder(tmp)
    _csv_line(folder, "goals.csv", 3, lambda s: s[:2] + "\x00" + s[2:])  # row 4, column A
    return folder, []


@maker
def nul_characters_in_two_files(tmp: Path):
    folder = csv_folder(tmp)
    _csv_line(folder, "goals.csv", 6, lambda s: s[:2] + "\x00" + s[2:])  # row 7
    _csv_line(folder, "star.csv", 2, lambda s: s.replace(",", ",\x00", 1))  # row 3, column B
    return folder, []


@maker
def ids_written_none_and_nan(tmp: Path):
    path = workbook_copy(tmp)
    return _set_cells(path, "goals", "client_id", {2: "None", 3: "NaN"}), []


@maker
def ids_written_none_in_a_csv(tmp: Path):
    folder = csv_folder(tmp)
    _csv_line(folder, "star.csv", 1, lambda s: "None" + s[5:])
    return folder, []


@maker
def a_cell_of_32767_characters(tmp: Path):
    path = workbook_copy(tmp)
    return _set_cells(path, "goals", "client_id", {2: "x" * 32767}), []


@maker
def long_cells_in_a_csv(tmp: Path):
    folder = csv_folder(tmp)
    _csv_line(folder, "goals.csv", 1, lambda s: "7" * 20000 + s[5:])
    _csv_line(folder, "proceedings.csv", 1, lambda s: s + ";".join(["z" * 30] * 300))
    return folder, []


@maker
def a_wide_export(tmp: Path):
    """A case-management export with 150 columns evaltool does not use beside the contract's."""
    path = workbook_copy(tmp)
    wb = openpyxl.load_workbook(path)
    ws = wb["clients"]
    start = ws.max_column + 1
    for i in range(150):
        ws.cell(row=1, column=start + i, value=f"extra field {i}")
        for r in range(2, ws.max_row + 1, 7):
            ws.cell(row=r, column=start + i, value=i)
    wb.save(path)
    return path, []


@maker
def a_repeated_header(tmp: Path):
    """Two columns headed alike (the first is read) and no blank row: the selection of the
    other columns once set a SettingWithCopyWarning off on the user's screen."""
    path = workbook_copy(tmp)
    wb = openpyxl.load_workbook(path)
    ws = wb["goals"]
    col = ws.max_column + 1
    ws.cell(row=1, column=col, value="level")
    for r in range(2, ws.max_row + 1):
        ws.cell(row=r, column=col, value="x")
    wb.save(path)
    return path, []


@maker
def a_nul_character_far_into_a_file(tmp: Path):
    """Past the first 4 KB, where only the start of the file was looked at."""
    folder = csv_folder(tmp)
    _csv_line(folder, "goals.csv", 400, lambda s: s[:3] + "\x00" + s[3:])  # row 401, column A
    return folder, []

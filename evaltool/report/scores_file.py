"""``evaltool scores``: one instrument's client-level scores as CSV or as an Excel workbook.

A CSV has no types: Excel, opening one by a double click, reads the id 00102 as the number 102
and keeps 13 decimals of a T-score. A CSV cannot say "text" safely (``="00102"`` is a formula,
which every CSV evaltool writes refuses; a leading apostrophe is kept as a character by Excel
and by every other reader). So: every figure is rounded as it is printed (``DECIMALS``) in
both, the CSV keeps the ids exactly as in the records (R, Python and Excel's Data > From
Text/CSV with the column set to Text read them right), and ``--out scores.xlsx`` writes a
workbook whose ids are text cells: the file to open in Excel.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from evaltool.errors import OutputError

#: decimals a score is printed with (a T-score 40.3, a mean rating 5.9, days 17.0)
DECIMALS = 1
SUFFIXES = (".csv", ".xlsx")


def rounded(table: pd.DataFrame) -> pd.DataFrame:
    """The scores as printed: every decimal figure to ``DECIMALS`` places."""
    out = table.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(DECIMALS)
    return out


def write_scores(table: pd.DataFrame, path: Path, force: bool = False) -> Path:
    """Write the scores, rounded, as ``.csv`` or ``.xlsx`` (by the name), atomically."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise OutputError(
            f"{path.name}: the scores are written as .csv or .xlsx (.xlsx keeps ids such as "
            "00102 as text in Excel); got "
            f"{path.suffix or 'no extension'}"
        )
    table = rounded(table)
    if path.suffix.lower() == ".csv":
        write_csv_atomically(table, path, force)
        return path
    from evaltool.report.files import write_file

    write_file(path, lambda tmp: table_workbook(table, "Scores").save(tmp), force, ".xlsx.tmp")
    return path


def table_workbook(table: pd.DataFrame, title: str):
    """A table on one sheet, for Excel (the scores; ``validate --report problems.xlsx``): text
    as text (an id 00102 stays 00102; never a formula), numbers with their decimals, dates as
    dates, the header row frozen and printed on every page."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    from evaltool.report.safe import cell_value
    from evaltool.report.workbook import BOLD, HEADER_FILL, house_font, print_layout

    wb = Workbook()
    house_font(wb)
    ws = wb.active
    ws.title = title
    for j, col in enumerate(table.columns, start=1):
        cell = ws.cell(row=1, column=j, value=str(col))
        cell.font, cell.fill = BOLD, HEADER_FILL
        floats = pd.api.types.is_float_dtype(table[col])
        dates = pd.api.types.is_datetime64_any_dtype(table[col])
        for i, value in enumerate(table[col].tolist(), start=2):
            value = cell_value(value)
            c = ws.cell(row=i, column=j, value=value)
            if isinstance(value, str):
                c.data_type = "s"  # an id such as 00102, or any text: never a number or formula
            elif floats:
                c.number_format = "0." + "0" * DECIMALS
            elif dates or isinstance(value, dt.date):
                c.number_format = "dd/mm/yyyy"
        ws.column_dimensions[get_column_letter(j)].width = max(10, min(len(str(col)) + 2, 30))
    ws.freeze_panes = "A2"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.print_title_rows = "1:1"
    print_layout(ws)
    return wb


def write_csv_atomically(frame, path: Path, force: bool = True) -> None:
    """Write a DataFrame to CSV via a temporary file in the same folder (files.write_file)."""
    from evaltool.report.files import write_file
    from evaltool.report.safe import FORMULA_STARTS

    path = Path(path)
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object or str(frame[col].dtype) == "string":
            text = frame[col].astype("string")
            risky = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
            frame[col] = text.mask(risky, "'" + text)  # OWASP: neutralise formula triggers
    write_file(
        path, lambda tmp: frame.to_csv(tmp, index=False, date_format="%Y-%m-%d"), force, ".csv.tmp"
    )

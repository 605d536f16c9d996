"""``evaltool init``: a starter evaltool.toml and a blank template workbook.

The template's sheets and headers come from the same table specifications the validator uses,
so the two never disagree. Coded columns get dropdown lists; date columns a dd/mm/yyyy format;
id columns a text format so leading zeros stay.
"""

from __future__ import annotations

import math
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from evaltool.data.columns import CATEGORY, DATE, ID, INTEGER, YESNO
from evaltool.data.contract import CONTRACT_VERSION, CORE_TABLES
from evaltool.data.specs import TableSpec
from evaltool.errors import OutputError
from evaltool.instruments.registry import build_registry
from evaltool.report.files import write_file
from evaltool.report.workbook import (
    BOLD,
    HEADER_COLOUR,
    MIN_SCALE,
    PAGE_CHARS,
    column_chars,
    house_font,
    print_layout,
)

TEMPLATE_ROWS = 1000
GUIDE_SHEET = "Guide"

STARTER_TOML = """\
# evaltool settings. Every key is optional; see README.md.
[service]
name = "My service"
funder = "My funder"

[reporting]
calendar = "financial"        # "financial" (April-March, Q1 = April-June) or "calendar"
small_number_threshold = 5    # counts from 1 to this are shown as c in the return
# protection_values = 6       # a reader can narrow a hidden count to no fewer values than
#                             # this (default: threshold + 1; 2 = never worked out exactly)
# extract_date = 2026-03-31   # default: the last day of the reporting period

[instruments]
enabled = {enabled}
# paths = ["my-instruments"]  # folders of your own instrument definition files

# Map your case-management export's headers onto the template's names, e.g.:
# [columns.clients]
# "Client Ref" = "client_id"
# "Date Referred" = "referral_date"

[compare]
min_n = 5          # no statistical test below this many paired readings
min_days = 28      # first and latest readings must be at least this far apart

[survival]
# measured from: "index-issue" (the index proceedings' issue date, as the research and the
# national figures do), "index-conclusion" (their final order) or "start" (service start)
origin = "index-issue"
# each parent is counted from the day she joined: "start" (service start; comparison cohort:
# referral) or "referral" (intention to treat: everyone from referral, never-started kept)
entry = "start"
ci = "log"         # confidence interval transform: "log" (R's default) or "log-log"
times = [182, 365, 730, 1095]
# a published figure (set beside yours only if measured like for like): the name of
# one evaltool ships (`evaltool benchmarks` lists them) or the path of a benchmark file
benchmark = "mothers-england-2007-14"
rule_37_weeks = true   # a new baby within 37 weeks of the index is not a new-child return
"""


def template_specs() -> list[TableSpec]:
    registry = build_registry()  # installed plugins too: their tables belong in the template
    specs = list(CORE_TABLES)
    seen = {s.name for s in specs}
    for inst in sorted(registry.instruments.values(), key=lambda i: i.name):
        spec = inst.table()
        if spec.name not in seen:
            seen.add(spec.name)
            specs.append(spec)
    return specs


def print_setup(ws, wide: bool) -> None:
    """Landscape A4 with the header row on every page. A table's sheet is one row of headers
    (17 columns for clients), fitted to as few pages wide as print it at 70% or more; the Guide is
    laid out as the return is (``workbook.print_layout``: 100%, each long meaning wrapped)."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.print_title_rows = "1:1"
    if wide:  # as few pages wide as keep it at 70% or more (clients' 17 columns: two)
        chars = sum(column_chars(ws, c) for c in range(1, ws.max_column + 1))
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = max(1, math.ceil(chars * MIN_SCALE / 100 / PAGE_CHARS))
        ws.page_setup.fitToHeight = 0
    else:
        print_layout(ws)


def write_template(path: Path) -> Path:
    wb = Workbook()
    house_font(wb)
    guide = wb.active
    guide.title = GUIDE_SHEET
    guide.append(["Table (sheet)", "Column", "Type", "Required", "Allowed values / meaning"])
    for cell in guide[1]:
        cell.font = BOLD
    for spec in template_specs():
        ws = wb.create_sheet(spec.name)
        for j, col in enumerate(spec.columns, start=1):
            letter = get_column_letter(j)
            cell = ws.cell(row=1, column=j, value=col.name)
            cell.font = BOLD
            cell.fill = PatternFill("solid", fgColor="FCE4D6" if col.required else HEADER_COLOUR)
            cell.comment = Comment(
                f"{col.expected()}{' (required)' if col.required else ''}"
                + (f": {col.description}" if col.description else ""),
                "evaltool",
            )
            ws.column_dimensions[letter].width = max(14, len(col.name) + 2)
            rng = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
            choices = col.choices
            if col.type == YESNO:
                choices = ("yes", "no")
            if col.type in (CATEGORY, YESNO) and choices:
                dv = DataValidation(
                    type="list",
                    formula1='"' + ",".join(choices) + '"',
                    allow_blank=True,
                    showErrorMessage=bool(col.choices) or col.type == YESNO,
                )
                dv.error = f"Use one of: {', '.join(choices)}"
                dv.add(rng)
                ws.add_data_validation(dv)
            if col.type == DATE:
                for (c,) in ws.iter_rows(
                    min_row=2, max_row=TEMPLATE_ROWS + 1, min_col=j, max_col=j
                ):
                    c.number_format = "dd/mm/yyyy"
            elif col.type == ID:
                for (c,) in ws.iter_rows(
                    min_row=2, max_row=TEMPLATE_ROWS + 1, min_col=j, max_col=j
                ):
                    c.number_format = "@"
            elif col.type == INTEGER and col.min is not None and col.max is not None:
                dv = DataValidation(
                    type="whole",
                    operator="between",
                    formula1=str(int(col.min)),
                    formula2=str(int(col.max)),
                    allow_blank=True,
                )
                dv.error = col.expected()
                dv.add(rng)
                ws.add_data_validation(dv)
            guide.append(
                [
                    spec.name,
                    col.name,
                    col.type,
                    "yes" if col.required else "",
                    col.expected() + (f" — {col.description}" if col.description else ""),
                ]
            )
        ws.freeze_panes = "A2"
        print_setup(ws, wide=True)
    for letter, width in zip("ABCDE", (20, 24, 9, 9, 70), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=2):
        for cell in row:  # the meaning wraps; its row's other cells stay level with it
            cell.alignment = Alignment(wrap_text=cell.column == 5, vertical="top")
    print_setup(guide, wide=False)
    write_file(path, wb.save, True, ".xlsx.tmp")
    return path


def write_starter(folder: Path, force: bool = False) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    toml_path, xlsx_path = folder / "evaltool.toml", folder / "service-data.xlsx"
    for path in (toml_path, xlsx_path):
        if path.exists() and not force:
            raise OutputError(f"{path} already exists; use --force to replace it")
    registry = build_registry()  # installed plugins too: their tables belong in the template
    enabled = "[" + ", ".join(f'"{n}"' for n in sorted(registry.instruments)) + "]"
    toml_path.write_text(STARTER_TOML.format(enabled=enabled), encoding="utf-8")
    write_template(xlsx_path)
    return [toml_path, xlsx_path]


def write_from_export(folder: Path, export: Path, force: bool = False):
    """``evaltool init DIR --from EXPORT``: DIR/evaltool.toml with the tables, columns and codes
    matched in a real export (``data/guess.py``), each with why, and what was not matched.
    Enables only the instruments whose tables the export holds. Returns the path and the
    guess."""
    import datetime as dt

    from evaltool.data.guess import guess, settings_text

    folder = Path(folder)
    path = folder / "evaltool.toml"
    if path.exists() and not force:
        raise OutputError(f"{path} already exists; use --force to replace it")
    found = guess(Path(export), template_specs())
    tables = {s.table for s in found.sheets}
    registry = build_registry()
    enabled = sorted(n for n, i in registry.instruments.items() if i.table().name in tables)
    text = settings_text(found, enabled, dt.date.today().strftime("%d/%m/%Y"))
    folder.mkdir(parents=True, exist_ok=True)
    write_file(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), True, ".toml.tmp")
    return path, found


def contract_markdown() -> str:
    """The data contract as a document: every table of the core and of the instruments that
    ship with evaltool, every column with its type, whether it is required, and its codes."""
    specs = list(CORE_TABLES)
    seen = {s.name for s in specs}
    for instrument in build_registry((), autoload=False).instruments.values():
        spec = instrument.table()
        if spec.name not in seen:
            seen.add(spec.name)
            specs.append(spec)
    lines = [
        f"# The evaltool data contract, version {CONTRACT_VERSION}",
        "",
        "Written from the table specifications in the code (`python -m evaltool.template`);",
        "a test fails if this file and the code disagree. One `.xlsx` workbook with one sheet",
        "per table, or one folder with one `.csv` per table. Headers are matched ignoring case",
        "and surrounding spaces; a service maps its own headers in `[columns.<table>]` and its",
        "own labels for coded values in `[codes.<column>]`. Dates: spreadsheet dates,",
        "`2026-04-01`, `01/04/2026` or `01.04.2026` (day first), from 1990 up to the extract date.",
        "yes/no: yes/no, y/n, true/false, 1/0. A return takes the data as at its period end: a",
        "row dated after it (by the date its table names) is left out, any other date after it",
        "is blank, and so is a value recorded with such a date.",
        "",
    ]
    for spec in specs:
        lines += [f"## {spec.name}" + (" (required)" if spec.required else ""), ""]
        if spec.description:
            lines += [spec.description, ""]
        lines += ["| column | type | required | values |", "|---|---|---|---|"]
        for col in spec.columns:
            values = col.expected() if col.choices or col.min is not None else ""
            if col.description and not col.choices:
                values = f"{values}; {col.description}" if values else col.description
            if col.dated_by:
                values += f"; recorded with {col.dated_by}"
            lines.append(
                f"| {col.name} | {col.type} | {'yes' if col.required else 'no'} | {values} |"
            )
        if spec.unique:
            lines += ["", f"One row per {', '.join(spec.unique)}."]
        if spec.time_column:
            lines += ["", f"Each row is dated by {spec.time_column}."]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(contract_markdown(), end="")

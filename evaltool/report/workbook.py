"""The workbook toolkit every sheet is written with: styles, a writer that keeps the row and the
column widths, protected tables laid out with their symbols and number formats, native charts."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from openpyxl.chart import LineChart, RadarChart, Reference, Series
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from evaltool.instruments.results import SummaryTable
from evaltool.report.disclosure import NOT_APPLICABLE, NOT_AVAILABLE, SUPPRESSED, Suppressed
from evaltool.report.formats import formats_for, printed_value
from evaltool.report.safe import cell_value

TITLE = Font(bold=True, size=14)
HEADING = Font(bold=True, size=11)
#: the fill of a table's header row (``evaltool audit`` finds the tables of a return by it)
HEADER_COLOUR = "DDEBF7"
HEADER_FILL = PatternFill("solid", fgColor=HEADER_COLOUR)
NOTE = Font(italic=True, size=9, color="555555")
INTERNAL_BANNER = "INTERNAL – NOT FOR CIRCULATION"


class SheetWriter:
    """Writes titled blocks down a worksheet and remembers column widths."""

    def __init__(self, ws: Worksheet, title: str, internal: bool = False) -> None:
        self.ws = ws
        self.row = 1
        self.widths: dict[int, int] = {}
        if internal:
            self.put(self.row, 1, INTERNAL_BANNER, track=False).font = Font(
                bold=True, color="C00000", size=12
            )
            ws.oddHeader.center.text = INTERNAL_BANNER  # on every printed page too
            ws.sheet_properties.tabColor = "C00000"
            self.row += 1
        self.put(self.row, 1, title).font = TITLE
        self.row += 2
        ws.page_setup.paperSize = ws.PAPERSIZE_A4  # not the US Letter openpyxl leaves
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.gridLines = False

    def put(self, row: int, col: int, value: Any, fmt: str | None = None, track: bool = True):
        """Write one cell; input text always as text. ``track``: let it widen its column."""
        value = cell_value(value)
        cell = self.ws.cell(row=row, column=col)
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # never a formula, whatever the text starts with
            cell.quotePrefix = True
        if fmt:
            cell.number_format = fmt
        if track:
            width = len(str(value)) if value is not None else 0
            if isinstance(value, float):
                width = 8
            self.widths[col] = max(self.widths.get(col, 0), min(width, 60))
        return cell

    def heading(self, text: str) -> None:
        self.put(self.row, 1, text).font = HEADING
        self.row += 1

    def note(self, text: str) -> None:
        """A line of explanation; it overflows to the right rather than widening column A."""
        if text:
            self.put(self.row, 1, text, track=False).font = NOTE
            self.row += 1

    def pairs(self, rows: Iterable[tuple[str, Any]]) -> None:
        """Label and value lines; values overflow to the right and widen nothing."""
        for key, value in rows:
            self.put(self.row, 1, key).font = Font(bold=True)
            cell = self.put(self.row, 2, value, track=False)
            cell.alignment = Alignment(horizontal="left")
            self.row += 1
        self.row += 1

    def frame(self, frame: pd.DataFrame, formats: dict[str, str] | None = None) -> tuple[int, int]:
        """Write a header row and the data; return (header row, last row)."""
        formats = formats or {}
        header = self.row
        for j, col in enumerate(frame.columns, start=1):
            cell = self.put(header, j, str(col), track=False)
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            longest_word = max((len(w) for w in str(col).split()), default=0)
            self.widths[j] = max(min(len(str(col)), 16), longest_word, self.widths.get(j, 0))
        lines = max(
            (
                math.ceil(len(str(col)) / max(self.widths.get(j, 10), 8))
                for j, col in enumerate(frame.columns, start=1)
            ),
            default=1,
        )
        self.ws.row_dimensions[header].height = 13 * max(lines, 1) + 4
        for i, row in enumerate(frame.itertuples(index=False), start=header + 1):
            for j, (col, value) in enumerate(zip(frame.columns, row, strict=True), start=1):
                cell = self.put(i, j, printed_value(value, formats.get(col)), formats.get(col))
                if isinstance(value, str) and value in (SUPPRESSED, NOT_APPLICABLE, NOT_AVAILABLE):
                    cell.alignment = Alignment(horizontal="right")
        self.row = header + len(frame) + 1
        return header, self.row - 1

    def column_width(self, col: int) -> float:
        """The width ``finish`` gives a column, in characters (Excel's default if untouched)."""
        return max(10, self.widths[col] + 2) if col in self.widths else 8.43

    def finish(self, freeze: str | None = "A3") -> None:
        for col in self.widths:
            self.ws.column_dimensions[get_column_letter(col)].width = self.column_width(col)
        if freeze:
            self.ws.freeze_panes = freeze


def page_furniture(ws: Worksheet, service: str, period: str, marking: str) -> None:
    """Header and footer on every printed page: the marking, the service and period, and
    page x of y."""
    if not ws.oddHeader.center.text:  # an internal sheet's banner stays
        ws.oddHeader.right.text = marking
    ws.oddFooter.left.text = f"{service}: {period}".replace("&", "&&")
    ws.oddFooter.right.text = "Page &P of &N"


@dataclass
class Written:
    """Where a summary table landed on its sheet, and what was shown."""

    header: int
    last: int
    shown: pd.DataFrame  # values with symbols in place


def write_summary_table(sw: SheetWriter, table: SummaryTable, shown: Suppressed) -> Written:
    """A protected table with its title and note (``shown``: from :func:`protect`)."""
    sw.heading(table.title)
    header, last = sw.frame(shown.values, formats_for(table))
    sw.note(table.note)
    sw.row += 1
    return Written(header, last, shown.values)


def chart_data(ws: Worksheet, written: Written, columns: list[str], first_col: int) -> list[int]:
    """Copy columns for a chart beside the table, with symbols (c, z, :) left blank.

    A chart reading the shown table would draw a suppressed ``c`` as 0; blank cells are gaps.
    """
    out = []
    for k, name in enumerate(columns):
        col = first_col + k
        cell = ws.cell(row=written.header, column=col, value=name)
        cell.font = NOTE
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(col)].width = 12
        for i, value in enumerate(written.shown[name], start=written.header + 1):
            data = ws.cell(
                row=i,
                column=col,
                value=None if isinstance(value, str) else printed_value(cell_value(value), "0.00"),
            )
            data.font = NOTE
            data.number_format = "0.00"
        out.append(col)
    label = ws.cell(
        row=written.header - 1, column=first_col, value="Chart data (suppressed cells left blank)"
    )
    label.font = NOTE
    return out


def _chart_refs(
    chart, ws: Worksheet, written: Written, columns: list[str], first_col: int, titles: list[str]
) -> None:
    for col, title in zip(chart_data(ws, written, columns, first_col), titles, strict=True):
        ref = Reference(ws, min_col=col, min_row=written.header + 1, max_row=written.last)
        series = Series(ref, title=title)
        series.smooth = False
        chart.series.append(series)
    chart.set_categories(Reference(ws, min_col=1, min_row=written.header + 1, max_row=written.last))
    chart.display_blanks = "gap"


#: a default row is 15 points = 0.53 cm high: the rows a chart of ``height`` cm covers
ROW_CM = 15 / 72 * 2.54


def rows_for(height_cm: float) -> int:
    """Rows to leave below a chart anchored at a row so that the next table clears it."""
    return int(height_cm / ROW_CM) + 2


def radar_chart(ws: Worksheet, written: Written, anchor: str) -> int:
    """A radar chart of a table's first and latest means; returns the rows it covers."""
    chart = RadarChart()
    chart.type = "marker"
    chart.title = "First and latest readings (mean per domain)"
    chart.style = 26
    first_col = written.shown.shape[1] + 2
    _chart_refs(
        chart,
        ws,
        written,
        ["Mean first", "Mean latest"],
        first_col,
        ["First reading", "Latest reading"],
    )
    chart.height, chart.width = 13, 20
    ws.add_chart(chart, anchor)
    return rows_for(chart.height)


def trend_chart(ws: Worksheet, written: Written, anchor: str) -> int:
    """A line chart of activity by quarter; returns the rows it covers."""
    chart = LineChart()
    chart.title = "Activity by quarter"
    chart.y_axis.title = "People"
    chart.y_axis.number_format = "0"  # counts of people: whole numbers, not 60.00
    chart.height, chart.width = 8, 20
    names = ["Referrals", "Starts", "Active caseload at quarter end"]
    _chart_refs(chart, ws, written, names, written.shown.shape[1] + 2, names)
    ws.add_chart(chart, anchor)
    return rows_for(chart.height)


def sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique sheet name (31 characters, no []:*?/\\)."""
    base = "".join(ch for ch in name if ch not in "[]:*?/\\")[:31].strip() or "Sheet"
    title, n = base, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.lower())
    return title

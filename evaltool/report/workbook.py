"""The workbook toolkit every sheet is written with: styles, a writer that keeps the row and the
column widths, protected tables laid out with their symbols and number formats, native charts."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from copy import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl.chart import LineChart, RadarChart, Reference, Series
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from evaltool.report.disclosure import NOT_APPLICABLE, NOT_AVAILABLE, SUPPRESSED
from evaltool.report.formats import printed_value, shown_symbol
from evaltool.report.safe import cell_value

if TYPE_CHECKING:
    from evaltool.report.publish import Table

#: every cell's font: Arial 10 has Calibri 11's column metrics in Excel, and LibreOffice has its
#: metric twin (Liberation Sans), so a page breaks in the same place in both; a font with no
#: name is drawn in whatever a reader's machine substitutes (a wide serif in LibreOffice)
FONT = "Arial"
TITLE = Font(name=FONT, bold=True, size=14)
HEADING = Font(name=FONT, bold=True, size=11)
BOLD = Font(name=FONT, bold=True, size=10)
#: the fill of a table's header row (``evaltool audit`` finds the tables of a return by it)
HEADER_COLOUR = "DDEBF7"
HEADER_FILL = PatternFill("solid", fgColor=HEADER_COLOUR)
NOTE = Font(name=FONT, italic=True, size=9, color="555555")
#: the longest line of a note, in characters: about the width of a landscape A4 page at 9 pt
NOTE_WIDTH = 150
INTERNAL_BANNER = "INTERNAL – NOT FOR CIRCULATION"
#: what a landscape A4 page holds at 100%, in Excel's column-width characters: 297 mm less
#: two 1.3 cm margins is about 1,030 px, and a column of width w takes 7 w + 5 px
PAGE_CHARS = 135
#: the smallest print scale a sheet is given: below it a page is hard to read
MIN_SCALE = 70
#: a label's value (``pairs``) wraps at about this many characters, across merged columns
PAIR_CHARS = 100
#: a label (``pairs``) wider than this wraps in column A
LABEL_CHARS = 36
#: the longest text a table cell shows on one line; a longer one wraps in its column
CELL_CHARS = 60


def house_font(wb) -> None:
    """Make Arial 10 the workbook's default font (``FONT``: why), for every cell without one."""
    from openpyxl.utils.indexed_list import IndexedList

    wb._fonts = IndexedList([Font(name=FONT, size=10, family=2)])
    wb._named_styles["Normal"].font = Font(name=FONT, size=10, family=2)


class SheetWriter:
    """Writes titled blocks down a worksheet and remembers column widths."""

    def __init__(
        self, ws: Worksheet, title: str, internal: bool = False, profile: str = "gss"
    ) -> None:
        self.ws = ws
        self.row = 1
        self.widths: dict[int, int] = {}
        self.profile = profile  # the symbols printed (formats.SYMBOL_PROFILES)
        self.placed: dict[str, Written] = {}  # table name -> where it was written
        if internal:
            self.put(self.row, 1, INTERNAL_BANNER, track=False).font = Font(
                name=FONT, bold=True, color="C00000", size=12
            )
            ws.oddHeader.center.text = INTERNAL_BANNER  # on every printed page too
            ws.sheet_properties.tabColor = "C00000"
            self.row += 1
        self.put(self.row, 1, title, track=False).font = TITLE  # overflows, widens nothing
        self.row += 2
        ws.page_setup.paperSize = ws.PAPERSIZE_A4  # not the US Letter openpyxl leaves
        ws.page_setup.orientation = "landscape"
        ws.page_margins.left = ws.page_margins.right = 0.5  # inches
        ws.print_options.gridLines = False
        #: label-value rows whose value is laid out at the end (see ``print_layout``)
        ws.evaltool_pairs = []  # type: ignore[attr-defined]

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
            self.widths[col] = max(self.widths.get(col, 0), min(width, CELL_CHARS))
            if isinstance(value, str) and len(value) > CELL_CHARS:  # wraps in its column
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        return cell

    def heading(self, text: str) -> None:
        self.put(self.row, 1, text, track=False).font = HEADING  # overflows, widens nothing
        self.row += 1

    def note(self, text: str) -> None:
        """Explanation under a table: lines of at most ``NOTE_WIDTH`` characters, each
        overflowing to the right rather than widening column A (a longer line would widen the
        printed area and shrink the whole page to fit it)."""
        for line in textwrap.wrap(text, NOTE_WIDTH, break_long_words=False):
            self.put(self.row, 1, line, track=False).font = NOTE
            self.row += 1

    def pairs(self, rows: Iterable[tuple[str, Any]]) -> None:
        """Label and value lines; a value widens nothing: a long one wraps across the
        columns to its right (merged when the page is laid out, see ``print_layout``)."""
        for key, value in rows:
            label = self.put(self.row, 1, key, track=False)
            self.widths[1] = max(self.widths.get(1, 0), min(len(str(key)), LABEL_CHARS))
            label.font = BOLD
            label.alignment = Alignment(wrap_text=True, vertical="top")
            cell = self.put(self.row, 2, value, track=False)
            cell.alignment = Alignment(horizontal="left", vertical="top")
            self.ws.evaltool_pairs.append(self.row)  # type: ignore[attr-defined]
            self.row += 1
        self.row += 1

    def frame(self, frame: pd.DataFrame, formats: dict[str, str] | None = None) -> tuple[int, int]:
        """Write a header row and the data; return (header row, last row)."""
        formats = formats or {}
        header = self.row
        for j, col in enumerate(frame.columns, start=1):
            cell = self.put(header, j, str(col), track=False)
            cell.font = BOLD
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
        numeric = {j for j, col in enumerate(frame.columns, start=1) if col in formats}
        for i, row in enumerate(frame.itertuples(index=False), start=header + 1):
            for j, (col, value) in enumerate(zip(frame.columns, row, strict=True), start=1):
                shown = shown_symbol(printed_value(value, formats.get(col)), self.profile)
                cell = self.put(i, j, shown, formats.get(col))
                if isinstance(value, int | float) and not isinstance(value, bool):
                    numeric.add(j)
                if isinstance(value, str) and value in (SUPPRESSED, NOT_APPLICABLE, NOT_AVAILABLE):
                    cell.alignment = Alignment(horizontal="right")
                    numeric.add(j)
        for j in numeric:  # a figure's heading sits over it, on the right
            self.ws.cell(row=header, column=j).alignment = Alignment(
                wrap_text=True, vertical="top", horizontal="right"
            )
        for i in range(header + 1, header + len(frame) + 1):
            for j in numeric:
                cell = self.ws.cell(row=i, column=j)
                if isinstance(cell.value, str):
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


def column_chars(ws: Worksheet, col: int) -> float:
    """A column's width in characters as set (Excel's 8.43 when untouched)."""
    dim = ws.column_dimensions.get(get_column_letter(col))
    return dim.width if dim is not None and dim.width else 8.43


def _lines(text: str, chars: float) -> int:
    """Lines a wrapped text takes in a cell ``chars`` wide (words are not split)."""
    per = max(int(chars) - 1, 4)
    return sum(
        len(textwrap.wrap(part, per, break_long_words=True)) or 1 for part in text.split("\n")
    )


def print_layout(ws: Worksheet) -> None:
    """Lay a finished sheet out for printing, as a person would print it: a long value of a
    label wraps in merged cells, every wrapped cell's row is as high as its lines, and the
    page is printed at 100% when it fits a landscape A4 page, else scaled to its width but
    a sheet that would print below ``MIN_SCALE`` is wide by design (a table of many
    columns) and is fitted to the page's width."""
    last = max(ws.max_column, 1)
    for row in getattr(ws, "evaltool_pairs", []):
        cell = ws.cell(row=row, column=2)
        text = "" if cell.value is None else str(cell.value)
        width, end = column_chars(ws, 2), 2
        while width < min(len(text), PAIR_CHARS) and end < max(last, 2):
            end += 1
            width += column_chars(ws, end)
        if end > 2 and len(text) > column_chars(ws, 2):
            ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=end)
        cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
    merged = {r.min_row * 10_000 + r.min_col: r for r in ws.merged_cells.ranges}
    heights: dict[int, float] = {}
    for cells in ws.iter_rows():
        for cell in cells:
            if cell.value is None or not (cell.alignment and cell.alignment.wrap_text):
                continue
            span = merged.get(cell.row * 10_000 + cell.column)
            chars = (
                sum(column_chars(ws, c) for c in range(span.min_col, span.max_col + 1))
                if span
                else column_chars(ws, cell.column)
            )
            size = float(cell.font.sz or 11) if cell.font else 11.0
            lines = _lines(str(cell.value), chars * 11 / size)
            heights[cell.row] = max(heights.get(cell.row, 0), lines * size * 1.3 + 3)
    for row, height in heights.items():
        ws.row_dimensions[row].height = max(height, ws.row_dimensions[row].height or 0)
        for cell in ws[row]:  # a row of several lines reads level from its top
            if cell.value is not None and cell.alignment.vertical is None:
                aligned = copy(cell.alignment)
                aligned.vertical = "top"
                cell.alignment = aligned
    scale = min(100, int(100 * PAGE_CHARS / sum(column_chars(ws, c) for c in range(1, last + 1))))
    wide = scale < MIN_SCALE  # wide by design (a table of many columns): fit to the width
    ws.sheet_properties.pageSetUpPr.fitToPage = wide
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = (1, 0) if wide else (None, None)
    ws.page_setup.scale = None if wide else scale


def page_furniture(ws: Worksheet, service: str, period: str, marking: str, draft: str = "") -> None:
    """Header and footer on every printed page: the marking, the service and period, and
    page x of y; ``draft``: a draft's marking, in the header and the footer. The sheet is
    laid out for printing here, last, when its widths are final (``print_layout``)."""
    print_layout(ws)
    if not ws.oddHeader.center.text:  # an internal sheet's banner stays
        ws.oddHeader.right.text = marking
    ws.oddFooter.left.text = f"{service}: {period}".replace("&", "&&")
    ws.oddFooter.right.text = "Page &P of &N"
    if draft:
        ws.oddHeader.left.text = draft
        ws.oddFooter.center.text = draft
        ws.sheet_properties.tabColor = ws.sheet_properties.tabColor or "ED7D31"


@dataclass
class Written:
    """Where a summary table landed on its sheet, and what was shown."""

    header: int
    last: int
    shown: pd.DataFrame  # values with symbols in place


def write_summary_table(sw: SheetWriter, table: Table) -> Written:
    """A published table (``publish.Table``: protected, as shown) with its title and note."""
    sw.heading(table.title)
    header, last = sw.frame(table.values, table.formats)
    sw.note(table.note)
    sw.row += 1
    written = Written(header, last, table.values)
    sw.placed[table.name] = written
    if len(table.values) > 15 and sw.ws.print_title_rows is None:  # a long table's header
        sw.ws.print_title_rows = f"{header}:{header}"  # is printed again on every page
    return written


def chart_data(
    sw: SheetWriter, shown: pd.DataFrame, category: str, columns: list[str], title: str
) -> tuple[int, int, list[int]]:
    """Copy a table's columns for a chart onto the Chart data sheet, with every symbol left
    blank: a chart reading the shown table would draw a hidden figure as 0; a blank is a gap.
    Returns the first and last data rows and the columns (the category is column 1)."""
    ws = sw.ws
    sw.heading(title)
    header = sw.row
    for k, name in enumerate([category, *columns], start=1):
        cell = sw.put(header, k, name)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, (_, row) in enumerate(shown.iterrows(), start=header + 1):
        sw.put(i, 1, str(row[category]))
        for k, name in enumerate(columns, start=2):
            value = row[name]
            data = ws.cell(
                row=i,
                column=k,
                value=None if isinstance(value, str) else printed_value(cell_value(value), "0.00"),
            )
            data.number_format = "0.00"
    last = header + len(shown)
    sw.row = last + 2
    return header + 1, last, list(range(2, len(columns) + 2))


def _chart_refs(
    chart,
    sw: SheetWriter,
    shown: pd.DataFrame,
    category: str,
    columns: list[str],
    titles: list[str],
    title: str,
) -> None:
    first, last, cols = chart_data(sw, shown, category, columns, title)
    for col, name in zip(cols, titles, strict=True):
        ref = Reference(sw.ws, min_col=col, min_row=first, max_row=last)
        series = Series(ref, title=name)
        series.smooth = False
        chart.series.append(series)
    chart.set_categories(Reference(sw.ws, min_col=1, min_row=first, max_row=last))
    chart.display_blanks = "gap"


#: a default row is 15 points = 0.53 cm high: the rows a chart of ``height`` cm covers
ROW_CM = 15 / 72 * 2.54


def rows_for(height_cm: float) -> int:
    """Rows to leave below a chart anchored at a row so that the next table clears it."""
    return int(height_cm / ROW_CM) + 2


#: said instead of a chart with nothing to draw, and under the title of one with gaps
NO_CHART = (
    "No chart: fewer than two of the figures it would show can be shown (the others are "
    "hidden, small numbers, or not available yet); see the table above."
)
GAPS = "gaps: figures hidden (small numbers) or not available"


def plotted(shown: pd.DataFrame, columns: list[str], least: int = 2) -> tuple[bool, bool]:
    """Whether a chart of these columns has something to draw (``least`` points: one point
    is no line and no shape, unless the chart has a point of its own, as a survival curve's
    0 at the origin), and any gap."""
    values = [v for c in columns for v in shown[c]]
    points = [isinstance(v, int | float) and not pd.isna(v) for v in values]
    return sum(points) >= least, not all(points)


def no_chart(ws: Worksheet, anchor: str) -> int:
    """The words in place of an empty chart; returns the rows they cover."""
    cell = ws[anchor]
    cell.value = NO_CHART
    cell.font = NOTE
    return 2


def radar_chart(book: Any, ws: Worksheet, shown: pd.DataFrame, anchor: str, table: str) -> int:
    """A radar chart of a table's first and latest means; returns the rows it covers (no
    chart, but words saying why, where every figure is hidden)."""
    category = shown.columns[0]
    names = ["Mean first", "Mean latest"]
    drawn, gaps = plotted(shown, names)
    if not drawn:
        return no_chart(ws, anchor)
    chart = RadarChart()
    chart.type = "marker"
    chart.title = "First and latest readings (mean per domain)" + (f" ({GAPS})" if gaps else "")
    chart.style = 26
    _chart_refs(
        chart,
        book.data_sheet(),
        shown,
        category,
        names,
        ["First reading", "Latest reading"],
        table,
    )
    chart.height, chart.width = 13, 20
    chart.y_axis.number_format = "0"  # a scale's points, not 5.00
    ws.add_chart(chart, anchor)
    book.chart(
        ws, alt_text("Radar chart of the mean first and latest reading", shown, category, names)
    )
    return rows_for(chart.height)


def trend_chart(book: Any, ws: Worksheet, shown: pd.DataFrame, anchor: str) -> int:
    """A line chart of activity by quarter; returns the rows it covers (no chart, but words
    saying why, where every figure is hidden)."""
    every = ["Referrals", "Starts", "Active caseload at quarter end"]
    drawn, gaps = plotted(shown, every)
    if not drawn:
        return no_chart(ws, anchor)
    # a line with no point at all is left out, and the title says why
    names = [
        n for n in every if any(isinstance(v, int | float) and not pd.isna(v) for v in shown[n])
    ]
    absent = [n for n in every if n not in names]
    title = "Activity by quarter" + (f" ({GAPS})" if gaps else "")
    if absent:
        title += f"; {' and '.join(absent)}: hidden in every quarter (small numbers)"
    chart = LineChart()
    chart.title = title
    chart.y_axis.title = "People"
    chart.y_axis.number_format = "0"  # counts of people: whole numbers, not 60.00
    chart.height, chart.width = 8, 20
    _chart_refs(chart, book.data_sheet(), shown, "Quarter", names, names, "Activity by quarter")
    ws.add_chart(chart, anchor)
    book.chart(ws, alt_text("Line chart of activity by quarter", shown, "Quarter", every, 4))
    return rows_for(chart.height)


def alt_text(
    kind: str, shown: pd.DataFrame, category: str, columns: list[str], last: int | None = None
) -> str:
    """A chart's alt text: what it is, and its figures as the table prints them (``last``:
    only the latest categories of a long series; the rest are in the table)."""
    rows = shown.tail(last) if last and len(shown) > last else shown
    parts = []
    for _, row in rows.iterrows():
        figures = ", ".join(
            f"{c} {_spoken(row[c])}" if isinstance(row[c], int | float) else f"{c} not shown"
            for c in columns
        )
        parts.append(f"{row[category]}: {figures}")
    more = (
        f" (the latest {len(rows)} of {len(shown)}; all are in the table)"
        if len(shown) > len(rows)
        else ""
    )
    return f"{kind}{more}. " + "; ".join(parts) + "."


def _spoken(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


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

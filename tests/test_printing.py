"""Printing (issue 25, point 7): every sheet of the return, the to-do list and the template
prints at a readable scale with nothing overlapping, and scores open in Excel with ids as text
and figures rounded as printed."""

from __future__ import annotations

import math
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest

from evaltool.api import due_and_write, run
from evaltool.config import load_settings
from evaltool.report.excel import write_return
from evaltool.report.scores_file import rounded, write_scores
from evaltool.report.workbook import MIN_SCALE, PAGE_CHARS, column_chars
from evaltool.template import write_template
from tests.conftest import EXAMPLE, EXAMPLE_CONFIG


def printed_scale(ws) -> float:
    """The scale a sheet prints at: its own, or (fitted to the width) what the fit gives."""
    width = sum(column_chars(ws, c) for c in range(1, ws.max_column + 1))
    if ws.sheet_properties.pageSetUpPr.fitToPage:
        assert ws.page_setup.fitToWidth >= 1 and ws.page_setup.fitToHeight == 0, ws.title
        return min(100.0, 100 * PAGE_CHARS * ws.page_setup.fitToWidth / width)
    scale = ws.page_setup.scale or 100
    # what is set must fit the page's width: no column printed on a page of its own
    assert width * scale / 100 <= PAGE_CHARS + 1, (ws.title, width, scale)
    return scale


def assert_readable(wb, wide: set[str] = frozenset(), floor: float = MIN_SCALE) -> None:
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        scale = printed_scale(ws)
        if ws.title in wide:  # wide by design: fitted to the width, still legible
            assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
            assert scale >= 50, (ws.title, scale)
        else:
            assert not ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
            assert scale >= floor, (ws.title, scale)


def assert_rows_hold_their_text(ws) -> None:
    """Every wrapped cell's row is at least as high as its lines (nothing overlaps the next
    row), and no unwrapped text in a table is longer than its column (none is cut off)."""
    merged = {(r.min_row, r.min_col): r for r in ws.merged_cells.ranges}
    for row in ws.iter_rows():
        for c in row:
            if not isinstance(c.value, str) or not c.alignment.wrap_text:
                continue
            span = merged.get((c.row, c.column))
            cols = range(span.min_col, span.max_col + 1) if span else [c.column]
            # a width unit is a digit of Arial 10; text averages a tenth narrower (looked at
            # in LibreOffice: 92 characters fill a 90-wide cell on one line)
            chars = sum(column_chars(ws, k) for k in cols) * 11 / float(c.font.sz or 10)
            lines = math.ceil(len(c.value) / chars)
            height = ws.row_dimensions[c.row].height
            assert height is not None and height >= lines * 12, (
                ws.title,
                c.coordinate,
                lines,
                height,
            )


@pytest.fixture(scope="module")
def example_return(tmp_path_factory):
    out = tmp_path_factory.mktemp("print") / "return.xlsx"
    write_return(run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4"), out)
    return out


def test_every_sheet_of_the_return_prints_at_a_readable_scale(example_return):
    wb = openpyxl.load_workbook(example_return)
    assert_readable(wb, wide={"Before and after"})
    for name in ("Cover", "Contents", "Notes", "Summary", "Activity", "Definitions"):
        assert wb[name].page_setup.scale == 100, name  # the pages a manager reads: at 100%


def test_long_texts_wrap_in_rows_as_high_as_their_lines(example_return):
    wb = openpyxl.load_workbook(example_return)
    for ws in wb.worksheets:
        assert_rows_hold_their_text(ws)
    cover = wb["Cover"]
    benchmark = next(r[0].row for r in cover.iter_rows() if r[0].value == "Benchmark")
    assert len(cover.cell(benchmark, 2).value) > 100  # the citation that shrank the page
    assert cover.cell(benchmark, 2).alignment.wrap_text
    summary = wb["Summary"]
    first = next(r[0].row for r in summary.iter_rows() if r[0].value == "Figure") + 1
    assert summary.cell(first, 1).alignment.wrap_text  # the label that overlapped the next row
    assert summary.row_dimensions[first].height >= 2 * 12


def test_the_to_do_list_wraps_what_is_due(tmp_path):
    out = tmp_path / "due.xlsx"
    items = due_and_write(EXAMPLE, load_settings(EXAMPLE_CONFIG), out)
    wb = openpyxl.load_workbook(out)
    assert_readable(wb)
    ws = wb["To do"]
    assert_rows_hold_their_text(ws)
    col = next(c.column for c in ws[4] if c.value == "What is due")
    longest = max(items["What is due"].str.len())
    cells = [ws.cell(r, col) for r in range(5, ws.max_row + 1) if ws.cell(r, col).value]
    assert longest > 60  # the example has some longer than a column
    for c in cells:  # each fits its column or wraps in it: none runs into the next column
        assert len(c.value) <= column_chars(ws, col) or c.alignment.wrap_text, c.value


def test_the_template_prints_as_a_handful_of_pages(tmp_path):
    path = write_template(tmp_path / "template.xlsx")
    wb = openpyxl.load_workbook(path)
    tables = [ws.title for ws in wb.worksheets if ws.title != "Guide"]
    assert_readable(wb, wide=set(tables))
    assert_rows_hold_their_text(wb["Guide"])
    for name in tables:  # a header row on one page's width, however many columns
        assert wb[name].print_title_rows.replace("$", "") == "1:1"
    if not shutil.which("soffice") or not shutil.which("pdfinfo"):
        pytest.skip("LibreOffice or pdfinfo not installed: the page count is not checked")
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "template.pdf")], check=True, capture_output=True, text=True
    ).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages")))
    # the Guide (about 80 columns described) on at most 4 pages, then a page per table (two
    # for clients' 17 columns): it was 30 (the Guide in portrait split across pages, each
    # table's headers over several)
    assert pages <= len(tables) + 5, pages


def test_scores_round_as_printed_and_keep_ids_as_text_in_excel(tmp_path):
    table = pd.DataFrame(
        {
            "client_id": ["00102", "00008"],
            "t_score": [26.666666666666668, 40.0],
            "goals": [3, 2],
        }
    )
    assert rounded(table)["t_score"].tolist() == [26.7, 40.0]
    csv = write_scores(table, tmp_path / "s.csv")
    assert csv.read_text().splitlines() == [
        "client_id,t_score,goals",
        "00102,26.7,3",
        "00008,40.0,2",
    ]
    xlsx = write_scores(table, tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(xlsx).active
    assert [c.value for c in ws[1]] == ["client_id", "t_score", "goals"]
    assert ws["A2"].value == "00102" and ws["A2"].data_type == "s"  # text, not 102
    assert ws["B2"].value == 26.7 and ws["B2"].number_format == "0.0"
    assert ws["C2"].value == 3


def test_scores_refuse_another_kind_of_file(tmp_path, runner):
    from evaltool.cli import app

    out = tmp_path / "s.txt"
    result = runner.invoke(app, ["scores", str(EXAMPLE), "--instrument", "gas", "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert ".csv or .xlsx" in result.output
    assert not out.exists()


def test_a_problem_list_for_excel_keeps_client_references_as_text(tmp_path):
    from evaltool.data.problems import Problem, ProblemList
    from evaltool.report.text import problems_csv

    report = ProblemList()
    report.add(
        Problem(
            "error",
            "not a date",
            "data.xlsx",
            "clients",
            3,
            "start_date",
            "=1+1",
            "a date",
            "00102",
        )
    )
    report.add(Problem("error", "sheet missing", "data.xlsx", "goals"))
    problems_csv(report, tmp_path / "p.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    header = [c.value for c in ws[1]]
    first = {h: c for h, c in zip(header, ws[2], strict=True)}
    assert first["client"].value == "00102" and first["client"].data_type == "s"
    assert first["row"].value == 3  # a whole number, not 3.0
    assert first["value"].data_type == "s"  # text from the input is never a formula
    assert ws.cell(3, header.index("row") + 1).value is None
    problems_csv(report, tmp_path / "p.csv")
    assert ",3,00102," in (tmp_path / "p.csv").read_text()

"""`evaltool summary`: the board page holds the return's Summary figures, in a real browser too."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import openpyxl
import pytest

from evaltool.cli import app
from tests.conftest import EXAMPLE, EXAMPLE_CONFIG


class _Page(HTMLParser):
    """The key-figures table's rows and every image's alt text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.alts: list[str] = []
        self._in_table = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "key-figures":
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.alts.append(attrs.get("alt", ""))

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _as_printed(cell) -> str:
    """A cell as the spreadsheet shows it, by its own number format."""
    value = cell.value
    if isinstance(value, str):
        return value
    return f"{value:.1%}" if "%" in cell.number_format else f"{int(value):,}"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The return and the board page of one quarter, written as a manager would: score, then
    summary, with one record."""
    from typer.testing import CliRunner

    folder = tmp_path_factory.mktemp("board")
    mp = pytest.MonkeyPatch()
    mp.setenv("EVALTOOL_RECORD", str(folder / "record.sqlite"))
    runner = CliRunner()
    base = [str(EXAMPLE), "--config", str(EXAMPLE_CONFIG), "--period", "2025-26 Q4"]
    xlsx, page = folder / "return.xlsx", folder / "board.html"
    first = runner.invoke(app, ["score", *base, "--out", str(xlsx)])
    second = runner.invoke(app, ["summary", *base, "--out", str(page)])
    mp.undo()
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert f"Wrote {page}" in second.output
    return xlsx, page


def _summary_rows(xlsx) -> list[list[str]]:
    ws = openpyxl.load_workbook(xlsx, data_only=True)["Summary"]
    header = next(r[0].row for r in ws.iter_rows() if r[0].value == "Figure")
    rows = []
    for row in ws.iter_rows(min_row=header + 1, max_col=6):
        if not isinstance(row[1].value, int | float | str) or row[1].value is None:
            break
        rows.append([str(row[0].value), *(_as_printed(c) for c in row[1:])])
    return rows


def test_the_page_holds_the_summary_sheets_figures(made):
    xlsx, page = made
    parsed = _page(page.read_text(encoding="utf-8"))
    header, *rows = parsed.rows
    assert header[0] == "Figure" and header[1].startswith("This quarter")
    assert rows == _summary_rows(xlsx)
    assert "[c]" in {v for r in rows for v in r}  # hidden there, hidden here


def test_every_chart_is_an_embedded_image_with_alt_text(made):
    _, page = made
    text = page.read_text(encoding="utf-8")
    parsed = _page(text)
    assert len(parsed.alts) == 2
    assert parsed.alts[0].startswith("Line chart of activity by quarter")
    assert parsed.alts[1].startswith("Bar chart of the mean distance travelled")
    # the example's only shown share of new proceedings is everyone's at 36 months, which a
    # chart of the service against its comparison does not draw: words, not an empty chart
    assert "No chart of the time to new care proceedings" in text
    assert text.count("src='data:image/png;base64,") == 2  # one file, nothing fetched
    assert "client_id" not in text and "OFFICIAL" in text


def test_the_board_summary_wants_an_html_or_pdf_name(tmp_path, runner):
    out = tmp_path / "board.docx"
    args = ["summary", str(EXAMPLE), "--period", "2025-Q4", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "the board summary is an .html or .pdf file, e.g. board.html" in result.output
    assert not out.exists()


def test_a_pdf_without_a_browser_says_how_and_writes_nothing(tmp_path, runner, monkeypatch):
    from evaltool.report import board

    monkeypatch.setattr(board, "browser", lambda: None)
    out = tmp_path / "board.pdf"
    args = ["summary", str(EXAMPLE), "--config", str(EXAMPLE_CONFIG), "--period", "2025-Q4"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "install Chromium (apt-get install chromium)" in result.output
    assert "write --out board.html and print it from a browser" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


BROWSER = next(
    (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
)
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium: apt-get install chromium to render the board page"
)


@needs_browser
def test_a_real_browser_shows_the_returns_figures(made):
    """Headless Chromium renders the page; the figures it lays out are the return's."""
    xlsx, page = made
    dom = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    parsed = _page(dom)
    assert parsed.rows[1:] == _summary_rows(xlsx)
    assert len(parsed.alts) == 2


@needs_browser
def test_the_pdf_is_one_page(tmp_path, runner):
    out = tmp_path / "board.pdf"
    args = ["summary", str(EXAMPLE), "--config", str(EXAMPLE_CONFIG), "--period", "2025-Q4"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == 1

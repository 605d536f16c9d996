"""Issue 23.4: no chart is drawn empty, and a chart with gaps says why a point is missing."""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook

from evaltool.report.workbook import GAPS, NO_CHART, SheetWriter, radar_chart, trend_chart


class Book:
    """What the chart functions use of the workbook being written."""

    def __init__(self) -> None:
        self.wb = Workbook()
        self.sheet = SheetWriter(self.wb.create_sheet("Chart data"), "Chart data", False, "gss")
        self.alt: list[str] = []

    def data_sheet(self) -> SheetWriter:
        return self.sheet

    def chart(self, ws, text: str) -> None:
        self.alt.append(text)


def activity(referrals, starts, caseload) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Quarter": ["2025-26 Q1", "2025-26 Q2"],
            "Referrals": referrals,
            "Starts": starts,
            "Active caseload at quarter end": caseload,
        }
    )


def test_a_chart_whose_every_figure_is_hidden_is_not_drawn_and_says_why():
    book = Book()
    ws = book.wb.active
    rows = trend_chart(book, ws, activity(["c", "c"], ["c", ":"], ["c", "c"]), "A1")
    assert ws._charts == []
    assert ws["A1"].value == NO_CHART and rows >= 1
    assert book.alt == []

    domains = pd.DataFrame({"Domain": ["Safety"], "Mean first": ["c"], "Mean latest": ["c"]})
    radar_chart(book, ws, domains, "A5", "Star")
    assert ws._charts == [] and ws["A5"].value == NO_CHART


def test_a_chart_with_a_gap_is_drawn_and_its_title_says_what_a_gap_is():
    book = Book()
    ws = book.wb.active
    trend_chart(book, ws, activity([7, "c"], [6, 8], [10, 12]), "A1")
    (chart,) = ws._charts
    title = "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))
    assert GAPS in title
    full = Book()
    trend_chart(full, full.wb.active, activity([7, 9], [6, 8], [10, 12]), "A1")
    (chart,) = full.wb.active._charts
    assert GAPS not in "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))


def test_a_tiny_services_time_to_proceedings_chart_is_words_when_every_point_is_hidden(
    tmp_path, monkeypatch
):
    import openpyxl

    from evaltool.api import run
    from evaltool.config import Settings
    from evaltool.report.excel import write_return
    from evaltool.synthetic import generate, write_csv_folder

    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    data = write_csv_folder(generate(n_clients=5, seed=6), tmp_path / "data")
    wb = openpyxl.load_workbook(write_return(run(data, Settings(), "2025-Q4"), tmp_path / "r.xlsx"))
    ws = wb["Time to next proceedings"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    # five parents: the fixed-time shares are hidden or not estimated, so nothing to draw
    assert NO_CHART in texts
    domains = wb["Recurrent care domains"]
    assert NO_CHART in [c.value for row in domains.iter_rows() for c in row]


def test_a_line_with_no_point_is_left_out_and_the_title_says_why():
    book = Book()
    ws = book.wb.active
    trend_chart(book, ws, activity(["c", "c"], [6, 8], [10, "c"]), "A1")
    (chart,) = ws._charts
    assert len(chart.series) == 2  # starts and caseload; no line for referrals
    title = "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))
    assert "Referrals: hidden in every quarter (small numbers)" in title
    assert "Referrals not shown" in book.alt[0]


def test_the_board_page_says_which_chart_it_leaves_out(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from evaltool.cli import app
    from evaltool.synthetic import generate, write_csv_folder

    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    data = write_csv_folder(generate(n_clients=5, seed=6), tmp_path / "data")
    out = tmp_path / "board.html"
    result = CliRunner().invoke(
        app, ["summary", str(data), "--period", "2025-Q4", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "No chart of the time to new care proceedings: fewer than two" in page
    assert "Line chart of the share with new care proceedings" not in page


def test_a_point_of_everyone_draws_no_chart_of_the_service_and_its_comparison():
    """The example's 2025-Q4 board page drew an empty time-to-proceedings chart: the only
    shown share was the 'all' group's at 36 months, which the chart (service against
    comparison) never draws. Whether there is a chart is asked of the groups it draws."""
    from evaltool.report.km_chart import INCIDENCE, charted
    from evaltool.report.workbook import plotted

    km = pd.DataFrame(
        {
            "Group": ["all", "all", "service", "service", "comparison", "comparison"],
            "Months": [12, 36] * 3,
            INCIDENCE: ["c", 0.305, "c", "c", ":", "c"],
        }
    )
    assert plotted(km, [INCIDENCE], least=1)[0]  # the whole table has a point...
    assert charted(km).empty  # ...the chart has none
    assert not plotted(charted(km), [INCIDENCE], least=1)[0]
    alone = km[km["Group"] == "all"]  # a table of everyone alone: it is what is drawn
    assert plotted(charted(alone), [INCIDENCE], least=1)[0]


def test_no_chart_of_the_service_without_a_point_of_the_service():
    """A 25-client board page drew the comparison's lone 0% at 36 months, and a legend entry
    for the service with nothing drawn: a chart of the service has a point of the service."""
    from evaltool.report.km_chart import INCIDENCE, charted
    from evaltool.report.workbook import plotted

    km = pd.DataFrame(
        {
            "Group": ["service", "service", "comparison", "comparison"],
            "Months": [12, 36] * 2,
            INCIDENCE: ["c", "c", "c", 0.0],
        }
    )
    assert not plotted(charted(km), [INCIDENCE], least=1)[0]
    km.loc[0, INCIDENCE] = 0.1  # one point of the service: a chart, the comparison's beside it
    assert list(charted(km)["Group"]) == ["service", "service", "comparison", "comparison"]
    assert plotted(charted(km), [INCIDENCE], least=1)[0]

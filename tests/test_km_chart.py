"""The return's time-to-next-proceedings chart: drawn from the published fixed-time points only."""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook

from evaltool.data.benchmark import Benchmark, Point
from evaltool.report.disclosure import SUPPRESSED
from evaltool.report.km_chart import add_km_chart, published_points


def _shown() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Group": ["service"] * 3 + ["comparison"] * 3,
            "Months": [6, 12, 24] * 2,
            "New proceedings (cumulative)": [0.0, 0.05, SUPPRESSED, 0.0, SUPPRESSED, 0.3],
            "CI low": [0.0, 0.01, SUPPRESSED, 0.0, SUPPRESSED, 0.1],
            "CI high": [0.0, 0.1, SUPPRESSED, 0.0, SUPPRESSED, 0.5],
        }
    )


def test_a_hidden_point_is_a_gap_and_nothing_else_is_drawn():
    points = published_points(_shown())
    assert points["service"]["months"] == [0, 6, 12, 24]
    assert points["service"]["New proceedings (cumulative)"] == [0, 0, 0.05, None]
    assert points["comparison"]["New proceedings (cumulative)"] == [0, 0, None, 0.3]


def test_the_chart_data_holds_only_published_points_and_the_benchmark_is_its_points():
    wb = Workbook()
    ws = wb.active
    bench = Benchmark(
        "National recurrence",
        "a source",
        (Point(1826, 0.2), Point(2557, 0.24)),
        origin="index-issue",
    )
    chart = add_km_chart(ws, _shown(), bench, "log", anchor="A1", data_col=10, data_row=1)
    numbers = sorted(
        c.value for row in ws.iter_rows() for c in row if isinstance(c.value, int | float)
    )
    published = {0, 6, 12, 24, 0.01, 0.05, 0.1, 0.3, 0.5}
    benchmark = {0.2, 0.24, round(1826 / (365.25 / 12), 1), round(2557 / (365.25 / 12), 1)}
    assert set(numbers) <= published | benchmark and benchmark <= set(numbers)
    last = chart.series[-1]  # the benchmark: its two points with markers, no line between
    assert last.marker.symbol == "diamond"
    assert last.graphicalProperties.line.noFill
    assert last.xVal.numRef.f.endswith("$3")  # two rows of data, under the header row

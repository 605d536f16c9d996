"""The return's time-to-next-proceedings chart: a native Excel chart of the published points.

It is drawn from the fixed-time table only (the share with new proceedings by 6, 12, 24 and
36 months, with its 95% CI), never from the Kaplan-Meier steps: a step would give the day of an
event and, with the numbers at risk, how many people had it. A point the table hides is a gap.
A benchmark is drawn as the point it is (a 7-year figure is a marker at 7 years, not a line).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.legend import LegendEntry
from openpyxl.chart.shapes import GraphicalProperties

from evaltool.report.safe import cell_value
from evaltool.report.workbook import GAPS, NOTE

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from evaltool.data.benchmark import Benchmark

COLOURS = ("1F77B4", "FF7F0E", "2CA02C", "D62728", "9467BD", "8C564B")
DAYS_PER_MONTH = 365.25 / 12
INCIDENCE, LOW, HIGH = "New proceedings (cumulative)", "CI low", "CI high"


def text_cell(ws: Worksheet, row: int, col: int, text: str):
    """A cell holding text, never a formula (openpyxl makes '=...' a formula)."""
    cell = ws.cell(row=row, column=col, value=cell_value(text))
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def published_points(shown: pd.DataFrame) -> dict[str, dict[str, list[Any]]]:
    """Per group: months and the shown incidence and CI (None where hidden or not available),
    starting from 0 at month 0, unless the group's first time is not available (nobody had
    joined yet: a line from 0 would draw a measured 0%; the month-0 row is then blank)."""
    from evaltool.report.disclosure import NOT_AVAILABLE

    out: dict[str, dict[str, list[Any]]] = {}
    for group, rows in shown.groupby("Group", sort=False):
        points: dict[str, list[Any]] = {"months": [0.0], INCIDENCE: [0.0], LOW: [0.0], HIGH: [0.0]}
        if isinstance(rows[INCIDENCE].iloc[0], str) and rows[INCIDENCE].iloc[0] == NOT_AVAILABLE:
            points = {"months": [0.0], INCIDENCE: [None], LOW: [None], HIGH: [None]}
        for _, row in rows.iterrows():
            points["months"].append(float(row["Months"]))
            for key in (INCIDENCE, LOW, HIGH):
                value = row[key]
                ok = isinstance(value, int | float) and not pd.isna(value)
                points[key].append(round(float(value), 3) if ok else None)  # as printed
        out[str(group)] = points
    return out


def charted(shown: pd.DataFrame) -> pd.DataFrame:
    """The rows of the groups a chart of the fixed-time table draws: the service and the
    comparison where there is one, else every group. Whether there is a chart at all is asked
    of these rows alone: a point of the "all" group draws nothing. A chart of the service
    with none of the service's points shown is none (a comparison's lone 0% at 36 months,
    beside a legend entry for a service with nothing drawn, was all a small service got)."""
    if "Group" not in shown:
        return shown
    groups = list(dict.fromkeys(shown["Group"].astype(str)))
    chosen = [g for g in ("service", "comparison") if g in groups] or groups
    rows = shown[shown["Group"].astype(str).isin(chosen)]
    if "service" in chosen:
        own = rows[rows["Group"].astype(str) == "service"][INCIDENCE]
        if not any(isinstance(v, int | float) and not pd.isna(v) for v in own):
            return rows.iloc[0:0]
    return rows


def add_km_chart(
    ws: Worksheet,
    shown: pd.DataFrame,
    benchmark: Benchmark | None,
    ci: str,
    anchor: str,
    data_col: int,
    data_row: int,
    width_cm: float = 24,
    data_ws: Worksheet | None = None,
    gaps: bool = False,
) -> ScatterChart:
    """Chart the shown fixed-time table on ``ws``; its data is copied to ``data_ws`` (by
    default ``ws``) from (``data_row``, ``data_col``); ``gaps``: some point is hidden or not
    estimated, which the title says."""
    chart_ws, ws = ws, data_ws or ws
    chart = ScatterChart()
    chart.title = "Share with new care proceedings" + (f" ({GAPS})" if gaps else "")
    chart.style = 13
    chart.scatterStyle = "lineMarker"
    chart.width, chart.height = width_cm, width_cm / 2
    chart.x_axis.title = f"Months since origin (dashed: 95% CI, {ci} transform)"
    chart.y_axis.title = "Share with new proceedings"
    chart.y_axis.number_format = "0%"
    chart.x_axis.number_format = "0"
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.legend.position = "b"
    header, col, top, horizon = data_row, data_col, 0.0, 0.0
    limits: list[int] = []  # the CI series, left out of the legend
    groups = published_points(shown)
    chosen = [g for g in ("service", "comparison") if g in groups] or list(groups)
    for k, group in enumerate(chosen):
        points = groups[group]
        colour = COLOURS[k % len(COLOURS)]
        columns = [("months", f"{group}: months"), (INCIDENCE, group)]
        columns += [(LOW, f"{group}: 95% CI low"), (HIGH, f"{group}: 95% CI high")]
        for j, (key, title) in enumerate(columns):
            text_cell(ws, header, col + j, title).font = NOTE
            for i, value in enumerate(points[key], start=header + 1):
                ws.cell(row=i, column=col + j, value=value).font = NOTE
        last = header + len(points["months"])
        xs = Reference(ws, min_col=col, min_row=header + 1, max_row=last)
        for j, (key, _) in enumerate(columns[1:], start=1):
            ys = Reference(ws, min_col=col + j, min_row=header, max_row=last)
            series = Series(ys, xs, title_from_data=True)
            series.smooth = False
            series.marker.symbol = "circle" if key == INCIDENCE else "none"
            line = series.graphicalProperties.line
            line.solidFill = colour
            line.width = 28575 if key == INCIDENCE else 9525  # 2.25 pt, 0.75 pt
            if key != INCIDENCE:
                line.dashStyle = "dash"
                limits.append(len(chart.series))
            chart.series.append(series)
        known = [v for v in points[HIGH] + points[INCIDENCE] if v is not None]
        top = max([top, *known])
        horizon = max(horizon, *points["months"])
        col += len(columns) + 1
    if benchmark is not None:  # its published points, never a line beyond them
        title = f"{benchmark.label}: {benchmark.points_text()}"
        ws.cell(row=header, column=col, value="benchmark: months").font = NOTE
        text_cell(ws, header, col + 1, title).font = NOTE  # the label is the settings' text
        last = header + len(benchmark.points)
        for row, p in enumerate(benchmark.points, start=header + 1):
            ws.cell(row=row, column=col, value=round(p.days / DAYS_PER_MONTH, 1)).font = NOTE
            ws.cell(row=row, column=col + 1, value=p.incidence).font = NOTE
            top = max(top, p.incidence)
        months = benchmark.days / DAYS_PER_MONTH
        xs = Reference(ws, min_col=col, min_row=header + 1, max_row=last)
        ys = Reference(ws, min_col=col + 1, min_row=header, max_row=last)
        series = Series(ys, xs, title_from_data=True)
        series.smooth = False
        series.marker.symbol = "diamond"
        series.marker.size = 10
        series.marker.graphicalProperties = GraphicalProperties(solidFill="595959")
        series.marker.graphicalProperties.line.solidFill = "595959"
        series.graphicalProperties.line.noFill = True  # a point, not a line
        chart.series.append(series)
        horizon = max(horizon, months)
    chart.legend.legendEntry = [LegendEntry(idx=i, delete=True) for i in limits]
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = (
        0,
        (round(horizon) + 6) if horizon else None,
    )
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = min(1.0, (int(top * 10) + 1) / 10) if top else 1.0
    chart_ws.add_chart(chart, anchor)
    return chart

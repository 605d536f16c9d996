"""The return's Kaplan-Meier chart as a native Excel chart, fed from a block of chart data.

A native chart reads like the return's other charts, stays sharp at any zoom and needs no
image library (matplotlib's import alone is half a second of every quarterly run; it is still
used for ``evaltool survival --plot``). Each curve shows the cumulative share with new
proceedings (1 - survival) with its 95% CI, and stops where no more than the small-number
threshold are still at risk: a step there would reveal what happened to one or two people.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.legend import LegendEntry

from evaltool.report.excel import NOTE

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from evaltool.config import Benchmark

COLOURS = ("1F77B4", "FF7F0E", "2CA02C", "D62728", "9467BD", "8C564B")


#: at most this many steps per curve: a chart is a few hundred points wide, and a national
#: curve has thousands of event times
MAX_STEPS = 500


def step_points(km: Any, threshold: int, max_steps: int = MAX_STEPS) -> dict[str, list[Any]]:
    """The curve as the corners of its steps, while more than ``threshold`` are at risk.

    Incidence 1 - S and its CI (1 - upper, 1 - lower); a CI R leaves undefined is None.
    A curve with more than ``max_steps`` event times is drawn with one step per
    1/``max_steps`` of its time span, at the last event time in it: every point drawn is
    exact, and no step is drawn later than that span.
    """
    tab = km.table_[km.table_["at_risk"] > threshold]
    times = np.sort(np.asarray(km.time_, float))
    end = float(times[-(threshold + 1)]) if len(times) > threshold else 0.0
    if len(tab) > max_steps:
        span = np.minimum(np.floor(tab["time"].to_numpy(float) / end * max_steps), max_steps - 1)
        tab = tab[np.append(span[1:] != span[:-1], True)]
    out: dict[str, list[Any]] = {"days": [0.0, *np.repeat(tab["time"].to_numpy(float), 2)]}
    for key, values in (
        ("incidence", 1 - tab["survival"].to_numpy(float)),
        ("low", 1 - tab["ci_high"].to_numpy(float)),
        ("high", 1 - tab["ci_low"].to_numpy(float)),
    ):
        before = np.concatenate([[0.0], values[:-1]])  # each step: from the value before it
        corners = np.concatenate([[0.0], np.column_stack([before, values]).ravel()])
        out[key] = [None if np.isnan(v) else float(v) for v in corners]
    if end > out["days"][-1]:  # followed up beyond the last event shown: the curve runs on
        for key in ("incidence", "low", "high"):
            out[key].append(out[key][-1])
        out["days"].append(end)
    out["days"] = [float(d) for d in out["days"]]
    return out


def add_km_chart(
    ws: Worksheet,
    fits: dict[str, Any],
    benchmark: Benchmark | None,
    ci: str,
    threshold: int,
    anchor: str,
    data_col: int,
    data_row: int,
    width_cm: float = 24,
) -> ScatterChart:
    """Write the chart data from (``data_row``, ``data_col``) and anchor the chart."""
    chart = ScatterChart()
    chart.title = "Time to next care proceedings"
    chart.style = 13
    chart.scatterStyle = "lineMarker"  # straight lines; unset, LibreOffice smooths them
    chart.width, chart.height = width_cm, width_cm / 2
    chart.x_axis.title = f"Days since origin (dashed: 95% CI, {ci} transform)"
    chart.y_axis.title = "Cumulative share with new proceedings"
    chart.y_axis.number_format = "0%"
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.legend.position = "b"
    label = ws.cell(
        row=data_row,
        column=data_col,
        value=f"Chart data: Kaplan-Meier steps, shown while more than {threshold} are at risk; "
        f"a curve with more than {MAX_STEPS} steps has one per 1/{MAX_STEPS} of its time span",
    )
    label.font = NOTE
    header, col, top, horizon = data_row + 1, data_col, 0.0, 0.0
    limits: list[int] = []  # the CI series, left out of the legend
    for k, (name, km) in enumerate(fits.items()):
        group = name.split("=")[-1]
        points = step_points(km, threshold)
        colour = COLOURS[k % len(COLOURS)]
        columns = [("days", f"{group}: days"), ("incidence", group)]
        columns += [("low", f"{group}: 95% CI low"), ("high", f"{group}: 95% CI high")]
        for j, (key, title) in enumerate(columns):
            ws.cell(row=header, column=col + j, value=title).font = NOTE
            for i, value in enumerate(points[key], start=header + 1):
                ws.cell(row=i, column=col + j, value=value)
        last = header + len(points["days"])
        xs = Reference(ws, min_col=col, min_row=header + 1, max_row=last)
        for j, (key, _) in enumerate(columns[1:], start=1):
            ys = Reference(ws, min_col=col + j, min_row=header, max_row=last)
            series = Series(ys, xs, title_from_data=True)
            series.marker.symbol = "none"
            series.smooth = False
            line = series.graphicalProperties.line
            line.solidFill = colour
            line.width = 28575 if key == "incidence" else 9525  # 2.25 pt, 0.75 pt
            if key != "incidence":
                line.dashStyle = "dash"
                limits.append(len(chart.series))
            chart.series.append(series)
        known = [v for v in points["high"] if v is not None]
        top = max([top, *known])
        horizon = max(horizon, points["days"][-1])
        col += len(columns) + 1
    if benchmark is not None:
        title = f"{benchmark.label}: {benchmark.proportion:.0%} by {benchmark.days} days"
        ws.cell(row=header, column=col, value="benchmark: days").font = NOTE
        ws.cell(row=header, column=col + 1, value=title).font = NOTE
        for i, x in enumerate((0, benchmark.days), start=header + 1):
            ws.cell(row=i, column=col, value=x)
            ws.cell(row=i, column=col + 1, value=benchmark.proportion)
        xs = Reference(ws, min_col=col, min_row=header + 1, max_row=header + 2)
        ys = Reference(ws, min_col=col + 1, min_row=header, max_row=header + 2)
        series = Series(ys, xs, title_from_data=True)
        series.marker.symbol = "none"
        series.smooth = False  # LibreOffice smooths the whole chart if one series is smooth
        series.graphicalProperties.line.solidFill = "7F7F7F"
        series.graphicalProperties.line.dashStyle = "sysDash"
        chart.series.append(series)
        top = max(top, benchmark.proportion)
        horizon = max(horizon, benchmark.days)
    # the legend names the curves and the benchmark; the CI limits are explained on the axis
    chart.legend.legendEntry = [LegendEntry(idx=i, delete=True) for i in limits]
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = 0, horizon or None
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = min(1.0, np.ceil(top * 10 + 0.5) / 10) if top else 1.0
    ws.add_chart(chart, anchor)
    return chart

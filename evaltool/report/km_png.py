"""Kaplan-Meier chart: cumulative incidence of new proceedings with CI bands, numbers at risk,
and the benchmark. matplotlib is imported only here, and only when a chart is drawn."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from evaltool.analysis.survival import TimeToProceedings


def km_png(fit: TimeToProceedings, threshold: int, path: Any = None):
    """The fitted curves as a PNG (a bytes buffer, or written to ``path``), for
    ``evaltool survival --plot``; counts at risk from 1 to ``threshold`` are not printed."""
    # a benchmark point on the service's chart only when measured like for like
    like = fit.benchmark if (fit.benchmark_ or {}).get("compared") else None
    return km_plot(fit.curves(), fit.times, like, fit.ci, threshold, path)


def km_plot(
    fits: dict[str, Any],
    times: tuple[int, ...],
    benchmark: Any,
    ci: str,
    threshold: int,
    path: Any = None,
):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    horizon = max(max(times), max(float(f.time_.max()) for f in fits.values()))
    for name, km in fits.items():
        tab = km.table_
        t = np.concatenate([[0], tab["time"].to_numpy(), [km.time_.max()]])
        inc = np.concatenate(
            [
                [0],
                1 - tab["survival"].to_numpy(),
                [1 - tab["survival"].to_numpy()[-1] if len(tab) else 0],
            ]
        )
        lo = np.concatenate(
            [
                [0],
                1 - tab["ci_high"].to_numpy(),
                [1 - tab["ci_high"].to_numpy()[-1] if len(tab) else 0],
            ]
        )
        hi = np.concatenate(
            [
                [0],
                1 - tab["ci_low"].to_numpy(),
                [1 - tab["ci_low"].to_numpy()[-1] if len(tab) else 0],
            ]
        )
        line = ax.step(t, inc, where="post", label=name.split("=")[-1])[0]
        ax.fill_between(t, lo, hi, step="post", alpha=0.2, color=line.get_color())
    if benchmark is not None:  # its published points, never a line from day 0
        ax.plot(
            [p.days for p in benchmark.points],
            [p.incidence for p in benchmark.points],
            marker="D",
            color="grey",
            linestyle="none",
            label=f"{benchmark.label}: {benchmark.points_text()}",
        )
        horizon = max(horizon, benchmark.days * 1.05)
    ax.set_xlim(0, horizon)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Days since origin")
    ax.set_ylabel("New care proceedings (cumulative)")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title(f"Time to next care proceedings (95% CI, {ci} transform)")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    # numbers at risk under the axis, with small numbers suppressed
    rows = []
    for km in fits.values():
        cells = []
        for t in times:
            n = int((km.time_ >= t).sum())
            cells.append("c" if 0 < n <= threshold else str(n))
        rows.append(cells)
    table = ax.table(
        cellText=rows,
        rowLabels=[n.split("=")[-1] for n in fits],
        colLabels=[f"{t} d" for t in times],
        loc="bottom",
        bbox=[0.0, -0.42, 1.0, 0.22],
        cellLoc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    ax.text(0, -0.16, "Numbers at risk", transform=ax.transAxes, fontsize=8, va="top")
    fig.subplots_adjust(bottom=0.32, left=0.2, right=0.97)
    buf = io.BytesIO() if path is None else path
    fig.savefig(buf, format="png")
    plt.close(fig)
    if path is None:
        buf.seek(0)
        return buf
    return path


def trends_png(trends: pd.DataFrame, path: str | Path) -> None:
    """Infants entering care per 10,000 live births by group and financial year: the
    parallel-trends picture a difference in differences rests on (solid: service running)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for group, part in trends.groupby("group", sort=False):
        (line,) = ax.plot(part["financial_year"], part["per_10000"], marker="o", label=group)
        on = part[part["service_running"]]
        ax.plot(
            on["financial_year"],
            on["per_10000"],
            marker="o",
            linestyle="none",
            color=line.get_color(),
            markersize=9,
        )
    ax.set_ylabel("Infants entering care per 10,000 live births")
    ax.set_ylim(bottom=0)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(frameon=False)
    ax.set_title("Before and after the service began (large points: service running)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

"""Quarterly activity: referrals, starts, active caseload, closures, waiting, involvement length.

Only the service cohort counts. Everything is computed on whole columns per quarter.
"""

from __future__ import annotations

import pandas as pd

from evaltool.instrument import SummaryTable
from evaltool.periods import Period, quarters_between


def service_clients(clients: pd.DataFrame) -> pd.DataFrame:
    if "cohort" not in clients:
        return clients
    return clients[clients["cohort"].fillna("service") == "service"]


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return (
        frame[name]
        if name in frame
        else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    )


def quarter_counts(clients: pd.DataFrame, period: Period) -> dict[str, float]:
    """Activity figures for one quarter."""
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    referral, begun, closed = (
        clients["referral_date"],
        _col(clients, "start_date"),
        _col(clients, "end_date"),
    )
    open_at_end = closed.isna() | (closed > end)
    closing = closed.between(start, end)
    length = (closed - begun).dt.days[closing & begun.notna()]
    return {
        "Referrals": int(referral.between(start, end).sum()),
        "Starts": int(begun.between(start, end).sum()),
        "Closures": int(closing.sum()),
        "Active caseload at quarter end": int(((begun <= end) & open_at_end).sum()),
        "Waiting at quarter end": int(
            ((referral <= end) & (begun.isna() | (begun > end)) & open_at_end).sum()
        ),
        "Median days of involvement (closures)": float(length.median()) if len(length) else None,
    }


def activity_tables(clients: pd.DataFrame, period: Period) -> list[SummaryTable]:
    """The quarterly trend, this quarter's closures by reason, and cumulative totals."""
    clients = service_clients(clients)
    first = clients["referral_date"].min()
    quarters = quarters_between(first.date() if pd.notna(first) else period.start, period)
    trend = pd.DataFrame([{"Quarter": q.label, **quarter_counts(clients, q)} for q in quarters])
    closed = _col(clients, "end_date")
    reasons = (
        clients["closure_reason"].fillna("not recorded")
        if "closure_reason" in clients
        else pd.Series("not recorded", index=clients.index)
    )
    rows = []
    for label, start in (("Quarter", period.start), ("To date", None)):
        mask = closed <= pd.Timestamp(period.end)
        if start is not None:
            mask &= closed >= pd.Timestamp(start)
        counts = reasons[mask.fillna(False)].value_counts()
        for reason, count in counts.sort_index().items():
            rows.append(
                {
                    "Window": label,
                    "Closure reason": str(reason).replace("_", " "),
                    "Closures": int(count),
                }
            )
        rows.append(
            {
                "Window": label,
                "Closure reason": "All closures",
                "Closures": int(mask.fillna(False).sum()),
            }
        )
    by_reason = pd.DataFrame(rows, columns=["Window", "Closure reason", "Closures"])
    counts = tuple(c for c in trend.columns if c not in ("Quarter",) and not c.startswith("Median"))
    return [
        SummaryTable(
            "activity",
            "Activity by quarter (service cohort)",
            trend,
            counts=counts,
            derived={"Median days of involvement (closures)": "Closures"},
            formats={"Median days of involvement (closures)": "0"},
            note="Caseload and waiting list are counted on the last day of each quarter.",
            chart="line",
        ),
        SummaryTable(
            "closures",
            "Closures by reason",
            by_reason,
            counts=("Closures",),
            total_row="All closures",
        ),
    ]

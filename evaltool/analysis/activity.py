"""Quarterly activity: referrals, starts, active caseload, closures, waiting, involvement length.

Only the service cohort counts. Everything is computed on whole columns per quarter.
"""

from __future__ import annotations

import pandas as pd

from evaltool.data.contract import CLOSURE_REASONS, service_clients
from evaltool.instruments.results import Relation, SummaryTable
from evaltool.periods import Period, quarters_between

REFERRALS, STARTS, CLOSURES = "Referrals", "Starts", "Closures"
CASELOAD, WAITING = "Active caseload at quarter end", "Waiting at quarter end"
MEDIAN_DAYS = "Median days of involvement (closures)"
NOT_RECORDED = "not recorded"


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
        REFERRALS: int(referral.between(start, end).sum()),
        STARTS: int(begun.between(start, end).sum()),
        CLOSURES: int(closing.sum()),
        CASELOAD: int(((begun <= end) & open_at_end).sum()),
        WAITING: int(((referral <= end) & (begun.isna() | (begun > end)) & open_at_end).sum()),
        MEDIAN_DAYS: float(length.median()) if len(length) else None,
    }


def flow_relations(table: str, labels: list[str]) -> list[Relation]:
    """The identities a reader can write between the quarters of the activity table.

    With closures split (unseen) into those of started cases and of cases closed while waiting:
    caseload = previous caseload + starts - closures of started cases, and
    waiting = previous waiting + referrals - starts - closures while waiting. The first quarter
    is the one of the first referral, so nothing came before it. The unseen quantities are
    named by their quarter, so every return that prints a quarter writes the same identity.
    """
    out = []
    quarters = len(labels)
    for q in range(quarters):
        started, waiting = (
            f"{table}: closures of started cases, {labels[q]}",
            (f"{table}: closures while waiting, {labels[q]}"),
        )
        out.append(
            Relation(
                (((table, q, CLOSURES), 1.0), (started, -1.0), (waiting, -1.0)),
            )
        )
        caseload = [((table, q, CASELOAD), 1.0), ((table, q, STARTS), -1.0), (started, 1.0)]
        queue = [
            ((table, q, WAITING), 1.0),
            ((table, q, REFERRALS), -1.0),
            ((table, q, STARTS), 1.0),
            (waiting, 1.0),
        ]
        if q > 0:
            caseload.append(((table, q - 1, CASELOAD), -1.0))
            queue.append(((table, q - 1, WAITING), -1.0))
        out += [Relation(tuple(caseload)), Relation(tuple(queue))]
    return out


def flow_unseen(table: str, trend: pd.DataFrame) -> dict[str, float]:
    """The true values of :func:`flow_relations`' unseen quantities: a quarter's closures of
    started cases (previous caseload + starts - caseload) and of cases closed while waiting
    (the rest of its closures). Both count people, so the protection watches them: one
    referral closed before starting, worked out exactly from four shown figures, is a person.
    """
    caseload = trend[CASELOAD].astype(float)
    started = caseload.shift(1, fill_value=0.0) + trend[STARTS] - caseload
    waiting = trend[CLOSURES] - started
    out: dict[str, float] = {}
    for q, label in enumerate(trend["Quarter"]):
        # both, always: a quarter's one closure of a started case can be pinned by the
        # caseloads and starts while the closures cell, hidden, is not (a sweep of a
        # 40-client series, 2026-12-07)
        out[f"{table}: closures of started cases, {label}"] = float(started.iloc[q])
        out[f"{table}: closures while waiting, {label}"] = float(waiting.iloc[q])
    return out


def activity_tables(clients: pd.DataFrame, period: Period) -> list[SummaryTable]:
    """The quarterly trend, this quarter's closures by reason, and cumulative totals."""
    clients = service_clients(clients)
    first = clients["referral_date"].min()
    quarters = quarters_between(first.date() if pd.notna(first) else period.start, period)
    trend = pd.DataFrame([{"Quarter": q.label, **quarter_counts(clients, q)} for q in quarters])
    closed = _col(clients, "end_date")
    reasons = (
        clients["closure_reason"].astype(object).fillna(NOT_RECORDED)
        if "closure_reason" in clients
        else pd.Series(NOT_RECORDED, index=clients.index)
    )
    rows = []
    # every code, always, in the contract's order: a row that came and went would tell
    for label, start in (("Quarter", period.start), ("To date", None)):
        mask = closed <= pd.Timestamp(period.end)
        if start is not None:
            mask &= closed >= pd.Timestamp(start)
        counts = reasons[mask.fillna(False)].value_counts()
        for reason in (*CLOSURE_REASONS, NOT_RECORDED):
            rows.append(
                {
                    "Window": label,
                    "Closure reason": reason.replace("_", " "),
                    CLOSURES: int(counts.get(reason, 0)),
                }
            )
        rows.append({"Window": label, "Closure reason": "All closures", CLOSURES: int(mask.sum())})
    by_reason = pd.DataFrame(rows, columns=["Window", "Closure reason", CLOSURES])
    counts = (REFERRALS, STARTS, CLOSURES, CASELOAD, WAITING)
    last = len(trend) - 1
    per_window = len(CLOSURE_REASONS) + 2
    # the closures table repeats the trend's closures: this quarter's, and the sum of all
    same = [
        Relation(
            ((("closures", per_window - 1, CLOSURES), 1.0), (("activity", last, CLOSURES), -1.0))
        ),
        Relation(
            (
                (("closures", 2 * per_window - 1, CLOSURES), 1.0),
                *((("activity", q, CLOSURES), -1.0) for q in range(len(trend))),
            )
        ),
    ]
    return [
        SummaryTable(
            "activity",
            "Activity by quarter (service cohort)",
            trend,
            counts=counts,
            derived={MEDIAN_DAYS: CLOSURES},
            formats={MEDIAN_DAYS: "0"},
            note="Caseload and waiting list are counted on the last day of each quarter.",
            chart="line",
            relations=tuple(flow_relations("activity", list(trend["Quarter"]))),
            unseen=flow_unseen("activity", trend) if len(trend) else {},
        ),
        SummaryTable(
            "closures",
            "Closures by reason",
            by_reason,
            counts=(CLOSURES,),
            total_row="All closures",
            relations=tuple(same),
        ),
    ]

"""Payment-by-results outcomes: fixed-horizon outcomes from each client's start, as outcome
funders pay on them (the Pause Plymouth social impact bond, Life Chances Fund 2019-2024):

- *not pregnant*: no pregnancy known within ``pregnancy_months`` (18) of starting, having
  completed ``engagement_months`` (12) of the programme;
- *no new proceedings*: no care proceedings (with an order in ``orders``, or still open) issued
  within ``proceedings_months`` (36) of starting.

Each client is *met*, *not met* or *lost to follow-up* (moved away or died before the horizon
with the outcome undecided) on the day that is decided, and *not yet assessable* before it: never is
"not yet" counted as success. The return counts decisions by window, each window a sum of
quarterly quantities (as ``windows.py`` does), and those not yet assessable at each window's end
from the starts of the activity table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from evaltool.analysis.activity import STARTS
from evaltool.analysis.windows import Window, quarter_sum, whole
from evaltool.data.contract import cohort_of, service_clients
from evaltool.instruments.results import Relation, SummaryTable
from evaltool.periods import financial_year, quarters_between

MET, NOT_MET, LOST, NOT_YET = "met", "not met", "lost to follow-up", "not yet assessable"
LOST_REASONS = ("moved_away", "died")


@dataclass(frozen=True)
class Horizons:
    pregnancy_months: int = 18
    engagement_months: int = 12
    proceedings_months: int = 36
    orders: tuple[str, ...] = ("interim_care_order", "care_order", "placement_order")


def _months(dates: pd.Series, months: int) -> pd.Series:
    return dates + pd.DateOffset(months=months)


def pbr_clients(
    clients: pd.DataFrame,
    proceedings: pd.DataFrame | None,
    pregnancies: pd.DataFrame | None,
    as_of: dt.date,
    h: Horizons = Horizons(),
    cohorts: bool = False,
) -> pd.DataFrame:
    """One row per service client started by ``as_of`` and outcome: the status on ``as_of``
    and the day it was decided (blank while not yet assessable). For internal use: it names
    clients by their reference. ``cohorts``: the comparison cohort too, measured from its
    referral date (for comparing the cohorts; its not-pregnant outcome, which needs months of
    the programme, means nothing)."""
    day = pd.Timestamp(as_of)
    if cohorts:
        c = clients.copy()
        service = cohort_of(c) == "service"
        c["start_date"] = c["start_date"].where(service, c["referral_date"])
        c["cohort"] = cohort_of(c)
    else:
        c = service_clients(clients)
    c = c[c["start_date"].notna() & (c["start_date"] <= day)]
    start = c["start_date"]
    end = c["end_date"] if "end_date" in c else pd.Series(pd.NaT, index=c.index)
    end = end.where(end <= day)
    moved = (
        c["closure_reason"].isin(LOST_REASONS)
        if "closure_reason" in c
        else pd.Series(False, c.index)
    )
    rows = []

    def first_after(table: pd.DataFrame | None, column: str, horizon: pd.Series, keep=None):
        if table is None or table.empty:
            return pd.Series(pd.NaT, index=c.index)
        t = table if keep is None else table[keep(table)]
        t = t.merge(c[["client_id", "start_date"]], on="client_id")
        t = t.assign(_h=t["client_id"].map(pd.Series(horizon.to_numpy(), index=c["client_id"])))
        t = t[(t[column] > t["start_date"]) & (t[column] <= t["_h"]) & (t[column] <= day)]
        first = t.groupby("client_id")[column].min()
        return c["client_id"].map(first)

    # not pregnant within the horizon, having completed the engagement months
    horizon = _months(start, h.pregnancy_months)
    engaged = _months(start, h.engagement_months)
    pregnant = first_after(pregnancies, "known_date", horizon)
    left_early = end.notna() & (end < engaged)
    rows.append(
        _decide(
            c,
            "not pregnant",
            horizon,
            day,
            [
                (pregnant.notna(), pregnant, NOT_MET),
                (left_early & moved & pregnant.isna(), end, LOST),
                (left_early & ~moved & pregnant.isna(), end, NOT_MET),
                (moved & end.notna() & (end < horizon) & pregnant.isna(), end, LOST),
            ],
        )
    )
    # no new care proceedings within the horizon
    horizon = _months(start, h.proceedings_months)

    def counted(p: pd.DataFrame) -> pd.Series:
        if "outcome" not in p:  # no outcomes recorded: every set counts
            return pd.Series(True, index=p.index)
        return p["outcome"].isna() | p["outcome"].isin(h.orders)

    issued = first_after(proceedings, "issued_date", horizon, counted)
    rows.append(
        _decide(
            c,
            "no new proceedings",
            horizon,
            day,
            [
                (issued.notna(), issued, NOT_MET),
                (moved & end.notna() & (end < horizon) & issued.isna(), end, LOST),
            ],
        )
    )
    return pd.concat(rows, ignore_index=True)


def _decide(c, outcome: str, horizon: pd.Series, day: pd.Timestamp, rules) -> pd.DataFrame:
    """The first rule that holds decides (on its date); else met at the horizon if it has
    passed, else not yet assessable."""
    status = pd.Series(NOT_YET, index=c.index, dtype=object)
    decided = pd.Series(pd.NaT, index=c.index, dtype="datetime64[ns]")
    open_ = pd.Series(True, index=c.index)
    for mask, when, value in rules:
        hit = open_ & mask.fillna(False).astype(bool)
        status[hit], decided[hit] = value, when[hit]
        open_ &= ~hit
    passed = open_ & (horizon <= day)
    status[passed], decided[passed] = MET, horizon[passed]
    return pd.DataFrame(
        {
            "client_id": c["client_id"],
            "outcome": outcome,
            "start_date": c["start_date"],
            "horizon": horizon,
            "status": status,
            "decided": decided,
        }
    )


def pbr_table(
    per_client: pd.DataFrame, windows: list[Window], activity: SummaryTable
) -> SummaryTable:
    """Decisions in each window, and those not yet assessable at its end, per outcome."""
    name = "pbr"
    trend = activity.data.reset_index(drop=True)
    row_of = {label: r for r, label in enumerate(trend["Quarter"])}
    rows, relations = [], []
    counts = (
        *(f"Decided: {s}" for s in (MET, NOT_MET, LOST)),
        f"{NOT_YET.capitalize()} at the end",
    )
    for outcome, part in per_client.groupby("outcome", sort=False):
        for window in windows:
            r = len(rows)
            lo, hi = pd.Timestamp(window.start), pd.Timestamp(window.end)
            inside = part["decided"].between(lo, hi)
            row = {"Outcome": outcome, "Window": window.name, "Quarters": window.label}
            if window.before_service:  # nobody to count: no figures, not zeros
                rows.append(row | dict.fromkeys(counts))
                continue
            for status in (MET, NOT_MET, LOST):
                row[f"Decided: {status}"] = int((inside & (part["status"] == status)).sum())
                relations.append(
                    quarter_sum(
                        (name, r, f"Decided: {status}"),
                        f"{name}: {outcome}, {status}",
                        window.quarters,
                    )
                )
            started = part["start_date"] <= hi
            undecided = part["decided"].isna() | (part["decided"] > hi)
            row[f"{NOT_YET.capitalize()} at the end"] = int((started & undecided).sum())
            # not yet at the end = everyone started by then less everyone decided by then
            upto = quarters_between(windows[-1].start, window.quarters[-1])
            terms = [((name, r, f"{NOT_YET.capitalize()} at the end"), 1.0)]
            terms += [
                ((activity.name, row_of[q.label], STARTS), -1.0) for q in upto if q.label in row_of
            ]
            terms += [
                (f"{name}: {outcome}, {status}, {q.code}", 1.0)
                for q in upto
                for status in (MET, NOT_MET, LOST)
            ]
            relations.append(Relation(tuple(terms)))
            rows.append(row)
    return SummaryTable(
        name,
        "Payment-by-results outcomes (service cohort)",
        whole(pd.DataFrame(rows), counts),
        counts=counts,
        note="Decided in the window: met at the horizon, not met on the day it was missed, lost "
        "to follow-up on the day the parent moved away. Not yet assessable: started by the "
        "window's end, not yet decided then (never counted as met).",
        relations=tuple(relations),
    )


def pbr_cohorts(
    per_client: pd.DataFrame,
    windows: list[Window],
    activity: SummaryTable,
    by_window: SummaryTable,
) -> SummaryTable:
    """Each outcome by financial year of starting (as a social impact bond pays on cohorts):
    started, met, not met, lost to follow-up, and not yet assessable at the period end.

    Every count is declared as what a reader could build it from: a cohort's decisions are
    sums of quarterly quantities shared by every return, and they add up over the cohorts
    to the all-time decisions of the window table (``by_window``); a cohort's starts are the
    activity table's starts in its quarters; started = met + not met + lost + not yet."""
    name = "pbr-cohort"
    trend = activity.data.reset_index(drop=True)
    row_of = {label: r for r, label in enumerate(trend["Quarter"])}
    every = windows[-1].quarters  # all time: the quarters up to the period end
    start = per_client["start_date"]
    fy = (start.dt.year - (start.dt.month < 4).astype(int)).map(financial_year)
    per_client = per_client.assign(cohort=fy)
    years = sorted(fy.unique())
    rows, relations = [], []
    not_yet = f"{NOT_YET.capitalize()} at the end"
    for outcome, part in per_client.groupby("outcome", sort=False):
        for year in years:
            r = len(rows)
            mine = part[part["cohort"] == year]
            row = {"Outcome": outcome, "Financial year of starting": year, "Started": len(mine)}
            for status in (MET, NOT_MET, LOST):
                row[status.capitalize()] = int((mine["status"] == status).sum())
                relations.append(
                    quarter_sum(
                        (name, r, status.capitalize()),
                        f"{name}: {outcome}, {year}, {status}",
                        every,
                    )
                )
            row[not_yet] = int((mine["status"] == NOT_YET).sum())
            counted = [s.capitalize() for s in (MET, NOT_MET, LOST)] + [not_yet]
            relations.append(  # started = met + not met + lost + not yet
                Relation((((name, r, "Started"), -1.0), *(((name, r, c), 1.0) for c in counted)))
            )
            in_year = [
                q for q in every if financial_year(q.start.year - (q.start.month < 4)) == year
            ]
            if all(q.label in row_of for q in in_year):  # the starts shown quarter by quarter
                relations.append(
                    Relation(
                        (
                            ((name, r, "Started"), 1.0),
                            *(((activity.name, row_of[q.label], STARTS), -1.0) for q in in_year),
                        )
                    )
                )
            rows.append(row)
        # the cohorts' decisions add up to the window table's all-time decisions (with the
        # quarterly sums, a reader differencing two returns learns no more than this says)
        all_time = windows[-1].name
        w = by_window.data.reset_index(drop=True)
        total = int(w.index[(w["Outcome"] == outcome) & (w["Window"] == all_time)][0])
        mine = [i for i, row in enumerate(rows) if row["Outcome"] == outcome]
        for status in (MET, NOT_MET, LOST):
            relations.append(
                Relation(
                    (
                        ((by_window.name, total, f"Decided: {status}"), -1.0),
                        *(((name, i, status.capitalize()), 1.0) for i in mine),
                    )
                )
            )
    return SummaryTable(
        name,
        "Payment-by-results outcomes by financial year of starting (service cohort)",
        pd.DataFrame(rows),
        counts=("Started", *(s.capitalize() for s in (MET, NOT_MET, LOST)), not_yet),
        note="Parents who started in each financial year (April to March), and where each "
        "outcome stands at the end of the period: met, not met, lost to follow-up, or not yet "
        "assessable (its horizon has not passed; never counted as met). A cohort's figures "
        "change until all its parents have reached the horizon. Until then 'not met' runs "
        "ahead of 'met' (a miss is known on its day, a success only at the horizon): compare "
        "shares met only for cohorts with none not yet assessable.",
        relations=tuple(relations),
    )

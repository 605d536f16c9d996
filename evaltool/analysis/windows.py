"""The five windows of the Summary, and the key figures counted in each.

A commissioner asks how this quarter compares with the last one, with the same quarter a year
ago, with the year so far and with everything since the service began. Every window is a run of
whole quarters, so each figure is a sum of quarterly quantities: the identity a reader could
write between windows (and between this return and the earlier ones) is declared to disclosure
control as exactly that sum.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from evaltool.analysis.activity import CASELOAD, CLOSURES, REFERRALS, STARTS
from evaltool.instruments.results import Ref, Relation, SummaryTable
from evaltool.periods import Period, financial_year, make_period, period_of, quarters_between

THIS_QUARTER, LAST_QUARTER, A_YEAR_AGO = "This quarter", "Last quarter", "Same quarter last year"
ALL_TIME = "All time"
#: a window that ended before anyone was referred: no figures, and this in its label
BEFORE_SERVICE = "before the service began"
CASELOAD_END = "Active caseload at the end"
#: "a year" after joining, in days
YEAR_DAYS = 365

#: the recurrence table's quarterly quantities are the same in every return that uses them
RECURRENCE = "recurrence-year"
FOLLOWED, RETURNED, SHARE = (
    "Parents followed for a year",
    "With new care proceedings within the year",
    "Share with new care proceedings within the year",
)


@dataclass(frozen=True)
class Window:
    """A named run of whole quarters ending on or before the period end."""

    name: str  # "This quarter"
    label: str  # what it covers: "2025-26 Q3", "2025-26 Q1 to Q4", "to 31 Mar 2026"
    quarters: tuple[Period, ...]
    #: it ended before the service's first referral: no figures, said in its label
    before_service: bool = False

    @property
    def start(self) -> dt.date:
        return self.quarters[0].start

    @property
    def end(self) -> dt.date:
        return self.quarters[-1].end


def year_to_date_name(calendar: str) -> str:
    return "Financial year to date" if calendar == "financial" else "Year to date"


def summary_windows(period: Period, first: dt.date, began: dt.date | None = None) -> list[Window]:
    """This quarter, last quarter, the same quarter last year, the (financial) year to date
    and all time (from the quarter of ``first``, the first referral). A window that ended
    before ``began`` (the service's first referral; default ``first``) has no figures: it is
    marked ``before_service`` and says so in its label."""
    last = period.previous()
    year_ago = make_period(period.year - 1, period.quarter, period.calendar)
    year = tuple(make_period(period.year, q, period.calendar) for q in range(1, period.quarter + 1))
    span = year[0].label if len(year) == 1 else f"{year[0].label} to Q{period.quarter}"
    every = tuple(quarters_between(min(first, period.start), period))
    began = began or first

    def window(name: str, label: str, quarters: tuple[Period, ...]) -> Window:
        before = quarters[-1].end < began
        return Window(name, label + (f", {BEFORE_SERVICE}" if before else ""), quarters, before)

    return [
        window(THIS_QUARTER, period.label, (period,)),
        window(LAST_QUARTER, last.label, (last,)),
        window(A_YEAR_AGO, year_ago.label, (year_ago,)),
        window(year_to_date_name(period.calendar), span, year),
        window(ALL_TIME, f"to {period.end:%d %b %Y}", every),
    ]


def activity_by_window(activity: SummaryTable, windows: list[Window]) -> SummaryTable:
    """Referrals, starts and closures in each window, and the caseload at its end: sums of
    the rows of the activity table (whose quarters are the same cells in every return)."""
    trend = activity.data.reset_index(drop=True)
    row_of = {label: r for r, label in enumerate(trend["Quarter"])}
    rows, relations = [], []
    for w, window in enumerate(windows):
        mine = [row_of[q.label] for q in window.quarters if q.label in row_of]
        row = {"Window": window.name, "Quarters": window.label}
        if window.before_service:  # nothing to count: no figures, not zeros
            rows.append(row | dict.fromkeys((REFERRALS, STARTS, CLOSURES, CASELOAD_END)))
            continue
        for col in (REFERRALS, STARTS, CLOSURES):
            row[col] = int(trend.loc[mine, col].sum()) if mine else 0
            relations.append(
                Relation(
                    (
                        (("activity-windows", w, col), 1.0),
                        *(((activity.name, r, col), -1.0) for r in mine),
                    )
                )
            )
        end = row_of.get(window.quarters[-1].label)
        row[CASELOAD_END] = int(trend.at[end, CASELOAD]) if end is not None else 0
        terms = [(("activity-windows", w, CASELOAD_END), 1.0)]
        if end is not None:
            terms.append(((activity.name, end, CASELOAD), -1.0))
        relations.append(Relation(tuple(terms)))
        rows.append(row)
    return SummaryTable(
        "activity-windows",
        "Activity in each window (service cohort)",
        whole(pd.DataFrame(rows), (REFERRALS, STARTS, CLOSURES, CASELOAD_END)),
        counts=(REFERRALS, STARTS, CLOSURES, CASELOAD_END),
        note="Referrals, starts and closures: people whose date falls in the window (the sum of "
        "its quarters in the table below). Active caseload: on the window's last day. A window "
        f"that ended before the first referral has no figures ({BEFORE_SERVICE}).",
        relations=tuple(relations),
    )


def whole(frame: pd.DataFrame, counts: tuple[str, ...]) -> pd.DataFrame:
    """Counts as whole numbers where a window before the service has none (not 6.0)."""
    if set(counts) <= set(frame) and frame[list(counts)].isna().any().any():
        for c in counts:  # Python ints and None (a nullable dtype is no count to disclosure)
            whole = frame[c].astype("Int64").astype(object)
            frame[c] = whole.where(whole.notna(), None)
    return frame


def quarter_sum(cell: Ref, name: str, quarters) -> Relation:
    """``cell`` is the sum of one quantity per quarter (``"{name}, {quarter code}"``), unseen
    by the reader and the same in every return that names it."""
    return Relation(((cell, 1.0), *((f"{name}, {q.code}", -1.0) for q in quarters)))


def at_most(smaller: str, larger: str) -> Relation:
    """One unseen quantity is no greater than another (no more returns than followed)."""
    return Relation(((smaller, 1.0), (larger, -1.0)), "<=")


def year_on(table: pd.DataFrame, days: int) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    """The service's rows of a survival table; who had new proceedings within ``days`` of
    joining; who is counted (followed for all of it, or returned in it); and the day it ends.

    The year is the first year *after joining* (``joined``; the origin where it is later, as
    for the conclusion of an index still open on joining): a commissioner reads "of parents who
    joined us, the share with new proceedings within a year". A year from an index issued
    before joining would count time in which no new set could be seen (immortal time)."""
    t = table[table["cohort"] == "service"]
    after = t["time"] - t["entry"]  # days followed after joining
    returned = (t["event"] == 1) & (after <= days)
    followed = returned | (after >= days)
    return t, returned, followed, t["origin"] + pd.to_timedelta(t["entry"] + days, unit="D")


def recurrence_by_window(
    table: pd.DataFrame, windows: list[Window], entry_words: str, days: int = YEAR_DAYS
) -> SummaryTable:
    """Of the service's parents whose first year after joining ended in the window (and who
    were followed for all of it, or had new proceedings in it), how many had new care
    proceedings within that year (``year_on``). A proportion of people with complete
    follow-up: it needs no model, and a quarter's figure never changes once the quarter is
    over."""
    _, returned, followed, ended = year_on(table, days)
    rows, relations = [], []
    # every quarter's, watched like a hidden cell where from 1 to the threshold: not only
    # the newest (what this return adds), since this return's figures can narrow an earlier
    # quarter's too (its total less the one sent last quarter: found by an adversary)
    unseen = {}
    for q in {q.code: q for w in windows for q in w.quarters}.values():
        inside = followed & ended.between(pd.Timestamp(q.start), pd.Timestamp(q.end))
        unseen[f"{RECURRENCE}: {FOLLOWED}, {q.code}"] = int(inside.sum())
        unseen[f"{RECURRENCE}: {RETURNED}, {q.code}"] = int((inside & returned).sum())
    for w, window in enumerate(windows):
        if window.before_service:  # nobody to follow: no figures, not zeros
            rows.append(
                {"Window": window.name, "Quarters": window.label}
                | dict.fromkeys((FOLLOWED, RETURNED, SHARE))
            )
            continue
        inside = followed & ended.between(pd.Timestamp(window.start), pd.Timestamp(window.end))
        n, k = int(inside.sum()), int((inside & returned).sum())
        rows.append(
            {
                "Window": window.name,
                "Quarters": window.label,
                FOLLOWED: n,
                RETURNED: k,
                SHARE: k / n if n else None,
            }
        )
        for col in (FOLLOWED, RETURNED):
            relations.append(
                quarter_sum((RECURRENCE, w, col), f"{RECURRENCE}: {col}", window.quarters)
            )
    for q in {q.code for w in windows for q in w.quarters}:
        relations.append(
            at_most(f"{RECURRENCE}: {RETURNED}, {q}", f"{RECURRENCE}: {FOLLOWED}, {q}")
        )
    return SummaryTable(
        RECURRENCE,
        "New care proceedings within a year (service cohort)",
        whole(pd.DataFrame(rows), (FOLLOWED, RETURNED)).astype({SHARE: float}),
        counts=(FOLLOWED, RETURNED),
        derived={SHARE: (RETURNED, FOLLOWED)},
        percent=(SHARE,),
        ratios={SHARE: (RETURNED, FOLLOWED)},
        note=f"Parents whose first year after joining us ended in the window ({entry_words}), "
        "counted if followed for the whole year after joining or if new proceedings were issued "
        "in it; the share of them with new care proceedings issued within that year. Time "
        "before joining is not counted. Every parent counted has a full year of follow-up, so "
        "no estimate is needed.",
        relations=tuple(relations),
        unseen=unseen,
    )


#: the groups the recurrence figure is split by on the return: (heading, column, categories)
STRATA = "recurrence-groups"


def recurrence_by_group(table: pd.DataFrame, window: Window, days: int = YEAR_DAYS) -> SummaryTable:
    """The recurrence figure of ``window`` (all time) split by age band at origin, gender and
    the financial year of the origin: each split adds up to the window's figure (declared),
    a category nobody is in is still a row (a row that came and went would tell)."""
    from evaltool.analysis.survival.table import AGE_BANDS
    from evaltool.data.contract import GENDERS

    t, returned, followed, ended = year_on(table, days)
    inside = followed & ended.between(pd.Timestamp(window.start), pd.Timestamp(window.end))
    # every financial year from the service's first to the period's (the calendar, not the
    # data, adds a row); origins before the first year share one row
    first = period_of(window.start, "financial").year
    last = period_of(window.end, "financial").year
    years = [financial_year(y) for y in range(first, last + 1)]
    before = f"before {years[0]}"
    if "origin_year" in t:
        year = t["origin_year"].str[:4].astype(float)
        t = t.assign(origin_year=t["origin_year"].where(year >= first, before))
    splits = [
        ("Age at origin", "age_band", [label for _, _, label in AGE_BANDS]),
        ("Gender", "gender", list(GENDERS)),
        ("Financial year of origin", "origin_year", [before, *years]),
    ]
    rows, relations = [], []
    unseen = {}
    for heading, column, categories in splits:
        values = (
            t[column].astype(object).where(t[column].notna(), None)
            if column in t
            else pd.Series(None, index=t.index, dtype=object)
        )
        start = len(rows)
        for category in [*categories, None]:
            mine = inside & (values == category if category is not None else values.isna())
            n, k = int(mine.sum()), int((mine & returned).sum())
            group = category if category is not None else "not recorded"
            for q in window.quarters:  # every quarter's (see recurrence_by_window)
                now = mine & ended.between(pd.Timestamp(q.start), pd.Timestamp(q.end))
                unseen[f"{STRATA}: {heading}={group}, {FOLLOWED}, {q.code}"] = int(now.sum())
                unseen[f"{STRATA}: {heading}={group}, {RETURNED}, {q.code}"] = int(
                    (now & returned).sum()
                )
            rows.append(
                {
                    "Split by": heading,
                    "Group": category if category is not None else "not recorded",
                    FOLLOWED: n,
                    RETURNED: k,
                    SHARE: k / n if n else None,
                }
            )
        # each cell is the sum of its quarters' counts, and in each quarter the groups add up
        # to the quarter's count of the table above: shared by every return, so that neither
        # this return's total nor last quarter's figure can be subtracted to give a quarter's
        names = [f"{heading}={rows[r]['Group']}" for r in range(start, len(rows))]
        for col in (FOLLOWED, RETURNED):
            for r, name in zip(range(start, len(rows)), names, strict=True):
                relations.append(
                    quarter_sum((STRATA, r, col), f"{STRATA}: {name}, {col}", window.quarters)
                )
            for q in window.quarters:
                relations.append(
                    Relation(
                        (
                            *((f"{STRATA}: {name}, {col}, {q.code}", 1.0) for name in names),
                            (f"{RECURRENCE}: {col}, {q.code}", -1.0),
                        )
                    )
                )
        for name in names:
            for q in window.quarters:
                relations.append(
                    at_most(
                        f"{STRATA}: {name}, {RETURNED}, {q.code}",
                        f"{STRATA}: {name}, {FOLLOWED}, {q.code}",
                    )
                )
    return SummaryTable(
        STRATA,
        "New care proceedings within a year, by group (service cohort, all time)",
        pd.DataFrame(rows),
        counts=(FOLLOWED, RETURNED),
        derived={SHARE: (RETURNED, FOLLOWED)},
        percent=(SHARE,),
        note="The all-time figure of the table above, split three ways; each split adds up to "
        "it. Age at the origin (year of the origin less year of birth).",
        relations=tuple(relations),
        unseen=unseen,
    )

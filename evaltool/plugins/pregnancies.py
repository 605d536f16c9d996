"""Pregnancies and their outcomes, and contraception uptake (reported neutrally).

Rate: pregnancies known during involvement per 100 client-years of involvement, with an exact
(Garwood) Poisson 95% interval: lower = chi2(a/2, 2k)/2, upper = chi2(1-a/2, 2k+2)/2, over T.
Contraception is never a condition of service: uptake is reported as a count of choices made.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from evaltool.data.columns import CATEGORY, DATE, ID, Column
from evaltool.data.contract import service_clients
from evaltool.data.specs import TableSpec
from evaltool.instruments.base import Context, Definition, Instrument
from evaltool.instruments.hookspecs import hookimpl
from evaltool.instruments.kit import in_window, setting
from evaltool.instruments.results import Cite, Headline, Relation, SummaryTable

OUTCOMES = ("ongoing", "live_birth", "miscarriage", "termination")
CARE_STATUS = ("with_parent", "with_family", "in_care", "proceedings_issued")
METHODS = ("larc", "short_acting", "other")
DAYS_PER_YEAR = 365.25
PARTS = ("Before start", "During involvement", "After closure", "Client never started")


def poisson_exact_ci(events: int, exposure: float, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) confidence interval for a Poisson rate ``events / exposure``."""
    from scipy.stats import chi2

    alpha = 1 - level
    lower = chi2.ppf(alpha / 2, 2 * events) / 2 if events > 0 else 0.0
    upper = chi2.ppf(1 - alpha / 2, 2 * events + 2) / 2
    return lower / exposure, upper / exposure


def involvement_years(clients: pd.DataFrame, start: dt.date | None, end: dt.date) -> float:
    """Client-years of involvement (start_date to end_date, open cases to ``end``) in a window."""
    if "start_date" not in clients:
        return 0.0
    service = service_clients(clients)
    begin = service["start_date"]
    finish = (
        service["end_date"].fillna(pd.Timestamp(end))
        if "end_date" in service
        else (pd.Series(pd.Timestamp(end), index=service.index))
    )
    finish = finish.clip(upper=pd.Timestamp(end))
    if start is not None:
        begin = begin.clip(lower=pd.Timestamp(start))
    days = (finish - begin).dt.days + 1
    return float(days[days > 0].sum()) / DAYS_PER_YEAR


def timing(data: pd.DataFrame, clients: pd.DataFrame, date_col: str) -> pd.Series:
    """'before', 'during' or 'after' involvement, or 'not started', for each row."""
    cl = clients.set_index("client_id")
    start = data["client_id"].map(cl["start_date"]) if "start_date" in cl else None
    end = data["client_id"].map(cl["end_date"]) if "end_date" in cl else None
    when = pd.Series("not started", index=data.index)
    if start is None:
        return when
    date = data[date_col]
    started = start.notna()
    when[started & (date < start)] = "before"
    after = started & end.notna() & (date > end) if end is not None else started & False
    when[started & (date >= start) & ~after] = "during"
    when[after] = "after"
    return when


def _with_total(counts: pd.Series, label: str, value: str, total: str) -> pd.DataFrame:
    frame = pd.DataFrame(
        {label: [str(i).replace("_", " ") for i in counts.index], value: counts.to_numpy()}
    )
    return pd.concat(
        [frame, pd.DataFrame({label: [total], value: [int(counts.sum())]})], ignore_index=True
    )


class Pregnancies(Instrument):
    kind = "pregnancy_outcomes"
    definition_keys = frozenset({"confidence"})

    def __init__(
        self, name: str, title: str, definition: dict[str, Any] | None = None, source: str = ""
    ) -> None:
        super().__init__(name, title, definition, source)
        self.level = setting(self.definition, "confidence", float, 0.95, source)
        self.table_name = setting(self.definition, "table", str, "pregnancies", source)

    def table(self) -> TableSpec:
        return TableSpec(
            self.table_name,
            (
                Column("client_id", ID, required=True),
                Column("known_date", DATE, required=True),
                Column(
                    "outcome",
                    CATEGORY,
                    choices=OUTCOMES,
                    dated_by="outcome_date",
                    pending="ongoing",
                ),
                Column("outcome_date", DATE),
                Column("baby_care_status", CATEGORY, choices=CARE_STATUS, dated_by="outcome_date"),
            ),
            "Pregnancies known to the service: one row per pregnancy.",
            date_order=(("known_date", "outcome_date"),),
            time_column="known_date",
        )

    def describe_scale(self) -> str:
        return "rate per 100 client-years, exact Poisson CI; outcomes: " + ", ".join(OUTCOMES)

    def score(self, data: pd.DataFrame, ctx: Context) -> pd.DataFrame:
        frame = data.assign(when=timing(data, ctx.clients, "known_date"))
        out = pd.crosstab(frame["client_id"], frame["when"]).add_prefix("pregnancies_")
        out.insert(0, "pregnancies", out.sum(axis=1))
        births = frame[frame["outcome"] == "live_birth"].groupby("client_id").size()
        out["live_births"] = births.reindex(out.index).fillna(0).astype(int)
        return out.reset_index().rename_axis(columns=None)

    def rate_table(self, data: pd.DataFrame, ctx: Context) -> pd.DataFrame:
        when = timing(data, ctx.clients, "known_date")
        rows = []
        for label, start, end in ctx.windows:
            inside = in_window(data["known_date"], start, end)
            k = int((inside & (when == "during")).sum())
            # client-years are days of involvement: a quarter's, to a tenth of a year, bound
            # its caseload, starts and closures (everyone open all quarter adds 91 days), and
            # a rate printed beside its count gives them back. So: over the whole time to date
            # only, in whole years, and the rate and its interval from those whole years (the
            # difference of two returns' "to date" is then the quarter's to within a year)
            years = round(involvement_years(ctx.clients, start, end)) if start is None else 0
            # no pregnancy recorded at all to date: no data, not a rate of 0
            known = years > 0 and in_window(data["known_date"], None, end).any()
            lo, hi = poisson_exact_ci(k, years, self.level) if known else (np.nan, np.nan)
            rows.append(
                {
                    "Window": label,
                    "Pregnancies known": int(inside.sum()),
                    "Before start": int((inside & (when == "before")).sum()),
                    "During involvement": k,
                    "After closure": int((inside & (when == "after")).sum()),
                    "Client never started": int((inside & (when == "not started")).sum()),
                    "Client-years of involvement": years if start is None else np.nan,
                    "Rate per 100 client-years": 100 * k / years if known else np.nan,
                    "Rate CI lower": 100 * lo,
                    "Rate CI upper": 100 * hi,
                }
            )
        return pd.DataFrame(rows)

    def summarise(self, data: pd.DataFrame, ctx: Context) -> list[SummaryTable]:
        rate = self.rate_table(data, ctx)
        todate = data[in_window(data["known_date"], None, ctx.period.end)]
        outcome = todate["outcome"].fillna("not recorded")
        outcomes = outcome.value_counts().reindex([*OUTCOMES, "not recorded"], fill_value=0)
        status = todate.loc[outcome == "live_birth", "baby_care_status"].fillna("not recorded")
        statuses = status.value_counts().reindex([*CARE_STATUS, "not recorded"], fill_value=0)
        pct = int(round(self.level * 100))
        by_outcome = _with_total(outcomes, "Outcome", "Pregnancies", "All pregnancies")
        by_status = _with_total(statuses, "Care status", "Babies", "All live births")
        to_date = next(i for i, (_, start, _) in enumerate(ctx.windows) if start is None)
        live = list(by_outcome["Outcome"]).index("live birth")
        # what the notes say a reader can rely on: every pregnancy known to date has an
        # outcome row, and a baby's status is one per live birth
        same = (
            Relation(
                (
                    (("pregnancy-outcomes", len(by_outcome) - 1, "Pregnancies"), 1.0),
                    (("pregnancy-rate", to_date, "Pregnancies known"), -1.0),
                )
            ),
            Relation(
                (
                    (("baby-care-status", len(by_status) - 1, "Babies"), 1.0),
                    (("pregnancy-outcomes", live, "Pregnancies"), -1.0),
                )
            ),
        )
        return [
            SummaryTable(
                "pregnancy-rate",
                f"{self.title}: known in the window, and the rate during involvement",
                rate,
                counts=PARTS + ("Pregnancies known",),
                derived={  # per client-year: not applicable where there are none
                    c: ("During involvement", "Client-years of involvement")
                    for c in ("Rate per 100 client-years", "Rate CI lower", "Rate CI upper")
                },
                sums={"Pregnancies known": PARTS},
                formats={
                    "Client-years of involvement": "0",
                    "Rate per 100 client-years": "0.0",
                    "Rate CI lower": "0.0",
                    "Rate CI upper": "0.0",
                },
                note=f"Exact Poisson {pct}% interval. Involvement runs from start date "
                "to end date (open cases: to the period end); client-years are given to date "
                "only, in whole years, and the rate is worked out from them (a quarter's, or "
                "a finer figure, would give the quarter's caseload away). 'Pregnancies "
                "known' is the sum of the four columns after it, and matches the outcome "
                "table's total.",
            ),
            SummaryTable(
                "pregnancy-outcomes",
                f"{self.title}: outcomes to date",
                by_outcome,
                counts=("Pregnancies",),
                total_row="All pregnancies",
                relations=same,
            ),
            SummaryTable(
                "baby-care-status",
                f"{self.title}: where babies born live are living",
                by_status,
                counts=("Babies",),
                total_row="All live births",
            ),
        ]

    def headline(self, data: pd.DataFrame, ctx: Context) -> Headline:
        pct = int(round(self.level * 100))
        return Headline(
            "{} pregnancies per 100 years of involvement (100 parents each with us for a year) "
            f"({pct}% CI {{}} to {{}})",
            tuple(
                Cite("pregnancy-rate", col, 1)
                for col in ("Rate per 100 client-years", "Rate CI lower", "Rate CI upper")
            ),
        )

    def definitions(self) -> list[Definition]:
        return [
            Definition(
                "Pregnancy rate",
                "Pregnancies known during involvement per 100 "
                "client-years of involvement (start to end date, open cases to the period "
                "end, 365.25 days a year), with an exact Poisson interval "
                "(Garwood 1936: chi-square quantiles).",
                "Garwood (1936) Biometrika 28",
            ),
            Definition(
                "Pregnancy timing",
                "During involvement: known on or after the start date "
                "and on or before the end date; after closure: known after the end date.",
                "evaltool",
            ),
        ]


class Contraception(Instrument):
    kind = "contraception"

    def __init__(
        self, name: str, title: str, definition: dict[str, Any] | None = None, source: str = ""
    ) -> None:
        super().__init__(name, title, definition, source)
        self.table_name = setting(self.definition, "table", str, "contraception", source)

    def table(self) -> TableSpec:
        return TableSpec(
            self.table_name,
            (
                Column("client_id", ID, required=True),
                Column("started_date", DATE, required=True),
                Column("method", CATEGORY, choices=METHODS),
            ),
            "Contraception a client chose to start: one row per start.",
            time_column="started_date",
        )

    def describe_scale(self) -> str:
        return "methods: " + ", ".join(METHODS)

    def score(self, data: pd.DataFrame, ctx: Context) -> pd.DataFrame:
        out = pd.crosstab(data["client_id"], data["method"].fillna("not recorded"))
        return out.add_prefix("started_").reset_index().rename_axis(columns=None)

    def summarise(self, data: pd.DataFrame, ctx: Context) -> list[SummaryTable]:
        when = timing(data, ctx.clients, "started_date")
        rows = []
        for label, start, end in ctx.windows:
            part = data[in_window(data["started_date"], start, end) & (when == "during")]
            row = {
                "Window": label,
                "Clients who chose to start contraception": part["client_id"].nunique(),
            }
            for m in METHODS:
                row[f"Method: {m.replace('_', ' ')}"] = part.loc[
                    part["method"] == m, "client_id"
                ].nunique()
            rows.append(row)
        table = pd.DataFrame(rows)
        total = "Clients who chose to start contraception"
        methods = [c for c in table.columns if c.startswith("Method: ")]
        relations = []  # a client may start two methods: each is at most all, all at most the sum
        for r in range(len(table)):
            relations += [
                Relation(((("contraception", r, m), 1), (("contraception", r, total), -1)), "<=")
                for m in methods
            ]
            relations.append(
                Relation(
                    (
                        (("contraception", r, total), 1),
                        *((("contraception", r, m), -1) for m in methods),
                    ),
                    "<=",
                )
            )
        return [
            SummaryTable(
                "contraception",
                f"{self.title}: uptake during involvement",
                table,
                counts=tuple(c for c in table.columns if c != "Window"),
                note="Contraception is never a condition of the service; these are "
                "choices clients made, counted once per client.",
                relations=tuple(relations),
            )
        ]

    def headline(self, data: pd.DataFrame, ctx: Context) -> Headline:
        return Headline(
            "{} parents chose to start contraception while working with us",
            (Cite("contraception", "Clients who chose to start contraception", 1, "{:,.0f}"),),
        )

    def definitions(self) -> list[Definition]:
        return [
            Definition(
                "Contraception uptake",
                "Clients who chose to start a method during "
                "involvement; reported neutrally, never a condition of service.",
                "evaltool",
            )
        ]


@hookimpl
def evaltool_instrument_kinds() -> list[type[Instrument]]:
    return [Pregnancies, Contraception]

"""Time to next care proceedings: the survival table, Kaplan-Meier, log-rank, Cox, benchmark.

Origin (``survival.origin``): ``index`` = the conclusion of the latest proceedings concluded on
or before the client's start date (comparison cohort: referral date); ``start`` = the start date
itself (comparison cohort: referral date). Event: the first proceedings issued after the origin,
up to and including the extract date. Censoring: the extract date, or the end date for clients
lost to follow-up (closure reason in ``LOST_REASONS``).

Kaplan-Meier is computed here (Greenwood variance) so that both confidence-interval transforms
R offers can be given: ``log`` (R's default) and ``log-log`` (lifelines' default). Log-rank and
Cox (Efron ties) come from lifelines; results are checked against R's survival package.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltool.data.contract import CONTRACT_DOC, CONTRACT_VERSION
from evaltool.errors import AnalysisError
from evaltool.instruments.base import Definition
from evaltool.instruments.results import SummaryTable

if TYPE_CHECKING:
    from evaltool.config import Benchmark, Settings

LOST_REASONS = ("moved_away",)
AGE_BANDS = ((0, 20, "under 20"), (20, 25, "20-24"), (25, 200, "25 and over"))
DAYS_PER_MONTH = 365.25 / 12
MIN_EVENTS_PER_COVARIATE = 10


# --- the survival table ------------------------------------------------------------------------


def survival_table(
    clients: pd.DataFrame, proceedings: pd.DataFrame, extract_date: Any, origin: str = "index"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per client analysed (origin, time, event, covariates), and the exclusions.

    Returns ``(table, exclusions)``; ``exclusions`` counts clients left out, by reason.
    """
    extract = pd.Timestamp(extract_date)
    c = clients.copy()
    cohort = c["cohort"].fillna("service") if "cohort" in c else pd.Series("service", c.index)
    start = c["start_date"] if "start_date" in c else pd.Series(pd.NaT, index=c.index)
    c["cohort"] = cohort
    c["reference"] = start.where(cohort == "service", c["referral_date"])
    reason = pd.Series("", index=c.index, dtype=object)
    reason[(cohort == "service") & start.isna()] = "service cohort: never started"

    p = proceedings[["client_id", "issued_date", "concluded_date"]]
    if origin == "index":
        merged = p.merge(c[["client_id", "reference"]], on="client_id")
        done = merged[
            merged["concluded_date"].notna() & (merged["concluded_date"] <= merged["reference"])
        ]
        index = done.groupby("client_id")["concluded_date"].max()
        c["origin"] = c["client_id"].map(index)
        reason[(reason == "") & c["origin"].isna()] = (
            "no proceedings concluded by the start (comparison: referral) date"
        )
    else:
        c["origin"] = c["reference"]
    reason[(reason == "") & (c["origin"] > extract)] = "origin after the extract date"

    later = p.merge(c[["client_id", "origin"]], on="client_id")
    later = later[(later["issued_date"] > later["origin"]) & (later["issued_date"] <= extract)]
    first_event = later.groupby("client_id")["issued_date"].min()
    c["event_date"] = c["client_id"].map(first_event)
    lost = pd.Series(False, index=c.index)
    if "closure_reason" in c and "end_date" in c:
        lost = c["closure_reason"].isin(LOST_REASONS) & c["end_date"].notna()
    censor = c["end_date"].where(lost, extract) if "end_date" in c else pd.Series(extract, c.index)
    censor = censor.clip(upper=extract)
    c["event"] = c["event_date"].notna() & (~lost | (c["event_date"] <= censor))
    c["end"] = c["event_date"].where(c["event"], censor)
    c["time"] = (c["end"] - c["origin"]).dt.days
    reason[(reason == "") & (c["time"] <= 0)] = "no follow-up time after the origin"
    c["lost_to_follow_up"] = lost & ~c["event"]

    kept = c[reason == ""].copy()
    kept["event"] = kept["event"].astype(int)
    kept["time"] = kept["time"].astype(float)
    kept["cohort_service"] = (kept["cohort"] == "service").astype(int)
    if "birth_year" in kept:
        age = kept["origin"].dt.year - kept["birth_year"].astype("Float64")
        kept["age_at_origin"] = age.astype(float)
        labels = pd.Series(pd.NA, index=kept.index, dtype=object)
        for lo, hi, label in AGE_BANDS:
            labels[(age >= lo) & (age < hi)] = label
        kept["age_band"] = labels
    # every reason, always, in one order: a row that appeared only when non-zero would tell
    every = [
        "service cohort: never started",
        "no proceedings concluded by the start (comparison: referral) date"
        if origin == "index"
        else None,
        "origin after the extract date",
        "no follow-up time after the origin",
    ]
    counts = reason[reason != ""].value_counts()
    excluded = pd.DataFrame(
        {"Reason": [r for r in every if r], "Clients": [int(counts.get(r, 0)) for r in every if r]}
    )
    cols = [
        "client_id",
        "cohort",
        "cohort_service",
        "origin",
        "end",
        "time",
        "event",
        "lost_to_follow_up",
    ]
    rest = [
        x for x in kept.columns if x not in cols and x not in ("reference", "event_date", "_row")
    ]
    return kept[cols + rest].reset_index(drop=True), excluded


# --- Kaplan-Meier ---------------------------------------------------------------------------


@dataclass
class KaplanMeier:
    """Kaplan-Meier estimate with Greenwood variance and a log or log-log CI."""

    ci: str = "log"
    level: float = 0.95

    def fit(self, time: np.ndarray, event: np.ndarray) -> KaplanMeier:
        from scipy.stats import norm

        time = np.asarray(time, float)
        event = np.asarray(event, int)
        self.n_ = len(time)
        self.time_ = time
        self.event_ = event
        order = np.argsort(time, kind="stable")
        t, e = time[order], event[order]
        times = np.unique(t[e == 1])
        d = (
            np.array([e[t == x].sum() for x in times])
            if len(times) < 64
            else (pd.Series(e[e == 1]).groupby(t[e == 1]).sum().reindex(times).to_numpy())
        )
        n = len(t) - np.searchsorted(t, times, side="left")
        with np.errstate(divide="ignore", invalid="ignore"):
            surv = np.cumprod(1 - d / n)
            var = np.cumsum(d / (n * (n - d)))
        se = np.sqrt(var)
        z = norm.ppf(1 - (1 - self.level) / 2)
        lo, hi = self._ci(surv, se, z)
        self.table_ = pd.DataFrame(
            {
                "time": times,
                "at_risk": n,
                "events": d,
                "survival": surv,
                "se_log": se,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
        return self

    def _ci(self, s: np.ndarray, se: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.ci == "log":
                lo, hi = s * np.exp(-z * se), np.minimum(s * np.exp(z * se), 1.0)
            else:  # log-log, as R's conf.type = "log-log"
                a = np.exp(-np.exp(np.log(-np.log(s)) + z * se / np.log(s)))
                b = np.exp(-np.exp(np.log(-np.log(s)) - z * se / np.log(s)))
                lo, hi = np.minimum(a, b), np.maximum(a, b)
        bad = (s == 0) | ~np.isfinite(se)
        return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)

    def at(self, times: list[int] | tuple[int, ...]) -> pd.DataFrame:
        """Survival, CI, numbers at risk and cumulative events at each time (days)."""
        tab = self.table_
        rows = []
        last = float(self.time_.max()) if self.n_ else 0.0
        for t in times:
            k = np.searchsorted(tab["time"].to_numpy(), t, side="right") - 1
            at_risk = int((self.time_ >= t).sum())
            events = int(((self.time_ <= t) & (self.event_ == 1)).sum())
            if t > last:
                surv = lo = hi = math.nan
            elif k < 0:  # before the first event, S = 1. As R's summary.survfit: the CI is
                # [1, 1] before the first observed time; after it, log-log is undefined (NA)
                surv = 1.0
                undefined = self.ci != "log" and t >= float(self.time_.min())
                lo = hi = math.nan if undefined else 1.0
            else:
                surv, lo, hi = (
                    float(tab["survival"].iloc[k]),
                    float(tab["ci_low"].iloc[k]),
                    float(tab["ci_high"].iloc[k]),
                )
            rows.append(
                {
                    "days": int(t),
                    "survival": surv,
                    "ci_low": lo,
                    "ci_high": hi,
                    "at_risk": at_risk,
                    "events": events,
                }
            )
        return pd.DataFrame(rows)

    def median(self) -> tuple[float, float, float]:
        """Median survival time and its CI (R's rule), NaN where not reached."""
        tab = self.table_

        def first_below(col: str) -> float:
            hit = tab[tab[col] <= 0.5]
            if hit.empty:
                return math.nan
            k = hit.index[0]
            if col == "survival" and math.isclose(tab[col].iloc[k], 0.5):
                nxt = tab["time"].iloc[k + 1] if k + 1 < len(tab) else tab["time"].iloc[k]
                return float((tab["time"].iloc[k] + nxt) / 2)
            return float(tab["time"].iloc[k])

        return first_below("survival"), first_below("ci_low"), first_below("ci_high")


# --- the analysis -----------------------------------------------------------------------------


@dataclass
class SurvivalAnalysis:
    """Everything the survival command and the return report."""

    settings: Settings
    extract_date: Any
    table: pd.DataFrame
    exclusions: pd.DataFrame
    ci: str
    times: tuple[int, ...]
    group: str | None = None
    covariates: tuple[str, ...] = ()
    km: dict[str, KaplanMeier] = field(default_factory=dict)
    survival_at: pd.DataFrame | None = None
    medians: pd.DataFrame | None = None
    logrank: dict[str, Any] | None = None
    cox: pd.DataFrame | None = None
    cox_info: dict[str, Any] = field(default_factory=dict)
    cox_fit: Any = field(default=None, repr=False)  # lifelines' CoxPHFitter
    ph_test: pd.DataFrame | None = None
    benchmark: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    strict: bool = True  # False: a Cox model that cannot be fitted becomes a warning
    origin: str = "index"  # the origin the table was built with (it changes the events)

    @property
    def concordance(self) -> float | None:
        """Harrell's C of the Cox model, as R's ``coxph`` gives it. Worked out when first asked
        for (the return does not show it; lifelines takes 0.1 s at national scale)."""
        return None if self.cox_fit is None else float(self.cox_fit.concordance_index_)

    def run(self) -> SurvivalAnalysis:
        t = self.table
        if t.empty:
            raise AnalysisError(
                "no client can be analysed for time to next proceedings; "
                "see the exclusions (each client needs index proceedings "
                "concluded by the start date)"
            )
        groups: list[tuple[str, pd.DataFrame]] = [("all", t)]
        for cohort in ("service", "comparison"):
            part = t[t["cohort"] == cohort]
            if len(part) and t["cohort"].nunique() > 1:
                groups.append((cohort, part))
        if self.group:
            from evaltool.config import check_group

            check_group(self.group, "--group")
            if self.group not in t:
                raise AnalysisError(
                    f"--group {self.group}: no such column; use a column of "
                    "clients, e.g. age_band or care_experienced"
                )
            for value, part in t.groupby(t[self.group].astype(str), sort=True):
                if value not in ("<NA>", "nan", "None"):
                    groups.append((f"{self.group}={value}", part))
        rows, medians = [], []
        for name, part in groups:
            km = KaplanMeier(self.ci).fit(part["time"].to_numpy(), part["event"].to_numpy())
            self.km[name] = km
            at = km.at(self.times)
            at.insert(0, "group", name)
            rows.append(at)
            med, lo, hi = km.median()
            medians.append(
                {
                    "group": name,
                    "n": len(part),
                    "events": int(part["event"].sum()),
                    "median_days": med,
                    "median_ci_low": lo,
                    "median_ci_high": hi,
                }
            )
        self.survival_at = pd.concat(rows, ignore_index=True)
        self.survival_at["cumulative_incidence"] = 1 - self.survival_at["survival"]
        self.survival_at["ci_incidence_low"] = 1 - self.survival_at["ci_high"]
        self.survival_at["ci_incidence_high"] = 1 - self.survival_at["ci_low"]
        self.medians = pd.DataFrame(medians)
        if t["cohort"].nunique() > 1:
            self.logrank = logrank(t, "cohort")
        covariates = self.covariates
        if "cohort" in covariates and t["cohort"].nunique() < 2:
            covariates = tuple(c for c in covariates if c != "cohort")
            if not self.strict:
                self.warnings.append("Cox model: only one cohort, so cohort is left out")
        if covariates:
            try:
                fitted = cox_model(t, covariates, self.warnings)
                self.cox, self.cox_info, self.ph_test, self.cox_fit = fitted
            except AnalysisError as exc:
                if self.strict:
                    raise
                self.warnings.append(f"Cox model not reported: {exc}")
        if self.settings.benchmark is not None:
            self.benchmark = self._benchmark(self.settings.benchmark)
        return self

    def _benchmark(self, b: Benchmark) -> dict[str, Any]:
        name = "service" if "service" in self.km else "all"
        km = self.km[name]
        row = km.at([b.days]).iloc[0]
        return {
            "label": b.label,
            "source": b.source,
            "days": b.days,
            "benchmark_incidence": b.proportion,
            "group": name,
            "incidence": 1 - row["survival"],
            "ci_low": 1 - row["ci_high"],
            "ci_high": 1 - row["ci_low"],
            "at_risk": int(row["at_risk"]),
            "longest_follow_up_days": float(km.time_.max()),
        }

    # -- output --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        from evaltool.report.text import records

        at = self.survival_at[
            [
                "group",
                "days",
                "survival",
                "ci_low",
                "ci_high",
                "at_risk",
                "events",
                "cumulative_incidence",
                "ci_incidence_low",
                "ci_incidence_high",
            ]
        ]
        return {
            "ci_transform": self.ci,
            "origin": self.origin,
            "extract_date": str(pd.Timestamp(self.extract_date).date()),
            "n": len(self.table),
            "events": int(self.table["event"].sum()),
            "exclusions": records(self.exclusions),
            "survival_at": records(at),
            "medians": records(self.medians),
            "logrank": self.logrank,
            "cox": records(self.cox) if self.cox is not None else [],
            "cox_info": {**self.cox_info, "concordance": self.concordance} if self.cox_info else {},
            "proportional_hazards": records(self.ph_test) if self.ph_test is not None else [],
            "benchmark": self.benchmark,
            "warnings": self.warnings,
        }

    def summary_tables(self) -> list[SummaryTable]:
        """The fixed-time table and the medians, with the identities a reader could use
        between them (cumulative events never fall, numbers at risk never rise, the groups
        add up to everyone). Only these fixed times are published: a step of the curve would
        give the day of an event and, with the numbers at risk, how many had it."""
        from evaltool.instruments.results import Implied, Relation

        at = self.survival_at
        frame = pd.DataFrame(
            {
                "Group": at["group"],
                "Months": (at["days"] / DAYS_PER_MONTH).round(0).astype(int),
                "Days": at["days"],
                "At risk": at["at_risk"],
                "Events so far": at["events"],
                "New proceedings (cumulative)": at["cumulative_incidence"],
                "CI low": at["ci_incidence_low"],
                "CI high": at["ci_incidence_high"],
            }
        )
        pct = ("New proceedings (cumulative)", "CI low", "CI high")
        med = self.medians.rename(
            columns={
                "group": "Group",
                "n": "Clients",
                "events": "Events",
                "median_days": "Median months",
                "median_ci_low": "Median CI low",
                "median_ci_high": "Median CI high",
            }
        )
        for col in ("Median months", "Median CI low", "Median CI high"):
            med[col] = (med[col] / DAYS_PER_MONTH).round(0)
        relations: list[Relation] = []
        groups = list(med["Group"])
        for g in groups:
            rows = list(frame.index[frame["Group"] == g])
            total = groups.index(g)
            for a, b in zip(rows, rows[1:], strict=False):
                relations.append(  # the events between two times: a count of people
                    Implied(
                        f"km: events of {g} between rows {a + 1} and {b + 1}",
                        ((("km", b, "Events so far"), 1.0), (("km", a, "Events so far"), -1.0)),
                    )
                )
                relations.append(
                    Relation(
                        ((("km", a, "Events so far"), 1.0), (("km", b, "Events so far"), -1.0)),
                        "<=",
                    )
                )
                relations.append(
                    Relation(((("km", b, "At risk"), 1.0), (("km", a, "At risk"), -1.0)), "<=")
                )
            for r in rows:
                relations.append(
                    Relation(
                        ((("km", r, "Events so far"), 1.0), (("km-median", total, "Events"), -1.0)),
                        "<=",
                    )
                )
                relations.append(
                    Relation(
                        ((("km", r, "At risk"), 1.0), (("km-median", total, "Clients"), -1.0)),
                        "<=",
                    )
                )
        splits = [[g for g in ("service", "comparison") if g in groups]]
        if self.group:  # the --group split: its parts add up to everyone with a value
            splits.append([g for g in groups if g.startswith(f"{self.group}=")])
        clients = dict(zip(med["Group"], med["Clients"], strict=True))
        for parts in splits:
            if "all" not in groups or len(parts) < 2:
                continue
            # everyone is in one part (no blank value): the parts add up to all exactly;
            # otherwise they add up to at most all
            op = "=" if sum(clients[g] for g in parts) == clients["all"] else "<="
            for col in ("Clients", "Events"):
                relations.append(
                    Relation(
                        (
                            (("km-median", groups.index("all"), col), -1.0),
                            *((("km-median", groups.index(g), col), 1.0) for g in parts),
                        ),
                        op,
                    )
                )
            for days in frame["Days"].unique():
                rows = {
                    g: frame.index[(frame["Group"] == g) & (frame["Days"] == days)] for g in groups
                }
                for col in ("At risk", "Events so far"):
                    relations.append(
                        Relation(
                            (
                                (("km", int(rows["all"][0]), col), -1.0),
                                *((("km", int(rows[g][0]), col), 1.0) for g in parts),
                            ),
                            op,
                        )
                    )
        return [
            SummaryTable(
                "km",
                "Share with new care proceedings, at fixed times",
                frame,
                counts=("At risk", "Events so far"),
                derived={c: ("At risk", "Events so far") for c in pct},
                percent=pct,
                formats={"Days": "0", "Months": "0"},
                note=f"Kaplan-Meier estimate of the share with new proceedings by each time, 95% "
                f"CI ({self.ci} transform, Greenwood variance). 'Events so far': new proceedings "
                "up to that day; 'At risk': still followed up on that day.",
                relations=tuple(relations),
            ),
            SummaryTable(
                "km-median",
                "Median time to new proceedings",
                med,
                counts=("Clients", "Events"),
                formats={"Median months": "0", "Median CI low": "0", "Median CI high": "0"},
                derived={
                    "Median months": "Events",
                    "Median CI low": "Events",
                    "Median CI high": "Events",
                },
                note=": = not reached (fewer than half had new proceedings in follow-up). "
                "In whole months.",
            ),
            SummaryTable(
                "km-exclusions",
                "Clients not analysed, by reason",
                self.exclusions,
                counts=("Clients",),
            ),
        ]

    def definitions(self) -> list[Definition]:
        origin = (
            "conclusion of the latest proceedings concluded on or before the start date "
            "(comparison cohort: referral date)"
            if self.origin == "index"
            else "service start date (comparison cohort: referral date)"
        )
        return [
            Definition(
                "Time to next proceedings",
                f"Days from the origin ({origin}) to the "
                "first care proceedings issued after it; followed up to the extract "
                "date (an event on that date counts), or to the end date for clients "
                f"who {', '.join(r.replace('_', ' ') for r in LOST_REASONS)}.",
                f"evaltool data contract {CONTRACT_VERSION} ({CONTRACT_DOC}); "
                "Broadhurst et al. (2015)",
            ),
            Definition(
                "Kaplan-Meier estimate",
                "Share still free of new proceedings; "
                f"Greenwood variance; 95% CI with the {self.ci} transform. Published at fixed "
                "times only, as the share with new proceedings (1 minus it); the chart draws "
                "those points.",
                "Kaplan & Meier (1958); R survival::survfit",
            ),
            Definition(
                "Log-rank test",
                "Difference between service and comparison cohorts in time to new proceedings.",
                "R survival::survdiff",
            ),
            Definition(
                "Cox model",
                "Hazard ratios (service = 1 for cohort), Efron ties; "
                "proportional hazards checked with scaled Schoenfeld residuals "
                "(lifelines, rank time transform).",
                "Cox (1972); R survival::coxph",
            ),
        ]

    def chart_fits(self) -> dict[str, KaplanMeier]:
        """The curves a chart shows: by cohort, or by the ``group`` column, or everyone."""
        groups = [g for g in ("service", "comparison") if g in self.km] or ["all"]
        if self.group:
            groups = [g for g in self.km if g.startswith(f"{self.group}=")]
        return {g: self.km[g] for g in groups}

    def plot_png(self, path=None):
        """The KM chart as PNG (bytes buffer, or written to ``path``): matplotlib."""
        from evaltool.report.km_png import km_plot

        threshold = self.settings.small_number_threshold
        return km_plot(
            self.chart_fits(),
            self.times,
            self.settings.benchmark,
            self.ci,
            threshold,
            path,
        )


def logrank(table: pd.DataFrame, column: str) -> dict[str, Any]:
    from lifelines.statistics import multivariate_logrank_test

    res = multivariate_logrank_test(table["time"], table[column], table["event"])
    return {
        "groups": sorted(table[column].unique().tolist()),
        "chi2": float(res.test_statistic),
        "df": int(res.degrees_of_freedom),
        "p": float(res.p_value),
    }


def covariate_frame(table: pd.DataFrame, covariates: tuple[str, ...]) -> pd.DataFrame:
    """Numeric design columns: cohort -> service = 1, yes/no -> 1/0, numbers as they are."""
    out = pd.DataFrame(index=table.index)
    for name in covariates:
        if name == "cohort":
            out["cohort"] = table["cohort_service"].astype(float)
            continue
        if name not in table:
            raise AnalysisError(
                f"covariate '{name}' is not a column of clients; use a numeric "
                "or yes/no column, or cohort"
            )
        col = table[name]
        if pd.api.types.is_bool_dtype(col) or str(col.dtype) == "boolean":
            out[name] = col.astype("Float64").astype(float)
        else:
            values = pd.to_numeric(col, errors="coerce")
            if values.notna().sum() == 0 or (col.notna() & values.isna()).any():
                raise AnalysisError(f"covariate '{name}' is not numeric or yes/no")
            out[name] = values.astype(float)
    return out


def schoenfeld_residuals(
    time: np.ndarray, event: np.ndarray, x: np.ndarray, beta: np.ndarray
) -> np.ndarray:
    """Schoenfeld residuals with Efron's tie correction, one row per event in time order.

    For an event at a time with d events: x minus the mean over l = 0..d-1 of the Efron
    risk-set means (S1 - l/d D1) / (S0 - l/d D0), where S sums over those still at risk and
    D over the events then. lifelines computes the same in a Python loop over every row;
    here it is cumulative sums and bincounts.
    """
    order = np.argsort(time, kind="stable")
    t, e, x = time[order], event[order], x[order]
    w = np.exp((x - x.mean(axis=0)) @ beta)  # centring cancels in every ratio below
    wx = w[:, None] * x
    times, first, group = np.unique(t, return_index=True, return_inverse=True)
    s0 = np.cumsum(w[::-1])[::-1][first]  # risk set: everyone with time >= t
    s1 = np.cumsum(wx[::-1], axis=0)[::-1][first]
    d = np.bincount(group, weights=e, minlength=len(times))
    d0 = np.bincount(group, weights=w * e, minlength=len(times))
    d1 = np.column_stack(
        [np.bincount(group, weights=wx[:, k] * e, minlength=len(times)) for k in range(x.shape[1])]
    )
    at = np.flatnonzero(d > 0)
    per = d[at].astype(int)
    j = np.repeat(at, per)  # one row per (event time, l)
    phi = (np.arange(len(j)) - np.repeat(np.cumsum(per) - per, per)) / d[j]
    share = (s1[j] - phi[:, None] * d1[j]) / ((s0[j] - phi * d0[j]) * d[j])[:, None]
    mean = np.zeros_like(s1)
    np.add.at(mean, j, share)
    return x[e] - mean[group[e]]


def cox_model(
    table: pd.DataFrame, covariates: tuple[str, ...], notes: list[str]
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame, Any]:
    """Hazard ratios, fit figures and Schoenfeld tests of a Cox model (Efron ties), and
    lifelines' fitted model."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError
    from lifelines.statistics import proportional_hazard_test

    design = covariate_frame(table, covariates)
    data = design.assign(time=table["time"], event=table["event"])
    complete = data.dropna()
    dropped = len(data) - len(complete)
    if dropped:
        notes.append(f"Cox model: {dropped} client(s) with a missing covariate left out")
    for name in design.columns:
        if complete[name].nunique() < 2:
            raise AnalysisError(
                f"covariate '{name}' has only one value among the clients "
                "analysed: the Cox model cannot be fitted; leave it out"
            )
    events = int(complete["event"].sum())
    if events < MIN_EVENTS_PER_COVARIATE * len(design.columns):
        notes.append(
            f"Cox model: {events} events for {len(design.columns)} covariate(s), "
            f"under {MIN_EVENTS_PER_COVARIATE} per covariate: estimates are unstable"
        )
    cph = CoxPHFitter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # lifelines' default precision (1e-7) stops a little short of R's optimum on
            # heavily tied data; 1e-10 agrees with coxph to 8 significant digits
            # batch_mode: lifelines' vectorised Efron sums (its default here loops per time)
            cph.fit(
                complete,
                duration_col="time",
                event_col="event",
                fit_options={"precision": 1e-10, "max_steps": 200},
                batch_mode=True,
            )
    except (ConvergenceError, np.linalg.LinAlgError, ValueError) as exc:
        raise AnalysisError(
            f"the Cox model could not be fitted ({str(exc).splitlines()[0]}); try fewer covariates"
        ) from None
    s = cph.summary
    cox = pd.DataFrame(
        {
            "covariate": s.index,
            "coef": s["coef"].to_numpy(),
            "hr": s["exp(coef)"].to_numpy(),
            "hr_low": s["exp(coef) lower 95%"].to_numpy(),
            "hr_high": s["exp(coef) upper 95%"].to_numpy(),
            "se": s["se(coef)"].to_numpy(),
            "p": s["p"].to_numpy(),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resid = schoenfeld_residuals(
            complete["time"].to_numpy(float),
            complete["event"].to_numpy(bool),
            complete[list(design.columns)].to_numpy(float),
            cph.params_.to_numpy(),
        )
        scaled = pd.DataFrame(
            events * resid @ cph.variance_matrix_.to_numpy(), columns=cph.params_.index
        )
        ph = proportional_hazard_test(
            cph, complete, time_transform="rank", precomputed_residuals=scaled
        )
    ph_table = pd.DataFrame(
        {
            "covariate": list(ph.summary.index),
            "chi2": ph.summary["test_statistic"].to_numpy(),
            "p": ph.summary["p"].to_numpy(),
        }
    )
    if (ph_table["p"] < 0.05).any():
        bad = ", ".join(ph_table.loc[ph_table["p"] < 0.05, "covariate"])
        notes.append(f"Cox model: proportional hazards doubtful for {bad} (Schoenfeld p < 0.05)")
    info = {
        "n": len(complete),
        "events": events,
        "ties": "efron",
        "log_likelihood": float(cph.log_likelihood_),
    }
    return cox, info, ph_table, cph


def analyse(
    loaded,
    extract_date: Any,
    origin: str | None = None,
    ci: str | None = None,
    times: tuple[int, ...] | None = None,
    covariates: tuple[str, ...] = (),
    group: str | None = None,
    strict: bool = True,
) -> SurvivalAnalysis:
    """The survival analysis for validated data (``api.Loaded``).

    ``strict=False`` turns a Cox model that cannot be fitted into a warning (the quarterly
    return still gets the Kaplan-Meier figures).
    """
    settings = loaded.settings
    proceedings = loaded.dataset.tables.get("proceedings")
    if proceedings is None:
        raise AnalysisError("no 'proceedings' table: add one to analyse time to next proceedings")
    origin = origin or settings.survival_origin
    table, exclusions = survival_table(loaded.dataset.clients, proceedings, extract_date, origin)
    return SurvivalAnalysis(
        settings,
        extract_date,
        table,
        exclusions,
        ci or settings.survival_ci,
        times or settings.survival_times,
        group,
        covariates,
        strict=strict,
        origin=origin,
    ).run()

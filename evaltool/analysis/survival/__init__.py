"""Time to next care proceedings, as a fitter in the lifelines style::

    fit = TimeToProceedings(origin="index-issue", ci="log", times=(182, 365, 730)).fit(
        clients, proceedings, extract_date
    )
    fit.survival_at_     # Kaplan-Meier at the fixed times, by group
    fit.origin           # every option used stays on the fitter

Settings go to the constructor; ``fit`` returns the fitter, with results in trailing-underscore
attributes. Nothing here lays out a sheet, serialises or draws: the report package reads the
results (``report.survival_tables``, ``report.json``, ``report.km_png``).

The parts: ``table`` (one row per client analysed: origin, time, event), ``km`` (Kaplan-Meier
with Greenwood variance and a ``log`` or ``log-log`` CI; log-rank), ``cox`` (Cox with Efron
ties and R's cox.zph test). Checked against R's survival package.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltool.analysis.survival.cox import cox_model
from evaltool.analysis.survival.km import NOT_YET, KaplanMeier, logrank
from evaltool.analysis.survival.table import (
    AGE_BANDS,
    ENTRIES,
    ENTRY_WORDS,
    LOST_REASONS,
    survival_table,
)
from evaltool.errors import AnalysisError

if TYPE_CHECKING:
    from evaltool.data.benchmark import Benchmark

__all__ = [
    "AGE_BANDS",
    "DAYS_PER_MONTH",
    "ENTRIES",
    "ENTRY_WORDS",
    "LOST_REASONS",
    "KaplanMeier",
    "TimeToProceedings",
    "survival_table",
]

DAYS_PER_MONTH = 365.25 / 12


@dataclass
class TimeToProceedings:
    """Kaplan-Meier (everyone, each cohort, each value of ``group``), log-rank between the
    cohorts, a Cox model on ``covariates`` and the comparison with ``benchmark``.

    ``strict=False`` turns a Cox model that cannot be fitted into a warning (the quarterly
    return still gets the Kaplan-Meier figures).
    """

    origin: str = "index-issue"  # or "index-conclusion", "start" (survival/table.py)
    outcome: str = "any"  # or "new-child" (survival/returns.py)
    rule_37_weeks: bool = True
    entry: str = "start"  # or "referral" (intention to treat): the joining date (table.py)
    ci: str = "log"
    times: tuple[int, ...] = (182, 365, 730)
    group: str | None = None
    covariates: tuple[str, ...] = ()
    benchmark: Benchmark | None = None
    strict: bool = True

    # results, set by fit()
    extract_date_: dt.date | None = field(default=None, init=False)
    table_: pd.DataFrame = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    exclusions_: pd.DataFrame = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    km_: dict[str, KaplanMeier] = field(default_factory=dict, init=False, repr=False)
    survival_at_: pd.DataFrame = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    medians_: pd.DataFrame = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    logrank_: dict[str, Any] | None = field(default=None, init=False)
    cox_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    cox_info_: dict[str, Any] = field(default_factory=dict, init=False)
    cox_fit_: Any = field(default=None, init=False, repr=False)  # lifelines' CoxPHFitter
    ph_test_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    benchmark_: dict[str, Any] | None = field(default=None, init=False)
    #: Aalen-Johansen cumulative incidence with death as a competing risk (None: no deaths)
    competing_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    warnings_: list[str] = field(default_factory=list, init=False)

    @property
    def return_types_(self) -> pd.DataFrame | None:
        """Clients whose first return was seen, by what it was about, for everyone and each
        cohort (None without the children data, or for the new-child outcome)."""
        t = self.table_
        if t is None or "return_type" not in t:
            return None
        from evaltool.analysis.survival.returns import RETURN_TYPES

        rows = {"all": t}  # both cohorts always (a row that came and went would tell)
        rows.update({c: t[t["cohort"] == c] for c in ("service", "comparison")})
        return pd.DataFrame(
            [
                {"group": g, **{r: int((part["return_type"] == r).sum()) for r in RETURN_TYPES}}
                for g, part in rows.items()
            ]
        )

    @property
    def evidence_(self) -> dict[str, Any] | None:
        """How strong the comparison of the cohorts is (None with one cohort): level 2 only
        where the Cox model adjusts for the core baseline set (``evidence.earned``), with the
        E-value of the cohort's adjusted hazard ratio; and the smallest hazard ratio the
        comparison could detect."""
        if self.logrank_ is None:
            return None
        from evaltool.analysis.comparison import cox_evidence
        from evaltool.analysis.evidence import earned, power_statement

        t = self.table_
        adjusted: tuple[str, ...] = ()
        if self.cox_ is not None and "cohort" in self.covariates:  # else no adjusted contrast
            adjusted = tuple(c for c in self.covariates if c != "cohort")
        found = earned(adjusted)
        rows = self.cox_[self.cox_["covariate"] == "cohort"] if self.cox_ is not None else []
        if adjusted and len(rows):
            return cox_evidence(found, rows.iloc[0], t)
        power = power_statement(int(t["event"].sum()), int(t["cohort_service"].sum()), len(t))
        return {**found, "power": power, "statement": f"{found['statement']} {power['statement']}"}

    @property
    def concordance_(self) -> float | None:
        """Harrell's C of the Cox model, as R's ``coxph`` gives it (with delayed entry: each
        event compared with those at risk then). Worked out when first asked for (the return
        does not show it)."""
        if self.cox_fit_ is None:
            return None
        from evaltool.analysis.survival.cox import covariate_frame

        names = tuple(self.cox_fit_.params_.index)
        x = covariate_frame(self.table_, names).dropna()
        t = self.table_.loc[x.index]
        return concordance(
            t["time"].to_numpy(float),
            t["entry"].to_numpy(float),
            t["event"].to_numpy(int),
            x.to_numpy(float) @ self.cox_fit_.params_.to_numpy(),
        )

    def fit(
        self,
        clients: pd.DataFrame,
        proceedings: pd.DataFrame,
        extract_date: dt.date,
        subjects: pd.DataFrame | None = None,
    ) -> TimeToProceedings:
        """Fit on the typed clients and proceedings tables, following up to ``extract_date``;
        ``subjects`` (``data.children.subjects``) tells what each set was about."""
        from evaltool.analysis.survival.table import ALIASES

        self.origin = ALIASES.get(self.origin, self.origin)
        self.extract_date_ = pd.Timestamp(extract_date).date()
        t, self.exclusions_ = survival_table(
            clients,
            proceedings,
            extract_date,
            self.origin,
            self.outcome,
            subjects,
            self.rule_37_weeks,
            self.entry,
        )
        return self._fit_table(t)

    def new_child(self) -> TimeToProceedings:
        """The same clients followed for returns about a new child, from this fit's table
        (one pass over the proceedings for both outcomes); Kaplan-Meier only, as the return
        shows it."""
        t = self.table_
        if t is None or "new_child_time" not in t:
            from evaltool.analysis.survival.table import NO_RETURN_TYPE

            raise AnalysisError(NO_RETURN_TYPE)
        other = TimeToProceedings(
            origin=self.origin,
            outcome="new-child",
            rule_37_weeks=self.rule_37_weeks,
            entry=self.entry,
            ci=self.ci,
            times=self.times,
            group=self.group,
            benchmark=self.benchmark,
            strict=self.strict,
        )
        other.extract_date_ = self.extract_date_
        other.exclusions_ = self.exclusions_
        swapped = t.assign(time=t["new_child_time"], event=t["new_child_event"])
        return other._fit_table(
            swapped.drop(columns=["new_child_time", "new_child_event", "return_type"]),
            tests=False,
        )

    def _fit_table(self, t: pd.DataFrame, tests: bool = True) -> TimeToProceedings:
        """Everything after the survival table: the curves, medians, tests and models
        (``tests``: the log-rank test of the cohorts)."""
        from evaltool.config import check_group

        self.warnings_ = []
        self.km_ = {}
        self.table_ = t
        if t.empty:
            raise AnalysisError(
                "no client can be analysed for time to next proceedings; "
                "see the exclusions (each client needs index proceedings "
                "concluded by the start date)"
            )
        groups: list[tuple[str, pd.DataFrame]] = [("all", t)]
        # both cohorts always, a cohort nobody is in yet with no estimate: a group that
        # appeared in one return and not in the last would tell a reader it was empty
        groups += [(c, t[t["cohort"] == c]) for c in ("service", "comparison")]
        if self.group:
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
            if part.empty:
                at = KaplanMeier(self.ci).fit(np.array([1.0]), np.array([0])).at(self.times)
                for col in at.columns.difference(["days"]):
                    at[col] = 0 if col in ("at_risk", "events") else np.nan
                if "entered" in at:
                    at["entered"] = 0
                at.insert(0, "group", name)
                rows.append(at)
                medians.append(
                    {"group": name, "n": 0, "events": 0}
                    | dict.fromkeys(("median_days", "median_ci_low", "median_ci_high"), np.nan)
                )
                continue
            km = KaplanMeier(self.ci).fit(
                part["time"].to_numpy(), part["event"].to_numpy(), entry=part["entry"].to_numpy()
            )
            self.km_[name] = km
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
        at = pd.concat(rows, ignore_index=True)
        at["cumulative_incidence"] = 1 - at["survival"]
        at["ci_incidence_low"] = 1 - at["ci_high"]
        at["ci_incidence_high"] = 1 - at["ci_low"]
        self.survival_at_ = at
        self.medians_ = pd.DataFrame(medians)
        self.logrank_ = logrank(t, "cohort") if tests and t["cohort"].nunique() > 1 else None
        self.competing_ = None
        if "died" in t and t["died"].any():  # death as a competing risk, where deaths exist
            from evaltool.analysis.survival.km import aalen_johansen

            parts = []
            for name, part in groups:
                if name in ("all", "service", "comparison") and not part.empty:
                    kind = part["event"].where(part["event"] == 1, 2 * part["died"].astype(int))
                    aj = aalen_johansen(part["time"], kind, part["entry"], self.times)
                    parts.append(aj.assign(group=name))
            self.competing_ = pd.concat(parts, ignore_index=True)
        covariates = self.covariates
        if "cohort" in covariates and t["cohort"].nunique() < 2:
            covariates = tuple(c for c in covariates if c != "cohort")
            if not self.strict:
                self.warnings_.append("Cox model: only one cohort, so cohort is left out")
        if covariates:
            try:
                fitted = cox_model(t, covariates, self.warnings_)
                self.cox_, self.cox_info_, self.ph_test_, self.cox_fit_ = fitted
            except AnalysisError as exc:
                if self.strict:
                    raise
                self.warnings_.append(f"Cox model not reported: {exc}")
        self.benchmark_ = self._against(self.benchmark) if self.benchmark is not None else None
        return self

    def _against(self, b: Benchmark) -> dict[str, Any]:
        """The benchmark beside the service's own curve at each of its points, for the same
        population, selection, origin and outcome only; otherwise why they are not compared
        (measured differently: a guide to scale only). A point beyond the service's follow-up
        is not estimated (never extended)."""
        from evaltool.data.benchmark import MEASURED_DIFFERENTLY, ORIGIN_WORDS, POPULATIONS

        out: dict[str, Any] = {
            "label": b.label,
            "source": b.source,
            "population": b.population,
            "age_band": b.age_band,
            "origin": b.origin,
            "outcome": b.outcome,
            "data_years": b.data_years,
            "published": b.published,
            "checked": b.checked,
            "selection": b.selection,
            "points": [
                {"days": p.days, "incidence": p.incidence, "ci_low": p.ci_low, "ci_high": p.ci_high}
                for p in b.points
            ],
            "compared": False,
            "rows": [],
        }
        t = self.table_
        t = t[t["cohort"] == "service"] if (t["cohort"] == "service").any() else t
        why = None
        if b.origin is None:
            why = "the benchmark does not state its origin"
        elif b.origin != self.origin:
            why = (
                f"the benchmark is measured from {ORIGIN_WORDS[b.origin]}, this "
                f"analysis from {ORIGIN_WORDS[self.origin]}"
            )
        elif b.selection != "referred to a service":
            why = (
                f"the benchmark counts {b.selection or 'parents it does not describe'}, this "
                "service parents referred to it (an already-recurrent, selected group)"
            )
        elif b.outcome != self.outcome:
            why = f"the benchmark counts {b.outcome} returns, this analysis {self.outcome} returns"
        gender = POPULATIONS[b.population]
        if why is None and gender is not None:
            if "gender" not in t or t["gender"].isna().all():
                why = f"the benchmark is for {b.population} and gender is not recorded"
            else:
                t = t[t["gender"] == gender]
        if why is None and b.age_band != "all":
            if "age_band" not in t:
                why = f"the benchmark is for ages {b.age_band} and birth_year is not recorded"
            else:
                t = t[t["age_band"] == b.age_band]
        if why is None and t.empty:
            why = f"no service client is in the benchmark's population ({b.describe()})"
        if why is not None:
            out["not_compared"] = why
            out["measured"] = MEASURED_DIFFERENTLY
            return out
        out["measured"] = "like for like: the same origin, outcome, population and selection"
        km = KaplanMeier(self.ci).fit(
            t["time"].to_numpy(), t["event"].to_numpy(), entry=t["entry"].to_numpy()
        )
        longest = float(km.time_.max())
        for p in b.points:
            row = km.at([p.days]).iloc[0]
            joined = bool(row["entered"] > 0)  # else R's S = 1 is no measurement
            reached = p.days <= longest and joined
            out["rows"].append(
                {
                    "days": p.days,
                    "benchmark_incidence": p.incidence,
                    "incidence": 1 - row["survival"] if reached else None,
                    "ci_low": 1 - row["ci_high"] if reached else None,
                    "ci_high": 1 - row["ci_low"] if reached else None,
                    "at_risk": int(row["at_risk"]) if reached else 0,
                    "events": int(row["events"]),
                    "not_estimated": None if joined else NOT_YET,
                }
            )
        out.update(compared=True, clients=len(t), longest_follow_up_days=longest)
        from evaltool.analysis.evidence import evidence

        out["evidence"] = evidence("benchmark")
        return out

    def curves(self) -> dict[str, KaplanMeier]:
        """The curves a chart shows: by cohort, or by the ``group`` column, or everyone."""
        names = [g for g in ("service", "comparison") if g in self.km_] or ["all"]
        if self.group:
            names = [g for g in self.km_ if g.startswith(f"{self.group}=")]
        return {g: self.km_[g] for g in names}


def concordance(time, entry, event, risk) -> float:
    """Harrell's C as R's ``concordance`` counts it for (entry, time] data: each event at t is
    compared with everyone at risk then who lasted longer (still at risk after t, or censored
    at t; others with an event at t are tied on time, not compared); concordant when the event
    has the higher risk score, a tie on the score counting a half."""
    import numpy as np

    risk = np.round(risk, 10)  # the same covariates, summed in another order, are a tie
    good = ties = total = 0.0
    for t in np.unique(time[event == 1]):
        at = (time == t) & (event == 1)
        later = (entry < t) & ((time > t) | ((time == t) & (event == 0)))
        others = np.sort(risk[later])
        for r in risk[at]:
            below = np.searchsorted(others, r, side="left")
            same = np.searchsorted(others, r, side="right") - below
            good += below
            ties += same
            total += len(others)
    return float((good + ties / 2) / total) if total else float("nan")

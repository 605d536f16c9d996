"""Value for money (issue 27): what the service costs, what it may save, and how many sets of
care proceedings it must prevent to pay for itself. Compute only; the words and sheets are in
report/value_tables.py.

Definitions (HM Treasury Green Book, real terms, one price year):

- Years are counted from the service's first year (year 1, undiscounted) to the horizon (4,
  10 or 18 years: ``[value] horizon_years``). The service's cost is paid in the years it runs
  (``service_cost``, one amount a year, or ``cost_per_parent`` x parents a year x ``years``).
- Each year the service runs, ``A`` sets of new care proceedings are avoided among the parents
  who start that year (the effect, below). An avoided set saves, k years after it, the sum of
  its saving lines that last beyond k (``[value] savings``: a unit cost x quantity for ``years``
  years; once by default). Savings after the horizon are not counted.
- Net savings = gross x (1 - deadweight) x attribution x (1 - optimism bias).
- Discounting: year u (u = 0 for the first) is divided by (1 + r)^u; r = 3.5% (Green Book
  standard). The health rate (1.5%) applies to health and wellbeing effects valued as such:
  here only the optional WELLBY line.
- PV costs, PV savings, net present value (PV savings - PV costs) and benefit-cost ratio (PV
  savings / PV costs). Break-even: the avoided sets a year at which PV savings = PV costs
  (savings are linear in A).
- The interval: ``draws`` Monte Carlo draws (seeded) of the effect from a normal distribution
  with the effect's point estimate and the standard error read from its 95% CI (CI width /
  3.92); the 2.5th and 97.5th percentiles of the benefit-cost ratio. Only the effect varies;
  the one-way sensitivity table varies each other assumption alone.

The effect, with its source and strength of evidence (evidence.py):

- ``comparison``: the difference in the cumulative incidence of new care proceedings within
  ``effect_days`` (service less comparison cohort), from the propensity comparison when
  ``[comparison] propensity`` is set (adjusted, level 2; its bootstrap CI), else from the
  Kaplan-Meier curves of the two cohorts (unadjusted, level 1; the CI from the two curves'
  CIs, as independent normals). Avoided per year = -difference x parents a year.
- ``benchmark``: the published figure less the service's own cumulative incidence at the
  benchmark's longest point the service's follow-up reaches (level 1: other parents, other
  years; an indication, not an effect).
- ``what-if``: stated by the user (``what_if_prevented_per_year``; or
  ``what_if_relative_reduction`` of the comparison cohort's, else the benchmark's, incidence).
  Not measured: no interval; the sensitivity table halves and doubles it (low and high).

Parents a year: ``[value] parents_per_year`` (a planned caseload: no count from the data), or
the service's clients who started in the 12 months to the period end, rounded to the nearest
5 and not used when 5 or fewer (a money figure is a count times a price: an exact small count
must not be given back through it). Every GBP figure printed is rounded to the nearest 1,000.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from evaltool.analysis.evidence import evidence
from evaltool.data.contract import service_clients
from evaltool.data.costs import (
    WELLBY_PRICE_YEAR,
    Deflator,
    UnitCost,
    ValueSettings,
    read_deflator,
    unit_costs,
)
from evaltool.errors import AnalysisError, ConfigError

Z = 1.959963984540054
HORIZONS = (4, 10, 18)


@dataclass
class Appraisal:
    """One appraisal: the years, and the totals (exact, unrounded)."""

    years: pd.DataFrame  # year, cost, savings, discount_factor, pv_cost, pv_savings
    pv_costs: float
    pv_savings: float

    @property
    def npv(self) -> float:
        return self.pv_savings - self.pv_costs

    @property
    def bcr(self) -> float:
        return self.pv_savings / self.pv_costs if self.pv_costs > 0 else math.nan


def appraise(
    costs: Sequence[float],
    avoided: float,
    profile: Sequence[float],
    horizon: int,
    rate: float,
    deadweight: float = 0.0,
    attribution: float = 1.0,
    optimism_bias: float = 0.0,
) -> Appraisal:
    """The Green Book sums. ``costs``: the service's cost in each year it runs (real terms);
    ``avoided``: sets of proceedings avoided among each year's starters; ``profile[k]``: what
    one avoided set saves k years after it (real terms); ``horizon``: years counted."""
    if horizon < len(costs):
        raise ConfigError(
            f"value.horizon_years = {horizon}: shorter than the {len(costs)} years the service's "
            "cost covers; count at least those years"
        )
    net = (1 - deadweight) * attribution * (1 - optimism_bias)
    rows = []
    for u in range(horizon):
        cost = costs[u] if u < len(costs) else 0.0
        saving = sum(
            avoided * net * profile[u - t] for t in range(len(costs)) if 0 <= u - t < len(profile)
        )
        d = 1 / (1 + rate) ** u
        rows.append(
            {
                "year": u + 1,
                "cost": cost,
                "savings": saving,
                "discount_factor": d,
                "pv_cost": cost * d,
                "pv_savings": saving * d,
            }
        )
    years = pd.DataFrame(rows)
    return Appraisal(years, float(years["pv_cost"].sum()), float(years["pv_savings"].sum()))


@dataclass
class Effect:
    """What the service changes, per parent or per year, with its source and evidence."""

    kind: str  # comparison, benchmark, what-if
    words: str  # what it is and where it comes from, in plain words
    evidence: str  # the strength-of-evidence sentence
    level: int | None  # Maryland SMS level; None: stated, not measured
    rate: float | None = None  # avoided per parent (reduction in cumulative incidence)
    rate_low: float | None = None
    rate_high: float | None = None
    per_year: float | None = None  # avoided sets a year, stated directly (what if)
    #: the same without figures from the data: what a publication prints (a difference
    #: read from counts the return hides must not be printed beside them)
    label: str = ""

    @property
    def published(self) -> str:
        return self.label or self.words

    @property
    def se(self) -> float | None:
        if self.rate_low is None or self.rate_high is None:
            return None
        if not (math.isfinite(self.rate_low) and math.isfinite(self.rate_high)):
            return None
        return (self.rate_high - self.rate_low) / (2 * Z)


@dataclass
class Value:
    """The value-for-money case for one period."""

    settings: ValueSettings
    price_year: int
    deflator: Deflator
    lines: list[tuple[UnitCost, float, float, int]]  # unit cost, real value, quantity, years
    costs: list[float]  # the service's cost in each year it runs, real terms
    cost_words: str
    parents: float | None
    parents_words: str
    effect: Effect | None
    avoided: float | None
    central: Appraisal | None = None
    per_avoided: Appraisal | None = None  # the same with one avoided set a year
    break_even: float | None = None
    interval: dict[str, Any] | None = None
    interval_words: str = ""
    horizons: dict[int, Appraisal] = field(default_factory=dict)
    sensitivity: pd.DataFrame | None = None
    wellby: dict[str, Any] = field(default_factory=dict)
    not_computed: str = ""
    notes: list[str] = field(default_factory=list)
    days: int | None = None  # the time the effect is read at
    #: what ``parents_words`` says of the starts in the four quarters to the period end
    parents_range: tuple[int, int] | None = None

    @property
    def profile(self) -> list[float]:
        """What one avoided set saves in each year after it (real terms)."""
        n = max((y for *_, y in self.lines), default=0)
        return [sum(v * q for _, v, q, y in self.lines if k < y) for k in range(n)]


def _cost_lines(vs: ValueSettings, price_year: int, deflator: Deflator) -> list:
    costs = unit_costs(vs.costs)
    out, unknown = [], []
    for s in vs.savings:
        if s.cost not in costs:
            unknown.append(s.cost)
            continue
        c = costs[s.cost]
        real = c.value * deflator.factor(c.year, price_year, f"unit cost {c.id}: price year")
        out.append((c, real, s.quantity, s.years))
    if unknown:
        raise ConfigError(
            f"value.savings: no unit cost {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(costs)} (`evaltool costs` lists them; add your own in a costs file)"
        )
    return out


def _parents(
    vs: ValueSettings, clients: pd.DataFrame, end: dt.date, threshold: int
) -> tuple[float | None, str, tuple[int, int] | None]:
    """Parents a year, the words, and what the words say of the parents who started in the
    twelve months (the four quarters) to ``end``: from..to, or None where they say nothing
    of them (a planned caseload). "About 5" says 6 or 7 started: the publication declares
    it, so that the quarters' starts are protected with it (an adversary read a hidden
    financial year's starts as 6 or 7 from it, 2026-12-07)."""
    if vs.parents_per_year is not None:
        words = f"{vs.parents_per_year:g} a year ([value] parents_per_year)"
        return vs.parents_per_year, words, None
    own = service_clients(clients)
    if "start_date" not in own:
        own = own.assign(start_date=pd.NaT)
    start = pd.to_datetime(own["start_date"], errors="coerce")
    hi = pd.Timestamp(end)
    n = int(((start > hi - pd.DateOffset(years=1)) & (start <= hi)).sum())
    rounded = 5 * round(n / 5)
    if n <= threshold or rounded == 0:
        return (
            None,
            (
                f"too few parents started in the 12 months to {end:%d %b %Y} to use the count "
                "(a money figure would give it back): set [value] parents_per_year, the planned "
                "caseload"
            ),
            (0, threshold),
        )
    return (
        float(rounded),
        (
            f"about {rounded} a year (the parents who started in the 12 months to "
            f"{end:%d %b %Y}, rounded to the nearest 5)"
        ),
        (max(rounded - 2, threshold + 1), rounded + 2),
    )


def _service_costs(
    vs: ValueSettings, parents: float | None, price_year: int, deflator: Deflator
) -> tuple[list[float], str]:
    cost_year = vs.cost_price_year or price_year
    factor = deflator.factor(cost_year, price_year, "value.cost_price_year")
    if vs.service_cost:
        cash = list(vs.service_cost)
        words = (
            f"{len(cash)} year(s) at " + ", ".join(f"GBP {c:,.0f}" for c in cash)
            + f" ({cost_year} prices; [value] service_cost)"
        )  # fmt: skip
    elif vs.cost_per_parent is not None and vs.years:
        if parents is None:
            raise AnalysisError("the cost per parent needs the parents a year")
        cash = [vs.cost_per_parent * parents] * vs.years
        words = (
            f"GBP {vs.cost_per_parent:,.0f} per parent x {parents:g} parents a year, for "
            f"{vs.years} year(s) ({cost_year} prices; [value] cost_per_parent)"
        )
    else:
        raise ConfigError(
            "value: give the service's cost: service_cost = [one GBP amount per year] or "
            "cost_per_parent = GBP with years = n"
        )
    if vs.first_year:
        words += f", from {vs.first_year}"
    return [c * factor for c in cash], words


def _at(frame: pd.DataFrame, group: str, days: int) -> pd.Series | None:
    """A group's Kaplan-Meier row at ``days``; None beyond follow-up or where nobody had
    joined by then (R's S = 1 there is no measurement: ``km.as_read``)."""
    rows = frame[(frame["group"] == group) & (frame["days"] == days)]
    if rows.empty or pd.isna(rows.iloc[0]["cumulative_incidence"]):
        return None
    if rows.iloc[0].get("entered", 1) == 0:
        return None
    return rows.iloc[0]


def _pp(x: float) -> str:
    return f"{100 * x:.1f} percentage points"


def comparison_effect(survival: Any, compared: Any, days: int) -> Effect | str:
    """The difference between the cohorts in new proceedings within ``days``: adjusted from
    the propensity comparison when there is one, else unadjusted; or why not."""
    within = f"new care proceedings within {days} days of the origin"
    if compared is not None:
        d = compared.difference_
        row = d[d["days"] == days]
        if not row.empty and pd.notna(row.iloc[0]["difference"]):
            r = row.iloc[0]
            return Effect(
                "comparison",
                f"{within}: service less comparison cohort, propensity weighted, "
                f"{r['difference']:+.1%} (95% CI {r['ci_low']:+.1%} to {r['ci_high']:+.1%}; "
                f"bootstrap, {int(r['resamples'])} resamples)",
                str(compared.evidence_["statement"]),
                int(compared.evidence_["sms_level"]),
                -float(r["difference"]),
                -float(r["ci_high"]),
                -float(r["ci_low"]),
                label=f"the difference between the cohorts in {within}, propensity weighted "
                "(Time to next proceedings sheet)",
            )
    if survival is None or survival.logrank_ is None:
        return "the data has no comparison cohort"
    at = survival.survival_at_
    s, c = _at(at, "service", days), _at(at, "comparison", days)
    if s is None or c is None:
        return (
            f"the follow-up of both cohorts does not reach {days} days (or nobody in one had "
            "joined by then)"
        )
    diff = float(s["cumulative_incidence"] - c["cumulative_incidence"])
    se = math.hypot(
        (s["ci_incidence_high"] - s["ci_incidence_low"]) / (2 * Z),
        (c["ci_incidence_high"] - c["ci_incidence_low"]) / (2 * Z),
    )
    lo, hi = diff - Z * se, diff + Z * se
    ev = evidence("unadjusted")
    return Effect(
        "comparison",
        f"{within}: service less comparison cohort, unadjusted (Kaplan-Meier), "
        f"{diff:+.1%} (95% CI {lo:+.1%} to {hi:+.1%}; from the two curves' CIs); set "
        "[comparison] propensity for the adjusted comparison",
        str(ev["statement"]),
        int(ev["sms_level"]),
        -diff,
        -hi,
        -lo,
        label=f"the difference between the cohorts in {within}, unadjusted (Time to next "
        "proceedings sheet)",
    )


def benchmark_effect(survival: Any, threshold: int = 5) -> Effect | str:
    """The benchmark less the service's own curve at its longest point reached and shown on
    the return (the Time to next proceedings sheet hides a point with ``threshold`` or fewer
    at risk, or 1 to ``threshold`` new proceedings by then: its figure is not used either)."""
    b = getattr(survival, "benchmark_", None) if survival is not None else None
    if not b:
        return "no benchmark is set ([survival] benchmark)"
    if b.get("not_compared"):
        return f"the benchmark is not compared: {b['not_compared']}"
    rows = [
        r
        for r in b["rows"]
        if r["incidence"] is not None
        and r["at_risk"] > threshold
        and not 1 <= r["events"] <= threshold
    ]
    if not rows:
        return (
            "the service's follow-up does not reach the benchmark's points with more than "
            f"{threshold} parents at risk and no small count of new proceedings"
        )
    r = rows[-1]
    diff = r["benchmark_incidence"] - r["incidence"]
    ev = evidence("benchmark")
    return Effect(
        "benchmark",
        f"new care proceedings within {r['days']} days: {b['label']} {r['benchmark_incidence']:.0%}"
        f" ({b['source']}) less the service's own {r['incidence']:.1%} (95% CI "
        f"{r['ci_low']:.1%} to {r['ci_high']:.1%}); other parents and years: an indication, "
        "not an effect",
        str(ev["statement"]),
        int(ev["sms_level"]),
        diff,
        r["benchmark_incidence"] - r["ci_high"],
        r["benchmark_incidence"] - r["ci_low"],
        label=f"new care proceedings within {r['days']} days: {b['label']} "
        f"{r['benchmark_incidence']:.0%} ({b['source']}) less the service's own (Time to next "
        "proceedings sheet); other parents and years: an indication, not an effect",
    )


def what_if_effect(vs: ValueSettings, survival: Any, days: int) -> Effect | str:
    """The effect the user states."""
    stated = "stated by the user ('what if'), not measured"
    if vs.what_if_prevented_per_year is not None:
        n = vs.what_if_prevented_per_year
        return Effect(
            "what-if",
            f"what if the service prevents {n:g} set(s) of care proceedings a year "
            "([value] what_if_prevented_per_year)",
            f"Strength of evidence: none; {stated}.",
            None,
            per_year=n,
        )
    rr = vs.what_if_relative_reduction
    if rr is None:
        return "no 'what if' effect is set"
    base = None
    if survival is not None and survival.logrank_ is not None:
        c = _at(survival.survival_at_, "comparison", days)
        if c is not None:
            base = (float(c["cumulative_incidence"]), f"the comparison cohort's {days}-day figure")
    if base is None:
        b = getattr(survival, "benchmark_", None) if survival is not None else None
        if b and b.get("points"):
            p = b["points"][-1]
            base = (float(p["incidence"]), f"the benchmark ({b['label']})")
    if base is None:
        return (
            "what_if_relative_reduction needs a baseline (a comparison cohort or a benchmark); "
            "give what_if_prevented_per_year instead"
        )
    return Effect(
        "what-if",
        f"what if the service reduces new care proceedings by {rr:.0%} of {base[1]}, "
        f"{base[0]:.1%} ([value] what_if_relative_reduction)",
        f"Strength of evidence: none; {stated}.",
        None,
        rate=rr * base[0],
    )


def choose_effect(
    vs: ValueSettings, survival: Any, compared: Any, days: int, threshold: int = 5
) -> Effect | str:
    """The effect [value] effect asks for ('auto': what if, else comparison, else benchmark)."""
    what_if = vs.what_if_prevented_per_year is not None or vs.what_if_relative_reduction is not None
    if vs.effect == "what-if" or (vs.effect == "auto" and what_if):
        return what_if_effect(vs, survival, days)
    if vs.effect == "comparison":
        return comparison_effect(survival, compared, days)
    if vs.effect == "benchmark":
        return benchmark_effect(survival, threshold)
    found = comparison_effect(survival, compared, days)
    if isinstance(found, Effect):
        return found
    bench = benchmark_effect(survival, threshold)
    return bench if isinstance(bench, Effect) else f"{found}; {bench}"


def value_for_money(
    vs: ValueSettings,
    survival: Any,
    compared: Any,
    clients: pd.DataFrame,
    end: dt.date,
    threshold: int = 5,
    times: Sequence[int] = (1095,),
    life_satisfaction: bool = False,
) -> Value:
    """The case for one period end. Raises ConfigError for a settings fault; anything the
    data cannot give (no comparison, too few parents) is said in ``not_computed``."""
    deflator = read_deflator(vs.deflator)
    price_year = vs.price_year or max(deflator.index)
    lines = _cost_lines(vs, price_year, deflator)
    parents, parents_words, stated = _parents(vs, clients, end, threshold)
    # the effect at effect_days, else at the longest of the reported times both cohorts reach
    for days in [vs.effect_days] if vs.effect_days else sorted(times, reverse=True):
        found = choose_effect(vs, survival, compared, days, threshold)
        if isinstance(found, Effect):
            break
    effect = found if isinstance(found, Effect) else None
    effect_days = days if effect is not None else None
    needs_parents = vs.cost_per_parent is not None or (
        effect is not None and effect.rate is not None
    )
    if vs.cost_per_parent is not None and parents is None:
        costs, cost_words = [], "not computed: " + parents_words
    else:
        costs, cost_words = _service_costs(vs, parents, price_year, deflator)
    out = Value(vs, price_year, deflator, lines, costs, cost_words, parents, parents_words,
                effect, None)  # fmt: skip
    out.notes = _notes(vs, price_year, deflator)
    out.days = effect_days
    out.parents_range = stated
    if effect is None:
        out.not_computed = f"no effect to value: {found}"
        return out
    if needs_parents and parents is None:
        out.not_computed = parents_words
        return out
    out.avoided = effect.per_year if effect.per_year is not None else effect.rate * parents
    _appraise_all(out, vs)
    out.wellby = _wellby(vs, parents, price_year, deflator, life_satisfaction)
    return out


def _run(v: Value, vs: ValueSettings, avoided: float, **change: Any) -> Appraisal:
    s = replace(vs, **{k: c for k, c in change.items() if k in vs.__dataclass_fields__})
    profile = v.profile
    if "unit_factor" in change:
        profile = [p * change["unit_factor"] for p in profile]
    costs = v.costs
    return appraise(
        costs,
        avoided,
        profile,
        max(s.horizon_years, len(costs)) if "horizon_years" in change else s.horizon_years,
        s.discount_rate,
        s.deadweight,
        s.attribution,
        s.optimism_bias,
    )


def _appraise_all(v: Value, vs: ValueSettings) -> None:
    assert v.avoided is not None and v.effect is not None
    v.central = _run(v, vs, v.avoided)
    v.per_avoided = _run(v, vs, 1.0)
    pv1 = v.per_avoided.pv_savings
    v.break_even = v.central.pv_costs / pv1 if pv1 > 0 else None
    v.horizons = {h: _run(v, vs, v.avoided, horizon_years=h) for h in HORIZONS}
    e = v.effect
    if e.se is not None and e.rate is not None and v.parents is not None and e.se > 0:
        rng = np.random.default_rng(vs.seed)
        rates = rng.normal(e.rate, e.se, vs.draws)
        pvb = rates * v.parents * pv1
        pvc = v.central.pv_costs
        bcr = pvb / pvc
        v.interval = {
            "draws": vs.draws,
            "seed": vs.seed,
            "bcr_low": float(np.percentile(bcr, 2.5)),
            "bcr_high": float(np.percentile(bcr, 97.5)),
            "npv_low": float(np.percentile(pvb - pvc, 2.5)),
            "npv_high": float(np.percentile(pvb - pvc, 97.5)),
            "share_paying": float((bcr >= 1).mean()),
        }
        v.interval_words = (
            f"{vs.draws} Monte Carlo draws (seed {vs.seed}) of the effect from a normal "
            "distribution with its estimate and the standard error read from its 95% CI; "
            "2.5th to 97.5th percentiles"
        )
    else:
        v.interval_words = (
            "no interval: the effect is stated, not estimated (the sensitivity table halves "
            "and doubles it)"
            if e.kind == "what-if"
            else "no interval: the effect's CI is not available"
        )
    v.sensitivity = _sensitivity(v, vs)


def _sensitivity(v: Value, vs: ValueSettings) -> pd.DataFrame:
    """Each assumption alone at a low and a high value, the rest as set."""
    assert v.avoided is not None and v.effect is not None
    e = v.effect
    if e.rate_low is not None and e.rate_high is not None and v.parents is not None:
        eff = (
            "effect (its 95% CI)",
            e.rate_low * v.parents,
            e.rate_high * v.parents,
            "95% CI low / high",
        )
    else:
        eff = ("effect (half / double)", v.avoided / 2, v.avoided * 2, "x0.5 / x2")
    rows = [
        (eff[0], eff[3], _run(v, vs, eff[1]), _run(v, vs, eff[2])),
        ("discount rate", "1.5% / 5%", _run(v, vs, v.avoided, discount_rate=0.015),
         _run(v, vs, v.avoided, discount_rate=0.05)),
        ("horizon", "4 / 18 years", _run(v, vs, v.avoided, horizon_years=4),
         _run(v, vs, v.avoided, horizon_years=18)),
        ("deadweight", "50% / 0%", _run(v, vs, v.avoided, deadweight=0.5),
         _run(v, vs, v.avoided, deadweight=0.0)),
        ("attribution", "50% / 100%", _run(v, vs, v.avoided, attribution=0.5),
         _run(v, vs, v.avoided, attribution=1.0)),
        ("optimism bias", "40% / 0%", _run(v, vs, v.avoided, optimism_bias=0.4),
         _run(v, vs, v.avoided, optimism_bias=0.0)),
        ("unit costs", "-25% / +25%", _run(v, vs, v.avoided, unit_factor=0.75),
         _run(v, vs, v.avoided, unit_factor=1.25)),
    ]  # fmt: skip
    return pd.DataFrame(
        [
            {
                "assumption": name,
                "low / high": words,
                "npv_low": lo.npv,
                "npv_high": hi.npv,
                "bcr_low": lo.bcr,
                "bcr_high": hi.bcr,
            }
            for name, words, lo, hi in rows
        ]
    )


def _wellby(
    vs: ValueSettings, parents: float | None, price_year: int, deflator: Deflator, collected: bool
) -> dict[str, Any]:
    if vs.wellby_points is None:
        return {
            "valued": False,
            "why": "not valued: no life-satisfaction measure (e.g. ONS life satisfaction, 0-10) "
            "is collected; with one, set [value] wellby_points (the gain per parent)",
        }
    if parents is None:
        return {"valued": False, "why": "not valued: the parents a year are not known"}
    value = vs.wellby_value * deflator.factor(WELLBY_PRICE_YEAR, price_year, "WELLBY")
    points = vs.wellby_points * parents
    # one year's gain for each year's starters, discounted at the health rate
    years = range(len(vs.service_cost) or vs.years or 1)
    pv = sum(points * value / (1 + vs.health_discount_rate) ** u for u in years)
    return {
        "valued": True,
        "points_per_parent": vs.wellby_points,
        "value_per_wellby": value,
        "pv": pv,
        "why": (
            f"{vs.wellby_points:g} life-satisfaction point(s) per parent for one year x "
            f"GBP {vs.wellby_value:,.0f} per WELLBY (HM Treasury wellbeing guidance, 2019 "
            f"prices; {price_year} prices GBP {value:,.0f}), discounted at "
            f"{vs.health_discount_rate:.1%} (the Green Book's health rate); shown apart from "
            "the cash case, never added to it"
            + ("" if collected else " (the gain is as stated in [value] wellby_points)")
        ),
    }


def _notes(vs: ValueSettings, price_year: int, deflator: Deflator) -> list[str]:
    return [
        f"All amounts in {price_year} prices, moved with the GDP deflator ({deflator.vintage}).",
        f"Discounted at {vs.discount_rate:.1%} a year (HM Treasury Green Book standard rate "
        f"3.5%); the health rate {vs.health_discount_rate:.1%} is used only for wellbeing "
        "(WELLBY) values. Year 1 is not discounted.",
        f"Deadweight {vs.deadweight:.0%} (what would have happened anyway: 0% by default, "
        "because a comparison cohort already is the counterfactual; set it for a benchmark or "
        f"'what if'), attribution {vs.attribution:.0%} (the share of the change due to the "
        f"service; default 100%), optimism bias {vs.optimism_bias:.0%} (savings reduced by "
        "it; evaltool's default 20%, a cautious choice, not a published figure).",
        f"Horizon {vs.horizon_years} years from the first year; savings after it are not "
        "counted. An avoided set of proceedings is counted in the year its parent starts.",
        "Every GBP figure is rounded to the nearest 1,000 when printed, so that no exact count "
        "can be worked back from it; parents a year from the data are rounded to the nearest 5 "
        "and not used when 5 or fewer.",
    ]

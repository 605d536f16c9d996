"""The strength of evidence of every comparative result: its design, its level on the
Maryland Scientific Methods Scale (What Works Centre for Local Economic Growth definitions:
1 a before/after or cross-section without controls; 2 with adequate controls; 3 a comparison
group before and after, as difference in differences) and one plain sentence on what it
cannot rule out. Nothing comparative is printed without it (FIELD.md, section 2.6).

Level 2 is earned, not given for any covariate: the covariates must be characteristics known
when the parent entered (``covariate_refusals``), the model must hold the data contract's core
baseline set (``CORE_BASELINE``, and any the settings add), and propensity weights must balance
every covariate (|standardised mean difference| below 0.1 after weighting). Every adjusted
ratio and difference carries an E-value (VanderWeele & Ding 2017), and every cohort comparison
the smallest hazard ratio it could detect (Schoenfeld 1983)."""

from __future__ import annotations

import math
from typing import Any

from evaltool.data.baseline import (  # noqa: F401 (the names evidence is judged by)
    CORE_BASELINE,
    covariate_refusals,
    refusal_message,
)

#: the design of each comparative result, its Maryland Scientific Methods Scale level (What
#: Works Centre for Local Economic Growth definitions) and what it cannot rule out
DESIGNS = {
    "before-after": (
        "before and after, service clients only",
        1,
        "change that would have happened anyway (time, regression to the mean, who stayed)",
    ),
    "benchmark": (
        "against a national benchmark",
        1,
        "that the service's parents differ from the national population, and change since the "
        "benchmark's years",
    ),
    "unadjusted": (
        "service cohort against a comparison cohort, unadjusted",
        1,
        "that the cohorts differed before the service (who was referred, and why)",
    ),
    "adjusted": (
        "service cohort against a comparison cohort, adjusted for measured differences",
        2,
        "differences between the cohorts that were not measured (motivation, severity, "
        "support from elsewhere)",
    ),
    "area-did": (
        "areas with the service against areas without it, before and after (difference in "
        "differences)",
        3,
        "other changes in the service areas at the same time, and trends that were not "
        "parallel before",
    ),
    "area-unchecked": (
        "areas with the service against areas without it, with area and year effects, but "
        "trends before the service that were not parallel or could not be checked",
        2,
        "that the areas were already moving apart before the service began",
    ),
}


def evidence(design: str) -> dict[str, Any]:
    """The strength of evidence of a comparative result, in words: nothing comparative is
    printed without it."""
    words, level, cannot = DESIGNS[design]
    return {
        "design": design,
        "description": words,
        "sms_level": level,
        "statement": f"Strength of evidence: Maryland Scientific Methods Scale level {level} "
        f"of 5 ({words}). It cannot rule out {cannot}.",
    }


#: |SMD| not below this after adjustment: the groups still differ on that covariate
SMD_LIMIT = 0.1


# --- the level a cohort comparison earns -----------------------------------------------------


def earned(
    covariates: tuple[str, ...],
    balanced: Any = None,
    required: tuple[str, ...] = CORE_BASELINE,
) -> dict[str, Any]:
    """The evidence a cohort comparison has earned. ``covariates``: those adjusted for (not
    the cohort); ``balanced``: the balance table after weighting (``comparison.balance``),
    None for a regression adjustment. Level 2 needs every ``required`` covariate in the model
    and, with weights, every covariate balanced (|SMD| below 0.1); otherwise level 1 with the
    reason in words."""
    covs = tuple(c for c in covariates if c != "cohort")
    if not covs:
        return evidence("unadjusted")
    missing = [c for c in required if c not in covs]
    reasons = []
    if missing:
        reasons.append(
            f"the model leaves out {', '.join(missing)} of the baseline characteristics a "
            f"level 2 comparison needs ({', '.join(required)})"
        )
    if balanced is not None and balanced["imbalanced"].any():
        names = ", ".join(balanced.loc[balanced["imbalanced"], "covariate"])
        reasons.append(
            f"balance was not achieved on {names} (|standardised mean difference| not below "
            f"{SMD_LIMIT} after weighting)"
        )
    if reasons:
        out = evidence("unadjusted")
        out["statement"] += (
            f" Adjusted for {', '.join(covs)}, but read it as level 1: "
            + "; and ".join(reasons)
            + "."
        )
        out["reasons"] = reasons
        return out
    out = evidence("adjusted")
    if balanced is not None:
        worst = balanced.loc[balanced["smd_weighted"].abs().idxmax()]
        out["statement"] += (
            f" Level 2 because the model holds {', '.join(required)} and the weights balance "
            f"every covariate (|standardised mean difference| below {SMD_LIMIT} after "
            f"weighting; the largest {abs(worst['smd_weighted']):.3f}, {worst['covariate']})."
        )
    else:
        out["statement"] += (
            f" Level 2 because the model adjusts for {', '.join(required)} by regression; a "
            "regression does not show balance (compare the cohorts with --propensity to see it)."
        )
    return out


# --- E-values (VanderWeele & Ding 2017, Annals of Internal Medicine 167:268) -----------------

#: an outcome is common when at least this share have it by the end of follow-up (VanderWeele
#: 2020): then a hazard ratio is converted to a risk ratio rather than read as one
COMMON = 0.15


def e_value_rr(rr: float) -> float:
    """The E-value of a risk ratio: RR + sqrt(RR (RR - 1)), with RR inverted below 1."""
    if not rr > 0:
        return math.nan
    rr = 1 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1))


def hr_to_rr(hr: float) -> float:
    """A hazard ratio of a common outcome as a risk ratio (VanderWeele 2020, Biometrics 76:746,
    as the R EValue package's evalues.HR(rare = FALSE)):
    (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))."""
    return (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))


def e_value(
    kind: str,
    estimate: float,
    low: float | None = None,
    high: float | None = None,
    *,
    se: float | None = None,
    common: bool = False,
    between: str = "the cohorts",
    beyond: str = "the covariates",
) -> dict[str, Any]:
    """The E-value of an adjusted result and of its CI limit nearer 1 (1 when the CI holds 1).
    ``between``: who is compared and ``beyond``: what the result is adjusted for, in the words
    of its statement.

    ``kind``: ``hr`` (a hazard ratio; ``common``: converted with ``hr_to_rr``, else read as a
    risk ratio, the rare-outcome approximation), ``rr`` (a risk or rate ratio as it is) or
    ``smd`` (a standardised mean difference d with its standard error ``se``: RR = exp(0.91 d),
    CI exp(0.91 d -/+ 1.78 se), as EValue's evalues.MD)."""
    if kind == "smd":
        if se is None:
            raise ValueError("the E-value of a standardised mean difference needs its se")
        rr = math.exp(0.91 * estimate)
        lo, hi = math.exp(0.91 * estimate - 1.78 * se), math.exp(0.91 * estimate + 1.78 * se)
        how = "the standardised mean difference d as a risk ratio exp(0.91 d)"
    elif kind == "hr" and common:
        rr, lo, hi = (hr_to_rr(v) if v is not None else None for v in (estimate, low, high))
        how = (
            "the hazard ratio converted to a risk ratio for a common outcome (VanderWeele 2020: "
            f"{COMMON:.0%} or more have it by the end of follow-up)"
        )
    elif kind == "hr":
        rr, lo, hi = estimate, low, high
        how = (
            "the hazard ratio read as a risk ratio (a rare outcome: under "
            f"{COMMON:.0%} have it by the end of follow-up)"
        )
    else:
        rr, lo, hi = estimate, low, high
        how = "the ratio read as a risk ratio"
    point = e_value_rr(rr)
    if lo is None or hi is None:
        limit = math.nan
    elif lo <= 1 <= hi:
        limit = 1.0
    else:
        limit = e_value_rr(lo if rr > 1 else hi)
    return {
        "e_value": point,
        "e_value_ci": limit,
        "risk_ratio": rr,
        "scale": how,
        "statement": f"E-value {point:.2f} (its CI limit nearer 1: {limit:.2f}): to explain the "
        f"result away, an unmeasured difference between {between} would have to be "
        f"associated with both the outcome and being in the service by a risk ratio of "
        f"{point:.2f} each, over and above {beyond} ({limit:.2f} to make the CI hold "
        f"no effect); from {how}.",
    }


def with_e_value(found: dict[str, Any], e: dict[str, Any]) -> dict[str, Any]:
    """The evidence with its E-value added to the statement."""
    return {**found, "e_value": e, "statement": f"{found['statement']} {e['statement']}"}


# --- power -----------------------------------------------------------------------------------


def minimum_detectable_hr(
    events: int, share: float, power: float = 0.8, alpha: float = 0.05
) -> float:
    """The smallest hazard ratio below 1 a two-sided test at ``alpha`` detects with ``power``
    from ``events`` events and a share ``share`` of the parents in one cohort (Schoenfeld 1983:
    events = (z_(1-alpha/2) + z_power)^2 / (share (1 - share) log(HR)^2)); its mirror above 1
    is 1 / this."""
    from scipy.stats import norm

    if events <= 0 or not 0 < share < 1:
        return math.nan
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return math.exp(-z / math.sqrt(events * share * (1 - share)))


def power_statement(events: int, service: int, clients: int) -> dict[str, Any]:
    """The minimum detectable hazard ratio at 80% power (two-sided 5%), in words, from the
    parents with new proceedings and the ``service`` parents of ``clients`` (kept as counts:
    the share and the hazard ratio give them back, so they are protected as counts are)."""
    share = service / clients if clients else math.nan
    hr = minimum_detectable_hr(events, share)
    if math.isnan(hr):
        words = "No events, or one cohort only: no hazard ratio could be detected."
    else:
        words = (
            f"With {events} parents with new proceedings and {share:.0%} of parents in the "
            f"service cohort, this comparison has an 80% chance (two-sided 5% test) of detecting "
            f"a hazard ratio of {hr:.2f} or below (or {1 / hr:.2f} or above); smaller effects "
            "could well be missed (Schoenfeld's formula)."
        )
    return {
        "events": int(events),
        "clients": int(clients),
        "service": int(service),
        "share_service": share,
        "minimum_detectable_hr": hr,
        "statement": words,
    }


# --- the primary analysis --------------------------------------------------------------------


def role(primary: dict[str, str], **analysis: str | None) -> dict[str, Any]:
    """Whether an analysis is the primary one fixed in the settings (origin, outcome, estimand,
    method) or a sensitivity analysis, saying where it differs."""
    differs = [
        f"{key} {value} (primary: {primary[key]})"
        for key, value in analysis.items()
        if key in primary and value is not None and value != primary[key]
    ]
    fixed = ", ".join(f"{k} {v}" for k, v in primary.items())
    if differs:
        return {
            "analysis": "sensitivity",
            "statement": f"Sensitivity analysis: it differs from the primary analysis fixed in "
            f"the settings ({fixed}) in {'; '.join(differs)}.",
        }
    return {
        "analysis": "primary",
        "statement": f"Primary analysis, fixed in the settings ({fixed}).",
    }


def with_role(found: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
    """The evidence with the analysis's role first in its statement."""
    return {
        **found,
        "analysis": r["analysis"],
        "statement": f"{r['statement']} {found['statement']}",
    }

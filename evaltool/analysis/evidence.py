"""The strength of evidence of every comparative result: its design, its level on the
Maryland Scientific Methods Scale (What Works Centre for Local Economic Growth definitions:
1 a before/after or cross-section without controls; 2 with adequate controls; 3 a comparison
group before and after, as difference in differences) and one plain sentence on what it
cannot rule out. Nothing comparative is printed without it (FIELD.md, section 2.6)."""

from __future__ import annotations

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
}


def evidence(design: str) -> dict[str, object]:
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

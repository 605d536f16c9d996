"""The Annex's statistics as tables of the publication: the log-rank test, the Cox model
and the power of each comparison of the cohorts, protected with every other table of the
return, and the notes of the survival analysis in words a manager can act on (no count of
people in them: a count in words is never protected, so the power's count of parents with new
proceedings is a cell of the ``power`` table, declared the same as the medians table's)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from evaltool.analysis.evidence import evidence
from evaltool.instruments.results import Relation, SummaryTable

if TYPE_CHECKING:
    from evaltool.analysis.survival import TimeToProceedings

LOGRANK = "logrank"
COX = "cox"


def annex_tables(
    survival: TimeToProceedings, medians: SummaryTable | None = None
) -> list[SummaryTable]:
    """The log-rank test (one row) and the Cox model's coefficients, where fitted. Each is
    hidden wherever a cohort's parents with new proceedings (the medians table's events) are:
    with one or two events a cohort, the statistics, the standard error near the square root
    of 2, give the events back (an adversary, 2026-12-07: a service's 1 and a comparison
    cohort's 1, printed "0 to 9", from the log-rank chi-square 0.21 and the Cox SE 1.415)."""
    events: tuple = ()
    if medians is not None and {"Group", "Events"} <= set(medians.data.columns):
        events = tuple((medians.name, r, "Events") for r in range(len(medians.data)))
    tables = []
    if survival.logrank_:
        tables.append(
            SummaryTable(
                LOGRANK,
                "Log-rank test: service vs comparison cohort (time to next proceedings)",
                pd.DataFrame(
                    [
                        {
                            "Chi-square": round(survival.logrank_["chi2"], 2),
                            "df": survival.logrank_["df"],
                            "p": p_text(survival.logrank_["p"]),
                        }
                    ]
                ),
                note=f"{CAVEAT} {evidence('unadjusted')['statement']}",
                hidden_with={c: events for c in ("Chi-square", "df", "p")} if events else {},
            )
        )
    if survival.cox_ is not None:
        cox = survival.cox_.rename(
            columns={
                "covariate": "Covariate",
                "coef": "Coefficient",
                "hr": "Hazard ratio",
                "hr_low": "HR CI low",
                "hr_high": "HR CI high",
                "se": "SE",
                "p": "p",
            }
        )
        tables.append(
            SummaryTable(
                COX,
                "Cox proportional hazards model (time to next proceedings)",
                cox,
                formats={"Coefficient": "0.000", "SE": "0.000"},
                hidden_with={c: events for c in cox.columns if c != "Covariate"} if events else {},
                note="Efron ties; cohort coded service = 1. "
                + (without_power(survival.evidence_) or evidence("unadjusted")["statement"]),
            )
        )
    return tables


CAVEAT = (
    "The comparison cohort was not chosen at random: a difference may come from who was "
    "referred rather than from the service."
)


def annex_notes(survival: TimeToProceedings | None) -> list[str]:
    """The notes of the Cox model, each once, in plain words."""
    if survival is None:
        return []
    return list(dict.fromkeys(plain_warning(w) for w in survival.warnings_))


def p_text(p: float) -> str | float:
    """A p-value as printed: never 0 (below 0.001 reads <0.001)."""
    return "<0.001" if p < 0.001 else round(p, 3)


_COUNTED_WARNINGS = (
    (re.compile(r"\b\d+ client\(s\) with a missing covariate"), "clients with a missing covariate"),
    (
        re.compile(r"\b\d+ events for \d+ covariate\(s\), under (\d+) per covariate"),
        r"too few events per covariate (under \1 each)",
    ),
)


def plain_warning(text: str) -> str:
    """A note of the survival analysis as a sentence a manager can act on: never the library's
    text (an exception's words, 'LinAlgError', a matrix inversion) and no count of people
    (``return_warning``). The full text is what ``evaltool survival`` prints."""
    text = return_warning(text)
    cox = "The Cox model (which compares how soon new proceedings came, allowing for "
    if "only one cohort" in text:
        return (
            f"{cox}differences between parents) has no comparison parents in these data, so it "
            "only looks at the other factors. To compare with parents who did not receive the "
            "service, add them to the clients table with cohort = comparison."
        )
    found = re.search(r"covariate '([^']+)' has only one value", text)
    if found:
        return (
            f"{cox}differences between parents) is not reported: '{found.group(1)}' is the "
            "same for every parent analysed. Leave it out of [survival] covariates."
        )
    found = re.search(r"covariate '([^']+)' is not (?:a column|numeric)", text)
    if found:
        return (
            f"{cox}differences between parents) is not reported: '{found.group(1)}' is not a "
            "number or yes/no column of the clients table. Correct [survival] covariates."
        )
    if "not reported" in text or "could not be fitted" in text:
        return (
            f"{cox}differences between parents) could not be worked out from these data "
            "(usually too few new proceedings for the factors it allows for), so it is not "
            "reported. Name fewer factors in [survival] covariates; `evaltool survival` "
            "prints the details."
        )
    if "missing covariate" in text:
        return (
            f"{cox}differences between parents) leaves out parents with a factor not "
            "recorded; fill it in the records to include them."
        )
    if "proportional hazards doubtful" in text:
        return (
            f"{cox}differences between parents) assumes the difference between groups stays "
            "the same over time, and these data cast doubt on it: read its hazard ratio as an "
            "average over the years followed. `evaltool survival` prints the details."
        )
    if "per covariate" in text:
        return (
            f"{cox}differences between parents) rests on few new proceedings for the number "
            "of factors it allows for: treat its figures as unstable, or name fewer factors "
            "in [survival] covariates."
        )
    return (
        "The analysis noted something for evaluators that is not shown here; `evaltool "
        "survival` prints it."
    )


def return_warning(text: str) -> str:
    """A warning for the return: no count in it (a note that says '3 events' undoes the c
    beside it). Known warnings are reworded; any other count of people or events goes."""
    for pattern, words in _COUNTED_WARNINGS:
        text = pattern.sub(words, text)
    return _A_COUNT.sub("", text)


_A_COUNT = re.compile(
    r"(?<![\d.])\d+ (?=(?:client|event|person|people|pregnan|bab|closure|referral|mother))"
)


POWER = "power"
CMP_POWER = "cmp-power"
EVENTS = "Parents with new proceedings"
#: the power's columns: its counts, and what is worked out from them (hidden with them)
HR_BELOW, HR_ABOVE = "Smallest effect detectable (HR below)", "or (HR above)"
CLIENTS, SERVICE = "All parents", "Parents in the service cohort"


def without_power(found: dict[str, Any] | None) -> str | None:
    """An evidence statement without its power sentence: that sentence counts parents with
    new proceedings, so it is a table of the publication (``power_table``), protected with the
    rest, never words beside them."""
    if found is None:
        return None
    statement = found["statement"]
    power = found.get("power")
    if power is not None:
        statement = strip_power(statement.replace(power["statement"], "")).strip()
        statement += " Its power (the smallest effect it could detect): the Annex's power table."
    return statement


#: the power sentence of ``evidence.power_statement``: it counts parents with new proceedings
_POWER_SENTENCE = re.compile(
    r"\s*With \d+ parents with new proceedings and .*?\(Schoenfeld's formula\)\."
)


def strip_power(text: str) -> str:
    """A statement of the strength of evidence without its power sentence, for words a
    renderer prints beside the tables (the power is the Annex's ``power`` table)."""
    return _POWER_SENTENCE.sub("", text)


def power_table(
    name: str, title: str, found: dict[str, Any] | None, medians: SummaryTable | None
) -> SummaryTable | None:
    """The power of a comparison of the cohorts (Schoenfeld's formula): the parents with new
    proceedings it rests on, the parents in all and in the service cohort (the share, printed
    to 0.1% beside all, gave a hidden comparison cohort of 1 back: now the reader divides) and
    the smallest hazard ratio it could detect, which gives the share back with the events
    shown, so it is hidden with any of the counts. Where a count is the medians table's
    (the same parents: its "all" and "service" rows), the two are declared one quantity."""
    power = (found or {}).get("power")
    if power is None:
        return None
    hr = power["minimum_detectable_hr"]
    frame = pd.DataFrame(
        [
            {
                EVENTS: int(power["events"]),
                CLIENTS: int(power["clients"]),
                SERVICE: int(power["service"]),
                HR_BELOW: hr,
                HR_ABOVE: 1 / hr if hr == hr and hr else float("nan"),
            }
        ]
    )
    relations = []
    if medians is not None:
        groups = list(medians.data["Group"])
        for col, group, medians_col in (
            (EVENTS, "all", "Events"),
            (CLIENTS, "all", "Clients"),
            (SERVICE, "service", "Clients"),
        ):
            if group not in groups or medians_col not in medians.data:
                continue
            row = groups.index(group)
            if int(medians.data[medians_col].iloc[row]) == int(frame.at[0, col]):
                relations.append(
                    Relation((((name, 0, col), 1.0), ((medians.name, row, medians_col), -1.0)))
                )
    every = (EVENTS, CLIENTS, SERVICE)
    return SummaryTable(
        name,
        title,
        frame,
        counts=every,
        derived={HR_BELOW: every, HR_ABOVE: every},
        formats={HR_BELOW: "0.00", HR_ABOVE: "0.00"},
        note="The hazard ratio this comparison has an 80% chance (two-sided 5% test) of "
        "detecting, from the parents with new proceedings and the share of parents in the "
        "service cohort; smaller effects could well be missed (Schoenfeld's formula).",
        relations=tuple(relations),
    )

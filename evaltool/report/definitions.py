"""The Definitions sheet's terms, built with the publication (a table of it, printed by
every renderer from there)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from evaltool.instruments.base import Definition
from evaltool.instruments.results import SummaryTable
from evaltool.report.disclosure import SUPPRESSED
from evaltool.report.formats import SYMBOL_PROFILES
from evaltool.report.words import plain_definitions

if TYPE_CHECKING:
    from evaltool.core import Results

#: the sheet and the table of the definitions
SHEET = "Definitions"
TABLE = "definitions"


def definitions_table(results: Results) -> SummaryTable:
    """Every definition as a row: Term, Definition, Source (no counts: words only). A
    shared output hides nothing: no row for the hidden figures' symbol."""
    defs = definitions(results)
    if results.settings.audience == "shared":
        defs = [d for d in defs if not d.term.endswith("(suppressed)")]
    return SummaryTable(
        TABLE,
        "Definitions",
        pd.DataFrame(
            [(d.term, d.meaning, d.source) for d in defs],
            columns=["Term", "Definition", "Source"],
        ),
    )


def definitions(results: Results) -> list[Definition]:
    s = results.settings
    defs = [
        *plain_definitions(s.symbols),
        Definition(
            "Period",
            f"{results.period.describe()}; financial quarters run April-March (Q1 = April-June)"
            if s.calendar == "financial"
            else results.period.describe(),
            "evaltool.toml [reporting] calendar",
        ),
        Definition(
            "To date", "From the first record up to the last day of the period.", "evaltool"
        ),
        Definition(
            "Referrals / starts / closures",
            "Service-cohort clients whose referral, start or end date falls in the quarter. "
            "Closures count every case that ended, referrals closed before they started "
            "included: the caseload changes by the starts less the closures of started cases "
            "only, and the waiting list by the referrals less the starts and the closures "
            "while waiting.",
            "evaltool",
        ),
        Definition(
            "Active caseload",
            "Clients started on or before the quarter end and not closed by it.",
            "evaltool",
        ),
        Definition(
            "Waiting",
            "Clients referred by the quarter end, not started and not closed.",
            "evaltool",
        ),
        Definition(
            "Length of involvement",
            "Days from start date to end date of cases closed in the quarter (median).",
            "evaltool",
        ),
        Definition(
            f"{SYMBOL_PROFILES[s.symbols][SUPPRESSED]} (suppressed)",
            f"Counts from 1 to {s.small_number_threshold} and any "
            "figure that would reveal them (shares, means, and a second cell where a "
            "total would allow subtraction).",
            "DfE children's statistics methodology",
        ),
    ]
    defs += window_definitions(results)
    for instrument in results.loaded.instruments:
        defs += instrument.definitions()
    from evaltool.report.before_after_tables import DEFINITIONS as COMPARE_DEFINITIONS

    defs += COMPARE_DEFINITIONS
    if results.survival is not None:
        from evaltool.report.survival_tables import (
            return_type_definitions,
            survival_definitions,
        )

        defs += survival_definitions(results.survival)
        defs += return_type_definitions(results.survival_new)
    return defs


def window_definitions(results: Results) -> list[Definition]:
    """The Summary's windows and its recurrence figure, in words."""
    out = [
        Definition(
            f"Window: {w.name}",
            f"{w.label}: {w.start:%d %b %Y} to {w.end:%d %b %Y}"
            + (" (from the quarter of the first referral)" if w.name == "All time" else ""),
            "evaltool",
        )
        for w in results.windows
    ]
    if results.pbr is not None:
        s = results.settings
        out.append(
            Definition(
                "Payment-by-results outcomes",
                f"Per service-cohort parent from the start date. Not pregnant: no pregnancy known "
                f"within {s.pbr_pregnancy_months} months, and {s.pbr_engagement_months} months of "
                "the programme completed (closing earlier, other than by moving away, is not "
                f"met). No new proceedings: no care proceedings issued within "
                f"{s.pbr_proceedings_months} months with an interim care, care or placement "
                "order, or still open. Met on the horizon date; not met on the day it was "
                "missed; lost to follow-up on the day the parent moved away; not yet "
                "assessable until then, never counted as met. By window: decided in the "
                "window. By financial year of starting (April to March): where the outcomes of "
                "the parents who started in that year stand at the period end.",
                "Pause Plymouth social impact bond outcome metrics (Life Chances Fund, "
                "2019-2024), as published in the INDIGO impact bond dataset (GO Lab)",
            )
        )
    if results.recurrence is not None:
        out.append(
            Definition(
                "Parents followed for a year",
                "Service-cohort parents whose first year after joining us (the start date; "
                'with [survival] entry = "referral", the referral date; or the origin on the '
                "Time to next proceedings sheet where it is later) ended in the window, and who "
                "were followed for all of it or had new care proceedings issued in it. Time "
                "before joining is not counted: no new proceedings could be seen in it. The "
                "share: those with new proceedings issued within the year, divided by them. "
                "Each quarter's figure is final once the quarter is over.",
                "evaltool",
            )
        )
    return out

"""The Time to next proceedings sheet's tables and definitions, read from a fitted
:class:`~evaltool.analysis.survival.TimeToProceedings`."""

from __future__ import annotations

import pandas as pd

from evaltool.analysis.survival import DAYS_PER_MONTH, LOST_REASONS, TimeToProceedings
from evaltool.analysis.survival.table import ORIGIN_DEFINITIONS
from evaltool.data.contract import CONTRACT_DOC, CONTRACT_VERSION
from evaltool.instruments.base import Definition
from evaltool.instruments.results import Implied, Relation, SummaryTable

NOT_REACHED = "not reached"


def survival_tables(fit: TimeToProceedings) -> list[SummaryTable]:
    """The fixed-time table and the medians, with the identities a reader could use
    between them (cumulative events never fall, numbers at risk never rise, the groups
    add up to everyone). Only these fixed times are published: a step of the curve would
    give the day of an event and, with the numbers at risk, how many had it."""
    from evaltool.instruments.results import Relation

    at = fit.survival_at_
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
    med = fit.medians_.rename(
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
        months = (med[col] / DAYS_PER_MONTH).round(0)
        # no median (or no limit) because fewer than half had new proceedings: its own words,
        # not the "not available" symbol
        med[col] = months.astype(object).where(months.notna(), NOT_REACHED)
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
    if fit.group:  # the --group split: its parts add up to everyone with a value
        splits.append([g for g in groups if g.startswith(f"{fit.group}=")])
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
            rows = {g: frame.index[(frame["Group"] == g) & (frame["Days"] == days)] for g in groups}
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
            f"CI ({fit.ci} transform, Greenwood variance). 'Events so far': new proceedings "
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
            note="'not reached': fewer than half had new proceedings in follow-up (or, for a "
            "limit, the interval is open). In whole months.",
        ),
        SummaryTable(
            "km-exclusions",
            "Clients not analysed, by reason",
            fit.exclusions_,
            counts=("Clients",),
        ),
        overlap_table(fit, groups),
    ]


OVERLAPPED = "With a set overlapping the index proceedings"


def overlap_table(fit: TimeToProceedings, groups: list[str]) -> SummaryTable:
    """How many of the clients analysed had a new set issued before their index proceedings
    concluded: counted under every origin, never dropped silently (an event only under some)."""
    t = fit.table_
    parts = {
        "all": t,
        "service": t[t["cohort"] == "service"],
        "comparison": t[t["cohort"] == "comparison"],
    }
    shown = [g for g in ("all", "service", "comparison") if g in groups]
    frame = pd.DataFrame(
        {"Group": shown, OVERLAPPED: [int(parts[g]["overlap"].sum()) for g in shown]}
    )
    relations = [
        Relation(
            (
                (("km-overlaps", k, OVERLAPPED), 1.0),
                (("km-median", groups.index(g), "Clients"), -1.0),
            ),
            "<=",
        )
        for k, g in enumerate(shown)
    ]
    if len(shown) == 3:
        relations.append(
            Relation(
                (
                    (("km-overlaps", 0, OVERLAPPED), -1.0),
                    (("km-overlaps", 1, OVERLAPPED), 1.0),
                    (("km-overlaps", 2, OVERLAPPED), 1.0),
                )
            )
        )
    rule = {
        "index-issue": "each is an event here (the first set issued after the index's issue)",
        "index-conclusion": "none is an event under this origin (it counts only sets issued "
        "after the index concluded)",
        "start": "each is an event here when issued after the start date",
    }[fit.origin]
    return SummaryTable(
        "km-overlaps",
        "Clients analysed with a new set issued before the index proceedings concluded",
        frame,
        counts=(OVERLAPPED,),
        note=f"Origin {fit.origin}: {rule}.",
        relations=tuple(relations),
    )


def survival_definitions(fit: TimeToProceedings) -> list[Definition]:
    origin = ORIGIN_DEFINITIONS[fit.origin]
    overlap = {
        "index-issue": "counted as an event (the first set issued after the index's issue)",
        "index-conclusion": "never an event (only sets issued after the index concluded are); "
        "the clients with one are counted",
        "start": "an event when issued after the start date",
    }[fit.origin]
    return [
        Definition(
            "Time to next proceedings",
            f"Days from the origin ({fit.origin}: {origin}) to the "
            "first care proceedings issued after it; followed up to the extract "
            "date (an event on that date counts), or to the end date for clients "
            f"who {', '.join(r.replace('_', ' ') for r in LOST_REASONS)}.",
            f"evaltool data contract {CONTRACT_VERSION} ({CONTRACT_DOC}); Broadhurst et al. (2015)",
        ),
        Definition(
            "Overlapping proceedings",
            "A set issued after the index proceedings were issued and on or before they "
            f"concluded (the index still open: up to the extract date). Under this origin: "
            f"{overlap}. Counted on the Time to next proceedings sheet.",
            "Broadhurst et al. (2017); evaltool data contract 1.1",
        ),
        Definition(
            "Kaplan-Meier estimate",
            "Share still free of new proceedings; "
            f"Greenwood variance; 95% CI with the {fit.ci} transform. Published at fixed "
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

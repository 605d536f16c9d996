"""The Time to next proceedings sheet's tables and definitions, read from a fitted
:class:`~evaltool.analysis.survival.TimeToProceedings`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from evaltool.analysis.survival import DAYS_PER_MONTH, LOST_REASONS, TimeToProceedings
from evaltool.analysis.survival.km import NOT_YET, as_read
from evaltool.analysis.survival.table import ENTRY_WORDS, NO_RETURN_TYPE, ORIGIN_DEFINITIONS
from evaltool.data.contract import CONTRACT_DOC, CONTRACT_VERSION
from evaltool.instruments.base import Definition
from evaltool.instruments.results import Implied, Relation, SummaryTable
from evaltool.report.disclosure import NOT_AVAILABLE

if TYPE_CHECKING:
    from evaltool.analysis.comparison import WeightedSurvival

NOT_REACHED = "not reached"


def survival_tables(fit: TimeToProceedings) -> list[SummaryTable]:
    """The fixed-time table and the medians, with the identities a reader could use
    between them (cumulative events never fall, numbers at risk never rise, the groups
    add up to everyone). Only these fixed times are published: a step of the curve would
    give the day of an event and, with the numbers at risk, how many had it."""
    from evaltool.instruments.results import Relation

    frame = fixed_times(fit)
    med = medians_frame(fit)
    groups = list(med["Group"])
    relations = curve_relations("km", frame, fit, med)
    # one first event per parent: a group's events are at most its parents (an adversary
    # read a cohort of one parent's outcome from it, 2026-12-07)
    relations += [
        Relation(((("km-median", r, "Events"), 1.0), (("km-median", r, "Clients"), -1.0)), "<=")
        for r in range(len(groups))
    ]
    for parts, op in splits(fit, med):
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
    return [
        curve_table(
            "km",
            "Share with new care proceedings, at fixed times",
            frame,
            note=(f"{RISES.capitalize()}. " if late_entry(fit) else "")
            + f"Kaplan-Meier estimate of the share with new proceedings by each time after "
            f"the origin, 95% CI ({fit.ci} transform, Greenwood variance), each parent "
            f"{ENTRY_WORDS[fit.entry]}. 'Events so far': new proceedings up to that day; 'At "
            "risk': joined before that day and still followed up on it"
            + (
                " (early times after an index issued long before joining rest on few parents)."
                if late_entry(fit)
                else "."
            )
            + not_yet_note(as_read(fit.survival_at_)),
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


SHARES = ("New proceedings (cumulative)", "CI low", "CI high")


def curve_table(
    name: str, title: str, frame: pd.DataFrame, note: str, relations: tuple[Relation, ...]
) -> SummaryTable:
    """A Kaplan-Meier table at the fixed times: its counts, and the shares hidden with them
    (a share not estimated is not available, ``not_available``)."""
    return SummaryTable(
        name,
        title,
        not_available(frame, SHARES),
        counts=("At risk", "Events so far"),
        derived={c: ("At risk", "Events so far") for c in SHARES},
        percent=SHARES,
        formats={"Days": "0", "Months": "0"},
        note=note,
        relations=relations,
    )


def not_available(frame: pd.DataFrame, figures: tuple[str, ...]) -> pd.DataFrame:
    """Blank ``figures`` as not available (':'), never "not applicable": a share not estimated
    (nobody had joined yet, or beyond follow-up) with 0 events so far is not a share of
    nobody, and disclosure control would print it as one (its counts still protect it)."""
    out = frame.copy()
    for col in figures:
        out[col] = out[col].astype(object).where(out[col].notna(), NOT_AVAILABLE)
    return out


def not_yet_note(figures: pd.DataFrame, who: str = "the group") -> str:
    """The note's sentence on the fixed times where nobody had joined yet (``figures``: rows
    with ``days`` and ``not_estimated``), or nothing."""
    days = sorted(figures.loc[figures["not_estimated"].notna(), "days"].unique())
    if not days:
        return ""
    when = " and ".join(f"{d:g}" for d in days).replace(" and ", ", ", max(len(days) - 2, 0))
    return (
        f" Not available at {when} days, where nobody in {who} had joined by then "
        f"({NOT_YET}; a 0% there would read as a measurement)."
    )


def medians_frame(fit: TimeToProceedings) -> pd.DataFrame:
    """The medians table as the return prints it (whole months, or 'not reached')."""
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
    return med


def splits(fit: TimeToProceedings, med: pd.DataFrame) -> list[tuple[list[str], str]]:
    """The ways the groups split everyone, each with ``=`` where everyone is in one part
    and ``<=`` where some have no value: the cohorts, and the ``--group`` column."""
    groups = list(med["Group"])
    ways = [[g for g in ("service", "comparison") if g in groups]]
    if fit.group:
        ways.append([g for g in groups if g.startswith(f"{fit.group}=")])
    clients = dict(zip(med["Group"], med["Clients"], strict=True))
    return [
        (parts, "=" if sum(clients[g] for g in parts) == clients["all"] else "<=")
        for parts in ways
        if "all" in groups and len(parts) >= 2
    ]


def fixed_times(fit: TimeToProceedings) -> pd.DataFrame:
    """The Kaplan-Meier estimates at the fixed times, as the return prints them: blank where
    nobody in the group had joined yet (``km.as_read``)."""
    at = as_read(fit.survival_at_)
    return pd.DataFrame(
        {
            "Group": at["group"],
            "Months": (at["days"] / DAYS_PER_MONTH).round(0).astype(int),
            "Days": at["days"],
            "At risk": at["at_risk"],
            "Events so far": at["events"],
            SHARES[0]: at["cumulative_incidence"],
            SHARES[1]: at["ci_incidence_low"],
            SHARES[2]: at["ci_incidence_high"],
        }
    )


def curve_relations(
    key: str, frame: pd.DataFrame, fit: TimeToProceedings, med: pd.DataFrame
) -> list[Relation]:
    """What a reader can use within a fixed-time table ``key``: over time (``over_time``),
    each row bounded by its group's clients and events in the medians table (the any-return
    events bound a new-child table too), and the parts of each split adding up to everyone
    (``group_sums``)."""
    groups = list(med["Group"])
    relations = over_time(key, frame, at_risk_falls=not late_entry(fit))
    for r, g in zip(frame.index, frame["Group"], strict=True):
        total = groups.index(g)
        for col, bound in (("Events so far", "Events"), ("At risk", "Clients")):
            relations.append(
                Relation((((key, r, col), 1.0), (("km-median", total, bound), -1.0)), "<=")
            )
    for parts, op in splits(fit, med):
        relations += group_sums(key, frame, ["all", *parts], op)
    return relations


def group_sums(key: str, frame: pd.DataFrame, groups: list[str], op: str) -> list[Relation]:
    """At each fixed time, the parts (``groups[1:]``) add up to the whole (``groups[0]``):
    ``=`` when everyone is in one part, ``<=`` when some have no value."""
    relations: list[Relation] = []
    whole, parts = groups[0], groups[1:]
    for days in frame["Days"].unique():
        rows = {g: frame.index[(frame["Group"] == g) & (frame["Days"] == days)] for g in groups}
        for col in ("At risk", "Events so far"):
            relations.append(
                Relation(
                    (
                        ((key, int(rows[whole][0]), col), -1.0),
                        *(((key, int(rows[g][0]), col), 1.0) for g in parts),
                    ),
                    op,
                )
            )
    return relations


#: said first in a fixed-time table's note where parents enter late (the first line is what
#: evaltool audit reads): a reader must not take the number at risk to fall over time
RISES = "parents join over time, so the number at risk can rise"


def late_entry(fit: TimeToProceedings) -> bool:
    """Whether anyone enters the risk set after the origin (delayed entry)."""
    return "entry" in fit.table_ and bool((fit.table_["entry"] > 0).any())


def over_time(key: str, frame: pd.DataFrame, at_risk_falls: bool = True) -> list[Relation]:
    """Within a group, events so far never fall and (``at_risk_falls``: nobody enters late)
    the number at risk never rises; the events between two times are a count of people of
    their own. With delayed entry the number at risk rises as parents join: declaring that it
    never does would be a false identity, leaving the solver no solution and so no protection."""
    relations: list[Relation] = []
    for g in frame["Group"].unique():
        rows = list(frame.index[frame["Group"] == g])
        for a, b in zip(rows, rows[1:], strict=False):
            relations += [
                Implied(
                    f"{key}: events of {g} between rows {a + 1} and {b + 1}",
                    (((key, b, "Events so far"), 1.0), ((key, a, "Events so far"), -1.0)),
                ),
                Relation(
                    (((key, a, "Events so far"), 1.0), ((key, b, "Events so far"), -1.0)), "<="
                ),
            ]
            if at_risk_falls:
                relations.append(
                    Relation((((key, b, "At risk"), 1.0), ((key, a, "At risk"), -1.0)), "<=")
                )
    return relations


NEW_CHILD = "km-new-child"
RETURN_TYPE = "km-return-type"


def return_type_tables(fit: TimeToProceedings, new: TimeToProceedings) -> list[SummaryTable]:
    """New proceedings about a new child at the fixed times, and what each first return was
    about, with what ties them to the any-return tables: by each time, a parent with a
    new-child return has had a return (no more events, no fewer at risk), and the types of
    the first returns add up to the events."""
    frame = fixed_times(new)
    relations = curve_relations(NEW_CHILD, frame, new, medians_frame(fit))
    anyf = fixed_times(fit)
    where = {(g, d): i for i, (g, d) in enumerate(zip(anyf["Group"], anyf["Days"], strict=True))}
    for i, (g, d) in enumerate(zip(frame["Group"], frame["Days"], strict=True)):
        if (g, d) in where:
            j = where[(g, d)]
            relations += [
                Relation(
                    (((NEW_CHILD, i, "Events so far"), 1.0), (("km", j, "Events so far"), -1.0)),
                    "<=",
                ),
                Relation(((("km", j, "At risk"), 1.0), ((NEW_CHILD, i, "At risk"), -1.0)), "<="),
            ]
    types = fit.return_types_
    assert types is not None
    kinds = [k for k in types.columns if k != "group"]
    med_groups = list(fit.medians_["group"])
    type_frame = types.rename(columns={"group": "Group", **{k: k.capitalize() for k in kinds}})
    columns = tuple(k.capitalize() for k in kinds)
    for r, g in enumerate(type_frame["Group"]):
        relations.append(
            Relation(
                (
                    *(((RETURN_TYPE, r, c), 1.0) for c in columns),
                    (("km-median", med_groups.index(g), "Events"), -1.0),
                )
            )
        )
    if len(type_frame) == 3:  # service and comparison add up to everyone
        for c in columns:
            relations.append(
                Relation(
                    (
                        ((RETURN_TYPE, 0, c), -1.0),
                        ((RETURN_TYPE, 1, c), 1.0),
                        ((RETURN_TYPE, 2, c), 1.0),
                    )
                )
            )
    rule = (
        "a return about a new child issued less than 37 weeks after the index proceedings is "
        "not counted here (the pregnancy began before them)"
        if new.rule_37_weeks
        else "the 37-week rule is switched off ([survival] rule_37_weeks = false)"
    )
    return [
        curve_table(
            NEW_CHILD,
            "Share with new care proceedings about a new child, at fixed times",
            frame,
            note=(f"{RISES.capitalize()}. " if late_entry(fit) else "")
            + "As the table above, counting only proceedings about a child born after the "
            f"index proceedings were issued (or unborn when the new set was issued); {rule}."
            + not_yet_note(as_read(new.survival_at_)),
            relations=tuple(relations),
        ),
        SummaryTable(
            RETURN_TYPE,
            "Parents with new proceedings, by what the first new set was about",
            type_frame,
            counts=columns,
            note="New child: every subject child born after the index proceedings were issued; "
            "previous child: every subject child was in earlier proceedings or born by then; "
            "both; not known: no subject child recorded. Adds up to the events in the medians "
            "table.",
        ),
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


def return_type_definitions(new: TimeToProceedings | None) -> list[Definition]:
    """What the return-type figures mean, or why there are none (a v1 file)."""
    from evaltool.analysis.survival.returns import OUTCOME_DEFINITIONS, TERM_DAYS

    source = "Cafcass-CRIS analysis of returns with a subsequent infant; evaltool data contract 1.1"
    if new is None:
        return [Definition("Return type", f"Not shown: {NO_RETURN_TYPE}.", source)]
    rule = (
        f"on: such a set issued less than 37 weeks ({TERM_DAYS} days) after the index "
        "proceedings were issued is not a return with a new child (the pregnancy began before "
        "them); it is still a return"
        if new.rule_37_weeks
        else "switched off in the settings ([survival] rule_37_weeks = false)"
    )
    return [
        Definition(
            "Return with a new child",
            f"Time to {OUTCOME_DEFINITIONS['new-child']}. The 37-week rule is {rule}.",
            source,
        ),
        Definition(
            "Return type",
            "What the first new set was about: a new child (every subject child born after the "
            "index proceedings were issued, or unborn when the set was issued), a previous "
            "child (every subject child was in proceedings issued by then, or born by then), "
            "both, or not known (no subject child recorded). A child born 37 weeks or more "
            "after the set about them was issued is split off as a set of its own, issued on "
            "the birth date (a consolidated case); it ends with that set, still open if the "
            "set is. The 37 weeks of the 37-week rule run from the index proceedings' issue "
            "date as recorded, also when the index is such a part.",
            source,
        ),
    ]


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
            "first care proceedings issued after it; followed up to the period end, "
            "the day every figure of the return is as at (an event on that day counts), "
            "or to the end date for clients "
            f"who {', '.join(r.replace('_', ' ') for r in LOST_REASONS)}. Each parent is "
            f"{ENTRY_WORDS[fit.entry]}: she is at risk only from the day she joined (delayed "
            "entry), because no new proceedings could be seen between an index issued before "
            "then and that day (a set issued then would itself be the index). A parent whose "
            "follow-up ended by the day she joined is not counted.",
            f"evaltool data contract {CONTRACT_VERSION} ({CONTRACT_DOC}); Broadhurst et al. (2015)",
        ),
        Definition(
            "Overlapping proceedings",
            "A set issued after the index proceedings were issued and on or before they "
            f"concluded (the index still open: up to the period end). Under this origin: "
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
            "proportional hazards tested as R's cox.zph (survival 3.x: Kaplan-Meier time "
            "transform, each covariate and all together).",
            "Cox (1972); R survival::coxph, survival::cox.zph",
        ),
    ]


CMP_BALANCE = "cmp-balance"
CMP_DIFFERENCE = "cmp-difference"
#: fewer clients than this in a cohort: too few for a propensity comparison in the return
CMP_MIN_COHORT = 20


def comparison_tables(fit: TimeToProceedings, compared: WeightedSurvival) -> list[SummaryTable]:
    """The propensity comparison as the return shows it: the balance of each covariate, and
    the adjusted difference in the share with new proceedings at the fixed times beside the
    unadjusted one. The numbers at risk and the events so far beside each difference are the
    Kaplan-Meier table's (declared equal to them), so a difference resting on a hidden count
    is hidden with it."""
    b = compared.balance_
    balance = pd.DataFrame(
        {
            "Covariate": b["covariate"],
            "SMD before": b["smd_unweighted"],
            "SMD after": b["smd_weighted"],
            "Variance ratio after": b["variance_ratio"],
            "Balanced": ["no" if x else "yes" for x in b["imbalanced"]],
        }
    )
    at = compared.survival_at_.set_index(["group", "days"])
    d = compared.difference_
    cols = {
        ("service", "at_risk"): "Service: at risk",
        ("service", "events"): "Service: events so far",
        ("comparison", "at_risk"): "Comparison: at risk",
        ("comparison", "events"): "Comparison: events so far",
    }
    frame = pd.DataFrame(
        {
            "Months": (d["days"] / DAYS_PER_MONTH).round(0).astype(int),
            "Days": d["days"],
            **{
                name: [int(at.loc[(g, day), col]) for day in d["days"]]
                for (g, col), name in cols.items()
            },
            "Difference, adjusted": d["difference"],
            "CI low": d["ci_low"],
            "CI high": d["ci_high"],
            "Difference, unadjusted": d["difference_unweighted"],
        }
    )
    counts = tuple(cols.values())
    shares = ("Difference, adjusted", "CI low", "CI high", "Difference, unadjusted")
    km = fixed_times(fit)
    where = {(g, day): i for i, (g, day) in enumerate(zip(km["Group"], km["Days"], strict=True))}
    relations = []
    for r, day in enumerate(d["days"]):
        for (g, col), name in cols.items():
            if (g, day) in where:  # the same count as the Kaplan-Meier table's
                km_col = "At risk" if col == "at_risk" else "Events so far"
                relations.append(
                    Relation(
                        (((CMP_DIFFERENCE, r, name), 1.0), (("km", where[(g, day)], km_col), -1.0))
                    )
                )
    frame = not_available(frame, shares)
    return [
        SummaryTable(
            CMP_BALANCE,
            "Balance of the cohorts before and after adjustment",
            balance,
            formats={"SMD before": "0.00", "SMD after": "0.00", "Variance ratio after": "0.00"},
            note="Standardised mean difference (SMD): the difference of the cohorts' means, "
            "over the square root of the mean of their variances; within 0.1 either way counts "
            "as balanced. Variance ratio: service over comparison, after adjustment (1 = alike).",
        ),
        SummaryTable(
            CMP_DIFFERENCE,
            "Share with new care proceedings, service less comparison cohort, adjusted",
            frame,
            counts=counts,
            derived={c: counts for c in shares},
            percent=shares,
            formats={"Days": "0", "Months": "0"},
            note=f"{compared.propensity.describe()}. Adjusted: Kaplan-Meier with the weights, "
            f"each parent {ENTRY_WORDS[fit.entry]}; "
            f"95% CI from {compared.bootstrap} bootstrap resamples of the clients, the "
            "propensity model refitted each time (seeded). Below 0: fewer new proceedings in "
            "the service cohort. The numbers at risk and events are people, unweighted."
            + not_yet_note(d, "a cohort"),
            relations=tuple(relations),
        ),
    ]


BENCHMARK = "km-benchmark"
CMP_OVERLAP = "cmp-overlap"


def benchmark_table(bench: dict) -> SummaryTable:
    """The service's own share with new proceedings at each point of a like-for-like
    benchmark (``TimeToProceedings.benchmark_``), beside the benchmark's figure: the
    numbers at risk and the events are counts like any other, so a share resting on few
    parents is hidden with them, protected with the rest of the return."""
    rows = bench["rows"]
    frame = pd.DataFrame(
        {
            "Months": [round(r["days"] / DAYS_PER_MONTH) for r in rows],
            "Days": [int(r["days"]) for r in rows],
            "Benchmark": [r["benchmark_incidence"] for r in rows],
            "At risk": [int(r["at_risk"] or 0) for r in rows],
            "Events so far": [int(r["events"] or 0) for r in rows],
            SHARES[0]: [r["incidence"] for r in rows],
            SHARES[1]: [r["ci_low"] for r in rows],
            SHARES[2]: [r["ci_high"] for r in rows],
        }
    )
    return SummaryTable(
        BENCHMARK,
        f"This service's {bench['population']} (service cohort) beside the benchmark",
        frame,
        counts=("At risk", "Events so far"),
        derived={c: ("At risk", "Events so far") for c in SHARES},
        percent=("Benchmark", *SHARES),
        formats={"Days": "0", "Months": "0"},
        note="The service's Kaplan-Meier estimate at each of the benchmark's times, for the "
        "benchmark's population only; a blank share: not followed up this long.",
    )


def overlap_scores(compared: WeightedSurvival, threshold: int) -> SummaryTable | None:
    """How the cohorts' propensity scores overlap (the board page draws it): the parents of
    each cohort in each range of scores, neighbouring ranges merged until none holds 1 to
    ``threshold`` parents of a cohort (``coarse_overlap``); None when nothing can be shown."""
    from evaltool.analysis.comparison import coarse_overlap

    table = coarse_overlap(compared.overlap_, threshold)
    if table.empty:
        return None
    frame = pd.DataFrame(
        {
            "Score from": table["score_from"].astype(float),
            "Score to": table["score_to"].astype(float),
            "Service": table["service"].astype(int),
            "Comparison": table["comparison"].astype(int),
        }
    )
    return SummaryTable(
        CMP_OVERLAP,
        "Propensity scores of the cohorts: parents by range of score",
        frame,
        counts=("Service", "Comparison"),
        formats={"Score from": "0.0", "Score to": "0.0"},
        note="Ranges merged until no cohort has a small number of parents in one.",
    )


CMP_SIZE = "cmp-size"


def comparison_size(compared: WeightedSurvival, medians: SummaryTable | None) -> SummaryTable:
    """The parents of each cohort in the propensity comparison and what the weighted cohorts
    are worth in unweighted parents (the effective sample size: with ATT weights the service
    cohort's is its number of parents), hidden with the count. Each count is declared the
    same as the medians table's where it is the same number (the same parents)."""
    data = compared.propensity.data_
    ess = compared.effective_sample_size_
    frame = pd.DataFrame(
        {
            "Cohort": ["service", "comparison"],
            "Parents": [int((data["cohort_service"] == f).sum()) for f in (1, 0)],
            "Effective sample size": [ess["service"], ess["comparison"]],
        }
    )
    relations = []
    if medians is not None:
        groups = list(medians.data["Group"])
        for r, group in enumerate(frame["Cohort"]):
            if group in groups:
                m = groups.index(group)
                if int(medians.data["Clients"].iloc[m]) == int(frame["Parents"].iloc[r]):
                    relations.append(
                        Relation(
                            (((CMP_SIZE, r, "Parents"), 1.0), ((medians.name, m, "Clients"), -1.0))
                        )
                    )
    return SummaryTable(
        CMP_SIZE,
        "Parents in the adjusted comparison",
        frame,
        counts=("Parents",),
        derived={"Effective sample size": "Parents"},
        formats={"Effective sample size": "0"},
        note="Effective sample size: what the weighted cohort is worth in unweighted parents.",
        relations=tuple(relations),
    )

"""The survival table: one row per client analysed, with origin, follow-up time and event.

The *index proceedings* of a client are the latest proceedings issued on or before the client's
start date (comparison cohort: referral date); data contract v1.1. Origins:

- ``index-issue``: the index proceedings' issue date (the research convention);
- ``index-conclusion``: their conclusion date (not yet concluded: not yet at risk, counted);
- ``start``: the start date itself (comparison cohort: referral date).

Event: the first proceedings issued after the origin, up to and including the extract date.
A set issued after the index was issued and on or before it concluded *overlaps* it: an event
under ``index-issue`` (and under ``start`` when issued after the start), never one under
``index-conclusion``, and counted under every origin (``overlaps``), never dropped silently.
Censoring: the extract date, or the end date for clients lost to follow-up (closure reason in
``LOST_REASONS``: moved away, or died).

Entry (delayed entry, left truncation): a client joins the analysis on her *joining date*, the
date that defines her index (``entry="start"``: the service start, comparison cohort the
referral; ``entry="referral"``, intention to treat: the referral date for everyone, never-
started service clients kept). No new set can be seen between an index issued before that day
and the day itself (it would have been the index), so that time is not at risk: ``entry`` is
the days from the origin to the joining date (0 when the origin is on or after it), and every
estimate counts a client at risk only over (entry, time], as R's ``Surv(entry, time, event)``.
A client whose follow-up ends on or before the day she joined (moved away before it, or an
event on or before it, which the index rule makes impossible) is excluded, counted.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evaltool.analysis.survival.returns import (
    OUTCOMES,
    set_types,
    split_consolidated,
    term_rule,
    type_words,
)
from evaltool.data.contract import cohort_of
from evaltool.errors import AnalysisError
from evaltool.periods import financial_year

LOST_REASONS = ("moved_away", "died")
#: who joins the analysis on which day ([survival] entry)
ENTRIES = ("start", "referral")
#: each entry rule in plain words, for the outputs
ENTRY_WORDS = {
    "start": "counted from the day they joined us (the service start; comparison cohort: "
    "referral): time before it is not counted",
    "referral": "counted from the day they were referred to us (intention to treat: those who "
    "never started are kept; comparison cohort: referral): time before it is not counted",
}
JOINED_LATER = "joined on or after the extract date (not yet followed)"
NEVER_STARTED = "service cohort: never started"
NO_FOLLOW_UP = "no follow-up after joining (moved away or died by the day they joined)"
#: age at origin, in the bands the recurrence research reports (Broadhurst et al. 2015)
AGE_BANDS = ((0, 20, "under 20"), (20, 25, "20-24"), (25, 30, "25-29"), (30, 200, "30 and over"))


#: the origins, and the name earlier versions used for index-conclusion
ORIGINS = ("index-issue", "index-conclusion", "start")
ALIASES = {"index": "index-conclusion"}
#: each origin in words: "their first year {words}"
ORIGIN_WORDS = {
    "index-issue": "after the care proceedings open when they joined us were issued",
    "index-conclusion": "after the care proceedings open when they joined us ended",
    "start": "after starting with us",
}
#: each origin defined, for the Definitions sheet, the JSON and the text output
ORIGIN_DEFINITIONS = {
    "index-issue": "the issue date of the index proceedings (the latest proceedings issued on "
    "or before the start date; comparison cohort: referral date): the research convention",
    "index-conclusion": "the conclusion date of the index proceedings (the latest proceedings "
    "issued on or before the start date; comparison cohort: referral date); a client whose "
    "index has not concluded is not yet at risk",
    "start": "the service start date (comparison cohort: referral date)",
}
NO_RETURN_TYPE = (
    "return type cannot be shown: the data has no children table linked to the proceedings "
    "(data contract v1.1: a children table, and a child_ids column on proceedings or a "
    "proceedings_children table)"
)
NOT_CONCLUDED = "index proceedings not concluded by the extract date (not yet at risk)"
NO_INDEX = "no proceedings issued by the start (comparison: referral) date"


def add_age(frame: pd.DataFrame) -> None:
    """Age at the origin (year of the origin less year of birth) and its research band, where
    the clients have a birth year."""
    if "birth_year" in frame:
        age = frame["origin"].dt.year - frame["birth_year"].astype("Float64")
        frame["age_at_origin"] = age.astype(float)
        labels = pd.Series(pd.NA, index=frame.index, dtype=object)
        for lo, hi, label in AGE_BANDS:
            labels[(age >= lo) & (age < hi)] = label
        frame["age_band"] = labels


def survival_table(
    clients: pd.DataFrame,
    proceedings: pd.DataFrame,
    extract_date: Any,
    origin: str = "index-issue",
    outcome: str = "any",
    subjects: pd.DataFrame | None = None,
    rule_37_weeks: bool = True,
    entry: str = "start",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per client analysed (origin, time, event, covariates), and the exclusions.

    Returns ``(table, exclusions)``; ``exclusions`` counts clients left out, by reason.
    Each row also says whether the client has a set overlapping the index (``overlap``) and,
    given ``subjects`` (each set's children: ``data.children.subjects``), what their first
    return was about (``return_type``) and, for the ``any`` outcome, the ``new-child`` one
    from the same pass (``new_child_time``, ``new_child_event``). ``outcome`` is ``any`` or
    ``new-child`` (``returns.py``, which needs ``subjects``). ``entry``: the joining date,
    ``start`` or ``referral`` (module docstring); ``joined`` is that date and ``entry`` the
    days from the origin to it.
    """
    if entry not in ENTRIES:
        raise ValueError(f"entry {entry!r}: use one of {', '.join(ENTRIES)}")
    origin = ALIASES.get(origin, origin)
    if origin not in ORIGINS:
        raise ValueError(f"origin {origin!r}: use one of {', '.join(ORIGINS)}")
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome {outcome!r}: use one of {', '.join(OUTCOMES)}")
    if outcome == "new-child" and subjects is None:
        raise AnalysisError(NO_RETURN_TYPE)
    extract = pd.Timestamp(extract_date)
    c = clients.copy()
    cohort = cohort_of(c)
    start = c["start_date"] if "start_date" in c else pd.Series(pd.NaT, index=c.index)
    c["cohort"] = cohort
    if entry == "referral":  # intention to treat: everyone from referral
        c["reference"] = c["referral_date"]
    else:
        c["reference"] = start.where(cohort == "service", c["referral_date"])
    reason = pd.Series("", index=c.index, dtype=object)
    if entry == "start":
        reason[(cohort == "service") & start.isna()] = NEVER_STARTED

    p = proceedings[["client_id", "issued_date", "concluded_date"]]
    if subjects is not None:
        p, subjects = split_consolidated(p, subjects)
    merged = p.merge(c[["client_id", "reference"]], on="client_id")
    by_start = merged[merged["issued_date"] <= merged["reference"]]
    # of sets issued the same day, the index is the one concluding last (an open one last of all)
    index = by_start.sort_values(["issued_date", "concluded_date"], na_position="last")
    index = index.groupby("client_id", sort=False).tail(1).set_index("client_id")
    c["index_issued"] = c["client_id"].map(index["issued_date"])
    c["index_concluded"] = c["client_id"].map(index["concluded_date"])
    # an overlapping set: issued after the index was issued, on or before it concluded (an
    # index still open at the extract date overlaps every later set up to then)
    span = p.merge(c[["client_id", "index_issued", "index_concluded"]], on="client_id")
    until = span["index_concluded"].fillna(extract).clip(upper=extract)
    overlapping = span[
        (span["issued_date"] > span["index_issued"]) & (span["issued_date"] <= until)
    ]
    c["overlap"] = c["client_id"].isin(set(overlapping["client_id"]))
    if origin == "start":
        c["origin"] = c["reference"]
    else:
        reason[(reason == "") & c["index_issued"].isna()] = NO_INDEX
        if origin == "index-issue":
            c["origin"] = c["index_issued"]
        else:
            c["origin"] = c["index_concluded"]
            open_index = c["index_issued"].notna() & (
                c["index_concluded"].isna() | (c["index_concluded"] > extract)
            )
            reason[(reason == "") & open_index] = NOT_CONCLUDED
    reason[(reason == "") & (c["origin"] > extract)] = "origin after the extract date"

    later = p.merge(c[["client_id", "origin"]], on="client_id")
    later = later[(later["issued_date"] > later["origin"]) & (later["issued_date"] <= extract)]
    if subjects is not None:
        # what each set was about, against the index (no index: the start or referral date)
        anchor = c.set_index("client_id")["index_issued"].fillna(
            c.set_index("client_id")["reference"]
        )
        types = set_types(subjects, anchor)
        later = later.merge(types, on=["client_id", "issued_date"], how="left")
        for col in ("new", "previous"):
            later[col] = later[col].astype("boolean").fillna(False).astype(bool)
        soonest = later.groupby("client_id", sort=False)["issued_date"].transform("min")
        first = later[later["issued_date"] == soonest]
        pooled = first.groupby("client_id", sort=False)[["new", "previous"]].any()
        c["return_type"] = c["client_id"].map(type_words(pooled["new"], pooled["previous"]))
        about_new = later[later["new"]]
        if rule_37_weeks:
            about_new = term_rule(about_new, index["recorded_issued"])
        if outcome == "new-child":
            later = about_new
    lost = pd.Series(False, index=c.index)
    if "closure_reason" in c and "end_date" in c:
        lost = c["closure_reason"].isin(LOST_REASONS) & c["end_date"].notna()
    censor = c["end_date"].where(lost, extract) if "end_date" in c else pd.Series(extract, c.index)
    censor = censor.clip(upper=extract)

    def followed(sets: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
        """Event (0/1), its day or the censoring day, and days followed, from the sets that
        count as events."""
        day = c["client_id"].map(sets.groupby("client_id", sort=False)["issued_date"].min())
        event = day.notna() & (~lost | (day <= censor))
        end = day.where(event, censor)
        return event, end, (end - c["origin"]).dt.days

    c["event"], c["end"], c["time"] = followed(later)
    c["joined"] = c["reference"]
    c["entry"] = (c["reference"] - c["origin"]).dt.days.clip(lower=0)
    reason[(reason == "") & (c["reference"] >= extract)] = JOINED_LATER
    reason[(reason == "") & (c["time"] <= c["entry"])] = NO_FOLLOW_UP
    c["lost_to_follow_up"] = lost & ~c["event"]
    # died before any new proceedings were seen: a competing risk (Aalen-Johansen)
    c["died"] = (
        c["lost_to_follow_up"]
        & (c["closure_reason"] == "died").fillna(False).astype(bool)
        & (c["end_date"] <= extract).fillna(False).astype(bool)
        if "closure_reason" in c and "end_date" in c
        else False
    )
    if subjects is not None and outcome == "any":  # the new-child outcome from the same pass
        event, _, time = followed(about_new)
        c["new_child_event"], c["new_child_time"] = event.astype(int), time.astype(float)

    kept = c[reason == ""].copy()
    kept["event"] = kept["event"].astype(int)
    kept["time"] = kept["time"].astype(float)
    kept["entry"] = kept["entry"].astype(float)
    kept["cohort_service"] = (kept["cohort"] == "service").astype(int)
    # the financial year of the origin (April to March, as Cafcass and DfE count proceedings)
    fy = kept["origin"].dt.year - (kept["origin"].dt.month < 4).astype(int)
    kept["origin_year"] = fy.map({y: financial_year(y) for y in fy.dropna().unique()})
    add_age(kept)
    # every reason, always, in one order: a row that appeared only when non-zero would tell
    every = [
        NEVER_STARTED if entry == "start" else None,
        None if origin == "start" else NO_INDEX,
        NOT_CONCLUDED if origin == "index-conclusion" else None,
        "origin after the extract date",
        JOINED_LATER,
        NO_FOLLOW_UP,
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
        "joined",
        "entry",
        "end",
        "time",
        "event",
        "lost_to_follow_up",
        "died",
        "overlap",
    ]
    rest = [
        x
        for x in kept.columns
        if x not in cols and x not in ("reference", "_row", "index_issued", "index_concluded")
    ]
    if outcome == "any" and subjects is not None:  # the type of the return, if one is seen
        kept["return_type"] = kept["return_type"].where(kept["event"] == 1)
    elif subjects is not None:
        rest.remove("return_type")
    return kept[cols + rest].reset_index(drop=True), excluded

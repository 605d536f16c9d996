"""The survival table: one row per client analysed, with origin, follow-up time and event.

Origin ``index`` = the conclusion of the latest proceedings concluded on or before the client's
start date (comparison cohort: referral date); ``start`` = the start date itself (comparison
cohort: referral date). Event: the first proceedings issued after the origin, up to and
including the extract date. Censoring: the extract date, or the end date for clients lost to
follow-up (closure reason in ``LOST_REASONS``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evaltool.data.contract import cohort_of

LOST_REASONS = ("moved_away",)
AGE_BANDS = ((0, 20, "under 20"), (20, 25, "20-24"), (25, 200, "25 and over"))


def survival_table(
    clients: pd.DataFrame, proceedings: pd.DataFrame, extract_date: Any, origin: str = "index"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per client analysed (origin, time, event, covariates), and the exclusions.

    Returns ``(table, exclusions)``; ``exclusions`` counts clients left out, by reason.
    """
    extract = pd.Timestamp(extract_date)
    c = clients.copy()
    cohort = cohort_of(c)
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

"""Which columns may be covariates of an adjusted comparison: baseline characteristics known
when the parent entered the analysis, never identifiers, dates or outcomes (issue 24). Here,
below the settings, so that the settings refuse them as they are read and the analysis as it is
asked (``analysis.evidence`` judges the level a comparison earns with them)."""

from __future__ import annotations

#: the data contract's core baseline set (docs/data-contract.md, clients): age when the parent
#: entered, children removed before referral, care experience. An adjusted comparison earns
#: level 2 only with all of these (and any the settings add: ``[comparison] required``) in the
#: model and balanced.
CORE_BASELINE = ("age_at_origin", "prior_children_removed", "care_experienced")

#: columns that are not characteristics known when the parent entered, and why
_NOT_BASELINE = {
    "cohort": "what the propensity model predicts (service or comparison), not a covariate of it",
    "end_date": "a date after entry (the case closed)",
    "start_date": "a date after referral (the service began)",
    "closure_reason": "known only when the case closes, after entry",
    "end": "the end of follow-up, known only after entry",
    "time": "an outcome (the time to new proceedings)",
    "event": "an outcome (whether new proceedings followed)",
    "events": "an outcome (the events counted in follow-up)",
    "years": "the years followed, known only after entry",
    "new_child_event": "an outcome (new proceedings about a new child)",
    "new_child_time": "an outcome (the time to new proceedings about a new child)",
    "return_type": "an outcome (what the new proceedings were about)",
    "lost_to_follow_up": "known only after entry",
    "overlap": "known only after entry (proceedings overlapping the index)",
    "change": "an outcome (the change in a measure)",
    "met": "an outcome (whether the outcome was met)",
    "key_worker": "assigned by the service after entry, not a characteristic of the parent",
}


def covariate_refusals(names: tuple[str, ...], allow: tuple[str, ...] = ()) -> list[str]:
    """Why each covariate named is not a baseline characteristic known by entry (empty if all
    may be used): identifiers (client_id, any *_id), dates (any *_date: a date is not a
    characteristic, and those after entry describe what happened next) and outcomes."""
    out = []
    for name in names:
        key = name.strip().lower()
        if key in allow:
            continue
        if key in ("id", "client", "reference") or key.endswith(("_id", " id")):
            why = "an identifier, not a characteristic of the parent"
        elif key in _NOT_BASELINE:
            why = _NOT_BASELINE[key]
        elif key.endswith(("_date", "date")) or key in (
            "origin",
            "index_issued",
            "index_concluded",
        ):
            why = "a date: dates after entry describe what happened next, not the parent"
        else:
            continue
        out.append(f"'{name}' is {why}")
    return out


def refusal_message(names: tuple[str, ...], setting: str, allow: tuple[str, ...] = ()) -> str:
    """The refusals in one message naming the setting (empty: nothing refused)."""
    found = covariate_refusals(names, allow)
    if not found:
        return ""
    return (
        f"{setting} = {','.join(names)}: {'; '.join(found)}. Covariates must be baseline "
        f"characteristics known when the parent entered, e.g. {', '.join(CORE_BASELINE)}"
    )

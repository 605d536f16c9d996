"""What a return to court was about: a new child, a previous child, or both.

The rules follow the published Cafcass-CRIS analysis of returns with a subsequent infant
(FIELD.md, section 3) and data contract v1.1:

- **Consolidated cases are split.** A child born at least 37 weeks (``TERM_DAYS``) after a set
  about them was issued was conceived after it: the part about that child is a set of its own,
  issued on the birth date (and concluding with the set, or on the birth date if that is
  later).
- **New or previous.** Against the client's index proceedings (issued on day ``I``), a subject
  child of a later set is *previous* if they were the subject of a set issued on or before
  ``I``, or born on or before ``I``; *new* if born after ``I``, or (no birth date) unborn when
  the set was issued; otherwise *not known*. A set is about a new child, a previous child,
  both, or not known (no subject child known either way).
- **The 37-week rule** (a setting, on by default as in the published analysis): a set about a
  new child issued less than 37 weeks (259 days) after the index proceedings were issued is
  not a return *with a new child* (the pregnancy began before the index proceedings); it
  still is a return. Counted, as the published analysis counts it, from the index's issue
  date as recorded, also where the index is a part split off at a birth (``term_rule``).
- **Open sets stay open.** A part split off an ongoing set (no conclusion date) is ongoing
  too, as the data contract reads a blank conclusion date.
"""

from __future__ import annotations

import pandas as pd

TERM_DAYS = 37 * 7
OUTCOMES = ("any", "new-child")
#: each outcome in words: "new care proceedings {words}"
OUTCOME_WORDS = {"any": "of any kind", "new-child": "about a new child"}
OUTCOME_DEFINITIONS = {
    "any": "the first care proceedings issued after the origin, whoever they are about",
    "new-child": "the first care proceedings issued after the origin about a child born after "
    "the index proceedings were issued (or unborn when the set was issued)",
}
RETURN_TYPES = ("new child", "previous child", "both", "not known")


def split_consolidated(
    sets: pd.DataFrame, subjects: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sets with each late-born child's part split off as a set of its own, and the
    subjects re-dated to the part they belong to.

    ``sets``: client_id, issued_date, concluded_date; ``subjects``: client_id, issued_date,
    child_id, birth_date, unborn. The sets returned have one more column, ``recorded_issued``:
    the issue date of the set as recorded (a split-off part: the set it was split from), which
    the 37-week rule counts from (``term_rule``). A part concludes with its set, or on the birth
    date if the set concluded before it; a set still open (no conclusion date: ongoing, data
    contract) stays open in its part too.
    """
    sets = sets.assign(recorded_issued=sets["issued_date"])
    late = subjects["birth_date"] >= subjects["issued_date"] + pd.Timedelta(days=TERM_DAYS)
    if not late.any():
        return sets, subjects
    keys = [sets["client_id"], sets["issued_date"]]
    # a set recorded twice, once still open: open (max would skip the blank)
    still_open = sets["concluded_date"].isna().groupby(keys, sort=False).any()
    ends = sets["concluded_date"].groupby(keys, sort=False).max().where(~still_open)
    moved = subjects[late]
    key = pd.MultiIndex.from_frame(moved[["client_id", "issued_date"]])
    concluded = pd.Series(ends.reindex(key).to_numpy(), index=moved.index)
    parts = pd.DataFrame(
        {
            "client_id": moved["client_id"],
            "issued_date": moved["birth_date"],
            "concluded_date": concluded.where(
                concluded.isna() | (concluded >= moved["birth_date"]), moved["birth_date"]
            ),
            "recorded_issued": moved["issued_date"],
        }
    )
    subjects = subjects.copy()
    subjects.loc[late, "issued_date"] = subjects.loc[late, "birth_date"]
    whole = pd.concat([sets, parts.drop_duplicates()], ignore_index=True)
    return whole, subjects


def term_rule(about_new: pd.DataFrame, index_recorded: pd.Series) -> pd.DataFrame:
    """The sets about a new child that count as returns *with a new child* under the 37-week
    rule: those issued 37 weeks (259 days) or more after the index proceedings were issued.

    As the published Cafcass-CRIS analysis does (FIELD.md, section 3: a return is kept when
    ``time_to_next >= 7*37``, ``time_to_next`` being the return's start date less the index
    case's start date): the set's issue date (a split-off part's: the birth) against the
    index's issue date *as recorded* (``index_recorded``, by client_id; where the index is
    itself a part split off at a birth, the set it was split from, as the published analysis
    never re-dates its index case). Clients without index proceedings have no rule.
    """
    index_at = about_new["client_id"].map(index_recorded)
    soon = about_new["issued_date"] < index_at + pd.Timedelta(days=TERM_DAYS)
    return about_new[~soon.fillna(False).astype(bool)]


def set_types(subjects: pd.DataFrame, index_issued: pd.Series) -> pd.DataFrame:
    """For each set (client_id, issued_date) with a subject child: whether it is about a new
    child and whether about a previous one, against each client's index issue date
    (``index_issued``: a Series by client_id)."""
    s = subjects.copy()
    s["I"] = s["client_id"].map(index_issued)
    # a subject of a set issued on or before the index: their first set was
    first = s.groupby(["client_id", "child_id"], sort=False)["issued_date"].transform("min")
    earlier = (first <= s["I"]).fillna(False).to_numpy()
    born = s["birth_date"]
    unborn = s["unborn"].fillna(False).astype(bool) if "unborn" in s else False
    s["previous"] = earlier | (born <= s["I"]).fillna(False).to_numpy()
    s["new"] = ~s["previous"] & ((born > s["I"]) | (born.isna() & unborn)).fillna(False)
    return (
        s.groupby(["client_id", "issued_date"], sort=False)[["new", "previous"]].any().reset_index()
    )


def type_words(new: pd.Series, previous: pd.Series) -> pd.Series:
    """Each set's return type in words (``RETURN_TYPES``)."""
    out = pd.Series("not known", index=new.index, dtype=object)
    out[new & ~previous] = "new child"
    out[previous & ~new] = "previous child"
    out[new & previous] = "both"
    return out

"""Values that are each valid but cannot be true together: a parent aged 0 or 120 at
referral, a child born before (or in early childhood of) the mother, a child recorded as
unborn when the proceedings were issued but born more than 40 weeks before them.

Each changes figures of the return (age bands, return type, the 37-week rule) while every
cell on its own is in range, so they are checked across columns and tables, one problem per
cause, naming the row, the client and the values that disagree.
"""

from __future__ import annotations

import pandas as pd

from evaltool.data.checking import Dataset, among, cell_problems
from evaltool.data.problems import Problem

#: a parent's age at referral outside this range is a mistyped year
PARENT_AGES = (12, 60)
#: a mother younger than this at her child's birth is a mistyped year
MOTHER_AT_BIRTH = 10
#: a child recorded as unborn at the first proceedings about it but born more than a
#: pregnancy (40 weeks) before them is a mistake (a few days either way are dates as recorded)
UNBORN_DAYS = 280


def problems(dataset: Dataset) -> list[Problem]:
    """Every implausible combination in the data (see the module's docstring)."""
    return [*_parent_ages(dataset), *_children(dataset)]


def _parent_ages(dataset: Dataset) -> list[Problem]:
    clients = dataset.tables.get("clients")
    if clients is None or not {"birth_year", "referral_date"} <= set(clients):
        return []
    born = pd.to_numeric(clients["birth_year"], errors="coerce")
    age = clients["referral_date"].dt.year - born
    low, high = PARENT_AGES
    bad = (age < low) | (age > high)
    bad = bad.fillna(False).astype(bool)
    message = (
        "birth_year makes the parent aged "
        + age[bad].astype("Int64").astype(str)
        + " when referred on "
        + clients.loc[bad, "referral_date"].dt.strftime("%d/%m/%Y")
        + ": check the year"
    )
    return cell_problems(
        dataset.raw["clients"],
        "birth_year",
        bad,
        message.reindex(clients.index),
        f"a year of birth giving an age from {low} to {high} at referral",
    )


def _children(dataset: Dataset) -> list[Problem]:
    tables = dataset.tables
    children = tables.get("children")
    if children is None or "birth_date" not in children or "client_id" not in children:
        return []
    out: list[Problem] = []
    raw = dataset.raw["children"]
    clients = tables.get("clients")
    if clients is not None and {"client_id", "birth_year"} <= set(clients):
        # the clients of these children only (a national clients file has millions of rows;
        # cut first, the first row of each client is the same row)
        theirs = clients.loc[
            among(clients["client_id"], children["client_id"]), ["client_id", "birth_year"]
        ]
        mother = children["client_id"].map(
            theirs.drop_duplicates("client_id").set_index("client_id")["birth_year"]
        )
        gap = children["birth_date"].dt.year - pd.to_numeric(mother, errors="coerce")
        bad = (gap < MOTHER_AT_BIRTH).fillna(False).astype(bool)
        if bad.any():
            message = (
                "born in "
                + children.loc[bad, "birth_date"].dt.year.astype(str)
                + ", when the parent (born "
                + mother[bad].astype("Int64").astype(str)
                + ") was aged "
                + gap[bad].astype("Int64").astype(str)
                + ": check the child's birth_date or the parent's birth_year in clients"
            )
            out += cell_problems(
                raw,
                "birth_date",
                bad,
                message.reindex(children.index),
                f"a birth date when the parent was {MOTHER_AT_BIRTH} or older",
            )
    if "unborn" in children:
        from evaltool.data.children import subject_links

        links = subject_links(tables)
        if len(links):
            first = links.groupby(["client_id", "child_id"], sort=False)["issued_date"].min()
            keys = pd.MultiIndex.from_frame(children[["client_id", "child_id"]])
            issued = pd.Series(first.reindex(keys).to_numpy(), index=children.index)
            unborn = children["unborn"].astype("boolean").fillna(False).astype(bool)
            early = issued - pd.Timedelta(days=UNBORN_DAYS)
            bad = unborn & (children["birth_date"] < early).fillna(False).astype(bool)
            if bad.any():
                message = (
                    "unborn = yes (not yet born when the proceedings were issued), but born on "
                    + children.loc[bad, "birth_date"].dt.strftime("%d/%m/%Y")
                    + ", more than 40 weeks before they were issued on "
                    + issued[bad].dt.strftime("%d/%m/%Y")
                    + ": check unborn or the birth_date"
                )
                out += cell_problems(
                    raw,
                    "unborn",
                    bad,
                    message.reindex(children.index),
                    "unborn = no for a child born well before the proceedings were issued",
                )
    return out

"""The subject children of each set of proceedings (data contract v1.1, optional).

A set of proceedings is named by its client and issue date. Its children come from a
``child_ids`` column on proceedings (``;``-separated) or from a ``proceedings_children``
table (either, or both: they are pooled); each child must be in the ``children`` table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaltool.data.checking import Dataset, cell_problems, locate
from evaltool.data.problems import ERROR, Problem
from evaltool.data.reading import RawTable

SEPARATOR = ";"


def has_children(tables: dict[str, pd.DataFrame]) -> bool:
    """Whether the data can say what each return was about."""
    return "children" in tables and (
        "proceedings_children" in tables
        or ("proceedings" in tables and "child_ids" in tables["proceedings"])
    )


def _from_child_ids(proceedings: pd.DataFrame) -> pd.DataFrame:
    """One row per set and child named in the child_ids column (with the row it came from)."""
    p = proceedings[proceedings["child_ids"].notna()]
    ids = p["child_ids"].astype(str)
    several = ids.str.contains(SEPARATOR, regex=False)  # most sets name one child: no split
    one = p.loc[~several, ["client_id", "issued_date", "_row"]].assign(child_id=ids[~several])
    split = ids[several].str.split(SEPARATOR)
    many = p.loc[several, ["client_id", "issued_date", "_row"]].assign(child_id=split)
    long = pd.concat([one, many.explode("child_id")]).sort_index(kind="stable")
    long["child_id"] = long["child_id"].str.strip()
    return long[long["child_id"] != ""]


def subject_links(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each set's subject children: client_id, issued_date, child_id (no duplicates)."""
    parts = []
    if "proceedings" in tables and "child_ids" in tables["proceedings"]:
        parts.append(_from_child_ids(tables["proceedings"]))
    if "proceedings_children" in tables:
        parts.append(tables["proceedings_children"])
    if not parts:
        return pd.DataFrame(columns=["client_id", "issued_date", "child_id"])
    links = pd.concat([p[["client_id", "issued_date", "child_id"]] for p in parts])
    return links.drop_duplicates(ignore_index=True)


def subjects(tables: dict[str, pd.DataFrame]) -> pd.DataFrame | None:
    """Each set's subject children with their birth date and unborn flag, or None when the
    data has no children (a v1 file): client_id, issued_date, child_id, birth_date, unborn."""
    if not has_children(tables):
        return None
    children = tables["children"]
    columns = ["client_id", "child_id", "birth_date", "unborn"]
    known = children.reindex(columns=columns)
    return subject_links(tables).merge(known, on=["client_id", "child_id"], how="inner")


def link_problems(dataset: Dataset) -> list[Problem]:
    """Every link that names no set or no child, and children with no way to link them."""
    tables, raw = dataset.tables, dataset.raw
    problems: list[Problem] = []
    children = tables.get("children")
    proceedings = tables.get("proceedings")
    if (
        children is not None
        and proceedings is not None
        and {"child_ids", "issued_date"} <= set(proceedings)  # a missing one is named already
    ):
        long = _from_child_ids(proceedings)
        # a row of a client not in clients is named as such already: one fault, one problem
        if "clients" in tables and "client_id" in tables["clients"]:
            long = long[long["client_id"].isin(tables["clients"]["client_id"])]
        bad = long[~_among(long, children, ["client_id", "child_id"])]
        for (row, client), names in bad.groupby(["_row", "client_id"])["child_id"]:
            problems.extend(
                _row_problem(
                    raw["proceedings"],
                    row,
                    "child_ids",
                    f"child_ids names {', '.join(names)}, not in the children table for "
                    f"client {client}",
                    "child_id values of this client's rows in children, separated by ';'",
                    "; ".join(names),
                    client,
                )
            )
    if children is not None and "proceedings_children" in tables:
        pc = tables["proceedings_children"]
        table = raw["proceedings_children"]
        needed = {"client_id", "issued_date", "child_id"}
        if needed <= set(pc):
            found = _among(pc, proceedings, ["client_id", "issued_date"])
            no_set = pd.Series(~found, index=pc.index) & pc["issued_date"].notna()
            problems += cell_problems(
                table,
                "issued_date",
                no_set,
                "no set of proceedings of this client was issued on this date",
                "the issued_date of one of this client's rows in proceedings",
            )
            found = _among(pc, children, ["client_id", "child_id"])
            no_child = pd.Series(~found, index=pc.index) & pc["child_id"].notna()
            problems += cell_problems(
                table,
                "child_id",
                no_child,
                "child_id not in the children table for this client",
                "a child_id of this client's rows in children",
            )
    if children is not None and not has_children(tables):
        problems.append(
            Problem(
                ERROR,
                "the children table is not linked to any proceedings: add a child_ids column "
                "to proceedings (the children of each set, separated by ';') or a "
                "proceedings_children table (client_id, issued_date, child_id)",
                raw["children"].file,
                raw["children"].sheet,
                expected="child_ids on proceedings, or a proceedings_children table",
            )
        )
    if children is None and (
        "proceedings_children" in tables
        or (proceedings is not None and proceedings.get("child_ids", pd.Series()).notna().any())
    ):
        problems.append(
            Problem(
                ERROR,
                "proceedings name their children but there is no children table: add one "
                "(client_id, child_id, birth_date, unborn)",
                dataset.source.path.name,
                "children",
                expected="a table named children",
            )
        )
    return problems


def _among(frame: pd.DataFrame, other: pd.DataFrame | None, columns: list[str]) -> np.ndarray:
    """Whether each row's ``columns`` are those of some row of ``other`` (none are when
    ``other`` or a column is missing): a merge, which is fast where a MultiIndex isin is not."""
    if other is None or not set(columns) <= set(other):
        return np.zeros(len(frame), dtype=bool)
    hits = other[columns].drop_duplicates().assign(_hit=True)
    return frame[columns].merge(hits, on=columns, how="left")["_hit"].notna().to_numpy()


def _row_problem(
    table: RawTable, row: int, column: str, message: str, expected: str, found: str, client: str
) -> list[Problem]:
    where = locate(table, column)
    return [
        Problem(ERROR, message, table.file, table.sheet, int(row), where, found, expected, client)
    ]

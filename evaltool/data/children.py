"""The subject children of each set of proceedings (data contract v1.1, optional).

A set of proceedings is named by its client and issue date. Its children come from a
``child_ids`` column on proceedings (``;``-separated) or from a ``proceedings_children``
table (either, or both: they are pooled); each child must be in the ``children`` table.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from evaltool.data.checking import Dataset, among, cell_problems, locate
from evaltool.data.problems import ERROR, Problem, shown
from evaltool.data.reading import RawTable

SEPARATOR = ";"
#: what people type between children instead of ';' (tried in this order)
OTHER_SEPARATORS = (",", "/", "|", "&", " and ", "+", "\n", " ")


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


#: the columns a child_ids link needs (a missing one is reported where the columns are checked)
LINK_COLUMNS = {"client_id", "issued_date", "child_ids"}


def subject_links(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each set's subject children: client_id, issued_date, child_id (no duplicates)."""
    parts = []
    if "proceedings" in tables and set(tables["proceedings"]) >= LINK_COLUMNS:
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
        and set(proceedings) >= LINK_COLUMNS  # a missing one is named already
    ):
        long = _from_child_ids(proceedings)
        # a row of a client not in clients is named as such already, and so is a child whose
        # children row names a client not in clients: one fault, one problem
        long = long[_known_client(long, tables)]
        orphans = children.loc[~_known_client(children, tables), "child_id"]
        long = long[~long["child_id"].isin(orphans)]
        bad = long[~_among(long, children, ["client_id", "child_id"])]
        for (row, client), names in bad.groupby(["_row", "client_id"])["child_id"]:
            cell = proceedings.loc[proceedings["_row"] == row, "child_ids"].iloc[0]
            problems.append(
                _child_ids_problem(raw["proceedings"], row, client, names, cell, children)
            )
    if children is not None and "proceedings_children" in tables:
        pc = tables["proceedings_children"]
        table = raw["proceedings_children"]
        needed = {"client_id", "issued_date", "child_id"}
        if needed <= set(pc):
            known = _known_client(pc, tables)  # an unknown client is named as such already
            found = _among(pc, proceedings, ["client_id", "issued_date"])
            no_set = pd.Series(~found & known, index=pc.index) & pc["issued_date"].notna()
            problems += cell_problems(
                table,
                "issued_date",
                no_set,
                "no set of proceedings of this client was issued on this date",
                "the issued_date of one of this client's rows in proceedings",
            )
            found = _among(pc, children, ["client_id", "child_id"])
            no_child = pd.Series(~found & known, index=pc.index) & pc["child_id"].notna()
            problems += cell_problems(
                table,
                "child_id",
                no_child,
                "child_id not in the children table for this client",
                "a child_id of this client's rows in children",
            )
    unread = dataset.source.unread  # a table not read is named already, with why
    if (
        children is not None
        and not has_children(tables)
        and not {"proceedings", "proceedings_children"} & set(unread)
    ):
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


def _known_client(frame: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> np.ndarray:
    """Whether each row's client is in clients (all are when clients cannot say)."""
    clients = tables.get("clients")
    if clients is None or "client_id" not in clients or "client_id" not in frame:
        return np.ones(len(frame), dtype=bool)
    return among(frame["client_id"], clients["client_id"])


def other_separator(cell: str, known: set[str]) -> tuple[str, list[str]] | None:
    """The separator a ``child_ids`` cell uses instead of ';' and the children it then names,
    when splitting on it gives only children of this client ('00603-1,00603-2')."""
    for sep in OTHER_SEPARATORS:
        if sep.strip() and sep not in cell and sep.strip() not in cell:
            continue
        if sep == " " and " " not in cell.strip():
            continue
        pattern = r"\s*" + re.escape(sep.strip()) + r"\s*" if sep.strip() else r"\s+"
        parts = [p for p in re.split(pattern, cell.strip(), flags=re.I) if p]
        if len(parts) > 1 and all(p in known for p in parts):
            return sep.strip() or "a space", parts
    return None


def _child_ids_problem(
    table: RawTable,
    row: int,
    client: str,
    names: pd.Series,
    cell: str,
    children: pd.DataFrame,
) -> Problem:
    known = set(children.loc[children["client_id"] == client, "child_id"].astype(str))
    where = locate(table, "child_ids")
    for piece in str(cell).split(SEPARATOR):
        found = other_separator(piece, known)
        if found is not None:
            sep, parts = found
            return Problem(
                ERROR,
                f"child_ids {shown(cell)} names children separated by '{sep}'; separate them "
                f"with ';' instead ({';'.join(shown(p, quote=False) for p in parts)})",
                table.file,
                table.sheet,
                int(row),
                where,
                str(cell),
                "child_id values of this client's rows in children, separated by ';'",
                client,
            )
    listed = ", ".join(shown(n, quote=False) for n in list(names)[:5])
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return Problem(
        ERROR,
        f"child_ids names {listed}{more}, not in the children table for client "
        f"{shown(client, quote=False)}",
        table.file,
        table.sheet,
        int(row),
        where,
        "; ".join(names),
        "child_id values of this client's rows in children, separated by ';'",
        client,
    )


def _among(frame: pd.DataFrame, other: pd.DataFrame | None, columns: list[str]) -> np.ndarray:
    """Whether each row's ``columns`` are those of some row of ``other`` (none are when
    ``other`` or a column is missing): a merge, which is fast where a MultiIndex isin is not."""
    if other is None or not set(columns) <= set(other):
        return np.zeros(len(frame), dtype=bool)
    hits = other[columns].drop_duplicates().assign(_hit=True)
    return frame[columns].merge(hits, on=columns, how="left")["_hit"].notna().to_numpy()

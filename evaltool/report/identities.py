"""Relations nobody declared, found the way a reader with many returns would find them.

Every route through which a hidden figure came back (issue 23) was an identity between
printed figures that no table declared: the starts to date equal to the service parents
analysed, a row count equal to the responses to date. A reader who has seen many returns
notices such identities because they hold every time. ``undeclared`` does the same: over the
returns of several services it lists every linear identity among the whole-number figures of
a return (A = B, A = B + C) that holds on all of them, and keeps those that the relations the
return declares (``SummaryTable`` sums, totals and relations, and ``publish.within``) do not
imply, asked of the HiGHS solver as two linear programmes (the least and the greatest value of
A - B - C under the declared relations: both 0 when they imply it).

What it finds is either a relation to declare (the protection then protects through it) or a
coincidence of the data the services were made from (the synthetic services have no twins,
every feedback question answered): the tests keep the list of coincidences, each with why it
is one (``tests/test_identities.py``). It sees one return at a time; identities across returns
(to date = last to date + quarter) are ``publish``'s to declare.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaltool.instruments.results import Implied, Relation

if TYPE_CHECKING:
    from evaltool.core import Results


@dataclass(frozen=True)
class Figures:
    """One return's whole-number figures by key (``table|row labels|column``, the same in
    every return of the period) and its declared relations over the count cells' keys."""

    values: dict[str, float]
    relations: list[tuple[str, list[tuple[str, float]]]]


@dataclass(frozen=True)
class Identity:
    """``sum(coefficient * figure) == 0`` on every service."""

    terms: tuple[tuple[str, int], ...]

    def describe(self) -> str:
        first, *rest = self.terms
        return f"{first[0]} = " + " + ".join(k for k, _ in rest)


def figures(results: Results) -> Figures:
    """The return's figures, as printed before protection, and what it declares."""
    from evaltool.report.disclosure import Cells, table_relations
    from evaltool.report.publish import _joined, _labels, cell_keys, gather, within

    tables = [_joined(t) for ts in gather(results).values() for t in ts]
    extra: dict[str, list[Implied]] = {}
    links = within(tables, Cells(tables).value, extra, results.period)
    keys = {ref: _short(key) for ref, key in cell_keys(tables, results.period).items()}
    declared: list[Relation] = [r for t in tables for r in table_relations(t)] + links
    declared += [i.relation() for t in tables for i in t.relations if isinstance(i, Implied)]
    declared += [i.relation() for implied in extra.values() for i in implied]
    relations = []
    for rel in declared:
        terms = [(keys.get(t, t) if not isinstance(t, str) else t, c) for t, c in rel.terms]
        if all(isinstance(t, str) for t, _ in terms):
            relations.append((rel.op, terms))
    values: dict[str, float] = {}
    for t in tables:
        frame = t.data.reset_index(drop=True)
        for col in frame.columns:
            number = pd.to_numeric(frame[col], errors="coerce")
            seen: set[str] = set()
            for r in range(len(frame)):
                labels = _labels(t, frame, r)
                if labels in seen:
                    labels = f"{labels},row={r + 1}"
                seen.add(labels)
                if f"{col}=" in labels or pd.isna(number.iloc[r]):
                    continue  # a label, or no figure
                values[f"{t.name}|{labels}|{col}"] = float(number.iloc[r])
    return Figures(values, relations)


def _short(key: str) -> str:
    """A cell's key without its period: the same figure in every service's return."""
    parts = key.split("|")
    return "|".join(parts[-3:])


def identities(returns: list[Figures], distinct: int = 4) -> list[Identity]:
    """Identities A = B and A = B + C holding on every return, among figures printed in all
    of them that are whole numbers taking at least ``distinct`` values (two figures that are
    0, 1 or 2 everywhere agree by chance)."""
    keys = sorted(set.intersection(*(set(f.values) for f in returns)))
    v = np.array([[f.values[k] for f in returns] for k in keys])
    keep = np.all(np.abs(v - np.round(v)) < 1e-9, axis=1) & np.array(
        [len(set(row)) >= distinct for row in v.tolist()], dtype=bool
    )
    keys = [k for k, ok in zip(keys, keep, strict=True) if ok]
    v = np.round(v[keep]).astype(np.int64)
    alike: dict[bytes, list[int]] = defaultdict(list)
    for i in range(len(keys)):
        alike[v[i].tobytes()].append(i)
    out = [
        Identity(((keys[a], 1), (keys[b], -1)))
        for group in alike.values()
        for j, a in enumerate(group)
        for b in group[j + 1 :]
    ]
    first = [group[0] for group in alike.values()]
    where = {v[i].tobytes(): i for i in first}
    for x, b in enumerate(first):
        sums = v[b] + v[first[x:]]
        for c, row in zip(first[x:], sums, strict=True):
            a = where.get(row.tobytes())
            if a is not None and a not in (b, c):
                out.append(Identity(((keys[a], 1), (keys[b], -1), (keys[c], -1))))
    return out


def implied(identity: Identity, figures: Figures) -> bool:
    """Whether the return's relations imply the identity for every non-negative solution
    with its zeros at 0 (a zero is printed, so a reader knows an identity that holds because
    a figure is 0: the starts to date are the parents analysed where no one else was left
    out)."""
    import highspy

    # only the relations joined to the identity's figures bear on it
    by_term: dict[str, list[int]] = defaultdict(list)
    for i, (_, terms) in enumerate(figures.relations):
        for t, _ in terms:
            by_term[t].append(i)
    seen, todo, used = {k for k, _ in identity.terms}, [k for k, _ in identity.terms], set()
    while todo:
        for i in by_term.get(todo.pop(), ()):
            if i not in used:
                used.add(i)
                for t, _ in figures.relations[i][1]:
                    if t not in seen:
                        seen.add(t)
                        todo.append(t)
    zeros = [("=", [(k, 1.0)]) for k in seen if figures.values.get(k) == 0]
    names: dict[str, int] = {}
    rows = []
    for op, terms in [*(figures.relations[i] for i in sorted(used)), *zeros]:
        merged: dict[int, float] = defaultdict(float)
        for t, c in terms:
            merged[names.setdefault(t, len(names))] += c
        rows.append((op, merged))
    target = [(names.get(k), c) for k, c in identity.terms]
    if any(j is None for j, _ in target):
        return False  # a figure no relation names: nothing ties it to the others
    for sense in (1.0, -1.0):
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        for _ in names:
            h.addVar(0.0, 1e7)
        for op, merged in rows:
            lower = 0.0 if op == "=" else -highspy.kHighsInf
            idx = np.array(list(merged), dtype=np.int32)
            h.addRow(lower, 0.0, len(idx), idx, np.array(list(merged.values())))
        cost = np.zeros(len(names))
        for j, c in target:
            cost[j] += sense * c
        h.changeColsCost(len(names), np.arange(len(names), dtype=np.int32), cost)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return False
        if abs(h.getInfo().objective_function_value) > 1e-6:
            return False
    return True


def undeclared(returns: list[Figures]) -> list[Identity]:
    """The identities holding on every return that some return's declared relations (and
    zeros) do not imply."""
    return [i for i in identities(returns) if not all(implied(i, f) for f in returns)]

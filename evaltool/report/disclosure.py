"""Disclosure control over the whole return: linked tables protected as one problem.

The threat: a reader holds the return (and, with ``earlier``, the service's earlier returns), a
spreadsheet and an afternoon. Every count cell is a number they know or a ``c`` they want back;
every true identity between counts (a total row, a column that sums others, caseload =
previous caseload + starts - closures of started cases, "to date" = last quarter's "to date" +
this quarter) is an equation they can use. :func:`audit` is that reader: for each ``c`` it
solves two small integer programmes (the least and the greatest value the cell can take given
every shown cell and every relation) and reports a small count narrowed to fewer than
threshold + 1 values (``keep``: the setting ``protection_values``). :func:`protect` hides
counts from 1 to the threshold (primary), then hides more cells (secondary) until the audit
finds nothing. A ``c`` may hold any whole number from 0 up (a group where everyone shares
one category is hidden whole, zeros included, so that the reader cannot tell which category
it is); the audit assumes no more than that.

Some counts of people are not printed but follow from printed cells: the events between two
fixed times of a Kaplan-Meier table are the difference of two cumulative counts. Tables declare
them as :class:`Implied` counts, protected as if they were cells.

Derived figures (shares, means, medians, rates) are hidden with every count they were computed
from, and shown figures are rounded to the precision they are printed with, so a mean's
sixteen digits cannot give back the number of people behind it.

Symbols (GSS): ``c`` confidential, ``z`` not applicable, ``:`` not available.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaltool.instruments.results import Implied, Ref, Relation, SummaryTable

SUPPRESSED, NOT_APPLICABLE, NOT_AVAILABLE = "c", "z", ":"

#: no count in a return comes near this; a range reaching it has no upper end
CEILING = 1e7


@dataclass
class Suppressed:
    """A table ready to show: values with symbols in place, and which cells were suppressed."""

    values: pd.DataFrame  # object dtype: numbers, text or a symbol
    suppressed: pd.DataFrame  # bool, same shape
    primary: int
    secondary: int


@dataclass
class Leak:
    """A hidden cell the reader can narrow to ``low``..``high`` (fewer values than allowed)."""

    cell: Ref
    low: float
    high: float
    using: list[Ref] = field(default_factory=list)  # the shown cells of the relations used

    def describe(self) -> str:
        if isinstance(self.cell, str):
            return f"{self.cell}: can be worked out as {self.low:g} to {self.high:g}"
        table, row, col = self.cell
        span = (
            f"exactly {self.low:g}" if self.low == self.high else f"{self.low:g} to {self.high:g}"
        )
        return f"{table}, row {row + 1}, '{col}': can be worked out as {span}"


def _number(value: object) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan
    return x if np.isfinite(x) else np.nan


def total_groups(table: SummaryTable) -> list[tuple[list[Ref], Ref]]:
    """The (parts, total) groups of a table's total rows, per window and count column."""
    frame = table.data.reset_index(drop=True)
    labels = [c for c in frame.columns if c not in table.counts and frame[c].dtype == object]
    section = frame["Window"] if "Window" in frame else pd.Series("", index=frame.index)
    out: list[tuple[list[Ref], Ref]] = []
    if table.total_row is None:
        return out
    label = next((c for c in labels if (frame[c] == table.total_row).any()), None)
    if label is None:
        return out
    for _, rows in frame.groupby(section, sort=False).groups.items():
        totals = [r for r in rows if frame.at[r, label] == table.total_row]
        parts = [r for r in rows if frame.at[r, label] != table.total_row]
        for total in totals:
            for col in table.counts:
                out.append(([(table.name, r, col) for r in parts], (table.name, total, col)))
    return out


def sum_groups(table: SummaryTable) -> list[tuple[list[Ref], Ref]]:
    """The (parts, total) groups of a table's summed columns, row by row."""
    frame = table.data.reset_index(drop=True)
    return [
        ([(table.name, r, c) for c in parts], (table.name, r, total))
        for total, parts in table.sums.items()
        for r in frame.index
    ]


def table_relations(table: SummaryTable) -> list[Relation]:
    """The relations a table declares: total rows, summed columns, windows, its own list."""
    frame = table.data.reset_index(drop=True)
    out: list[Relation] = [r for r in table.relations if isinstance(r, Relation)]
    labels = [c for c in frame.columns if c not in table.counts and frame[c].dtype == object]
    adds_up = (total_groups(table) if table.total_is_sum else []) + sum_groups(table)
    for parts, total in adds_up:
        out.append(Relation((*((p, 1.0) for p in parts), (total, -1.0))))
    if "Window" in frame:  # what happened in the quarter is part of what happened to date
        keys = [c for c in labels if c != "Window"]
        quarter = frame[frame["Window"] == "Quarter"]
        to_date = frame[frame["Window"] == "To date"]
        for q, qrow in quarter.iterrows():
            match = to_date
            for k in keys:
                match = match[match[k] == qrow[k]]
            for t in match.index[:1]:
                for col in table.counts:
                    out.append(
                        Relation((((table.name, q, col), 1.0), ((table.name, t, col), -1.0)), "<=")
                    )
    return out


class Cells:
    """The count cells of a set of tables: true values and which are hidden."""

    def __init__(self, tables: Sequence[SummaryTable]) -> None:
        self.value: dict[Ref, float] = {}
        for t in tables:
            frame = t.data.reset_index(drop=True)
            for col in t.counts:
                if col not in frame:
                    continue
                for r, v in enumerate(frame[col].tolist()):
                    x = _number(v)
                    if not np.isnan(x):
                        self.value[(t.name, r, col)] = x
        self.hidden: set[Ref] = set()


class _Components:
    """Union-find: ``find(x)`` names the component of ``x``; ``join`` puts items in one."""

    def __init__(self) -> None:
        self.parent: dict[object, object] = {}

    def __call__(self, x: object) -> object:
        parent = self.parent
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(self, items: list) -> None:
        for a in items:
            self(a)
        for a, b in zip(items, items[1:], strict=False):
            self.parent[self(a)] = self(b)


def values_kept(threshold: int, keep: int | None = None) -> int:
    """The fewest values a reader may narrow a hidden count to: ``keep`` (the setting
    ``protection_values``), else threshold + 1."""
    return threshold + 1 if keep is None else keep


def audit(
    value: dict[Ref, float],
    hidden: set[Ref],
    relations: Iterable[Relation],
    threshold: int,
    watch: Iterable[str] = (),
    only: set | None = None,
    keep: int | None = None,
    zeros_matter: set | None = None,
) -> list[Leak]:
    """Every hidden cell (and every implied count named in ``watch``) whose feasible range,
    given the shown cells and the relations, spans fewer than ``keep`` whole numbers
    (``threshold`` + 1 unless set: the setting ``protection_values``) and reaches down to the
    threshold or below: a small count narrowed. (A hidden cell pinned at 719 tells nothing
    about a few people; one narrowed to 2 to 4 does.)
    ``value`` holds the shown cells' values (a hidden cell's entry, if any, is not used);
    ``only``: check just these (hiding more cells only widens every range, so a cell found
    safe stays safe). ``zeros_matter``: where given, a cell worked out as exactly 0 is a leak
    only if it is in this set (the parts of groups, and earlier returns' cells); otherwise
    every such cell is one."""
    keep = values_kept(threshold, keep)
    watch = set(watch)
    checked = hidden | watch
    if only is not None:
        checked &= only
    if not checked:
        return []
    # every relation with an unknown: one that holds only shown cells and unseen quantities
    # still pins those quantities down (closures = closures of started + while waiting);
    # not one the reader knows only while a cell now hidden is shown (``Relation.given``)
    relations = [
        r
        for r in relations
        if any(t in hidden or isinstance(t, str) for t, _ in r.terms) and r.known(hidden)
    ]

    # connected components over the variables of the relations that touch a hidden cell
    def unknown(t: object) -> bool:
        return t in hidden or isinstance(t, str) or t not in value

    groups = _components(relations, unknown)

    leaks: list[Leak] = []
    for rels in groups.values():
        if not any(t in checked for rel in rels for t, _ in rel.terms if unknown(t)):
            continue
        # Relations that do not hold together (earlier returns recorded from data revised
        # since) have no solution and would tell nothing, so they would protect nothing: the
        # earlier returns' own relations go first, then the links to them, until they hold.
        for holds in (lambda rel: True, _touches_this_return, _of_this_return):
            kept = [rel for rel in rels if holds(rel)]
            names = sorted({t for rel in kept for t, _ in rel.terms if unknown(t)}, key=repr)
            if not names:
                break
            solver, index = _programme(kept, names, unknown, value)
            if solver.feasible():
                break
        if not names:
            continue
        rels = kept
        found: list[Leak] = []
        used = sorted(
            {t for rel in rels for t, _ in rel.terms if not unknown(t) and not isinstance(t, str)}
        )
        for t in names:
            if t not in checked or solver.spans(index[t]) >= keep:
                continue  # whole points already seen span enough values: it cannot narrow
            top = solver.extreme(index[t], maximise=True)
            if top is None or top >= CEILING - 0.5:  # no upper end (or no solution: the
                continue  # relations do not hold for these data, so they tell nothing)
            high = round(top)
            if high + 1 >= keep:  # 0..high is wide enough: only a low end can narrow it
                bottom = solver.extreme(index[t], maximise=False)
                low = round(bottom) if bottom is not None else 0
            else:
                low = 0
            # a small count, narrowed; one worked out as exactly 0 says nobody is there,
            # which tells nothing about anyone (a zero is printed as 0 anyway), unless it is
            # a part of a group that could then read as all in one category
            zero_ok = high < 1 and zeros_matter is not None and t not in zeros_matter
            if high - low + 1 < keep and low <= threshold and not zero_ok:
                found.append(Leak(t, float(low), float(high), used))  # type: ignore[arg-type]
        leaks += found
    return leaks


def _components(
    relations: Sequence[Relation], unknown: Callable[[object], bool]
) -> dict[object, list[Relation]]:
    """The relations grouped by the connected components of their unknowns."""
    find = _Components()
    for rel in relations:
        find.join([t for t, _ in rel.terms if unknown(t)])
    groups: dict[object, list[Relation]] = defaultdict(list)
    for rel in relations:
        free = [t for t, _ in rel.terms if unknown(t)]
        if free:
            groups[find(free[0])].append(rel)
    return groups


def pinned(relations: Sequence[Relation], value: dict, hidden: set) -> dict[str, float]:
    """The unseen quantities (``~name``) that ``relations`` and the shown ``value`` fix to
    one whole number: earlier returns' quarters whose figures were printed. Known to the
    reader, they are constants to every later question, which keeps each programme small."""

    def unknown(t: object) -> bool:
        return t in hidden or isinstance(t, str) or t not in value

    rels = [r for r in relations if any(isinstance(t, str) for t, _ in r.terms)]
    groups = _components(rels, unknown)
    out: dict[str, float] = {}
    for group in groups.values():
        names = sorted({t for rel in group for t, _ in rel.terms if unknown(t)}, key=repr)
        solver, index = _programme(group, names, unknown, value)
        if not solver.feasible():
            continue
        for t in names:
            if not isinstance(t, str):
                continue
            top = solver.extreme(index[t], maximise=True)
            if top is None or top >= CEILING - 0.5:
                continue
            bottom = solver.extreme(index[t], maximise=False)
            if bottom is not None and round(top) == round(bottom):
                out[t] = float(round(top))
    return out


def _earlier(term: object) -> bool:
    """A term of an earlier return: its cell ("@key") or its unseen quantity ("~name")."""
    return (isinstance(term, tuple) and str(term[0]).startswith("@")) or (
        isinstance(term, str) and term.startswith("~")
    )


def _touches_this_return(rel: Relation) -> bool:
    return not all(_earlier(t) for t, _ in rel.terms)


def _of_this_return(rel: Relation) -> bool:
    return not any(_earlier(t) for t, _ in rel.terms)


def _programme(
    rels: list[Relation], names: list, unknown: Callable[[object], bool], value: dict
) -> tuple[_Solver, dict]:
    """The integer programme of a component: one row per relation, one column per unknown."""
    index = {t: i for i, t in enumerate(names)}
    a = np.zeros((len(rels), len(names)))
    lb = np.zeros(len(rels))
    ub = np.zeros(len(rels))
    for k, rel in enumerate(rels):
        const = 0.0
        for t, coef in rel.terms:
            if unknown(t):
                a[k, index[t]] += coef
            else:
                const += coef * value[t]
        ub[k] = -const
        lb[k] = -const if rel.op == "=" else -np.inf
    return _Solver(a, lb, ub), index


_HIGHS_GREETED = False


def _new_highs():
    """A silent HiGHS. Its first instance in a process prints a banner on the standard output
    (from C++, before any option can be set), which would end up in a user's terminal or in
    JSON output: that one is sent to /dev/null."""
    import os
    import sys

    import highspy

    global _HIGHS_GREETED
    if _HIGHS_GREETED:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        try:
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)
        _HIGHS_GREETED = True
    h.setOptionValue("output_flag", False)
    return h


class _Solver:
    """One programme per component, built once; each question only changes the objective
    (HiGHS through highspy; a fresh scipy ``milp`` call cost 2-10 ms). The linear relaxation
    is solved first, warm from the last basis: when its optimum is whole it is the integer
    optimum too (the relaxation's bound is never worse, and that point is feasible); only
    otherwise is the integer programme solved."""

    asked = 0  # questions asked in this process (``_give_back`` bounds its own)

    def __init__(self, a: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> None:
        import highspy
        from scipy.sparse import csc_matrix

        self.n = a.shape[1]
        h = _new_highs()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, a.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        # a finite ceiling far above any count: a bounded maximum over unbounded integers can
        # otherwise come back as "infeasible or unbounded"
        lp.col_lower_, lp.col_upper_ = np.zeros(self.n), np.full(self.n, CEILING)
        lp.row_lower_ = np.where(np.isfinite(lb), lb, -highspy.kHighsInf)
        lp.row_upper_ = ub
        m = csc_matrix(a)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_ = m.indptr, m.indices
        lp.a_matrix_.value_ = m.data
        h.passModel(lp)
        self.h, self.last = h, None
        self.whole = np.arange(self.n, dtype=np.int32)
        self.low: np.ndarray | None = None  # the least and greatest whole values seen
        self.high: np.ndarray | None = None

    def feasible(self) -> bool:
        """Do the relations hold together (as a linear programme: a whole-number check would
        cost an integer programme per component, and an LP that fails is enough to tell)?"""
        import highspy

        if self.n == 0:
            return True
        if self.last is not None:
            self.h.changeColCost(self.last, 0.0)
            self.last = None
        self.h.run()
        ok = self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        self._witness(ok)
        return ok

    def _witness(self, ok: bool) -> None:
        """Keep the solution just found where it is whole: a point every relation allows,
        so each variable's range spans at least from its least to its greatest such value
        (``spans``), and a question whose answer cannot matter need not be asked."""
        if not ok or self.n == 0:
            return
        x = np.asarray(self.h.getSolution().col_value)
        if np.abs(x - np.round(x)).max(initial=0) > 1e-7:
            return
        x = np.round(x)
        if self.low is None:
            self.low, self.high = x.copy(), x.copy()
        else:
            np.minimum(self.low, x, out=self.low)
            np.maximum(self.high, x, out=self.high)

    def spans(self, j: int) -> float:
        """How many whole values variable ``j`` is known to take (0 before any whole point)."""
        return 0.0 if self.low is None else self.high[j] - self.low[j] + 1

    def extreme(self, j: int, maximise: bool) -> float | None:
        """The greatest (or least) whole value of variable ``j``; None if there is none."""
        import highspy

        _Solver.asked += 1
        if self.last is not None:
            self.h.changeColCost(self.last, 0.0)
        self.h.changeColCost(j, -1.0 if maximise else 1.0)
        self.last = j
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        x = np.asarray(self.h.getSolution().col_value)
        if np.abs(x - np.round(x)).max(initial=0) > 1e-7:  # a fractional optimum: branch
            kinds = [highspy.HighsVarType.kInteger] * self.n
            self.h.changeColsIntegrality(self.n, self.whole, kinds)
            self.h.run()
            ok = self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal
            value = self.h.getInfo().objective_function_value
            self._witness(ok)
            kinds = [highspy.HighsVarType.kContinuous] * self.n
            self.h.changeColsIntegrality(self.n, self.whole, kinds)
            if not ok:
                return None
        else:
            value = self.h.getInfo().objective_function_value
            self._witness(True)
        return -value if maximise else value


#: windows that are detail: a quarter is hidden before a year or all time
DETAIL_WINDOWS = frozenset({"Quarter", "This quarter", "Last quarter", "Same quarter last year"})


def headline_rank(tables: Sequence[SummaryTable]) -> dict[Ref, int]:
    """How much a reader would miss each count cell if it were hidden: 0 for detail (a
    quarter's row, or a part of a total), 1 for a total of a quarter or a part over a longer
    window, 2 for a total over a year or to date. Secondary suppression hides the detail
    before the headline, and gives back the headline first when it can."""
    rank: dict[Ref, int] = {}
    for t in tables:
        frame = t.data.reset_index(drop=True)
        if "Window" in frame:
            long = ~frame["Window"].isin(DETAIL_WINDOWS).to_numpy()
        else:  # a trend by quarter is detail; a table of its own is a headline
            long = np.full(len(frame), "Quarter" not in frame)
        totals = {total for _, total in total_groups(t)}
        for col in t.counts:
            whole = col in t.sums or not any(col in parts for parts in t.sums.values())
            for r in range(len(frame)):
                ref = (t.name, r, col)
                rank[ref] = int(long[r]) + int(whole and (ref in totals or not totals))
    return rank


def _partner(
    leak: Leak,
    by_term: dict[object, list[Relation]],
    cells: Cells,
    threshold: int,
    public: set[Ref],
    mends: Callable[[Ref], bool],
    rank: dict[Ref, int] | None = None,
    known: Container[object] = (),
) -> Ref | None:
    """The shown cell of this return to hide next to protect ``leak``.

    Candidates are the cells of the relations the leaking cell is in, and of those reached
    through other unknowns (unseen quantities, hidden cells, earlier returns' cells: a closure
    count is tied to the caseload through the unseen split of closures). In order of
    preference (never a zero when anything else will do; the smallest count above the
    threshold first, then the larger, then the small ones from the largest), the first that
    ``mends`` the leak on its own is taken; if none does, the first in that order, and the
    next round goes on from there. Detail goes before headline (``rank``: see
    :func:`headline_rank`).
    """
    rank = rank or {}

    def preferred(found: set[Ref]) -> list[Ref]:
        if any(cells.value[t] > 0 for t in found):
            found = {t for t in found if cells.value[t] > 0}
        return sorted(
            found,
            key=lambda t: (
                cells.value[t] <= threshold,
                rank.get(t, 2),
                (1 if cells.value[t] > threshold else -1) * cells.value[t],
                repr(t),
            ),
        )

    candidates: set[Ref] = set()
    reach: set[object] = {leak.cell}
    first: Ref | None = None
    tried: set[Ref] = set()
    # the cells within three steps first; where none of them mends the leak (the chain runs
    # through cells an earlier return showed, which stay shown), further out, step by step
    for depth in range(MAX_DEPTH):
        size = len(reach)
        touching = {id(rel): rel for t in list(reach) for rel in by_term.get(t, ())}
        for rel in touching.values():
            for t, _ in rel.terms:
                if t in known:
                    continue  # a constant to the reader: nothing beyond it moves the leak
                if isinstance(t, str) or t[0].startswith("@") or t in cells.hidden:
                    reach.add(t)  # unknowns: the leak runs on through them
                elif t in cells.value and t not in cells.hidden and t not in public:
                    candidates.add(t)
        if depth < 2 and len(reach) > size:
            continue
        order = [t for t in preferred(candidates) if t not in tried]
        # a favoured cell (``protect``'s ``favour``) is hidden only where no other cell,
        # however far, can be: the search walks on through it (as if hidden) to the cells
        # beyond, and the others go first, over as many rounds as it takes
        plain = [t for t in order if rank.get(t, 2) <= 2]
        favoured = {t for t in candidates if rank.get(t, 2) > 2} - reach
        if not plain and (favoured or len(reach) > size) and depth < MAX_DEPTH - 1:
            reach |= favoured
            continue
        if not plain and first is not None:  # a cell not favoured is there to hide first
            order = []
        first = first or ((plain or order)[0] if order else None)
        for t in (plain or order)[:MAX_TRIES]:
            tried.add(t)
            if mends(t):
                return t
        if len(reach) == size:
            break
    return first


def _zeros_matter(tables: Sequence[SummaryTable], earlier: Iterable) -> set:
    """The cells whose being worked out as exactly 0 is a leak: the parts of a table's
    groups (the rest of the group could then read as all in one category) and every earlier
    return's cell. Elsewhere a hidden 0 worked out says only that nobody is there."""
    out = set(earlier)
    for t in tables:
        for parts, _ in total_groups(t) + sum_groups(t):
            out.update(parts)
    return out


def _lone_categories(tables: Sequence[SummaryTable], cells: Cells, public: set[Ref]) -> list[Ref]:
    """A zero part to hide in each group that shows one part as ``c`` or above 0 and every
    other part as 0, with a total that is not 0: it would read as "all of them are in this
    category" (whether or not the total is hidden)."""
    out = []
    for t in tables:
        for parts, total in total_groups(t):
            live = [p for p in parts if p in cells.hidden or cells.value.get(p, 0) > 0]
            if len(live) != 1 or len(parts) < 2:
                continue
            if total not in cells.hidden and cells.value.get(total, 0) == 0:
                continue
            zero = [p for p in parts if p not in live and p not in public and p in cells.value]
            if zero:
                out.append(zero[0])
    return out


def _reachable(start: object, by_term: dict, unknown: Callable[[object], bool]) -> list:
    """The relations joined to ``start`` through unknowns: all that can bear on its range."""
    seen, todo, out = {start}, [start], {}
    while todo:
        for rel in by_term.get(todo.pop(), ()):
            if id(rel) in out:
                continue
            out[id(rel)] = rel
            for t, _ in rel.terms:
                if t not in seen and unknown(t):
                    seen.add(t)
                    todo.append(t)
    return list(out.values())


#: candidates tried one by one for each leak (at each distance) before settling for the first
MAX_TRIES = 12
#: how many steps from a leak, through unknowns, candidates to hide are looked for
MAX_DEPTH = 12


def protect(
    tables: Sequence[SummaryTable],
    threshold: int,
    relations: Sequence[Relation] = (),
    earlier: dict[Ref, tuple[float, bool]] | None = None,
    leaks_left: list[Leak] | None = None,
    public: set[Ref] = frozenset(),  # type: ignore[assignment]
    hidden: set[Ref] = frozenset(),  # type: ignore[assignment]
    bands_out: list[Relation] | None = None,
    keep: int | None = None,
    favour: Iterable[Ref] = (),
    ranged: Iterable[Ref] = (),
) -> dict[str, Suppressed]:
    """Suppress the tables as one problem: primary, then secondary until :func:`audit` finds
    nothing. ``relations`` link cells across tables (and to earlier returns); ``earlier`` holds
    the cells of earlier returns, (value, hidden): a shown one is known to the reader, a
    hidden one is protected like this return's own, by hiding cells of this return only.
    Leaks this return could not mend are appended to ``leaks_left``. ``public`` cells were
    shown, with the same value, in an earlier return: they are shown again (hiding them would
    protect nothing) and never hidden to protect another cell. ``hidden`` cells are hidden
    from the start, whatever their value (an earlier output of the same period hid them).
    A hidden share may be printed as a bound (``_bands``); the bounds' relations are appended
    to ``bands_out``, for the record. ``keep``: the fewest values a reader may narrow a hidden
    count to (``threshold`` + 1 unless set). ``favour``: cells a reader needs above the other
    headlines (the outcome the service exists for), hidden last and given back first.
    ``ranged``: counts that may be printed as a range of tens where hidden (``_bands``),
    tried in this order; which of them are candidates must not depend on their values."""
    keep = values_kept(threshold, keep)
    earlier = earlier or {}
    known = {ref: v for ref, (v, h) in earlier.items() if not h}
    before = {ref for ref, (_, h) in earlier.items() if h}
    cells = Cells(tables)
    for ref, x in cells.value.items():
        if 1 <= x <= threshold and ref not in public:
            cells.hidden.add(ref)
    primary = set(cells.hidden)
    cells.hidden.update(ref for ref in hidden if ref in cells.value)
    for t in tables:  # everyone in one category: hide the group's parts, zeros too
        for parts, total in total_groups(t):
            values = [cells.value.get(p, 0.0) for p in parts]
            if cells.value.get(total, 0.0) > 0 and sum(v > 0 for v in values) == 1:
                cells.hidden.update(p for p in parts if p not in public)
    every = [rel for t in tables for rel in table_relations(t)] + list(relations)
    watch: set[str] = set()
    every_value = {**{ref: v for ref, (v, _) in earlier.items()}, **cells.value}
    for t in tables:
        for implied in (r for r in t.relations if isinstance(r, Implied)):
            if not all(ref in every_value for ref, _ in implied.terms):
                continue
            x = sum(every_value[ref] * c for ref, c in implied.terms)
            every.append(implied.relation())
            if 1 <= x <= threshold:
                watch.add(implied.name)
    for t in tables:  # a quarter's people in a group, seen only as part of a sum
        watch.update(name for name, x in t.unseen.items() if 1 <= x <= threshold)
    every = [
        rel
        for rel in every
        if all(isinstance(t, str) or t in cells.value or t in earlier for t, _ in rel.terms)
    ]
    shown = dict(known)
    # earlier cells not linked to this return by any chain of relations cannot have changed
    find = _Components()
    for rel in every:
        find.join([t for t, _ in rel.terms])
    mine = {find(ref) for ref in cells.value}
    by_term: dict[object, list[Relation]] = defaultdict(list)
    for rel in every:
        for t, _ in rel.terms:
            by_term[t].append(rel)
    pending: set | None = cells.hidden | watch | {t for t in before if find(t) in mine}
    rank = headline_rank(tables)
    for ref in favour:
        if ref in rank:
            rank[ref] += 1
    matter = _zeros_matter(tables, earlier)
    picked: set[Ref] = set()  # hidden to protect another cell (secondary)
    clean = False
    for _ in range(10_000):
        values = {**shown, **{k: v for k, v in cells.value.items() if k not in cells.hidden}}
        leaks = audit(values, cells.hidden | before, every, threshold, watch, pending, keep, matter)
        if not leaks:
            lone = _lone_categories(tables, cells, public)
            if not lone:
                clean = True
                break
            cells.hidden.update(lone)  # then audit again: those cells are c's to protect too
            pending = set(lone)
            continue
        changed = False
        fresh: set[Ref] = set()  # hidden this round: a leak next to one may be mended already
        for leak in leaks:
            near = {t for rel in by_term.get(leak.cell, ()) for t, _ in rel.terms}
            if near & fresh:
                continue

            def mends(t: Ref, leak: Leak = leak, values: dict = values) -> bool:
                hidden = cells.hidden | before | {t}
                near = _reachable(leak.cell, by_term, lambda u: u in hidden or isinstance(u, str))
                trial = {k: v for k, v in values.items() if k != t}
                return not audit(trial, hidden, near, threshold, watch, {leak.cell}, keep, matter)

            pick = _partner(leak, by_term, cells, threshold, public, mends, rank, known)
            if pick is not None and pick not in cells.hidden:
                cells.hidden.add(pick)
                fresh.add(pick)
                picked.add(pick)
                changed = True
        if not changed:
            if leaks_left is not None:
                leaks_left.extend(leaks)
            break
        pending = {leak.cell for leak in leaks} | fresh
    bands: dict[Ref, str] = {}
    if clean:
        _give_back(
            picked,
            cells,
            shown,
            before,
            by_term,
            threshold,
            watch,
            rank,
            tables,
            public,
            keep,
            matter,
        )
        bands, learnt = _bands(
            tables, cells, shown, before, by_term, threshold, watch, keep, matter, ranged
        )
        # each bound and range was checked where it could matter; the whole return is
        # checked once more with all of them, and printed without them should that find
        # anything (it found a leak on 2026-12-07: a relation the reader did not have)
        values = {**shown, **{k: v for k, v in cells.value.items() if k not in cells.hidden}}
        if learnt and audit(
            values, cells.hidden | before, [*every, *learnt], threshold, watch, None, keep, matter
        ):
            bands, learnt = {}, []
        if bands_out is not None:
            bands_out.extend(learnt)
    out = {}
    for t in tables:
        out[t.name] = _render(t, cells, primary, threshold, bands)
    return out


#: the steps of a share printed as a bound: twentieths (5%, 10%, ... 95%)
BAND_STEPS = 20


def band_text(kind: str, k: int) -> str:
    """A share printed as a bound, as every output prints it ("at most 20%")."""
    return f"{kind} {100 * k // BAND_STEPS}%"


#: a share printed as a bound, as a reader reads it back (``band_text``)
BAND = re.compile(r"^at (most|least) (\d+(?:\.\d+)?)%$")


def _bands(
    tables: Sequence[SummaryTable],
    cells: Cells,
    shown: dict,
    before: set,
    by_term: dict[object, list[Relation]],
    threshold: int,
    watch: set[str],
    keep: int,
    matter: set,
    ranged: Iterable[Ref] = (),
) -> tuple[dict[Ref, str], list[Relation]]:
    """A bound in place of each hidden share that can take one (``SummaryTable.ratios``),
    and what the reader learns from every such share, bound or ``c``, as relations.

    The bound is worked out from what the reader sees alone, never from the hidden count (a
    bound chosen as the tightest step above the share would say the share is above the step
    below; one chosen by a hidden denominator would say what the denominator is): from the
    shown denominator d, or, where it is hidden, from the least the reader can give it
    (``_outcomes_of_hidden``; none where that is 0): "at most k1/20", k1 the least whole k
    that leaves the count 0 .. floor(k d / 20) threshold + 1 values (k1 <= 10); "at least
    k2/20", k2 the greatest that leaves d less the count as many (k2 >= 11: never both 50%,
    which would overlap at half, so that "at least 50%" of 10 meant 6 to 10, not the 5 to 10
    it was audited as). The share is then one of three things, each a statement about the
    count: at most k1/20 (printed), at least k2/20 (printed), or between them (printed
    ``c``, which the reader reads as that). Only where
    the audit, with everything the reader has (the shares before included, in table order),
    finds that none of the three would narrow a hidden count is the true one printed;
    otherwise the share is ``c`` and says nothing. The relations of what each share says are
    returned for the record."""
    unknown = cells.hidden | before
    values = {**shown, **{u: v for u, v in cells.value.items() if u not in unknown}}
    # a bound's steps leave threshold + 1 values even where ``keep`` is fewer: tighter steps
    # say more and pass the audit less often (at 2 values, 60 clients lost their bound on
    # recurrence)
    wide = max(threshold + 1, keep)

    def free(u: object) -> bool:
        return u in unknown or isinstance(u, str)

    def link(rels: list[Relation], add: bool = True) -> None:  # what the reader has
        for rel in rels:
            for u, _ in rel.terms:
                if add:
                    by_term[u].append(rel)
                else:
                    by_term[u].remove(rel)

    def safe(start: Ref, rels: list[Relation]) -> bool:  # the audit, with these added
        link(rels)
        near = _reachable(start, by_term, free)
        check = {
            u
            for rel in near
            for u, _ in rel.terms
            if u in unknown or (isinstance(u, str) and u in watch)
        }
        found = audit(values, unknown, near, threshold, watch, check, keep, matter)
        link(rels, add=False)
        return not found

    def span(cell: Ref) -> tuple[float, float]:
        # what the reader has: not a relation known only while a hidden cell is shown
        # (``Relation.given``), as the audit reads them; with one, a range found to say
        # nothing new said something (a feedback mean's parts, 60 clients, 2025-Q1)
        near = [rel for rel in _reachable(cell, by_term, free) if rel.known(unknown)]
        names = sorted({u for rel in near for u, _ in rel.terms if free(u)}, key=repr)
        if cell not in names:
            return 0.0, CEILING
        solver, index = _programme(near, names, free, values)
        if not solver.feasible():
            return 0.0, CEILING
        low = solver.extreme(index[cell], maximise=False)
        high = solver.extreme(index[cell], maximise=True)
        return (low if low is not None else 0.0), (high if high is not None else CEILING)

    # a shown cell, to carry the constant of "between" for a hidden denominator (public)
    carrier = next(
        (
            (u, v)
            for u, v in sorted(cells.value.items(), key=lambda kv: repr(kv[0]))
            if u not in unknown and v >= 1
        ),
        None,
    )
    bands: dict[Ref, str] = {}
    learnt: list[Relation] = []
    for t in tables:
        for share, (num, den) in t.ratios.items():
            for r in range(len(t.data)):
                top, bottom = (t.name, r, num), (t.name, r, den)
                n, d = cells.value.get(top), cells.value.get(bottom)
                if top not in cells.hidden or n is None or d is None:
                    continue
                # the tightest steps first, then looser ones: a step is taken only where
                # every outcome it could print is safe, which the reader can check too, so
                # the step printed says which step passed, nothing of the count (the
                # tightest "between" of a year of returns narrowed a group; "at most 50%" or
                # c did not: the all-time outcome of 60 clients, 2025-Q4)
                found = None
                if bottom in unknown:  # from the least the reader can give it (public)
                    least = span(bottom)[0]
                    if carrier is None or least < 1:
                        continue
                    for step in range(BAND_STEPS // 2):
                        outcomes = _outcomes_of_hidden(top, bottom, least, carrier, wide, step)
                        if not outcomes:
                            break
                        if all(safe(top, rels) for _, _, rels in outcomes):
                            found = next((x, rels) for x, holds, rels in outcomes if holds(n, d))
                            break
                else:
                    lo, hi = span(top)  # what the reader can tell of the count already
                    for step in range(BAND_STEPS // 2):
                        shown_d = _outcomes(top, bottom, d, wide, step)
                        if not shown_d:
                            break
                        # an outcome that cannot be, or says nothing new, needs no audit
                        if all(
                            b < lo or a > hi or (a <= lo and b >= hi) or safe(top, rels)
                            for _, a, b, rels in shown_d
                        ):
                            found = next((x, rels) for x, a, b, rels in shown_d if a <= n <= b)
                            break
                if found is None:
                    continue
                text, rels = found
                if text:
                    bands[(t.name, r, share)] = text
                learnt += rels
                link(rels)
    # a hidden count (``ranged``: every count, the Summary's first) as a range of whole tens,
    # where every range the reader's own bounds on it allow would leave every hidden count
    # protected: which one is printed says what range the count is in, nothing more
    for cell in ranged:
        if cell not in cells.hidden or cell not in cells.value or carrier is None:
            continue
        lo, hi = span(cell)
        if hi >= CEILING - 0.5 or hi - lo >= COUNT_RANGE * MAX_RANGES:
            continue
        first = int(lo) // COUNT_RANGE * COUNT_RANGE
        options = [
            (a, a + COUNT_RANGE - 1, _range(cell, a, a + COUNT_RANGE - 1, carrier))
            for a in range(first, int(round(hi)) + 1, COUNT_RANGE)
        ]
        # the range that overlaps the reader's span least narrows most: tried first
        tries = sorted(options, key=lambda o: min(o[1], hi) - max(o[0], lo))
        if not all((a <= lo and b >= hi) or safe(cell, rels) for a, b, rels in tries):
            continue
        x = cells.value[cell]
        true = [o for o in options if o[0] <= x <= o[1]]
        if not true:  # outside what the earlier returns allow (data revised since): c
            continue
        a, b, rels = true[0]
        bands[cell] = range_text(a, b)
        learnt += rels
        link(rels)
    return bands, learnt


#: a hidden count printed as a range: whole tens ("20 to 29")
COUNT_RANGE = 10
#: the most ranges a count is tried with (each one audited)
MAX_RANGES = 8
#: a count printed as a range, as a reader reads it back (``range_text``)
RANGE = re.compile(r"^(\d+) to (\d+)$")


def range_text(a: int, b: int) -> str:
    """A hidden count printed as the range it is in, as every output prints it."""
    return f"{a} to {b}"


def _range(cell: Ref, a: int, b: int, carrier: tuple[Ref, float]) -> list[Relation]:
    """``a <= cell <= b``, the constants carried by a shown cell (``carrier``: its value)."""
    c, v = carrier
    return [
        Relation(((c, a / v), (cell, -1.0)), "<="),
        Relation(((cell, 1.0), (c, -b / v)), "<="),
    ]


def _steps(d: float, keep: int) -> tuple[list[int], list[int]]:
    """The steps k (of 20) a share of ``d`` may be bounded at: "at most k/20" leaving the
    count 0..floor(k d/20) at least ``keep`` values (k <= 10, tightest first), and "at least
    k/20" leaving d less the count as many (k >= 11, tightest first)."""
    steps = BAND_STEPS
    low = [k for k in range(1, steps // 2 + 1) if math.floor(k * d / steps) >= keep - 1]
    high = [k for k in range(steps - 1, steps // 2, -1) if d - math.ceil(k * d / steps) >= keep - 1]
    return low, high


def _outcomes(
    top: Ref, bottom: Ref, d: float, keep: int, step: int = 0
) -> list[tuple[str, float, float, list[Relation]]]:
    """What a share of a shown denominator ``d`` may print, from ``d`` alone: (text, the
    least and greatest count it allows, what it tells as relations on the count ``top``);
    text "" for ``c`` between the bounds. None where no bound leaves enough values.
    ``step``: 0 for the tightest bounds, each one more a step of 5% looser on each side (a
    side whose steps are used up has no bound)."""
    steps = BAND_STEPS
    low, high = _loosened(*_steps(d, keep), step)
    if not low and not high:
        return []

    def at_most(x: float) -> Relation:  # count <= x, the shown denominator carrying x
        return Relation(((top, 1.0), (bottom, -x / d)), "<=")

    def at_least(x: float) -> Relation:
        return Relation(((bottom, x / d), (top, -1.0)), "<=")

    out: list[tuple[str, float, float, list[Relation]]] = []
    most = least = None
    if low:
        most = math.floor(low[0] * d / steps)  # the count is at most this
        out.append((band_text("at most", low[0]), 0.0, most, [at_most(most)]))
    if high:
        least = math.ceil(high[0] * d / steps)  # ... at least this
        out.append((band_text("at least", high[0]), least, d, [at_least(least)]))
    lo = most + 1 if most is not None else 0
    hi = least - 1 if least is not None else d
    if lo <= hi:  # a count can be between them: c, which the reader reads as that
        between = ([at_least(lo)] if most is not None else []) + (
            [at_most(hi)] if least is not None else []
        )
        out.append(("", lo, hi, between))
    return out


def _loosened(low: list[int], high: list[int], step: int) -> tuple[list[int], list[int]]:
    """The steps from the ``step``-th on (tightest first): none once a side is used up."""
    return low[step:], high[step:]


def _outcomes_of_hidden(
    top: Ref,
    bottom: Ref,
    least: float,
    carrier: tuple[Ref, float],
    keep: int,
    step: int = 0,
) -> list[tuple[str, Callable[[float, float], bool], list[Relation]]]:
    """As ``_outcomes``, for a share of a hidden denominator the reader knows is at least
    ``least`` (a total to date, never below the one sent last quarter): the steps from
    ``least``, the statements on the share itself (``20 x count <= k x denominator``), and
    "between" strictly, a shown cell (``carrier``: its value over itself is 1) carrying the
    constant. Each outcome: (text, whether it holds for a count and denominator, relations)."""
    steps = BAND_STEPS
    low, high = _loosened(*_steps(least, keep), step)
    if not low and not high:
        return []
    one, v = carrier
    k1 = low[0] if low else None
    k2 = high[0] if high else None
    out: list[tuple[str, Callable[[float, float], bool], list[Relation]]] = []
    between = []
    if k1 is not None:
        most = Relation(((top, float(steps)), (bottom, -float(k1))), "<=")
        out.append((band_text("at most", k1), lambda n, d: steps * n <= k1 * d, [most]))
        # steps x count >= k1 x denominator + 1
        between.append(Relation(((bottom, float(k1)), (one, 1 / v), (top, -float(steps))), "<="))
    if k2 is not None:
        least_ = Relation(((bottom, float(k2)), (top, -float(steps))), "<=")
        out.append((band_text("at least", k2), lambda n, d: steps * n >= k2 * d, [least_]))
        between.append(Relation(((top, float(steps)), (bottom, -float(k2)), (one, 1 / v)), "<="))
    out.append(("", lambda n, d: True, between))  # the first that holds is printed
    return out


#: the solver questions ``_give_back`` may ask, headlines and larger first: each trial audits
#: everything the cell is tied to, and across a long series of returns that is most of the
#: record, so the effort is bounded (counted, so the same on every machine; a cell not tried
#: stays hidden, which is safe). 6000 left the example's 2025-Q4 return of a payment-by-results
#: series with 403 cells hidden; 30000 (about 27,500 asked there, 7 s more) gives 322
GIVE_BACK_SOLVES = 30000


def _give_back(
    picked: set[Ref],
    cells: Cells,
    shown: dict,
    before: set,
    by_term: dict[object, list[Relation]],
    threshold: int,
    watch: set[str],
    rank: dict[Ref, int],
    tables: Sequence[SummaryTable],
    public: set[Ref],
    keep: int,
    matter: set,
) -> None:
    """Show again each cell hidden to protect another that no longer needs it: greedy
    suppression hides more than it must (a partner picked early may be made needless by a
    later one). Headlines first, larger first; a cell is shown again only if the audit of
    everything it is tied to stays clean, so the result is as safe as before. A hidden cell
    the reader can work out exactly is always shown: hiding it protects nothing, and showing
    it in one place while hiding it in another only confuses. Nor is a cell shown again
    where it would leave a group reading as all in one category (see ``_lone_categories``).
    ``matter``: the cells whose exact 0 is a leak (``_zeros_matter``, worked out once)."""
    order = sorted(picked, key=lambda t: (-rank.get(t, 2), -cells.value[t], repr(t)))
    start = _Solver.asked
    for t in order:
        if _Solver.asked - start > GIVE_BACK_SOLVES:
            break
        hidden = cells.hidden - {t}
        unknown = hidden | before
        near = _reachable(t, by_term, lambda u, unknown=unknown: u in unknown or isinstance(u, str))
        check = {
            u
            for rel in near
            for u, _ in rel.terms
            if u in hidden or u in before or (isinstance(u, str) and u in watch)
        }
        values = {**shown, **{k: v for k, v in cells.value.items() if k not in hidden}}
        if audit(values, hidden | before, near, threshold, watch, check, keep, matter):
            continue
        cells.hidden = hidden
        if _lone_categories(tables, cells, public):  # it would read as one category
            cells.hidden = hidden | {t}


def _render(
    table: SummaryTable,
    cells: Cells,
    primary: set[Ref],
    threshold: int,
    bands: dict[Ref, str] | None = None,
) -> Suppressed:
    frame = table.data.reset_index(drop=True)
    sup = {col: np.zeros(len(frame), dtype=bool) for col in frame.columns}
    n_primary = n_secondary = 0
    for name, r, col in cells.hidden:
        if name == table.name and col in sup:
            sup[col][r] = True
            if (name, r, col) in primary:
                n_primary += 1
            else:
                n_secondary += 1
    for col, bases in table.derived.items():
        for base in (bases,) if isinstance(bases, str) else bases:
            if col in sup and base in sup:
                sup[col] = sup[col] | sup[base]
    for col, others in table.hidden_with.items():
        if col in sup:
            for r in range(len(frame)):
                sup[col][r] |= any(
                    ((o[0], r, o[1]) if len(o) == 2 else o) in cells.hidden for o in others
                )
    for col in table.hidden_whole:
        if col in sup and sup[col].any():
            sup[col][:] = True
    shown = {}
    for col in frame.columns:
        values = frame[col].astype(object).to_numpy(copy=True)
        if pd.api.types.is_numeric_dtype(frame[col]) or col in table.counts:
            bases = table.derived.get(col)
            bases = (bases,) if isinstance(bases, str) else tuple(bases or ())
            # not applicable where what it is "of" is zero (the last base: the denominator,
            # or the number of people a mean is of); otherwise a blank is "no data"
            zero_base = np.zeros(len(frame), dtype=bool)
            if bases and bases[-1] in frame:
                zero_base = (pd.to_numeric(frame[bases[-1]], errors="coerce") == 0).to_numpy(
                    dtype=bool
                )
            missing = frame[col].isna().to_numpy(dtype=bool)
            values[missing & zero_base] = NOT_APPLICABLE
            values[missing & ~zero_base] = NOT_AVAILABLE
        values[sup[col]] = SUPPRESSED
        for r in range(len(frame)):
            if bands and (table.name, r, col) in bands and sup[col][r]:
                values[r] = bands[(table.name, r, col)]  # a bound, shown in its place
                if col not in table.counts:  # a count in a range stays a hidden count
                    sup[col][r] = False
        shown[col] = values
    return Suppressed(
        pd.DataFrame(shown, index=frame.index, columns=frame.columns),
        pd.DataFrame(sup, index=frame.index, columns=frame.columns),
        n_primary,
        n_secondary,
    )


def hidden_refs(shown: dict[str, Suppressed]) -> set[Ref]:
    """Every cell a protection hid, as (table, row, column)."""
    return {
        (name, r, col)
        for name, s in shown.items()
        for col in s.suppressed.columns
        for r in range(len(s.suppressed))
        if s.suppressed.at[r, col]
    }


def suppress(table: SummaryTable, threshold: int) -> Suppressed:
    """Protect one table on its own (its declared relations only)."""
    return protect([table], threshold)[table.name]

"""Means over groups a few people apart: the magnitude rule.

A mean is a sum in disguise: mean x count. Two means of one measure over groups that differ
by 1 to threshold people give those people's total (a quarter with one feedback response
gives that person's answers), whether the two are in one return (a quarter inside "to date")
or in two (last quarter's "to date" and this one's). Counts cannot show it: every count may
be large while the difference is one person.

The rule: the means of a group (every mean, change, confidence limit and test statistic
worked out over the same people: they give each other back) are shown only where the group
differs by 0 or by more than the threshold from every group of the same measure already
shown, in this return or in any recorded one. Within a return the widest group is decided
first (the headline before the detail); across returns, what was sent stands and this
return's mean waits until its group has grown by more than the threshold. Medians and
quartiles are order statistics, not sums, and shares are counts: neither is held here.

A group of the same size as one shown before is the same people, but a value that moves for
them (a latest reading, a change) moves its mean: the difference gives the total change of
whoever was read again (6 parents' latest mean 5.67, then 6.50: +5 for the 3 read again, an
adversary found). So a mean that differs, as printed, from the one sent for a group of that
size is held as well.

Each population a return prints a mean over is recorded as ``μ|period|table|row|count``:
its size and whether its means were shown; and each mean it showed, as printed (two
decimals), as ``μv|period|table|row|count|column``: what was sent, nothing more.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from evaltool.instruments.results import SummaryTable
from evaltool.report.disclosure import SUPPRESSED, Suppressed

#: the record's keys of mean populations start with this
PREFIX = "μ|"
#: ... and of the means shown over them, as printed
VALUES = "μv|"
_ORDER_STATISTIC = re.compile(r"median|quartile", re.IGNORECASE)
_REVISION = re.compile(r"#\d+$")

NOTE = (
    "[c] beside a mean: its group differs by 1 to {threshold} people from a group whose mean "
    "is shown here or in an earlier return, so the two would give those few people's total "
    "(or it is the same group, with a mean that moved since it was sent: the difference "
    "would give the change of whoever was read again); it is shown again once the group has "
    "grown by more."
)


def mean_columns(table: SummaryTable) -> dict[str, list[str]]:
    """Count column -> the columns worked out over its people (means, changes, limits, test
    statistics), as the table's ``derived`` says; shares and order statistics left out."""
    out: dict[str, list[str]] = defaultdict(list)
    for col, base in table.derived.items():
        mean = isinstance(base, str) and col not in table.percent
        if mean and not _ORDER_STATISTIC.search(col) and {col, base} <= set(table.data.columns):
            out[base].append(col)
    return dict(out)


@dataclass
class _Group:
    table: SummaryTable
    row: int
    base: str
    columns: list[str]
    n: float
    key: str  # the same population in every return: table, row labels, count column
    across: bool  # a window that only grows from one return to the next


def earlier_sizes(cells: dict[str, tuple[float, bool]]) -> dict[str, list[float]]:
    """The recorded sizes of groups whose means were shown, by population key."""
    out: dict[str, list[float]] = defaultdict(list)
    for key, (n, hidden) in cells.items():
        if key.startswith(PREFIX) and not hidden:
            out[_split(key)[1]].append(n)
    return out


def _split(key: str) -> tuple[str, str]:
    """(period, the rest) of a recorded key (``μ|period|...`` or ``μv|period|...``), a
    revision's mark dropped: its figures are compared as any other."""
    _, period, rest = _REVISION.sub("", key).split("|", 2)
    return period, rest


def earlier_means(cells: dict[str, tuple[float, bool]]) -> dict[str, list[tuple[float, dict]]]:
    """Population key -> [(its size, {column: mean as printed})] for each earlier return
    that showed its means."""
    sizes: dict[tuple[str, str], float] = {}
    values: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for key, (x, hidden) in cells.items():
        if key.startswith(PREFIX) and not hidden:
            sizes[_split(key)] = x
        elif key.startswith(VALUES):
            period, rest = _split(key)
            population, column = rest.rsplit("|", 1)
            values[(period, population)][column] = x
    out: dict[str, list[tuple[float, dict]]] = defaultdict(list)
    for (period, population), n in sizes.items():
        out[population].append((n, values.get((period, population), {})))
    return out


def is_mean_key(key: str) -> bool:
    return key.startswith(PREFIX) or key.startswith(VALUES)


def hold_means(
    tables: Sequence[SummaryTable],
    shown: dict[str, Suppressed],
    labels,
    period_code: str,
    earlier: dict[str, tuple[float, bool]],
    threshold: int,
) -> tuple[dict[str, tuple[float, bool]], set[str]]:
    """Hide, in ``shown``, the means the rule holds back. Returns the populations to record
    (key -> (size, hidden)) and the names of the tables where a mean was held."""
    before = earlier_sizes(earlier)
    sent = earlier_means(earlier)
    groups: dict[tuple, list[_Group]] = defaultdict(list)
    group_of: dict[tuple[str, int, str], _Group] = {}
    for t in tables:
        bases = mean_columns(t)
        if not bases or t.name not in shown:
            continue
        frame = t.data.reset_index(drop=True)
        for r in range(len(frame)):
            row = labels(t, frame, r)
            window = frame.at[r, "Window"] if "Window" in frame else None
            plain = ",".join(p for p in row.split(",") if not p.startswith("Window="))
            for base, columns in bases.items():
                n = pd.to_numeric(pd.Series([frame.at[r, base]]), errors="coerce").iloc[0]
                if pd.isna(n) or n <= 0:
                    continue
                across = window != "Quarter" and not t.name.endswith("quarter")
                g = _Group(t, r, base, columns, float(n), f"{t.name}|{row}|{base}", across)
                groups[(plain, base, tuple(sorted(columns)))].append(g)
                group_of.update({(t.name, r, c): g for c in columns})
    record: dict[str, tuple[float, bool]] = {}
    held: set[str] = set()
    for members in groups.values():
        kept: list[float] = []
        for g in sorted(members, key=lambda g: -g.n):
            s = shown[g.table.name]
            visible = any(_number(s.values.at[g.row, c]) for c in g.columns)
            if visible:
                near = [*kept, *(before.get(g.key, []) if g.across else [])]
                moved = g.across and any(
                    n == g.n and _moved(s, g, means) for n, means in sent.get(g.key, [])
                )
                if moved or any(1 <= abs(g.n - m) <= threshold for m in near):
                    for c in g.columns:
                        if _number(s.values.at[g.row, c]):
                            s.values.at[g.row, c] = SUPPRESSED
                            s.suppressed.at[g.row, c] = True
                    held.add(g.table.name)
                    visible = False
                else:
                    kept.append(g.n)
            record[f"{PREFIX}{period_code}|{g.key}"] = (g.n, not visible)
            for c in g.columns if visible else ():
                if (x := _printed(s, g, c)) is not None:
                    record[f"{VALUES}{period_code}|{g.key}|{c}"] = (x, False)
    # a mean hidden wherever others are (``SummaryTable.hidden_with_cells``), whatever hid
    # them: the count they are of, or the rule above
    for t in tables:
        s = shown.get(t.name)
        for (r, c), others in t.hidden_with_cells.items() if s is not None else ():
            if not _number(s.values.at[r, c]) or not any(s.suppressed.at[o, x] for o, x in others):
                continue
            s.values.at[r, c] = SUPPRESSED
            s.suppressed.at[r, c] = True
            if (g := group_of.get((t.name, r, c))) is not None:
                record.pop(f"{VALUES}{period_code}|{g.key}|{c}", None)
                visible = any(_number(s.values.at[r, x]) for x in g.columns)
                record[f"{PREFIX}{period_code}|{g.key}"] = (g.n, not visible)
    return record, held


def _moved(s: Suppressed, g: _Group, means: dict[str, float]) -> bool:
    """Does a mean of this group, as printed, differ from the one sent for a group of its
    size (the same people)?"""
    return any(
        c in means and (x := _printed(s, g, c)) is not None and x != means[c] for c in g.columns
    )


def _printed(s: Suppressed, g: _Group, column: str) -> float | None:
    """A mean of the group as the return prints it (two decimals); None where not shown."""
    value = s.values.at[g.row, column]
    return round(float(value), 2) if _number(value) else None


def _number(value: object) -> bool:
    """A figure the reader sees (not a symbol, not a blank)."""
    return isinstance(value, int | float) and not pd.isna(value)

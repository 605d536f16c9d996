"""``evaltool audit``: the reader's attacks on returns as they were sent, from the files alone.

It reads each workbook as a funder's analyst would (no record, no input data): every table
under its title, every shown number and every ``c``. Then it writes down what such a reader
can: a row labelled "All ..." is the sum of the rows above it in its window (or, where the
note says each client is counted once, at least each of them and at most their sum); the
activity table's flows between quarters; "Quarter" within "To date"; Kaplan-Meier counts that
only rise (events) or fall (at risk) and groups that add up to everyone; a share printed
beside a hidden count with its denominator shown, or a rate beside its client-years; a
quarter's activity row printed again in
another return; "to date" minus last quarter's "to date". It solves them with the same
integer programmes as ``protect`` and lists every ``c`` it can narrow to fewer than
threshold + 1 values, with the cells used. It also lists categories that appear in one return
and not in another, and groups where everyone is in one category.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evaltool.instruments.results import Implied, Relation
from evaltool.report.disclosure import SUPPRESSED, Leak, audit
from evaltool.report.formats import SYMBOL_PROFILES
from evaltool.report.workbook import HEADER_COLOUR

#: a hidden cell as any profile prints it
HIDDEN = frozenset(p[SUPPRESSED] for p in SYMBOL_PROFILES.values())

NOT_COUNTS = re.compile(  # numbers that are not counts of people or events
    r"mean|median|share|rate|\bci\b|quartile|days|months|client-years|^p\b|^t$|^df$|"
    r"wilcoxon|^dz|^g$|coefficient|hazard|^se$|^v$",
    re.IGNORECASE,
)
#: share columns a reader can invert: share -> (numerator, denominator)
SHARES = {
    "Share accessed": ("Clients accessed", "Clients referred"),
    "Share improved": ("Improved", "Clients with 2+ readings"),
    "Share of goals at or above expected": ("Goals at or above expected", "Goals"),
    "Share positive": ("Positive answers", "Answers"),
    "Share of goals improved": ("Goals improved", "Goals rated twice or more"),
}
RATES = {"Rate per 100 client-years": ("During involvement", "Client-years of involvement")}
SUMS = {  # a column that is the sum of others, as the definitions say
    "Pairs": ("Improved", "Unchanged", "Worse"),
    "Clients with 2+ readings": ("Improved", "Unchanged", "Worse"),
    "Pregnancies known": (
        "Before start",
        "During involvement",
        "After closure",
        "Client never started",
    ),
}
CATEGORIES = ("Closure reason", "Outcome", "Care status", "Reason", "Service type", "Group")
ONE = ("1", 0, "")  # a constant, for bounds written as relations
ACTIVITY = (
    "Referrals",
    "Starts",
    "Closures",
    "Active caseload at quarter end",
    "Waiting at quarter end",
)


@dataclass
class Table:
    """One table as printed: title, column names, rows (values as read)."""

    workbook: str
    sheet: str
    title: str
    columns: list[str]
    rows: list[list[object]]
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.workbook}: {self.sheet}: {self.title}"

    def counts(self) -> list[str]:
        out = []
        for j, col in enumerate(self.columns):
            if NOT_COUNTS.search(col):
                continue
            values = [r[j] for r in self.rows]
            numbers = [v for v in values if isinstance(v, int | float)]
            if (numbers or any(v in HIDDEN for v in values)) and all(
                (isinstance(v, int | float) and float(v).is_integer()) or v in HIDDEN or v is None
                for v in values
            ):
                out.append(col)
        return out


@dataclass
class Return:
    path: Path
    period: str  # as the Cover gives it, e.g. "2025-26 Q4 (financial year): ..."
    tables: list[Table] = field(default_factory=list)


@dataclass
class Finding:
    kind: str
    message: str


def read_return(path: Path) -> Return:
    """Every table of a return, found by its header row (the return's header fill)."""
    import zipfile

    import openpyxl

    from evaltool.errors import EvaltoolError

    try:
        wb = openpyxl.load_workbook(path)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise EvaltoolError(
            f"{path} cannot be read as an Excel workbook ({type(exc).__name__}); name the "
            "returns as sent (.xlsx)"
        ) from None
    period = ""
    if "Cover" in wb.sheetnames:
        for row in wb["Cover"].iter_rows(max_col=2):
            if row[0].value == "Period":
                period = str(row[1].value or "")
    out = Return(Path(path), period)
    for ws in wb.worksheets:
        rows = list(ws.iter_rows())
        for i, row in enumerate(rows):
            first = row[0]
            fill = first.fill.fgColor.rgb if first.fill and first.fill.fgColor else None
            if not (isinstance(fill, str) and fill.endswith(HEADER_COLOUR)) or i == 0:
                continue
            header = []
            for c in row:
                if c.value is None:
                    break
                header.append(str(c.value))
            body: list[list[object]] = []
            note = ""
            for data in rows[i + 1 :]:
                values = [c.value for c in data[: len(header)]]
                filled = [v for v in values if v is not None]
                if len(filled) < 2:
                    note = str(values[0] or "") if values and values[0] else ""
                    break
                body.append(values)
            title = str(rows[i - 1][0].value or "")
            out.tables.append(Table(Path(path).name, ws.title, title, header, body, note))
    if not out.tables:
        raise EvaltoolError(
            f"{path} holds no table of an evaltool return (none of its rows is a table "
            "header); audit the returns evaltool wrote"
        )
    return out


def _quarter_of(period: str) -> tuple[int, int] | None:
    m = re.match(r"(\d{4})(?:-\d{2})? Q(\d)", period)
    return (int(m.group(1)), int(m.group(2))) if m else None


def relations_of(returns: Sequence[Return]) -> tuple[dict, set, list]:
    """What a reader can write down: shown values, hidden cells, relations."""
    value: dict = {ONE: 1.0}
    hidden: set = set()
    rels: list = []

    def ref(t: Table, r: int, col: str):
        return (t.name, r, col)

    activity_rows: dict[tuple[str, str], list] = {}
    closures_by_return: dict[int, Table] = {}
    for k, ret in enumerate(returns):
        for t in ret.tables:
            counts = t.counts()
            for r, row in enumerate(t.rows):
                for j, col in enumerate(t.columns):
                    if col not in counts:
                        continue
                    v = row[j]
                    if v in HIDDEN:
                        hidden.add(ref(t, r, col))
                    elif isinstance(v, int | float):
                        value[ref(t, r, col)] = float(v)
            labels = [j for j, c in enumerate(t.columns) if c not in counts]
            window = t.columns.index("Window") if "Window" in t.columns else None
            # totals
            for r, _label, parts in _total_rows(t, counts):
                once = "once" in t.note
                for col in counts:
                    if once:
                        rels += [
                            Relation(((ref(t, q, col), 1), (ref(t, r, col), -1)), "<=")
                            for q in parts
                        ]
                        rels.append(
                            Relation(
                                ((ref(t, r, col), 1), *((ref(t, q, col), -1) for q in parts)), "<="
                            )
                        )
                    else:
                        rels.append(
                            Relation((*((ref(t, q, col), 1) for q in parts), (ref(t, r, col), -1)))
                        )
            # summed columns
            for total, parts in SUMS.items():
                if total in counts and all(p in counts for p in parts):
                    for r in range(len(t.rows)):
                        rels.append(
                            Relation(((ref(t, r, total), -1), *((ref(t, r, p), 1) for p in parts)))
                        )
            # quarter within to date
            if window is not None:
                for q, row in enumerate(t.rows):
                    if row[window] != "Quarter":
                        continue
                    key = [row[j] for j in labels if j != window]
                    for s, other in enumerate(t.rows):
                        if (
                            other[window] == "To date"
                            and [other[j] for j in labels if j != window] == key
                        ):
                            rels += [
                                Relation(((ref(t, q, c), 1), (ref(t, s, c), -1)), "<=")
                                for c in counts
                            ]
            # activity flows
            if all(c in t.columns for c in ACTIVITY) and "Quarter" in t.columns:
                qcol = t.columns.index("Quarter")
                for q, row in enumerate(t.rows):
                    s_, w_ = f"~{t.name}: started closures {q}", f"~{t.name}: waiting closures {q}"
                    rels.append(Relation(((ref(t, q, "Closures"), 1), (s_, -1), (w_, -1))))
                    case = [(ref(t, q, ACTIVITY[3]), 1), (ref(t, q, "Starts"), -1), (s_, 1)]
                    wait = [
                        (ref(t, q, ACTIVITY[4]), 1),
                        (ref(t, q, "Referrals"), -1),
                        (ref(t, q, "Starts"), 1),
                        (w_, 1),
                    ]
                    if q:
                        case.append((ref(t, q - 1, ACTIVITY[3]), -1))
                        wait.append((ref(t, q - 1, ACTIVITY[4]), -1))
                    rels += [Relation(tuple(case)), Relation(tuple(wait))]
                    for col in ACTIVITY:
                        activity_rows.setdefault((str(row[qcol]), col), []).append(ref(t, q, col))
            # Kaplan-Meier: events rise, at risk falls, groups add up, events between times
            if {"Group", "At risk", "Events so far"} <= set(t.columns):
                g = t.columns.index("Group")
                groups: dict[str, list[int]] = {}
                for r, row in enumerate(t.rows):
                    groups.setdefault(str(row[g]), []).append(r)
                for name, rows in groups.items():
                    for a, b in zip(rows, rows[1:], strict=False):
                        rels.append(
                            Relation(
                                ((ref(t, a, "Events so far"), 1), (ref(t, b, "Events so far"), -1)),
                                "<=",
                            )
                        )
                        if "number at risk can rise" not in t.note:  # delayed entry: it can
                            rels.append(
                                Relation(
                                    ((ref(t, b, "At risk"), 1), (ref(t, a, "At risk"), -1)), "<="
                                )
                            )
                        rels.append(
                            Implied(
                                f"{t.name}: events of {name} between {a} and {b}",
                                ((ref(t, b, "Events so far"), 1), (ref(t, a, "Events so far"), -1)),
                            )
                        )
                parts = [p for p in ("service", "comparison") if p in groups]
                if "all" in groups and len(parts) == 2:
                    for i, r in enumerate(groups["all"]):
                        for col in ("At risk", "Events so far"):
                            rels.append(
                                Relation(
                                    (
                                        (ref(t, r, col), -1),
                                        *((ref(t, groups[p][i], col), 1) for p in parts),
                                    )
                                )
                            )
            # shares printed beside counts
            for share, (num, den) in SHARES.items():
                if share not in t.columns or num not in counts or den not in counts:
                    continue
                j = t.columns.index(share)
                for r, row in enumerate(t.rows):
                    p = row[j]
                    if not isinstance(p, int | float):
                        continue
                    d = t.columns.index(den)
                    if isinstance(row[d], int | float):  # num within p * den, to the rounding
                        lo, hi = (p - 0.0005) * row[d], (p + 0.0005) * row[d]
                        rels += within(ref(t, r, num), lo, hi)
            # a rate per 100 client-years printed beside its client-years: the count is
            # rate x years / 100, to the rounding of both (0.1)
            for rate, (num, years) in RATES.items():
                if rate not in t.columns or years not in t.columns or num not in counts:
                    continue
                jr, jy = t.columns.index(rate), t.columns.index(years)
                for r, row in enumerate(t.rows):
                    x, y = row[jr], row[jy]
                    if isinstance(x, int | float) and isinstance(y, int | float):
                        lo = max(x - 0.05, 0) * max(y - 0.05, 0) / 100
                        hi = (x + 0.05) * (y + 0.05) / 100
                        rels += within(ref(t, r, num), lo, hi)
            if t.title == "Closures by reason":
                closures_by_return[k] = t
    # the same activity cell in several returns: one quantity
    for cells in activity_rows.values():
        for a, b in zip(cells, cells[1:], strict=False):
            rels.append(Relation(((a, 1), (b, -1))))
    # to date = last quarter's to date + this quarter
    periods = {k: _quarter_of(r.period) for k, r in enumerate(returns)}
    for k, t in closures_by_return.items():
        for k0, t0 in closures_by_return.items():
            if None in (periods[k], periods[k0]):
                continue
            y, q = periods[k]
            previous = (y, q - 1) if q > 1 else (y - 1, 4)
            if periods[k0] != previous:
                continue
            w, c = t.columns.index("Window"), t.columns.index("Closure reason")
            for r, row in enumerate(t.rows):
                if row[w] != "To date":
                    continue
                quarter = next(
                    (s for s, o in enumerate(t.rows) if o[w] == "Quarter" and o[c] == row[c]), None
                )
                before = next(
                    (s for s, o in enumerate(t0.rows) if o[w] == "To date" and o[c] == row[c]), None
                )
                if quarter is not None and before is not None:
                    rels.append(
                        Relation(
                            (
                                (ref(t, r, "Closures"), 1),
                                (ref(t, quarter, "Closures"), -1),
                                (ref(t0, before, "Closures"), -1),
                            )
                        )
                    )
    return value, hidden, rels


def within(cell: tuple, lo: float, hi: float) -> list[Relation]:
    """``lo <= cell <= hi``, written as relations on the constant ONE."""
    return [
        Relation(((cell, 1), (ONE, -hi)), "<="),
        Relation(((cell, -1), (ONE, lo)), "<="),
    ]


def attack(paths: Sequence[Path], threshold: int = 5) -> list[Finding]:
    """Every finding of every attack on these returns taken together."""
    returns = [read_return(Path(p)) for p in paths]
    value, hidden, rels = relations_of(returns)
    plain = [r for r in rels if isinstance(r, Relation)]
    watch = []
    for imp in (r for r in rels if isinstance(r, Implied)):
        plain.append(imp.relation())
        if all(t in value for t, _ in imp.terms):  # both shown: its value is known exactly
            x = sum(value[t] * c for t, c in imp.terms)
            if 1 <= x <= threshold:
                watch.append(imp.name)
    leaks: list[Leak] = audit(value, hidden, plain, threshold, watch)
    findings = [Finding("hidden figure worked out", leak.describe()) for leak in leaks]
    shown_events = [w for w in watch if w not in {leak.cell for leak in leaks}]
    findings += [
        Finding(
            "small count by subtraction", f"{w}: two shown counts differ by {threshold} or fewer"
        )
        for w in shown_events
    ]
    findings += _categories(returns) + _one_category(returns)
    return findings


def _categories(returns: Sequence[Return]) -> list[Finding]:
    """A category printed in one return and missing from another."""
    seen: dict[tuple[str, str], dict[str, set]] = {}
    for ret in returns:
        for t in ret.tables:
            counts = t.counts()
            keys = [j for j, c in enumerate(t.columns) if c not in counts and c in CATEGORIES]
            if keys:
                window = [t.columns.index("Window")] if "Window" in t.columns else []
                labels = {" / ".join(str(r[j]) for j in window + keys) for r in t.rows}
                seen.setdefault((t.sheet, t.title), {})[ret.path.name] = labels
    out = []
    year_of = {ret.path.name: _year(ret.period) for ret in returns}
    for (sheet, title), by_file in seen.items():
        every = set().union(*by_file.values())
        for name, labels in by_file.items():
            for missing in sorted(every - labels):
                label = _year(missing.split(" / ")[-1])
                if label is not None and year_of[name] is not None and label > year_of[name]:
                    continue  # a (financial) year that had not begun: the calendar adds it

                out.append(
                    Finding(
                        "category comes and goes",
                        f"{name}: {sheet}: {title}: no row for '{missing}'",
                    )
                )
    return out


def _year(text: str) -> int | None:
    """The year a label such as '2024-25' (or a period '2024-25 Q3 ...') starts with."""
    m = re.match(r"(\d{4})-\d{2}\b", text)
    return int(m.group(1)) if m else None


def _total_rows(t: Table, counts: list[str]) -> list[tuple[int, str, list[int]]]:
    """Each row labelled "All ..." with the rows above it in its window: (row, label, parts)."""
    window = t.columns.index("Window") if "Window" in t.columns else None
    # a window ("All time") is no category: only the other labels can name a total row
    labels = [j for j, c in enumerate(t.columns) if c not in counts and j != window]

    def total(row: list[object]) -> str:
        return next((str(row[j]) for j in labels if str(row[j] or "").startswith("All ")), "")

    out = []
    for r, row in enumerate(t.rows):
        if label := total(row):
            parts = [
                q
                for q in range(r)
                if (window is None or t.rows[q][window] == row[window]) and not total(t.rows[q])
            ]
            out.append((r, label, parts))
    return out


def _one_category(returns: Sequence[Return]) -> list[Finding]:
    """A group with a total above 0 in which every shown part but one is 0."""
    out = []
    for ret in returns:
        for t in ret.tables:
            counts = t.counts()
            for r, label, parts in _total_rows(t, counts):
                row = t.rows[r]
                for col in counts:
                    j = t.columns.index(col)
                    if row[j] == 0:
                        continue
                    values = [t.rows[q][j] for q in parts]
                    if len(values) > 1 and sum(v != 0 for v in values) == 1:
                        out.append(
                            Finding(
                                "everyone in one category", f"{t.name}: '{label}' is all in one row"
                            )
                        )
    return out

"""``evaltool audit``: the reader's attacks on returns as they were sent, from the files alone.

It reads each workbook as a funder's analyst would (no record, no input data): every table
under its title, every shown number and every ``c``. Then it writes down what such a reader
can, and solves it all at once with the same integer programmes as ``protect``:

- within a return: a row labelled "All ..." is the sum of the rows above it in its window (or,
  where the note says each client is counted once, at least each of them and at most their
  sum); columns that sum others; "Quarter" within "To date"; the activity table's flows between
  quarters; a window ("Financial year to date", "All time") is the sum of its quarters, and
  the caseload at its end is the caseload at its last quarter's end; Kaplan-Meier events
  only rise and numbers at risk only fall over time, groups add up to everyone, no more
  events at a time than in all follow-up; a split adds up to its all-time figure; "never
  started" is referrals to date less starts to date; a share printed beside its
  denominator (or a bound on it, "at most 20%"), or a rate beside its client-years;
- across returns: the same figure (a quarter's activity, a quarter's window, anything in two
  returns for the same quarter) is one quantity; "to date" is last quarter's "to date" plus
  this quarter where it is a sum over quarters (closures, feedback, pregnancies), and never
  falls where it counts people once (contraception); Kaplan-Meier events and numbers at risk
  at a fixed time never fall from one return to the next (more follow-up, more people); a
  quarter of people read in it (a domain's, GAS's, GBO's; partner referrals still waiting) is
  its "To date" less people who keep the row's relations (a stage up is an improvement) and
  were in last quarter's "To date" as they are now (``CARRIED``).

It lists every ``c`` it can narrow to fewer than ``keep`` values (threshold + 1 unless set),
reaching down to the threshold, every difference of two shown counts of people from 1 to the
threshold, and the magnitudes: two shown means over groups that differ by 1 to threshold
people give those people's total (a quarter with one feedback response gives that person's
answers). Also
categories that appear in one return and not in another, and groups where everyone is in one
category. Each finding names the figure as the return shows it: file, quarter, sheet, table,
row and column.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evaltool.instruments.results import Implied, Relation
from evaltool.periods import make_period
from evaltool.report.disclosure import BAND, RANGE, SUPPRESSED, Leak, audit
from evaltool.report.formats import SYMBOL_PROFILES
from evaltool.report.workbook import HEADER_COLOUR

#: a hidden cell as any profile prints it
HIDDEN = frozenset(p[SUPPRESSED] for p in SYMBOL_PROFILES.values())
#: not applicable or not available: no figure, in a column of counts (a total score's
#: positive answers) as much as in any other
NO_FIGURE = frozenset(p[k] for p in SYMBOL_PROFILES.values() for k in ("z", ":"))

NOT_COUNTS = re.compile(  # numbers that are not counts of people or events
    r"mean|median|share|\brate\b|\bci\b|quartile|days|months|client-years|^p\b|^t$|^df$|"
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
    "Share with new care proceedings within the year": (
        "With new care proceedings within the year",
        "Parents followed for a year",
    ),
}
RATES = {"Rate per 100 client-years": ("During involvement", "Client-years of involvement")}
#: a mean change (2 decimals) x its group is a sum of whole-point changes, each improved one
#: 1 to the scale's span, each worse one minus that to -1 (``SummaryTable.mean_parts``)
MEAN_CHANGES = {
    "Mean distance travelled": "Clients with 2+ readings",
    "Mean change": "Pairs",
}
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
#: the unseen split of a quarter's closures, as the reader names it (with the quarter)
SPLIT = ("closures of started cases|", "closures while waiting|")
#: a count at most another of its row, as the definitions say: a stage up is an improvement,
#: a goal rated twice is a goal, a parent with a goal rated twice has one such goal at least
AT_MOST = (
    ("Moved up a stage or more", "Improved"),
    ("Moved down a stage or more", "Worse"),
    ("Clients with a goal rated twice or more", "Clients"),
    ("Clients with a goal rated twice or more", "Goals rated twice or more"),
    ("Goals rated twice or more", "Goals"),
    ("Goals improved", "Goals rated twice or more"),
    ("Goals at or above expected", "Goals"),
)
#: units held by people, as the definitions say (a goal is a client's): units from 1 up mean
#: one person at least (``results.held_by``). Read where the units printed say so (a
#: shown count, a range's low end): as "units <= 1000 x people" it made the integer
#: programmes of a 12-return series twenty times slower
HELD_BY = (
    ("Goals", "Clients"),
    ("Goals rated twice or more", "Clients with a goal rated twice or more"),
    ("Goals improved", "Clients with a goal rated twice or more"),
    ("Goals at or above expected", "Clients"),
)
#: tables whose quarter counts the people read in the quarter, on all their readings to the
#: period end (or the referrals made before it and still waiting), beside their "To date"
#: (``SummaryTable.carried``): to date less the quarter are people not read in it, for whom
#: the row's relations hold, and who were in last quarter's "To date" as they are now. By
#: the title's ending (the quarter's table, the to-date's; None where one table holds both
#: windows) the columns that are so (None: every count)
CARRIED: dict[tuple[str, str | None], tuple[str, ...] | None] = {
    (": quarter (first vs latest reading)", ": to date (first vs latest reading)"): None,
    (": referrals made in the quarter", ": referrals made to date"): ("Referrals still waiting",),
    (": T-scores", None): ("Clients", "Goals", "Goals at or above expected"),
    (": goal ratings", None): None,
}


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
            if (numbers or any(v in HIDDEN or _range(v) for v in values)) and all(
                (isinstance(v, int | float) and float(v).is_integer())
                or v in HIDDEN
                or v in NO_FIGURE
                or v is None
                or _range(v)
                for v in values
            ):
                out.append(col)
        return out


@dataclass
class Return:
    path: Path
    period: str  # as the Cover gives it, e.g. "2025-26 Q4 (financial year): ..."
    tables: list[Table] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The quarter as the return labels it ('2025-26 Q4'), or ''."""
        m = re.match(r"(\d{4}(?:-\d{2})? Q[1-4])\b", self.period)
        return m.group(1) if m else ""

    @property
    def order(self) -> tuple[int, int] | None:
        return _quarter_of(self.period)


@dataclass
class Reading:
    """What a reader of the returns can write down."""

    value: dict  # shown count cells
    hidden: set  # hidden count cells
    relations: list  # Relation and Implied
    where: dict  # table name -> (Return, Table)
    assumed: list = field(default_factory=list)  # relations true only as the tables define them


NEVER_STARTED_ASSUMPTION = (
    "taking 'service cohort: never started' (sheet 'Time to next proceedings', table 'Clients "
    "not analysed, by reason') to be the parents referred by the period end and not started by "
    "it, that is all-time referrals less all-time starts (sheet 'Activity')"
)
FOLLOWED_ASSUMPTION = (
    "taking the all-time 'Parents followed for a year' (table 'New care proceedings within a "
    "year') to be at most the starts up to a year before the period end, and at least those "
    "less the closures to date for moving away or dying and the other parents not analysed"
)


@dataclass(frozen=True)
class Assumed(Relation):
    """A relation the return's definitions give but that returns made before issue 23's fix
    may break ("never started" counted from the whole extract, not as at the period end):
    solved in a second pass, its findings said to rest on it (``said``)."""

    said = NEVER_STARTED_ASSUMPTION


@dataclass(frozen=True)
class AssumedYear(Assumed):
    """What a reader assumes of the parents followed for a year (``_followed_a_year``): true
    where nobody joined later than the start (an index still open), so an assumption."""

    said = FOLLOWED_ASSUMPTION


@dataclass
class Finding:
    kind: str
    message: str


def read_return(path: Path) -> Return:
    """Every table of a return, found by its header row (the return's header fill)."""
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    from evaltool.errors import EvaltoolError

    if Path(path).suffix.lower() in (".csv", ".json", ".txt", ".toml", ".sqlite"):
        kind = {".csv": "a CSV file", ".json": "a JSON return"}.get(Path(path).suffix.lower())
        raise EvaltoolError(
            f"{path} is {kind or 'not an Excel workbook'}: evaltool audit reads returns as sent "
            "in Excel (.xlsx); name the .xlsx returns (a .json return holds the same figures "
            "as its .xlsx)"
        )
    try:
        wb = openpyxl.load_workbook(path)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, InvalidFileException) as exc:
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


#: a quarter as the return labels it: "2025-26 Q3" (financial) or "2025 Q3" (calendar)
QUARTER = re.compile(r"^(\d{4})(-\d{2})? Q([1-4])$")
#: an unseen term with no weight: marks a relation as an assumption about another return
#: (the same figure printed again, a sum over quarters) that the solver drops, with every other
#: such link, where the returns do not hold together (figures revised since)
LINK = ("~across returns", 0.0)
#: "To date" = last quarter's "To date" + "Quarter": sums over quarters of events that keep
#: their date and kind (a closure by its end date, a feedback response, a pregnancy by the
#: date it became known). A pair sums over quarters where its parts need not: a pregnancy of
#: a client not yet started moves from "never started" to "before start" when she starts.
SUMMED: dict[str, tuple | None] = {
    "Closures by reason": None,
    "Client feedback: responses": None,
    "Client feedback: items": ("Answers", "Positive answers"),
    "Pregnancies: known in the window, and the rate during involvement": (
        "Pregnancies known",
        "During involvement",
        "After closure",
        ("Before start", "Client never started"),
    ),
}
#: people counted once to date (clients who chose contraception): "To date" never falls, and
#: grows by no more than the quarter's count; the growth is a count of people (new ones)
GROWING = {"Contraception: uptake during involvement": None}
#: a mean over a group whose members keep their value (an answer, a first reading): two of
#: them over groups that differ by a few people give those people's total
FIXED_MEANS = {
    "Mean": "Answers",
    "Mean first": "Clients with 2+ readings",
    "First mean": "Pairs",
    "Mean baseline T": "Clients",
    "Mean first rating": "Goals rated twice or more",
}
#: what a count of FIXED_MEANS counts, one and many (else people)
UNITS = {
    "Answers": ("response", "responses"),
    "Goals rated twice or more": ("goal", "goals"),
    "Pairs": ("person or goal", "people or goals"),
}
ACTIVITY_TABLE = "Activity by quarter (service cohort)"
RECURRENCE = "New care proceedings within a year"
PBR = "Payment-by-results outcomes (service cohort)"
#: a window's state at its end (caseload, not yet assessable) is its last quarter's; the
#: activity table names the caseload differently
STATE = {"Active caseload at the end": "Active caseload at quarter end"}
STATE_COLUMN = re.compile(r"at the end|at quarter end|caseload|waiting", re.IGNORECASE)
KM = "Share with new care proceedings, at fixed times"
KM_TOTALS = "Median time to new proceedings"
RETURN_TYPES = "Parents with new proceedings, by what the first new set was about"


def _parse_quarter(label: str) -> tuple[int, int, bool] | None:
    m = QUARTER.match(label.strip())
    return (int(m.group(1)), int(m.group(3)), m.group(2) is not None) if m else None


def _quarter_label(year: int, q: int, financial: bool) -> str:
    return f"{year}-{(year + 1) % 100:02d} Q{q}" if financial else f"{year} Q{q}"


def _quarters(first: str, last: str) -> list[str]:
    """The quarters from ``first`` to ``last``, both included, as the return labels them."""
    a, b = _parse_quarter(first), _parse_quarter(last)
    if a is None or b is None or a[2] != b[2]:
        return []
    (y, q, fin), out = a, []
    while (y, q) <= b[:2] and len(out) < 400:
        out.append(_quarter_label(y, q, fin))
        y, q = (y, q + 1) if q < 4 else (y + 1, 1)
    return out


def _window(text: str, ret: Return) -> list[str] | None:
    """The quarters of a window as its "Quarters" cell names them ('2025-26 Q1 to Q3'); None
    for all time ('to 31 Dec 2025'); [] if the text is not understood."""
    text = str(text or "").strip()
    if text.startswith("to "):
        return None
    if _parse_quarter(text):
        return [text]
    m = re.match(r"^(.+ Q[1-4]) to (?:(.+ )?Q([1-4]))$", text)
    if m:
        last = f"{(m.group(2) or m.group(1)[:-2]).strip()} Q{m.group(3)}"
        return _quarters(m.group(1), last)
    return []


def _label_columns(t: Table, counts: list[str]) -> list[int]:
    """The columns that name a row (text, or the months and days of a fixed time)."""
    out = []
    for j, col in enumerate(t.columns):
        if col in counts:
            continue
        if col in ("Months", "Days"):
            out.append(j)
            continue
        if NOT_COUNTS.search(col):
            continue
        values = [r[j] for r in t.rows if r[j] is not None]
        text = [v for v in values if isinstance(v, str) and not SYMBOL.match(v)]
        if text and all(isinstance(v, str) for v in values):
            out.append(j)
    return out


SYMBOL = re.compile(r"^\[?[czx:r]\]?$|^not reached$")


def _absolute(t: Table) -> bool:
    """Are the table's rows named by their quarter, not by the return's period?"""
    return "Quarters" in t.columns or "Quarter" in t.columns


def relations_of(returns: Sequence[Return], threshold: int = 5) -> Reading:
    """What a reader can write down: shown values, hidden cells, relations, implied counts."""
    value: dict = {ONE: 1.0}
    hidden: set = set()
    rels: list = []
    where: dict[str, tuple[Return, Table]] = {}
    figures: dict[tuple, list[tuple[int, tuple]]] = {}  # the same figure, in every return
    wanted: set[tuple] = set()  # figures a relation names

    def ref(t: Table, r: int, col: str):
        return (t.name, r, col)

    def figure(key: tuple) -> str:
        wanted.add(key)
        sheet, title, labels, col, period = key
        return f"fig|{sheet}|{title}|{' / '.join(labels)}|{col}|{period}"

    order = sorted(range(len(returns)), key=lambda k: (returns[k].order or (0, 0), k))
    for k, ret in enumerate(returns):
        tables = {(t.sheet, t.title): t for t in ret.tables}
        scales, cuts = _domain_scales(ret), _positive_cuts(ret)
        for t in ret.tables:
            where[t.name] = (ret, t)
            counts = t.counts()
            labels = _label_columns(t, counts)
            key_cols = [
                j for j in labels if not ("Quarters" in t.columns and t.columns[j] == "Window")
            ]
            period = "" if _absolute(t) else ret.label
            seen_keys: set = set()
            for r, row in enumerate(t.rows):
                row_key = tuple(str(row[j]) for j in key_cols)
                for j, col in enumerate(t.columns):
                    if col not in counts:
                        continue
                    v = row[j]
                    if v in HIDDEN:
                        hidden.add(ref(t, r, col))
                    elif bounds := _range(v):  # a hidden count printed as its range
                        hidden.add(ref(t, r, col))
                        rels += within(ref(t, r, col), *bounds)
                    elif isinstance(v, int | float):
                        value[ref(t, r, col)] = float(v)
                    else:
                        continue
                    key = (t.sheet, t.title, row_key, col, period)
                    if key in seen_keys:  # two rows named alike: not one figure
                        figures[key] = []
                        continue
                    seen_keys.add(key)
                    figures.setdefault(key, []).append((k, ref(t, r, col)))
            rels += _within_table(t, counts, ref, threshold)
            rels += _spreads(t, counts, ref, scales)
            rels += _positive_answers(t, counts, ref, cuts)
            # activity flows: the unseen split of a quarter's closures is one quantity in every
            # return that prints the quarter
            if all(c in t.columns for c in ACTIVITY) and "Quarter" in t.columns:
                qcol = t.columns.index("Quarter")
                for q, row in enumerate(t.rows):
                    s_ = f"{SPLIT[0]}{row[qcol]}"
                    w_ = f"{SPLIT[1]}{row[qcol]}"
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
            # windows: the sum of their quarters
            if {"Window", "Quarters"} <= set(t.columns):
                rels += _windows(ret, t, counts, tables, ref, figure)
            # a split of the all-time figure adds up to it
            if "Split by" in t.columns and ", by group" in t.title:
                base = t.title.split(", by group")[0]
                whole = next(
                    (
                        o
                        for (sheet, title), o in tables.items()
                        if sheet == t.sheet and title.startswith(base) and "Window" in o.columns
                    ),
                    None,
                )
                if whole is not None:
                    w = whole.columns.index("Window")
                    a = next((r for r, row in enumerate(whole.rows) if row[w] == "All time"), None)
                    s = t.columns.index("Split by")
                    for split in dict.fromkeys(row[s] for row in t.rows):
                        rows = [r for r, row in enumerate(t.rows) if row[s] == split]
                        for col in counts:
                            if a is not None and col in whole.columns:
                                rels.append(
                                    Relation(
                                        (
                                            (ref(whole, a, col), -1),
                                            *((ref(t, r, col), 1) for r in rows),
                                        )
                                    )
                                )
            # a subset's count is at most its set's
            for part, whole_col in (
                ("With new care proceedings within the year", "Parents followed for a year"),
            ):
                if part in counts and whole_col in counts:
                    rels += [
                        Relation(((ref(t, r, part), 1), (ref(t, r, whole_col), -1)), "<=")
                        for r in range(len(t.rows))
                    ]
        rels += _survival_links(ret, tables, ref)
        rels += [rel for *pair, _ in _carried_rows(ret) for rel in _carried(*pair, ref)]
        rels += _lost_to_follow_up(tables, ref)
    # the same figure in several returns (or a figure a window names): one quantity
    for key, cells in figures.items():
        if not cells or (len(cells) < 2 and key not in wanted):
            continue
        shown = {value[c] for _, c in cells if c in value}
        if len(shown) > 1:
            continue  # revised between returns: not one quantity any more
        name = figure(key)
        many = len({k for k, _ in cells}) > 1
        for _, c in cells:
            rels.append(Relation(((c, 1), (name, -1), *((LINK,) if many else ()))))
    rels += _across_returns(returns, order, ref, value, threshold)
    assumed = [r for r in rels if isinstance(r, Assumed)]
    rels = [r for r in rels if not isinstance(r, Assumed)]
    return Reading(value, hidden, rels, where, assumed)


def _within_table(t: Table, counts: list[str], ref, threshold: int) -> list:
    """The identities of one table as printed."""
    rels: list = []
    labels = [j for j, c in enumerate(t.columns) if c not in counts]
    window = t.columns.index("Window") if "Window" in t.columns else None
    for r, _label, parts in _total_rows(t, counts):
        once = "once" in t.note
        for col in counts:
            if once:
                rels += [Relation(((ref(t, q, col), 1), (ref(t, r, col), -1)), "<=") for q in parts]
                rels.append(
                    Relation(((ref(t, r, col), 1), *((ref(t, q, col), -1) for q in parts)), "<=")
                )
            else:
                rels.append(Relation((*((ref(t, q, col), 1) for q in parts), (ref(t, r, col), -1))))
    for part, whole in AT_MOST:
        if part in counts and whole in counts:
            rels += [
                Relation(((ref(t, r, part), 1), (ref(t, r, whole), -1)), "<=")
                for r in range(len(t.rows))
            ]
    for units, people in HELD_BY:
        if units in counts and people in counts:
            rels += [
                Relation(((ONE, 1), (ref(t, r, people), -1)), "<=")
                for r in range(len(t.rows))
                if _printed(t, r, units)[0] >= 1
            ]
    for total, parts in SUMS.items():
        if total in counts and all(p in counts for p in parts):
            for r in range(len(t.rows)):
                rels.append(Relation(((ref(t, r, total), -1), *((ref(t, r, p), 1) for p in parts))))
    if window is not None:  # quarter within to date
        for q, row in enumerate(t.rows):
            if row[window] != "Quarter":
                continue
            key = [row[j] for j in labels if j != window]
            for s, other in enumerate(t.rows):
                if other[window] == "To date" and [other[j] for j in labels if j != window] == key:
                    rels += [
                        Relation(((ref(t, q, c), 1), (ref(t, s, c), -1)), "<=") for c in counts
                    ]
    if {"Group", "At risk", "Events so far"} <= set(t.columns):
        g = t.columns.index("Group")
        groups: dict[str, list[int]] = {}
        for r, row in enumerate(t.rows):
            groups.setdefault(str(row[g]), []).append(r)
        for name, rows in groups.items():
            for a, b in zip(rows, rows[1:], strict=False):
                rels.append(
                    Relation(
                        ((ref(t, a, "Events so far"), 1), (ref(t, b, "Events so far"), -1)), "<="
                    )
                )
                if "number at risk can rise" not in t.note:  # delayed entry: it can
                    rels.append(
                        Relation(((ref(t, b, "At risk"), 1), (ref(t, a, "At risk"), -1)), "<=")
                    )
                ma, mb = (
                    t.rows[x][t.columns.index("Months")] if "Months" in t.columns else x
                    for x in (a, b)
                )
                rels.append(
                    Implied(
                        f"{t.workbook}: sheet '{t.sheet}', table '{t.title}', group '{name}': "
                        f"the people with new proceedings between {ma} and {mb} months",
                        ((ref(t, b, "Events so far"), 1), (ref(t, a, "Events so far"), -1)),
                    )
                )
        parts = [p for p in ("service", "comparison") if p in groups]
        if "all" in groups and len(parts) == 2:
            for i, r in enumerate(groups["all"]):
                for col in ("At risk", "Events so far"):
                    rels.append(
                        Relation(
                            ((ref(t, r, col), -1), *((ref(t, groups[p][i], col), 1) for p in parts))
                        )
                    )
    for share, (num, den) in SHARES.items():
        if share not in t.columns or num not in counts or den not in counts:
            continue
        j = t.columns.index(share)
        for r, row in enumerate(t.rows):
            p = row[j]
            d = t.columns.index(den)
            band = BAND.match(p.strip()) if isinstance(p, str) else None
            if band and isinstance(row[d], int | float):  # a bound: num within it
                x = float(band.group(2)) / 100 * row[d]
                lo, hi = (0.0, x) if band.group(1) == "most" else (x, float(row[d]))
                rels += within(ref(t, r, num), lo - 1e-9, hi + 1e-9)  # 35% of 20 is 7
                continue
            if band:  # of a hidden denominator: 100 x num <= x den (or >=)
                x, sign = float(band.group(2)), (1 if band.group(1) == "most" else -1)
                rels.append(
                    Relation(((ref(t, r, num), 100.0 * sign), (ref(t, r, den), -x * sign)), "<=")
                )
                continue
            if not isinstance(p, int | float):
                continue
            if isinstance(row[d], int | float):  # num within p * den, to the rounding
                lo, hi = (p - 0.0005) * row[d], (p + 0.0005) * row[d]
                rels += within(ref(t, r, num), lo, hi)
    # a rate per 100 client-years printed beside its client-years: the count is rate x years /
    # 100, to the rounding of both (0.1)
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
    return rels + _mean_changes(t, counts, ref)


def _mean_changes(t: Table, counts: list[str], ref) -> list:
    """A mean change printed to 2 decimals beside its group, on a scale the note gives: the
    sum of changes S (the mean x the group, within half a hundredth each) is at most span x
    improved - worse and at least improved - span x worse, which bounds the improved and the
    worse (adversary 4: a domain's mean distance over 6 clients put its hidden improved at 2
    to 6). Only where the group is shown: times a hidden group the sum is not linear."""
    scale = _scale(t.note)
    if scale is None or not {"Improved", "Worse"} <= set(counts):
        return []
    span = scale[1] - scale[0]
    rels: list = []
    for mean, group in MEAN_CHANGES.items():
        if mean not in t.columns or group not in t.columns:
            continue
        jm, jn = t.columns.index(mean), t.columns.index(group)
        for r, row in enumerate(t.rows):
            m, n = row[jm], row[jn]
            if not isinstance(m, int | float) or not isinstance(n, int | float) or n <= 0:
                continue
            lo, hi = (m - 0.005) * n, (m + 0.005) * n
            improved, worse = ref(t, r, "Improved"), ref(t, r, "Worse")
            rels.append(Relation(((improved, -span), (worse, 1), (ONE, lo)), "<="))
            rels.append(Relation(((improved, 1), (worse, -span), (ONE, -hi)), "<="))
    return rels


def _domain_scales(ret: Return) -> dict[str, tuple[float, float]]:
    """Each domain's scale, by its name, from the tables whose note gives it ("Scale 1-10")
    and whose changes are in whole points (a domain's mean distance travelled): the Before
    and after sheet prints the same domains without the scale."""
    out: dict[str, tuple[float, float]] = {}
    for t in ret.tables:
        scale = _scale(t.note)
        if scale is None or "Mean distance travelled" not in t.columns:
            continue
        for row in t.rows:
            if isinstance(row[0], str):
                out[row[0]] = scale
    return out


#: a survey's definition of a positive answer, as the Definitions sheet gives it
POSITIVE = re.compile(r"scoring (\d+) or more on a (\d+)-(\d+) scale")


def _positive_cuts(ret: Return) -> dict[str, tuple[int, int, int]]:
    """Each survey's (least positive answer, scale low, scale high), by the survey's title,
    from the Definitions sheet ("Client feedback: share positive": "Answers scoring 4 or
    more on a 1-5 scale ...")."""
    out: dict[str, tuple[int, int, int]] = {}
    for t in ret.tables:
        if t.sheet != "Definitions" or t.columns[:2] != ["Term", "Definition"]:
            continue
        for term, text, *_ in t.rows:
            m = POSITIVE.search(text) if isinstance(text, str) else None
            if isinstance(term, str) and term.endswith(": share positive") and m:
                out[term.removesuffix(": share positive")] = tuple(int(g) for g in m.groups())
    return out


def _positive_answers(t: Table, counts: list[str], ref, cuts: dict) -> list:
    """A survey item's mean (2 decimals) beside its answers is the sum of whole-point
    answers, each positive one from the cut to the top of the scale and each other one from
    the bottom to the cut less one: that bounds the positive answers (the protection
    declares it as the table's ``mean_parts``). Only where the answers are shown."""
    survey = t.title.removesuffix(": items")
    if survey == t.title or survey not in cuts or "Positive answers" not in counts:
        return []
    if not {"Answers", "Mean"} <= set(t.columns):
        return []
    cut, lo, hi = cuts[survey]
    ja, jm = t.columns.index("Answers"), t.columns.index("Mean")
    rels: list = []
    for r, row in enumerate(t.rows):
        n, m = row[ja], row[jm]
        if not isinstance(n, int | float) or not isinstance(m, int | float) or n <= 0:
            continue
        v = row[t.columns.index("Positive answers")]
        if not (isinstance(v, int | float) or v in HIDDEN or _range(v)):  # a total score: x
            continue
        s_lo, s_hi = (m - 0.005) * n, (m + 0.005) * n
        pos = ref(t, r, "Positive answers")
        # the least sum: each positive at the cut, each other at the bottom
        rels.append(Relation(((pos, cut - lo), (ONE, -(s_hi - n * lo))), "<="))
        # the greatest: each positive at the top, each other at the cut less one
        rels.append(Relation(((pos, -(hi - cut + 1)), (ONE, s_lo - n * (cut - 1))), "<="))
    return rels


#: a before-and-after row's 95% interval, as the Annex computes it: t with pairs - 1 degrees
CI_COLUMNS = ("95% CI low", "95% CI high")


def _spreads(t: Table, counts: list[str], ref, scales: dict) -> list:
    """A Before and after row of a whole-point scale with its split hidden: the changes' sum
    is the mean change x the pairs, which bounds the improved and the worse; where the 95%
    interval is shown their sum of squares is known too (its half-width is t x sd /
    sqrt(pairs)), and the split's least and greatest are worked out row by row
    (``_split_spans``: adversary 6, 6 pairs at a mean of 1.00 and an interval of -0.76 to
    2.76 put the worse at 0 to 2). Improved are the positive changes (negative where lower
    is better). Only where the pairs and the mean are shown."""
    if "Pairs" not in t.columns or "Mean change" not in t.columns or "Measure" not in t.columns:
        return []
    if not {"Improved", "Unchanged", "Worse"} <= set(counts):
        return []
    col = {c: j for j, c in enumerate(t.columns)}
    rels: list = []
    for r, row in enumerate(t.rows):
        scale = scales.get(row[col["Measure"]]) if isinstance(row[col["Measure"]], str) else None
        n, m = row[col["Pairs"]], row[col["Mean change"]]
        if scale is None or not isinstance(n, int | float) or not isinstance(m, int | float):
            continue
        n = int(n)
        if n < 2:
            continue
        split = [row[col[c]] for c in ("Improved", "Unchanged", "Worse")]
        if all(isinstance(v, int | float) for v in split):
            continue  # nothing of the split hidden: nothing to learn
        span = int(scale[1] - scale[0])
        lower = "Better is" in col and row[col["Better is"]] == "lower"
        s_lo, s_hi = (m - 0.005) * n, (m + 0.005) * n  # the sum of the changes
        lo, hi = (row[col[c]] if c in col else None for c in CI_COLUMNS)
        if not isinstance(lo, int | float) or not isinstance(hi, int | float):
            # the sum alone: each improved one 1 to the span, each worse one minus that to
            # -1 (a count of pairs at each change costs the solver minutes across returns)
            better, worse = ref(t, r, "Improved"), ref(t, r, "Worse")
            least, most = (-s_hi, -s_lo) if lower else (s_lo, s_hi)  # in the better direction
            rels.append(Relation(((better, -span), (worse, 1), (ONE, least)), "<="))
            rels.append(Relation(((better, 1), (worse, -span), (ONE, -most)), "<="))
            continue
        from scipy.stats import t as t_dist

        q = float(t_dist.ppf(0.975, n - 1))
        half = [max(hi - lo - 0.01, 0) / 2, (hi - lo + 0.01) / 2]
        centred = [(n - 1) * (h * math.sqrt(n) / q) ** 2 for h in half]
        squares = [0.0 if s_lo <= 0 <= s_hi else min(s_lo**2, s_hi**2), max(s_lo**2, s_hi**2)]
        q_lo = centred[0] + squares[0] / n - 1e-6
        q_hi = centred[1] + squares[1] / n + 1e-6
        spans = _split_spans(n, span, (s_lo, s_hi), (q_lo, q_hi))
        if spans is None:
            continue
        for name, (a, b) in zip(("Improved", "Unchanged", "Worse"), spans, strict=True):
            if lower and name != "Unchanged":
                name = "Worse" if name == "Improved" else "Improved"
            rels += within(ref(t, r, name), a, b)
    return rels


def _split_spans(
    n: int, span: int, total: tuple[float, float], squares: tuple[float, float]
) -> list[tuple[float, float]] | None:
    """The least and greatest improved, unchanged and worse of ``n`` whole-point changes from
    -span to span whose sum and sum of squares lie in these ranges: one small integer
    programme per row, solved here (within the whole return's programme it cost minutes).
    None if none fits (the figures as read are not of this form)."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    v = np.arange(-span, span + 1)
    a = np.vstack([np.ones_like(v), v, v * v]).astype(float)
    lo = np.array([n, total[0], squares[0]])
    hi = np.array([n, total[1], squares[1]])
    rows = (v > 0, v == 0, v < 0)
    out = []
    for pick in rows:
        ends = []
        for sign in (1.0, -1.0):
            res = milp(
                sign * pick.astype(float),
                constraints=LinearConstraint(a, lo, hi),
                integrality=np.ones_like(v),
                bounds=Bounds(0, n),
            )
            if res.status != 0:
                return None
            ends.append(round(sign * res.fun))
        out.append((float(ends[0]), float(ends[1])))
    return out


def _windows(ret: Return, t: Table, counts: list[str], tables: dict, ref, figure) -> list:
    """A window's flows (what happened in it: referrals, decisions, years ending) are the sum
    of its quarters' (the activity table's quarters where the return prints them); a state at
    its end (caseload, not yet assessable) is that of its last quarter; all time runs from the
    first quarter the activity table prints (for other tables its start is not known, and it
    is left out)."""
    rels: list = []
    qs = t.columns.index("Quarters")
    keys = [j for j in _label_columns(t, counts) if t.columns[j] != "Window"]
    activity = tables.get(("Activity", ACTIVITY_TABLE)) if t.sheet == "Activity" else None
    first = None
    if activity is not None and activity.rows:
        first = str(activity.rows[0][activity.columns.index("Quarter")])
    for r, row in enumerate(t.rows):
        span = _window(row[qs], ret)
        if span == []:
            continue
        if span is None:  # all time, to the end of this return's quarter
            span = _quarters(first, ret.label) if first and ret.label else []
            known = bool(span)
        else:
            known = True
        for col in counts:
            state = STATE.get(col, col) if STATE_COLUMN.search(col) else None
            if activity is not None and (state or col) in activity.columns:
                target = (activity.sheet, activity.title, None, state or col)
            else:
                target = (t.sheet, t.title, row, col)

            def var(q: str, target=target) -> str:
                sheet, title, named, column = target
                labels = (
                    (q,) if named is None else tuple(q if j == qs else str(named[j]) for j in keys)
                )
                return figure((sheet, title, labels, column, ""))

            if state:
                last = span[-1] if span else ret.label
                if last:
                    rels.append(Relation(((ref(t, r, col), 1), (var(last), -1))))
            elif known and (len(span) > 1 or target[1] != t.title):
                rels.append(Relation(((ref(t, r, col), -1), *((var(q), 1) for q in span))))
    return rels


def _survival_links(ret: Return, tables: dict, ref) -> list:
    """Kaplan-Meier counts against the totals of the same analysis in the same return."""
    rels: list = []
    sheet = "Time to next proceedings"
    km, totals = tables.get((sheet, KM)), tables.get((sheet, KM_TOTALS))
    if km is None:
        return rels
    g = km.columns.index("Group")
    if totals is not None and {"Group", "Clients", "Events"} <= set(totals.columns):
        tg = totals.columns.index("Group")
        groups = [row[tg] for row in totals.rows]
        if {"all", "service", "comparison"} <= set(groups):  # the two cohorts make all
            for col in ("Clients", "Events"):
                rels.append(
                    Relation(
                        (
                            (ref(totals, groups.index("all"), col), -1),
                            (ref(totals, groups.index("service"), col), 1),
                            (ref(totals, groups.index("comparison"), col), 1),
                        )
                    )
                )
        for r, row in enumerate(km.rows):
            s = next((i for i, o in enumerate(totals.rows) if o[tg] == row[g]), None)
            if s is None:
                continue
            rels.append(
                Relation(((ref(km, r, "Events so far"), 1), (ref(totals, s, "Events"), -1)), "<=")
            )
            rels.append(
                Relation(((ref(km, r, "At risk"), 1), (ref(totals, s, "Clients"), -1)), "<=")
            )
        kinds = tables.get((sheet, RETURN_TYPES))
        if kinds is not None and "Group" in kinds.columns:
            kg = kinds.columns.index("Group")
            cols = [c for c in kinds.counts() if c != "Group"]
            for r, row in enumerate(kinds.rows):
                s = next((i for i, o in enumerate(totals.rows) if o[tg] == row[kg]), None)
                if s is not None and cols:
                    rels.append(
                        Relation(
                            ((ref(totals, s, "Events"), -1), *((ref(kinds, r, c), 1) for c in cols))
                        )
                    )
    for (sh, title), other in tables.items():  # new child: among every new proceedings
        if sh != sheet or other is km or "new child" not in title:
            continue
        if not {"Group", "Months", "Events so far"} <= set(other.columns):
            continue
        og, om, m = (
            other.columns.index("Group"),
            other.columns.index("Months"),
            km.columns.index("Months"),
        )
        for r, row in enumerate(other.rows):
            s = next(
                (i for i, o in enumerate(km.rows) if o[g] == row[og] and o[m] == row[om]), None
            )
            if s is not None:
                rels.append(
                    Relation(
                        ((ref(other, r, "Events so far"), 1), (ref(km, s, "Events so far"), -1)),
                        "<=",
                    )
                )
    if "Clients not analysed, by reason" in {title for _, title in tables}:
        why = tables.get((sheet, "Clients not analysed, by reason"))
        windows = tables.get(("Activity", "Activity in each window (service cohort)"))
        if why is not None and windows is not None and "Reason" in why.columns:
            n = next(
                (
                    i
                    for i, o in enumerate(why.rows)
                    if o[why.columns.index("Reason")] == "service cohort: never started"
                ),
                None,
            )
            a = next(
                (
                    i
                    for i, o in enumerate(windows.rows)
                    if o[windows.columns.index("Window")] == "All time"
                ),
                None,
            )
            if n is not None and a is not None:
                # referred by the period end and not started by it, as the return defines it
                # (returns made before issue 23's fix counted it from the whole extract)
                rels.append(
                    Assumed(
                        (
                            (ref(why, n, "Clients"), 1),
                            (ref(windows, a, "Referrals"), -1),
                            (ref(windows, a, "Starts"), 1),
                        )
                    )
                )
            rels += _analysed(ret, why, windows, totals, n, a, ref)
            rels += _followed_a_year(tables, why, windows, n, ref)
    return rels


def _followed_a_year(tables: dict, why: Table, windows: Table, n, ref) -> list:
    """The all-time parents followed for a year against the starts (referrals, where parents
    are followed from referral) of the quarters a year or more before the period end
    (``publish._followed_a_year``, adversary 3's F2)."""
    rec = next((t for (_, title), t in tables.items() if title.startswith(RECURRENCE)), None)
    act = next((t for (_, title), t in tables.items() if title == ACTIVITY_TABLE), None)
    if rec is None or act is None or not {"Window", "Quarters"} <= set(rec.columns):
        return []
    w, qs = rec.columns.index("Window"), rec.columns.index("Quarters")
    a = next((i for i, o in enumerate(rec.rows) if o[w] == "All time"), None)
    if a is None or "Quarter" not in act.columns:
        return []
    try:
        end = dt.datetime.strptime(str(rec.rows[a][qs]).removeprefix("to "), "%d %b %Y").date()
    except ValueError:
        return []
    cutoff = end - dt.timedelta(days=365)
    column = "Starts" if n is not None else "Referrals"
    began, ended = [], []
    for r, row in enumerate(act.rows):
        q = _parse_quarter(str(row[act.columns.index("Quarter")]))
        if q is None:
            continue
        year, quarter, financial = q
        period = make_period(year, quarter, "financial" if financial else "calendar")
        if period.start <= cutoff:
            began.append(ref(act, r, column))
        if period.end <= cutoff:
            ended.append(ref(act, r, column))
    followed = ref(rec, a, "Parents followed for a year")
    lost = [ref(why, i, "Clients") for i in range(len(why.rows)) if i != n]
    lost += _lost_closures(tables, "To date", ref) or []
    return [
        AssumedYear(((followed, 1), *((c, -1) for c in began)), "<="),
        AssumedYear(((followed, -1), *((c, 1) for c in ended), *((c, -1) for c in lost)), "<="),
    ]


def _lost_closures(tables: dict, window: str, ref) -> list | None:
    """The "Closures by reason" cells of ``window`` ("Quarter", "To date") for the reasons
    that end follow-up (moved away, died); None without that table."""
    closed = next((t for (_, title), t in tables.items() if title == "Closures by reason"), None)
    if closed is None or not {"Window", "Closure reason", "Closures"} <= set(closed.columns):
        return None
    cw, cr = closed.columns.index("Window"), closed.columns.index("Closure reason")
    return [
        ref(closed, i, "Closures")
        for i, o in enumerate(closed.rows)
        if o[cw] == window and o[cr] in ("moved away", "died")
    ]


def _lost_to_follow_up(tables: dict, ref) -> list:
    """Payment by results' lost to follow-up, decided on the day a parent moved away or died:
    each outcome's in the quarter (all time) at most the quarter's (to date) closures for
    those reasons (``publish._lost_to_follow_up``, adversary 3's F5)."""
    pbr = next((t for (_, title), t in tables.items() if title == PBR), None)
    lost = "Decided: lost to follow-up"
    if pbr is None or lost not in pbr.columns or "Window" not in pbr.columns:
        return []
    w = pbr.columns.index("Window")
    rels: list = []
    for window, span in (("This quarter", "Quarter"), ("All time", "To date")):
        reasons = _lost_closures(tables, span, ref)
        if reasons is None:
            return []
        rels += [
            Relation(((ref(pbr, r, lost), 1), *((c, -1) for c in reasons)), "<=")
            for r, o in enumerate(pbr.rows)
            if o[w] == window
        ]
    return rels


def _analysed(ret: Return, why: Table, windows: Table, totals, n, a, ref) -> list:
    """The service parents analysed (the medians table) are those who joined (all-time
    starts, or referrals where everyone is followed from referral) less a few not analysed
    for another reason: at most the other reasons' parents."""
    if totals is None or a is None or "Group" not in totals.columns:
        return []
    g = next(
        (i for i, o in enumerate(totals.rows) if o[totals.columns.index("Group")] == "service"),
        None,
    )
    if g is None:
        return []
    left = f"service parents joined, not analysed|{ret.label}"
    joined = ref(windows, a, "Starts" if n is not None else "Referrals")
    others = [ref(why, i, "Clients") for i in range(len(why.rows)) if i != n]
    return [
        Relation(((joined, 1), (ref(totals, g, "Clients"), -1), (left, -1))),
        Relation(((left, 1), *((o, -1) for o in others)), "<="),
    ]


def _across_returns(returns: Sequence[Return], order: list[int], ref, value, threshold) -> list:
    """Counts to date and Kaplan-Meier counts from one return to a later one."""
    rels: list = []
    for i, k in enumerate(order):
        for j in order[:i]:
            before, after = returns[j], returns[k]
            if not (before.order and after.order) or before.order >= after.order:
                continue
            consecutive = _next(before.order) == after.order
            adjacent = j == order[i - 1]
            if consecutive:
                rels += _carried_over(before, after, ref)
            for t in after.tables:
                t0 = next(
                    (o for o in before.tables if (o.sheet, o.title) == (t.sheet, t.title)), None
                )
                if t0 is None:
                    continue
                if t.title in SUMMED or t.title in GROWING:
                    rels += _to_date(t0, t, consecutive, ref, value, threshold, before, after)
                if {"Group", "At risk", "Events so far"} <= set(
                    t.columns
                ) and "Months" in t.columns:
                    rels += _km_grows(t0, t, adjacent, ref, before, after)
                if t.title == KM_TOTALS and {"Group", "Clients", "Events"} <= set(t.columns):
                    rels += _analysed_grow(t0, t, adjacent, ref, before, after)
    return rels


def _carried_rows(ret: Return) -> list[tuple[Table, int, Table, int, list[str], tuple]]:
    """Each "To date" row of a ``CARRIED`` table with its quarter row: (to-date table, row,
    quarter table, row, the columns carried, the row's labels)."""
    out = []
    for (q_end, td_end), cols in CARRIED.items():
        for tq in (t for t in ret.tables if t.title.endswith(q_end)):
            if td_end is None:
                if "Window" not in tq.columns:
                    continue
                td, now, quarter = tq, _rows_by(tq, "To date"), _rows_by(tq, "Quarter")
            else:
                title = tq.title.removesuffix(q_end) + td_end
                td = next((t for t in ret.tables if (t.sheet, t.title) == (tq.sheet, title)), None)
                if td is None:
                    continue
                now, quarter = _rows_by_label(td), _rows_by_label(tq)
            both = set(td.counts()) & set(tq.counts())  # each reads every row: once
            counts = [c for c in (cols or td.counts()) if c in both]
            out += [
                (td, r, tq, quarter[key], counts, key) for key, r in now.items() if key in quarter
            ]
    return out


def _rows_by_label(t: Table) -> dict[tuple, int]:
    labels = _label_columns(t, t.counts())
    return {tuple(str(row[j]) for j in labels): r for r, row in enumerate(t.rows)}


def _carried(td: Table, r: int, tq: Table, q: int, cols: list[str], ref) -> list:
    """To date less the quarter (``CARRIED``) are people too: the quarter is within to date,
    and what is at most another in a row is so in the difference (8 of 11 moved up a stage to
    date, all improved, and 6 of 6 improved this quarter: the other 5 moved up 5 at most, so
    this quarter's moved up is 3 to 6)."""
    rels = [Relation(((ref(tq, q, c), 1), (ref(td, r, c), -1)), "<=") for c in cols]
    for part, whole in AT_MOST:
        if part in cols and whole in cols:
            terms = ((ref(td, r, part), 1), (ref(tq, q, part), -1))
            terms += ((ref(td, r, whole), -1), (ref(tq, q, whole), 1))
            rels.append(Relation(terms, "<="))
    for units, people in HELD_BY:  # units left to date beyond the quarter's: a person
        if {units, people} <= set(cols) and _printed(td, r, units)[0] - _printed(tq, q, units)[
            1
        ] >= 1:
            terms = ((ONE, 1), (ref(td, r, people), -1), (ref(tq, q, people), 1))
            rels.append(Relation(terms, "<="))
    return rels


def _printed(t: Table, r: int, col: str) -> tuple[float, float]:
    """The least and greatest a count can be as printed alone: its value, its range's ends,
    or nothing known."""
    v = t.rows[r][t.columns.index(col)]
    if isinstance(v, int | float):
        return float(v), float(v)
    return _range(v) or (0.0, math.inf)


def _carried_over(before: Return, after: Return, ref) -> list:
    """With last quarter's return: to date less this quarter (``CARRIED``) are people not read
    in it, who were in last quarter's "To date" as they are now; so they are at most that, and
    the rest of it (those read again, as they were then) keep the row's relations too (a
    domain's to-date worse 6 then 7, this quarter 21 of 26 improved: this quarter's worse is
    1 to 5)."""
    rels: list = []
    for td, r, tq, q, cols, key in _carried_rows(after):
        td0 = next((t for t in before.tables if (t.sheet, t.title) == (td.sheet, td.title)), None)
        if td0 is None or not all(c in td0.counts() for c in cols):
            continue
        r0 = (_rows_by(td0, "To date") if td is tq else _rows_by_label(td0)).get(key)
        if r0 is None:
            continue

        # last quarter's to date less the unseen part: those read again, as they were then
        rest = {c: ((ref(td0, r0, c), 1), (ref(td, r, c), -1), (ref(tq, q, c), 1)) for c in cols}
        rels += [Relation((*((x, -k) for x, k in rest[c]), LINK), "<=") for c in cols]
        rels += [
            Relation((*rest[part], *((x, -k) for x, k in rest[whole]), LINK), "<=")
            for part, whole in AT_MOST
            if part in cols and whole in cols
        ]
        for units, people in HELD_BY:  # and those of the rest
            if units not in cols or people not in cols:
                continue
            low = _printed(td0, r0, units)[0] - _printed(td, r, units)[1]
            if low + _printed(tq, q, units)[0] >= 1:
                rels.append(Relation(((ONE, 1), *((x, -k) for x, k in rest[people]), LINK), "<="))
    return rels


def _next(order: tuple[int, int]) -> tuple[int, int]:
    y, q = order
    return (y, q + 1) if q < 4 else (y + 1, 1)


def _rows_by(t: Table, window: str) -> dict[tuple, int]:
    counts = t.counts()
    w = t.columns.index("Window")
    labels = [j for j in _label_columns(t, counts) if j != w]
    return {
        tuple(str(row[j]) for j in labels): r for r, row in enumerate(t.rows) if row[w] == window
    }


def _to_date(t0, t, consecutive, ref, value, threshold, before, after) -> list:
    rels: list = []
    if "Window" not in t.columns or "Window" not in t0.columns:
        return rels
    cols = SUMMED.get(t.title) or GROWING.get(t.title) or tuple(t.counts())
    then, now, quarter = _rows_by(t0, "To date"), _rows_by(t, "To date"), _rows_by(t, "Quarter")
    counts, counts0 = t.counts(), t0.counts()
    for key, r in now.items():
        if key not in then:
            continue
        r0, q = then[key], quarter.get(key)
        for col in cols:
            group = col if isinstance(col, tuple) else (col,)
            if not all(c in counts and c in counts0 for c in group):
                continue
            new = tuple((ref(t, r, c), 1) for c in group)
            old = tuple((ref(t0, r0, c), -1) for c in group)
            # never falls: to date then <= to date now
            rels.append(
                Relation((*((c, 1) for c, _ in old), *((c, -1) for c, _ in new), LINK), "<=")
            )
            if not consecutive or q is None:
                continue
            this = tuple((ref(t, q, c), -1) for c in group)
            if t.title in SUMMED:
                rels.append(Relation((*new, *old, *this, LINK)))
            else:
                rels.append(Relation((*new, *old, *this, LINK), "<="))
                terms = (*new, *old)
                row = f"row '{' / '.join(key)}', " if any(key) else ""
                rels.append(
                    Implied(
                        f"{after.path.name} ({after.label}) less {before.path.name} "
                        f"({before.label}): sheet '{t.sheet}', table '{t.title}', {row}"
                        f"'{group[0]}' to date: the people counted for the first time in "
                        f"{after.label}",
                        terms,
                    )
                )
    return rels


def _km_grows(t0, t, adjacent, ref, before, after) -> list:
    """At a fixed time, events so far and numbers at risk never fall from one return to a
    later one: everyone counted stays counted, with more follow-up more people reach the time
    (numbers at risk fall over the times of one return, and rise between returns)."""

    def rows(x: Table) -> dict:
        g, m = x.columns.index("Group"), x.columns.index("Months")
        return {(str(row[g]), str(row[m])): r for r, row in enumerate(x.rows)}

    then, now = rows(t0), rows(t)
    matched = [
        (
            then[key],
            r,
            f"group '{key[0]}', {key[1]} months: the people whose new proceedings "
            "by then were counted for the first time",
        )
        for key, r in now.items()
        if key in then
    ]
    cols = ("Events so far", "At risk")
    return _never_falls(t0, t, matched, cols, ("Events so far",), adjacent, ref, before, after)


def _analysed_grow(t0, t, adjacent, ref, before, after) -> list:
    """Each cohort's parents analysed and their events never fall from one return to a later
    one (``publish._never_fall``); between consecutive returns the rise is people new to it."""
    g0, g = t0.columns.index("Group"), t.columns.index("Group")
    then = {str(row[g0]): r for r, row in enumerate(t0.rows)}
    matched = [
        (then[str(row[g])], r, f"group '{row[g]}', {{col}}: the people counted for the first time")
        for r, row in enumerate(t.rows)
        if str(row[g]) in then
    ]
    cols = ("Clients", "Events")
    return _never_falls(t0, t, matched, cols, cols, adjacent, ref, before, after)


def _never_falls(t0, t, matched, cols, people, adjacent, ref, before, after) -> list:
    """``cols`` of each matched row (earlier row, later row, words) never fall from ``t0`` to
    ``t``; between consecutive returns the rise of each of ``people`` is a count of people
    (``{col}`` in the words names the column)."""
    rels: list = []
    for r0, r, words in matched:
        for col in cols:
            rels.append(Relation(((ref(t0, r0, col), 1), (ref(t, r, col), -1), LINK), "<="))
        for col in people if adjacent else ():
            rels.append(
                Implied(
                    f"{after.path.name} ({after.label}) less {before.path.name} "
                    f"({before.label}): sheet '{t.sheet}', table '{t.title}', "
                    + words.replace("{col}", col),
                    ((ref(t, r, col), 1), (ref(t0, r0, col), -1)),
                )
            )
    return rels


def _range(value: object) -> tuple[float, float] | None:
    """A hidden count printed as a range ("20 to 29", ``disclosure.range_text``)."""
    m = RANGE.match(value.strip()) if isinstance(value, str) else None
    return (float(m.group(1)), float(m.group(2))) if m else None


def within(cell: tuple, lo: float, hi: float) -> list[Relation]:
    """``lo <= cell <= hi``, written as relations on the constant ONE."""
    return [
        Relation(((cell, 1), (ONE, -hi)), "<="),
        Relation(((cell, -1), (ONE, lo)), "<="),
    ]


def attack(paths: Sequence[Path], threshold: int = 5, keep: int | None = None) -> list[Finding]:
    """Every finding of every attack on these returns taken together: a hidden count
    narrowed to fewer than ``keep`` values (threshold + 1 unless set) is one."""
    returns = [read_return(Path(p)) for p in paths]
    reading = relations_of(returns, threshold)
    value, hidden = reading.value, reading.hidden
    plain = [r for r in reading.relations if isinstance(r, Relation)]
    watch, implied = [], {}
    for imp in (r for r in reading.relations if isinstance(r, Implied)):
        plain.append(imp.relation())
        implied[imp.name] = imp
        if all(t in value for t, _ in imp.terms):  # both shown: its value is known exactly
            x = sum(value[t] * c for t, c in imp.terms)
            if 1 <= x <= threshold:
                watch.append(imp.name)
    # a quarter's unseen split of closures (those closed while waiting, say): a reader who
    # narrows it to a few values all above 0 has counted people no table prints
    split = sorted(
        {t for r in plain for t, _ in r.terms if isinstance(t, str) and t.startswith(SPLIT)}
    )
    # a hidden 0 worked out says nobody is there: a finding only as a part of a group (the
    # rest could then read as all in one category), as the protection counts it
    parts = _group_parts(returns)
    leaks: list[Leak] = audit(
        value, hidden, plain, threshold, [*watch, *split], keep=keep, zeros_matter=parts
    )
    leaks = _lowest(leaks, value, hidden, plain)
    leaks = [leak for leak in leaks if leak.cell not in split or leak.low >= 1]
    findings = [Finding("hidden figure worked out", _leak(leak, reading)) for leak in leaks]
    found = {leak.cell for leak in leaks}
    if reading.assumed:  # a second pass, with what the definitions say, where it bears
        assumed = [Relation(r.terms, r.op) for r in reading.assumed]
        relations = plain + assumed
        near = _near(assumed, relations, value, hidden)
        leaks = audit(value, hidden, relations, threshold, watch, near, keep, parts)
        for leak in _lowest(leaks, value, hidden, relations):
            if leak.cell not in found:
                found.add(leak.cell)
                said = f"{_leak(leak, reading)}, " + "; or ".join(
                    sorted({type(r).said for r in reading.assumed})
                )
                findings.append(Finding("hidden figure worked out", said))
    for w in watch:
        if w in found:
            continue
        x = sum(value[t] * c for t, c in implied[w].terms)
        findings.append(
            Finding(
                "small count by subtraction",
                f"{w}: {x:g}, the difference of two figures shown (from 1 to {threshold}: "
                "a small count of people, published by subtraction)",
            )
        )
    findings += _magnitudes(returns, threshold)
    findings += _categories(returns) + _one_category(returns)
    return findings


def _group_parts(returns: Sequence[Return]) -> set:
    """The cells that are parts of a total row or of a summed column, in every return."""
    out: set = set()
    for ret in returns:
        for t in ret.tables:
            counts = t.counts()
            for _, _label, rows in _total_rows(t, counts):
                out.update((t.name, q, col) for q in rows for col in counts)
            for total, sums in SUMS.items():
                if total in counts and all(p in counts for p in sums):
                    out.update((t.name, r, p) for r in range(len(t.rows)) for p in sums)
    return out


def _lowest(leaks: list[Leak], value: dict, hidden: set, relations: list) -> list[Leak]:
    """The least value of each leak whose range ``audit`` gives from 0 (it asks only whether a
    small count is narrowed, and a range below the threshold reaches 0 for it): a reader who
    can work a hidden 3 out exactly is told so, not "0 to 3"."""
    from collections import defaultdict

    from evaltool.report.disclosure import _programme, _reachable

    if not any(leak.low == 0 for leak in leaks):
        return leaks
    by_term: dict = defaultdict(list)
    for rel in relations:
        for t, _ in rel.terms:
            by_term[t].append(rel)

    def unknown(t: object) -> bool:
        return t in hidden or isinstance(t, str) or t not in value

    out, built = [], {}  # one programme per connected set of unknowns
    for leak in leaks:
        if leak.low == 0:
            if leak.cell not in built:
                rels = _reachable(leak.cell, by_term, unknown)
                names = sorted({t for r in rels for t, _ in r.terms if unknown(t)}, key=repr)
                solver, index = _programme(rels, names, unknown, value)
                ok = solver.feasible()
                built.update({t: (solver, index, ok) for t in names})
            solver, index, ok = built[leak.cell]
            low = solver.extreme(index[leak.cell], maximise=False) if ok else None
            if low is not None and round(low) > 0:
                leak = Leak(leak.cell, float(round(low)), leak.high, leak.using)
        out.append(leak)
    return out


def _near(start: list, relations: list, value: dict, hidden: set) -> set:
    """Every unknown joined to the relations ``start`` through unknowns."""
    from collections import defaultdict

    from evaltool.report.disclosure import _reachable

    by_term: dict = defaultdict(list)
    for rel in relations:
        for t, _ in rel.terms:
            by_term[t].append(rel)

    def unknown(t: object) -> bool:
        return t in hidden or isinstance(t, str) or t not in value

    out: set = set()
    for rel in start:
        for t, _ in rel.terms:
            if unknown(t) and t not in out:
                for r in _reachable(t, by_term, unknown):
                    out.update(u for u, _ in r.terms if unknown(u))
    return out


def _cell_words(cell: tuple, reading: Reading) -> str:
    """A count cell as a manager finds it: file (quarter), sheet, table, row, column."""
    name, r, col = cell
    if name not in reading.where:
        return str(name)
    ret, t = reading.where[name]
    counts = t.counts()
    row = " / ".join(str(t.rows[r][j]) for j in _label_columns(t, counts)) or f"row {r + 1}"
    return (
        f"{ret.path.name} ({ret.label or 'quarter not given'}): sheet '{t.sheet}', table "
        f"'{t.title}', row '{row}', column '{col}'"
    )


def _leak(leak: Leak, reading: Reading) -> str:
    span = f"exactly {leak.low:g}" if leak.low == leak.high else f"{leak.low:g} to {leak.high:g}"
    if isinstance(leak.cell, str):
        said = leak.cell.replace("|", " in ", 1) if leak.cell.startswith(SPLIT) else leak.cell
        return f"{said}: not printed, but a reader can work it out as {span}"
    files = sorted({reading.where[c[0]][0].path.name for c in leak.using if c[0] in reading.where})
    using = f", from figures shown in {', '.join(files)}" if files else ""
    said = _cell_words(leak.cell, reading)
    return f"{said} is hidden, but a reader can work it out as {span}{using}"


def _scale(note: str) -> tuple[float, float] | None:
    m = re.search(r"Scale (\d+)\s*-\s*(\d+)", note or "")
    return (float(m.group(1)), float(m.group(2))) if m else None


def _means(ret: Return) -> list[tuple[Table, int, tuple, str, float, float]]:
    """Every shown mean of a fixed value with its shown count: (table, row, row key, column,
    mean, count), for "To date" rows and tables without a window."""
    out = []
    for t in ret.tables:
        if re.search(r"\bquarter\b", t.title, re.IGNORECASE):
            continue  # the quarter's people: not a group that grows from one return to the next
        counts = t.counts()
        w = t.columns.index("Window") if "Window" in t.columns else None
        labels = [j for j in _label_columns(t, counts) if j != w]
        for col, n_col in FIXED_MEANS.items():
            if col not in t.columns or n_col not in t.columns:
                continue
            jm, jn = t.columns.index(col), t.columns.index(n_col)
            for r, row in enumerate(t.rows):
                if w is not None and row[w] != "To date":
                    continue
                m, n = row[jm], row[jn]
                if isinstance(m, int | float) and isinstance(n, int | float) and n > 0:
                    key = tuple(str(row[j]) for j in labels)
                    out.append((t, r, key, col, float(m), float(n)))
    return out


def _magnitudes(returns: Sequence[Return], threshold: int) -> list[Finding]:
    """Two means of a fixed value (an answer, a first reading) printed to two decimals over
    groups of 1 to ``threshold`` people apart: a later return's "to date" against an earlier
    one's, or two tables of one return over the same measure. The sums (mean x count, to the
    rounding) differ by the total of those few people: with one, their own answer."""
    out = []
    means = [(ret, _means(ret)) for ret in returns]
    for i, (ret, mine) in enumerate(means):
        pairs = []
        for other, theirs in means[:i] + means[i + 1 :]:
            earlier = other.order and ret.order and other.order <= ret.order
            if earlier and (other.order < ret.order or other.path.name < ret.path.name):
                pairs += [
                    (a, b, other)
                    for a in theirs
                    for b in mine
                    if (a[0].sheet, a[0].title, a[2], a[3]) == (b[0].sheet, b[0].title, b[2], b[3])
                ]
        pairs += [  # one return, two tables over the same measure
            (a, b, ret)
            for a in mine
            for b in mine
            if a[0] is not b[0]
            and a[2]
            and a[2][:1] == b[2][:1]
            and a[5] < b[5]
            and ("first" in a[3].lower()) == ("first" in b[3].lower())
        ]
        for first, second, other in pairs:
            if first[5] > second[5] and other.order == ret.order:  # one quarter: either way
                first, second = second, first
            (t0, _r0, key, col0, m0, n0), (t1, _r1, _, col1, m1, n1) = first, second
            d = n1 - n0
            if not 1 <= d <= threshold:
                continue
            lo = n1 * (m1 - 0.005) - n0 * (m0 + 0.005)
            hi = n1 * (m1 + 0.005) - n0 * (m0 - 0.005)
            scale = _scale(t1.note)
            if scale and "Total" not in " ".join(key):  # whole answers: a whole total
                lo, hi = (
                    max(math.ceil(lo - 1e-9), scale[0] * d),
                    min(math.floor(hi + 1e-9), scale[1] * d),
                )
            total = f"exactly {lo:g}" if lo == hi else f"between {lo:.2f} and {hi:.2f}"
            who = UNITS.get(FIXED_MEANS[col1], ("person", "people"))[d != 1]
            where0 = f"{other.path.name} ({other.label}): '{t0.title}'"
            where1 = f"{ret.path.name} ({ret.label}): '{t1.title}'"
            row = " / ".join(key)
            out.append(
                Finding(
                    "mean over a few people by subtraction",
                    f"{where1}, row '{row}', '{col1}' over {n1:g} against {where0}, '{col0}' "
                    f"over {n0:g}: the {d:g} {who} in one and not the other "
                    f"{'has' if d == 1 else 'have'} a total "
                    f"{total} (a mean of {lo / d:.2f} to {hi / d:.2f})",
                )
            )
    return out


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

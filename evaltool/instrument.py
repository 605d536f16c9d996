"""The instrument interface: what every built-in and third-party instrument provides.

An instrument reads one table, checks it, scores it per client, declares its *measures* for
before/after comparison, and summarises a reporting period into tables for the funder return.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pandas as pd

    from evaltool.config import Settings
    from evaltool.periods import Period
    from evaltool.problems import Problem
    from evaltool.tables import TableSpec


@dataclass(frozen=True)
class Measure:
    """A score that can be compared before and after (first vs latest reading per unit)."""

    name: str
    label: str
    higher_is_better: bool = True
    reliability: float | None = None  # test-retest or internal consistency, for reliable change
    unit: str = "client"  # what one reading belongs to: "client" or "goal"
    definition: str = ""


@dataclass(frozen=True)
class Definition:
    """One line of the return's Definitions sheet."""

    term: str
    meaning: str
    source: str = ""


@dataclass
class SummaryTable:
    """A table for the funder return, with what disclosure control needs to know.

    ``counts`` are columns of people or events, suppressed from 1 up to the threshold;
    ``derived`` maps a column (a share, a mean) to the count column or columns it was computed
    from (numerator and denominator), so it is hidden with any of them; a blank in it reads
    "not applicable" where the last of them (what it is a share or mean *of*) is 0, and "not
    available" (no data) otherwise. ``total_row`` and
    ``sums`` declare additive groups (a total row, or a column that is the sum of others);
    ``relations`` declare any other true identity between count cells
    (:class:`evaltool.report.disclosure.Relation`). Disclosure control treats every one of them
    as an equation a reader can solve, across all the tables of the return at once.
    """

    name: str
    title: str
    data: pd.DataFrame
    counts: tuple[str, ...] = ()
    derived: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    percent: tuple[str, ...] = ()  # columns holding shares 0-1, shown as 0.0%
    total_row: str | None = None  # label of the row that totals the other rows of its window
    #: False where the total row counts each person once though a person may be in several
    #: rows: it is then no sum (declare what holds in ``relations``), but still a group whose
    #: members must not all be seen in one row
    total_is_sum: bool = True
    sums: dict[str, tuple[str, ...]] = field(default_factory=dict)  # total column -> its parts
    note: str = ""
    formats: dict[str, str] = field(default_factory=dict)  # column -> Excel number format
    chart: str | None = None  # "radar" or "line": a native Excel chart of this table
    relations: tuple[Any, ...] = ()  # disclosure.Relation: identities beyond totals and sums


@dataclass(frozen=True)
class Cite:
    """One figure of a headline: a cell of one of the instrument's own summary tables."""

    table: str
    column: str
    row: int = 0  # position in the table (e.g. 1 for the "To date" row of a windowed table)
    fmt: str = "{:.1f}"


@dataclass(frozen=True)
class Headline:
    """A Summary line whose figures are cells of the instrument's tables, never figures worked
    out again: ``text`` is a ``str.format`` template with one ``{}`` per cite. The return
    fills it from the protected tables, so a hidden cell hides the line, and the Summary and
    the instrument's sheet cannot disagree."""

    text: str
    cites: tuple[Cite, ...] = ()
    empty: str = ""  # shown instead when the instrument has nothing to report yet


@dataclass
class Context:
    """What an instrument needs besides its own table when scoring and summarising."""

    settings: Settings
    period: Period
    extract_date: dt.date
    clients: pd.DataFrame  # the typed clients table

    def too_few(self, n: int) -> str | None:
        """Text to show instead of figures when ``n`` is from 1 to the small-number threshold."""
        threshold = self.settings.small_number_threshold
        if 0 < n <= threshold:
            return f"figures not shown: {threshold} or fewer people (small-number rule)"
        return None

    @property
    def windows(self) -> list[tuple[str, dt.date | None, dt.date]]:
        """The two reporting windows: this quarter, and cumulative to the end of it."""
        return [("Quarter", self.period.start, self.period.end), ("To date", None, self.period.end)]


class Instrument:
    """Base class for instrument kinds. Subclasses set ``kind`` and override the methods."""

    kind: ClassVar[str] = ""
    #: keys a definition file may hold, beyond name/title/kind/table/description/version
    definition_keys: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self, name: str, title: str, definition: dict[str, Any] | None = None, source: str = ""
    ) -> None:
        self.name = name
        self.title = title
        self.definition = dict(definition or {})
        self.source = source  # definition file path or plugin module, for messages

    @classmethod
    def from_definition(cls, definition: dict[str, Any], source: str) -> Instrument:
        """Build an instrument from a parsed definition file."""
        return cls(
            definition["name"], definition.get("title", definition["name"]), definition, source
        )

    # -- the table -------------------------------------------------------------------------
    def table(self) -> TableSpec:
        raise NotImplementedError

    def check(self, data: pd.DataFrame) -> list[Problem]:
        """Problems beyond what the column types catch (default: none)."""
        return []

    # -- scoring ---------------------------------------------------------------------------
    def score(self, data: pd.DataFrame, ctx: Context) -> pd.DataFrame:
        """Client-level scores, one row per client, ``client_id`` first."""
        raise NotImplementedError

    def measures(self) -> list[Measure]:
        """Measures for before/after comparison (default: none)."""
        return []

    def readings(self, data: pd.DataFrame) -> pd.DataFrame:
        """Readings for before/after comparison (default: none). Long: ``unit, client_id,
        measure, date, value``, one row per reading; or wide: ``unit, client_id, date`` and a
        value column named after each measure, one row per assessment (blank = not read)."""
        import pandas as pd

        return pd.DataFrame(columns=["unit", "client_id", "measure", "date", "value"])

    def summarise(self, data: pd.DataFrame, ctx: Context) -> list[SummaryTable]:
        """Tables for the funder return, for the quarter and cumulative to date."""
        raise NotImplementedError

    def headline(self, data: pd.DataFrame, ctx: Context) -> Headline | str:
        """One line for the Summary sheet: a :class:`Headline` citing cells of the tables
        ``summarise`` returned (the core fills and protects it). A plain string is printed as
        it is, so it must hold no figure."""
        return ""

    def definitions(self) -> list[Definition]:
        return []

    def describe_scale(self) -> str:
        """The scale in words, for ``evaltool instruments``."""
        return ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} kind={self.kind!r}>"

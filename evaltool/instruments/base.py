"""The instrument base class: what every built-in and third-party instrument provides.

An instrument reads one table, checks it, scores it per client, declares its *measures* for
before/after comparison, and summarises a reporting period into tables for the funder return.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pandas as pd

    from evaltool.config import Settings
    from evaltool.data.problems import Problem
    from evaltool.data.specs import TableSpec
    from evaltool.instruments.results import Evaluation, Headline, SummaryTable
    from evaltool.periods import Period


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

    # -- one period ------------------------------------------------------------------------
    def evaluate(self, data: pd.DataFrame, ctx: Context) -> Evaluation:
        """Everything the core reports of this instrument for one period, in one call.

        ``data`` is the instrument's table as the core prepared it: typed by the table spec and
        as at the period end (no row after ``ctx.period.end`` by its ``time_column``; a later
        date blank, with what ``Column.dated_by`` records with it; ``ctx.clients`` too). The
        default calls ``readings`` (when there are measures), ``summarise`` and ``headline``
        once each, and ``score`` when the scores are first asked for; override it to work
        something out once for all of them (see the domain scale, whose tables and
        before/after comparison share one pairing through ``Evaluation.pairs``).
        """
        from evaltool.instruments.results import Evaluation

        return Evaluation(
            self.name,
            scores=lambda: self.score(data, ctx),  # made only if asked for
            readings=self.readings(data) if self.measures() else None,
            tables=self.summarise(data, ctx),
            headline=self.headline(data, ctx),
        )

    # -- the parts of an evaluation ---------------------------------------------------------
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

"""What an instrument hands the core: tables for the return, the identities between their
counts, and headlines that cite their cells."""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: A published count cell: (table name, row position, column).
Ref = tuple[str, int, str]


@dataclass(frozen=True)
class Relation:
    """``sum(coefficient * value) == 0`` (``op="="``) or ``<= 0`` (``op="<="``).

    A term is a published cell (:data:`Ref`) or an unpublished quantity the reader does not
    see but knows is a whole number of at least 0 (a name: ``"closures of started cases Q3"``).
    """

    terms: tuple[tuple[Ref | str, float], ...]
    op: str = "="
    #: a cell the reader needs shown to know this relation (a mean's group: hidden, the mean
    #: is hidden with it and the relation tells nothing), or a tuple of such cells; None: it
    #: always holds for them
    given: Ref | tuple[Ref, ...] | None = None

    def known(self, hidden: Container[object]) -> bool:
        """Whether the reader has this relation while the cells in ``hidden`` are hidden: the
        one test the protection, the audit and the record share (a copy that drifted let a
        range be printed unchecked, 2026-12-07)."""
        if self.given is None:
            return True
        if isinstance(self.given[0], tuple):
            return not any(g in hidden for g in self.given)
        return self.given not in hidden


def whole_point_changes(lo: int, hi: int) -> tuple[tuple[str, float, float], ...]:
    """``SummaryTable.mean_parts``' categories of a change on a ``lo``-``hi`` scale in whole
    points, higher better: each improved one 1 to the span, each worse one minus that to -1."""
    return (("Improved", 1, hi - lo), ("Unchanged", 0, 0), ("Worse", lo - hi, -1))


#: more than any person holds (goals of one client): ``SummaryTable.held_by``'s factor
MANY = 1000


@dataclass(frozen=True)
class Implied:
    """A count of people that is not printed but equals ``sum(coefficient * cell)``: protected
    like a cell (its range must be as wide as a hidden cell's when it is from 1 up to the
    threshold)."""

    name: str
    terms: tuple[tuple[Ref, float], ...]

    def relation(self) -> Relation:
        """The count as an unseen quantity tied to its cells: ``-name + sum(terms) == 0``."""
        return Relation(((self.name, -1.0), *self.terms))


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
    (:class:`Relation`). Disclosure control treats every one of them
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
    relations: tuple[Relation, ...] = ()  # identities beyond totals and sums
    #: true values of the unseen quantities of ``relations`` that count people (a quarter's
    #: parents in a group, summed into an all-time cell): protected like hidden cells when
    #: from 1 to the threshold, so that two returns' totals cannot be subtracted to give one
    unseen: dict[str, float] = field(default_factory=dict)
    #: share columns that are exactly numerator / denominator (two of ``counts``): where the
    #: share is hidden and its denominator shown, a bound may be printed in its place ("at
    #: most 20%"), if the audit finds that the bound narrows no hidden count (``disclosure``)
    ratios: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: column -> cells of the same row in other tables, (table, column), or fixed cells,
    #: (table, row, column): hidden in a row wherever any of them is (a test statistic
    #: printed on the Annex gives back the split of the pairs into improved, unchanged and
    #: worse printed on the Before and after sheet; the Cox model, a cohort's events)
    hidden_with: dict[str, tuple[tuple[str, str] | Ref, ...]] = field(default_factory=dict)
    #: (units, people) count columns: units held by people (goals by clients), so a row's
    #: units from 1 up mean one person at least, and so do those to date not read in the
    #: quarter (``carried``): goals left to date beyond the quarter's are some client's (an
    #: adversary, 2026-12-07, put a quarter's hidden 4 clients at 1 to 5 so). Declared to
    #: the protection as ``units <= MANY x people``, which with whole numbers says just that
    held_by: tuple[tuple[str, str], ...] = ()
    #: a mean's cell, (row, column) -> other mean cells of the table: hidden wherever any of
    #: them is as printed (a total score's mean is the sum of its items' over the complete
    #: responses: beside the others, it gives an item's hidden mean, and that mean its
    #: positive answers: an adversary, 2026-12-07)
    hidden_with_cells: dict[tuple[int, str], tuple[tuple[int, str], ...]] = field(
        default_factory=dict
    )
    #: columns worked out across the rows (a p-value adjusted for the other measures, Holm):
    #: hidden in every row wherever hidden in one
    hidden_whole: tuple[str, ...] = ()
    #: the "To date" row's columns that count what the instrument's Before and after row
    #: counts, {Before and after column: this table's column} ({"Pairs": "Clients with a goal
    #: rated twice or more"}): one quantity each where the values agree, so that neither
    #: shows what the other hides
    same_as_pairs: dict[str, str] = field(default_factory=dict)
    #: count columns that count people once to date (a parent referred twice is one parent):
    #: in a table of "To date" rows, or one named ``<x>-to-date`` beside its ``<x>-quarter``,
    #: a figure never below last quarter's return's and at most that plus this quarter's; the
    #: growth, people counted for the first time, is protected like a count
    grows: tuple[str, ...] = ()
    #: count columns whose "To date" may fall (goals whose latest rating is at or above
    #: expected) but rises by at most the quarter's: whatever rose was counted in the quarter
    rises: tuple[str, ...] = ()
    #: a people count whose "To date" rises by at most another's rise (each new client brings
    #: a new goal): column -> that column
    grows_with: dict[str, str] = field(default_factory=dict)
    #: count columns of people (or goals) in a state worked out from all their readings up to
    #: the period end, whose "Quarter" row counts those read in the quarter (in a table of
    #: "To date" and "Quarter" rows, or one named ``<x>-to-date`` beside its ``<x>-quarter``):
    #: whoever is to date but not read this quarter is in last quarter's "To date" as they
    #: were, so each column to date is the quarter's plus a part of last quarter's, and the
    #: row's own relations (improved + unchanged + worse = clients; moved up a stage <=
    #: improved) hold for that part and for the rest (adversary 7: without it a domain's
    #: quarter row, beside two returns' to-date rows, left unchanged and worse 0 to 4). Also
    #: for a state only ever left, where the part is at most last quarter's (a referral made
    #: before the quarter and still waiting was waiting then: partner access)
    carried: tuple[str, ...] = ()
    #: a mean (printed to 2 decimals) times its group is a sum whose members each lie in a
    #: known range by category, which bounds the categories' counts: mean column -> (group
    #: column, ((count column, or "" for the group's members in none, low, high), ...))
    mean_parts: dict[str, tuple[str, tuple[tuple[str, float, float], ...]]] = field(
        default_factory=dict
    )


@dataclass(frozen=True)
class Cite:
    """One figure of a headline: a cell of one of the instrument's own summary tables.

    ``fmt`` is a ``str.format`` template for the figure; by default (None) it is chosen by the
    cited column: a count (the table's ``counts``) as a whole number with thousands separated
    ("1,234"), anything else to one decimal ("12.3"). A count given a format with decimals
    would read "110.0 clients": ``evaltool.testing.check_instrument`` refuses it."""

    table: str
    column: str
    row: int = 0  # position in the table (e.g. 1 for the "To date" row of a windowed table)
    fmt: str | None = None

    def format_for(self, table: SummaryTable | None) -> str:
        """The template for this figure: ``fmt``, else the one for the cited column."""
        if self.fmt is not None:
            return self.fmt
        if table is not None and self.column in table.counts:
            return COUNT_FORMAT
        return DECIMAL_FORMAT


#: the default formats of a cited figure (``Cite.format_for``)
COUNT_FORMAT = "{:,.0f}"
DECIMAL_FORMAT = "{:.1f}"


@dataclass(frozen=True)
class Headline:
    """A Summary line whose figures are cells of the instrument's tables, never figures worked
    out again: ``text`` is a ``str.format`` template with one ``{}`` per cite. The return
    fills it from the protected tables, so a hidden cell hides the line, and the Summary and
    the instrument's sheet cannot disagree."""

    text: str
    cites: tuple[Cite, ...] = ()
    empty: str = ""  # shown instead when the instrument has nothing to report yet


class Evaluation:
    """What one instrument made of one period, from one call of ``Instrument.evaluate``: the
    core reads everything it reports of the instrument from here.

    ``scores``: one row per client, ``client_id`` first; given as a frame, or as a function
    that makes it when first asked for (only the internal sheets and ``evaltool scores`` need
    client scores, and at national scale they cost as much as the tables). ``readings``: for
    before/after (long or wide, see ``Instrument.readings``), None when the instrument has no
    measures. ``tables``: for the return. ``headline``: the Summary line, citing ``tables``.
    """

    def __init__(
        self,
        instrument: str,
        scores: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
        readings: pd.DataFrame | None = None,
        tables: list[SummaryTable] | None = None,
        headline: Headline | str = "",
    ) -> None:
        self.instrument = instrument
        self._scores = scores
        self.readings = readings
        self.tables = list(tables or [])
        self.headline = headline

    @property
    def scores(self) -> pd.DataFrame | None:
        if callable(self._scores):
            self._scores = self._scores()
        return self._scores

    @scores.setter
    def scores(self, value: pd.DataFrame | Callable[[], pd.DataFrame] | None) -> None:
        self._scores = value

    @cached_property
    def pairs(self) -> pd.DataFrame:
        """First and latest reading per measure and unit (``kit.first_and_latest_readings``),
        worked out once: an instrument's own tables and the before/after comparison share it."""
        from evaltool.instruments.kit import first_and_latest_readings

        if self.readings is None:
            raise ValueError(f"instrument '{self.instrument}' has no readings")
        return first_and_latest_readings(self.readings)

    def __repr__(self) -> str:
        names = ", ".join(t.name for t in self.tables)
        return f"<Evaluation {self.instrument!r}: tables {names}>"

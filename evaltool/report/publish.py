"""What the return publishes: every table, protected together with the earlier returns.

``publish`` gathers the tables of a return by sheet, gives every count cell a key that is the
same in every return that prints it (a past quarter's activity row) or names its period
(``2025-Q4|closures|Window=To date,...|Closures``), links this return to the recorded earlier
ones (the same cell printed again; "to date" = last quarter's "to date" + this quarter), and
protects the whole series as one problem. The renderers (``excel.py``, ``json.py``) only lay it
out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import replace as _replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from evaltool.analysis.windows import RECURRENCE, STRATA
from evaltool.instruments.results import Headline, Implied, Ref, Relation, SummaryTable
from evaltool.report import record
from evaltool.report.disclosure import (
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    SUPPRESSED,
    Cells,
    Leak,
    Suppressed,
    audit,
    protect,
    table_relations,
)
from evaltool.report.formats import SYMBOL_PROFILES

if TYPE_CHECKING:
    from evaltool.core import Results
    from evaltool.periods import Period

#: tables whose rows name their own quarter: the same cell in every return that prints it
TIMELESS = ("activity",)
#: unseen quantities named by their quarter: the same in every return that uses them
SHARED_UNSEEN = (*TIMELESS, RECURRENCE, STRATA, "pbr", "pbr-cohort")
#: the sheet of the payment-by-results outcomes ([pbr] enabled)
PBR = "Payment by results"
#: the sheet of the technical statistics, apart from the figures a funder reads
ANNEX = "Annex - statistical tests"
#: tables whose "To date" rows are last quarter's "To date" plus this "Quarter"
CUMULATIVE = ("closures",)


@dataclass
class Publication:
    """Every table of the return, by sheet, protected together as one problem."""

    sheets: dict[str, list[SummaryTable]]
    shown: dict[str, Suppressed]
    keys: dict[Ref, str] = field(default_factory=dict)
    cells: dict[str, tuple[float, bool]] = field(default_factory=dict)  # key -> (value, hidden)
    relations: list[tuple[str, list[tuple[str, float]]]] = field(default_factory=list)
    revised: dict[str, list[str]] = field(default_factory=dict)  # table -> descriptions
    leaks: list[Leak] = field(default_factory=list)  # left over: the return must not go
    earlier_periods: list[str] = field(default_factory=list)
    #: each instrument's Summary line (a template citing cells of its tables: ``headline_text``)
    headlines: dict[str, Headline | str] = field(default_factory=dict)
    #: what each comparison the Summary invites can and cannot show (words, no figures)
    caveats: list[str] = field(default_factory=list)
    #: the words a sheet prints beside its tables (``words_of``: no count of people in them)
    texts: dict[str, Any] = field(default_factory=dict)

    def published(self) -> Published:
        """What a renderer gets (``Published``): the shown tables and the words, never the
        true counts, the cells' keys or the relations."""
        return Published(
            {
                sheet: [shown_table(t, self.shown[t.name]) for t in tables]
                for sheet, tables in self.sheets.items()
            },
            dict(self.headlines),
            list(self.caveats),
            dict(self.texts),
            list(self.earlier_periods),
        )


@dataclass(frozen=True)
class Table:
    """One table as published: its shown values (hidden figures as their symbols) and how to
    print them. The true counts stay in the ``Publication``."""

    name: str
    title: str
    note: str
    values: pd.DataFrame  # object dtype: numbers, text or a symbol
    suppressed: pd.DataFrame  # bool, the same shape: which figures are hidden
    formats: dict[str, str]  # column -> number format (``formats.formats_for``), every column
    counts: tuple[str, ...] = ()
    percent: tuple[str, ...] = ()
    chart: str | None = None


def shown_table(table: SummaryTable, shown: Suppressed) -> Table:
    from evaltool.report.formats import formats_for

    return Table(
        table.name,
        table.title,
        table.note,
        shown.values.copy(),
        shown.suppressed.copy(),
        formats_for(table),
        tuple(table.counts),
        tuple(table.percent),
        table.chart,
    )


@dataclass(frozen=True)
class Published:
    """The publication as a renderer gets it: every table as shown, by sheet, and the words
    the sheets print beside them (see ``Publication``)."""

    sheets: dict[str, list[Table]]
    headlines: dict[str, Headline | str] = field(default_factory=dict)
    caveats: list[str] = field(default_factory=list)
    texts: dict[str, Any] = field(default_factory=dict)
    earlier_periods: list[str] = field(default_factory=list)

    @property
    def shown(self) -> dict[str, Table]:
        """Every table by name (a ``Table`` has ``values`` like a protected table)."""
        return {t.name: t for tables in self.sheets.values() for t in tables}


def _renamed(table: SummaryTable, name: str) -> SummaryTable:
    """The table under another name, its own relations following it."""

    def ref(t):
        return (name, *t[1:]) if isinstance(t, tuple) and t[0] == table.name else t

    relations = tuple(
        Relation(tuple((ref(t), c) for t, c in r.terms), r.op)
        if isinstance(r, Relation)
        else Implied(r.name, tuple((ref(t), c) for t, c in r.terms))
        for r in table.relations
    )
    return _replace(table, name=name, relations=relations)


def rows_read(results: Results) -> SummaryTable:
    tables = results.loaded.dataset.tables
    return SummaryTable(
        "rows-read",
        "Rows read",
        pd.DataFrame(
            [(name, len(frame)) for name, frame in tables.items()], columns=["Table", "Rows"]
        ),
        counts=("Rows",),
        note="Rows of each table as at the period end: records dated later are left out, as "
        "they had not been made then.",
    )


def comparable(results: Results) -> bool:
    """Whether each cohort has enough clients for the propensity comparison in the return."""
    from evaltool.report.survival_tables import CMP_MIN_COHORT

    t = results.survival.table_ if results.survival is not None else None
    return t is not None and all(
        (t["cohort"] == c).sum() >= CMP_MIN_COHORT for c in ("service", "comparison")
    )


def gather(results: Results) -> dict[str, list[SummaryTable]]:
    """The return's tables by sheet, each with a name unique in the return."""
    sheets: dict[str, list[SummaryTable]] = {"Activity": list(results.activity)}
    taken = {t.name for t in results.activity}
    for instrument in results.loaded.instruments:
        tables = []
        for table in results.summaries[instrument.name]:
            if table.name in taken:
                table = _renamed(table, f"{instrument.name}/{table.name}")
            taken.add(table.name)
            tables.append(table)
        sheets[instrument.name] = tables
    if results.comparisons is not None and not results.comparisons.empty:
        from evaltool.report.before_after_tables import comparison_tables

        titles = {i.name: i.title for i in results.loaded.instruments}
        main, tests = comparison_tables(
            results.comparisons, titles, results.settings.compare_min_days
        )
        sheets["Before and after"] = main
        sheets[ANNEX] = tests
    if results.survival is not None:
        from evaltool.report.survival_tables import survival_tables

        assert results.recurrence is not None and results.recurrence_groups is not None
        sheets["Time to next proceedings"] = [
            results.recurrence,
            results.recurrence_groups,
            *survival_tables(results.survival),
        ]
        if results.survival_new is not None:
            from evaltool.report.survival_tables import return_type_tables

            sheets["Time to next proceedings"] += return_type_tables(
                results.survival, results.survival_new
            )
        if (results.survival.benchmark_ or {}).get("compared"):
            from evaltool.report.survival_tables import benchmark_table

            sheets["Time to next proceedings"].append(benchmark_table(results.survival.benchmark_))
        if results.compared is not None and comparable(results):
            from evaltool.report.survival_tables import (
                comparison_size,
                comparison_tables,
                overlap_scores,
            )

            sheets["Time to next proceedings"] += comparison_tables(
                results.survival, results.compared
            )
            medians = next(
                (t for t in sheets["Time to next proceedings"] if t.name == "km-median"), None
            )
            sheets["Time to next proceedings"].append(comparison_size(results.compared, medians))
            overlap = overlap_scores(results.compared, results.settings.small_number_threshold)
            if overlap is not None:
                sheets["Time to next proceedings"].append(overlap)
        from evaltool.report.annex import CMP_POWER, POWER, annex_tables, power_table

        medians = next(
            (t for t in sheets["Time to next proceedings"] if t.name == "km-median"), None
        )
        tests = annex_tables(results.survival)
        for name, title, found in (
            (POWER, "Power of the comparison of the cohorts", results.survival.evidence_),
            (
                CMP_POWER,
                "Power of the adjusted comparison of the cohorts",
                results.compared.evidence_ if results.compared is not None else None,
            ),
        ):
            if (table := power_table(name, title, found, medians)) is not None:
                tests.append(table)
        if tests:
            sheets[ANNEX] = [*sheets.get(ANNEX, []), *tests]
    if results.pbr is not None:
        sheets[PBR] = [results.pbr, results.pbr_cohorts]  # the one that grows, last
    if results.value is not None:  # [value] enabled: protected with everything else
        from evaltool.report.value_tables import SHEET, value_tables

        sheets[SHEET] = value_tables(results.value, results.survival)
    sheets["Data quality"] = [rows_read(results)]
    from evaltool.report.definitions import SHEET, definitions_table

    sheets[SHEET] = [definitions_table(results)]
    return sheets


#: what a renderer says of the benchmark: words and published figures, never the service's
#: counts (its figures are the km-benchmark table's)
BENCHMARK_WORDS = (
    "label", "source", "published", "checked", "compared", "measured", "not_compared",
)  # fmt: skip


def words_of(results: Results, pub: Publication) -> Publication:
    """The publication with the words its sheets print beside the tables: the headlines'
    templates, the Summary's caveats, and ``texts`` (set once the tables are protected, as
    the value-for-money paragraph depends on what is shown). None of them counts people.

    ``texts`` keys: "survival" (the analysis's origin, entry, CI transform, follow-up date,
    outcomes, evidence and the benchmark in words), "annex-notes" (the Cox model's notes),
    "comparison" (the propensity design, hazard ratio and effective sample sizes) and
    "value" (the board page's value-for-money paragraph)."""
    from evaltool.report.annex import annex_notes, without_power
    from evaltool.report.summary import caveats

    pub.headlines = dict(results.headlines)
    pub.caveats = caveats(results)
    survival = results.survival
    texts: dict[str, Any] = {"annex-notes": annex_notes(survival)}
    if survival is not None:
        bench = survival.benchmark_
        texts["survival"] = {
            "origin": survival.origin,
            "entry": survival.entry,
            "ci": survival.ci,
            "followed_up_to": pd.Timestamp(survival.extract_date_).date(),
            "new_child": results.survival_new is not None,
            "evidence": without_power(survival.evidence_),
            "cox": survival.cox_ is not None or bool(survival.warnings_),
            # the benchmark in words: its service figures are the km-benchmark table's
            "benchmark": None if bench is None else {k: bench.get(k) for k in BENCHMARK_WORDS},
        }
    compared = results.compared
    if compared is not None:
        cox = compared.cox_.iloc[0]
        texts["comparison"] = {  # the effective sample sizes: the cmp-size table
            "design": compared.propensity.describe(),
            "hr": (float(cox["hr"]), float(cox["hr_low"]), float(cox["hr_high"])),
            "evidence": without_power(compared.evidence_),
        }
    shown = pub.shown.get("value")
    if results.value is not None and shown is not None:
        from evaltool.report.value_tables import board_paragraph

        if results.value.central is not None and bool(shown.suppressed.to_numpy().any()):
            texts["value"] = (
                "Value for money: not shown, as it rests on counts hidden in this return."
            )
        else:
            texts["value"] = board_paragraph(results.value)
    pub.texts = texts
    return pub


def _key(period: Period, table: str, labels: str, column: str) -> str:
    """A cell's key (see the module's docstring)."""
    if table in TIMELESS:
        return f"{table}|{labels}|{column}"
    return f"{period.code}|{table}|{labels}|{column}"


def _labels(table: SummaryTable, frame: pd.DataFrame, r: int) -> str:
    """What names a row: its text columns and whole-number columns that are not counts or
    figures (a Kaplan-Meier row is its group and its time)."""
    parts = []
    for col in frame.columns:
        if col in table.counts or col in table.derived or col in table.percent:
            continue
        value = frame.at[r, col]
        if isinstance(value, str) or (
            pd.api.types.is_integer_dtype(frame[col]) and not pd.isna(value)
        ):
            parts.append(f"{col}={value}")
    return ",".join(parts)


def cell_keys(tables: list[SummaryTable], period: Period) -> dict[Ref, str]:
    """A key per count cell, stable across returns (see the module's docstring)."""
    keys: dict[Ref, str] = {}
    for t in tables:
        frame = t.data.reset_index(drop=True)
        for col in t.counts:
            if col not in frame:
                continue
            seen: set[str] = set()
            for r in range(len(frame)):
                labels = _labels(t, frame, r)
                if labels in seen:  # rows no label tells apart: their position does
                    labels = f"{labels},row={r + 1}"
                seen.add(labels)
                keys[(t.name, r, col)] = _key(period, t.name, labels, col)
    return keys


def _as_ref(key: str) -> Ref:
    return (f"@{key}", 0, "")


def publish(results: Results, earlier: record.Earlier | None = None) -> Publication:
    """Gather the return's tables and protect them, with the earlier returns, as one problem."""
    threshold = results.settings.small_number_threshold
    period = results.period
    sheets = gather(results)
    tables = [t for ts in sheets.values() for t in ts]
    keys = cell_keys(tables, period)
    earlier = earlier or record.Earlier()
    values = Cells(tables).value
    past: dict[Ref, tuple[float, bool]] = {_as_ref(k): v for k, v in earlier.cells.items()}
    links: list[Relation] = []
    public: set[Ref] = set()
    revised: dict[str, list[str]] = {}
    by_name = {t.name: t for t in tables}
    for ref, key in keys.items():
        if key not in earlier.cells or ref not in values:
            continue
        old, hidden = earlier.cells[key]
        if old == values[ref]:  # the same cell printed again: one quantity
            links.append(Relation(((ref, 1.0), (_as_ref(key), -1.0))))
            if not hidden:
                public.add(ref)
        elif not hidden:
            table, r, col = ref
            frame = by_name[table].data.reset_index(drop=True)
            row = _labels(by_name[table], frame, r) or f"row {r + 1}"
            revised.setdefault(table, []).append(f"{row.split('=')[-1]}, {col} (was {old:g})")
    previous = period.previous()
    for t in tables:
        if t.name not in CUMULATIVE or "Window" not in t.data:
            continue
        frame = t.data.reset_index(drop=True)
        for r in frame.index[frame["Window"] == "To date"]:
            labels = _labels(t, frame, r)
            quarter = next(
                (
                    q
                    for q in frame.index[frame["Window"] == "Quarter"]
                    if _labels(t, frame, q).replace("Window=Quarter", "Window=To date") == labels
                ),
                None,
            )
            for col in t.counts:
                before = _key(previous, t.name, labels, col)
                if quarter is not None and before in earlier.cells:
                    links.append(
                        Relation(
                            (
                                ((t.name, r, col), 1.0),
                                ((t.name, quarter, col), -1.0),
                                (_as_ref(before), -1.0),
                            )
                        )
                    )
    history = [
        Relation(tuple(((k if k.startswith("~") else _as_ref(k)), c) for k, c in terms), op)
        for op, terms in earlier.relations
    ]
    for name, notes in revised.items():  # a figure that changed since it was sent says so
        for ts in sheets.values():
            for i, t in enumerate(ts):
                if t.name == name:
                    note = "[r] revised since an earlier return: " + "; ".join(notes)
                    ts[i] = _replace(t, note=f"{t.note} {note}".strip())
    # an output already made for this period hid these cells: with the same values, hide them
    # again, so that the return, its JSON and the board page show the same figures
    again = earlier.hidden_in.get(period.code, {})
    keep = {ref for ref, key in keys.items() if key in again and again[key] == values.get(ref)}
    leaks: list[Leak] = []
    shown = protect(
        tables,
        threshold,
        [*links, *history],
        earlier=past,
        leaks_left=leaks,
        public=public - keep,
        hidden=keep,
    )
    # an earlier cell the earlier returns already give away, by themselves, is no leak of
    # this return (nothing in it can mend what was sent): only this return's are refused
    before_values = {ref: v for ref, (v, h) in past.items() if not h}
    before_hidden = {ref for ref, (_, h) in past.items() if h}
    # a cell of this return printed again from an earlier one is that earlier cell: where
    # the earlier returns by themselves narrow it as far, this return adds nothing to it
    same = {
        rel.terms[0][0]: rel.terms[1][0]
        for rel in links
        if len(rel.terms) == 2 and isinstance(rel.terms[1][0], tuple)
    }

    def given_away(leak: Leak) -> bool:
        if isinstance(leak.cell, tuple) and leak.cell[0].startswith("@"):
            return bool(audit(before_values, before_hidden, history, threshold, (), {leak.cell}))
        if leak.cell not in same:
            return False
        found = audit(before_values, before_hidden, history, threshold, (), {same[leak.cell]})
        return any(e.high - e.low <= leak.high - leak.low for e in found)

    leaks = [leak for leak in leaks if not given_away(leak)]
    hidden = {
        (name, r, col)
        for name, s in shown.items()
        for col in s.suppressed.columns
        for r in range(len(s.suppressed))
        if s.suppressed.at[r, col]
    }
    cells = {keys[ref]: (v, ref in hidden) for ref, v in values.items() if ref in keys}
    tag = f"~{period.code}:"
    timeless = {f"{t}:" for t in SHARED_UNSEEN}  # unseen quantities of a past quarter: one each
    mine = [rel for t in tables for rel in table_relations(t)] + links
    for t in tables:
        for implied in (r for r in t.relations if isinstance(r, Implied)):
            mine.append(implied.relation())
    relations = []
    for rel in mine:
        terms = []
        for term, c in rel.terms:
            if isinstance(term, str):
                shared = any(term.startswith(p) for p in timeless)
                terms.append(("~" + term if shared else tag + term, c))
            elif term[0].startswith("@"):
                terms.append((term[0][1:], c))
            elif term in keys:
                terms.append((keys[term], c))
            else:
                break
        else:
            relations.append((rel.op, terms))
    pub = Publication(
        sheets,
        shown,
        keys,
        cells,
        relations,
        revised,
        leaks,
        earlier.periods,
    )
    return words_of(results, pub)


def headline_text(
    headline: Headline | str, pub: Publication | Published, instrument: str, profile: str = "gss"
) -> str:
    """A headline filled from the protected tables; any hidden cited cell hides the line."""
    if isinstance(headline, str):
        return headline
    if headline.empty:
        return headline.empty
    figures = []
    for cite in headline.cites:
        shown = pub.shown.get(cite.table) or pub.shown.get(f"{instrument}/{cite.table}")
        if shown is None or cite.column not in shown.values:
            return "see the instrument's sheet"
        value = shown.values.iloc[cite.row][cite.column]
        if value == SUPPRESSED:
            symbol = SYMBOL_PROFILES[profile][SUPPRESSED]
            return f"figures not shown: small numbers ({symbol} on the instrument's sheet)"
        if value in (NOT_APPLICABLE, NOT_AVAILABLE) or value is None or pd.isna(value):
            return "no data yet"
        figures.append(cite.fmt.format(value))
    return headline.text.format(*figures)

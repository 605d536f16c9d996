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
from typing import TYPE_CHECKING

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
        for table in results.summary_tables[instrument.name]:
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
        if results.compared is not None and comparable(results):
            from evaltool.report.survival_tables import comparison_tables

            sheets["Time to next proceedings"] += comparison_tables(
                results.survival, results.compared
            )
    if results.pbr is not None:
        sheets[PBR] = [results.pbr, results.pbr_cohorts]  # the one that grows, last
    if results.value is not None:  # [value] enabled: protected with everything else
        from evaltool.report.value_tables import SHEET, value_tables

        sheets[SHEET] = value_tables(results.value, results.survival)
    sheets["Data quality"] = [rows_read(results)]
    return sheets


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
    return Publication(
        sheets,
        shown,
        keys,
        cells,
        relations,
        revised,
        leaks,
        earlier.periods,
    )


def headline_text(
    headline: Headline | str, pub: Publication, instrument: str, profile: str = "gss"
) -> str:
    """A headline filled from the protected tables; any hidden cited cell hides the line."""
    if isinstance(headline, str):
        return headline
    if headline.empty:
        return headline.empty
    figures = []
    tables = {t.name: t for sheet in pub.sheets.values() for t in sheet}
    for cite in headline.cites:
        shown = pub.shown.get(cite.table) or pub.shown.get(f"{instrument}/{cite.table}")
        table = tables.get(cite.table) or tables.get(f"{instrument}/{cite.table}")
        if shown is None or cite.column not in shown.values:
            return "see the instrument's sheet"
        value = shown.values.iloc[cite.row][cite.column]
        if value == SUPPRESSED:
            symbol = SYMBOL_PROFILES[profile][SUPPRESSED]
            return f"figures not shown: small numbers ({symbol} on the instrument's sheet)"
        if value in (NOT_APPLICABLE, NOT_AVAILABLE) or value is None or pd.isna(value):
            return "no data yet"
        figures.append(cite.format_for(table).format(value))
    return headline.text.format(*figures)

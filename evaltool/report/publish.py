"""What the return publishes: every table, protected together with the earlier returns.

``publish`` gathers the tables of a return by sheet, gives every count cell a key that is the
same in every return that prints it (a past quarter's activity row) or names its period
(``2025-Q4|closures|Window=To date,...|Closures``), links this return to the recorded earlier
ones (the same cell printed again; "to date" = last quarter's "to date" + this quarter), and
protects the whole series as one problem. The renderers (``excel.py``, ``json.py``) only lay it
out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from evaltool.analysis.activity import REFERRALS, STARTS
from evaltool.analysis.survival.table import LOST_REASONS, NEVER_STARTED
from evaltool.analysis.windows import (
    ALL_TIME,
    FOLLOWED,
    RECURRENCE,
    RETURNED,
    STRATA,
    THIS_QUARTER,
    YEAR_DAYS,
)
from evaltool.instruments.results import MANY, Headline, Implied, Ref, Relation, SummaryTable
from evaltool.report import magnitudes, record
from evaltool.report.disclosure import (
    DETAIL_WINDOWS,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    SUPPRESSED,
    Cells,
    Leak,
    Suppressed,
    _Components,
    audit,
    hidden_refs,
    pinned,
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
#: tables whose counts at a fixed time only grow from one return to a later one
#: figures that only grow from one return to a later one (``_never_fall``): each table's
#: columns, and those whose growth is a count of people (new to it since)
NEVER_FALL = {
    "km": ("At risk", "Events so far"),
    "km-new-child": ("At risk", "Events so far"),
    "km-median": ("Clients", "Events"),
}
GROWTH_IS_PEOPLE = ("Events so far", "Clients", "Events")
#: tables whose "To date" rows are last quarter's "To date" plus this "Quarter": sums over
#: quarters of events that keep their date and kind (a closure, a feedback response, a
#: pregnancy by the date it became known); the columns (all counts where None), a tuple of
#: columns where only their sum is one (a pregnancy of a client not yet started moves from
#: "never started" to "before start" when she starts)
CUMULATIVE: dict[str, tuple | None] = {
    "closures": None,
    "service-feedback-responses": None,
    "service-feedback-items": ("Answers", "Positive answers"),
    "pregnancy-rate": (
        "Pregnancies known",
        "During involvement",
        "After closure",
        ("Before start", "Client never started"),
    ),
}
#: tables whose "To date" counts people once: it never falls, grows by no more than the
#: quarter, and the growth (people counted for the first time) is a count of people
GROWING = ("contraception",)


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
        Relation(tuple((ref(t), c) for t, c in r.terms), r.op, r.given)
        if isinstance(r, Relation)
        else Implied(r.name, tuple((ref(t), c) for t, c in r.terms))
        for r in table.relations
    )
    return _replace(table, name=name, relations=relations)


def rows_read(results: Results) -> SummaryTable:
    """The tables read, with their rows only where nothing is hidden (``audience = "shared"``):
    a table's rows are records the return counts elsewhere, tied to its figures by identities
    no table declares (feedback rows are the responses to date; client rows are the clients
    analysed plus those not analysed, by reason), which gave hidden counts back exactly."""
    tables = results.loaded.dataset.tables
    when = "as at the period end: records dated later are left out, as they had not been made"
    if results.settings.audience != "shared":
        return SummaryTable(
            "rows-read",
            "Tables read",
            pd.DataFrame({"Table": list(tables)}),
            note=f"The tables of the service's data the return was made from, {when}. How "
            "many rows each has is not given: with the other figures it could give hidden "
            "ones away (`evaltool validate` lists them for the service).",
        )
    return SummaryTable(
        "rows-read",
        "Rows read",
        pd.DataFrame(
            [(name, len(frame)) for name, frame in tables.items()], columns=["Table", "Rows"]
        ),
        counts=("Rows",),
        note=f"Rows of each table {when}.",
    )


def comparable(results: Results) -> bool:
    """Whether each cohort has enough clients for the propensity comparison in the return."""
    from evaltool.report.survival_tables import CMP_MIN_COHORT

    t = results.survival.table_ if results.survival is not None else None
    return t is not None and all(
        (t["cohort"] == c).sum() >= CMP_MIN_COHORT for c in ("service", "comparison")
    )


#: a domain's stage moves, whose counts the Before and after interval bounds
STAGE_MOVES = ("Moved up a stage or more", "Moved down a stage or more")


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
        # a domain scale's changes are whole points; where every domain is higher-better,
        # an improved one is 1 to the span (a lower-better domain's improved are negative)
        whole = {
            i.name: (i.lo, i.hi)
            for i in results.loaded.instruments
            if getattr(i, "kind", None) == "domain_scale"
            and all(d.get("higher_is_better", True) for d in getattr(i, "domains", []))
        }
        # a domain's stage moves to date, by row: the interval is hidden where they are
        moves = {}
        for instrument, tables in sheets.items():
            for t in tables:
                cols = tuple(c for c in STAGE_MOVES if c in t.counts and c in t.data)
                if t.name == f"{instrument}-to-date" and cols:
                    moves[instrument] = (t.name, cols, t.data.iloc[:, 0].tolist())
        main, tests = comparison_tables(
            results.comparisons, titles, results.settings.compare_min_days, whole, moves
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
        tests = annex_tables(results.survival, medians)
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
    from evaltool.report.key_figures import caveats

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
        # with a cohort's events hidden, so is the hazard ratio, as the Annex's Cox model
        # (with one or two events a cohort it gives them back)
        medians = pub.shown.get("km-median")
        few = medians is not None and bool(medians.suppressed.get("Events", pd.Series()).any())
        texts["comparison"] = {  # the effective sample sizes: the cmp-size table
            "design": compared.propensity.describe(),
            "hr": None if few else (float(cox["hr"]), float(cox["hr_low"]), float(cox["hr_high"])),
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
    keep = results.settings.keep  # the fewest values a hidden count keeps for a reader
    period = results.period
    sheets = gather(results)
    tables = [_joined(t) for ts in sheets.values() for t in ts]
    keys = cell_keys(tables, period)
    earlier = earlier or record.Earlier()
    values = Cells(tables).value
    past: dict[Ref, tuple[float, bool]] = {
        _as_ref(k): v for k, v in earlier.cells.items() if not magnitudes.is_mean_key(k)
    }
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
    past[ONE] = (1.0, False)  # the constant 1, known to every reader
    extra: dict[str, list[Implied]] = {}
    links += _stated(results, tables, values)
    links += _over_quarters(tables, keys, earlier, period, extra)
    links += _never_fall(keys, earlier, period, extra, values)
    links += within(tables, values, extra, period)
    tables = [
        _replace(t, relations=(*t.relations, *extra[t.name])) if t.name in extra else t
        for t in tables
    ]
    history = [
        Relation(tuple(((k if k.startswith("~") else _as_ref(k)), c) for k, c in terms), op)
        for op, terms in earlier.relations
    ]
    # a quarter's unseen quantity that changed since an earlier return (a decision undone:
    # a set of proceedings open then, counted as "not met", ended with no order) is a new one
    tables, links = _revised_unseen(tables, links, history, past, values, period.code)
    for name, notes in revised.items():  # a figure that changed since it was sent says so
        for ts in sheets.values():
            for i, t in enumerate(ts):
                if t.name == name:
                    note = "[r] revised since an earlier return: " + "; ".join(notes)
                    ts[i] = _replace(t, note=f"{t.note} {note}".strip())
    # an output already made for this period hid these cells: with the same values, hide them
    # again, so that the return, its JSON and the board page show the same figures
    again = earlier.hidden_in.get(period.code, {})
    again_hidden = {
        ref for ref, key in keys.items() if key in again and again[key] == values.get(ref)
    }
    # what the earlier returns fix exactly is a constant to every later question (kept as
    # named in the record; only the protection's copies are rewritten)
    recorded_tables, recorded_links = tables, links
    tables, links, history = _constants(tables, links, history, past)
    # a cell the earlier returns already pin to its value (last quarter's figure, printed
    # there as "this quarter") is shown again: hiding it protects nothing and says it twice
    public |= _known_before(tables, values, past, history)
    leaks: list[Leak] = []
    bounds: list[Relation] = []  # shares printed as bounds: what they tell, for the record
    shown = protect(
        tables,
        threshold,
        [*links, *history],
        earlier=past,
        leaks_left=leaks,
        public=public - again_hidden,
        hidden=again_hidden,
        bands_out=bounds,
        keep=keep,
        favour=_outcome(tables),
        ranged=_ranged(tables),
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
            return bool(
                audit(before_values, before_hidden, history, threshold, (), {leak.cell}, keep)
            )
        if leak.cell in same:
            found = audit(
                before_values, before_hidden, history, threshold, (), {same[leak.cell]}, keep
            )
            return any(e.high - e.low <= leak.high - leak.low for e in found)
        # a cell that is a sum of earlier quarters' quantities (last quarter's figure): where
        # the earlier returns by themselves narrow those as far, this return adds nothing
        defs = _definitions(tables, leak.cell) if isinstance(leak.cell, tuple) else []
        if not defs:
            return False
        found = audit(
            before_values,
            before_hidden | {leak.cell},
            [*history, *defs],
            threshold,
            (),
            {leak.cell},
            keep,
        )
        return any(e.high - e.low <= leak.high - leak.low for e in found)

    leaks = [leak for leak in leaks if not given_away(leak)]
    hidden = hidden_refs(shown)
    cells = {keys[ref]: (v, ref in hidden) for ref, v in values.items() if ref in keys}
    cells[ONE[0][1:]] = (1.0, False)
    means, held = magnitudes.hold_means(
        tables, shown, _labels, period.code, earlier.cells, threshold
    )
    cells.update(means)
    note = magnitudes.NOTE.format(threshold=threshold)
    for ts in sheets.values():
        for i, t in enumerate(ts):
            if t.name in held:
                ts[i] = _replace(t, note=f"{t.note} {note}".strip())
    tag = f"~{period.code}:"
    tables, links = recorded_tables, recorded_links
    mine = [rel for t in tables for rel in table_relations(t)] + links + bounds
    mine = [rel for rel in mine if rel.known(hidden)]
    for t in tables:
        for implied in (r for r in t.relations if isinstance(r, Implied)):
            mine.append(implied.relation())
    relations = []
    for rel in mine:
        terms = []
        for term, c in rel.terms:
            if isinstance(term, str):
                terms.append((term if term.startswith("~") else tag + term, c))
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


#: the constant 1, recorded with every return, for what a return says of a count by words
#: or by a figure that needs one ("about 5 a year": 6 or 7 started)
ONE: Ref = ("@one", 0, "")


def _stated(
    results: Results, tables: list[SummaryTable], values: dict[Ref, float]
) -> list[Relation]:
    """What words and derived figures of the return say of counts, as relations on the
    constant: the Value for money sheet's parents a year bound the starts of the four
    quarters to the period end ("about 5": 6 or 7); a Cox hazard ratio for the cohorts,
    finite, says each cohort had new proceedings (an adversary narrowed a hidden 0..6 to 1..5
    with it, 2026-12-07)."""
    out: list[Relation] = []
    by_name = {t.name: t.data.reset_index(drop=True) for t in tables}
    value = getattr(results, "value", None)
    stated = getattr(value, "parents_range", None)
    trend = by_name.get("activity")
    if stated is not None and trend is not None:
        quarters = [results.period]
        for _ in range(3):
            quarters.append(quarters[-1].previous())
        labels = {q.label for q in quarters}
        rows = [r for r in trend.index if trend.at[r, "Quarter"] in labels]
        starts = [(("activity", r, "Starts"), 1.0) for r in rows]
        low, high = stated
        if all(t in values for t, _ in starts):
            total = sum(values[t] for t, _ in starts)
            if low <= total <= high:  # as the words say (else they say nothing of these)
                out.append(Relation((*starts, (ONE, -float(high))), "<="))
                if low > 0:
                    out.append(Relation((*((t, -c) for t, c in starts), (ONE, float(low))), "<="))
    cox, med = by_name.get("cox"), by_name.get("km-median")
    if cox is not None and med is not None and "Covariate" in cox and "Group" in med:
        rows = cox.index[cox["Covariate"] == "cohort"]
        finite = len(rows) and pd.notna(pd.to_numeric(cox.at[rows[0], "Hazard ratio"], "coerce"))
        for g in ("service", "comparison") if finite else ():
            r = med.index[med["Group"] == g]
            cell = ("km-median", int(r[0]), "Events") if len(r) else None
            if cell in values and values[cell] >= 1:
                out.append(Relation(((ONE, 1.0), (cell, -1.0)), "<="))
    return out


def within(
    tables: list[SummaryTable],
    values: dict[Ref, float],
    extra: dict[str, list[Implied]],
    period: Period | None = None,
) -> list[Relation]:
    """The relations between tables of one return that no table declares on its own, as a
    reader would assume them (each only where it holds on these values); counts of people
    they imply are added to ``extra`` (table -> implied counts)."""
    return (
        _never_started(tables, values)
        + _analysed(tables, values, extra)
        + _same_people(tables, values)
        + _lost_to_follow_up(tables, values)
        + _mean_parts(tables, values)
        + _held(tables, values)
        + (_followed_a_year(tables, values, period) if period is not None else [])
    )


def _held(tables: list[SummaryTable], values: dict[Ref, float]) -> list[Relation]:
    """``SummaryTable.held_by``, row by row: units from 1 up mean one person at least."""
    out = []
    for t in tables:
        for r in range(len(t.data)) if t.held_by else ():
            for units, people in t.held_by:
                u, p = (t.name, r, units), (t.name, r, people)
                if u in values and p in values:
                    out += held_relations(((u, 1.0),), ((p, 1.0),), (u,), values[u], values[p])
    return out


def held_relations(
    units: tuple, people: tuple, printed: tuple, n_units: float, n_people: float
) -> list[Relation]:
    """Units (a sum of terms) held by people (another): ``units <= MANY x people``, exact with
    whole numbers (its linear relaxation is not, so a question on it is an integer
    programme); and, where it holds, ``people >= 1`` outright while the cells that give the
    units are all shown, as a reader reads it."""
    out = [Relation((*units, *((x, -MANY * c) for x, c in people)), "<=")]
    if n_units >= 1 and n_people >= 1:
        out.append(Relation(((ONE, 1.0), *((x, -c) for x, c in people)), "<=", given=printed))
    return out


def _quarter_rows(
    t: SummaryTable, by_name: dict[str, SummaryTable]
) -> list[tuple[SummaryTable, pd.DataFrame, int, int]]:
    """Each "To date" row of ``t`` with the row of the same labels for this quarter alone:
    (the quarter's table, its frame, its row, the "To date" row). The quarter is in ``t``
    itself (a "Window" column) or in ``<x>-quarter`` beside ``<x>-to-date``."""
    frame = t.data.reset_index(drop=True)
    if "Window" in frame:
        quarter, qframe = t, frame
        quarters = {
            _labels(t, frame, q).replace("Window=Quarter", "Window=To date"): q
            for q in frame.index[frame["Window"] == "Quarter"]
        }
        rows = frame.index[frame["Window"] == "To date"]
    elif t.name.endswith("-to-date") and (
        quarter := by_name.get(t.name.removesuffix("-to-date") + "-quarter")
    ):
        qframe = quarter.data.reset_index(drop=True)
        quarters = {_labels(quarter, qframe, q): q for q in qframe.index}
        rows = frame.index
    else:
        return []
    return [
        (quarter, qframe, int(q), int(r))
        for r in rows
        if (q := quarters.get(_labels(t, frame, r))) is not None
    ]


def _over_quarters(
    tables: list[SummaryTable],
    keys: dict[Ref, str],
    earlier: record.Earlier,
    period: Period,
    implied: dict[str, list[Implied]],
) -> list[Relation]:
    """Last quarter's return and this one as a reader puts them together: "To date" is last
    quarter's "To date" plus this "Quarter" (``CUMULATIVE``), or for people counted once
    (``GROWING``) at least last quarter's and at most that plus the quarter, the growth a
    count of people (``implied``, by table)."""
    previous = period.previous()
    out: list[Relation] = _grown(tables, earlier, period, implied)
    out += _carried(tables, earlier, period)
    for t in tables:
        known = t.name in CUMULATIVE or t.name in GROWING or t.grows or t.rises or t.grows_with
        if not known or "Window" not in t.data:
            continue
        frame = t.data.reset_index(drop=True)
        spec = CUMULATIVE.get(t.name) or (None if t.name in GROWING else t.grows)
        summed = t.name in CUMULATIVE or t.name in GROWING or t.grows
        groups = [(c,) if isinstance(c, str) else tuple(c) for c in (spec or t.counts)]
        groups = (groups if summed else []) + [(c,) for c in t.rises]
        for _, _, quarter, r in _quarter_rows(t, {}):
            labels = _labels(t, frame, r)
            for c, other in t.grows_with.items():  # new clients bring new goals
                before = [_key(previous, t.name, labels, x) for x in (c, other)]
                if not all(b in earlier.cells for b in before) or other not in frame:
                    continue
                rise = [
                    frame.at[r, x] - earlier.cells[b][0]
                    for x, b in zip((c, other), before, strict=True)
                ]
                if rise[0] <= rise[1]:  # else not so here: nothing a reader relies on
                    terms = (
                        ((t.name, int(r), c), 1.0),
                        (_as_ref(before[0]), -1.0),
                        ((t.name, int(r), other), -1.0),
                        (_as_ref(before[1]), 1.0),
                    )
                    out.append(Relation(terms, "<="))
            out += _among_to_date(t, frame, quarter, t, frame, r)
            for cols in groups:
                before = [_key(previous, t.name, labels, c) for c in cols]
                if not all(b in earlier.cells for b in before) or not all(c in frame for c in cols):
                    continue
                now = [((t.name, int(r), c), 1.0) for c in cols]
                then = [(_as_ref(b), -1.0) for b in before]
                this = [((t.name, int(quarter), c), -1.0) for c in cols]
                if t.name in CUMULATIVE:
                    out.append(Relation((*now, *this, *then)))
                    continue
                if cols[0] in t.rises:  # may fall; what rose was counted in the quarter
                    c = cols[0]
                    rose = frame.at[r, c] - earlier.cells[before[0]][0] - frame.at[quarter, c]
                    if rose <= 0:  # else not so here: nothing a reader relies on
                        out.append(Relation((*now, *then, *this), "<="))
                    continue
                out.append(
                    Relation((*((x, -c) for x, c in now), *((x, -c) for x, c in then)), "<=")
                )
                out.append(Relation((*now, *then, *this), "<="))
                name = f"{t.name}: {', '.join(cols)} counted for the first time, {period.code}"
                implied.setdefault(t.name, []).append(Implied(name, (*now, *then)))
    return out


def _grown(
    tables: list[SummaryTable],
    earlier: record.Earlier,
    period: Period,
    implied: dict[str, list[Implied]],
) -> list[Relation]:
    """A table ``<x>-to-date`` whose columns ``grows`` count people once, against its
    ``<x>-quarter`` and last quarter's return: the figure never falls, grows by at most this
    quarter's, and the growth is a count of people (partner referrals: 12 parents referred to
    date, then 14, say 2 referred for the first time this quarter, however the quarter's own
    figure is hidden)."""
    by_name = {t.name: t for t in tables}
    previous = period.previous()
    out: list[Relation] = []
    for t in tables:
        if not t.grows or "Window" in t.data:
            continue
        frame = t.data.reset_index(drop=True)
        for quarter, qframe, q, r in _quarter_rows(t, by_name):
            labels = _labels(t, frame, r)
            out += _among_to_date(quarter, qframe, q, t, frame, r)
            for col in t.grows:
                before = _key(previous, t.name, labels, col)
                if before not in earlier.cells or col not in qframe:
                    continue
                now, then = ((t.name, int(r), col), 1.0), (_as_ref(before), -1.0)
                this = ((quarter.name, int(q), col), -1.0)
                out.append(Relation(((now[0], -1.0), (then[0], 1.0)), "<="))
                out.append(Relation((now, then, this), "<="))
                name = f"{t.name}: {col} counted for the first time, {labels}, {period.code}"
                implied.setdefault(t.name, []).append(Implied(name, (now, then)))
    return out


def _carried(tables: list[SummaryTable], earlier: record.Earlier, period: Period) -> list[Relation]:
    """``SummaryTable.carried``: each "To date" count is this quarter's plus an unseen part
    (the people to date not read this quarter), for which the row's own relations hold; and
    with last quarter's return, that part is at most its "To date" (they are there, as they
    were), and the rest of it (those read again, as they were then) keeps the row's
    relations too. Each only where it holds on these values (data revised since may break
    it: then a reader could not rely on it either)."""
    by_name = {t.name: t for t in tables}
    previous = period.previous()
    out: list[Relation] = []
    for t in tables:
        if not t.carried:
            continue
        frame = t.data.reset_index(drop=True)
        cols = [c for c in t.carried if c in frame]
        own = table_relations(_replace(t, total_row=None))
        for quarter, qframe, q, r in _quarter_rows(t, by_name):
            qname = quarter.name
            labels = _labels(t, frame, r)
            row = [
                rel
                for rel in own
                if all(
                    isinstance(x, tuple) and x[0] == t.name and x[1] == r and x[2] in cols
                    for x, _ in rel.terms
                )
            ]
            part = {c: float(frame.at[r, c] - qframe.at[q, c]) for c in cols}
            if any(v < 0 for v in part.values()) or not all(_obeys(rel, part) for rel in row):
                continue  # not so here: nothing a reader relies on
            unseen = {
                c: f"{t.name}: {c} to date, not read in {period.code}, {labels}" for c in cols
            }
            # to date less this quarter is people too: the row's relations hold for them (in
            # one return: 8 of 11 moved up a stage to date, all 11 improved, 6 this quarter,
            # all improved: the other 5 moved up 5 at most, so this quarter's "0 to 9" was 3
            # to 6)
            for c in cols:
                out.append(
                    Relation((((t.name, r, c), 1.0), ((qname, q, c), -1.0), (unseen[c], -1.0)))
                )
            out += [Relation(tuple((unseen[x[2]], c) for x, c in rel.terms), rel.op) for rel in row]
            held = [(u, p) for u, p in t.held_by if u in cols and p in cols]
            for u, p in held:  # units among them mean one of them at least
                printed = ((t.name, r, u), (qname, q, u))
                z = (((unseen[u], 1.0),), ((unseen[p], 1.0),))
                out += held_relations(*z, printed, part[u], part[p])
            before = {c: _key(previous, t.name, labels, c) for c in cols}
            if not all(b in earlier.cells for b in before.values()):
                continue
            rest = {c: earlier.cells[before[c]][0] - part[c] for c in cols}
            if any(v < 0 for v in rest.values()) or not all(_obeys(rel, rest) for rel in row):
                continue  # revised since: not what a reader could rely on
            for c in cols:
                out.append(Relation(((unseen[c], 1.0), (_as_ref(before[c]), -1.0)), "<="))
            for u, p in held:  # and so do those of the rest
                printed = (_as_ref(before[u]), (t.name, r, u), (qname, q, u))
                units = ((_as_ref(before[u]), 1.0), (unseen[u], -1.0))
                people = ((_as_ref(before[p]), 1.0), (unseen[p], -1.0))
                out += held_relations(units, people, printed, rest[u], rest[p])
            for rel in row:
                then = [
                    term
                    for x, c in rel.terms
                    for term in ((_as_ref(before[x[2]]), c), (unseen[x[2]], -c))
                ]
                out.append(Relation(tuple(then), rel.op))
    return out


def _obeys(rel: Relation, values: dict[str, float]) -> bool:
    """Whether a relation of one row's columns holds for these values of the columns."""
    total = sum(c * values[ref[2]] for ref, c in rel.terms)
    return abs(total) < 1e-9 if rel.op == "=" else total <= 1e-9


def _among_to_date(
    quarter: SummaryTable,
    qframe: pd.DataFrame,
    q: int,
    t: SummaryTable,
    frame: pd.DataFrame,
    r: int,
) -> list[Relation]:
    """This quarter's people (row ``q`` of ``quarter``) are among those to date (row ``r`` of
    ``t``), in each column of ``t.grows``, where it holds."""
    return [
        Relation((((quarter.name, int(q), c), 1.0), ((t.name, int(r), c), -1.0)), "<=")
        for c in t.grows
        if c in qframe and c in frame and qframe.at[q, c] <= frame.at[r, c]
    ]


def _joined(table: SummaryTable) -> SummaryTable:
    """The table with its unseen quantities of a quarter named as the record names them
    (``~name``): one quantity in this return and in every recorded one, so that a reader who
    subtracts last quarter's total from this one's meets the protection."""

    def name(term: object) -> object:
        shared = isinstance(term, str) and any(term.startswith(f"{p}:") for p in SHARED_UNSEEN)
        return f"~{term}" if shared else term

    relations = tuple(
        Relation(tuple((name(t), c) for t, c in r.terms), r.op, r.given)
        if isinstance(r, Relation)
        else r
        for r in table.relations
    )
    unseen = {str(name(k)): v for k, v in table.unseen.items()}
    return _replace(table, relations=relations, unseen=unseen)


#: how a quarter's unseen quantity revised since an earlier return is named: the quantity
#: as this return counts it, a new one (a cell revised is ``key#return`` in the record)
REVISED = " #as in "


def _revised_unseen(
    tables: list[SummaryTable],
    links: list[Relation],
    history: list[Relation],
    past: dict[Ref, tuple[float, bool]],
    values: dict[Ref, float],
    code: str,
) -> tuple[list[SummaryTable], list[Relation]]:
    """The tables and links with each shared unseen quantity (a quarter's decisions, named
    alike in every return: ``SHARED_UNSEEN``) named as its latest version in the record, or
    as a new version where this return's count of it differs from the earlier returns'.

    A quarter's count is not always fixed once its quarter is over: a parent counted "not
    met" because a set of proceedings was still open is no longer so once it ends with no
    order. Naming both counts alike is a relation that is false, and the protection's
    programme has no solution; ``audit`` then drops every relation of the earlier returns
    in it, the true ones a reader uses too (last quarter's "financial year to date" against
    this one's). The true values say which quantities changed: with every cell, earlier and
    this return's, at its true value, the fewest shared quantities are split (the earlier
    count and this one, two quantities) for the relations to hold together. Where they hold
    together as they are, nothing is split; where no split makes them hold (figures revised
    in the data), the names stay as they are (``audit`` then falls back as before). Where
    the record shows only a sum of several quarters, which of them changed is not known and
    the solver picks one: the others stay linked, consistent with every true value."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    old = {t for rel in history for t, _ in rel.terms if isinstance(t, str)}
    latest: dict[str, str] = {}
    for name in sorted(old, key=lambda n: n.partition(REVISED)[2]):  # the first has no tag
        latest[name.partition(REVISED)[0]] = name
    mine = [rel for t in tables for rel in table_relations(t)]
    mine += [rel for rel in links if isinstance(rel, Relation)]
    shared = sorted(
        {
            t
            for rel in mine
            for t, _ in rel.terms
            if isinstance(t, str) and t.startswith("~") and t in latest
        }
    )
    if not shared:
        return tables, links
    rename = {n: latest[n] for n in shared}
    truth = {ref: v for ref, (v, _) in past.items()} | dict(values)

    def known(rel: Relation) -> bool:
        return all(isinstance(t, str) or t in truth for t, _ in rel.terms)

    new = {latest[n]: f"{n}{REVISED}{code}" for n in shared}
    # this return's relations on their own quantities (``new``), the earlier ones on theirs
    rels = [_renamed(rel, {n: new[latest[n]] for n in shared}) for rel in mine if known(rel)]
    rels += [rel for rel in history if known(rel)]
    # only what is joined, through unseen quantities, to a shared one bears on it
    find = _Components()
    for rel in rels:
        find.join([t for t, _ in rel.terms if isinstance(t, str)])
    split = list(new.items())
    near = {find(t) for pair in split for t in pair}
    rels = [
        rel for rel in rels if any(isinstance(t, str) and find(t) in near for t, _ in rel.terms)
    ]
    names = sorted({t for rel in rels for t, _ in rel.terms if isinstance(t, str)})
    index = {t: i for i, t in enumerate(names)}
    split = [(b, a) for b, a in split if b in index and a in index]
    n, k = len(names), len(split)
    if not k:
        return tables, links
    r_, c_, v_, lo, hi = [], [], [], [], []
    for i, rel in enumerate(rels):
        const = 0.0
        for t, c in rel.terms:
            if isinstance(t, str):
                r_.append(i)
                c_.append(index[t])
                v_.append(c)
            else:
                const += c * truth[t]
        lo.append(-const if rel.op == "=" else -np.inf)
        hi.append(-const)
    big = 2 * max((abs(v) for v in truth.values()), default=0) + 10
    i = len(rels)
    for j, (before, now) in enumerate(split):  # |now - before| <= big * changed
        for sign in (1, -1):
            r_ += [i, i, i]
            c_ += [index[now], index[before], n + j]
            v_ += [sign, -sign, -big]
            lo.append(-np.inf)
            hi.append(0.0)
            i += 1
    matrix = coo_matrix((v_, (r_, c_)), shape=(i, n + k)).tocsr()
    cost = np.concatenate([np.zeros(n), np.ones(k)])
    found = milp(
        cost,
        constraints=LinearConstraint(matrix, np.array(lo), np.array(hi)),
        integrality=np.concatenate([np.zeros(n), np.ones(k)]),
        bounds=Bounds(np.zeros(n + k), np.concatenate([np.full(n, np.inf), np.ones(k)])),
    )
    if found.status == 0:
        changed = {before for j, (before, _) in enumerate(split) if found.x[n + j] > 0.5}
        rename = {m: new[latest[m]] if latest[m] in changed else latest[m] for m in shared}
    rename = {a: b for a, b in rename.items() if a != b}
    if not rename:
        return tables, links
    tables = [
        _replace(
            t,
            relations=tuple(_renamed(r, rename) for r in t.relations),
            unseen={rename.get(a, a): v for a, v in t.unseen.items()},
        )
        for t in tables
    ]
    return tables, [_renamed(r, rename) for r in links]


def _renamed(rel, rename: dict[str, str]):
    """``rel`` with its unseen quantities renamed (an ``Implied`` count names none)."""
    if not isinstance(rel, Relation):
        return rel
    terms = tuple((rename.get(t, t) if isinstance(t, str) else t, c) for t, c in rel.terms)
    return Relation(terms, rel.op, rel.given)


def _constants(
    tables: list[SummaryTable],
    links: list[Relation],
    history: list[Relation],
    past: dict[Ref, tuple[float, bool]],
) -> tuple[list[SummaryTable], list[Relation], list[Relation]]:
    """The relations with every unseen quantity the earlier returns fix exactly replaced by
    a known cell of its value (added to ``past``)."""
    shown = {ref: v for ref, (v, h) in past.items() if not h}
    hidden = {ref for ref, (_, h) in past.items() if h}
    fixed = pinned(history, shown, hidden)
    if not fixed:
        return tables, links, history
    as_cell = {name: (f"@{name}", 0, "") for name in fixed}
    past.update({as_cell[name]: (v, False) for name, v in fixed.items()})

    def sub(rel):
        if not isinstance(rel, Relation):
            return rel
        return Relation(
            tuple((as_cell.get(t, t) if isinstance(t, str) else t, c) for t, c in rel.terms),
            rel.op,
            rel.given,
        )

    tables = [_replace(t, relations=tuple(sub(r) for r in t.relations)) for t in tables]
    return tables, [sub(r) for r in links], [sub(r) for r in history]


def _definitions(tables: list[SummaryTable], cell: Ref) -> list[Relation]:
    """The relations that define ``cell`` from earlier quarters' unseen quantities alone."""
    return [
        rel
        for t in tables
        if t.name == cell[0]
        for rel in table_relations(t)
        if any(term == cell for term, _ in rel.terms)
        and all(term == cell or _of_earlier(term) for term, _ in rel.terms)
    ]


def _of_earlier(term: object) -> bool:
    """An earlier quarter's quantity: unseen (``~name``) or fixed by the record (``@``)."""
    if isinstance(term, str):
        return term.startswith("~")
    return isinstance(term, tuple) and str(term[0]).startswith("@")


def _known_before(
    tables: list[SummaryTable],
    values: dict[Ref, float],
    past: dict[Ref, tuple[float, bool]],
    history: list[Relation],
) -> set[Ref]:
    """This return's cells that the recorded returns by themselves give exactly (a sum of
    quarters whose every quantity an earlier return showed)."""
    shown = {ref: v for ref, (v, h) in past.items() if not h}
    hidden = {ref for ref, (_, h) in past.items() if h}
    out = set()
    for t in tables:
        if not any(
            isinstance(term, str) and term.startswith("~")
            for r in t.relations
            if isinstance(r, Relation)
            for term, _ in r.terms
        ):
            continue
        frame = t.data.reset_index(drop=True)
        for col in t.counts:
            for r in range(len(frame)):
                cell = (t.name, r, col)
                if cell not in values:
                    continue
                defs = _definitions(tables, cell)
                if not defs:
                    continue
                found = audit(shown, hidden | {cell}, [*history, *defs], 10**6, (), {cell})
                if any(e.low == e.high == values[cell] for e in found):
                    out.add(cell)
    return out


def _never_fall(
    keys: dict[Ref, str],
    earlier: record.Earlier,
    period: Period,
    implied: dict[str, list[Implied]],
    values: dict[Ref, float],
) -> list[Relation]:
    """Figures that only grow from one return to a later one, as a reader knows: at a fixed
    time, the Kaplan-Meier numbers at risk (more people reach it) and events so far (an event
    stays an event), each cut at its period end; and each cohort's parents analysed and
    their events (adversary 4, 2026-12-07: the comparison cohort's 9 less the rise of all
    from 31 to 32 narrowed last return's to 8 or 9, and through the parents analysed the
    starts and the caseload to two values). Linked to every recorded return's, each where it
    holds; the growth since the latest earlier return of a count of people is parents new to
    it (``implied``), watched like a cell."""
    by_rest: dict[str, list[tuple[str, str]]] = {}
    for key in earlier.cells:
        code, _, rest = key.partition("|")
        if rest.split("|", 1)[0] in NEVER_FALL and "#" not in key:
            by_rest.setdefault(rest, []).append((code, key))
    out = []
    for ref, key in keys.items():
        if ref[2] not in NEVER_FALL.get(ref[0], ()) or ref not in values:
            continue
        now = values[ref]
        found = [
            (code, old)
            for code, old in by_rest.get(key.partition("|")[2], [])
            if (
                earlier.cells[old][0] <= now if code < period.code else now <= earlier.cells[old][0]
            )
        ]
        before = [(code, old) for code, old in found if code < period.code]
        if before and ref[2] in GROWTH_IS_PEOPLE:
            code, old = max(before)
            name = f"{key}: counted for the first time since {code}"
            implied.setdefault(ref[0], []).append(Implied(name, ((ref, 1.0), (_as_ref(old), -1.0))))
        for code, old in found:
            if code < period.code:  # earlier <= now
                out.append(Relation(((_as_ref(old), 1.0), (ref, -1.0)), "<="))
            elif code > period.code:  # a past quarter made after a later one: now <= later
                out.append(Relation(((ref, 1.0), (_as_ref(old), -1.0)), "<="))
    return out


def _same_people(tables: list[SummaryTable], values: dict[Ref, float]) -> list[Relation]:
    """A before-and-after row and the instrument's row for the same measure that count the
    same people (the same total and the same split into improved, unchanged and worse): one
    quantity each, so that neither shows what the other hides (13 pairs shown beside 12 of 13
    improved gives the one who did not)."""
    out = []
    by_name = {t.name: t for t in tables}
    for t in tables:  # a table of one measure says which of its "To date" cells are the pairs
        o = by_name.get(t.name.removeprefix("compare-"))
        if not t.name.startswith("compare-") or o is None or not o.same_as_pairs:
            continue
        of = o.data.reset_index(drop=True)
        rows = of.index[of["Window"] == "To date"] if "Window" in of else []
        if len(t.data) == 1 and len(rows) == 1:
            for mine, theirs in o.same_as_pairs.items():
                m, x = (t.name, 0, mine), (o.name, int(rows[0]), theirs)
                if m in values and values.get(x) == values[m]:
                    out.append(Relation(((m, 1.0), (x, -1.0))))
            # a parent whose mean over their goals rose has a goal that improved, and one whose
            # mean fell a goal that did not (adversary 7, 2026-12-07: with the goals not
            # improved to date at most 3, a parent worse printed "0 to 9" was 0 to 3)
            r = int(rows[0])
            improved, rated = (o.name, r, GOALS_IMPROVED), (o.name, r, GOALS_RATED)
            up, down = (t.name, 0, "Improved"), (t.name, 0, "Worse")
            if all(c in values for c in (improved, rated, up, down)):
                if values[up] <= values[improved]:
                    out.append(Relation(((up, 1.0), (improved, -1.0)), "<="))
                if values[down] <= values[rated] - values[improved]:
                    out.append(Relation(((down, 1.0), (improved, 1.0), (rated, -1.0)), "<="))
    for t in tables:
        if not t.name.startswith("compare-") or "Measure" not in t.data or not t.sums:
            continue
        total, parts = next(iter(t.sums.items()))
        frame = t.data.reset_index(drop=True)
        instrument = t.name.removeprefix("compare-")
        others = [
            o
            for name, o in by_name.items()
            if (name == instrument or name.startswith(f"{instrument}-")) and o.sums
        ]
        for r in range(len(frame)):
            mine = [(t.name, r, c) for c in (total, *parts)]
            if any(m not in values for m in mine):
                continue
            for o in others:
                o_total, o_parts = next(iter(o.sums.items()))
                if tuple(o_parts) != tuple(parts) or "Window" in o.data:
                    continue
                of = o.data.reset_index(drop=True)
                label = next((c for c in of.columns if of[c].dtype == object), None)
                for q in of.index[of[label] == frame.at[r, "Measure"]] if label else []:
                    theirs = [(o.name, int(q), c) for c in (o_total, *o_parts)]
                    if all(values.get(x) == values[m] for x, m in zip(theirs, mine, strict=True)):
                        out += [
                            Relation(((m, 1.0), (x, -1.0)))
                            for x, m in zip(theirs, mine, strict=True)
                        ]
    return out


#: a goal instrument's to-date goals, of which a parent's improvement is made
GOALS_IMPROVED, GOALS_RATED = "Goals improved", "Goals rated twice or more"


def _never_started(tables: list[SummaryTable], values: dict[Ref, float]) -> list[Relation]:
    """The service cohort's parents never started (survival's exclusions) are the all-time
    referrals less the all-time starts (the activity windows), as a reader will assume."""
    by_name = {t.name: t.data.reset_index(drop=True) for t in tables}
    why, windows = by_name.get("km-exclusions"), by_name.get("activity-windows")
    if why is None or windows is None or "Reason" not in why or "Window" not in windows:
        return []
    n = why.index[why["Reason"] == NEVER_STARTED]
    a = windows.index[windows["Window"] == "All time"]
    if len(n) != 1 or len(a) != 1:
        return []
    terms = (
        (("km-exclusions", int(n[0]), "Clients"), 1.0),
        (("activity-windows", int(a[0]), "Referrals"), -1.0),
        (("activity-windows", int(a[0]), "Starts"), 1.0),
    )
    if any(t not in values for t, _ in terms) or sum(values[t] * c for t, c in terms) != 0:
        return []  # not what the reader would assume here: nothing to link
    return [Relation(terms)]


def _holds(terms: tuple, values: dict[Ref, float]) -> bool:
    """Does ``sum(coefficient * value) <= 0`` hold on these values (every term known)? A
    relation declared only where it holds: where it does not, a reader who assumes it is
    wrong, and nothing is given away."""
    return all(t in values for t, _ in terms) and sum(values[t] * c for t, c in terms) <= 1e-9


def _lost_closures(closed: pd.DataFrame | None, window: str) -> list[Ref] | None:
    """The closures table's cells of ``window`` ("Quarter", "To date") for the reasons that
    end follow-up (moved away, died); None without that table."""
    if closed is None or not {"Window", "Closure reason"} <= set(closed):
        return None
    lost = {reason.replace("_", " ") for reason in LOST_REASONS}
    return [
        ("closures", int(r), "Closures")
        for r in closed.index
        if closed.at[r, "Window"] == window and closed.at[r, "Closure reason"] in lost
    ]


def _outcome(tables: list[SummaryTable]) -> list[Ref]:
    """The Summary's first rows, the outcome these services exist for (new proceedings within
    a year of joining) over a year and all time: where one of them or an activity figure must
    be hidden, the activity figure is (a 25-client service kept its starts, 16, and lost both
    outcome rows, all time its only window above the threshold)."""
    rec = next((t.data.reset_index(drop=True) for t in tables if t.name == RECURRENCE), None)
    if rec is None or "Window" not in rec:
        return []
    rows = rec.index[~rec["Window"].isin(DETAIL_WINDOWS)]
    return [(RECURRENCE, int(r), col) for r in rows for col in (FOLLOWED, RETURNED)]


def _ranged(tables: list[SummaryTable]) -> list[Ref]:
    """Every count, the Summary's first (the activity and the outcome in each window): where
    hidden, a range of tens may be printed in its place ("20 to 29", ``disclosure._bands``),
    so that a commissioner reads how many, roughly, where the exact count would give people
    away. Each is tried in this order, and each range printed narrows the ones after it: the
    headlines go first. Every hidden count is a candidate, whatever its value, so that a
    count left ``c`` says nothing of why."""
    summary = ("activity-windows", RECURRENCE)
    ordered = sorted(tables, key=lambda t: t.name not in summary)
    return [
        (t.name, r, col)
        for t in ordered
        for r in range(len(t.data))
        for col in t.counts
        if col in t.data
    ]


def _mean_parts(tables: list[SummaryTable], values: dict[Ref, float]) -> list[Relation]:
    """A mean printed to 2 decimals times its group is a sum, within half a hundredth a
    member; each member's value lies in its category's range (``SummaryTable.mean_parts``),
    so the sum bounds the categories' counts (adversary 4, 2026-12-07: a domain's mean
    distance of 6 clients put its hidden improved at 2 to 6; a feedback mean times its
    answers, a quarter's positives at 0 to 3). Each where it holds, known to the reader only
    while the group is shown (``Relation.given``: the mean is hidden with it); a mean held
    back later (``magnitudes``) keeps it, which only protects more."""
    out = []
    for t in tables:
        frame = t.data.reset_index(drop=True)
        for mean, (group, parts) in t.mean_parts.items():
            if mean not in frame or group not in frame:
                continue
            named = [(c, lo, hi) for c, lo, hi in parts if c]
            rest = next(((lo, hi) for c, lo, hi in parts if not c), (0.0, 0.0))
            for r in frame.index:
                m = frame.at[r, mean]
                cells = [(t.name, int(r), c) for c, _, _ in named]
                n = (t.name, int(r), group)
                if pd.isna(m) or any(c not in values for c in (*cells, n)):
                    continue
                m = round(float(m), 2)
                # sum <= every member at its category's top; >= every one at its bottom
                top = (
                    (n, m - 0.005 - rest[1]),
                    *((c, rest[1] - hi) for c, (_, _, hi) in zip(cells, named, strict=True)),
                )
                bottom = (
                    (n, rest[0] - m - 0.005),
                    *((c, lo - rest[0]) for c, (_, lo, _) in zip(cells, named, strict=True)),
                )
                out += [Relation(x, "<=", given=n) for x in (top, bottom) if _holds(x, values)]
    return out


def _lost_to_follow_up(tables: list[SummaryTable], values: dict[Ref, float]) -> list[Relation]:
    """Payment by results decides "lost to follow-up" on the day a parent moved away or
    died, so each outcome's lost in the quarter (all time) is at most the closures for those
    reasons in the quarter (to date), as the sheet's note tells a reader (adversary 3's F5,
    2026-12-07: a cohort's hidden 1 narrowed to 0..4). Each only where it holds."""
    by_name = {t.name: t.data.reset_index(drop=True) for t in tables}
    pbr, closed = by_name.get("pbr"), by_name.get("closures")
    lost = "Decided: lost to follow-up"
    if pbr is None or lost not in pbr:
        return []
    out = []
    for window, span in ((THIS_QUARTER, "Quarter"), (ALL_TIME, "To date")):
        reasons = _lost_closures(closed, span)
        if reasons is None:
            return []
        for r in pbr.index[pbr["Window"] == window]:
            terms = ((("pbr", int(r), lost), 1.0), *((c, -1.0) for c in reasons))
            if _holds(terms, values):
                out.append(Relation(terms, "<="))
    return out


def _followed_a_year(
    tables: list[SummaryTable], values: dict[Ref, float], period: Period
) -> list[Relation]:
    """The parents followed for a year, all time, as a reader with the activity table will
    bound them (adversary 3's F2, 2026-12-07: with the count printed, the starts since a year
    before the period end came back, exactly where nobody moved away or died):

    - at most the starts (the referrals, where parents are followed from referral) of the
      quarters that began a year or more before the period end: nobody joins before starting;
    - at least the starts of the quarters that ended by then, less the closures to date for
      moving away or dying (the follow-up they end) and the survival table's exclusions
      other than never starting.

    Each only where it holds on these values (a parent whose index was still open joins on
    its conclusion, later than the start, and may not be counted yet). Only the all-time row:
    a single quarter's year may end after the quarter a year on."""
    by_name = {t.name: t.data.reset_index(drop=True) for t in tables}
    rec, act, why, closed = (
        by_name.get(n) for n in (RECURRENCE, "activity", "km-exclusions", "closures")
    )
    if rec is None or act is None or "Window" not in rec or "Quarter" not in act:
        return []
    a = rec.index[rec["Window"] == ALL_TIME]
    if len(a) != 1:
        return []
    started = why is not None and (why["Reason"] == NEVER_STARTED).any()
    column = STARTS if started else REFERRALS
    cutoff = period.end - dt.timedelta(days=YEAR_DAYS)
    quarters, q = {}, period
    for _ in range(len(act) + 1):
        quarters[q.label] = q
        q = q.previous()
    began = [
        r for r, x in enumerate(act["Quarter"]) if x in quarters and quarters[x].start <= cutoff
    ]
    ended = [r for r, x in enumerate(act["Quarter"]) if x in quarters and quarters[x].end <= cutoff]
    followed = (RECURRENCE, int(a[0]), FOLLOWED)
    most = ((followed, 1.0), *((("activity", r, column), -1.0) for r in began))
    lost = [
        ("km-exclusions", int(r), "Clients")
        for r in (why.index if why is not None else ())
        if why.at[r, "Reason"] != NEVER_STARTED
    ] + (_lost_closures(closed, "To date") or [])
    least = (
        (followed, -1.0),
        *((("activity", r, column), 1.0) for r in ended),
        *((c, -1.0) for c in lost),
    )
    return [Relation(terms, "<=") for terms in (most, least) if _holds(terms, values)]


#: the service cohort's parents who joined but are not analysed, for a reason other than
#: never having started (no index proceedings, joined after the extract, no follow-up)
NOT_ANALYSED = "km-exclusions: service cohort's parents who joined, not analysed"


def _analysed(
    tables: list[SummaryTable], values: dict[Ref, float], extra: dict[str, list[Implied]]
) -> list[Relation]:
    """The service cohort analysed (the medians table's service parents) is everyone who
    joined (the all-time starts; the all-time referrals where parents are followed from
    referral) less those not analysed for another reason: a reader who sees those reasons at
    0 reads the starts from the medians table and the other way round (the comparison's 5
    parents came back as all 22 less the 17 started, on 2026-12-07, found by mining the
    identities that hold on every synthetic service). The difference is a count of people,
    watched like a cell, and at most the parents not analysed for those reasons."""
    by_name = {t.name: t.data.reset_index(drop=True) for t in tables}
    why, windows, med = (by_name.get(n) for n in ("km-exclusions", "activity-windows", "km-median"))
    if why is None or windows is None or med is None or "Group" not in med:
        return []
    a = windows.index[windows["Window"] == "All time"]
    g = med.index[med["Group"] == "service"]
    if len(a) != 1 or len(g) != 1:
        return []
    started = (why["Reason"] == NEVER_STARTED).any()
    joined = ("activity-windows", int(a[0]), "Starts" if started else "Referrals")
    analysed = ("km-median", int(g[0]), "Clients")
    others = [
        ("km-exclusions", int(r), "Clients")
        for r in why.index
        if why.at[r, "Reason"] != NEVER_STARTED
    ]
    if any(t not in values for t in (joined, analysed, *others)):
        return []
    if not 0 <= values[joined] - values[analysed] <= sum(values[t] for t in others):
        return []  # not what the definitions say here: nothing a reader could rely on
    extra.setdefault("km-exclusions", []).append(
        Implied(NOT_ANALYSED, ((joined, 1.0), (analysed, -1.0)))
    )
    return [Relation(((NOT_ANALYSED, 1.0), *((t, -1.0) for t in others)), "<=")]


def headline_text(
    headline: Headline | str, pub: Publication | Published, instrument: str, profile: str = "gss"
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
        if isinstance(value, str):  # a share printed as a bound ("at most 20%"), as it is
            figures.append(value)
            continue
        figures.append(cite.format_for(table).format(value))
    return headline.text.format(*figures)

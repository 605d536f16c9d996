"""The funder return: an Excel workbook with stable sheet names and order.

Cover, Summary, one sheet per instrument, Before and after, Time to next proceedings,
Data quality, Definitions. Counts are suppressed (see disclosure.py); no client ids, dates of
birth or free text reach it. The file is written to a temporary file beside the target and
renamed into place, so a failed run never leaves a half-made or overwritten return.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from evaltool.analysis.evidence import evidence
from evaltool.analysis.survival.table import ENTRY_WORDS, NO_RETURN_TYPE, ORIGIN_DEFINITIONS
from evaltool.analysis.windows import RECURRENCE, STRATA
from evaltool.data.benchmark import DAYS_PER_MONTH, Benchmark
from evaltool.data.contract import CONTRACT_DOC, CONTRACT_VERSION
from evaltool.errors import OutputError
from evaltool.instruments.base import Definition
from evaltool.instruments.results import SummaryTable
from evaltool.report.disclosure import NOT_AVAILABLE, SUPPRESSED, protect
from evaltool.report.formats import SYMBOL_PROFILES, symbol_key
from evaltool.report.output import DRAFT_MARKING, Output, write_output
from evaltool.report.publish import ANNEX, PBR, Publication, headline_text, publish
from evaltool.report.survival_tables import NEW_CHILD, RETURN_TYPE
from evaltool.report.value_tables import SHEET as VALUE
from evaltool.report.words import glossed, plain_definitions
from evaltool.report.workbook import (
    FONT,
    SheetWriter,
    Written,
    house_font,
    page_furniture,
    radar_chart,
    rows_for,
    sheet_title,
    trend_chart,
    write_summary_table,
)

if TYPE_CHECKING:
    from evaltool.core import Results


class Book:
    """The workbook being made, and what the saved file still needs: the value of each
    Summary formula and the alt text of each chart (see xlsx_finish), and the Contents."""

    def __init__(
        self, results: Results, pub: Publication, internal: bool, output: Output | None = None
    ) -> None:
        self.results, self.pub, self.internal = results, pub, internal
        #: how the pages are marked: the status and the audience (a final published return
        #: when the workbook is built without an Output)
        self.output = output or Output(results, pub, internal)
        self.threshold = self.output.threshold
        self.wb = Workbook()
        house_font(self.wb)
        self.used: set[str] = set()
        self.profile = results.settings.symbols
        self.contents: list[tuple[str, str]] = []  # (sheet title, what it holds)
        self.values: dict[str, dict[str, object]] = {}  # sheet title -> cell -> value
        self.alt: dict[str, list[str]] = {}  # sheet title -> alt text per chart
        self.chart_data: SheetWriter | None = None
        self.writers: list[SheetWriter] = []
        self.links: list[tuple[Any, str, int, str]] = []  # Summary cell, table, window, column

    @property
    def placed(self) -> dict[str, tuple[str, Written]]:
        """Where each table was written: table name -> (sheet title, its position)."""
        return {name: (sw.ws.title, w) for sw in self.writers for name, w in sw.placed.items()}

    def sheet(self, name: str, title: str, about: str, first: bool = False) -> SheetWriter:
        """A new sheet with its title, and under it what, where and when."""
        ws = self.wb.active if first else self.wb.create_sheet()
        ws.title = sheet_title(name, self.used)
        self.contents.append((ws.title, about))
        if self.output.draft:  # on screen too: the title says it (no row moves)
            title = f"{title} – DRAFT"
        sw = SheetWriter(ws, title, self.internal, self.profile)
        self.writers.append(sw)
        r = self.results
        sw.note(
            f"{r.settings.service}; {r.period.describe()}. Figures count people unless a "
            "heading says otherwise."
        )
        sw.row += 1
        return sw

    def data_sheet(self) -> SheetWriter:
        """The sheet the charts read (made on first use, placed last)."""
        if self.chart_data is None:
            ws = self.wb.create_sheet()
            ws.title = sheet_title("Chart data", self.used)
            title = "Chart data – DRAFT" if self.output.draft else "Chart data"
            self.chart_data = SheetWriter(ws, title, self.internal, self.profile)
            self.chart_data.note(
                "The figures each chart draws, copied from its table; a hidden or unavailable "
                "figure is a blank (a gap in the chart), never a 0."
            )
            self.chart_data.row += 1
        return self.chart_data

    def chart(self, ws: Worksheet, text: str) -> None:
        self.alt.setdefault(ws.title, []).append(text)


def build_workbook(
    results: Results,
    internal: bool = False,
    pub: Publication | None = None,
    output: Output | None = None,
) -> Workbook:
    """Make the return workbook in memory (``pub``: its protected tables, see publish.py;
    ``output``: how its pages are marked, draft or final, published or shared).

    The file's formula values and chart alt texts are added after saving
    (``book_extras(wb)`` hands them to ``xlsx_finish.finish``)."""
    pub = pub or publish(results)
    book = Book(results, pub, internal, output)
    write_cover(book)
    contents = book.sheet("Contents", "Contents", "The sheets of this return, each a link to it")
    notes = book.sheet("Notes", "Notes", "What the symbols mean, and notes that apply throughout")
    write_summary(book)
    sw = book.sheet(
        "Activity",
        "Activity: referrals, starts, closures and caseload",
        "Activity by quarter and in each of the Summary's windows; closures by reason",
    )
    trend, closures, windows = pub.sheets["Activity"]
    # the table that grows by a row each quarter goes last: every other cell keeps its place
    write_summary_table(sw, windows, pub.shown[windows.name])
    write_summary_table(sw, closures, pub.shown[closures.name])
    write_summary_table(sw, trend, pub.shown[trend.name])
    sw.finish()

    for instrument in results.loaded.instruments:
        sw = book.sheet(
            instrument.title, instrument.title, f"{instrument.title}: what the instrument shows"
        )
        for table in pub.sheets[instrument.name]:
            written = write_summary_table(sw, table, pub.shown[table.name])
            if table.chart == "radar":  # a chart starts a printed page: never cut in two
                sw.ws.row_breaks.append(Break(id=sw.row - 1))
                sw.row += radar_chart(book, sw.ws, written.shown, f"A{sw.row}", table.title)
        sw.finish()

    sw = book.sheet(
        "Before and after",
        "Before and after: first vs latest reading",
        "Each measure's first and latest reading: means, the change with its 95% CI, and who "
        "improved",
    )
    if "Before and after" not in pub.sheets:
        sw.note("No instrument in this return declares measures for comparison.")
    for table in pub.sheets.get("Before and after", []):
        write_summary_table(sw, table, pub.shown[table.name])
    if "Before and after" in pub.sheets:
        sw.note(evidence("before-after")["statement"])
    sw.finish()

    sw = book.sheet(
        "Time to next proceedings",
        "Time to next care proceedings",
        "New care proceedings within a year, by window; the share with new proceedings at "
        "fixed times, with a chart",
    )
    write_survival(book, sw)
    sw.finish()

    if PBR in pub.sheets:
        s = results.settings
        sw = book.sheet(
            PBR,
            "Payment-by-results outcomes",
            "Fixed-horizon outcomes from each parent's start, as outcome funders pay on them",
        )
        sw.pairs(
            [
                (
                    "Not pregnant",
                    f"no pregnancy known within {s.pbr_pregnancy_months} months of starting, "
                    f"having completed {s.pbr_engagement_months} months of the programme",
                ),
                (
                    "No new proceedings",
                    f"no care proceedings (interim care, care or placement order, or still "
                    f"open) issued within {s.pbr_proceedings_months} months of starting",
                ),
            ]
        )
        for table in pub.sheets[PBR]:
            write_summary_table(sw, table, pub.shown[table.name])
        sw.finish()

    if VALUE in pub.sheets:  # [value] enabled
        sw = book.sheet(
            VALUE,
            "Value for money",
            "What the service costs, what it may save, and how many sets of care proceedings "
            "it must prevent to pay for itself; every figure beside its assumption and source",
        )
        for table in pub.sheets[VALUE]:
            write_summary_table(sw, table, pub.shown[table.name])
        sw.finish()

    sw = book.sheet(
        ANNEX,
        "Annex: statistical tests",
        "For evaluators: the tests behind the before/after change and the comparison of cohorts",
    )
    write_annex(book, sw)
    sw.finish()

    sw = book.sheet("Data quality", "Data quality", "Rows read from each table; warnings")
    write_data_quality(sw, results, pub)
    sw.finish()

    sw = book.sheet("Definitions", "Definitions", "What each term and figure means, and its source")
    write_definitions(sw, results, book.output.shared)
    if internal:
        write_internal_sheets(book)
    if book.chart_data is not None:
        book.chart_data.finish(None)
        book.wb.move_sheet(
            book.chart_data.ws, len(book.wb.worksheets) - 1 - book.wb.index(book.chart_data.ws)
        )
        book.contents.append((book.chart_data.ws.title, "The figures each chart draws"))
    link_summary(book)
    write_contents(book, contents)
    write_notes(book, notes)
    for sheet in book.wb.worksheets:
        page_furniture(
            sheet,
            results.settings.service,
            results.period.label,
            book.output.marking,
            DRAFT_MARKING if book.output.draft else "",
        )
    book.wb.evaltool_book = book  # type: ignore[attr-defined]
    return book.wb


def book_extras(wb: Workbook) -> tuple[dict[int, dict[str, object]], dict[int, list[str]]]:
    """What ``xlsx_finish.finish`` adds to the saved file, by sheet position."""
    book: Book | None = getattr(wb, "evaltool_book", None)
    if book is None:
        return {}, {}
    position = {ws.title: k for k, ws in enumerate(wb.worksheets)}
    return (
        {position[t]: v for t, v in book.values.items()},
        {position[t]: v for t, v in book.alt.items()},
    )


def write_cover(book: Book) -> None:
    from evaltool import __version__

    results, pub = book.results, book.pub
    sw = book.sheet(
        "Cover",
        f"{results.settings.service}: quarterly return",
        "What this return covers, where its figures came from and the settings used",
        first=True,
    )
    s = results.settings
    out = book.output
    sw.pairs(
        [
            ("Status", out.status_text()),
            *([("Marking", out.marking)] if out.shared else []),
            ("Service", s.service),
            ("Funder", s.funder or "not stated"),
            ("Period", results.period.describe()),
            ("Extract date", results.extract_date),
            ("Extract date from", results.extract_source or "not stated"),
            (
                "Figures as at",
                f"{results.period.end:%d/%m/%Y}, the period end: anything recorded later "
                "is left out, so the figures are those of a return made then",
            ),
            ("Generated at", results.generated_at),
            ("evaltool version", __version__),
            ("Data contract", f"version {CONTRACT_VERSION} ({CONTRACT_DOC})"),
            (
                "Earlier returns taken into account",
                "none: nothing is hidden in a shared output"
                if out.shared
                else ", ".join(pub.earlier_periods) or "none recorded",
            ),
            ("Start here", "the Summary sheet; the Contents sheet links every sheet"),
        ]
    )
    sw.heading("Input files (SHA-256)")
    sw.pairs(input_hashes(results))
    sw.heading("Plugins")  # by distribution and version: module paths mean nothing to a funder
    packages: dict[str, str] = {}
    for p in used_plugins(results.loaded):
        state = "FAILED to load" if p.error else "loaded"
        if packages.get(f"{p.package} {p.version}") != "FAILED to load":
            packages[f"{p.package} {p.version}"] = state
    sw.pairs(sorted(packages.items()))
    sw.heading("Settings used")
    rows = settings_rows(results)
    if out.shared:
        exact = "none: exact counts (shared under agreement)"
        rows = [(k, exact if k == "Small-number threshold" else v) for k, v in rows]
    sw.pairs(rows)
    sw.finish(None)
    sw.ws.column_dimensions["B"].width = 80


def used_plugins(loaded) -> list:
    """The plugins a return names: evaltool's own, any that failed to load, and those whose
    instruments (or instrument kinds) this return used; one merely installed (the example
    plugin, say) is no part of it."""
    names = {i.name for i in loaded.instruments}
    kinds = {i.kind for i in loaded.instruments}
    return [
        p
        for p in loaded.registry.plugins
        if p.builtin or p.error or names & set(p.instruments) or kinds & set(p.kinds)
    ]


def write_contents(book: Book, sw: SheetWriter) -> None:
    """A table of the sheets, each name a link to the sheet (the guidance's contents page)."""
    sw.heading("Sheets in this return")
    header, _ = sw.frame(pd.DataFrame(book.contents, columns=["Sheet", "What it holds"]))
    for i, (title, _) in enumerate(book.contents, start=header + 1):
        cell = sw.ws.cell(row=i, column=1)
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"{quote_sheetname(title)}!A1")
        cell.style = "Hyperlink"
        cell.font = Font(name=FONT, size=10, color="0563C1", underline="single")
    sw.finish(None)
    sw.ws.column_dimensions["A"].width = 32
    sw.ws.column_dimensions["B"].width = 90


def write_notes(book: Book, sw: SheetWriter) -> None:
    """The key to the symbols, and the notes that hold for every table."""
    s = book.results.settings
    sw.heading("Key to symbols")
    hidden = SYMBOL_PROFILES[book.profile][SUPPRESSED]
    key = [
        (sym, m) for sym, m in symbol_key(book.profile) if not book.output.shared or sym != hidden
    ]
    sw.frame(pd.DataFrame(key, columns=["Symbol", "Meaning"]))
    sw.row += 1
    sw.heading("Notes that apply throughout")
    hiding = (
        f"Counts from 1 to {s.small_number_threshold} are shown as "
        f"{SYMBOL_PROFILES[book.profile]['c']}, and so is any other figure from which one could "
        "be worked out, in this return or with the earlier returns of the service."
    )
    if book.output.shared:
        hiding = (
            "Exact counts: nothing is hidden. This output is shared under a data-sharing "
            "agreement and is not for publication; the published return hides small numbers."
        )
    notes = [
        hiding,
        "Shares and means are hidden with the counts they were computed from.",
        "A table's own note, under it, says what it counts and over which window.",
        "The same cell is in the same place every quarter: new rows are added below, never "
        "between.",
        "No client reference, date of birth or free text from the service's records is in "
        "this return.",
    ]
    sw.frame(
        pd.DataFrame(
            [(f"Note {k}", text) for k, text in enumerate(notes, start=1)],
            columns=["Note", "Text"],
        )
    )
    sw.finish(None)
    sw.ws.column_dimensions["B"].width = 100


def write_summary(book: Book) -> None:
    """The key figures in five windows, each a formula pointing at the cell it comes from,
    with what each comparison can and cannot show; then the instruments' headlines."""
    from evaltool.report.key_figures import caveats, key_figures, key_value

    results, pub = book.results, book.pub
    sw = book.sheet(
        "Summary",
        f"Summary: {results.period.label}",
        "The key figures in five windows, in plain words, with what they can and cannot show",
    )
    sw.heading("Key figures (the parents this service works with)")
    windows = results.windows
    figures = key_figures(results, pub)
    frame = pd.DataFrame(
        [[f.words, *(key_value(pub, f, w) for w in range(len(windows)))] for f in figures],
        columns=["Figure", *(f"{w.name} ({w.label})" for w in windows)],
    )
    header, _ = sw.frame(frame)
    for i, figure in enumerate(figures, start=header + 1):
        for w in range(len(windows)):
            cell = sw.ws.cell(row=i, column=w + 2)
            cell.number_format = figure.number_format
            cell.alignment = Alignment(horizontal="right")
            book.links.append((cell, figure.table, w, figure.column))
    for line in caveats(results):
        sw.note(line)
    sw.row += 1
    sw.heading("What the instruments show, from the first record to the period end")
    sw.pairs(
        (i.title, headline_text(results.headlines.get(i.name, ""), pub, i.name, book.profile))
        for i in results.loaded.instruments
    )
    shown = pub.shown["activity"].values
    sw.row += trend_chart(book, sw.ws, shown, f"A{sw.row}")
    sw.finish()
    for col in range(2, len(windows) + 2):
        sw.ws.column_dimensions[get_column_letter(col)].width = 16
    sw.ws.column_dimensions["A"].width = 48  # the figures' words wrap rather than overflow
    for i in range(header + 1, header + 1 + len(figures)):
        sw.ws.cell(row=i, column=1).alignment = Alignment(wrap_text=True, vertical="top")


def link_summary(book: Book) -> None:
    """Each key figure becomes a formula pointing at its cell on its own sheet (the value
    it shows is kept for the saved file: see xlsx_finish)."""
    values = book.values
    for cell, table, w, column in book.links:
        sheet, written = book.placed[table]
        col = list(written.shown.columns).index(column) + 1
        source = f"{get_column_letter(col)}{written.header + 1 + w}"
        values.setdefault(cell.parent.title, {})[cell.coordinate] = cell.value
        cell.value = f"={quote_sheetname(sheet)}!{source}"


def write_definitions(sw: SheetWriter, results: Results, shared: bool = False) -> None:
    """The Definitions sheet (``shared``: without the hidden figures' symbol: none is hidden)."""
    defs = definitions(results)
    if shared:
        defs = [d for d in defs if not d.term.endswith("(suppressed)")]
    header, _ = sw.frame(
        pd.DataFrame(
            [(d.term, d.meaning, d.source) for d in defs], columns=["Term", "Definition", "Source"]
        )
    )
    sw.finish()
    ws = sw.ws
    ws.print_title_rows = f"{header}:{header}"
    # 30 + 70 + 33 characters: a landscape A4 page at 100%; each row as high as its lines
    for letter, width in zip("ABC", (30, 70, 33), strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=header + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def write_internal_sheets(book: Book) -> None:
    """Client-level scores, one sheet per instrument (and the payment-by-results outcomes):
    pseudonymous ids, never for funders."""
    if book.results.pbr_clients is not None:
        ws = book.wb.create_sheet()
        ws.title = sheet_title("INTERNAL pbr", book.used)
        book.contents.append((ws.title, "INTERNAL: payment-by-results outcomes, client by client"))
        sw = SheetWriter(ws, "Payment-by-results outcomes: client by client", True, book.profile)
        sw.frame(book.results.pbr_clients)
        sw.finish("A4")
    for instrument in book.results.loaded.instruments:
        ws = book.wb.create_sheet()
        ws.title = sheet_title(f"INTERNAL {instrument.name}", book.used)
        book.contents.append((ws.title, f"INTERNAL: {instrument.title}, client-level scores"))
        sw = SheetWriter(ws, f"{instrument.title}: client-level scores", True, book.profile)
        scored = book.results.evaluations[instrument.name].scores
        sw.frame(
            scored, {c: "0.0" for c in scored.columns if pd.api.types.is_float_dtype(scored[c])}
        )
        sw.finish("A4")


def p_text(p: float) -> str | float:
    """A p-value as printed: never 0 (below 0.001 reads <0.001)."""
    return "<0.001" if p < 0.001 else round(p, 3)


def write_survival(book: Book, sw: SheetWriter) -> None:
    """Time to next proceedings: new proceedings within a year by window, fixed-time
    estimates, medians, and a chart drawn from the published points only."""
    results, pub = book.results, book.pub
    survival = results.survival
    if survival is None:
        sw.note("Not available: no proceedings table.")
        return
    s = results.settings
    sw.pairs(
        [
            (glossed("origin").capitalize(), survival.origin),
            ("Counted from", f"the day each parent joined ({survival.entry})"),
            (
                "Outcomes",
                "new care proceedings of any kind"
                + ("; and new care proceedings about a new child" if results.survival_new else ""),
            ),
            (glossed("CI transform"), survival.ci),
            ("Followed up to", pd.Timestamp(survival.extract_date_).date()),
        ]
    )
    sw.row -= 1
    sw.note(
        f"Origin {survival.origin}: {ORIGIN_DEFINITIONS[survival.origin]}. Each parent is "
        f"{ENTRY_WORDS[survival.entry]} (no new proceedings could be seen before it)."
    )
    sw.row += 1
    tables = {t.name: t for t in pub.sheets["Time to next proceedings"]}
    for name in (RECURRENCE, STRATA, "km"):
        written = write_summary_table(sw, tables[name], pub.shown[name])
    for name in ("km-median", "km-exclusions", "km-overlaps", NEW_CHILD, RETURN_TYPE):
        if name in tables:
            write_summary_table(sw, tables[name], pub.shown[name])
    if NEW_CHILD not in tables:
        sw.note(f"Returns about a new child: not shown; {NO_RETURN_TYPE}.")
    if survival.evidence_ is not None:
        sw.note(
            "Service and comparison cohorts (log-rank test and Cox model on the Annex): "
            + survival.evidence_["statement"]
        )
    if results.compared is not None:
        write_comparison(sw, results, tables, pub)
    if survival.benchmark_:
        assert survival.benchmark is not None
        write_benchmark(sw, survival.benchmark, survival.benchmark_, book.threshold, book.profile)
    from evaltool.report.km_chart import add_km_chart

    printed = max(sw.widths, default=1)
    cm = sum(sw.column_width(col) * 7 / 37.8 for col in range(1, printed + 1))  # 7 px/char
    width = min(max(cm * 0.95, 20), 25)  # at 100% a landscape A4 page is 27 cm wide
    sw.ws.row_breaks.append(Break(id=sw.row))  # the chart starts a printed page
    data = book.data_sheet()
    data.heading("Time to next proceedings: the published points of the fixed-time table")
    # a benchmark point on the service's chart only when measured like for like
    like = s.benchmark if (survival.benchmark_ or {}).get("compared") else None
    add_km_chart(
        sw.ws,
        written.shown,
        like,
        survival.ci,
        anchor=f"A{sw.row + 1}",
        data_ws=data.ws,
        data_col=1,
        data_row=data.row,
        width_cm=width,
    )
    data.row += len(written.shown["Months"].unique()) + 4
    book.chart(sw.ws, km_alt_text(written.shown, like))
    sw.row += rows_for(width / 2)  # the chart is half as high as wide
    if survival.warnings_:  # the analysis's own notes are for evaluators: on the Annex
        sw.note(
            "Notes on the Cox model (see Definitions) are on the Annex; they do not change the "
            "figures on this sheet."
        )


def write_comparison(
    sw: SheetWriter, results: Results, tables: dict[str, SummaryTable], pub: Publication
) -> None:
    """The cohorts compared with propensity scores: the design, the balance, the adjusted
    difference and hazard ratio, and the strength of that evidence."""
    from evaltool.report.survival_tables import CMP_BALANCE, CMP_DIFFERENCE, CMP_MIN_COHORT

    compared = results.compared
    assert compared is not None
    sw.heading("Comparison of the cohorts, adjusted for measured differences")
    if CMP_BALANCE not in tables:
        sw.note(
            f"Not shown: fewer than {CMP_MIN_COHORT} parents in a cohort, too few to adjust "
            "for differences between them."
        )
        return
    cox = compared.cox_.iloc[0]
    ess = compared.effective_sample_size_
    sw.note(f"Design: {compared.propensity.describe()}.")  # wrapped: a long text
    sw.pairs(
        [
            (
                "Hazard ratio, service vs comparison",
                f"{cox['hr']:.2f} (95% CI {cox['hr_low']:.2f} to "
                f"{cox['hr_high']:.2f}; weighted Cox model, robust standard error)",
            ),
            (
                "Effective sample size",
                f"service {ess['service']:.0f}, comparison {ess['comparison']:.0f} (what the "
                "weighted cohorts are worth in unweighted parents)",
            ),
        ]
    )
    for name in (CMP_BALANCE, CMP_DIFFERENCE):
        write_summary_table(sw, tables[name], pub.shown[name])
    sw.note(compared.evidence_["statement"])


def write_benchmark(
    sw: SheetWriter, bench: Benchmark, b: dict[str, Any], threshold: int, profile: str
) -> None:
    """The benchmark in plain words (who, from where, when, the source and what was checked),
    the service's own figure at each of its points where it is like for like, and the
    strength of that evidence. A service figure resting on few parents is not shown: fewer
    than threshold + 1 at risk, or 1 to threshold new proceedings by then."""
    sw.heading("Benchmark")
    published = f" (published {b['published']})" if b["published"] else ""
    sw.pairs(
        [
            ("Figure", bench.label),
            ("Measured on", bench.describe()),
            ("Published figures", bench.points_text()),
        ]
    )
    # long texts as wrapped notes: one overflowing cell would widen the printed page
    sw.note(f"Source: {b['source']}{published}.")
    if b["checked"]:
        sw.note(f"Checked against the source: {b['checked']}")
    if not b["compared"]:
        sw.note(
            f"Measured differently: a guide to scale only, not set beside this service's "
            f"figure or drawn on its chart: {b['not_compared']}. A figure measured another "
            "way would mislead; name a benchmark measured as this analysis is "
            "([survival] benchmark)."
        )
        return
    hidden = SYMBOL_PROFILES[profile][SUPPRESSED]
    rows = []
    for r in b["rows"]:
        months = round(r["days"] / DAYS_PER_MONTH)
        if r.get("not_estimated"):
            ours = r["not_estimated"]
        elif r["incidence"] is None:
            ours = "not followed up this long"
        elif r["at_risk"] <= threshold or 1 <= r["events"] <= threshold:
            ours = hidden
        else:
            ours = f"{r['incidence']:.1%} (95% CI {r['ci_low']:.1%} to {r['ci_high']:.1%})"
        rows.append((f"By {months} months: benchmark {r['benchmark_incidence']:.1%}", ours))
    sw.pairs([(f"This service's {bench.population} (service cohort)", ""), *rows])
    sw.note(
        f"{evidence('benchmark')['statement']} A guide to scale, not the effect of the service."
    )


def km_alt_text(shown: pd.DataFrame, benchmark: Any) -> str:
    """What the survival chart shows, in words: its points, as the table prints them."""
    parts = []
    for group, rows in shown.groupby("Group", sort=False):
        if group not in ("service", "comparison") and len(shown["Group"].unique()) > 1:
            continue
        points = [
            f"{v:.0%} by {m} months"
            if isinstance(v, int | float)
            else f"not estimated at {m} months"
            if v == NOT_AVAILABLE
            else f"hidden at {m} months"
            for m, v in zip(rows["Months"], rows["New proceedings (cumulative)"], strict=True)
        ]
        parts.append(f"{group}: " + ", ".join(points))
    text = "Line chart of the share with new care proceedings over time. " + "; ".join(parts)
    if benchmark is not None:
        text += f". Benchmark points: {benchmark.points_text()}"
    return text + "."


def write_annex(book: Book, sw: SheetWriter) -> None:
    """The statistics an evaluator checks: the tests of the before/after change, the log-rank
    test and the Cox model, each with what it cannot show."""
    results, pub = book.results, book.pub
    tables = pub.sheets.get(ANNEX, [])
    if not tables and results.survival is None:
        sw.note("No tests in this return.")
    for table in tables:
        write_summary_table(sw, table, pub.shown[table.name])
    survival = results.survival
    if survival is None:
        return
    caveat = (
        "The comparison cohort was not chosen at random: a difference may come from who was "
        "referred rather than from the service."
    )
    if survival.logrank_:
        sw.heading("Log-rank test: service vs comparison cohort (time to next proceedings)")
        sw.pairs(
            [
                ("Chi-square", round(survival.logrank_["chi2"], 2)),
                ("df", survival.logrank_["df"]),
                ("p", p_text(survival.logrank_["p"])),
            ]
        )
        sw.note(f"{caveat} {evidence('unadjusted')['statement']}")
        sw.row += 1
    if survival.cox_ is not None:
        cox = survival.cox_.rename(
            columns={
                "covariate": "Covariate",
                "coef": "Coefficient",
                "hr": "Hazard ratio",
                "hr_low": "HR CI low",
                "hr_high": "HR CI high",
                "se": "SE",
                "p": "p",
            }
        )
        table = SummaryTable(
            "cox",
            "Cox proportional hazards model (time to next proceedings)",
            cox,
            formats={"Coefficient": "0.000", "SE": "0.000"},
            note="Efron ties; cohort coded service = 1. "
            + (survival.evidence_ or evidence("unadjusted"))["statement"],
        )
        write_summary_table(
            sw, table, protect([table], results.settings.small_number_threshold)["cox"]
        )
    if survival.warnings_:
        sw.heading("Notes on the Cox model")
        for w in dict.fromkeys(plain_warning(w) for w in survival.warnings_):
            sw.note(w)


_COUNTED_WARNINGS = (
    (re.compile(r"\b\d+ client\(s\) with a missing covariate"), "clients with a missing covariate"),
    (
        re.compile(r"\b\d+ events for \d+ covariate\(s\), under (\d+) per covariate"),
        r"too few events per covariate (under \1 each)",
    ),
)


def plain_warning(text: str) -> str:
    """A note of the survival analysis as a sentence a manager can act on: never the library's
    text (an exception's words, 'LinAlgError', a matrix inversion) and no count of people
    (``return_warning``). The full text is what ``evaltool survival`` prints."""
    text = return_warning(text)
    cox = "The Cox model (which compares how soon new proceedings came, allowing for "
    if "only one cohort" in text:
        return (
            f"{cox}differences between parents) has no comparison parents in these data, so it "
            "only looks at the other factors. To compare with parents who did not receive the "
            "service, add them to the clients table with cohort = comparison."
        )
    found = re.search(r"covariate '([^']+)' has only one value", text)
    if found:
        return (
            f"{cox}differences between parents) is not reported: '{found.group(1)}' is the "
            "same for every parent analysed. Leave it out of [survival] covariates."
        )
    found = re.search(r"covariate '([^']+)' is not (?:a column|numeric)", text)
    if found:
        return (
            f"{cox}differences between parents) is not reported: '{found.group(1)}' is not a "
            "number or yes/no column of the clients table. Correct [survival] covariates."
        )
    if "not reported" in text or "could not be fitted" in text:
        return (
            f"{cox}differences between parents) could not be worked out from these data "
            "(usually too few new proceedings for the factors it allows for), so it is not "
            "reported. Name fewer factors in [survival] covariates; `evaltool survival` "
            "prints the details."
        )
    if "missing covariate" in text:
        return (
            f"{cox}differences between parents) leaves out parents with a factor not "
            "recorded; fill it in the records to include them."
        )
    if "proportional hazards doubtful" in text:
        return (
            f"{cox}differences between parents) assumes the difference between groups stays "
            "the same over time, and these data cast doubt on it: read its hazard ratio as an "
            "average over the years followed. `evaltool survival` prints the details."
        )
    if "per covariate" in text:
        return (
            f"{cox}differences between parents) rests on few new proceedings for the number "
            "of factors it allows for: treat its figures as unstable, or name fewer factors "
            "in [survival] covariates."
        )
    return (
        "The analysis noted something for evaluators that is not shown here; `evaltool "
        "survival` prints it."
    )


def return_warning(text: str) -> str:
    """A warning for the return: no count in it (a note that says '3 events' undoes the c
    beside it). Known warnings are reworded; any other count of people or events goes."""
    for pattern, words in _COUNTED_WARNINGS:
        text = pattern.sub(words, text)
    return _A_COUNT.sub("", text)


_A_COUNT = re.compile(
    r"(?<![\d.])\d+ (?=(?:client|event|person|people|pregnan|bab|closure|referral|mother))"
)


def input_hashes(results: Results) -> list[tuple[str, str]]:
    """The SHA-256 of each file a table used came from, named by the tables it holds: a
    file's own name is the service's text (it may name a person) and stays with it."""
    source = results.loaded.dataset.source
    used = results.loaded.dataset.tables
    by_file: dict[str, list[str]] = {}
    for name, raw in source.tables.items():
        if name in used:
            by_file.setdefault(raw.file, []).append(name)
    return [
        (
            ", ".join(names) + f" ({Path(file).suffix.lstrip('.').lower() or 'file'})",
            source.hashes[file],
        )
        for file, names in sorted(by_file.items(), key=lambda kv: kv[1])
        if file in source.hashes
    ]


def settings_rows(results: Results) -> list[tuple[str, Any]]:
    s = results.settings
    rows: list[tuple[str, Any]] = [
        ("Configuration file", s.config_file.name if s.config_file else "none (defaults)"),
        ("Reporting calendar", s.calendar),
        (
            "Small-number threshold",
            f"counts 1 to {s.small_number_threshold} shown as "
            f"{SYMBOL_PROFILES[s.symbols][SUPPRESSED]}",
        ),
        ("Symbols", f"{s.symbols} (the Notes sheet gives their meaning)"),
        ("Instruments", ", ".join(i.name for i in results.loaded.instruments)),
    ]
    rows += [
        (
            "Before/after",
            f"first vs latest reading at least {s.compare_min_days} days apart; "
            f"tests need n >= {s.compare_min_n}",
        ),
        (
            "Time to next proceedings",
            f"{glossed('origin')}: {s.survival_origin}, "
            f"{ORIGIN_DEFINITIONS.get(s.survival_origin, s.survival_origin).split(' (')[0]}; "
            f"entry: {s.survival_entry}; "
            f"{glossed('CI transform')}: {s.survival_ci}; shown at "
            f"{', '.join(str(t) for t in s.survival_times)} days",
        ),
    ]
    if s.benchmark:
        b = s.benchmark
        rows.append(("Benchmark", f"{b.label}: {b.points_text()} ({b.source})"))
    return rows


def write_data_quality(sw: SheetWriter, results: Results, pub: Publication) -> None:
    """Rows read per table (small counts suppressed like any other). Warnings are counted
    only: their text names rows and values of the input, which stay with the service."""
    table = pub.sheets["Data quality"][0]
    write_summary_table(sw, table, pub.shown[table.name])
    sw.heading("Warnings")
    sw.note(
        "Any warnings are listed by `evaltool validate` for the service to check; they are "
        "not copied into the return because they name rows of the input."
        if results.problems.warnings
        else "No warnings."
    )
    sw.row += 1


def definitions(results: Results) -> list[Definition]:
    s = results.settings
    defs = [
        *plain_definitions(s.symbols),
        Definition(
            "Period",
            f"{results.period.describe()}; financial quarters run April-March (Q1 = April-June)"
            if s.calendar == "financial"
            else results.period.describe(),
            "evaltool.toml [reporting] calendar",
        ),
        Definition(
            "To date", "From the first record up to the last day of the period.", "evaltool"
        ),
        Definition(
            "Referrals / starts / closures",
            "Service-cohort clients whose referral, start or end date falls in the quarter.",
            "evaltool",
        ),
        Definition(
            "Active caseload",
            "Clients started on or before the quarter end and not closed by it.",
            "evaltool",
        ),
        Definition(
            "Waiting",
            "Clients referred by the quarter end, not started and not closed.",
            "evaltool",
        ),
        Definition(
            "Length of involvement",
            "Days from start date to end date of cases closed in the quarter (median).",
            "evaltool",
        ),
        Definition(
            f"{SYMBOL_PROFILES[s.symbols][SUPPRESSED]} (suppressed)",
            f"Counts from 1 to {s.small_number_threshold} and any "
            "figure that would reveal them (shares, means, and a second cell where a "
            "total would allow subtraction).",
            "DfE children's statistics methodology",
        ),
    ]
    defs += window_definitions(results)
    for instrument in results.loaded.instruments:
        defs += instrument.definitions()
    from evaltool.report.before_after_tables import DEFINITIONS as COMPARE_DEFINITIONS

    defs += COMPARE_DEFINITIONS
    if results.survival is not None:
        from evaltool.report.survival_tables import (
            return_type_definitions,
            survival_definitions,
        )

        defs += survival_definitions(results.survival)
        defs += return_type_definitions(results.survival_new)
    return defs


def window_definitions(results: Results) -> list[Definition]:
    """The Summary's windows and its recurrence figure, in words."""
    out = [
        Definition(
            f"Window: {w.name}",
            f"{w.label}: {w.start:%d %b %Y} to {w.end:%d %b %Y}"
            + (" (from the quarter of the first referral)" if w.name == "All time" else ""),
            "evaltool",
        )
        for w in results.windows
    ]
    if results.pbr is not None:
        s = results.settings
        out.append(
            Definition(
                "Payment-by-results outcomes",
                f"Per service-cohort parent from the start date. Not pregnant: no pregnancy known "
                f"within {s.pbr_pregnancy_months} months, and {s.pbr_engagement_months} months of "
                "the programme completed (closing earlier, other than by moving away, is not "
                f"met). No new proceedings: no care proceedings issued within "
                f"{s.pbr_proceedings_months} months with an interim care, care or placement "
                "order, or still open. Met on the horizon date; not met on the day it was "
                "missed; lost to follow-up on the day the parent moved away; not yet "
                "assessable until then, never counted as met. By window: decided in the "
                "window. By financial year of starting (April to March): where the outcomes of "
                "the parents who started in that year stand at the period end.",
                "Pause Plymouth social impact bond outcome metrics (Life Chances Fund, "
                "2019-2024), as published in the INDIGO impact bond dataset (GO Lab)",
            )
        )
    if results.recurrence is not None:
        out.append(
            Definition(
                "Parents followed for a year",
                "Service-cohort parents whose first year after joining us (the start date; "
                'with [survival] entry = "referral", the referral date; or the origin on the '
                "Time to next proceedings sheet where it is later) ended in the window, and who "
                "were followed for all of it or had new care proceedings issued in it. Time "
                "before joining is not counted: no new proceedings could be seen in it. The "
                "share: those with new proceedings issued within the year, divided by them. "
                "Each quarter's figure is final once the quarter is over.",
                "evaltool",
            )
        )
    return out


def render_excel(output: Output, path: str) -> None:
    """The built-in ``xlsx`` output: the funder return, laid out from the publication."""
    from evaltool.report.xlsx_finish import finish

    wb = build_workbook(output.results, output.internal, output.publication, output)
    wb.save(path)
    finish(path, *book_extras(wb))


def write_return(
    results: Results,
    path: Path,
    force: bool = False,
    internal: bool = False,
    final: bool = True,
) -> Path:
    """The return as ``.xlsx`` (``report.output.write_output`` with the Excel renderer): a
    final return unless ``final`` is False (the commands make drafts unless --final)."""
    if Path(path).suffix.lower() != ".xlsx":
        raise OutputError(f"the return must be an .xlsx file; got {Path(path).name}")
    return write_output(results, path, force, internal, final)

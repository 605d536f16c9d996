"""The funder return: an Excel workbook with stable sheet names and order.

Cover, Summary, one sheet per instrument, Before and after, Time to next proceedings,
Data quality, Definitions. Counts are suppressed (see disclosure.py); no client ids, dates of
birth or free text reach it. The file is written to a temporary file beside the target and
renamed into place, so a failed run never leaves a half-made or overwritten return.
"""

from __future__ import annotations

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
from evaltool.data.benchmark import Benchmark
from evaltool.data.contract import CONTRACT_DOC, CONTRACT_VERSION
from evaltool.errors import OutputError
from evaltool.report.annex import (
    CMP_POWER,
    COX,
    LOGRANK,
    POWER,
    p_text,
    plain_warning,
    return_warning,
)
from evaltool.report.definitions import TABLE as DEFINITIONS
from evaltool.report.disclosure import NOT_AVAILABLE, SUPPRESSED
from evaltool.report.formats import SYMBOL_PROFILES, hiding_words, shown_symbol, symbol_key
from evaltool.report.output import DRAFT_MARKING, Output, write_output
from evaltool.report.publish import ANNEX, PBR, headline_text
from evaltool.report.survival_tables import BENCHMARK, NEW_CHILD, RETURN_TYPE, SHARES
from evaltool.report.value_tables import SHEET as VALUE
from evaltool.report.words import glossed
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
    from evaltool.report.facts import Internal
    from evaltool.report.publish import Published, Table

#: kept importable from here (they moved to report.annex with the Annex's tables)
__all__ = ["build_workbook", "p_text", "plain_warning", "render_excel", "return_warning"]


class Book:
    """The workbook being made, and what the saved file still needs: the value of each
    Summary formula and the alt text of each chart (see xlsx_finish), and the Contents."""

    def __init__(self, output: Output) -> None:
        #: what the workbook lays out: the publication, the facts, and how pages are marked
        self.output, self.pub, self.facts = output, output.publication, output.facts
        self.internal = output.internal is not None
        self.threshold = output.threshold
        self.wb = Workbook()
        house_font(self.wb)
        self.used: set[str] = set()
        self.profile = output.facts.symbols
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
        f = self.facts
        sw.note(
            f"{f.service}; {f.period.describe()}. Figures count people unless a "
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


def build_workbook(output: Output) -> Workbook:
    """Make the return workbook in memory from ``output`` (``report.output.output_for``):
    its publication, its facts and how its pages are marked, draft or final, published or
    shared. Nothing here reads the results: every figure is the publication's.

    The file's formula values and chart alt texts are added after saving
    (``book_extras(wb)`` hands them to ``xlsx_finish.finish``)."""
    pub, facts = output.publication, output.facts
    book = Book(output)
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
    write_summary_table(sw, windows)
    write_summary_table(sw, closures)
    write_summary_table(sw, trend)
    sw.finish()

    for name, title in facts.instruments:
        sw = book.sheet(title, title, f"{title}: what the instrument shows")
        for table in pub.sheets[name]:
            written = write_summary_table(sw, table)
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
        write_summary_table(sw, table)
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
        pregnancy, engagement, proceedings = facts.pbr_months
        sw = book.sheet(
            PBR,
            "Payment-by-results outcomes",
            "Fixed-horizon outcomes from each parent's start, as outcome funders pay on them",
        )
        sw.pairs(
            [
                (
                    "Not pregnant",
                    f"no pregnancy known within {pregnancy} months of starting, "
                    f"having completed {engagement} months of the programme",
                ),
                (
                    "No new proceedings",
                    f"no care proceedings (interim care, care or placement order, or still "
                    f"open) issued within {proceedings} months of starting",
                ),
            ]
        )
        for table in pub.sheets[PBR]:
            write_summary_table(sw, table)
        sw.finish()

    if VALUE in pub.sheets:  # [value] enabled
        sw = book.sheet(
            VALUE,
            "Value for money",
            "What the service costs, what it may save, and how many sets of care proceedings "
            "it must prevent to pay for itself; every figure beside its assumption and source",
        )
        for table in pub.sheets[VALUE]:
            write_summary_table(sw, table)
        sw.finish()

    sw = book.sheet(
        ANNEX,
        "Annex: statistical tests",
        "For evaluators: the tests behind the before/after change and the comparison of cohorts",
    )
    write_annex(book, sw)
    sw.finish()

    sw = book.sheet("Data quality", "Data quality", "The tables read; warnings")
    write_data_quality(sw, book)
    sw.finish()

    sw = book.sheet("Definitions", "Definitions", "What each term and figure means, and its source")
    write_definitions(sw, pub)
    if output.internal is not None:
        write_internal_sheets(book, output.internal)
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
            facts.service,
            facts.period.label,
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

    pub, f = book.pub, book.facts
    sw = book.sheet(
        "Cover",
        f"{f.service}: quarterly return",
        "What this return covers, where its figures came from and the settings used",
        first=True,
    )
    out = book.output
    sw.pairs(
        [
            ("Status", out.status_text()),
            *([("Marking", out.marking)] if out.shared else []),
            ("Service", f.service),
            ("Funder", f.funder or "not stated"),
            ("Period", f.period.describe()),
            ("Extract date", f.extract_date),
            ("Extract date from", f.extract_source or "not stated"),
            (
                "Figures as at",
                f"{f.period.end:%d/%m/%Y}, the period end: anything recorded later "
                "is left out, so the figures are those of a return made then",
            ),
            ("Generated at", f.generated_at),
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
    sw.pairs(list(f.input_hashes))
    sw.heading("Plugins")  # by distribution and version: module paths mean nothing to a funder
    sw.pairs(list(f.plugins))
    sw.heading("Settings used")
    sw.pairs(list(f.settings_rows))
    sw.finish(None)
    sw.ws.column_dimensions["B"].width = 80


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
    sw.heading("Key to symbols")
    key = symbol_key(book.profile, book.output.shared)
    sw.frame(pd.DataFrame(key, columns=["Symbol", "Meaning"]))
    sw.row += 1
    sw.heading("Notes that apply throughout")
    hiding = (
        f"Counts from 1 to {book.facts.threshold} are shown as "
        f"{SYMBOL_PROFILES[book.profile]['c']}, and so is any other figure from which one could "
        f"be {hiding_words(book.facts.keep)}, in this return or with the earlier returns of "
        "the service."
    )
    if book.output.shared:
        hiding = (
            "Exact counts: nothing is hidden. This output is shared under a data-sharing "
            "agreement and is not for publication; the published return hides small numbers."
        )
    notes = [
        hiding,
        "Shares and means are hidden with the counts they were computed from; a share may be "
        "shown as a bound instead ('at most 45%'), worked out from the number it is a share of.",
        "A table's own note, under it, says what it counts and over which window.",
        "The same cell is in the same place every quarter: new rows are added below, never "
        "between.",
        "No client reference, date of birth or free text from the service's records is in "
        "this return.",
    ]
    if book.output.shared:  # nothing is hidden, nor shown as a bound
        notes.pop(1)
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
    from evaltool.report.key_figures import key_figures, key_value, mostly_hidden

    pub, facts = book.pub, book.facts
    sw = book.sheet(
        "Summary",
        f"Summary: {facts.period.label}",
        "The key figures in five windows, in plain words, with what they can and cannot show",
    )
    sw.heading("Key figures (the parents this service works with)")
    windows = facts.windows
    figures = key_figures(pub)
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
    for line in pub.caveats:
        sw.note(line)
    why = None if book.output.shared else mostly_hidden(pub, facts.threshold, facts.period.code)
    if why:
        sw.note(why)
    sw.row += 1
    sw.heading("What the instruments show, from the first record to the period end")
    sw.pairs(
        (title, headline_text(pub.headlines.get(name, ""), pub, name, book.profile))
        for name, title in facts.instruments
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


def write_definitions(sw: SheetWriter, pub: Published) -> None:
    """The Definitions sheet: the publication's table of them."""
    header, _ = sw.frame(pub.shown[DEFINITIONS].values)
    sw.finish()
    ws = sw.ws
    ws.print_title_rows = f"{header}:{header}"
    # 30 + 70 + 33 characters: a landscape A4 page at 100%; each row as high as its lines
    for letter, width in zip("ABC", (30, 70, 33), strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=header + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def write_internal_sheets(book: Book, internal: Internal) -> None:
    """Client-level scores, one sheet per instrument (and the payment-by-results outcomes):
    pseudonymous ids, never for funders (``--internal`` only: the Output's one path to them)."""
    if internal.pbr_clients is not None:
        ws = book.wb.create_sheet()
        ws.title = sheet_title("INTERNAL pbr", book.used)
        book.contents.append((ws.title, "INTERNAL: payment-by-results outcomes, client by client"))
        sw = SheetWriter(ws, "Payment-by-results outcomes: client by client", True, book.profile)
        sw.frame(internal.pbr_clients)
        sw.finish("A4")
    for name, title in book.facts.instruments:
        ws = book.wb.create_sheet()
        ws.title = sheet_title(f"INTERNAL {name}", book.used)
        book.contents.append((ws.title, f"INTERNAL: {title}, client-level scores"))
        sw = SheetWriter(ws, f"{title}: client-level scores", True, book.profile)
        scored = internal.scores[name]
        sw.frame(
            scored, {c: "0.0" for c in scored.columns if pd.api.types.is_float_dtype(scored[c])}
        )
        sw.finish("A4")


def write_survival(book: Book, sw: SheetWriter) -> None:
    """Time to next proceedings: new proceedings within a year by window, fixed-time
    estimates, medians, and a chart drawn from the published points only."""
    pub = book.pub
    words = pub.texts.get("survival")
    if words is None:
        sw.note("Not available: no proceedings table.")
        return
    sw.pairs(
        [
            (glossed("origin").capitalize(), words["origin"]),
            ("Counted from", f"the day each parent joined ({words['entry']})"),
            (
                "Outcomes",
                "new care proceedings of any kind"
                + ("; and new care proceedings about a new child" if words["new_child"] else ""),
            ),
            (glossed("CI transform"), words["ci"]),
            ("Followed up to", words["followed_up_to"]),
        ]
    )
    sw.row -= 1
    sw.note(
        f"Origin {words['origin']}: {ORIGIN_DEFINITIONS[words['origin']]}. Each parent is "
        f"{ENTRY_WORDS[words['entry']]} (no new proceedings could be seen before it)."
    )
    sw.row += 1
    tables = {t.name: t for t in pub.sheets["Time to next proceedings"]}
    for name in (RECURRENCE, STRATA, "km"):
        written = write_summary_table(sw, tables[name])
    for name in ("km-median", "km-exclusions", "km-overlaps", NEW_CHILD, RETURN_TYPE):
        if name in tables:
            write_summary_table(sw, tables[name])
    if NEW_CHILD not in tables:
        sw.note(f"Returns about a new child: not shown; {NO_RETURN_TYPE}.")
    if words["evidence"] is not None:
        sw.note(
            "Service and comparison cohorts (log-rank test and Cox model on the Annex): "
            + words["evidence"]
        )
    if "comparison" in pub.texts:
        write_comparison(sw, pub.texts["comparison"], tables, book.profile)
    bench = words["benchmark"]
    if bench:
        assert book.facts.benchmark is not None
        write_benchmark(sw, book.facts.benchmark, bench, tables.get(BENCHMARK), book.profile)
    from evaltool.report.km_chart import INCIDENCE, add_km_chart, charted
    from evaltool.report.workbook import NO_CHART, plotted

    drawn, gaps = plotted(charted(written.shown), [INCIDENCE], least=1)
    if not drawn:  # every point hidden or not estimated: words, not an empty chart
        sw.note(NO_CHART)
        return
    printed = max(sw.widths, default=1)
    cm = sum(sw.column_width(col) * 7 / 37.8 for col in range(1, printed + 1))  # 7 px/char
    width = min(max(cm * 0.95, 20), 25)  # at 100% a landscape A4 page is 27 cm wide
    sw.ws.row_breaks.append(Break(id=sw.row))  # the chart starts a printed page
    data = book.data_sheet()
    data.heading("Time to next proceedings: the published points of the fixed-time table")
    # a benchmark point on the service's chart only when measured like for like
    like = book.facts.benchmark if (bench or {}).get("compared") else None
    add_km_chart(
        sw.ws,
        written.shown,
        like,
        words["ci"],
        anchor=f"A{sw.row + 1}",
        data_ws=data.ws,
        data_col=1,
        data_row=data.row,
        width_cm=width,
        gaps=gaps,
    )
    data.row += len(written.shown["Months"].unique()) + 4
    book.chart(sw.ws, km_alt_text(written.shown, like))
    sw.row += rows_for(width / 2)  # the chart is half as high as wide
    if pub.texts.get("annex-notes"):  # the analysis's own notes are for evaluators: on the Annex
        sw.note(
            "Notes on the Cox model (see Definitions) are on the Annex; they do not change the "
            "figures on this sheet."
        )


def write_comparison(
    sw: SheetWriter, words: dict[str, Any], tables: dict[str, Table], profile: str
) -> None:
    """The cohorts compared with propensity scores: the design, the balance, the adjusted
    difference and hazard ratio, and the strength of that evidence."""
    from evaltool.report.survival_tables import (
        CMP_BALANCE,
        CMP_DIFFERENCE,
        CMP_MIN_COHORT,
        CMP_SIZE,
    )

    sw.heading("Comparison of the cohorts, adjusted for measured differences")
    if CMP_BALANCE not in tables:
        sw.note(
            f"Not shown: fewer than {CMP_MIN_COHORT} parents in a cohort, too few to adjust "
            "for differences between them."
        )
        return
    hr_words = (
        "not shown, as it rests on counts hidden in this return"
        if words["hr"] is None
        else "{:.2f} (95% CI {:.2f} to {:.2f}; weighted Cox model, robust standard error)".format(
            *words["hr"]
        )
    )
    size = tables[CMP_SIZE].values.set_index("Cohort")["Effective sample size"]
    service, comparison = (
        f"{v:.0f}" if isinstance(v, int | float) else shown_symbol(v, profile)
        for v in (size["service"], size["comparison"])
    )
    sw.note(f"Design: {words['design']}.")  # wrapped: a long text
    sw.pairs(
        [
            (
                "Hazard ratio, service vs comparison",
                hr_words,
            ),
            (
                "Effective sample size",
                f"service {service}, comparison {comparison} (what the "
                "weighted cohorts are worth in unweighted parents)",
            ),
        ]
    )
    for name in (CMP_BALANCE, CMP_DIFFERENCE):
        write_summary_table(sw, tables[name])
    sw.note(words["evidence"])


def write_benchmark(
    sw: SheetWriter, bench: Benchmark, b: dict[str, Any], table: Table | None, profile: str
) -> None:
    """The benchmark in plain words (who, from where, when, the source and what was checked),
    the service's own figure at each of its points where it is like for like (the
    publication's km-benchmark table: a figure resting on few parents is hidden there, with
    the rest of the return), and the strength of that evidence."""
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
    if not b["compared"] or table is None:
        sw.note(
            f"Measured differently: a guide to scale only, not set beside this service's "
            f"figure or drawn on its chart: {b['not_compared']}. A figure measured another "
            "way would mislead; name a benchmark measured as this analysis is "
            "([survival] benchmark)."
        )
        return
    rows = []
    for r in table.values.to_dict(orient="records"):
        share = r[SHARES[0]]
        if share == SUPPRESSED:  # hidden with the counts it rests on
            ours = shown_symbol(share, profile)
        elif isinstance(share, str) or share is None or pd.isna(share):
            ours = "not followed up this long"
        else:
            ours = f"{share:.1%} (95% CI {r[SHARES[1]]:.1%} to {r[SHARES[2]]:.1%})"
        rows.append((f"By {r['Months']} months: benchmark {r['Benchmark']:.1%}", ours))
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
    test and the Cox model, each with what it cannot show (all of them the publication's
    tables, protected with the rest of the return)."""
    pub = book.pub
    late = (LOGRANK, COX, POWER, CMP_POWER)  # the cohorts' tests, after the before/after ones
    tables = [t for t in pub.sheets.get(ANNEX, []) if t.name not in late]
    tests = {t.name: t for t in pub.sheets.get(ANNEX, []) if t.name in late}
    if not tables and "survival" not in pub.texts:
        sw.note("No tests in this return.")
    for table in tables:
        write_summary_table(sw, table)
    if LOGRANK in tests:
        logrank = tests[LOGRANK]
        sw.heading(logrank.title)
        row = logrank.values.iloc[0]
        sw.pairs([(col, row[col]) for col in logrank.values.columns])
        sw.note(logrank.note)
        sw.row += 1
    for name in (COX, POWER, CMP_POWER):
        if name in tests:
            write_summary_table(sw, tests[name])
    if pub.texts.get("annex-notes"):
        sw.heading("Notes on the Cox model")
        for w in pub.texts["annex-notes"]:
            sw.note(w)


def write_data_quality(sw: SheetWriter, book: Book) -> None:
    """The tables read (with their rows in a shared output only: ``publish.rows_read``).
    Warnings are counted only: their text names rows and values of the input, which stay
    with the service."""
    table = book.pub.sheets["Data quality"][0]
    write_summary_table(sw, table)
    sw.heading("Warnings")
    sw.note(
        "Any warnings are listed by `evaltool validate` for the service to check; they are "
        "not copied into the return because they name rows of the input."
        if book.facts.warnings
        else "No warnings."
    )
    sw.row += 1


def render_excel(output: Output, path: str) -> None:
    """The built-in ``xlsx`` output: the funder return, laid out from the publication."""
    from evaltool.report.xlsx_finish import finish

    wb = build_workbook(output)
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

"""The funder return: an Excel workbook with stable sheet names and order.

Cover, Summary, one sheet per instrument, Before and after, Time to next proceedings,
Data quality, Definitions. Counts are suppressed (see disclosure.py); no client ids, dates of
birth or free text reach it. The file is written to a temporary file beside the target and
renamed into place, so a failed run never leaves a half-made or overwritten return.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from evaltool.data.contract import CONTRACT_DOC, CONTRACT_VERSION
from evaltool.errors import OutputError
from evaltool.instruments.base import Definition
from evaltool.instruments.results import SummaryTable
from evaltool.report.disclosure import (
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    SUPPRESSED,
    protect,
)
from evaltool.report.output import Output, write_output
from evaltool.report.publish import Publication, headline_text, publish
from evaltool.report.workbook import (
    SheetWriter,
    page_furniture,
    radar_chart,
    rows_for,
    sheet_title,
    trend_chart,
    write_summary_table,
)

if TYPE_CHECKING:
    from evaltool.core import Results

SYMBOLS = (
    (
        SUPPRESSED,
        "confidential: a count from 1 to the small-number threshold, or a figure hidden "
        "so that none can be worked out (it may be any value, 0 included)",
    ),
    (NOT_APPLICABLE, "not applicable (e.g. a share of nobody)"),
    (NOT_AVAILABLE, "not available"),
    ("0", "a true zero"),
    (
        "[r]",
        "revised: a figure that differs from an earlier return (the note under its table "
        "gives the value sent before)",
    ),
)


def build_workbook(
    results: Results, internal: bool = False, pub: Publication | None = None
) -> Workbook:
    """Make the return workbook in memory (``pub``: its protected tables, see publish.py)."""
    from evaltool import __version__

    pub = pub or publish(results)
    wb = Workbook()
    used: set[str] = set()

    # Cover
    ws = wb.active
    ws.title = sheet_title("Cover", used)
    sw = SheetWriter(ws, f"{results.settings.service}: quarterly return", internal)
    s = results.settings
    sw.pairs(
        [
            ("Service", s.service),
            ("Funder", s.funder or "not stated"),
            ("Period", results.period.describe()),
            ("Extract date", results.extract_date),
            ("Generated at", results.generated_at),
            ("evaltool version", __version__),
            ("Data contract", f"version {CONTRACT_VERSION} ({CONTRACT_DOC})"),
            (
                "Earlier returns taken into account",
                ", ".join(pub.earlier_periods) or "none recorded",
            ),
        ]
    )
    sw.heading("Input files (SHA-256)")
    sw.pairs(input_hashes(results))
    sw.heading("Plugins")  # by distribution and version: module paths mean nothing to a funder
    packages: dict[str, str] = {}
    for p in results.loaded.registry.plugins:
        state = "FAILED to load" if p.error else "loaded"
        if packages.get(f"{p.package} {p.version}") != "FAILED to load":
            packages[f"{p.package} {p.version}"] = state
    sw.pairs(sorted(packages.items()))
    sw.heading("Settings used")
    sw.pairs(settings_rows(results))
    sw.heading("Key to symbols")
    sw.pairs(SYMBOLS)
    sw.finish(None)
    ws.column_dimensions["B"].width = 80

    # Summary
    ws = wb.create_sheet(sheet_title("Summary", used))
    sw = SheetWriter(ws, f"Summary: {results.period.label}", internal)
    sw.heading("Instruments")
    sw.pairs(
        (i.title, headline_text(results.headlines.get(i.name, ""), pub, i.name))
        for i in results.loaded.instruments
    )
    trend, closures = pub.sheets["Summary"]
    sw.row += trend_chart(ws, write_summary_table(sw, trend, pub.shown[trend.name]), f"A{sw.row}")
    write_summary_table(sw, closures, pub.shown[closures.name])
    sw.finish()

    # Instruments
    for instrument in results.loaded.instruments:
        ws = wb.create_sheet(sheet_title(instrument.title, used))
        sw = SheetWriter(ws, instrument.title, internal)
        for table in pub.sheets[instrument.name]:
            written = write_summary_table(sw, table, pub.shown[table.name])
            if table.chart == "radar":
                sw.row += radar_chart(ws, written, f"A{sw.row}")
        sw.finish()

    ws = wb.create_sheet(sheet_title("Before and after", used))
    sw = SheetWriter(ws, "Before and after: first vs latest reading", internal)
    if "Before and after" not in pub.sheets:
        sw.note("No instrument in this return declares measures for comparison.")
    for table in pub.sheets.get("Before and after", []):
        write_summary_table(sw, table, pub.shown[table.name])
    sw.finish()

    ws = wb.create_sheet(sheet_title("Time to next proceedings", used))
    sw = SheetWriter(ws, "Time to next care proceedings", internal)
    write_survival(sw, ws, results, pub)
    sw.finish()

    ws = wb.create_sheet(sheet_title("Data quality", used))
    sw = SheetWriter(ws, "Data quality", internal)
    write_data_quality(sw, results, pub)
    sw.finish()

    ws = wb.create_sheet(sheet_title("Definitions", used))
    sw = SheetWriter(ws, "Definitions", internal)
    defs = definitions(results)
    sw.frame(
        pd.DataFrame(
            [(d.term, d.meaning, d.source) for d in defs], columns=["Term", "Definition", "Source"]
        )
    )
    sw.finish()
    ws.column_dimensions["B"].width = 90
    ws.column_dimensions["C"].width = 45
    for row in ws.iter_rows(min_row=4):
        lines = max(
            math.ceil(len(str(row[1].value or "")) / 95),
            math.ceil(len(str(row[2].value or "")) / 45),
            1,
        )
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row[0].row].height = 13 * lines
    if internal:
        write_internal_sheets(wb, results, used)
    for sheet in wb.worksheets:
        page_furniture(sheet, s.service, results.period.label, "OFFICIAL")
    return wb


def write_internal_sheets(wb: Workbook, results: Results, used: set[str]) -> None:
    """Client-level scores, one sheet per instrument: pseudonymous ids, never for funders."""
    for instrument in results.loaded.instruments:
        ws = wb.create_sheet(sheet_title(f"INTERNAL {instrument.name}", used))
        sw = SheetWriter(ws, f"{instrument.title}: client-level scores", internal=True)
        scored = results.evaluations[instrument.name].scores
        sw.frame(
            scored, {c: "0.00" for c in scored.columns if pd.api.types.is_float_dtype(scored[c])}
        )
        sw.finish("A4")


def p_text(p: float) -> str | float:
    """A p-value as printed: never 0 (below 0.001 reads <0.001)."""
    return "<0.001" if p < 0.001 else round(p, 3)


def write_survival(sw: SheetWriter, ws: Worksheet, results: Results, pub: Publication) -> None:
    """Time to next proceedings: fixed-time estimates, medians, tests, and a chart drawn from
    the published points only."""
    survival = results.survival
    if survival is None:
        sw.note("Not available: no proceedings table.")
        return
    s = results.settings
    sw.pairs(
        [
            ("Origin", survival.origin),
            ("CI transform", survival.ci),
            ("Extract date", pd.Timestamp(survival.extract_date_).date()),
        ]
    )
    tables = {t.name: t for t in pub.sheets["Time to next proceedings"]}
    km = tables["km"]
    written = write_summary_table(sw, km, pub.shown["km"])
    for name in ("km-median", "km-exclusions"):
        write_summary_table(sw, tables[name], pub.shown[name])
    if survival.logrank_:
        sw.heading("Log-rank test: service vs comparison cohort")
        sw.pairs(
            [
                ("Chi-square", round(survival.logrank_["chi2"], 2)),
                ("df", survival.logrank_["df"]),
                ("p", p_text(survival.logrank_["p"])),
            ]
        )
    if survival.benchmark_:
        b = survival.benchmark_
        threshold = s.small_number_threshold
        value = (
            "not reached: follow-up too short"
            if math.isnan(b["incidence"])
            else f"{b['incidence']:.1%} (95% CI {b['ci_low']:.1%} to {b['ci_high']:.1%})"
            if b["at_risk"] > threshold
            else SUPPRESSED
        )
        sw.heading("Benchmark")
        sw.pairs(
            [
                ("Benchmark", f"{b['label']}: {b['benchmark_incidence']:.1%} by {b['days']} days"),
                ("Source", b["source"]),
                (f"This service ({b['group']}) by {b['days']} days", value),
            ]
        )
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
            "Cox proportional hazards model",
            cox,
            formats={"Coefficient": "0.000", "SE": "0.000"},
            note="Efron ties; cohort coded service = 1.",
        )
        write_summary_table(sw, table, protect([table], s.small_number_threshold)["cox"])
    from openpyxl.worksheet.pagebreak import Break

    from evaltool.report.km_chart import add_km_chart

    printed = max(sw.widths, default=1)
    cm = sum(sw.column_width(col) * 7 / 37.8 for col in range(1, printed + 1))  # 7 px/char
    width = min(max(cm * 0.95, 20), 40)
    ws.row_breaks.append(Break(id=sw.row))  # the chart starts a printed page
    add_km_chart(
        ws,
        written.shown,
        s.benchmark,
        survival.ci,
        anchor=f"A{sw.row + 1}",
        data_col=printed + 2,
        data_row=3,
        width_cm=width,
    )
    sw.row += rows_for(width / 2)  # the chart is half as high as wide
    for w in survival.warnings_:
        sw.note(f"Warning: {return_warning(w)}")
    ws.print_area = f"A1:{get_column_letter(printed)}{sw.row}"


_COUNTED_WARNINGS = (
    (re.compile(r"\b\d+ client\(s\) with a missing covariate"), "clients with a missing covariate"),
    (
        re.compile(r"\b\d+ events for \d+ covariate\(s\), under (\d+) per covariate"),
        r"too few events per covariate (under \1 each)",
    ),
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
        ("Small-number threshold", f"counts 1 to {s.small_number_threshold} shown as c"),
        ("Instruments", ", ".join(i.name for i in results.loaded.instruments)),
    ]
    rows += [
        (
            "Before/after",
            f"first vs latest reading at least {s.compare_min_days} days apart; "
            f"tests need n >= {s.compare_min_n}",
        ),
        (
            "Survival",
            f"origin {s.survival_origin}; CI transform {s.survival_ci}; times "
            f"{', '.join(str(t) for t in s.survival_times)} days",
        ),
    ]
    if s.benchmark:
        b = s.benchmark
        rows.append(("Benchmark", f"{b.label}: {b.proportion:.1%} by {b.days} days ({b.source})"))
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
            "c (suppressed)",
            f"Counts from 1 to {s.small_number_threshold} and any "
            "figure that would reveal them (shares, means, and a second cell where a "
            "total would allow subtraction).",
            "DfE children's statistics methodology",
        ),
    ]
    for instrument in results.loaded.instruments:
        defs += instrument.definitions()
    from evaltool.report.before_after_tables import DEFINITIONS as COMPARE_DEFINITIONS

    defs += COMPARE_DEFINITIONS
    if results.survival is not None:
        from evaltool.report.survival_tables import survival_definitions

        defs += survival_definitions(results.survival)
    return defs


def render_excel(output: Output, path: str) -> None:
    """The built-in ``xlsx`` output: the funder return, laid out from the publication."""
    build_workbook(output.results, output.internal, output.publication).save(path)


def write_return(results: Results, path: Path, force: bool = False, internal: bool = False) -> Path:
    """The return as ``.xlsx`` (``report.output.write_output`` with the Excel renderer)."""
    if Path(path).suffix.lower() != ".xlsx":
        raise OutputError(f"the return must be an .xlsx file; got {Path(path).name}")
    return write_output(results, path, force, internal)

"""What a renderer prints beside the publication's tables: the return's facts (who, which
period, from which extract, with which settings) and, only for ``--internal``, the
client-level sheets.

A renderer never gets the raw results (client ids, unprotected counts): ``Facts`` holds no
count of people, only what the Cover, the page headers and the notes name; ``Internal`` is the
one narrow path for client-level rows, set only when internal sheets are asked for (never sent,
never recorded).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaltool.analysis.survival.table import ORIGIN_DEFINITIONS
from evaltool.analysis.windows import Window
from evaltool.data.benchmark import Benchmark
from evaltool.periods import Period
from evaltool.report.disclosure import SUPPRESSED
from evaltool.report.formats import SYMBOL_PROFILES, hiding_words
from evaltool.report.words import glossed

if TYPE_CHECKING:
    import pandas as pd

    from evaltool.core import Results


@dataclass(frozen=True)
class Facts:
    """The return's non-sensitive facts: names, dates, the settings it shows. No count of
    people is here; every figure a renderer prints is a cell of the publication."""

    service: str
    funder: str
    period: Period
    extract_date: dt.date
    extract_source: str
    generated_at: dt.datetime
    threshold: int  # the small-number threshold of the settings (a shared output's is 0)
    keep: int  # the fewest values a reader may narrow a hidden count to (protection_values)
    symbols: str  # the symbol profile (formats.SYMBOL_PROFILES)
    windows: tuple[Window, ...]  # the Summary's windows
    instruments: tuple[tuple[str, str], ...]  # (name, title), in the return's order
    settings_rows: tuple[tuple[str, Any], ...] = ()  # the Cover's "Settings used"
    input_hashes: tuple[tuple[str, str], ...] = ()  # the Cover's input files (SHA-256)
    plugins: tuple[tuple[str, str], ...] = ()  # the Cover's plugins: package version -> state
    #: the national benchmark named in the settings (published figures, not the service's)
    benchmark: Benchmark | None = None
    #: payment-by-results horizons in months: pregnancy, engagement, proceedings
    pbr_months: tuple[int, int, int] = (18, 12, 36)
    warnings: bool = False  # whether `evaltool validate` has warnings for the service


@dataclass(frozen=True)
class Internal:
    """The client-level sheets of ``--internal`` (pseudonymous ids; never sent, not recorded):
    the payment-by-results outcomes client by client, and each instrument's scores."""

    pbr_clients: pd.DataFrame | None = None
    scores: dict[str, pd.DataFrame] = field(default_factory=dict)  # instrument name -> rows


def facts_of(results: Results) -> Facts:
    """The facts of a return, from its results."""
    s = results.settings
    return Facts(
        service=s.service,
        funder=s.funder,
        period=results.period,
        extract_date=results.extract_date,
        extract_source=results.extract_source,
        generated_at=results.generated_at,
        threshold=s.small_number_threshold,
        keep=s.keep,
        symbols=s.symbols,
        windows=tuple(results.windows),
        instruments=tuple((i.name, i.title) for i in results.loaded.instruments),
        settings_rows=tuple(settings_rows(results)),
        input_hashes=tuple(input_hashes(results)),
        plugins=tuple(plugin_rows(results.loaded)),
        benchmark=s.benchmark,
        pbr_months=(s.pbr_pregnancy_months, s.pbr_engagement_months, s.pbr_proceedings_months),
        warnings=bool(results.problems.warnings),
    )


def internal_of(results: Results) -> Internal:
    """The client-level sheets (only ever made when ``--internal`` is asked for)."""
    return Internal(
        results.pbr_clients,
        {i.name: results.evaluations[i.name].scores for i in results.loaded.instruments},
    )


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


def plugin_rows(loaded) -> list[tuple[str, str]]:
    """The Cover's plugins, by distribution and version (module paths mean nothing to a
    funder)."""
    packages: dict[str, str] = {}
    for p in used_plugins(loaded):
        state = "FAILED to load" if p.error else "loaded"
        if packages.get(f"{p.package} {p.version}") != "FAILED to load":
            packages[f"{p.package} {p.version}"] = state
    return sorted(packages.items())


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
    """The Cover's settings (a shared output hides nothing: its threshold says so)."""
    s = results.settings
    rows: list[tuple[str, Any]] = [
        ("Configuration file", s.config_file.name if s.config_file else "none (defaults)"),
        ("Reporting calendar", s.calendar),
        (
            "Small-number threshold",
            "none: exact counts (shared under agreement)"
            if s.audience == "shared"
            else f"counts 1 to {s.small_number_threshold} shown as "
            f"{SYMBOL_PROFILES[s.symbols][SUPPRESSED]}",
        ),
        (
            "Protection of hidden counts",
            "none: exact counts (shared under agreement)"
            if s.audience == "shared"
            else f"no hidden count can be {hiding_words(s.keep)} (protection_values = {s.keep})",
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

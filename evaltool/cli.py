"""The ``evaltool`` command line: a thin map onto :mod:`evaltool.api`. Each command parses its
options, makes one api call and prints or writes what it returns; it imports only the api, the
errors and the report's presentation modules (text, JSON, value tables, charts), which
``tests/test_architecture.py`` holds.

Heavy libraries (pandas, scipy, lifelines, openpyxl, matplotlib) are imported inside the commands
that need them, so ``evaltool --help`` stays instant. Errors print one line, ``Error: ...``.

Exit codes: 0 success; 1 an error you can fix (configuration, output file, plugin); 2 the data
has problems (all listed) or the command line is wrong; 3 an internal error (a bug).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from evaltool import __version__
from evaltool.errors import EvaltoolError, InvalidData

if TYPE_CHECKING:
    import datetime as dt

    from evaltool.api import Settings

app = typer.Typer(
    name="evaltool",
    help="Measure and evaluate services for parents in recurrent care proceedings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: importing rich for it costs more than typer itself
)

T = TypeVar("T")

DataArg = Annotated[
    Path,
    typer.Argument(
        help="An .xlsx workbook (a sheet per table) or a folder of .csv files.", show_default=False
    ),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Settings file (evaltool.toml).")
]
ExtractOpt = Annotated[
    str | None,
    typer.Option(
        help="The day the data was exported (dd/mm/yyyy or yyyy-mm-dd); default: the "
        "settings' extract_date, else today. Figures are as at the period end."
    ),
]
PropensityOpt = Annotated[
    str | None,
    typer.Option(
        help="Compare the cohorts with propensity weights on these covariates, e.g. "
        "age_at_origin,prior_children_removed,care_experienced."
    ),
]
FinalOpt = Annotated[
    bool,
    typer.Option(
        "--final",
        help="The return to send: recorded, so that later returns are protected with it. "
        "Without it, a draft marked DRAFT on every page, never recorded as sent.",
    ),
]
WeightsOpt = Annotated[
    str | None,
    typer.Option(
        help="att (the effect on the service's clients; the default, from the settings' "
        "comparison.weights) or ate (the effect on everyone)."
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"evaltool {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Measure and evaluate services for parents in recurrent care proceedings."""


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def guarded(func: Callable[[], T]) -> T:
    """Run a command body; turn our errors into one-line messages and exit codes."""
    try:
        return func()
    except InvalidData as exc:
        print_problems(exc.problems)
        fail(str(exc), exc.exit_code)
    except EvaltoolError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted; nothing was written", 130)
    except Exception as exc:  # a bug: say so plainly, traceback on request
        if os.environ.get("EVALTOOL_DEBUG"):
            raise
        fail(
            f"unexpected internal error ({type(exc).__name__}: {exc}). This is a bug in "
            "evaltool or a plugin, not in your data; nothing was written. Please report it "
            "with the command you ran (set EVALTOOL_DEBUG=1 to see the details).",
            3,
        )
    raise AssertionError("unreachable")


@contextmanager
def progress_display() -> Iterator[Callable[[str], None]]:
    """Show each long step with a spinner and its time when run in a terminal; quiet otherwise
    (pipes, files, CI). Yields a callback: call it with the name of each new step."""
    if not sys.stderr.isatty():
        yield lambda _: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(finished_text="✓"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as bar:
        current: list[int] = []

        def step(name: str) -> None:
            if current:
                bar.update(current[-1], total=1, completed=1)
            current.append(bar.add_task(name, total=None))

        yield step
        if current:
            bar.update(current[-1], total=1, completed=1)


#: said first when a run has no settings (a forgotten --config otherwise reads as bad data)
NO_SETTINGS = "Note: no settings file (no --config, no evaltool.toml found): template names"


def settings_from(config: Path | None, data: Path | None = None, **overrides: Any):
    """The settings: --config, else an evaltool.toml beside the data or in this folder (said
    first, in one line, as is having none); each note of the settings said once."""
    from evaltool.api import find_settings, load_settings

    if config is None and data is not None:
        config = find_settings(Path(data))
        if config is None:
            typer.echo(NO_SETTINGS, err=True)
        else:
            typer.echo(f"Note: settings read from {config} (--config names another file)", err=True)
    settings = load_settings(config)
    for note in settings.notes:
        typer.echo(f"Note: {note}", err=True)
    return settings.with_overrides(**overrides)


def print_problems(report) -> None:
    """Print every problem: what is wrong, then where (repeats of one cause grouped)."""
    from evaltool.report.text import problems_table

    typer.echo(problems_table(report), err=True)


@app.command()
def validate(
    data: DataArg,
    config: ConfigOpt = None,
    report_csv: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Also write every problem to this file: .csv, or .xlsx to open in Excel "
            "(client references such as 00102 kept as text).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace the --report file if it exists.")] = False,
    extract_date: ExtractOpt = None,
) -> None:
    """Check the data against the contract and list every problem at once."""

    def body() -> None:
        from evaltool.api import parse_date, validate

        extract = parse_date(extract_date, "--extract-date") if extract_date else None
        settings = settings_from(config, data)
        with progress_display() as progress:
            loaded = validate(data, settings, extract, report_csv, force, progress=progress)
        report = loaded.problems
        if not report.ok:
            raise InvalidData(report, "fix them and run validate again")
        if report.problems:
            print_problems(report)  # warnings only
        tables = ", ".join(f"{k} ({len(v)} rows)" for k, v in loaded.dataset.tables.items())
        typer.echo(f"OK: {data} is valid. Tables: {tables}. Warnings: {len(report.warnings)}.")

    guarded(body)


def write_quarter(
    data: Path,
    config: Path | None,
    extract_date: str | None,
    period: str,
    out: Path,
    force: bool,
    internal: bool = False,
    final: bool = False,
):
    """One quarter's output written (``score``, and ``summary``: the board summary), saying if
    its folder was made."""
    from evaltool.api import parse_date, score_and_write

    extract = parse_date(extract_date, "--extract-date") if extract_date else None
    settings = settings_from(config, data)
    missing = next((f for f in reversed(out.parents) if not f.exists()), None)
    with progress_display() as progress:
        results = score_and_write(
            data,
            settings,
            period,
            out,
            force=force,
            internal=internal,
            progress=progress,
            final=final,
            extract_date=extract,
        )
    if missing is not None:
        typer.echo(f"Created the folder {out.parent}")
    return results


def status_words(
    results, final: bool, internal: bool = False, unkept: list[str] | None = None
) -> str:
    """What was made, for the line after 'Wrote ...'."""
    from evaltool.api import record_path

    if results.settings.audience == "shared":
        return "SHARED under agreement, exact counts, not for publication; not recorded" + (
            "" if final else "; DRAFT"
        )
    where = record_path(results.settings)
    if not final:
        if unkept:
            kept = f"not kept in the record, so later drafts are not protected with it: {unkept[0]}"
        elif internal or where is None:
            kept = "not kept " + ("(internal)" if internal else "(no settings file)")
        else:
            kept = f"kept in {where} as a draft, so that later drafts are protected with it"
        return f"DRAFT, not for sending; {kept}; add --final for the return to send"
    if internal or where is None:
        return "final; not recorded" + (" (internal)" if internal else " (no settings file)")
    return f"final; recorded in {where}"


@app.command()
def score(
    data: DataArg,
    period: Annotated[
        str,
        typer.Option(
            help="Reporting quarter, e.g. 2025-Q3 (financial year 2025-26, Oct-Dec 2025).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="The return to write: .xlsx, or .json (the same protected figures).",
            show_default=False,
        ),
    ],
    config: ConfigOpt = None,
    extract_date: ExtractOpt = None,
    force: Annotated[bool, typer.Option(help="Replace the return if it exists.")] = False,
    internal: Annotated[
        bool, typer.Option(help="Add client-level sheets, marked INTERNAL – NOT FOR CIRCULATION.")
    ] = False,
    final: FinalOpt = False,
) -> None:
    """Score every instrument for a quarter and write the funder return (.xlsx or .json):
    a draft unless --final."""

    def body() -> None:
        import warnings

        from evaltool.api import DraftNotKept

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DraftNotKept)
            results = write_quarter(data, config, extract_date, period, out, force, internal, final)
        unkept = [str(w.message) for w in caught if issubclass(w.category, DraftNotKept)]
        n_warn = len(results.problems.warnings)
        typer.echo(
            f"Wrote {out} ({status_words(results, final, internal, unkept)}) — "
            f"{results.period.code}, {results.period.describe()}; "
            f"{len(results.loaded.instruments)} instruments; {n_warn} warning(s)"
            + (" (see the Data quality sheet or `evaltool validate`)" if n_warn else "")
        )

    guarded(body)


@app.command("summary")  # the command's name users know; the idea is the board summary
def board_summary(
    data: DataArg,
    period: Annotated[
        str,
        typer.Option(help="Reporting quarter, e.g. 2025-Q3 or 2025-26 Q3.", show_default=False),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="The page to write: .html, or .pdf (printed by Chromium where installed).",
            show_default=False,
        ),
    ],
    config: ConfigOpt = None,
    extract_date: ExtractOpt = None,
    force: Annotated[bool, typer.Option(help="Replace the page if it exists.")] = False,
    final: FinalOpt = False,
) -> None:
    """Write the one-page board summary: the Summary sheet's figures in plain English, with
    three charts (.html, or .pdf)."""
    if out.suffix.lower() not in (".html", ".pdf"):
        fail(f"--out {out.name}: the board summary is an .html or .pdf file, e.g. board.html", 2)

    def body() -> None:
        results = write_quarter(data, config, extract_date, period, out, force, final=final)
        typer.echo(
            f"Wrote {out} ({status_words(results, final)}) — board summary, "
            f"{results.period.describe()}"
        )

    guarded(body)


@app.command()
def due(
    data: DataArg,
    out: Annotated[
        Path,
        typer.Option(help="The list to write (.xlsx), marked INTERNAL.", show_default=False),
    ],
    as_of: Annotated[
        str | None,
        typer.Option(
            help="The day the list is for (dd/mm/yyyy or yyyy-mm-dd); default: today. Records "
            "made after it are left out."
        ),
    ] = None,
    config: ConfigOpt = None,
    force: Annotated[bool, typer.Option(help="Replace the list if it exists.")] = False,
) -> None:
    """The team's to-do list (internal, never sent): overdue readings and goal reviews, long
    waits, closures and proceedings with no outcome, blanks and errors, by client reference."""

    def body() -> None:
        from evaltool.api import due_and_write, parse_date

        day = parse_date(as_of, "--as-of") if as_of else None
        settings = settings_from(config, data)
        items = due_and_write(data, settings, out, as_of=day, force=force)
        workers = items["Key worker"].replace("", None).dropna().nunique()
        typer.echo(
            f"Wrote {out} (INTERNAL: it names clients; keep it within the service) — "
            f"{len(items)} item(s)" + (f" for {workers} key worker(s)" if workers else "")
        )

    guarded(body)


@app.command()
def scores(
    data: DataArg,
    instrument: Annotated[
        str, typer.Option(help="Instrument name (see `evaltool instruments`).", show_default=False)
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="File to write: .csv, or .xlsx to open in Excel (ids such as 00102 kept as text).",
            show_default=False,
        ),
    ],
    config: ConfigOpt = None,
    period: Annotated[
        str | None, typer.Option(help="Only readings up to the end of this quarter.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace the file if it exists.")] = False,
) -> None:
    """Export one instrument's client-level scores (pseudonymous ids) for evaluators."""

    def body() -> None:
        from evaltool.api import scores_and_write

        settings = settings_from(config, data)
        table = scores_and_write(data, instrument, settings, out, period, force)
        typer.echo(f"Wrote {out}: {len(table)} rows, {len(table.columns)} columns")

    guarded(body)


@app.command()
def compare(
    data: DataArg,
    instrument: Annotated[str | None, typer.Option(help="Only this instrument.")] = None,
    config: ConfigOpt = None,
    period: Annotated[
        str | None, typer.Option(help="Only readings up to the end of this quarter.")
    ] = None,
    propensity: PropensityOpt = None,
    weights: WeightsOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Before/after comparison (first vs latest reading) of every measure; with
    --propensity, the change compared between the cohorts where both have readings."""

    def body() -> None:
        from evaltool.api import compare as compare_readings

        settings = settings_from(config, data)
        with progress_display() as progress:
            found = compare_readings(
                data, settings, instrument, period, propensity, weights, progress=progress
            )
        if as_json:
            typer.echo(json.dumps(found.json(), indent=2, default=str))
        else:
            typer.echo(found.text())

    guarded(body)


def follow_up_to(extract_date: str | None, settings: Settings) -> dt.date:
    """The day follow-up ends (``api.follow_up_to``), its note said on stderr."""
    from evaltool.api import follow_up_to as follow_up

    day, note = follow_up(extract_date, settings)
    if note:
        typer.echo(note, err=True)
    return day


@app.command()
def survival(
    data: DataArg,
    config: ConfigOpt = None,
    extract_date: Annotated[
        str | None,
        typer.Option(
            help="Follow-up ends on this date (dd/mm/yyyy or yyyy-mm-dd); default: the "
            "settings' extract "
            "date, else the end of the last quarter that has ended (as its return)."
        ),
    ] = None,
    origin: Annotated[
        str | None,
        typer.Option(
            help="Measure from index-issue (the index proceedings' issue date), "
            "index-conclusion (their final order) or start (service start)."
        ),
    ] = None,
    entry: Annotated[
        str | None,
        typer.Option(
            help="Count each parent from the day she joined: start (service start; comparison "
            "cohort: referral; the default) or referral (intention to treat: everyone from "
            "referral, never-started parents kept)."
        ),
    ] = None,
    outcome: Annotated[
        str | None,
        typer.Option(
            help="any (new proceedings of any kind, the default) or new-child (about a child "
            "born after the index proceedings were issued; needs the children table)."
        ),
    ] = None,
    times: Annotated[str | None, typer.Option(help="Days to report, e.g. 182,365,730.")] = None,
    ci: Annotated[
        str | None,
        typer.Option(help="CI transform: log (R's default) or log-log (lifelines' default)."),
    ] = None,
    covariates: Annotated[
        str | None,
        typer.Option(help="Cox model covariates, e.g. cohort,age_at_origin,care_experienced."),
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="Also estimate by this column, e.g. age_band.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write the Kaplan-Meier chart to this PNG.")
    ] = None,
    propensity: PropensityOpt = None,
    weights: WeightsOpt = None,
    match: Annotated[
        bool, typer.Option("--match", help="Nearest-neighbour matching instead of weights.")
    ] = False,
    caliper: Annotated[float, typer.Option(help="Matching caliper, in SDs of the logit.")] = 0.2,
    trim: Annotated[
        float | None, typer.Option(help="Bound the scores to [trim, 1 - trim], e.g. 0.01.")
    ] = None,
    bootstrap: Annotated[
        int | None,
        typer.Option(
            help="Resamples for the CI of the weighted difference (seeded; default 1,000, or "
            "the settings' comparison.bootstrap)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Time to next care proceedings: Kaplan-Meier, log-rank, Cox model and benchmark; with
    --propensity, the cohorts compared with propensity weights or matching, and the balance."""

    def body() -> None:
        from evaltool.api import survival as time_to_proceedings
        from evaltool.api import survival_choices

        survival_choices(origin, entry, outcome, ci)  # before the settings' notes
        settings = settings_from(config, data)
        extract = follow_up_to(extract_date, settings)
        with progress_display() as progress:
            found = time_to_proceedings(
                data,
                settings,
                extract,
                origin=origin,
                entry=entry,
                outcome=outcome,
                ci=ci,
                times=times,
                covariates=covariates,
                group=group,
                propensity=propensity,
                weights=weights,
                match=match,
                caliper=caliper,
                trim=trim,
                bootstrap=bootstrap,
                progress=progress,
            )
        if plot is not None:
            from evaltool.report.km_png import km_png

            km_png(found.result, settings.small_number_threshold, plot)
        if as_json:
            typer.echo(json.dumps(found.json(), indent=2, default=str))
        else:
            typer.echo(found.text())
        for warning in found.result.warnings_:
            typer.echo(f"warning: {warning}", err=True)

    guarded(body)


@app.command()
def rates(
    data: DataArg,
    config: ConfigOpt = None,
    outcome: Annotated[
        str, typer.Option(help="proceedings (new sets of care proceedings) or pregnancies.")
    ] = "proceedings",
    extract_date: Annotated[
        str | None,
        typer.Option(
            help="Follow-up ends on this date (dd/mm/yyyy or yyyy-mm-dd); default as `survival`."
        ),
    ] = None,
    covariates: Annotated[
        str | None, typer.Option(help="Adjust for these columns, e.g. age_at_origin.")
    ] = None,
    propensity: PropensityOpt = None,
    weights: WeightsOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rates per client-year by cohort: Poisson and negative binomial models with the years
    followed as offset, adjusted, and weighted with --propensity; rate ratios with CIs."""

    def body() -> None:
        from evaltool.api import rates as fit_rates
        from evaltool.report.json_output import rates_json
        from evaltool.report.text import rates_text

        settings = settings_from(config, data)
        extract = follow_up_to(extract_date, settings)
        with progress_display() as progress:
            result = fit_rates(
                data, settings, extract, outcome, covariates, propensity, weights, progress
            )
        if as_json:
            typer.echo(json.dumps(rates_json(result), indent=2, default=str))
        else:
            typer.echo(rates_text(result))

    guarded(body)


@app.command()
def areas(
    data: DataArg,
    config: ConfigOpt = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write the trends by group to this PNG.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Area-level difference in differences on infants entering care (the areas table):
    stacked by start year against areas never or not yet served, an event study with the test
    of the trends before, t on G - 1 and randomisation inference; clustered by area."""

    def body() -> None:
        from evaltool.api import areas as area_did
        from evaltool.report.json_output import areas_json
        from evaltool.report.text import areas_text

        settings = settings_from(config, data)
        with progress_display() as progress:
            result = area_did(data, settings, progress)
        if plot is not None:
            from evaltool.report.km_png import trends_png

            trends_png(result.trends_, plot)
        if as_json:
            typer.echo(json.dumps(areas_json(result), indent=2, default=str))
        else:
            typer.echo(areas_text(result))

    guarded(body)


@app.command()
def audit(
    returns: Annotated[
        list[Path],
        typer.Argument(help="Returns as sent (.xlsx): this quarter's and any earlier ones."),
    ],
    config: ConfigOpt = None,
) -> None:
    """Try a reader's attacks on returns as sent; list every hidden figure they give away.

    Exit 1 if anything is found (each finding names the cells), 0 if nothing is."""

    def body() -> None:
        from evaltool.api import audit as attack

        settings = settings_from(config)
        threshold, keep = settings.small_number_threshold, settings.keep
        findings = attack(returns, threshold, keep)
        for f in findings:
            typer.echo(f"{f.kind}: {f.message}")
        if findings:
            raise EvaltoolError(
                f"{len(findings)} finding(s) in {len(returns)} return(s): do not send these "
                "as they are"
            )
        typer.echo(
            f"No hidden figure in {len(returns)} return(s) can be worked out to fewer than "
            f"{keep} values by the attacks evaltool knows (see docs/disclosure.md)."
        )

    guarded(body)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder for evaltool.toml and the template.")],
    export: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Write the settings from your export (an .xlsx workbook or a folder of .csv "
            "files): its sheets, headers and labels matched to evaltool's, each with why.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace existing files.")] = False,
) -> None:
    """Write a starter evaltool.toml and a blank template workbook to fill in, or (--from) the
    settings for an export you already have, then check the export with them."""

    def body() -> None:
        if export is not None:
            init_from(folder, export, force)
            return
        from evaltool.api import write_starter

        written = write_starter(folder, force=force)
        for path in written:
            typer.echo(f"Wrote {path}")
        typer.echo(
            "Next: fill in the template, then run "
            f"`evaltool validate {written[1]} --config {written[0]}`"
        )

    guarded(body)


def init_from(folder: Path, export: Path, force: bool) -> None:
    """Settings written from an export, what could not be matched, then validate's result."""
    from evaltool.api import load, load_settings, write_from_export

    path, found = write_from_export(folder, export, force)
    tables = ", ".join(f"'{s.sheet}' as {s.table}" for s in found.sheets) or "none"
    typer.echo(f"Wrote {path}: {found.column_count} column(s) matched; tables: {tables}.")
    if found.unmatched:
        typer.echo(f"Could not match ({len(found.unmatched)}; also listed at the top of {path}):")
        for item in found.unmatched:
            typer.echo(f"  - {item}")
    typer.echo(f"Checking {export} with these settings (evaltool validate):")
    settings = load_settings(path)
    with progress_display() as progress:
        loaded = load(export, settings, progress=progress)
    report = loaded.problems
    if report.problems:
        print_problems(report)
    command = f"evaltool validate {export} --config {path}"
    if not report.ok:
        typer.echo(
            f"Next: fix these in the export or in {path} (each mapping there says why it was "
            f"made), then run `{command}`"
        )
        return
    typer.echo(f"OK: {export} is valid with these settings. Next: check {path}, then `{command}`")


@app.command()
def plugins(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List installed plugins: name, version, hooks, instruments, outputs and load errors."""

    def body() -> None:
        from dataclasses import asdict

        from evaltool.api import plugins as found_plugins

        found = found_plugins()
        if as_json:
            typer.echo(json.dumps([asdict(p) for p in found], indent=2))
            return
        for p in found:
            status = f"FAILED: {p.error}" if p.error else ("built-in" if p.builtin else "loaded")
            typer.echo(f"{p.name}  ({p.package} {p.version})  [{status}]")
            if p.hooks:
                typer.echo(f"    hooks: {', '.join(p.hooks)}")
            if p.kinds:
                typer.echo(f"    kinds: {', '.join(p.kinds)}")
            if p.instruments:
                typer.echo(f"    instruments: {', '.join(p.instruments)}")
            if p.outputs:
                typer.echo(f"    outputs: {', '.join(p.outputs)}")

    guarded(body)


@app.command()
def benchmarks(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the benchmark figures evaltool ships: who, measured from where, when, the source."""

    def body() -> None:
        from dataclasses import asdict

        from evaltool.api import benchmarks as shipped

        found = shipped()
        if as_json:
            typer.echo(json.dumps({k: asdict(b) for k, b in found.items()}, indent=2))
            return
        for name, b in found.items():
            typer.echo(f"{name}\n    {b.label}: {b.points_text()}")
            typer.echo(f"    measured on: {b.describe()}\n    source: {b.source}")
        typer.echo(
            '\nUse one as [survival] benchmark = "NAME" in the settings, or give the path of a '
            "benchmark file of your own (the format: README, 'Benchmarks')."
        )

    guarded(body)


@app.command()
def value(
    data: DataArg,
    config: ConfigOpt = None,
    period: Annotated[
        str | None,
        typer.Option(help="The quarter, e.g. 2025-Q3; default the last one ended."),
    ] = None,
    extract_date: ExtractOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Value for money: the service's cost, what it may save ([value] in the settings), the
    net present value and benefit-cost ratio with an interval, the break-even point and a
    sensitivity table. Every GBP figure to the nearest 1,000."""

    def body() -> None:
        from evaltool.api import parse_date
        from evaltool.api import value as value_for_money
        from evaltool.report.value_tables import value_json, value_text

        extract = parse_date(extract_date, "--extract-date") if extract_date else None
        settings = settings_from(config, data, extract_date=extract)
        with progress_display() as progress:
            result = value_for_money(data, settings, period, extract, progress=progress)
        if as_json:
            typer.echo(json.dumps(value_json(result), indent=2, default=str))
        else:
            typer.echo(value_text(result))

    guarded(body)


@app.command()
def costs(
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the unit costs (evaltool's, with your own file's lines over them): value, unit,
    price year, source, licence and what was checked; and the GDP deflator's vintage."""

    def body() -> None:
        from dataclasses import asdict

        from evaltool.api import unit_costs

        found, deflator = unit_costs(settings_from(config))
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "costs": [asdict(c) for c in found.values()],
                        "deflator": {
                            "vintage": deflator.vintage,
                            "source": deflator.source,
                            "checked": deflator.checked,
                            "index": deflator.index,
                        },
                    },  # fmt: skip
                    indent=2,
                )
            )
            return
        for c in found.values():
            typer.echo(f"{c.id}  ({c.origin})\n    {c.label}: GBP {c.value:,.0f} {c.unit}")
            typer.echo(f"    price year {c.price_year}; source: {c.source}")
            typer.echo(f"    licence: {c.licence or 'not stated'}\n    checked: {c.checked}")
        typer.echo(f"\nGDP deflator: {deflator.vintage}\n    checked: {deflator.checked}")
        typer.echo(
            "\nName them in [value] savings; override or add lines with [value] costs = "
            '"my-costs.toml" (the same form; README, "Value for money").'
        )

    guarded(body)


@app.command()
def instruments(
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List instruments: kind, table, columns and scale."""

    def body() -> None:
        from evaltool.api import registry_for

        registry = registry_for(settings_from(config))
        rows = []
        for name, inst in sorted(registry.instruments.items()):
            spec = inst.table()
            rows.append(
                {
                    "name": name,
                    "title": inst.title,
                    "kind": inst.kind,
                    "table": spec.name,
                    "columns": spec.column_names,
                    "scale": inst.describe_scale(),
                    "source": inst.source,
                }
            )
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        for r in rows:
            typer.echo(f"{r['name']}  ({r['kind']})  {r['title']}")
            typer.echo(f"    table: {r['table']}  columns: {', '.join(r['columns'])}")
            typer.echo(f"    scale: {r['scale']}")
        for p in registry.load_errors:
            typer.echo(
                f"warning: plugin {p.package} ({p.name}) failed to load: {p.error}", err=True
            )

    guarded(body)


def main() -> None:
    app()

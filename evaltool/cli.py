"""The ``evaltool`` command line: a thin layer over :mod:`evaltool.core`.

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

    from evaltool.config import Settings

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
        "Without it, a draft marked DRAFT on every page and not recorded.",
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
    from evaltool.api import load_settings
    from evaltool.config import find_settings

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
        from evaltool.api import load
        from evaltool.config import parse_date_setting
        from evaltool.report.files import inputs_of, refuse_inputs

        extract = parse_date_setting(extract_date, "--extract-date") if extract_date else None
        settings = settings_from(config, data)
        if report_csv is not None:
            refuse_inputs(report_csv, inputs_of(data, settings), "--report")
            if report_csv.exists() and not force:
                raise EvaltoolError(f"{report_csv} already exists; use --force to replace it")
        with progress_display() as progress:
            loaded = load(data, settings, progress=progress, extract_date=extract)
        report = loaded.problems
        if report_csv is not None:
            from evaltool.report.text import problems_csv

            problems_csv(report, report_csv, force)
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
    """One quarter's output written (``score`` and ``summary``), saying if its folder was made."""
    from evaltool.api import score_and_write
    from evaltool.config import parse_date_setting

    extract = parse_date_setting(extract_date, "--extract-date") if extract_date else None
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


def status_words(results, final: bool, internal: bool = False) -> str:
    """What was made, for the line after 'Wrote ...'."""
    from evaltool.report.record import record_path

    if results.settings.audience == "shared":
        return "SHARED under agreement, exact counts, not for publication; not recorded" + (
            "" if final else "; DRAFT"
        )
    if not final:
        return "DRAFT: not recorded, not for sending; add --final for the return to send"
    where = record_path(results.settings)
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
        results = write_quarter(data, config, extract_date, period, out, force, internal, final)
        n_warn = len(results.problems.warnings)
        typer.echo(
            f"Wrote {out} ({status_words(results, final, internal)}) — "
            f"{results.period.code}, {results.period.describe()}; "
            f"{len(results.loaded.instruments)} instruments; {n_warn} warning(s)"
            + (" (see the Data quality sheet or `evaltool validate`)" if n_warn else "")
        )

    guarded(body)


@app.command()
def summary(
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
        from evaltool.api import due_and_write
        from evaltool.config import parse_date_setting

        day = parse_date_setting(as_of, "--as-of") if as_of else None
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
        from evaltool.api import client_scores
        from evaltool.report.files import inputs_of, refuse_inputs
        from evaltool.report.scores_file import SUFFIXES, write_scores

        if out.suffix.lower() not in SUFFIXES:
            raise EvaltoolError(
                f"--out {out.name}: write the scores as .csv or .xlsx (.xlsx keeps ids such as "
                "00102 as text in Excel)"
            )
        settings = settings_from(config, data)
        refuse_inputs(out, inputs_of(data, settings))
        if out.exists() and not force:
            raise EvaltoolError(f"{out} already exists; use --force to replace it")
        table = client_scores(data, instrument, settings, period)
        write_scores(table, out, force)
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
        from evaltool.api import before_after, load
        from evaltool.periods import parse_period
        from evaltool.report.json_output import records
        from evaltool.report.text import compare_table

        settings = settings_from(config, data)
        with progress_display() as progress:
            loaded = load(data, settings, only=instrument, progress=progress)
        if not loaded.problems.ok:
            raise InvalidData(loaded.problems)
        end = parse_period(period, settings.calendar).end if period else None
        summary = before_after(loaded, instrument, end)
        adjusted = None
        if propensity:
            from evaltool.analysis.comparison import Propensity
            from evaltool.api import adjusted_before_after
            from evaltool.config import required_baseline
            from evaltool.errors import ConfigError

            estimand = weights or settings.comparison_weights
            if estimand not in ("ate", "att"):
                raise ConfigError(f"--weights {weights}: use ate or att")
            ps = Propensity(
                baseline_names(propensity), estimand, required=required_baseline(settings)
            )
            adjusted = adjusted_before_after(loaded, ps, end, instrument)
            for row in adjusted:
                if "evidence" in row:
                    row["evidence"] = labelled(row["evidence"], settings, estimand, "change")
        if as_json:
            from evaltool.analysis.evidence import evidence

            out: Any = [{**r, "evidence": evidence("before-after")} for r in records(summary)]
            if adjusted is not None:
                from evaltool.report.json_output import adjusted_json

                out = {"before_after": out, "adjusted": adjusted_json(adjusted)}
            typer.echo(json.dumps(out, indent=2, default=str))
        else:
            typer.echo(compare_table(summary, settings.compare_min_days))
            if adjusted is not None:
                from evaltool.report.text import adjusted_text

                typer.echo(adjusted_text(adjusted, ps))

    guarded(body)


def labelled(
    found: dict[str, Any],
    settings: Settings,
    estimand: str | None,
    outcome: str,
    origin: str | None = None,
    method: str = "weights",
) -> dict[str, Any]:
    """The evidence with the analysis's role: the primary analysis of the settings, or a
    sensitivity analysis saying where it differs."""
    from evaltool.analysis.evidence import role, with_role
    from evaltool.config import primary_analysis

    analysis = {"outcome": outcome, "estimand": estimand, "method": method, "origin": origin}
    return with_role(found, role(primary_analysis(settings), **analysis))


def names_of(text: str | None) -> tuple[str, ...]:
    """Column names given as 'a,b,c' on the command line."""
    return tuple(c.strip() for c in text.split(",") if c.strip()) if text else ()


def baseline_names(text: str | None, option: str = "--propensity") -> tuple[str, ...]:
    """Covariates given on the command line, refused in words (naming the option and the
    values) unless they are baseline characteristics known at entry."""
    from evaltool.data.baseline import refusal_message
    from evaltool.errors import ConfigError

    names = names_of(text)
    refused = refusal_message(names, option)
    if refused:
        raise ConfigError(refused)
    return names


def follow_up_to(extract_date: str | None, settings: Settings) -> dt.date:
    """The extract date: the option, else the settings', else the end of the last quarter
    that has ended (as its return would follow up), said on stderr."""
    import datetime as dt  # noqa: F811 (the annotation's, at run time)

    from evaltool.config import parse_date_setting

    if extract_date:
        return parse_date_setting(extract_date, "--extract-date")
    if settings.extract_date:
        return settings.extract_date
    from evaltool.periods import period_of

    last = period_of(dt.date.today(), settings.calendar).previous()
    typer.echo(
        f"Follow-up to {last.end:%d/%m/%Y}, the end of {last.code} (the last quarter that "
        "has ended), as its return would; --extract-date to change.",
        err=True,
    )
    return last.end


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
        from evaltool.api import load, time_to_proceedings
        from evaltool.config import (
            CI_TRANSFORMS,
            ORIGIN_ALIASES,
            ORIGINS,
            parse_times,
        )
        from evaltool.errors import ConfigError
        from evaltool.report.json_output import survival_json
        from evaltool.report.text import survival_text

        named = ORIGIN_ALIASES.get(origin, origin) if origin is not None else None
        if named is not None and named not in ORIGINS:
            raise ConfigError(f"--origin {origin}: use one of {', '.join(ORIGINS)}")
        if ci is not None and ci not in CI_TRANSFORMS:
            raise ConfigError(f"--ci {ci}: use one of {', '.join(CI_TRANSFORMS)}")
        if outcome is not None and outcome not in ("any", "new-child"):
            raise ConfigError(f"--outcome {outcome}: use any or new-child")
        if entry is not None and entry not in ("start", "referral"):
            raise ConfigError(f"--entry {entry}: use start or referral")
        settings = settings_from(config, data)
        extract = follow_up_to(extract_date, settings)
        with progress_display() as progress:
            loaded = load(data, settings, progress=progress)
        if not loaded.problems.ok:
            raise InvalidData(loaded.problems)
        covs = names_of(covariates)
        from evaltool.data.baseline import refusal_message

        refused = refusal_message(covs, "--covariates", allow=("cohort",))
        if refused:
            raise ConfigError(refused)
        result = time_to_proceedings(
            loaded,
            extract,
            origin=named,
            entry=entry,
            outcome=outcome,
            ci=ci,
            times=parse_times(times, "--times") if times else None,
            covariates=covs,
            group=group,
        )
        if plot is not None:
            from evaltool.report.km_png import km_png

            km_png(result, settings.small_number_threshold, plot)
        compared = horizon = None
        if propensity is not None:
            from evaltool.analysis.comparison import Propensity, WeightedSurvival
            from evaltool.config import required_baseline

            estimand = weights or settings.comparison_weights
            if estimand not in ("ate", "att"):
                raise ConfigError(f"--weights {weights}: use ate or att")
            names = baseline_names(propensity)
            ps = Propensity(
                names,
                estimand,
                trim=trim,
                match=match,
                caliper=caliper,
                required=required_baseline(settings),
            )
            resamples = settings.comparison_bootstrap if bootstrap is None else bootstrap
            compared = WeightedSurvival(
                ps, times=result.times, ci=result.ci, bootstrap=resamples
            ).fit(result.table_)
            compared.evidence_ = labelled(
                compared.evidence_,
                settings,
                estimand,
                result.outcome,
                origin=result.origin,
                method="match" if match else "weights",
            )
            from evaltool.api import adjusted_horizon

            horizon = adjusted_horizon(loaded, ps, extract)
            if "evidence" in horizon:
                horizon["evidence"] = labelled(
                    horizon["evidence"], settings, estimand, "no new proceedings within horizon"
                )
        unweighted = None  # the unweighted comparison's role: primary or sensitivity
        if result.logrank_ is not None:
            from evaltool.analysis.evidence import role
            from evaltool.config import primary_analysis

            adjusted = "cohort" in result.covariates and len(result.covariates) > 1
            unweighted = role(
                primary_analysis(settings),
                origin=result.origin,
                outcome=result.outcome,
                method="regression" if adjusted else "unadjusted",
            )
        if as_json:
            out = survival_json(result, compared)
            if compared is None and unweighted is not None:
                from evaltool.analysis.evidence import with_role

                out["evidence"] = with_role(out["evidence"], unweighted)
            if horizon is not None:
                from evaltool.report.json_output import adjusted_json

                out["no_new_proceedings_within_horizon"] = adjusted_json([horizon])[0]
            typer.echo(json.dumps(out, indent=2, default=str))
        else:
            analysis = unweighted["statement"] if unweighted is not None else None
            typer.echo(survival_text(result, analysis))
            if compared is not None:
                from evaltool.report.text import adjusted_text, weighted_text

                typer.echo(weighted_text(compared))
                typer.echo(
                    adjusted_text(
                        [
                            {
                                "instrument": "payment by results:",
                                "measure": horizon["outcome"],
                                **horizon,
                            }
                        ],
                        ps,
                    )
                )
        for warning in result.warnings_:
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
        from evaltool.analysis.comparison import Propensity
        from evaltool.analysis.rates import Rates
        from evaltool.api import load
        from evaltool.config import required_baseline
        from evaltool.data.baseline import refusal_message
        from evaltool.errors import ConfigError
        from evaltool.report.json_output import rates_json
        from evaltool.report.text import rates_text

        settings = settings_from(config, data)
        estimand = weights or settings.comparison_weights
        if estimand not in ("ate", "att"):
            raise ConfigError(f"--weights {weights}: use ate or att")
        extract = follow_up_to(extract_date, settings)
        with progress_display() as progress:
            loaded = load(data, settings, progress=progress)
        if not loaded.problems.ok:
            raise InvalidData(loaded.problems)
        covs = names_of(covariates)
        refused = refusal_message(covs, "--covariates")
        if refused:
            raise ConfigError(refused)
        ps = None
        if propensity:
            names = baseline_names(propensity)
            ps = Propensity(names, estimand, required=required_baseline(settings))
        result = Rates(outcome, covs, ps).fit(loaded.dataset.tables, extract)
        result.evidence_ = labelled(
            result.evidence_,
            settings,
            estimand if ps is not None else None,
            f"rate of {outcome}",
            method="weights" if ps is not None else "regression",
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
        from evaltool.analysis.areas import AreaDiD
        from evaltool.api import load
        from evaltool.errors import AnalysisError
        from evaltool.report.json_output import areas_json
        from evaltool.report.text import areas_text

        settings = settings_from(config, data)
        with progress_display() as progress:
            loaded = load(data, settings, progress=progress)
        if not loaded.problems.ok:
            raise InvalidData(loaded.problems)
        table = loaded.dataset.tables.get("areas")
        if table is None:
            raise AnalysisError(
                "no 'areas' table: add one (area, financial_year, infants_entering_care, "
                "live_births, service_area, service_from; see the data contract)"
            )
        result = AreaDiD().fit(table)
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
        from evaltool.report.audit import attack

        missing = [p for p in returns if not p.is_file()]
        if missing:
            raise EvaltoolError(f"{missing[0]} not found; name the returns as sent (.xlsx)")
        threshold = settings_from(config).small_number_threshold
        findings = attack(returns, threshold)
        for f in findings:
            typer.echo(f"{f.kind}: {f.message}")
        if findings:
            raise EvaltoolError(
                f"{len(findings)} finding(s) in {len(returns)} return(s): do not send these "
                "as they are"
            )
        typer.echo(
            f"No hidden figure in {len(returns)} return(s) can be worked out to fewer than "
            f"{threshold + 1} values by the attacks evaltool knows (see docs/disclosure.md)."
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
        from evaltool.template import write_starter

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
    from evaltool.api import load, load_settings
    from evaltool.template import write_from_export

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

        from evaltool.instruments.registry import build_registry
        from evaltool.report.renderers import renderers_of

        registry = build_registry()
        renderers_of(registry)  # the output formats, each listed with the plugin offering it
        if as_json:
            typer.echo(json.dumps([asdict(p) for p in registry.plugins], indent=2))
            return
        for p in registry.plugins:
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

        from evaltool.data.benchmark import read_benchmark, shipped

        found = {name: read_benchmark(name, "evaltool") for name in shipped()}
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
        import datetime as dt

        from evaltool.api import value as value_for_money
        from evaltool.config import parse_date_setting
        from evaltool.periods import period_of
        from evaltool.report.value_tables import value_json, value_text

        extract = parse_date_setting(extract_date, "--extract-date") if extract_date else None
        settings = settings_from(config, data, extract_date=extract)
        quarter = period
        if quarter is None:  # the quarter before today's: the last one ended
            this = period_of(dt.date.today(), settings.calendar)
            quarter = period_of(this.start - dt.timedelta(days=1), settings.calendar).code
        with progress_display() as progress:
            result = value_for_money(data, settings, quarter, extract, progress=progress)
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

"""The library API, one call per command of the CLI::

    from evaltool.api import load_settings, run, score_and_write
    results = run("service.xlsx", load_settings("evaltool.toml"), "2025-Q3")

``load`` reads and checks the data, ``run`` evaluates a period (instruments, activity,
before/after, time to next proceedings), ``score_and_write`` is the quarterly return in one
call (``score`` and ``summary``). One call per other command: ``validate``, ``compare``,
``survival``, ``rates``, ``areas``, ``value``, ``scores_and_write`` (``client_scores`` without
the file), ``due_and_write`` (``due`` without the file), ``audit``, ``write_starter`` and
``write_from_export`` (``init``), ``plugins``, ``benchmarks``, ``unit_costs`` (``costs``) and
``registry_for`` (``instruments``). The CLI only parses options, makes one of these calls and
prints or writes what it returns; every check of an option's value beyond its type is here, so
a library user gets the same refusals in the same words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from evaltool.config import Settings, find_settings
from evaltool.config import parse_date_setting as parse_date
from evaltool.core import (
    Loaded,
    Results,
    adjusted_before_after,
    adjusted_horizon,
    before_after,
    client_scores,
    due,
    load,
    load_settings,
    registry_for,
    run,
    time_to_proceedings,
    value_of,
)
from evaltool.errors import AnalysisError, ConfigError, EvaltoolError, InvalidData, OutputError
from evaltool.report.output import DraftNotKept, OutputRenderer
from evaltool.report.record import record_path

if TYPE_CHECKING:
    from evaltool.analysis.areas import AreaDiD
    from evaltool.analysis.comparison import Propensity, WeightedSurvival
    from evaltool.analysis.rates import Rates
    from evaltool.analysis.survival import TimeToProceedings
    from evaltool.data.benchmark import Benchmark
    from evaltool.instruments.registry import PluginInfo
    from evaltool.report.audit import Finding

__all__ = [
    "Compared",
    "DraftNotKept",
    "Loaded",
    "Results",
    "Settings",
    "Survival",
    "adjusted_before_after",
    "adjusted_horizon",
    "areas",
    "audit",
    "before_after",
    "benchmarks",
    "client_scores",
    "compare",
    "due",
    "due_and_write",
    "find_settings",
    "follow_up_to",
    "load",
    "load_settings",
    "parse_date",
    "plugins",
    "rates",
    "record_path",
    "registry_for",
    "run",
    "score_and_write",
    "scores_and_write",
    "survival",
    "survival_choices",
    "time_to_proceedings",
    "unit_costs",
    "validate",
    "value",
    "write_from_export",
    "write_starter",
]

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def score_and_write(
    data: str | Path,
    settings: Settings,
    period: str,
    out: Path,
    force: bool = False,
    internal: bool = False,
    progress: Callable[[str], None] = lambda _: None,
    final: bool = False,
    extract_date: dt.date | None = None,
) -> Results:
    """The quarterly output in one call, in the format ``out``'s extension names (``.xlsx``:
    the return; ``.json``; or a plugin's). A draft (marked DRAFT, kept apart, never as sent) unless
    ``final``. Refuses a bad target or an unusable record before any work and writes nothing
    unless everything succeeded."""
    from evaltool.report import record
    from evaltool.report.files import inputs_of, refuse_inputs
    from evaltool.report.output import check_audience, check_target, write_output
    from evaltool.report.renderers import renderers_of

    check_audience(settings, internal)
    registry = registry_for(settings)
    refuse_inputs(Path(out), inputs_of(data, settings))  # before any work, and --force
    check_target(Path(out), force, renderers_of(registry))
    if settings.audience != "shared":
        record.check(record.record_path(settings), final and not internal)
    results = run(data, settings, period, extract_date, registry=registry, progress=progress)
    progress("writing the output")
    write_output(results, Path(out), force=force, internal=internal, final=final)
    return results


#: the to-do list's format, for the checks every output target gets (it is written by
#: ``report.due_workbook``, not through the renderers: it is never a publication)
TODO_LIST = OutputRenderer("xlsx", "the team's to-do list (INTERNAL)", lambda output, path: None)


def due_and_write(
    data: str | Path,
    settings: Settings,
    out: Path,
    as_of: dt.date | None = None,
    force: bool = False,
) -> pd.DataFrame:
    """The to-do list (``core.due``) written as an INTERNAL workbook; returns its items."""
    from evaltool.report.due_workbook import write_due
    from evaltool.report.files import inputs_of, refuse_inputs
    from evaltool.report.output import check_target

    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise OutputError(f"--out {out.name}: the to-do list is an .xlsx workbook, e.g. due.xlsx")
    refuse_inputs(out, inputs_of(data, settings))  # whatever --force says
    check_target(out, force, {"xlsx": TODO_LIST})
    as_of = as_of or dt.date.today()
    items = due(data, settings, as_of)
    if not out.parent.exists():
        out.parent.mkdir(parents=True)
    write_due(items, out, settings.service, as_of, force)
    return items


def value(
    data: str | Path,
    settings: Settings,
    period: str | None = None,
    extract_date: dt.date | None = None,
    progress: Callable[[str], None] = lambda _: None,
):
    """Value for money for ``period`` (``evaltool value``; default the last quarter that has
    ended): the period run as for the return, then ``analysis.value`` on its cohort
    comparison, benchmark or 'what if' ([value])."""
    if period is None:  # the quarter before today's: the last one ended
        from evaltool.periods import period_of

        this = period_of(dt.date.today(), settings.calendar)
        period = period_of(this.start - dt.timedelta(days=1), settings.calendar).code
    results = run(data, settings, period, extract_date=extract_date, progress=progress)
    progress("value for money")
    return results.value if results.value is not None else value_of(results)


def unit_costs(settings: Settings | None = None):
    """The unit costs (shipped, with the service's own file over them) and the GDP deflator
    (``evaltool costs``)."""
    from evaltool.data.costs import read_deflator
    from evaltool.data.costs import unit_costs as read

    vs = (settings or Settings()).value
    return read(vs.costs), read_deflator(vs.deflator)


# --- one call per command: each checks its options in the words the CLI has always used ------


def validate(
    data: str | Path,
    settings: Settings,
    extract_date: dt.date | None = None,
    report: Path | None = None,
    force: bool = False,
    progress: Progress = _quiet,
) -> Loaded:
    """``evaltool validate``: the data read and checked (``load``); with ``report``, every
    problem also written to that .csv or .xlsx (refused before any work if it is an input, or
    exists without ``force``). Never raises for bad data: see ``Loaded.problems``."""
    from evaltool.report.files import inputs_of, refuse_inputs

    if report is not None:
        refuse_inputs(report, inputs_of(data, settings), "--report")
        if report.exists() and not force:
            raise EvaltoolError(f"{report} already exists; use --force to replace it")
    loaded = load(data, settings, progress=progress, extract_date=extract_date)
    if report is not None:
        from evaltool.report.text import problems_csv

        problems_csv(loaded.problems, report, force)
    return loaded


def scores_and_write(
    data: str | Path,
    instrument: str,
    settings: Settings,
    out: Path,
    period: str | None = None,
    force: bool = False,
) -> pd.DataFrame:
    """``evaltool scores``: one instrument's client-level scores (``client_scores``) written
    to ``out`` (.csv, or .xlsx keeping ids such as 00102 as text); returns the table."""
    from evaltool.report.files import inputs_of, refuse_inputs
    from evaltool.report.scores_file import SUFFIXES, write_scores

    out = Path(out)
    if out.suffix.lower() not in SUFFIXES:
        raise EvaltoolError(
            f"--out {out.name}: write the scores as .csv or .xlsx (.xlsx keeps ids such as "
            "00102 as text in Excel)"
        )
    refuse_inputs(out, inputs_of(data, settings))
    if out.exists() and not force:
        raise EvaltoolError(f"{out} already exists; use --force to replace it")
    table = client_scores(data, instrument, settings, period)
    write_scores(table, out, force)
    return table


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Column names given as 'a,b,c' (as on the command line) or as a sequence."""
    if not value:
        return ()
    parts = value.split(",") if isinstance(value, str) else value
    return tuple(c.strip() for c in parts if c.strip())


def _refused(names: tuple[str, ...], option: str, allow: tuple[str, ...] = ()) -> None:
    """Covariates refused in words (naming the option and the values) unless they are baseline
    characteristics known at entry (``data.baseline``)."""
    from evaltool.data.baseline import refusal_message

    refused = refusal_message(names, option, allow=allow)
    if refused:
        raise ConfigError(refused)


def _estimand(weights: str | None, settings: Settings) -> str:
    """``att`` or ``ate``: the option, else the settings' comparison.weights."""
    estimand = weights or settings.comparison_weights
    if estimand not in ("ate", "att"):
        raise ConfigError(f"--weights {weights}: use ate or att")
    return estimand


def _labelled(
    found: dict[str, Any],
    settings: Settings,
    estimand: str | None,
    outcome: str,
    origin: str | None = None,
    method: str = "weights",
    entry: str | None = None,
) -> dict[str, Any]:
    """The evidence with the analysis's role: the primary analysis of the settings, or a
    sensitivity analysis saying where it differs."""
    from evaltool.analysis.evidence import role, with_role
    from evaltool.config import primary_analysis

    analysis = {"outcome": outcome, "estimand": estimand, "method": method, "origin": origin}
    analysis["entry"] = entry
    return with_role(found, role(primary_analysis(settings), **analysis))


def _checked(
    data: str | Path, settings: Settings, progress: Progress, only: str | None = None
) -> Loaded:
    """The data loaded; any error in it refused (``InvalidData``: every problem at once)."""
    loaded = load(data, settings, only=only, progress=progress)
    if not loaded.problems.ok:
        raise InvalidData(loaded.problems)
    return loaded


def follow_up_to(
    extract_date: dt.date | str | None, settings: Settings, today: dt.date | None = None
) -> tuple[dt.date, str | None]:
    """The day follow-up ends for ``survival`` and ``rates``: the date given, else the
    settings' extract date, else the end of the last quarter that has ended (as its return
    would follow up), with a note saying so (None when the date was given)."""
    from evaltool.periods import period_of

    if isinstance(extract_date, str) and extract_date:
        return parse_date(extract_date, "--extract-date"), None
    if isinstance(extract_date, dt.date):
        return extract_date, None
    if settings.extract_date:
        return settings.extract_date, None
    last = period_of(today or dt.date.today(), settings.calendar).previous()
    return last.end, (
        f"Follow-up to {last.end:%d/%m/%Y}, the end of {last.code} (the last quarter that "
        "has ended), as its return would; --extract-date to change."
    )


@dataclass
class Compared:
    """``evaltool compare``: before/after of every measure (``before_after``) and, with a
    propensity model, the change compared between the cohorts (``adjusted_before_after``)."""

    before_after: pd.DataFrame
    min_days: int
    evidence: dict[str, Any]  # the design a before/after comparison earns
    adjusted: list[dict[str, Any]] | None = None
    propensity: Propensity | None = None

    def json(self) -> Any:
        from evaltool.report.json_output import adjusted_json, records

        rows = [{**r, "evidence": self.evidence} for r in records(self.before_after)]
        if self.adjusted is None:
            return rows
        return {"before_after": rows, "adjusted": adjusted_json(self.adjusted)}

    def text(self) -> str:
        from evaltool.report.text import adjusted_text, compare_table

        out = compare_table(self.before_after, self.min_days)
        if self.adjusted is not None:
            out += "\n" + adjusted_text(self.adjusted, self.propensity)
        return out


def compare(
    data: str | Path,
    settings: Settings,
    instrument: str | None = None,
    period: str | None = None,
    propensity: str | Sequence[str] | None = None,
    weights: str | None = None,
    progress: Progress = _quiet,
) -> Compared:
    """``evaltool compare``: first against latest reading of every measure (of ``instrument``
    only, if named; readings up to the end of ``period`` if given); with ``propensity``
    (baseline characteristics), the change compared between the cohorts with propensity
    weights (``weights``: att or ate; default the settings')."""
    from evaltool.analysis.evidence import evidence
    from evaltool.periods import parse_period

    loaded = _checked(data, settings, progress, only=instrument)
    end = parse_period(period, settings.calendar).end if period else None
    found = Compared(
        before_after(loaded, instrument, end), settings.compare_min_days, evidence("before-after")
    )
    if propensity:
        from evaltool.analysis.comparison import Propensity
        from evaltool.config import required_baseline

        estimand = _estimand(weights, settings)
        names = _names(propensity)
        _refused(names, "--propensity")
        found.propensity = Propensity(names, estimand, required=required_baseline(settings))
        found.adjusted = adjusted_before_after(loaded, found.propensity, end, instrument)
        for row in found.adjusted:
            if "evidence" in row:
                row["evidence"] = _labelled(row["evidence"], settings, estimand, "change")
    return found


def survival_choices(
    origin: str | None = None,
    entry: str | None = None,
    outcome: str | None = None,
    ci: str | None = None,
) -> str | None:
    """``survival``'s choices checked (each None: the settings'), before any work; returns the
    origin by its full name (``index`` is ``index-conclusion``)."""
    from evaltool.config import CI_TRANSFORMS, ORIGIN_ALIASES, ORIGINS

    named = ORIGIN_ALIASES.get(origin, origin) if origin is not None else None
    if named is not None and named not in ORIGINS:
        raise ConfigError(f"--origin {origin}: use one of {', '.join(ORIGINS)}")
    if ci is not None and ci not in CI_TRANSFORMS:
        raise ConfigError(f"--ci {ci}: use one of {', '.join(CI_TRANSFORMS)}")
    if outcome is not None and outcome not in ("any", "new-child"):
        raise ConfigError(f"--outcome {outcome}: use any or new-child")
    if entry is not None and entry not in ("start", "referral"):
        raise ConfigError(f"--entry {entry}: use start or referral")
    return named


@dataclass
class Survival:
    """``evaltool survival``: time to next proceedings (``result``) and, with a propensity
    model, the cohorts compared (``compared``) and the payment-by-results horizon outcome
    compared (``horizon``). ``unweighted``: whether the unweighted comparison of the cohorts
    is the primary analysis or a sensitivity one (None without a comparison cohort)."""

    result: TimeToProceedings
    compared: WeightedSurvival | None = None
    horizon: dict[str, Any] | None = None
    propensity: Propensity | None = None
    unweighted: dict[str, Any] | None = None

    def json(self) -> dict[str, Any]:
        from evaltool.analysis.evidence import with_role
        from evaltool.report.json_output import adjusted_json, survival_json

        out = survival_json(self.result, self.compared)
        if self.compared is None and self.unweighted is not None:
            out["evidence"] = with_role(out["evidence"], self.unweighted)
        if self.horizon is not None:
            out["no_new_proceedings_within_horizon"] = adjusted_json([self.horizon])[0]
        return out

    def text(self) -> str:
        from evaltool.report.text import adjusted_text, survival_text, weighted_text

        analysis = self.unweighted["statement"] if self.unweighted is not None else None
        parts = [survival_text(self.result, analysis)]
        if self.compared is not None:
            assert self.horizon is not None
            horizon = {"instrument": "payment by results:", "measure": self.horizon["outcome"]}
            parts.append(weighted_text(self.compared))
            parts.append(adjusted_text([{**horizon, **self.horizon}], self.propensity))
        return "\n".join(parts)


def survival(
    data: str | Path,
    settings: Settings,
    extract_date: dt.date,
    origin: str | None = None,
    entry: str | None = None,
    outcome: str | None = None,
    ci: str | None = None,
    times: str | Sequence[int] | None = None,
    covariates: str | Sequence[str] | None = None,
    group: str | None = None,
    propensity: str | Sequence[str] | None = None,
    weights: str | None = None,
    match: bool = False,
    caliper: float = 0.2,
    trim: float | None = None,
    bootstrap: int | None = None,
    progress: Progress = _quiet,
) -> Survival:
    """``evaltool survival``: time to next proceedings followed up to ``extract_date``
    (``follow_up_to``), each option overriding the settings' (``time_to_proceedings``); with
    ``propensity``, the cohorts compared with propensity weights (or ``match``ing) and the
    payment-by-results horizon outcome compared the same way."""
    from evaltool.config import parse_times

    named = survival_choices(origin, entry, outcome, ci)
    loaded = _checked(data, settings, progress)
    covs = _names(covariates)
    _refused(covs, "--covariates", allow=("cohort",))
    if isinstance(times, str):
        times = parse_times(times, "--times") if times else None
    result = time_to_proceedings(
        loaded,
        extract_date,
        origin=named,
        entry=entry,
        outcome=outcome,
        ci=ci,
        times=tuple(times) if times else None,
        covariates=covs,
        group=group,
    )
    found = Survival(result)
    if propensity is not None:
        from evaltool.analysis.comparison import Propensity, WeightedSurvival
        from evaltool.config import required_baseline

        estimand = _estimand(weights, settings)
        names = _names(propensity)
        _refused(names, "--propensity")
        ps = Propensity(
            names,
            estimand,
            trim=trim,
            match=match,
            caliper=caliper,
            required=required_baseline(settings),
        )
        resamples = settings.comparison_bootstrap if bootstrap is None else bootstrap
        compared = WeightedSurvival(ps, times=result.times, ci=result.ci, bootstrap=resamples).fit(
            result.table_
        )
        compared.evidence_ = _labelled(
            compared.evidence_,
            settings,
            estimand,
            result.outcome,
            origin=result.origin,
            method="match" if match else "weights",
            entry=result.entry,
        )
        horizon = adjusted_horizon(loaded, ps, extract_date)
        if "evidence" in horizon:
            horizon["evidence"] = _labelled(
                horizon["evidence"], settings, estimand, "no new proceedings within horizon"
            )
        found.compared, found.horizon, found.propensity = compared, horizon, ps
    if result.logrank_ is not None:
        from evaltool.analysis.evidence import role
        from evaltool.config import primary_analysis

        adjusted = "cohort" in result.covariates and len(result.covariates) > 1
        found.unweighted = role(
            primary_analysis(settings),
            origin=result.origin,
            outcome=result.outcome,
            method="regression" if adjusted else "unadjusted",
            entry=result.entry,
        )
    return found


def rates(
    data: str | Path,
    settings: Settings,
    extract_date: dt.date,
    outcome: str = "proceedings",
    covariates: str | Sequence[str] | None = None,
    propensity: str | Sequence[str] | None = None,
    weights: str | None = None,
    progress: Progress = _quiet,
) -> Rates:
    """``evaltool rates``: rates of ``outcome`` (proceedings or pregnancies) per client-year by
    cohort to ``extract_date``, Poisson and negative binomial, adjusted for ``covariates``, and
    weighted with a ``propensity`` model; the evidence labelled primary or sensitivity."""
    from evaltool.analysis.rates import Rates

    estimand = _estimand(weights, settings)
    loaded = _checked(data, settings, progress)
    covs = _names(covariates)
    _refused(covs, "--covariates")
    ps = None
    if propensity:
        from evaltool.analysis.comparison import Propensity
        from evaltool.config import required_baseline

        names = _names(propensity)
        _refused(names, "--propensity")
        ps = Propensity(names, estimand, required=required_baseline(settings))
    result = Rates(outcome, covs, ps).fit(loaded.dataset.tables, extract_date)
    result.evidence_ = _labelled(
        result.evidence_,
        settings,
        estimand if ps is not None else None,
        f"rate of {outcome}",
        method="weights" if ps is not None else "regression",
    )
    return result


def areas(data: str | Path, settings: Settings, progress: Progress = _quiet) -> AreaDiD:
    """``evaltool areas``: the area-level difference in differences on the areas table."""
    from evaltool.analysis.areas import AreaDiD

    loaded = _checked(data, settings, progress)
    table = loaded.dataset.tables.get("areas")
    if table is None:
        raise AnalysisError(
            "no 'areas' table: add one (area, financial_year, infants_entering_care, "
            "live_births, service_area, service_from; see the data contract)"
        )
    return AreaDiD().fit(table)


def audit(returns: Sequence[Path], threshold: int, keep: int | None = None) -> list[Finding]:
    """``evaltool audit``: a reader's attacks on returns as sent (``report.audit.attack``):
    every hidden figure they narrow to fewer than ``keep`` values (threshold + 1 unless
    set: the setting ``protection_values``)."""
    from evaltool.report.audit import attack

    missing = [p for p in returns if not Path(p).is_file()]
    if missing:
        raise EvaltoolError(f"{missing[0]} not found; name the returns as sent (.xlsx)")
    return attack([Path(p) for p in returns], threshold, keep)


def write_starter(folder: Path, force: bool = False) -> list[Path]:
    """``evaltool init``: a starter evaltool.toml and a blank template workbook."""
    from evaltool.template import write_starter as write

    return write(folder, force=force)


def write_from_export(folder: Path, export: Path, force: bool = False):
    """``evaltool init --from``: settings written from an export (``template``)."""
    from evaltool.template import write_from_export as write

    return write(folder, export, force)


def plugins() -> list[PluginInfo]:
    """``evaltool plugins``: every plugin found, loaded or not, with its error."""
    from evaltool.instruments.registry import build_registry
    from evaltool.report.renderers import renderers_of

    registry = build_registry()
    renderers_of(registry)  # the output formats, each listed with the plugin offering it
    return registry.plugins


def benchmarks() -> dict[str, Benchmark]:
    """``evaltool benchmarks``: the benchmark figures evaltool ships, by name."""
    from evaltool.data.benchmark import read_benchmark, shipped

    return {name: read_benchmark(name, "evaltool") for name in shipped()}

"""One period, computed: load -> check -> evaluate each instrument once -> analyse.

Nothing here lays out, serialises or draws: ``Results`` is what the report package reads.
The public entry points are re-exported by :mod:`evaltool.api`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from evaltool import config
from evaltool.analysis.activity import activity_tables
from evaltool.analysis.survival.table import ENTRY_WORDS
from evaltool.analysis.windows import (
    Window,
    activity_by_window,
    recurrence_by_group,
    recurrence_by_window,
    summary_windows,
)
from evaltool.config import Settings, check_names, covariate_problems
from evaltool.data import plausible
from evaltool.data.areas import area_problems
from evaltool.data.checking import Dataset, Latest, locate, validate_source
from evaltool.data.children import has_children, link_problems, subject_links, subjects
from evaltool.data.contract import CORE_TABLES, cohort_of, service_clients
from evaltool.data.problems import ERROR, NOTE, WARNING, Problem, ProblemList
from evaltool.data.reading import ROW, read_source
from evaltool.data.specs import TableSpec, handed_over
from evaltool.errors import AnalysisError, ConfigError, EvaltoolError, InvalidData, PluginError
from evaltool.instruments.base import Context, Instrument
from evaltool.instruments.registry import Registry, build_registry
from evaltool.instruments.results import Evaluation, Headline, SummaryTable
from evaltool.periods import Period, parse_period, period_of

if TYPE_CHECKING:
    from evaltool.analysis.comparison import WeightedSurvival
    from evaltool.analysis.survival import TimeToProceedings
    from evaltool.analysis.value import Value

__all__ = [
    "Loaded",
    "Results",
    "before_after",
    "check_period",
    "client_scores",
    "load",
    "load_settings",
    "registry_for",
    "run",
    "time_to_proceedings",
]

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass
class Loaded:
    """Checked data with the instruments that apply to it. ``specs``: every installed
    instrument's table spec by instrument name, each built once per load (``table()`` may be
    costly, and a plugin's is called once)."""

    dataset: Dataset
    problems: ProblemList
    instruments: list[Instrument]
    registry: Registry
    settings: Settings
    specs: dict[str, TableSpec] = field(default_factory=dict)

    def spec(self, instrument: Instrument) -> TableSpec:
        """The instrument's table spec, as built by the load."""
        found = self.specs.get(instrument.name)
        if found is None:
            found = self.specs[instrument.name] = instrument.table()
        return found

    @cached_property
    def subjects(self) -> pd.DataFrame | None:
        """Each set of proceedings' subject children (None for a v1 file): worked out once."""
        return subjects(self.dataset.tables)

    def context(self, period: Period, extract_date: dt.date | None = None) -> Context:
        extract = extract_date or self.settings.extract_date or period.end
        return Context(self.settings, period, extract, self.dataset.clients)

    def as_at(self, end: dt.date) -> Loaded:
        """The same data as an extract made at the end of ``end`` would have held it
        (``Dataset.as_at``): every figure of a return is as at its period end, so a return
        for a past quarter made from a later extract has the figures of the one made then."""
        dataset = self.dataset.as_at(end)
        children = dataset.tables.get("children")
        if children is not None and "birth_date" in children:
            dataset.tables["children"] = known_children(self.dataset, dataset, end)
        return replace(self, dataset=dataset)

    def prepared(
        self, instrument: Instrument, end: dt.date | None, everyone: bool = False
    ) -> pd.DataFrame:
        """The instrument's table as every instrument method receives it: typed, cut at
        ``end`` by its spec's ``time_column`` (nothing after the period end counts), and the
        service's clients only: a comparison cohort's readings are not the service's outcomes
        (``everyone``: theirs too, for comparing the cohorts)."""
        spec = self.spec(instrument)
        table = self.dataset.tables[spec.name]
        if not everyone and "client_id" in table:
            clients = self.dataset.clients
            others = clients.loc[cohort_of(clients) != "service", "client_id"]
            if len(others):
                table = table[~table["client_id"].isin(others)]
        return handed_over(table, spec, end)


def known_children(full: Dataset, cut: Dataset, end: dt.date) -> pd.DataFrame:
    """The children an extract made on ``end`` would have listed: a child born later only if
    a set of proceedings issued by then was about them (unborn then)."""
    children = cut.tables["children"]
    born = full.tables["children"].loc[children.index, "birth_date"]
    later = (born > pd.Timestamp(end)).fillna(False).to_numpy(dtype=bool)
    if not later.any():
        return children
    links = subject_links(cut.tables)
    named = pd.MultiIndex.from_frame(links[["client_id", "child_id"]].astype(str))
    pairs = pd.MultiIndex.from_arrays(
        [children["client_id"].astype(str), children["child_id"].astype(str)]
    )
    return children[~later | pairs.isin(named)]


@dataclass
class Results:
    """Everything a return is made of, for one period. ``loaded`` holds the data as at the
    period end (``Loaded.as_at``); ``extract_date`` is the day the data was exported, and
    ``extract_source`` says where that day came from (``extract_day``)."""

    loaded: Loaded
    period: Period
    extract_date: dt.date
    activity: list[SummaryTable]
    evaluations: dict[str, Evaluation]  # by instrument name, in the order they ran
    generated_at: dt.datetime
    comparisons: pd.DataFrame | None = None  # before/after: analysis.before_after.compare
    survival: TimeToProceedings | None = None  # time to next proceedings, fitted
    #: the same, counting only returns about a new child (the data has its children)
    survival_new: TimeToProceedings | None = None
    #: the cohorts compared with propensity scores ([comparison] propensity)
    compared: WeightedSurvival | None = None
    windows: list[Window] = field(default_factory=list)  # the Summary's five windows
    extract_source: str = ""
    # computed by ``analyse`` in ``run``, never while publishing (the report only reads them):
    #: new care proceedings within a year of joining, service cohort, by window
    recurrence: SummaryTable | None = None
    #: the all-time recurrence figure by age band, gender and financial year of origin
    recurrence_groups: SummaryTable | None = None
    #: payment-by-results outcomes per client on the period end ([pbr] enabled)
    pbr_clients: pd.DataFrame | None = None
    pbr: SummaryTable | None = None  # the payment-by-results outcomes by window
    pbr_cohorts: SummaryTable | None = None  # the same by financial year of starting
    value: Value | None = None  # value for money ([value] enabled = true)

    @property
    def settings(self) -> Settings:
        return self.loaded.settings

    @property
    def problems(self) -> ProblemList:
        return self.loaded.problems

    @property
    def summary_tables(self) -> dict[str, list[SummaryTable]]:
        """Each instrument's summary tables for the return, by instrument name."""
        return {name: ev.tables for name, ev in self.evaluations.items()}

    @property
    def headlines(self) -> dict[str, Headline | str]:
        return {name: ev.headline for name, ev in self.evaluations.items()}


def analyse(results: Results) -> Results:
    """The analyses read from the survival table, payment by results and value for money,
    computed once on ``results`` (``run`` calls it; publishing only reads them)."""
    survival, s = results.survival, results.settings
    if survival is not None:
        words = ENTRY_WORDS[survival.entry]
        results.recurrence = recurrence_by_window(survival.table_, results.windows, words)
        results.recurrence_groups = recurrence_by_group(survival.table_, results.windows[-1])
    if s.pbr:
        from evaltool.analysis.pbr import Horizons, pbr_clients, pbr_cohorts, pbr_table

        tables = results.loaded.dataset.tables
        horizons = Horizons(
            s.pbr_pregnancy_months, s.pbr_engagement_months, s.pbr_proceedings_months
        )
        per = pbr_clients(
            tables["clients"],
            tables.get("proceedings"),
            tables.get("pregnancies"),
            results.period.end,
            horizons,
        )
        results.pbr_clients = per
        results.pbr = pbr_table(per, results.windows, results.activity[0])
        results.pbr_cohorts = pbr_cohorts(per, results.windows, results.activity[0], results.pbr)
    if s.value.enabled:
        results.value = value_of(results)
    return results


def value_of(results: Results) -> Value:
    """Value for money from the period's results (analysis/value.py): the effect from the
    cohort comparison the run made, a benchmark, or a 'what if'; never a model of its own."""
    from evaltool.analysis.value import value_for_money

    s = results.settings
    return value_for_money(
        s.value,
        results.survival,
        results.compared,
        results.loaded.dataset.clients,
        results.period.end,
        s.small_number_threshold,
        s.survival_times,
    )


def load_settings(path: Path | str | None) -> Settings:
    """The settings in a file, every name in them checked against the contract and the
    installed instruments too, all problems at once (``config.SettingsError``)."""
    return config.load_settings(Path(path) if path else None, build_registry)


def registry_for(settings: Settings) -> Registry:
    return build_registry(settings.instrument_paths)


def table_specs(registry: Registry) -> dict[str, TableSpec]:
    """Every installed instrument's table spec by instrument name: ``table()`` called once
    each (the rest of a load reads this)."""
    return {name: instrument.table() for name, instrument in registry.instruments.items()}


def choose_instruments(
    registry: Registry,
    settings: Settings,
    present: set[str],
    only: str | None = None,
    specs: dict[str, TableSpec] | None = None,
) -> tuple[list[Instrument], dict[str, str]]:
    """The instruments to run and the tables they make required (table -> why)."""
    specs = specs if specs is not None else table_specs(registry)
    if only is not None:
        chosen = [registry.get(only)]
    elif settings.instruments is not None:
        chosen = [registry.get(name) for name in settings.instruments]
    else:
        chosen = [i for i in registry.instruments.values() if specs[i.name].name in present]
    where = settings.config_file.name if settings.config_file else "the configuration"
    required = {
        specs[i.name].name: (
            f"instrument '{i.name}' is enabled in {where}; add the table or remove "
            f"'{i.name}' from [instruments] enabled"
        )
        if only is None
        else f"instrument '{i.name}' reads it"
        for i in chosen
    }
    return chosen, required


def load(
    data: str | Path,
    settings: Settings | None = None,
    registry: Registry | None = None,
    only: str | None = None,
    progress: Progress = _quiet,
    extract_date: dt.date | None = None,
) -> Loaded:
    """Read and validate ``data``. Never raises for bad data: see ``Loaded.problems``. No date
    may be after the extract date (``extract_date``, else the settings'), or else today."""
    settings = settings or Settings()
    extract = extract_date or settings.extract_date
    latest = Latest(extract, True) if extract else Latest(dt.date.today())
    registry = registry or registry_for(settings)
    specs = table_specs(registry)  # each instrument's table() once in this load
    check_names(settings, registry, specs)  # every misnamed setting, before any work
    progress("reading data")
    source = read_source(Path(data), settings.columns, tables=settings.tables)
    instruments, required = choose_instruments(registry, settings, set(source.tables), only, specs)
    tables = _unique_specs(instruments, specs)
    checked = [with_codes(s, settings.codes) for s in (*CORE_TABLES, *tables)]
    progress("validating")
    others = {spec.name for spec in specs.values()}
    dataset, problems = validate_source(source, checked, required, others, latest)
    for instrument in instruments:
        name = specs[instrument.name].name
        table = dataset.tables.get(name)
        if table is not None:
            problems.extend(_located(instrument.check(table), source, name))
    problems.extend(_settings_problems(settings, source, registry, instruments, only, specs))
    problems.extend(link_problems(dataset))
    problems.extend(plausible.problems(dataset))
    problems.extend(area_problems(dataset))
    if problems.ok:
        problems.extend(_no_reading_warnings(dataset, instruments, specs))
    for info in registry.load_errors:
        problems.add(
            Problem(WARNING, f"plugin {info.package} ({info.name}) failed to load: {info.error}")
        )
    return Loaded(dataset, problems, instruments, registry, settings, specs)


def _settings_problems(
    settings: Settings,
    source,
    registry: Registry,
    chosen: list[Instrument],
    only: str | None,
    specs: dict[str, TableSpec],
) -> list[Problem]:
    """What the settings say that the data does not bear out: a covariate that is no column of
    clients (an error), and a table in the data that an installed instrument would read but
    [instruments] enabled leaves out (a note: it is not used)."""
    out = []
    raw = source.tables.get("clients")
    if raw is not None:
        columns = set(raw.frame.columns)
        out += [Problem(ERROR, m) for m in covariate_problems(settings, columns)]
    if settings.instruments is not None and only is None:
        used = {specs[i.name].name for i in chosen}
        where = settings.config_file.name if settings.config_file else "the settings"
        for name in sorted(registry.instruments):
            table = source.tables.get(specs[name].name)
            if table is None or table.name in used:
                continue
            out.append(
                Problem(
                    NOTE,
                    f"{'sheet' if table.sheet else 'file'} '{table.sheet or table.file}' is read "
                    f"by the instrument '{name}', which is installed but not in [instruments] "
                    f"enabled of {where}, so it is not used; add '{name}' there to use it",
                    file=table.file,
                    sheet=table.sheet,
                )
            )
    return out


def with_codes(spec: TableSpec, codes: dict[str, dict[str, str]]) -> TableSpec:
    """The spec with the service's own labels for its coded columns ([codes.<column>])."""
    if not any(c.name in codes and c.choices for c in spec.columns):
        return spec
    columns = tuple(
        replace(c, aliases=tuple(codes[c.name].items())) if c.name in codes and c.choices else c
        for c in spec.columns
    )
    return replace(spec, columns=columns)


def _unique_specs(instruments: list[Instrument], specs: dict[str, TableSpec]) -> list:
    seen, out = set(), []
    for i in instruments:
        spec = specs[i.name]
        if spec.name not in seen:
            seen.add(spec.name)
            out.append(spec)
    return out


def _located(problems: list[Problem], source, table: str) -> list[Problem]:
    """An instrument's own problems, placed in its table's file and sheet where it left them
    out (every other field, the client reference too, as the instrument gave it)."""
    raw = source.tables.get(table)
    if raw is None:
        return problems
    return [replace(p, file=p.file or raw.file, sheet=p.sheet or raw.sheet) for p in problems]


def _no_reading_warnings(
    dataset: Dataset, instruments: list[Instrument], specs: dict[str, TableSpec]
) -> list[Problem]:
    """A started service client with no readings at all in an outcome instrument."""
    clients = dataset.clients
    if "start_date" not in clients:
        return []
    started = clients["start_date"].notna() & (cohort_of(clients) == "service")
    raw = dataset.raw["clients"]
    out: list[Problem] = []
    for instrument in instruments:
        spec = specs[instrument.name]
        table = dataset.tables.get(spec.name)
        if table is None or not instrument.measures() or not spec.client_linked:
            continue
        missing = started & ~clients["client_id"].isin(table["client_id"])
        out += [
            Problem(
                WARNING,
                f"client has started but has no readings in '{spec.name}' ({instrument.name})",
                raw.file,
                raw.sheet,
                r,
                locate(raw, "client_id"),
                client=str(client),
            )
            for r, client in zip(
                clients.loc[missing, ROW], clients.loc[missing, "client_id"], strict=True
            )
        ]
    return out


def run(
    data: str | Path,
    settings: Settings | None = None,
    period: str | Period | None = None,
    extract_date: dt.date | None = None,
    registry: Registry | None = None,
    progress: Progress = _quiet,
) -> Results:
    """Load, check and evaluate every instrument for ``period``. Raises InvalidData (the
    data), or ConfigError (a period not over, an extract date outside it, no data yet)."""
    settings = settings or Settings()
    if period is None:
        raise ValueError("a period such as '2025-Q3' is required")
    if isinstance(period, str):
        period = parse_period(period, settings.calendar)
    extract, source = extract_day(extract_date, settings)
    check_period(period, extract)
    given = extract_date or settings.extract_date
    loaded = load(data, settings, registry, progress=progress, extract_date=given)
    if not loaded.problems.ok:
        raise InvalidData(loaded.problems)
    first = loaded.dataset.clients["referral_date"].min()
    if pd.isna(first) or first.date() > period.end:
        raise ConfigError(
            f"no data in or before {period.code} ({period.describe()}): the first referral is "
            + ("not recorded" if pd.isna(first) else f"on {first:%d/%m/%Y}")
            + "; choose a later period"
        )
    # every figure as at the period end: what came later did not exist yet
    loaded = loaded.as_at(period.end)
    ctx = loaded.context(period, extract)
    progress("activity")
    activity = activity_tables(loaded.dataset.clients, period)
    began = service_clients(loaded.dataset.clients)["referral_date"].min()
    windows = summary_windows(period, first.date(), began.date() if pd.notna(began) else None)
    activity.append(activity_by_window(activity[0], windows))
    evaluations: dict[str, Evaluation] = {}
    for instrument in loaded.instruments:
        progress(f"scoring {instrument.name}")
        evaluations[instrument.name] = _evaluate(instrument, loaded, period, ctx)
    progress("before/after comparisons")
    from evaltool.analysis.before_after import compare

    comparisons = compare(
        [(i, evaluations[i.name]) for i in loaded.instruments],
        settings.compare_min_n,
        settings.compare_min_days,
    )
    survival = survival_new = None
    if "proceedings" in loaded.dataset.tables:
        progress("time to next proceedings")
        try:
            # followed up to the period end, as the return made then was
            survival = time_to_proceedings(loaded, period.end, strict=False)
            if has_children(loaded.dataset.tables):
                survival_new = survival.new_child()
        except AnalysisError as exc:
            loaded.problems.add(Problem(WARNING, f"time to next proceedings not reported: {exc}"))
    compared = None
    if survival is not None and survival.logrank_ is not None and settings.comparison_propensity:
        progress("propensity comparison of the cohorts")
        compared = compare_cohorts(survival, settings, loaded.problems)
    results = Results(
        loaded,
        period,
        ctx.extract_date,
        activity,
        evaluations,
        dt.datetime.now().replace(microsecond=0),
        comparisons=comparisons,
        survival=survival,
        survival_new=survival_new,
        compared=compared,
        windows=windows,
        extract_source=source,
    )
    progress("recurrence, payment by results and value for money")
    return analyse(results)


def extract_day(
    extract_date: dt.date | None, settings: Settings, today: dt.date | None = None
) -> tuple[dt.date, str]:
    """The day the data was exported, and where that day came from, by one rule for every
    command: the day given (``--extract-date``), else the settings' ``extract_date``, else
    today. No date in the data may be later; the figures are as at the period end."""
    if extract_date is not None:
        return extract_date, "given with --extract-date"
    if settings.extract_date is not None:
        where = settings.config_file.name if settings.config_file else "the settings"
        return settings.extract_date, f"extract_date in {where}"
    return (
        today or dt.date.today(),
        "not given, so taken as today, the day this return was made (give --extract-date "
        "for an export made earlier)",
    )


def _evaluate(instrument: Instrument, loaded: Loaded, period: Period, ctx: Context) -> Evaluation:
    """One instrument's evaluation; a plugin's bug is named with its plugin and package (it
    is not the user's data, and the other commands still work)."""
    try:
        return instrument.evaluate(loaded.prepared(instrument, period.end), ctx)
    except EvaltoolError:
        raise
    except Exception as exc:
        import os

        if os.environ.get("EVALTOOL_DEBUG"):
            raise
        owner = next((p for p in loaded.registry.plugins if instrument.name in p.instruments), None)
        if owner is None:  # from a definition file: name its kind's plugin
            owner = next((p for p in loaded.registry.plugins if instrument.kind in p.kinds), None)
        who = f"plugin {owner.name} ({owner.package} {owner.version})" if owner else "a plugin"
        raise PluginError(
            f"the instrument '{instrument.name}' failed while scoring {period.code}: "
            f"{type(exc).__name__}: {exc}. This is a bug in {who}, not in your data; nothing "
            f"was written. Report it to the plugin's authors, or leave '{instrument.name}' out "
            "of [instruments] enabled until it is fixed (set EVALTOOL_DEBUG=1 to see where it "
            "failed)."
        ) from exc


def check_period(period: Period, extract: dt.date | None, today: dt.date | None = None) -> None:
    """A return covers a quarter that is over, from data extracted after it and not after
    today."""
    today = today or dt.date.today()
    if period.end > today:
        raise ConfigError(
            f"period {period.code} has not ended yet (it ends {period.end:%d/%m/%Y}); a return "
            "covers a quarter that is over"
        )
    if extract is None:
        return
    if extract > today:
        raise ConfigError(
            f"the extract date {extract:%d/%m/%Y} is in the future (today is "
            f"{today:%d/%m/%Y}); give the day the data was exported"
        )
    if extract < period.end:
        raise ConfigError(
            f"the extract date {extract:%d/%m/%Y} is before the end of {period.code} "
            f"({period.end:%d/%m/%Y}): the data cannot cover the whole quarter; export it "
            "after the quarter ends, or choose an earlier period"
        )


def before_after(
    loaded: Loaded, instrument: str | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """Before/after comparisons from each instrument's readings up to ``end`` (all if None)."""
    from evaltool.analysis.before_after import compare

    chosen = [
        i
        for i in loaded.instruments
        if (instrument is None or i.name == instrument) and i.measures()
    ]
    evaluations = [
        (i, Evaluation(i.name, readings=i.readings(loaded.prepared(i, end)))) for i in chosen
    ]
    settings = loaded.settings
    return compare(evaluations, settings.compare_min_n, settings.compare_min_days)


def adjusted_before_after(
    loaded: Loaded,
    propensity: Any,
    end: dt.date | None = None,
    instrument: str | None = None,
) -> list[dict[str, Any]]:
    """The before/after change of every measure compared between the service and the
    comparison cohort with propensity weights (``analysis.comparison.Propensity``), where the
    comparison cohort has readings too; a measure that cannot be compared says why."""
    from evaltool.analysis.before_after import pair_readings
    from evaltool.analysis.comparison import adjusted_change
    from evaltool.analysis.rates import follow_up

    people = follow_up(loaded.dataset.clients, None, "", end or dt.date.today())
    rows: list[dict[str, Any]] = []
    for i in loaded.instruments:
        if (instrument is not None and i.name != instrument) or not i.measures():
            continue
        readings = i.readings(loaded.prepared(i, end, everyone=True))
        pairs = Evaluation(i.name, readings=readings).pairs
        paired, _ = pair_readings(pairs, loaded.settings.compare_min_days)
        for measure, part in paired.groupby("measure", sort=False, observed=True):
            row: dict[str, Any] = {"instrument": i.name, "measure": measure}
            try:
                row.update(adjusted_change(part, people, propensity))
            except AnalysisError as exc:
                row["not_compared"] = str(exc)
            rows.append(row)
    return rows


def adjusted_horizon(loaded: Loaded, propensity: Any, extract: dt.date) -> dict[str, Any]:
    """The payment-by-results outcome "no new care proceedings within the horizon" (36
    months: [pbr] proceedings_months) compared between the cohorts with propensity weights,
    each parent from their start (comparison cohort: referral), among those followed for the
    whole horizon by ``extract`` (met, or not met, with the horizon passed); the share met in
    each cohort and the difference, and beside it those not yet at the horizon. Counting
    everyone decided would let recent starters in only as failures (a set within the horizon
    decides "not met" early; "met" waits for the horizon): issue 24.6."""
    from evaltool.analysis.comparison import adjusted_change
    from evaltool.analysis.pbr import LOST, MET, NOT_MET, Horizons, pbr_clients
    from evaltool.analysis.rates import follow_up

    s, tables = loaded.settings, loaded.dataset.tables
    h = Horizons(s.pbr_pregnancy_months, s.pbr_engagement_months, s.pbr_proceedings_months)
    per = pbr_clients(tables["clients"], tables.get("proceedings"), None, extract, h, True)
    per = per[per["outcome"] == "no new proceedings"]
    complete = per["horizon"] <= pd.Timestamp(extract)
    decided = per[complete & per["status"].isin([MET, NOT_MET])]
    data = decided.assign(met=(decided["status"] == MET).astype(float))
    people = follow_up(tables["clients"], None, "", extract)
    out: dict[str, Any] = {
        "outcome": f"no new care proceedings within {h.proceedings_months} months of starting "
        f"(comparison cohort: of referral), among parents followed for all {h.proceedings_months}"
        " months",
        "not_yet": int((~complete).sum()),
        "not_yet_already_not_met": int((~complete & (per["status"] == NOT_MET)).sum()),
        "lost": int((complete & (per["status"] == LOST)).sum()),
        "not_yet_or_lost": int(len(per) - len(decided)),
    }
    try:
        out.update(adjusted_change(data, people, propensity, "met"))
    except AnalysisError as exc:
        out["not_compared"] = str(exc)
    return out


def time_to_proceedings(
    loaded: Loaded,
    extract_date: dt.date,
    strict: bool = True,
    **options: object,
) -> TimeToProceedings:
    """Time to next proceedings with the settings' choices, any of them overridden by
    ``options`` (origin, ci, times, covariates, group, benchmark); see
    :class:`~evaltool.analysis.survival.TimeToProceedings`."""
    from evaltool.analysis.survival import TimeToProceedings

    proceedings = loaded.dataset.tables.get("proceedings")
    if proceedings is None:
        raise AnalysisError("no 'proceedings' table: add one to analyse time to next proceedings")
    s = loaded.settings
    chosen: dict[str, object] = {
        "origin": s.survival_origin,
        "ci": s.survival_ci,
        "times": s.survival_times,
        "covariates": s.survival_covariates,
        "group": s.survival_group,
        "benchmark": s.benchmark,
        "rule_37_weeks": s.survival_rule_37_weeks,
        "entry": s.survival_entry,
    }
    chosen.update({k: v for k, v in options.items() if v is not None})
    return TimeToProceedings(strict=strict, **chosen).fit(  # type: ignore[arg-type]
        loaded.dataset.clients, proceedings, extract_date, loaded.subjects
    )


def compare_cohorts(
    survival: TimeToProceedings, settings: Settings, problems: ProblemList
) -> WeightedSurvival | None:
    """The cohorts compared with propensity weights or matching, as [comparison] says; a
    model that cannot be fitted is a warning (the return still has the rest)."""
    from evaltool.analysis.comparison import Propensity, WeightedSurvival
    from evaltool.analysis.evidence import role, with_role
    from evaltool.config import primary_analysis, required_baseline

    s = settings
    ps = Propensity(
        s.comparison_propensity,
        s.comparison_weights,
        trim=s.comparison_trim,
        match=s.comparison_match,
        caliper=s.comparison_caliper,
        required=required_baseline(s),
    )
    try:
        fit = WeightedSurvival(
            ps, times=survival.times, ci=survival.ci, bootstrap=s.comparison_bootstrap
        ).fit(survival.table_)
    except AnalysisError as exc:
        problems.add(Problem(WARNING, f"propensity comparison not reported: {exc}"))
        return None
    fit.evidence_ = with_role(
        fit.evidence_,
        role(
            primary_analysis(s),
            origin=survival.origin,
            outcome=survival.outcome,
            estimand=s.comparison_weights,
            method="match" if s.comparison_match else "weights",
            entry=survival.entry,
        ),
    )
    return fit


def client_scores(
    data: str | Path,
    instrument: str,
    settings: Settings | None = None,
    period: str | Period | None = None,
) -> pd.DataFrame:
    """One instrument's client-level scored table (pseudonymous ids only). Raises InvalidData."""
    settings = settings or Settings()
    loaded = load(data, settings, only=instrument)
    if not loaded.problems.ok:
        raise InvalidData(loaded.problems)
    chosen = loaded.instruments[0]
    if period is None:  # everything recorded: the quarter of today
        p = period_of(dt.date.today(), settings.calendar)
    else:
        p = parse_period(period, settings.calendar) if isinstance(period, str) else period
    loaded = loaded.as_at(p.end)  # as at the period end, as a return is
    return chosen.score(loaded.prepared(chosen, p.end), loaded.context(p))


def due(data: str | Path, settings: Settings | None = None, as_of: dt.date | None = None):
    """The team's to-do list on ``as_of`` (default today): ``analysis.due.due_items``. Errors
    in the records are items of the list, not a refusal, unless the clients table itself
    cannot be read. The data is checked against its extract date (the settings', else
    today) and then taken as it stood on ``as_of`` (``Dataset.as_at``): a record made after
    a past day is left out, never listed as a problem; so is a problem in such a record."""
    from evaltool.analysis.due import due_items

    settings = settings or Settings()
    as_of = as_of or dt.date.today()
    if as_of > dt.date.today():
        raise ConfigError(f"--as-of {as_of} is in the future; give today or an earlier day")
    loaded = load(data, settings)
    if "clients" not in loaded.dataset.tables:
        raise InvalidData(loaded.problems)
    errors = made_by(loaded.problems.errors, loaded.dataset, as_of)
    tables = loaded.dataset.as_at(as_of).tables
    return due_items(tables, loaded.instruments, errors, settings, as_of)


def made_by(problems: list[Problem], dataset: Dataset, day: dt.date) -> list[Problem]:
    """The problems, but those in a record made after ``day`` (``Dataset.made_after``)."""
    later = {
        (dataset.raw[name].file, dataset.raw[name].sheet): rows
        for name, rows in dataset.made_after(day).items()
        if name in dataset.raw
    }
    return [p for p in problems if not p.row or p.row not in later.get((p.file, p.sheet), ())]

"""The library API, one call per command of the CLI::

    from evaltool.api import load_settings, run, score_and_write
    results = run("service.xlsx", load_settings("evaltool.toml"), "2025-Q3")

``load`` reads and checks the data, ``run`` evaluates a period (instruments, activity,
before/after, time to next proceedings), ``score_and_write`` is the quarterly return in one
call, ``client_scores`` one instrument's client-level scores, ``due`` / ``due_and_write`` the
team's to-do list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from evaltool.config import Settings
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
from evaltool.errors import OutputError
from evaltool.report.output import OutputRenderer

__all__ = [
    "Loaded",
    "Results",
    "adjusted_before_after",
    "adjusted_horizon",
    "before_after",
    "client_scores",
    "due",
    "due_and_write",
    "load",
    "load_settings",
    "registry_for",
    "run",
    "score_and_write",
    "time_to_proceedings",
    "unit_costs",
    "value",
]


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
    the return; ``.json``; or a plugin's). A draft (marked DRAFT, not recorded) unless
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
    period: str,
    extract_date: dt.date | None = None,
    progress: Callable[[str], None] = lambda _: None,
):
    """Value for money for ``period`` (``evaltool value``): the period run as for the return,
    then ``analysis.value`` on its cohort comparison, benchmark or 'what if' ([value])."""
    results = run(data, settings, period, extract_date=extract_date, progress=progress)
    progress("value for money")
    return value_of(results)


def unit_costs(settings: Settings | None = None):
    """The unit costs (shipped, with the service's own file over them) and the GDP deflator
    (``evaltool costs``)."""
    from evaltool.data.costs import read_deflator
    from evaltool.data.costs import unit_costs as read

    vs = (settings or Settings()).value
    return read(vs.costs), read_deflator(vs.deflator)

"""The library API, one call per command of the CLI::

    from evaltool.api import load_settings, run, score_and_write
    results = run("service.xlsx", load_settings("evaltool.toml"), "2025-Q3")

``load`` reads and checks the data, ``run`` evaluates a period (instruments, activity,
before/after, time to next proceedings), ``score_and_write`` is the quarterly return in one
call, ``client_scores`` one instrument's client-level scores.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evaltool.config import Settings, load_settings
from evaltool.core import (
    Loaded,
    Results,
    before_after,
    client_scores,
    load,
    registry_for,
    run,
    time_to_proceedings,
)

__all__ = [
    "Loaded",
    "Results",
    "before_after",
    "client_scores",
    "load",
    "load_settings",
    "registry_for",
    "run",
    "score_and_write",
    "time_to_proceedings",
]


def score_and_write(
    data: str | Path,
    settings: Settings,
    period: str,
    out: Path,
    force: bool = False,
    internal: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> Results:
    """The quarterly output in one call, in the format ``out``'s extension names (``.xlsx``:
    the return; ``.json``; or a plugin's). Refuses a bad target before any work and writes
    nothing unless everything succeeded."""
    from evaltool.report.files import inputs_of, refuse_inputs
    from evaltool.report.output import check_target, write_output

    registry = registry_for(settings)
    check_target(Path(out), force, registry.renderers)
    refuse_inputs(Path(out), inputs_of(data, settings))  # before any work: say it at once
    results = run(data, settings, period, registry=registry, progress=progress)
    progress("writing the output")
    write_output(results, Path(out), force=force, internal=internal)
    return results

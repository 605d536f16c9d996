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
from evaltool.core import Loaded, Results, client_scores, load, registry_for, run

__all__ = [
    "Loaded",
    "Results",
    "client_scores",
    "load",
    "load_settings",
    "registry_for",
    "run",
    "score_and_write",
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
    """Refuse a bad target before any work; write nothing unless everything succeeded."""
    from evaltool.report.excel import check_target, write_return
    from evaltool.report.files import inputs_of, refuse_inputs

    check_target(Path(out), force)
    refuse_inputs(Path(out), inputs_of(data, settings))  # before any work: say it at once
    results = run(data, settings, period, progress=progress)
    progress("writing the return")
    write_return(results, Path(out), force=force, internal=internal)
    return results

"""The whole quarterly run as one call: check the target, score, analyse, write the return."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evaltool.api import Results, run
from evaltool.config import Settings
from evaltool.report.excel import check_target, write_return
from evaltool.report.files import inputs_of, refuse_inputs


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
    check_target(Path(out), force)
    refuse_inputs(Path(out), inputs_of(data, settings))  # before any work: say it at once
    results = run(data, settings, period, progress=progress)
    progress("writing the return")
    write_return(results, Path(out), force=force, internal=internal)
    return results

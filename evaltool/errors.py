"""Exceptions. Each message says what is wrong, where, and how to fix it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evaltool.data.problems import ProblemList


class EvaltoolError(Exception):
    """An error the user can fix; the CLI prints it as one line, ``Error: ...``, and exits 1."""

    exit_code = 1


class ConfigError(EvaltoolError):
    """The configuration file or a command-line setting is wrong."""


class PluginError(EvaltoolError):
    """An instrument plugin or definition file is wrong (duplicate names, bad definition)."""


class OutputError(EvaltoolError):
    """The return cannot be written (exists without --force, locked, folder missing)."""


class DisclosureError(EvaltoolError):
    """The return would let a reader work out a hidden figure; nothing is written."""


class AnalysisError(EvaltoolError):
    """An analysis cannot be run on this data (too few cases, model does not converge)."""


class InvalidData(EvaltoolError):
    """The input data has problems; ``problems`` lists every one of them. Exit code 2."""

    exit_code = 2

    def __init__(self, report: ProblemList, advice: str = "nothing was written") -> None:
        self.problems = report
        super().__init__(f"the data has {report.error_count} problem(s); {advice}")

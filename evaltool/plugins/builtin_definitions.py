"""Ships the definition files in the project's ``instruments/`` folder."""

from __future__ import annotations

from pathlib import Path

from evaltool.instruments.hookspecs import hookimpl


@hookimpl
def evaltool_instrument_definitions() -> list[Path]:
    from evaltool.instruments.registry import BUILTIN_DEFINITIONS

    return [BUILTIN_DEFINITIONS]

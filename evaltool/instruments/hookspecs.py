"""The plugin contract: every hook evaltool calls. Hooks are prefixed ``evaltool_``.

Instruments come from the hooks here; output formats from ``evaltool_output_renderers``,
whose spec lives with the report that calls it (:mod:`evaltool.report.renderers`).

A plugin is a module (or object) with functions marked ``@hookimpl`` (from
``evaltool.instruments``). The built-in instruments in :mod:`evaltool.plugins` are plugins
exactly like a third party's, which are found through the ``evaltool`` entry-point group::

    [project.entry-points.evaltool]
    my_plugin = "my_package.plugin_module"
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from evaltool.instruments.base import Instrument

PROJECT = "evaltool"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def evaltool_instrument_kinds() -> list[type[Instrument]]:
    """Return instrument kinds: :class:`~evaltool.instruments.base.Instrument` subclasses.

    Each class sets a unique ``kind`` (e.g. ``"domain_scale"``) and implements
    ``from_definition(definition, source)`` so that definition files (TOML with
    ``kind = "..."``) can create instruments of that kind without code.
    """


@hookspec
def evaltool_instrument_definitions() -> list[Path]:
    """Return definition files (``*.toml``) or folders of them that this plugin ships."""


@hookspec
def evaltool_instruments() -> list[Instrument]:
    """Return ready-made instruments, for instruments defined wholly in code."""

"""The plugin contract: every hook evaltool calls. Hooks are prefixed ``evaltool_``.

Instruments come from the first three hooks; output formats from ``evaltool_output_renderers``.

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
    from evaltool.report.output import OutputRenderer

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


@hookspec
def evaltool_output_renderers() -> list[OutputRenderer]:
    """Return output formats for ``evaltool score --out FILE``: each an
    :class:`~evaltool.report.output.OutputRenderer` naming its file extension (``"xlsx"``)
    and a ``render(output, path)`` that writes the file at ``path``.

    ``output`` is a :class:`~evaltool.report.output.Output`: the period's results and the
    *publication*, every table of the return already protected (suppressed cells replaced by
    symbols, headlines filled from protected cells). Render from the publication only: it is
    what may leave the service. The core picks the renderer by the extension of ``--out``,
    refuses an output that would give a hidden figure away, records what was published (for
    next quarter's protection), and writes the file atomically. The Excel return and the
    JSON output are built-in renderers registered through this hook.
    """

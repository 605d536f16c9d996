"""The output formats: their hook in the plugin contract, what a plugin offers, and the
collection of every installed format by file extension.

The hook is part of evaltool's one plugin contract (prefix ``evaltool_``, marked with
``evaltool.instruments.hookimpl``); its spec lives here, with the report that calls it, and is
added to the plugin manager beside the instruments' (``registry.HOOKSPECS``)::

    from evaltool.instruments import hookimpl
    from evaltool.report.renderers import OutputRenderer

    @hookimpl
    def evaltool_output_renderers():
        return [OutputRenderer("csv", "every shown figure as CSV", write_csv)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from evaltool.errors import PluginError
from evaltool.instruments.hookspecs import hookspec

if TYPE_CHECKING:
    from evaltool.instruments.registry import Registry
    from evaltool.report.output import Output


@dataclass(frozen=True)
class OutputRenderer:
    """An output format, offered by a plugin through ``evaltool_output_renderers``."""

    extension: str  # the file's suffix without the dot, e.g. "xlsx"
    description: str
    render: Callable[[Output, str], None]  # writes the file at the path given
    plugin: str = ""  # set when collected: who offers it


@hookspec
def evaltool_output_renderers() -> list[OutputRenderer]:
    """Return output formats for ``evaltool score --out FILE``: each an
    :class:`~evaltool.report.renderers.OutputRenderer` naming its file extension (``"xlsx"``)
    and a ``render(output, path)`` that writes the file at ``path``.

    ``output`` is a :class:`~evaltool.report.output.Output`: the *publication* (every table
    of the return already protected, as shown: hidden figures replaced by symbols; the
    headlines' templates, the caveats and the words beside the tables), the return's *facts*
    (service, period, extract date, the settings it shows) and how to mark it (status,
    audience, marking). It holds no client id and no hidden count: what it holds is what may
    leave the service. The core picks the renderer by the extension of ``--out``, refuses an
    output that would give a hidden figure away, records what was published (for next
    quarter's protection), and writes the file atomically. The Excel return, the JSON output
    and the board page are built-in renderers registered through this hook.
    """


def renderers_of(registry: Registry) -> dict[str, OutputRenderer]:
    """Every output format the installed plugins offer, by extension (collected once, then
    kept on the registry); a plugin whose hook raises is listed with its error. Two plugins
    offering one extension is a PluginError."""
    if registry.renderers:
        return registry.renderers
    by_name = {p.name: p for p in registry.plugins}
    found: dict[str, OutputRenderer] = {}
    for owner, offered in registry.offers("evaltool_output_renderers"):
        for renderer in offered:
            ext = renderer.extension.lower().lstrip(".")
            if ext in found:
                raise PluginError(
                    f"two plugins offer an output for .{ext} files: {found[ext].plugin} "
                    f"and {owner}; uninstall one of them"
                )
            found[ext] = replace(renderer, extension=ext, plugin=owner)
            by_name[owner].outputs.append(ext)
    registry.renderers = found
    return found

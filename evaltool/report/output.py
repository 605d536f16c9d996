"""Writing a period's output in any registered format, safely.

Every format goes the same way: the target is checked before any work, the tables are
protected together with the service's earlier returns (``publish``), a publication that would
give a hidden figure away is refused, the renderer writes a temporary file, what was published
is recorded, and the file is put in place atomically. A renderer only lays out the
publication; it never sees an unprotected count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from evaltool.errors import DisclosureError, OutputError

if TYPE_CHECKING:
    from evaltool.core import Results
    from evaltool.report.publish import Publication


@dataclass(frozen=True)
class Output:
    """What a renderer gets: the period's results and their publication (protected tables)."""

    results: Results
    publication: Publication
    internal: bool = False  # client-level sheets too (never sent; not recorded)


@dataclass(frozen=True)
class OutputRenderer:
    """An output format, offered by a plugin through ``evaltool_output_renderers``."""

    extension: str  # the file's suffix without the dot, e.g. "xlsx"
    description: str
    render: Callable[[Output, str], None]  # writes the file at the path given
    plugin: str = ""  # set by the registry: who offers it


def renderer_for(path: Path, renderers: dict[str, OutputRenderer]) -> OutputRenderer:
    """The renderer for ``path``'s extension, or an error listing the formats there are."""
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in renderers:
        known = ", ".join(f".{e} ({r.description})" for e, r in sorted(renderers.items()))
        raise OutputError(
            f"--out {Path(path).name}: no output format for "
            f"{'.' + ext if ext else 'a name without an extension'}; use one of: {known}"
        )
    return renderers[ext]


def check_target(path: Path, force: bool, renderers: dict[str, OutputRenderer]) -> OutputRenderer:
    """The renderer for a target, or a refusal before any work: no such format, a folder, a
    path through a file, a file open in a spreadsheet program, or an existing file without
    ``--force``."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder; --out names the file to write (e.g. .xlsx)")
    renderer = renderer_for(path, renderers)
    for folder in (path.parent, *path.parent.parents):
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder} is a file, not a folder; choose another --out")
    for lock in (path.parent / f".~lock.{path.name}#", path.parent / f"~${path.name}"):
        if lock.exists():
            raise OutputError(
                f"{path} is open in a spreadsheet program (lock file {lock.name}); "
                "close it and run again"
            )
    if path.exists() and not force:
        raise OutputError(
            f"{path} already exists; use --force to replace it, or choose another --out"
        )
    return renderer


def write_output(results: Results, path: Path, force: bool = False, internal: bool = False) -> Path:
    """Protect, render, record and put in place (see the module). Raises OutputError, or
    DisclosureError (nothing written) when a hidden figure could still be worked out from
    this output and the earlier returns."""
    from evaltool import __version__
    from evaltool.report import record
    from evaltool.report.files import inputs_of, refuse_inputs, write_file
    from evaltool.report.publish import publish

    path = Path(path)
    renderers = results.loaded.registry.renderers
    renderer = check_target(path, force, renderers)
    refuse_inputs(path, inputs_of(results.loaded.dataset.source.path, results.settings))
    where = record.record_path(results.settings)
    pub = publish(results, record.read(where, results.settings.service))
    if pub.leaks:
        cells = "; ".join(leak.describe() for leak in pub.leaks[:5])
        raise DisclosureError(
            f"the return was not written: {len(pub.leaks)} hidden figure(s) could be worked "
            f"out from it and the earlier returns in {where}: {cells}"
        )
    output = Output(results, pub, internal)

    def remember() -> Callable[[], None] | None:
        if where is None or internal:  # an internal workbook is not sent: nothing to record
            return None
        s = results.settings
        rid = record.write(
            where,
            results.period.code,
            results.period.end,
            __version__,
            results.loaded.dataset.source.hashes,
            {
                "service": s.service,
                "threshold": s.small_number_threshold,
                "calendar": s.calendar,
                "instruments": [i.name for i in results.loaded.instruments],
                "survival": [s.survival_origin, s.survival_ci, list(s.survival_times)],
            },
            pub.cells,
            pub.relations,
        )
        return lambda: record.forget(where, rid)

    if not path.parent.exists():  # made only now that there is something to put in it
        try:
            path.parent.mkdir(parents=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder {path.parent} ({exc.strerror})") from None
    write_file(
        path,
        lambda tmp: renderer.render(output, tmp),
        force,
        f".{renderer.extension}.tmp",
        remember,
    )
    return path

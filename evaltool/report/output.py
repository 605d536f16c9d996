"""Writing a period's output in any registered format, safely.

Every format goes the same way: the target is checked before any work, the tables are
protected together with the service's earlier final returns (``publish``), a publication that
would give a hidden figure away is refused, the renderer writes a temporary file, a final
return is recorded, and the file is put in place atomically. A renderer only lays out the
publication; it never sees an unprotected count.

A run makes a draft unless it is final (``--final``): marked DRAFT on every page, protected
exactly as a final return made now would be, and never recorded. A final return holds the
record locked from reading the earlier returns until it is recorded and in place
(``record.Record``). A second final return of a quarter with other figures is a revision: said
on its Cover, recorded as one (the record keeps both). The same figures again (another format
of the return, or a run made again) are a copy of the final return.

Who the output is for is ``[reporting] audience``: "published" (the default: protected, as
above) or "shared", for a commissioner or outcome payer under a data-sharing agreement: exact
counts, nothing hidden, every page marked ``SHARED_MARKING``, never recorded and never taken
into account as a published return (the record is not read at all).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from evaltool.errors import DisclosureError, OutputError
from evaltool.report.renderers import OutputRenderer

if TYPE_CHECKING:
    from evaltool.core import Results
    from evaltool.report import record
    from evaltool.report.facts import Facts, Internal
    from evaltool.report.publish import Publication, Published

#: the marking of a published return's pages (the Government Security Classifications)
OFFICIAL = "OFFICIAL"
#: the marking of every page of a shared output
SHARED_MARKING = "OFFICIAL-SENSITIVE: shared under agreement, not for publication"
#: the marking of every page of a draft
DRAFT_MARKING = "DRAFT: not for sending"
STATUSES = ("draft", "final", "revision")


@dataclass(frozen=True)
class Output:
    """What a renderer gets: the publication (every table as shown, and the words beside
    them), the return's facts (names, dates, the settings shown: no count of people), and how
    to mark it. Never the results: no client id and no hidden count can be reached from it.

    ``internal`` is the one narrow path for client-level rows: set only when ``--internal``
    is asked for (never sent, never recorded); None otherwise."""

    publication: Published
    facts: Facts
    status: str = "final"  # STATUSES: a draft is marked DRAFT on every page
    audience: str = "published"  # or "shared" (see the module)
    #: the period's earlier final return, in words ("made on 2026-04-03 at 10:15"): the one
    #: a revision replaces (a draft mentions it; a copy of it leaves it unsaid)
    revises: str = ""
    internal: Internal | None = None  # client-level sheets (``--internal`` only)

    @property
    def draft(self) -> bool:
        return self.status == "draft"

    @property
    def shared(self) -> bool:
        return self.audience == "shared"

    @property
    def marking(self) -> str:
        """The marking of every page (an internal sheet has its own banner as well)."""
        return SHARED_MARKING if self.shared else OFFICIAL

    @property
    def threshold(self) -> int:
        """The small-number threshold the output applies (a shared one hides nothing)."""
        return 0 if self.shared else self.facts.threshold

    def status_text(self) -> str:
        """The Cover's words for the status."""
        if self.draft:
            text = (
                "DRAFT: for checking only, not for sending, never recorded as sent. Make the "
                "return to send with --final."
            )
            if self.revises:
                text += (
                    f" A final return of this period was {self.revises}: with other figures, "
                    "the final one would be a revision of it."
                )
            return text
        if self.status == "revision":
            return f"REVISION of the final return of this period {self.revises}: it replaces it."
        return "Final return." if not self.shared else "Final."


def output_for(
    results: Results,
    pub: Publication | None = None,
    internal: bool = False,
    status: str = "final",
    audience: str = "published",
    revises: str = "",
) -> Output:
    """The Output of ``results`` (``pub``: its publication, made here when not given): the
    publication's renderer view, the facts, and the client-level sheets only if ``internal``."""
    from evaltool.report.facts import facts_of, internal_of
    from evaltool.report.publish import publish

    pub = pub if pub is not None else publish(results)
    return Output(
        pub.published(),
        facts_of(results),
        status,
        audience,
        revises,
        internal_of(results) if internal else None,
    )


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


def check_audience(settings, internal: bool) -> None:
    """A shared output is for another organisation: never with client-level sheets."""
    if settings.audience == "shared" and internal:
        raise OutputError(
            "--internal adds client-level sheets, which a shared output must never hold "
            '([reporting] audience = "shared"); leave out --internal'
        )


def exact(results: Results) -> Publication:
    """A shared output's publication: the return's tables as computed, nothing hidden."""
    from evaltool.report.disclosure import Cells, _render
    from evaltool.report.publish import Publication, gather, words_of

    sheets = gather(results)
    tables = [t for ts in sheets.values() for t in ts]
    cells = Cells(tables)
    cells.hidden.clear()
    pub = Publication(sheets, {t.name: _render(t, cells, set(), 0) for t in tables})
    return words_of(results, pub)


def write_output(
    results: Results,
    path: Path,
    force: bool = False,
    internal: bool = False,
    final: bool = True,
) -> Path:
    """Protect, render, record (a final published return) and put in place (see the
    module). Raises OutputError (``record.RecordError`` for the record), or DisclosureError
    (nothing written) when a hidden figure could still be worked out from this output and the
    earlier returns."""
    from evaltool.report import record
    from evaltool.report.files import inputs_of, refuse_inputs, write_file
    from evaltool.report.renderers import renderers_of

    path = Path(path)
    s = results.settings
    shared = s.audience == "shared"
    check_audience(s, internal)
    renderers = renderers_of(results.loaded.registry)
    renderer = check_target(path, force, renderers)
    refuse_inputs(path, inputs_of(results.loaded.dataset.source.path, s))
    recorded = final and not shared and not internal  # an internal workbook is not sent
    where = None if shared else record.record_path(s)
    kept = not final and not shared and not internal and where is not None  # a draft
    rec, unkept = None, ""
    if where is not None and (recorded or where.exists() or where.is_symlink()):
        rec = record.Record(where, write=recorded)
    try:
        if shared:
            pub, status, revises, last = exact(results), "final", "", None
        else:
            draft = None if final else results.period.code
            earlier = rec.earlier(s.service, draft) if rec is not None else record.Earlier()
            sent = rec.sent(s.service, results.period.code) if rec is not None else []
            if not recorded and rec is not None:
                rec.close()  # a draft only reads: the record is free again at once
                rec = None
            pub = publish_or_refuse(results, earlier, where)
            last = next((x for x in reversed(sent) if x.status != "copy"), None)
            status, revises = "final", ""
            if last is not None:  # a draft says so too: its final would be a revision
                revises = f"made on {last.written_at.replace('T', ' at ')}"
                status = "revision" if last.cells != pub.cells else "final"
        output = output_for(
            results,
            pub,
            internal,
            status if final else "draft",
            s.audience,
            revises if status == "revision" or not final else "",
        )

        def remember() -> Callable[[], None] | None:
            nonlocal rec, unkept
            if kept:  # kept at the end, for a moment: a draft never holds up a final return
                rec, unkept = _draft_record(where)
            if rec is None:
                return None
            if kept:
                status_kept = "draft"
            else:
                status_kept = "copy" if last is not None and status == "final" else status
            rec.add(
                results.period.code,
                results.period.end,
                version(),
                results.loaded.dataset.source.hashes,
                recorded_settings(results),
                pub.cells,
                pub.relations,
                status_kept,
                last.id if last is not None and not kept else None,
            )
            return rec.close  # rolls the entry back: the file was not put in place

        if not path.parent.exists():  # made only now that there is something to put in it
            try:
                path.parent.mkdir(parents=True)
            except OSError as exc:
                raise OutputError(
                    f"cannot create the folder {path.parent} ({exc.strerror})"
                ) from None
        write_file(
            path,
            lambda tmp: renderer.render(output, tmp),
            force,
            f".{renderer.extension}.tmp",
            remember,
        )
        if rec is not None and recorded:
            try:
                rec.commit()
            except OutputError:
                path.unlink(missing_ok=True)  # a return that is not recorded must not be sent
                raise
        elif rec is not None and rec.write:
            try:
                rec.commit()
            except OutputError as exc:  # the draft stands; later drafts will not know it
                unkept = str(exc)
        if unkept:
            warnings.warn(DraftNotKept(unkept), stacklevel=2)
    finally:
        if rec is not None:
            rec.close()
    return path


class DraftNotKept(UserWarning):
    """A draft was made but could not be kept in the record (the reason is the message):
    later drafts are not protected with it."""


def _draft_record(where: Path) -> tuple[record.Record | None, str]:
    """The record opened (locked) to keep a draft in, or None with the reason it cannot be
    (read-only, in use, no folder): the draft is made all the same."""
    from evaltool.report import record

    try:
        return record.Record(where, write=True, wait=DRAFT_WAIT), ""
    except record.RecordError as exc:
        return None, exc.what or str(exc)


#: how long a draft waits for another run that holds the record before going ahead unkept
DRAFT_WAIT = 0.5


def version() -> str:
    from evaltool import __version__

    return __version__


def recorded_settings(results: Results) -> dict[str, object]:
    """The settings that shape the figures, kept with each recorded return."""
    s = results.settings
    return {
        "service": s.service,
        "threshold": s.small_number_threshold,
        "protection_values": s.keep,
        "calendar": s.calendar,
        "instruments": [i.name for i in results.loaded.instruments],
        "survival": [s.survival_origin, s.survival_ci, list(s.survival_times)],
    }


def publish_or_refuse(results: Results, earlier, where: Path | None) -> Publication:
    """The publication, protected with the earlier returns; refused (DisclosureError) when a
    hidden figure could still be worked out."""
    from evaltool.report.publish import publish

    pub = publish(results, earlier)
    if pub.leaks:
        cells = "; ".join(leak.describe() for leak in pub.leaks[:5])
        raise DisclosureError(
            f"the return was not written: {len(pub.leaks)} hidden figure(s) could be worked "
            f"out from it and the earlier returns in {where}: {cells}"
        )
    return pub

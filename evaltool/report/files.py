"""Writing an output file without ever losing one: never an input, never a half-made file,
never a file another run wrote a moment ago.

Every output (the return, a problem list, a scores CSV) is written to a temporary file in the
target folder and then put in place in one step: with ``--force`` by ``os.replace``; without
it by ``os.link``, which fails if the target appeared meanwhile (two runs writing one file at
once: the second is told, and nothing is replaced).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from evaltool.errors import OutputError


def same_file(a: Path, b: Path) -> bool:
    """Do two paths name one file (``./sub/../data.xlsx`` and ``data.xlsx``, links too)?"""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def inputs_of(data: Path | str, settings=None) -> list[Path]:
    """The files a run reads: the data (a workbook, or every file of a folder), the settings
    file and the record of returns."""
    data = Path(data)
    out = [p for p in data.iterdir() if p.is_file()] if data.is_dir() else [data]
    if settings is not None:
        from evaltool.report.record import record_path

        out += [p for p in (settings.config_file, record_path(settings)) if p is not None]
    return out


def refuse_inputs(out: Path, inputs: Iterable[Path], option: str = "--out") -> None:
    """An output may never be one of the run's inputs, whatever ``--force`` says. Call it
    before the check that the output exists, so the answer does not depend on ``--force``."""
    for path in inputs:
        if same_file(Path(out), Path(path)):
            raise OutputError(
                f"{option} {out} would overwrite {Path(path).name}, one of the files this "
                "run reads; choose another name for the output (--force never replaces an "
                "input)"
            )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_file(
    path: Path,
    write: Callable[[str], None],
    force: bool,
    suffix: str,
    before_rename: Callable[[], Callable[[], None] | None] | None = None,
) -> None:
    """``write(tmp)`` makes the file; it then takes ``path``'s place (see the module).

    ``before_rename`` runs once the file is complete and before it is put in place; it may
    return a function that undoes it, called if putting the file in place fails.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder; name a file to write")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=suffix, dir=path.parent)
    except FileNotFoundError:
        if path.parent.is_dir():
            raise OutputError(
                f"cannot create a file in {path.parent}; choose a folder you can write to"
            ) from None
        raise OutputError(
            f"folder {path.parent} does not exist; create it or choose another place"
        ) from None
    except OSError as exc:
        raise OutputError(
            f"cannot write in {path.parent} ({exc.strerror}); choose a folder you can write to"
        ) from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # as any program would create it, not mkstemp's 0600
    undo = None
    try:
        write(tmp)
        undo = before_rename() if before_rename else None
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if another run put a file there meanwhile
            except FileExistsError:
                raise OutputError(
                    f"{path} was written by another run while this one worked; nothing was "
                    "replaced (use --force to replace it)"
                ) from None
            except OSError:  # a file system without hard links: the check, then the rename
                if path.exists():
                    raise OutputError(f"{path} already exists; use --force to replace it") from None
                os.replace(tmp, path)
        undo = None
    except PermissionError:
        raise OutputError(
            f"{path} cannot be replaced: it may be open in Excel; close it and run again"
        ) from None
    finally:
        if undo is not None:
            undo()
        if os.path.exists(tmp):
            os.unlink(tmp)

"""The record of what was published: every final return, cell by cell, in one SQLite file.

A service's earlier returns are evidence in a reader's hands: "to date" this quarter minus "to
date" last quarter is this quarter's count, and a past quarter's row printed again must not
show what an earlier return hid. The record keeps, for each final return written, its period,
when, the evaltool version, the input files' hashes, the settings, whether it was the first
final return of its quarter or a revision, and for every count cell its key, its value, and
whether it was shown or hidden, with the identities between cells. The next return's
disclosure control reads all of it (see ``disclosure.protect(history=...)``).

Drafts are kept apart (status ``draft``): only the latest draft of each quarter that has no
final return, and only so that a series of drafts is protected as a series (a manager who
makes a draft each quarter must not be able to send a leaky set by mistake). A final return
never takes drafts into account, and its quarter's drafts are dropped when it is recorded: a
trial run with wrong data does not bind what is sent. A draft that cannot write the record
(read-only, in use, no folder) is still made, protected with what the record holds, and says
that later drafts will not know it. A draft reads the record without holding it and is added
at the end, in a moment: a draft never holds up a final return (two drafts made at the same
moment do not know each other).

It holds every true count, the hidden ones included (never a client id): it is as sensitive as
the data and stays where the data is kept, created readable by its owner only (0600). Shared
returns (``[reporting] audience = "shared"``) and internal workbooks are never recorded. Its
path is the ``[reporting] record`` setting (default: ``evaltool-returns.sqlite`` beside the settings
file); ``EVALTOOL_RECORD`` overrides it.

A final return holds the record locked (SQLite ``BEGIN IMMEDIATE``) from reading the earlier
returns until it is recorded and its file is in place: two runs at once cannot both be
protected against the same history and both be recorded. The second waits ``WAIT_SECONDS``,
then stops with a message. The file stores its format's version (``PRAGMA user_version``): a
record written by a newer evaltool, a damaged one, a read-only one, a locked one or a folder
is refused in words, before anything is written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from evaltool.errors import OutputError

#: the record's format; 1 had no version stored (user_version 0) and no status per return;
#: 2 had no drafts (an evaltool that reads 2 would take a draft for a final return)
SCHEMA_VERSION = 3
SCHEMA = """
create table if not exists returns (
    id integer primary key,
    period text not null,        -- e.g. 2025-Q4
    period_end text not null,    -- ISO date
    written_at text not null,
    version text not null,
    inputs text not null,        -- JSON: file name -> SHA-256
    settings text not null,      -- JSON: the settings that shape the figures
    status text not null default 'final',  -- final, revision (of revises), copy (the same
    revises integer              -- figures again: another format of one return), or draft
);
create table if not exists cells (
    return_id integer not null references returns(id),
    key text not null,           -- period|table|row|column: stable across returns
    value real not null,
    hidden integer not null,
    primary key (return_id, key)
);
create table if not exists relations (
    return_id integer not null references returns(id),
    op text not null,            -- '=' or '<='
    terms text not null          -- JSON: [[key, coefficient], ...]; a key starting with '~'
                                 -- is an unpublished quantity
);
"""
#: the columns each version needs (a file without them is not a record evaltool can use)
COLUMNS = {
    "returns": {"id", "period", "period_end", "written_at", "version", "inputs", "settings"},
    "cells": {"return_id", "key", "value", "hidden"},
    "relations": {"return_id", "op", "terms"},
}
#: what takes a record of each older version to the next one
MIGRATIONS = {
    1: [
        "alter table returns add column status text not null default 'final'",
        "alter table returns add column revises integer",
    ],
    2: [],  # the same tables; drafts may now be kept (status 'draft')
}
DEFAULT_NAME = "evaltool-returns.sqlite"
#: how long a final return waits for another run that holds the record
WAIT_SECONDS = 5.0


class RecordError(OutputError):
    """The record of returns cannot be used; nothing was written (exit 1). ``what``: the
    problem alone, without what to do (a draft that goes ahead says only that)."""

    what: str = ""


@dataclass
class Earlier:
    """What earlier returns published: cell key -> (value, hidden), and their identities."""

    cells: dict[str, tuple[float, bool]] = field(default_factory=dict)
    relations: list[tuple[str, list[tuple[str, float]]]] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    #: per period: the keys an output of that period hid, with the value it hid (an output
    #: made again for the period, or another format of it, hides the same cells)
    hidden_in: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    """A final return of one period in the record."""

    id: int
    written_at: str
    status: str
    cells: dict[str, tuple[float, bool]]


def record_path(settings) -> Path | None:
    """Where the record lives: EVALTOOL_RECORD, else the setting, else beside the settings
    file; None when there is no settings file (nothing to keep it beside)."""
    env = os.environ.get("EVALTOOL_RECORD")
    if env:
        return Path(env)
    if settings.record is not None:
        return settings.record
    if settings.config_file is not None:
        return Path(settings.config_file).parent / DEFAULT_NAME
    return None


#: said with every problem: the user may not know which setting chose the file
CHOOSE = (
    "The [reporting] record setting, or the EVALTOOL_RECORD environment variable, chooses the file."
)


def _problem(path: Path, what: str, todo: str) -> RecordError:
    chosen = " (set by EVALTOOL_RECORD)" if os.environ.get("EVALTOOL_RECORD") else ""
    error = RecordError(
        f"the record of returns {path}{chosen} {what}; {todo}. Nothing was written. {CHOOSE}"
    )
    error.what = f"the record of returns {path}{chosen} {what}"
    return error


def _in_use(path: Path, waited: float | None = None) -> RecordError:
    return _problem(
        path,
        f"is in use by another run of evaltool (or another program is changing it); this run "
        f"waited {WAIT_SECONDS if waited is None else waited:g} seconds",
        "run again when the other has finished, so that each return is protected with the "
        "other one taken into account",
    )


def _damaged(path: Path, why: str) -> RecordError:
    return _problem(
        path,
        f"cannot be read: {why}",
        "restore it from your backup, or point the setting at another file (a new file starts "
        "an empty record: earlier returns would no longer be taken into account)",
    )


def _writable(path: Path) -> bool:
    """Whether this run may change ``path``: a file or folder marked read-only for everyone
    counts as read-only even for an administrator, whom the system would let write."""
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)


class Record:
    """An open record. ``write``: locked (``BEGIN IMMEDIATE``) until :meth:`commit` or
    :meth:`close`; otherwise read only. Use as a context manager."""

    def __init__(self, path: Path, write: bool, wait: float | None = None) -> None:
        self.path, self.write, self.done, self.created = Path(path), write, False, False
        self.wait = WAIT_SECONDS if wait is None else wait
        path = self.path
        if path.is_dir():
            raise _problem(path, "is a folder", "name a file, e.g. " + str(path / DEFAULT_NAME))
        try:
            if write:
                self._create()
                inode = path.stat().st_ino
                self.db = sqlite3.connect(path, timeout=self.wait, isolation_level=None)
            else:
                uri = f"file:{quote(str(path.resolve()))}?mode=ro"
                self.db = sqlite3.connect(uri, uri=True, timeout=self.wait, isolation_level=None)
        except sqlite3.Error as exc:
            raise _damaged(path, str(exc)) from None
        try:
            if write:
                self._lock()
                if not path.exists() or path.stat().st_ino != inode:
                    # the run that made it failed and took it away while this one waited
                    self.created = False
                    raise _in_use(path, self.wait)
            self._check()
        except BaseException:
            self.close()
            raise

    def _create(self) -> None:
        """A new record: made readable and writable by its owner only."""
        path = self.path
        if not path.parent.is_dir():
            raise _problem(
                path, f"cannot be made: the folder {path.parent} does not exist", "create it"
            )
        which = next((p for p in (path, path.parent) if p.exists() and not _writable(p)), None)
        if which is not None:
            raise _problem(
                path,
                f"is read-only ({which} cannot be written), so this return cannot be added to it",
                "make it writable (ask whoever looks after the folder), or make a draft "
                "(without --final), which goes ahead without it",
            )
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            self.created = True  # removed again, still locked, if nothing is recorded in it
        except FileExistsError:
            pass
        except OSError as exc:
            raise _problem(
                path,
                f"cannot be made in {path.parent} ({exc.strerror})",
                "choose a folder you can write to",
            ) from None

    def _lock(self) -> None:
        try:
            self.db.execute("begin immediate")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise _in_use(self.path, self.wait) from None
            if "readonly" in str(exc) or "read-only" in str(exc):
                raise _problem(self.path, "is read-only", "make it writable") from None
            raise _damaged(self.path, str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, f"{exc} (it is not an evaltool record)") from None

    def _check(self) -> None:
        """The version and the tables: a newer record, or a file that is not a record, is
        refused; an older one is brought up to date (written only by a final return)."""
        try:
            version = self.db.execute("pragma user_version").fetchone()[0]
            found = {
                name: {row[1] for row in self.db.execute(f"pragma table_info('{name}')")}
                for (name,) in self.db.execute("select name from sqlite_master where type='table'")
            }
        except sqlite3.DatabaseError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise _in_use(self.path, self.wait) from None
            raise _damaged(self.path, f"{exc} (it is not an evaltool record)") from None
        if version > SCHEMA_VERSION:
            raise _problem(
                self.path,
                f"was written by a newer evaltool (record format {version}; this evaltool "
                f"reads format {SCHEMA_VERSION} and older)",
                "upgrade evaltool (pip install --upgrade evaltool) and run again",
            )
        if not found and version == 0:  # a new, empty file
            self.version = None
            if self.write:  # statement by statement: executescript would end the lock
                for statement in SCHEMA.split(");")[:-1]:
                    self.db.execute(statement + ")")
                self.db.execute(f"pragma user_version = {SCHEMA_VERSION}")
                self.version = SCHEMA_VERSION
            return
        for table, needed in COLUMNS.items():
            if table not in found:
                raise _damaged(self.path, f"it has no '{table}' table")
            missing = needed - found[table]
            if missing:
                raise _damaged(
                    self.path, f"its '{table}' table has no {', '.join(sorted(missing))} column"
                )
        self.version = max(version, 1)
        if self.write:
            while self.version < SCHEMA_VERSION:
                for statement in MIGRATIONS[self.version]:
                    self.db.execute(statement)
                self.version += 1
            self.db.execute(f"pragma user_version = {SCHEMA_VERSION}")

    # reading -------------------------------------------------------------------------

    def _returns(self, service: str | None) -> list[tuple[int, str, str]]:
        """The returns of ``service``, oldest first: (id, period, status)."""
        if self.version is None:
            return []
        status_of = "status" if self.version >= 2 else "'final'"
        return [
            (rid, period, status)
            for rid, period, settings, status in self.db.execute(
                f"select id, period, settings, {status_of} from returns order by id"
            )
            if service is None or json.loads(settings).get("service", service) == service
        ]

    def _mine(self, service: str | None, draft: str | None = None) -> dict[int, str]:
        """The final returns of ``service``: id -> period; for a ``draft`` of a period, with
        the latest draft of each other period that has no final return."""
        rows = self._returns(service)
        out = {rid: period for rid, period, status in rows if status != "draft"}
        if draft is not None:
            finals = set(out.values())
            latest = {p: rid for rid, p, status in rows if status == "draft" and p != draft}
            out.update({rid: p for p, rid in latest.items() if p not in finals})
        return dict(sorted(out.items()))

    def earlier(self, service: str | None = None, draft: str | None = None) -> Earlier:
        """Everything recorded so far for ``service``: two services that keep their settings
        in one folder share the file, not their evidence. For a ``draft`` of that period, the
        latest draft of each other period without a final return too (see the module).

        A cell printed in several returns with one value is one quantity (hidden only if
        every return hid it). Where the value changed (a revision), each older value is a
        quantity of its own, ``key#return``, and the older return's identities refer to it.
        """
        out = Earlier()
        if self.version is None:
            return out
        try:
            return self._earlier(service, out, draft)
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, str(exc)) from None

    def _earlier(self, service: str | None, out: Earlier, draft: str | None) -> Earlier:
        db = self.db
        period_of = self._mine(service, draft)
        drafts = {rid for rid, _, status in self._returns(service) if status == "draft"}
        rows = db.execute("select return_id, key, value, hidden from cells order by return_id")
        rows = [r for r in rows.fetchall() if r[0] in period_of]
        latest = {key: value for _, key, value, _ in rows}
        by_return = {(rid, key): value for rid, key, value, _ in rows}

        def name(rid: int, key: str, value: float | None = None) -> str:
            value = by_return.get((rid, key), latest.get(key)) if value is None else value
            return key if value == latest.get(key) else f"{key}#{rid}"

        for rid, key, value, hidden in rows:
            var = name(rid, key, value)
            was = out.cells.get(var)
            out.cells[var] = (float(value), bool(hidden) and (was is None or was[1]))
        seen = set()  # a past quarter's identities, written again by every later return: once
        for rid, op, terms in db.execute("select return_id, op, terms from relations"):
            if rid not in period_of:
                continue
            mapped = [
                (k if k.startswith("~") else name(rid, k), float(c)) for k, c in json.loads(terms)
            ]
            sig = (op, tuple(sorted(mapped)))
            if sig not in seen:
                seen.add(sig)
                out.relations.append((op, mapped))
        out.periods = sorted(
            {f"{p} (draft)" if rid in drafts else p for rid, p in period_of.items()}
        )
        for rid, key, value, hidden in rows:
            if hidden:
                out.hidden_in.setdefault(period_of[rid], {})[key] = float(value)
        return out

    def sent(self, service: str | None, period: str) -> list[Sent]:
        """The final returns of ``period`` recorded for ``service``, oldest first."""
        mine = [rid for rid, p in self._mine(service).items() if p == period]
        out = []
        try:
            status_of = "status" if self.version is not None and self.version >= 2 else "'final'"
            for rid in mine:
                written_at, status = self.db.execute(
                    f"select written_at, {status_of} from returns where id = ?", (rid,)
                ).fetchone()
                cells = {
                    key: (float(value), bool(hidden))
                    for key, value, hidden in self.db.execute(
                        "select key, value, hidden from cells where return_id = ?", (rid,)
                    )
                }
                out.append(Sent(rid, written_at, status, cells))
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, str(exc)) from None
        return out

    # writing -------------------------------------------------------------------------

    def add(
        self,
        period: str,
        period_end: dt.date,
        version: str,
        inputs: dict[str, str],
        settings: dict[str, object],
        cells: dict[str, tuple[float, bool]],
        relations: list[tuple[str, list[tuple[str, float]]]],
        status: str = "final",
        revises: int | None = None,
    ) -> int:
        """Add one return (kept until :meth:`commit`); its id. A draft replaces the period's
        earlier draft; a final return drops the period's drafts (see the module)."""
        assert self.write and not self.done
        db = self.db
        service = settings.get("service")
        gone = [
            rid
            for rid, p, status in self._returns(service if isinstance(service, str) else None)
            if status == "draft" and p == period
        ]
        for rid in gone:
            for table in ("cells", "relations"):
                db.execute(f"delete from {table} where return_id = ?", (rid,))
            db.execute("delete from returns where id = ?", (rid,))
        cur = db.execute(
            "insert into returns (period, period_end, written_at, version, inputs, settings, "
            "status, revises) values (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                period,
                period_end.isoformat(),
                dt.datetime.now().replace(microsecond=0).isoformat(),
                version,
                json.dumps(inputs, sort_keys=True),
                json.dumps(settings, sort_keys=True, default=str),
                status,
                revises,
            ),
        )
        rid = cur.lastrowid
        db.executemany(
            "insert into cells (return_id, key, value, hidden) values (?, ?, ?, ?)",
            [(rid, k, v, int(h)) for k, (v, h) in cells.items()],
        )
        db.executemany(
            "insert into relations (return_id, op, terms) values (?, ?, ?)",
            [(rid, op, json.dumps(terms)) for op, terms in relations],
        )
        return int(rid)

    def commit(self) -> None:
        """Keep what was added, and let the next run have the record."""
        if self.write and not self.done:
            try:
                self.db.execute("commit")
            except sqlite3.Error as exc:
                raise _problem(self.path, f"could not be saved ({exc})", "run again") from None
            self.created = False
        self.done = True
        self.db.close()

    def close(self) -> None:
        """Undo anything not committed, and let go of the record."""
        if self.done:
            return
        try:
            if self.created and self.db.in_transaction:  # still locked: nobody else has it
                self.path.unlink(missing_ok=True)
            if self.write and self.db.in_transaction:
                self.db.execute("rollback")
        except sqlite3.Error:
            pass  # closing undoes it all the same
        finally:
            self.done = True
            self.db.close()

    def __enter__(self) -> Record:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check(path: Path | None, final: bool) -> None:
    """Refuse, before any work, a record this run could not use: read for a draft, locked
    and added to for a final return. Nothing is created or changed."""
    if path is None:
        return
    path = Path(path)
    if path.exists() or path.is_symlink() or path.is_dir():
        Record(path, write=final).close()
    elif final and not path.parent.is_dir():
        raise _problem(
            path, f"cannot be made: the folder {path.parent} does not exist", "create it"
        )
    elif final and not _writable(path.parent):
        raise _problem(
            path,
            f"cannot be made: the folder {path.parent} is read-only",
            "choose a folder you can write to",
        )


def read(path: Path | None, service: str | None = None) -> Earlier:
    """Everything recorded so far for ``service`` (nothing if the file does not exist yet;
    see :meth:`Record.earlier`)."""
    if path is None or not Path(path).exists() and not Path(path).is_symlink():
        return Earlier()
    with Record(Path(path), write=False) as rec:
        return rec.earlier(service)


def write(
    path: Path,
    period: str,
    period_end: dt.date,
    version: str,
    inputs: dict[str, str],
    settings: dict[str, object],
    cells: dict[str, tuple[float, bool]],
    relations: list[tuple[str, list[tuple[str, float]]]],
    status: str = "final",
) -> int:
    """Add one return to the record, in one transaction (all of it or nothing); its id."""
    with Record(Path(path), write=True) as rec:
        rid = rec.add(period, period_end, version, inputs, settings, cells, relations, status)
        rec.commit()
    return rid

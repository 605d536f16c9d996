"""The record of what was published: every return written, cell by cell, in one SQLite file.

A service's earlier returns are evidence in a reader's hands: "to date" this quarter minus "to
date" last quarter is this quarter's count, and a past quarter's row printed again must not
show what an earlier return hid. The record keeps, for each return written, its period, when,
the evaltool version, the input files' hashes and the settings, and for every count cell its
key, its value, and whether it was shown or hidden, with the identities between cells. The
next return's disclosure control reads all of it (see ``disclosure.protect(history=...)``).

It holds aggregate counts only (never a client id or any client-level value), and it stays
with the service: it is never sent. Its path is the ``[reporting] record`` setting (default:
``evaltool-returns.sqlite`` beside the settings file); ``EVALTOOL_RECORD`` overrides it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from evaltool.errors import OutputError

SCHEMA = """
create table if not exists returns (
    id integer primary key,
    period text not null,        -- e.g. 2025-Q4
    period_end text not null,    -- ISO date
    written_at text not null,
    version text not null,
    inputs text not null,        -- JSON: file name -> SHA-256
    settings text not null       -- JSON: the settings that shape the figures
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
DEFAULT_NAME = "evaltool-returns.sqlite"


@dataclass
class Earlier:
    """What earlier returns published: cell key -> (value, hidden), and their identities."""

    cells: dict[str, tuple[float, bool]] = field(default_factory=dict)
    relations: list[tuple[str, list[tuple[str, float]]]] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    #: per period: the keys an output of that period hid, with the value it hid (an output
    #: made again for the period, or another format of it, hides the same cells)
    hidden_in: dict[str, dict[str, float]] = field(default_factory=dict)


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


def _connect(path: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path)
        db.executescript(SCHEMA)
    except sqlite3.Error as exc:
        raise OutputError(
            f"the record of returns {path} cannot be used ({exc}); it must be the file evaltool "
            "keeps beside the settings (or set [reporting] record to a folder you can write)"
        ) from None
    return db


def read(path: Path | None, service: str | None = None) -> Earlier:
    """Everything recorded so far for ``service`` (nothing if the file does not exist yet):
    two services that keep their settings in one folder share the file, not their evidence.

    A cell printed in several returns with one value is one quantity (hidden only if every
    return hid it). Where the value changed (a revision), each older value is a quantity of
    its own, ``key#return``, and the older return's identities refer to it.
    """
    out = Earlier()
    if path is None or not Path(path).exists():
        return out
    db = _connect(Path(path))
    try:
        mine = {
            rid
            for rid, settings in db.execute("select id, settings from returns")
            if service is None or json.loads(settings).get("service", service) == service
        }
        rows = db.execute("select return_id, key, value, hidden from cells order by return_id")
        rows = [r for r in rows.fetchall() if r[0] in mine]
        latest = {key: value for _, key, value, _ in rows}

        def name(rid: int, key: str, value: float | None = None) -> str:
            value = by_return.get((rid, key), latest.get(key)) if value is None else value
            return key if value == latest.get(key) else f"{key}#{rid}"

        by_return = {(rid, key): value for rid, key, value, _ in rows}
        for rid, key, value, hidden in rows:
            var = name(rid, key, value)
            was = out.cells.get(var)
            out.cells[var] = (float(value), bool(hidden) and (was is None or was[1]))
        seen = set()  # a past quarter's identities, written again by every later return: once
        for rid, op, terms in db.execute("select return_id, op, terms from relations"):
            if rid not in mine:
                continue
            mapped = [
                (k if k.startswith("~") else name(rid, k), float(c)) for k, c in json.loads(terms)
            ]
            sig = (op, tuple(sorted(mapped)))
            if sig not in seen:
                seen.add(sig)
                out.relations.append((op, mapped))
        period_of = {rid: p for rid, p in db.execute("select id, period from returns")}
        out.periods = sorted({p for rid, p in period_of.items() if rid in mine})
        for rid, key, value, hidden in rows:
            if hidden:
                out.hidden_in.setdefault(period_of[rid], {})[key] = float(value)
    finally:
        db.close()
    return out


def write(
    path: Path,
    period: str,
    period_end: dt.date,
    version: str,
    inputs: dict[str, str],
    settings: dict[str, object],
    cells: dict[str, tuple[float, bool]],
    relations: list[tuple[str, list[tuple[str, float]]]],
) -> int:
    """Add one return to the record, in one transaction (all of it or nothing); its id."""
    db = _connect(Path(path))
    try:
        with db:
            cur = db.execute(
                "insert into returns (period, period_end, written_at, version, inputs, settings) "
                "values (?, ?, ?, ?, ?, ?)",
                (
                    period,
                    period_end.isoformat(),
                    dt.datetime.now().replace(microsecond=0).isoformat(),
                    version,
                    json.dumps(inputs, sort_keys=True),
                    json.dumps(settings, sort_keys=True, default=str),
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
    finally:
        db.close()
    return int(rid)


def forget(path: Path, rid: int) -> None:
    """Take a return back out (its file could not be put in place); the file itself goes if
    nothing else was ever recorded in it."""
    db = _connect(Path(path))
    try:
        with db:
            for table in ("cells", "relations"):
                db.execute(f"delete from {table} where return_id = ?", (rid,))
            db.execute("delete from returns where id = ?", (rid,))
        empty = db.execute("select count(*) from returns").fetchone()[0] == 0
    finally:
        db.close()
    if empty:
        Path(path).unlink()

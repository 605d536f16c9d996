"""Check a source against table specifications; collect every problem; return typed tables.

All checks run on whole columns. Problems carry file, sheet, spreadsheet row, column, the value
found and what was expected.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from evaltool.data.columns import DATE, TEXT, as_text, convert, is_arrow_text
from evaltool.data.problems import ERROR, NOTE, WARNING, Problem, ProblemList, visible
from evaltool.data.reading import ROW, RawTable, Source
from evaltool.data.specs import TableSpec, as_at

#: sheets that carry notes for people, never data (the template's guide)
IGNORED_SHEETS = {"guide", "readme", "notes"}


@dataclass
class Dataset:
    """Typed tables ready for scoring; each keeps its ``_row`` column for later messages."""

    tables: dict[str, pd.DataFrame]
    source: Source
    raw: dict[str, RawTable] = field(default_factory=dict)
    #: the spec each table was checked against, by table name
    specs: dict[str, TableSpec] = field(default_factory=dict)

    @property
    def clients(self) -> pd.DataFrame:
        return self.tables["clients"]

    def as_at(self, end: dt.date) -> Dataset:
        """The data as an extract made at the end of ``end`` would have held it, so that a
        return for a past quarter has the figures of the return made at the time: every table
        cut by ``specs.as_at`` (rows dated later gone, later dates blank), and the rows of
        people not yet referred by then gone from every table linked to clients."""
        tables = {
            name: as_at(frame, self.specs[name], end) if name in self.specs else frame
            for name, frame in self.tables.items()
        }
        clients = tables.get("clients")
        if clients is not None and "client_id" in clients:
            known = clients["client_id"]
            for name, frame in tables.items():
                spec = self.specs.get(name)
                if spec is not None and spec.client_linked and "client_id" in frame:
                    kept = frame["client_id"].isin(known).to_numpy(dtype=bool)
                    if not kept.all():
                        tables[name] = frame[kept]
        return Dataset(tables, self.source, self.raw, self.specs)

    def made_after(self, end: dt.date) -> dict[str, set[int]]:
        """The spreadsheet rows of each table that record something made after ``end``: dated
        later by the spec's time column, or of a person referred later (a row whose date
        could not be read is not among them: its problem still stands)."""
        limit = pd.Timestamp(end)
        later: set[object] = set()
        clients = self.tables.get("clients")
        if clients is not None and "referral_date" in clients:
            later = set(clients.loc[(clients["referral_date"] > limit).fillna(False), "client_id"])
        out: dict[str, set[int]] = {}
        for name, frame in self.tables.items():
            spec = self.specs.get(name)
            mask = pd.Series(False, index=frame.index)
            if spec is not None and spec.time_column in frame:
                mask |= (frame[spec.time_column] > limit).fillna(False).astype(bool)
            if later and spec is not None and spec.client_linked and "client_id" in frame:
                mask |= frame["client_id"].isin(later)
            if mask.any():
                out[name] = set(frame.loc[mask, ROW].tolist())
        return out


def locate(table: RawTable, column: str) -> str:
    """How to name a column to a spreadsheet user: its header as written and its letter."""
    header = table.headers.get(column, column)
    letter = table.letters.get(column)
    return f"{header} ({letter})" if letter else header


def cell_problems(
    table: RawTable,
    column: str,
    mask: pd.Series,
    message: str | pd.Series,
    expected: str,
    severity: str = ERROR,
    values: pd.Series | None = None,
) -> list[Problem]:
    """One problem per flagged row of a column, built from whole columns at once."""
    if not mask.any():
        return []
    frame = table.frame
    rows = frame.loc[mask, ROW].tolist()
    shown = values if values is not None else frame.get(column, None)
    found = (
        [visible(v) for v in as_written(shown[mask], "(blank)").tolist()]
        if shown is not None
        else None
    )
    msgs = message[mask].tolist() if isinstance(message, pd.Series) else None
    where = locate(table, column)
    clients = (
        [visible(v) for v in as_written(frame.loc[mask, "client_id"], "").tolist()]
        if "client_id" in frame
        else None
    )
    return [
        Problem(
            severity,
            msgs[i] if msgs else message,
            table.file,
            table.sheet,
            rows[i],
            where,
            found[i] if found else "",
            expected,
            clients[i] if clients else "",
        )
        for i in range(len(rows))
    ]


def as_written(raw: pd.Series, blank: str) -> pd.Series:
    """Cells as a message shows them: trimmed text, ``blank`` for an empty cell, and text read
    as blank ('None', 'NaN') as written, so the reader can find it."""
    text = as_text(raw)
    if not text.isna().any():
        return text
    written = raw.astype(object).map(lambda v: "" if pd.isna(v) else str(v).strip())
    return text.fillna(written.where(written != "", blank).astype("string"))


def duplicated_keys(
    frame: pd.DataFrame, keys: list[str], codes: dict[str, np.ndarray] | None = None
) -> pd.Series:
    """Rows whose key (every key column filled in) occurs more than once.

    The key columns become one integer per row (codes combined, re-coded after each column
    to stay small), so the check is an integer one, not a hash of text and date tuples.
    ``codes`` may give a column's codes already made (``Converted.codes``).
    """
    combined = np.zeros(len(frame), dtype=np.int64)
    filled = np.ones(len(frame), dtype=bool)
    for key in keys:
        key_codes = codes[key] if codes and key in codes else pd.factorize(frame[key])[0]
        filled &= key_codes >= 0
        size = int(key_codes.max()) + 2 if len(key_codes) else 1
        combined, _ = pd.factorize(combined * size + key_codes)
    dup = np.zeros(len(frame), dtype=bool)
    dup[filled] = pd.Series(combined[filled]).duplicated(keep=False).to_numpy()
    return pd.Series(dup, index=frame.index)


def reduced_note(raw: RawTable, column: str, n: int) -> Problem:
    return Problem(
        NOTE,
        f"{column}: {n} full date(s) of birth read as the year only (nothing more of a date "
        "of birth is kept)",
        raw.file,
        raw.sheet,
        1,
        locate(raw, column),
    )


def check_table(
    raw: RawTable, spec: TableSpec, latest: Latest | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """Type every contract column of a table and check values, keys and date order; no date
    may be after ``latest`` (the extract date, or today)."""
    problems: list[Problem] = []
    frame = raw.frame
    present = set(frame.columns)
    headers = ", ".join(f"'{raw.headers.get(h, h)}'" for h in frame.columns if h != ROW)
    for target, header in raw.unmapped.items():  # a setting the data does not bear out
        problems.append(
            Problem(
                ERROR,
                f"[columns.{spec.name}] maps '{header}' to {target}, but '{header}' is not a "
                f"header of {raw.sheet or raw.file}; its headers are {headers}",
                raw.file,
                raw.sheet,
                1,
            )
        )
    missing = [
        c
        for c in spec.columns
        if c.required and c.name not in present and c.name not in raw.unmapped
    ]
    for col in missing:
        guess = difflib.get_close_matches(col.name, [h for h in present if h != ROW], n=1)
        hint = (
            f"; is '{raw.headers[guess[0]]}' meant? rename the header or map it in "
            f"[columns.{spec.name}] of evaltool.toml"
            if guess
            else "; add the column (header on row 1)"
        )
        problems.append(
            Problem(
                ERROR,
                f"required column '{col.name}' is missing" + hint,
                raw.file,
                raw.sheet,
                1,
                col.name,
                "",
                f"a column headed {col.name}",
            )
        )
    typed = pd.DataFrame({ROW: frame[ROW]})
    codes: dict[str, np.ndarray] = {}
    for col in spec.columns:
        if col.name not in present:
            continue
        if col.type != TEXT:  # an Excel error is no blank (free text is never counted)
            problems += raw.unreadable.get(col.name, [])
        result = convert(frame[col.name], col, col.name in spec.unique, raw.date1904)
        problems += cell_problems(raw, col.name, result.bad, result.reason, col.expected())
        if result.reduced is not None and result.reduced.any():
            problems.append(reduced_note(raw, col.name, int(result.reduced.sum())))
            # the full dates are not kept, in the table as read either
            raw.frame = frame = frame.assign(
                **{col.name: frame[col.name].astype(object).mask(result.reduced, result.values)}
            )
        late = pd.Series(False, index=frame.index)
        if col.type == DATE and latest is not None:
            late = (result.values > pd.Timestamp(latest.day)).fillna(False).astype(bool)
            if late.any():
                problems += cell_problems(
                    raw, col.name, late, f"date after {latest.describe()}", col.expected()
                )
                result.values = result.values.mask(late)
        if col.required:  # a date already reported as too late is not also missing
            blank = result.values.isna() & ~result.bad & ~late
            problems += cell_problems(raw, col.name, blank, "missing value", col.expected())
        typed[col.name] = result.values
        if result.codes is not None:
            codes[col.name] = result.codes
    # extra columns are kept, as read: Python objects, from a CSV file as from a workbook;
    # added at once (one at a time, a wide export's 150 made a PerformanceWarning each)
    extras = {
        extra: frame[extra].astype(object) if is_arrow_text(frame[extra]) else frame[extra]
        for extra in frame.columns
        if extra not in typed.columns
    }
    if extras:
        typed = pd.concat([typed, pd.DataFrame(extras, index=typed.index)], axis=1)
    if spec.unique and all(c in typed for c in spec.unique):
        dup = duplicated_keys(typed, list(spec.unique), codes)
        if dup.any():
            first_row = typed[dup].groupby(list(spec.unique), sort=False)[ROW].transform("min")
            message = (
                "duplicate " + " + ".join(spec.unique) + ": also on row " + first_row.astype(str)
            ).where(typed.loc[dup, ROW] != first_row, "duplicate " + " + ".join(spec.unique))
            problems += cell_problems(
                raw,
                spec.unique[-1],
                dup,
                message.reindex(typed.index),
                "each " + " + ".join(spec.unique) + " once",
            )
    for earlier, later in spec.date_order:
        if earlier in typed and later in typed:
            wrong = (typed[later] < typed[earlier]).fillna(False).astype(bool)
            if wrong.any():  # format only the flagged dates
                shown = typed.loc[wrong, later].dt.strftime("%d/%m/%Y").reindex(typed.index)
                problems += cell_problems(
                    raw,
                    later,
                    wrong,
                    f"{later} is before {earlier}",
                    f"a date on or after {earlier}",
                    values=shown,
                )
    return typed, problems


def among(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)``, with the hash table built on the smaller side: a national
    clients file has millions of ids, a table linked to it thousands, and hashing the millions
    for each look-up took seconds. The pool is first cut to the ids among ``values`` (one pass
    over it, hashing only ``values``), which gives the same answer, blanks included."""
    if len(pool) > 2 * len(values):
        pool = pool[pool.isin(values).to_numpy(dtype=bool)]
    return values.isin(pool).to_numpy(dtype=bool)


class ClientIds:
    """The clients' ids, for every table that links to them (a national clients file has
    millions: hashing them for each table, and writing each as text for the leading-zeros
    hint, took over a minute). ``wanted``: the ids the linked tables hold, looked up in one
    pass over the clients' ids; any other value is looked up when asked."""

    def __init__(self, ids: pd.Series, wanted: list[pd.Series] = ()) -> None:
        self.ids = ids.dropna().astype(object)
        self.asked = pd.Series([], dtype=object)
        self.found = pd.Series([], dtype=object)
        if wanted:
            self._look_up(pd.concat([w.dropna().astype(object) for w in wanted]).unique())

    def _look_up(self, values: np.ndarray) -> None:
        asked = pd.Series(values, dtype=object)
        hit = among(asked, self.ids)
        self.asked = pd.concat([self.asked, asked], ignore_index=True)
        self.found = pd.concat([self.found, asked[hit]], ignore_index=True)

    def contain(self, values: pd.Series) -> np.ndarray:
        """Which values are ids of clients."""
        values = values.astype(object)
        new = ~values.isin(self.asked).to_numpy(dtype=bool) & values.notna().to_numpy(dtype=bool)
        if new.any():
            self._look_up(values[new].unique())
        return values.isin(self.found).to_numpy(dtype=bool)

    def may_have_lost_zeros(self, ids: pd.Series) -> bool:
        """Whether some of ``ids``, padded with zeros to the length of some client id, is one
        (if none is, the hint below cannot apply, whatever the most common length)."""
        lengths = self.lengths
        candidates = [
            text.zfill(int(n)) for text in ids.unique() for n in lengths[lengths > len(text)]
        ]
        return bool(candidates) and bool(self.contain(pd.Series(candidates, dtype=object)).any())

    @cached_property
    def lengths(self) -> np.ndarray:
        """The lengths an id has, as text."""
        return np.unique(np.fromiter(map(len, map(str, self.ids.to_numpy())), dtype=np.int64))

    @cached_property
    def width(self) -> int:
        """The most common length of an id as text (the hint pads lost zeros back to it)."""
        index = pd.Index(self.ids.to_numpy())
        widths = index.unique().astype(str).str.len().value_counts()
        return int(widths.index[0]) if len(widths) else 0


def check_client_links(
    raw: RawTable, typed: pd.DataFrame, client_ids: ClientIds | pd.Series
) -> list[Problem]:
    if "client_id" not in typed:
        return []
    if not isinstance(client_ids, ClientIds):
        client_ids = ClientIds(client_ids)
    column = typed["client_id"]
    unknown = pd.Series(column.notna().to_numpy() & ~client_ids.contain(column), index=typed.index)
    message: str | pd.Series = "client_id not found in the clients table"
    ids = column[unknown].astype(str)
    # ids that lost their leading zeros on the way (a number column)
    if unknown.any() and client_ids.may_have_lost_zeros(ids):
        width = client_ids.width
        padded = ids.str.zfill(width)
        lost = pd.Series(client_ids.contain(padded), index=ids.index) & (padded != ids)
        if lost.any():
            message = pd.Series("client_id not found in the clients table", index=typed.index)
            message[lost[lost].index] = (
                f"client_id not found in clients, but it is once its leading zeros are restored "
                f"(as {width} digits): this file lost them; format the column as Text and "
                "export again"
            )
    return cell_problems(raw, "client_id", unknown, message, "a client_id listed in clients")


@dataclass(frozen=True)
class Latest:
    """The last day a date in the data may fall on: the extract date, or else today."""

    day: dt.date
    is_extract: bool = False

    def describe(self) -> str:
        when = self.day.strftime("%d/%m/%Y")
        if self.is_extract:
            return f"the extract date ({when}): data cannot be later than its extract"
        return f"today ({when}): a date in the future; check the year"


def validate_source(
    source: Source,
    specs: list[TableSpec],
    required_tables: dict[str, str] | None = None,
    other_tables: set[str] | frozenset[str] = frozenset(),
    latest: Latest | None = None,
) -> tuple[Dataset, ProblemList]:
    """Check every table named by ``specs``; ``required_tables`` maps a table to why it is needed.

    ``other_tables`` are tables known to installed instruments that this run does not use: they
    are skipped quietly; any other sheet gets a warning.
    """
    report = ProblemList(list(source.problems))
    where = source.path.name
    tables: dict[str, pd.DataFrame] = {}
    checked: dict[str, TableSpec] = {}
    needed = dict(required_tables or {})
    for spec in specs:
        if spec.required:
            needed.setdefault(spec.name, "it is required")
    for spec in specs:
        raw = source.tables.get(spec.name)
        if spec.name in source.unread:
            report.add(source.unread[spec.name])
        if raw is None:
            if spec.name in needed and spec.name not in source.unread:
                report.add(
                    Problem(
                        ERROR,
                        f"no '{spec.name}' table: {needed[spec.name]}; add a sheet (or "
                        f"{spec.name}.csv) named '{spec.name}' with the contract's headers",
                        file=where,
                        sheet=spec.name,
                        expected=f"a table named {spec.name}",
                    )
                )
            continue
        typed, problems = check_table(raw, spec, latest)
        report.extend(problems)
        tables[spec.name] = typed
        checked[spec.name] = spec
    clients = tables.get("clients")
    if clients is not None and "client_id" in clients:
        linked = [
            tables[s.name]["client_id"]
            for s in specs
            if s.client_linked and s.name in tables and "client_id" in tables[s.name]
        ]
        ids = ClientIds(clients["client_id"], linked)
        for spec in specs:
            if spec.client_linked and spec.name in tables:
                report.extend(check_client_links(source.tables[spec.name], tables[spec.name], ids))
    known = {s.name for s in specs} | IGNORED_SHEETS | set(other_tables)
    for name, raw in source.tables.items():
        if name not in known:
            report.add(
                Problem(
                    WARNING,
                    f"sheet '{raw.sheet or raw.file}' is not a table evaltool uses; ignored",
                    file=raw.file,
                    sheet=raw.sheet,
                )
            )
    return Dataset(tables, source, dict(source.tables), checked), report

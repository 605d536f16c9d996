"""Table specifications: the columns, keys and rules of one table of the data contract."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evaltool.data.columns import Column

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class TableSpec:
    """What a table must hold. Instruments declare theirs; the core declares clients/proceedings."""

    name: str
    columns: tuple[Column, ...]
    description: str = ""
    unique: tuple[str, ...] = ()  # columns that together identify a row
    client_linked: bool = True  # client_id must exist in clients
    date_order: tuple[tuple[str, str], ...] = ()  # (earlier, later) pairs
    required: bool = False  # the table must be present for the run
    time_column: str | None = None  # the date that places a row in time (a reading's date)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def handed_over(frame: pd.DataFrame, spec: TableSpec, end: dt.date | None) -> pd.DataFrame:
    """An instrument's table as its methods receive it: every column of its spec there (an
    optional column the file lacks, blank throughout) and nothing dated after ``end``."""
    import pandas as pd

    from evaltool.data.columns import DATE, INTEGER, NUMBER, YESNO

    missing = [c for c in spec.columns if c.name not in frame]
    if missing:
        dtypes = {DATE: "datetime64[ns]", INTEGER: "Int64", NUMBER: "Float64", YESNO: "boolean"}
        frame = frame.assign(
            **{
                c.name: pd.Series(pd.NA, index=frame.index, dtype=dtypes.get(c.type, object))
                for c in missing
            }
        )
    return up_to(frame, spec, end)


def up_to(frame: pd.DataFrame, spec: TableSpec, end: dt.date | None) -> pd.DataFrame:
    """Rows dated on or before ``end`` by the spec's time column (all rows if it has none)."""
    if end is None or spec.time_column is None or spec.time_column not in frame:
        return frame
    return until(frame, spec.time_column, end)


def as_at(frame: pd.DataFrame, spec: TableSpec, end: dt.date) -> pd.DataFrame:
    """The table as an extract made at the end of ``end`` would have held it: a row dated
    after it by the spec's time column did not exist yet; any other date after it had not
    happened yet (blank: not started, still open, not concluded, not born), and neither had
    a value recorded with such a date (``Column.dated_by``: a closure reason, an outcome:
    blank, or what it was until then, ``Column.pending``)."""
    import pandas as pd

    from evaltool.data.columns import DATE

    frame = up_to(frame, spec, end)
    limit = pd.Timestamp(end)
    later = {
        c.name: (frame[c.name] > limit).fillna(False).to_numpy(dtype=bool)
        for c in spec.columns
        if c.type == DATE and c.name in frame and c.name != spec.time_column
    }
    later = {name: mask for name, mask in later.items() if mask.any()}
    if not later:
        return frame
    frame = frame.copy()
    for c in spec.columns:
        if c.name in later:
            frame[c.name] = frame[c.name].mask(later[c.name])
        if c.dated_by in later and c.name in frame:
            before = pd.NA if c.pending is None else c.pending
            frame[c.name] = frame[c.name].mask(later[c.dated_by], before)
    return frame


def in_window(dates: pd.Series, start: dt.date | None, end: dt.date) -> pd.Series:
    """Dates inside [start, end]; ``start`` None means from the beginning."""
    import pandas as pd

    mask = dates <= pd.Timestamp(end)
    if start is not None:
        mask &= dates >= pd.Timestamp(start)
    return mask.fillna(False).astype(bool)


def until(data: pd.DataFrame, column: str, end: dt.date | None) -> pd.DataFrame:
    """Rows of ``data`` dated on or before ``end`` (blank dates dropped); ``data`` itself
    when no row is cut."""
    if end is None:
        return data
    mask = in_window(data[column], None, end)
    return data if bool(mask.all()) else data[mask]

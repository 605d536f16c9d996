"""Table specifications: the columns, keys and rules of one table of the data contract."""

from __future__ import annotations

from dataclasses import dataclass

from evaltool.data.columns import Column


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


def up_to(frame: object, spec: TableSpec, end: object) -> object:
    """Rows dated on or before ``end`` by the spec's time column (all rows if it has none);
    the frame itself when no row is cut (``scoring.until``)."""
    from evaltool.instruments.kit import until

    if end is None or spec.time_column is None or spec.time_column not in frame:  # type: ignore
        return frame
    return until(frame, spec.time_column, end)  # type: ignore[arg-type]

"""Table specifications: the columns, keys and rules of one table of the data contract."""

from __future__ import annotations

from dataclasses import dataclass, field

from evaltool.columns import Column


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

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass
class Table:
    """A table as read and typed. ``rows`` holds the spreadsheet row number of each row."""

    name: str
    data: object  # pandas.DataFrame; typed columns, extra columns kept as text
    file: str
    sheet: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # contract name -> header as written
    letters: dict[str, str] = field(default_factory=dict)  # contract name -> column letter

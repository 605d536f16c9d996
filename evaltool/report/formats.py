"""How each figure of a table is printed, the same in every output format: the number format of
each column, and every number rounded to what that format prints (so the file holds what the
reader sees, and a mean's sixteen digits cannot give back the number of people behind it)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from evaltool.instruments.results import SummaryTable

P_VALUE = '[<0.001]"<0.001";0.000'


def formats_for(table: SummaryTable) -> dict[str, str]:
    """Number formats: the table's own, then shares, counts, p-values and plain decimals."""
    out: dict[str, str] = {}
    for col in table.data.columns:
        if col in table.formats:
            out[col] = table.formats[col]
        elif col in table.percent:
            out[col] = "0.0%"
        elif col in table.counts:
            out[col] = "#,##0"
        elif col == "p" or col.startswith("p ("):
            out[col] = P_VALUE
        elif pd.api.types.is_float_dtype(table.data[col]):
            out[col] = "0.00"
    return out


def printed_value(value: Any, fmt: str | None) -> Any:
    """A number rounded to the precision its format prints: the file holds what the reader
    sees, so a mean's sixteen digits cannot give back the number of people behind it."""
    if not isinstance(value, float) or math.isnan(value) or not fmt:
        return value
    number = fmt.split(";")[-1]
    decimals = len(number.split(".")[1].rstrip("%")) if "." in number else 0
    if number.endswith("%"):
        decimals += 2
    return round(value, decimals)

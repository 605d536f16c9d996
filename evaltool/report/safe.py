"""Make values safe to put in a spreadsheet cell.

Text that came from input is always written as text, never as a formula: openpyxl turns a string
starting with ``=`` into a formula, and OWASP lists ``+ - @``, tab, CR and LF as leading
characters that spreadsheet programs may also execute. Control characters are removed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import numpy as np
import pandas as pd

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def clean_text(value: str) -> str:
    """Remove control characters; keep ordinary line breaks inside the text."""
    return _CONTROL.sub("", value)


def is_risky(text: str) -> bool:
    """Would a spreadsheet program read this text as a formula?"""
    return text.startswith(FORMULA_STARTS)


def cell_value(value: Any) -> Any:
    """A plain Python value for a cell: numbers, dates, text; NaN/NA become None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().date() if value == value.normalize() else value.to_pydatetime()
    if isinstance(value, str | int | float | bool | dt.date | dt.datetime):
        return clean_text(value) if isinstance(value, str) else value
    return clean_text(str(value))

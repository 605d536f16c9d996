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


#: the symbols a return prints for the canonical ones the tables hold (disclosure.py):
#: "gss" the bracketed symbols of the Government Analysis Function's 2022 guidance, "dfe" the
#: shorthand of DfE's statistics (c, z, :) for funders that ask for it
SYMBOL_PROFILES: dict[str, dict[str, str]] = {
    "gss": {"c": "[c]", "z": "[z]", ":": "[x]", "r": "[r]"},
    "dfe": {"c": "c", "z": "z", ":": ":", "r": "[r]"},
}
#: what each symbol means: one meaning each, in every profile
SYMBOL_MEANINGS = {
    "c": "confidential: a count from 1 to the small-number threshold, or a figure hidden so "
    "that none can be worked out (it may be any value, 0 included)",
    "z": "not applicable (for example a share of nobody, or a figure of a group with no one in it)",
    ":": "not available (no data to work the figure out from)",
    "r": "revised: a figure that differs from an earlier return (the note under its table "
    "gives the value sent before)",
}


def shown_symbol(value: Any, profile: str) -> Any:
    """A table cell as the profile prints it: a canonical symbol becomes the profile's."""
    if isinstance(value, str):
        return SYMBOL_PROFILES[profile].get(value, value) if value in ("c", "z", ":") else value
    return value


def symbol_key(profile: str, shared: bool = False) -> list[tuple[str, str]]:
    """The key to the symbols of a profile, for the Notes sheet, the board page and the JSON;
    ``shared``: of an output that hides nothing, so has no hidden figure and no bound."""
    symbols = SYMBOL_PROFILES[profile]
    key = [(symbols[k], meaning) for k, meaning in SYMBOL_MEANINGS.items()] + [
        ("0", "a true zero"),
        (BOUND_SYMBOL, BOUND_MEANING),
        (RANGE_SYMBOL, RANGE_MEANING),
    ]
    hidden = (symbols["c"], BOUND_SYMBOL, RANGE_SYMBOL)
    return [(s, m) for s, m in key if not shared or s not in hidden]


def hiding_words(keep: int) -> str:
    """How far a hidden count is protected, in the words of "any figure from which one could
    be ...": ``keep`` is the setting ``protection_values`` (the fewest values a reader may
    narrow a hidden count to)."""
    return (
        "worked out"
        if keep <= 2
        else f"worked out, or narrowed to fewer than {keep} possible values"
    )


#: a share printed as a bound in place of its hidden value (``disclosure.band_text``)
BOUND_SYMBOL = "at most 20%, at least 60%"
BOUND_MEANING = (
    "a share shown as a bound (in steps of 5%): its exact value would give a small count "
    "away; the bound is true, and leaves at least threshold + 1 possible counts"
)
#: a hidden count printed as the range of tens it is in (``disclosure.range_text``)
RANGE_SYMBOL = "0 to 9, 10 to 19"
RANGE_MEANING = (
    "a count shown as the range of whole tens it is in: its exact value would give a small "
    "count away; the range is true (0 to 9 may be 0)"
)

"""Column specifications and whole-column type conversion.

Every converter takes the raw column as read (text from CSV; text, numbers or datetimes from
Excel) and returns the typed values plus a mask of cells that could not be converted, with the
reason. No converter loops over rows in Python: everything is a vectorised pandas operation.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TEXT, ID, DATE, INTEGER, NUMBER, YESNO, CATEGORY = (
    "text",
    "id",
    "date",
    "integer",
    "number",
    "yesno",
    "category",
)

YES = ("yes", "y", "true", "t", "1", "1.0")
NO = ("no", "n", "false", "f", "0", "0.0")

_ARROW_TEXT = pd.StringDtype("pyarrow")

#: Excel's day zero (serial 1 = 1900-01-01, with Excel's phantom 29 Feb 1900 before March 1900).
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: 1904 date system (old Mac Excel): serial 0 is 1 January 1904
EXCEL_EPOCH_1904 = pd.Timestamp("1904-01-01")
#: no service event in the data contract is earlier: a year typed as a date (2025 -> 1905) is
FIRST_DATE = pd.Timestamp("1990-01-01")
LAST_DATE = pd.Timestamp("2099-12-31")


@dataclass(frozen=True)
class Column:
    """One column of a table in the data contract."""

    name: str
    type: str = TEXT
    required: bool = False  # the column must be present and every value filled in
    choices: tuple[str, ...] | None = None  # closed list of codes (CATEGORY)
    #: a service's own labels for the codes, from the settings' [codes.<column>]
    aliases: tuple[tuple[str, str], ...] = ()
    min: float | None = None
    max: float | None = None
    description: str = ""
    #: the date column that records when this value became known (a closure reason is
    #: recorded with the end date): as at a day before that date, the value was ``pending``
    dated_by: str | None = None
    pending: str | None = None  # blank unless said (a pregnancy's outcome: "ongoing")

    def expected(self) -> str:
        """How a user should write a value in this column."""
        if self.type == DATE:
            return "a date: dd/mm/yyyy, yyyy-mm-dd or a spreadsheet date"
        if self.type == YESNO:
            return "yes or no (also y/n, true/false, 1/0)"
        if self.type == CATEGORY and self.choices:
            return "one of: " + ", ".join(self.choices)
        if self.type in (INTEGER, NUMBER):
            kind = "a whole number" if self.type == INTEGER else "a number"
            if self.min is not None and self.max is not None:
                return f"{kind} from {_fmt(self.min)} to {_fmt(self.max)}"
            if self.min is not None:
                return f"{kind} of at least {_fmt(self.min)}"
            return kind
        if self.type == ID:
            return "an id (text)"
        return "text"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass
class Converted:
    """Result of converting one column: typed values and the cells that failed, with reasons."""

    values: pd.Series
    bad: pd.Series  # boolean mask: non-blank cells that could not be converted
    reason: pd.Series  # text reason per bad cell (only read where bad)
    #: from convert(..., coded=True): an integer per cell, the same for equal typed values,
    #: -1 for none
    codes: np.ndarray | None = None
    #: a year column: the cells that held a full date, read as its year (said once, a note)
    reduced: pd.Series | None = None


def as_text(raw: pd.Series) -> pd.Series:
    """Trimmed text (dtype ``string``) with blanks as <NA>. Whole-number floats from Excel lose
    their '.0'.

    The work is done by Arrow's compute kernels (a fraction of a millisecond a column, where
    pandas' string methods take a millisecond or more each); the result is held as Python
    strings, as evaltool's typed text always is: pandas' ``isin`` on Arrow-backed text is slow
    for long lists of values."""
    return pd.Series(pd.arrays.ArrowStringArray(_text_array(raw)), index=raw.index).astype("string")


def _text_array(raw: pd.Series) -> pa.Array:
    """``as_text`` as Arrow text (before Python strings are made of it)."""
    text = raw if is_arrow_text(raw) else raw.astype(_ARROW_TEXT)  # str() of numbers, dates
    arr = pc.utf8_trim_whitespace(pa.array(text.array))
    if pc.any(pc.ends_with(arr, ".0")).as_py():  # the regex only where it can apply
        arr = pc.replace_substring_regex(arr, pattern=r"^(-?\d+)\.0$", replacement=r"\1")
    blank = pc.or_kleene(pc.equal(arr, ""), pc.is_in(pc.utf8_lower(arr), value_set=_BLANKS))
    return pc.if_else(blank, pa.scalar(None, arr.type), arr)


#: cells that mean "nothing here" once lower-cased, as spreadsheets and exports write them
_BLANKS = pa.array(["nan", "nat", "none"])


def distinct_values(raw: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``pd.factorize`` of a column as read: a code per cell (-1 for a missing cell) and the
    distinct values. Text read from CSV (Arrow-backed) is encoded by Arrow and stays Arrow
    text, without a Python string per cell; cells read from a workbook are Python objects."""
    if is_arrow_text(raw):
        codes, uniques = pd.factorize(raw.array)
        return codes, pd.Series(uniques)
    codes, uniques = pd.factorize(raw.to_numpy(dtype=object))
    return codes, pd.Series(uniques, dtype=object)


def is_arrow_text(column: pd.Series) -> bool:
    """Text held by Arrow (``string[pyarrow]``), as the CSV reader hands it over."""
    return isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow"


def convert(
    raw: pd.Series, column: Column, coded: bool = False, date1904: bool = False
) -> Converted:
    """Convert a raw column to the column's type; ``coded``: also hand back ``codes`` (for a
    key column); ``date1904``: serial numbers count from 1904 (the workbook says so).

    The work is done once per distinct value (``pd.factorize``, in C) and mapped back: a
    national date column has a million rows but a few thousand distinct dates.
    """
    codes, uniques = distinct_values(raw)
    # a blank goes last among the distinct values: a missing cell's code, -1, picks it
    blank = pd.Series([None], dtype=uniques.dtype)
    arr = _text_array(pd.concat([uniques, blank], ignore_index=True))
    text = pd.Series(pd.arrays.ArrowStringArray(arr)).astype("string")
    distinct = (
        parse_dates(text, EXCEL_EPOCH_1904 if date1904 else EXCEL_EPOCH)
        if column.type == DATE
        else _CONVERTERS[column.type](text, column)
    )

    def spread(series: pd.Series) -> pd.Series:
        return pd.Series(series.array.take(codes), index=raw.index)

    values = spread(distinct.values)
    if not distinct.bad.any():  # the usual case: nothing to report, nothing more to spread
        result = _no_problems(values)
    else:
        result = Converted(values, spread(distinct.bad.astype(bool)), spread(distinct.reason))
    if distinct.reduced is not None:
        result.reduced = spread(distinct.reduced.astype(bool))
    if coded:
        # '07/01/2026' and '2026-01-07' are two raw values but one date: code the typed values
        result.codes = _typed_codes(distinct.values, codes, arr, uniques, column)
    return result


def _typed_codes(
    values: pd.Series, codes: np.ndarray, arr: pa.Array, uniques: pd.Series, column: Column
) -> np.ndarray:
    """The code of each cell's typed value (``codes``: of its raw value; ``values``: the typed
    distinct raw values, the blank last; ``arr``: those as Arrow text). Text is coded by Arrow,
    not as millions of Python strings (a national clients file's ids); when no raw value was
    changed by reading it as text (trimmed, emptied), the raw codes are those of the text."""
    if column.type not in (TEXT, ID):
        return pd.factorize(values)[0][codes]
    if is_arrow_text(uniques) and arr.null_count == 1:
        same = pc.equal(arr.slice(0, len(uniques)), pa.array(uniques.array))
        if pc.all(same).as_py():
            return codes
    return pd.factorize(pd.arrays.ArrowStringArray(arr))[0][codes]


def _no_problems(values: pd.Series) -> Converted:
    false = pd.Series(False, index=values.index)
    return Converted(values, false, pd.Series("", index=values.index, dtype="string"))


def _text(text: pd.Series, column: Column) -> Converted:
    return _no_problems(text)


def normal_code(text: pd.Series) -> pd.Series:
    """Case, surrounding spaces and inner spaces or hyphens do not matter in a code."""
    return text.str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)


def _category(text: pd.Series, column: Column) -> Converted:
    """Codes only: nothing typed freely by staff passes (it could reach a funder's return).
    ``text`` holds a column's distinct values, so a suggestion per value is cheap."""
    import difflib

    codes = normal_code(text)
    if column.aliases:
        local = {k: v for k, v in column.aliases}
        codes = codes.map(lambda c: local.get(c, c), na_action="ignore")
    if not column.choices:
        return _no_problems(codes)
    bad = (codes.notna() & ~codes.isin(column.choices)).fillna(False).astype(bool)
    reason = pd.Series("", index=text.index, dtype="string")
    label = column.name.replace("_", " ")
    for i in np.flatnonzero(bad.to_numpy()):
        value = str(codes.iloc[i])
        close = difflib.get_close_matches(value, column.choices, n=2, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        reason.iloc[i] = (
            f"not a {label} code{hint} (a local label can be mapped to a code in the "
            f'settings: [codes.{column.name}] "your label" = "{column.choices[0]}")'
        )
    return Converted(codes.mask(bad), bad, reason)


def _yesno(text: pd.Series, column: Column) -> Converted:
    low = text.str.lower()
    values = pd.Series(pd.NA, index=text.index, dtype="boolean")
    values[low.isin(YES).fillna(False).astype(bool)] = True
    values[low.isin(NO).fillna(False).astype(bool)] = False
    bad = (low.notna() & values.isna()).astype(bool)
    reason = pd.Series("not yes or no", index=text.index, dtype="string")
    return Converted(values, bad, reason)


def _numeric(text: pd.Series, column: Column) -> Converted:
    nums = pd.to_numeric(text.astype(object), errors="coerce").astype("float64")
    reason = pd.Series("not a number", index=text.index, dtype="string")
    bad = text.notna() & nums.isna()
    if column.type == INTEGER:
        frac = nums.notna() & (nums % 1 != 0)
        reason = reason.mask(frac, "not a whole number")
        bad |= frac
    if column.min is not None:
        low = nums < column.min
        reason = reason.mask(low, "below the lowest allowed value")
        bad |= low
    if column.max is not None:
        high = nums > column.max
        reason = reason.mask(high, "above the highest allowed value")
        bad |= high
    reduced = None
    if column.type == INTEGER and (column.min or 0) >= 1800 and (column.max or 0) <= 2200:
        # a year column: a date of birth typed or exported in full is read as its year only
        # (nothing more of it is kept), as the manager would otherwise add a column by hand
        parts = text.str.extract(rf"^(?:{_ISO}|{_UK})(?:[ T][\d:.]*)?$")
        year = pd.to_numeric(parts[0].fillna(parts[5]), errors="coerce")
        dated = (year.notna() & bad.fillna(False)).astype(bool)
        ok = dated & year.between(column.min, column.max)
        if ok.any():
            nums = nums.mask(ok, year)
            bad = bad & ~ok
            reduced = ok
        reason = reason.mask(dated & ~ok, f"a full date; {column.name} wants a year such as 1992")
    bad = bad.fillna(False).astype(bool)
    values = nums.mask(bad)
    values = values.astype("Int64") if column.type == INTEGER else values.astype("Float64")
    return Converted(values, bad, reason, reduced=reduced)


_ISO = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_ISO_TIME = r"\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
_UK = r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})"
_UK_SHORT = r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}"
_SERIAL = r"\d{1,7}(?:\.\d+)?"


def parse_dates(text: pd.Series, epoch: pd.Timestamp = EXCEL_EPOCH) -> Converted:
    """Parse ISO, UK day-first and Excel serial dates; never guess.

    Fast path: the two strict formats on the whole column (C speed). Regular expressions run
    only on the cells those leave, to read times and serials and to explain failures. Two-digit
    years are ambiguous and impossible dates (31/02/2026) are errors.
    """
    values = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    reason = pd.Series("not a date", index=text.index, dtype="string")
    filled = text.notna().astype(bool)
    s = text[filled]
    parsed = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    left = parsed.isna()
    for day_first in ("%d/%m/%Y", "%d.%m.%Y"):  # UK, and the dotted European form
        if left.any():
            parsed[left] = pd.to_datetime(s[left], format=day_first, errors="coerce")
            left = parsed.isna()
    if left.any():
        rest = s[left]
        timed = rest.str.fullmatch(_ISO_TIME).fillna(False).astype(bool)
        if timed.any():  # a spreadsheet date-time: the date part counts
            parsed[timed[timed].index] = pd.to_datetime(
                rest[timed].str.slice(0, 10).str.strip(), format="%Y-%m-%d", errors="coerce"
            )
        serial = rest.str.fullmatch(_SERIAL).fillna(False).astype(bool)
        if serial.any():
            days = np.floor(pd.to_numeric(rest[serial].astype(object)).astype("float64"))
            days = days.where(days <= 80_000, np.nan)  # beyond 2119: not a spreadsheet date
            parsed[serial[serial].index] = epoch + pd.to_timedelta(days, unit="D")
    values[filled] = parsed
    out_of_range = values.notna() & ((values < FIRST_DATE) | (values > LAST_DATE))
    bad = (filled & (values.isna() | out_of_range)).astype(bool)
    if bad.any():  # explain each failure; a small subset in real data
        b = text[bad]
        looks = (b.str.fullmatch(_ISO) | b.str.fullmatch(_UK)).fillna(False).astype(bool)
        reason[looks[looks].index] = "impossible date (no such day)"
        early = out_of_range & (values < FIRST_DATE)
        reason[early] = "before 1990: no service event is that early; check the year"
        serials = (values[early] - epoch).dt.days
        for i, n in serials[(serials >= 1900) & (serials <= 2099)].items():
            reason[i] = (  # 2025 typed into a date cell: Excel shows 17/07/1905
                f"{n} looks like a year typed into a date cell (a number counts days from 1900); "
                "type the whole date, dd/mm/yyyy"
            )
        reason[out_of_range & ~early] = "after 2099: check the year"
        serial = b.str.fullmatch(_SERIAL).fillna(False).astype(bool)
        reason[serial[serial].index] = "not a date in 1990-2099"
        year = b.str.fullmatch(r"(?:19|20)\d\d(?:\.0)?").fillna(False).astype(bool)
        reason[year[year].index] = (
            "this looks like a year, not a date (a number is read as a count of days since "
            "1900); type the whole date, dd/mm/yyyy"
        )
        short = b.str.fullmatch(_UK_SHORT).fillna(False).astype(bool)
        reason[short[short].index] = "ambiguous two-digit year: write the year in full, dd/mm/yyyy"
    return Converted(values.mask(bad), bad, reason)


def parse_day(value: object) -> dt.date | None:
    """One date as a person types it: yyyy-mm-dd, or day first as dd/mm/yyyy or dd.mm.yyyy
    (the forms the data accepts); None if it is none of them or no such day."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    iso, uk = re.fullmatch(_ISO, text), re.fullmatch(_UK, text)
    if iso:
        y, m, d = iso.groups()
    elif uk:
        d, m, y = uk.groups()
    else:
        return None
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError:
        return None


def _date(text: pd.Series, column: Column) -> Converted:
    return parse_dates(text)


_CONVERTERS = {
    TEXT: _text,
    ID: _text,
    DATE: _date,
    INTEGER: _numeric,
    NUMBER: _numeric,
    YESNO: _yesno,
    CATEGORY: _category,
}

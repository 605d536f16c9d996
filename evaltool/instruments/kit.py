"""The authoring kit: helpers instruments share (definition settings, windows, shares,
first and latest readings)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from evaltool.data.specs import in_window, until
from evaltool.errors import PluginError

__all__ = [
    "first_and_latest",
    "first_and_latest_positions",
    "first_and_latest_readings",
    "first_and_latest_rows",
    "in_window",
    "quartiles",
    "runs",
    "scale_bounds",
    "setting",
    "share",
    "ts",
    "until",
]


def setting(
    definition: dict[str, Any],
    key: str,
    kind: type | tuple[type, ...],
    default: Any = None,
    source: str = "",
) -> Any:
    """A definition value of the right type, or a PluginError naming the file and key."""
    if key not in definition:
        if default is None:
            raise PluginError(f"instrument definition {source}: missing '{key}'")
        return default
    value = definition[key]
    if kind in (float, (int, float)) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise PluginError(
            f"instrument definition {source}: '{key}' must be {_type_name(kind)}, got {value!r}"
        )
    return value


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {
        int: "a whole number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a table",
        bool: "true or false",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def ts(day: dt.date | None) -> pd.Timestamp | None:
    return pd.Timestamp(day) if day is not None else None


def runs(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end positions of the runs of equal values in a sorted ``group``."""
    new = np.ones(len(group), dtype=bool)
    new[1:] = group[1:] != group[:-1]
    starts = np.flatnonzero(new)
    return starts, np.append(starts[1:], len(group))[: len(starts)] - 1


def first_and_latest_positions(
    group: np.ndarray, time: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of the earliest and the latest row of each group (groups in code order, ties
    in row order: the sort is stable), and the number of rows per group."""
    order = np.lexsort((time, group))
    starts, ends = runs(group[order])
    return order[starts], order[ends], ends - starts + 1


def first_and_latest(
    data: pd.DataFrame, keys: list[str], date: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The earliest and the latest row per key, indexed by the key, in key order (ties broken
    by row order). See ``first_and_latest_rows`` for the faster positional form."""
    first, last, _ = first_and_latest_rows(data, keys, date)
    return first.set_index(keys), last.set_index(keys)


def first_and_latest_rows(
    data: pd.DataFrame, keys: list[str], date: str
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The earliest and the latest row per key, in key order (ties broken by row order), and
    the number of rows per key: row i of each describes the same key (a fresh 0..n-1 index).

    Keys become sorted integer codes and one stable numpy sort orders (key, date): several
    times faster than sorting and grouping the text ids themselves. Blank dates sort last.
    """
    group = np.zeros(len(data), dtype=np.int64)
    for key in keys:
        codes, uniques = pd.factorize(data[key], sort=True)
        group = group * (len(uniques) + 1) + codes  # rows with a blank key (-1) are dropped
    stamps = data[date].to_numpy(dtype="datetime64[ns]").view(np.int64).copy()
    stamps[stamps == np.iinfo(np.int64).min] = np.iinfo(np.int64).max  # NaT last
    rows = np.flatnonzero(data[keys].notna().all(axis=1).to_numpy())  # blank keys dropped
    first, last, count = first_and_latest_positions(group[rows], stamps[rows])
    return (
        data.take(rows[first]).reset_index(drop=True),
        data.take(rows[last]).reset_index(drop=True),
        count,
    )


def share(numerator: pd.Series | float, denominator: pd.Series | float) -> Any:
    """numerator / denominator, with NaN (not an error) where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            np.asarray(denominator) > 0,
            np.asarray(numerator, dtype=float) / np.asarray(denominator, dtype=float),
            np.nan,
        )


def quartiles(values: pd.Series) -> tuple[float, float, float]:
    if values.dropna().empty:
        return (np.nan, np.nan, np.nan)
    q = values.dropna().astype(float).quantile([0.25, 0.5, 0.75])
    return (float(q.iloc[0]), float(q.iloc[1]), float(q.iloc[2]))


def scale_bounds(definition: dict[str, Any], source: str) -> tuple[int, int]:
    scale = setting(definition, "scale", dict, source=source)
    lo = setting(scale, "min", int, source=f"{source} [scale]")
    hi = setting(scale, "max", int, source=f"{source} [scale]")
    if lo >= hi:
        raise PluginError(f"instrument definition {source}: scale.min must be below scale.max")
    return lo, hi


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and their values: a categorical's own (in category order), else factorized."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(dtype=np.int64), np.asarray(column.cat.categories)
    codes, uniques = pd.factorize(column)
    return codes, np.asarray(uniques)


#: the columns every readings table has; a long one adds ``measure`` and ``value``, a wide
#: one has a value column named after each measure instead
READING_KEYS = ("unit", "client_id", "date")


def first_and_latest_readings(readings: pd.DataFrame) -> pd.DataFrame:
    """First and latest reading, number of readings and days between, per (measure, unit).

    ``readings`` is long (``unit, client_id, measure, date, value``: one row per reading) or
    wide (``unit, client_id, date`` and one value column per measure: one row per
    assessment, blanks where a measure was not read). Either way it is a stable integer sort
    and group boundaries in numpy rather than a pandas sort and groupby over millions of
    rows; ties on a day keep the input order.
    """
    dates = readings["date"].to_numpy(dtype="datetime64[ns]")
    dated = ~np.isnat(dates)
    r = readings if dated.all() else readings[dated]
    dates = dates[dated] if len(r) < len(readings) else dates
    days = dates.astype("datetime64[D]").astype(np.int64)
    u_codes, units = _codes(r["unit"])
    if "measure" in r:
        measures, parts = _pair_long(r, u_codes, units, days)
    else:
        measures = [c for c in r.columns if c not in READING_KEYS]
        parts = _pair_wide(r, measures, u_codes, days)
    columns = (
        [np.concatenate(c) for c in zip(*parts, strict=True)]
        if parts
        else [np.empty(0, np.int64)] * 6
    )
    measure, first, last, first_value, last_value, count = columns
    return pd.DataFrame(
        {
            # a categorical: the per-measure selections that follow compare integer codes
            "measure": pd.Categorical.from_codes(measure, categories=measures),
            "unit": units[u_codes[first]],
            "client_id": r["client_id"].take(first).to_numpy(),
            "first_date": dates[first],
            "first": first_value.astype(float),
            "latest_date": dates[last],
            "latest": last_value.astype(float),
            "readings": count,
            "days": days[last] - days[first],
        }
    )


def _pair_long(
    r: pd.DataFrame, u_codes: np.ndarray, units: np.ndarray, days: np.ndarray
) -> tuple[np.ndarray, list[tuple[np.ndarray, ...]]]:
    """Measures, and the first/latest rows of each (measure, unit), from a long table."""
    values = r["value"].to_numpy(dtype=float)
    m_codes, measures = _codes(r["measure"])
    rows = np.flatnonzero(~np.isnan(values))
    group = m_codes.astype(np.int64) * (len(units) + 1) + u_codes  # (measure, unit)
    first, last, count = first_and_latest_positions(group[rows], days[rows])
    first, last = rows[first], rows[last]
    part = (m_codes[first], first, last, values[first], values[last], count)
    return measures, [part] if len(rows) else []


def _pair_wide(
    r: pd.DataFrame, measures: list[str], u_codes: np.ndarray, days: np.ndarray
) -> list[tuple[np.ndarray, ...]]:
    """The first/latest rows of each (measure, unit) from a wide table: one sort of the
    assessments by unit and day, then per measure only the rows where it was read."""
    order = np.lexsort((days, u_codes))  # stable: ties on a day keep input order
    parts = []
    for code, name in enumerate(measures):
        values = r[name].to_numpy(dtype=float, na_value=np.nan)
        rows = order[~np.isnan(values[order])]
        if not len(rows):
            continue
        starts, ends = runs(u_codes[rows])
        first, last = rows[starts], rows[ends]
        parts.append(
            (
                np.full(len(starts), code),
                first,
                last,
                values[first],
                values[last],
                ends - starts + 1,
            )
        )
    return parts

"""Checks of the optional areas table (data contract 1.1) beyond its columns' types: each
financial year written as 2019-20, and a service area's year of starting given."""

from __future__ import annotations

import pandas as pd

from evaltool.data.checking import Dataset, cell_problems
from evaltool.data.problems import Problem

FY = r"^\s*(\d{4})-(\d{2})\s*$"


def _bad_year(values: pd.Series) -> pd.Series:
    """Filled-in values that are not a financial year such as 2019-20."""
    text = values.astype("string")
    parts = text.str.extract(FY)
    first = pd.to_numeric(parts[0], errors="coerce")
    second = pd.to_numeric(parts[1], errors="coerce")
    good = ((first + 1) % 100 == second).fillna(False).astype(bool)
    return values.notna() & ~good


def area_problems(dataset: Dataset) -> list[Problem]:
    """Every financial year not written as 2019-20, and service areas with no service_from."""
    areas = dataset.tables.get("areas")
    if areas is None:
        return []
    table = dataset.raw["areas"]
    problems: list[Problem] = []
    expected = "a financial year written as 2019-20 (April 2019 to March 2020)"
    for column in ("financial_year", "service_from"):
        if column in areas:
            problems += cell_problems(
                table, column, _bad_year(areas[column]), "not a financial year", expected
            )
    if {"service_area", "service_from"} <= set(areas):
        missing = areas["service_area"].fillna(False).astype(bool) & areas["service_from"].isna()
        problems += cell_problems(
            table,
            "service_from",
            missing,
            "a service area with no year the service began",
            expected,
        )
    return problems

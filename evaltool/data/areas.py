"""Checks of the optional areas table (data contract 1.1) beyond its columns' types: each
financial year written as 2019-20, a service area's year of starting given, the births of every
area-year, one service flag and start per area, and a year before the start."""

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
    births = "live_births" if "live_births" in areas else "population"
    if births in areas:
        problems += cell_problems(
            table,
            births,
            areas[births].isna(),
            f"blank {births}: the area comparison needs the births of every area-year",
            "a whole number of at least 1",
        )
    if {"area", "service_area"} <= set(areas):
        flag = areas["service_area"].astype("boolean")
        usual = flag.groupby(areas["area"]).transform(
            lambda v: v.mode().iloc[0] if v.notna().any() else pd.NA
        )
        changes = flag.notna() & usual.notna() & (flag != usual).fillna(False).astype(bool)
        problems += cell_problems(
            table,
            "service_area",
            changes,
            "service_area changes from year to year in this area (the other rows of the area "
            "say otherwise)",
            "the same in every row of an area: yes if the service ever ran there; the year it "
            "began is service_from",
        )
    if {"area", "service_from", "financial_year"} <= set(areas):
        start = areas["service_from"].astype("string").str.strip()
        first = start.groupby(areas["area"]).transform(
            lambda v: v.dropna().iloc[0] if v.notna().any() else pd.NA
        )
        differs = start.notna() & (start != first).fillna(False).astype(bool)
        problems += cell_problems(
            table,
            "service_from",
            differs,
            "service_from differs between the rows of this area",
            "one financial year the service began, the same in every row of the area",
        )
        year = areas["financial_year"].astype("string").str.extract(FY)[0]
        began = start.str.extract(FY)[0]
        year_n, began_n = (
            pd.to_numeric(year, errors="coerce"),
            pd.to_numeric(began, errors="coerce"),
        )
        earliest = year_n.groupby(areas["area"]).transform("min")
        none_before = (
            began_n.notna() & earliest.notna() & (began_n <= earliest) & (year_n == earliest)
        )
        problems += cell_problems(
            table,
            "service_from",
            none_before,
            "no year before the service began in this area (its first row is the year it began)",
            "rows for the years before the service began, to compare with",
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

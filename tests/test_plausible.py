"""Values each in range but impossible together are errors, named by row, client and values
(issue 26: each of these changed figures of the return with no warning)."""

from __future__ import annotations

import openpyxl
import pytest

from evaltool.api import load
from evaltool.config import load_settings
from tests.conftest import EXAMPLE_CONFIG, get_cell, set_cells


def errors_at(path, sheet, row, column):
    report = load(path, load_settings(EXAMPLE_CONFIG)).problems
    return [p for p in report.errors if p.sheet == sheet and p.row == row and column in p.column]


@pytest.mark.parametrize("year", [2030, 2026, 1900, 2020])
def test_a_parent_aged_under_12_or_over_60_at_referral(example, year):
    referred = get_cell(example, "clients", 5, "referral_date")
    set_cells(example, "clients", {(5, "birth_year"): year})
    found = errors_at(example, "clients", 5, "birth_year")
    assert len(found) == 1, found
    age = referred.year - year
    assert f"aged {age} when referred" in found[0].message
    assert found[0].client == str(get_cell(example, "clients", 5, "client_id")).zfill(5)


def _child_row(path, unborn: bool | None = None) -> tuple[int, str]:
    """A row of children (and its client) whose client is in clients."""
    ws = openpyxl.load_workbook(path)["children"]
    header = [c.value for c in ws[1]]
    for r, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        values = dict(zip(header, row, strict=False))
        wanted = unborn is None or (values["unborn"] == "yes") == unborn
        if wanted and values["birth_date"] is not None:
            return r, values["client_id"]
    raise AssertionError("no such child")


def _client_row(path, client) -> int:
    ws = openpyxl.load_workbook(path)["clients"]
    for r, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        if str(row[0]) == str(client):
            return r
    raise AssertionError(client)


@pytest.mark.parametrize("gap", [-5, 0, 6])
def test_a_child_born_before_the_parent_or_in_her_childhood(example, gap):
    row, client = _child_row(example)
    born = get_cell(example, "children", row, "birth_date")
    set_cells(example, "clients", {(_client_row(example, client), "birth_year"): born.year - gap})
    found = errors_at(example, "children", row, "birth_date")
    assert len(found) == 1, found
    assert f"was aged {gap}" in found[0].message


def test_a_child_born_at_ten_or_later_is_accepted(example):
    row, client = _child_row(example)
    born = get_cell(example, "children", row, "birth_date")
    set_cells(example, "clients", {(_client_row(example, client), "birth_year"): born.year - 20})
    assert errors_at(example, "children", row, "birth_date") == []


@pytest.mark.parametrize("years_before", [1, 5])
def test_unborn_yes_for_a_child_born_before_the_proceedings(example, years_before):
    import datetime as dt

    row, _ = _child_row(example, unborn=False)
    born = get_cell(example, "children", row, "birth_date")
    assert errors_at(example, "children", row, "unborn") == []
    set_cells(example, "children", {(row, "unborn"): "yes"})
    set_cells(
        example, "children", {(row, "birth_date"): born - dt.timedelta(days=365 * years_before)}
    )
    found = errors_at(example, "children", row, "unborn")
    assert len(found) == 1, found
    assert "more than 40 weeks before they were issued on" in found[0].message

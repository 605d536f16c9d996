"""Shared fixtures: the example workbook, edited copies of it, and a CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "data" / "example-service.xlsx"
EXAMPLE_CONFIG = ROOT / "examples" / "evaltool.toml"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the example workbook."""
    return Path(shutil.copy(EXAMPLE, tmp_path / "service.xlsx"))


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def header_index(ws, name: str) -> int:
    for cell in ws[1]:
        if str(cell.value).strip().lower() == name:
            return cell.column
    raise KeyError(name)


def set_cells(path: Path, sheet: str, changes: dict[tuple[int, str], object]) -> None:
    """Change cells by (spreadsheet row, column header) and save."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    for (row, column), value in changes.items():
        ws.cell(row=row, column=header_index(ws, column), value=value)
    wb.save(path)


def get_cell(path: Path, sheet: str, row: int, column: str) -> object:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    return ws.cell(row=row, column=header_index(ws, column)).value


def all_cell_text(path: Path) -> list[str]:
    """Every non-empty cell of a workbook as text."""
    wb = openpyxl.load_workbook(path)
    return [
        str(c.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    ]

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
#: the instruments evaltool ships (instruments/*.toml)
BUILTIN = (
    "gas",
    "gbo",
    "recurrent-care-star",
    "service-feedback",
    "partner-access",
    "pregnancies",
    "contraception",
)


@pytest.fixture(autouse=True, scope="module")
def no_record_beside_the_example(tmp_path_factory: pytest.TempPathFactory):
    """Module fixtures run before the per-test record below: they too keep a record of their
    own, one per module, never one beside the example's settings (which every worker would
    share). Drafts are kept in it too and protect later drafts: with one record per session, a
    module's drafts would depend on which modules ran before it."""
    mp = pytest.MonkeyPatch()
    mp.setenv("EVALTOOL_RECORD", str(tmp_path_factory.mktemp("module") / "record.sqlite"))
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def private_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test keeps its own record of returns written (never one beside the example)."""
    path = tmp_path / "record.sqlite"
    monkeypatch.setenv("EVALTOOL_RECORD", str(path))
    return path


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


def workbook(tmp_path: Path, tables: dict[str, list[dict]], name: str = "data.xlsx") -> Path:
    """A small workbook from lists of row dicts (dates as dd/mm/yyyy text, as typed by hand)."""
    import pandas as pd

    from evaltool.synthetic import write_xlsx

    return write_xlsx({k: pd.DataFrame(v) for k, v in tables.items()}, tmp_path / name)


def clients_rows(ids, start="01/04/2024", end=None, referral="15/03/2024", **extra):
    """Client rows that all started on ``start``; ``extra`` adds columns (lists or scalars)."""
    rows = []
    for i, cid in enumerate(ids):
        row = {"client_id": cid, "referral_date": referral, "start_date": start, "end_date": end}
        for key, value in extra.items():
            row[key] = value[i] if isinstance(value, list) else value
        rows.append(row)
    return rows


def sheet_rows(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


def find_table(ws, title):
    """The header and data rows of the table titled ``title`` on a sheet."""
    rows = sheet_rows(ws)
    start = next(i for i, r in enumerate(rows[:-1]) if r[0] == title and rows[i + 1][0])
    header = rows[start + 1]
    body = []
    for r in rows[start + 2 :]:
        if r[0] is None or (len(r) > 1 and all(v is None for v in r[1:]) and r[0] != ""):
            break
        body.append(r)
    n = header.index(None) if None in header else len(header)  # chart data may sit beside
    import pandas as pd

    return pd.DataFrame([b[:n] for b in body], columns=header[:n])


def score_cli(runner, data, out, *extra, config=EXAMPLE_CONFIG, period="2025-Q4"):
    """Run ``evaltool score`` through the CLI (``config=None``: no settings file)."""
    from evaltool.cli import app

    args = ["score", str(data), "--period", period, "--out", str(out)]
    if config is not None:
        args += ["--config", str(config)]
    return runner.invoke(app, [*args, *(str(e) for e in extra)])


def bound_holds(text: object, value: float) -> bool:
    """Whether a share printed as a bound ("at most 20%", "at least 60%"), or a count printed
    as the range of tens it is in ("20 to 29"), is true of the value behind it; False for
    anything that is neither."""
    from evaltool.report.disclosure import BAND, RANGE

    r = RANGE.match(text) if isinstance(text, str) else None
    if r:
        return int(r.group(1)) <= value <= int(r.group(2))
    m = BAND.match(text) if isinstance(text, str) else None
    if not m:
        return False
    x = float(m.group(2)) / 100
    return value <= x + 1e-12 if m.group(1) == "most" else value >= x - 1e-12

"""Read a service's data: one .xlsx with a sheet per table, or a folder with a .csv per table.

Nothing is typed here: every cell is kept as read, with its spreadsheet row number (header = 1)
and column letter, so validation can point at the exact cell.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaltool.data.columns import distinct_values, is_arrow_text
from evaltool.data.problems import ERROR, Problem
from evaltool.errors import EvaltoolError

ROW = "_row"  # column holding the spreadsheet row number of each record


@dataclass
class RawTable:
    name: str  # normalised sheet/file name
    frame: pd.DataFrame  # columns: normalised headers (+ _row); values as read
    file: str
    sheet: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # normalised -> as written
    letters: dict[str, str] = field(default_factory=dict)  # normalised -> column letter
    #: cells read as blank that held an Excel error or an unsaved formula: header -> problems
    unreadable: dict[str, list[Problem]] = field(default_factory=dict)


@dataclass
class Source:
    """Everything read from one data path."""

    path: Path
    tables: dict[str, RawTable]
    hashes: dict[str, str]  # file name -> SHA-256
    problems: list[Problem] = field(default_factory=list)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def normalise(name: object) -> str:
    return str(name).strip().lower() if name is not None else ""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_source(
    path: Path, columns: dict[str, dict[str, str]] | None = None, engine: str = "calamine"
) -> Source:
    """Read an .xlsx workbook (``engine``: calamine or openpyxl) or a folder of .csv files;
    apply the column mapping."""
    path = Path(path)
    if not path.exists():
        raise EvaltoolError(f"{path} not found; give an .xlsx workbook or a folder of .csv files")
    if path.is_dir():
        source = _read_csv_folder(path)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        source = _read_workbook(path, engine)
    elif path.suffix.lower() == ".csv":
        raise EvaltoolError(
            f"{path} is a single CSV file; give the folder that holds clients.csv and the others"
        )
    else:
        raise EvaltoolError(
            f"{path} is not an .xlsx workbook or a folder of .csv files; "
            "save the workbook as .xlsx (Excel: File > Save As > Excel Workbook)"
        )
    for table in source.tables.values():
        _apply_mapping(table, (columns or {}).get(table.name, {}), source.problems)
    return source


def _frame_from_rows(
    rows: list, name: str, file: str, sheet: str, problems: list[Problem], header_row: int = 1
) -> RawTable | None:
    if not rows:
        return None
    header, body = list(rows[0]), rows[1:]
    frame = pd.DataFrame(body, dtype=object) if body else pd.DataFrame()
    width = max(len(header), frame.shape[1])
    header += [None] * (width - len(header))
    for i in range(frame.shape[1], width):
        frame[i] = None
    return _finish(frame, header, name, file, sheet, problems, header_row)


def _finish(
    frame: pd.DataFrame,
    header: list[object],
    name: str,
    file: str,
    sheet: str,
    problems: list[Problem],
    header_row: int = 1,
) -> RawTable | None:
    names = [normalise(h) for h in header]
    keep = [i for i, n in enumerate(names) if n]
    headers = {names[i]: str(header[i]).strip() for i in keep}
    letters = {names[i]: column_letter(i) for i in keep}
    seen: dict[str, int] = {}
    for i in keep:
        if names[i] in seen:
            problems.append(
                Problem(
                    ERROR,
                    "two columns have the same header; rename or delete one",
                    file=file,
                    sheet=sheet,
                    row=1,
                    column=column_letter(i),
                    value=str(header[i]).strip(),
                    expected="a unique header",
                )
            )
            continue  # the first of two same-named columns is read
        seen[names[i]] = i
    # one selection (copied only when a column is dropped), one filter (only if a row is blank)
    columns = list(seen.values())
    if not len(frame.columns):
        frame = pd.DataFrame(columns=columns)
    elif columns != list(range(frame.shape[1])):
        frame = frame.iloc[:, columns]
    frame.columns = list(seen)
    rows = np.arange(len(frame)) + header_row + 1
    blank = _blank_rows(frame)
    if blank.any():
        frame, rows = frame[~blank].reset_index(drop=True), rows[~blank]
    else:
        frame.index = pd.RangeIndex(len(frame))
    frame[ROW] = rows
    return RawTable(name, frame, file, sheet, headers, letters)


def _blank_rows(values: pd.DataFrame) -> np.ndarray:
    """Rows with nothing in any cell: column by column, only on the rows still blank so far."""
    blank = np.ones(len(values), dtype=bool)
    for col in values.columns:
        if not blank.any():
            break
        column = values[col]
        blank[blank] = _empty_cells(column if blank.all() else column[blank])
    return blank


def _empty_cells(column: pd.Series) -> np.ndarray:
    """Cells missing or holding only spaces. Text read from CSV is checked by Arrow's kernels;
    cells read from a workbook, once per distinct value (``pd.factorize``)."""
    if is_arrow_text(column):
        return column.str.strip().eq("").fillna(True).to_numpy(dtype=bool)
    codes, uniques = distinct_values(column)
    empty_unique = uniques.astype("string").str.strip().eq("").fillna(True)
    return np.append(empty_unique.to_numpy(dtype=bool), True)[codes]  # code -1 (NA): empty


#: Workbook readers. calamine (Rust, python-calamine) is the default: see benchmarks/run.py.
ENGINES = ("calamine", "openpyxl")


def _sheets_calamine(path: Path) -> Iterator[tuple[str, list[list[object]]]]:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    for title in wb.sheet_names:
        yield title, wb.get_sheet_by_name(title).to_python(skip_empty_area=False)


def _sheets_openpyxl(path: Path) -> Iterator[tuple[str, list[tuple[object, ...]]]]:
    import openpyxl  # defusedxml, when installed, makes openpyxl parse XML safely

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for ws in wb.worksheets:
            yield ws.title, list(ws.iter_rows(values_only=True))
    finally:
        wb.close()


def _read_workbook(path: Path, engine: str = "calamine") -> Source:
    if engine not in ENGINES:
        raise EvaltoolError(f"unknown workbook reader '{engine}'; use one of {', '.join(ENGINES)}")
    sheets = _sheets_calamine if engine == "calamine" else _sheets_openpyxl
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    try:
        for title, rows in sheets(path):
            skipped = 0
            while rows and all(v is None or str(v).strip() == "" for v in rows[0]):
                rows.pop(0)  # blank rows above the header: tolerated, and row numbers stay true
                skipped += 1
            if skipped and rows:
                problems.append(
                    Problem(
                        "warning",
                        f"{skipped} blank row(s) above the header row; the header "
                        "should be on row 1",
                        file=path.name,
                        sheet=title,
                        row=1,
                    )
                )
            table = _frame_from_rows(
                rows, normalise(title), path.name, title, problems, header_row=1 + skipped
            )
            if table is not None:
                tables[table.name] = table
    except EvaltoolError:
        raise
    except Exception as exc:  # zip errors, corrupt XML, encrypted or foreign files
        raise EvaltoolError(
            f"{path} could not be opened as an Excel workbook ({type(exc).__name__}: {exc}); "
            "open it in Excel and save it again as .xlsx"
        ) from None
    if engine == "calamine":  # calamine reads both as blank: a closure date would vanish
        by_sheet = {t.sheet: t for t in tables.values()}
        for problem in excel_error_cells(path):
            table = by_sheet.get(problem.sheet)
            if table is None:
                continue
            header = {v: k for k, v in table.letters.items()}.get(problem.column)
            if header is not None:  # checked where the column is used (validate)
                table.unreadable.setdefault(header, []).append(problem)
    return Source(path, tables, {path.name: sha256(path)}, problems)


_SHEET = re.compile(rb'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_TARGET = re.compile(rb'<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"')
_TARGET2 = re.compile(rb'<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"')
_ERROR_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?\bt="e"[^>]*>(?:.*?<v>([^<]*)</v>)?', re.S)
_NO_RESULT = re.compile(
    rb'<c r="([A-Z]+)(\d+)"[^>/]*>\s*<f\b[^>]*(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>'
)


def excel_error_cells(path: Path) -> list[Problem]:
    """Cells holding an Excel error (#N/A, #DIV/0!, ...) or a formula with no saved result,
    found in the sheets' XML (a quick byte search first: most workbooks have neither)."""
    import html
    import zipfile

    out: list[Problem] = []
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        book = z.read("xl/workbook.xml") if "xl/workbook.xml" in names else b""
        rels = (
            z.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
        )
        targets = {i: t for i, t in _TARGET.findall(rels)} | {
            i: t for t, i in _TARGET2.findall(rels)
        }
        for name, rid in _SHEET.findall(book):
            target = targets.get(rid, b"").decode()
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            if member not in names:
                continue
            xml = z.read(member)
            if b't="e"' not in xml and b"<f" not in xml:
                continue
            sheet = html.unescape(name.decode("utf-8"))
            for col, row, value in _ERROR_CELL.findall(xml):
                shown = value.decode() or "an error"
                out.append(
                    Problem(
                        "error",
                        f"the cell holds an Excel error ({shown}); fix the formula or type "
                        "the value",
                        file=path.name,
                        sheet=sheet,
                        row=int(row),
                        column=col.decode(),
                        value=shown,
                    )
                )
            for col, row in _NO_RESULT.findall(xml):
                out.append(
                    Problem(
                        "error",
                        "the cell holds a formula with no saved result (the file was written "
                        "by a program that does not calculate); open it in Excel and save it, "
                        "or type the value",
                        file=path.name,
                        sheet=sheet,
                        row=int(row),
                        column=col.decode(),
                    )
                )
    return out


def _read_csv_folder(path: Path) -> Source:
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    hashes: dict[str, str] = {}
    files = sorted(path.glob("*.csv")) + sorted(path.glob("*.CSV"))
    if not files:
        raise EvaltoolError(f"{path} holds no .csv files; expected clients.csv and the others")
    for file in files:
        hashes[file.name] = sha256(file)
        frame = _read_csv(file, problems)
        if frame is None or frame.empty:
            continue
        header = list(frame.iloc[0])
        body = frame.iloc[1:].copy(deep=False)  # a view of the rows: no copy of the data
        body.columns = range(body.shape[1])
        table = _finish(body, header, normalise(file.stem), file.name, "", problems)
        if table is not None:
            tables[table.name] = table
    return Source(path, tables, hashes, problems)


def _read_csv(file: Path, problems: list[Problem]) -> pd.DataFrame | None:
    """Every cell as text, the header row included as the first row."""
    from pyarrow import ArrowInvalid

    try:
        return _read_csv_arrow(file)
    except (ArrowInvalid, UnicodeDecodeError, StopIteration):
        pass  # not UTF-8, rows of uneven length, an empty file: pandas reads or explains it
    kwargs = dict(dtype=str, keep_default_na=False, header=None, skip_blank_lines=False)
    try:
        return pd.read_csv(file, encoding="utf-8-sig", **kwargs)
    except UnicodeDecodeError:
        problems.append(
            Problem(
                "warning",
                "file is not UTF-8; read as Windows-1252 (save as 'CSV UTF-8' to avoid this)",
                file=file.name,
            )
        )
        return pd.read_csv(file, encoding="cp1252", **kwargs)
    except pd.errors.EmptyDataError:
        return None
    except pd.errors.ParserError as exc:
        raise EvaltoolError(f"{file} could not be read as CSV: {exc}") from None


def _apply_mapping(table: RawTable, mapping: dict[str, str], problems: list[Problem]) -> None:
    """Rename an export's headers to contract names, as configured in [columns.<table>]."""
    if not mapping:
        return
    rename = {h: mapping[h] for h in table.frame.columns if h in mapping}
    for old, new in rename.items():
        if new in table.frame.columns and new not in rename:
            problems.append(
                Problem(
                    ERROR,
                    f"the column mapping renames '{table.headers[old]}' to '{new}', "
                    "but the sheet already has that column; remove one of them",
                    file=table.file,
                    sheet=table.sheet,
                    row=1,
                    column=table.letters[old],
                    value=table.headers[old],
                )
            )
    table.frame = table.frame.rename(columns=rename)
    table.headers = {rename.get(k, k): v for k, v in table.headers.items()}
    table.letters = {rename.get(k, k): v for k, v in table.letters.items()}


def _read_csv_arrow(file: Path) -> pd.DataFrame:
    """The fast reader (Arrow's, in C++ on every core) for a plain UTF-8 CSV: one record per
    row, every row as long as the header. Anything else raises: ``pyarrow.ArrowInvalid``,
    ``UnicodeDecodeError`` or, for an empty file, ``StopIteration``.

    Empty lines are not skipped (that would shift the row numbers errors point at): an empty
    line is read as a row of blanks. The text columns are Arrow-backed (``string[pyarrow]``).
    """
    import csv as text_csv

    import pyarrow as pa
    from pyarrow import csv

    with file.open(encoding="utf-8-sig", newline="") as fh:
        width = len(next(text_csv.reader(fh)))  # Arrow names the columns f0, f1, ...
    table = csv.read_csv(
        file,
        read_options=csv.ReadOptions(autogenerate_column_names=True),
        parse_options=csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
        convert_options=csv.ConvertOptions(
            column_types={f"f{i}": pa.string() for i in range(width)},  # all text
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)

"""Read a service's data: one .xlsx with a sheet per table, or a folder with a .csv per table.

Nothing is typed here: every cell is kept as read, with its spreadsheet row number (header = 1)
and column letter, so validation can point at the exact cell.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaltool.data.columns import distinct_values, is_arrow_text
from evaltool.data.problems import ERROR, WARNING, Problem, shown, visible
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
    #: the workbook counts its date serials from 1904 (old Mac Excel), not 1900
    date1904: bool = False
    #: contract column -> the header the settings map to it, which the sheet does not have
    unmapped: dict[str, str] = field(default_factory=dict)


@dataclass
class Source:
    """Everything read from one data path."""

    path: Path
    tables: dict[str, RawTable]
    hashes: dict[str, str]  # file name -> SHA-256
    problems: list[Problem] = field(default_factory=list)
    #: tables found but not read, and why (title rows, another delimiter, a runaway quote):
    #: reported only for a table the run uses, and never again as missing
    unread: dict[str, Problem] = field(default_factory=dict)


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
    return _digest(path)[0]


def _digest(path: Path) -> tuple[str, bool]:
    """The file's SHA-256 and whether it holds a NUL byte anywhere (found in the same pass,
    at no cost worth measuring: a search for one byte beside the hash)."""
    digest = hashlib.sha256()
    nul = False
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            nul = nul or b"\x00" in chunk
    return digest.hexdigest(), nul


def read_source(
    path: Path,
    columns: dict[str, dict[str, str]] | None = None,
    engine: str = "calamine",
    tables: dict[str, str] | None = None,
) -> Source:
    """Read an .xlsx workbook (``engine``: calamine or openpyxl) or a folder of .csv files;
    apply the table mapping (sheet or file name -> table, ``tables``) and the column mapping."""
    path = Path(path)
    if not path.exists():
        raise EvaltoolError(f"{path} not found; give an .xlsx workbook or a folder of .csv files")
    if path.is_dir():
        source = _read_csv_folder(path)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        if path.stat().st_size == 0:
            raise EvaltoolError(
                f"{path} is empty (0 bytes): the export or the copy failed; export it again"
            )
        _refuse_ole2(path)
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
    if tables:
        _apply_table_names(source, tables)
    for table in source.tables.values():
        _apply_mapping(table, (columns or {}).get(table.name, {}), source.problems)
    for name in sorted(set(columns or {}) - set(source.tables) - set(source.unread)):
        source.problems.append(
            Problem(
                WARNING,
                f"the settings map headers of a table '{name}' ([columns.{name}]), but the data "
                f"has no such table; tables found: {', '.join(sorted(source.tables))}",
                file=path.name,
            )
        )
    return source


#: the first bytes of an OLE2 compound file: an encrypted workbook, or an old .xls
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _refuse_ole2(path: Path) -> None:
    """An .xlsx saved with a password is not a zip but an OLE2 file holding the workbook
    encrypted ('EncryptedPackage'); one without it is an Excel 97-2003 .xls renamed."""
    with open(path, "rb") as fh:
        start = fh.read(len(OLE2))
        if start != OLE2:
            return
        encrypted = False
        stream = "EncryptedPackage".encode("utf-16-le")
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            if stream in chunk:
                encrypted = True
                break
    if encrypted:
        raise EvaltoolError(
            f"{path.name} is password-protected, so it cannot be read; save a copy without a "
            "password (Excel: File > Info > Protect Workbook > Encrypt with Password, delete "
            "the password, OK, then Save As .xlsx) and give evaltool that copy"
        )
    raise EvaltoolError(
        f"{path.name} is an old Excel 97-2003 workbook (.xls) with an .xlsx name; open it in "
        "Excel and save it as an Excel Workbook (.xlsx)"
    )


def _frame_from_rows(
    rows: list, name: str, file: str, sheet: str, problems: list[Problem], header_row: int = 1
) -> RawTable | None:
    if not rows:
        return None
    header, body = list(rows[0]), rows[1:]
    frame = pd.DataFrame(body, dtype=object) if body else pd.DataFrame()
    width = max(len(header), frame.shape[1])
    header += [None] * (width - len(header))
    if frame.shape[1] < width:  # headers over no data: the columns added at once, not one by
        frame = frame.reindex(columns=range(width))  # one (a frame of 100 inserts is slow)
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
    for i, n in enumerate(names):
        if not n and i < frame.shape[1]:
            column = frame.iloc[:, i]
            filled = ~_empty_cells(column)
            if filled.any():
                example = column[filled].iloc[0]
                problems.append(
                    Problem(
                        ERROR,
                        f"column {column_letter(i)} has {int(filled.sum())} value(s) but no "
                        "header, so it would be left out; give it a header or delete the data",
                        file=file,
                        sheet=sheet,
                        row=header_row,
                        column=column_letter(i),
                        value=str(example),
                        expected="a header",
                    )
                )
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
        # the selection is a new frame (a take), not a view: say so, or adding _row below is
        # a SettingWithCopyWarning on the user's screen
        frame = frame.iloc[:, columns].copy(deep=False)
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


#: a sheet unpacks to at most this many times its packed size (real exports: about 10)
MAX_UNPACK_RATIO = 100
#: ... unless it is smaller than this
UNPACK_FLOOR = 20 * 1024 * 1024


def _workbook_facts(path: Path) -> bool:
    """Whether the workbook counts dates from 1904; refuses one whose parts unpack to far
    more than a real export (a damaged file, or one made to exhaust memory), before reading."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = z.infolist()
        unpacked = sum(i.file_size for i in parts)
        packed = max(path.stat().st_size, 1)
        if unpacked > UNPACK_FLOOR and unpacked > MAX_UNPACK_RATIO * packed:
            raise EvaltoolError(
                f"{path.name} unpacks to {unpacked / 2**20:,.0f} MB from a "
                f"{packed / 2**20:,.1f} MB file, far more than any real export; it may be "
                "damaged (open it in Excel and save it again) or not what it seems"
            )
        names = {i.filename for i in parts}
        book = z.read("xl/workbook.xml") if "xl/workbook.xml" in names else b""
    return bool(re.search(rb'<(?:\w+:)?workbookPr\b[^>]*\bdate1904="(?:1|true)"', book))


def _title_rows(rows: list) -> int:
    """How many rows above the header hold a title; 0 when row 1 is the header.

    A title row has one cell filled (or none), or is far emptier than the row below it: a
    title merged over A1:C1 beside a run date merged over D1:E1 reads as two cells above a
    header of five. The header is the first row of two cells or more that holds at least
    half as many as the row after it (a data row may be a cell wider than its header)."""
    filled = [sum(v is not None and str(v).strip() != "" for v in row) for row in rows[:13]]
    for i, n in enumerate(filled[:12]):
        below = filled[i + 1] if i + 1 < len(filled) else 0
        if n >= 2 and 2 * n >= below:
            return i
    return 0


def _read_workbook(path: Path, engine: str = "calamine") -> Source:
    if engine not in ENGINES:
        raise EvaltoolError(f"unknown workbook reader '{engine}'; use one of {', '.join(ENGINES)}")
    sheets = _sheets_calamine if engine == "calamine" else _sheets_openpyxl
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    unread: dict[str, Problem] = {}
    try:
        date1904 = _workbook_facts(path)
        for title, rows in sheets(path):
            name = normalise(title)
            if name in tables or name in unread:
                first = tables[name].sheet if name in tables else unread[name].sheet
                # neither is read: reading one would report every row of the tables that link
                # to it and that are only in the other as not found
                tables.pop(name, None)
                unread[name] = Problem(
                    ERROR,
                    f"two sheets for one table: '{first}' and '{title}' (names differ only "
                    "in capitals or spaces), so neither was read; keep one of them and delete "
                    "or rename the other",
                    file=path.name,
                    sheet=title,
                )
                continue
            skipped = 0
            while rows and all(v is None or str(v).strip() == "" for v in rows[0]):
                rows.pop(0)  # blank rows above the header: tolerated, and row numbers stay true
                skipped += 1
            titles = _title_rows(rows)
            if titles:
                above = [str(v).strip() for row in rows[:titles] for v in row]
                above = [a for a in above if a and a != "None"]
                first_row, last_row = skipped + 1, skipped + titles
                which = (
                    f"row {first_row} above it holds a title"
                    if first_row == last_row
                    else f"rows {first_row} to {last_row} above it hold a title"
                )
                said = f" ({'; '.join(shown(a) for a in above[:2])})" if above else ""
                unread[name] = Problem(
                    ERROR,
                    f"the header is on row {last_row + 1}: {which}{said}; delete "
                    f"{'it' if first_row == last_row else 'them'} (unmerge the cells first if "
                    "they are merged) so the header is on row 1",
                    file=path.name,
                    sheet=title,
                    row=last_row + 1,
                )
                continue
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
            table = _frame_from_rows(rows, name, path.name, title, problems, header_row=1 + skipped)
            if table is not None:
                table.date1904 = date1904
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
    return Source(path, tables, {path.name: sha256(path)}, problems, unread)


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
    unread: dict[str, Problem] = {}
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    if not files:
        raise EvaltoolError(f"{path} holds no .csv files; expected clients.csv and the others")
    seen: dict[str, str] = {}
    for file in files:
        hashes[file.name], nul = _digest(file)
        name = normalise(file.stem)
        if name in seen:
            tables.pop(name, None)  # neither is read (see _read_workbook)
            unread[name] = Problem(
                ERROR,
                f"two files for one table: {seen[name]} and {file.name} (names differ "
                "only in capitals or spaces), so neither was read; keep one of them and move "
                "the other away",
                file=file.name,
            )
            continue
        seen[name] = file.name
        try:
            frame = _read_csv(file, problems, nul)
        except _Unreadable as exc:  # every file's problems are listed at once
            unread[name] = exc.problem
            continue
        if frame is None or frame.empty:
            continue
        header = list(frame.iloc[0])
        body = frame.iloc[1:].copy(deep=False)  # a view of the rows: no copy of the data
        body.columns = range(body.shape[1])
        why = _wrong_delimiter(header, file) or _runaway_quotes(body, file)
        if why is not None:
            unread[name] = why
            continue
        table = _finish(body, header, name, file.name, "", problems)
        if table is not None:
            tables[table.name] = table
    return Source(path, tables, hashes, problems, unread)


_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "bar"}


def _wrong_delimiter(header: list[object], file: Path) -> Problem | None:
    """A header read as one cell that holds another separator: the file is not comma-separated."""
    if len(header) != 1:
        return None
    text = str(header[0])
    found = [(text.count(d), d) for d in _DELIMITERS if d in text]
    if not found:
        return None
    delimiter = max(found)[1]
    return Problem(
        ERROR,
        f"{file.name} looks {_DELIMITERS[delimiter]}-separated: its header is one cell, "
        f"{text[:60]!r}; save it as comma-separated (Excel: Save As > CSV UTF-8 "
        "(Comma delimited))",
        file=file.name,
        row=1,
    )


def _runaway_quotes(body: pd.DataFrame, file: Path) -> Problem | None:
    """A cell that opens a quote and closes it only rows later swallows those rows: a cell
    holding line breaks whose lines look like whole rows (as many commas as the header)."""
    width = body.shape[1]
    if width < 2:
        return None
    for col in body.columns:
        column = body[col]
        multi = _line_breaks(column)
        if multi is None:
            continue
        for index, cell in column[multi].items():
            lines = str(cell).split("\n")
            if any(line.count(",") >= width - 1 for line in lines[1:]):
                row = int(index) + 1  # the header is row 1 and frame row 0
                return Problem(
                    ERROR,
                    f'row {row}: a quote (") in column {column_letter(int(col))} opens and '
                    f"does not close on that row, so the {len(lines) - 1} line(s) after it "
                    'were read into one cell; remove the stray quote (or double it: "")',
                    file=file.name,
                    row=row,
                    column=column_letter(int(col)),
                    value=lines[0][:40],
                )
    return None


def _line_breaks(column: pd.Series) -> np.ndarray | None:
    """Which cells hold a line break, or None when none does (the usual case: one pass of
    Arrow's kernel over the column, no copy)."""
    if is_arrow_text(column):
        import pyarrow.compute as pc

        found = pc.fill_null(pc.match_substring(column.array._pa_array, "\n"), False)
        if not pc.any(found).as_py():
            return None
        return found.to_numpy(zero_copy_only=False).astype(bool)
    found = column.astype(object).map(lambda v: isinstance(v, str) and "\n" in v)
    return found.to_numpy(dtype=bool) if found.any() else None


class _Unreadable(Exception):
    """A CSV file that cannot be read as a table, and why (its table is reported unread)."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def _nul_problems(file: Path, data: bytes) -> list[Problem]:
    """Each cell holding a NUL character (an invisible control character some exports leave),
    by row and column, at most 20."""
    import csv
    import io

    out: list[Problem] = []
    text = data.decode("utf-8-sig", errors="replace")
    for row, cells in enumerate(csv.reader(io.StringIO(text.replace("\x00", "\ufffe"))), 1):
        for col, cell in enumerate(cells):
            if "\ufffe" in cell:
                out.append(
                    Problem(
                        ERROR,
                        "the cell holds a NUL character (an invisible control character an "
                        "export can leave); retype the value in the spreadsheet, or export "
                        "the file again",
                        file=file.name,
                        row=row,
                        column=column_letter(col),
                        value=visible(cell.replace("\ufffe", "\x00")),
                    )
                )
                if len(out) >= 20:
                    return out
    return out


def _read_csv(file: Path, problems: list[Problem], nul: bool) -> pd.DataFrame | None:
    """Every cell as text, the header row included as the first row; ``nul``: the file holds
    a NUL byte somewhere (a stray one is named by row and column)."""
    from pyarrow import ArrowInvalid

    with file.open("rb") as fh:
        start = fh.read(4096)
    kwargs = dict(dtype=str, keep_default_na=False, header=None, skip_blank_lines=False)

    def read_as(encoding: str, said: str) -> pd.DataFrame | None:
        problems.append(
            Problem(
                "warning",
                f"file is {said}; read as {encoding} (save as 'CSV UTF-8' to avoid this)",
                file=file.name,
            )
        )
        return _pandas_csv(file, file, dict(kwargs, encoding=encoding))

    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        return read_as("UTF-16", "saved as UTF-16")
    if start.count(b"\x00") > len(start) // 4:  # every other byte: UTF-16 with no mark
        raise EvaltoolError(
            f"{file} holds NUL bytes: it may be UTF-16 without a byte-order mark, or not a "
            "CSV file; save it from Excel as 'CSV UTF-8 (Comma delimited)'"
        )
    if nul:  # a stray NUL or two in cells: each named, and the rest read
        import io

        data = file.read_bytes()
        problems.extend(_nul_problems(file, data))
        kwargs = dict(kwargs, encoding="utf-8-sig", encoding_errors="replace")
        return _pandas_csv(io.BytesIO(data.replace(b"\x00", b"")), file, kwargs)
    try:
        return _read_csv_arrow(file)
    except (ArrowInvalid, UnicodeDecodeError, StopIteration):
        pass  # not UTF-8, rows of uneven length, an empty file: pandas reads or explains it
    try:
        return _pandas_csv(file, file, dict(kwargs, encoding="utf-8-sig"))
    except UnicodeDecodeError:
        return read_as("Windows-1252", "not UTF-8")


def _pandas_csv(source, file: Path, kwargs: dict) -> pd.DataFrame | None:
    """``source`` (the file, or its bytes cleaned) read by pandas; a file that is no table
    raises ``_Unreadable`` naming the row."""
    try:
        return pd.read_csv(source, **kwargs)
    except pd.errors.EmptyDataError:
        return None
    except pd.errors.ParserError as exc:
        found = re.search(r"EOF inside string starting at row (\d+)", str(exc))
        if found:
            row = int(found.group(1)) + 1
            raise _Unreadable(
                Problem(
                    ERROR,
                    f'{file.name}: a quote (") on row {row} opens and never closes before the '
                    'end of the file; remove the stray quote (or double it: "")',
                    file=file.name,
                    row=row,
                )
            ) from None
        uneven = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if uneven:
            n, line, saw = uneven.groups()
            raise _Unreadable(
                Problem(
                    ERROR,
                    f"{file.name}: row {line} has {saw} values but the header has {n}, so the "
                    'file was not read; a value holding a comma needs quotes around it ("a, '
                    'b"), or remove the extra values',
                    file=file.name,
                    row=int(line),
                    expected=f"{n} values",
                )
            ) from None
        raise EvaltoolError(f"{file} could not be read as CSV: {exc}") from None


def _apply_table_names(source: Source, mapping: dict[str, str]) -> None:
    """Name tables by the settings' [tables] (a sheet or CSV file's own name -> the table), as
    headers are mapped: the sheet keeps its name in every message, so it can be found."""
    kind = "file" if source.path.is_dir() else "sheet"
    found = {**source.tables, **source.unread}
    for own in sorted(set(mapping) - set(found)):
        names = sorted(t.sheet or t.file for t in source.tables.values())
        close = difflib.get_close_matches(own, list(found), n=1, cutoff=0.6)
        near = found[close[0]] if close else None
        hint = f" (did you mean '{near.sheet or near.file}'?)" if near else ""
        source.problems.append(
            Problem(
                ERROR,
                f"the settings map a {kind} '{own}' to the table '{mapping[own]}' ([tables]), "
                f"but {source.path.name} has no such {kind}{hint}; its {kind}s: "
                + ", ".join(names),
                file=source.path.name,
                expected=f"a {kind} named {own}",
            )
        )
    renamed: dict[str, RawTable] = {}
    for name, table in source.tables.items():
        new = mapping.get(name, name)
        if new in renamed:
            other = renamed[new]
            source.problems.append(
                Problem(
                    ERROR,
                    f"two {kind}s for the table '{new}': '{other.sheet or other.file}' and "
                    f"'{table.sheet or table.file}' ([tables] maps one onto the other's name); "
                    "keep one of them, or map the other elsewhere",
                    file=table.file,
                    sheet=table.sheet,
                )
            )
            continue
        table.name = new
        renamed[new] = table
    source.tables = renamed
    source.unread = {mapping.get(k, k): v for k, v in source.unread.items()}


def _apply_mapping(table: RawTable, mapping: dict[str, str], problems: list[Problem]) -> None:
    """Rename an export's headers to contract names, as configured in [columns.<table>]."""
    if not mapping:
        return
    rename = {h: mapping[h] for h in table.frame.columns if h in mapping}
    for header in sorted(set(mapping) - set(rename)):
        if mapping[header] not in table.frame.columns:  # the export already uses the name
            table.unmapped[mapping[header]] = header  # reported where the column is checked
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
            # all text; large_string, as pandas holds Arrow text (no copy of every column)
            column_types={f"f{i}": pa.large_string() for i in range(width)},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table.to_pandas(types_mapper={pa.large_string(): pd.StringDtype("pyarrow")}.get)

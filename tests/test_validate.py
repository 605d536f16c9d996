"""Validation on copies of the example workbook with injected faults: every fault is listed."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from evaltool.api import load
from evaltool.cli import NO_SETTINGS, app
from evaltool.config import load_settings
from evaltool.data.checking import duplicated_keys
from evaltool.synthetic import generate, write_csv_folder
from tests.conftest import EXAMPLE, EXAMPLE_CONFIG, get_cell, header_index, score_cli, set_cells


def problems_at(report, sheet, row, column_header):
    return [
        p
        for p in report.errors
        if p.sheet == sheet and p.row == row and p.column.startswith(column_header)
    ]


def test_the_example_is_valid(example):
    loaded = load(example, load_settings(EXAMPLE_CONFIG))
    assert loaded.problems.ok, loaded.problems.errors[:3]
    assert len(loaded.dataset.clients) == 150
    assert loaded.dataset.clients["client_id"].str.len().eq(5).all()  # leading zeros kept


def test_injected_faults_are_all_reported_with_sheet_row_and_column(example, runner, tmp_path):
    set_cells(example, "clients", {(5, "referral_date"): "31/02/2025"})
    set_cells(example, "goals", {(7, "level"): 3})
    set_cells(example, "star", {(4, "housing"): 11})
    set_cells(example, "proceedings", {(9, "client_id"): "99999"})
    wb = openpyxl.load_workbook(example)
    ws = wb["partner_access"]
    ws.delete_cols(header_index(ws, "referred_date"))
    wb.save(example)

    report = load(example, load_settings(EXAMPLE_CONFIG)).problems
    assert problems_at(report, "clients", 5, "referral_date (B)")[0].value == "31/02/2025"
    level = problems_at(report, "goals", 7, "level")[0]
    assert (level.value, level.expected) == ("3", "a whole number from -2 to 2")
    assert problems_at(report, "star", 4, "housing")[0].message == "above the highest allowed value"
    unknown = problems_at(report, "proceedings", 9, "client_id (A)")[0]
    assert (unknown.value, unknown.message) == ("99999", "client_id not found in the clients table")
    missing = [p for p in report.errors if p.sheet == "partner_access" and p.row == 1]
    assert "required column 'referred_date' is missing" in missing[0].message
    assert report.error_count == 5

    out = tmp_path / "never.xlsx"
    result = runner.invoke(app, ["validate", str(example), "--config", str(EXAMPLE_CONFIG)])
    assert result.exit_code == 2
    for needle in (
        "31/02/2025",
        "impossible date",
        "99999",
        "above the highest allowed value",
        "referred_date",
        "5 error(s)",
    ):
        assert needle in result.output
    assert "Traceback" not in result.output
    result = score_cli(runner, example, out)
    assert result.exit_code == 2
    assert not out.exists()
    assert "nothing was written" in result.output


def test_score_never_touches_an_existing_return_when_data_is_bad(example, runner, tmp_path):
    out = tmp_path / "return.xlsx"
    out.write_bytes(b"last quarter's return")
    set_cells(example, "clients", {(3, "start_date"): "soon"})
    result = runner.invoke(
        app, ["score", str(example), "--period", "2025-Q4", "--out", str(out), "--force"]
    )
    assert result.exit_code == 2
    assert out.read_bytes() == b"last quarter's return"
    assert sorted(tmp_path.iterdir()) == sorted([out, example])  # no temporary file left


def test_duplicates_and_date_order(example):
    first_id = get_cell(example, "clients", 2, "client_id")
    set_cells(example, "clients", {(10, "client_id"): first_id})
    set_cells(
        example,
        "clients",
        {
            (11, "referral_date"): dt.date(2026, 1, 10),
            (11, "start_date"): dt.date(2026, 1, 5),
            (11, "end_date"): None,
        },
    )
    report = load(example).problems
    dup = problems_at(report, "clients", 10, "client_id")
    assert dup and dup[0].message == "duplicate client_id: also on row 2"
    assert problems_at(report, "clients", 2, "client_id")[0].message == "duplicate client_id"
    order = problems_at(report, "clients", 11, "start_date")
    assert order[0].message == "start_date is before referral_date"
    assert order[0].value == "05/01/2026"


def test_missing_table_enabled_in_config_names_the_fix(example):
    wb = openpyxl.load_workbook(example)
    del wb["gbo"]
    wb.save(example)
    report = load(example, load_settings(EXAMPLE_CONFIG)).problems
    [problem] = report.errors
    assert "no 'gbo' table" in problem.message
    assert "remove 'gbo' from [instruments] enabled" in problem.message


def test_misnamed_header_gets_a_suggestion(example):
    wb = openpyxl.load_workbook(example)
    wb["clients"].cell(row=1, column=2, value="referal_date")
    wb.save(example)
    [problem] = load(example).problems.errors
    assert "required column 'referral_date' is missing" in problem.message
    assert "is 'referal_date' meant?" in problem.message


def test_blank_rows_are_ignored_and_row_numbers_stay_true(example):
    wb = openpyxl.load_workbook(example)
    ws = wb["clients"]
    ws.insert_rows(4, amount=2)
    wb.save(example)
    set_cells(example, "clients", {(8, "birth_year"): "nineteen"})
    report = load(example).problems
    assert [(p.row, p.column) for p in report.errors] == [(8, "birth_year (H)")]


def test_csv_folder_with_uk_dates_and_column_mapping(tmp_path):
    tables = generate(40, seed=3)
    folder = write_csv_folder(tables, tmp_path / "csv")
    clients = (folder / "clients.csv").read_text().replace("client_id,", "Client Ref,", 1)
    (folder / "clients.csv").write_text(clients)
    cfg = tmp_path / "evaltool.toml"
    cfg.write_text('[columns.clients]\n"Client Ref" = "client_id"\n')
    loaded = load(folder, load_settings(cfg))
    assert loaded.problems.ok, loaded.problems.errors[:3]
    got = loaded.dataset.clients.set_index("client_id")["referral_date"]
    want = tables["clients"].set_index("client_id")["referral_date"]
    assert got.sort_index().to_dict() == want.sort_index().to_dict()


def test_csv_errors_count_the_header_as_row_1(tmp_path):
    folder = write_csv_folder(generate(20, seed=4), tmp_path / "csv")
    lines = (folder / "clients.csv").read_text().splitlines()
    cells = lines[3].split(",")
    cells[1] = "2025-13-01"
    lines[3] = ",".join(cells)
    (folder / "clients.csv").write_text("\n".join(lines) + "\n")
    [problem] = load(folder).problems.errors
    assert (problem.file, problem.row, problem.value) == ("clients.csv", 4, "2025-13-01")


def test_not_a_workbook(tmp_path, runner):
    bad = tmp_path / "data.xlsx"
    bad.write_text("this is not a zip file")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert result.output.startswith(f"{NO_SETTINGS}\nError: ")
    assert "could not be opened as an Excel workbook" in result.output


@pytest.mark.parametrize("name", ["data.ods", "data.csv"])
def test_wrong_kind_of_input_names_the_fix(tmp_path, runner, name):
    path = tmp_path / name
    path.write_text("x")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "Error:" in result.output and ("folder" in result.output)


def test_report_csv_lists_every_problem(example, runner, tmp_path):
    set_cells(example, "goals", {(r, "level"): 9 for r in range(2, 62)})
    report_csv = tmp_path / "problems.csv"
    result = runner.invoke(app, ["validate", str(example), "--report", str(report_csv)])
    assert result.exit_code == 2
    assert "(60 rows)" in result.output and "rows 2-61" in result.output  # one entry
    assert result.output.count("above the highest allowed value") == 1
    assert len(report_csv.read_text().strip().splitlines()) == 61


def test_report_csv_rows_read_as_whole_numbers(example, runner, tmp_path):
    """Issue 25: a problem with no row (a whole sheet) made every row read '2.0'."""
    import csv

    import openpyxl

    wb = openpyxl.load_workbook(example)
    wb.create_sheet("Extras").append(["anything", "else"])
    wb.save(example)
    set_cells(example, "goals", {(2, "level"): 9})
    report_csv = tmp_path / "problems.csv"
    runner.invoke(app, ["validate", str(example), "--report", str(report_csv)])
    with open(report_csv, newline="", encoding="utf-8") as fh:
        rows = [r["row"] for r in csv.DictReader(fh)]
    assert "2" in rows and "" in rows and not any("." in r for r in rows), rows


def test_the_problem_list_reads_at_80_columns(example, runner):
    """What is wrong first, then where; wrapped at words, never past the width."""
    set_cells(example, "clients", {(3, "referral_date"): "31/02/2025", (4, "cohort"): "pilot"})
    result = runner.invoke(app, ["validate", str(example)], env={"COLUMNS": "80"})
    assert result.exit_code == 2
    lines = result.stderr.splitlines() if result.stderr else result.output.splitlines()
    assert all(len(line) <= 80 for line in lines[:-1]), lines
    assert lines.pop(0) == NO_SETTINGS  # no --config: said first, within the width
    first = lines[0]
    assert first.startswith("ERROR") and "impossible date" in first
    text = " ".join(line.strip() for line in lines)
    assert "column referral_date (B), row 3, client" in text
    words = set(text.split())
    assert "spreadsheet" in words or "date:" in words  # not broken mid-word


def test_both_workbook_readers_give_the_same_tables(example):
    from evaltool.data.checking import validate_source
    from evaltool.data.contract import CORE_TABLES
    from evaltool.data.reading import read_source
    from evaltool.instruments.registry import build_registry

    specs = list(CORE_TABLES) + [
        i.table() for i in build_registry(autoload=False).instruments.values()
    ]
    specs = list({s.name: s for s in specs}.values())
    typed = {}
    for engine in ("calamine", "openpyxl"):
        dataset, report = validate_source(read_source(example, engine=engine), specs)
        assert report.ok, (engine, report.errors[:3])
        typed[engine] = dataset.tables
    for name, frame in typed["calamine"].items():
        other = typed["openpyxl"][name]
        pd.testing.assert_frame_equal(
            frame.reset_index(drop=True), other.reset_index(drop=True), check_dtype=False
        )


def test_blank_rows_above_the_header_keep_row_numbers_true(example):
    wb = openpyxl.load_workbook(example)
    wb["clients"].insert_rows(1, amount=2)
    wb.save(example)
    set_cells_at = openpyxl.load_workbook(example)
    ws = set_cells_at["clients"]
    ws.cell(row=9, column=8, value="nineteen")  # birth_year (H), the 6th client
    set_cells_at.save(example)
    report = load(example).problems
    assert [(p.row, p.column) for p in report.errors] == [(9, "birth_year (H)")]
    assert any("2 blank row(s) above the header row" in w.message for w in report.warnings)


def test_duplicated_keys_by_hand():
    frame = pd.DataFrame(
        {
            "client_id": ["a", "a", "b", None, None, "a", "ab", "a"],
            "goal_id": ["1", "1", "1", "2", "2", None, "1", "b1"],
            "date": pd.to_datetime(
                [
                    "2025-01-01",
                    "2025-01-01",
                    "2025-01-01",
                    "2025-01-02",
                    "2025-01-02",
                    "2025-01-01",
                    "2025-01-01",
                    "2025-01-01",
                ]
            ),
        }
    )
    # rows 0 and 1 share a full key; rows 3 and 4 too, but with a blank part they are left to
    # the missing-value check; 'ab'+'1' and 'a'+'b1' are different keys
    assert duplicated_keys(frame, ["client_id", "goal_id", "date"]).tolist() == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
    ]
    assert duplicated_keys(frame, ["client_id"]).tolist() == [
        True,
        True,
        False,
        False,
        False,
        True,
        False,
        True,
    ]


def test_a_key_written_two_ways_is_one_key(tmp_path):
    """Duplicates are found on the typed values: '2025-02-05' is 05/02/2025, ' A7' is A7."""
    folder = write_csv_folder(generate(20, seed=4), tmp_path / "csv")
    lines = (folder / "goals.csv").read_text().splitlines()
    client, goal, date, *rest = lines[1].split(",")
    day, month, year = date.split("/")
    lines.append(",".join([f" {client} ", goal, f"{year}-{month}-{day}", *rest]))
    (folder / "goals.csv").write_text("\n".join(lines) + "\n")
    report = load(folder).problems
    dups = [p for p in report.errors if p.file == "goals.csv"]
    assert [(p.row, p.message) for p in dups] == [
        (2, "duplicate client_id + goal_id + review_date"),
        (len(lines), "duplicate client_id + goal_id + review_date: also on row 2"),
    ]


@pytest.mark.parametrize(
    "damage",
    ["byte-order mark", "Windows-1252", "blank line", "short row", "quoted line break"],
)
def test_every_kind_of_csv_reads_the_same(tmp_path, damage):
    """Arrow reads a plain UTF-8 CSV; pandas what Arrow will not. Both give the same tables,
    with row numbers true to the file."""
    tables = generate(20, seed=4)
    plain = load(write_csv_folder(tables, tmp_path / "plain"))
    folder = write_csv_folder(tables, tmp_path / "odd")
    path = folder / "clients.csv"
    text = path.read_text()
    lines = text.splitlines()
    expect_row = 4  # the row of the bad birth year put in below
    cells = lines[3].split(",")
    cells[7] = "nineteen"  # birth_year: one error, to check the row number
    lines[3] = ",".join(cells)
    if damage == "byte-order mark":
        path.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode())
    elif damage == "Windows-1252":
        lines[0] = lines[0] + ",caf\xe9"
        lines[1:] = [line + "," for line in lines[1:]]
        path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    elif damage == "blank line":
        lines.insert(2, "")
        expect_row = 5
        path.write_text("\n".join(lines) + "\n")
    elif damage == "short row":
        lines[2] = ",".join(lines[2].split(",")[:-1])  # the last cell and its comma missing
        path.write_text("\n".join(lines) + "\n")
    else:
        lines[0] += ",note"
        lines[1:] = [line + ',"two\nlines"' for line in lines[1:]]
        path.write_text("\n".join(lines) + "\n")
    odd = load(folder)
    assert [(p.file, p.row, p.value) for p in odd.problems.errors] == [
        ("clients.csv", expect_row, "nineteen")
    ]
    got, want = odd.dataset.clients, plain.dataset.clients.copy()
    if damage == "short row":
        want.loc[1, "learning_disability"] = pd.NA  # the cell left off reads as blank
    common = [c for c in want.columns if c not in ("_row", "birth_year")]
    pd.testing.assert_frame_equal(got[common], want[common], check_dtype=False)
    if damage == "Windows-1252":
        assert any("read as Windows-1252" in w.message for w in odd.problems.warnings)
        assert odd.dataset.clients.columns[-1] == "café"
    if damage == "quoted line break":
        note = odd.dataset.clients["note"]  # a column outside the contract, kept as read
        assert note.dtype == object and note.eq("two\nlines").all()


def test_excel_error_cells_and_formulas_without_results_are_problems(tmp_path, runner):
    """calamine reads both as blank: a closure date would vanish in silence."""
    import openpyxl

    from evaltool.cli import app

    wb = openpyxl.load_workbook(EXAMPLE)
    ws = wb["clients"]
    header = [c.value for c in ws[1]]
    end = header.index("end_date") + 1
    error = ws.cell(row=5, column=end)
    error.value, error.data_type = "#N/A", "e"
    ws.cell(row=6, column=end, value="=DATE(2025,1,1)")  # no saved result
    path = tmp_path / "service.xlsx"
    wb.save(path)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "Excel error (#N/A)" in result.output
    assert "formula with no saved result" in result.output


def test_a_full_date_of_birth_in_the_year_column_is_read_as_the_year_said_once(tmp_path, runner):
    """25 exported dates of birth under a header mapped to birth_year (issue 25: the manager had
    to add a column by hand): read as the year, nothing more of them kept, said once as a note;
    a date whose year is impossible is still an error."""
    from evaltool.api import load
    from evaltool.cli import app
    from evaltool.config import load_settings
    from tests.conftest import clients_rows, workbook

    rows = clients_rows([f"C{i:03d}" for i in range(30)])
    for i, row in enumerate(rows):
        row["DoB"] = "14/03/1992" if 3 <= i < 28 else 1990
    rows[28]["DoB"] = "14/03/1492"
    data = workbook(tmp_path, {"clients": rows})
    config = tmp_path / "evaltool.toml"
    config.write_text('[columns.clients]\n"DoB" = "birth_year"\n')
    result = runner.invoke(app, ["validate", str(data), "--config", str(config)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "NOTE birth_year: 25 full date(s) of birth read as the year only" in text
    assert text.count("full date(s) of birth") == 1
    assert "ERROR a full date; birth_year wants a year such as 1992" in text  # the 1492
    rows[28]["DoB"] = 1991
    data = workbook(tmp_path, {"clients": rows})
    loaded = load(data, load_settings(config))
    years = loaded.dataset.tables["clients"]["birth_year"]
    assert years.iloc[3:28].eq(1992).all() and years.iloc[28] == 1991
    kept = loaded.dataset.raw["clients"].frame["birth_year"].astype(str)
    assert not kept.str.contains("/").any(), "a full date of birth was kept"


def test_a_key_worker_column_is_part_of_the_contract(tmp_path):
    """Issue 25: the README suggests a key_worker column for the to-do list; mapping one
    warned 'not a column' on every run."""
    from evaltool.api import load, load_settings
    from tests.conftest import clients_rows, workbook

    rows = clients_rows(["C001", "C002"])
    for row, worker in zip(rows, ["Ann", "Bo"], strict=True):
        row["Key Worker"] = worker
    data = workbook(tmp_path, {"clients": rows})
    config = tmp_path / "evaltool.toml"
    config.write_text('[columns.clients]\n"Key Worker" = "key_worker"\n')
    loaded = load(data, load_settings(config))
    assert loaded.problems.ok and not loaded.problems.warnings, loaded.problems.problems
    assert list(loaded.dataset.tables["clients"]["key_worker"]) == ["Ann", "Bo"]


def test_a_date_after_the_extract_date_is_one_problem_per_cell(example, runner):
    """Issue 25: every late date was reported twice, 'after the extract date' and 'missing
    value', for the same cell (the example against an extract date of 30/06/2025: 2,084
    problems, the star sheet's 116 late dates among them twice). Now one cause, one problem:
    as many problems as cells, each saying the date is after the extract date."""
    settings = load_settings(EXAMPLE_CONFIG)
    errors = load(example, settings, extract_date=dt.date(2025, 6, 30)).problems.errors
    cells = {(p.sheet, p.row, p.column) for p in errors}
    assert len(errors) == len(cells) > 100
    assert all("after the extract date (30/06/2025)" in p.message for p in errors)
    star = [p for p in errors if p.sheet == "star"]
    assert len(star) == 116  # the star sheet's dates after 30/06/2025, counted in the data
    result = runner.invoke(
        app, ["validate", str(example), "-c", str(EXAMPLE_CONFIG), "--extract-date", "30.06.2025"]
    )
    assert result.exit_code == 2
    assert "missing value" not in result.output
    assert "after the extract date (30/06/2025)" in result.output


def test_data_after_a_period_end_is_no_error(example, runner, tmp_path):
    """A return for 2024-Q3 (Oct-Dec 2024) from the example, whose records run to March 2026:
    what came after the quarter is left out, never a problem."""
    out = tmp_path / "q.json"
    result = runner.invoke(
        app,
        [
            "score",
            str(example),
            "-c",
            str(EXAMPLE_CONFIG),
            "--period",
            "2024-Q3",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "0 warning(s)" in result.output


PANDAS_NOISE = (pd.errors.SettingWithCopyWarning, pd.errors.PerformanceWarning)


@pytest.mark.parametrize(
    "kind",
    [
        "example",
        "a_wide_export",
        "a_repeated_header",
        "links_of_unknown_clients",
    ],
)
def test_no_pandas_warning_reaches_the_screen(kind, tmp_path, runner):
    """validate and score on the example and on bad inputs raise none of pandas' warnings (a
    wide export's 150 columns made 54 PerformanceWarning blocks on stderr)."""
    import warnings

    from tests.corpus import MAKERS

    data = EXAMPLE if kind == "example" else MAKERS[kind](tmp_path)[0]
    for command in (["validate"], ["score", "--period", "2025-Q4", "--out", tmp_path / "r.xlsx"]):
        with warnings.catch_warnings():
            for category in PANDAS_NOISE:
                warnings.simplefilter("error", category)
            args = [command[0], str(data), "--config", str(EXAMPLE_CONFIG), *command[1:]]
            result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code in (0, 2), result.output  # a warning made an error: exit 3
        assert "internal error" not in result.output


def test_an_empty_column_sets_off_no_setting_with_copy_warning():
    """An empty column with no header at the right (a column formatted in Excel and never
    filled: the reader hands it over as cells) and no blank row: adding the row numbers to
    the selection of the other columns raised SettingWithCopyWarning."""
    import warnings

    from evaltool.data.reading import _frame_from_rows

    for header in (
        ["client_id", "level", "level", "weight"],
        ["client_id", "level", None, "weight"],
    ):
        rows = [[*header, None]] + [["00001", 1, 2, 3, None], ["00002", 4, 5, 6, None]]
        problems: list = []
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.SettingWithCopyWarning)
            table = _frame_from_rows(rows, "goals", "f.xlsx", "goals", problems)
        assert list(table.frame.columns) == ["client_id", "level", "weight", "_row"]
        assert table.frame["_row"].tolist() == [2, 3]
        assert table.frame["weight"].tolist() == [3, 6]


def test_a_problem_shows_no_value_whole():
    """Value and client capped at 60 characters plus the length; a value written into a long
    message too; what is expected is ours and kept whole."""
    from evaltool.data.problems import Problem

    expected = "child_id values of this client's rows in children, separated by ';'"
    p = Problem("error", "found " + "9" * 32767 + " here", value="x" * 32767, client="c" * 61)
    p = Problem(p.severity, p.message, value=p.value, client=p.client, expected=expected)
    assert p.value == "x" * 60 + "... (32,767 characters)"
    assert p.client == "c" * 60 + "... (61 characters)"
    assert p.message == "found " + "9" * 60 + "... (32,767 characters) here"
    assert p.expected == expected
    assert Problem("error", "short", value="None").value == "None"


def test_client_links_and_the_leading_zeros_hint_by_hand():
    """Which ids are unknown, and which get the leading-zeros hint, worked out by hand: the
    hint pads to the most common length of a distinct client id (5 here, although '0077'
    is listed three times), so '77' is only unknown, '603' is 00603 and '1' is nobody."""
    from evaltool.data.checking import ClientIds, check_client_links
    from evaltool.data.reading import RawTable

    clients = pd.Series(
        ["00603", "00604", "00605", "12345", "0077", "0077", "0077", None], dtype="string"
    )
    linked = pd.Series(["603", "NOT", None, "00604", "1", "77", "0077", "603"], dtype="string")
    typed = pd.DataFrame({"_row": range(2, 10), "client_id": linked})
    raw = RawTable("goals", typed.astype(object), "goals.csv", letters={"client_id": "A"})
    for ids in (ClientIds(clients, [linked]), ClientIds(clients), clients):
        found = check_client_links(raw, typed, ids)
        assert [(p.row, p.value) for p in found] == [
            (2, "603"),
            (3, "NOT"),
            (6, "1"),
            (7, "77"),
            (9, "603"),
        ]
        hinted = [p.row for p in found if "leading zeros are restored (as 5 digits)" in p.message]
        assert hinted == [2, 9]

"""`evaltool init DIR --from EXPORT` (issue 25): settings written from a real export.

The export is made by hand here as a case-management system would: the synthetic generator's
25 clients under headers, tab names and labels all unlike the template's ("Client Ref",
"Date Engaged", "Client List", "Completed programme"), UK date strings, ids like 00123 kept as
text. The answer key (which header is which column) is written by hand below, so the share of
columns matched right is measured, not assumed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from evaltool.cli import app
from evaltool.synthetic import generate

#: table -> (the export's tab name, {contract column: the export's header})
ANSWERS: dict[str, tuple[str, dict[str, str]]] = {
    "clients": (
        "Client List",
        {
            "client_id": "Client Ref",
            "referral_date": "Date Referred",
            "start_date": "Date Engaged",
            "end_date": "Date Closed",
            "closure_reason": "Reason Closed",
            "cohort": "Group",
            "gender": "Sex",
            "birth_year": "Year of Birth",
            "ethnicity": "Ethnic Group",
            "care_experienced": "Care Leaver",
            "prior_children_removed": "Previous Removals",
            "age_first_pregnancy": "Age at First Pregnancy",
            "mental_health": "Mental Health Need",
            "domestic_abuse": "Domestic Violence",
            "substance_misuse": "Substance Use",
            "learning_disability": "Learning Difficulties",
        },
    ),
    "proceedings": (
        "Court Proceedings",
        {
            "client_id": "Client Ref",
            "issued_date": "Date Issued",
            "concluded_date": "Final Order Date",
            "outcome": "Final Order",
            "child_ids": "Children",
        },
    ),
    "children": (
        "Children",
        {
            "client_id": "Client Ref",
            "child_id": "Child Ref",
            "birth_date": "Child DOB",
            "unborn": "Unborn at Issue",
        },
    ),
    "goals": (
        "Goal Reviews",
        {
            "client_id": "Client Ref",
            "goal_id": "Goal No",
            "review_date": "Date Reviewed",
            "level": "GAS Level",
            "weight": "Goal Weight",
        },
    ),
    "star": (
        "Outcome Star",
        {
            "client_id": "Client Ref",
            "assessment_date": "Star Date",
            **{
                d: d.replace("_", " ").title()
                for d in (
                    "emotional_wellbeing",
                    "relationships",
                    "housing",
                    "money",
                    "physical_health",
                    "sexual_health",
                    "substance_use",
                    "contact_children",
                    "safety",
                    "support_network",
                )
            },
        },
    ),
}

#: the system's labels for the codes
LABELS = {
    "closure_reason": {
        "completed": "Completed programme",
        "disengaged": "Did not engage",
        "moved_away": "Moved out of area",
        "other": "Other",
    },
    "gender": {"female": "F", "male": "M", "other": "Non-binary", "unknown": "Not known"},
    "cohort": {"service": "Intervention", "comparison": "Comparison group"},
    "outcome": {
        "care_order": "Care Order",
        "interim_care_order": "Interim Care Order",
        "placement_order": "Placement Order",
        "supervision_order": "Supervision Order",
        "sgo": "Special Guardianship Order",
        "returned_home": "Returned Home",
        "withdrawn": "Withdrawn",
        "other": "Other",
    },
}
YES_NO = {"yes": "Y", "no": "N"}


def managers_export(folder: Path) -> Path:
    """The 25-client export, as the manager's system writes it."""
    tables = generate(25, seed=11, extract="2025-12-31")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for table, (tab, headers) in ANSWERS.items():
        frame = tables[table]
        ws = wb.create_sheet(tab)
        ws.append(list(headers.values()))
        for row in frame.to_dict("records"):
            cells = []
            for column in headers:
                value = row.get(column)
                if value is None or (not isinstance(value, str) and pd.isna(value)):
                    value = None
                elif isinstance(value, pd.Timestamp):
                    value = value.strftime("%d/%m/%Y")  # UK date strings, as exported
                elif column in LABELS:
                    value = LABELS[column].get(value, value)
                elif value in YES_NO:
                    value = YES_NO[value]
                elif hasattr(value, "item"):
                    value = value.item()
                cells.append(value)
            ws.append(cells)
            if "client_id" in headers:  # ids stay text: 00123
                ws.cell(ws.max_row, list(headers).index("client_id") + 1).number_format = "@"
    path = folder / "export.xlsx"
    wb.save(path)
    return path


def test_the_export_is_unlike_the_template():
    """The test means something only if no header, tab or label is the template's own."""
    for table, (tab, headers) in ANSWERS.items():
        assert tab.lower() != table or table == "children"  # 'Children': the name is a word
        for column, header in headers.items():
            if table != "star":  # the star's domains are named as the Star names them
                assert header.lower().replace(" ", "_") != column, header
    for column, labels in LABELS.items():
        assert sum(code != label.lower() for code, label in labels.items()) >= 2, column


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    from typer.testing import CliRunner

    tmp = tmp_path_factory.mktemp("init_from")
    export = managers_export(tmp)
    result = CliRunner().invoke(app, ["init", str(tmp / "svc"), "--from", str(export)])
    return tmp, export, result


def test_init_from_matches_at_least_90_percent_of_the_columns_right(written):
    tmp, export, result = written
    assert result.exit_code == 0, result.output
    settings = tomllib.loads((tmp / "svc" / "evaltool.toml").read_text(encoding="utf-8"))
    tables = {own.lower(): table for own, table in settings.get("tables", {}).items()}
    columns = settings.get("columns", {})
    right = wrong = 0
    for table, (tab, headers) in ANSWERS.items():
        assert tables.get(tab.lower(), tab.lower()) == table, (tab, tables)
        mapped = {h.lower(): c for h, c in columns.get(table, {}).items()}
        for column, header in headers.items():
            got = mapped.get(header.lower(), header.strip().lower())  # as the reader does
            right += got == column
            wrong += got != column
    assert right / (right + wrong) >= 0.9, (right, wrong, columns)
    # the labels too: every one in the export that is not already its code, once spaced
    codes = settings.get("codes", {})
    wb = openpyxl.load_workbook(export, read_only=True)
    present = {str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row}
    needed = [
        (column, label, code)
        for column, labels in LABELS.items()
        for code, label in labels.items()
        if label in present and label.lower().replace(" ", "_").replace("-", "_") != code
    ]
    assert len(needed) >= 8
    for column, label, code in needed:
        assert codes.get(column, {}).get(label) == code, (column, label, codes)


def test_each_line_says_why_and_what_was_not_matched_is_listed(written):
    tmp, export, result = written
    text = (tmp / "svc" / "evaltool.toml").read_text(encoding="utf-8")
    for line in text.splitlines():
        if " = " in line and line.startswith('"'):
            assert "  # " in line, f"no reason given: {line}"
    assert '"Date Engaged" = "start_date"  # ' in text
    assert '"Client List" = "clients"  # ' in text
    assert '"Completed programme" = "completed"  # ' in text


def test_init_from_enables_only_the_instruments_the_export_holds_and_validates(written):
    tmp, export, result = written
    settings = tomllib.loads((tmp / "svc" / "evaltool.toml").read_text(encoding="utf-8"))
    assert settings["instruments"]["enabled"] == ["gas", "recurrent-care-star"]
    assert "Checking" in result.output
    assert "OK: " in result.output, result.output  # validate, run with the settings written


def test_what_cannot_be_matched_is_said_with_what_to_do(tmp_path, runner):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Caseload"
    ws.append(["Client Ref", "Date Referred", "Favourite Colour", "Reason Closed"])
    ws.append(["00123", "01/04/2025", "blue", "Went to prison"])
    ws.append(["00124", "02/04/2025", "red", "Completed programme"])
    wb.save(tmp_path / "e.xlsx")
    result = runner.invoke(app, ["init", str(tmp_path / "s"), "--from", str(tmp_path / "e.xlsx")])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "the header 'Favourite Colour' matches no column of clients" in flat
    assert "the label 'Went to prison' in 'Reason Closed' is no closure_reason code" in flat
    text = (tmp_path / "s" / "evaltool.toml").read_text(encoding="utf-8")
    assert "# Could not match (what to do):" in text and "Favourite Colour" in text
    again = runner.invoke(app, ["init", str(tmp_path / "s"), "--from", str(tmp_path / "e.xlsx")])
    assert again.exit_code == 1 and "already exists" in again.output


def test_init_from_a_folder_of_csv_files_maps_the_file_names(tmp_path, runner):
    """The same export saved as CSV files: the files' names map like the tabs'."""
    import csv

    wb = openpyxl.load_workbook(managers_export(tmp_path))
    folder = tmp_path / "csv"
    folder.mkdir()
    for ws in wb:
        with open(folder / f"{ws.title}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            for row in ws.iter_rows(values_only=True):
                writer.writerow(["" if v is None else v for v in row])
    result = runner.invoke(app, ["init", str(tmp_path / "s"), "--from", str(folder)])
    assert result.exit_code == 0, result.output
    settings = tomllib.loads((tmp_path / "s" / "evaltool.toml").read_text(encoding="utf-8"))
    assert settings["tables"]["Client List"] == "clients"
    assert settings["columns"]["clients"]["Date Engaged"] == "start_date"
    assert "OK: " in result.output, result.output

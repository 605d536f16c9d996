"""`evaltool audit`: clean returns pass; each hand-made leaky workbook (a real return with the
leak put in by hand, one per kind of attack) is caught."""

from __future__ import annotations

import shutil

import openpyxl
import pytest
from typer.testing import CliRunner

from evaltool.api import run
from evaltool.cli import app
from evaltool.config import load_settings
from evaltool.report.audit import attack
from evaltool.report.excel import write_return
from tests.conftest import EXAMPLE, EXAMPLE_CONFIG


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    """The example's returns for 2025-Q3 and 2025-Q4 as sent, and the figures behind them."""
    folder = tmp_path_factory.mktemp("series")
    settings = load_settings(EXAMPLE_CONFIG)
    mp = pytest.MonkeyPatch()
    mp.setenv("EVALTOOL_RECORD", str(folder / "record.sqlite"))
    out, truth = {}, {}
    for period in ("2025-Q3", "2025-Q4"):
        results = run(EXAMPLE, settings, period)
        out[period] = write_return(results, folder / f"{period}.xlsx")
        truth[period] = results
    mp.undo()
    return out, truth


def locate(ws, title):
    """(header row, {column name: column number}) of the table titled ``title``."""
    for row in ws.iter_rows():
        if row[0].value == title:
            header = row[0].row + 1
            cols = {}
            for c in ws[header]:  # up to the first gap: chart data may sit beyond it
                if c.value is None:
                    break
                cols[c.value] = c.column
            return header, cols
    raise KeyError(title)


def edit(path, sheet, title, changes):
    """Set cells of a table: {(data row index, column name): value}."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header, cols = locate(ws, title)
    for (r, col), value in changes.items():
        ws.cell(row=header + 1 + r, column=cols[col], value=value)
    wb.save(path)


def leaky_copy(series, tmp_path, period="2025-Q4"):
    out, _ = series
    return shutil.copy(out[period], tmp_path / f"leaky-{period}.xlsx")


def kinds(paths):
    return {f.kind for f in attack(paths)}


def test_the_returns_as_written_give_nothing_away(series):
    out, _ = series
    assert attack([out["2025-Q4"]]) == []
    assert attack([out["2025-Q3"], out["2025-Q4"]]) == []
    result = CliRunner().invoke(app, ["audit", str(out["2025-Q3"]), str(out["2025-Q4"])])
    assert result.exit_code == 0, result.output


def test_the_activity_identities_are_caught(series, tmp_path):
    _, truth = series
    path = leaky_copy(series, tmp_path)
    trend = truth["2025-Q4"].activity[0].data
    # every hidden activity count of one quarter shown but its closures: the flows give them
    # a quarter with a small closure count (a pinned large count tells nothing about anyone)
    q = next(r for r in range(1, len(trend)) if 0 < trend.at[r, "Closures"] <= 5)
    cols = ["Referrals", "Starts", "Active caseload at quarter end", "Waiting at quarter end"]
    changes = {(r, c): int(trend.at[r, c]) for r in (q - 1, q) for c in cols}
    edit(path, "Activity", "Activity by quarter (service cohort)", changes)
    wb = openpyxl.load_workbook(path)
    header, colnum = locate(wb["Activity"], "Activity by quarter (service cohort)")
    hidden = wb["Activity"].cell(row=header + 1 + q, column=colnum["Closures"]).value
    if hidden != "[c]":
        edit(path, "Activity", "Activity by quarter (service cohort)", {(q, "Closures"): "c"})
    findings = attack([path])
    assert any("Activity by quarter" in f.message and "'Closures'" in f.message for f in findings)
    result = CliRunner().invoke(app, ["audit", str(path)])
    assert result.exit_code == 1 and "do not send" in result.output


def test_a_total_less_the_shown_parts_is_caught(series, tmp_path):
    _, truth = series
    path = leaky_copy(series, tmp_path)
    closures = truth["2025-Q4"].activity[1].data.reset_index(drop=True)
    quarter = closures.index[closures["Window"] == "Quarter"].tolist()
    small = next(r for r in quarter if 0 < closures.at[r, "Closures"] <= 5)
    # show every part but a small one, and the total
    changes = {(r, "Closures"): int(closures.at[r, "Closures"]) for r in quarter if r != small}
    changes[(small, "Closures")] = "[c]"
    edit(path, "Activity", "Closures by reason", changes)
    assert "hidden figure worked out" in kinds([path])


def test_a_share_beside_a_hidden_count_is_caught(series, tmp_path):
    _, truth = series
    path = leaky_copy(series, tmp_path)
    table = next(t for t in truth["2025-Q4"].summaries["partner-access"] if "to-date" in t.name)
    data = table.data.reset_index(drop=True)
    r = next(i for i in data.index if 0 < data.at[i, "Clients accessed"] <= 5)
    edit(
        path,
        "Access to partner services",
        table.title,
        {
            (r, "Clients accessed"): "[c]",
            (r, "Clients referred"): int(data.at[r, "Clients referred"]),
            (r, "Share accessed"): round(float(data.at[r, "Share accessed"]), 3),
        },
    )
    findings = attack([path])
    assert any("'Clients accessed'" in f.message for f in findings)


def test_two_shown_kaplan_meier_counts_that_differ_by_a_few_are_caught(series, tmp_path):
    path = leaky_copy(series, tmp_path)
    title = "Share with new care proceedings, at fixed times"
    edit(
        path, "Time to next proceedings", title, {(6, "Events so far"): 2, (7, "Events so far"): 5}
    )
    findings = attack([path])  # 5 - 2: three people had new proceedings between the times
    assert any("events of" in f.message for f in findings)


def test_differencing_two_returns_is_caught(series, tmp_path):
    _, truth = series
    before = leaky_copy(series, tmp_path, "2025-Q3")
    after = leaky_copy(series, tmp_path, "2025-Q4")
    c3 = truth["2025-Q3"].activity[1].data.reset_index(drop=True)
    c4 = truth["2025-Q4"].activity[1].data.reset_index(drop=True)
    # a reason hidden this quarter, with both "to date" figures shown
    to_date = c4.index[c4["Window"] == "To date"]
    r = next(
        i
        for i in c4.index[c4["Window"] == "Quarter"]
        if 0 < c4.at[i, "Closures"] <= 3 and c4.at[i, "Closure reason"] != "All closures"
    )
    reason = c4.at[r, "Closure reason"]
    t4 = next(i for i in to_date if c4.at[i, "Closure reason"] == reason)
    t3 = next(
        i
        for i in c3.index
        if c3.at[i, "Window"] == "To date" and c3.at[i, "Closure reason"] == reason
    )
    edit(after, "Activity", "Closures by reason", {(t4, "Closures"): int(c4.at[t4, "Closures"])})
    edit(before, "Activity", "Closures by reason", {(t3, "Closures"): int(c3.at[t3, "Closures"])})
    findings = attack([before, after])
    assert any("Closures by reason" in f.message for f in findings)


def test_a_category_that_comes_and_goes_is_caught(series, tmp_path):
    before = leaky_copy(series, tmp_path, "2025-Q3")
    after = leaky_copy(series, tmp_path, "2025-Q4")
    wb = openpyxl.load_workbook(after)
    ws = wb["Activity"]
    header, _ = locate(ws, "Closures by reason")
    ws.delete_rows(header + 4)  # the quarter's 'other' row, as an old version left it out
    wb.save(after)
    assert "category comes and goes" in kinds([before, after])


def test_everyone_in_one_category_is_caught(series, tmp_path):
    path = leaky_copy(series, tmp_path)
    edit(
        path,
        "Pregnancies",
        "Pregnancies: where babies born live are living",
        {
            (0, "Babies"): 0,
            (1, "Babies"): 0,
            (2, "Babies"): 7,
            (3, "Babies"): 0,
            (4, "Babies"): 0,
            (5, "Babies"): 7,
        },
    )
    assert "everyone in one category" in kinds([path])


@pytest.mark.parametrize("n", [5, 30, 150, 2000])
def test_the_whole_series_of_a_service_gives_nothing_away(tmp_path, monkeypatch, n):
    """Every quarter from before the first referral to 2025-Q4, each written with the record
    of the ones before, then attacked together."""
    from evaltool.config import Settings
    from evaltool.synthetic import generate, write_csv_folder

    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    data = write_csv_folder(generate(n_clients=n, seed=n + 1), tmp_path / "data")
    paths = [
        write_return(run(data, Settings(), f"{y}-Q{q}"), tmp_path / f"{y}-Q{q}.xlsx")
        for y in (2023, 2024, 2025)
        for q in (1, 2, 3, 4)
    ]
    assert attack(paths) == []


def test_a_rate_beside_its_client_years_is_caught(series, tmp_path):
    _, truth = series
    path = leaky_copy(series, tmp_path)
    table = next(t for t in truth["2025-Q4"].summaries["pregnancies"] if t.name == "pregnancy-rate")
    data = table.data.reset_index(drop=True)
    r = next(i for i in data.index if 0 < data.at[i, "During involvement"] <= 5)
    edit(
        path,
        "Pregnancies",
        table.title,
        {
            (r, "During involvement"): "[c]",
            (r, "Rate per 100 client-years"): round(
                float(data.at[r, "Rate per 100 client-years"]), 1
            ),
            (r, "Client-years of involvement"): round(
                float(data.at[r, "Client-years of involvement"]), 1
            ),
        },
    )
    findings = attack([path])
    assert any("'During involvement'" in f.message for f in findings)


def test_warnings_on_the_return_carry_no_counts():
    from evaltool.report.excel import return_warning

    assert return_warning("Cox model: 3 client(s) with a missing covariate left out") == (
        "Cox model: clients with a missing covariate left out"
    )
    said = return_warning("Cox model: 4 events for 2 covariate(s), under 10 per covariate: x")
    assert "4" not in said and "under 10 each" in said
    assert return_warning("p < 0.05 for cohort") == "p < 0.05 for cohort"


def test_a_file_that_is_no_return_is_a_clear_error(tmp_path):
    runner = CliRunner()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    result = runner.invoke(app, ["audit", str(bad)])
    assert result.exit_code == 1 and "cannot be read as an Excel workbook" in result.output
    blank = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(blank)
    result = runner.invoke(app, ["audit", str(blank)])
    assert result.exit_code == 1 and "holds no table of an evaltool return" in result.output

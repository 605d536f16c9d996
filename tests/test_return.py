"""The funder return read back with openpyxl: figures, safety, privacy, structure."""

from __future__ import annotations

import hashlib
import zipfile

import openpyxl
import pandas as pd
import pytest

from evaltool import __version__
from evaltool.api import run
from evaltool.config import load_settings
from evaltool.errors import OutputError
from evaltool.report import excel
from evaltool.report.disclosure import BAND, RANGE
from evaltool.report.excel import write_return
from evaltool.report.formats import P_VALUE
from evaltool.report.output import output_for
from evaltool.report.workbook import SheetWriter
from evaltool.synthetic import generate, write_csv_folder
from tests.conftest import (
    EXAMPLE,
    EXAMPLE_CONFIG,
    all_cell_text,
    bound_holds,
    find_table,
    score_cli,
    sheet_rows,
)

PERIOD_START, PERIOD_END = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-03-31")


@pytest.fixture(scope="module")
def example_return(tmp_path_factory):
    out = tmp_path_factory.mktemp("ret") / "return.xlsx"
    results = run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4")
    write_return(results, out)
    return results, openpyxl.load_workbook(out), out


def test_sheets_have_stable_names_and_order(example_return):
    results, wb, _ = example_return
    titles = [i.title[:31] for i in results.loaded.instruments]
    assert wb.sheetnames == [
        "Cover",
        "Contents",
        "Notes",
        "Summary",
        "Activity",
        *titles,
        "Before and after",
        "Time to next proceedings",
        "Annex - statistical tests",
        "Data quality",
        "Definitions",
        "Chart data",
    ]
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        if ws.title not in ("Cover", "Contents", "Notes", "Chart data"):
            assert ws.freeze_panes == "A3", ws.title


def test_cover_names_period_version_and_input_hashes(example_return):
    _, wb, _ = example_return
    rows = {r[0]: r[1] for r in sheet_rows(wb["Cover"]) if r[0]}
    assert rows["evaltool version"] == __version__
    assert rows["Period"] == "2025-26 Q4 (financial year): 01 Jan 2026 to 31 Mar 2026"
    digest = hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    label = next(k for k, v in rows.items() if v == digest)  # named by its tables, not its file
    assert label.startswith("clients, proceedings") and label.endswith("(xlsx)")
    assert "example-service" not in " ".join(str(k) for k in rows)
    key = {r[0]: r[1] for r in sheet_rows(wb["Notes"]) if r[0]}
    assert key["[c]"].startswith("confidential")


def test_activity_matches_an_independent_count(example_return):
    _, wb, _ = example_return
    clients = generate()["clients"]  # the example workbook is generate()'s default output
    service = clients[clients["cohort"] == "service"]
    referrals = service["referral_date"].between(PERIOD_START, PERIOD_END).sum()
    caseload = (
        (service["start_date"] <= PERIOD_END)
        & (service["end_date"].isna() | (service["end_date"] > PERIOD_END))
    ).sum()
    trend = find_table(wb["Activity"], "Activity by quarter (service cohort)").set_index("Quarter")
    assert trend.loc["2025-26 Q4", "Referrals"] in (referrals, "[c]")  # [c]: protected
    assert trend.loc["2025-26 Q4", "Active caseload at quarter end"] == caseload
    activity = _results_activity()[0]
    assert activity.data.set_index("Quarter").loc["2025-26 Q4", "Referrals"] == referrals


def _results_activity():
    return run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4").activity


def test_instrument_sheets_match_the_analyses(example_return):
    results, wb, _ = example_return
    for inst in results.loaded.instruments:
        ws = wb[inst.title[:31]]
        for table in results.summary_tables[inst.name]:
            got = find_table(ws, table.title)
            want = table.data.reset_index(drop=True)
            assert list(got.columns) == list(want.columns)
            for col in want.columns:
                for mine, theirs in zip(got[col], want[col], strict=True):
                    if mine in ("[c]", "[z]", "[x]"):
                        continue
                    if isinstance(mine, str) and (BAND.match(mine) or RANGE.match(mine)):
                        # a bound, or a count's range of tens: a true one
                        assert bound_holds(mine, theirs), (table.title, col, mine, theirs)
                        continue
                    if isinstance(theirs, float):  # as printed: to 1 decimal at least
                        assert mine == pytest.approx(theirs, abs=0.051), (table.title, col)
                    else:
                        assert mine == theirs, (table.title, col)


def test_before_after_and_survival_sheets_match_the_analyses(example_return):
    results, wb, _ = example_return
    gas = find_table(wb["Before and after"], "Goal attainment (GAS): first vs latest")
    row = results.comparisons.set_index("measure").loc["t_score"]
    assert gas.loc[0, "Pairs"] == row["n"]
    assert "t" not in gas.columns  # the tests are in the annex, beside the same pairs
    tests = find_table(
        wb["Annex - statistical tests"], "Goal attainment (GAS): tests of the change"
    )
    assert tests.loc[0, "Pairs"] == row["n"]
    assert tests.loc[0, "t"] == pytest.approx(row["t"], abs=0.0051)
    assert tests.loc[0, "p (Holm)"] == pytest.approx(row["p_holm"], abs=0.00051)
    km = find_table(
        wb["Time to next proceedings"], "Share with new care proceedings, at fixed times"
    )
    at = results.survival.survival_at_.set_index(["group", "days"])
    compared = 0
    for _, mine in km.iterrows():
        theirs = at.loc[(mine["Group"], mine["Days"])]
        if mine["At risk"] != "[c]":
            assert mine["At risk"] == theirs["at_risk"]
        share = mine["New proceedings (cumulative)"]
        if share == "[x]":  # not estimated: nobody in the group had joined by then
            assert theirs["entered"] == 0 and theirs["at_risk"] == 0
        elif share != "[c]":
            assert theirs["entered"] > 0
            assert share == pytest.approx(1 - theirs["survival"], abs=0.0005)
            compared += share > 0
    assert compared >= 1


def test_the_example_draws_no_empty_time_to_proceedings_chart(example_return):
    """The example's service and comparison shares at fixed times are all hidden or not
    available (only everyone's, at 36 months, is shown): words in the chart's place."""
    from evaltool.report.workbook import NO_CHART

    results, wb, _ = example_return
    ws = excel.build_workbook(output_for(results))["Time to next proceedings"]
    assert ws._charts == []
    assert NO_CHART in [c.value for row in wb["Time to next proceedings"].iter_rows() for c in row]


def test_the_km_chart_is_native_and_reads_the_published_points(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    data = write_csv_folder(generate(n_clients=400, seed=4), tmp_path / "data")
    settings = load_settings(EXAMPLE_CONFIG)
    results = run(data, settings, "2025-Q4")
    wb = openpyxl.load_workbook(write_return(results, tmp_path / "r.xlsx"))
    ws = excel.build_workbook(output_for(results))["Time to next proceedings"]
    (chart,) = ws._charts
    groups = [g for g in ("service", "comparison") if g in results.survival.km_]
    # the benchmark is a point on the chart only when measured like for like (issue 24.2);
    # the example's national figure is not (it counts from the earliest set in the records)
    benchmark = bool((results.survival.benchmark_ or {}).get("compared"))
    assert results.settings.benchmark is not None and not benchmark
    assert len(chart.series) == 3 * len(groups) + benchmark  # curve and CI limits per group
    with zipfile.ZipFile(tmp_path / "r.xlsx") as z:
        said = " ".join(
            z.read(n).decode() for n in z.namelist() if n.startswith("xl/drawings/drawing")
        )
    assert "share with new care proceedings" in said  # its alt text, with its figures
    km = find_table(
        wb["Time to next proceedings"], "Share with new care proceedings, at fixed times"
    )
    rows = sheet_rows(wb["Chart data"])
    label = next(
        i for i, r in enumerate(rows) if str(r[0] or "").startswith("Time to next proceedings:")
    )
    header = rows[label + 1]
    for group in groups:
        col = header.index(group)
        drawn = [r[col] for r in rows[label + 3 : label + 3 + 4]]
        table = km[km["Group"] == group]["New proceedings (cumulative)"].tolist()
        assert drawn == [None if v in ("[c]", "[x]") else v for v in table]
        assert any(v is not None for v in drawn)  # a point of its own at least
        # the line starts at 0 only where the first point is estimated (a cohort with
        # nobody joined by 6 months: not available, [x])
        assert rows[label + 2][col] == (None if table[0] == "[x]" else 0)
    # the chart reads the Chart data sheet: nothing beside the tables is printed
    refs = [s.yVal.numRef.f for s in chart.series]
    assert all(r.startswith("'Chart data'!") for r in refs)
    printed = {
        c.column for row in wb["Time to next proceedings"].iter_rows() for c in row if c.value
    }
    assert max(printed) <= 8


def test_number_formats(example_return):
    _, wb, _ = example_return
    ws = wb["Access to partner services"]
    rows = sheet_rows(ws)
    header = next(i for i, r in enumerate(rows) if r[0] == "Service type")
    col = rows[header].index("Share accessed") + 1
    assert ws.cell(row=header + 2, column=col).number_format == "0.0%"
    ba = wb["Annex - statistical tests"]
    hdr = next(i for i, r in enumerate(sheet_rows(ba)) if r[0] == "Measure")
    p_col = sheet_rows(ba)[hdr].index("p (t-test)") + 1
    assert ba.cell(row=hdr + 2, column=p_col).number_format == P_VALUE


def test_the_only_formulas_are_the_summarys_references_to_their_cells(example_return):
    """Every key figure of the Summary is a reference to the cell it comes from, and the file
    holds its value too (a reader in Protected View, or with data_only, sees the figure)."""
    _, wb, out = example_return
    values = openpyxl.load_workbook(out, data_only=True)
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                assert ws.title == "Summary", (ws.title, cell.coordinate)
                sheet, ref = cell.value[1:].rsplit("!", 1)
                target = values[sheet.strip("'")][ref].value
                assert target is not None
                assert values["Summary"][cell.coordinate].value == target, cell.coordinate
                seen += 1
    assert seen == 6 * 5  # six figures, five windows


def hostile_example(tmp_path, reasons: list[str]) -> tuple:
    tables = generate(150)
    clients = tables["clients"]
    closed = clients.index[clients["end_date"].between(PERIOD_START, PERIOD_END)]
    for k, idx in enumerate(closed):
        clients.loc[idx, "closure_reason"] = reasons[k % len(reasons)]
    # ids that cannot be mistaken for numbers, and a comment that must never be copied
    mapping = {cid: f"ID-{i:05d}" for i, cid in enumerate(clients["client_id"])}
    for frame in tables.values():
        if "client_id" in frame:
            frame["client_id"] = frame["client_id"].map(mapping)
    tables["feedback"].loc[:, "comment"] = "SECRET COMMENT about a named person"
    return write_csv_folder(tables, tmp_path / "hostile"), mapping


def test_free_text_in_a_coded_column_is_refused_and_never_reaches_a_return(tmp_path, runner):
    reasons = ['=HYPERLINK("http://example.invalid","x")', "+1+2", "@SUM(A1)", "disengagd"]
    data, _ = hostile_example(tmp_path, reasons)
    out = tmp_path / "r.xlsx"
    result = score_cli(runner, data, out)
    assert result.exit_code == 2, result.output
    assert not out.exists()
    assert "did you mean 'disengaged'" in result.output


def test_formula_text_from_the_settings_is_written_as_text(tmp_path, runner):
    config = tmp_path / "evaltool.toml"
    config.write_text('[service]\nname = "=HYPERLINK(\\"http://example.invalid\\",\\"x\\")"\n')
    out = tmp_path / "r.xlsx"
    result = score_cli(runner, EXAMPLE, out, config=config)
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(out)["Cover"]
    cell = next(r[1] for r in ws.iter_rows(max_col=2) if r[0].value == "Service")
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s" and cell.quotePrefix


def test_no_client_id_dates_of_birth_or_free_text_in_the_return(tmp_path, runner):
    data, mapping = hostile_example(tmp_path, ["completed"])
    out = tmp_path / "r.xlsx"
    result = score_cli(runner, data, out)
    assert result.exit_code == 0, result.output
    text = " ".join(all_cell_text(out))
    assert "ID-" not in text
    assert "SECRET COMMENT" not in text
    assert "birth_year" not in text
    internal = tmp_path / "internal.xlsx"
    score_cli(runner, data, internal, "--internal")
    wb = openpyxl.load_workbook(internal)
    marked = [ws for ws in wb.worksheets if ws["A1"].value == "INTERNAL – NOT FOR CIRCULATION"]
    with_ids = [
        ws
        for ws in wb.worksheets
        if any("ID-" in str(c.value) for row in ws.iter_rows() for c in row)
    ]
    assert with_ids and all(ws in marked for ws in with_ids)
    assert all(ws.oddHeader.center.text == "INTERNAL – NOT FOR CIRCULATION" for ws in marked)
    assert "SECRET COMMENT" not in " ".join(all_cell_text(internal))


def test_a_failed_save_leaves_the_old_return_and_no_temporary_file(
    example_return, tmp_path, monkeypatch
):
    results, _, _ = example_return
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"previous")

    def locked(src, dst):
        raise PermissionError("file is locked")

    from evaltool.report import files

    monkeypatch.setattr(files.os, "replace", locked)
    with pytest.raises(OutputError, match="may be open in Excel"):
        write_return(results, out, force=True)
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.xlsx"]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1-2", "@SUM(A1)", "\tx", "\rx", "\nx"])
def test_the_writer_never_makes_a_formula(tmp_path, text):
    wb = openpyxl.Workbook()
    sw = SheetWriter(wb.active, "t")
    cell = sw.put(5, 1, text)
    assert cell.data_type == "s" and cell.quotePrefix
    wb.save(tmp_path / "t.xlsx")
    back = openpyxl.load_workbook(tmp_path / "t.xlsx").active["A5"]
    assert back.data_type == "s" and back.value.strip() == text.strip()  # XML: CR -> LF


def test_every_page_prints_on_a4_with_a_header_and_footer(example_return):
    results, wb, _ = example_return
    service = results.settings.service
    for ws in wb.worksheets:
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4), ws.title
        assert ws.oddFooter.right.text == "Page &P of &N", ws.title
        assert ws.oddFooter.left.text.startswith(service.replace("&", "&&")), ws.title
        assert ws.oddHeader.right.text == "OFFICIAL", ws.title


def test_counts_axes_are_whole_numbers_and_p_is_never_zero(example_return):
    from evaltool.report.excel import p_text

    results, wb, _ = example_return
    assert p_text(1e-9) == "<0.001" and p_text(0.0004) == "<0.001" and p_text(0.0123) == 0.012
    ws = wb["Annex - statistical tests"]
    chi = next(r[0].row for r in ws.iter_rows() if r[0].value == "Chi-square")
    assert ws.cell(row=chi + 2, column=1).value == "p"
    assert ws.cell(row=chi + 2, column=2).value == p_text(results.survival.logrank_["p"])
    trend = excel.build_workbook(output_for(results))["Summary"]._charts[0]
    assert trend.y_axis.number_format.formatCode == "0"

"""The return as the government guidance for statistics in spreadsheets asks, and the Summary a
commissioner reads: contents, notes, one meaning per symbol, alt text, five windows."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from evaltool.analysis.windows import FOLLOWED, RETURNED, SHARE, recurrence_by_window
from evaltool.api import run
from evaltool.config import load_settings
from evaltool.periods import parse_period
from evaltool.report.disclosure import BAND, RANGE
from evaltool.report.excel import write_return
from evaltool.report.formats import BOUND_SYMBOL, RANGE_SYMBOL
from evaltool.synthetic import generate
from tests.conftest import EXAMPLE, EXAMPLE_CONFIG, find_table, sheet_rows

WINDOWS = (
    "This quarter",
    "Last quarter",
    "Same quarter last year",
    "Financial year to date",
    "All time",
)


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    folder = tmp_path_factory.mktemp("funder")
    mp = pytest.MonkeyPatch()
    mp.setenv("EVALTOOL_RECORD", str(folder / "record.sqlite"))
    results = run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4")
    out = write_return(results, folder / "r.xlsx")
    mp.undo()
    return results, out


def test_the_contents_sheet_links_every_sheet(example):
    _, out = example
    wb = openpyxl.load_workbook(out)
    contents = wb["Contents"]
    links = {
        c.value: c.hyperlink.location
        for row in contents.iter_rows()
        for c in row
        if c.hyperlink is not None
    }
    assert set(links) == set(wb.sheetnames)
    for title, location in links.items():
        assert location == f"'{title}'!A1" or location == f"{title}!A1", location


def test_every_chart_has_alt_text_that_gives_its_figures(example):
    _, out = example
    wb = openpyxl.load_workbook(out)
    charts = sum(len(ws._charts) for ws in wb.worksheets)
    with zipfile.ZipFile(out) as z:
        drawings = [
            z.read(n).decode()
            for n in z.namelist()
            if re.fullmatch(r"xl/drawings/drawing\d+\.xml", n)
        ]
    frames = [f for d in drawings for f in re.findall(r"<cNvPr [^>]*>", d)]
    assert charts >= 2 and len(frames) == charts
    texts = [re.search(r'descr="([^"]+)"', f).group(1) for f in frames]
    assert any(t.startswith("Line chart of activity by quarter") for t in texts)
    # the example has no chart of the time to new proceedings (its service and comparison
    # shares are hidden): test_return reads that chart's alt text on a larger service
    activity = find_table(wb["Activity"], "Activity by quarter (service cohort)")
    last = activity.iloc[-1]
    assert f"{last['Quarter']}: Referrals {last['Referrals']}" in " ".join(texts)


def test_no_symbol_has_two_meanings(example):
    """Every symbol in the key once; every text in a column of figures is a symbol of the key
    (or one of the two phrases that say what they mean: 'not reached', '<0.001')."""
    from evaltool.report.audit import read_return

    _, out = example
    wb = openpyxl.load_workbook(out)
    key = find_table(wb["Notes"], "Key to symbols")
    symbols = list(key["Symbol"])
    assert len(symbols) == len(set(symbols)) == len(set(key["Meaning"]))
    assert {"[c]", "[x]", "[z]"} <= set(symbols) and ":" not in symbols
    allowed = set(symbols) | {"not reached", "<0.001"}
    assert BOUND_SYMBOL in symbols  # each bound printed reads as the key gives them
    assert RANGE_SYMBOL in symbols  # and each count printed as a range
    for t in read_return(out).tables:
        for j, col in enumerate(t.columns):
            values = [r[j] for r in t.rows]
            if not any(isinstance(v, int | float) for v in values):
                continue  # a column of labels
            stray = {
                v for v in values if isinstance(v, str) and not (BAND.match(v) or RANGE.match(v))
            } - allowed
            assert not stray, (t.sheet, t.title, col, stray)


def test_the_dfe_profile_prints_c_colon_and_z(tmp_path, runner):
    from tests.conftest import score_cli

    config = tmp_path / "evaltool.toml"
    config.write_text(
        EXAMPLE_CONFIG.read_text().replace(
            "small_number_threshold = 5", 'small_number_threshold = 5\nsymbols = "dfe"'
        )
    )
    out = tmp_path / "r.xlsx"
    result = score_cli(runner, EXAMPLE, out, config=config)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    assert set(find_table(wb["Notes"], "Key to symbols")["Symbol"]) >= {"c", ":", "z"}
    text = {str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value}
    assert "c" in text and "[c]" not in text and "[x]" not in text


def test_an_unknown_symbol_profile_is_refused_with_the_choices(tmp_path):
    from evaltool.errors import ConfigError

    config = tmp_path / "evaltool.toml"
    config.write_text('[reporting]\nsymbols = "ons"\n')
    with pytest.raises(ConfigError, match="reporting.symbols is 'ons'; use one of: gss, dfe"):
        load_settings(config)


def _window_dates(period: str) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """The five windows worked out by hand for a financial-year quarter."""
    p = parse_period(period, "financial")
    end = pd.Timestamp(p.end)
    start = pd.Timestamp(p.start)
    last_start = start - pd.DateOffset(months=3)
    fy_start = pd.Timestamp(dt.date(p.year, 4, 1))
    return {
        "This quarter": (start, end),
        "Last quarter": (last_start, start - pd.Timedelta(days=1)),
        "Same quarter last year": (start - pd.DateOffset(years=1), end - pd.DateOffset(years=1)),
        "Financial year to date": (fy_start, end),
        "All time": (pd.Timestamp("1900-01-01"), end),
    }


def test_the_summarys_five_windows_agree_with_an_independent_count_and_the_activity_sheet(
    example,
):
    results, out = example
    clients = generate()["clients"]  # the example workbook is generate()'s default output
    service = clients[clients["cohort"] == "service"]
    windows = _window_dates("2025-Q4")
    wb = openpyxl.load_workbook(out, data_only=True)
    table = find_table(wb["Activity"], "Activity in each window (service cohort)")
    assert list(table["Window"]) == list(WINDOWS)
    summary = find_table(
        wb["Summary"], "Key figures (the parents this service works with)"
    ).set_index("Figure")
    compared = 0
    for k, (name, (lo, hi)) in enumerate(windows.items()):
        want = {
            "Referrals": service["referral_date"].between(lo, hi).sum(),
            "Starts": service["start_date"].between(lo, hi).sum(),
            "Closures": service["end_date"].between(lo, hi).sum(),
            "Active caseload at the end": (
                (service["start_date"] <= hi)
                & (service["end_date"].isna() | (service["end_date"] > hi))
            ).sum(),
        }
        words = {
            "Referrals": "Parents referred to us",
            "Starts": "Parents who started with us",
            "Closures": "Parents who finished with us",
            "Active caseload at the end": "Parents working with us at the end",
        }
        column = next(c for c in summary.columns if c.startswith(name))
        for col, value in want.items():
            shown = table.loc[k, col]
            assert summary.loc[words[col], column] == shown  # the Summary cites this cell
            if shown != "[c]":
                assert shown == value, (name, col)
                compared += 1
    assert compared >= 12


def test_new_proceedings_within_a_year_by_window_worked_out_by_hand():
    """Eight people, period 2025-26 Q4 (Jan-Mar 2026): who reached a year of follow-up after
    joining in each window, and who had new proceedings within it, read off the dates. The
    year is from joining (origin + entry), never from an index issued before it (issue 24)."""
    period = parse_period("2025-Q4", "financial")
    from evaltool.analysis.windows import summary_windows

    windows = summary_windows(period, dt.date(2023, 6, 1))
    ts = pd.Timestamp
    table = pd.DataFrame(
        [
            # A: a year on 10 Jan 2026, nothing new: this quarter, followed
            ("service", ts("2025-01-10"), 445.0, 0, 0.0),
            # B: new proceedings on day 100; a year on 1 Feb 2026: this quarter, returned
            ("service", ts("2025-02-01"), 100.0, 1, 0.0),
            # C: lost to follow-up on day 200: never followed for a year
            ("service", ts("2025-02-15"), 200.0, 0, 0.0),
            # D: a year on 1 Nov 2025 (last quarter); new proceedings on day 400, after it
            ("service", ts("2024-11-01"), 400.0, 1, 0.0),
            # E: a year on 20 Jan 2025 (same quarter last year); returned on day 30
            ("service", ts("2024-01-20"), 30.0, 1, 0.0),
            # F: comparison cohort: not the service's figure
            ("comparison", ts("2025-01-05"), 10.0, 1, 0.0),
            # G: index 1 Jun 2024, joined 300 days later (28 Mar 2025): a year after joining
            # on 28 Mar 2026 (this quarter); new proceedings on day 700, 400 after joining:
            # followed, not returned (from the index its year ended in 2025-26 Q1)
            ("service", ts("2024-06-01"), 700.0, 1, 300.0),
            # H: index 1 Jan 2024, joined on day 200 (19 Jul 2024), new proceedings on day 500,
            # 300 days after joining: returned; the year after joining ended 19 Jul 2025
            # (2025-26 Q2). Counted from the index its year ended 1 Jan 2025, with no return
            ("service", ts("2024-01-01"), 500.0, 1, 200.0),
        ],
        columns=["cohort", "origin", "time", "event", "entry"],
    )
    got = recurrence_by_window(table, windows, "after the origin").data.set_index("Window")
    expected = {
        "This quarter": (3, 1),  # A, B, G
        "Last quarter": (1, 0),  # D
        "Same quarter last year": (1, 1),  # E
        "Financial year to date": (5, 2),  # A, B, D, G, H
        "All time": (6, 3),  # A, B, D, E, G, H
    }
    for name, (n, k) in expected.items():
        assert (got.loc[name, FOLLOWED], got.loc[name, RETURNED]) == (n, k), name
        assert got.loc[name, SHARE] == pytest.approx(k / n)


def test_the_summary_puts_recurrence_first_and_says_what_comparisons_cannot_show(example):
    _, out = example
    ws = openpyxl.load_workbook(out, data_only=True)["Summary"]
    key = find_table(ws, "Key figures (the parents this service works with)")
    assert (
        key["Figure"]
        .iloc[0]
        .startswith(
            "Of parents followed for a year from the day they joined us, the share with new"
        )
    )
    assert [c.split(" (")[0] for c in key.columns[1:]] == list(WINDOWS)
    text = " ".join(str(r[0]) for r in sheet_rows(ws) if r[0])
    assert "not chosen at random" in text
    assert "a guide to scale, not the effect of the service" in text  # the benchmark caveat
    # the technical statistics are not on the Summary
    for word in ("t-test", "Holm", "Cohen", "Hedges", "Wilcoxon", "hazard"):
        assert word not in text


def test_cells_keep_their_places_from_one_quarter_to_the_next(tmp_path):
    """A quarter later the activity table has one more row; every other table of the
    Summary and Activity sheets starts on the same row, so the Summary's references and a
    funder's own formulas keep pointing at the same figures."""
    settings = load_settings(EXAMPLE_CONFIG)
    starts = {}
    for period in ("2025-Q3", "2025-Q4"):
        out = write_return(run(EXAMPLE, settings, period), tmp_path / f"{period}.xlsx")
        wb = openpyxl.load_workbook(out)
        starts[period] = {
            (ws.title, r[0].value): r[0].row
            for ws in (wb["Summary"], wb["Activity"])
            for r in ws.iter_rows(max_col=1)
            if r[0].font.bold and r[0].value
        }
        formulas = [c.value for row in wb["Summary"].iter_rows() for c in row if c.data_type == "f"]
        starts[period]["formulas"] = tuple(formulas)
    q3, q4 = starts["2025-Q3"], starts["2025-Q4"]
    assert q3["formulas"] == q4["formulas"]
    shared = {k for k in q3 if k != "formulas"} & set(q4)
    assert ("Activity", "Closures by reason") in shared
    assert {k: q3[k] for k in shared} == {k: q4[k] for k in shared}


def test_new_proceedings_within_a_year_by_group_worked_out_by_hand():
    from evaltool.analysis.windows import recurrence_by_group, summary_windows

    period = parse_period("2025-Q4", "financial")
    every = summary_windows(period, dt.date(2023, 6, 1))[-1]
    ts = pd.Timestamp
    table = pd.DataFrame(
        [  # cohort, origin, time, event, age band, gender, financial year of the origin
            ("service", ts("2025-01-10"), 445.0, 0, "under 20", "female", "2024-25"),
            ("service", ts("2025-02-01"), 100.0, 1, "under 20", "female", "2024-25"),
            ("service", ts("2024-11-01"), 400.0, 1, "25-29", None, "2024-25"),
            ("service", ts("2023-01-20"), 30.0, 1, None, "male", "2022-23"),
            ("service", ts("2025-06-01"), 200.0, 0, "30 and over", "female", "2025-26"),
        ],
        columns=["cohort", "origin", "time", "event", "age_band", "gender", "origin_year"],
    ).assign(entry=0.0)  # each joined on her origin: the year after joining is from it
    got = recurrence_by_group(table, every).data.set_index(["Split by", "Group"])
    want = {
        ("Age at origin", "under 20"): (2, 1),
        ("Age at origin", "20-24"): (0, 0),
        ("Age at origin", "25-29"): (1, 0),  # new proceedings on day 400: after the year
        ("Age at origin", "30 and over"): (0, 0),  # the fifth: no year of follow-up yet
        ("Age at origin", "not recorded"): (1, 1),
        ("Gender", "female"): (2, 1),
        ("Gender", "male"): (1, 1),
        ("Gender", "not recorded"): (1, 0),
        ("Financial year of origin", "before 2023-24"): (1, 1),  # before the service's first
        ("Financial year of origin", "2023-24"): (0, 0),
        ("Financial year of origin", "2024-25"): (3, 1),
        ("Financial year of origin", "2025-26"): (0, 0),
    }
    for key, (n, k) in want.items():
        assert (got.loc[key, FOLLOWED], got.loc[key, RETURNED]) == (n, k), key
    for split in ("Age at origin", "Gender", "Financial year of origin"):
        assert got.loc[split, FOLLOWED].sum() == 4  # each split adds up to the four followed


def test_the_groups_of_two_returns_cannot_be_subtracted_to_give_a_quarters_few(tmp_path):
    """A reader with last quarter's return and this one subtracts each group's all-time
    figures: the difference is a quarter's count for the group, and never a small one shown."""
    settings = load_settings(EXAMPLE_CONFIG)
    tables = {}
    for period in ("2025-Q3", "2025-Q4"):
        out = write_return(run(EXAMPLE, settings, period), tmp_path / f"{period}.xlsx")
        ws = openpyxl.load_workbook(out)["Time to next proceedings"]
        title = "New care proceedings within a year, by group (service cohort, all time)"
        tables[period] = find_table(ws, title).set_index(["Split by", "Group"])
    before, after = tables["2025-Q3"], tables["2025-Q4"]
    checked = 0
    for key in before.index.intersection(after.index):
        for col in (FOLLOWED, RETURNED):
            a, b = before.loc[key, col], after.loc[key, col]
            if isinstance(a, str) or isinstance(b, str):  # hidden: [c], or a range of tens
                continue
            assert b - a == 0 or b - a > 5, (key, col, a, b)
            checked += 1
    assert checked >= 10

"""The attacks of a reader with the return, a spreadsheet and an afternoon, each written out here
independently of the code it checks (the identities by hand, solved with scipy's MILP)."""

from __future__ import annotations

import os

import numpy as np
import openpyxl
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from evaltool.analysis.activity import activity_tables
from evaltool.instruments.results import Implied, Relation, SummaryTable
from evaltool.periods import parse_period
from evaltool.report.disclosure import SUPPRESSED, audit, protect
from evaltool.synthetic import generate
from tests.conftest import find_table

SHOWN_C = "[c]"  # the return's symbol for a hidden cell (the default, bracketed profile)

THRESHOLD = 5


def narrowest(unknowns, equations, target):
    """The least and greatest whole value of ``target`` over whole numbers >= 0 that satisfy
    ``equations`` (each a dict unknown -> coefficient, and a constant: sum + constant == 0)."""
    index = {u: i for i, u in enumerate(unknowns)}
    a = np.zeros((len(equations), len(unknowns)))
    rhs = np.zeros(len(equations))
    for k, (coefs, const) in enumerate(equations):
        for u, c in coefs.items():
            a[k, index[u]] += c
        rhs[k] = -const
    c = np.zeros(len(unknowns))
    c[index[target]] = 1
    cons = LinearConstraint(a, rhs, rhs)
    bounds = Bounds(np.zeros(len(unknowns)), np.full(len(unknowns), 1e6))
    integ = np.ones(len(unknowns))
    lo = milp(c, constraints=cons, bounds=bounds, integrality=integ)
    hi = milp(-c, constraints=cons, bounds=bounds, integrality=integ)
    assert lo.status == 0, "the true values must satisfy the identities"
    assert hi.status == 0
    return round(lo.fun), (round(-hi.fun) if -hi.fun < 1e6 - 0.5 else np.inf)


def test_a_total_minus_the_shown_parts_no_longer_pins_two_hidden_cells():
    # 7 + 6 + 1 + 1 = 15: the old rule hid only the two 1s, which a reader gets back as
    # exactly 1 and 1 (15 - 7 - 6 = 2, both at least 1) or at least to within 0..2
    frame = pd.DataFrame({"Reason": ["a", "b", "c", "d", "All"], "Closures": [7, 6, 1, 1, 15]})
    table = SummaryTable("t", "t", frame, counts=("Closures",), total_row="All")
    old = {("t", 2, "Closures"), ("t", 3, "Closures")}
    values = {("t", r, "Closures"): v for r, v in enumerate([7, 6, 1, 1, 15])}
    leaks = audit(
        values,
        old,
        [
            Relation(
                tuple(((("t", r, "Closures")), 1.0) for r in range(4))
                + ((("t", 4, "Closures"), -1.0),)
            )
        ],
        THRESHOLD,
    )
    assert {leak.cell for leak in leaks} == old
    shown = protect([table], THRESHOLD)["t"].values["Closures"].tolist()
    hidden = [r for r, v in enumerate(shown) if v == SUPPRESSED]
    # the attacker: the hidden parts sum to the total less the shown parts
    unknowns = [f"x{r}" for r in hidden]
    const = sum(v for v in shown[:4] if v != SUPPRESSED)
    eq = {f"x{r}": 1 for r in hidden if r < 4}
    if 4 in hidden:
        eq["x4"] = -1
        equations = [(eq, const)]
    else:
        equations = [(eq, const - 15)]
    for u in unknowns:
        lo, hi = narrowest(unknowns, equations, u)
        assert hi - lo >= THRESHOLD, (u, lo, hi, shown)


def _activity(n: int, seed: int, period: str):
    clients = generate(n_clients=n, seed=seed)["clients"]
    for col in ("referral_date", "start_date", "end_date"):
        clients[col] = pd.to_datetime(clients[col])
    return activity_tables(clients, parse_period(period, "financial"))


@pytest.mark.parametrize(("n", "seed", "period"), [(150, 20260401, "2025-Q4"), (30, 7, "2025-Q2")])
def test_the_accounting_identities_recover_no_hidden_activity_count(n, seed, period):
    tables = _activity(n, seed, period)
    shown = protect(tables, THRESHOLD)
    trend = shown["activity"].values
    truth = tables[0].data
    cols = [
        "Referrals",
        "Starts",
        "Closures",
        "Active caseload at quarter end",
        "Waiting at quarter end",
    ]
    unknowns, equations = [], []

    def term(q, col):
        v = trend.at[q, col]
        if v == SUPPRESSED:
            name = f"{col}@{q}"
            if name not in unknowns:
                unknowns.append(name)
            return name, None
        return None, float(v)

    for q in range(len(trend)):
        # closures = closures of started cases (s) + closures while waiting (w), both unseen
        s, w = f"s{q}", f"w{q}"
        unknowns += [s, w]
        rows = [
            [("Closures", q, 1), (s, None, -1), (w, None, -1)],
            [
                ("Active caseload at quarter end", q, 1),
                ("Active caseload at quarter end", q - 1, -1),
                ("Starts", q, -1),
                (s, None, 1),
            ],
            [
                ("Waiting at quarter end", q, 1),
                ("Waiting at quarter end", q - 1, -1),
                ("Referrals", q, -1),
                ("Starts", q, 1),
                (w, None, 1),
            ],
        ]
        for row in rows:
            coefs, const = {}, 0.0
            for col, qq, c in row:
                if qq is None:
                    coefs[col] = coefs.get(col, 0) + c
                    continue
                if qq < 0:
                    continue
                name, value = term(qq, col)
                if name:
                    coefs[name] = coefs.get(name, 0) + c
                else:
                    const += c * value
            equations.append((coefs, const))
    checked = 0
    for q in range(len(trend)):
        for col in cols:
            if trend.at[q, col] == SUPPRESSED:
                lo, hi = narrowest(unknowns, equations, f"{col}@{q}")
                assert lo <= truth.at[q, col] <= hi
                # narrowed below threshold + 1 values only where it cannot be a small count
                assert hi - lo >= THRESHOLD or lo > THRESHOLD, (q, col, lo, hi)
                checked += 1
    assert checked > 0  # the attack had something to try


def test_everyone_in_one_category_is_not_shown():
    frame = pd.DataFrame(
        {
            "Care status": ["with parent", "with family", "in care", "All live births"],
            "Babies": [0, 0, 7, 7],
        }
    )
    table = SummaryTable("b", "b", frame, counts=("Babies",), total_row="All live births")
    shown = protect([table], THRESHOLD)["b"].values["Babies"].tolist()
    assert shown[:3] == [SUPPRESSED] * 3  # which category holds the 7 cannot be read


def test_the_events_between_two_fixed_times_are_protected():
    # cumulative events 8 by 24 months and 10 by 36: two people between, from shown cells
    frame = pd.DataFrame({"Months": [24, 36], "Events so far": [8, 10]})
    implied = Implied(
        "between", ((("km", 1, "Events so far"), 1.0), (("km", 0, "Events so far"), -1.0))
    )
    table = SummaryTable("km", "km", frame, counts=("Events so far",), relations=(implied,))
    shown = protect([table], THRESHOLD)["km"].values["Events so far"].tolist()
    assert SUPPRESSED in shown
    known = [v for v in shown if v != SUPPRESSED]
    assert len(known) < 2  # no two shown cumulative counts left to subtract


def test_the_example_return_leaks_nothing_the_attacks_can_find(tmp_path):
    """The demo return: hidden activity counts checked by the identities above, shares
    and means rounded as printed, and each Summary figure equal to the cell it cites."""
    from evaltool.api import load_settings, run
    from evaltool.report.excel import write_return
    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

    results = run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4")
    out = write_return(results, tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(out)
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, float) and cell.number_format in ("0.0%", "0.00"):
                    assert cell.value == round(cell.value, 3)
    summary = {r[0].value: r[1].value for r in wb["Summary"].iter_rows(max_col=2) if r[0].value}
    gas = find_table(wb["Goal attainment (GAS)"], "Goal attainment (GAS): T-scores")
    to_date = gas.set_index("Window").loc["To date"]
    line = summary["Goal attainment (GAS)"]
    assert f"{to_date['Mean baseline T']:.1f} on average at the first review" in line
    assert f"{to_date['Mean latest T']:.1f} at the latest" in line
    assert f"(change {to_date['Mean change in T']:+.1f})" in line


@pytest.mark.skipif(
    not os.environ.get("EVALTOOL_SLOW"),
    reason="90 s of the suite: set EVALTOOL_SLOW=1 to run (passed on 2026-12-06; the "
    "5-client whole series and the example's two-quarter group test run by default)",
)
def test_the_series_of_returns_gives_nothing_away_by_differencing_or_reprinting(tmp_path):
    """Every quarter of the example from 2023-Q4 to 2025-Q4, each written with the record of
    the ones before: a reader with all nine returns subtracts "to date" figures between
    consecutive returns and compares the activity rows each return prints again."""
    from evaltool.api import load_settings, run
    from evaltool.report.excel import write_return
    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG, find_table

    settings = load_settings(EXAMPLE_CONFIG)
    quarters = [f"{y}-Q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)][3:]
    closures, activity = {}, {}
    for code in quarters:
        out = write_return(run(EXAMPLE, settings, code), tmp_path / f"{code}.xlsx")
        sheet = openpyxl.load_workbook(out)["Activity"]
        closures[code] = find_table(sheet, "Closures by reason")
        activity[code] = find_table(sheet, "Activity by quarter (service cohort)")
    from evaltool.report.audit import attack

    assert attack([tmp_path / f"{code}.xlsx" for code in quarters]) == []
    differenced = 0
    for before, after in zip(quarters, quarters[1:], strict=False):
        old = closures[before][closures[before]["Window"] == "To date"].set_index("Closure reason")
        new = closures[after].set_index(["Window", "Closure reason"])
        for reason in old.index:
            quarter = new.loc[("Quarter", reason), "Closures"]
            now, then = new.loc[("To date", reason), "Closures"], old.loc[reason, "Closures"]
            if quarter == SHOWN_C:
                # the attack: to date now minus to date last quarter, a small count?
                assert SHOWN_C in (now, then) or now - then > THRESHOLD, (after, reason)
                differenced += 1
    assert differenced > 0
    # a quarter's activity row printed again: a figure once shown is never hidden later (it
    # is public), and one once hidden is shown later only if it is no small count
    seen: dict[tuple[str, str], object] = {}
    for code in quarters:
        table = activity[code].set_index("Quarter")
        for q in table.index:
            for col in table.columns:
                value = table.at[q, col]
                before = seen.get((q, col))
                if "Median" not in col and before is not None and before != value:
                    assert before == SHOWN_C and value > THRESHOLD, (code, q, col, before)
                seen[(q, col)] = value


@pytest.fixture(scope="module")
def example_q4(tmp_path_factory):
    from evaltool.api import load_settings, run
    from evaltool.report.excel import write_return
    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

    mp = pytest.MonkeyPatch()
    folder = tmp_path_factory.mktemp("q4")
    mp.setenv("EVALTOOL_RECORD", str(folder / "record.sqlite"))
    results = run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4")
    out = write_return(results, folder / "r.xlsx")
    mp.undo()
    return results, out


def test_no_count_from_one_to_the_threshold_is_printed_anywhere(example_q4):
    """Read back as a reader would: every column of whole numbers that is a count, in every
    table of every sheet (Data quality and exclusions too), holds no 1 to 5."""
    from evaltool.report.audit import read_return

    _, out = example_q4
    tables = read_return(out).tables
    assert len(tables) > 15
    for t in tables:
        for col in t.counts():
            j = t.columns.index(col)
            small = [r[j] for r in t.rows if isinstance(r[j], int | float) and 1 <= r[j] <= 5]
            assert not small, (t.sheet, t.title, col, small)


def test_every_headline_figure_is_the_cell_it_cites(example_q4):
    from evaltool.instruments.results import Headline
    from evaltool.report.audit import read_return

    results, out = example_q4
    tables = {(t.sheet, t.title): t for t in read_return(out).tables}
    summary = openpyxl.load_workbook(out)["Summary"]
    lines = {r[0].value: r[1].value for r in summary.iter_rows(max_col=2) if r[0].value}
    checked = 0
    for inst in results.loaded.instruments:
        headline = results.headlines[inst.name]
        assert isinstance(headline, Headline), inst.name  # built-ins cite, never recompute
        line = lines[inst.title]
        if line.startswith(("figures not shown", "no data")) or headline.empty:
            continue
        for cite in headline.cites:
            spec = next(t for t in results.summary_tables[inst.name] if t.name == cite.table)
            table = tables[(inst.title[:31], spec.title)]
            cell = table.rows[cite.row][table.columns.index(cite.column)]
            assert cite.format_for(spec).format(cell) in line, (inst.name, cite, cell, line)
            checked += 1
    assert checked >= 8


def _strata(results):
    from evaltool.analysis.windows import STRATA
    from evaltool.report.publish import gather

    return next(t for ts in gather(results).values() for t in ts if t.name == STRATA)


def test_every_quarters_people_in_a_group_are_watched_not_only_the_newest():
    """Adversary's finding (60 clients, seed 11): the 2025-Q3 return's figures, less the
    2025-Q2 return's, narrowed Q2's under-20 parents followed for a year (1) to 0..1, because
    a return watched only its newest quarter's people in a group. Each quarter's count is an
    unseen quantity of the tables, watched where from 1 to the threshold."""
    from evaltool.api import run
    from evaltool.config import load_settings
    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

    results = run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4")
    for table in (results.recurrence, _strata(results)):
        quarters = {name.rsplit(", ", 1)[1] for name in table.unseen}
        assert {"2025-Q4", "2025-Q3", "2024-Q4", "2024-Q1"} <= quarters, table.name


@pytest.mark.skipif(
    not os.environ.get("EVALTOOL_SLOW"),
    reason="30 s: set EVALTOOL_SLOW=1 to run (passed on 2026-12-07; fails with the newest "
    "quarter alone watched)",
)
def test_a_later_return_never_narrows_an_earlier_quarters_group(tmp_path, monkeypatch):
    """The adversary's series itself: three final returns, then the record (everything the
    three sent, and what each says) audited with every small quarter's group watched."""
    from evaltool.api import run
    from evaltool.config import load_settings
    from evaltool.report.output import write_output
    from evaltool.report.publish import _as_ref
    from evaltool.report.record import read
    from evaltool.synthetic import write_csv_folder
    from tests.conftest import EXAMPLE_CONFIG

    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    settings = load_settings(EXAMPLE_CONFIG)
    data = write_csv_folder(generate(n_clients=60, seed=11), tmp_path / "data")
    truth: dict[str, float] = {}
    for q in ("2025-Q1", "2025-Q2", "2025-Q3"):
        results = run(data, settings, q)
        write_output(results, tmp_path / f"{q}.xlsx", final=True)
        truth |= results.recurrence.unseen | _strata(results).unseen
    earlier = read(tmp_path / "record.sqlite", settings.service)
    value = {_as_ref(k): v for k, (v, h) in earlier.cells.items() if not h}
    hidden = {_as_ref(k) for k, (_, h) in earlier.cells.items() if h}
    rels = [
        Relation(tuple((t if t.startswith("~") else _as_ref(t), c) for t, c in terms), op)
        for op, terms in earlier.relations
    ]
    small = {f"~{name}" for name, x in truth.items() if 1 <= x <= 5}
    under_20 = "~recurrence-groups: Age at origin=under 20, Parents followed for a year, 2025-Q2"
    assert under_20 in small
    assert audit(value, hidden, rels, 5, small, small) == []

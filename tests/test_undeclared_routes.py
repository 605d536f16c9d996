"""Routes an adversary found on 2026-12-07 through figures no relation tied to the counts
(each worked out against the synthetic input; see docs/disclosure.md):

- the Data quality sheet's rows read: feedback rows are the responses to date (less last
  return's: the quarter's hidden responses), client rows are the clients analysed plus those
  not analysed by reason (never started: hidden, exact);
- the power table's share in the service cohort, to 0.1%, beside the clients shown: 7 of 8
  gave the 1 comparison parent hidden beside it;
- a quarter's client-years to 0.1 of a year bound its caseload, starts and closures (tested
  in test_instruments: the quarter has none now, to date is in whole years)."""

from __future__ import annotations

import dataclasses

import pytest

from evaltool.api import load_settings, run
from evaltool.report.publish import publish
from evaltool.synthetic import generate, write_csv_folder
from tests.conftest import EXAMPLE_CONFIG


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """12 clients (seed 3) in 2024-Q4: 8 referred by then, all analysed, 7 of them in the
    service cohort."""
    folder = tmp_path_factory.mktemp("small")
    mp = pytest.MonkeyPatch()
    mp.setenv("EVALTOOL_RECORD", str(folder / "record.sqlite"))
    data = write_csv_folder(generate(n_clients=12, seed=3), folder / "data")
    settings = load_settings(EXAMPLE_CONFIG)
    results = run(data, settings, "2024-Q4")
    yield results, publish(results)
    mp.undo()


def test_a_published_return_gives_the_tables_read_without_their_rows(small):
    results, pub = small
    [table] = pub.sheets["Data quality"]
    assert list(table.data.columns) == ["Table"] and not table.counts
    assert {"clients", "feedback"} <= set(table.data["Table"])
    # shared under agreement (exact counts anyway): the rows, as read
    shared = dataclasses.replace(results.settings, audience="shared")
    loaded = dataclasses.replace(results.loaded, settings=shared)
    [rows] = publish(dataclasses.replace(results, loaded=loaded)).sheets["Data quality"]
    got = dict(zip(rows.data["Table"], rows.data["Rows"], strict=True))
    assert got["clients"] == len(results.loaded.dataset.clients) == 8  # referred by then


def test_the_power_of_the_comparison_is_hidden_with_the_cohorts_counts(small):
    _, pub = small
    power = pub.shown["power"].values
    medians = pub.shown["km-median"].values.set_index("Group")
    truth = next(t for ts in pub.sheets.values() for t in ts if t.name == "power").data
    # 7 of 8 in the service cohort (87.5%): the 1 comparison parent is hidden, so the 7 is,
    # and so is the hazard ratio worked out from it
    assert (truth.at[0, "Parents in the service cohort"], truth.at[0, "All parents"]) == (7, 8)
    assert medians.at["comparison", "Clients"] == "c"
    assert power.at[0, "Parents in the service cohort"] == "c"
    assert "Share in the service cohort" not in power  # the reader divides two counts
    assert power.at[0, "Smallest effect detectable (HR below)"] == "c"
    # the power's counts are the medians table's: one quantity each
    assert power.at[0, "All parents"] == medians.at["all", "Clients"] == 8


def test_the_audit_adds_the_two_cohorts_up_to_all(small, tmp_path):
    # a return that showed the 7 in the service cohort beside all 8 (as none does now) gives
    # the 1 comparison parent: evaltool audit knows the cohorts add up to all
    from evaltool.report.audit import attack
    from evaltool.report.excel import write_return
    from tests.test_audit import edit

    results, _ = small
    path = write_return(results, tmp_path / "r.xlsx", final=False)
    assert attack([path]) == []
    edit(path, "Time to next proceedings", "Median time to new proceedings", {(1, "Clients"): 7})
    found = [f.message for f in attack([path])]
    assert any("comparison" in m and "exactly 1" in m for m in found), found


@pytest.mark.parametrize("keep", [None, 2])
def test_no_test_statistic_is_shown_beside_a_hidden_split_of_its_pairs(tmp_path, keep):
    # an adversary (2026-12-07): 6 GBO pairs, Wilcoxon V = 20 of a possible 21 beside
    # 0 unchanged: the ranks 2..6 are the improved and rank 1 the worse, so 5 and 1, both
    # hidden; the note "zero changes dropped" said someone was unchanged
    mp = pytest.MonkeyPatch()
    mp.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    data = write_csv_folder(generate(n_clients=12, seed=3), tmp_path / "data")
    settings = dataclasses.replace(load_settings(EXAMPLE_CONFIG), protection_values=keep)
    checked = 0
    for period in ("2024-Q4", "2025-Q1"):
        pub = publish(run(data, settings, period))
        for name, tests in pub.shown.items():
            if not name.startswith("tests-"):
                continue
            split = pub.shown[name.replace("tests-", "compare-", 1)].values
            holm_hidden = False
            for r in range(len(tests.values)):
                row = tests.values.iloc[r]
                if any(split.at[r, c] == "c" for c in ("Improved", "Unchanged", "Worse")):
                    checked += 1
                    for col in tests.values.columns.drop(["Measure", "Pairs"]):
                        assert row[col] == "c", (period, name, r, col, row[col])
                holm_hidden |= row["p (Holm)"] == "c"
            if holm_hidden:  # adjusted over every row: hidden in all
                assert (tests.values["p (Holm)"] == "c").all()
    mp.undo()
    assert checked  # the service has rows with a hidden split


def test_a_share_is_never_shown_beside_its_hidden_denominator(small):
    # an adversary (2026-12-07): 12 positive answers of a hidden count, at 60.0%, gave the
    # count (20); less last return's 19, the quarter's one answer, and its "0 positive" the
    # one respondent's answer. Every share a table declares is hidden (or a bound) wherever
    # its numerator or its denominator is
    from evaltool.report.disclosure import BAND

    _, pub = small
    checked = 0
    for tables in pub.sheets.values():
        for t in tables:
            shown = pub.shown[t.name].values
            for share, (num, den) in t.ratios.items():
                for r in range(len(shown)):
                    if "c" in (shown.at[r, num], shown.at[r, den]):
                        checked += 1
                        value = shown.at[r, share]
                        assert value == "c" or BAND.match(str(value)), (t.name, r, share, value)
    assert checked


def test_goal_rating_means_are_of_parents_not_goals(small):
    # an adversary (2026-12-07): the quarter's 6 goals and to date's 12 were 6 apart, so both
    # rows' means were shown, but the goals were of 4 and 7 parents: 12 x 2.08 - 6 x 2 = 13
    # gave the first ratings of the 3 parents between them. The means now count parents
    from evaltool.plugins.goal_based_outcomes import PEOPLE

    _, pub = small
    gbo = next(t for ts in pub.sheets.values() for t in ts if t.name == "gbo").data
    shown = pub.shown["gbo"].values
    rows = {w: i for i, w in enumerate(gbo["Window"])}
    q, td = rows["Quarter"], rows["To date"]
    assert (gbo.at[q, "Goals rated twice or more"], gbo.at[td, "Goals rated twice or more"]) == (
        6,
        12,
    )
    assert (gbo.at[q, "Clients"], gbo.at[td, "Clients"]) == (4, 7)
    assert (gbo.at[q, PEOPLE], gbo.at[td, PEOPLE]) == (3, 6)  # with a goal rated twice
    for col in ("Mean first rating", "Mean latest rating", "Mean change"):
        assert shown.at[q, col] == "c"  # of 3 parents: a small count, and 3 from to date's

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
    # the 7 and the 8 are never both shown (which one is hidden is the protection's choice)
    shown = [power.at[0, c] for c in ("Parents in the service cohort", "All parents")]
    assert "c" in shown
    assert "Share in the service cohort" not in power  # the reader divides two counts
    assert power.at[0, "Smallest effect detectable (HR below)"] == "c"
    # the power's counts are the medians table's: one quantity each
    assert power.at[0, "All parents"] == medians.at["all", "Clients"]
    assert power.at[0, "Parents in the service cohort"] == medians.at["service", "Clients"]


def test_the_audit_adds_the_two_cohorts_up_to_all(small, tmp_path):
    # a return that showed the 7 in the service cohort beside all 8 (as none does now) gives
    # the 1 comparison parent: evaltool audit knows the cohorts add up to all
    from evaltool.report.audit import attack
    from evaltool.report.excel import write_return
    from tests.test_audit import edit

    results, _ = small
    path = write_return(results, tmp_path / "r.xlsx", final=False)
    assert attack([path]) == []
    changes = {(0, "Clients"): 8, (1, "Clients"): 7}
    edit(path, "Time to next proceedings", "Median time to new proceedings", changes)
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
    # and of goals: printed to 2 decimals beside a hidden count of goals, their whole sums
    # gave it (an adversary, 2026-12-07: 3.75 and 2.33 over "10 to 19" goals rated twice, 12
    # only, and with 11 improved one goal not), so they are hidden wherever it is
    hidden = pub.shown["gbo"].suppressed
    rated = ("gbo", "Goals rated twice or more")
    assert table_of(pub, "gbo").hidden_with["Mean change"] == (rated,)
    for r in range(len(gbo)):
        if hidden.at[r, "Goals rated twice or more"]:
            assert all(hidden.at[r, c] for c in ("Mean first rating", "Mean change")), r


def table_of(pub, name):
    return next(t for ts in pub.sheets.values() for t in ts if t.name == name)


def test_a_quarters_closures_while_waiting_are_watched():
    """Four shown figures give a quarter's referrals closed before they started: referrals
    - starts - waiting at the end + waiting at the start. 10 referred in 2025-26 Q1, 8 started,
    none waiting before or after: 2 closed while waiting, a count of people, exact, though
    no table prints it (the quarter's 8 closures are 6 of started cases and these 2). Worked
    out by hand; on the old code every figure was shown."""
    import pandas as pd

    from evaltool.analysis.activity import activity_tables
    from evaltool.periods import make_period
    from evaltool.report.disclosure import Cells, audit, hidden_refs, protect, table_relations

    day = pd.Timestamp
    rows = [(day("2025-01-10"), day("2025-02-01"), pd.NaT, None)] * 10  # Q1: 10 start
    rows += [(day("2025-04-10"), day("2025-05-01"), day("2025-06-01"), "completed")] * 6
    rows += [(day("2025-04-10"), day("2025-05-01"), pd.NaT, None)] * 2  # Q2: 8 start, 6 end
    rows += [(day("2025-04-10"), pd.NaT, day("2025-06-01"), "disengaged")] * 2  # never started
    clients = pd.DataFrame(
        rows, columns=["referral_date", "start_date", "end_date", "closure_reason"]
    )
    clients.insert(0, "client_id", [f"C{i}" for i in range(len(clients))])
    tables = activity_tables(clients, make_period(2025, 1, "financial"))
    trend = tables[0].data.set_index("Quarter")
    assert trend.loc["2025-26 Q1", ["Referrals", "Starts", "Closures"]].tolist() == [10, 8, 8]
    waiting = "activity: closures while waiting, 2025-26 Q1"
    assert tables[0].unseen[waiting] == 2
    shown = protect(tables, 5)
    cells = Cells(tables)
    hidden = hidden_refs(shown)
    values = {k: v for k, v in cells.value.items() if k not in hidden}
    relations = [rel for t in tables for rel in table_relations(t)]
    assert audit(values, hidden, relations, 5, {waiting}) == []
    # the reader's view on the old code: every trend figure shown pins the 2
    trend_cells = {ref: v for ref, v in cells.value.items() if ref[0] == "activity"}
    [leak] = audit(trend_cells, set(), relations, 5, {waiting})
    assert (leak.cell, leak.high) == (waiting, 2)  # 0 to 2 at most (in truth exactly 2)
    assert len(hidden & set(trend_cells)) >= 1


def test_the_service_cohort_analysed_is_the_parents_started(tmp_path, monkeypatch):
    """25 clients (seed 1252) in 2025-Q4: 17 started, all 17 analysed in the service cohort,
    22 analysed in all, so 5 in the comparison cohort, hidden. No reason other than "never
    started" left anyone out (each shown as 0), so the all-time starts are the service
    parents analysed; the code before showed the starts, 17, beside the 22, which gave the 5.
    Found by mining the identities that hold on every synthetic service."""
    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    data = write_csv_folder(generate(n_clients=25, seed=1252), tmp_path / "data")
    results = run(data, load_settings(EXAMPLE_CONFIG), "2025-Q4")
    pub = publish(results)
    truth = {t.name: t.data for ts in pub.sheets.values() for t in ts}
    windows = truth["activity-windows"].set_index("Window")
    med = truth["km-median"].set_index("Group")
    assert windows.at["All time", "Starts"] == med.at["service", "Clients"] == 17
    assert (med.at["all", "Clients"], med.at["comparison", "Clients"]) == (22, 5)
    shown_windows = pub.shown["activity-windows"].values.set_index("Window")
    shown_med = pub.shown["km-median"].values.set_index("Group")
    why = pub.shown["km-exclusions"].values
    others = why[why["Reason"] != "service cohort: never started"]["Clients"].tolist()
    assert others == [0, 0, 0, 0]  # nobody else left out, as the reader sees
    # hidden: "c", or the range of tens it is in (0 to 9: ten values, not the 5)
    assert shown_med.at["comparison", "Clients"] in ("c", "0 to 9")
    # so the starts and the 22 are not both shown exactly: they would give the 5
    exact = [
        isinstance(v, int | float)
        for v in (shown_windows.at["All time", "Starts"], shown_med.at["all", "Clients"])
    ]
    assert not all(exact)


def test_the_goal_ratings_before_and_after_are_the_goal_table_to_date(small):
    """The GBO Before and after row counts the parents with a goal rated twice and their
    goals: the goal table's "To date" row prints both again (equal on every synthetic
    service, found by mining identities), so they are one quantity each, never shown in one
    place and hidden in the other."""
    results, pub = small
    gbo = next(t for ts in pub.sheets.values() for t in ts if t.name == "gbo").data
    cmp = next(t for ts in pub.sheets.values() for t in ts if t.name == "compare-gbo").data
    to_date = gbo.index[gbo["Window"] == "To date"][0]
    pairs = [("Pairs", "Clients with a goal rated twice or more")]
    pairs += [("Goals", "Goals rated twice or more")]
    for mine, theirs in pairs:
        assert cmp.at[0, mine] == gbo.at[to_date, theirs]
        a, b = pub.keys[("compare-gbo", 0, mine)], pub.keys[("gbo", int(to_date), theirs)]
        assert ("=", [(a, 1.0), (b, -1.0)]) in pub.relations
        hidden = (
            pub.shown["compare-gbo"].suppressed.at[0, mine],
            pub.shown["gbo"].suppressed.at[to_date, theirs],
        )
        assert hidden[0] == hidden[1]


def test_the_pregnancy_tables_print_two_quantities_twice(small):
    """Every pregnancy known to date has an outcome (the rate table's note says the totals
    match), and a live birth's baby has one care status: the outcome table's total is the
    rate table's "To date" pregnancies known, and the babies' total its live births (equal
    on every synthetic service, found by mining identities; neither was declared)."""
    _, pub = small
    data = {t.name: t.data for ts in pub.sheets.values() for t in ts}
    rate, outcomes, babies = (
        data[n] for n in ("pregnancy-rate", "pregnancy-outcomes", "baby-care-status")
    )
    pairs = [
        (
            ("pregnancy-outcomes", len(outcomes) - 1, "Pregnancies"),
            (
                "pregnancy-rate",
                int(rate.index[rate["Window"] == "To date"][0]),
                "Pregnancies known",
            ),
        ),
        (
            ("baby-care-status", len(babies) - 1, "Babies"),
            ("pregnancy-outcomes", list(outcomes["Outcome"]).index("live birth"), "Pregnancies"),
        ),
    ]
    for a, b in pairs:
        assert data[a[0]].at[a[1], a[2]] == data[b[0]].at[b[1], b[2]]
        assert ("=", [(pub.keys[a], 1.0), (pub.keys[b], -1.0)]) in pub.relations
        assert (
            pub.shown[a[0]].suppressed.at[a[1], a[2]] == pub.shown[b[0]].suppressed.at[b[1], b[2]]
        )


def test_partner_referrals_to_date_less_last_quarters_give_no_one_away(tmp_path, monkeypatch):
    """150 clients (seed 2150), 2025-Q3 sent, then 2025-Q4: parents referred to a substance
    misuse service to date were 17, then 18, and this quarter's 1 is hidden. A parent is
    counted once to date, so the growth is the parents referred for the first time: the code
    before showed both totals (1 came back, and so for 25 rows of eight services; found by
    mining identities across two returns). Now the growth is protected like a count."""
    from evaltool.report import record
    from evaltool.report.output import write_output

    rec = tmp_path / "record.sqlite"
    monkeypatch.setenv("EVALTOOL_RECORD", str(rec))
    data = write_csv_folder(generate(n_clients=150, seed=2150), tmp_path / "data")
    settings = load_settings(EXAMPLE_CONFIG)
    q3 = run(data, settings, "2025-Q3")
    write_output(q3, tmp_path / "q3.xlsx", final=True)
    earlier = record.read(rec, settings.service)
    q4 = run(data, settings, "2025-Q4")
    pub = publish(q4, earlier)
    to_date = next(
        t for ts in pub.sheets.values() for t in ts if t.name == "partner-access-to-date"
    )
    shown = pub.shown[to_date.name]
    growths = []
    for r, kind in enumerate(to_date.data["Service type"]):
        then = earlier.cells[f"2025-Q3|{to_date.name}|Service type={kind}|Clients referred"]
        now = to_date.data.at[r, "Clients referred"]
        growths.append((kind, then[0], now))
        both = not then[1] and not shown.suppressed.at[r, "Clients referred"]
        assert not (both and 1 <= now - then[0] <= 5), (kind, then, now)
    assert ("substance misuse", 17.0, 18) in growths


def test_what_the_words_and_the_cox_model_say_of_counts_is_protected(tmp_path, monkeypatch):
    """25 clients (seed 7), 2024-Q4, with [value]: the Value for money sheet says "about 5"
    parents a year, so 6 or 7 started in the four quarters to the period end; the financial
    year's starts, hidden, came back as 6 or 7 (true 7; an adversary, 2026-12-07). Now the
    words are relations on the constant 1 and the protection meets them: the reader, with
    every declared relation, narrows no hidden count below six values. A finite Cox hazard
    ratio for the cohorts says each had an event: declared too."""
    from evaltool.report.disclosure import audit
    from evaltool.report.publish import ONE
    from tests.test_value import _example_settings

    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    data = write_csv_folder(generate(n_clients=25, seed=7), tmp_path / "data")
    results = run(data, load_settings(_example_settings(tmp_path, "")), "2024-Q4")
    assert results.value.parents == 5 and results.value.parents_range == (6, 7)
    pub = publish(results)
    one = pub.keys.get(ONE, "one")
    stated = [r for r in pub.relations if any(k == one for k, _ in r[1])]
    assert any(-7.0 in (c for _, c in r[1]) for r in stated)  # starts <= 7
    assert any(6.0 in (c for _, c in r[1]) for r in stated)  # starts >= 6
    # the reader: every shown cell, the declared relations with the constant, nothing else
    by_key = {v: k for k, v in pub.keys.items()}
    shown = {k: v for k, (v, h) in pub.cells.items() if not h}
    hidden = {k for k, (_, h) in pub.cells.items() if h}
    from evaltool.instruments.results import Relation

    rels = [Relation(tuple((k, c) for k, c in terms), op) for op, terms in pub.relations]
    # and the words as the reader writes them: 6 <= the starts of 2024-25 Q1 to Q4 <= 7
    quarters = [f"activity|Quarter=2024-25 Q{q}|Starts" for q in (1, 2, 3, 4)]
    shown["one"] = 1.0
    rels.append(Relation((*((q, 1.0) for q in quarters), ("one", -7.0)), "<="))
    rels.append(Relation((*((q, -1.0) for q in quarters), ("one", 6.0)), "<="))
    leaks = audit(shown, hidden, rels, 5, keep=6)
    assert leaks == [], [(by_key.get(x.cell, x.cell), x.low, x.high) for x in leaks]


def _finals(tmp_path, monkeypatch, periods, clients=None, seed=None):
    """The record as a reader holds it after final returns for ``periods``, one after the
    other, of a synthetic service (``clients``, ``seed``) or of the example."""
    from evaltool.report import record
    from evaltool.report.output import write_output
    from tests.conftest import EXAMPLE

    rec = tmp_path / "record.sqlite"
    monkeypatch.setenv("EVALTOOL_RECORD", str(rec))
    settings = load_settings(EXAMPLE_CONFIG)
    data = (
        EXAMPLE
        if clients is None
        else write_csv_folder(generate(n_clients=clients, seed=seed), tmp_path / "data")
    )
    for period in periods:
        write_output(run(data, settings, period), tmp_path / f"{period}.xlsx", final=True)
    return record.read(rec, settings.service)


def _reader(sent, constant=True):
    """What a reader of the recorded returns has: (ref, shown values, hidden cells, the
    record's relations), keys read as the protection names them; ``constant``: the constant
    1 known too."""
    from evaltool.instruments.results import Relation
    from evaltool.report.publish import ONE, _as_ref

    def ref(key):
        return key if key.startswith("~") else _as_ref(key)

    value = {ref(k): v for k, (v, h) in sent.cells.items() if not h}
    if constant:
        value[ONE] = 1.0
    hidden = {ref(k) for k, (_, h) in sent.cells.items() if h}
    relations = [Relation(tuple((ref(k), c) for k, c in t), op) for op, t in sent.relations]
    return ref, value, hidden, relations


def test_clients_to_date_rise_by_at_most_their_goals_rise(tmp_path, monkeypatch):
    """20 clients (seed 41), final returns 2024-Q4 and 2025-Q1: GBO clients with a goal rated
    twice or more to date were 5 (hidden), then 6 (shown); goals rated twice or more 10, then
    12. Each client new to that count brings a goal new to the other, so the 5 was at least
    6 - (12 - 10) = 4: 4 to 6 (adversary 4, 2026-12-07; the code before showed both 12 and
    6). The reader here is the record's relations plus that one, written out by hand."""
    from evaltool.instruments.results import Relation
    from evaltool.report.disclosure import audit

    sent = _finals(tmp_path, monkeypatch, ("2024-Q4", "2025-Q1"), 20, 41)

    ref, value, hidden, relations = _reader(sent, constant=False)
    people, goals = "Clients with a goal rated twice or more", "Goals rated twice or more"

    def key(period, col):
        return f"{period}|gbo|Window=To date|{col}"

    truth = {
        (p, c): sent.cells[key(p, c)][0] for p in ("2024-Q4", "2025-Q1") for c in (people, goals)
    }
    assert list(truth.values()) == [5.0, 10.0, 6.0, 12.0]
    rise = (
        (ref(key("2025-Q1", people)), 1.0),
        (ref(key("2024-Q4", people)), -1.0),
        (ref(key("2025-Q1", goals)), -1.0),
        (ref(key("2024-Q4", goals)), 1.0),
    )
    relations.append(Relation(rise, "<="))
    targets = {ref(key(p, people)) for p in ("2024-Q4", "2025-Q1")}
    assert not audit(value, hidden, relations, 5, (), targets, 6)


def test_a_mean_times_its_group_bounds_the_counts_of_its_categories():
    """A domain of 6 clients, mean distance travelled 2.50: the changes add up to 15, each
    improvement at most 9 points, so at least 2 improved (adversary 4 read 2 to 6 from a
    return, 2026-12-07). The relation is declared, and known to the reader only while the
    group is shown (a mean is hidden with it)."""
    import pandas as pd

    from evaltool.instruments.results import SummaryTable
    from evaltool.report.disclosure import Cells, audit, table_relations
    from evaltool.report.publish import _mean_parts

    frame = pd.DataFrame(
        {
            "Domain": ["Housing"],
            "Clients with 2+ readings": [6],
            "Mean distance travelled": [15 / 6],
            "Improved": [4],
            "Unchanged": [1],
            "Worse": [1],
        }
    )
    cols = ("Clients with 2+ readings", "Improved", "Unchanged", "Worse")
    table = SummaryTable(
        "star",
        "Domains",
        frame,
        cols,
        {"Mean distance travelled": "Clients with 2+ readings"},
        sums={"Clients with 2+ readings": ("Improved", "Unchanged", "Worse")},
        mean_parts={
            "Mean distance travelled": (
                "Clients with 2+ readings",
                (("Improved", 1, 9), ("Unchanged", 0, 0), ("Worse", -9, -1)),
            )
        },
    )
    values = Cells([table]).value
    declared = _mean_parts([table], values)
    assert len(declared) == 2 and {r.given for r in declared} == {("star", 0, cols[0])}
    hidden = {("star", 0, c) for c in cols[1:]}
    shown = {("star", 0, cols[0]): 6.0}
    relations = table_relations(table)
    assert not audit(shown, hidden, relations, 5)  # without it: 0 to 6 each
    leaks = audit(shown, hidden, relations + declared, 5)
    assert ("star", 0, "Improved") in {leak.cell for leak in leaks}
    # the group hidden too: the mean is hidden with it, and the relation tells nothing
    assert not audit({}, hidden | {("star", 0, cols[0])}, relations + declared, 5)


def _carried_attack(sent, period, previous=None):
    """The record's relations, and a reader's, written out by hand, of each domain of the
    example's instrument: X to date = X this quarter + Z for each count X; Z keeps the row's
    sums (improved + unchanged + worse = clients; a stage up is an improvement, a stage down
    a worsening); with last quarter's return Z is at most its X to date, and the rest of it
    keeps the row's sums too. (value, hidden, relations, this quarter's cells)."""
    from evaltool.instruments.results import Relation

    ref, value, hidden, relations = _reader(sent)
    up, down = "Moved up a stage or more", "Moved down a stage or more"
    cols = ("Clients with 2+ readings", "Improved", "Unchanged", "Worse", up, down)
    name = "recurrent-care-star"
    domains = {k.split("|")[2] for k in sent.cells if k.startswith(f"{period}|{name}-quarter|")}
    assert len(domains) == 10
    targets = set()
    for domain in sorted(domains):

        def cell(p, window, col, domain=domain):
            return ref(f"{p}|{name}-{window}|{domain}|{col}")

        z = {c: f"carried {domain} {c}" for c in cols}
        parts = [{c: ((z[c], 1.0),) for c in cols}]
        for c in cols:
            now = (cell(period, "to-date", c), 1.0)
            relations.append(Relation((now, (cell(period, "quarter", c), -1.0), (z[c], -1.0))))
            targets.add(cell(period, "quarter", c))
            if previous:
                relations.append(
                    Relation(((z[c], 1.0), (cell(previous, "to-date", c), -1.0)), "<=")
                )
        if previous:
            parts.append({c: ((cell(previous, "to-date", c), 1.0), (z[c], -1.0)) for c in cols})
        for part in parts:
            terms = [t for c in ("Improved", "Unchanged", "Worse") for t in part[c]]
            whole = [(x, -k) for x, k in part["Clients with 2+ readings"]]
            relations.append(Relation((*terms, *whole)))
            for a, b in ((up, "Improved"), (down, "Worse")):
                relations.append(Relation((*part[a], *((x, -k) for x, k in part[b])), "<="))
    return value, hidden, relations, targets & hidden


def test_a_domains_quarter_is_its_to_date_less_what_was_carried_from_last_quarter(
    tmp_path, monkeypatch
):
    """The example, final returns 2025-Q3 and 2025-Q4 (adversary 7, 2026-12-07). A domain's
    quarter row counts the clients read in the quarter, on all their readings to the period
    end; whoever is to date but was not read this quarter is in last quarter's "to date" as
    they were (``SummaryTable.carried``). The code before tied only the clients: Sexual and
    reproductive health's quarter then printed unchanged and worse "0 to 9" that this put at
    1 to 5 and 0 to 4 (true 4 and 1)."""
    from evaltool.report.disclosure import audit

    sent = _finals(tmp_path, monkeypatch, ("2025-Q3", "2025-Q4"))
    key = "2025-Q4|recurrent-care-star-quarter|Domain=Sexual and reproductive health|Unchanged"
    assert sent.cells[key][0] == 4
    value, hidden, relations, targets = _carried_attack(sent, "2025-Q4", "2025-Q3")
    assert not audit(value, hidden, relations, 5, (), targets, 6)


def test_a_domains_quarter_is_its_to_date_less_people_who_keep_the_rows_sums(tmp_path, monkeypatch):
    """25 clients (seed 25), the first return, 2025-Q1: Sexual and reproductive health to
    date 11 clients, all improved, 8 moved up a stage; this quarter 6, all improved, and the
    code before printed its moved up "0 to 9". The other 5 improved, and moved up 5 at most,
    so it was 3 to 6 (true 3): to date less this quarter is people too."""
    from evaltool.report.disclosure import audit

    sent = _finals(tmp_path, monkeypatch, ("2025-Q1",), 25, 25)
    row = "2025-Q1|recurrent-care-star-{}|Domain=Sexual and reproductive health|{}"
    up = "Moved up a stage or more"
    got = [
        sent.cells[row.format(w, c)][0] for w in ("to-date", "quarter") for c in ("Improved", up)
    ]
    assert got == [11, 8, 6, 3]
    value, hidden, relations, targets = _carried_attack(sent, "2025-Q1")
    assert not audit(value, hidden, relations, 5, (), targets, 6)


def test_a_domains_interval_is_hidden_wherever_its_stage_moves_to_date_are(tmp_path, monkeypatch):
    """25 clients (seed 25), 2025-Q1 (adversary 7, 2026-12-07): Sexual and reproductive
    health, 11 pairs, all improved, mean change 3.45 with its 95% interval 2.13 to 4.78,
    beside the to-date moved up a stage printed "6 to 11" (true 8, a range no longer printed).
    With the stage bands (two points each), the interval's spread put it at 7 to 11, and this
    quarter's moved up (3 of 6, "0 to 9") at 2 to 6. The interval is hidden wherever the row's
    moves to date are."""
    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    data = write_csv_folder(generate(n_clients=25, seed=25), tmp_path / "data")
    pub = publish(run(data, load_settings(EXAMPLE_CONFIG), "2025-Q1"))
    moves = pub.shown["recurrent-care-star-to-date"]
    compare = pub.shown["compare-recurrent-care-star"].values
    assert list(moves.values["Domain"]) == list(compare["Measure"])
    checked = 0
    for r in range(len(compare)):
        hidden = [
            moves.suppressed.at[r, c]
            for c in ("Moved up a stage or more", "Moved down a stage or more")
        ]
        if any(hidden):
            checked += 1
            assert compare.at[r, "95% CI low"] == compare.at[r, "95% CI high"] == "c", r
    sexual = list(compare["Measure"]).index("Sexual and reproductive health")
    assert moves.suppressed.at[sexual, "Moved up a stage or more"]
    assert compare.at[sexual, "95% CI low"] == "c"
    assert checked


def test_a_parent_worse_on_goal_ratings_has_a_goal_that_did_not_improve(tmp_path, monkeypatch):
    """25 clients (seed 25), final returns 2025-Q1 and 2025-Q2 (adversary 7, 2026-12-07):
    goals rated twice to date 22, 21 improved; this quarter 10, 8 improved. Goals not
    improved to date are this quarter's 2 plus at most last quarter's 1 (the rest of the
    goals to date were not rated again), so at most 3; and a parent whose mean over their
    goals fell has a goal that did not improve: the Before and after's parents worse, printed
    "0 to 9", were 0 to 3 (true 1). The reader here is the record's relations plus those."""
    from evaltool.instruments.results import Relation
    from evaltool.report.disclosure import audit

    sent = _finals(tmp_path, monkeypatch, ("2025-Q1", "2025-Q2"), 25, 25)

    ref, value, hidden, relations = _reader(sent)
    rated, improved = "Goals rated twice or more", "Goals improved"

    def gbo(period, window, col):
        return ref(f"{period}|gbo|Window={window}|{col}")

    assert [sent.cells[f"2025-Q1|gbo|Window=To date|{c}"][0] for c in (rated, improved)] == [22, 21]
    z = {c: f"goals to date not rated in 2025-Q2: {c}" for c in (rated, improved)}
    for c in (rated, improved):
        now, quarter = gbo("2025-Q2", "To date", c), gbo("2025-Q2", "Quarter", c)
        relations.append(Relation(((now, 1.0), (quarter, -1.0), (z[c], -1.0))))
        relations.append(Relation(((z[c], 1.0), (gbo("2025-Q1", "To date", c), -1.0)), "<="))
    # the rest of last quarter's goals to date: improved at most rated
    then = [(gbo("2025-Q1", "To date", c), k) for c, k in ((improved, 1.0), (rated, -1.0))]
    relations.append(Relation((*then, (z[improved], -1.0), (z[rated], 1.0)), "<="))
    worse = ref("2025-Q2|compare-gbo|Measure=GBO goal rating,Better is=higher|Worse")
    assert worse in hidden and sent.cells[worse[0][1:]][0] == 1
    relations.append(
        Relation(
            (
                (worse, 1.0),
                (gbo("2025-Q2", "To date", improved), 1.0),
                (gbo("2025-Q2", "To date", rated), -1.0),
            ),
            "<=",
        )
    )
    assert not audit(value, hidden, relations, 5, (), {worse}, 6)


def test_a_partner_referral_still_waiting_was_waiting_a_quarter_before(tmp_path, monkeypatch):
    """The example, final returns 2025-Q2 and 2025-Q3 (adversary 8, 2026-12-07): referrals
    still waiting to date are this quarter's plus at most last quarter's to date (one made
    before the quarter and still waiting was waiting then). With the services adding up to
    all, the code before left this quarter's mental health and domestic abuse, printed
    "0 to 9", at 0 to 2 and 3 to 5 (true 1 and 3). The reader here is the record's
    relations plus those, written out by hand."""
    from evaltool.instruments.results import Relation
    from evaltool.report.disclosure import audit

    sent = _finals(tmp_path, monkeypatch, ("2025-Q2", "2025-Q3"))

    ref, value, hidden, relations = _reader(sent)
    col = "Referrals still waiting"
    kinds = {
        k.split("|")[2]
        for k in sent.cells
        if k.startswith("2025-Q3|partner-access-quarter|") and k.endswith(col)
    }
    assert len(kinds) >= 6
    targets = set()
    for kind in kinds:

        def cell(period, window, kind=kind):
            return ref(f"{period}|partner-access-{window}|{kind}|{col}")

        z = f"waiting before 2025-Q3: {kind}"
        now, quarter = cell("2025-Q3", "to-date"), cell("2025-Q3", "quarter")
        relations.append(Relation(((now, 1.0), (quarter, -1.0), (z, -1.0))))
        relations.append(Relation(((z, 1.0), (cell("2025-Q2", "to-date"), -1.0)), "<="))
        targets.add(quarter)
    key = "2025-Q3|partner-access-quarter|Service type=mental health|" + col
    assert sent.cells[key][0] == 1
    assert not audit(value, hidden, relations, 5, (), targets & hidden, 6)


def test_goals_left_to_date_beyond_the_quarters_are_some_clients(tmp_path, monkeypatch):
    """12 clients (seed 12), final returns 2025-Q2 and Q3. In the code before, GAS's 2025-Q3
    printed the quarter's goals 12 and, to date, 6 clients with 18 goals: the 6 goals beyond
    the quarter's are some client's, so the quarter's clients, "0 to 9", were 1 to 5 (true
    4); GBO's likewise (an adversary, 2026-12-07). The reader here is the record's relations
    plus that one, for GAS's and GBO's goals and goals rated twice, written out by hand:
    whole numbers, and some goals mean one client at least (goals <= 1000 x clients)."""
    from evaltool.instruments.results import Relation
    from evaltool.report.disclosure import audit

    sent = _finals(tmp_path, monkeypatch, ("2025-Q2", "2025-Q3"), 12, 12)
    ref, value, hidden, relations = _reader(sent, constant=False)
    held = {
        "gas": (("Goals", "Clients"),),
        "gbo": (
            ("Goals", "Clients"),
            ("Goals rated twice or more", "Clients with a goal rated twice or more"),
        ),
    }
    targets = set()
    for period in ("2025-Q2", "2025-Q3"):
        for table, pairs in held.items():
            for units, people in pairs:

                def cell(window, col, period=period, table=table):
                    return ref(f"{period}|{table}|Window={window}|{col}")

                for window in ("Quarter", "To date"):  # each row's
                    terms = ((cell(window, units), 1.0), (cell(window, people), -1000.0))
                    relations.append(Relation(terms, "<="))
                # to date less the quarter: the people not read in it, with their goals
                terms = (
                    (cell("To date", units), 1.0),
                    (cell("Quarter", units), -1.0),
                    (cell("To date", people), -1000.0),
                    (cell("Quarter", people), 1000.0),
                )
                relations.append(Relation(terms, "<="))
                targets |= {cell(w, people) for w in ("Quarter", "To date")}
    assert sent.cells["2025-Q3|gas|Window=Quarter|Goals"][0] == 12
    assert not audit(value, hidden, relations, 5, (), targets & hidden, 6)


def test_a_total_scores_mean_is_hidden_beside_an_items_hidden_mean(small):
    """The total score is the sum of the keyed items over the complete responses: where
    every response is complete, its mean times the responses less the other items' sums is
    an item's, so an item's hidden mean came back, and from it its positive answers (20
    clients, seed 20, final returns 2025-Q3 and Q4: to date 12 responses, all complete, the
    total's mean 20.25 and four items' 4.25, 4.17, 4.17 and 4.00 printed, the judged item's
    hidden: 243 - 199 = 44 over 12 gave its positives 7 to 10, and less last quarter's 7 the
    quarter's 0 to 3, true 1: an adversary, 2026-12-07). So the total's mean is hidden
    wherever an item's of its window is, whatever hid the item's (its count, or the rule on
    means): declared by the survey, carried out with the rule on means."""
    import pandas as pd

    from evaltool.instruments.results import SummaryTable
    from evaltool.report.disclosure import SUPPRESSED, Suppressed
    from evaltool.report.magnitudes import PREFIX, hold_means
    from evaltool.report.publish import _labels

    _, pub = small  # the survey declares it, window by window
    table = next(t for ts in pub.sheets.values() for t in ts if t.name.endswith("-items"))
    frame = table.data.reset_index(drop=True)
    for window in frame["Window"].unique():
        rows = frame.index[frame["Window"] == window].tolist()
        assert frame.at[rows[-1], "Item"].startswith("Total score")
        assert table.hidden_with_cells[(rows[-1], "Mean")] == tuple((r, "Mean") for r in rows[:-1])
    # and the rule carries it out: the adversary's To date, the judged item's mean hidden
    data = pd.DataFrame(
        {
            "Window": ["To date"] * 3,
            "Item": ["listened", "judged", "Total score (complete responses)"],
            "Answers": [12, 12, 12],
            "Mean": [4.25, 44 / 12, 20.25],
        }
    )
    t = SummaryTable(
        "s-items",
        "Survey: items",
        data,
        counts=("Answers",),
        derived={"Mean": "Answers"},
        hidden_with_cells={(2, "Mean"): ((0, "Mean"), (1, "Mean"))},
    )
    values = data.astype(object)
    values.at[1, "Mean"] = SUPPRESSED
    suppressed = pd.DataFrame(False, index=data.index, columns=data.columns)
    suppressed.at[1, "Mean"] = True
    shown = {"s-items": Suppressed(values, suppressed, 0, 1)}
    record, _ = hold_means([t], shown, _labels, "2025-Q4", {}, 5)
    assert shown["s-items"].values.at[2, "Mean"] == SUPPRESSED
    assert shown["s-items"].values.at[0, "Mean"] == 4.25
    total = [k for k in record if k.startswith(PREFIX) and "Total score" in k]
    assert total and all(record[k] == (12.0, True) for k in total)  # recorded as hidden


def test_the_cox_model_and_log_rank_test_are_hidden_with_a_cohorts_events(tmp_path, monkeypatch):
    """20 clients (seed 20), 2025-Q3: one parent with new proceedings in each cohort, the
    medians table's events hidden. The code before printed the log-rank chi-square 0.21 and
    the Cox coefficient -0.64 with its standard error 1.415: with one event a cohort and
    a = n0/n1 at the service's event, b at the comparison's, the coefficient is ln(ab)/2 and
    the standard error 1/sqrt(2p(1-p)), p = sqrt(b)/(sqrt(a)+sqrt(b)); an enumeration of the
    events and risk sets that give the printed figures left 1 and 1 (an adversary,
    2026-12-07). Each statistic is now hidden wherever a cohort's events are."""
    from evaltool.report.disclosure import SUPPRESSED

    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    data = write_csv_folder(generate(n_clients=20, seed=20), tmp_path / "data")
    results = run(data, load_settings(EXAMPLE_CONFIG), "2025-Q3")
    medians = results.survival.medians_
    assert list(medians.set_index("group")["events"].loc[["service", "comparison"]]) == [1, 1]
    pub = publish(results)
    assert pub.shown["km-median"].suppressed["Events"].all()
    logrank, cox = pub.shown["logrank"].values, pub.shown["cox"].values
    assert (logrank[["Chi-square", "p"]] == SUPPRESSED).all().all()
    assert (cox.drop(columns="Covariate") == SUPPRESSED).all().all()

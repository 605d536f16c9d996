"""Benchmark curves: a published figure with its population, origin, outcome and years, set
beside the service only where it is measured the same way; worked out by hand."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from evaltool.analysis.survival import TimeToProceedings
from evaltool.config import load_settings
from evaltool.data.benchmark import Benchmark, Point, read_benchmark, shipped
from evaltool.errors import ConfigError
from tests.conftest import ROOT

D = pd.Timestamp
START = D("2020-01-01")
EXTRACT = dt.date(2022, 12, 31)  # 1095 days after the start


def histories():
    """Six mothers and two fathers, all starting on 01/01/2020 with index proceedings issued
    on 01/06/2019. Mothers return 100, 200 and 400 days after the start, three never; both
    fathers return after 50 days."""
    ids = ["F1", "F2", "F3", "F4", "F5", "F6", "M1", "M2"]
    clients = pd.DataFrame(
        {
            "client_id": ids,
            "referral_date": [START - pd.Timedelta(days=20)] * 8,
            "start_date": [START] * 8,
            "gender": ["female"] * 6 + ["male"] * 2,
        }
    )
    sets = [(c, D("2019-06-01"), D("2019-12-01")) for c in ids]
    sets += [
        (c, START + pd.Timedelta(days=d), pd.NaT)
        for c, d in (("F1", 100), ("F2", 200), ("F3", 400), ("M1", 50), ("M2", 50))
    ]
    proceedings = pd.DataFrame(sets, columns=["client_id", "issued_date", "concluded_date"])
    return clients, proceedings


def bench(origin="start", population="mothers", selection="referred to a service"):
    return Benchmark(
        "A national curve",
        "a source",
        (Point(365, 0.30), Point(5000, 0.50)),
        origin=origin,
        population=population,
        data_years="2010-15",
        selection=selection,
    )


def test_mothers_are_compared_with_mothers_and_never_beyond_follow_up():
    clients, proceedings = histories()
    fit = TimeToProceedings(origin="start", benchmark=bench()).fit(clients, proceedings, EXTRACT)
    b = fit.benchmark_
    assert b["compared"] and b["clients"] == 6  # the mothers only
    by_year, beyond = b["rows"]
    # by 365 days: 2 of 6 mothers returned, nobody censored before: 1 - 4/6
    assert by_year["incidence"] == pytest.approx(1 / 3, abs=1e-12)
    assert by_year["at_risk"] == 4 and by_year["events"] == 2
    assert by_year["benchmark_incidence"] == 0.30
    # 5000 days is past the longest follow-up (1095 days): no figure, nothing extended
    assert beyond["incidence"] is None and b["longest_follow_up_days"] == 1095
    # parents: everyone, 4 of 8 by a year
    fit = TimeToProceedings(origin="start", benchmark=bench(population="parents")).fit(
        clients, proceedings, EXTRACT
    )
    assert fit.benchmark_["rows"][0]["incidence"] == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize(
    ("benchmark", "why"),
    [
        (
            bench(origin="index-issue"),
            "measured from the issue of the latest proceedings before joining, "
            "this analysis from the day of joining",
        ),
        (
            bench(origin="first-issue"),
            "measured from the issue of the earliest proceedings in the records",
        ),
        (  # the same origin, but everyone in proceedings: not the service's selected group
            bench(selection="all in proceedings"),
            "the benchmark counts all in proceedings, this service parents referred to it",
        ),
        (
            Benchmark("old", "s", (Point(2555, 0.24),), origin=None),
            "does not state its origin",
        ),
    ],
)
def test_a_benchmark_measured_another_way_is_not_compared(benchmark, why):
    clients, proceedings = histories()
    fit = TimeToProceedings(origin="start", benchmark=benchmark).fit(clients, proceedings, EXTRACT)
    assert not fit.benchmark_["compared"] and why in fit.benchmark_["not_compared"]
    assert fit.benchmark_["measured"] == "measured differently: a guide to scale only"
    assert fit.benchmark_["rows"] == []


def test_a_benchmark_for_mothers_needs_gender():
    clients, proceedings = histories()
    fit = TimeToProceedings(origin="start", benchmark=bench()).fit(
        clients.drop(columns="gender"), proceedings, EXTRACT
    )
    assert "gender is not recorded" in fit.benchmark_["not_compared"]


def test_the_shipped_benchmarks_load_and_the_readme_names_each_with_its_source():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert shipped(), "evaltool ships at least one benchmark"
    for name in shipped():
        b = read_benchmark(name, "test")
        assert b.origin and b.source and b.checked and b.data_years and b.published
        assert name in readme


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('label = "x"\n', "missing: population, origin, source, points"),
        (
            'label="x"\npopulation="mums"\norigin="start"\nsource="s"\n'
            "[[points]]\ndays=1\nincidence=0.1\n",
            "population = 'mums'; use one of mothers, fathers, parents",
        ),
        (
            'label="x"\npopulation="mothers"\norigin="start"\nsource="s"\n'
            "[[points]]\nmonths=12\nincidence=24\n",
            "points[0]: incidence must be a share from 0 to 1",
        ),
    ],
)
def test_a_bad_benchmark_file_is_named_with_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    cfg = tmp_path / "evaltool.toml"
    cfg.write_text('[survival]\nbenchmark = "mine.toml"\n')  # relative to the settings
    with pytest.raises(ConfigError, match="mine.toml") as err:
        load_settings(cfg)
    assert message in str(err.value)
    cfg.write_text('[survival]\nbenchmark = "no-such-benchmark"\n')
    with pytest.raises(ConfigError, match="neither a benchmark evaltool ships"):
        load_settings(cfg)


def test_the_return_states_the_benchmark_in_plain_words(tmp_path):
    """The example, with the shipped benchmark: who it is about, its origin, years, source and
    what was checked; the evidence level; the comparison, or why there is none."""
    from evaltool.api import run
    from evaltool.report.excel import write_return
    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

    settings = load_settings(EXAMPLE_CONFIG)
    # issue 24.2: the national figure counts every mother from her earliest proceedings in the
    # records; evaltool counts a selected, already-recurrent group from the latest set before
    # joining. Never "measured the same way"; no point on the service's chart
    assert settings.benchmark.origin == "first-issue"
    assert settings.benchmark.selection == "all in proceedings"
    results = run(EXAMPLE, settings, "2025-Q4")
    out = write_return(results, tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(out)
    ws = book["Time to next proceedings"]
    text = " ".join(str(c.value) for r in ws.iter_rows() for c in r if c.value is not None)
    for words in (
        "Mothers in care proceedings in England, 2007-14",
        "mothers, 2007-14 (Cafcass records); all in proceedings; measured from the issue of the "
        "earliest proceedings in the records; any returns",
        "British Journal of Social Work 45(8)",
        "(published 2015)",
        "Checked against the source",
        "Measured differently: a guide to scale only",
    ):
        assert words in text, words
    everything = " ".join(
        str(c.value) for s in book.worksheets for r in s.iter_rows() for c in r if c.value
    )
    assert "same way" not in everything
    assert "By 84 months: benchmark" not in text  # not set beside the service's figure
    assert "benchmark: months" not in everything  # its points are not on the chart's data
    from evaltool.report.key_figures import caveats

    [line] = [c for c in caveats(results) if c.startswith("National figure")]
    assert "measured differently: a guide to scale only" in line

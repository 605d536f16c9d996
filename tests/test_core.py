"""The core's work is done once, where ARCHITECTURE.md says (issue 26): each instrument's spec
built once per load, and every analysis computed in ``core.run``, none while publishing."""

from __future__ import annotations

from collections import Counter

import pytest

from evaltool import api
from evaltool.instruments.base import Instrument
from evaltool.instruments.registry import build_registry
from tests.conftest import EXAMPLE, EXAMPLE_CONFIG


@pytest.fixture
def counted(monkeypatch):
    """Calls of every instrument's ``table()``, by instrument name."""
    calls: Counter[str] = Counter()
    classes = {type(i) for i in build_registry().instruments.values()}
    for cls in classes | {Instrument}:
        original = cls.__dict__.get("table")
        if original is None:
            continue

        def table(self, _original=original):
            calls[self.name] += 1
            return _original(self)

        monkeypatch.setattr(cls, "table", table)
    return calls


def test_each_instrument_spec_is_built_once_per_load(counted):
    settings = api.load_settings(EXAMPLE_CONFIG)  # checks the names with a registry of its own
    counted.clear()
    loaded = api.load(EXAMPLE, settings)
    assert loaded.instruments, "the example has instruments"
    assert set(counted) == set(loaded.registry.instruments)  # the count is read
    assert max(counted.values()) == 1, dict(counted)


def test_a_run_builds_each_spec_once(counted):
    settings = api.load_settings(EXAMPLE_CONFIG)
    counted.clear()
    results = api.run(EXAMPLE, settings, "2025-Q4")
    assert results.evaluations
    assert max(counted.values()) == 1, dict(counted)


def test_publishing_runs_no_analysis(tmp_path, monkeypatch):
    """``core.run`` computes every analysis (recurrence by window and by group, payment by
    results, value for money); publishing and writing only read them. Each analysis function
    is made to raise after the run: the return is still written, its figures those of the run."""
    import evaltool.analysis.pbr as pbr
    import evaltool.analysis.value as value
    import evaltool.analysis.windows as windows
    import evaltool.core as core
    from evaltool.report.output import write_output

    toml = tmp_path / "evaltool.toml"
    toml.write_text(
        EXAMPLE_CONFIG.read_text(encoding="utf-8")
        + "\n[pbr]\nenabled = true\n"
        + "\n[value]\nenabled = true\nservice_cost = [150000, 150000]\nparents_per_year = 30\n",
        encoding="utf-8",
    )
    results = api.run(EXAMPLE, api.load_settings(toml), "2025-Q3")

    def analysis(*args, **kwargs):
        raise AssertionError("an analysis ran while publishing")

    for module, names in [
        (core, ["recurrence_by_window", "recurrence_by_group", "value_of"]),
        (windows, ["recurrence_by_window", "recurrence_by_group"]),
        (pbr, ["pbr_clients", "pbr_table", "pbr_cohorts"]),
        (value, ["value_for_money"]),
    ]:
        for name in names:
            monkeypatch.setattr(module, name, analysis)
    out = tmp_path / "return.xlsx"
    write_output(results, out)
    assert out.exists()
    assert results.pbr is not None and results.value is not None
    assert results.recurrence is not None and results.recurrence_groups is not None

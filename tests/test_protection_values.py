"""How far a reader may narrow a hidden count: the setting ``protection_values`` (``keep``).

By default a hidden count keeps threshold + 1 possible values (0..5 for a threshold of 5);
``protection_values = 2`` is DfE's practice (a hidden count can never be worked out
exactly). Every expected figure is worked out by hand here, on rows of a domain table (people
with two readings = improved + unchanged + worse)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evaltool.config import ConfigError, load_settings
from evaltool.instruments.results import Relation, SummaryTable
from evaltool.report.disclosure import _steps, audit, protect
from evaltool.report.usefulness import least_hidden

THRESHOLD = 5
PARTS = ("Improved", "Unchanged", "Worse")


def _row(name: str, improved: int, unchanged: int, worse: int) -> SummaryTable:
    frame = pd.DataFrame(
        {
            "Domain": ["Housing"],
            "People": [improved + unchanged + worse],
            "Improved": [improved],
            "Unchanged": [unchanged],
            "Worse": [worse],
        }
    )
    return SummaryTable(name, name, frame, counts=("People", *PARTS), sums={"People": PARTS})


def _hidden(shown, name: str) -> set[str]:
    s = shown[name].suppressed
    return {c for c in s.columns if s.at[0, c]}


def test_by_default_three_of_thirteen_not_improved_hide_the_ten_too():
    # shown 13 and 10 leave unchanged + worse = 3: each 0..3, four values, fewer than six
    shown = protect([_row("t", 10, 2, 1)], THRESHOLD)
    hidden = _hidden(shown, "t")
    assert {"Unchanged", "Worse"} <= hidden
    assert hidden & {"People", "Improved"}


def test_with_two_values_the_ten_and_the_thirteen_are_shown():
    # unchanged and worse both c, 13 and 10 shown: each is 0 to 3, never exact
    shown = protect([_row("t", 10, 2, 1)], THRESHOLD, keep=2)
    assert _hidden(shown, "t") == {"Unchanged", "Worse"}
    assert shown["t"].values.at[0, "Improved"] == 10
    # the reader, at two values: nothing; at six: both narrowed to 0..3
    value = {("t", 0, "People"): 13, ("t", 0, "Improved"): 10}
    hidden = {("t", 0, "Unchanged"), ("t", 0, "Worse")}
    terms = tuple((("t", 0, p), 1.0) for p in PARTS) + ((("t", 0, "People"), -1.0),)
    rel = [Relation(terms)]
    assert audit(value, hidden, rel, THRESHOLD, keep=2) == []
    assert audit(value, hidden, rel, THRESHOLD, keep=4) == []  # 0..3: four values
    leaks = audit(value, hidden, rel, THRESHOLD)
    assert {(leak.low, leak.high) for leak in leaks} == {(0.0, 3.0)}
    # one of thirteen: the other part is a 0, never hidden to protect another (a hidden 0
    # must stay hidden in every later return): 1 alone is exact, so 12 or 13 goes at any
    # setting
    hidden = _hidden(protect([_row("t", 12, 1, 0)], THRESHOLD, keep=2), "t")
    assert "Unchanged" in hidden and hidden & {"People", "Improved"}


def test_a_lone_small_part_with_no_zero_beside_it_needs_a_count_hidden_at_any_setting():
    # 13 = 9 + 4 + 0 would do with the zero; 13 = 9 + 4 has none: 4 exactly, so 9 or 13 goes
    frame = pd.DataFrame({"People": [13], "Improved": [9], "Worse": [4]})
    counts = ("People", "Improved", "Worse")
    t = SummaryTable("t", "t", frame, counts=counts, sums={"People": ("Improved", "Worse")})
    hidden = _hidden(protect([t], THRESHOLD, keep=2), "t")
    assert "Worse" in hidden and hidden & {"People", "Improved"}
    assert least_hidden([t], THRESHOLD, keep=2) == 1
    # two small parts, 3 + 1: each 0..4, five values: none needed at two values, one at six
    assert least_hidden([_row("t", 9, 3, 1)], THRESHOLD, keep=2) == 0
    assert least_hidden([_row("t", 9, 3, 1)], THRESHOLD) == 1
    # 4 + 2: 0..6, seven values: none needed even at six, and none hidden
    assert least_hidden([_row("t", 7, 4, 2)], THRESHOLD) == 0
    assert _hidden(protect([_row("t", 7, 4, 2)], THRESHOLD), "t") == {"Unchanged", "Worse"}


def test_the_steps_of_a_bound_leave_the_values_the_setting_asks_for():
    # of 12, at six values: at most k/20 with floor(12k/20) >= 5: k = 9 (45%); at least
    # k/20 with 12 - ceil(12k/20) >= 5: k = 11 (55%, ceil 6.6 = 7, 12 - 7 = 5)
    assert _steps(12, 6)[0][0] == 9 and _steps(12, 6)[1][0] == 11
    # at two values: floor(12k/20) >= 1: k = 2 (10%); 12 - ceil(12k/20) >= 1: k = 18
    # (ceil 10.8 = 11, 12 - 11 = 1; k = 19: ceil 11.4 = 12, none left)
    assert _steps(12, 2)[0][0] == 2 and _steps(12, 2)[1][0] == 18


def _settings(tmp_path: Path, line: str) -> Path:
    path = tmp_path / "evaltool.toml"
    path.write_text(f'[service]\nname = "S"\n\n[reporting]\nsmall_number_threshold = 10\n{line}\n')
    return path


def test_the_setting_defaults_to_the_threshold_plus_one(tmp_path):
    assert load_settings(_settings(tmp_path, "")).keep == 11
    assert load_settings(_settings(tmp_path, "protection_values = 2")).keep == 2


@pytest.mark.parametrize("value", ["1", "0", '"two"', "2.5", "true"])
def test_a_wrong_setting_says_where_and_what_it_means(tmp_path, value):
    with pytest.raises(ConfigError) as err:
        load_settings(_settings(tmp_path, f"protection_values = {value}"))
    message = str(err.value)
    assert "evaltool.toml, line 6" in message
    assert "reporting.protection_values" in message
    assert "at least 2" in message and "worked out exactly" in message


def test_a_return_says_its_protection_and_the_audit_reads_it_from_the_settings(
    tmp_path, runner, monkeypatch
):
    import json

    import openpyxl

    from evaltool.cli import app
    from evaltool.synthetic import generate, write_csv_folder
    from tests.conftest import EXAMPLE_CONFIG

    monkeypatch.setenv("EVALTOOL_RECORD", str(tmp_path / "record.sqlite"))
    data = write_csv_folder(generate(n_clients=25, seed=25), tmp_path / "data")
    config = tmp_path / "evaltool.toml"
    text = EXAMPLE_CONFIG.read_text()
    config.write_text(text.replace("[reporting]\n", "[reporting]\nprotection_values = 2\n", 1))
    out = tmp_path / "r.xlsx"
    args = ["score", str(data), "--config", str(config), "--period", "2025-Q4"]
    assert runner.invoke(app, [*args, "--out", str(out)]).exit_code == 0
    assert runner.invoke(app, [*args, "--out", str(tmp_path / "r.json")]).exit_code == 0
    assert json.loads((tmp_path / "r.json").read_text())["protection_values"] == 2
    wb = openpyxl.load_workbook(out)
    words = [str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value]
    assert "Protection of hidden counts" in words
    assert "no hidden count can be worked out (protection_values = 2)" in words
    assert any("from which one could be worked out, in this return" in w for w in words)
    # read with the rule it was made under, the return gives nothing away; read against the
    # default (six values), some hidden count of it is narrowed to fewer than six
    audit = runner.invoke(app, ["audit", str(out), "--config", str(config)])
    assert audit.exit_code == 0, audit.output
    assert "fewer than 2 values" in audit.output
    strict = tmp_path / "strict.toml"
    strict.write_text(text)
    assert runner.invoke(app, ["audit", str(out), "--config", str(strict)]).exit_code == 1

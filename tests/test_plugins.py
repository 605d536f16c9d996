"""Plugin loading: built-ins like third parties, fault isolation, loud mistakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evaltool.cli import app
from evaltool.errors import PluginError
from evaltool.instruments.registry import DISABLE_AUTOLOAD, build_registry
from evaltool.testing import check_instrument
from tests.conftest import BUILTIN


def fake_distribution(
    root: Path, dist: str, module: str, source: str, ep_name: str | None = None
) -> Path:
    """An installed-looking distribution with an `evaltool` entry point, in ``root``."""
    info = root / f"{dist}-0.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text(f"[evaltool]\n{ep_name or dist} = {module}\n")
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    return root


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root


def test_builtins_and_the_installed_example_plugin():
    registry = build_registry()
    assert set(registry.instruments) >= set(BUILTIN)
    example = next(p for p in registry.plugins if p.package == "evaltool-example-plugin")
    assert example.error is None
    assert example.kinds == ["confidence_scale"]
    assert example.instruments == ["parenting-confidence"]
    assert registry.get("parenting-confidence").kind == "confidence_scale"


def test_every_builtin_instrument_passes_the_harness():
    registry = build_registry(autoload=False)
    for name in sorted(BUILTIN):
        check_instrument(registry.get(name))


def test_the_example_plugin_passes_the_harness(evaltool_check):
    evaltool_check(build_registry().get("parenting-confidence"))


def test_a_broken_plugin_is_reported_and_the_others_still_load(plugin_dir):
    fake_distribution(
        plugin_dir, "brokenplug", "brokenplug_mod", "raise ImportError('no numpy 0.1')"
    )
    registry = build_registry()
    broken = next(p for p in registry.plugins if p.package == "brokenplug")
    assert broken.error == "ImportError: no numpy 0.1"
    assert set(BUILTIN) | {"parenting-confidence"} <= set(registry.instruments)


def test_a_misspelt_hook_fails_loudly_with_a_suggestion(plugin_dir):
    fake_distribution(
        plugin_dir,
        "typoplug",
        "typoplug_mod",
        """
        from evaltool.instruments.hookspecs import hookimpl
        @hookimpl
        def evaltool_instrument_kind():
            return []
    """,
    )
    registry = build_registry()
    typo = next(p for p in registry.plugins if p.package == "typoplug")
    assert typo.error == (
        "unknown hook 'evaltool_instrument_kind'; did you mean 'evaltool_instrument_kinds'?"
    )


def test_two_plugins_offering_one_instrument_name_is_an_error_naming_both(plugin_dir):
    fake_distribution(
        plugin_dir,
        "dupplug",
        "dupplug_mod",
        """
        from evaltool.instruments.hookspecs import hookimpl
        from evaltool.plugins.goal_attainment import GoalAttainment
        @hookimpl
        def evaltool_instruments():
            return [GoalAttainment("gas", "Another GAS", {}, "dupplug")]
    """,
    )
    with pytest.raises(PluginError) as err:
        build_registry()
    assert "two plugins offer the instrument 'gas'" in str(err.value)
    assert "plugin dupplug" in str(err.value) and "gas.toml" in str(err.value)


def test_two_plugins_offering_one_kind_is_an_error(plugin_dir):
    fake_distribution(
        plugin_dir,
        "kindplug",
        "kindplug_mod",
        """
        from evaltool.instruments.hookspecs import hookimpl
        from evaltool.plugins.survey import Survey
        class Other(Survey):
            pass
        @hookimpl
        def evaltool_instrument_kinds():
            return [Other]
    """,
    )
    with pytest.raises(
        PluginError,
        match="two plugins offer the instrument kind 'survey': "
        "evaltool.plugins.survey and kindplug",
    ):
        build_registry()


def test_autoload_can_be_turned_off(monkeypatch, plugin_dir):
    fake_distribution(plugin_dir, "brokenplug", "brokenplug_mod", "raise ImportError('x')")
    monkeypatch.setenv(DISABLE_AUTOLOAD, "1")
    registry = build_registry()
    assert all(p.builtin for p in registry.plugins)
    assert "parenting-confidence" not in registry.instruments


def test_plugins_command_shows_versions_hooks_and_failures(plugin_dir, runner):
    fake_distribution(plugin_dir, "brokenplug", "brokenplug_mod", "raise RuntimeError('boom')")
    result = runner.invoke(app, ["plugins"])
    assert result.exit_code == 0
    assert "example  (evaltool-example-plugin 0.1.0)  [loaded]" in result.output
    assert "instruments: parenting-confidence" in result.output
    assert "brokenplug  (brokenplug 0.3)  [FAILED: RuntimeError: boom]" in result.output
    data = json.loads(runner.invoke(app, ["plugins", "--json"]).output)
    assert {p["name"] for p in data} >= {"example", "evaltool.plugins.goal_attainment"}


def test_instruments_command_lists_the_plugin_instrument(runner):
    result = runner.invoke(app, ["instruments", "--json"])
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["parenting-confidence"]["columns"] == ["client_id", "rating_date", "rating"]
    assert rows["recurrent-care-star"]["scale"].startswith("10 domains, 1-10")
    text = runner.invoke(app, ["instruments"]).output
    assert "parenting-confidence  (confidence_scale)" in text


def test_a_service_definition_file_adds_an_instrument_without_code(tmp_path):
    folder = tmp_path / "defs"
    folder.mkdir()
    (folder / "wellbeing.toml").write_text(
        textwrap.dedent("""
        name = "wellbeing-5"
        kind = "domain_scale"
        title = "Wellbeing (5-point)"
        table = "wellbeing"
        scale = { min = 1, max = 5 }
        domains = [{ id = "mood", label = "Mood", reliability = 0.8 },
                   { id = "sleep", label = "Sleep" }]
    """)
    )
    registry = build_registry([folder], autoload=False)
    inst = registry.get("wellbeing-5")
    assert inst.table().column_names == ["client_id", "assessment_date", "mood", "sleep"]
    assert [m.reliability for m in inst.measures()] == [0.8, None]
    check_instrument(inst)


@pytest.mark.parametrize(
    "body, message",
    [
        ('name = "x"\nkind = "nope"\n', "unknown kind 'nope'"),
        ('kind = "survey"\n', "missing 'name = ...'"),
        (
            'name = "x"\nkind = "domain_scale"\nscale = {min = 1, max = 10}\ndomains = []\n',
            "'domains' is empty",
        ),
        ('name = "x"\nkind = "goal_attainment"\nrhoo = 0.3\n', "unknown key\\(s\\) rhoo"),
        ('name = "x"\nkind = "goal_attainment"\nlowest_level = -4\n', "lowest_level must be -2"),
        ('name = "Bad Name"\nkind = "goal_attainment"\n', "must be lower-case letters"),
        (
            'name = "x"\nkind = "domain_scale"\nscale = {min = 1, max = 10}\n'
            'domains = [{id = "a", label = "A"}]\nstages = [{name = "S", from = 1, to = 4}]\n',
            "stages must cover each point",
        ),
    ],
)
def test_bad_definition_files_name_the_file_and_the_key(tmp_path, body, message):
    (tmp_path / "bad.toml").write_text(body)
    with pytest.raises(PluginError, match=message) as err:
        build_registry([tmp_path], autoload=False)
    assert "bad.toml" in str(err.value)


def test_broken_plugin_via_the_real_cli_process(tmp_path):
    """In a real process too: the broken plugin is listed and the command succeeds."""
    root = fake_distribution(tmp_path, "brokenplug", "brokenplug_mod", "1/0")
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run(
        [sys.executable, "-m", "evaltool", "plugins"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "[FAILED: ZeroDivisionError: division by zero]" in proc.stdout
    assert "instruments: parenting-confidence" in proc.stdout


def test_the_harness_works_without_pytest():
    """evaltool.testing is for plugin authors, who may not have pytest (a test extra)."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['pytest'] = None\n"
        "from evaltool.testing import check_instrument, instrument_from_registry\n"
        "check_instrument(instrument_from_registry('gas'))\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


def test_the_cover_names_plugins_by_distribution_and_version(tmp_path):
    import openpyxl

    from evaltool import __version__
    from evaltool.api import run
    from evaltool.config import load_settings
    from evaltool.report.excel import write_return
    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

    out = write_return(run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4"), tmp_path / "r.xlsx")
    text = " ".join(
        str(c.value)
        for row in openpyxl.load_workbook(out)["Cover"].iter_rows()
        for c in row
        if c.value is not None
    )
    assert f"evaltool {__version__}" in text
    assert "evaltool.plugins" not in text and "builtin_definitions" not in text


def _faulty(**overrides):
    """The GAS instrument with one method replaced: a plugin author's mistake."""
    from evaltool.plugins.goal_attainment import GoalAttainment

    kind = type("Faulty", (GoalAttainment,), overrides)
    return kind("faulty", "Faulty", {}, "test")


def test_the_harness_refuses_a_headline_with_a_figure_in_plain_text():
    from evaltool.testing import ContractViolation

    inst = _faulty(headline=lambda self, data, ctx: f"mean score {len(data) / 3:.1f}")
    with pytest.raises(ContractViolation, match="must be a Cite"):
        check_instrument(inst)


def test_the_harness_refuses_whole_numbers_not_declared_as_counts():
    from dataclasses import replace

    from evaltool.plugins.goal_attainment import GoalAttainment
    from evaltool.testing import ContractViolation

    def summarise(self, data, ctx):
        tables = GoalAttainment.summarise(self, data, ctx)
        first = tables[0]
        undeclared = tuple(c for c in first.counts if c != "Goals")
        return [replace(first, counts=undeclared), *tables[1:]]

    with pytest.raises(ContractViolation, match="'Goals' holds whole numbers"):
        check_instrument(_faulty(summarise=summarise))


def test_the_harness_refuses_a_headline_citing_a_cell_that_is_not_there():
    from evaltool.instruments.results import Cite, Headline
    from evaltool.testing import ContractViolation

    inst = _faulty(headline=lambda self, data, ctx: Headline("{}", (Cite("gas", "Nope", 1),)))
    with pytest.raises(ContractViolation, match="cites 'gas' column 'Nope'"):
        check_instrument(inst)


def test_a_plugin_whose_hook_raises_is_named_and_the_rest_still_work(plugin_dir, runner):
    from evaltool.cli import app

    fake_distribution(
        plugin_dir,
        "raiseplug",
        "raiseplug_mod",
        """
        from evaltool.instruments.hookspecs import hookimpl
        @hookimpl
        def evaltool_instruments():
            raise RuntimeError("database not reachable")
    """,
    )
    registry = build_registry()
    broken = next(p for p in registry.plugins if p.package == "raiseplug")
    assert "evaltool_instruments() raised RuntimeError: database not reachable" in broken.error
    assert set(registry.instruments) >= set(BUILTIN)
    result = runner.invoke(app, ["plugins"])
    assert result.exit_code == 0 and "raiseplug" in result.output
    result = runner.invoke(app, ["instruments"])
    assert result.exit_code == 0, result.output


def test_the_harness_refuses_an_evaluate_that_disagrees_with_the_parts():
    from evaltool.instruments.results import Evaluation
    from evaltool.plugins.goal_attainment import GoalAttainment
    from evaltool.testing import ContractViolation

    def evaluate(self, data, ctx):  # forgets the tables
        return Evaluation(self.name, scores=GoalAttainment.score(self, data, ctx))

    with pytest.raises(ContractViolation, match="its readings differ|its tables differ"):
        check_instrument(_faulty(evaluate=evaluate))
    with pytest.raises(ContractViolation, match="must return an Evaluation"):
        check_instrument(_faulty(evaluate=lambda self, data, ctx: {"tables": []}))


def test_the_harness_refuses_readings_dated_after_the_period_end():
    import pandas as pd

    from evaltool.plugins.goal_attainment import GoalAttainment
    from evaltool.testing import ContractViolation

    def readings(self, data):  # dated by something other than the table's time column
        out = GoalAttainment.readings(self, data)
        return out.assign(date=out["date"] + pd.Timedelta(days=800))

    with pytest.raises(ContractViolation, match="after the period end"):
        check_instrument(_faulty(readings=readings))


def test_the_core_evaluates_each_instrument_once_with_its_table_cut_at_the_period_end():
    from evaltool.api import load_settings, run
    from evaltool.plugins.goal_attainment import GoalAttainment
    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

    seen = []

    class Spy(GoalAttainment):
        def evaluate(self, data, ctx):
            seen.append((data["review_date"].max(), ctx.period.end))
            return super().evaluate(data, ctx)

    settings = load_settings(EXAMPLE_CONFIG)
    registry = build_registry(settings.instrument_paths)
    gas = registry.instruments["gas"]
    registry.instruments["gas"] = Spy(gas.name, gas.title, gas.definition, gas.source)
    uncut = run(EXAMPLE, settings, "2025-Q4", registry=registry).loaded.dataset.tables["goals"]
    seen.clear()
    results = run(EXAMPLE, settings, "2024-Q4", registry=registry)
    [(latest, end)] = seen  # once
    assert latest <= pd_timestamp(end) < uncut["review_date"].max()
    assert results.evaluations["gas"].tables == results.summary_tables["gas"]


def pd_timestamp(day):
    import pandas as pd

    return pd.Timestamp(day)


def test_an_instruments_own_problem_keeps_its_client_when_placed_in_its_table():
    from types import SimpleNamespace

    from evaltool.core import _located
    from evaltool.data.problems import WARNING, Problem

    gas = build_registry(autoload=False).get("gas")
    raw = SimpleNamespace(file="service.xlsx", sheet="goals")
    source = SimpleNamespace(tables={"goals": raw})
    [p] = _located([Problem(WARNING, "odd", row=4, client="00123")], source, gas.table().name)
    assert (p.file, p.sheet, p.row, p.client) == ("service.xlsx", "goals", 4, "00123")


def test_a_return_names_an_installed_plugin_only_when_it_uses_it(tmp_path):
    """Issue 25: every return's Cover listed the example plugin, installed but unused."""
    import openpyxl

    from evaltool.api import run
    from evaltool.config import load_settings
    from evaltool.report.excel import write_return
    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

    assert "parenting-confidence" in build_registry().instruments  # installed (make test)
    out = write_return(run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4"), tmp_path / "r.xlsx")
    cover = [str(c.value) for row in openpyxl.load_workbook(out)["Cover"].iter_rows() for c in row]
    assert not any("example-plugin" in text for text in cover)
    assert any(text.startswith("evaltool ") for text in cover)  # evaltool's own still named


def test_a_plugin_whose_kinds_hook_raises_is_listed_and_its_definitions_skipped(plugin_dir, runner):
    """Its definition files name a kind it no longer offers: that is the plugin's fault, so
    the plugin is listed with both errors and every command still works (issue 26)."""
    defs = plugin_dir / "kindraise_defs"
    defs.mkdir()
    (defs / "mine.toml").write_text('name = "mine"\nkind = "kindraise-scale"\ntable = "mine"\n')
    fake_distribution(
        plugin_dir,
        "kindraise",
        "kindraise_mod",
        f"""
        from pathlib import Path
        from evaltool.instruments.hookspecs import hookimpl
        @hookimpl
        def evaltool_instrument_kinds():
            raise ImportError("no module named 'scipy.special.magic'")
        @hookimpl
        def evaltool_instrument_definitions():
            return [Path({str(defs)!r})]
    """,
    )
    registry = build_registry()
    broken = next(p for p in registry.plugins if p.package == "kindraise")
    assert "evaltool_instrument_kinds() raised ImportError" in broken.error
    assert "unknown kind 'kindraise-scale'" in broken.error and "mine.toml" in broken.error
    result = runner.invoke(app, ["plugins"])
    assert result.exit_code == 0 and "kindraise" in result.output and "FAILED" in result.output
    assert runner.invoke(app, ["instruments"]).exit_code == 0


def test_a_bad_key_in_a_plugins_definition_file_is_listed_not_fatal(plugin_dir, runner):
    defs = plugin_dir / "keyplug_defs"
    defs.mkdir()
    (defs / "typo.toml").write_text(
        'name = "typo"\nkind = "goal_attainment"\ntable = "goals"\nscael = 1\n'
    )
    fake_distribution(
        plugin_dir,
        "keyplug",
        "keyplug_mod",
        f"""
        from pathlib import Path
        from evaltool.instruments.hookspecs import hookimpl
        @hookimpl
        def evaltool_instrument_definitions():
            return [Path({str(defs)!r})]
    """,
    )
    registry = build_registry()
    broken = next(p for p in registry.plugins if p.package == "keyplug")
    assert "typo.toml" in broken.error and "scael" in broken.error
    assert "typo" not in registry.instruments
    result = runner.invoke(app, ["plugins"])
    assert result.exit_code == 0 and "keyplug" in result.output


def test_a_plugin_whose_summarise_raises_is_named_in_words(plugin_dir, runner, tmp_path):
    """Not 'unexpected internal error': the instrument and its plugin are named, and the
    fix a manager can make (leave it out of [instruments] enabled) is said."""
    import shutil

    from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

    fake_distribution(
        plugin_dir,
        "divplug",
        "divplug_mod",
        """
        from evaltool.instruments.hookspecs import hookimpl
        from evaltool.plugins.goal_attainment import GoalAttainment
        class Broken(GoalAttainment):
            kind = "divplug-gas"
            def evaluate(self, data, ctx):  # as a plugin's summarise() would, called from it
                return 1 / 0
        @hookimpl
        def evaltool_instruments():
            return [Broken(name="divgas", title="Broken GAS")]
    """,
    )
    config = tmp_path / "evaltool.toml"
    text = EXAMPLE_CONFIG.read_text()
    config.write_text(text.replace("enabled = [", 'enabled = ["divgas", ', 1))
    data = shutil.copy(EXAMPLE, tmp_path / "service.xlsx")
    result = runner.invoke(
        app,
        [
            "score",
            str(data),
            "--config",
            str(config),
            "--period",
            "2025-Q4",
            "--out",
            str(tmp_path / "r.xlsx"),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "divgas" in result.output and "divplug" in result.output
    assert "ZeroDivisionError" in result.output and "internal error" not in result.output
    assert not (tmp_path / "r.xlsx").exists()


def _headline_of(cite, value):
    """``cite`` filled from a published GAS table whose cited cell holds ``value``."""
    import pandas as pd

    from evaltool.instruments.results import Headline, SummaryTable
    from evaltool.report.disclosure import Suppressed
    from evaltool.report.publish import Publication, headline_text

    data = pd.DataFrame({"Window": ["Quarter", "To date"], "Clients": [4.0, value]})
    data["Mean change in T"] = [1.25, 10.25]
    table = SummaryTable("gas", "GAS", data, counts=("Clients",))
    shown = Suppressed(data.astype(object), data.isna() & False, 0, 0)
    pub = Publication({"GAS": [table]}, {"gas": shown})
    return headline_text(Headline("{} clients", (cite,)), pub, "gas")


def test_a_cited_count_reads_as_a_whole_number_by_default():
    """Issue 26: ``Cite.fmt`` defaulted to one decimal, so a count headline read "110.0
    clients". By default a count column is now a whole number with thousands separated, and
    anything else keeps one decimal."""
    from evaltool.instruments.results import Cite

    assert _headline_of(Cite("gas", "Clients", 1), 110.0) == "110 clients"
    assert _headline_of(Cite("gas", "Clients", 1), 1234.0) == "1,234 clients"
    assert _headline_of(Cite("gas", "Mean change in T", 1), 0) == "10.2 clients"  # 10.25 -> .1f
    assert _headline_of(Cite("gas", "Clients", 1, "{:.2f}"), 110.0) == "110.00 clients"  # as given


def test_the_harness_refuses_a_count_printed_with_decimals():
    from evaltool.instruments.results import Cite, Headline
    from evaltool.testing import ContractViolation

    def headline(fmt):
        cite = Cite("gas", "Clients", 1) if fmt is None else Cite("gas", "Clients", 1, fmt)
        return lambda self, data, ctx: Headline("{} parents set goals", (cite,))

    for fmt in ("{:.1f}", "{:,.2f}", "{:.1%}"):
        with pytest.raises(ContractViolation, match="count 'Clients' printed with decimals"):
            check_instrument(_faulty(headline=headline(fmt)))
    check_instrument(_faulty(headline=headline(None)))  # the default is right for counts
    check_instrument(_faulty(headline=headline("{:,.0f}")))

"""Settings: read from ``evaltool.toml``, overridden by command-line flags.

Settings are checked like data: every unknown section, key, table, column, instrument and code
is an error with its line and the nearest valid name, all listed at once (a misspelt name
ignored would give a wrong return with no error). Curly quotes and non-breaking spaces, as a
word processor or email writes them, are read as the plain ones the manager meant.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evaltool.data.baseline import refusal_message
from evaltool.data.benchmark import Benchmark, Point, read_benchmark
from evaltool.data.costs import VALUE_KEYS, ValueSettings, read_value_settings
from evaltool.errors import ConfigError


class SettingsError(ConfigError):
    """Every problem found in a settings file, one per line."""

    def __init__(self, path: Path | None, problems: list[str], notes: tuple[str, ...] = ()):
        def line(problem: str) -> int:
            found = re.match(r"[^:]*, line (\d+):", problem)
            return int(found.group(1)) if found else 0

        self.problems = sorted(problems, key=line)  # in the order of the file
        name = path.name if path else "the settings"
        head = f"{name} has {len(problems)} problem(s); nothing was done:"
        tail = "".join(f"\nNote: {n}" for n in notes)
        super().__init__(head + "".join(f"\n  {p}" for p in self.problems) + tail)


CALENDARS = ("financial", "calendar")
#: time to next proceedings is measured from (analysis/survival/table.py); "index" is the
#: name earlier versions gave index-conclusion, still read
ORIGINS = ("index-issue", "index-conclusion", "start")
ORIGIN_ALIASES = {"index": "index-conclusion"}
CI_TRANSFORMS = ("log", "log-log")
#: the symbols of a return: "gss" the bracketed [c] [x] [z] of the 2022 guidance, "dfe" c : z
SYMBOL_PROFILES = ("gss", "dfe")
#: who a return is for: "published" (suppressed, recorded when final) or "shared" (exact
#: counts for a commissioner under a data-sharing agreement; never recorded)
AUDIENCES = ("published", "shared")


@dataclass(frozen=True)
class Settings:
    service: str = "Unnamed service"
    funder: str = ""
    calendar: str = "financial"
    small_number_threshold: int = 5
    #: the fewest possible values a reader may narrow a hidden count to (None: threshold + 1;
    #: 2 is DfE's practice, "cannot be worked out"): report/disclosure.py, ``keep``
    protection_values: int | None = None
    symbols: str = "gss"  # the return's symbols: report/formats.SYMBOL_PROFILES
    extract_date: dt.date | None = None
    instruments: tuple[str, ...] | None = None  # None: every instrument whose table is present
    instrument_paths: tuple[Path, ...] = ()
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> header -> name
    compare_min_n: int = 5
    compare_min_days: int = 28
    survival_origin: str = "index-issue"
    survival_ci: str = "log"
    survival_times: tuple[int, ...] = (182, 365, 730, 1095)
    benchmark: Benchmark | None = None
    survival_covariates: tuple[str, ...] = ("cohort",)
    survival_group: str | None = None
    #: a return with a new child less than 37 weeks after the index is not one (returns.py)
    survival_rule_37_weeks: bool = True
    #: the day each parent joins the risk set (delayed entry): "start" (service start,
    #: comparison referral) or "referral" (intention to treat); survival/table.py
    survival_entry: str = "start"
    codes: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> label -> code
    record: Path | None = None  # the record of returns written (report/record.py)
    audience: str = "published"  # AUDIENCES: who the return is for (report/output.py)
    #: `evaltool due`: days allowed between readings of an instrument (default, then per
    #: instrument), and on the waiting list before a start
    due_reading_days: int = 90
    due_instrument_days: dict[str, int] = field(default_factory=dict)
    due_waiting_days: int = 28
    #: payment-by-results outcomes ([pbr]): off unless switched on; horizons in months
    pbr: bool = False
    pbr_pregnancy_months: int = 18
    pbr_engagement_months: int = 12
    pbr_proceedings_months: int = 36
    #: the cohorts compared with propensity scores ([comparison]; off without covariates)
    comparison_propensity: tuple[str, ...] = ()
    comparison_weights: str = "att"
    comparison_match: bool = False
    comparison_caliper: float = 0.2
    comparison_trim: float | None = None
    comparison_bootstrap: int = 1000
    #: baseline characteristics a level 2 comparison needs besides the contract's core set
    comparison_required: tuple[str, ...] = ()
    #: the one primary analysis ([primary]); every other comparison is labelled sensitivity.
    #: origin None: the survival origin of the settings
    primary_origin: str | None = None
    primary_outcome: str = "any"
    primary_estimand: str = "att"
    primary_method: str = "weights"
    #: value for money ([value]; data/costs.py reads and checks it)
    value: ValueSettings = field(default_factory=ValueSettings)
    config_file: Path | None = None
    #: sheet or file name (lower-cased) -> contract table ([tables])
    tables: dict[str, str] = field(default_factory=dict)
    #: said once to the person running (curly quotes read as straight ones, ...)
    notes: tuple[str, ...] = ()
    #: where each setting is in the file: normalised key path -> line number
    lines: dict[tuple[str, ...], int] = field(default_factory=dict, compare=False, repr=False)

    def line_of(self, *path: str) -> str:
        """'evaltool.toml, line 7' for a setting (its section's line when the key has none)."""
        name = self.config_file.name if self.config_file else "the settings"
        keys = tuple(_part(p) for p in path)
        for n in range(len(keys), 0, -1):
            if keys[:n] in self.lines:
                return f"{name}, line {self.lines[keys[:n]]}"
        return name

    @property
    def keep(self) -> int:
        """The fewest values a hidden count keeps for a reader (``protection_values``)."""
        if self.protection_values is None:
            return self.small_number_threshold + 1
        return self.protection_values

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the non-None overrides applied (command-line flags)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_SCHEMA: dict[str, set[str]] = {
    "service": {"name", "funder"},
    "reporting": {
        "calendar",
        "small_number_threshold",
        "protection_values",
        "symbols",
        "extract_date",
        "record",
        "audience",
    },
    "instruments": {"enabled", "paths"},
    "tables": set(),  # free-form: sheet or file name = table
    "columns": set(),  # free-form: table -> {header = contract name}
    "codes": set(),  # free-form: column -> {local label = code}
    "compare": {"min_n", "min_days"},
    "survival": {
        "origin",
        "ci",
        "times",
        "benchmark",
        "covariates",
        "group",
        "rule_37_weeks",
        "entry",
    },
    "due": {"reading_days", "waiting_days", "instruments"},
    "pbr": {"enabled", "pregnancy_months", "engagement_months", "proceedings_months"},
    "comparison": {"propensity", "weights", "match", "caliper", "trim", "bootstrap", "required"},
    "primary": {"origin", "outcome", "estimand", "method"},
    "value": VALUE_KEYS,
}
#: the primary analysis's choices ([primary]): the outcome of time to next proceedings, the
#: estimand of the propensity weights, and how the cohorts are made alike
PRIMARY_OUTCOMES = ("any", "new-child")
ESTIMANDS = ("att", "ate")
METHODS = ("weights", "match")
_BENCHMARK_KEYS = {"proportion", "days", "label", "source"}  # the one-figure form


def load_settings(path: Path | None, registry: Callable[..., Any] | None = None) -> Settings:
    """Read settings from a TOML file; ``None`` gives the defaults. Every problem in the file
    is found before any is reported (``SettingsError``); with ``registry`` (called with the
    instrument paths: ``build_registry``, which this layer may not import), the names too
    (``name_problems``)."""
    if path is None:
        return Settings()
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"configuration file {path} not found; create one with `evaltool init`")
    if path.is_dir():
        raise ConfigError(f"--config {path} is a folder; name the settings file (evaltool.toml)")
    try:
        text = read_toml_text(path)
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read ({exc.strerror})") from None
    text, note = plain_typography(text, path.name)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_error(path, text, exc)) from None
    lines = locate_keys(text)
    found = _structure_problems(data, lines, path) + _value_problems(data, lines, path)
    for keys, _ in found:  # the rest is read, so that every name in it is checked too
        parent = data
        for key in keys[:-1]:
            parent = parent.get(key, {})
        parent.pop(keys[-1], None)
    problems = [message for _, message in found]
    try:
        settings = _from_dict(data, path)
    except ConfigError as exc:
        problems.append(str(exc).removeprefix(f"{path}: "))
        raise SettingsError(path, problems, (note,) if note else ()) from None
    settings = replace(settings, lines=lines, notes=(note,) if note else ())
    if registry is not None:
        try:
            problems += name_problems(settings, registry(settings.instrument_paths))
        except ConfigError as exc:  # an instrument definition file that cannot be read
            problems.append(str(exc))
    if problems:
        raise SettingsError(path, problems, settings.notes)
    return settings


#: what word processors and email put for quotes and spaces, and what the manager meant
_TYPOGRAPHY = {
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2018": "'", "\u201a": "'", "\u2032": "'",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ",
}  # fmt: skip
#: a right single quote between letters is an apostrophe (Mother’s), kept as written
_CLOSING = re.compile(r"(?<![A-Za-z])\u2019|\u2019(?![A-Za-z])")


def plain_typography(text: str, name: str) -> tuple[str, str | None]:
    """Curly quotes and non-breaking spaces read as the plain ones; a note saying so, once."""
    found = sorted({c for c in text if c in _TYPOGRAPHY} | set(_CLOSING.findall(text)))
    if not found:
        return text, None
    at = sorted({n for n, line in enumerate(text.splitlines(), 1) if any(c in line for c in found)})
    text = _CLOSING.sub("'", text)
    text = text.translate(str.maketrans(_TYPOGRAPHY))
    shown = ["non-breaking spaces" if _TYPOGRAPHY.get(c) == " " else c for c in found]
    where = ", ".join(str(n) for n in at[:8]) + (", ..." if len(at) > 8 else "")
    return text, (
        f"{name}: read {', '.join(dict.fromkeys(shown))} as plain quotes and spaces (as a word "
        f"processor or email writes them) on line(s) {where}; the file itself is unchanged"
    )


def _toml_hint(text: str, exc: tomllib.TOMLDecodeError) -> str:
    """What the usual mistake on that line is: a header with spaces or other signs, unquoted."""
    import re

    found = re.search(r"line (\d+)", str(exc))
    lines = text.splitlines()
    if not found or not 0 < int(found.group(1)) <= len(lines):
        return ""
    line = lines[int(found.group(1)) - 1].strip()
    key = line.split("=", 1)[0].strip()
    if (
        "=" in line
        and key
        and not key.startswith(('"', "'", "["))
        and not re.fullmatch(r"[A-Za-z0-9_.-]+", key)
    ):
        return (
            f'. A header with spaces or signs needs quotes: "{key}" = '
            f"{line.split('=', 1)[1].strip()}"
        )
    return ""


def _part(name: str) -> str:
    """A key as compared: case, surrounding spaces and inner spaces or hyphens do not count."""
    return "_".join(str(name).strip().lower().replace("-", " ").split())


_KEY = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*""")


def _dotted(text: str) -> tuple[tuple[str, ...], int]:
    """A dotted key at the start of ``text`` (bare or quoted parts) and where it ends."""
    parts: list[str] = []
    pos = 0
    while True:
        found = _KEY.match(text, pos)
        if not found:
            return tuple(parts), pos
        parts.append(_part(next(g for g in found.groups() if g is not None)))
        pos = found.end()
        if not text.startswith(".", pos):
            return tuple(parts), pos
        pos += 1


def locate_keys(text: str) -> dict[tuple[str, ...], int]:
    """The line of each section and key of a settings file (normalised key paths), so that a
    problem can say where it is; a line scan: the file has already parsed."""
    out: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("["):
            parts, _ = _dotted(s.lstrip("["))
            if parts:
                table = parts
                out.setdefault(table, n)
            continue
        parts, pos = _dotted(s)
        if parts and s[pos:].startswith("="):
            for k in range(1, len(parts) + 1):
                out.setdefault(table + parts[:k], n)
    return out


def nearest(name: str, names: Any) -> str:
    """'(did you mean 'x'?)' for the valid name nearest a misspelt one, or nothing."""
    close = difflib.get_close_matches(str(name), sorted(names), n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(_part(name), sorted(names), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _at(lines: dict[tuple[str, ...], int], path: Path, *keys: str) -> str:
    keys_ = tuple(_part(k) for k in keys)
    for n in range(len(keys_), 0, -1):
        if keys_[:n] in lines:
            return f"{path.name}, line {lines[keys_[:n]]}"
    return path.name


def _structure_problems(
    data: dict[str, Any], lines: dict[tuple[str, ...], int], path: Path
) -> list[tuple[tuple[str, ...], str]]:
    """Every unknown section and key, with the nearest valid name."""
    out = []
    for section, value in data.items():
        if section not in _SCHEMA:
            out.append(
                (
                    (section,),
                    f"{_at(lines, path, section)}: unknown section [{section}]"
                    f"{nearest(section, _SCHEMA)}; allowed: {', '.join(sorted(_SCHEMA))}",
                )
            )
            continue
        if not isinstance(value, dict):
            out.append(
                (
                    (section,),
                    f"{_at(lines, path, section)}: [{section}] must be a table of settings",
                )
            )
            continue
        allowed = _SCHEMA[section]
        for key in value if allowed else ():
            if key not in allowed:
                out.append(
                    (
                        (section, key),
                        f"{_at(lines, path, section, key)}: unknown setting '{key}' in "
                        f"[{section}]{nearest(key, allowed)}; allowed: "
                        + ", ".join(sorted(allowed)),
                    )
                )
    return out


def _value_problems(
    data: dict[str, Any], lines: dict[tuple[str, ...], int], path: Path
) -> list[tuple[tuple[str, ...], str]]:
    """Every wrong value: each known setting read on its own, so one wrong value does not hide
    the next."""
    out = []
    for section, value in data.items():
        if section not in _SCHEMA or not isinstance(value, dict):
            continue
        for key, item in value.items():
            if _SCHEMA[section] and key not in _SCHEMA[section]:
                continue
            try:
                _from_dict({section: {key: item}}, path)
            except ConfigError as exc:
                message = str(exc).removeprefix(f"{path}: ")
                out.append(((section, key), f"{_at(lines, path, section, key)}: {message}"))
    return out


def find_settings(data: Path) -> Path | None:
    """The evaltool.toml a run without --config uses: beside the data (in a CSV folder, or
    the folder above it), else in the current folder; None when there is none."""
    data = Path(data)
    folders = [data, data.parent] if data.is_dir() else [data.parent]
    for folder in [*folders, Path.cwd()]:
        candidate = folder / "evaltool.toml"
        if candidate.is_file():
            return candidate
    return None


def _toml_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    """The parser's complaint in words: the line, what is wrong on it, what to write."""
    found = re.search(r"line (\d+)", str(exc))
    lines = text.splitlines()
    if not found or not 0 < int(found.group(1)) <= len(lines):
        return f"{path} is not a valid settings file: {exc}"
    n = int(found.group(1))
    line = lines[n - 1].strip()
    code = line.split("#", 1)[0] if line.count('"') % 2 == 0 else line
    if code.count('"') % 2 == 1 or code.count("'") % 2 == 1:
        mark = '"' if code.count('"') % 2 == 1 else "'"
        return (
            f"{path.name}, line {n}: a quote mark is missing in {line!r}: it has "
            f"{code.count(mark)} quote marks ({mark}), and every name or value in quotes needs "
            f'one before and one after, e.g. "Date Engaged" = "start_date"'
        )
    if line.startswith("[") and not line.split("#", 1)[0].rstrip().endswith("]"):
        return (
            f"{path.name}, line {n}: the section name {line!r} needs its closing ], "
            "e.g. [columns.clients]"
        )
    hint = _toml_hint(text, exc)
    return f"{path.name}, line {n}: this line cannot be read ({line!r}){hint or _PLAIN_RULES}"


_PLAIN_RULES = (
    '. Each setting is one line, name = value: text in straight quotes ("..."), numbers and '
    "true/false without, lists in [ ], a section name alone in [ ] on its own line"
)


def check_names(settings: Settings, registry: Any, specs: dict[str, Any] | None = None) -> None:
    """``name_problems`` raised as one ``SettingsError``."""
    problems = name_problems(settings, registry, specs)
    if problems:
        raise SettingsError(settings.config_file, problems)


def name_problems(
    settings: Settings, registry: Any, instrument_specs: dict[str, Any] | None = None
) -> list[str]:
    """Every name the settings give checked against what exists: tables, columns, codes and
    instruments (the installed and defined ones in ``registry``); all problems at once, each
    with its line and the nearest valid name (``SettingsError``). Covariates are checked with
    the data (a covariate may be a column of the export's own). ``instrument_specs``: the
    instruments' table specs by name, when the caller has built them (``core.load``)."""
    from evaltool.data.columns import YESNO
    from evaltool.data.contract import CORE_TABLES

    specs = {s.name: s for s in CORE_TABLES}
    for name, instrument in registry.instruments.items():
        spec = instrument_specs[name] if instrument_specs else instrument.table()
        specs.setdefault(spec.name, spec)
    out: list[str] = []
    installed = sorted(registry.instruments)
    for name in settings.instruments or ():
        if name not in registry.instruments:
            out.append(
                f"{settings.line_of('instruments', 'enabled')}: [instruments] enabled names "
                f"'{name}', which is no instrument{nearest(name, installed)}; instruments: "
                + ", ".join(installed)
            )
    for name in settings.due_instrument_days:
        if name not in registry.instruments:
            out.append(
                f"{settings.line_of('due', 'instruments', name)}: [due.instruments] names "
                f"'{name}', which is no instrument{nearest(name, installed)}; instruments: "
                + ", ".join(installed)
            )
    for sheet, table in settings.tables.items():
        if table not in specs:
            out.append(
                f"{settings.line_of('tables', sheet)}: [tables] maps '{sheet}' to '{table}', "
                f"which is no table{nearest(table, specs)}; tables: {', '.join(sorted(specs))}"
            )
    covariates = {*settings.survival_covariates, *settings.comparison_propensity}
    for table, mapping in settings.columns.items():
        spec = specs.get(table)
        if spec is None:
            out.append(
                f"{settings.line_of('columns', table)}: [columns.{table}]: there is no table "
                f"'{table}'{nearest(table, specs)}; tables: {', '.join(sorted(specs))}"
                + (" (a sheet's own name is mapped in [tables])" if table not in specs else "")
            )
            continue
        for header, target in mapping.items():
            if target in spec.column_names or (table == "clients" and target in covariates):
                continue
            out.append(
                f"{settings.line_of('columns', table, header)}: [columns.{table}] maps "
                f"'{header}' to '{target}', which is not a column of {table}"
                f"{nearest(target, spec.column_names)}; its columns: "
                + ", ".join(spec.column_names)
            )
    coded: dict[str, tuple[str, ...]] = {}  # a name may be coded in several tables (outcome)
    for spec in specs.values():
        for c in spec.columns:
            if c.choices:
                coded[c.name] = (
                    *coded.get(c.name, ()),
                    *(x for x in c.choices if x not in coded.get(c.name, ())),
                )
    yesno = {c.name for s in specs.values() for c in s.columns if c.type == YESNO}
    for column, labels in settings.codes.items():
        if column in yesno:
            out.append(
                f"{settings.line_of('codes', column)}: [codes.{column}]: {column} is a yes/no "
                "column, read as yes/no, y/n, true/false or 1/0; it takes no codes"
            )
            continue
        if column not in coded:
            out.append(
                f"{settings.line_of('codes', column)}: [codes.{column}]: there is no coded "
                f"column '{column}'{nearest(column, coded)}; coded columns: "
                + ", ".join(sorted(coded))
            )
            continue
        choices = coded[column]
        for label, code in labels.items():
            if code not in choices:
                out.append(
                    f"{settings.line_of('codes', column, label)}: [codes.{column}] maps "
                    f"'{label.replace('_', ' ')}' to '{code}', which is not a {column} code"
                    f"{nearest(code, choices)}; its codes: {', '.join(choices)}"
                )
    return out


def covariate_problems(settings: Settings, clients_columns: set[str]) -> list[str]:
    """Covariates named in the settings that are no column of clients (after the mapping) and
    not one evaltool derives, with the nearest name."""
    from evaltool.data.columns import INTEGER, NUMBER, YESNO
    from evaltool.data.contract import CLIENTS

    usable = {"cohort", "age_at_origin"} | {
        c.name for c in CLIENTS.columns if c.type in (INTEGER, NUMBER, YESNO)
    }
    out = []
    for key, names in (
        (("survival", "covariates"), settings.survival_covariates),
        (("comparison", "propensity"), settings.comparison_propensity),
    ):
        for name in names:
            if name in usable or name in clients_columns:
                continue
            out.append(
                f"{settings.line_of(*key)}: [{key[0]}] {key[1]} names '{name}', which is no "
                f"column of clients{nearest(name, usable)}; use a number or yes/no column: "
                + ", ".join(sorted(usable))
            )
    return out


def survival_groups() -> tuple[str, ...]:
    """Columns the survival curves may be split by: coded or yes/no columns of clients, and
    the derived age band and financial year of the origin. Any other column could print free
    text or ids in a return."""
    from evaltool.data.columns import CATEGORY, YESNO
    from evaltool.data.contract import CLIENTS

    coded = [
        c.name for c in CLIENTS.columns if c.type == YESNO or (c.type == CATEGORY and c.choices)
    ]
    return (*coded, "age_band", "origin_year")


def check_group(group: str, where: str) -> None:
    if group not in survival_groups():
        raise ConfigError(
            f"{where} = '{group}': curves can be split only by a coded or yes/no column "
            f"(a column of names or ids would print them); use one of: "
            f"{', '.join(survival_groups())}"
        )


def read_toml_text(path: Path) -> str:
    """A settings or definition file as text, as Windows editors save it: UTF-8 with or
    without a byte-order mark, UTF-16 (Notepad's "Unicode"), or ANSI (Windows-1252)."""
    raw = Path(path).read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _from_dict(data: dict[str, Any], path: Path) -> Settings:
    where = str(path)
    problems = _structure_problems(data, {}, path)
    if problems:  # load_settings has listed them all, with lines
        raise ConfigError(f"{where}: {problems[0][1].removeprefix(f'{path.name}: ')}")
    service = data.get("service", {})
    reporting = data.get("reporting", {})
    instruments = data.get("instruments", {})
    compare = data.get("compare", {})
    survival = data.get("survival", {})
    base = path.parent

    kwargs: dict[str, Any] = {"config_file": path}
    if "name" in service:
        kwargs["service"] = _str(service["name"], where, "service.name")
    if "funder" in service:
        kwargs["funder"] = _str(service["funder"], where, "service.funder")
    if "calendar" in reporting:
        kwargs["calendar"] = _choice(reporting["calendar"], CALENDARS, where, "reporting.calendar")
    if "small_number_threshold" in reporting:
        if reporting["small_number_threshold"] == 0:
            raise ConfigError(
                f"{where}: reporting.small_number_threshold = 0 would switch disclosure control "
                "off (no count hidden); use 1 or more (5 is usual)"
            )
        kwargs["small_number_threshold"] = _int(
            reporting["small_number_threshold"], where, "reporting.small_number_threshold", 1
        )
    if "protection_values" in reporting:
        value = reporting["protection_values"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 2:
            raise ConfigError(
                f"{where}: reporting.protection_values is {value!r}; it is the fewest possible "
                "values a reader may narrow a hidden count to, a whole number of at least 2 "
                "(2: a hidden count can never be worked out exactly; leave it out for the "
                "small-number threshold + 1)"
            )
        kwargs["protection_values"] = value
    if "symbols" in reporting:
        kwargs["symbols"] = _choice(
            reporting["symbols"], SYMBOL_PROFILES, where, "reporting.symbols"
        )
    if "extract_date" in reporting:
        kwargs["extract_date"] = parse_date_setting(
            reporting["extract_date"], f"{where}: reporting.extract_date"
        )
    if "record" in reporting:
        kwargs["record"] = (base / _str(reporting["record"], where, "reporting.record")).resolve()
    if "audience" in reporting:
        kwargs["audience"] = _choice(reporting["audience"], AUDIENCES, where, "reporting.audience")
    if "enabled" in instruments:
        enabled = instruments["enabled"]
        if not isinstance(enabled, list) or not all(isinstance(x, str) for x in enabled):
            raise ConfigError(f"{where}: instruments.enabled must be a list of instrument names")
        kwargs["instruments"] = tuple(enabled)
    if "paths" in instruments:
        paths = instruments["paths"]
        if not isinstance(paths, list):
            raise ConfigError(f"{where}: instruments.paths must be a list of folders")
        kwargs["instrument_paths"] = tuple((base / p).resolve() for p in paths)
    columns = data.get("columns", {})
    mapping: dict[str, dict[str, str]] = {}
    for table, cols in columns.items():
        if not isinstance(cols, dict) or not all(isinstance(v, str) for v in cols.values()):
            raise ConfigError(
                f"{where}: [columns.{table}] must map export headers to contract names, "
                f'e.g. "Client Ref" = "client_id"'
            )
        mapping[table] = {k.strip().lower(): v.strip().lower() for k, v in cols.items()}
    kwargs["columns"] = mapping
    codes: dict[str, dict[str, str]] = {}
    for column, labels in data.get("codes", {}).items():
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise ConfigError(
                f"{where}: [codes.{column}] must map your labels to codes, "
                f'e.g. "moved to another area" = "moved_away"'
            )
        codes[column.strip().lower()] = {
            "_".join(k.strip().lower().replace("-", " ").split()): _part(v)
            for k, v in labels.items()
        }
    kwargs["codes"] = codes
    tables: dict[str, str] = {}
    for sheet, table in data.get("tables", {}).items():
        if not isinstance(table, str):
            raise ConfigError(
                f"{where}: [tables] maps a sheet (or CSV file) name to a table, "
                f'e.g. "Client List" = "clients"'
            )
        tables[sheet.strip().lower()] = table.strip().lower()
    kwargs["tables"] = tables
    if "min_n" in compare:
        kwargs["compare_min_n"] = _int(compare["min_n"], where, "compare.min_n", 2)
    if "min_days" in compare:
        kwargs["compare_min_days"] = _int(compare["min_days"], where, "compare.min_days", 0)
    if "origin" in survival:
        named = ORIGIN_ALIASES.get(survival["origin"], survival["origin"])
        kwargs["survival_origin"] = _choice(named, ORIGINS, where, "survival.origin")
    if "entry" in survival:
        kwargs["survival_entry"] = _choice(
            survival["entry"], ("start", "referral"), where, "survival.entry"
        )
    if "ci" in survival:
        kwargs["survival_ci"] = _choice(survival["ci"], CI_TRANSFORMS, where, "survival.ci")
    if "times" in survival:
        kwargs["survival_times"] = parse_times(survival["times"], f"{where}: survival.times")
    if "covariates" in survival:
        covs = survival["covariates"]
        if not isinstance(covs, list) or not all(isinstance(c, str) for c in covs):
            raise ConfigError(
                f"{where}: survival.covariates must be a list of column names, "
                'e.g. ["cohort", "age_at_origin"]'
            )
        refused = refusal_message(tuple(covs), f"{where}: survival.covariates", allow=("cohort",))
        if refused:
            raise ConfigError(refused)
        kwargs["survival_covariates"] = tuple(covs)
    if "group" in survival:
        group = _str(survival["group"], where, "survival.group")
        check_group(group, f"{where}: survival.group")
        kwargs["survival_group"] = group
    if "benchmark" in survival:
        kwargs["benchmark"] = _benchmark(survival["benchmark"], where, path)
    if "rule_37_weeks" in survival:
        if not isinstance(survival["rule_37_weeks"], bool):
            raise ConfigError(f"{where}: survival.rule_37_weeks must be true or false")
        kwargs["survival_rule_37_weeks"] = survival["rule_37_weeks"]
    due = data.get("due", {})
    if "reading_days" in due:
        kwargs["due_reading_days"] = _int(due["reading_days"], where, "due.reading_days", 1)
    if "waiting_days" in due:
        kwargs["due_waiting_days"] = _int(due["waiting_days"], where, "due.waiting_days", 0)
    if "instruments" in due:
        days = due["instruments"]
        if not isinstance(days, dict):
            raise ConfigError(
                f"{where}: [due.instruments] must give days per instrument, e.g. gas = 60"
            )
        kwargs["due_instrument_days"] = {
            str(name): _int(n, where, f"due.instruments.{name}", 1) for name, n in days.items()
        }
    pbr = data.get("pbr", {})
    if "enabled" in pbr:
        if not isinstance(pbr["enabled"], bool):
            raise ConfigError(f"{where}: pbr.enabled must be true or false")
        kwargs["pbr"] = pbr["enabled"]
    for key in ("pregnancy_months", "engagement_months", "proceedings_months"):
        if key in pbr:
            kwargs[f"pbr_{key}"] = _int(pbr[key], where, f"pbr.{key}", 1)
    kwargs.update(_comparison(data.get("comparison", {}), where))
    kwargs.update(_primary(data.get("primary", {}), where))
    if isinstance(data.get("value"), dict):
        whole = len(data) > 1 or len(data["value"]) > 1  # not one key read on its own
        kwargs["value"] = read_value_settings(data["value"], where, path.parent, whole)
    return Settings(**kwargs)


def _primary(section: dict[str, Any], where: str) -> dict[str, Any]:
    """[primary]: the one primary analysis (origin, outcome, estimand, method)."""
    out: dict[str, Any] = {}
    if "origin" in section:
        named = ORIGIN_ALIASES.get(section["origin"], section["origin"])
        out["primary_origin"] = _choice(named, ORIGINS, where, "primary.origin")
    for key, choices in (
        ("outcome", PRIMARY_OUTCOMES),
        ("estimand", ESTIMANDS),
        ("method", METHODS),
    ):
        if key in section:
            out[f"primary_{key}"] = _choice(section[key], choices, where, f"primary.{key}")
    return out


def primary_analysis(settings: Settings) -> dict[str, str]:
    """The primary analysis fixed in the settings, in the words ``evidence.role`` compares; its
    entry (the day each parent joins the risk set) is the settings' [survival] entry."""
    return {
        "origin": settings.primary_origin or settings.survival_origin,
        "outcome": settings.primary_outcome,
        "estimand": settings.primary_estimand,
        "method": settings.primary_method,
        "entry": settings.survival_entry,
    }


def required_baseline(settings: Settings) -> tuple[str, ...]:
    """The baseline characteristics a level 2 comparison needs: the core set and the
    settings' own."""
    from evaltool.data.baseline import CORE_BASELINE

    return CORE_BASELINE + tuple(c for c in settings.comparison_required if c not in CORE_BASELINE)


def _baseline_list(
    covs: Any, name: str, example: str, empty_ok: bool, where: str
) -> tuple[str, ...]:
    """A list of baseline characteristics (column names), refused with the reason when one is
    an identifier, a date after entry or an outcome (``data/baseline.py``)."""
    if (
        not isinstance(covs, list)
        or not (covs or empty_ok)
        or not all(isinstance(c, str) for c in covs)
    ):
        raise ConfigError(f"{where}: {name} must be a list of column names, e.g. {example}")
    refused = refusal_message(tuple(covs), f"{where}: {name}")
    if refused:
        raise ConfigError(refused)
    return tuple(covs)


def _comparison(section: dict[str, Any], where: str) -> dict[str, Any]:
    """[comparison]: the propensity model's covariates and how it adjusts."""
    out: dict[str, Any] = {}
    for key, example, empty_ok in (
        ("propensity", '["age_at_origin", "prior_children_removed", "care_experienced"]', False),
        ("required", '["domestic_abuse", "substance_misuse"]', True),
    ):
        if key in section:
            out[f"comparison_{key}"] = _baseline_list(
                section[key], f"comparison.{key}", example, empty_ok, where
            )
    if "weights" in section:
        out["comparison_weights"] = _choice(
            section["weights"], ("ate", "att"), where, "comparison.weights"
        )
    if "match" in section:
        if not isinstance(section["match"], bool):
            raise ConfigError(f"{where}: comparison.match must be true or false")
        out["comparison_match"] = section["match"]
    for key, low, high in (("caliper", 0.0, 5.0), ("trim", 0.0, 0.5)):
        if key in section:
            value = section[key]
            if not isinstance(value, int | float) or not low < value < high:
                raise ConfigError(
                    f"{where}: comparison.{key} must be a number between {low:g} and {high:g}"
                )
            out[f"comparison_{key}"] = float(value)
    if "bootstrap" in section:
        out["comparison_bootstrap"] = _int(section["bootstrap"], where, "comparison.bootstrap", 0)
    return out


def _benchmark(value: Any, where: str, path: Path | None) -> Benchmark:
    """A benchmark named or in a file (``data/benchmark.py``), or the one-figure table of
    earlier versions: that states no origin or population, so it is shown but never compared
    with the service."""
    if isinstance(value, str):
        return read_benchmark(value, f"{where}: survival.benchmark", path.parent if path else None)
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where}: survival.benchmark must be the name of a benchmark evaltool ships, the "
            "path of a benchmark file, or a table"
        )
    unknown = set(value) - _BENCHMARK_KEYS
    missing = _BENCHMARK_KEYS - set(value)
    if unknown or missing:
        raise ConfigError(
            f"{where}: survival.benchmark needs exactly proportion, days, label and source"
            + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else "")
            + (f"; missing: {', '.join(sorted(missing))}" if missing else "")
            + "; or name a benchmark file, which also states its origin and population"
        )
    proportion = value["proportion"]
    if not isinstance(proportion, int | float) or not 0 <= proportion <= 1:
        raise ConfigError(
            f"{where}: survival.benchmark.proportion must be a share from 0 to 1, e.g. 0.24"
        )
    days = _int(value["days"], where, "survival.benchmark.days", 1)
    return Benchmark(
        label=_str(value["label"], where, "survival.benchmark.label"),
        source=_str(value["source"], where, "survival.benchmark.source"),
        points=(Point(days, float(proportion)),),
        origin=None,
    )


def parse_date_setting(value: Any, where: str) -> dt.date:
    """A date setting or option: a TOML date, or text dd/mm/yyyy (dd.mm.yyyy) or yyyy-mm-dd,
    as the data's dates are written."""
    from evaltool.data.columns import parse_day

    day = parse_day(value)
    if day is None:
        raise ConfigError(
            f"{where}: '{value}' is not a date; write it as dd/mm/yyyy (e.g. 06/12/2026) or "
            "yyyy-mm-dd"
        )
    return day


def parse_times(value: Any, where: str) -> tuple[int, ...]:
    """Times in days, from a list or a comma-separated string such as ``182,365``."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        times = tuple(int(str(x).strip()) for x in items)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{where}: times must be whole numbers of days, e.g. 182,365,730"
        ) from None
    if not times or any(t <= 0 for t in times):
        raise ConfigError(f"{where}: times must be positive numbers of days, e.g. 182,365,730")
    return times


def _str(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be text in quotes")
    return value


def _int(value: Any, where: str, key: str, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{where}: {key} must be a whole number of at least {minimum}")
    return value


def _choice(value: Any, choices: tuple[str, ...], where: str, key: str) -> str:
    if value not in choices:
        raise ConfigError(f"{where}: {key} is '{value}'; use one of: {', '.join(choices)}")
    return value

"""Settings: read from ``evaltool.toml``, overridden by command-line flags.

Every key is checked; a misspelt key is an error naming the file, the key and the keys allowed.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evaltool.data.benchmark import Benchmark, Point, read_benchmark
from evaltool.errors import ConfigError

CALENDARS = ("financial", "calendar")
#: time to next proceedings is measured from (analysis/survival/table.py); "index" is the
#: name earlier versions gave index-conclusion, still read
ORIGINS = ("index-issue", "index-conclusion", "start")
ORIGIN_ALIASES = {"index": "index-conclusion"}
CI_TRANSFORMS = ("log", "log-log")
#: the symbols of a return: "gss" the bracketed [c] [x] [z] of the 2022 guidance, "dfe" c : z
SYMBOL_PROFILES = ("gss", "dfe")


@dataclass(frozen=True)
class Settings:
    service: str = "Unnamed service"
    funder: str = ""
    calendar: str = "financial"
    small_number_threshold: int = 5
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
    comparison_bootstrap: int = 200
    config_file: Path | None = None

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the non-None overrides applied (command-line flags)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_SCHEMA: dict[str, set[str]] = {
    "service": {"name", "funder"},
    "reporting": {"calendar", "small_number_threshold", "symbols", "extract_date", "record"},
    "instruments": {"enabled", "paths"},
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
    "comparison": {"propensity", "weights", "match", "caliper", "trim", "bootstrap"},
}
_BENCHMARK_KEYS = {"proportion", "days", "label", "source"}  # the one-figure form


def load_settings(path: Path | None) -> Settings:
    """Read settings from a TOML file; ``None`` gives the defaults."""
    if path is None:
        return Settings()
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"configuration file {path} not found; create one with `evaltool init`")
    if path.is_dir():
        raise ConfigError(f"--config {path} is a folder; name the settings file (evaltool.toml)")
    try:
        text = read_toml_text(path)
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}{_toml_hint(text, exc)}") from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read ({exc.strerror})") from None
    return _from_dict(data, path)


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
    for section, value in data.items():
        if section not in _SCHEMA:
            raise ConfigError(
                f"{where}: unknown section [{section}]; allowed: {', '.join(sorted(_SCHEMA))}"
            )
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: [{section}] must be a table of settings")
        allowed = _SCHEMA[section]
        if allowed:
            for key in value:
                if key not in allowed:
                    raise ConfigError(
                        f"{where}: unknown setting '{key}' in [{section}]; "
                        f"allowed: {', '.join(sorted(allowed))}"
                    )
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
            "_".join(k.strip().lower().replace("-", " ").split()): v.strip().lower()
            for k, v in labels.items()
        }
    kwargs["codes"] = codes
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
    return Settings(**kwargs)


def _comparison(section: dict[str, Any], where: str) -> dict[str, Any]:
    """[comparison]: the propensity model's covariates and how it adjusts."""
    out: dict[str, Any] = {}
    if "propensity" in section:
        covs = section["propensity"]
        if not isinstance(covs, list) or not covs or not all(isinstance(c, str) for c in covs):
            raise ConfigError(
                f"{where}: comparison.propensity must be a list of column names, e.g. "
                '["age_at_origin", "prior_children_removed", "care_experienced"]'
            )
        out["comparison_propensity"] = tuple(covs)
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
    """A date setting: a TOML date or text yyyy-mm-dd."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: '{value}' is not a date; write it as yyyy-mm-dd") from None


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

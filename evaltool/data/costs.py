"""Unit costs and the GDP deflator, as data: what an avoided event would have cost, with the
source, price year and licence of every figure, so that a value-for-money case can be checked.

A unit-cost file is TOML (``evaltool/data/costs/unit-costs.toml`` holds the defaults evaltool
ships; a service's own file, ``[value] costs = "my-costs.toml"``, has the same form and
overrides any line by its ``id`` or adds lines)::

    [[cost]]
    id = "foster-care-week"
    label = "A week of foster care for one child"
    value = 646
    unit = "per child per week"
    price_year = "2016-17"          # or 2016: the year whose prices the value is in
    source = "who published it, where"
    licence = "may it be bundled"
    checked = "what was checked against the primary source, and what was not"

Prices are moved to one price year with a GDP deflator series (``gdp-deflator.toml``, its
vintage stated): value in year P = value x index[P] / index[price year]. A financial year
"2016-17" takes the index of the calendar year it starts in.

``[value]`` in evaltool.toml is read here too (``read_value_settings``), so that the settings
file is checked before any work (config.py calls it).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaltool.errors import ConfigError

SHIPPED = Path(__file__).parent / "costs"
UNIT_COSTS = SHIPPED / "unit-costs.toml"
DEFLATOR = SHIPPED / "gdp-deflator.toml"
_COST_KEYS = {"id", "label", "value", "unit", "price_year", "source", "licence", "checked"}
_COST_REQUIRED = ("id", "label", "value", "unit", "price_year", "source")
#: HM Treasury Green Book: the standard discount rate, and the lower rate for health (and
#: wellbeing) effects valued as such
GREEN_BOOK_RATE = 0.035
HEALTH_RATE = 0.015
#: HM Treasury wellbeing guidance (July 2021): one WELLBY (a 1-point change in life
#: satisfaction for one person for one year), central value, 2019 prices
WELLBY_VALUE = 13000.0
WELLBY_PRICE_YEAR = 2019


@dataclass(frozen=True)
class UnitCost:
    """One unit cost with its provenance."""

    id: str
    label: str
    value: float
    unit: str
    price_year: str
    source: str
    licence: str = ""
    checked: str = ""
    origin: str = "shipped"  # "shipped" or the service's file name

    @property
    def year(self) -> int:
        """The calendar year whose deflator index applies (2016-17 -> 2016)."""
        return int(str(self.price_year)[:4])


@dataclass(frozen=True)
class Deflator:
    """A GDP deflator index by calendar year, with its vintage."""

    index: dict[int, float]
    vintage: str
    source: str
    checked: str = ""

    def factor(self, from_year: int, to_year: int, where: str = "") -> float:
        """What 1 GBP in ``from_year`` prices is in ``to_year`` prices."""
        for y in (from_year, to_year):
            if y not in self.index:
                raise ConfigError(
                    f"{where or 'price year'} {y}: the GDP deflator series covers "
                    f"{min(self.index)} to {max(self.index)}; choose a price year in it or give "
                    "your own series ([value] deflator)"
                )
        return self.index[to_year] / self.index[from_year]


def _load(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: the {what} file cannot be read ({exc.strerror})") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable TOML {what} file ({exc})") from None


def read_costs(path: Path, origin: str = "shipped") -> dict[str, UnitCost]:
    """The unit costs of one file by id; every fault in it at once."""
    data = _load(path, "unit-cost")
    lines = data.get("cost")
    if set(data) - {"cost"} or not isinstance(lines, list) or not lines:
        raise ConfigError(
            f"{path}: a unit-cost file is a list of [[cost]] tables (id, label, value, unit, "
            "price_year, source, licence, checked)"
        )
    problems, out = [], {}
    for i, line in enumerate(lines, 1):
        where = f"{path.name}, cost {i}"
        if not isinstance(line, dict):
            problems.append(f"{where}: not a [[cost]] table")
            continue
        unknown = sorted(set(line) - _COST_KEYS)
        missing = [k for k in _COST_REQUIRED if k not in line]
        if unknown or missing:
            problems.append(
                f"{where} ({line.get('id', 'no id')}): "
                + "; ".join(
                    ([f"missing {', '.join(missing)}"] if missing else [])
                    + ([f"unknown {', '.join(unknown)}"] if unknown else [])
                )
            )
            continue
        value = line["value"]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problems.append(f"{where} ({line['id']}): value {value!r}; give an amount in GBP")
            continue
        year = str(line["price_year"])
        if not re.fullmatch(r"(19|20)\d\d(-\d\d)?", year):
            problems.append(f"{where} ({line['id']}): price_year {year!r}; give 2019 or 2019-20")
            continue
        if line["id"] in out:
            problems.append(f"{where}: id {line['id']!r} is given twice")
            continue
        out[str(line["id"])] = UnitCost(
            id=str(line["id"]),
            label=str(line["label"]),
            value=float(value),
            unit=str(line["unit"]),
            price_year=year,
            source=str(line["source"]),
            licence=str(line.get("licence", "")),
            checked=str(line.get("checked", "")),
            origin=origin,
        )
    if problems:
        raise ConfigError(f"{path} has {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    return out


def unit_costs(own: Path | None = None) -> dict[str, UnitCost]:
    """The shipped unit costs, with a service's own file's lines over them."""
    costs = read_costs(UNIT_COSTS)
    if own is not None:
        costs.update(read_costs(own, own.name))
    return costs


def read_deflator(path: Path | None = None) -> Deflator:
    """The shipped GDP deflator series, or a service's own in the same form."""
    path = path or DEFLATOR
    data = _load(path, "GDP deflator")
    index = data.get("index")
    if not isinstance(index, dict) or not index:
        raise ConfigError(f"{path}: give [index] with one line per year, e.g. 2024 = 100")
    try:
        parsed = {int(y): float(v) for y, v in index.items()}
    except (TypeError, ValueError):
        raise ConfigError(
            f"{path}: [index] lines must read year = number, e.g. 2024 = 100"
        ) from None
    if any(v <= 0 for v in parsed.values()):
        raise ConfigError(f"{path}: every index value must be above 0")
    return Deflator(
        parsed, str(data.get("vintage", "not stated")), str(data.get("source", "")),
        str(data.get("checked", "")),
    )  # fmt: skip


@dataclass(frozen=True)
class Saving:
    """What one avoided set of care proceedings saves: ``quantity`` units of a unit cost in
    each of ``years`` years from the event (1: once)."""

    cost: str
    quantity: float = 1.0
    years: int = 1


@dataclass(frozen=True)
class ValueSettings:
    """``[value]``: the service's cost, what an avoided set of proceedings saves, the effect
    and the Green Book settings. Defaults are said in the README and in every output."""

    enabled: bool = False
    costs: Path | None = None  # the service's own unit-cost file
    deflator: Path | None = None  # the service's own GDP deflator series
    price_year: int | None = None  # None: the deflator's base year
    service_cost: tuple[float, ...] = ()  # per year, for each year the service runs
    cost_per_parent: float | None = None  # or: per parent, times parents_per_year
    years: int | None = None  # with cost_per_parent: the years it covers
    cost_price_year: int | None = None  # the prices the service cost is in (None: price_year)
    first_year: int | None = None  # the calendar year the costs start (for the words only)
    parents_per_year: float | None = None  # None: from the data, rounded to 5
    savings: tuple[Saving, ...] = (Saving("court-public-law-case"),)
    horizon_years: int = 4
    discount_rate: float = GREEN_BOOK_RATE
    deadweight: float = 0.0
    attribution: float = 1.0
    optimism_bias: float = 0.2
    effect: str = "auto"  # auto, comparison, benchmark, what-if
    effect_days: int | None = None  # None: the longest of [survival] times
    what_if_prevented_per_year: float | None = None
    what_if_relative_reduction: float | None = None
    draws: int = 2000
    seed: int = 20261206
    wellby_points: float | None = None  # life-satisfaction points gained per parent, one year
    wellby_value: float = WELLBY_VALUE
    health_discount_rate: float = HEALTH_RATE
    notes: tuple[str, ...] = field(default=(), compare=False)


VALUE_KEYS = {
    "enabled", "costs", "deflator", "price_year", "service_cost", "cost_per_parent", "years",
    "cost_price_year", "first_year", "parents_per_year", "savings", "horizon_years",
    "discount_rate", "deadweight", "attribution", "optimism_bias", "effect", "effect_days",
    "what_if_prevented_per_year", "what_if_relative_reduction", "draws", "seed",
    "wellby_points", "wellby_value", "health_discount_rate",
}  # fmt: skip
EFFECTS = ("auto", "comparison", "benchmark", "what-if")


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def read_value_settings(
    section: dict[str, Any], where: str, base: Path | None, whole: bool = True
) -> ValueSettings:
    """Check ``[value]`` and read it; every fault at once (one ConfigError, one per line).
    ``whole``: the section as written, not one key read on its own (config.py reads each key
    alone first): only then are keys checked against each other."""
    problems: list[str] = []
    out: dict[str, Any] = {}

    def bad(key: str, found: Any, expected: str) -> None:
        problems.append(f"value.{key} = {found!r}: {expected}")

    def path_of(key: str) -> None:
        v = section[key]
        if not isinstance(v, str) or not v:
            bad(key, v, "give the path of a .toml file")
            return
        p = Path(v).expanduser()
        p = p if p.is_absolute() or base is None else base / p
        if not p.is_file():
            bad(key, v, f"no such file ({p})")
            return
        out[key] = p

    for key, v in section.items():
        if key == "enabled":
            if not isinstance(v, bool):
                bad(key, v, "true or false")
            else:
                out[key] = v
        elif key in ("costs", "deflator"):
            path_of(key)
        elif key in ("price_year", "cost_price_year", "first_year"):
            if not isinstance(v, int) or isinstance(v, bool) or not 1900 <= v <= 2100:
                bad(key, v, "a calendar year, e.g. 2024")
            else:
                out[key] = v
        elif key == "service_cost":
            if not isinstance(v, list) or not v or not all(_number(x) and x >= 0 for x in v):
                bad(key, v, "a list of GBP amounts, one per year, e.g. [120000, 125000, 130000]")
            else:
                out[key] = tuple(float(x) for x in v)
        elif key in ("cost_per_parent", "parents_per_year", "what_if_prevented_per_year"):
            if not _number(v) or v < 0:
                bad(key, v, "a number, 0 or more")
            else:
                out[key] = float(v)
        elif key in ("years", "horizon_years", "effect_days", "draws"):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                bad(key, v, "a whole number, 1 or more")
            else:
                out[key] = v
        elif key == "seed":
            if not isinstance(v, int) or isinstance(v, bool):
                bad(key, v, "a whole number")
            else:
                out[key] = v
        elif key in (
            "discount_rate", "health_discount_rate", "deadweight", "attribution",
            "optimism_bias", "what_if_relative_reduction",
        ):  # fmt: skip
            if not _number(v) or not 0 <= v <= 1:
                bad(key, v, "a share from 0 to 1, e.g. 0.035 for 3.5%")
            else:
                out[key] = float(v)
        elif key in ("wellby_points", "wellby_value"):
            if not _number(v):
                bad(key, v, "a number")
            else:
                out[key] = float(v)
        elif key == "effect":
            if v not in EFFECTS:
                bad(key, v, f"one of {', '.join(EFFECTS)}")
            else:
                out[key] = v
        elif key == "savings":
            parsed = _savings(v)
            if isinstance(parsed, str):
                bad(key, v, parsed)
            else:
                out[key] = parsed
        # unknown keys are reported by config.py's schema check, with the nearest name
    if "service_cost" in out and "cost_per_parent" in out:
        problems.append("value: give service_cost (per year) or cost_per_parent, not both")
    if whole and "cost_per_parent" in out and "years" not in out:
        problems.append("value.cost_per_parent: give years too (how many years it covers)")
    if "what_if_prevented_per_year" in out and "what_if_relative_reduction" in out:
        problems.append(
            "value: give what_if_prevented_per_year or what_if_relative_reduction, not both"
        )
    if whole and out.get("enabled") and "service_cost" not in out and "cost_per_parent" not in out:
        problems.append(
            "value: enabled = true needs the service's cost: service_cost = [GBP a year, ...] "
            "or cost_per_parent = GBP with years = n"
        )
    running = len(out.get("service_cost", ())) or out.get("years", 0)
    if running > out.get("horizon_years", 4):
        problems.append(
            f"value.horizon_years = {out.get('horizon_years', 4)}: shorter than the {running} "
            "years the service's cost covers; count at least those years"
        )
    if problems:
        raise ConfigError(f"{where}: " + f"\n  {where}: ".join(problems))
    known = {k: v for k, v in out.items() if k in VALUE_KEYS}
    return ValueSettings(**known)


def _savings(v: Any) -> tuple[Saving, ...] | str:
    expected = (
        "a list of {cost = id, quantity = n, years = n} tables, e.g. "
        '[{cost = "court-public-law-case"}, {cost = "foster-care-week", quantity = 52}]'
    )
    if not isinstance(v, list) or not v:
        return expected
    out = []
    for item in v:
        if (
            not isinstance(item, dict)
            or "cost" not in item
            or set(item) - {"cost", "quantity", "years"}
        ):
            return expected
        q, y = item.get("quantity", 1), item.get("years", 1)
        if not _number(q) or q < 0 or not isinstance(y, int) or isinstance(y, bool) or y < 1:
            return expected
        out.append(Saving(str(item["cost"]), float(q), y))
    return tuple(out)

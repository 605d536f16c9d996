"""Benchmark curves: published recurrence figures, each with the population, origin, outcome
and years it was measured on, so that a service is compared only with a like figure.

A benchmark file is TOML (``evaltool/data/benchmarks/`` holds the ones evaltool ships)::

    label = "Mothers in care proceedings in England, 2007-14"
    population = "mothers"          # mothers, fathers or parents
    age_band = "all"                # or under 20, 20-24, 25-29, 30 and over
    origin = "first-issue"          # as [survival] origin, or first-issue: the earliest
                                    # proceedings in the records
    selection = "all in proceedings"  # or "referred to a service": who was counted
    outcome = "any"                 # or new-child
    data_years = "2007-14"
    published = 2015
    source = "Broadhurst et al. (2015), British Journal of Social Work 45(8) 2241-60"
    checked = "what was checked against the primary source, and what was not"

    [[points]]                      # one or more: days or months, the cumulative incidence,
    months = 84                     # and its CI where published
    incidence = 0.24

A curve is drawn as its points and never extended beyond them, and only when it is measured
like for like: the same origin and outcome as the analysis, and parents selected as the
service's are (``selection = "referred to a service"``). Anything else is "measured
differently: a guide to scale only", and kept off the service's chart.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltool.errors import ConfigError

SHIPPED = Path(__file__).parent / "benchmarks"
POPULATIONS = {"mothers": "female", "fathers": "male", "parents": None}
AGE_BANDS = ("all", "under 20", "20-24", "25-29", "30 and over")
ORIGINS = ("first-issue", "index-issue", "index-conclusion", "start")
#: who a benchmark counts: everyone in care proceedings (not selected), or parents referred to
#: a service as the service's were (already recurrent, selected); like for like needs the second
SELECTIONS = ("all in proceedings", "referred to a service")
ORIGIN_WORDS = {
    "first-issue": "the issue of the earliest proceedings in the records",
    "index-issue": "the issue of the latest proceedings before joining",
    "index-conclusion": "the conclusion of the latest proceedings before joining",
    "start": "the day of joining",
}
MEASURED_DIFFERENTLY = "measured differently: a guide to scale only"
OUTCOMES = ("any", "new-child")
DAYS_PER_MONTH = 365.25 / 12
_KEYS = {
    "label",
    "population",
    "age_band",
    "origin",
    "outcome",
    "data_years",
    "published",
    "source",
    "checked",
    "points",
    "selection",
}
_REQUIRED = ("label", "population", "origin", "source", "points")


@dataclass(frozen=True)
class Point:
    days: int
    incidence: float
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class Benchmark:
    """A published cumulative incidence of new care proceedings, at one or more times."""

    label: str
    source: str
    points: tuple[Point, ...]
    origin: str | None  # None: not stated (an old one-figure setting), so never compared
    population: str = "parents"
    age_band: str = "all"
    outcome: str = "any"
    data_years: str = ""
    published: int | None = None
    checked: str = ""
    selection: str | None = None  # None: not stated, so never like for like

    @property
    def proportion(self) -> float:
        """The last point's incidence (the headline figure)."""
        return self.points[-1].incidence

    @property
    def days(self) -> int:
        return self.points[-1].days

    def points_text(self) -> str:
        """'24% by 84 months' for each point."""
        return ", ".join(
            f"{p.incidence:.0%} by {p.days / DAYS_PER_MONTH:.0f} months" for p in self.points
        )

    def describe(self) -> str:
        """Who, measured from where, when: in words."""
        who = (
            self.population if self.age_band == "all" else f"{self.population} aged {self.age_band}"
        )
        years = f", {self.data_years}" if self.data_years else ""
        origin = (
            f"measured from {ORIGIN_WORDS[self.origin]}" if self.origin else "origin not stated"
        )
        chosen = self.selection or "who was counted not stated"
        return f"{who}{years}; {chosen}; {origin}; {self.outcome} returns"


def shipped() -> dict[str, Path]:
    """The benchmark files evaltool ships, by name."""
    return {p.stem: p for p in sorted(SHIPPED.glob("*.toml"))}


def read_benchmark(value: str, where: str, base: Path | None = None) -> Benchmark:
    """A shipped benchmark by name, or a benchmark file (relative to ``base``)."""
    names = shipped()
    if value in names:
        path = names[value]
    else:
        path = Path(value).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
        if not path.is_file():
            raise ConfigError(
                f"{where}: survival.benchmark {value!r} is neither a benchmark evaltool ships "
                f"({', '.join(names)}) nor a file; give one of those names or the path of a "
                "benchmark .toml file"
            )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable TOML benchmark file ({exc})") from exc
    return benchmark_from(data, str(path))


def benchmark_from(data: dict[str, Any], where: str) -> Benchmark:
    """Check a benchmark's keys and values, naming each fault."""
    unknown = set(data) - _KEYS
    missing = [k for k in _REQUIRED if k not in data]
    if unknown or missing:
        raise ConfigError(
            f"{where}: a benchmark needs {', '.join(_REQUIRED)}"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else "")
        )
    for key, allowed in (
        ("population", tuple(POPULATIONS)),
        ("age_band", AGE_BANDS),
        ("origin", ORIGINS),
        ("outcome", OUTCOMES),
        ("selection", SELECTIONS),
    ):
        if key in data and data[key] not in allowed:
            raise ConfigError(f"{where}: {key} = {data[key]!r}; use one of {', '.join(allowed)}")
    points = data["points"]
    if not isinstance(points, list) or not points:
        raise ConfigError(f"{where}: points must be a list of [[points]] tables, at least one")
    parsed = tuple(
        sorted(
            (_point(p, f"{where}: points[{i}]") for i, p in enumerate(points)), key=lambda p: p.days
        )
    )
    return Benchmark(
        label=str(data["label"]),
        source=str(data["source"]),
        points=parsed,
        origin=data["origin"],
        population=data["population"],
        age_band=data.get("age_band", "all"),
        outcome=data.get("outcome", "any"),
        data_years=str(data.get("data_years", "")),
        published=data.get("published"),
        checked=str(data.get("checked", "")),
        selection=data.get("selection"),
    )


def _point(p: Any, where: str) -> Point:
    if not isinstance(p, dict) or ("days" in p) == ("months" in p) or "incidence" not in p:
        raise ConfigError(f"{where}: give days or months (one of them) and incidence")
    days = p["days"] if "days" in p else round(p["months"] * DAYS_PER_MONTH)
    if not isinstance(days, int) or days < 1:
        raise ConfigError(f"{where}: days must be a whole number of days, 1 or more")
    shares = {k: p.get(k) for k in ("incidence", "ci_low", "ci_high")}
    for k, v in shares.items():
        if v is not None and (not isinstance(v, int | float) or not 0 <= v <= 1):
            raise ConfigError(f"{where}: {k} must be a share from 0 to 1, e.g. 0.24")
    return Point(days, float(p["incidence"]), shares["ci_low"], shares["ci_high"])

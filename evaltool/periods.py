"""Reporting periods: financial (April-March, Q1 = April-June) or calendar quarters."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from evaltool.errors import ConfigError

_PERIOD = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
#: a financial year as the return labels it: "2025-26 Q3", "2025/26 Q3", "Q3 2025-26"
_YEAR = r"(\d{4})\s*[-/]\s*(\d{2}|\d{4})"
_FY_FIRST = re.compile(rf"^{_YEAR}\s*Q([1-4])$", re.IGNORECASE)
_FY_LAST = re.compile(rf"^Q([1-4])\s*{_YEAR}$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """One reporting quarter, with inclusive start and end dates."""

    year: int  # calendar year, or the year a financial year starts (2025 = 2025-26)
    quarter: int
    calendar: str  # "financial" or "calendar"
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        if self.calendar == "financial":
            return f"{financial_year(self.year)} Q{self.quarter}"
        return f"{self.year} Q{self.quarter}"

    @property
    def code(self) -> str:
        return f"{self.year}-Q{self.quarter}"

    def describe(self) -> str:
        kind = "financial year" if self.calendar == "financial" else "calendar year"
        return f"{self.label} ({kind}): {self.start:%d %b %Y} to {self.end:%d %b %Y}"

    def previous(self) -> Period:
        year, quarter = (self.year, self.quarter - 1) if self.quarter > 1 else (self.year - 1, 4)
        return make_period(year, quarter, self.calendar)


def financial_year(year: int) -> str:
    """The financial year starting in April of ``year``, as the return names it: 2025-26."""
    return f"{year}-{(year + 1) % 100:02d}"


def make_period(year: int, quarter: int, calendar: str) -> Period:
    first_month = (quarter - 1) * 3 + (4 if calendar == "financial" else 1)
    start_year = year + (first_month - 1) // 12
    first_month = (first_month - 1) % 12 + 1
    start = dt.date(start_year, first_month, 1)
    end_month = first_month + 3
    end_year = start_year + (end_month - 1) // 12
    end = dt.date(end_year, (end_month - 1) % 12 + 1, 1) - dt.timedelta(days=1)
    return Period(year, quarter, calendar, start, end)


def period_of(day: dt.date, calendar: str) -> Period:
    """The quarter that contains ``day``."""
    offset = 3 if calendar == "financial" else 0  # April is month 1 of a financial year
    months = day.year * 12 + day.month - 1 - offset
    return make_period(months // 12, (months % 12) // 3 + 1, calendar)


def parse_period(text: str, calendar: str) -> Period:
    """Parse ``2025-Q3``; in a financial calendar also the return's own label, ``2025-26 Q3``
    (or ``2025/26 Q3``, ``Q3 2025-26``). The year is the one the financial year starts in."""
    text = text.strip()
    m = _PERIOD.match(text)
    if m:
        return make_period(int(m.group(1)), int(m.group(2)), calendar)
    fy = _FY_FIRST.match(text)
    parts = (fy.group(1), fy.group(2), fy.group(3)) if fy else None
    if parts is None and (fy := _FY_LAST.match(text)):
        parts = (fy.group(2), fy.group(3), fy.group(1))
    if parts is not None and calendar == "financial":
        start, end, quarter = parts
        if int(end) % 100 == (int(start) + 1) % 100:  # 2025-26: the year after 2025
            return make_period(int(start), int(quarter), calendar)
    hint = (
        "2025-Q3 or 2025-26 Q3 (financial: Oct-Dec 2025)" if calendar == "financial" else "2025-Q3"
    )
    raise ConfigError(f"period '{text}' is not a quarter; write it like {hint}")


def quarters_between(first: dt.date, last: Period) -> list[Period]:
    """Every quarter from the one containing ``first`` up to ``last``, in order."""
    out = [last]
    while out[-1].start > first:
        out.append(out[-1].previous())
    return out[::-1]

"""How much of a return is hidden: usefulness measured, so that safety is not bought blind.

A return that hides what a commissioner needs fails too. Two figures, for ``benchmarks/run.py``
and the tests:

- the share of counts above the small-number threshold that are hidden anyway (to protect
  another cell: secondary suppression), how many of them are still printed as the range of
  tens they are in ("20 to 29": not exact, not blank), and the share of all count cells hidden;
- the key figures of the Summary shown in at least one of the five windows (and how many of
  them only as a bound, "at most 20%");
- the shares whose exact value is hidden, and how many of them are printed as a bound;
- a lower bound on the first, for the tables as they are: what *any* suppression that meets
  the rule must hide (:func:`least_hidden`). Where the bound is above a target, no better
  choice of cells meets it; only other tables or another method can.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from evaltool.core import Results
    from evaltool.instruments.results import SummaryTable
    from evaltool.report.publish import Publication


@dataclass(frozen=True)
class Usefulness:
    counts: int  # count cells with a value
    hidden: int  # of them hidden
    above: int  # count cells above the threshold
    hidden_above: int  # of them hidden (secondary suppression)
    key_rows: int  # key figures on the Summary
    key_rows_shown: int  # of them shown in at least one window
    least: int = 0  # counts above the threshold that any safe suppression hides (a bound)
    key_rows_bounded: int = 0  # key figures shown in a window only as a bound
    shares_hidden: int = 0  # shares (``SummaryTable.ratios``) whose exact value is not shown
    shares_bounded: int = 0  # of them printed as a bound
    ranged_above: int = 0  # of ``hidden_above``, printed as the range of tens they are in

    @property
    def hidden_above_share(self) -> float:
        return self.hidden_above / self.above if self.above else 0.0

    @property
    def blank_above_share(self) -> float:
        """Counts above the threshold with nothing printed for them, not even a range."""
        return (self.hidden_above - self.ranged_above) / self.above if self.above else 0.0

    @property
    def hidden_share(self) -> float:
        return self.hidden / self.counts if self.counts else 0.0

    def describe(self) -> str:
        return (
            f"counts above the threshold not exact {self.hidden_above}/{self.above} "
            f"({self.hidden_above_share:.0%}), {self.ranged_above} of them as a range, "
            f"{self.hidden_above - self.ranged_above} blank ({self.blank_above_share:.0%}); "
            f"all counts hidden {self.hidden}/{self.counts} "
            f"({self.hidden_share:.0%}); Summary rows shown in a window "
            f"{self.key_rows_shown}/{self.key_rows}"
            + (f" ({self.key_rows_bounded} only as a bound)" if self.key_rows_bounded else "")
            + f"; shares hidden {self.shares_hidden}, {self.shares_bounded} of them shown as a "
            f"bound; any suppression hides at least {self.least}/{self.above} "
            f"({self.least_share:.0%}) above the threshold"
        )

    @property
    def least_share(self) -> float:
        return self.least / self.above if self.above else 0.0


def usefulness(results: Results, pub: Publication) -> Usefulness:
    """What the publication hides, measured on the true values behind it."""
    from evaltool.report.disclosure import SUPPRESSED
    from evaltool.report.key_figures import key_values

    threshold = results.settings.small_number_threshold
    counts = hidden = above = hidden_above = ranged_above = shares_hidden = shares_bounded = 0
    for tables in pub.sheets.values():
        for t in tables:
            frame = t.data.reset_index(drop=True)
            suppressed = pub.shown[t.name].suppressed
            for col in t.ratios:
                for v in pub.shown[t.name].values[col].tolist():
                    shares_hidden += v == SUPPRESSED or _bound(v)
                    shares_bounded += _bound(v)
            for col in t.counts:
                if col not in frame:
                    continue
                values = pd.to_numeric(frame[col], errors="coerce")
                for r, v in values.items():
                    if pd.isna(v):
                        continue
                    h = bool(suppressed.at[r, col])
                    counts += 1
                    hidden += h
                    if v > threshold:
                        above += 1
                        hidden_above += h
                        ranged_above += h and _bound(pub.shown[t.name].values.at[r, col])
    rows = key_values(pub)
    shown = sum(any(v != SUPPRESSED for v in row) for row in rows)
    exact = sum(any(v != SUPPRESSED and not _bound(v) for v in row) for row in rows)
    tables = [t for ts in pub.sheets.values() for t in ts]
    least = least_hidden(tables, threshold, results.settings.keep)
    return Usefulness(
        counts,
        hidden,
        above,
        hidden_above,
        len(rows),
        shown,
        least,
        shown - exact,
        shares_hidden,
        shares_bounded,
        ranged_above,
    )


def _bound(value: object) -> bool:
    """A share printed as a bound ("at most 20%": ``disclosure.band_text``), or a count as
    its range ("20 to 29": ``disclosure.range_text``)."""
    from evaltool.report.disclosure import BAND, RANGE

    return isinstance(value, str) and (BAND.match(value) or RANGE.match(value)) is not None


def least_hidden(tables: list[SummaryTable], threshold: int, keep: int | None = None) -> int:
    """Counts above the threshold that every suppression safe by the rule must hide: a lower
    bound, over groups of one table that add up (a total and its parts, in a row or down a
    column).

    In such a group, with the total and the parts above the threshold shown, the hidden small
    parts (1 to threshold, hidden by the first rule) add up to a known S: each lies in 0..S,
    S + 1 values, and a lone small part beside no zero is exact. Where S + 1 is below
    ``keep`` (threshold + 1 unless set: S below the threshold), or the small part is alone
    with no zero to hide with it, the rule needs one
    more cell of the group hidden, and every cell left is above the threshold (hiding a zero
    widens nothing). Groups are counted only where their cells above the threshold are not
    in a group counted already, so the bound adds up; relations between tables only add to
    what must be hidden."""
    from evaltool.report.disclosure import Cells, sum_groups, total_groups, values_kept

    keep = values_kept(threshold, keep)
    value = Cells(tables).value
    used: set = set()
    least = 0
    for t in tables:
        for parts, total in sum_groups(t) + (total_groups(t) if t.total_is_sum else []):
            values = [value.get(p) for p in parts]
            if total not in value or any(v is None for v in values):
                continue
            small = [v for v in values if 1 <= v <= threshold]
            big = {c for c in (*parts, total) if value[c] > threshold}
            short = sum(small) + 1 < keep or (len(small) == 1 and 0 not in values)
            if small and short and big and not big & used:
                least += 1
                used |= big
    return least

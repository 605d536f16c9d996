"""How much of a return is hidden: usefulness measured, so that safety is not bought blind.

A return that hides what a commissioner needs fails too. Two figures, for ``benchmarks/run.py``
and the tests:

- the share of counts above the small-number threshold that are hidden anyway (to protect
  another cell: secondary suppression), and the share of all count cells hidden;
- the key figures of the Summary shown in at least one of the five windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from evaltool.core import Results
    from evaltool.report.publish import Publication


@dataclass(frozen=True)
class Usefulness:
    counts: int  # count cells with a value
    hidden: int  # of them hidden
    above: int  # count cells above the threshold
    hidden_above: int  # of them hidden (secondary suppression)
    key_rows: int  # key figures on the Summary
    key_rows_shown: int  # of them shown in at least one window

    @property
    def hidden_above_share(self) -> float:
        return self.hidden_above / self.above if self.above else 0.0

    @property
    def hidden_share(self) -> float:
        return self.hidden / self.counts if self.counts else 0.0

    def describe(self) -> str:
        return (
            f"counts above the threshold hidden {self.hidden_above}/{self.above} "
            f"({self.hidden_above_share:.0%}); all counts hidden {self.hidden}/{self.counts} "
            f"({self.hidden_share:.0%}); Summary rows shown in a window "
            f"{self.key_rows_shown}/{self.key_rows}"
        )


def usefulness(results: Results, pub: Publication) -> Usefulness:
    """What the publication hides, measured on the true values behind it."""
    from evaltool.report.disclosure import SUPPRESSED
    from evaltool.report.key_figures import key_figures, key_value

    threshold = results.settings.small_number_threshold
    counts = hidden = above = hidden_above = 0
    for tables in pub.sheets.values():
        for t in tables:
            frame = t.data.reset_index(drop=True)
            suppressed = pub.shown[t.name].suppressed
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
    figures = key_figures(pub)
    windows = len(pub.shown["activity-windows"].values) if "activity-windows" in pub.shown else 0
    shown = sum(any(key_value(pub, f, w) != SUPPRESSED for w in range(windows)) for f in figures)
    return Usefulness(counts, hidden, above, hidden_above, len(figures), shown)

"""Small-number suppression for funder returns (DfE convention).

Primary: counts from 1 up to the threshold become ``c``; 0 is a true zero and stays.
Derived values (shares, means) are suppressed with the count they were computed from.
Secondary: within every additive group (the rows of a column that sum to a total row, or the
columns of a row that sum to a total column), a lone suppressed cell would be recoverable by
subtraction, so one more cell is suppressed: the smallest non-zero shown part, else the total.
Repeat until no group has exactly one suppressed cell.

Symbols (GSS): ``c`` confidential, ``z`` not applicable, ``:`` not available.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltool.instrument import SummaryTable

SUPPRESSED, NOT_APPLICABLE, NOT_AVAILABLE = "c", "z", ":"


@dataclass
class Suppressed:
    """A table ready to show: values with symbols in place, and which cells were suppressed."""

    values: pd.DataFrame  # object dtype: numbers, text or a symbol
    suppressed: pd.DataFrame  # bool, same shape
    primary: int
    secondary: int


def _groups(table: SummaryTable, frame: pd.DataFrame) -> list[list[tuple[int, str]]]:
    """Additive groups of count cells, each as [part cells..., total cell]."""
    groups: list[list[tuple[int, str]]] = []
    label_cols = [c for c in frame.columns if c not in table.counts and frame[c].dtype == object]
    if table.total_row is not None:
        label = next((c for c in label_cols if (frame[c] == table.total_row).any()), None)
        if label is not None:
            section = frame["Window"] if "Window" in frame else pd.Series("", index=frame.index)
            for _, rows in frame.groupby(section, sort=False).groups.items():
                totals = [r for r in rows if frame.at[r, label] == table.total_row]
                parts = [r for r in rows if frame.at[r, label] != table.total_row]
                for total in totals:
                    for col in table.counts:
                        groups.append([(r, col) for r in parts] + [(total, col)])
    for total_col, parts in table.sums.items():
        for r in frame.index:
            groups.append([(r, c) for c in parts] + [(r, total_col)])
    return groups


def suppress(table: SummaryTable, threshold: int) -> Suppressed:
    """Apply primary, secondary and derived suppression to a summary table."""
    frame = table.data.reset_index(drop=True)
    sup = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    for col in table.counts:
        values = pd.to_numeric(frame[col], errors="coerce")
        sup[col] = ((values >= 1) & (values <= threshold)).fillna(False).astype(bool)
    primary = int(sup.to_numpy().sum())

    secondary = 0
    groups = _groups(table, frame)
    changed = True
    while changed:
        changed = False
        for group in groups:
            hidden = [cell for cell in group if sup.at[cell]]
            if len(hidden) != 1:
                continue
            parts = [cell for cell in group[:-1] if not sup.at[cell] and _num(frame.at[cell]) > 0]
            pick = min(parts, key=lambda cell: _num(frame.at[cell])) if parts else group[-1]
            if sup.at[pick]:
                continue
            sup.at[pick] = True
            secondary += 1
            changed = True

    for col, base in table.derived.items():
        if col in sup and base in sup:
            sup[col] = sup[col] | sup[base]

    shown = frame.astype(object).copy()
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col]) or col in table.counts
        if numeric:
            base = table.derived.get(col)
            zero_base = (
                (pd.to_numeric(frame[base], errors="coerce") == 0)
                if base in frame
                else (pd.Series(False, index=frame.index))
            )
            missing = frame[col].isna()
            shown.loc[missing & zero_base, col] = NOT_APPLICABLE
            shown.loc[missing & ~zero_base, col] = NOT_AVAILABLE
        shown.loc[sup[col], col] = SUPPRESSED
    return Suppressed(shown, sup, primary, secondary)


def _num(value: object) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.inf
    return x if np.isfinite(x) else np.inf

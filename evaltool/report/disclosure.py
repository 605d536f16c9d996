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
    # one boolean array per column (a table has a few rows; pandas per cell would dominate)
    sup = {col: np.zeros(len(frame), dtype=bool) for col in frame.columns}
    for col in table.counts:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        sup[col] = (values >= 1) & (values <= threshold)
    primary = int(sum(s.sum() for s in sup.values()))

    secondary = 0
    groups = _groups(table, frame)
    changed = True
    while changed:
        changed = False
        for group in groups:
            hidden = [(r, c) for r, c in group if sup[c][r]]
            if len(hidden) != 1:
                continue
            parts = [(r, c) for r, c in group[:-1] if not sup[c][r] and _num(frame.at[r, c]) > 0]
            pick = min(parts, key=lambda cell: _num(frame.at[cell])) if parts else group[-1]
            if sup[pick[1]][pick[0]]:
                continue
            sup[pick[1]][pick[0]] = True
            secondary += 1
            changed = True

    for col, base in table.derived.items():
        if col in sup and base in sup:
            sup[col] = sup[col] | sup[base]

    shown = {}  # column by column in numpy: a table has a few rows, a return many tables
    for col in frame.columns:
        values = frame[col].astype(object).to_numpy(copy=True)
        if pd.api.types.is_numeric_dtype(frame[col]) or col in table.counts:
            base = table.derived.get(col)
            zero_base = (
                (pd.to_numeric(frame[base], errors="coerce") == 0).to_numpy(dtype=bool)
                if base in frame
                else np.zeros(len(frame), dtype=bool)
            )
            missing = frame[col].isna().to_numpy(dtype=bool)
            values[missing & zero_base] = NOT_APPLICABLE
            values[missing & ~zero_base] = NOT_AVAILABLE
        values[sup[col]] = SUPPRESSED
        shown[col] = values
    return Suppressed(
        pd.DataFrame(shown, index=frame.index, columns=frame.columns),
        pd.DataFrame(sup, index=frame.index, columns=frame.columns),
        primary,
        secondary,
    )


def _num(value: object) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.inf
    return x if np.isfinite(x) else np.inf

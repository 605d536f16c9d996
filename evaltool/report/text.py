"""Plain-text and CSV output: the problems table, and atomic CSV export."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from evaltool.problems import Report

COLUMNS = ("severity", "file", "sheet", "row", "column", "value", "expected", "message")


def problems_table(report: Report, limit_per_group: int = 25) -> str:
    """Every problem, one per line, in fixed columns; very long runs of one fault are shortened."""
    problems = report.sorted()
    rows = [("", "file", "sheet", "row", "column", "value found", "expected", "problem")]
    groups: dict[tuple, int] = {}
    hidden: dict[tuple, int] = {}
    for p in problems:
        key = (p.severity, p.file, p.sheet, p.column, p.message)
        groups[key] = groups.get(key, 0) + 1
        if groups[key] > limit_per_group:
            hidden[key] = hidden.get(key, 0) + 1
            continue
        value = p.value if len(p.value) <= 30 else p.value[:27] + "..."
        rows.append(
            (
                p.severity.upper(),
                p.file,
                p.sheet,
                "" if p.row is None else str(p.row),
                p.column,
                value,
                p.expected,
                p.message,
            )
        )
    for key, n in hidden.items():
        rows.append(
            (
                key[0].upper(),
                key[1],
                key[2],
                "",
                key[3],
                "",
                "",
                f"... and {n} more rows like this (use --report FILE.csv for all)",
            )
        )
    widths = [min(max(len(r[i]) for r in rows), 40) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        for r in rows
    ]
    lines.append(f"{report.error_count} error(s), {len(report.warnings)} warning(s)")
    return "\n".join(lines)


def problems_csv(report: Report, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for p in report.sorted():
            writer.writerow(p.as_dict())


def write_csv_atomically(frame, path: Path) -> None:
    """Write a DataFrame to CSV via a temporary file in the same folder."""
    from evaltool.report.safe import FORMULA_STARTS

    path = Path(path)
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object or str(frame[col].dtype) == "string":
            text = frame[col].astype("string")
            risky = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
            frame[col] = text.mask(risky, "'" + text)  # OWASP: neutralise formula triggers
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".csv.tmp", dir=path.parent)
    os.close(fd)
    try:
        frame.to_csv(tmp, index=False, date_format="%Y-%m-%d")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)

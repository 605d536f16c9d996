"""Kept for one release so that plugins written for 0.1 still import: use
:mod:`evaltool.instruments.kit`."""

from collections.abc import Callable

from evaltool.instruments.kit import (
    first_and_latest,
    first_and_latest_rows,
    in_window,
    quartiles,
    scale_bounds,
    setting,
    share,
    ts,
    until,
)

__all__ = [
    "first_and_latest",
    "first_and_latest_rows",
    "in_window",
    "quartiles",
    "remember_last",
    "scale_bounds",
    "setting",
    "share",
    "ts",
    "until",
]


def remember_last(method: Callable) -> Callable:
    """No longer needed (the core calls each instrument once per run): returns ``method``."""
    return method

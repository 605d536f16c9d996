"""Kept for one release so that plugins written for 0.1 still import: use
:mod:`evaltool.data.columns` (or ``evaltool.instruments``)."""

from evaltool.data.columns import CATEGORY, DATE, ID, INTEGER, NUMBER, TEXT, YESNO, Column

__all__ = ["CATEGORY", "DATE", "ID", "INTEGER", "NUMBER", "TEXT", "YESNO", "Column"]

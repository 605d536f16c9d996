"""Kept for one release so that plugins written for 0.1 still import: use
:mod:`evaltool.data.specs` (or ``evaltool.instruments.TableSpec``)."""

from evaltool.data.specs import TableSpec

__all__ = ["TableSpec"]

"""Kept for one release so that plugins written for 0.1 still import: use
:mod:`evaltool.instruments.hookspecs`."""

from evaltool.instruments.hookspecs import PROJECT, hookimpl, hookspec

__all__ = ["PROJECT", "hookimpl", "hookspec"]

"""Everything a plugin author needs, from one place::

    from evaltool.instruments import Instrument, SummaryTable, Headline, Cite, hookimpl

The plugin contract (``hookspecs``), the base class and what an instrument returns (``base``,
``results``), the registry that loads built-in and third-party plugins alike (``registry``)
and the authoring kit of shared helpers (``kit``). Names load on first use, so importing this
package costs nothing until a name is asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Instrument": "base",
    "Context": "base",
    "Measure": "base",
    "Definition": "base",
    "Evaluation": "results",
    "SummaryTable": "results",
    "Headline": "results",
    "Cite": "results",
    "Relation": "results",
    "Implied": "results",
    "hookimpl": "hookspecs",
    "TableSpec": "evaltool.data.specs",
    "Column": "evaltool.data.columns",
    "TEXT": "evaltool.data.columns",
    "ID": "evaltool.data.columns",
    "DATE": "evaltool.data.columns",
    "INTEGER": "evaltool.data.columns",
    "NUMBER": "evaltool.data.columns",
    "YESNO": "evaltool.data.columns",
    "CATEGORY": "evaltool.data.columns",
    "Problem": "evaltool.data.problems",
    "WARNING": "evaltool.data.problems",
    "ERROR": "evaltool.data.problems",
    "PluginError": "evaltool.errors",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'evaltool.instruments' has no attribute {name!r}")
    module = _WHERE[name]
    module = module if module.startswith("evaltool.") else f"evaltool.instruments.{module}"
    return getattr(importlib.import_module(module), name)

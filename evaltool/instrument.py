"""Kept for one release so that plugins written for 0.1 still import: use
:mod:`evaltool.instruments`."""

from evaltool.instruments.base import Context, Definition, Instrument, Measure
from evaltool.instruments.results import Cite, Headline, SummaryTable

__all__ = ["Cite", "Context", "Definition", "Headline", "Instrument", "Measure", "SummaryTable"]

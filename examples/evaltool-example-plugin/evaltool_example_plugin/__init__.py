"""Example evaltool plugin: a one-score 'confidence scale' instrument kind and a definition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from evaltool.instruments import (
    DATE,
    ID,
    INTEGER,
    Cite,
    Column,
    Context,
    Definition,
    Headline,
    Instrument,
    Measure,
    SummaryTable,
    TableSpec,
    hookimpl,
)
from evaltool.instruments.kit import first_and_latest, in_window, scale_bounds

__version__ = "0.1.0"


class ConfidenceScale(Instrument):
    """One self-rated score per reading, e.g. 'How confident do you feel as a parent?'."""

    kind = "confidence_scale"
    definition_keys = frozenset({"scale", "question", "reliability"})

    def __init__(
        self, name: str, title: str, definition: dict[str, Any] | None = None, source: str = ""
    ) -> None:
        super().__init__(name, title, definition, source)
        self.lo, self.hi = scale_bounds(self.definition, source)
        self.question = str(self.definition.get("question", title))
        self.reliability = self.definition.get("reliability")
        self.table_name = str(self.definition.get("table", name.replace("-", "_")))

    def table(self) -> TableSpec:
        return TableSpec(
            self.table_name,
            (
                Column("client_id", ID, required=True),
                Column("rating_date", DATE, required=True),
                Column("rating", INTEGER, required=True, min=self.lo, max=self.hi),
            ),
            f"{self.title}: one row per rating.",
            unique=("client_id", "rating_date"),
            time_column="rating_date",
        )

    def describe_scale(self) -> str:
        return f"{self.lo}-{self.hi}, higher is better"

    def score(self, data: pd.DataFrame, ctx: Context) -> pd.DataFrame:
        first, last = first_and_latest(data, ["client_id"], "rating_date")
        return pd.DataFrame(
            {
                "first": first["rating"].astype(float),
                "latest": last["rating"].astype(float),
                "change": last["rating"].astype(float) - first["rating"].astype(float),
            }
        ).reset_index()

    def measures(self) -> list[Measure]:
        return [Measure("rating", self.question, True, self.reliability)]

    def readings(self, data: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "unit": data["client_id"],
                "client_id": data["client_id"],
                "measure": "rating",
                "date": data["rating_date"],
                "value": data["rating"].astype(float),
            }
        )

    def summarise(self, data: pd.DataFrame, ctx: Context) -> list[SummaryTable]:
        rows = []
        for label, start, end in ctx.windows:
            rated = data[in_window(data["rating_date"], start, end)]["client_id"].unique()
            scored = self.score(data[data["client_id"].isin(rated)], ctx)
            rows.append(
                {
                    "Window": label,
                    "Clients": len(scored),
                    "Mean first": scored["first"].mean(),
                    "Mean latest": scored["latest"].mean(),
                    "Improved": int((scored["change"] > 0).sum()),
                }
            )
        table = pd.DataFrame(rows)
        return [
            SummaryTable(
                self.name,
                self.title,
                table,
                counts=("Clients", "Improved"),
                derived={"Mean first": "Clients", "Mean latest": "Clients"},
            )
        ]

    def headline(self, data: pd.DataFrame, ctx: Context) -> Headline:
        # the figures are cells of the table above (row 1: "To date"), so the return hides
        # them whenever it hides the count they come from
        return Headline(
            "mean rating {} at first and {} at the latest",
            (Cite(self.name, "Mean first", 1), Cite(self.name, "Mean latest", 1)),
        )

    def definitions(self) -> list[Definition]:
        return [
            Definition(
                self.title, f"{self.question} ({self.lo}-{self.hi})", "evaltool-example-plugin"
            )
        ]


@hookimpl
def evaltool_instrument_kinds() -> list[type[Instrument]]:
    return [ConfidenceScale]


@hookimpl
def evaltool_instrument_definitions() -> list[Path]:
    return [Path(__file__).parent / "definitions"]

"""Goal Attainment Scaling (Kiresuk & Sherman 1968): weighted T-scores per client.

T = 50 + 10 * sum(w*x) / sqrt((1 - rho) * sum(w^2) + rho * (sum w)^2), rho = 0.3 by default.
The latest review of each goal gives the T-score; the earliest review gives the baseline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaltool.data.columns import DATE, ID, INTEGER, NUMBER, TEXT, Column
from evaltool.data.specs import TableSpec
from evaltool.instruments.base import Context, Definition, Instrument, Measure
from evaltool.instruments.hookspecs import hookimpl
from evaltool.instruments.kit import first_and_latest_rows, in_window, setting
from evaltool.instruments.results import (
    Cite,
    Evaluation,
    Headline,
    Relation,
    SummaryTable,
)


def t_scores(goals: pd.DataFrame, rho: float = 0.3) -> pd.DataFrame:
    """Kiresuk-Sherman T per client, at baseline and latest, vectorised.

    T = 50 + 10 * sum(w x) / sqrt((1 - rho) * sum(w^2) + rho * (sum w)^2), from one row per
    goal (``client_id``, ``weight``, ``baseline_level``, ``level``), in one grouping.
    """
    w = goals["weight"].to_numpy(float)
    sums = (
        pd.DataFrame(
            {
                "client_id": goals["client_id"].to_numpy(),
                "wx0": w * goals["baseline_level"].to_numpy(float),
                "wx": w * goals["level"].to_numpy(float),
                "w2": w**2,
                "w": w,
            }
        )
        .groupby("client_id", sort=True)
        .sum()
    )
    denominator = np.sqrt((1 - rho) * sums["w2"] + rho * sums["w"] ** 2)
    return pd.DataFrame(
        {
            "t_score_baseline": 50 + 10 * sums["wx0"] / denominator,
            "t_score": 50 + 10 * sums["wx"] / denominator,
        }
    )


class GoalAttainment(Instrument):
    kind = "goal_attainment"
    definition_keys = frozenset({"rho", "lowest_level", "expected_level"})

    def __init__(
        self, name: str, title: str, definition: dict[str, Any] | None = None, source: str = ""
    ) -> None:
        super().__init__(name, title, definition, source)
        d = self.definition
        self.rho = setting(d, "rho", float, 0.3, source)
        self.lowest = setting(d, "lowest_level", int, -2, source)
        self.expected = setting(d, "expected_level", int, 0, source)
        self.table_name = setting(d, "table", str, "goals", source)
        if self.lowest not in (-2, -3):
            raise ValueError("lowest_level must be -2 (standard GAS) or -3 (deterioration variant)")
        if not 0 <= self.rho < 1:
            raise ValueError("rho must be from 0 to below 1")

    def table(self) -> TableSpec:
        return TableSpec(
            name=self.table_name,
            description="Goal attainment reviews: one row per goal per review.",
            columns=(
                Column("client_id", ID, required=True),
                Column("goal_id", TEXT, required=True),
                Column("review_date", DATE, required=True),
                Column(
                    "level",
                    INTEGER,
                    required=True,
                    min=self.lowest,
                    max=2,
                    description=f"attainment level {self.lowest}..+2, expected = 0",
                ),
                Column("weight", NUMBER, min=0.0001, description="importance (default 1)"),
            ),
            unique=("client_id", "goal_id", "review_date"),
            time_column="review_date",
        )

    def describe_scale(self) -> str:
        return f"levels {self.lowest}..+2 (expected {self.expected}); T-score, rho = {self.rho}"

    def _weights(self, frame: pd.DataFrame) -> pd.Series:
        if "weight" not in frame:
            return pd.Series(1.0, index=frame.index)
        return frame["weight"].astype("Float64").fillna(1.0).astype(float)

    def _goal_frame(self, data: pd.DataFrame) -> pd.DataFrame:
        """One row per goal: baseline and latest level and date, and its weight."""
        first, last, _ = first_and_latest_rows(data, ["client_id", "goal_id"], "review_date")
        goals = pd.DataFrame(
            {
                "client_id": first["client_id"],
                "goal_id": first["goal_id"],
                "baseline_level": first["level"].astype(float),
                "baseline_date": first["review_date"],
                "level": last["level"].astype(float),
                "date": last["review_date"],
                "weight": self._weights(last),
            }
        )
        return goals

    def evaluate(self, data: pd.DataFrame, ctx: Context) -> Evaluation:
        """The client scores once, for the readings and the tables."""
        scores = self._client_scores(self._goal_frame(data))
        return Evaluation(
            self.name,
            scores=scores,
            readings=self._readings(scores),
            tables=self._tables(scores, data, ctx),
            headline=self.headline(data, ctx),
        )

    def score(self, data: pd.DataFrame, ctx: Context) -> pd.DataFrame:
        return self._client_scores(self._goal_frame(data))

    def _client_scores(self, goals: pd.DataFrame) -> pd.DataFrame:
        """One row per client from the per-goal frame."""
        g = goals.assign(met=goals["level"] >= self.expected).groupby("client_id", sort=True)
        out = t_scores(goals, self.rho)
        out.insert(0, "goals", g.size())
        out["goals_at_or_above_expected"] = g["met"].sum()
        out["first_review"] = g["baseline_date"].min()
        out["latest_review"] = g["date"].max()
        out.index.name = "client_id"
        return out.reset_index()

    def measures(self) -> list[Measure]:
        return [
            Measure(
                "t_score",
                "GAS T-score",
                True,
                None,
                "client",
                "Kiresuk-Sherman T-score over all of a client's goals",
            )
        ]

    def readings(self, data: pd.DataFrame) -> pd.DataFrame:
        return self._readings(self._client_scores(self._goal_frame(data)))

    def _readings(self, scored: pd.DataFrame) -> pd.DataFrame:
        """Each client's baseline and latest T-score, as two readings."""
        base = pd.DataFrame(
            {
                "unit": scored["client_id"],
                "client_id": scored["client_id"],
                "measure": "t_score",
                "date": scored["first_review"],
                "value": scored["t_score_baseline"],
            }
        )
        last = base.assign(date=scored["latest_review"], value=scored["t_score"])
        return pd.concat([base, last], ignore_index=True)

    def summarise(self, data: pd.DataFrame, ctx: Context) -> list[SummaryTable]:
        return self._tables(self.score(data, ctx), data, ctx)

    def _tables(
        self, everyone: pd.DataFrame, data: pd.DataFrame, ctx: Context
    ) -> list[SummaryTable]:
        """``everyone``: every client's scores (each window is a subset of them)."""
        rows = []
        for label, start, end in ctx.windows:
            reviewed = data[in_window(data["review_date"], start, end)]["client_id"].unique()
            scored = everyone[everyone["client_id"].isin(reviewed)]
            rows.append(
                {
                    "Window": label,
                    "Clients": len(scored),
                    "Goals": int(scored["goals"].sum()),
                    "Mean baseline T": scored["t_score_baseline"].mean(),
                    "Mean latest T": scored["t_score"].mean(),
                    "Mean change in T": (scored["t_score"] - scored["t_score_baseline"]).mean(),
                    "Goals at or above expected": int(scored["goals_at_or_above_expected"].sum()),
                }
            )
        table = pd.DataFrame(rows)
        table["Share of goals at or above expected"] = table["Goals at or above expected"] / table[
            "Goals"
        ].where(table["Goals"] > 0)
        return [
            SummaryTable(
                "gas",
                f"{self.title}: T-scores",
                table,
                counts=("Clients", "Goals", "Goals at or above expected"),
                derived={
                    "Mean baseline T": "Clients",
                    "Mean latest T": "Clients",
                    "Mean change in T": "Clients",
                    "Share of goals at or above expected": (
                        "Goals at or above expected",
                        "Goals",
                    ),
                },
                percent=("Share of goals at or above expected",),
                ratios={
                    "Share of goals at or above expected": ("Goals at or above expected", "Goals")
                },
                grows=("Clients",),
                rises=("Goals at or above expected",),
                carried=("Clients", "Goals", "Goals at or above expected"),
                grows_with={"Clients": "Goals"},
                held_by=(("Goals", "Clients"),),
                relations=tuple(
                    Relation(
                        (
                            (("gas", r, "Goals at or above expected"), 1.0),
                            (("gas", r, "Goals"), -1.0),
                        ),
                        "<=",
                    )
                    for r in range(len(table))
                ),
                note="Quarter: clients with a goal review in the quarter, scored on all their "
                "reviews up to the quarter end. To date: every client with a review.",
            )
        ]

    def headline(self, data: pd.DataFrame, ctx: Context) -> Headline:
        return Headline(
            "goals scored {} on average at the first review and {} at the latest "
            "(change {}); 50 means goals met as expected",
            (
                Cite("gas", "Mean baseline T", 1),
                Cite("gas", "Mean latest T", 1),
                Cite("gas", "Mean change in T", 1, "{:+.1f}"),
            ),
        )

    def definitions(self) -> list[Definition]:
        return [
            Definition(
                "GAS T-score",
                "Kiresuk-Sherman T = 50 + 10*sum(w*x) / sqrt((1-rho)*sum(w^2) + "
                f"rho*(sum w)^2) over a client's goals, x = level, w = weight, "
                f"rho = {self.rho}. 50 means goals attained as expected.",
                "Kiresuk & Sherman (1968) Community Mental Health Journal 4(6)",
            ),
            Definition(
                "Baseline / latest T",
                "Baseline uses each goal's earliest review; latest "
                "uses each goal's most recent review up to the period end.",
                "evaltool",
            ),
            Definition(
                "Goals at or above expected",
                f"Goals whose latest level is {self.expected} or higher.",
                "evaltool",
            ),
        ]


@hookimpl
def evaltool_instrument_kinds() -> list[type[Instrument]]:
    return [GoalAttainment]

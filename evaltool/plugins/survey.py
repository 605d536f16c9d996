"""Client feedback surveys: Likert items, reverse keying, totals and share positive.

Surveys are anonymous: the table has no client id. Comments are read but never summarised
into a funder return.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evaltool.data.columns import DATE, INTEGER, TEXT, Column
from evaltool.data.specs import TableSpec
from evaltool.errors import PluginError
from evaltool.instruments.base import Context, Definition, Instrument
from evaltool.instruments.hookspecs import hookimpl
from evaltool.instruments.kit import in_window, scale_bounds, setting
from evaltool.instruments.results import Cite, Headline, Relation, SummaryTable


class Survey(Instrument):
    kind = "survey"
    definition_keys = frozenset(
        {"scale", "items", "positive_from", "options", "comment_column", "source"}
    )

    def __init__(
        self, name: str, title: str, definition: dict[str, Any] | None = None, source: str = ""
    ) -> None:
        super().__init__(name, title, definition, source)
        d = self.definition
        self.lo, self.hi = scale_bounds(d, source)
        self.table_name = setting(d, "table", str, "feedback", source)
        self.positive_from = setting(d, "positive_from", int, self.hi, source)
        self.options = [str(x) for x in setting(d, "options", list, [], source)]
        self.comment = setting(d, "comment_column", str, "comment", source).lower()
        self.citation = setting(d, "source", str, "instrument definition", source)
        if self.options and len(self.options) != self.hi - self.lo + 1:
            raise PluginError(
                f"instrument definition {source}: 'options' needs one label per "
                f"scale point ({self.hi - self.lo + 1})"
            )
        if not self.lo <= self.positive_from <= self.hi:
            raise PluginError(f"instrument definition {source}: positive_from must be on the scale")
        self.items = []
        for i, item in enumerate(setting(d, "items", list, source=source)):
            where = f"{source} items[{i}]"
            self.items.append(
                {
                    "id": setting(item, "id", str, source=where).lower(),
                    "text": setting(item, "text", str, source=where),
                    "reverse": setting(item, "reverse", bool, False, where),
                }
            )
        if not self.items:
            raise PluginError(f"instrument definition {source}: 'items' is empty")

    def table(self) -> TableSpec:
        cols = [Column("response_date", DATE, required=True)]
        cols += [
            Column(i["id"], INTEGER, min=self.lo, max=self.hi, description=i["text"])
            for i in self.items
        ]
        cols.append(Column(self.comment, TEXT, description="free text: never reported"))
        return TableSpec(
            self.table_name,
            tuple(cols),
            f"{self.title}: one row per response (anonymous)",
            client_linked=False,
            time_column="response_date",
        )

    def describe_scale(self) -> str:
        opts = f" ({self.options[0]} .. {self.options[-1]})" if self.options else ""
        return (
            f"{len(self.items)} items, {self.lo}-{self.hi}{opts}; positive >= {self.positive_from}"
        )

    def keyed(self, data: pd.DataFrame) -> pd.DataFrame:
        """Item scores with reverse-keyed items flipped (x -> lo + hi - x)."""
        out = pd.DataFrame(index=data.index)
        for item in self.items:
            values = (
                data[item["id"]].astype(float)
                if item["id"] in data
                else pd.Series(float("nan"), index=data.index)
            )
            out[item["id"]] = self.lo + self.hi - values if item["reverse"] else values
        return out

    def score(self, data: pd.DataFrame, ctx: Context) -> pd.DataFrame:
        """One row per response (anonymous): keyed item scores and the total. No comments."""
        keyed = self.keyed(data)
        out = pd.DataFrame(
            {"response": range(1, len(data) + 1), "response_date": data["response_date"].to_numpy()}
        )
        for col in keyed:
            out[col] = keyed[col].to_numpy()
        out["items_answered"] = keyed.notna().sum(axis=1).to_numpy()
        out["total"] = keyed.sum(axis=1, min_count=1).to_numpy()
        return out

    def summarise(self, data: pd.DataFrame, ctx: Context) -> list[SummaryTable]:
        rows = []
        for label, start, end in ctx.windows:
            keyed = self.keyed(data[in_window(data["response_date"], start, end)])
            for item in self.items:
                answers = keyed[item["id"]].dropna()
                rows.append(
                    {
                        "Window": label,
                        "Item": item["text"] + (" (reverse-keyed)" if item["reverse"] else ""),
                        "Answers": len(answers),
                        "Mean": answers.mean(),
                        "Positive answers": int((answers >= self.positive_from).sum()),
                    }
                )
            complete = keyed.dropna()
            rows.append(
                {
                    "Window": label,
                    "Item": "Total score (complete responses)",
                    "Answers": len(complete),
                    "Mean": complete.sum(axis=1).mean(),
                    "Positive answers": None,
                }
            )
        table = pd.DataFrame(rows)
        table["Share positive"] = table["Positive answers"].astype(float) / table["Answers"].where(
            table["Answers"] > 0
        )
        responses = [
            (label, int(in_window(data["response_date"], start, end).sum()))
            for label, start, end in ctx.windows
        ]
        counts_table = pd.DataFrame(responses, columns=["Window", "Responses"])
        positive = (
            self.options[self.positive_from - self.lo] if self.options else str(self.positive_from)
        )
        # each item is answered at most once a response, and by every complete response: an
        # item hidden beside 6 complete responses and 6 in all was 6, and less the next
        # return's 7 gave a quarter's one answer (an adversary, 2026-12-07)
        items, answered, total_with = f"{self.name}-items", [], {}
        for w, (label, _, _) in enumerate(ctx.windows):
            mine = [r for r in range(len(table)) if table.at[r, "Window"] == label]
            complete = mine[-1]  # the total score's row, last of its window
            total_with[(complete, "Mean")] = tuple((r, "Mean") for r in mine[:-1])
            for r in mine[:-1]:
                answered.append(
                    Relation(
                        (
                            ((items, r, "Answers"), 1.0),
                            ((f"{self.name}-responses", w, "Responses"), -1.0),
                        ),
                        "<=",
                    )
                )
                answered.append(
                    Relation(
                        (((items, complete, "Answers"), 1.0), ((items, r, "Answers"), -1.0)), "<="
                    )
                )
        return [
            SummaryTable(
                f"{self.name}-responses",
                f"{self.title}: responses",
                counts_table,
                counts=("Responses",),
            ),
            SummaryTable(
                f"{self.name}-items",
                f"{self.title}: items",
                table,
                counts=("Answers", "Positive answers"),
                # a share is hidden with its denominator too: 12 positive of a hidden count at
                # 60.0% gave the count (20), and less last return's 19 the quarter's 1
                derived={"Mean": "Answers", "Share positive": ("Positive answers", "Answers")},
                percent=("Share positive",),
                ratios={"Share positive": ("Positive answers", "Answers")},
                relations=tuple(answered),
                hidden_with_cells=total_with,
                # the mean times the answers is the sum of whole-point answers
                mean_parts={
                    "Mean": (
                        "Answers",
                        (
                            ("Positive answers", self.positive_from, self.hi),
                            ("", self.lo, self.positive_from - 1),
                        ),
                    )
                },
                note=f"Scale {self.lo}-{self.hi}; positive = {positive} or better, after "
                "reverse keying. The total score's mean is hidden wherever an item's mean of its "
                "window is (the items add up to the total). Comments are never included in "
                "this return.",
            ),
        ]

    def headline(self, data: pd.DataFrame, ctx: Context) -> Headline:
        return Headline(
            "{} responses; the share of positive answers to each question is on its sheet",
            (Cite(f"{self.name}-responses", "Responses", 1, "{:,.0f}"),),
        )

    def definitions(self) -> list[Definition]:
        return [
            Definition(
                f"{self.title}: share positive",
                f"Answers scoring {self.positive_from} or more on a {self.lo}-{self.hi} "
                "scale after reverse-keyed items are flipped (x -> min + max - x), "
                "divided by the answers given.",
                self.citation,
            ),
            Definition(
                f"{self.title}: total",
                "Sum of keyed items over responses that answered every item.",
                self.citation,
            ),
        ] + [
            Definition(
                f"{self.title}: item '{i['id']}'",
                i["text"] + (" (reverse-keyed)" if i["reverse"] else ""),
                self.citation,
            )
            for i in self.items
        ]


@hookimpl
def evaltool_instrument_kinds() -> list[type[Instrument]]:
    return [Survey]

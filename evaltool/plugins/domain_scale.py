"""Outcome-Star-style domain scales: domains, scale and stages all come from a definition file.

Per domain: first and latest reading, distance travelled, movement between stages, share
improved, and the first-vs-latest means for a star (radar) chart.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaltool.data.columns import DATE, ID, INTEGER, Column
from evaltool.data.problems import WARNING, Problem
from evaltool.data.specs import TableSpec
from evaltool.errors import PluginError
from evaltool.instruments.base import Context, Definition, Instrument, Measure
from evaltool.instruments.hookspecs import hookimpl
from evaltool.instruments.kit import (
    first_and_latest_readings,
    in_window,
    scale_bounds,
    setting,
)
from evaltool.instruments.results import (
    Cite,
    Evaluation,
    Headline,
    Relation,
    SummaryTable,
    whole_point_changes,
)

DOMAIN_KEYS = {"id", "label", "reliability", "lower_is_better"}


class DomainScale(Instrument):
    kind = "domain_scale"
    definition_keys = frozenset({"scale", "domains", "stages", "date_column", "source"})

    def __init__(
        self, name: str, title: str, definition: dict[str, Any] | None = None, source: str = ""
    ) -> None:
        super().__init__(name, title, definition, source)
        d = self.definition
        self.lo, self.hi = scale_bounds(d, source)
        self.table_name = setting(d, "table", str, "star", source)
        self.date_column = setting(d, "date_column", str, "assessment_date", source)
        self.citation = setting(d, "source", str, "instrument definition", source)
        domains = setting(d, "domains", list, source=source)
        if not domains:
            raise PluginError(f"instrument definition {source}: 'domains' is empty")
        self.domains: list[dict[str, Any]] = []
        for i, dom in enumerate(domains):
            where = f"{source} domains[{i}]"
            unknown = set(dom) - DOMAIN_KEYS
            if unknown:
                raise PluginError(
                    f"instrument definition {where}: unknown key(s) {', '.join(sorted(unknown))}; "
                    f"allowed: {', '.join(sorted(DOMAIN_KEYS))}"
                )
            reliability = dom.get("reliability")
            if reliability is not None:
                reliability = setting(dom, "reliability", float, source=where)
                if not 0 < reliability < 1:
                    raise PluginError(
                        f"instrument definition {where}: reliability must be between 0 and 1"
                    )
            self.domains.append(
                {
                    "id": setting(dom, "id", str, source=where).strip().lower(),
                    "label": setting(dom, "label", str, source=where),
                    "reliability": reliability,
                    "higher_is_better": not setting(dom, "lower_is_better", bool, False, where),
                }
            )
        ids = [x["id"] for x in self.domains]
        if len(set(ids)) != len(ids):
            raise PluginError(f"instrument definition {source}: domain ids must be unique")
        self.stages: list[tuple[str, int, int]] = []
        for i, st in enumerate(setting(d, "stages", list, [], source)):
            where = f"{source} stages[{i}]"
            self.stages.append(
                (
                    setting(st, "name", str, source=where),
                    setting(st, "from", int, source=where),
                    setting(st, "to", int, source=where),
                )
            )
        covered = sorted(v for _, a, b in self.stages for v in range(a, b + 1))
        if self.stages and covered != list(range(self.lo, self.hi + 1)):
            raise PluginError(
                f"instrument definition {source}: stages must cover each point "
                f"of the scale {self.lo}-{self.hi} exactly once"
            )

    @property
    def domain_ids(self) -> list[str]:
        return [d["id"] for d in self.domains]

    def table(self) -> TableSpec:
        cols = [
            Column("client_id", ID, required=True),
            Column(self.date_column, DATE, required=True),
        ]
        cols += [
            Column(d["id"], INTEGER, min=self.lo, max=self.hi, description=d["label"])
            for d in self.domains
        ]
        return TableSpec(
            name=self.table_name,
            columns=tuple(cols),
            description=f"{self.title}: one row per assessment, one column a domain.",
            unique=("client_id", self.date_column),
            time_column=self.date_column,
        )

    def check(self, data: pd.DataFrame) -> list[Problem]:
        missing = [d for d in self.domain_ids if d not in data]
        if missing:
            return [
                Problem(
                    WARNING,
                    f"no column for domain(s) {', '.join(missing)}; they are "
                    "reported as not assessed",
                    sheet=self.table_name,
                )
            ]
        return []

    def describe_scale(self) -> str:
        stages = ", ".join(f"{n} {a}-{b}" for n, a, b in self.stages)
        return f"{len(self.domains)} domains, {self.lo}-{self.hi}" + (
            f"; {stages}" if stages else ""
        )

    def stage_of(self, values: pd.Series) -> pd.Series:
        """Stage number (1-based) of each reading, vectorised."""
        out = pd.Series(np.nan, index=values.index)
        for i, (_, a, b) in enumerate(self.stages, start=1):
            out[(values >= a) & (values <= b)] = i
        return out

    def long(self, data: pd.DataFrame) -> pd.DataFrame:
        """One row per client, date and assessed domain."""
        present = [d for d in self.domain_ids if d in data]
        melted = data.melt(
            id_vars=["client_id", self.date_column],
            value_vars=present,
            var_name="domain",
            value_name="value",
        ).dropna(subset=["value"])
        melted["value"] = melted["value"].astype(float)
        return melted.rename(columns={self.date_column: "date"})

    def evaluate(self, data: pd.DataFrame, ctx: Context) -> Evaluation:
        """One pairing of the readings for the scores, the tables, the headline and the
        before/after comparison (``Evaluation.pairs``)."""
        ev = Evaluation(self.name, readings=self.readings(data))
        changes = self.changes(ev.pairs)
        ev.scores = lambda: self._scores(changes, data)
        ev.tables = self._tables(changes, data, ctx)
        ev.headline = self._headline(changes)
        return ev

    def changes(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """Per client and domain: first and latest reading, change and stages, from the
        first/latest pairing of the readings (``kit.first_and_latest_readings``)."""
        out = pd.DataFrame(
            {
                "client_id": pairs["client_id"],
                "domain": np.asarray(pairs["measure"], dtype=object),
                "first": pairs["first"],
                "latest": pairs["latest"],
                "readings": pairs["readings"],
                "change": (pairs["latest"] - pairs["first"]).where(pairs["readings"] > 1),
            }
        )
        if self.stages:
            out["first_stage"] = self.stage_of(out["first"])
            out["latest_stage"] = self.stage_of(out["latest"])
        return out

    def _changes_of(self, data: pd.DataFrame) -> pd.DataFrame:
        return self.changes(first_and_latest_readings(self.readings(data)))

    def score(self, data: pd.DataFrame, ctx: Context) -> pd.DataFrame:
        return self._scores(self._changes_of(data), data)

    def _scores(self, changes: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
        wide = changes.pivot(
            index="client_id", columns="domain", values=["first", "latest", "change"]
        )
        wide.columns = [f"{stat}_{dom}" for stat, dom in wide.columns]
        order = [f"{s}_{d}" for d in self.domain_ids for s in ("first", "latest", "change")]
        wide = wide.reindex(columns=[c for c in order if c in wide.columns])
        counts = self.long(data).groupby("client_id")["date"].nunique().rename("assessments")
        return wide.join(counts).reset_index()[["client_id", "assessments"] + list(wide.columns)]

    def measures(self) -> list[Measure]:
        return [
            Measure(
                d["id"],
                d["label"],
                d["higher_is_better"],
                d["reliability"],
                "client",
                f"{self.title} domain '{d['label']}', {self.lo}-{self.hi}",
            )
            for d in self.domains
        ]

    def readings(self, data: pd.DataFrame) -> pd.DataFrame:
        """Wide readings: one row per assessment, one value column per domain (blank where
        it was not assessed). Ten times fewer rows than one per domain reading."""
        present = [d for d in self.domain_ids if d in data]
        wide = data[["client_id", self.date_column, *present]]
        wide = wide.rename(columns={self.date_column: "date"})  # values stay Int64: blank = <NA>
        wide.insert(0, "unit", wide["client_id"])
        return wide

    def summarise(self, data: pd.DataFrame, ctx: Context) -> list[SummaryTable]:
        return self._tables(self._changes_of(data), data, ctx)

    def _tables(
        self, everyone: pd.DataFrame, data: pd.DataFrame, ctx: Context
    ) -> list[SummaryTable]:
        """``everyone``: the changes of every client (each window is a subset of them)."""
        tables = []
        labels = {d["id"]: d["label"] for d in self.domains}
        for label, start, end in ctx.windows:
            assessed = data[in_window(data[self.date_column], start, end)]["client_id"].unique()
            ch = everyone[everyone["client_id"].isin(assessed)]
            ch = ch[ch["change"].notna()]
            g = ch.groupby("domain")
            table = pd.DataFrame(
                {
                    "Clients with 2+ readings": g.size(),
                    "Mean first": g["first"].mean(),
                    "Mean latest": g["latest"].mean(),
                    "Mean distance travelled": g["change"].mean(),
                    "Improved": g["change"].apply(lambda s: int((s > 0).sum())),
                    "Unchanged": g["change"].apply(lambda s: int((s == 0).sum())),
                    "Worse": g["change"].apply(lambda s: int((s < 0).sum())),
                }
            ).reindex(self.domain_ids)
            if self.stages:
                moved = (ch["latest_stage"] - ch["first_stage"]).groupby(ch["domain"])
                table["Moved up a stage or more"] = moved.apply(lambda s: int((s > 0).sum()))
                table["Moved down a stage or more"] = moved.apply(lambda s: int((s < 0).sum()))
            table = table.fillna({c: 0 for c in table.columns if not c.startswith("Mean")})
            table["Share improved"] = table["Improved"] / table["Clients with 2+ readings"].where(
                table["Clients with 2+ readings"] > 0
            )
            table.insert(0, "Domain", [labels[d] for d in table.index])
            counts = tuple(
                c
                for c in table.columns
                if c not in ("Domain", "Share improved") and not c.startswith("Mean")
            )
            derived = {c: "Clients with 2+ readings" for c in table.columns if c.startswith("Mean")}
            derived["Share improved"] = ("Improved", "Clients with 2+ readings")
            name = f"{self.name}-{label.lower().replace(' ', '-')}"
            relations = []  # a stage moved is a change in that direction; a quarter, part of all
            for r in range(len(table)):
                if self.stages:
                    for part, whole in (
                        ("Moved up a stage or more", "Improved"),
                        ("Moved down a stage or more", "Worse"),
                    ):
                        relations.append(
                            Relation((((name, r, part), 1), ((name, r, whole), -1)), "<=")
                        )
                if start is None:
                    quarter = f"{self.name}-quarter"
                    relations += [
                        Relation((((quarter, r, c), 1), ((name, r, c), -1)), "<=") for c in counts
                    ]
            tables.append(
                SummaryTable(
                    name,
                    f"{self.title}: {label.lower()} (first vs latest reading)",
                    table.reset_index(drop=True),
                    counts,
                    derived,
                    percent=("Share improved",),
                    ratios={"Share improved": ("Improved", "Clients with 2+ readings")},
                    sums={"Clients with 2+ readings": ("Improved", "Unchanged", "Worse")},
                    note=f"Scale {self.lo}-{self.hi}; clients with at least two readings up to the "
                    "period end. "
                    + (
                        "Quarter: clients assessed in the quarter."
                        if start
                        else "To date: everyone assessed so far."
                    ),
                    chart="radar" if start is None else None,
                    grows=("Clients with 2+ readings",),
                    carried=counts,
                    relations=tuple(relations),
                    # the mean distance times the clients is the sum of whole-point changes
                    mean_parts={
                        "Mean distance travelled": (
                            "Clients with 2+ readings",
                            whole_point_changes(self.lo, self.hi),
                        )
                    },
                )
            )
        return tables

    def headline(self, data: pd.DataFrame, ctx: Context) -> Headline:
        return self._headline(self._changes_of(data))

    def _headline(self, ch: pd.DataFrame) -> Headline:
        means = ch[ch["change"].notna()].groupby("domain")["change"].mean()
        order = [d["id"] for d in self.domains]
        means = means.reindex(order).dropna()
        if means.empty:
            return Headline("", empty="no client assessed twice yet")
        low, high = order.index(means.idxmin()), order.index(means.idxmax())
        table, col = f"{self.name}-to-date", "Mean distance travelled"
        return Headline(
            "average change from the first to the latest reading: {} to {} points, depending "
            f"on the area (scale {self.lo}-{self.hi}, higher is better)",
            (Cite(table, col, low, "{:+.1f}"), Cite(table, col, high, "{:+.1f}")),
        )

    def definitions(self) -> list[Definition]:
        stages = "; ".join(f"{n} = {a}-{b}" for n, a, b in self.stages)
        defs = [
            Definition(
                f"{self.title}: distance travelled",
                "Latest minus first reading of a domain, for clients read at least twice, "
                "up to the period end.",
                self.citation,
            ),
            Definition(f"{self.title}: stages", stages or "No stages defined.", self.citation),
        ]
        return defs + [
            Definition(
                f"{self.title}: {d['label']}",
                f"domain '{d['id']}', scored {self.lo}-{self.hi}",
                self.citation,
            )
            for d in self.domains
        ]


@hookimpl
def evaltool_instrument_kinds() -> list[type[Instrument]]:
    return [DomainScale]

"""Access to partner services: referred, accessed, share accessed, days to access."""

from __future__ import annotations

from typing import Any

import pandas as pd

from evaltool.data.columns import CATEGORY, DATE, ID, TEXT, Column
from evaltool.data.specs import TableSpec
from evaltool.instruments.base import Context, Definition, Instrument
from evaltool.instruments.hookspecs import hookimpl
from evaltool.instruments.kit import in_window, quartiles, setting
from evaltool.instruments.results import Cite, Headline, Relation, SummaryTable

SERVICE_TYPES = (
    "mental_health",
    "substance_misuse",
    "sexual_health",
    "housing",
    "domestic_abuse",
    "other",
)


class PartnerAccess(Instrument):
    kind = "partner_access"
    definition_keys = frozenset({"service_types"})

    def __init__(
        self, name: str, title: str, definition: dict[str, Any] | None = None, source: str = ""
    ) -> None:
        super().__init__(name, title, definition, source)
        types = setting(self.definition, "service_types", list, list(SERVICE_TYPES), source)
        self.service_types = tuple(str(t).lower() for t in types)
        self.table_name = setting(self.definition, "table", str, "partner_access", source)

    def table(self) -> TableSpec:
        return TableSpec(
            self.table_name,
            (
                Column("client_id", ID, required=True),
                Column("service_type", CATEGORY, required=True, choices=self.service_types),
                Column("referred_date", DATE, required=True),
                Column("accessed_date", DATE, description="blank: not yet"),
                Column("outcome", TEXT),
            ),
            "Referrals to partner services: one row per referral.",
            date_order=(("referred_date", "accessed_date"),),
            time_column="referred_date",
        )

    def describe_scale(self) -> str:
        return "service types: " + ", ".join(self.service_types)

    def score(self, data: pd.DataFrame, ctx: Context) -> pd.DataFrame:
        days = (data["accessed_date"] - data["referred_date"]).dt.days
        frame = data.assign(accessed=data["accessed_date"].notna(), days=days)
        g = frame.groupby("client_id", sort=True)
        return pd.DataFrame(
            {
                "referrals": g.size(),
                "accessed": g["accessed"].sum().astype(int),
                "service_types": g["service_type"].nunique(),
                "median_days_to_access": g["days"].median(),
            }
        ).reset_index()

    def summarise(self, data: pd.DataFrame, ctx: Context) -> list[SummaryTable]:
        tables = []
        for label, start, end in ctx.windows:
            end_ts = pd.Timestamp(end)
            referred = data[in_window(data["referred_date"], start, end)]
            accessed = referred["accessed_date"].notna() & (referred["accessed_date"] <= end_ts)
            frame = referred.assign(
                accessed=accessed,
                days=(referred["accessed_date"] - referred["referred_date"]).dt.days.where(
                    accessed
                ),
            )
            rows = []
            for stype in [*self.service_types, None]:
                part = frame if stype is None else frame[frame["service_type"] == stype]
                q1, med, q3 = quartiles(part["days"])
                rows.append(
                    {
                        "Service type": "All services"
                        if stype is None
                        else stype.replace("_", " "),
                        "Clients referred": part["client_id"].nunique(),
                        "Clients accessed": part.loc[part["accessed"], "client_id"].nunique(),
                        "Referrals still waiting": int((~part["accessed"]).sum()),
                        "Median days to access": med,
                        "Lower quartile days": q1,
                        "Upper quartile days": q3,
                    }
                )
            table = pd.DataFrame(rows)
            table["Share accessed"] = table["Clients accessed"] / table["Clients referred"].where(
                table["Clients referred"] > 0
            )
            name = f"{self.name}-{label.lower().replace(' ', '-')}"
            tables.append(
                SummaryTable(
                    name,
                    f"{self.title}: referrals made {'in the quarter' if start else 'to date'}",
                    table,
                    counts=("Clients referred", "Clients accessed", "Referrals still waiting"),
                    derived={
                        "Share accessed": ("Clients accessed", "Clients referred"),
                        "Median days to access": "Clients accessed",
                        "Lower quartile days": "Clients accessed",
                        "Upper quartile days": "Clients accessed",
                    },
                    percent=("Share accessed",),
                    ratios={"Share accessed": ("Clients accessed", "Clients referred")},
                    total_row="All services",
                    total_is_sum=False,
                    relations=client_relations(name, len(self.service_types)),
                    grows=("Clients referred", "Clients accessed"),
                    # a referral made before the quarter and still waiting at its end was
                    # waiting at the last one's too (adversary 8, 2026-12-07)
                    carried=("Referrals still waiting",),
                    note="Accessed = first appointment attended by the period end. "
                    "'All services' counts each client once.",
                )
            )
        return tables

    def headline(self, data: pd.DataFrame, ctx: Context) -> Headline:
        table = f"{self.name}-to-date"
        return Headline(
            "{} of the {} parents referred to a partner service went to it",
            (
                Cite(table, "Clients accessed", len(self.service_types), "{:,.0f}"),
                Cite(table, "Clients referred", len(self.service_types), "{:,.0f}"),
            ),
        )

    def definitions(self) -> list[Definition]:
        return [
            Definition(
                "Partner access: share accessed",
                "Clients who attended the partner "
                "service by the period end, divided by clients referred.",
                "evaltool",
            ),
            Definition(
                "Partner access: days to access",
                "Days from referral to first access; median and quartiles over referrals accessed.",
                "evaltool",
            ),
        ]


def client_relations(name: str, parts: int) -> tuple[Relation, ...]:
    """'All services' counts a client once: each service's clients are at most all of them,
    and all of them at most the sum; referrals still waiting add up exactly."""
    out = []
    for col in ("Clients referred", "Clients accessed"):
        total = (name, parts, col)
        out += [Relation((((name, r, col), 1), (total, -1)), "<=") for r in range(parts)]
        out.append(Relation(((total, 1), *(((name, r, col), -1) for r in range(parts))), "<="))
    col = "Referrals still waiting"
    out.append(Relation((((name, parts, col), -1), *(((name, r, col), 1) for r in range(parts)))))
    out += [
        Relation((((name, r, "Clients accessed"), 1), ((name, r, "Clients referred"), -1)), "<=")
        for r in range(parts + 1)
    ]
    return tuple(out)


@hookimpl
def evaltool_instrument_kinds() -> list[type[Instrument]]:
    return [PartnerAccess]

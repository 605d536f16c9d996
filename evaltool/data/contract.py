"""The core of the data contract: clients and proceedings. docs/data-contract.md is written
from these specs and the built-in instruments' (``python -m evaltool.data.contract``)."""

from __future__ import annotations

import pandas as pd

from evaltool.data.columns import CATEGORY, DATE, ID, INTEGER, TEXT, YESNO, Column
from evaltool.data.specs import TableSpec

CONTRACT_VERSION = "1.1"
CONTRACT_DOC = "docs/data-contract.md"

COHORTS = ("service", "comparison")


def cohort_of(clients: pd.DataFrame) -> pd.Series:
    """Each client's cohort: a blank cohort (or no cohort column) means the service's own."""
    if "cohort" not in clients:
        return pd.Series("service", index=clients.index, dtype=object)
    return clients["cohort"].astype(object).where(clients["cohort"].notna(), "service")


def service_clients(clients: pd.DataFrame) -> pd.DataFrame:
    """The service's own clients (not the comparison cohort)."""
    return clients[cohort_of(clients) == "service"]


CLOSURE_REASONS = ("completed", "disengaged", "moved_away", "other")
PROCEEDINGS_OUTCOMES = (
    "interim_care_order",
    "care_order",
    "placement_order",
    "supervision_order",
    "sgo",
    "returned_home",
    "withdrawn",
    "other",
)
GENDERS = ("female", "male", "other", "unknown")

CLIENTS = TableSpec(
    name="clients",
    description="One row per person referred to the service (or in the comparison cohort).",
    columns=(
        Column("client_id", ID, required=True, description="pseudonymous id, unique"),
        Column("referral_date", DATE, required=True, description="referred to the service"),
        Column("start_date", DATE, description="first engaged (blank: not started)"),
        Column("end_date", DATE, description="case closed (blank: still open)"),
        Column(
            "closure_reason",
            CATEGORY,
            choices=CLOSURE_REASONS,
            description="completed, disengaged, moved_away, other",
        ),
        Column("cohort", CATEGORY, choices=COHORTS, description="service (default) or comparison"),
        Column("gender", CATEGORY, choices=GENDERS),
        Column("birth_year", INTEGER, min=1900, max=2099),
        Column("ethnicity", TEXT),
        Column("care_experienced", YESNO, description="was in care as a child"),
        Column("prior_children_removed", INTEGER, min=0, description="removed before referral"),
        Column("age_first_pregnancy", INTEGER, min=10, max=60),
        Column("mental_health", YESNO),
        Column("domestic_abuse", YESNO),
        Column("substance_misuse", YESNO),
        Column("learning_disability", YESNO),
    ),
    unique=("client_id",),
    client_linked=False,
    date_order=(
        ("referral_date", "start_date"),
        ("start_date", "end_date"),
        ("referral_date", "end_date"),
    ),
    required=True,
)

PROCEEDINGS = TableSpec(
    name="proceedings",
    description="One row per set of care proceedings the client was a respondent in.",
    columns=(
        Column("client_id", ID, required=True),
        Column("issued_date", DATE, required=True, description="application issued"),
        Column("concluded_date", DATE, description="final order (blank: ongoing)"),
        Column("outcome", CATEGORY, choices=PROCEEDINGS_OUTCOMES, description="final order"),
    ),
    date_order=(("issued_date", "concluded_date"),),
)

CORE_TABLES = (CLIENTS, PROCEEDINGS)


def contract_markdown() -> str:
    """The data contract as a document: every table of the core and of the instruments that
    ship with evaltool, every column with its type, whether it is required, and its codes."""
    from evaltool.instruments.registry import build_registry

    specs = list(CORE_TABLES)
    seen = {s.name for s in specs}
    for instrument in build_registry((), autoload=False).instruments.values():
        spec = instrument.table()
        if spec.name not in seen:
            seen.add(spec.name)
            specs.append(spec)
    lines = [
        f"# The evaltool data contract, version {CONTRACT_VERSION}",
        "",
        "Written from the table specifications in the code (`python -m evaltool.data.contract`);",
        "a test fails if this file and the code disagree. One `.xlsx` workbook with one sheet",
        "per table, or one folder with one `.csv` per table. Headers are matched ignoring case",
        "and surrounding spaces; a service maps its own headers in `[columns.<table>]` and its",
        "own labels for coded values in `[codes.<column>]`. Dates: spreadsheet dates,",
        "`2026-04-01` or `01/04/2026` (day first). yes/no: yes/no, y/n, true/false, 1/0.",
        "",
    ]
    for spec in specs:
        lines += [f"## {spec.name}" + (" (required)" if spec.required else ""), ""]
        if spec.description:
            lines += [spec.description, ""]
        lines += ["| column | type | required | values |", "|---|---|---|---|"]
        for col in spec.columns:
            values = col.expected() if col.choices or col.min is not None else ""
            if col.description and not col.choices:
                values = f"{values}; {col.description}" if values else col.description
            lines.append(
                f"| {col.name} | {col.type} | {'yes' if col.required else 'no'} | {values} |"
            )
        if spec.unique:
            lines += ["", f"One row per {', '.join(spec.unique)}."]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(contract_markdown(), end="")

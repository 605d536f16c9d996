"""The core of the data contract: clients and proceedings, and the cohort rule. The document
docs/data-contract.md is written from these specs and the built-in instruments' (see
``template.contract_markdown``)."""

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


#: moved_away and died end follow-up (survival: censored at the end date; payment by results:
#: lost to follow-up)
CLOSURE_REASONS = ("completed", "disengaged", "moved_away", "died", "other")
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
            description="completed, disengaged, moved_away, died, other",
            dated_by="end_date",
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
        Column(
            "key_worker",
            TEXT,
            description="the worker responsible, for the team's to-do list (never in a return)",
        ),
    ),
    unique=("client_id",),
    client_linked=False,
    date_order=(
        ("referral_date", "start_date"),
        ("start_date", "end_date"),
        ("referral_date", "end_date"),
    ),
    required=True,
    time_column="referral_date",
)

PROCEEDINGS = TableSpec(
    name="proceedings",
    description="One row per set of care proceedings the client was a respondent in.",
    columns=(
        Column("client_id", ID, required=True),
        Column("issued_date", DATE, required=True, description="application issued"),
        Column("concluded_date", DATE, description="final order (blank: ongoing)"),
        Column(
            "outcome",
            CATEGORY,
            choices=PROCEEDINGS_OUTCOMES,
            description="final order",
            dated_by="concluded_date",
        ),
        Column(
            "child_ids",
            TEXT,
            description="the subject children's child_id, separated by ';' (or use the "
            "proceedings_children table)",
        ),
    ),
    date_order=(("issued_date", "concluded_date"),),
    time_column="issued_date",
)

CHILDREN = TableSpec(
    name="children",
    description="Optional (v1.1): one row per child of a client who is the subject of care "
    "proceedings, so that a return can be told apart as about a new or a previous child.",
    columns=(
        Column("client_id", ID, required=True),
        Column("child_id", ID, required=True, description="pseudonymous, unique per client"),
        Column("birth_date", DATE, description="blank: not yet born, or not known"),
        Column(
            "unborn",
            YESNO,
            description="yes: unborn when the first proceedings about the child were issued",
        ),
    ),
    unique=("client_id", "child_id"),
)

PROCEEDINGS_CHILDREN = TableSpec(
    name="proceedings_children",
    description="Optional (v1.1): which children each set of proceedings is about, one row per "
    "set and child; a set is named by its client_id and issued_date (the same as a "
    "child_ids column on proceedings).",
    columns=(
        Column("client_id", ID, required=True),
        Column("issued_date", DATE, required=True, description="the set's issued_date"),
        Column("child_id", ID, required=True, description="a child_id of the children table"),
    ),
    unique=("client_id", "issued_date", "child_id"),
    time_column="issued_date",
)

AREAS = TableSpec(
    name="areas",
    description="Optional (v1.1), for evaluators: one row per area and financial year, for "
    "an area-level comparison of infants entering care (`evaltool areas`).",
    columns=(
        Column("area", TEXT, required=True, description="a local authority or other area"),
        Column("financial_year", TEXT, required=True, description="April to March, as 2019-20"),
        Column("infants_entering_care", INTEGER, required=True, min=0),
        Column("live_births", INTEGER, min=1, description="or a population column instead"),
        Column("population", INTEGER, min=1),
        Column("service_area", YESNO, required=True, description="the service ran there"),
        Column(
            "service_from",
            TEXT,
            description="the financial year it began there, as 2019-20 (blank: a comparator)",
        ),
    ),
    unique=("area", "financial_year"),
    client_linked=False,
)

CORE_TABLES = (CLIENTS, PROCEEDINGS, CHILDREN, PROCEEDINGS_CHILDREN, AREAS)

"""The core of the data contract (version 1): clients and proceedings. See shared/DATA.md."""

from __future__ import annotations

from evaltool.columns import CATEGORY, DATE, ID, INTEGER, TEXT, YESNO, Column
from evaltool.tables import TableSpec

CONTRACT_VERSION = 1

COHORTS = ("service", "comparison")
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

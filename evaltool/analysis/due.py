"""The team's to-do list on a day: what is overdue or missing, client by client.

For the service's own use (it names clients by their reference), never for a funder: readings
of an instrument with measures (repeated readings: goal reviews, domain scales) not taken for
longer than the settings allow (``[due] reading_days``, per instrument ``[due.instruments]``,
which also switches the rule on for any other instrument),
referrals waiting to start too long, closed cases with no closure reason, proceedings concluded
with no outcome, blanks the return needs, and every error the checks found in the records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from evaltool.config import Settings
from evaltool.data.contract import service_clients
from evaltool.data.problems import Problem
from evaltool.instruments.base import Instrument

COLUMNS = ["Client reference", "Key worker", "What is due", "Since", "Days overdue", "Where"]
#: headers a service may use for the key worker (matched after the usual lower-casing)
KEY_WORKER = ("key_worker", "key worker", "keyworker", "worker")


def _worker(clients: pd.DataFrame) -> pd.Series:
    col = next((c for c in KEY_WORKER if c in clients), None)
    if col is None:
        return pd.Series("", index=clients.index, dtype=object)
    return clients[col].astype(object).where(clients[col].notna(), "").astype(str)


def due_items(
    tables: dict[str, pd.DataFrame],
    instruments: Sequence[Instrument],
    errors: Sequence[Problem],
    s: Settings,
    as_of: dt.date,
) -> pd.DataFrame:
    """Every item due on ``as_of`` (``tables``: the typed tables; ``errors``: what the checks
    found), most overdue first within each key worker."""
    day = pd.Timestamp(as_of)
    clients = service_clients(tables["clients"])
    worker = dict(zip(clients["client_id"], _worker(clients), strict=True))
    items: list[dict] = []

    def add(client: str, what: str, since, overdue, where: str) -> None:
        items.append(
            {
                "Client reference": client,
                "Key worker": worker.get(client, ""),
                "What is due": what,
                "Since": since.date() if isinstance(since, pd.Timestamp) else since,
                "Days overdue": overdue,
                "Where": where,
            }
        )

    start = clients.get("start_date", pd.Series(pd.NaT, index=clients.index))
    end = clients.get("end_date", pd.Series(pd.NaT, index=clients.index))
    still_open = end.isna() | (end > day)
    waiting = (clients["referral_date"] <= day) & (start.isna() | (start > day)) & still_open
    for _, c in clients[waiting].iterrows():
        days = (day - c["referral_date"]).days
        if days > s.due_waiting_days:
            add(
                c["client_id"],
                f"waiting to start for {days} days (allowed: {s.due_waiting_days})",
                c["referral_date"],
                days - s.due_waiting_days,
                "clients",
            )
    active = clients[(start <= day) & still_open]
    for instrument in instruments:
        spec = instrument.table()
        table = tables.get(spec.name)
        if table is None or spec.time_column is None or "client_id" not in table:
            continue
        measures = instrument.measures()
        # repeated readings are due again; events (a pregnancy, a referral) are not, unless
        # the settings give the instrument a number of days
        if not measures and instrument.name not in s.due_instrument_days:
            continue
        allowed = s.due_instrument_days.get(instrument.name, s.due_reading_days)
        reading = "goal review" if "goal_id" in spec.column_names else "reading"
        dates = table[table[spec.time_column] <= day].groupby("client_id")[spec.time_column].max()
        for _, c in active.iterrows():
            last = dates.get(c["client_id"])
            anchor = last if last is not None and pd.notna(last) else c["start_date"]
            days = (day - anchor).days
            if days <= allowed:
                continue
            what = (
                f"no {instrument.title} {reading} for {days} days (due every {allowed})"
                if last is not None and pd.notna(last)
                else f"no {instrument.title} {reading} since starting {days} days ago "
                f"(due within {allowed})"
            )
            add(c["client_id"], what, anchor, days - allowed, spec.name)
    if "closure_reason" in clients:
        closed = clients[(end <= day) & clients["closure_reason"].isna()]
        for _, c in closed.iterrows():
            add(
                c["client_id"],
                "closed with no closure reason recorded",
                c["end_date"],
                "",
                "clients",
            )
    proceedings = tables.get("proceedings")
    if proceedings is not None and "outcome" in proceedings:
        mine = proceedings[proceedings["client_id"].isin(set(clients["client_id"]))]
        done = mine[(mine["concluded_date"] <= day) & mine["outcome"].isna()]
        for _, p in done.iterrows():
            add(
                p["client_id"],
                f"proceedings issued {p['issued_date']:%d/%m/%Y}: concluded, no outcome recorded",
                p["concluded_date"],
                "",
                "proceedings",
            )
    wrong = {(p.client, p.column.split(" (")[0]) for p in errors}  # said below, once
    for column, need in (("birth_year", "age bands"), ("gender", "the split by gender")):
        if column in clients:
            for _, c in clients[clients[column].isna() & (start <= day)].iterrows():
                if (c["client_id"], column) not in wrong:
                    add(
                        c["client_id"],
                        f"{column} not recorded (needed for {need})",
                        "",
                        "",
                        "clients",
                    )
    for p in errors:
        where = ", ".join(
            x for x in (p.sheet or p.file, f"row {p.row}" if p.row else "", p.column) if x
        )
        found = f"{p.column.split(' (')[0]} is '{p.value}': " if p.value and p.column else ""
        wanted = f" (expected {p.expected})" if p.expected else ""
        add(p.client, f"fix in the records: {found}{p.message}{wanted}", "", "", where)
    out = pd.DataFrame(items, columns=COLUMNS)
    order = pd.to_numeric(out["Days overdue"], errors="coerce").fillna(-1)
    out = out.assign(_order=-order).sort_values(
        ["Key worker", "_order", "Client reference"], kind="stable"
    )
    return out.drop(columns="_order").reset_index(drop=True)

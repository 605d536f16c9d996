"""Seeded generator of realistic synthetic service data in the data contract (no real people).

Used for the bundled example, the tests and the national-scale benchmark. Vectorised with numpy,
so 50,000 clients take seconds. ``python -m evaltool.synthetic OUT.xlsx --clients 150``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from evaltool.plugins.partner_access import SERVICE_TYPES

DAY = np.timedelta64(1, "D")
COMMENTS = (
    "Helpful",
    "My worker was kind",
    "More evening sessions please",
    "Good",
    "",
    "I felt listened to",
    "Hard at first",
    "",
)


def _dates(base: np.datetime64, days: np.ndarray) -> np.ndarray:
    return base + np.round(days).astype("int64") * DAY


def _repeat_rows(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner index and 0-based sequence number for ``counts[i]`` rows per owner."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.arange(len(owner)) - starts


def _children(
    proceedings: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The subject children of each set (data contract v1.1): a set is about a baby born in
    the weeks before it (most), one unborn when it was issued (some: birth date after the
    issue, or left blank), an older child, or (a later set, sometimes) a child of an earlier
    set; a few sets record no child. Its own random stream, so that the other tables stay as
    they were. Returns proceedings with a ``child_ids`` column, and the children table."""
    p = proceedings.sort_values(["client_id", "issued_date"], kind="stable")
    n = len(p)
    seq = p.groupby("client_id").cumcount().to_numpy()
    kind = rng.choice(
        ["baby", "unborn", "older", "previous", "none"], n, p=[0.55, 0.15, 0.12, 0.13, 0.05]
    )
    # a previous child is the child of the client's set before this one: there must be one
    prior_own = (seq > 0) & np.isin(np.roll(kind, 1), ["baby", "unborn", "older"])
    kind = np.where((kind == "previous") & ~prior_own, "baby", kind)
    issued = p["issued_date"].to_numpy()
    birth = np.where(
        kind == "baby",
        _dates(issued, -rng.uniform(0, 60, n)),
        np.where(kind == "older", _dates(issued, -rng.uniform(400, 2500, n)), np.datetime64("NaT")),
    )
    born_later = (kind == "unborn") & (rng.random(n) < 0.7)
    birth = np.where(born_later, _dates(issued, rng.uniform(10, 120, n)), birth)
    child = np.char.add(
        np.char.add(p["client_id"].to_numpy().astype(str), "-"), (seq + 1).astype(str)
    )
    own = np.isin(kind, ["baby", "unborn", "older"])
    ids = np.where(own, child, np.where(kind == "previous", np.roll(child, 1), ""))
    p["child_ids"] = np.where(ids == "", None, ids)
    children = pd.DataFrame(
        {
            "client_id": p["client_id"].to_numpy()[own],
            "child_id": child[own],
            "birth_date": birth[own],
            "unborn": np.where(kind[own] == "unborn", "yes", None),
        }
    )
    return p.sort_index(), children


def generate(
    n_clients: int = 150,
    seed: int = 20260401,
    first: str = "2023-04-01",
    extract: str = "2026-03-31",
    comparison_share: float = 0.25,
    reviews_per_goal: int | None = None,
    star_interval: int = 120,
    partner_rate: float = 1.3,
    feedback_rate: float = 1.0,
) -> dict[str, pd.DataFrame]:
    """Make every table of the contract for ``n_clients`` synthetic clients."""
    rng = np.random.default_rng(seed)
    t0, t1 = np.datetime64(first), np.datetime64(extract)
    span = int((t1 - t0) / DAY)
    n = n_clients
    ids = np.char.zfill(rng.permutation(np.arange(1, n + 1) * 7 % 100_000 + 1).astype(str), 5)
    comparison = rng.random(n) < comparison_share
    referral = _dates(t0, rng.uniform(0, span - 30, n))
    wait = rng.exponential(21, n)
    never_start = rng.random(n) < 0.08
    start = np.where(comparison | never_start, np.datetime64("NaT"), _dates(referral, wait))
    start = np.where(start > t1, np.datetime64("NaT"), start)
    length = rng.gamma(4, 110, n)
    end = _dates(start, length)
    end = np.where((end > t1) | np.isnat(start), np.datetime64("NaT"), end)
    reasons = rng.choice(
        ["completed", "disengaged", "moved_away", "other"], n, p=[0.6, 0.25, 0.1, 0.05]
    )
    age = rng.integers(17, 41, n)
    ref_year = referral.astype("datetime64[Y]").astype(int) + 1970
    yes_no = np.array(["no", "yes"])
    clients = pd.DataFrame(
        {
            "client_id": ids,
            "referral_date": referral,
            "start_date": start,
            "end_date": end,
            "closure_reason": np.where(np.isnat(end), None, reasons),
            "cohort": np.where(comparison, "comparison", "service"),
            "gender": rng.choice(
                ["female", "male", "other", "unknown"], n, p=[0.9, 0.07, 0.01, 0.02]
            ),
            "birth_year": ref_year - age,
            "ethnicity": rng.choice(
                ["White British", "White other", "Mixed", "Asian", "Black", "Other"],
                n,
                p=[0.72, 0.06, 0.07, 0.07, 0.05, 0.03],
            ),
            "care_experienced": yes_no[(rng.random(n) < 0.4).astype(int)],
            "prior_children_removed": 1 + rng.poisson(1.0, n),
            "age_first_pregnancy": np.clip(rng.normal(18, 2.5, n).round(), 13, 35).astype(int),
            "mental_health": yes_no[(rng.random(n) < 0.65).astype(int)],
            "domestic_abuse": yes_no[(rng.random(n) < 0.6).astype(int)],
            "substance_misuse": yes_no[(rng.random(n) < 0.4).astype(int)],
            "learning_disability": yes_no[(rng.random(n) < 0.15).astype(int)],
        }
    )

    # Proceedings: 1-3 sets before referral (the last is the index), then maybe a recurrence.
    prior = rng.integers(1, 4, n)
    owner, seq = _repeat_rows(prior)
    gap_back = (prior[owner] - seq) * rng.uniform(300, 700, len(owner))
    issued = _dates(referral[owner], -gap_back - 200)
    concluded = _dates(issued, rng.uniform(120, 330, len(owner)))
    origin_base = np.where(np.isnat(start), referral, start)
    hazard = np.where(comparison, -np.log(0.68) / 1095, -np.log(0.84) / 1095)
    hazard = hazard * np.where(age < 20, 1.6, 1.0) * (1 + 0.15 * (prior - 1))
    next_days = rng.exponential(1 / hazard)
    index_conclusion = concluded[np.cumsum(prior) - 1]
    origin = np.maximum(index_conclusion, origin_base - 30 * DAY)
    nxt = _dates(index_conclusion, next_days)
    recur = (nxt <= t1) & (nxt > origin)
    proceedings = pd.DataFrame(
        {
            "client_id": np.concatenate([ids[owner], ids[recur]]),
            "issued_date": np.concatenate([issued, nxt[recur]]),
            "concluded_date": np.concatenate(
                [
                    concluded,
                    np.where(
                        _dates(nxt[recur], 200) <= t1, _dates(nxt[recur], 200), np.datetime64("NaT")
                    ),
                ]
            ),
            "outcome": np.concatenate(
                [
                    rng.choice(
                        ["care_order", "placement_order", "sgo", "returned_home"],
                        len(owner),
                        p=[0.35, 0.45, 0.15, 0.05],
                    ),
                    rng.choice(
                        ["care_order", "placement_order", "sgo", "returned_home"],
                        int(recur.sum()),
                        p=[0.3, 0.4, 0.15, 0.15],
                    ),
                ]
            ),
        }
    )
    proceedings.loc[proceedings["concluded_date"].isna(), "outcome"] = None
    proceedings, children = _children(proceedings, np.random.default_rng([seed, 1]))
    # an older child of a young parent is born no earlier than the parent's tenth year
    # (data/plausible.py refuses a parent younger than 10 at a birth); no random draw, so
    # every other value stays as it was
    parent = children["client_id"].map(clients.set_index("client_id")["birth_year"])
    earliest = pd.to_datetime((parent + 10).astype(int).astype(str) + "-01-01")
    children["birth_date"] = children["birth_date"].where(
        children["birth_date"].isna() | (children["birth_date"] >= earliest), earliest
    )

    started = ~np.isnat(start)
    s_idx = np.flatnonzero(started)
    active_end = np.where(np.isnat(end), t1, end)[s_idx]
    active_days = ((active_end - start[s_idx]) / DAY).astype(int)
    visits = np.maximum(1, active_days // 90 + 1)
    if reviews_per_goal:
        visits = np.full(len(s_idx), reviews_per_goal)
    progress = rng.normal(0.3, 0.7, len(s_idx))  # per-client tendency to improve

    # GAS: 3 goals per started client, reviewed every ~90 days.
    g_owner, g_seq = _repeat_rows(np.full(len(s_idx), 3))
    r_counts = visits[g_owner]
    r_owner, r_seq = _repeat_rows(r_counts)
    goal_of = g_owner[r_owner]
    goal_no = g_seq[r_owner]
    base_level = rng.choice([-2, -1], len(g_owner), p=[0.6, 0.4])[r_owner]
    level = np.clip(
        np.round(base_level + r_seq * progress[goal_of] * 0.6 + rng.normal(0, 0.4, len(r_owner))),
        -2,
        2,
    ).astype(int)
    level = np.where(r_seq == 0, base_level, level)
    goals = pd.DataFrame(
        {
            "client_id": ids[s_idx][goal_of],
            "goal_id": np.char.add("G", (goal_no + 1).astype(str)),
            "review_date": _dates(start[s_idx][goal_of], r_seq * 90 + 7),
            "level": level,
            "weight": rng.choice([1, 2, 3], len(g_owner))[r_owner],
        }
    )
    goals = goals[goals["review_date"] <= t1]

    # GBO: 2 goals rated 0-10 at each visit.
    g_owner, g_seq = _repeat_rows(np.full(len(s_idx), 2))
    r_owner, r_seq = _repeat_rows(visits[g_owner])
    goal_of = g_owner[r_owner]
    first_score = rng.integers(1, 5, len(g_owner))[r_owner]
    score = np.clip(
        np.round(
            first_score + r_seq * (0.6 + progress[goal_of]) + rng.normal(0, 1.5, len(r_owner))
        ),
        0,
        10,
    ).astype(int)
    gbo = pd.DataFrame(
        {
            "client_id": ids[s_idx][goal_of],
            "goal_id": np.char.add("B", (g_seq[r_owner] + 1).astype(str)),
            "rating_date": _dates(start[s_idx][goal_of], r_seq * 90 + 10),
            "score": np.where(r_seq == 0, first_score, score),
        }
    )
    gbo = gbo[gbo["rating_date"] <= t1]

    # Domain scale: an assessment every ~120 days, ten domains 1-10.
    a_counts = np.maximum(1, active_days // star_interval + 1)
    a_owner, a_seq = _repeat_rows(a_counts)
    domains = [
        "emotional_wellbeing",
        "relationships",
        "housing",
        "money",
        "physical_health",
        "sexual_health",
        "substance_use",
        "contact_children",
        "safety",
        "support_network",
    ]
    star = pd.DataFrame(
        {
            "client_id": ids[s_idx][a_owner],
            "assessment_date": _dates(start[s_idx][a_owner], a_seq * star_interval + 3),
        }
    )
    baseline = rng.integers(2, 6, (len(s_idx), len(domains)))
    for j, dom in enumerate(domains):
        val = (
            baseline[a_owner, j]
            + a_seq * (0.5 + progress[a_owner])
            + rng.normal(0, 0.8, len(a_owner))
        )
        val = np.where(a_seq == 0, baseline[a_owner, j], np.round(val))
        col = pd.Series(np.clip(val, 1, 10).astype(int))
        col[rng.random(len(a_owner)) < 0.03] = pd.NA  # a domain sometimes not assessed
        star[dom] = col.astype("Int64")
    star = star[star["assessment_date"] <= t1]

    # Feedback: anonymous, about one response per started client.
    m = len(s_idx)
    fb_owner, _ = _repeat_rows(
        rng.poisson(feedback_rate, m) if feedback_rate != 1.0 else np.ones(m, dtype=int)
    )
    fb_dates = _dates(start[s_idx][fb_owner], rng.uniform(30, 400, len(fb_owner)))
    fb_dates = fb_dates[fb_dates <= t1]
    k = len(fb_dates)
    feedback = pd.DataFrame({"response_date": fb_dates})
    for item, p in (
        ("listened", [0.02, 0.03, 0.1, 0.35, 0.5]),
        ("respected", [0.02, 0.03, 0.1, 0.35, 0.5]),
        ("helped", [0.03, 0.07, 0.15, 0.4, 0.35]),
        ("judged", [0.35, 0.35, 0.15, 0.1, 0.05]),
        ("recommend", [0.03, 0.05, 0.12, 0.35, 0.45]),
    ):
        feedback[item] = rng.choice([1, 2, 3, 4, 5], k, p=p)
    feedback["comment"] = rng.choice(COMMENTS, k)

    # Partner access: 0-3 referrals per started client.
    p_counts = rng.poisson(partner_rate, m)
    p_owner, _ = _repeat_rows(p_counts)
    referred = _dates(
        start[s_idx][p_owner], rng.uniform(0, 1, len(p_owner)) * np.maximum(active_days[p_owner], 1)
    )
    delay = rng.gamma(2, 14, len(p_owner))
    accessed = _dates(referred, delay)
    got = (rng.random(len(p_owner)) < 0.72) & (accessed <= t1)
    partner = pd.DataFrame(
        {
            "client_id": ids[s_idx][p_owner],
            "service_type": rng.choice(
                list(SERVICE_TYPES),  # the partner-access instrument's own codes
                len(p_owner),
                p=[0.3, 0.15, 0.2, 0.15, 0.15, 0.05],
            ),
            "referred_date": referred,
            "accessed_date": np.where(got, accessed, np.datetime64("NaT")),
            "outcome": np.where(got, rng.choice(["engaged", "attended_once"], len(p_owner)), None),
        }
    )

    # Pregnancies: about 8 per 100 client-years of involvement, some after closure.
    years = np.maximum(active_days, 1) / 365.25
    p_n = rng.poisson(0.08 * years * 1.4)
    q_owner, _ = _repeat_rows(p_n)
    known = _dates(
        start[s_idx][q_owner],
        rng.uniform(0, 1.4, len(q_owner)) * np.maximum(active_days[q_owner], 1),
    )
    keep = known <= t1
    q_owner, known = q_owner[keep], known[keep]
    outcome = rng.choice(
        ["live_birth", "miscarriage", "termination"], len(q_owner), p=[0.55, 0.2, 0.25]
    )
    outcome_date = _dates(known, rng.uniform(30, 220, len(q_owner)))
    outcome = np.where(outcome_date > t1, "ongoing", outcome)
    pregnancies = pd.DataFrame(
        {
            "client_id": ids[s_idx][q_owner],
            "known_date": known,
            "outcome": outcome,
            "outcome_date": np.where(outcome == "ongoing", np.datetime64("NaT"), outcome_date),
            "baby_care_status": np.where(
                outcome == "live_birth",
                rng.choice(
                    ["with_parent", "with_family", "in_care", "proceedings_issued"],
                    len(q_owner),
                    p=[0.5, 0.2, 0.2, 0.1],
                ),
                None,
            ),
        }
    )

    # Contraception: about 40% of started clients choose a method.
    chose = rng.random(m) < 0.4
    c_idx = np.flatnonzero(chose)
    contraception = pd.DataFrame(
        {
            "client_id": ids[s_idx][c_idx],
            "started_date": _dates(start[s_idx][c_idx], rng.uniform(14, 200, len(c_idx))),
            "method": rng.choice(["larc", "short_acting", "other"], len(c_idx), p=[0.6, 0.3, 0.1]),
        }
    )
    contraception = contraception[contraception["started_date"] <= t1]

    return {
        "clients": clients,
        "proceedings": proceedings,
        "children": children,
        "goals": goals,
        "gbo": gbo,
        "star": star,
        "feedback": feedback,
        "partner_access": partner,
        "pregnancies": pregnancies,
        "contraception": contraception,
    }


def write_xlsx(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """Write one sheet per table with real spreadsheet dates and ids as text."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for name, frame in tables.items():
        ws = wb.create_sheet(name)
        ws.append(list(frame.columns))
        cols = []
        for c in frame.columns:
            col = frame[c]
            if pd.api.types.is_datetime64_any_dtype(col):
                cols.append([None if pd.isna(v) else v.date() for v in col])
            else:
                cols.append(
                    [
                        None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)
                        for v in col.astype(object)
                    ]
                )
        for row in zip(*cols, strict=True):
            ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_csv_folder(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    """Write one CSV per table, dates as dd/mm/yyyy as a UK spreadsheet would save them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        out = frame.copy()
        for c in out.columns:
            if pd.api.types.is_datetime64_any_dtype(out[c]):
                out[c] = out[c].dt.strftime("%d/%m/%Y")
        out.to_csv(folder / f"{name}.csv", index=False)
    return folder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="an .xlsx file, or a folder for CSV files")
    parser.add_argument("--clients", type=int, default=150)
    parser.add_argument("--seed", type=int, default=20260401)
    args = parser.parse_args(argv)
    tables = generate(args.clients, args.seed)
    if args.out.suffix.lower() == ".xlsx":
        write_xlsx(tables, args.out)
    else:
        write_csv_folder(tables, args.out)
    print(f"wrote {args.out} ({', '.join(f'{k}: {len(v)}' for k, v in tables.items())})")


if __name__ == "__main__":
    main()

"""Before/after comparison of each measure: first vs latest reading per unit.

Per measure: n, means and SDs, mean change with a t-based 95% CI, paired t-test, Wilcoxon
signed-rank (V = sum of ranks of positive changes, as R reports it; zero changes dropped, tied
absolute changes get mid-ranks, normal approximation with tie-corrected variance and continuity
correction = R's ``wilcox.test(latest, first, paired=TRUE, exact=FALSE, correct=TRUE)``),
Cohen's dz, Hedges-corrected g, improved/unchanged/worse in the measure's own direction,
Jacobson-Truax reliable change where a reliability is given, and Holm-adjusted p-values across
the measures of one instrument.

    ba = BeforeAfter(min_n=5, min_days=28).fit(readings, measures, instrument="gas")
    ba.summary_   # one row per measure
    ba.pairs_     # one row per unit and measure
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltool.instruments.base import Definition, Measure
from evaltool.instruments.kit import first_and_latest_positions, runs, until
from evaltool.instruments.results import SummaryTable

Z_RELIABLE = 1.96

#: the statistics of a test; NaN (null in JSON) where no test is run
TEST_COLUMNS = (
    "ci_low",
    "ci_high",
    "t",
    "df",
    "p_t",
    "wilcoxon_v",
    "wilcoxon_n",
    "p_wilcoxon",
    "dz",
    "g",
)

SUMMARY_COLUMNS = [
    "instrument",
    "measure",
    "label",
    "unit",
    "direction",
    "n",
    "excluded_single",
    "excluded_too_close",
    "baseline_mean",
    "baseline_sd",
    "latest_mean",
    "latest_sd",
    "mean_change",
    "sd_change",
    *TEST_COLUMNS,
    "improved",
    "unchanged",
    "worse",
    "reliability",
    "reliable_improved",
    "reliable_worse",
    "p_holm",
    "p_wilcoxon_holm",
    "note",
]


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and their values: a categorical's own (in category order), else factorized."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(dtype=np.int64), np.asarray(column.cat.categories)
    codes, uniques = pd.factorize(column)
    return codes, np.asarray(uniques)


#: the columns every readings table has; a long one adds ``measure`` and ``value``, a wide
#: one has a value column named after each measure instead
READING_KEYS = ("unit", "client_id", "date")


def pair_readings(readings: pd.DataFrame, min_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First and latest reading per (measure, unit), and the units excluded, with the reason
    ("single reading", or "too close" when under ``min_days`` apart)."""
    pairs = first_and_latest_readings(readings)  # shared: read it, never change it
    single = pairs["readings"].to_numpy() < 2
    close = ~single & (pairs["days"].to_numpy() < min_days)
    reason = np.where(single, "single reading", np.where(close, "too close", ""))
    kept = ~(single | close)
    paired = pairs[kept].reset_index(drop=True)
    paired["change"] = paired["latest"] - paired["first"]
    excluded = pairs[~kept].reset_index(drop=True)
    excluded["reason"] = reason[~kept]
    return paired, excluded


#: readings frames paired so far (by id, while the frame lives) and their pairs: an
#: instrument's summary (the domain scale's distance travelled) and the before/after
#: comparison pair the same readings frame
_paired: dict[int, tuple[weakref.ref, pd.DataFrame]] = {}


def first_and_latest_readings(readings: pd.DataFrame) -> pd.DataFrame:
    """First and latest reading, number of readings and days between, per (measure, unit).

    The same frame given again (the same object) gets the same result back: treat it as
    read-only.

    ``readings`` is long (``unit, client_id, measure, date, value``: one row per reading) or
    wide (``unit, client_id, date`` and one value column per measure: one row per
    assessment, blanks where a measure was not read). Either way it is a stable integer sort
    and group boundaries in numpy rather than a pandas sort and groupby over millions of
    rows; ties on a day keep the input order.
    """
    key = id(readings)
    hit = _paired.get(key)
    if hit is not None and hit[0]() is readings:
        return hit[1]
    pairs = _first_and_latest_readings(readings)
    _paired[key] = (weakref.ref(readings, lambda _: _paired.pop(key, None)), pairs)
    return pairs


def _first_and_latest_readings(readings: pd.DataFrame) -> pd.DataFrame:
    dates = readings["date"].to_numpy(dtype="datetime64[ns]")
    dated = ~np.isnat(dates)
    r = readings if dated.all() else readings[dated]
    dates = dates[dated] if len(r) < len(readings) else dates
    days = dates.astype("datetime64[D]").astype(np.int64)
    u_codes, units = _codes(r["unit"])
    if "measure" in r:
        measures, parts = _pair_long(r, u_codes, units, days)
    else:
        measures = [c for c in r.columns if c not in READING_KEYS]
        parts = _pair_wide(r, measures, u_codes, days)
    columns = (
        [np.concatenate(c) for c in zip(*parts, strict=True)]
        if parts
        else [np.empty(0, np.int64)] * 6
    )
    measure, first, last, first_value, last_value, count = columns
    return pd.DataFrame(
        {
            # a categorical: the per-measure selections that follow compare integer codes
            "measure": pd.Categorical.from_codes(measure, categories=measures),
            "unit": units[u_codes[first]],
            "client_id": r["client_id"].take(first).to_numpy(),
            "first_date": dates[first],
            "first": first_value.astype(float),
            "latest_date": dates[last],
            "latest": last_value.astype(float),
            "readings": count,
            "days": days[last] - days[first],
        }
    )


def _pair_long(
    r: pd.DataFrame, u_codes: np.ndarray, units: np.ndarray, days: np.ndarray
) -> tuple[np.ndarray, list[tuple[np.ndarray, ...]]]:
    """Measures, and the first/latest rows of each (measure, unit), from a long table."""
    values = r["value"].to_numpy(dtype=float)
    m_codes, measures = _codes(r["measure"])
    rows = np.flatnonzero(~np.isnan(values))
    group = m_codes.astype(np.int64) * (len(units) + 1) + u_codes  # (measure, unit)
    first, last, count = first_and_latest_positions(group[rows], days[rows])
    first, last = rows[first], rows[last]
    part = (m_codes[first], first, last, values[first], values[last], count)
    return measures, [part] if len(rows) else []


def _pair_wide(
    r: pd.DataFrame, measures: list[str], u_codes: np.ndarray, days: np.ndarray
) -> list[tuple[np.ndarray, ...]]:
    """The first/latest rows of each (measure, unit) from a wide table: one sort of the
    assessments by unit and day, then per measure only the rows where it was read."""
    order = np.lexsort((days, u_codes))  # stable: ties on a day keep input order
    parts = []
    for code, name in enumerate(measures):
        values = r[name].to_numpy(dtype=float, na_value=np.nan)
        rows = order[~np.isnan(values[order])]
        if not len(rows):
            continue
        starts, ends = runs(u_codes[rows])
        first, last = rows[starts], rows[ends]
        parts.append(
            (
                np.full(len(starts), code),
                first,
                last,
                values[first],
                values[last],
                ends - starts + 1,
            )
        )
    return parts


def wilcoxon_signed_rank(d: np.ndarray) -> tuple[float, int, float]:
    """(V, n without zeros, two-sided p), as R's exact=FALSE, correct=TRUE."""
    from scipy.stats import norm, rankdata

    d = d[d != 0]
    n = len(d)
    if n == 0:
        return (math.nan, 0, math.nan)
    ranks = rankdata(np.abs(d))
    v = float(ranks[d > 0].sum())
    _, counts = np.unique(ranks, return_counts=True)
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - float((counts**3 - counts).sum()) / 48)
    if sigma == 0:
        return (v, n, math.nan)
    z = v - n * (n + 1) / 4
    z = (z - math.copysign(0.5, z) if z != 0 else 0.0) / sigma
    return (v, n, float(2 * min(norm.cdf(z), norm.sf(z))))


def holm(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values, as R's ``p.adjust(p, "holm")``.

    Written out (it is four lines) because statsmodels' ``multipletests(method="holm")``
    runs a full garbage collection on every call: 70 ms each at national scale.
    """
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


@dataclass
class BeforeAfter:
    """Compare first and latest readings of every measure of one instrument."""

    min_n: int = 5
    min_days: int = 28
    level: float = 0.95

    def fit(
        self, readings: pd.DataFrame, measures: list[Measure], instrument: str = ""
    ) -> BeforeAfter:
        from scipy.stats import t as t_dist

        pairs, excluded = pair_readings(readings, self.min_days)
        rows, unit_rows = [], []
        for m in measures:
            p = pairs[pairs["measure"] == m.name].copy()
            ex = excluded[excluded["measure"] == m.name]["reason"].value_counts()
            sign = 1 if m.higher_is_better else -1
            d = p["change"].to_numpy(float)
            n = len(d)
            row: dict[str, object] = {
                "instrument": instrument,
                "measure": m.name,
                "label": m.label,
                "unit": m.unit,
                "direction": "higher is better" if m.higher_is_better else "lower is better",
                "n": n,
                "excluded_single": int(ex.get("single reading", 0)),
                "excluded_too_close": int(ex.get("too close", 0)),
                "baseline_mean": _mean(p["first"]),
                "baseline_sd": _sd(p["first"]),
                "latest_mean": _mean(p["latest"]),
                "latest_sd": _sd(p["latest"]),
                "mean_change": _mean(p["change"]),
                "sd_change": _sd(p["change"]),
                "improved": int((sign * d > 0).sum()),
                "unchanged": int((d == 0).sum()),
                "worse": int((sign * d < 0).sum()),
                "reliability": m.reliability,
            }
            row.update(dict.fromkeys(TEST_COLUMNS, math.nan))
            row["note"] = self._refusal(n, d, excluded_any=bool(len(ex)))
            if not row["note"]:
                mean, sd = float(d.mean()), float(d.std(ddof=1))
                se, df = sd / math.sqrt(n), n - 1
                q = t_dist.ppf(1 - (1 - self.level) / 2, df)
                t_stat = mean / se
                dz = mean / sd
                v, n_w, p_w = wilcoxon_signed_rank(d)
                row.update(
                    {
                        "ci_low": mean - q * se,
                        "ci_high": mean + q * se,
                        "t": t_stat,
                        "df": df,
                        "p_t": float(2 * t_dist.sf(abs(t_stat), df)),
                        "wilcoxon_v": v,
                        "wilcoxon_n": n_w,
                        "p_wilcoxon": p_w,
                        "dz": dz,
                        "g": dz * (1 - 3 / (4 * df - 1)),
                    }
                )
                if n_w < n:
                    row["note"] = f"Wilcoxon: {n - n_w} zero change(s) dropped"
            p["rc"] = math.nan
            if m.reliability is not None and n >= 2:
                s_diff = math.sqrt(2) * float(p["first"].std(ddof=1)) * math.sqrt(1 - m.reliability)
                if s_diff > 0:
                    p["rc"] = p["change"] / s_diff
                row["reliable_improved"] = int((sign * p["rc"] > Z_RELIABLE).sum())
                row["reliable_worse"] = int((sign * p["rc"] < -Z_RELIABLE).sum())
            else:
                row["reliable_improved"] = row["reliable_worse"] = None
            rows.append(row)
            unit_rows.append(p.assign(instrument=instrument))
        summary = pd.DataFrame(
            rows, columns=[c for c in SUMMARY_COLUMNS if c not in ("p_holm", "p_wilcoxon_holm")]
        )
        for source, target in (("p_t", "p_holm"), ("p_wilcoxon", "p_wilcoxon_holm")):
            summary[target] = math.nan
            ok = summary[source].notna() if len(summary) else pd.Series(dtype=bool)
            if ok.any():
                summary.loc[ok, target] = holm(summary.loc[ok, source].to_numpy(float))
        self.summary_ = summary[SUMMARY_COLUMNS]
        self.pairs_ = pd.concat(unit_rows, ignore_index=True) if unit_rows else pd.DataFrame()
        return self

    def _refusal(self, n: int, d: np.ndarray, excluded_any: bool) -> str:
        """Why no test is run, or '' when one is."""
        if n == 0:
            return (
                f"no unit has two readings at least {self.min_days} days apart"
                if excluded_any
                else "no readings"
            )
        if n < self.min_n:
            return f"n = {n} is below the minimum of {self.min_n}: no test run"
        if float(np.std(d)) == 0.0:
            return (
                "every change is zero: no test run"
                if not d.any()
                else "every change is the same: no test run (no variation)"
            )
        return ""


def _mean(s: pd.Series) -> float:
    return float(s.mean()) if len(s) else math.nan


def _sd(s: pd.Series) -> float:
    return float(s.std(ddof=1)) if len(s) > 1 else math.nan


def compare_instruments(loaded, instrument: str | None = None, end=None) -> pd.DataFrame:
    """Before/after summaries for every enabled instrument with measures (or just one)."""
    settings = loaded.settings
    frames = []
    for inst in loaded.instruments:
        if instrument is not None and inst.name != instrument:
            continue
        measures = inst.measures()
        if not measures:
            continue
        # readings from rows up to the end only: a review after the period end must not
        # displace the latest review within it
        readings = until(inst.readings(loaded.table_up_to(inst, end)), "date", end)
        fitted = BeforeAfter(settings.compare_min_n, settings.compare_min_days).fit(
            readings, measures, inst.name
        )
        frames.append(fitted.summary_)
    records = [row for frame in frames for row in frame.to_dict(orient="records")]
    return pd.DataFrame.from_records(records, columns=SUMMARY_COLUMNS)


#: Return columns: (summary column, heading). Counts first, so suppression knows them.
SHEET_COLUMNS = [
    ("label", "Measure"),
    ("direction", "Better is"),
    ("n", "Pairs"),
    ("baseline_mean", "First mean"),
    ("latest_mean", "Latest mean"),
    ("mean_change", "Mean change"),
    ("ci_low", "95% CI low"),
    ("ci_high", "95% CI high"),
    ("t", "t"),
    ("df", "df"),
    ("p_t", "p (t-test)"),
    ("wilcoxon_v", "Wilcoxon V"),
    ("p_wilcoxon", "p (Wilcoxon)"),
    ("dz", "Cohen's dz"),
    ("g", "Hedges' g"),
    ("improved", "Improved"),
    ("unchanged", "Unchanged"),
    ("worse", "Worse"),
    ("reliable_improved", "Reliably improved"),
    ("reliable_worse", "Reliably worse"),
    ("p_holm", "p (Holm)"),
    ("note", "Note"),
]
_COUNTS = ("Pairs", "Improved", "Unchanged", "Worse", "Reliably improved", "Reliably worse")


def return_notes(notes: pd.Series) -> pd.Series:
    """Notes for a funder return carry no numbers: a count in a note could undo suppression."""
    return notes.str.replace(
        r"^n = \d+ is below the minimum of \d+: no test run$",
        "too few pairs for a test",
        regex=True,
    ).str.replace(
        r"^Wilcoxon: \d+ zero change\(s\) dropped$", "Wilcoxon: zero changes dropped", regex=True
    )


def comparison_tables(
    summary: pd.DataFrame, titles: dict[str, str], min_days: int
) -> list[SummaryTable]:
    """One table per instrument for the return's Before and after sheet."""
    tables = []
    for instrument, part in summary.groupby("instrument", sort=False):
        frame = part[[c for c, _ in SHEET_COLUMNS]].rename(columns=dict(SHEET_COLUMNS))
        frame["Better is"] = frame["Better is"].str.replace(" is better", "", regex=False)
        frame["Note"] = return_notes(frame["Note"].fillna(""))
        derived = {
            h: "Pairs"
            for _, h in SHEET_COLUMNS
            if h not in _COUNTS and h not in ("Measure", "Better is", "Note")
        }
        tables.append(
            SummaryTable(
                f"compare-{instrument}",
                f"{titles.get(instrument, instrument)}: first vs latest",
                frame.reset_index(drop=True),
                counts=_COUNTS,
                derived=derived,
                sums={"Pairs": ("Improved", "Unchanged", "Worse")},
                formats={"df": "0", "Wilcoxon V": "0.0"},
                note=f"Pairs: each unit's first and latest reading up to the period end, at least "
                f"{min_days} days apart. Reliable change only where the instrument gives a "
                "reliability; blank otherwise (never invented).",
            )
        )
    return tables


DEFINITIONS = [
    Definition(
        "Before/after pair",
        "A unit's (client's, or goal's) first and latest reading "
        "up to the period end, at least the configured number of days apart.",
        "evaltool",
    ),
    Definition(
        "Mean change and 95% CI",
        "Mean of latest minus first, with a t-based 95% "
        "confidence interval; paired t-test, two-sided.",
        "Student (1908); R t.test",
    ),
    Definition(
        "Wilcoxon signed-rank",
        "V = sum of the ranks of positive changes; zero changes "
        "dropped; tied |changes| get mid-ranks; normal approximation with tie-corrected "
        "variance and continuity correction, two-sided (R: wilcox.test(paired = TRUE, "
        "exact = FALSE, correct = TRUE)).",
        "Wilcoxon (1945); R wilcox.test",
    ),
    Definition(
        "Cohen's dz / Hedges' g",
        "dz = mean change / SD of changes; g = dz x "
        "(1 - 3 / (4(n - 1) - 1)), Hedges' small-sample correction.",
        "Cohen (1988); Hedges (1981)",
    ),
    Definition(
        "Improved / unchanged / worse",
        "Counted in each measure's own direction (for some measures lower is better).",
        "instrument definition",
    ),
    Definition(
        "Reliable change",
        "Jacobson-Truax: SE = SD(first) x sqrt(1 - r), S_diff = "
        "sqrt(2) x SE, RC = change / S_diff; reliable when |RC| > 1.96 in the measure's "
        "direction. Only where the instrument states a reliability r.",
        "Jacobson & Truax (1991) J Consult Clin Psychol 59(1)",
    ),
    Definition(
        "p (Holm)",
        "t-test p-values adjusted across the measures of one instrument by "
        "Holm's step-down method.",
        "Holm (1979)",
    ),
]

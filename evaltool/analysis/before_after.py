"""Before/after comparison of each measure: first vs latest reading per unit.

Per measure: n, means and SDs, mean change with a t-based 95% CI, paired t-test, Wilcoxon
signed-rank (V = sum of ranks of positive changes, as R reports it; zero changes dropped, tied
absolute changes get mid-ranks, normal approximation with tie-corrected variance and continuity
correction = R's ``wilcox.test(latest, first, paired=TRUE, exact=FALSE, correct=TRUE)``),
Cohen's dz, Hedges-corrected g, improved/unchanged/worse in the measure's own direction,
Jacobson-Truax reliable change where a reliability is given, and Holm-adjusted p-values across
the measures of one instrument.

    ba = BeforeAfter(min_n=5, min_days=28).fit(readings, measures, instrument="gas")
    ba.comparisons_   # one row per measure
    ba.pairs_     # one row per unit (goal measures: per parent) and measure

Goals are clustered within parents (a parent's goals move together), so a measure read per goal
(``Measure.unit == "goal"``) is analysed at parent level: each parent's pair is the mean of her
goals' first and of their latest readings, and every statistic above is over parents (``n``:
parents; ``goals``: the goal pairs they had). A parent counts once however many goals they set.
Checked against R on goals within parents: tests/fixtures/cluster/cluster.R.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltool.instruments.base import Instrument, Measure
from evaltool.instruments.kit import first_and_latest_readings
from evaltool.instruments.results import Evaluation

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

#: each test's p-value and its Holm-adjusted column (across the measures of one instrument)
HOLM = {"p_t": "p_holm", "p_wilcoxon": "p_wilcoxon_holm"}

COMPARISON_COLUMNS = [
    "instrument",
    "measure",
    "label",
    "unit",
    "direction",
    "n",
    "goals",
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
    *HOLM.values(),
    "note",
]


def pair_readings(pairs: pd.DataFrame, min_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pairs compared (from ``kit.first_and_latest_readings``), and the units excluded,
    with the reason ("single reading", or "too close" when under ``min_days`` apart)."""
    single = pairs["readings"].to_numpy() < 2
    close = ~single & (pairs["days"].to_numpy() < min_days)
    reason = np.where(single, "single reading", np.where(close, "too close", ""))
    kept = ~(single | close)
    paired = pairs[kept].reset_index(drop=True)
    paired["change"] = paired["latest"] - paired["first"]
    excluded = pairs[~kept].reset_index(drop=True)
    excluded["reason"] = reason[~kept]
    return paired, excluded


def per_parent(pairs: pd.DataFrame) -> pd.DataFrame:
    """Goal pairs reduced to one pair per parent: the mean of their goals' first readings, of
    their latest and of their changes, with the number of goals (``goals``)."""
    g = pairs.groupby("client_id", sort=False, observed=True)
    out = g[["first", "latest", "change"]].mean()
    out["goals"] = g.size()
    out["measure"] = pairs["measure"].iloc[0] if len(pairs) else None
    return out.reset_index()


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
        self,
        readings: pd.DataFrame,
        measures: list[Measure],
        instrument: str = "",
        pairs: pd.DataFrame | None = None,
    ) -> BeforeAfter:
        """Fit on ``readings`` (long or wide, see ``Instrument.readings``); ``pairs``, when
        given, is their first/latest pairing already worked out (``Evaluation.pairs``)."""
        from scipy.stats import t as t_dist

        if pairs is None:
            pairs = first_and_latest_readings(readings)
        pairs, excluded = pair_readings(pairs, self.min_days)
        rows, unit_rows = [], []
        for m in measures:
            p = pairs[pairs["measure"] == m.name].copy()
            goals = len(p) if m.unit == "goal" else None
            if m.unit == "goal":
                p = per_parent(p)
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
                "goals": goals,
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
        columns = [c for c in COMPARISON_COLUMNS if c not in HOLM.values()]
        found = pd.DataFrame(rows, columns=columns)
        for source, target in HOLM.items():
            found[target] = math.nan
            ok = found[source].notna() if len(found) else pd.Series(dtype=bool)
            if ok.any():
                found.loc[ok, target] = holm(found.loc[ok, source].to_numpy(float))
        self.comparisons_ = found[COMPARISON_COLUMNS]
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


def compare(
    evaluations: list[tuple[Instrument, Evaluation]], min_n: int = 5, min_days: int = 28
) -> pd.DataFrame:
    """Before/after comparisons of every instrument evaluated that has measures, one row per
    measure (``COMPARISON_COLUMNS``)."""
    frames = [
        BeforeAfter(min_n, min_days)
        .fit(ev.readings, inst.measures(), inst.name, ev.pairs)
        .comparisons_
        for inst, ev in evaluations
        if ev.readings is not None and inst.measures()
    ]
    records = [row for frame in frames for row in frame.to_dict(orient="records")]
    return pd.DataFrame.from_records(records, columns=COMPARISON_COLUMNS)

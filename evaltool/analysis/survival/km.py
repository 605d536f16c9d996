"""Kaplan-Meier with Greenwood variance and both CI transforms R offers (``log``, R's default;
``log-log``, lifelines' default), and the log-rank test, each with delayed entry (left
truncation): a client given an ``entry`` time is at risk at t only when entry < t <= time, as
R's ``Surv(entry, time, event)``. Checked against R's survival package."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class KaplanMeier:
    """Kaplan-Meier estimate with Greenwood variance and a log or log-log CI."""

    ci: str = "log"
    level: float = 0.95

    def fit(
        self,
        time: np.ndarray,
        event: np.ndarray,
        weights: np.ndarray | None = None,
        entry: np.ndarray | None = None,
    ) -> KaplanMeier:
        """``weights``: case weights (as R's ``survfit(..., weights = w)``): the numbers at
        risk and of events are sums of weights, with delayed entry too (at risk at t: the
        weights of those with entry < t <= time). The variance is Greenwood's for whole-number
        weights and, for any other weights, the infinitesimal jackknife R's ``survfit`` gives
        by default (``_jackknife_var``; checked with late entry against
        tests/fixtures/survival/weighted_entry). The ``at_risk`` of :meth:`at` still counts
        people. ``entry``: days from the origin to entering the risk set (delayed entry; each
        must be below its time); none: 0."""
        from scipy.stats import norm

        time = np.asarray(time, float)
        event = np.asarray(event, int)
        late = np.zeros(len(time)) if entry is None else np.asarray(entry, float)
        if (late >= time).any():
            raise ValueError("every entry time must be before its exit time")
        self.n_ = len(time)
        self.time_ = time
        self.event_ = event
        self.entry_ = late
        order = np.argsort(time, kind="stable")
        t, e = time[order], event[order]
        times = np.unique(t[e == 1])
        # entered after t: in no risk set up to t (entry >= t)
        by_entry = np.sort(late)
        if weights is not None:
            w = np.asarray(weights, float)[order]
            d = pd.Series(w[e == 1]).groupby(t[e == 1]).sum().reindex(times).to_numpy()
            n = np.cumsum(w[::-1])[::-1][np.searchsorted(t, times, side="left")]
            if late.any():
                we = np.asarray(weights, float)[np.argsort(late, kind="stable")]
                n = (
                    n
                    - np.concatenate([np.cumsum(we[::-1])[::-1], [0.0]])[
                        np.searchsorted(by_entry, times, side="left")
                    ]
                )
        else:
            d = (
                np.array([e[t == x].sum() for x in times])
                if len(times) < 64
                else (pd.Series(e[e == 1]).groupby(t[e == 1]).sum().reindex(times).to_numpy())
            )
            n = len(t) - np.searchsorted(t, times, side="left")
            n = n - (len(t) - np.searchsorted(by_entry, times, side="left"))
        with np.errstate(divide="ignore", invalid="ignore"):
            surv = np.cumprod(1 - d / n)
            var = np.cumsum(d / (n * (n - d)))
        if weights is not None and not np.allclose(w, np.round(w)):
            var = _jackknife_var(t, e, w, times, n, d, late[order])  # R's, for such weights
        se = np.sqrt(np.clip(var, 0.0, None))  # a rounding error's -1e-17 is 0
        z = norm.ppf(1 - (1 - self.level) / 2)
        lo, hi = self._ci(surv, se, z)
        self.table_ = pd.DataFrame(
            {
                "time": times,
                "at_risk": n,
                "events": d,
                "survival": surv,
                "se_log": se,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
        return self

    def _ci(self, s: np.ndarray, se: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.ci == "log":
                lo, hi = s * np.exp(-z * se), np.minimum(s * np.exp(z * se), 1.0)
            else:  # log-log, as R's conf.type = "log-log"
                a = np.exp(-np.exp(np.log(-np.log(s)) + z * se / np.log(s)))
                b = np.exp(-np.exp(np.log(-np.log(s)) - z * se / np.log(s)))
                lo, hi = np.minimum(a, b), np.maximum(a, b)
        bad = (s == 0) | ~np.isfinite(se)
        return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)

    def at(self, times: list[int] | tuple[int, ...]) -> pd.DataFrame:
        """Survival, CI, numbers at risk and cumulative events at each time (days), and
        ``entered``: how many had joined before it (entry < t: ever at risk up to t). Before
        anyone has joined, S is 1 with CI [1, 1], as R's ``summary.survfit`` gives it; that
        is no measurement, and :func:`as_read` says so."""
        tab = self.table_
        rows = []
        last = float(self.time_.max()) if self.n_ else 0.0
        for t in times:
            k = np.searchsorted(tab["time"].to_numpy(), t, side="right") - 1
            at_risk = int(((self.entry_ < t) & (self.time_ >= t)).sum())
            events = int(((self.time_ <= t) & (self.event_ == 1)).sum())
            if t > last:
                surv = lo = hi = math.nan
            elif k < 0:  # before the first event, S = 1. As R's summary.survfit: the CI is
                # [1, 1] before the first observed time; after it, log-log is undefined (NA)
                surv = 1.0
                undefined = self.ci != "log" and t >= float(self.time_.min())
                lo = hi = math.nan if undefined else 1.0
            else:
                surv, lo, hi = (
                    float(tab["survival"].iloc[k]),
                    float(tab["ci_low"].iloc[k]),
                    float(tab["ci_high"].iloc[k]),
                )
            rows.append(
                {
                    "days": int(t),
                    "survival": surv,
                    "ci_low": lo,
                    "ci_high": hi,
                    "at_risk": at_risk,
                    "events": events,
                    "entered": int((self.entry_ < t).sum()),
                }
            )
        return pd.DataFrame(rows)

    def median(self) -> tuple[float, float, float]:
        """Median survival time and its CI (R's rule), NaN where not reached."""
        tab = self.table_

        def first_below(col: str) -> float:
            # R's tolerance (quantile.survfit): a product of fractions that is a half up to
            # rounding is a half
            hit = tab[tab[col] <= 0.5 + HALF_TOLERANCE]
            if hit.empty:
                return math.nan
            k = hit.index[0]
            if col == "survival" and abs(tab[col].iloc[k] - 0.5) <= HALF_TOLERANCE:
                # exactly a half along a flat stretch: its middle, up to the next drop
                # (rows in between are censorings, where the curve does not move)
                drop = tab[(tab["time"] > tab["time"].iloc[k]) & (tab[col] < tab[col].iloc[k])]
                nxt = drop["time"].iloc[0] if len(drop) else tab["time"].iloc[k]
                return float((tab["time"].iloc[k] + nxt) / 2)
            return float(tab["time"].iloc[k])

        return first_below("survival"), first_below("ci_low"), first_below("ci_high")


HALF_TOLERANCE = math.sqrt(2.220446049250313e-16)

#: what a reader is told at a fixed time before anyone in the group had joined
NOT_YET = "not estimated: nobody followed yet at this time"
#: the figures of :meth:`KaplanMeier.at` (and of a fitter's ``survival_at_``) that estimate
READ_AT = (
    "survival",
    "ci_low",
    "ci_high",
    "cumulative_incidence",
    "ci_incidence_low",
    "ci_incidence_high",
    "incidence",  # aalen_johansen's
    "se",
    "died",
)


def as_read(at: pd.DataFrame) -> pd.DataFrame:
    """The fixed-time figures as a reader sees them: where nobody had joined by the time
    (``entered`` 0), the estimates are blank and ``not_estimated`` says why (``NOT_YET``;
    None elsewhere). R's S = 1 with CI [1, 1] there would read as a measured 0% with new
    proceedings. At risk 0 after everyone then followed has left is another thing: the
    estimate holds its last value and is shown."""
    out = at.copy()
    blank = (out["entered"] == 0).to_numpy(dtype=bool)
    out.loc[blank, [c for c in READ_AT if c in out]] = np.nan
    out["not_estimated"] = np.where(blank, NOT_YET, None)
    return out


def logrank(table: pd.DataFrame, column: str) -> dict[str, Any]:
    """The log-rank test of the groups of ``column`` (survdiff's statistic: observed less
    expected events, hypergeometric variance), each client at risk only over (entry, time]
    where the table has an ``entry`` column. R's survdiff takes right-censored data only: with
    delayed entry the same sums are checked against R by hand (tests/fixtures/survival/entry)."""
    from scipy.stats import chi2 as chi2_dist

    time = table["time"].to_numpy(float)
    event = table["event"].to_numpy(int)
    entry = table["entry"].to_numpy(float) if "entry" in table else np.zeros(len(time))
    group = table[column].to_numpy()
    groups = sorted(pd.unique(group).tolist())
    times = np.unique(time[event == 1])
    # at risk at t: time >= t and entry < t, by group
    n = np.zeros((len(times), len(groups)))
    d = np.zeros((len(times), len(groups)))
    for k, g in enumerate(groups):
        mine = group == g
        tg, eg = np.sort(time[mine]), np.sort(entry[mine])
        n[:, k] = (len(tg) - np.searchsorted(tg, times, side="left")) - (
            len(eg) - np.searchsorted(eg, times, side="left")
        )
        ev = time[mine & (event == 1)]
        d[:, k] = np.searchsorted(np.sort(ev), times, side="right") - np.searchsorted(
            np.sort(ev), times, side="left"
        )
    nt, dt_ = n.sum(axis=1), d.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = n / nt[:, None]
        factor = np.where(nt > 1, dt_ * (nt - dt_) / (nt - 1), 0.0)
    o_e = (d - share * dt_[:, None]).sum(axis=0)
    var = np.einsum("t,tj,tk->jk", factor, share, -share) + np.diag(
        (factor[:, None] * share).sum(0)
    )
    u, v = o_e[:-1], var[:-1, :-1]
    stat = float(u @ np.linalg.pinv(v) @ u)
    df = len(groups) - 1
    return {
        "groups": groups,
        "chi2": stat,
        "df": int(df),
        "p": float(chi2_dist.sf(stat, df)),
    }


def _jackknife_var(
    t: np.ndarray,
    e: np.ndarray,
    w: np.ndarray,
    times: np.ndarray,
    n: np.ndarray,
    d: np.ndarray,
    entry: np.ndarray | None = None,
) -> np.ndarray:
    """The infinitesimal-jackknife variance of log S at each event time, as R's ``survfit``
    gives it for non-integer case weights (``robust = TRUE``, its default then), with delayed
    entry (``entry``: client i at risk over (entry_i, t_i]).

    With h = d/n, g = 1/(n (1 - h)) and C the running sum of h g, client i moves log S(t_j)
    by C(min(j, k_i)) - C(a_i) - e_i g(k_i) [k_i <= j] once j > a_i, and not at all before:
    k_i is the last event time up to their own time, a_i the last up to their entry (the
    event times at which they were not yet at risk). The variance is the sum of (w_i times
    that)^2. Split by where j falls: those with k_i <= j add a constant (a running sum);
    those with a_i < j < k_i add w_i^2 (C(j) - C(a_i))^2, expanded in powers of C(j), whose
    coefficients are running sums: no loop over clients.
    """
    # where everyone left at risk has the event (h = 1), S is 0 and has no CI: inf - inf
    with np.errstate(divide="ignore", invalid="ignore"):
        m = len(times)
        h = d / n
        g = 1 / (n * (1 - h))
        c = np.cumsum(h * g)
        k = np.searchsorted(times, t, side="right") - 1
        a = (
            np.full(len(t), -1)
            if entry is None
            else np.searchsorted(times, np.asarray(entry, float), side="right") - 1
        )
        c_at = np.concatenate([[0.0], c])  # C(j) at j + 1; C(-1) = 0
        ca = c_at[a + 1]
        done = k > a  # at risk at some event time
        q = np.zeros(len(t))
        q[done] = (w[done] * (c[k[done]] - ca[done] - e[done] * g[k[done]])) ** 2
        upto = np.cumsum(np.bincount(k[done], weights=q[done], minlength=m))
        # still at risk at j: a_i < j < k_i, the range [a_i + 1, k_i - 1]; differences
        # added at a_i + 1 and taken off at k_i (everyone ever seen beyond the last time: m)
        lo, hi = a[done] + 1, np.where(k[done] >= 0, k[done], m)
        w2 = w[done] ** 2
        sums = []
        for weight in (w2, w2 * ca[done], w2 * ca[done] ** 2):
            diff = np.bincount(lo, weights=weight, minlength=m + 1)
            diff -= np.bincount(hi, weights=weight, minlength=m + 1)
            sums.append(np.cumsum(diff)[:m])
        return upto + c**2 * sums[0] - 2 * c * sums[1] + sums[2]


def aalen_johansen(
    time: np.ndarray,
    kind: np.ndarray,
    entry: np.ndarray,
    times: tuple[int, ...] | list[int],
    level: float = 0.95,
) -> pd.DataFrame:
    """Cumulative incidence of new proceedings with death as a competing risk (Aalen-Johansen),
    with delayed entry, at each of ``times`` (days).

    ``kind``: 1 new proceedings, 2 died, 0 censored. With S the all-cause Kaplan-Meier and
    h1 = d1/n the hazard of new proceedings at each event time, F1(t) = sum S(s-) h1(s) over
    s <= t. Its standard error is the infinitesimal jackknife R's ``survfit`` gives for
    multi-state data (the derivative of F1 with respect to each client's case weight), and
    the CI R's ``log`` transform, so that the figures match
    ``survfit(Surv(entry, time, state) ~ 1, id = client_id)`` (tests/fixtures/survival/entry).
    The Kaplan-Meier's 1 - S overstates this where deaths are many: a parent who died can have
    no new proceedings."""
    from scipy.stats import norm

    time, kind, entry = (np.asarray(a, float) for a in (time, kind, entry))
    s_times = np.unique(time[kind > 0])
    n = np.array([((entry < s) & (time >= s)).sum() for s in s_times], float)
    d1 = np.array([((time == s) & (kind == 1)).sum() for s in s_times], float)
    d = np.array([((time == s) & (kind > 0)).sum() for s in s_times], float)
    h1, h = d1 / n, d / n
    surv = np.cumprod(1 - h)
    before = np.concatenate([[1.0], surv[:-1]])  # S(s-)
    cif = np.cumsum(before * h1)
    k_at = np.searchsorted(s_times, np.asarray(times, float), side="right") - 1
    var = np.zeros(len(k_at))
    with np.errstate(divide="ignore", invalid="ignore"):
        a_den = np.where(h < 1, n * (1 - h), np.inf)
        for lo in range(0, len(time), 2000):  # clients in chunks: a dense clients x times grid
            t, e, c = time[lo : lo + 2000, None], entry[lo : lo + 2000, None], kind[lo : lo + 2000]
            y = (e < s_times) & (t >= s_times)
            hit = t == s_times
            dn = hit & (c[:, None] > 0)
            dn1 = hit & (c[:, None] == 1)
            ds = -surv * np.cumsum((dn - y * h) / a_den, axis=1)  # dS(s) per client
            ds_before = np.hstack([np.zeros((len(t), 1)), ds[:, :-1]])
            dcif = np.cumsum(ds_before * h1 + before * (dn1 - y * h1) / n, axis=1)
            seen = k_at >= 0
            var[seen] += (dcif[:, k_at[seen]] ** 2).sum(axis=0)
    z = norm.ppf(1 - (1 - level) / 2)
    rows = []
    for t, k, v in zip(times, k_at, var, strict=True):
        p = float(cif[k]) if k >= 0 else 0.0
        se = float(np.sqrt(v))
        lo, hi = (p * np.exp(-z * se / p), min(1.0, p * np.exp(z * se / p))) if p > 0 else (0, 0)
        dead = float(np.cumsum(before * (h - h1))[k]) if k >= 0 else 0.0
        if t > time.max():  # beyond follow-up: not estimated (never extended)
            p = se = lo = hi = dead = math.nan
        rows.append(
            {
                "days": int(t),
                "incidence": p,
                "se": se,
                "ci_low": lo,
                "ci_high": hi,
                "died": dead,
                "at_risk": int(((entry < t) & (time >= t)).sum()),
                "events": int(((time <= t) & (kind == 1)).sum()),
                "deaths": int(((time <= t) & (kind == 2)).sum()),
                "entered": int((entry < t).sum()),  # 0: not estimated (as_read)
            }
        )
    return pd.DataFrame(rows)

"""The Cox model (lifelines, Efron ties) and its proportional-hazards test, R's ``cox.zph`` as
survival 3.x computes it (``cox_zph``). Checked against R's ``coxph`` and ``cox.zph``
(tests/fixtures/survival/survival.R, tests/fixtures/zph/zph.R)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from evaltool.errors import AnalysisError

MIN_EVENTS_PER_COVARIATE = 10


def covariate_frame(table: pd.DataFrame, covariates: tuple[str, ...]) -> pd.DataFrame:
    """Numeric design columns: cohort -> service = 1, yes/no -> 1/0, numbers as they are."""
    out = pd.DataFrame(index=table.index)
    for name in covariates:
        if name == "cohort":
            out["cohort"] = table["cohort_service"].astype(float)
            continue
        if name not in table:
            raise AnalysisError(
                f"covariate '{name}' is not a column of clients; use a numeric "
                "or yes/no column, or cohort"
            )
        col = table[name]
        if pd.api.types.is_bool_dtype(col) or str(col.dtype) == "boolean":
            out[name] = col.astype("Float64").astype(float)
        else:
            values = pd.to_numeric(col, errors="coerce")
            if values.notna().sum() == 0 or (col.notna() & values.isna()).any():
                raise AnalysisError(f"covariate '{name}' is not numeric or yes/no")
            out[name] = values.astype(float)
    return out


def schoenfeld_residuals(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    entry: np.ndarray | None = None,
) -> np.ndarray:
    """Schoenfeld residuals with Efron's tie correction, one row per event in time order.

    For an event at a time with d events: x minus the mean over l = 0..d-1 of the Efron
    risk-set means (S1 - l/d D1) / (S0 - l/d D0), where S sums over those still at risk and
    D over the events then. lifelines computes the same in a Python loop over every row;
    here it is cumulative sums and bincounts. ``entry``: delayed entry, a client in the risk
    sets only over (entry, time]; those entering at or after t are taken out of its sums.
    """
    order = np.argsort(time, kind="stable")
    t, e, x = time[order], event[order], x[order]
    w = np.exp((x - x.mean(axis=0)) @ beta)  # centring cancels in every ratio below
    wx = w[:, None] * x
    times, first, group = np.unique(t, return_index=True, return_inverse=True)
    s0 = np.cumsum(w[::-1])[::-1][first]  # risk set: everyone with time >= t
    s1 = np.cumsum(wx[::-1], axis=0)[::-1][first]
    if entry is not None and np.asarray(entry).any():
        late = np.asarray(entry, float)[order]
        by = np.argsort(late, kind="stable")
        at = np.searchsorted(late[by], times, side="left")  # first to enter at or after t
        s0 = s0 - np.concatenate([np.cumsum(w[by][::-1])[::-1], [0.0]])[at]
        tail = np.cumsum(wx[by][::-1], axis=0)[::-1]
        s1 = s1 - np.vstack([tail, np.zeros((1, x.shape[1]))])[at]
    d = np.bincount(group, weights=e, minlength=len(times))
    d0 = np.bincount(group, weights=w * e, minlength=len(times))
    d1 = np.column_stack(
        [np.bincount(group, weights=wx[:, k] * e, minlength=len(times)) for k in range(x.shape[1])]
    )
    at = np.flatnonzero(d > 0)
    per = d[at].astype(int)
    j = np.repeat(at, per)  # one row per (event time, l)
    phi = (np.arange(len(j)) - np.repeat(np.cumsum(per) - per, per)) / d[j]
    share = (s1[j] - phi[:, None] * d1[j]) / ((s0[j] - phi * d0[j]) * d[j])[:, None]
    mean = np.zeros_like(s1)
    np.add.at(mean, j, share)
    return x[e] - mean[group[e]]


def cox_zph(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    names: list[str] | tuple[str, ...],
    entry: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """The proportional-hazards test of a Cox model (Efron ties) at coefficients ``beta``, as
    R's ``cox.zph(fit)`` in survival 3.x: for each covariate, and all together (``GLOBAL``),
    the score test of adding x * g(t) to the model, g the Kaplan-Meier transform of time
    (1 - S(t-), the left-continuous Kaplan-Meier of everyone, unweighted, centred on its mean
    over the events).

    The test uses the full 2p x 2p information of (x, x * g(t)) and the score of the x * g(t)
    terms at (beta, 0), summed over the events as R's C routine ``zph1`` (``zph2`` with
    ``entry``: at risk on (entry, time], R's ``Surv(entry, time, event)``) does. It replaces
    lifelines' ``proportional_hazard_test``, which is the pre-3.0 approximation (the
    information taken as constant over time; chi-square off by up to 1.7 against R 3.x).
    ``weights``: case weights, as ``coxph(..., weights = w)``.
    """
    from scipy.stats import chi2

    time = np.asarray(time, float)
    event = np.asarray(event, bool)
    x = np.atleast_2d(np.asarray(x, float).T).T
    n, p = x.shape
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    start = np.full(n, -np.inf) if entry is None else np.asarray(entry, float)
    x = x - x.mean(axis=0)  # as zph1 recentres (it cancels; less rounding)
    eta = x @ np.asarray(beta, float)
    r = w * np.exp(eta - eta.mean())
    times, group = np.unique(time[event], return_inverse=True)
    # at risk at t: time >= t and entry < t (suffix sums over each, sorted)
    by_stop, by_start = np.argsort(time, kind="stable"), np.argsort(start, kind="stable")
    at_stop = np.searchsorted(time[by_stop], times, side="left")
    at_start = np.searchsorted(start[by_start], times, side="left")

    def at_risk(values: np.ndarray) -> np.ndarray:
        """Sums of ``values`` (rows: people) over each event time's risk set."""
        zero = np.zeros((1, *values.shape[1:]))
        stop = np.concatenate([np.cumsum(values[by_stop][::-1], axis=0)[::-1], zero])
        begun = np.concatenate([np.cumsum(values[by_start][::-1], axis=0)[::-1], zero])
        return stop[at_stop] - begun[at_start]

    xx = x[:, :, None] * x[:, None, :]
    s0, s1, s2 = at_risk(r), at_risk(r[:, None] * x), at_risk(r[:, None, None] * xx)
    k = len(times)
    dead = np.flatnonzero(event)

    in_order = np.argsort(group, kind="stable")
    firsts = np.searchsorted(group[in_order], np.arange(k))  # every time has an event

    def by_time(values: np.ndarray) -> np.ndarray:
        """Sums of ``values`` (rows: the events) at each event time."""
        return np.add.reduceat(values[in_order], firsts, axis=0)

    d = by_time(np.ones(len(dead)))
    d0, d1 = by_time(r[dead]), by_time(r[dead, None] * x[dead])
    d2 = by_time(r[dead, None, None] * xx[dead])
    wave = by_time(w[dead]) / d
    # the time transform: the Kaplan-Meier of everyone (unweighted) just before each time
    n_risk = at_risk(np.ones(n))
    surv = np.cumprod(1 - d / n_risk)
    g = 1 - np.concatenate([[1.0], surv[:-1]])
    g = g - g[group].mean()
    # Efron: one term per event, the tied deaths in by (d - 1 - l) / d, l = 0 .. d - 1
    per = d.astype(int)
    j = np.repeat(np.arange(k), per)
    f = (np.arange(len(j)) - np.repeat(np.cumsum(per) - per, per)) / d[j]
    den = s0[j] - f * d0[j]
    mean = (s1[j] - f[:, None] * d1[j]) / den[:, None]
    v = (s2[j] - f[:, None, None] * d2[j]) / den[:, None, None] - mean[:, :, None] * mean[
        :, None, :
    ]
    v = wave[j, None, None] * v
    gj = g[j]
    info = np.zeros((2 * p, 2 * p))
    info[:p, :p] = v.sum(axis=0)
    info[:p, p:] = info[p:, :p] = np.einsum("t,tab->ab", gj, v)
    info[p:, p:] = np.einsum("t,tab->ab", gj**2, v)
    u = np.zeros(2 * p)
    u[p:] = (w[dead] * g[group]) @ x[dead] - (gj * wave[j]) @ mean

    def test(kk: list[int]) -> float:
        """u' I^-1 u over the terms ``kk``; NaN where the information is singular (too few
        events at different times: R's solve() stops there)."""
        try:
            return float(u[kk] @ np.linalg.solve(info[np.ix_(kk, kk)], u[kk]))
        except np.linalg.LinAlgError:
            return float("nan")

    rows = [(names[col], test([*range(p), p + col]), 1) for col in range(p)]
    rows.append(("GLOBAL", test(list(range(2 * p))), p))
    out = pd.DataFrame(rows, columns=["covariate", "chi2", "df"])
    out["p"] = chi2.sf(out["chi2"], out["df"])
    return out


def cox_model(
    table: pd.DataFrame, covariates: tuple[str, ...], notes: list[str]
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame, Any]:
    """Hazard ratios, fit figures and the proportional-hazards test (``cox_zph``: per
    covariate and GLOBAL) of a Cox model (Efron ties), and lifelines' fitted model."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    design = covariate_frame(table, covariates)
    # delayed entry: each client at risk over (entry, time], as R's Surv(entry, time, event)
    entry = table["entry"] if "entry" in table else pd.Series(0.0, index=table.index)
    data = design.assign(time=table["time"], event=table["event"], entry=entry)
    complete = data.dropna()
    dropped = len(data) - len(complete)
    if dropped:
        notes.append(f"Cox model: {dropped} client(s) with a missing covariate left out")
    for name in design.columns:
        if complete[name].nunique() < 2:
            raise AnalysisError(
                f"covariate '{name}' has only one value among the clients "
                "analysed: the Cox model cannot be fitted; leave it out"
            )
    events = int(complete["event"].sum())
    if events < MIN_EVENTS_PER_COVARIATE * len(design.columns):
        notes.append(
            f"Cox model: {events} events for {len(design.columns)} covariate(s), "
            f"under {MIN_EVENTS_PER_COVARIATE} per covariate: estimates are unstable"
        )
    cph = CoxPHFitter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # lifelines' default precision (1e-7) stops a little short of R's optimum on
            # heavily tied data, and 1e-10 still 1e-5 short on a flat likelihood (11 events,
            # 4 covariates); 1e-13 reaches coxph's optimum (a Newton step or two more)
            # batch_mode: lifelines' vectorised Efron sums (its default here loops per time)
            cph.fit(
                complete,
                duration_col="time",
                event_col="event",
                entry_col="entry",
                fit_options={"precision": 1e-13, "max_steps": 200},
                batch_mode=True,
            )
    except (ConvergenceError, np.linalg.LinAlgError, ValueError) as exc:
        raise AnalysisError(
            f"the Cox model could not be fitted ({str(exc).splitlines()[0]}); try fewer covariates"
        ) from None
    s = cph.summary
    # a group with no new proceedings (or all of them) has no finite hazard ratio: the fit
    # runs off towards infinity (a coefficient of 20, a standard error of 45,000 on a
    # 25-client service with none in its comparison cohort), as R's coxph warns
    # "coefficient may be infinite"; such a model is not reported
    runaway = ~np.isfinite(s["se(coef)"]) | (s["se(coef)"] > 20) | (s["coef"].abs() > 15)
    if runaway.any():
        names = ", ".join(f"'{c}'" for c in s.index[runaway.to_numpy()])
        raise AnalysisError(
            f"the Cox model could not be fitted: no finite estimate for {names} (a group with "
            "no new proceedings, or only new proceedings); it is not reported"
        )
    cox = pd.DataFrame(
        {
            "covariate": s.index,
            "coef": s["coef"].to_numpy(),
            "hr": s["exp(coef)"].to_numpy(),
            "hr_low": s["exp(coef) lower 95%"].to_numpy(),
            "hr_high": s["exp(coef) upper 95%"].to_numpy(),
            "se": s["se(coef)"].to_numpy(),
            "p": s["p"].to_numpy(),
        }
    )
    ph_table = cox_zph(
        complete["time"].to_numpy(float),
        complete["event"].to_numpy(bool),
        complete[list(design.columns)].to_numpy(float),
        cph.params_.to_numpy(),
        list(design.columns),
        entry=complete["entry"].to_numpy(float) if "entry" in complete else None,
    )
    if ph_table["chi2"].isna().any():
        notes.append(
            "Cox model: proportional hazards could not be tested (too few events at different "
            "times)"
        )
    if (ph_table["p"] < 0.05).any():
        bad = ", ".join(
            "the model as a whole (GLOBAL)" if c == "GLOBAL" else c
            for c in ph_table.loc[ph_table["p"] < 0.05, "covariate"]
        )
        notes.append(f"Cox model: proportional hazards doubtful for {bad} (cox.zph p < 0.05)")
    info = {
        "n": len(complete),
        "events": events,
        "ties": "efron",
        "log_likelihood": float(cph.log_likelihood_),
    }
    return cox, info, ph_table, cph

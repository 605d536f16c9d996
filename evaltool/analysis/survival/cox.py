"""The Cox model (lifelines, Efron ties) and its proportional-hazards check from our own
vectorised scaled Schoenfeld residuals. Checked against R's ``coxph`` and ``cox.zph``."""

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


def cox_model(
    table: pd.DataFrame, covariates: tuple[str, ...], notes: list[str]
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame, Any]:
    """Hazard ratios, fit figures and Schoenfeld tests of a Cox model (Efron ties), and
    lifelines' fitted model."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError
    from lifelines.statistics import proportional_hazard_test

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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resid = schoenfeld_residuals(
            complete["time"].to_numpy(float),
            complete["event"].to_numpy(bool),
            complete[list(design.columns)].to_numpy(float),
            cph.params_.to_numpy(),
            complete["entry"].to_numpy(float),
        )
        scaled = pd.DataFrame(
            events * resid @ cph.variance_matrix_.to_numpy(), columns=cph.params_.index
        )
        ph = proportional_hazard_test(
            cph, complete, time_transform="rank", precomputed_residuals=scaled
        )
    ph_table = pd.DataFrame(
        {
            "covariate": list(ph.summary.index),
            "chi2": ph.summary["test_statistic"].to_numpy(),
            "p": ph.summary["p"].to_numpy(),
        }
    )
    if (ph_table["p"] < 0.05).any():
        bad = ", ".join(ph_table.loc[ph_table["p"] < 0.05, "covariate"])
        notes.append(f"Cox model: proportional hazards doubtful for {bad} (Schoenfeld p < 0.05)")
    info = {
        "n": len(complete),
        "events": events,
        "ties": "efron",
        "log_likelihood": float(cph.log_likelihood_),
    }
    return cox, info, ph_table, cph

"""Rates per client-year of follow-up: new care proceedings or pregnancies, by cohort, with
Poisson and negative binomial models (statsmodels) of the count with the log of the years
followed as offset, adjusted for covariates and, with propensity weights, weighted.

Follow-up runs from the start date (comparison cohort: referral date) to the extract date, or
to the end date for a client who moved away; every event in it counts, not only the first.
Checked against R: ``glm(family = poisson)`` with ``offset(log(years))`` and ``MASS::glm.nb``
(tests/fixtures/comparison/rates.R), the robust standard errors against
``sandwich::vcovHC(type = "HC0")``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import PerfectSeparationError

from evaltool.analysis.evidence import CORE_BASELINE, e_value, with_e_value
from evaltool.analysis.survival.cox import covariate_frame
from evaltool.analysis.survival.table import LOST_REASONS, add_age
from evaltool.data.contract import cohort_of
from evaltool.errors import AnalysisError

DAYS_PER_YEAR = 365.25
#: each outcome: the table, its date column, and what is counted, in words
OUTCOMES = {
    "proceedings": ("proceedings", "issued_date", "new sets of care proceedings"),
    "pregnancies": ("pregnancies", "known_date", "pregnancies"),
}


def follow_up(
    clients: pd.DataFrame, events: pd.DataFrame | None, column: str, extract: Any
) -> pd.DataFrame:
    """One row per client with follow-up: cohort_service, years followed, events counted, and
    the covariates (clients' columns and age_at_origin)."""
    end_day = pd.Timestamp(extract)
    c = clients.copy()
    cohort = cohort_of(c)
    start = c["start_date"] if "start_date" in c else pd.Series(pd.NaT, index=c.index)
    c["origin"] = start.where(cohort == "service", c["referral_date"])
    moved = pd.Series(False, index=c.index)
    if "closure_reason" in c and "end_date" in c:
        moved = c["closure_reason"].isin(LOST_REASONS) & c["end_date"].notna()
    c["end"] = c["end_date"].where(moved, end_day) if "end_date" in c else end_day
    c["end"] = pd.to_datetime(c["end"]).clip(upper=end_day)
    c["years"] = (c["end"] - c["origin"]).dt.days / DAYS_PER_YEAR
    c = c[c["origin"].notna() & (c["years"] > 0)].copy()
    c["cohort"] = cohort_of(c)
    c["cohort_service"] = (c["cohort"] == "service").astype(int)
    if events is not None and len(events):
        e = events[["client_id", column]].merge(c[["client_id", "origin", "end"]], on="client_id")
        e = e[(e[column] > e["origin"]) & (e[column] <= e["end"])]
        counts = e.groupby("client_id").size()
    else:
        counts = pd.Series(dtype=int)
    c["events"] = c["client_id"].map(counts).fillna(0).astype(int)
    add_age(c)
    return c.reset_index(drop=True)


def _weighted_nb_loglik(theta: float, y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    from scipy.special import gammaln

    return float(
        np.sum(
            w
            * (
                gammaln(theta + y)
                - gammaln(theta)
                - gammaln(y + 1)
                + theta * np.log(theta)
                + y * np.log(mu)
                - (theta + y) * np.log(theta + mu)
            )
        )
    )


@dataclass
class RateModels:
    """Poisson and negative binomial models of the count of events, offset by the log of the
    years followed; ``covariates`` besides the cohort; ``weights`` (e.g. propensity weights)
    as R's prior weights, with robust (HC0) standard errors beside the model's."""

    covariates: tuple[str, ...] = ()
    tol: float = 1e-10

    def fit(self, frame: pd.DataFrame, weights: np.ndarray | None = None) -> RateModels:
        """Fit both models; a model the data cannot support is an AnalysisError in words."""
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                return self._fit(frame, weights)
        except (ValueError, np.linalg.LinAlgError, PerfectSeparationError) as exc:
            raise AnalysisError(
                f"the rate models cannot be fitted on these clients ({exc}); with few "
                "clients or events, report the crude rates only"
            ) from None

    def _fit(self, frame: pd.DataFrame, weights: np.ndarray | None) -> RateModels:
        import statsmodels.api as sm
        from scipy.optimize import minimize_scalar

        if frame["cohort_service"].nunique() < 2:
            raise AnalysisError("rates by cohort need both cohorts: add a comparison cohort")
        x = covariate_frame(frame, ("cohort", *self.covariates))
        keep = x.notna().all(axis=1).to_numpy()
        self.dropped_ = int((~keep).sum())
        x = x[keep].reset_index(drop=True)
        data = frame[keep].reset_index(drop=True)
        w = np.ones(len(data)) if weights is None else np.asarray(weights, float)[keep]
        y = data["events"].to_numpy(float)
        if y.sum() == 0 or (data["cohort_service"].value_counts() < 2).any():
            raise AnalysisError(
                "too little to model: no events in the follow-up, or a cohort of fewer than "
                "two clients"
            )
        offset = np.log(data["years"].to_numpy(float))
        design = sm.add_constant(x, has_constant="add").rename(columns={"const": "(Intercept)"})
        self.crude_ = self._crude(data, w)

        poisson = sm.GLM(y, design, family=sm.families.Poisson(), offset=offset, var_weights=w)
        weighted = not np.allclose(w, 1)
        self.poisson_ = self._rows(poisson, design, weighted)
        # negative binomial: theta by maximum likelihood, alternating with the fit at that
        # theta until the likelihood settles, as MASS::glm.nb does
        mu = poisson.fit().fittedvalues
        theta, last = 1.0, -np.inf
        for _ in range(100):
            found = minimize_scalar(
                lambda lt, mu=mu: -_weighted_nb_loglik(math.exp(lt), y, mu, w),
                bounds=(-12, 12),
                method="bounded",
                options={"xatol": 1e-12},
            )
            theta = math.exp(found.x)
            nb = sm.GLM(
                y,
                design,
                family=sm.families.NegativeBinomial(alpha=1 / theta),
                offset=offset,
                var_weights=w,
            )
            mu = nb.fit(tol=1e-12).fittedvalues
            ll = _weighted_nb_loglik(theta, y, mu, w)
            if abs(ll - last) < self.tol:
                break
            last = ll
        self.theta_ = theta
        self.negbin_ = self._rows(nb, design, weighted)
        self.n_ = len(data)
        return self

    @staticmethod
    def _rows(model: Any, design: pd.DataFrame, weighted: bool) -> pd.DataFrame:
        """Coefficients with the model's and the robust standard error; the rate ratio's CI
        and p from the robust one where weighted (weights make the model's too small)."""
        from scipy.stats import norm

        fitted = model.fit(tol=1e-12)
        z = norm.ppf(0.975)
        coef, se = fitted.params.to_numpy(), fitted.bse.to_numpy()
        # R's sandwich::vcovHC(type = "HC0") for a glm: the bread is the expected information
        # (X'WX)^-1 of the final iteration, the meat the outer product of the working
        # residuals times the working weights (statsmodels' own HC0 takes the observed
        # information, which differs for the negative binomial's non-canonical log link)
        x, y, w = design.to_numpy(float), model.endog, model.var_weights
        mu = fitted.fittedvalues.to_numpy()
        var = model.family.variance(mu)
        bread = np.linalg.inv((x * (w * mu**2 / var)[:, None]).T @ x)
        scores = x * (w * (y - mu) * mu / var)[:, None]
        robust = np.sqrt(np.diag(bread @ (scores.T @ scores) @ bread))
        use = robust if weighted else se
        return pd.DataFrame(
            {
                "term": design.columns,
                "coef": coef,
                "se": se,
                "robust_se": robust,
                "rate_ratio": np.exp(coef),
                "ci_low": np.exp(coef - z * use),
                "ci_high": np.exp(coef + z * use),
                "p": 2 * norm.sf(np.abs(coef / use)),
            }
        )

    @staticmethod
    def _crude(data: pd.DataFrame, w: np.ndarray) -> pd.DataFrame:
        rows = []
        for group, flag in (("service", 1), ("comparison", 0)):
            m = (data["cohort_service"] == flag).to_numpy()
            events, years = int(data["events"][m].sum()), float(data["years"][m].sum())
            rows.append(
                {
                    "group": group,
                    "clients": int(m.sum()),
                    "events": events,
                    "client_years": years,
                    "rate_per_100": 100 * events / years if years else math.nan,
                    "weighted_rate_per_100": 100
                    * float(np.sum(w[m] * data["events"][m]))
                    / float(np.sum(w[m] * data["years"][m])),
                }
            )
        return pd.DataFrame(rows)


def rate_evidence(found: dict, models: RateModels) -> dict:
    """The evidence of an adjusted rate ratio with the E-value of the negative binomial
    model's (the one that allows for parents with many events), read as a risk ratio."""
    if found["design"] != "adjusted" and "reasons" not in found:
        return found  # unadjusted: no E-value
    c = models.negbin_[models.negbin_["term"] == "cohort"].iloc[0]
    e = e_value("rr", float(c["rate_ratio"]), float(c["ci_low"]), float(c["ci_high"]))
    return with_e_value(found, e)


@dataclass
class Rates:
    """Rates of an outcome by cohort and their models, optionally with propensity weights
    (``analysis.comparison.Propensity``) on the same clients."""

    outcome: str = "proceedings"
    covariates: tuple[str, ...] = ()
    propensity: Any = None
    models_: RateModels = field(default=None, init=False, repr=False)  # type: ignore[assignment]

    def fit(self, tables: dict[str, pd.DataFrame], extract: Any) -> Rates:
        from evaltool.analysis.comparison import adjusted_evidence

        if self.outcome not in OUTCOMES:
            raise AnalysisError(f"--outcome {self.outcome}: use {' or '.join(OUTCOMES)}")
        table, column, words = OUTCOMES[self.outcome]
        if table not in tables:
            raise AnalysisError(f"no '{table}' table: rates of {words} need one")
        self.frame_ = follow_up(tables["clients"], tables[table], column, extract)
        weights = None
        frame = self.frame_
        self.balance_ = None
        if self.propensity is not None:
            from evaltool.analysis.comparison import balance

            ps = self.propensity.fit(frame)
            frame, weights = ps.data_, ps.weights_
            self.balance_ = balance(frame, ps.covariates, weights)
        self.models_ = RateModels(self.covariates).fit(frame, weights)
        self.evidence_ = rate_evidence(
            adjusted_evidence(
                self.balance_,
                self.covariates,
                self.propensity.required if self.propensity is not None else CORE_BASELINE,
            ),
            self.models_,
        )
        self.words = words
        return self

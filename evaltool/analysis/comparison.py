"""Comparison designs between the service cohort and the comparison cohort: propensity scores
(statsmodels), inverse-probability weights or nearest-neighbour matching, the balance they
achieve, and a Cox model with case weights and R's robust (sandwich) variance.

    ps = Propensity(("age_at_origin", "prior_children_removed"), weights="ate").fit(table)
    ps.coefficients_     # term, coef, se, z, p: R's glm(family = binomial)
    ps.weights_          # one per row of the table used
    balance(ps.data_, ps.covariates, ps.weights_)   # SMD before and after, variance ratio

``table`` is a survival table (``analysis.survival.table``): ``cohort_service`` is 1 for the
service cohort. Checked against R (tests/fixtures/comparison/comparison.R).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import PerfectSeparationError

from evaltool.analysis.evidence import (
    CORE_BASELINE,
    SMD_LIMIT,
    e_value,
    earned,
    power_statement,
    refusal_message,
    with_e_value,
)
from evaltool.analysis.survival.cox import covariate_frame
from evaltool.analysis.survival.km import NOT_YET
from evaltool.errors import AnalysisError

ESTIMANDS = ("ate", "att")
#: fewer clients than this in a cohort: no propensity model (it would separate them perfectly)
MIN_PER_COHORT = 10


def is_date(column: pd.Series) -> bool:
    """Whether a column holds dates (never a baseline covariate)."""
    return pd.api.types.is_datetime64_any_dtype(column)


@dataclass
class Propensity:
    """A logistic model of being in the service cohort, and the weights or matches it gives.

    ``weights``: ``att`` (1 and p/(1-p): the effect on the service's clients, the default
    everywhere: the question a funder asks is what the service did for those it served) or
    ``ate`` (1/p and 1/(1-p): the average effect on everyone). ``trim`` (e.g. 0.01) bounds the
    scores to [trim, 1 - trim] before weighting; ``stabilise`` multiplies the ate weights by
    the share in each group. ``match``: nearest neighbour on the logit of the score, within
    ``caliper`` standard deviations of it, each service client to one comparison client
    (``replace``: a comparison client may be used again; its weight counts its uses).
    """

    covariates: tuple[str, ...]
    weights: str = "att"
    trim: float | None = None
    stabilise: bool = False
    match: bool = False
    caliper: float = 0.2
    replace: bool = False
    #: the baseline characteristics a level 2 comparison needs in the model (evidence.earned)
    required: tuple[str, ...] = CORE_BASELINE

    data_: pd.DataFrame = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    coefficients_: pd.DataFrame = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    score_: np.ndarray = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    weights_: np.ndarray = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    dropped_: int = field(default=0, init=False)  # rows with a covariate missing
    unmatched_: int = field(default=0, init=False)  # service clients with no match
    #: matching without replacement: each row's pair (numbered from 0; -1 unmatched)
    pairs_: np.ndarray | None = field(default=None, init=False, repr=False)

    def fit(self, table: pd.DataFrame) -> Propensity:
        import statsmodels.api as sm

        if self.weights not in ESTIMANDS:
            raise AnalysisError(f"--weights {self.weights}: use ate or att")
        if not self.covariates:
            raise AnalysisError(
                "name the covariates of the propensity model, e.g. --propensity "
                "age_at_origin,prior_children_removed"
            )
        refused = refusal_message(self.covariates, "the propensity model's covariates")
        dated = [c for c in self.covariates if c in table and is_date(table[c])]
        if dated:
            refused += (" " if refused else "") + (
                f"{', '.join(dated)}: a date is not a characteristic of the parent, and dates "
                "after entry describe what happened next; use baseline characteristics"
            )
        if refused:
            raise AnalysisError(refused)
        if table["cohort_service"].nunique() < 2:
            raise AnalysisError(
                "a propensity model needs both cohorts: add clients with cohort = comparison"
            )
        sizes = table["cohort_service"].value_counts()
        if sizes.min() < MIN_PER_COHORT:
            raise AnalysisError(
                f"too few parents for a propensity model: {int(sizes.get(1, 0))} in the "
                f"service cohort and {int(sizes.get(0, 0))} in the comparison cohort; it "
                f"needs at least {MIN_PER_COHORT} in each"
            )
        x = covariate_frame(table, self.covariates)
        keep = x.notna().all(axis=1).to_numpy()
        self.dropped_ = int((~keep).sum())
        self.data_ = table[keep].reset_index(drop=True)
        x = x[keep].reset_index(drop=True)
        treat = self.data_["cohort_service"].to_numpy(float)
        design = sm.add_constant(x, has_constant="add").rename(columns={"const": "(Intercept)"})
        model = sm.GLM(treat, design, family=sm.families.Binomial())
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # separation is judged below, in words
                fitted = model.fit()
        except (ValueError, np.linalg.LinAlgError, PerfectSeparationError) as exc:
            raise AnalysisError(f"the propensity model cannot be fitted ({exc})") from None
        p = fitted.fittedvalues.to_numpy()
        if self.trim is None and (p.min() < 1e-6 or p.max() > 1 - 1e-6):
            raise AnalysisError(
                "the covariates tell the cohorts apart almost perfectly: some parents have "
                "no like in the other cohort, so the cohorts cannot be compared by weighting "
                "(use fewer covariates, or --trim 0.01 to bound the scores)"
            )
        self.coefficients_ = pd.DataFrame(
            {
                "term": design.columns,
                "coef": fitted.params.to_numpy(),
                "se": fitted.bse.to_numpy(),
                "z": fitted.tvalues.to_numpy(),
                "p": fitted.pvalues.to_numpy(),
            }
        )
        if self.trim is not None:
            p = np.clip(p, self.trim, 1 - self.trim)
        self.score_ = p
        if self.match:
            self.weights_ = self._matched(treat, p)
        elif self.weights == "ate":
            w = np.where(treat == 1, 1 / p, 1 / (1 - p))
            if self.stabilise:
                w = w * np.where(treat == 1, treat.mean(), 1 - treat.mean())
            self.weights_ = w
        else:
            self.weights_ = np.where(treat == 1, 1.0, p / (1 - p))
        return self

    def _matched(self, treat: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Greedy nearest-neighbour matching on the logit, service clients in order of
        their score (highest first, as R's MatchIt does by default)."""
        logit = np.log(p / (1 - p))
        limit = self.caliper * logit.std(ddof=1)
        weights = np.zeros(len(p))
        pairs = np.full(len(p), -1)
        free = np.flatnonzero(treat == 0)
        unmatched = 0
        for i in np.flatnonzero(treat == 1)[np.argsort(-p[treat == 1], kind="stable")]:
            if not len(free):
                unmatched += 1
                continue
            gap = np.abs(logit[free] - logit[i])
            j = int(np.argmin(gap))
            if gap[j] > limit:
                unmatched += 1
                continue
            weights[i] = 1.0
            weights[free[j]] += 1.0
            pairs[i] = pairs[free[j]] = i
            if not self.replace:
                free = np.delete(free, j)
        self.unmatched_ = unmatched
        # with replacement a comparison client is in several pairs: no pair clusters
        self.pairs_ = None
        if not self.replace:
            self.pairs_ = np.full(len(p), -1)
            used = pairs >= 0
            self.pairs_[used] = np.unique(pairs[used], return_inverse=True)[1]
        return weights

    def clusters(self) -> np.ndarray:
        """The clusters of a robust standard error, one per row of ``data_``: the matched
        pair (matching without replacement: the pair's outcomes are not independent, as
        MatchIt's guidance has it), otherwise the client."""
        if self.pairs_ is not None:
            return self.pairs_
        return np.arange(len(self.data_))

    def describe(self) -> str:
        """The adjustment in words, for the return and the text output."""
        if self.match:
            how = (
                f"nearest-neighbour matching on the logit of the score within {self.caliper} "
                f"SD, {'with' if self.replace else 'without'} replacement"
            )
        else:
            target = "everyone (ATE)" if self.weights == "ate" else "the service's clients (ATT)"
            how = f"inverse-probability weights for the average effect on {target}"
            if self.stabilise:
                how += ", stabilised"
        if self.trim is not None:
            how += f"; scores trimmed to [{self.trim:g}, {1 - self.trim:g}]"
        return f"{how}; propensity model on {', '.join(self.covariates)}"


def _wvar(x: np.ndarray, w: np.ndarray) -> float:
    """A weighted variance with R's reliability correction (cobalt's col_w_var)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # one client, or all alike: NaN
        m = np.sum(w * x) / np.sum(w)
        return float(np.sum(w * (x - m) ** 2) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2)))


def balance(table: pd.DataFrame, covariates: tuple[str, ...], weights: np.ndarray) -> pd.DataFrame:
    """For each covariate: the standardised mean difference before and after weighting (the
    difference of group means over the square root of the mean of the two groups' unweighted
    variances), the variance ratio of the weighted groups, and whether |SMD| still exceeds
    0.1 after adjustment."""
    x = covariate_frame(table, covariates)
    t = table["cohort_service"].to_numpy() == 1
    rows = []
    for name in x.columns:
        v = x[name].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):  # a constant covariate: NaN
            sd = np.sqrt((v[t].var(ddof=1) + v[~t].var(ddof=1)) / 2)
            raw = (v[t].mean() - v[~t].mean()) / sd
            diff = np.average(v[t], weights=weights[t]) - np.average(v[~t], weights=weights[~t])
            wt = diff / sd
            ratio = _wvar(v[t], weights[t]) / _wvar(v[~t], weights[~t])
        rows.append(
            {
                "covariate": name,
                "smd_unweighted": float(raw),
                "smd_weighted": float(wt),
                "variance_ratio": float(ratio),
                "imbalanced": bool(not abs(wt) < SMD_LIMIT),  # NaN: not shown balanced
            }
        )
    return pd.DataFrame(rows)


def effective_sample_size(table: pd.DataFrame, weights: np.ndarray) -> dict[str, float]:
    """(sum of weights)^2 / sum of squared weights, for each cohort."""
    t = table["cohort_service"].to_numpy() == 1
    return {
        g: float(weights[m].sum() ** 2 / np.sum(weights[m] ** 2))
        for g, m in (("service", t), ("comparison", ~t))
    }


def score_overlap(table: pd.DataFrame, score: np.ndarray) -> pd.DataFrame:
    """How the scores of each cohort spread over tenths of 0 to 1: where one cohort has
    nobody, the other's clients there have no like to compare with."""
    bins = np.linspace(0, 1, 11)
    t = table["cohort_service"].to_numpy() == 1
    rows = []
    for lo, hi in zip(bins[:-1], bins[1:], strict=True):
        inside = (score >= lo) & ((score < hi) if hi < 1 else (score <= hi))
        rows.append(
            {
                "score_from": round(float(lo), 1),
                "score_to": round(float(hi), 1),
                "service": int((inside & t).sum()),
                "comparison": int((inside & ~t).sum()),
            }
        )
    return pd.DataFrame(rows)


def coarse_overlap(overlap: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The score table with neighbouring ranges merged until no cohort has 1 to
    ``threshold`` clients in any range (for a picture that goes outside the service): the
    fewest merges, each of the smallest range into its smaller neighbour."""
    rows = overlap.to_dict(orient="records")

    def small(r: dict) -> bool:
        return any(1 <= r[g] <= threshold for g in ("service", "comparison"))

    while len(rows) > 1 and any(small(r) for r in rows):
        i = min(
            (k for k, r in enumerate(rows) if small(r)),
            key=lambda k: rows[k]["service"] + rows[k]["comparison"],
        )
        nbrs = [k for k in (i - 1, i + 1) if 0 <= k < len(rows)]
        j = min(nbrs, key=lambda k: rows[k]["service"] + rows[k]["comparison"])
        a, b = sorted((i, j))
        rows[a] = {
            "score_from": rows[a]["score_from"],
            "score_to": rows[b]["score_to"],
            "service": rows[a]["service"] + rows[b]["service"],
            "comparison": rows[a]["comparison"] + rows[b]["comparison"],
        }
        del rows[b]
    if rows and small(rows[0]):  # one range left, still small: nothing can be shown
        return pd.DataFrame(columns=overlap.columns)
    return pd.DataFrame(rows)


@dataclass
class WeightedCox:
    """A Cox model with case weights and Efron ties, with the naive and R's robust variance
    (``coxph(..., weights = w, robust = TRUE)``: the sandwich of the weighted dfbeta
    residuals, each client their own cluster, or summed within ``cluster``, as
    ``coxph(..., cluster = pair)``). Rows of weight 0 must be left out by the caller: they
    would still count among the tied deaths of Efron's correction. ``entry``: delayed entry,
    each client in the risk sets only over (entry, time], as ``Surv(entry, time, event)``
    (tests/fixtures/survival/weighted_entry)."""

    tol: float = 1e-12
    max_iter: int = 50

    def fit(
        self,
        time: np.ndarray,
        event: np.ndarray,
        x: np.ndarray,
        w: np.ndarray,
        cluster: np.ndarray | None = None,
        entry: np.ndarray | None = None,
    ) -> WeightedCox:
        time, event = np.asarray(time, float), np.asarray(event, int)
        x, w = np.atleast_2d(np.asarray(x, float).T).T, np.asarray(w, float)
        # the risk sets: a client is at risk at t when entry < t <= time
        self._entry = np.full(len(time), -np.inf) if entry is None else np.asarray(entry, float)
        if (self._entry >= time).any():
            raise AnalysisError("every entry time must be before its exit time")
        beta = np.zeros(x.shape[1])
        loglik = self._pieces(time, event, x, w, beta)[0]
        if not event.any() or event.all():
            raise AnalysisError(
                "a Cox model needs some clients with new proceedings and some without"
            )
        for _ in range(self.max_iter):
            ll, score, info = self._pieces(time, event, x, w, beta)
            try:
                step = np.linalg.solve(info, score)
            except np.linalg.LinAlgError:
                raise AnalysisError(
                    "the weighted Cox model cannot be fitted: one cohort has no new "
                    "proceedings, or no client left at risk to compare"
                ) from None
            new = beta + step
            ll_new = self._pieces(time, event, x, w, new)[0]
            for _ in range(30):  # step halving, as coxph does, while the step loses
                if ll_new >= ll - 1e-12:
                    break
                step /= 2
                new = beta + step
                ll_new = self._pieces(time, event, x, w, new)[0]
            beta = new
            if abs(ll_new - ll) <= self.tol * max(abs(ll), 1):
                loglik = ll_new
                break
            loglik = ll_new
        _, _, info = self._pieces(time, event, x, w, beta)
        self.coef_ = beta
        try:
            self.var_ = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            raise AnalysisError("the weighted Cox model cannot be fitted") from None
        self.loglik_ = float(loglik)
        u = self._score_residuals(time, event, x, w, beta)
        dfbeta = (u * w[:, None]) @ self.var_
        if cluster is not None:
            _, group = np.unique(np.asarray(cluster), return_inverse=True)
            summed = np.zeros((group.max() + 1, dfbeta.shape[1]))
            np.add.at(summed, group, dfbeta)
            dfbeta = summed
        self.robust_var_ = dfbeta.T @ dfbeta
        self.se_ = np.sqrt(np.diag(self.var_))
        self.robust_se_ = np.sqrt(np.diag(self.robust_var_))
        return self

    def _risk_sets(self, time, event, x, w, r):
        """At each event time: who died, who was at risk (entered before it, still followed
        on it), and the weighted sums Efron's approximation needs (S0, S1 over the risk set;
        D0, D1 over the deaths; the deaths' mean weight)."""
        for t in np.unique(time[event == 1]):
            risk = (time >= t) & (self._entry < t)
            dead = risk & (time == t) & (event == 1)
            wr, wd = (w * r)[risk], (w * r)[dead]
            yield (
                risk,
                dead,
                int(dead.sum()),
                (wr.sum(), wr @ x[risk], (x[risk] * wr[:, None]).T @ x[risk]),
                (wd.sum(), wd @ x[dead], (x[dead] * wd[:, None]).T @ x[dead]),
                w[dead].sum() / dead.sum(),
            )

    def _pieces(self, time, event, x, w, beta):
        """Log partial likelihood, score and information (Efron, case weights)."""
        shift = (x @ beta).max()
        r = np.exp(x @ beta - shift)
        ll, p = 0.0, x.shape[1]
        score, info = np.zeros(p), np.zeros((p, p))
        for _, dead, d, (s0, s1, s2), (d0, d1, d2), meanw in self._risk_sets(time, event, x, w, r):
            ll += float(w[dead] @ (x[dead] @ beta))
            score += w[dead] @ x[dead]
            for k in range(d):
                f = k / d
                den = s0 - f * d0
                mean = (s1 - f * d1) / den
                ll -= meanw * (np.log(den) + shift)
                score -= meanw * mean
                info += meanw * ((s2 - f * d2) / den - np.outer(mean, mean))
        return ll, score, info

    def _score_residuals(self, time, event, x, w, beta):
        """Each client's score residual (unweighted, as R's residuals(type = "score"))."""
        r = np.exp(x @ beta - (x @ beta).max())
        u = np.zeros_like(x)
        for risk, dead, d, (s0, s1, _), (d0, d1, _), meanw in self._risk_sets(time, event, x, w, r):
            means = []
            for k in range(d):
                f = k / d
                den = s0 - f * d0
                mean = (s1 - f * d1) / den
                means.append(mean)
                # the hazard part: everyone at risk, the dying by (1 - k/d) of it
                share = np.where(dead, 1 - f, 1.0) * risk
                u -= (share * r * meanw / den)[:, None] * (x - mean)
            u[dead] += x[dead] - np.mean(means, axis=0)
        return u


def adjusted_evidence(
    balanced: pd.DataFrame | None,
    covariates: tuple[str, ...] = (),
    required: tuple[str, ...] = CORE_BASELINE,
) -> dict:
    """The evidence of a cohort comparison (``evidence.earned``): with propensity weights
    (``balanced``, their balance table) or a regression on ``covariates``; level 2 only with
    the ``required`` baseline set in the model and, with weights, balanced."""
    if balanced is not None:
        return earned(tuple(balanced["covariate"]), balanced, required)
    return earned(tuple(covariates), None, required)


#: the figures of ``WeightedSurvival.difference_`` left blank where a cohort had nobody yet
DIFFERENCE_FIGURES = ("difference_unweighted", "difference", "ci_low", "ci_high")

#: the time of the headline figure (the Summary's "within a year"): the E-value of the weighted
#: difference is given there (or at the reported time nearest to it)
HEADLINE_DAYS = 365


def entry_of(data: pd.DataFrame) -> np.ndarray:
    """Each client's entry (days from the origin to joining: at risk only after it), 0 where
    the table has none."""
    if "entry" in data:
        return data["entry"].to_numpy(float)
    return np.zeros(len(data))


@dataclass
class WeightedSurvival:
    """Time to next proceedings by cohort with propensity weights: Kaplan-Meier at the fixed
    times, the difference in cumulative incidence (service less comparison) with a bootstrap
    CI (clients resampled, the propensity model refitted each time; seeded), and a weighted
    Cox model of the cohort with R's robust standard error (matching without replacement:
    clustered by matched pair). After ``fit``, ``propensity`` is the model fitted here, the
    one every figure used (a copy: the fitter passed in is left as it was).

    Population: the rows of the survival table (``analysis.survival.table``) with every
    covariate known. Time: days from the origin. Entry: each parent is at risk only over
    (entry, time], the days after she joined (``[survival] entry``: the service start,
    comparison cohort the referral; or the referral for everyone), in the Kaplan-Meier, the
    Cox model and every bootstrap resample, as R's ``survfit(Surv(entry, time, event) ~ 1,
    weights = w)`` and ``coxph(Surv(entry, time, event) ~ cohort, weights = w, robust =
    TRUE)`` (tests/fixtures/survival/weighted_entry). The Kaplan-Meier's standard error is R's
    for non-integer weights: the infinitesimal jackknife (``km._jackknife_var``).

    ``evidence_`` also has ``difference_e_value``: the E-value of the weighted difference at
    ``HEADLINE_DAYS``, as the risk ratio of the two weighted cumulative incidences with its
    bootstrap CI (the same resamples).

    At a time before anyone in a cohort had joined, the difference is not estimated: its
    figures are blank and ``difference_``'s ``not_estimated`` says why (``km.NOT_YET``);
    ``survival_at_`` keeps R's S = 1 there, with ``entered`` 0 (``km.as_read``)."""

    propensity: Propensity
    times: tuple[int, ...] = (182, 365, 730, 1095)
    ci: str = "log"
    bootstrap: int = 1000
    seed: int = 20260401

    def fit(self, table: pd.DataFrame) -> WeightedSurvival:
        from scipy.stats import norm

        from evaltool.analysis.survival.km import KaplanMeier

        # a fitter of our own: a caller's fitter refitted elsewhere (the payment-by-results
        # outcome) would otherwise change the model this comparison reports
        ps = self.propensity = replace(self.propensity).fit(table)
        data, w = ps.data_, ps.weights_
        entry = entry_of(data)
        self.balance_ = balance(data, ps.covariates, w)
        self.effective_sample_size_ = effective_sample_size(data, w)
        self.overlap_ = score_overlap(data, ps.score_)
        rows = []
        for group, flag in (("service", 1), ("comparison", 0)):
            m = (data["cohort_service"] == flag).to_numpy() & (w > 0)
            km = KaplanMeier(self.ci).fit(
                data["time"].to_numpy()[m], data["event"].to_numpy()[m], w[m], entry[m]
            )
            at = km.at(self.times)
            at.insert(0, "group", group)
            rows.append(at)
        at = pd.concat(rows, ignore_index=True)
        at["cumulative_incidence"] = 1 - at["survival"]
        at["ci_incidence_low"] = 1 - at["ci_high"]
        at["ci_incidence_high"] = 1 - at["ci_low"]
        self.survival_at_ = at
        self.difference_ = self._difference(table, at)
        # before anyone in a cohort had joined there is nothing to compare: R's S = 1 there
        # would give a difference of 0 with CI [0, 0], read as measured (km.as_read)
        joined = at.pivot(index="days", columns="group", values="entered").min(axis=1)
        blank = (joined.reindex(list(self.times)) == 0).to_numpy(dtype=bool)
        self.difference_.loc[blank, list(DIFFERENCE_FIGURES)] = np.nan
        self.difference_["not_estimated"] = np.where(blank, NOT_YET, None)
        # weight 0 (an unmatched client): not in the model at all, as R's coxph on the
        # matched clients; matched pairs are the clusters of the robust variance
        used = w > 0
        cox = WeightedCox().fit(
            data["time"].to_numpy()[used],
            data["event"].to_numpy()[used],
            data["cohort_service"].to_numpy(float)[used],
            w[used],
            ps.clusters()[used],
            entry=entry[used],
        )
        z = norm.ppf(0.975)
        coef, se, rse = float(cox.coef_[0]), float(cox.se_[0]), float(cox.robust_se_[0])
        self.cox_ = pd.DataFrame(
            [
                {
                    "covariate": "cohort",
                    "coef": coef,
                    "se": se,
                    "robust_se": rse,
                    "hr": float(np.exp(coef)),
                    "hr_low": float(np.exp(coef - z * rse)),
                    "hr_high": float(np.exp(coef + z * rse)),
                    "z": coef / rse,
                    "p": float(2 * norm.sf(abs(coef / rse))),
                }
            ]
        )
        found = cox_evidence(
            adjusted_evidence(self.balance_, required=ps.required), self.cox_.iloc[0], data
        )
        e = self._ratio_e_value()
        self.evidence_ = {
            **found,
            "difference_e_value": e,
            "statement": f"{found['statement']} {e['statement']}",
        }
        return self

    def _incidences(self, data: pd.DataFrame, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The weighted cumulative incidence at each time, service and comparison, each
        client at risk over (entry, time]."""
        from evaltool.analysis.survival.km import KaplanMeier

        entry = entry_of(data)
        out = []
        for flag in (1, 0):
            m = (data["cohort_service"] == flag).to_numpy() & (w > 0)
            km = KaplanMeier(self.ci).fit(
                data["time"].to_numpy()[m], data["event"].to_numpy()[m], w[m], entry[m]
            )
            out.append(1 - km.at(self.times)["survival"].to_numpy())
        return out[0], out[1]

    def _incidence(self, data: pd.DataFrame, w: np.ndarray) -> np.ndarray:
        """Service less comparison cumulative incidence at each time."""
        service, comparison = self._incidences(data, w)
        return service - comparison

    def _difference(self, table: pd.DataFrame, at: pd.DataFrame) -> pd.DataFrame:
        service, comparison = self._incidences(self.propensity.data_, self.propensity.weights_)
        point = service - comparison
        rng = np.random.default_rng(self.seed)
        draws, ratios = [], []
        for _ in range(self.bootstrap):
            sample = table.iloc[rng.integers(0, len(table), len(table))].reset_index(drop=True)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    # a fresh fitter with the same settings (init fields only)
                    ps = replace(self.propensity).fit(sample)
                s, c = self._incidences(ps.data_, ps.weights_)
            except (AnalysisError, np.linalg.LinAlgError, ValueError):
                continue  # a resample the model cannot be fitted on: counted in resamples
            draws.append(s - c)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios.append(s / c)
        nothing = np.full((0, len(self.times)), np.nan)
        draws = np.array(draws) if draws else nothing
        ratios = np.array(ratios) if ratios else nothing
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lo = np.nanpercentile(draws, 2.5, axis=0) if len(draws) else np.full(len(point), np.nan)
            hi = (
                np.nanpercentile(draws, 97.5, axis=0) if len(draws) else np.full(len(point), np.nan)
            )
            finite = np.where(np.isfinite(ratios), ratios, np.nan)
            rr_lo, rr_hi = (
                (np.nanpercentile(finite, 2.5, axis=0), np.nanpercentile(finite, 97.5, axis=0))
                if len(ratios)
                else (np.full(len(point), np.nan),) * 2
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            self._ratios = (service / comparison, rr_lo, rr_hi)
        data = self.propensity.data_
        return pd.DataFrame(
            {
                "days": list(self.times),
                "difference_unweighted": self._incidence(data, np.ones(len(data))),
                "difference": point,
                "ci_low": lo,
                "ci_high": hi,
                "resamples": len(draws),
            }
        )

    def _ratio_e_value(self) -> dict:
        """The E-value of the weighted difference at the headline time (or the reported time
        nearest it), from the risk ratio of the weighted cumulative incidences (service over
        comparison) and its bootstrap percentile CI. Where a cohort has no new proceedings by
        then there is no ratio: no E-value, said in words."""
        k = int(np.argmin([abs(t - HEADLINE_DAYS) for t in self.times]))
        days = int(self.times[k])
        rr, lo, hi = (float(a[k]) for a in self._ratios)
        when = "a year" if days == 365 else f"{days} days"
        label = "one-year" if days == 365 else f"{days}-day"
        at = self.survival_at_[self.survival_at_["days"] == days]
        waiting = list(at.loc[at["entered"] == 0, "group"])
        if waiting:
            who = "either cohort" if len(waiting) == 2 else f"the {waiting[0]} cohort"
            return _no_e_value(
                days,
                f"No E-value for the {label} difference: nobody in {who} had "
                f"joined within {when}, so there is nothing to compare ({NOT_YET}).",
            )
        if not (np.isfinite(rr) and rr > 0):
            none = " or the ".join(at.loc[at["cumulative_incidence"] == 0, "group"]) or "a"
            return _no_e_value(
                days,
                f"No E-value for the {label} difference: nobody in the {none} "
                f"cohort had new proceedings within {when} while counted at risk, so the two "
                "cannot be compared as a ratio.",
            )
        e = e_value("rr", rr, lo, hi)
        share = f"The {label} difference as a ratio: the weighted share with new proceedings "
        ci = (
            f"95% CI {lo:.2f} to {hi:.2f} from the bootstrap"
            if np.isfinite(lo) and np.isfinite(hi)
            else "no bootstrap CI"
        )
        out = {
            **e,
            "days": days,
            "risk_ratio": rr,
            "risk_ratio_ci_low": lo,
            "risk_ratio_ci_high": hi,
            "statement": f"{share}within {when}, service over comparison, is {rr:.2f} ({ci}). "
            + e["statement"],
        }
        if not (np.isfinite(lo) and np.isfinite(hi)):  # no resamples (bootstrap = 0)
            out["statement"] = (
                f"{share}within {when}, service over comparison, is {rr:.2f} (no CI: no "
                f"bootstrap resamples). E-value {e['e_value']:.2f}: to explain the result away, "
                "an unmeasured difference between the cohorts would have to be associated with "
                f"both the outcome and being in the service by a risk ratio of "
                f"{e['e_value']:.2f} each, over and above the covariates."
            )
        # null in the JSON, never NaN
        return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in out.items()}


def cox_evidence(found: dict, cohort: pd.Series, data: pd.DataFrame) -> dict:
    """The evidence of an adjusted hazard ratio of the cohorts with its E-value (converted to a
    risk ratio where the outcome is common: 15% or more of the parents analysed had it) and the
    smallest hazard ratio the comparison could detect (``cohort``: hr, hr_low, hr_high;
    ``data``: event and cohort_service, one row per parent)."""
    events = data["event"].to_numpy()
    common = bool(events.mean() >= 0.15)
    e = e_value("hr", cohort["hr"], cohort["hr_low"], cohort["hr_high"], common=common)
    out = with_e_value(found, e)
    power = power_statement(int(events.sum()), int(data["cohort_service"].sum()), len(data))
    return {**out, "power": power, "statement": f"{out['statement']} {power['statement']}"}


def difference_evidence(
    found: dict, y: np.ndarray, t: np.ndarray, w: np.ndarray, diff: dict
) -> dict:
    """The evidence of an adjusted difference with its E-value: of the risk ratio of the
    weighted shares for a yes/no outcome (its CI by the delta method on the log scale from
    the HC0 variances of the two weighted means), else of the standardised mean difference
    (the difference over the pooled within-cohort SD, as a risk ratio exp(0.91 d))."""
    if set(np.unique(y)) <= {0.0, 1.0}:
        ms, mc = diff["mean_service"], diff["mean_comparison"]
        if ms <= 0 or mc <= 0:
            return found

        def hc0(m: np.ndarray) -> float:  # the HC0 variance of a weighted mean
            d = y[m] - np.average(y[m], weights=w[m])
            return float(np.sum(w[m] ** 2 * d**2) / w[m].sum() ** 2)

        se = math.sqrt(hc0(t == 1) / ms**2 + hc0(t == 0) / mc**2)
        z = 1.959963984540054
        rr = ms / mc
        e = e_value("rr", rr, rr * math.exp(-z * se), rr * math.exp(z * se))
    else:
        s, c = y[t == 1], y[t == 0]
        pooled = math.sqrt(
            ((len(s) - 1) * s.var(ddof=1) + (len(c) - 1) * c.var(ddof=1)) / (len(y) - 2)
        )
        if not pooled > 0:
            return found
        e = e_value("smd", diff["difference"] / pooled, se=diff["robust_se"] / pooled)
    return with_e_value(found, e)


def weighted_difference(
    y: np.ndarray, treat: np.ndarray, w: np.ndarray, cluster: np.ndarray | None = None
) -> dict[str, float]:
    """The difference of the weighted means of ``y`` (service less comparison), with the
    cluster-robust standard error of R's ``lm(y ~ treat, weights = w)`` and
    ``sandwich::vcovCL(fit, cluster = cluster, type = "HC0")`` (the sandwich of the weighted
    scores summed within each cluster, times G / (G - 1) for G clusters); without
    ``cluster``, each row its own cluster. Rows of weight 0 add nothing to either side."""
    from scipy.stats import norm

    y, t, w = np.asarray(y, float), np.asarray(treat, float), np.asarray(w, float)
    x = np.column_stack([np.ones(len(y)), t])
    bread = np.linalg.inv((x * w[:, None]).T @ x)
    beta = bread @ ((x * w[:, None]).T @ y)
    scores = x * (w * (y - x @ beta))[:, None]
    groups = np.arange(len(y)) if cluster is None else np.asarray(cluster)
    _, group = np.unique(groups[w > 0], return_inverse=True)
    summed = np.zeros((group.max() + 1 if len(group) else 0, 2))
    np.add.at(summed, group, scores[w > 0])
    g = len(summed)
    var = bread @ (summed.T @ summed) @ bread * (g / (g - 1) if g > 1 else np.nan)
    coef, se = float(beta[1]), float(np.sqrt(var[1, 1]))
    z = norm.ppf(0.975)
    on = t == 1
    return {
        "mean_service": float(np.average(y[on], weights=w[on])),
        "mean_comparison": float(np.average(y[~on], weights=w[~on])),
        "difference": coef,
        "robust_se": se,
        "ci_low": coef - z * se,
        "ci_high": coef + z * se,
        "p": float(2 * norm.sf(abs(coef / se))) if se > 0 else float("nan"),
    }


def adjusted_change(
    paired: pd.DataFrame, people: pd.DataFrame, propensity: Propensity, column: str = "change"
) -> dict[str, object]:
    """An outcome compared between the cohorts with propensity weights (the before/after
    change of a measure, or whether a fixed-horizon outcome was met), with parents as the
    units: ``paired`` (``client_id`` and ``column``; one row per client, or several: one per
    goal) joined to ``people`` (``analysis.rates.follow_up``: cohort and covariates per client).

    The propensity model is fitted on the parents with a value, one row each (never on goal
    rows, which would count a parent once per goal). A parent's rows share their weight
    equally (w / k for k goals), so every parent counts once and the difference is that of
    the weighted means of the parents' mean changes; its standard error is clustered by
    parent (matching without replacement: by matched pair), as R's ``lm(y ~ treat, weights =
    w / k)`` with ``sandwich::vcovCL(cluster = ~client_id)`` (tests/fixtures/cluster). ``n_*``
    count parents, ``rows_*`` the rows (goals) they had. ``propensity`` is left as it was; the
    model fitted here is described under ``propensity``."""
    data = paired[["client_id", column]].merge(people, on="client_id")
    parents = people[people["client_id"].isin(set(data["client_id"]))].reset_index(drop=True)
    ps = replace(propensity).fit(parents)
    weight = pd.Series(ps.weights_, index=ps.data_["client_id"].to_numpy())
    cluster = pd.Series(ps.clusters(), index=weight.index)
    rows = data[data["client_id"].isin(set(weight.index))].reset_index(drop=True)
    k = rows.groupby("client_id", sort=False)["client_id"].transform("size").to_numpy()
    w = rows["client_id"].map(weight).to_numpy(float) / k
    y = rows[column].to_numpy(float)
    t = rows["cohort_service"].to_numpy()
    used = ps.weights_ > 0
    parent_t = ps.data_["cohort_service"].to_numpy()
    out: dict[str, object] = {
        "n_service": int((used & (parent_t == 1)).sum()),
        "n_comparison": int((used & (parent_t == 0)).sum()),
        "rows_service": int(((w > 0) & (t == 1)).sum()),
        "rows_comparison": int(((w > 0) & (t == 0)).sum()),
        **weighted_difference(y, t, w, rows["client_id"].map(cluster).to_numpy()),
        "difference_unweighted": weighted_difference(y, t, 1 / k)["difference"],
    }
    b = balance(ps.data_, ps.covariates, ps.weights_)
    out["balance"] = b
    out["evidence"] = difference_evidence(
        adjusted_evidence(b, required=propensity.required), y, t, w, out
    )
    out["propensity"] = {
        "description": ps.describe(),
        "parents": len(ps.data_),
        "dropped_missing_covariate": ps.dropped_,
        "unmatched": ps.unmatched_ if ps.match else None,
        "coefficients": ps.coefficients_.to_dict(orient="records"),
    }
    return out


def _no_e_value(days: int, statement: str) -> dict[str, object]:
    """The E-value entry where there is no ratio to give one for, saying why."""
    empty = ("e_value", "e_value_ci", "risk_ratio", "risk_ratio_ci_low", "risk_ratio_ci_high")
    return {"days": days, **dict.fromkeys(empty), "statement": statement}

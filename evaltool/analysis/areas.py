"""Area-level difference in differences: infants entering care per live birth, in areas where
the service ran against areas where it did not, before and after it began (as the Pause 2020
evaluation compared infant care entries in Pause and comparator local authorities).

Population: every area-year of the areas table (area, financial_year, infants_entering_care,
live_births, service_area, service_from); an area is a service area in every row or in none,
and its service began in the financial year ``service_from``.

Areas start the service in different years (staggered adoption). A two-way fixed-effects model
(area and year effects and one service-period indicator) then compares newly served areas with
areas already served, whose own effect is still changing, and can be biased even in sign
(Goodman-Bacon 2021). So the estimate given is a **stacked difference in differences** (Cengiz,
Dube, Lindner & Zipperer 2019): for each year g in which some areas began, a stack of those
areas and the clean controls (areas never served, or not served until after the stack's
window), over the years g - ``pre`` to g + ``post``; a Poisson model of the infants with the
log of live births as offset, area-by-stack and year-by-stack effects and the service-period
indicator. Beside it, an **event study** (the same areas and years as the two-way model,
leads and lags of each area's start, the year before the start as reference, the ends binned)
with a joint test that the leads are zero: the check that trends were parallel before.

Standard errors are clustered by area (R's ``sandwich::vcovCL``: HC0 with the G/(G - 1)
adjustment); with few areas the CIs and p values use t with G - 1 degrees of freedom and the
pre-trend test F with G - 1, and a randomisation-inference p value (the start years dealt out
to areas at random, seeded) stands beside them. Checked against R (tests/fixtures/comparison/
areas.R, tests/fixtures/areas/stacked.R). Level 3 of the Maryland scale only when the leads
pass their test; otherwise level 2, said in words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaltool.errors import AnalysisError

FY = re.compile(r"^(\d{4})-(\d{2})$")
#: the pre-trend test must not reject at this level for level 3
PRETREND_ALPHA = 0.05
#: up to this many areas, clusters are few: randomisation inference stands beside the t
#: intervals (with more, the clustered standard errors are trusted and it is not worked out)
FEW_AREAS = 30


def year_start(label: str) -> int:
    """2019 for '2019-20'."""
    match = FY.match(str(label).strip())
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise AnalysisError(f"financial year {label!r}: write it as 2019-20")
    return int(match[1])


def fy_label(year: int) -> str:
    """'2019-20' for 2019."""
    return f"{year}-{(year + 1) % 100:02d}"


def irls(x: Any, y: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poisson IRLS as R's glm (from mu = y + 0.1, until the deviance changes by under 1e-12
    of itself) on a sparse design ``x``: its coefficients and fitted means."""
    mu = y + 0.1
    eta = np.log(mu)
    dev = np.inf
    beta = np.zeros(x.shape[1])
    for _ in range(100):
        z = eta - offset + (y - mu) / mu
        info = (x.T @ x.multiply(mu[:, None])).toarray()
        try:
            beta = np.linalg.solve(info, x.T @ (mu * z))
        except np.linalg.LinAlgError:
            raise AnalysisError(
                "the area model cannot be fitted: some area or year has no infants in any "
                "row, or the service years cannot be told from the years"
            ) from None
        eta = x @ beta + offset
        mu = np.exp(eta)
        ratio = np.where(y > 0, y, 1.0) / mu
        new = 2 * float(np.sum(np.where(y > 0, y * np.log(ratio), 0.0) - (y - mu)))
        if abs(new - dev) < 1e-12 * (abs(new) + 0.1):
            break
        dev = new
    return beta, mu


def poisson_cluster(
    y: np.ndarray, design: pd.DataFrame, offset: np.ndarray, groups: np.ndarray
) -> tuple[pd.Series, np.ndarray, pd.Series]:
    """A Poisson model's coefficients (IRLS as R's glm: from mu = y + 0.1, until the deviance
    changes by under 1e-12 of itself), R's ``vcovCL`` clustered by ``groups`` (HC0 with the
    G/(G - 1) adjustment) and the model's own standard errors. The design is mostly area and
    year indicators, so its products are sparse: 150 areas take seconds, not minutes."""
    from scipy import sparse

    x = sparse.csr_matrix(design.to_numpy(float))
    beta, mu = irls(x, y, offset)
    bread = np.linalg.inv((x.T @ x.multiply(mu[:, None])).toarray())
    names, index = np.unique(groups, return_inverse=True)
    g = len(names)
    member = sparse.csr_matrix((np.ones(len(y)), (index, np.arange(len(y)))), shape=(g, len(y)))
    summed = np.asarray((member @ x.multiply((y - mu)[:, None])).todense())
    vcov = bread @ (summed.T @ summed) @ bread * g / (g - 1)
    cols = design.columns
    return pd.Series(beta, index=cols), vcov, pd.Series(np.sqrt(np.diag(bread)), index=cols)


@dataclass
class AreaDiD:
    """Fit on the ``areas`` table. ``pre`` and ``post``: the years before and after each start
    in a stack and in the event study (its ends binned); ``permutations``: randomisation
    inference's draws (0: none), seeded, worked out with up to ``FEW_AREAS`` areas."""

    pre: int = 3
    post: int = 3
    permutations: int = 199
    seed: int = 20260401

    def fit(self, areas: pd.DataFrame) -> AreaDiD:
        a = self._checked(areas)
        self.twfe_ = self._twfe(a)
        self.event_study_, self.pretrend_ = self._event_study(a)
        self.estimate_ = self._stacked(a)
        self.trends_ = self._trends(a)
        self.evidence_ = self._evidence()
        return self

    # --- the table --------------------------------------------------------------------------

    @staticmethod
    def _checked(areas: pd.DataFrame) -> pd.DataFrame:
        """The area-years with ``year``, ``from`` (NaN: never served) and ``on``; every problem
        at once, in words."""
        a = areas.copy()
        births = "live_births" if "live_births" in a else "population"
        if births not in a:
            raise AnalysisError("the areas table needs live_births (or population)")
        a["births"] = pd.to_numeric(a[births], errors="coerce")
        a["year"] = a["financial_year"].map(year_start)
        problems = []
        blank = a["births"].isna() | ~(a["births"] > 0)
        if blank.any():
            rows = ", ".join(f"{r.area} {r.financial_year}" for r in a[blank].itertuples())
            problems.append(
                f"{births} is blank or not above 0 in {int(blank.sum())} area-year(s): {rows}; "
                "the model needs the births of every area-year (the denominator)"
            )
        service = a["service_area"].fillna(False).astype(bool)
        changes = service.groupby(a["area"]).nunique() > 1
        if changes.any():
            names = ", ".join(map(str, changes[changes].index))
            problems.append(
                f"service_area changes from year to year in {names}: "
                "an area has the service in every row or in none; the year it began is "
                "service_from"
            )
        starts = a["service_from"].where(service)
        if (service & starts.isna()).any():
            bad = sorted(set(a.loc[service & starts.isna(), "area"]))
            problems.append(
                f"service areas with no service_from: {', '.join(map(str, bad))}; give the "
                "financial year the service began there"
            )
        a["from"] = starts.map(lambda v: year_start(v) if isinstance(v, str) else np.nan)
        several = a[service].groupby("area")["from"].nunique() > 1
        if several.any():
            names = ", ".join(map(str, several[several].index))
            problems.append(
                f"service_from differs between the rows of {names}: "
                "give one year the service began in each area"
            )
        first = a.groupby("area")["year"].min()
        began = a[service].groupby("area")["from"].min()
        early = began[began <= first.reindex(began.index)]
        if len(early):
            problems.append(
                "no year before the service began in "
                + ", ".join(f"{k} (began {fy_label(int(v))})" for k, v in early.items())
                + ": a difference in differences needs each service area's years before it"
            )
        if problems:
            raise AnalysisError("the areas table cannot be analysed: " + "; ".join(problems))
        a["service"] = service
        a["on"] = (service & (a["year"] >= a["from"])).astype(float)
        if a["on"].sum() == 0 or (~service).sum() == 0:
            raise AnalysisError(
                "a difference in differences needs service areas in service years and "
                "comparator areas (service_area = no)"
            )
        return a.sort_values(["area", "year"]).reset_index(drop=True)

    # --- the estimators ---------------------------------------------------------------------

    @staticmethod
    def _inference(coef: float, se: float, g: int) -> dict[str, float]:
        """Rate ratio, CI and p with t on G - 1 degrees of freedom, and the E-value of the
        ratio and of its CI limit nearer 1 (``e_value``, ``e_value_ci``; issue 24.3)."""
        from scipy.stats import t

        q = t.ppf(0.975, g - 1)
        out = {
            "rate_ratio": float(np.exp(coef)),
            "ci_low": float(np.exp(coef - q * se)),
            "ci_high": float(np.exp(coef + q * se)),
            "p": float(2 * t.sf(abs(coef / se), g - 1)),
            "df": g - 1,
        }
        e = AreaDiD._e_value(out)
        return {**out, "e_value": e["e_value"], "e_value_ci": e["e_value_ci"]}

    @staticmethod
    def _e_value(result: dict[str, Any]) -> dict[str, Any]:
        """The E-value (VanderWeele & Ding 2017) of an areas rate ratio, read as a risk
        ratio (infants entering care are a rare outcome among live births), in words."""
        from evaltool.analysis.evidence import e_value

        return e_value(
            "rr",
            result["rate_ratio"],
            result["ci_low"],
            result["ci_high"],
            between="the service areas and the comparator areas",
            beyond="the area and year effects",
        )

    @staticmethod
    def _twfe(a: pd.DataFrame) -> dict[str, object]:
        """The two-way fixed-effects model (a sensitivity analysis: with staggered starts it
        uses areas already served as controls)."""
        from scipy.stats import norm

        dummies = pd.get_dummies(a[["area", "year"]].astype(str), drop_first=True, dtype=float)
        design = pd.concat([pd.Series(1.0, index=a.index, name="(Intercept)"), dummies], axis=1)
        design["service_period"] = a["on"]
        y = a["infants_entering_care"].to_numpy(float)
        params, vcov, bse = poisson_cluster(
            y, design, np.log(a["births"].to_numpy(float)), a["area"].to_numpy()
        )
        k = list(design.columns).index("service_period")
        coef, se = float(params.iloc[k]), float(np.sqrt(vcov[k, k]))
        g = a["area"].nunique()
        z = norm.ppf(0.975)
        return {
            "term": "service_period",
            "coef": coef,
            "se_model": float(bse.iloc[k]),
            "se_cluster": se,
            **AreaDiD._inference(coef, se, g),
            "ci_low_z": float(np.exp(coef - z * se)),
            "ci_high_z": float(np.exp(coef + z * se)),
            "p_z": float(2 * norm.sf(abs(coef / se))),
            "areas": g,
            "service_areas": int(a.loc[a["service"], "area"].nunique()),
            "area_years": len(a),
            "staggered": bool(a.loc[a["service"], "from"].nunique() > 1),
        }

    def stack(self, a: pd.DataFrame) -> pd.DataFrame:
        """The stacked data: for each start year g, the areas that began in g and the clean
        controls (never served, or first served after g + post), years g - pre to g + post."""
        parts = []
        for g in sorted(a.loc[a["service"], "from"].dropna().unique()):
            window = a["year"].between(g - self.pre, g + self.post)
            cohort = a["from"] == g
            clean = a["from"].isna() | (a["from"] > g + self.post)
            part = a[window & (cohort | clean)].copy()
            part["stack"] = int(g)
            part["treated"] = (part["from"] == g).astype(float)
            part["on"] = (part["treated"] == 1) & (part["year"] >= g)
            if part.loc[part["treated"] == 0, "area"].nunique() and part["on"].any():
                parts.append(part)
        if not parts:
            raise AnalysisError("no start year has areas not yet served to compare with")
        out = pd.concat(parts, ignore_index=True)
        out["on"] = out["on"].astype(float)
        return out

    def _quick_coef(
        self,
        area: np.ndarray,
        year: np.ndarray,
        start: np.ndarray,
        y: np.ndarray,
        offset: np.ndarray,
    ) -> float:
        """The stacked model's service-period coefficient alone (``start`` per row, NaN:
        never served), stacked as ``stack`` does and fitted by a plain Poisson IRLS on one-hot
        arrays: randomisation inference refits it hundreds of times (a test holds it equal to
        the statsmodels fit)."""
        rows, stacks, on = [], [], []
        for g in np.unique(start[~np.isnan(start)]):
            window = (year >= g - self.pre) & (year <= g + self.post)
            cohort = start == g
            clean = np.isnan(start) | (start > g + self.post)
            keep = np.flatnonzero(window & (cohort | clean))
            live = cohort[keep] & (year[keep] >= g)
            if not live.any() or cohort[keep].all():
                continue
            rows.append(keep)
            stacks.append(np.full(len(keep), g))
            on.append(live)
        if not rows:
            raise AnalysisError("no start year has areas not yet served to compare with")
        from scipy import sparse

        r, st, d = np.concatenate(rows), np.concatenate(stacks), np.concatenate(on)
        unit = np.unique(st * 100_000 + area[r], return_inverse=True)[1]
        time = np.unique(st * 10_000 + year[r], return_inverse=True)[1]
        n, nu = len(r), unit.max() + 1
        # full rank, as _stacked_coef: each stack's first year is its reference
        firsts = [time[st == g].min() for g in np.unique(st)]
        keep = ~np.isin(time, firsts)
        period = np.unique(time[keep], return_inverse=True)[1]
        nt = period.max() + 1 if keep.any() else 0
        cols = np.concatenate([unit, nu + period, np.full(n, nu + nt)])
        rows_of = np.concatenate([np.arange(n), np.arange(n)[keep], np.arange(n)])
        vals = np.concatenate([np.ones(n), np.ones(keep.sum()), d.astype(float)])
        x = sparse.csr_matrix((vals, (rows_of, cols)), shape=(n, nu + nt + 1))
        beta = irls(x, y[r], offset[r])[0]
        return float(beta[-1])

    def _stacked_coef(self, s: pd.DataFrame) -> tuple[float, float, int]:
        """The stacked model (full rank, as stacked.R: an effect for every stack-area, and for
        every stack-year but each stack's first) and its clustered standard error."""
        unit = s["stack"].astype(str) + ":" + s["area"].astype(str)
        period = s["stack"].astype(str) + ":" + s["year"].astype(str)
        firsts = s.groupby("stack")["year"].transform("min") == s["year"]
        units = pd.get_dummies(unit, dtype=float)
        times = pd.get_dummies(period, dtype=float).drop(columns=sorted(set(period[firsts])))
        design = pd.concat([units, times.add_prefix("t:")], axis=1)
        design["service_period"] = s["on"].to_numpy(float)
        params, vcov, _ = poisson_cluster(
            s["infants_entering_care"].to_numpy(float),
            design,
            np.log(s["births"].to_numpy(float)),
            s["area"].to_numpy(),
        )
        k = design.shape[1] - 1
        return float(params.iloc[k]), float(np.sqrt(vcov[k, k])), s["area"].nunique()

    def _stacked(self, a: pd.DataFrame) -> dict[str, object]:
        """The stacked estimate, with t on G - 1 and randomisation inference: the observed
        start years dealt to areas at random (seeded), the stacked model refitted each time;
        p is the share of draws at least as far from no effect as the estimate."""
        s = self.stack(a)
        coef, se, g = self._stacked_coef(s)
        starts = a.groupby("area")["from"].first()
        area = pd.Categorical(a["area"], categories=starts.index).codes.astype(np.int64)
        args = (
            a["year"].to_numpy(np.int64),
            a["infants_entering_care"].to_numpy(float),
            np.log(a["births"].to_numpy(float)),
        )
        rng = np.random.default_rng(self.seed)
        draws = []
        runs = self.permutations if len(starts) <= FEW_AREAS else 0
        if runs:  # the observed assignment, for the test that the quick fit is the model
            self.quick_ = self._quick_coef(area, args[0], a["from"].to_numpy(float), *args[1:])
        for _ in range(runs):
            dealt = rng.permutation(starts.to_numpy(float))
            try:
                draws.append(self._quick_coef(area, args[0], dealt[area], *args[1:]))
            except (AnalysisError, np.linalg.LinAlgError, ValueError):
                continue
        ri = (
            float((1 + np.sum(np.abs(draws) >= abs(coef) - 1e-12)) / (1 + len(draws)))
            if draws
            else float("nan")
        )
        return {
            "term": "service_period",
            "estimator": f"stacked difference in differences ({self.pre} years before and "
            f"{self.post} after each start; controls never or not yet served)",
            "coef": coef,
            "se_cluster": se,
            **self._inference(coef, se, g),
            "p_randomisation": ri,
            "permutations": len(draws),
            "areas": g,
            "service_areas": int(a.loc[a["service"], "area"].nunique()),
            "area_years": len(a),
            "stacked_rows": len(s),
            "stacks": sorted(int(v) for v in s["stack"].unique()),
        }

    def relative(self, a: pd.DataFrame) -> pd.Series:
        """Years since each service area's start (NaN for comparators), binned at -pre and
        +post."""
        return (a["year"] - a["from"]).clip(-self.pre, self.post)

    def _event_study(self, a: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, object]]:
        """Leads and lags of the start, the year before it the reference; the joint test
        of the leads (Wald with the clustered variance, as F on q and G - 1)."""
        from scipy.stats import f, t

        rel = self.relative(a)
        dummies = pd.get_dummies(a[["area", "year"]].astype(str), drop_first=True, dtype=float)
        design = pd.concat([pd.Series(1.0, index=a.index, name="(Intercept)"), dummies], axis=1)
        times = [int(r) for r in sorted(rel.dropna().unique()) if r != -1]
        for r in times:
            design[f"rel_{r}"] = (rel == r).astype(float)
        params, vcov, _ = poisson_cluster(
            a["infants_entering_care"].to_numpy(float),
            design,
            np.log(a["births"].to_numpy(float)),
            a["area"].to_numpy(),
        )
        g = a["area"].nunique()
        q = t.ppf(0.975, g - 1)
        cols = list(design.columns)
        rows = [{"years_from_start": -1, "coef": 0.0, "se_cluster": 0.0, "rate_ratio": 1.0}]
        for r in times:
            k = cols.index(f"rel_{r}")
            b, se = float(params.iloc[k]), float(np.sqrt(vcov[k, k]))
            rows.append(
                {
                    "years_from_start": r,
                    "coef": b,
                    "se_cluster": se,
                    "rate_ratio": float(np.exp(b)),
                    "ci_low": float(np.exp(b - q * se)),
                    "ci_high": float(np.exp(b + q * se)),
                }
            )
        table = pd.DataFrame(rows).sort_values("years_from_start").reset_index(drop=True)
        table["binned"] = table["years_from_start"].isin([-self.pre, self.post])
        leads = [cols.index(f"rel_{r}") for r in times if r < -1]
        if not leads:
            test: dict[str, object] = {
                "leads": 0,
                "passed": False,
                "why": "no service area has two or more years before its start: the trends "
                "before cannot be checked",
            }
            return table, test
        b = params.to_numpy()[leads]
        v = vcov[np.ix_(leads, leads)]
        wald = float(b @ np.linalg.solve(v, b))
        stat = wald / len(leads)
        p = float(f.sf(stat, len(leads), g - 1))
        passed = p >= PRETREND_ALPHA
        test = {
            "leads": len(leads),
            "wald": wald,
            "f": stat,
            "df1": len(leads),
            "df2": g - 1,
            "p": p,
            "passed": passed,
            "why": (
                f"the leads' joint test does not reject parallel trends before the start "
                f"(F {stat:.2f} on {len(leads)} and {g - 1} df, p {p:.3f})"
                if passed
                else f"the trends before the start were not parallel: the leads' joint test "
                f"rejects (F {stat:.2f} on {len(leads)} and {g - 1} df, p {p:.3f})"
            ),
        }
        return table, test

    def _evidence(self) -> dict[str, object]:
        """The level earned (3 only when the leads pass their test), the inference used and
        the E-value of the stacked rate ratio."""
        from evaltool.analysis.evidence import evidence, with_e_value

        if self.pretrend_["passed"]:
            out = evidence("area-did")
            out["statement"] += (
                f" Level 3 because {self.pretrend_['why']}; a test that does not reject is "
                "not proof that the trends were parallel, so look at the event study too."
            )
        else:
            out = evidence("area-unchecked")
            out["statement"] += f" Not level 3: {self.pretrend_['why']}."
        e = self.estimate_
        out["statement"] += (
            f" With {e['areas']} areas the CI and p use t with {e['df']} degrees of freedom; "
            + (
                f"randomisation inference ({e['permutations']} draws of which areas began "
                f"when) gives p {e['p_randomisation']:.3f}."
                if e["permutations"]
                else "randomisation inference was not worked out."
            )
        )
        return with_e_value(out, self._e_value(e))

    @staticmethod
    def _trends(a: pd.DataFrame) -> pd.DataFrame:
        """Infants entering care per 10,000 live births, by group and financial year, with
        whether any service area had begun by then."""
        a = a.assign(group=np.where(a["service"], "service areas", "comparator areas"))
        t = a.groupby(["group", "financial_year"], sort=True).agg(
            infants=("infants_entering_care", "sum"),
            births=("births", "sum"),
            service_running=("on", "max"),
        )
        t["per_10000"] = 10_000 * t["infants"] / t["births"]
        t["service_running"] = t["service_running"].astype(bool)
        return t.reset_index()

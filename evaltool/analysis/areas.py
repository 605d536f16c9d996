"""Area-level difference in differences: infants entering care per live birth, in areas where
the service ran against areas where it did not, before and after it began (as the Pause 2020
evaluation compared infant care entries in Pause and comparator local authorities).

A Poisson model of each area's infants entering care in each financial year, with the log of
live births as offset, area and year effects, and the service-period indicator (a service area
in a year on or after ``service_from``); standard errors clustered by area (R's
``sandwich::vcovCL``: HC0 with the G/(G - 1) adjustment). The rate ratio of the service
period is the estimate; the pre-period trends of the two groups are tabulated, since the
design rests on their having been parallel. Checked against R (tests/fixtures/comparison/
areas.R).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltool.errors import AnalysisError

FY = re.compile(r"^(\d{4})-(\d{2})$")


def year_start(label: str) -> int:
    """2019 for '2019-20'."""
    match = FY.match(str(label).strip())
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise AnalysisError(f"financial year {label!r}: write it as 2019-20")
    return int(match[1])


@dataclass
class AreaDiD:
    """Fit on the ``areas`` table (area, financial_year, infants_entering_care, live_births,
    service_area, service_from)."""

    def fit(self, areas: pd.DataFrame) -> AreaDiD:
        import statsmodels.api as sm
        from scipy.stats import norm

        a = areas.copy()
        births = "live_births" if "live_births" in a else "population"
        if births not in a:
            raise AnalysisError("the areas table needs live_births (or population)")
        a["year"] = a["financial_year"].map(year_start)
        service = a["service_area"].fillna(False).astype(bool)
        starts = a["service_from"].where(service)
        if (service & starts.isna()).any():
            bad = sorted(set(a.loc[service & starts.isna(), "area"]))
            raise AnalysisError(
                f"service areas with no service_from: {', '.join(map(str, bad))}; give the "
                "financial year the service began there"
            )
        a["from"] = starts.map(lambda v: year_start(v) if isinstance(v, str) else np.nan)
        a["on"] = (service & (a["year"] >= a["from"])).astype(float)
        if a["on"].sum() == 0 or (~service).sum() == 0:
            raise AnalysisError(
                "a difference in differences needs service areas in service years and "
                "comparator areas (service_area = no)"
            )
        a = a.sort_values(["area", "year"]).reset_index(drop=True)
        dummies = pd.get_dummies(a[["area", "year"]].astype(str), drop_first=True, dtype=float)
        design = pd.concat([pd.Series(1.0, index=a.index, name="(Intercept)"), dummies], axis=1)
        design["service_period"] = a["on"]
        y = a["infants_entering_care"].to_numpy(float)
        offset = np.log(a[births].to_numpy(float))
        fitted = sm.GLM(y, design, family=sm.families.Poisson(), offset=offset).fit(tol=1e-12)
        x, mu = design.to_numpy(float), fitted.fittedvalues.to_numpy()
        bread = np.linalg.inv((x * mu[:, None]).T @ x)
        scores = x * (y - mu)[:, None]
        groups = a["area"].to_numpy()
        names = pd.unique(groups)
        summed = np.array([scores[groups == g].sum(axis=0) for g in names])
        g = len(names)
        vcov = bread @ (summed.T @ summed) @ bread * g / (g - 1)
        k = list(design.columns).index("service_period")
        coef = float(fitted.params.iloc[k])
        se = float(np.sqrt(vcov[k, k]))
        z = norm.ppf(0.975)
        self.estimate_ = {
            "term": "service_period",
            "coef": coef,
            "se_model": float(fitted.bse.iloc[k]),
            "se_cluster": se,
            "rate_ratio": float(np.exp(coef)),
            "ci_low": float(np.exp(coef - z * se)),
            "ci_high": float(np.exp(coef + z * se)),
            "p": float(2 * norm.sf(abs(coef / se))),
            "areas": g,
            "service_areas": int(a.loc[service, "area"].nunique()),
            "area_years": len(a),
        }
        self.trends_ = self._trends(a, service, births)
        from evaltool.analysis.evidence import evidence

        self.evidence_ = evidence("area-did")
        self.evidence_["statement"] += (
            " It assumes that without the service the two groups of areas would have moved "
            "in parallel: check the years before it began in the trends."
        )
        return self

    @staticmethod
    def _trends(a: pd.DataFrame, service: pd.Series, births: str) -> pd.DataFrame:
        """Infants entering care per 10,000 live births, by group and financial year, with
        whether any service area had begun by then."""
        a = a.assign(group=np.where(service, "service areas", "comparator areas"))
        t = a.groupby(["group", "financial_year"], sort=True).agg(
            infants=("infants_entering_care", "sum"),
            births=(births, "sum"),
            service_running=("on", "max"),
        )
        t["per_10000"] = 10_000 * t["infants"] / t["births"]
        t["service_running"] = t["service_running"].astype(bool)
        return t.reset_index()

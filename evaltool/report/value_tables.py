"""The "Value for money" sheet, the board paragraph and the plain text of ``evaltool value``,
read from an :class:`~evaltool.analysis.value.Value`.

Disclosure: a money figure is a count times a price, so (1) every GBP figure is rounded to the
nearest 1,000; (2) parents a year from the data are rounded to the nearest 5 and not used when 5
or fewer (analysis/value.py); (3) when the effect rests on the cohorts' Kaplan-Meier curves, every
row of every value table carries the numbers at risk and the events so far it rests on, declared
equal to the Time to next proceedings sheet's cells, and every figure is derived from them: a
figure resting on a hidden count is hidden with it, by the same protection as the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from evaltool.instruments.results import Relation, SummaryTable
from evaltool.report.annex import strip_power

if TYPE_CHECKING:
    from evaltool.analysis.survival import TimeToProceedings
    from evaltool.analysis.value import Value

SHEET = "Value for money"
MONEY = '"£"#,##0'
RATIO = "0.00"
_BASIS = {
    ("service", "at_risk"): "Service: at risk",
    ("service", "events"): "Service: events so far",
    ("comparison", "at_risk"): "Comparison: at risk",
    ("comparison", "events"): "Comparison: events so far",
}


def money(x: float | None) -> float | None:
    """A GBP figure as printed: to the nearest 1,000."""
    return None if x is None or pd.isna(x) else float(1000 * round(x / 1000))


def gbp(x: float | None) -> str:
    m = money(x)
    return "not available" if m is None else f"£{m:,.0f}".replace("£-", "-£")


class _Basis:
    """The Kaplan-Meier counts an effect rests on, added to every row of a value table."""

    def __init__(self, value: Value, fit: TimeToProceedings | None):
        self.required = False
        self.cells: dict[str, int] = {}
        self.km_rows: dict[str, int] = {}
        e = value.effect
        if fit is None or e is None or e.kind == "benchmark" or e.per_year is not None:
            return
        if fit.logrank_ is None:
            return
        self.required = True  # the effect rests on the cohorts' curves: their counts
        from evaltool.report.survival_tables import fixed_times

        days = value.days
        km = fixed_times(fit)
        for (group, col), name in _BASIS.items():
            rows = km.index[(km["Group"] == group) & (km["Days"] == days)]
            if len(rows):
                r = int(rows[0])
                self.cells[name] = int(
                    km.loc[r, "At risk" if col == "at_risk" else "Events so far"]
                )
                self.km_rows[name] = r

    def table(self, name: str, title: str, frame: pd.DataFrame, figures: tuple[str, ...],
              **kwargs) -> SummaryTable:  # fmt: skip
        if not self.cells:
            return SummaryTable(name, title, frame, **kwargs)
        frame = frame.copy()
        relations = []
        for col, n in self.cells.items():
            frame[col] = n
            km_col = "At risk" if "at risk" in col else "Events so far"
            for r in range(len(frame)):
                relations.append(
                    Relation((((name, r, col), 1.0), (("km", self.km_rows[col], km_col), -1.0)))
                )
        counts = tuple(self.cells)
        return SummaryTable(
            name, title, frame, counts=counts, derived={c: counts for c in figures},
            relations=tuple(relations), **kwargs,
        )  # fmt: skip


def value_tables(value: Value, fit: TimeToProceedings | None) -> list[SummaryTable]:
    """The sheet's tables: the case, the unit costs, the horizons and the sensitivity; or one
    table saying why it is not computed."""
    if value.central is None:
        return [
            SummaryTable(
                "value",
                "Value for money",
                pd.DataFrame(
                    {
                        "Figure": ["Value for money"],
                        "Why not computed": [value.not_computed or value.cost_words],
                    }
                ),
                note="; ".join(value.notes),
            )  # fmt: skip
        ]
    basis = _Basis(value, fit)
    if basis.required and len(basis.cells) < len(_BASIS):  # never a figure without its counts
        return [
            SummaryTable(
                "value",
                "Value for money",
                pd.DataFrame(
                    {
                        "Figure": ["Value for money"],
                        "Why not computed": [
                            "the counts the effect rests on are not on the return (set "
                            "effect_days to one of [survival] times)"
                        ],
                    }
                ),
            )  # fmt: skip
        ]
    c, e, iv = value.central, value.effect, value.interval or {}
    assert e is not None and value.avoided is not None
    case = pd.DataFrame(
        {
            "Present value of costs": [money(c.pv_costs)],
            "Present value of savings": [money(c.pv_savings)],
            "Net present value": [money(c.npv)],
            "Benefit-cost ratio": [c.bcr],
            "Ratio low": [iv.get("bcr_low")],
            "Ratio high": [iv.get("bcr_high")],
            "Avoided a year": [value.avoided],
            "Break-even a year": [value.break_even],
        }
    )
    figures = tuple(case.columns)
    units = pd.DataFrame(
        [
            {
                "Item": u.label,
                "Unit": u.unit,
                "As published (GBP)": u.value,
                "Price year": u.price_year,
                f"In {value.price_year} prices": round(real),
                "Quantity per avoided set": q,
                "Years": y,
                "Source": u.source,
                "Licence": u.licence,
                "Checked": u.checked,
                "From": u.origin,
            }
            for u, real, q, y in value.lines
        ]
    )
    horizons = pd.DataFrame(
        [
            {
                "Horizon (years)": h,
                "Present value of costs": money(a.pv_costs),
                "Present value of savings": money(a.pv_savings),
                "Net present value": money(a.npv),
                "Benefit-cost ratio": a.bcr,
            }
            for h, a in value.horizons.items()
        ]
    )
    assert value.sensitivity is not None
    sens = value.sensitivity.rename(
        columns={
            "assumption": "Assumption",
            "low / high": "Low / high",
            "npv_low": "Net present value, low",
            "npv_high": "Net present value, high",
            "bcr_low": "Ratio, low",
            "bcr_high": "Ratio, high",
        }
    )
    for col in ("Net present value, low", "Net present value, high"):
        sens[col] = sens[col].map(money)
    fmt_case = {k: MONEY for k in figures[:3]} | {k: RATIO for k in figures[3:]}
    return [
        basis.table(
            "value",
            "Value for money: what the service costs and what it may save",
            case,
            figures,
            formats=fmt_case,
            note=case_note(value),
        ),
        SummaryTable(
            "value-unit-costs",
            f"What one avoided set of care proceedings saves, in {value.price_year} prices",
            units,
            formats={"As published (GBP)": MONEY, f"In {value.price_year} prices": MONEY},
            note=f"Moved to {value.price_year} prices with the GDP deflator "
            f"({value.deflator.vintage}; checked: {value.deflator.checked})",
        ),
        basis.table(
            "value-horizons",
            "The case over 4, 10 and 18 years",
            horizons,
            tuple(horizons.columns[1:]),
            formats={k: MONEY for k in horizons.columns[1:4]} | {"Benefit-cost ratio": RATIO},
            note="Savings after the horizon are not counted; the service's cost is the same.",
        ),
        basis.table(
            "value-sensitivity",
            "One-way sensitivity: each assumption alone at a low and a high value",
            sens,
            tuple(sens.columns[2:]),
            formats={
                "Net present value, low": MONEY,
                "Net present value, high": MONEY,
                "Ratio, low": RATIO,
                "Ratio, high": RATIO,
            },
            note="The rest as set. A ratio above 1: the savings exceed the cost.",
        ),
    ]


def case_note(value: Value) -> str:
    """Every assumption and source of the case, in words."""
    e = value.effect
    assert e is not None
    return " ".join(
        [
            f"Service cost: {value.cost_words}.",
            f"Parents a year: {value.parents_words}." if value.parents is not None else "",
            f"Effect: {e.published}. {strip_power(e.evidence)}",
            f"Interval of the ratio: {value.interval_words}.",
            *value.notes,
            f"Wellbeing (WELLBY): {value.wellby.get('why', '')}.",
        ]
    ).replace("  ", " ")


def board_paragraph(value: Value) -> str:
    """The board page's plain-English paragraph."""
    if value.central is None:
        return f"Value for money is not worked out this quarter: {value.not_computed}."
    c, e, iv = value.central, value.effect, value.interval
    assert e is not None and value.avoided is not None
    h = value.settings.horizon_years
    per_pound = f"£{c.bcr:.2f}" if c.bcr >= 0 else f"-£{-c.bcr:.2f}"
    text = (
        f"For every £1 spent on the service, about {per_pound} may be saved over {h} years "
        f"(present values, {value.price_year} prices: cost {gbp(c.pv_costs)}, savings "
        f"{gbp(c.pv_savings)})"
    )
    if iv:
        text += f", between £{iv['bcr_low']:.2f} and £{iv['bcr_high']:.2f}".replace("£-", "-£")
    elif value.sensitivity is not None:  # a stated effect: no CI, so half and double it
        r = value.sensitivity.iloc[0]
        text += (
            f", between £{r['bcr_low']:.2f} and £{r['bcr_high']:.2f} if the effect is half or "
            "double that stated"
        ).replace("£-", "-£")
    text += (
        f", if the effect is as found ({e.published}). {strip_power(e.evidence)} The service "
        "pays for itself "
        f"if it prevents "
        f"{value.break_even:.1f} sets of care proceedings a year"
        if value.break_even is not None
        else f", if the effect is as found ({e.published}). {strip_power(e.evidence)}"
    )
    return (
        text
        + f" (it is estimated to prevent {value.avoided:.1f}). Savings counted: "
        + "; ".join(f"{u.label} ({u.source.split(',')[0]})" for u, *_ in value.lines)
        + ". Every £ figure is rounded to the nearest £1,000."
    )


def value_text(value: Value) -> str:
    """``evaltool value``'s plain text."""
    out = ["Value for money", ""]
    if value.central is None:
        out.append(f"Not computed: {value.not_computed or value.cost_words}")
        out += ["", *value.notes]
        return "\n".join(out)
    c, iv = value.central, value.interval
    out += [
        board_paragraph(value),
        "",
        f"Effect: {value.effect.words if value.effect else ''}",
        "",
        f"Present value of costs     {gbp(c.pv_costs):>14}",
        f"Present value of savings   {gbp(c.pv_savings):>14}",
        f"Net present value          {gbp(c.npv):>14}",
        f"Benefit-cost ratio         {c.bcr:>14.2f}"
        + (f"  (95% interval {iv['bcr_low']:.2f} to {iv['bcr_high']:.2f})" if iv else ""),
        f"Break-even                 {value.break_even or float('nan'):>14.1f} sets a year",
        "",
        "Unit costs (what one avoided set of proceedings saves):",
    ]
    for u, real, q, y in value.lines:
        out.append(
            f"  {u.label}: £{u.value:,.0f} {u.unit}, {u.price_year} prices (£{real:,.0f} in "
            f"{value.price_year}); x {q:g} for {y} year(s). Source: {u.source}"
        )
    out += ["", "Horizons:"]
    for h, a in value.horizons.items():
        out.append(f"  {h:>2} years: NPV {gbp(a.npv)}, ratio {a.bcr:.2f}")
    out += ["", "Sensitivity (each alone, low / high):"]
    assert value.sensitivity is not None
    for r in value.sensitivity.itertuples():
        out.append(
            f"  {r.assumption} ({r[2]}): NPV {gbp(r.npv_low)} / {gbp(r.npv_high)}, ratio "
            f"{r.bcr_low:.2f} / {r.bcr_high:.2f}"
        )
    out += ["", case_note(value)]
    return "\n".join(out)


def value_json(value: Value) -> dict:
    """``evaltool value --json``: the same figures, GBP rounded to the nearest 1,000."""
    out: dict = {
        "price_year": value.price_year,
        "deflator": value.deflator.vintage,
        "service_cost": value.cost_words,
        "parents": value.parents_words,
        "not_computed": value.not_computed or None,
        "unit_costs": [
            {
                "id": u.id,
                "label": u.label,
                "value": u.value,
                "unit": u.unit,
                "price_year": u.price_year,
                "in_price_year": round(real, 2),
                "quantity": q,
                "years": y,
                "source": u.source,
                "licence": u.licence,
                "checked": u.checked,
                "from": u.origin,
            }
            for u, real, q, y in value.lines
        ],  # fmt: skip
        "notes": value.notes,
        "wellby": {k: (money(v) if k == "pv" else v) for k, v in value.wellby.items()},
    }
    if value.effect is not None:
        e = value.effect
        out["effect"] = {"kind": e.kind, "words": e.words, "evidence": e.evidence,
                         "sms_level": e.level}  # fmt: skip
    if value.central is not None:
        c = value.central
        out.update(
            {
                "avoided_per_year": value.avoided,
                "pv_costs": money(c.pv_costs),
                "pv_savings": money(c.pv_savings),
                "npv": money(c.npv),
                "bcr": c.bcr,
                "interval": value.interval,
                "interval_method": value.interval_words,
                "break_even_per_year": value.break_even,
                "board": board_paragraph(value),
                "horizons": {
                    str(h): {"npv": money(a.npv), "bcr": a.bcr} for h, a in value.horizons.items()
                },
            }
        )
        if out["interval"]:
            out["interval"] = {
                k: (money(v) if k.startswith("npv") else v) for k, v in out["interval"].items()
            }
        assert value.sensitivity is not None
        sens = value.sensitivity.copy()
        for col in ("npv_low", "npv_high"):
            sens[col] = sens[col].map(money)
        out["sensitivity"] = sens.to_dict(orient="records")
    return out

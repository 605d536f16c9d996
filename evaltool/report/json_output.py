"""JSON output: the built-in ``json`` renderer (the return's protected figures, for evaluators'
own tools) and the JSON of ``evaltool survival --json``."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import TYPE_CHECKING, Any

from evaltool.analysis.survival.km import as_read
from evaltool.analysis.survival.table import ENTRY_WORDS, ORIGIN_DEFINITIONS
from evaltool.report.formats import printed_value, shown_symbol, symbol_key

if TYPE_CHECKING:
    from evaltool.analysis.areas import AreaDiD
    from evaltool.analysis.comparison import WeightedSurvival
    from evaltool.analysis.rates import Rates
    from evaltool.analysis.survival import TimeToProceedings
    from evaltool.report.output import Output


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars as numbers, NaN and NA as null, dates as ISO text."""
    if hasattr(value, "item"):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _jsonable(value: Any) -> Any:
    """Plain JSON of nested words and figures: dicts, lists and tuples as lists, values as
    ``_plain`` makes them."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return _plain(value)


def records(frame: Any) -> list[dict[str, Any]]:
    """A frame's rows as JSON-ready dicts (each value as ``_plain`` makes it)."""
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def publication_json(output: Output) -> dict[str, Any]:
    """Every table of the return as published (suppressed cells as their symbols, figures
    rounded as the return prints them) with the headlines and what the figures cover."""
    from evaltool import __version__
    from evaltool.data.contract import CONTRACT_DOC, CONTRACT_VERSION
    from evaltool.report.publish import headline_text

    pub, f = output.publication, output.facts
    sheets: dict[str, list[dict[str, Any]]] = {}
    for sheet, tables in pub.sheets.items():
        out = []
        for table in tables:
            shown = table.values
            formats = table.formats
            rows = [
                [
                    _plain(shown_symbol(printed_value(row[c], formats.get(c)), f.symbols))
                    for c in shown.columns
                ]
                for row in shown.to_dict(orient="records")
            ]
            out.append(
                {
                    "name": table.name,
                    "title": table.title,
                    "note": table.note,
                    "columns": list(shown.columns),
                    "counts": list(table.counts),
                    "rows": rows,
                }
            )
        sheets[sheet] = out
    return {
        "status": output.status,  # draft, final or revision (of the final return "revises")
        "revises": output.revises or None,
        "audience": output.audience,  # published, or shared (exact counts, under agreement)
        "marking": output.marking,
        "service": f.service,
        "funder": f.funder,
        "period": f.period.code,
        "period_label": f.period.describe(),
        "extract_date": _plain(f.extract_date),
        "extract_date_source": f.extract_source,
        "as_at": _plain(f.period.end),
        "generated_at": _plain(f.generated_at),
        "evaltool_version": __version__,
        "data_contract": f"{CONTRACT_VERSION} ({CONTRACT_DOC})",
        "small_number_threshold": output.threshold,
        "protection_values": 0 if output.shared else f.keep,
        "symbols": {  # a shared output hides nothing: no symbol for a hidden figure
            sym: meaning for sym, meaning in symbol_key(f.symbols, output.shared)
        },
        "summary": summary_json(output),
        "earlier_returns_taken_into_account": list(pub.earlier_periods),
        "settings": [[k, _jsonable(v)] for k, v in f.settings_rows],  # as the Cover has them
        "input_files": [list(pair) for pair in f.input_hashes],
        "plugins": [list(pair) for pair in f.plugins],
        # the words the sheets print beside the tables (the analysis's design, the hazard
        # ratio of the adjusted comparison, the benchmark, the notes): see publish.words_of
        "words": _jsonable(pub.texts),
        "headlines": {
            name: headline_text(pub.headlines.get(name, ""), pub, name, f.symbols)
            for name, _ in f.instruments
        },
        "sheets": sheets,
    }


def summary_json(output: Output) -> dict[str, Any]:
    """The Summary's key figures: the windows, and each figure's value in each window with
    the table and column it is read from (the same cells as the return's Summary)."""
    from evaltool.report.key_figures import key_figures, printed_key_value

    pub, f = output.publication, output.facts
    windows = f.windows
    return {
        "windows": [
            {
                "name": w.name,
                "label": w.label,
                "start": w.start.isoformat(),
                "end": w.end.isoformat(),
            }
            for w in windows
        ],
        "figures": [
            {
                "figure": k.words,
                "table": k.table,
                "column": k.column,
                "values": [
                    _plain(printed_key_value(pub, k, w, f.symbols)) for w in range(len(windows))
                ],
            }
            for k in key_figures(pub)
        ],
        "caveats": list(pub.caveats),
    }


def render_json(output: Output, path: str) -> None:
    """The built-in ``json`` output (see ``publication_json``)."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(publication_json(output), f, indent=2, ensure_ascii=False)
        f.write("\n")


#: the keys of each survival_at row, weighted or not
SURVIVAL_AT_KEYS = (
    "group",
    "days",
    "survival",
    "ci_low",
    "ci_high",
    "at_risk",
    "events",
    "cumulative_incidence",
    "ci_incidence_low",
    "ci_incidence_high",
    "not_estimated",  # why the figures are null where nobody had joined yet (km.as_read)
)


def survival_json(
    fit: TimeToProceedings, weighted: WeightedSurvival | None = None
) -> dict[str, Any]:
    """Every figure of a fitted time-to-next-proceedings analysis (client-level counts
    included: for the evaluator's own use, not for sending). ``return_types`` is null where
    the data has no children (a v1 file) or the outcome is new-child returns. With a
    propensity comparison (``weighted``), ``survival_at`` and ``cox`` are the weighted ones
    and the unweighted stay under ``unweighted``."""
    from evaltool.analysis.survival.returns import OUTCOME_DEFINITIONS

    at = as_read(fit.survival_at_)[list(SURVIVAL_AT_KEYS)]
    out = {
        "ci_transform": fit.ci,
        "origin": fit.origin,
        "origin_definition": ORIGIN_DEFINITIONS[fit.origin],
        "entry": fit.entry,
        "entry_definition": ENTRY_WORDS[fit.entry]
        + "; each parent is in the risk set only from then (delayed entry: entry < t <= time, "
        "as R's Surv(entry, time, event))",
        "overlaps": int(fit.table_["overlap"].sum()),
        "outcome": fit.outcome,
        "outcome_definition": OUTCOME_DEFINITIONS[fit.outcome],
        "rule_37_weeks": fit.rule_37_weeks,
        "return_types": records(types) if (types := fit.return_types_) is not None else None,
        "times": list(fit.times),
        "group": fit.group,
        "covariates": list(fit.covariates),
        "extract_date": _plain(fit.extract_date_),
        "n": len(fit.table_),
        "events": int(fit.table_["event"].sum()),
        "exclusions": records(fit.exclusions_),
        "survival_at": records(at),
        "medians": records(fit.medians_),
        "logrank": fit.logrank_,
        "cox": records(fit.cox_) if fit.cox_ is not None else [],
        "cox_info": {**fit.cox_info_, "concordance": fit.concordance_} if fit.cox_info_ else {},
        "proportional_hazards": records(fit.ph_test_) if fit.ph_test_ is not None else [],
        "benchmark": fit.benchmark_,
        "competing_risks": None
        if fit.competing_ is None
        else {
            "definition": "Aalen-Johansen cumulative incidence of new care proceedings with "
            "death (closure reason died) as a competing risk, with the same delayed entry; "
            "standard errors and log CIs as R's survfit for multi-state data",
            "at": records(as_read(fit.competing_)),
        },
        "evidence": fit.evidence_,
        "warnings": fit.warnings_,
    }
    if weighted is not None:
        out["unweighted"] = {"survival_at": out["survival_at"], "cox": out["cox"]}
        out.update(weighted_json(weighted))
    return out


def weighted_json(fit: WeightedSurvival) -> dict[str, Any]:
    """The propensity comparison's keys (``cox`` rows have ``robust_se`` beside ``se``)."""
    ps = fit.propensity
    at = as_read(fit.survival_at_)[list(SURVIVAL_AT_KEYS)]
    return {
        "propensity": {
            "covariates": list(ps.covariates),
            "weights": "matched" if ps.match else ps.weights,
            "trim": ps.trim,
            "stabilised": ps.stabilise,
            "description": ps.describe(),
            "dropped_missing_covariate": ps.dropped_,
            "unmatched": ps.unmatched_ if ps.match else None,
            "coefficients": records(ps.coefficients_),
        },
        "balance": records(fit.balance_),
        "effective_sample_size": fit.effective_sample_size_,
        "score_overlap": records(fit.overlap_),
        "survival_at": records(at),
        "difference": records(fit.difference_),
        "bootstrap": {"resamples": fit.bootstrap, "seed": fit.seed},
        "cox": records(fit.cox_),
        "evidence": fit.evidence_,
    }


def rates_json(fit: Rates) -> dict[str, Any]:
    """``evaltool rates --json``: the crude rates by cohort and both models (rows: ``term``,
    ``coef``, ``se``, ``robust_se``, ``rate_ratio``, ``ci_low``, ``ci_high``, ``p``)."""
    m = fit.models_
    out: dict[str, Any] = {
        "outcome": fit.outcome,
        "counted": fit.words,
        "follow_up": "from the start date (comparison cohort: referral date) to the extract "
        "date, or the end date for a client who moved away",
        "covariates": list(fit.covariates),
        "n": m.n_,
        "dropped_missing_covariate": m.dropped_,
        "crude": records(m.crude_),
        "poisson": records(m.poisson_),
        "negative_binomial": records(m.negbin_),
        "theta": m.theta_,
        "evidence": fit.evidence_,
    }
    if fit.propensity is not None:
        ps = fit.propensity
        out["propensity"] = {
            "covariates": list(ps.covariates),
            "weights": "matched" if ps.match else ps.weights,
            "description": ps.describe(),
            "coefficients": records(ps.coefficients_),
        }
        out["balance"] = records(fit.balance_)
    return out


def areas_json(fit: AreaDiD) -> dict[str, Any]:
    """``evaltool areas --json``: the stacked difference in differences (``estimate``:
    ``coef``, ``se_cluster``, ``rate_ratio``, ``ci_low``, ``ci_high``, ``p`` with t on
    ``df``, ``e_value`` and ``e_value_ci``, ``p_randomisation``), the ``event_study`` and its
    ``pretrend`` test, the two-way fixed-effects model (``twfe``, a sensitivity analysis), the
    trends by group and year (infants per 10,000 live births) and the evidence."""
    return {
        "model": "Poisson: infants entering care, offset log(live births); stacked by start "
        "year with stack-by-area and stack-by-year effects; standard errors clustered by area",
        "estimate": fit.estimate_,
        "event_study": records(fit.event_study_),
        "pretrend": fit.pretrend_,
        "twfe": fit.twfe_,
        "trends": records(fit.trends_),
        "evidence": fit.evidence_,
    }


def adjusted_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``evaltool compare --propensity --json``'s ``adjusted`` rows: per measure the weighted
    mean changes, their ``difference`` with ``robust_se``, ``ci_low``, ``ci_high``, ``p``,
    ``difference_unweighted``, the ``balance`` rows and the ``evidence`` (or
    ``not_compared``, in words)."""
    out = []
    for row in rows:
        row = dict(row)
        if "balance" in row:
            row["balance"] = records(row["balance"])
        out.append({k: _plain(v) if not isinstance(v, list | dict) else v for k, v in row.items()})
    return out

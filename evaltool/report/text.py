"""Plain-text and CSV output: the problems table, and atomic CSV export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaltool.data.problems import ProblemList
from evaltool.report.json_output import records

if TYPE_CHECKING:
    from evaltool.analysis.areas import AreaDiD
    from evaltool.analysis.comparison import WeightedSurvival
    from evaltool.analysis.rates import Rates
    from evaltool.analysis.survival import TimeToProceedings

COLUMNS = (
    "severity",
    "file",
    "sheet",
    "row",
    "client",
    "column",
    "value",
    "expected",
    "message",
)


def problems_table(report: ProblemList, width: int | None = None) -> str:
    """Every problem, readable at 80 columns: what is wrong first, then where, wrapped at
    words. Repeats of one cause in one column are one entry naming the rows and clients
    (``--report`` writes every problem, one per row)."""
    import shutil
    import textwrap

    width = width or max(60, min(shutil.get_terminal_size((80, 24)).columns, 120))
    groups: dict[tuple, list] = {}
    for p in report.sorted():
        groups.setdefault((p.severity, p.file, p.sheet, p.column, p.message), []).append(p)
    lines: list[str] = []
    for (severity, file, sheet, column, message), members in groups.items():
        head = f"{severity.upper():<7} {message}"
        if len(members) > 1:
            head += f" ({len(members)} rows)"
        lines.append(textwrap.fill(head, width, subsequent_indent=" " * 8, **_WRAP))
        where = ", ".join(x for x in (file, f"sheet {sheet}" if sheet else "") if x)
        rows = [m.row for m in members if m.row is not None]
        clients = list(dict.fromkeys(m.client for m in members if m.client))
        values = list(dict.fromkeys(m.value for m in members if m.value))
        detail = [where] if where else []
        if column:
            detail.append(f"column {column}")
        if rows:
            detail.append(("row " if len(rows) == 1 else "rows ") + _ranges(rows))
        if clients:
            detail.append(("client " if len(clients) == 1 else "clients ") + _some(clients, 5))
        text = ", ".join(detail)
        if values:
            text += f"; found {_some([repr(v) for v in values], 3)}"
        if members[0].expected:
            text += f"; expected {members[0].expected}"
        if text:
            lines.append(
                textwrap.fill(
                    text, width, initial_indent=" " * 8, subsequent_indent=" " * 8, **_WRAP
                )
            )
    lines.append(
        f"{report.error_count} error(s), {len(report.warnings)} warning(s)"
        + (" (every one, a row each: --report problems.csv)" if report.problems else "")
    )
    return "\n".join(lines)


_WRAP = {"break_long_words": False, "break_on_hyphens": False}


def _ranges(rows: list[int], most: int = 8) -> str:
    """5-29, 31, 40-41: consecutive rows as ranges."""
    rows = sorted(set(rows))
    spans, start = [], rows[0]
    for a, b in zip(rows, rows[1:] + [None], strict=True):
        if b != a + 1:
            spans.append(str(start) if start == a else f"{start}-{a}")
            start = b
    return ", ".join(spans[:most]) + (f" and {len(spans) - most} more" if len(spans) > most else "")


def _some(items: list[str], most: int) -> str:
    return ", ".join(items[:most]) + (f" and {len(items) - most} more" if len(items) > most else "")


def problems_csv(report: ProblemList, path: Path, force: bool = False) -> None:
    """Every problem as CSV (text that looks like a formula is neutralised, as in any CSV
    evaltool writes), or as ``.xlsx`` with the values as text (a CSV cannot keep Excel from
    reading the client 00102 as 102)."""
    import pandas as pd

    frame = pd.DataFrame([p.as_dict() for p in report.sorted()], columns=COLUMNS)
    frame["row"] = frame["row"].astype("Int64")  # 2, not 2.0, beside a problem with no row
    if Path(path).suffix.lower() == ".xlsx":  # for Excel: a client 00102 stays 00102
        from evaltool.report.files import write_file
        from evaltool.report.scores_file import table_workbook

        write_file(
            Path(path), lambda tmp: table_workbook(frame, "Problems").save(tmp), force, ".xlsx.tmp"
        )
        return
    from evaltool.report.scores_file import write_csv_atomically

    write_csv_atomically(frame, path, force)


def _f(x, spec: str = ".2f") -> str:
    import math

    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def _p(x) -> str:
    import math

    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def compare_table(comparisons, min_days: int) -> str:
    """The before/after comparisons as a readable text table."""
    head = (
        "instrument",
        "measure",
        "n",
        "first",
        "latest",
        "change [95% CI]",
        "t (df)",
        "p",
        "V",
        "p (Wilcoxon)",
        "dz",
        "g",
        "better/same/worse",
        "p (Holm)",
    )
    rows = [head]
    notes = []
    for r in comparisons.to_dict(orient="records"):
        change = (
            f"{_f(r['mean_change'], '+.2f')} [{_f(r['ci_low'])}, {_f(r['ci_high'])}]"
            if _f(r["ci_low"])
            else _f(r["mean_change"], "+.2f")
        )
        t = f"{_f(r['t'])} ({int(r['df'])})" if _f(r["t"]) else ""
        rows.append(
            (
                r["instrument"],
                r["measure"],
                str(r["n"]),
                _f(r["baseline_mean"]),
                _f(r["latest_mean"]),
                change,
                t,
                _p(r["p_t"]),
                _f(r["wilcoxon_v"], "g"),
                _p(r["p_wilcoxon"]),
                _f(r["dz"]),
                _f(r["g"]),
                f"{r['improved']}/{r['unchanged']}/{r['worse']}",
                _p(r["p_holm"]),
            )
        )
        if r["note"]:
            notes.append(f"{r['instrument']} {r['measure']}: {r['note']}")
        goals = r.get("goals")
        if goals is not None and goals == goals:  # None or NaN: not read per goal
            notes.append(
                f"{r['instrument']} {r['measure']}: n = {r['n']} parents ({int(goals)} "
                "goals); each parent's pair is the mean of their goals' first and latest "
                "readings (goals of one parent are not independent)"
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append("")
    lines.append(
        f"Pairs: first and latest reading per unit, at least {min_days} days apart. "
        "Wilcoxon: zero changes dropped, ties mid-ranked, normal approximation with "
        "continuity correction (R: exact=FALSE, correct=TRUE). Holm across the "
        "measures of each instrument."
    )
    from evaltool.analysis.evidence import evidence

    lines.append(evidence("before-after")["statement"])
    lines += notes
    return "\n".join(lines)


def survival_text(result: TimeToProceedings, analysis: str | None = None) -> str:
    """The survival analysis as readable text, with the strength of evidence of the cohorts'
    comparison (``analysis``: whether it is the primary analysis or a sensitivity one)."""
    from evaltool.analysis.survival.km import as_read
    from evaltool.analysis.survival.returns import OUTCOME_WORDS
    from evaltool.analysis.survival.table import ENTRY_WORDS

    lines = [
        f"Time to next care proceedings ({OUTCOME_WORDS[result.outcome]}): origin "
        f"{result.origin}, follow-up to {result.extract_date_}, 95% CI {result.ci} transform",
        f"Entry ({result.entry}): {ENTRY_WORDS[result.entry]} (delayed entry)",
        f"Clients analysed: {len(result.table_)}; new proceedings: "
        f"{int(result.table_['event'].sum())}",
    ]
    for r in records(result.exclusions_):
        lines.append(f"  excluded: {r['Clients']} ({r['Reason']})")
    lines.append("")
    head = (
        "group",
        "days",
        "at risk",
        "events",
        "free of new proceedings [95% CI]",
        "new proceedings [95% CI]",
    )
    rows = [head]
    for r in records(as_read(result.survival_at_)):
        if r["not_estimated"]:  # nobody had joined yet: R's S = 1 is no measurement
            s, i = r["not_estimated"], "not estimated"
        elif r["survival"] is None:
            s = i = "not followed up this long"
        else:
            s = f"{r['survival']:.1%} [{_f(r['ci_low'], '.1%')}, {_f(r['ci_high'], '.1%')}]"
            i = (
                f"{r['cumulative_incidence']:.1%} [{_f(r['ci_incidence_low'], '.1%')}, "
                f"{_f(r['ci_incidence_high'], '.1%')}]"
            )
        rows.append((r["group"], str(r["days"]), str(r["at_risk"]), str(r["events"]), s, i))
    widths = [max(len(row[k]) for row in rows) for k in range(len(head))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append("")
    for m in records(result.medians_):
        med = "not reached" if m["median_days"] is None else f"{m['median_days']:g} days"
        lines.append(
            f"median ({m['group']}): {med} [95% CI {_f(m['median_ci_low'], 'g') or 'NA'}"
            f", {_f(m['median_ci_high'], 'g') or 'NA'}]"
        )
    if result.logrank_:
        lr = result.logrank_
        lines.append(
            f"log-rank ({' vs '.join(lr['groups'])}): chi-square {lr['chi2']:.3f}, "
            f"df {lr['df']}, p {_p(lr['p'])}"
        )
    if result.cox_ is not None:
        lines.append("")
        lines.append("Cox model (Efron ties): covariate, HR [95% CI], coef (SE), p")
        for c in records(result.cox_):
            lines.append(
                f"  {c['covariate']}: {c['hr']:.3f} [{c['hr_low']:.3f}, "
                f"{c['hr_high']:.3f}], {c['coef']:.4f} ({c['se']:.4f}), p {_p(c['p'])}"
            )
        for c in records(result.ph_test_):
            lines.append(
                f"  proportional hazards (cox.zph), {c['covariate']}: chi-square "
                f"{_f(c['chi2'], '.3f') or 'not tested'} on {c['df']} df, p {_p(c['p'])}"
            )
    if result.competing_ is not None:
        lines.append(
            "new proceedings with death as a competing risk (Aalen-Johansen; parents who died "
            "can have no new proceedings):"
        )
        for r in records(as_read(result.competing_)):
            if r["not_estimated"]:
                lines.append(f"  {r['group']}, by {r['days']} days: {r['not_estimated']}")
                continue
            lines.append(
                f"  {r['group']}, by {r['days']} days: {_f(r['incidence'], '.1%')} "
                f"[{_f(r['ci_low'], '.1%')}, {_f(r['ci_high'], '.1%')}]; died first "
                f"{_f(r['died'], '.1%')}"
            )
    if result.evidence_ is not None:
        lines.append(" ".join(filter(None, [analysis, result.evidence_["statement"]])))
    if result.benchmark_:
        b = result.benchmark_
        lines.append(f"benchmark: {b['label']} ({b['source']})")
        if not b["compared"]:
            lines.append(f"  {b['measured']}: {b['not_compared']}")
        for r in b["rows"]:
            ours = (
                r["not_estimated"]
                if r.get("not_estimated")
                else f"not followed up this long (longest {b['longest_follow_up_days']:g} days)"
                if r["incidence"] is None
                else f"{r['incidence']:.1%} [{r['ci_low']:.1%}, {r['ci_high']:.1%}]"
            )
            lines.append(
                f"  by {r['days']} days: benchmark {r['benchmark_incidence']:.1%}; "
                f"service {b['population']}: {ours}"
            )
    return "\n".join(lines)


def weighted_text(fit: WeightedSurvival) -> str:
    """The propensity comparison as readable text: the model, the balance, the weighted
    figures and the strength of evidence."""
    ps = fit.propensity
    lines = ["", f"Comparison of the cohorts: {ps.describe()}"]
    if ps.dropped_:
        lines.append(f"  {ps.dropped_} client(s) left out: a covariate is blank")
    if ps.match and ps.unmatched_:
        lines.append(
            f"  {ps.unmatched_} service client(s) with no match within the caliper: left out"
        )
    lines.append("  balance (standardised mean difference before -> after; variance ratio):")
    for r in records(fit.balance_):
        flag = "  NOT BALANCED (|SMD| > 0.1)" if r["imbalanced"] else ""
        lines.append(
            f"    {r['covariate']}: {r['smd_unweighted']:+.3f} -> {r['smd_weighted']:+.3f}; "
            f"{r['variance_ratio']:.2f}{flag}"
        )
    ess = fit.effective_sample_size_
    lines.append(
        f"  effective sample size: service {ess['service']:.1f}, comparison {ess['comparison']:.1f}"
    )
    for r in records(fit.difference_):
        if r["not_estimated"]:
            lines.append(f"  by {r['days']} days, service less comparison: {r['not_estimated']}")
            continue
        lines.append(
            f"  by {r['days']} days, service less comparison: {r['difference']:+.1%} "
            f"[{_f(r['ci_low'], '+.1%')}, {_f(r['ci_high'], '+.1%')}] "
            f"(unweighted {r['difference_unweighted']:+.1%})"
        )
    c = records(fit.cox_)[0]
    lines.append(
        f"  weighted Cox, service vs comparison: hazard ratio {c['hr']:.3f} "
        f"[{c['hr_low']:.3f}, {c['hr_high']:.3f}] (robust SE {c['robust_se']:.4f}"
        + (", clustered by matched pair" if ps.pairs_ is not None else "")
        + "), "
        f"p {_p(c['p'])}"
    )
    lines.append(f"  {fit.evidence_['statement']}")
    return "\n".join(lines)


def rates_text(fit: Rates) -> str:
    """Rates per client-year and the rate ratios, as readable text."""
    m = fit.models_
    lines = [f"Rates of {fit.words} per 100 client-years of follow-up"]
    for r in records(m.crude_):
        lines.append(
            f"  {r['group']}: {r['events']} in {r['client_years']:.1f} client-years "
            f"({r['clients']} clients): {r['rate_per_100']:.1f} per 100"
            + (f"; weighted {r['weighted_rate_per_100']:.1f}" if fit.propensity is not None else "")
        )
    for name, rows in (("Poisson", m.poisson_), ("negative binomial", m.negbin_)):
        c = records(rows)[1]  # the cohort: service against comparison
        lines.append(
            f"  {name}: rate ratio, service vs comparison {c['rate_ratio']:.3f} "
            f"[{c['ci_low']:.3f}, {c['ci_high']:.3f}], p {_p(c['p'])} (robust SE "
            f"{c['robust_se']:.4f})"
        )
    lines.append(f"  negative binomial theta {m.theta_:.4g}")
    if fit.propensity is not None:
        lines.append(f"  weighted: {fit.propensity.describe()}")
    lines.append(f"  {fit.evidence_['statement']}")
    return "\n".join(lines)


def areas_text(fit: AreaDiD) -> str:
    """The area comparison as readable text: the stacked estimate, the event study and its
    pre-trend test, the two-way model as a sensitivity analysis, and the trends."""
    e, w = fit.estimate_, fit.twfe_
    lines = [
        f"Infants entering care: {e['service_areas']} service areas against "
        f"{e['areas'] - e['service_areas']} comparator areas, {e['area_years']} area-years",
        f"  {e['estimator']}: rate ratio in the service period {e['rate_ratio']:.3f} "
        f"[{e['ci_low']:.3f}, {e['ci_high']:.3f}], p {_p(e['p'])} (t on {e['df']} df, standard "
        f"error clustered by area {e['se_cluster']:.4f}); randomisation inference p "
        f"{_f(e['p_randomisation'], '.3f') or 'not worked out'} ({e['permutations']} draws); "
        f"E-value {e['e_value']:.2f}, of the CI limit nearer 1 {e['e_value_ci']:.2f}",
        "  event study (rate ratio by years from each area's start; -1 is the reference, the "
        "ends binned):",
    ]
    for r in records(fit.event_study_):
        if r["years_from_start"] == -1:
            lines.append("    -1: 1 (reference)")
            continue
        lines.append(
            f"    {r['years_from_start']:+d}"
            f"{(' or later' if r['years_from_start'] > 0 else ' or earlier') * r['binned']}: "
            f"{r['rate_ratio']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
        )
    lines.append(f"  before the start: {fit.pretrend_['why']}")
    lines.append(
        f"  sensitivity analysis, two-way fixed effects (uses areas already served as controls "
        f"when starts are staggered): rate ratio {w['rate_ratio']:.3f} [{w['ci_low']:.3f}, "
        f"{w['ci_high']:.3f}], p {_p(w['p'])}; E-value {w['e_value']:.2f}, of the CI limit "
        f"nearer 1 {w['e_value_ci']:.2f}"
    )
    lines.append("  infants entering care per 10,000 live births:")
    for r in records(fit.trends_):
        running = " (service running)" if r["service_running"] else ""
        lines.append(f"    {r['group']} {r['financial_year']}: {r['per_10000']:.1f}{running}")
    lines.append(f"  {fit.evidence_['statement']}")
    return "\n".join(lines)


def adjusted_text(rows: list[dict[str, Any]], propensity: Any) -> str:
    """The adjusted before/after comparison of the cohorts, as readable text."""
    lines = [
        "",
        f"Change compared between the cohorts: {propensity.describe()}",
        "  Parents are the units: the propensity model is fitted on parents, each parent counts "
        "once (their goals share their weight), and the standard error is clustered by "
        + ("matched pair" if propensity.match and not propensity.replace else "parent")
        + ", as R's sandwich::vcovCL.",
    ]
    for r in rows:
        name = f"  {r['instrument']} {r['measure']}: "
        if "not_compared" in r:
            lines.append(name + f"not compared ({r['not_compared']})")
            continue
        lines.append(
            name + f"service {r['mean_service']:+.2f}, comparison {r['mean_comparison']:+.2f} "
            f"(parents {r['n_service']} and {r['n_comparison']}"
            + (
                f"; goals {r['rows_service']} and {r['rows_comparison']}"
                if (r.get("rows_service"), r.get("rows_comparison"))
                != (r["n_service"], r["n_comparison"])
                else ""
            )
            + "); difference "
            f"{r['difference']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}], p {_p(r['p'])} "
            f"(unadjusted {r['difference_unweighted']:+.2f})"
        )
        if "not_yet" in r:  # a fixed-horizon outcome: those not at the horizon, beside it
            lines.append(
                f"    not yet followed for the whole horizon: {r['not_yet']} (of whom "
                f"{r['not_yet_already_not_met']} already not met; not counted, as those met "
                f"cannot be yet); lost to follow-up: {r['lost']}"
            )
        lines.append(f"    {r['evidence']['statement']}")
    return "\n".join(lines)

"""The board summary: one printable page in plain English, for a commissioner or a board.

The same key figures as the return's Summary sheet (read from ``key_figures.py``, from the same
protected publication: nothing is worked out again and nothing hidden there shows here), the
caveats, the instruments' headlines, and three charts drawn with matplotlib from published
figures only (activity by quarter, distance travelled by domain, time to next proceedings),
each embedded as an image with alt text. ``.pdf`` is the same page printed by a headless
Chromium where one is installed.
"""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltool.errors import OutputError
from evaltool.report.formats import SYMBOL_PROFILES, hiding_words, symbol_key
from evaltool.report.words import glossed

if TYPE_CHECKING:
    from evaltool.report.output import Output

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

CSS = """
@page { size: A4 portrait; margin: 10mm 12mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 9.5pt; color: #1b1b1b;
       max-width: 190mm; margin: auto; }
h1 { font-size: 16pt; margin: 0 0 2pt 0; }
h2 { font-size: 11.5pt; margin: 8pt 0 3pt 0; }
p.meta { color: #555; margin: 0 0 6pt 0; }
.marking { float: right; font-weight: bold; }
p.status { font-weight: bold; color: #C00000; margin: 0 0 6pt 0; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 2pt 4pt; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #DDEBF7; text-align: right; font-size: 9pt; }
th:first-child, td:first-child { text-align: left; }
tbody th { background: none; font-size: 10pt; font-weight: normal; }
td { text-align: right; }
ul.caveats { font-size: 8.5pt; color: #444; margin: 4pt 0; padding-left: 14pt; }
dl { display: grid; grid-template-columns: 42mm auto; gap: 1pt 6pt; margin: 0; }
dt { font-weight: bold; }
dd { margin: 0; }
.charts { display: flex; gap: 4mm; }
figure { margin: 0; flex: 0 0 31%; }  /* a third each, however many are drawn */
figure img { width: 100%; }
figcaption { font-size: 8pt; color: #444; }
footer { font-size: 8pt; color: #555; margin-top: 6pt; }
"""


def _caption(alt: str) -> str:
    """A chart's caption: the first sentence of its alt text, which names the chart (the
    alt text's note that it reads out only the latest quarters is not about the picture)."""
    return re.sub(r" \(the latest \d+ of \d+; all are in the table\)", "", alt.split(". ")[0])


def _figure(value: Any, percent: bool, profile: str) -> str:
    """A key figure (``summary.printed_key_value``) as the Summary sheet shows it."""
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return SYMBOL_PROFILES[profile][":"]
    return f"{value:.1%}" if percent else f"{int(value):,}"


def _axes(title: str):
    """One small chart's figure and axes, styled alike (matplotlib is imported only here)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.3, 2.7))
    ax.set_title(title, fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    for ax in fig.axes:
        ax.tick_params(labelsize=7)

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not pd.isna(value) else None


def activity_png(shown: pd.DataFrame, gaps: bool = False) -> str:
    """Referrals, starts and caseload by quarter; a hidden figure is a gap, which the title
    says where there is one."""
    fig, ax = _axes("Activity by quarter" + (" (a gap: a hidden figure)" if gaps else ""))
    x = list(range(len(shown)))
    for name, label in (
        ("Referrals", "Referrals"),
        ("Starts", "Starts"),
        ("Active caseload at quarter end", "Caseload at quarter end"),
    ):
        ax.plot(x, [_number(v) for v in shown[name]], marker="o", markersize=3, label=label)
    step = max(1, -(-len(x) // 4))  # at most four labels, so that they never run together
    ax.set_xticks(x[::step], [str(q).replace(" ", "\n") for q in shown["Quarter"]][::step])
    ax.set_ylabel("People")
    ax.yaxis.get_major_locator().set_params(integer=True)  # people come in whole numbers
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, frameon=False)
    return _png(fig)


def distance_png(shown: pd.DataFrame, scale: str) -> str:
    """Mean distance travelled per domain, first to latest reading; hidden domains left out."""
    rows = [
        (d, _number(v))
        for d, v in zip(shown.iloc[:, 0], shown["Mean distance travelled"], strict=True)
    ]
    rows = [(d, v) for d, v in rows if v is not None][::-1]
    fig, ax = _axes("Distance travelled by domain")
    ax.barh([str(d) for d, _ in rows], [v for _, v in rows], color="#1F77B4")
    ax.axvline(0, color="#333", linewidth=0.8)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel(f"Mean change, first to latest reading ({scale})", fontsize=7)
    return _png(fig)


def survival_png(shown: pd.DataFrame, benchmark: Any) -> str:
    """The published points of the fixed-time table (never the steps), the benchmark as its
    points."""
    from evaltool.report.km_chart import DAYS_PER_MONTH, HIGH, INCIDENCE, LOW, published_points

    fig, ax = _axes("Time to new care proceedings")
    from matplotlib.ticker import PercentFormatter

    groups = published_points(shown)
    chosen = [g for g in ("service", "comparison") if g in groups] or list(groups)
    for group in chosen:
        p = groups[group]
        keep = [i for i, v in enumerate(p[INCIDENCE]) if v is not None]
        if not keep:  # nothing of this group to draw: no legend entry either
            continue
        months = [p["months"][i] for i in keep]
        (line,) = ax.plot(months, [p[INCIDENCE][i] for i in keep], marker="o", label=group)
        for key in (LOW, HIGH):
            both = [i for i in keep if p[key][i] is not None]
            ax.plot(
                [p["months"][i] for i in both],
                [p[key][i] for i in both],
                linestyle="--",
                linewidth=0.8,
                color=line.get_color(),
            )
    if benchmark is not None:  # its published points, never a line beyond them
        ax.plot(
            [p.days / DAYS_PER_MONTH for p in benchmark.points],
            [p.incidence for p in benchmark.points],
            marker="D",
            color="#595959",
            linestyle="none",
            label=f"national figure ({benchmark.points_text()})",
        )
    ax.set_xlabel("Months since the origin (dashed: 95% CI)", fontsize=7)
    ax.set_ylabel("Share with new proceedings", fontsize=7)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    ax.legend(fontsize=7, frameon=False)
    return _png(fig)


def _overlap_chart(output: Output) -> tuple[str, str] | None:
    """How the cohorts' propensity scores overlap: the share of each cohort in each range of
    scores, ranges merged until none holds 1 to threshold parents of a cohort."""
    from evaltool.report.survival_tables import CMP_BALANCE, CMP_OVERLAP

    shown = output.publication.shown
    if CMP_BALANCE not in shown or CMP_OVERLAP not in shown:
        return None
    overlap = shown[CMP_OVERLAP]
    if bool(overlap.suppressed.to_numpy().any()):  # a share of a hidden count: no chart
        return None
    table = overlap.values
    fig, ax = _axes("Propensity scores of the cohorts")
    labels = [
        f"{a:.1f}-{b:.1f}" for a, b in zip(table["Score from"], table["Score to"], strict=True)
    ]
    x = np.arange(len(table))
    words = []
    for offset, group in ((-0.2, "service"), (0.2, "comparison")):
        counts = table[group.capitalize()].astype(float)
        share = counts / counts.sum()
        ax.bar(x + offset, share, width=0.4, label=group)
        words.append(
            f"{group}: "
            + ", ".join(f"{v:.0%} in {lab}" for v, lab in zip(share, labels, strict=True))
        )
    ax.set_xticks(x, labels, rotation=45, fontsize=6)
    ax.set_ylabel("Share of the cohort", fontsize=7)
    ax.legend(fontsize=7, frameon=False)
    alt = (
        "Bar chart of how the propensity scores of the two cohorts overlap, as shares of each "
        "cohort by range of score. " + "; ".join(words)
    )
    return _png(fig), alt


#: why a chart is not drawn (the board's words for ``workbook.NO_CHART``)
NO_CHART_WHY = "fewer than two of its figures can be shown (small numbers are hidden)."


def _charts(output: Output) -> list[tuple[str, str]]:
    """(base64 PNG, alt text) for each chart the publication can support: two shown points
    or more (one point is no line; a chart of hidden figures would be empty)."""
    from evaltool.report.excel import km_alt_text
    from evaltool.report.km_chart import INCIDENCE, charted
    from evaltool.report.workbook import alt_text, plotted

    pub = output.publication
    out = []
    activity = pub.shown["activity"].values
    names = ["Referrals", "Starts", "Active caseload at quarter end"]
    drawn, gaps = plotted(activity, names)
    if drawn:  # where a point is missing, the caption says why
        title = "Line chart of activity by quarter" + (". A gap is a hidden figure" if gaps else "")
        out.append((activity_png(activity, gaps), alt_text(title, activity, "Quarter", names, 4)))
    else:  # said, not drawn empty (no PNG: the page prints the words)
        out.append(("", f"No chart of activity by quarter: {NO_CHART_WHY}"))
    for name, title in output.facts.instruments:
        radar = [t for t in pub.sheets.get(name, []) if t.chart == "radar"]
        if not radar:
            continue
        shown = radar[-1].values  # to date
        if (
            "Mean distance travelled" not in shown
            or not plotted(shown, ["Mean distance travelled"])[0]
        ):
            continue
        out.append(
            (
                distance_png(shown, title),
                alt_text(
                    f"Bar chart of the mean distance travelled in each domain of {title}, to date",
                    shown,
                    shown.columns[0],
                    ["Mean distance travelled"],
                ),
            )
        )
        break
    overlap = _overlap_chart(output)
    if overlap is not None:
        out.append(overlap)
    if "km" in pub.shown and not plotted(charted(pub.shown["km"].values), [INCIDENCE], 1)[0]:
        out.append(("", f"No chart of the time to new care proceedings: {NO_CHART_WHY}"))
    elif "km" in pub.shown:
        km = pub.shown["km"].values
        # a benchmark point on the service's chart only when measured like for like
        bench = pub.texts.get("survival", {}).get("benchmark") or {}
        like = output.facts.benchmark if bench.get("compared") else None
        out.append((survival_png(km, like), km_alt_text(km, like)))
    return out


#: the weighting named in a comparison's design, in words (with the Cox model behind its figure)
ATT_ATE = (
    f"Weights: {glossed('ATT / ATE')}: ATT speaks for parents like the service's, ATE for all. "
    f"The figure is from a {glossed('Cox model')}. Strength of evidence: the level on the "
    f"{glossed('Maryland scale')}."
)


def _comparison_html(output: Output) -> str:
    """The propensity comparison, as the return's Time to next proceedings sheet has it: the
    design, the hazard ratio, the balance before and after, and the strength of evidence."""
    from evaltool.report.survival_tables import CMP_BALANCE

    pub = output.publication
    words = pub.texts.get("comparison")
    if words is None or CMP_BALANCE not in pub.shown:
        return ""
    e = html.escape
    hr_words = (
        "not shown, as it rests on counts hidden in this return"
        if words["hr"] is None
        else "{:.2f} (95% CI {:.2f} to {:.2f})".format(*words["hr"])
    )
    b = pub.shown[CMP_BALANCE].values
    balance = "; ".join(
        f"{c} {before:+.2f} to {after:+.2f}"
        for c, before, after in zip(b["Covariate"], b["SMD before"], b["SMD after"], strict=True)
    )
    return (
        "<h2>Comparison with parents who did not receive the service, adjusted</h2>"
        f"<p id='comparison'>Groups compared: each {e(glossed('cohort'))}. Design: "
        f"{e(words['design'])}. {e(glossed('hazard ratio').capitalize())}, "
        f"service vs comparison: {hr_words}. Balance (standardised mean difference before "
        f"to after; within 0.1 is balanced): {e(balance)}. {e(words['evidence'])} "
        f"{e(ATT_ATE)}</p>"
    )


def _value_html(output: Output) -> str:
    """The value-for-money paragraph ([value] enabled), only when the return shows its
    figures: a figure hidden on the sheet is not printed here either."""
    text = output.publication.texts.get("value")
    if text is None:
        return ""
    return f"<h2>Value for money</h2><p id='value'>{html.escape(text)}</p>"


def board_html(output: Output) -> str:
    """The page, as one self-contained HTML document."""
    from evaltool.report.key_figures import key_figures, mostly_hidden, printed_key_value
    from evaltool.report.publish import headline_text

    pub, f = output.publication, output.facts
    e = html.escape
    windows = f.windows
    head = "".join(f"<th scope='col'>{e(w.name)}<br>({e(w.label)})</th>" for w in windows)
    rows = []
    for k in key_figures(pub):
        cells = "".join(
            f"<td>{e(_figure(printed_key_value(pub, k, w, f.symbols), k.percent, f.symbols))}</td>"
            for w in range(len(windows))
        )
        rows.append(f"<tr><th scope='row'>{e(k.words)}</th>{cells}</tr>")
    why = None if output.shared else mostly_hidden(pub, f.threshold, f.period.code)
    lines = "".join(f"<li>{e(c)}</li>" for c in [*pub.caveats, *([why] if why else [])])
    said = {
        title: headline_text(pub.headlines.get(name, ""), pub, name, f.symbols)
        for name, title in f.instruments
    }
    headlines = "".join(f"<dt>{e(title)}</dt><dd>{e(text)}</dd>" for title, text in said.items())
    charts = _charts(output)
    figures = "".join(
        f"<figure><img src='data:image/png;base64,{png}' alt='{e(alt, quote=True)}'>"
        f"<figcaption>{e(_caption(alt))}.</figcaption></figure>"
        for png, alt in charts
        if png
    )
    # in the chart's place, in the row of charts: the page keeps its length
    no_charts = "".join(
        f"<figure class='none'><p class='note'>{e(alt)}</p></figure>"
        for png, alt in charts
        if not png
    )
    key = "; ".join(
        f"{e(sym)} {e(meaning.split(':')[0].split(' (')[0])}"
        for sym, meaning in symbol_key(f.symbols, output.shared)
    )
    from evaltool.report.output import DRAFT_MARKING

    marking = e("INTERNAL – NOT FOR CIRCULATION" if output.internal is not None else output.marking)
    if output.draft:
        marking = f"{e(DRAFT_MARKING)} · {marking}"
    status = "" if output.status == "final" else f"<p class='status'>{e(output.status_text())}</p>"
    hiding = (
        "Exact counts: nothing is hidden (shared under agreement, not for publication)."
        if output.shared
        else f"Counts from 1 to {f.threshold}, and any figure from which one "
        f"could be {hiding_words(f.keep)}, are hidden."
    )
    comparison = _comparison_html(output)
    value = _value_html(output)
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>{e(f.service)}: board summary, {e(f.period.label)}</title>
<style>{CSS}</style></head>
<body>
<span class="marking">{marking}</span>
<h1>{e(f.service)}: board summary</h1>
{status}
<p class="meta">{e(f.period.describe())}. Data extracted {f.extract_date:%d %b %Y};
figures as at {f.period.end:%d %b %Y}.
The same figures as the Summary sheet of the quarterly return.</p>
<h2>Key figures (the parents this service works with)</h2>
<table id="key-figures"><thead><tr><th scope="col">Figure</th>{head}</tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<ul class="caveats">{lines}</ul>
{comparison}
{value}
<div class="charts">{figures}{no_charts}</div>
<h2>What the instruments show, from the first record to the period end</h2>
<dl>{headlines}</dl>
<footer>Symbols: {key}. {hiding} Made with evaltool; the return's Definitions sheet says how
each figure is worked out. <span class="marking">{marking}</span></footer>
</body></html>
"""


def render_html(output: Output, path: str) -> None:
    """The built-in ``html`` output: the board summary page."""
    Path(path).write_text(board_html(output), encoding="utf-8")


def browser() -> str | None:
    """A headless-capable Chromium or Chrome on the PATH, if any."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def render_pdf(output: Output, path: str) -> None:
    """The built-in ``pdf`` output: the board summary printed by headless Chromium."""
    chrome = browser()
    if chrome is None:
        raise OutputError(
            "no program to print the board summary as PDF was found: install Chromium "
            "(apt-get install chromium), or write --out board.html and print it from a browser"
        )
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "board.html"
        page.write_text(board_html(output), encoding="utf-8")
        pdf = Path(folder) / "board.pdf"
        try:
            subprocess.run(
                [
                    chrome,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}",
                    page.as_uri(),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            raise OutputError(
                f"{Path(chrome).name} could not print the board summary ({type(exc).__name__}); "
                "write --out board.html and print it from a browser"
            ) from None
        if not pdf.exists() or pdf.stat().st_size == 0:
            raise OutputError(f"{Path(chrome).name} wrote no PDF; write --out board.html instead")
        Path(path).write_bytes(pdf.read_bytes())

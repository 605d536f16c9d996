"""The key figures of the Summary: a few figures in plain words, in five windows, each one a
cell of the table on the sheet it comes from (read from the protected publication, never
worked out again), with what each comparison can and cannot show.

The return's Summary sheet, the JSON and the board summary all read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evaltool.analysis.windows import (
    CASELOAD_END,
    FOLLOWED,
    RECURRENCE,
    SHARE,
)
from evaltool.report.formats import printed_value, shown_symbol

if TYPE_CHECKING:
    from evaltool.core import Results
    from evaltool.report.publish import Publication, Published


@dataclass(frozen=True)
class KeyFigure:
    """One row of the key figures: its words, and the column of the table it is read from
    (row ``w`` of that table is window ``w``)."""

    words: str
    table: str
    column: str
    percent: bool = False

    @property
    def number_format(self) -> str:
        return "0.0%" if self.percent else "#,##0"


def key_figures(pub: Publication | Published) -> list[KeyFigure]:
    """Recurrence first (the outcome these services exist for), then the service's activity."""
    rows = []
    if RECURRENCE in pub.shown:
        rows += [
            KeyFigure(
                "Of parents followed for a year from the day they joined us, the share with "
                "new care proceedings within that year",
                RECURRENCE,
                SHARE,
                percent=True,
            ),
            KeyFigure("Parents followed for a year after joining", RECURRENCE, FOLLOWED),
        ]
    rows += [
        KeyFigure("Parents referred to us", "activity-windows", "Referrals"),
        KeyFigure("Parents who started with us", "activity-windows", "Starts"),
        KeyFigure("Parents who finished with us", "activity-windows", "Closures"),
        KeyFigure("Parents working with us at the end", "activity-windows", CASELOAD_END),
    ]
    return rows


def key_value(pub: Publication | Published, figure: KeyFigure, window: int) -> Any:
    """The shown value (a number or a symbol) of a key figure in one window."""
    return pub.shown[figure.table].values.iloc[window][figure.column]


def printed_key_value(
    pub: Publication | Published, figure: KeyFigure, window: int, profile: str
) -> Any:
    """The key figure as every output prints it: rounded to its format, symbols the
    profile's."""
    raw = key_value(pub, figure, window)
    return shown_symbol(printed_value(raw, figure.number_format), profile)


def key_values(pub: Publication | Published) -> list[list[Any]]:
    """Each key figure's shown values (numbers or symbols), window by window."""
    windows = len(pub.shown["activity-windows"].values) if "activity-windows" in pub.shown else 0
    return [[key_value(pub, f, w) for w in range(windows)] for f in key_figures(pub)]


def mostly_hidden(pub: Publication | Published, threshold: int, period: str) -> str | None:
    """Why most key figures are hidden, where they are (at least half of their cells): the
    reader of a small service's return sees a page of ``c`` otherwise, with no reason."""
    from evaltool.report.disclosure import RANGE, SUPPRESSED

    cells = [v for row in key_values(pub) for v in row]
    ranged = sum(isinstance(v, str) and RANGE.match(v) is not None for v in cells)
    hidden = sum(v == SUPPRESSED for v in cells) + ranged
    if not cells or 2 * hidden < len(cells):
        return None
    earlier = [p for p in pub.earlier_periods if p.split(" ")[0] != period]  # not this one's
    since = (
        f" The earlier returns ({', '.join(earlier)}) count too: a figure that differs from "
        f"one already sent by {threshold} people or fewer would give those people away, so it "
        f"waits until it has moved by more than {threshold}."
        if earlier
        else ""
    )
    shown_as = (
        f" ({ranged} of them given as the range of tens they are in, '0 to 9', '10 to 19')"
        if ranged
        else ""
    )
    return (
        f"{hidden} of the {len(cells)} key figures are hidden{shown_as}: with few parents, "
        f"most counts in a window are {threshold} or fewer, and a figure from which one could "
        f"be worked out is hidden too.{since}"
    )


def caveats(results: Results) -> list[str]:
    """One line for each kind of comparison the Summary invites (kept in the publication:
    ``Publication.caveats``)."""
    from evaltool.analysis.evidence import DESIGNS
    from evaltool.report.words import glossed

    def level(design: str) -> str:
        return f" (strength of evidence: level {DESIGNS[design][1]} of 5)"

    out = [
        "Windows: each figure counts what happened in the window; 'followed for a year' counts "
        "parents whose first year after joining us ended in it (time before joining is not "
        "counted: no new proceedings could be seen in it).",
        "Change over time: these parents were not chosen at random, and need and referral "
        "patterns change; a difference between windows shows what happened, not what the "
        "service caused" + level("before-after") + ".",
    ]
    survival = results.survival
    if survival is not None and survival.logrank_ is not None:
        out.append(
            "Comparison group (on the Time to next proceedings sheet): parents who did not "
            "receive the service, not chosen at random; a difference may come from who was "
            "referred rather than from the service" + level(survival.evidence_["design"]) + "."
        )
    compared = survival.benchmark_ if survival is not None else None
    if compared is not None:
        how = (
            "set beside this service's own figure, measured like for like"
            if compared["compared"]
            else f"{compared['measured']} ({compared['not_compared']})"
        )
        out.append(
            f"National figure ({compared['label']}"
            + (f", published {compared['published']}" if compared["published"] else "")
            + "): "
            f"other parents, in another period; {how}; a guide to scale, not the effect of "
            "the service" + level("benchmark") + "."
        )
    out.append(f"Strength of evidence: the level on the {glossed('Maryland scale')}.")
    return out

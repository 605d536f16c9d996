"""Plain words for the terms of statistics a manager meets in a return (issue 25, point 8).

Each term has one sentence; the Definitions sheet lists them first, and where the Summary, the
board page or the Cover has to use a term, ``glossed`` writes it with its short gloss beside
it. ``tests/test_words.py`` reads those pages and fails on any term without its gloss.
"""

from __future__ import annotations

from evaltool.instruments.base import Definition

#: term -> (short gloss, written beside the term; one sentence for the Definitions sheet)
TERMS: dict[str, tuple[str, str]] = {
    "Kaplan-Meier": (
        "the share with new proceedings by each time, counting parents followed for part of it",
        "A way of estimating the share of parents with new care proceedings by a given time "
        "that also counts parents followed for only part of that time, up to the day they "
        "were last seen.",
    ),
    "Cox model": (
        "compares how soon new proceedings came in two groups, allowing for other differences",
        "A statistical model that compares how soon new care proceedings came for two groups "
        "of parents while allowing for other differences between them, such as age.",
    ),
    "hazard ratio": (
        "above 1: new proceedings came sooner for the service's parents; below 1: later",
        "From the Cox model: how many times more likely (above 1) or less likely (below 1) the "
        "service's parents were, at any moment, to have new care proceedings than the "
        "comparison parents.",
    ),
    "cohort": (
        "a group of parents: the service's own, or a comparison group",
        "A group of parents: the service cohort are the parents the service works with; the "
        "comparison cohort are parents who did not receive the service.",
    ),
    "origin": (
        "the day the time to new proceedings is counted from",
        "The day from which the time to new care proceedings is counted: with index-issue, "
        "the day the proceedings before the service began (the index proceedings) were "
        "issued.",
    ),
    "entry": (
        "the day a parent is first counted as followed up",
        "The day a parent is first counted as followed up, which can be later than the origin "
        "(for example the day the service started): nothing before it counts.",
    ),
    "CI transform": (
        "how the 95% confidence intervals are worked out",
        "How the 95% confidence intervals of a share are worked out (log or log-log); it "
        "changes the intervals a little and never the share itself.",
    ),
    "95% CI": (
        "the range the true figure is likely to lie in, allowing for chance",
        "Confidence interval: the range in which the true figure is likely to lie, allowing "
        "for chance; a wide range means the figure is uncertain.",
    ),
    "Maryland scale": (
        "1 = a before-and-after look or unmatched comparison, 5 = a randomised trial",
        "How strong the evidence is that the service caused a difference, from level 1 (a "
        "before-and-after look, or a comparison with parents not matched to the service's) to "
        "level 5 (a randomised trial).",
    ),
    "dz": (
        "the average change against how much the changes vary: 0.2 small, 0.5 medium, 0.8 large",
        "Cohen's dz: the average change divided by how much the changes vary between parents; "
        "about 0.2 is a small change, 0.5 medium and 0.8 large.",
    ),
    "Hedges' g": (
        "dz corrected for small groups; read it like dz",
        "dz made slightly smaller to correct its overstatement in small groups; read it as "
        "dz is read (0.2 small, 0.5 medium, 0.8 large).",
    ),
    "Holm": (
        "p-values adjusted because several measures were tested at once",
        "An adjustment of p-values when several measures are tested at once, so that a chance "
        "finding in one of them is not taken for a real change.",
    ),
    "Wilcoxon V": (
        "a test of whether changes were mostly up or mostly down",
        "A test of whether changes were mostly up or mostly down that does not assume they "
        "follow a bell curve; V adds up the ranks of the increases.",
    ),
    "[z]": (
        "not applicable",
        "Not applicable: for example a share of nobody, or a figure for a group with no one in it.",
    ),
    "[x]": ("not available", "Not available: there are no data to work the figure out from."),
    "client-years": (
        "time with the service added up over parents",
        "The time parents were with the service added up: 100 client-years is 100 parents for "
        "a year, or 200 parents for six months.",
    ),
    "ATT / ATE": (
        "whom a weighted comparison speaks for",
        "Two ways of weighting a comparison: ATT estimates the effect on parents like those "
        "the service worked with; ATE the effect on all the parents, with or without the "
        "service.",
    ),
}


def glossed(term: str) -> str:
    """The term with its short gloss beside it, for a page a manager reads."""
    return f"{term} ({TERMS[term][0]})"


def plain_definitions(profile: str = "gss") -> list[Definition]:
    """One sentence for each term, for the top of the Definitions sheet; the symbols as the
    return prints them (``profile``: [z] and [x], or DfE's z and :)."""
    from evaltool.report.formats import SYMBOL_PROFILES

    symbols = {"[z]": SYMBOL_PROFILES[profile]["z"], "[x]": SYMBOL_PROFILES[profile][":"]}
    return [
        Definition(symbols.get(term, term), sentence, "evaltool: plain words")
        for term, (_, sentence) in TERMS.items()
    ]

"""Plain words (issue 25, point 8): the pages a manager reads use no term of statistics without
its gloss, the Definitions sheet explains each in one sentence, and no library's error text is
printed in a return."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

import openpyxl
import pytest

from evaltool.api import run
from evaltool.config import load_settings
from evaltool.report.board import board_html
from evaltool.report.excel import build_workbook, plain_warning, write_return
from evaltool.report.output import output_for
from evaltool.report.words import TERMS
from tests.conftest import EXAMPLE, EXAMPLE_CONFIG

#: the terms the manager could not act on (issue 25), as they are written, and the gloss that
#: must be on the same page: the term's own short gloss, or for a symbol its key's words
JARGON = {
    "index-issue": r"index-issue, the issue date of the index proceedings",
    "CI transform": re.escape(f"CI transform ({TERMS['CI transform'][0]})"),
    "Kaplan": re.escape(f"Kaplan-Meier ({TERMS['Kaplan-Meier'][0]})"),
    "Cox": re.escape(f"Cox model ({TERMS['Cox model'][0]})"),
    "cohort": re.escape(f"cohort ({TERMS['cohort'][0]})"),
    "Maryland": re.escape(f"Maryland scale ({TERMS['Maryland scale'][0]})"),
    "dz": re.escape(f"dz ({TERMS['dz'][0]})"),
    "Hedges": re.escape("Hedges' g (" + TERMS["Hedges' g"][0] + ")"),
    "Holm": re.escape(f"Holm ({TERMS['Holm'][0]})"),
    "Wilcoxon": re.escape(f"Wilcoxon V ({TERMS['Wilcoxon V'][0]})"),
    "[z]": r"\[z\] \(?not applicable",
    "[x]": r"\[x\] \(?not available",
    "client-year": re.escape(f"client-years ({TERMS['client-years'][0]})"),
    "ATT": re.escape(f"ATT / ATE ({TERMS['ATT / ATE'][0]})"),
    "ATE": re.escape(f"ATT / ATE ({TERMS['ATT / ATE'][0]})"),
}
#: a library's or Python's words for a failure
EXCEPTION_WORDS = re.compile(
    r"Error\b|Error:|Traceback|LinAlg|Exception|matrix inversion|ConvergenceError|"
    r"Warning: Cox model"
)


def unglossed(text: str) -> list[str]:
    """The jargon terms in ``text`` (as whole words) whose gloss is nowhere in it."""
    missing = []
    for term, gloss in JARGON.items():
        pattern = re.escape(term) if term.startswith("[") else rf"\b{re.escape(term)}"
        if len(term) <= 4 and not term.startswith("["):  # ATT, dz, Cox: whole words only
            pattern += r"\b"
        if re.search(pattern, text) and not re.search(gloss, text):
            missing.append(term)
    return missing


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def _sheet_text(ws) -> str:
    return "\n".join(
        str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str)
    )


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    results = run(EXAMPLE, load_settings(EXAMPLE_CONFIG), "2025-Q4")
    out = tmp_path_factory.mktemp("words") / "return.xlsx"
    write_return(results, out)
    page = _Text()
    page.feed(board_html(output_for(results)))
    return results, openpyxl.load_workbook(out), " ".join(page.parts)


def test_the_check_finds_a_bare_term():
    assert unglossed("Key figures (service cohort); level 1 of 5, Maryland scale") == [
        "cohort",
        "Maryland",
    ]
    assert unglossed(f"each cohort ({TERMS['cohort'][0]}); the cohort again") == []
    assert unglossed("Symbols: [z] not applicable; [x] not available") == []
    assert unglossed("ATTENTION: the DATE") == []  # whole words only


def test_summary_cover_and_board_gloss_every_term(example):
    _, wb, board = example
    for name in ("Summary", "Cover"):
        assert unglossed(_sheet_text(wb[name])) == [], name
    assert unglossed(board) == [], "board page"


def test_definitions_explain_each_term_in_one_sentence(example):
    _, wb, _ = example
    ws = wb["Definitions"]
    rows = {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r[0]}
    for term in (
        "Kaplan-Meier",
        "Cox model",
        "hazard ratio",
        "cohort",
        "origin",
        "entry",
        "CI transform",
        "Maryland scale",
        "dz",
        "Hedges' g",
        "Holm",
        "Wilcoxon V",
        "[z]",
        "[x]",
        "client-years",
        "ATT / ATE",
    ):
        meaning = rows[term]
        assert meaning.endswith("."), term
        assert len(re.findall(r"[.!?](?:\s|$)", meaning.replace("e.g.", ""))) == 1, (term, meaning)


def test_no_cell_of_the_return_holds_a_library_error(example):
    _, wb, _ = example
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    assert not EXCEPTION_WORDS.search(c.value), (ws.title, c.coordinate, c.value)


RAW = [
    "Cox model: only one cohort, so cohort is left out",
    "Cox model not reported: the Cox model could not be fitted (Convergence halted due to "
    "matrix inversion problems. Suspicion is high collinearity. LinAlgError: Singular matrix); "
    "try fewer covariates",
    "Cox model not reported: covariate 'mental_health' has only one value among the clients "
    "analysed: the Cox model cannot be fitted; leave it out",
    "Cox model: 3 client(s) with a missing covariate left out",
    "Cox model: 12 events for 2 covariate(s), under 10 per covariate: estimates are unstable",
    "Cox model: proportional hazards doubtful for late, the model as a whole (GLOBAL) "
    "(Schoenfeld test p = 0.01)",
    "ValueError: something a library said",
]


@pytest.mark.parametrize("raw", RAW)
def test_an_analysis_warning_becomes_a_sentence_a_manager_can_act_on(raw):
    said = plain_warning(raw)
    assert not EXCEPTION_WORDS.search(said), said
    assert not re.search(r"\d+ (client|event)", said), said
    assert "cohort is left out" not in said
    assert said.endswith("."), said


def test_warnings_go_to_the_annex_in_plain_words(example):
    results, _, _ = example
    survival = results.survival
    saved = list(survival.warnings_)
    survival.warnings_[:] = RAW
    try:
        wb = build_workbook(output_for(replace(results)))
    finally:
        survival.warnings_[:] = saved
    for ws in wb.worksheets:
        text = _sheet_text(ws)
        assert not EXCEPTION_WORDS.search(text), ws.title
        assert "only one cohort" not in text, ws.title
    annex = _sheet_text(wb["Annex - statistical tests"])
    assert "cohort = comparison" in annex  # what to do about the one-cohort note
    assert "Name fewer factors in [survival] covariates" in annex
    assert "Annex" in _sheet_text(wb["Time to next proceedings"])

"""The built-in output formats: the Excel return, its JSON twin, and the board summary page
(HTML, or PDF printed by a headless Chromium)."""

from __future__ import annotations

from evaltool.instruments.hookspecs import hookimpl
from evaltool.report.renderers import OutputRenderer


def _excel(output, path: str) -> None:
    from evaltool.report.excel import render_excel

    render_excel(output, path)


def _json(output, path: str) -> None:
    from evaltool.report.json_output import render_json

    render_json(output, path)


def _html(output, path: str) -> None:
    from evaltool.report.board import render_html

    render_html(output, path)


def _pdf(output, path: str) -> None:
    from evaltool.report.board import render_pdf

    render_pdf(output, path)


@hookimpl
def evaltool_output_renderers() -> list[OutputRenderer]:
    return [
        OutputRenderer("xlsx", "the funder return as an Excel workbook", _excel),
        OutputRenderer(
            "json", "the same protected figures as JSON, for evaluators' own tools", _json
        ),
        OutputRenderer("html", "the one-page board summary", _html),
        OutputRenderer("pdf", "the board summary as PDF (needs Chromium)", _pdf),
    ]

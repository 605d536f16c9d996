"""Two things openpyxl cannot write, added to the saved file: the value of a formula (so a
reader sees the figure in Excel's Protected View, in a previewer, or with
``load_workbook(data_only=True)``: openpyxl writes formulas with no value), and a chart's alt
text (the ``descr`` a screen reader speaks; openpyxl names every chart "Chart n" and nothing
more).

The file is rewritten in place: it is still the temporary file of ``files.write_file``, renamed
into place only after this.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

_RELS = re.compile(r'<Relationship [^>]*Target="([^"]+)"[^>]*/>')


def _sheet_files(z: zipfile.ZipFile) -> list[str]:
    """The worksheet parts in workbook order (openpyxl writes sheet1.xml, sheet2.xml, ...)."""
    names = [n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
    return sorted(names, key=lambda n: int(re.findall(r"\d+", n)[-1]))


def _drawing_of(z: zipfile.ZipFile, sheet: str) -> str | None:
    rels = sheet.replace("worksheets/", "worksheets/_rels/") + ".rels"
    if rels not in z.namelist():
        return None
    for target in _RELS.findall(z.read(rels).decode()):
        if "drawings/" in target:
            return "xl/drawings/" + target.rsplit("/", 1)[-1]
    return None


def _with_values(xml: str, values: dict[str, object]) -> str:
    def fill(m: re.Match) -> str:
        coord, attrs, formula = m.group(1), m.group(2) or "", m.group(3)
        if coord not in values:
            return m.group(0)
        value = values[coord]
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f'<c r="{coord}"{attrs} t="str"><f>{formula}</f><v>{escape(str(value))}</v></c>'
        return f'<c r="{coord}"{attrs}><f>{formula}</f><v>{value!r}</v></c>'

    return re.sub(r'<c r="([A-Z]+\d+)"((?: s="\d+")?)><f>(.*?)</f><v ?/></c>', fill, xml)


def _with_alt_text(xml: str, texts: list[str]) -> str:
    found = iter(texts)

    def add(m: re.Match) -> str:
        text = next(found, None)
        return m.group(0) if text is None else f"{m.group(1)} descr={quoteattr(text)}{m.group(2)}"

    return re.sub(r'(<(?:xdr:)?cNvPr id="\d+" name="Chart \d+")(\s*/>)', add, xml)


def finish(
    path: str | Path, values: dict[int, dict[str, object]], alt: dict[int, list[str]]
) -> None:
    """Add formula values (sheet position -> cell -> value) and chart alt text (sheet position
    -> one text per chart, in the order they were added) to the saved workbook at ``path``."""
    path = Path(path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
        infos = {i.filename: i for i in z.infolist()}
        sheets = _sheet_files(z)
        drawings = {k: _drawing_of(z, sheets[k]) for k in alt if k < len(sheets)}
    for k, cells in values.items():
        parts[sheets[k]] = _with_values(parts[sheets[k]].decode(), cells).encode()
    for k, texts in alt.items():
        drawing = drawings.get(k)
        if drawing:
            parts[drawing] = _with_alt_text(parts[drawing].decode(), texts).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(infos[name], data, compress_type=zipfile.ZIP_DEFLATED)

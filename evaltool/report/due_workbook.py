"""The to-do list as a workbook, marked INTERNAL on every sheet and page: it names clients by
their reference and stays with the service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from evaltool.report.files import write_file
from evaltool.report.workbook import SheetWriter, house_font, page_furniture


def write_due(items: pd.DataFrame, path: Path, service: str, as_of: dt.date, force: bool) -> Path:
    """Write the list (one row per item) and a count by kind, atomically."""

    def render(tmp: str) -> None:
        wb = Workbook()
        house_font(wb)
        ws = wb.active
        ws.title = "To do"
        sw = SheetWriter(ws, f"{service}: to do on {as_of:%d %b %Y}", internal=True)
        if items.empty:
            sw.note("Nothing is due.")
        else:
            header, last = sw.frame(items, {"Since": "dd/mm/yyyy"})
            # what is due on one line where it can be (a 90-character column at most)
            what = list(items.columns).index("What is due") + 1
            longest = int(items["What is due"].astype(str).str.len().max())
            sw.widths[what] = max(sw.widths.get(what, 0), min(longest, 88))
            ws.auto_filter.ref = f"A{header}:{get_column_letter(len(items.columns))}{last}"
            ws.print_title_rows = f"{header}:{header}"
        sw.finish("A4")
        kinds = (
            items["What is due"]
            .str.replace(r"\d+", "N", regex=True)
            .str.replace(r"^(fix in the records):.*", r"\1", regex=True)
        )
        counts = kinds.value_counts().rename_axis("Kind").reset_index(name="Items")
        sheet = wb.create_sheet("Counts")
        sw = SheetWriter(sheet, "Items by kind", internal=True)
        sw.frame(counts)
        sw.finish(None)
        for sheet in wb.worksheets:
            page_furniture(sheet, service, f"to do on {as_of:%d %b %Y}", "INTERNAL")
        wb.save(tmp)

    write_file(Path(path), render, force, ".xlsx.tmp")
    return Path(path)

"""What the XLSX reports share: column widths that fit Chinese text.

Excel measures a column's width in widths of the default font's digits, and
draws a Chinese character (and any East Asian wide or full-width one) about two
of them wide: the two cells it takes in a terminal (:func:`ticketctl.cells.cells`).
A width from ``len()`` would cut 住房保护与发展局 in half. openpyxl writes text as
it is (Unicode in the workbook's XML), so only the widths need care.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ticketctl.cells import cells

#: Excel's default column width (Calibri 11): a fitted column is never narrower
DEFAULT_WIDTH = 8.43
#: a fitted column is never wider (a long title stays on one row and spills over)
MAX_WIDTH = 60.0
#: room for the cell's margins and a bold header
PADDING = 2


def fit_columns(ws: Any, floors: Mapping[str, float] | None = None, first_row: int = 1, last_row: int | None = None) -> None:
    """Size each column of the openpyxl worksheet ``ws`` to its widest value in
    rows ``first_row`` to ``last_row`` (default: to the end), counting cells
    (a CJK character is 2), plus :data:`PADDING`; never narrower than its floor
    in ``floors`` (by column letter) or :data:`DEFAULT_WIDTH`, never wider than
    :data:`MAX_WIDTH`."""
    from openpyxl.utils import get_column_letter

    widest: dict[int, int] = {}
    for row in ws.iter_rows(min_row=first_row, max_row=last_row):
        for cell in row:
            if cell.value is not None and cell.value != "":
                widest[cell.column] = max(widest.get(cell.column, 0), cells(str(cell.value)))
    widths = dict(floors or {})
    for col, w in widest.items():
        letter = get_column_letter(col)
        widths[letter] = min(max(w + PADDING, widths.get(letter, 0), DEFAULT_WIDTH), MAX_WIDTH)
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width


def save(wb: Any) -> bytes:
    """The openpyxl workbook ``wb`` as the bytes of an XLSX file."""
    import io

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

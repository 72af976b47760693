"""Native Excel charts beside a report's table (openpyxl's ``openpyxl.chart``).

A chart's series are references to the table's cells (``'trend'!$B$2:$B$31``),
not copies of its numbers: Excel draws what the sheet holds, and a figure
corrected in a cell is corrected in the picture. Each chart is anchored to the
right of the table (two columns after its last one), never over it.

openpyxl is imported inside the functions: the technician's commands never load it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: a chart's size in centimetres (wide enough for 30 days' labels)
WIDTH_CM = 24.0
HEIGHT_CM = 10.0


def beside(ws: Any, last_col: int, row: int = 1) -> str:
    """The cell a chart is anchored at: two columns right of column ``last_col``, at ``row``."""
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(last_col + 2)}{row}"


def _titles(chart: Any, title: str, x_title: str, y_title: str) -> None:
    chart.title = title
    chart.x_axis.title = x_title
    chart.y_axis.title = y_title
    chart.width, chart.height = WIDTH_CM, HEIGHT_CM
    # openpyxl >= 3.1 hides the axes unless told otherwise (Excel then draws no labels)
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def _add_series(chart: Any, ws: Any, cat_col: int, val_cols: Sequence[int], header_row: int, last_row: int) -> None:
    from openpyxl.chart import Reference
    from openpyxl.chart.data_source import AxDataSource, StrRef

    for col in val_cols:
        chart.add_data(Reference(ws, min_col=col, min_row=header_row, max_row=last_row), titles_from_data=True)
    # the categories are text (a day, a department): a string reference (openpyxl's own would be numeric)
    cats = Reference(ws, min_col=cat_col, min_row=header_row + 1, max_row=last_row)
    for series in chart.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(cats)))


def line_chart(ws: Any, *, title: str, x_title: str, y_title: str, cat_col: int, val_cols: Sequence[int],
               header_row: int, last_row: int, anchor: str) -> Any:
    """A line chart, one series per column of ``val_cols`` (named by its header
    cell in ``header_row``), categories from ``cat_col``, rows ``header_row + 1``
    to ``last_row``; placed at ``anchor``."""
    from openpyxl.chart import LineChart

    chart = LineChart()
    _titles(chart, title, x_title, y_title)
    _add_series(chart, ws, cat_col, val_cols, header_row, last_row)
    ws.add_chart(chart, anchor)
    return chart


def bar_chart(ws: Any, *, title: str, x_title: str, y_title: str, cat_col: int, val_cols: Sequence[int],
              header_row: int, last_row: int, anchor: str, line_cols: Sequence[int] = ()) -> Any:
    """A column chart like :func:`line_chart`'s, plus the columns ``line_cols``
    drawn as lines over the bars (a threshold: a constant column)."""
    from openpyxl.chart import BarChart, LineChart

    chart = BarChart()
    chart.type = "col"
    _titles(chart, title, x_title, y_title)
    _add_series(chart, ws, cat_col, val_cols, header_row, last_row)
    if line_cols:
        line = LineChart()
        _add_series(line, ws, cat_col, line_cols, header_row, last_row)
        chart += line
    ws.add_chart(chart, anchor)
    return chart

"""The heat map as a coloured grid for a terminal (``report heatmap``)."""

from __future__ import annotations

from typing import Any

from ticketctl.core.labels import label
from ticketctl.i18n import _, current, ngettext
from ticketctl.services.heatmap import grid

#: cell backgrounds from few to many tickets (a cell's share of the largest); the first is an empty cell's
SHADES = ("grey23", "dark_green", "green4", "yellow4", "dark_orange3", "red3")


def shade(n: int, top: int) -> str:
    """The background of a cell holding ``n`` tickets when the largest holds ``top``."""
    if n == 0 or top == 0:
        return SHADES[0]
    return SHADES[1 + min(int(n / top * (len(SHADES) - 1)), len(SHADES) - 2)]


def heatmap_grid(hm: dict[str, Any]) -> list[Any]:
    """What to print, in order, for a heat map (``services.heatmap.heatmap``):
    its title in Rich markup, then, when it has cells, the grid as a Rich table
    and the legend."""
    from rich.table import Table

    by = (" × " if current() == "zh_CN" else " x ").join(label("field", b) for b in hm["by"])
    title = ngettext("[bold]backlog at {at}[/] by {by}: {n} open ticket", "[bold]backlog at {at}[/] by {by}: {n} open tickets",
                     hm["total"]).format(at=hm["at"], by=by, n=hm["total"])
    if not hm["cells"]:
        return [title]
    rows, cols, cells = grid(hm)
    top = max(v["count"] for v in cells.values())
    table = Table(box=None, header_style="bold", pad_edge=False, show_footer=False)
    table.add_column(label("field", hm["by"][0]))
    for col in cols:
        table.add_column(col, justify="right")
    for r in rows:
        out = [r]
        for col in cols:
            v = cells.get((r, col))
            if not v:
                out.append("[grey42].[/]")
                continue
            mark = "*" if v["over_4h"] else " "
            out.append(f"[white on {shade(v['count'], top)}] {v['count']}{mark}[/]")
        table.add_row(*out)
    legend = "  ".join(f"[white on {s}]  [/]" for s in SHADES[1:])
    return [title, table, _("legend: fewer {legend} more;  * holds tickets older than 4 h").format(legend=legend)]

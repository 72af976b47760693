"""The heat map as a coloured grid in the terminal."""

from __future__ import annotations

from typing import Any

from ticketctl.commands.output import console
from ticketctl.i18n import _, ngettext
from ticketctl.services.heatmap import grid

SHADES = ("grey23", "dark_green", "green4", "yellow4", "dark_orange3", "red3")


def _shade(n: int, top: int) -> str:
    if n == 0 or top == 0:
        return SHADES[0]
    return SHADES[1 + min(int(n / top * (len(SHADES) - 1)), len(SHADES) - 2)]


def print_heatmap(hm: dict[str, Any]) -> None:
    from rich.table import Table

    c = console()
    c.print(ngettext("[bold]backlog at {at}[/] by {by}: {n} open ticket", "[bold]backlog at {at}[/] by {by}: {n} open tickets",
                     hm["total"]).format(at=hm["at"], by=" x ".join(hm["by"]), n=hm["total"]))
    if not hm["cells"]:
        return
    rows, cols, cells = grid(hm)
    top = max(v["count"] for v in cells.values())
    table = Table(box=None, header_style="bold", pad_edge=False, show_footer=False)
    table.add_column(hm["by"][0])
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
            out.append(f"[white on {_shade(v['count'], top)}] {v['count']}{mark}[/]")
        table.add_row(*out)
    c.print(table)
    legend = "  ".join(f"[white on {s}]  [/]" for s in SHADES[1:])
    c.print(_("legend: fewer {legend} more;  * holds tickets older than 4 h").format(legend=legend))

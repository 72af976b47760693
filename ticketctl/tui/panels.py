"""The main screen's side panels: the live heat map and the technicians' load.

Both are small (a dozen departments by a dozen products; a few hundred
technicians), so they are ``DataTable``s; a change rewrites only the cells
that moved, and the whole table only when its shape changes.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from ticketctl.cells import fit, truncate
from ticketctl.i18n import N_, _, current
from ticketctl.services.heatmap import grid
from ticketctl.tui.words import join

#: the heat map's groupings, in the order ``t`` cycles through them
GROUPINGS: tuple[tuple[str, str], ...] = (("dept", "product"), ("dept", "fault"), ("product", "fault"))
#: background colours from few to many tickets (a cell's share of the largest cell)
SCALE = ("#1d3b2a", "#2e5e2e", "#6b6b1f", "#8a5a12", "#9c2f1a", "#b3121f")
CELL_WIDTH = 6
#: what the heat map's axes and the technicians' shift column show (the names stay the filter's words)
AXES = {"dept": N_("dept"), "product": N_("product"), "fault": N_("fault")}
SHIFTS = {"on": N_("on"), "off": N_("off"), "leave": N_("leave")}
TECH_COLUMNS = (N_("technician"), N_("load"), N_("skills"), N_("zone"), N_("shift"))
#: the column ``services.heatmap.grid`` folds the smallest into (its name there; shown through ``_``)
OTHER = N_("(other)")


def axis(name: str) -> str:
    """A heat map axis (``dept``, ``product``, ``fault``) in the current language."""
    return _(AXES[name]) if name in AXES else name


def map_cells(hm: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """A two-dimension heat map (``services.heatmap.heatmap``) as :meth:`HeatMap.show`
    takes it: ``{(row, column): {count, over_4h, oldest_age_h}}``, the shape
    ``services.dashboard.heat_cells`` gives for the cells a change touched."""
    a, b = hm["by"]
    return {(c[a], c[b]): {k: c[k] for k in ("count", "over_4h", "oldest_age_h")} for c in hm["cells"]}


def cell_text(cell: dict[str, Any] | None, top: int) -> Text:
    """A count on a background that darkens to red as it nears the largest
    cell; ``*`` marks a cell holding tickets older than 4 hours."""
    if not cell or not cell["count"]:
        return Text("·".center(CELL_WIDTH), style="dim")
    n = cell["count"]
    shade = SCALE[min(int(len(SCALE) * n / max(top, 1)), len(SCALE) - 1)]
    mark = "*" if cell["over_4h"] else " "
    return Text(f"{n}{mark}".rjust(CELL_WIDTH), style=f"bold white on {shade}")


class HeatMap(DataTable[Any]):
    """Backlog counts by two dimensions; Enter on a cell filters the backlog.
    The row labels stay put when a narrow panel scrolls the counts sideways
    (a fixed column, drawn as the others are)."""

    DEFAULT_CSS = """
    HeatMap > .datatable--fixed { background: $surface; color: $foreground; }
    """

    def __init__(self, *, id: str | None = None, max_cols: int = 5) -> None:
        super().__init__(id=id, cursor_type="cell", zebra_stripes=False, fixed_columns=1)
        self.by: tuple[str, str] = GROUPINGS[0]
        self.max_cols = max_cols
        self.cells: dict[tuple[str, str], dict[str, Any]] = {}
        self.labels: tuple[list[str], list[str]] = ([], [])

    def show(self, by: tuple[str, str], cells: dict[tuple[str, str], dict[str, Any]]) -> None:
        """A whole map (first load, another grouping, the clock moved)."""
        self.by = by
        self.cells = {k: v for k, v in cells.items() if v["count"]}
        self._draw()

    def patch(self, cells: dict[tuple[str, str], dict[str, Any]]) -> None:
        """Fresh counts of some cells (count 0: the cell emptied)."""
        for k, v in cells.items():
            if v["count"]:
                self.cells[k] = v
            else:
                self.cells.pop(k, None)
        self._draw()

    def cell_at(self, coordinate: Coordinate) -> dict[str, str]:
        """The filter a cell stands for: its row value, and its column value
        unless it is the "(other)" column that folds the smallest ones."""
        rows, cols = self.labels
        if not (0 <= coordinate.row < len(rows)):
            return {}
        out = {self.by[0]: rows[coordinate.row]}
        if 1 <= coordinate.column <= len(cols) and cols[coordinate.column - 1] != "(other)":
            out[self.by[1]] = cols[coordinate.column - 1]
        return out

    def _draw(self) -> None:
        hm = {"by": list(self.by), "cells": [{self.by[0]: a, self.by[1]: b, **c} for (a, b), c in self.cells.items()]}
        rows, cols, cells = grid(hm, self.max_cols)
        top = max((c["count"] for c in cells.values()), default=0)
        if (rows, cols) == self.labels and self.row_count == len(rows):
            for i, r in enumerate(rows):
                for j, c in enumerate(cols, start=1):
                    new = cell_text(cells.get((r, c)), top)
                    if self.get_cell_at(Coordinate(i, j)) != new:
                        self.update_cell_at(Coordinate(i, j), new)
            return
        cursor = self.cursor_coordinate
        self.clear(columns=True)
        self.labels = (rows, cols)
        self.add_column(Text(f"{axis(self.by[0])} \\ {axis(self.by[1])}", style="bold"), key="label")
        for c in cols:
            self.add_column(Text(fit(_(c) if c == OTHER else c, CELL_WIDTH, "right", ellipsis=""), style="bold"), key=f"c:{c}")
        for r in rows:
            self.add_row(Text(truncate(r, 16, ellipsis=""), style="bold"), *(cell_text(cells.get((r, c)), top) for c in cols),
                         key=f"r:{r}")
        if rows:
            self.cursor_coordinate = Coordinate(min(cursor.row, len(rows) - 1), max(min(cursor.column, len(cols)), 1))


def load_bar(load: int, capacity: int, width: int = 8) -> Text:
    """``█████░░░ 3/4``: green with room, yellow when one slot is left, red when full."""
    filled = width if capacity <= 0 else min(width, round(width * load / capacity))
    colour = "red" if load >= capacity else "yellow" if capacity - load == 1 else "green"
    return Text.assemble(("█" * filled, colour), ("░" * (width - filled), "dim"), f" {load}/{capacity}")


class TechLoad(DataTable[Any]):
    """Each technician's load against capacity, skills, zone and shift; who has
    room first (on shift, most free slots), then the rest."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.techs: list[dict[str, Any]] = []

    def on_mount(self) -> None:
        for col in TECH_COLUMNS:
            self.add_column(_(col), key=col)

    def show(self, techs: list[dict[str, Any]], resort: bool = False) -> None:
        """New figures. Rows keep their places while the same people are listed
        (a row that jumps as you read it is worse than a stale order) unless
        ``resort``; then who has room comes first again."""
        if not resort and {t["name"] for t in techs} == {t["name"] for t in self.techs}:
            by_name = {t["name"]: t for t in techs}
            fresh = [by_name[t["name"]] for t in self.techs]
            for i, (old, new) in enumerate(zip(self.techs, fresh, strict=True)):
                if old != new:
                    for j, value in enumerate(self._cells(new)):
                        self.update_cell_at(Coordinate(i, j), value)
            self.techs = fresh
            return
        self.techs = sorted(techs, key=lambda t: (not t["on_shift"] or t["on_leave"], t["load"] - t["capacity"], t["name"]))
        self.clear()
        for t in self.techs:
            self.add_row(*self._cells(t), key=t["name"])

    @staticmethod
    def _cells(t: dict[str, Any]) -> list[Any]:
        shift = "leave" if t["on_leave"] else "on" if t["on_shift"] else "off"
        style = "green" if shift == "on" else "dim"
        skills = join(t["skills"]) if current() == "zh_CN" else ",".join(t["skills"])  # 空调、水泵
        return [t["name"], load_bar(t["load"], t["capacity"]), truncate(skills, 22, ellipsis=""), t["zone"],
                Text(_(SHIFTS[shift]), style=style)]

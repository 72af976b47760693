"""Where the backlog piles up: counts per department, product and fault, now or
at any past moment.

The backlog is every ticket new, assigned, in progress or blocked. "Now" reads
the tickets table through its covering index ``tickets_heat`` (status, dept,
product, fault, created_at). A past moment reads the spans: each ticket's
history of (status, dept, product, fault) as stretches of time, so a ticket is
counted as it was then, in the status and department it had then; the
partial covering index ``spans_open`` (backlog statuses only) answers it. Both are
one GROUP BY in SQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ticketctl.core.labels import label
from ticketctl.core.model import iso, parse_time
from ticketctl.errors import BadInput
from ticketctl.i18n import N_, _
from ticketctl.services.env import Env

DIMENSIONS = ("dept", "product", "fault", "channel")
GROUPINGS = ("dept,product", "dept,fault", "product,fault", "dept", "product", "fault",
             "channel", "dept,channel", "channel,product", "channel,fault")
#: what the history of spans records (a ticket's channel is where it came from, not where it stood)
HISTORY_DIMENSIONS = ("dept", "product", "fault")
STUCK_HOURS = 4
#: the column that folds the smallest ones in :func:`grid` (renderers show it as ``_(OTHER)``)
OTHER = N_("(other)")


def parse_by(text: str) -> tuple[str, ...]:
    by = tuple(p.strip() for p in text.split(",") if p.strip())
    if ",".join(by) not in GROUPINGS:
        raise BadInput(_("--by {by!r}: use one of {groupings}").format(by=text, groupings=", ".join(GROUPINGS)))
    return by


def heatmap(env: Env, by: tuple[str, ...] = ("dept", "product"), at: datetime | None = None) -> dict[str, Any]:
    """The backlog at ``at`` (default: now) counted per cell of ``by``:
    ``count``, ``over_4h`` (older than 4 hours then) and ``oldest_age_h``."""
    if not by or any(d not in DIMENSIONS for d in by):
        raise BadInput(_("cannot group by {by}: use {dimensions}").format(by=", ".join(by), dimensions=", ".join(DIMENSIONS)))
    if at is not None and any(d not in HISTORY_DIMENSIONS for d in by):
        raise BadInput(_("--at: the history holds {dimensions}; the heat map by channel is of the backlog now").format(
            dimensions=", ".join(HISTORY_DIMENSIONS)))
    when = env.now if at is None else at
    rows = env.store.reports.heat(by, iso(when - timedelta(hours=STUCK_HOURS)), None if at is None else iso(when))
    cells = []
    for r in rows:
        cell: dict[str, Any] = dict(zip(by, r[: len(by)], strict=True))
        cell.update(count=r[len(by)], over_4h=r[len(by) + 1],
                    oldest_age_h=round((when - parse_time(r[len(by) + 2])).total_seconds() / 3600, 1))
        cells.append(cell)
    return {"at": iso(when), "by": list(by), "cells": cells, "total": sum(c["count"] for c in cells)}


def stuck(env: Env, at: datetime | None = None, limit: int = 5) -> list[dict[str, Any]]:
    """The ``limit`` backlog tickets open longest at ``at``, over 4 hours old."""
    when = env.now if at is None else at
    out = []
    cut = iso(when - timedelta(hours=STUCK_HOURS))
    for key, status, dept, product, fault, created in env.store.reports.oldest_backlog(cut, limit, None if at is None else iso(when)):
        age = round((when - parse_time(created)).total_seconds() / 3600, 1)
        out.append({"key": key, "status": status, "dept": dept, "product": product, "fault": fault, "age_h": age})
    return out


def grid(hm: dict[str, Any], max_cols: int = 12) -> tuple[list[str], list[str], dict[tuple[str, str], dict[str, Any]]]:
    """(row labels, column labels, cells by (row, column)) of a two-dimension
    heat map; columns beyond ``max_cols`` (the smallest) fold into "(other)"."""
    r_dim, c_dim = hm["by"][0], hm["by"][1] if len(hm["by"]) > 1 else None
    col_tot: dict[str, int] = {}
    row_tot: dict[str, int] = {}
    for c in hm["cells"]:
        col = c[c_dim] if c_dim else "count"
        col_tot[col] = col_tot.get(col, 0) + c["count"]
        row_tot[c[r_dim]] = row_tot.get(c[r_dim], 0) + c["count"]
    cols = sorted(col_tot, key=lambda k: (-col_tot[k], k))
    keep = set(cols[:max_cols])
    if len(cols) > max_cols:
        cols = cols[:max_cols] + [OTHER]
    rows = sorted(row_tot, key=lambda k: (-row_tot[k], k))
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for c in hm["cells"]:
        col = c[c_dim] if c_dim else "count"
        col = col if col in keep else OTHER
        cur = cells.setdefault((c[r_dim], col), {"count": 0, "over_4h": 0, "oldest_age_h": 0.0})
        cur["count"] += c["count"]
        cur["over_4h"] += c["over_4h"]
        cur["oldest_age_h"] = max(cur["oldest_age_h"], c["oldest_age_h"])
    return rows, cols, cells


def fill_heatmap_sheet(ws: Any, hm: dict[str, Any]) -> None:
    """Write ``hm`` as a grid on an openpyxl worksheet, coloured by a 3-colour scale."""
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    rows, cols, cells = grid(hm, max_cols=50)
    labels = [_(OTHER) if c == OTHER else _("count") if c == "count" and len(hm["by"]) == 1 else c for c in cols]
    ws.append([_("backlog at {at}").format(at=hm["at"]), *labels, _("total")])
    for r in rows:
        counts = [cells.get((r, c), {}).get("count", 0) for c in cols]
        ws.append([r, *counts, sum(counts)])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    if rows:
        last = f"{get_column_letter(len(cols) + 1)}{len(rows) + 1}"
        ws.conditional_formatting.add(
            f"B2:{last}",
            ColorScaleRule(start_type="min", start_color="FFFFFF", mid_type="percentile", mid_value=50,
                           mid_color="FFD966", end_type="max", end_color="E06666"),
        )
    from ticketctl.services.xlsx import fit_columns

    fit_columns(ws, {"A": 24})  # Chinese labels count two columns a character


def write_xlsx(path: str, hm: dict[str, Any], stuck_rows: list[dict[str, Any]]) -> None:
    """The heat map and the tickets stuck longest, as an XLSX written atomically."""
    import io
    from pathlib import Path

    from openpyxl import Workbook

    from ticketctl.home import atomic_write

    wb = Workbook()
    ws = wb.active
    ws.title = _("heat map")
    fill_heatmap_sheet(ws, hm)
    st = wb.create_sheet(_("stuck over 4h"))
    st.append([_("key"), _("status"), _("dept"), _("product"), _("fault"), _("age (h)")])
    for t in stuck_rows:
        st.append([t["key"], label("status", t["status"]), t["dept"], t["product"], t["fault"], t["age_h"]])
    from ticketctl.services.xlsx import fit_columns

    fit_columns(st)
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write(Path(path), buf.getvalue())

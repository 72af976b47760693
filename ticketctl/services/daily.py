"""The morning meeting's workbook: ``report daily --xlsx FILE``, which cron can mail.

Three sheets, all as of one moment (now, or ``--at``):

* ``heat map``: the backlog per department x product, coloured by a
  colour-scale conditional format (the same grid as ``report heatmap --xlsx``);
* ``stuck``: the 5 backlog tickets open longest, over 4 hours old;
* ``KPIs``: the KPI report of the 30 days up to that moment, in total and per
  department, each figure's cell filled with its band's colour. A past moment
  reads the tickets as they stand now (a ticket resolved since counts as
  resolved).
* ``dwell``: per department, the mean hours its open tickets have waited in
  their status, and the threshold (2 h) in a column of its own; a column
  chart beside it, the threshold drawn as a line over the bars;
* ``blocked``: per block reason, the tickets ever blocked for it and blocked
  now (the total and mean hours too), up to now; a column chart of the two
  counts beside it.

The charts are Excel's own (their series are the tables' cells), so the file
opens with its pictures.

The file is written whole to a temporary file and renamed over ``FILE``: a
mailer picking it up never reads half a workbook.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from ticketctl.core.labels import HasLabels, label
from ticketctl.core.model import iso
from ticketctl.i18n import N_, _
from ticketctl.services import kpi
from ticketctl.services import report as rpt
from ticketctl.services.env import Env
from ticketctl.services.xlsx import fit_columns, save

#: band -> cell fill (Excel's own "good / neutral / bad" palette, plus a light green for ok)
BAND_FILLS = {"excellent": "C6EFCE", "ok": "E2EFDA", "watch": "FFEB9C", "warning": "FFC7CE"}
#: the sheets (named in the reader's language in the workbook; ``--json`` lists them in English)
SHEETS = (N_("heat map"), N_("stuck"), N_("KPIs"), N_("dwell"), N_("blocked"))


def daily(env: Env, path: Path, at: datetime | None = None) -> dict[str, Any]:
    """Write the workbook to ``path`` atomically; returns what it holds."""
    from openpyxl import Workbook

    from ticketctl.home import atomic_write
    from ticketctl.services import heatmap

    when = at or env.now
    hm = heatmap.heatmap(env, ("dept", "product"), at)
    stuck = heatmap.stuck(env, at)
    report = kpi.kpis(env, end=when, by="dept")

    wb = Workbook()
    ws = wb.active
    ws.title = _(SHEETS[0])
    heatmap.fill_heatmap_sheet(ws, hm)
    _stuck_sheet(wb.create_sheet(_(SHEETS[1])), stuck, iso(when), env.config)
    _kpi_sheet(wb.create_sheet(_(SHEETS[2])), report)
    _dwell_sheet(wb.create_sheet(_(SHEETS[3])), rpt.dwell(env, at))
    _blocked_sheet(wb.create_sheet(_(SHEETS[4])), rpt.blocked(env), env.config)
    atomic_write(path, save(wb))
    return {"path": str(path), "at": iso(when), "sheets": list(SHEETS), "backlog": hm["total"], "stuck": len(stuck),
            "kpi_from": report["from"], "kpi_to": report["to"], "kpi_tickets": report["tickets"]}


def _bold_header(ws: Any) -> None:
    from openpyxl.styles import Font

    for cell in ws[1]:
        cell.font = Font(bold=True)


def _stuck_sheet(ws: Any, rows: list[dict[str, Any]], at: str, cfg: HasLabels | None = None) -> None:
    ws.append([_("key"), _("status"), _("dept"), _("product"), _("fault"), _("age (h)")])
    for t in rows:
        ws.append([t["key"], label("status", t["status"], cfg), t["dept"], t["product"], t["fault"], t["age_h"]])
    if not rows:
        ws.append([_("no backlog ticket over 4 h old at {at}").format(at=at)])
    _bold_header(ws)
    fit_columns(ws, {"A": 14}, last_row=len(rows) + 1)  # not to the width of the "no backlog ticket" line


def _kpi_sheet(ws: Any, report: dict[str, Any]) -> None:
    """Totals first (one row per KPI), then one row per department (one column per KPI)."""
    from openpyxl.styles import Font, PatternFill

    def fill(cell: Any, band: str | None) -> None:
        if band:
            cell.fill = PatternFill(start_color=BAND_FILLS[band], end_color=BAND_FILLS[band], fill_type="solid")

    ws.append([_("KPIs of the tickets created {start} to {end} ({n} tickets)").format(
        start=report["from"], end=report["to"], n=report["tickets"])])
    ws["A1"].font = Font(bold=True)
    ws.append([_("kpi"), _("value"), _("unit"), _("band"), _("n"), _("basis")])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for name, k in report["kpis"].items():
        ws.append([_(name), k["value"], _(k["unit"]), _(k["band"]) if k["band"] else "", k["n"], _(k["basis"])])
        fill(ws.cell(ws.max_row, 2), k["band"])
        fill(ws.cell(ws.max_row, 4), k["band"])
    depts = report["by"].get("dept", {})
    if depts:
        names = list(report["kpis"])
        ws.append([])
        ws.append([_("dept"), _("tickets"), *map(_, names)])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for dept, g in depts.items():
            ws.append([dept, g["tickets"], *(g["kpis"][n]["value"] if n in g["kpis"] else None for n in names)])
            for j, n in enumerate(names):
                fill(ws.cell(ws.max_row, 3 + j), g["kpis"][n]["band"] if n in g["kpis"] else None)
    ws.append([])
    ws.append([_("bands:"), *map(_, BAND_FILLS)])
    for j, b in enumerate(BAND_FILLS):
        fill(ws.cell(ws.max_row, 2 + j), b)
    fit_columns(ws, {"A": 24}, first_row=2)  # row 1 is the sheet's title, which spills over


def _dwell_sheet(ws: Any, d: dict[str, Any]) -> None:
    from ticketctl.services.xlsx_charts import bar_chart, beside

    ws.append([_("dept"), _("open tickets"), _("average wait (h)"), _("threshold (h)")])
    for x in d["depts"]:
        ws.append([x["dept"], x["open"], x["avg_wait_h"], d["threshold_h"]])
    _bold_header(ws)
    if not d["depts"]:
        ws.append([_("no open ticket at {at}").format(at=d["at"])])
        return
    fit_columns(ws, {"A": 14})
    bar_chart(ws, title=_("Average wait per department against {hours:g} h").format(hours=d["threshold_h"]),
              x_title=_("dept"), y_title=_("hours"), cat_col=1, val_cols=(3,), line_cols=(4,), header_row=1,
              last_row=ws.max_row, anchor=beside(ws, 4))


def _blocked_sheet(ws: Any, b: dict[str, Any], cfg: HasLabels | None = None) -> None:
    from ticketctl.services.xlsx_charts import bar_chart, beside

    ws.append([_("reason"), _("tickets"), _("blocked now"), _("total (h)"), _("mean (h)")])
    for x in b["reasons"]:
        name = label("reason", x["reason"], cfg)
        ws.append([_(x["label"]) if name == x["reason"] else name, x["tickets"], x["blocked_now"],
                   round(x["total_s"] / 3600, 1), round(x["mean_s"] / 3600, 1)])
    _bold_header(ws)
    if not b["reasons"]:
        ws.append([_("no ticket was ever blocked")])
        return
    fit_columns(ws, {"A": 14})
    bar_chart(ws, title=_("Blocked tickets per reason"), x_title=_("reason"), y_title=_("tickets"), cat_col=1,
              val_cols=(2, 3), header_row=1, last_row=ws.max_row, anchor=beside(ws, 5))

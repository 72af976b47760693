"""``report ...``: what a supervisor reads. ``brief``, ``heatmap``, ``aging``,
``blocked`` and ``trend`` read the backlog and its flow; ``kpi`` and ``qa`` the
work done; ``daily`` writes the morning meeting's workbook.

Rich is imported only to print a human table; ``--json`` output is a plain write.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from ticketctl.commands.output import console, emit_json, env, moment
from ticketctl.commands.tickets import Json
from ticketctl.core.labels import label
from ticketctl.errors import BadInput
from ticketctl.home import atomic_write, output_file
from ticketctl.i18n import N_, _, ngettext
from ticketctl.render.text import duration, join
from ticketctl.services import report

app = typer.Typer(help="Reports for supervisors.", no_args_is_help=True)

BAND_STYLE = {"excellent": "bold green", "ok": "green", "watch": "yellow", "warning": "bold red"}
KPI_COLUMNS = (N_("kpi"), N_("value"), N_("band"), N_("n"), N_("basis"))
#: the approvals table of ``report kpi``: column label -> the tier's figure (``services.kpi.APPROVAL_FIGURES``)
APPROVAL_COLUMNS = {N_("requests"): "requests", N_("pending"): "pending", N_("approved"): "approved", N_("rejected"): "rejected",
                    N_("median (business h)"): "business_hours_median", N_("mean (business h)"): "business_hours_mean",
                    N_("median (wall h)"): "wall_hours_median", N_("mean (wall h)"): "wall_hours_mean"}
BLOCKED_COLUMNS = (N_("reason"), N_("tickets"), N_("blocked now"), N_("total"), N_("mean"), N_("share"))


@app.command(epilog="Example: TICKETCTL_NOW=2026-03-02T07:30:00Z ticketctl report brief --md > brief.md")
def brief(
    over: Annotated[float, typer.Option("--over", min=0, max=87600, help="Hours in one status that count as stuck.")] = 4.0,
    md: Annotated[bool, typer.Option("--md", help="Print Markdown (for a chat channel or an e-mail).")] = False,
    json: Json = False,
) -> None:
    """The backlog brief: top 3 stuck kinds of work, where tickets wait longest, who holds them, the 5 waiting longest."""
    b = report.brief(env(), over)
    if json:
        emit_json(b)
    else:
        print(report.brief_markdown(b, env().config), end="")


@app.command(epilog="Example: ticketctl report heatmap --by dept,fault --at 2026-03-02T09:00:00Z --xlsx heat.xlsx")
def heatmap(
    by: Annotated[str, typer.Option("--by", help="dept,product | dept,fault | product,fault | dept | product | fault"
                                    " | channel | dept,channel | channel,product | channel,fault (channel: now)")] = "dept,product",
    at: Annotated[str | None, typer.Option("--at", help="A past moment (ISO-8601): each ticket counted as it was then.")] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the cells as CSV to this file, UTF-8 with a BOM so that"
                                             " Excel shows Chinese text; '-' prints plain UTF-8 (no BOM) to stdout, for"
                                             " scripts. The folder must exist.")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Write a coloured grid and the 5 stuck longest to this XLSX"
                                              " (its folder must exist).")] = None,
    json: Json = False,
) -> None:
    """Where the backlog piles up: open tickets per department, product or fault, now or at a past moment."""
    from ticketctl.services import heatmap as hmap

    csv_to_stdout = csv is not None and str(csv) == "-"
    if csv_to_stdout and json:
        raise BadInput(_("--csv - and --json both print to stdout: choose one"))
    for option, path in (("--csv", csv), ("--xlsx", xlsx)):
        if path is not None:
            output_file(option, path)  # before any work: a typo in a folder is refused, not created
    e = env()
    when = moment("--at", at)
    hm = hmap.heatmap(e, hmap.parse_by(by), when)
    if csv is not None:
        _write_csv(csv, hm)
    if xlsx is not None:
        hmap.write_xlsx(str(xlsx), hm, hmap.stuck(e, when))
    files = [str(p) for p in (None if csv_to_stdout else csv, xlsx) if p is not None]
    if json:
        emit_json(hm)
    elif csv is None and xlsx is None:
        from ticketctl.render.heatmap import heatmap_grid

        c = console()
        for part in heatmap_grid(hm):
            c.print(part)
    elif files:
        print(ngettext("wrote {files} ({n} open ticket)", "wrote {files} ({n} open tickets)", hm["total"]).format(
            files=", ".join(files), n=hm["total"]), file=sys.stderr)


def _write_csv(path: Path, hm: dict[str, Any]) -> None:
    """The cells as CSV: a file (``path``) gets a UTF-8 BOM, because Excel on
    Windows reads a CSV without one in the ANSI code page and garbles Chinese;
    ``-`` prints plain UTF-8 to stdout (whatever its locale), for scripts."""
    import csv as csvmod
    import io

    buf = io.StringIO()
    w = csvmod.writer(buf)
    w.writerow([*hm["by"], "count", "over_4h", "oldest_age_h"])
    for c in hm["cells"]:
        w.writerow([*(c[d] for d in hm["by"]), c["count"], c["over_4h"], c["oldest_age_h"]])
    if str(path) == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(buf.getvalue().encode("utf-8"))
        sys.stdout.buffer.flush()
        return
    atomic_write(path, buf.getvalue().encode("utf-8-sig"))


class By(StrEnum):
    dept = "dept"
    channel = "channel"
    assignee = "assignee"


@app.command(epilog="Example: ticketctl report kpi --from 2026-02-01 --to 2026-03-01 --by dept --json\n\n"
             "Example: ticketctl report kpi --by assignee --last 30 --json")
def kpi(
    from_: Annotated[str | None, typer.Option("--from", help="Window start (ISO-8601, inclusive); default: 30 days before --to.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="End of the window (ISO-8601, exclusive); default: now.")] = None,
    by: Annotated[By | None, typer.Option("--by", help="Also per department (the one holding each ticket now), per channel"
                                          " (how each came in: alert, email, web, phone, ...), or per technician (assignee:"
                                          " the on-time rate of their last --last resolved tickets up to --to).")] = None,
    last: Annotated[int | None, typer.Option("--last", min=1, max=10000, help="With --by assignee: how many of each"
                                             " technician's latest resolved tickets the on-time rate is over (default 30).")] = None,
    json: Json = False,
) -> None:
    """KPIs of the tickets created in a window, each flagged excellent / ok / watch / warning against the bands in
    the config ([kpi]): first response, resolution time, first-time fix, transfers, evidence, SLA attainment, CSAT.
    Then approval time per tier (approvals.rules): requests, pending, approved, rejected, and the hours from
    request to decision, in business hours (nights, weekends and holidays do not count) and wall hours.
    With --by assignee, per technician: of their last 30 resolved tickets (whenever created), how many were
    resolved within their resolution SLA (as SLA attainment counts them), worst first."""
    from ticketctl.services import kpi as kpis

    if last is not None and by is not By.assignee:
        raise BadInput(_("--last goes with --by assignee"))
    r = kpis.kpis(env(), moment("--from", from_), moment("--to", to), by.value if by else None,
                  kpis.DEFAULT_LAST if last is None else last)
    if json:
        emit_json(r)
    else:
        _print_kpis(r)


def _value(k: dict[str, Any], unit: bool = True) -> str:
    if k["value"] is None:
        return _("n/a") if k.get("not_applicable") else "-"
    text = f"{k['value']:g}" + (f" {_(k['unit'])}" if unit and k["unit"] != "per ticket" else "")
    return f"[{BAND_STYLE[k['band']]}]{text}[/]" if k["band"] else text


def _print_kpis(r: dict[str, Any]) -> None:
    from rich.table import Table

    c = console()
    c.print(ngettext("[bold]KPIs[/] of {n} ticket created {start} to {end}", "[bold]KPIs[/] of {n} tickets created {start} to {end}",
                     r["tickets"]).format(n=r["tickets"], start=r["from"], end=r["to"]))
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in KPI_COLUMNS:
        table.add_column(_(col), justify="right" if col in ("value", "n") else "left", no_wrap=col != "basis")
    for name, k in r["kpis"].items():
        table.add_row(_(name), _value(k), _(k["band"]) if k["band"] else "-", str(k["n"]), _(k["basis"]))
    c.print(table)
    if any(a["requests"] for a in r["approvals"].values()):
        t3 = Table(box=None, header_style="bold", pad_edge=False, title_justify="left",
                   title=_("approval time per tier, request to decision (business hours skip nights, weekends and holidays)"))
        t3.add_column(_("tier"))
        for col in APPROVAL_COLUMNS:
            t3.add_column(_(col), justify="right")
        for tier, a in r["approvals"].items():
            t3.add_row(tier, *("-" if a[k] is None else f"{a[k]:g}" for k in APPROVAL_COLUMNS.values()))
        c.print(t3)
    group = next(iter(r["by"]), None)
    if group == "assignee":
        _print_on_time(r["by"][group], r["last"], r["to"])
        return
    depts = r["by"].get(group) if group else None
    if depts:
        names = list(r["kpis"])
        title = _("per department") if group == "dept" else _("per channel")
        t2 = Table(box=None, header_style="bold", pad_edge=False, title=title, title_justify="left")
        t2.add_column(_("dept") if group == "dept" else _("channel"))
        t2.add_column(_("tickets"), justify="right")
        for n in names:
            t2.add_column(_(n).replace("_", " "), justify="right")
        for d, g in depts.items():
            name = (label("channel", d, env().config) if group == "channel" else d) or "-"
            t2.add_row(name, str(g["tickets"]), *(_value(g["kpis"][n], unit=False) if n in g["kpis"] else "-" for n in names))
        c.print(t2)


def _print_on_time(techs: dict[str, dict[str, Any]], last: int, to: str) -> None:
    from rich.table import Table

    c = console()
    title = _("on time per technician: of their last {last} resolved tickets up to {to}, worst first").format(last=last, to=to)
    if not techs:
        c.print(title + "  " + _("(no technician resolved a ticket)"))
        return
    table = Table(box=None, header_style="bold", pad_edge=False, title=title, title_justify="left")
    for col in (_("technician"), _("resolved"), _("on time"), _("on time %")):
        table.add_column(col, justify="left" if col == _("technician") else "right")
    for name, t in techs.items():
        pct = f"{t['on_time_pct']:g}%"
        table.add_row(name, str(t["resolved"]), str(t["on_time"]), f"[{BAND_STYLE[t['band']]}]{pct}[/]" if t["band"] else pct)
    c.print(table)


@app.command(epilog="Example: ticketctl report aging --json")
def aging(json: Json = False) -> None:
    """The open backlog by age (< 4 h, 4-24 h, 1-3 d, 3-7 d, 7-30 d, > 30 d) and by status."""
    r = report.aging(env())
    if json:
        emit_json(r)
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column(_("age"))
    cfg = env().config
    for s in r["statuses"]:
        table.add_column(label("status", s, cfg), justify="right")
    table.add_column(_("total"), justify="right")
    for b in r["buckets"]:
        table.add_row(_(b["bucket"]), *(str(b["by_status"][s]) for s in r["statuses"]), f"[bold]{b['count']}[/]")
    table.add_row("[bold]" + _("all") + "[/]", *(f"[bold]{r['by_status'][s]}[/]" for s in r["statuses"]), f"[bold]{r['total']}[/]")
    c = console()
    c.print(ngettext("[bold]backlog at {at}[/]: {n} open ticket", "[bold]backlog at {at}[/]: {n} open tickets", r["total"]).format(
        at=r["at"], n=r["total"]))
    c.print(table)


@app.command(epilog="Example: ticketctl report blocked")
def blocked(json: Json = False) -> None:
    """Time spent blocked per reason over all tickets (running blocks up to now): tickets, total and mean per ticket."""
    r = report.blocked(env())
    if json:
        emit_json(r)
        return
    if not r["reasons"]:
        print(_("no ticket was ever blocked"), file=sys.stderr)
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in BLOCKED_COLUMNS:
        table.add_column(_(col), justify="left" if col == "reason" else "right")
    for x in r["reasons"]:
        share = f"{100 * x['total_s'] / r['total_s']:.0f}%" if r["total_s"] else "-"
        table.add_row(_(x["label"]), str(x["tickets"]), str(x["blocked_now"]), duration(x["total_s"]), duration(x["mean_s"]), share)
    c = console()
    c.print(_("[bold]blocked time[/] up to {at}: {total} in all").format(at=r["at"], total=duration(r["total_s"])))
    c.print(table)


SPARKS = "▁▂▃▄▅▆▇█"


def _spark(values: list[int], top: int) -> str:
    return "".join(SPARKS[min(int(v / top * (len(SPARKS) - 1) + 0.5), len(SPARKS) - 1)] if top else SPARKS[0] for v in values)


@app.command(epilog="Example: ticketctl report trend --days 14 --reason awaiting_customer --xlsx trend.xlsx")
def trend(
    days: Annotated[int, typer.Option("--days", min=1, max=3660, help="Days to show, today included.")] = 30,
    reason: Annotated[str, typer.Option("--reason", help="The block reason whose work stoppages are counted per day"
                                        " (any of the config's reasons).")] = report.DEFAULT_BLOCK_REASON,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Write the days and a line chart of them to this XLSX"
                                              " (replaced atomically; its folder must exist).")] = None,
    json: Json = False,
) -> None:
    """Tickets opened vs closed per day (days in the business calendar's time zone), and the tickets that became
    blocked for a reason (--reason, default awaiting_parts: work stopped for missing parts) each day, drawn as bars."""
    if xlsx is not None:
        output_file("--xlsx", xlsx)  # before any work: a typo in a folder is refused, not created
    e = env()
    r = report.trend(e, days, reason)
    if xlsx is not None:
        report.write_trend_xlsx(xlsx, r, e.config)
    if json:
        emit_json(r)
        return
    if xlsx is not None:
        print(ngettext("wrote {path} ({days} day)", "wrote {path} ({days} days)", r["days"]).format(path=xlsx, days=r["days"]),
              file=sys.stderr)
        return
    series = r["series"]
    top = max([max(d["opened"], d["closed"], d["blocked"]) for d in series] + [0])
    width = 30
    c = console()
    c.print(ngettext("[bold]opened vs closed[/], {days} day to {at} ({timezone}): [cyan]{opened} opened[/], [green]{closed} closed[/],"
                     " net {net}",
                     "[bold]opened vs closed[/], {days} days to {at} ({timezone}): [cyan]{opened} opened[/], [green]{closed} closed[/],"
                     " net {net}", r["days"]).format(
        days=r["days"], at=r["at"], timezone=r["timezone"], opened=r["opened"], closed=r["closed"], net=f"{r['opened'] - r['closed']:+d}"))
    c.print("  " + _("opened") + f" [cyan]{_spark([d['opened'] for d in series], top)}[/]")
    c.print("  " + _("closed") + f" [green]{_spark([d['closed'] for d in series], top)}[/]")
    why = label("reason", r["reason"], e.config)
    c.print("  " + _("blocked: {reason}").format(reason=why) + f" [magenta]{_spark([d['blocked'] for d in series], top)}[/]  "
            + ngettext("{n} ticket stopped", "{n} tickets stopped", r["blocked"]).format(n=r["blocked"]))
    for d in series:
        o = round(d["opened"] / top * width) if top else 0
        k = round(d["closed"] / top * width) if top else 0
        c.print(f"{d['day']}  [cyan]{'█' * o:<{width}}[/] {d['opened']:>6}  [green]{'█' * k:<{width}}[/] {d['closed']:>6}"
                f"  [magenta]{d['blocked']:>4}[/]")


@app.command(epilog="Example: ticketctl report dwell --json")
def dwell(
    at: Annotated[str | None, typer.Option("--at", help="As of this moment (ISO-8601); default: now.")] = None,
    json: Json = False,
) -> None:
    """Per department, how long its open tickets have waited in their status on average, against the 2 h threshold
    (the dashboard's trends screen and the daily workbook draw the same figures)."""
    r = report.dwell(env(), moment("--at", at))
    if json:
        emit_json(r)
        return
    from rich.markup import escape

    from ticketctl.cells import cells, ljust

    c = console()
    c.print(_("[bold]average wait in status per department[/] at {at} (threshold {hours:g} h)").format(
        at=r["at"], hours=r["threshold_h"]))
    if not r["depts"]:
        c.print(_("no open tickets"))
        return
    top = max([d["avg_wait_h"] for d in r["depts"]] + [r["threshold_h"]])
    width = 40
    name_w = max(cells(d["dept"]) for d in r["depts"])
    for d in r["depts"]:
        over = d["avg_wait_h"] > r["threshold_h"]
        bar = "█" * round(d["avg_wait_h"] / top * width) if top else ""
        c.print(escape(ljust(d["dept"], name_w)) + f"  [{'bold red' if over else 'green'}]{bar:<{width}}[/]"
                " " + _("{hours} h").format(hours=f"{d['avg_wait_h']:>7.2f}") + "  " + _("{n} open").format(n=d["open"]))


@app.command(epilog="Example: ticketctl report daily --xlsx /srv/reports/daily.xlsx")
def daily(
    xlsx: Annotated[Path, typer.Option("--xlsx", help="Write the workbook to this file (replaced atomically; its folder must exist).")],
    at: Annotated[str | None, typer.Option("--at", help="As of this moment (ISO-8601); default: now.")] = None,
    json: Json = False,
) -> None:
    """The morning meeting's XLSX: backlog heat map (dept x product), the 5 tickets stuck longest, KPIs with band colours,
    and charts of the average wait per department (against 2 h) and of the blocked tickets per reason."""
    from ticketctl.services import daily as daily_

    r = daily_.daily(env(), output_file("--xlsx", xlsx), moment("--at", at))
    if json:
        emit_json(r)
    else:
        print(_("wrote {path} ({backlog} open tickets, {stuck} stuck, KPIs of {kpi_tickets} tickets)").format(
            path=r["path"], backlog=r["backlog"], stuck=r["stuck"], kpi_tickets=r["kpi_tickets"]), file=sys.stderr)


@app.command(epilog="Example: ticketctl report qa --rate 0.05 --seed 7 --json")
def qa(
    rate: Annotated[float, typer.Option("--rate", help="Share of closed tickets to sample (0.05 is 5%).")] = 0.05,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed: the same seed, the same sample.")] = None,
    json: Json = False,
) -> None:
    """A reproducible random sample of closed tickets, each checked for evidence completeness, time consistency
    and the customer's confirmation; the findings are recorded on the sampled tickets' timelines."""
    from ticketctl.services import qa as qa_

    r = qa_.sample(env(), rate, seed)
    if json:
        emit_json(r)
        return
    print(_("QA run {run} (seed {seed}): {sampled} of {closed} closed tickets sampled, {passed} passed").format(
        run=r["run"], seed=r["seed"], sampled=r["sampled"], closed=r["closed"], passed=r["passed"]))
    from ticketctl.core.evidence import QA_CHECKS
    from ticketctl.core.message import render  # the findings: English in JSON, the reader's language here

    for t in r["tickets"]:
        issues = [_("{check}: {finding}").format(check=_(QA_CHECKS.get(k, k)), finding=render(i, labelled=True))
                  for k, found in t["issues"].items() for i in found]
        print(f"  {t['key']}  " + (_("ok") if t["ok"] else _("FAIL")) + (f"  {join(issues, 'statement')}" if issues else ""))

"""``dispatch auto`` and the human view of ``assign --explain``."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ticketctl.commands.output import console, emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.core.dispatch import why_skipped
from ticketctl.core.labels import label
from ticketctl.core.message import render
from ticketctl.i18n import _
from ticketctl.services import dispatch

app = typer.Typer(help="Assign work to technicians by skills, load and distance.", no_args_is_help=True)


@app.command(epilog="Example: TICKETCTL_NOW=2026-03-02T09:00:00Z ticketctl dispatch auto --dry-run --limit 20 --json")
def auto(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; assign nothing.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Assign at most this many tickets.")] = None,
    json: Json = False,
) -> None:
    """Assign the unassigned backlog, highest weight first, never over capacity."""
    r = dispatch.auto(env(), dry_run, limit)
    if json:
        emit_json(r)
        return
    for a in r["assigned"]:
        print(f"{a['key']} -> {a['assignee']}  ({render(a['reason'], labelled=True)})")  # reasons: English in JSON, rendered here
    for u in r["unassigned"]:
        print(_("{key} not assigned: {reason}").format(key=u["key"], reason=render(u["reason"], labelled=True)))
    done = _("would assign {assigned}, left {left} unassigned") if dry_run else _("assigned {assigned}, left {left} unassigned")
    print(done.format(assigned=len(r["assigned"]), left=len(r["unassigned"])), file=sys.stderr)


def print_explain(r: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in (_("technician"), _("verdict"), _("why")):
        table.add_column(col)
    for c in r["candidates"]:
        mark = "[green]" + _("eligible") + "[/]" if c["verdict"] == "eligible" else "[dim]" + _("skipped") + "[/]"
        name = f"[bold]{c['name']}[/]" if c["name"] == r["best"] else c["name"]
        table.add_row(name, mark, escape(render(why_skipped(c["reason"]), labelled=True)))
    c = console()
    c.print(_("{key}: policy {policy}; best: {best}").format(key=r["key"], policy=label("policy", r["policy"]),
                                                               best=r["best"] or _("nobody is eligible")))
    if r["candidates"]:
        c.print(table)

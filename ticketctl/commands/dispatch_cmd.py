"""``dispatch auto`` and the human view of ``assign --explain``."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ticketctl.commands.output import console, emit_json, env
from ticketctl.commands.tickets import Json
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
    verb = "would assign" if dry_run else "assigned"
    for a in r["assigned"]:
        print(f"{a['key']} -> {a['assignee']}  ({a['reason']})")
    for u in r["unassigned"]:
        print(f"{u['key']} not assigned: {u['reason']}")
    print(f"{verb} {len(r['assigned'])}, left {len(r['unassigned'])} unassigned", file=sys.stderr)


def print_explain(r: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("technician", "verdict", "why"):
        table.add_column(col)
    for c in r["candidates"]:
        mark = "[green]eligible[/]" if c["verdict"] == "eligible" else "[dim]skipped[/]"
        name = f"[bold]{c['name']}[/]" if c["name"] == r["best"] else c["name"]
        table.add_row(name, mark, escape(c["reason"].removeprefix("skipped: ")))
    c = console()
    c.print(f"{r['key']}: policy {r['policy']}; best: {r['best'] or 'nobody is eligible'}")
    if r["candidates"]:
        c.print(table)

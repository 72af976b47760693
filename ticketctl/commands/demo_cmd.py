"""``ticketctl demo``: generate, then print what a dispatcher would look at first."""

from __future__ import annotations

import sys
import time
from typing import Any

from ticketctl.commands.output import console, emit_json, env
from ticketctl.services import demo


def run_demo(n_tickets: int, n_techs: int, seed: int, force: bool, json: bool) -> None:
    e = env()
    t0 = time.perf_counter()
    if sys.stderr.isatty() and n_tickets >= 5000:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("generating tickets", total=n_tickets)
            result = demo.generate(e, n_tickets, n_techs, seed, force, lambda done: bar.update(task, completed=done))
    else:
        result = demo.generate(e, n_tickets, n_techs, seed, force)
    result["seconds"] = round(time.perf_counter() - t0, 2)
    if json:
        emit_json(result)
    else:
        _print_summary(result)


def _print_summary(r: dict[str, Any]) -> None:
    c = console()
    c.print(f"[bold]demo:[/] {r['tickets']} tickets and {r['technicians']} technicians in {r['seconds']} s  ({r['store']})")
    c.print("  by status   " + "  ".join(f"{k} {v}" for k, v in r["by_status"].items()))
    c.print(f"  open        {r['open']}, of which [bold]{r['unassigned']} unassigned[/];"
            f" {r['technicians_at_capacity']} of {r['technicians']} technicians at capacity")
    c.print("  blocked     " + ("  ".join(f"{k} {v}" for k, v in r["blocked_by_reason"].items()) or "none"))
    s = r["sla"]
    c.print(f"  SLA         [green]ok {s['ok']}[/]  [yellow]at risk {s['at_risk']}[/]  "
            f"[red]breached {s['breached']}[/]  [cyan]paused {s['paused']}[/]")
    c.print("  piles       " + "  ".join(f"{p['dept']}/{p['product']} {p['open']}" for p in r["top_piles"]))
    c.print("next: [bold]ticketctl list[/] (the queue by weight), [bold]ticketctl tech list[/], "
            "[bold]ticketctl show KEY[/]")

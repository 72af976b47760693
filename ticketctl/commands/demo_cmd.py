"""``ticketctl demo``: generate, then print what a dispatcher would look at first."""

from __future__ import annotations

import sys
import time
from typing import Any

import typer

from ticketctl.cells import ljust
from ticketctl.commands.output import console, emit_json, env
from ticketctl.core.labels import label
from ticketctl.errors import BadInput
from ticketctl.i18n import LANGUAGES, _, current, normalize
from ticketctl.services import demo


def demo_language(tag: str | None) -> str:
    """The demo's language: ``tag`` (en, zh_CN, zh, zh-CN, ...), else the one this invocation speaks."""
    if tag is None:
        return current()
    lang = normalize(tag)
    if lang == "zh_CN" or (lang == "en" and tag.replace("-", "_").split("_", 1)[0].split(".", 1)[0].lower() == "en"):
        return lang
    raise BadInput(_("{key}: {value!r} is not one of {known}").format(key="--lang", value=tag, known=", ".join(LANGUAGES)))


def run_demo(n_tickets: int, n_techs: int, seed: int, force: bool, json: bool, lang: str | None = None) -> None:
    language = demo_language(lang)
    e = env()
    t0 = time.perf_counter()
    if sys.stderr.isatty() and n_tickets >= 5000:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(_("generating tickets"), total=n_tickets)
            result = demo.generate(e, n_tickets, n_techs, seed, force, lambda done: bar.update(task, completed=done),
                                   lang=language)
    else:
        result = demo.generate(e, n_tickets, n_techs, seed, force, lang=language)
    result["seconds"] = round(time.perf_counter() - t0, 2)
    if json:
        emit_json(result)
    else:
        _print_summary(result)


def _row(label: str) -> str:
    """A summary line's start: the label in its 12-cell column."""
    return "  " + ljust(label, 12)


def _print_summary(r: dict[str, Any]) -> None:
    c, cfg = console(), env().config
    c.print(_("[bold]demo:[/] {tickets} tickets and {technicians} technicians in {seconds} s  ({store})").format(
        tickets=r["tickets"], technicians=r["technicians"], seconds=r["seconds"], store=r["store"]))
    c.print(_row(_("by status")) + "  ".join(f"{label('status', k, cfg)} {v}" for k, v in r["by_status"].items()))
    c.print(_row(_("open")) + _("{open}, of which [bold]{unassigned} unassigned[/]; {room} of {technicians} technicians have room,"
                                " {at_capacity} at capacity, {on_leave} on leave").format(
        open=r["open"], unassigned=r["unassigned"], room=r["technicians_with_room"], technicians=r["technicians"],
        at_capacity=r["technicians_at_capacity"], on_leave=r["technicians_on_leave"]))
    c.print(_row(_("blocked")) + ("  ".join(f"{label('reason', k, cfg)} {v}" for k, v in r["blocked_by_reason"].items())
                                  or _("none")))
    s = r["sla"]
    c.print(_row("SLA") + _("[green]ok {ok}[/]  [yellow]at risk {at_risk}[/]  [red]breached {breached}[/]  [cyan]paused {paused}[/]")
            .format(ok=s["ok"], at_risk=s["at_risk"], breached=s["breached"], paused=s["paused"]))
    c.print(_row(_("piles")) + "  ".join(f"{p['dept']}/{p['product']} {p['open']}" for p in r["top_piles"]))
    c.print(_("next: [bold]ticketctl list[/] (the queue by weight), [bold]ticketctl tech list[/], [bold]ticketctl show KEY[/]"))
    c.print(_("then: [bold]ticketctl dashboard[/] and [bold]d[/] dispatches the unassigned work within capacity"))


def demo_command(
    tickets_: int = typer.Option(2000, "--tickets", min=1, max=2_000_000, help="Tickets to generate."),
    techs: int = typer.Option(40, "--techs", min=1, max=10_000, help="Technicians to generate."),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed gives the same team and backlog."),
    force: bool = typer.Option(False, "--force", help="Add to a store that already holds tickets."),
    json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    lang: str | None = typer.Option(
        None, "--lang", help="The team's language: en, or zh_CN (a Chinese team on China's calendar, CN, Asia/Shanghai)."
        " Default: the language ticketctl speaks (config lang, TICKETCTL_LANG, the locale)."),
) -> None:
    """Fill the store with a realistic team and backlog (shaped on a real ServiceNow log) and summarise it."""
    run_demo(tickets_, techs, seed, force, json, lang)


def register(app: typer.Typer) -> None:
    app.command("demo", epilog="Example: TICKETCTL_HOME=/tmp/demo ticketctl demo --tickets 2000 --techs 40 --seed 7")(demo_command)

"""``store check|rebuild``: prove and repair the projections from the event log."""

from __future__ import annotations

import sys

import typer

from ticketctl.commands.output import emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.errors import Refused
from ticketctl.i18n import _
from ticketctl.services import rebuild

app = typer.Typer(help="Check or rebuild the local store from its event log.", no_args_is_help=True)


@app.command(epilog="Example: ticketctl store check --json")
def check(json: Json = False) -> None:
    """Replay every event and compare with the tickets and technicians tables; exit 1 on any difference."""
    e = env()
    diffs = rebuild.differences(e.store, e.config)
    if json:
        emit_json({"ok": not diffs, "differences": diffs})
    if diffs:
        if not json:
            for d in diffs:
                print(d)
        raise Refused(_("the projections differ from the event log in {n} place(s); `ticketctl store rebuild` repairs them").format(
            n=len(diffs)))
    if not json:
        print(_("store ok: the projections equal a replay of the event log"), file=sys.stderr)


@app.command("rebuild", epilog="Example: ticketctl store rebuild")
def rebuild_(json: Json = False) -> None:
    """Rewrite the tickets and technicians tables from the event log."""
    e = env()
    n_tickets, n_techs = rebuild.rebuild(e.store, e.config)
    if json:
        emit_json({"tickets": n_tickets, "technicians": n_techs})
    else:
        print(_("rebuilt {tickets} tickets and {technicians} technicians from the event log").format(
            tickets=n_tickets, technicians=n_techs), file=sys.stderr)

"""``sweep`` (cron: escalate, ask why, group batch incidents) and ``why``
(the holder's answer to a stall check)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ticketctl.commands.output import emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.core.labels import label
from ticketctl.core.message import render
from ticketctl.core.workflow import STALL_CHOICES
from ticketctl.errors import Refused
from ticketctl.i18n import N_, _
from ticketctl.render.tables import ticket_line
from ticketctl.render.text import join, paren

#: the summary's notification counts (``notify.deliver``'s keys); the placeholder's name keeps these
#: msgids apart from other "{n} pending" ones (sync's pending changes read differently in Chinese)
NOTE_LABELS = {"queued": N_("{notifications} queued"), "sent": N_("{notifications} sent"), "pending": N_("{notifications} pending"),
               "failed": N_("{notifications} failed"), "errors": N_("{notifications} errors")}


def _summary(r: dict[str, Any]) -> str:
    rules = [a["rule"].split("@", 1)[0] for a in r["actions"]]
    stalls, batches = rules.count("stall"), rules.count("batch")
    escalations = len(rules) - stalls - batches
    counts = {k: len(v) if isinstance(v, list) else v for k, v in r["notifications"].items()}
    notes = join((_(NOTE_LABELS[k]).format(notifications=n) if k in NOTE_LABELS else f"{n} {k}" for k, n in counts.items()),
                 "clause") or _("none")
    head = _("sweep (dry run, nothing written)") if r["dry_run"] else _("sweep")
    return _("{head} at {at}: {escalations} escalations, {stalls} stall checks, {batches} batches;"
             " breached now: {response} response, {resolve} resolution; notifications: {notes}").format(
        head=head, at=r["at"], escalations=escalations, stalls=stalls, batches=batches, response=r["breached"]["response"],
        resolve=r["breached"]["resolve"], notes=notes)


def sweep(
    json: Json = False,
    fail_on_breach: Annotated[
        bool, typer.Option("--fail-on-breach", help="Exit 1 (after the sweep) while any open ticket is past an SLA target.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be done; write nothing.")] = False,
) -> None:
    """Escalate silent, at-risk, breached and long-blocked tickets, ask the holders of stalled work why,
    and group batch incidents under one parent ticket. Safe to run from cron every minute: nothing
    happens twice."""
    from ticketctl.services import notify
    from ticketctl.services import sweep as sweeping  # not on every command's import path

    r = sweeping.sweep(env(), dry_run)
    if json:
        emit_json(r)
    else:
        cfg = env().config
        for a in r["actions"]:
            to = join(label("role", x) for x in a["to"])
            rule, at, when = a["rule"].partition("@")  # stall@TIME: the rule and the moment it is about
            reason = notify.unreached_reason(cfg, a["rule"]) if a["unreached"] else None
            told = paren(_("no one notified: {reason}").format(reason=reason)) if reason else ""
            print(f"{a['key']}  {label('rule', rule)}{at}{when}  -> {to}{told}  {render(a['message'], labelled=True)}")  # JSON: English
        print(_summary(r), file=sys.stderr)
        unreached = sum(1 for a in r["actions"] if a["unreached"])
        if unreached:
            print("ticketctl: " + _("{count} of the sweep's actions reached no one; add [notify.targets.NAME] with a `url` to"
                                    " config.toml and check it with `ticketctl notify test`").format(count=unreached),
                  file=sys.stderr)
    b = r["breached"]
    if fail_on_breach and (b["response"] or b["resolve"]):
        raise Refused(_("SLA breached: open tickets past their response target: {response}, past their resolution target: {resolve}")
                      .format(response=b["response"], resolve=b["resolve"]))


def why(
    key: Annotated[str, typer.Argument(help="Ticket key or any unique prefix of it.")],
    choice: Annotated[str, typer.Argument(help=f"Why no update: {', '.join(STALL_CHOICES)}.")],
    json: Json = False,
) -> None:
    """Answer a stall check: awaiting_parts / awaiting_customer block the ticket with that reason,
    technician_away returns it to the queue unassigned, still_working restarts the stall clock."""
    from ticketctl.services import sweep as sweeping

    t = sweeping.why(env(), key, choice)
    emit_json(t) if json else print(ticket_line(t, env().config))


def register(app: typer.Typer) -> None:
    app.command(epilog="Example: ticketctl sweep --json --fail-on-breach")(sweep)
    app.command(epilog="Example: ticketctl why KQT-12 awaiting_parts")(why)

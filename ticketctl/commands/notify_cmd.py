"""``notify list|send|test``: the webhook outbox, seen and flushed by hand.

``sweep`` queues and delivers on its own; these commands are for the person
who wants to know what is stuck (``list``), push it out now (``send``) or check
a new webhook (``test``). Delivery failures are not command failures: the rows
stay queued and the report says why, so ``send`` exits 0 when a target is down.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from ticketctl.commands.output import console, emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.errors import Refused
from ticketctl.i18n import N_, _
from ticketctl.render.text import join
from ticketctl.services import notify

app = typer.Typer(help="Webhook notifications: see the outbox, send what is pending, test a target.", no_args_is_help=True)


class Status(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


STATUS_STYLE = {"pending": "yellow", "sent": "green", "failed": "bold red"}
COLUMNS = (N_("id"), N_("created"), N_("target"), N_("rule"), N_("ticket"), N_("status"), N_("tries"), N_("next / sent"), N_("last error"))


@app.command("list", epilog="Example: ticketctl notify list --status pending --status failed --json")
def list_(
    status: Annotated[list[Status] | None, typer.Option("--status", help="Only these statuses (repeatable); default: all.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many, newest first.")] = 100,
    json: Json = False,
) -> None:
    """List queued, sent and failed notifications, newest first."""
    rows = notify.listing(env(), [s.value for s in status] if status else None, limit)
    if json:
        emit_json(rows)
        return
    if not rows:
        print(_("no notifications match"), file=sys.stderr)
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in COLUMNS:
        table.add_column(_(col), justify="right" if col in ("id", "tries") else "left")
    for r in rows:
        table.add_row(
            str(r["id"]), r["created_at"], r["target"], r["rule"], r["ticket"] or "-",
            f"[{STATUS_STYLE[r['status']]}]{r['status']}[/]", str(r["attempts"]),
            r["sent_at"] or r["next_attempt_at"] or "-", r["last_error"] or "",
        )
    console().print(table)


@app.command(epilog="Example: ticketctl notify send --json")
def send(json: Json = False) -> None:
    """Send every pending notification now, due or not.

    Exit 0 even when a target is down: its rows stay queued, and the report says why."""
    report = notify.deliver(env(), force=True)
    if json:
        emit_json(report)
        return
    print(_("sent {sent}, pending {pending}, failed {failed}").format(sent=report["sent"], pending=report["pending"],
                                                                       failed=report["failed"]))
    for line in report["errors"]:
        print("ticketctl: " + _("not delivered: {error}").format(error=line), file=sys.stderr)


@app.command("test", epilog="Example: ticketctl notify test ops-slack")
def test_target(
    target: Annotated[str | None, typer.Argument(help="A target name from [notify.targets] in the config; default: every target.")] = None,
    json: Json = False,
) -> None:
    """Send a test notification to one target (whatever its rules), or to each one.

    Exit 1 with the reason when one is not delivered; a failed test is not retried later."""
    if target is not None:
        row = notify.send_test(env(), target)
        emit_json(row) if json else print(_("test notification #{id} delivered to {target}").format(id=row["id"], target=target))
        return
    rows = notify.send_tests(env())
    if json:
        emit_json(rows)
    else:
        for r in rows:
            if r["status"] == "sent":
                print(_("{target}: sent (test notification #{id})").format(target=r["target"], id=r["id"]))
            else:
                print(_("{target}: failed: {error} (test notification #{id})").format(
                    target=r["target"], error=r["last_error"], id=r["id"]))
    failed = [r["target"] for r in rows if r["status"] != "sent"]
    if failed:
        raise Refused(_("test notifications not delivered to {targets}").format(targets=join(failed)))

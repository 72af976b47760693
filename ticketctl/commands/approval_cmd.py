"""``approval request|list|show|approve|reject`` and ``delegate``: the yes a
ticket needs before work goes on."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ticketctl.cells import ljust
from ticketctl.commands.output import emit_json, emit_text, env, moment
from ticketctl.commands.tickets import Json
from ticketctl.core.approvals import money
from ticketctl.core.labels import label
from ticketctl.errors import BadInput
from ticketctl.i18n import _
from ticketctl.render.tables import plain_table, ticket_line
from ticketctl.render.text import duration, join, pair, paren
from ticketctl.services import approvals

app = typer.Typer(help="Approvals: a path that follows the cost, approve or reject, who holds what.", no_args_is_help=True)

Key = Annotated[str, typer.Argument(help="Ticket key or any unique prefix of it.")]


def _steps_line(a: dict[str, Any]) -> str:
    parts = []
    for s in a["steps"]:
        who = s["by"] + (" " + _("for {name}").format(name=s["for"]) if s.get("for") else "") if s.get("by") else ",".join(s["approvers"])
        parts.append(f"{s['stage']}:{s['role']} {s['status']} ({who})")
    return "  ".join(parts)


def _business(seconds: int, day: int) -> str:
    """Business time as days of the calendar's business day and the rest (``1d 2h 00m``)."""
    days, rest = divmod(max(int(seconds), 0), day)
    if not days:
        return duration(rest)
    return _("{days}d").format(days=days) + (" " + duration(rest) if rest else "")


def _print(t: dict[str, Any], json: bool) -> None:
    if json:
        emit_json(t)
        return
    print(ticket_line(t, env().config))
    a = t["approval"]
    if a is not None:
        print("  " + _("approval #{n} ({rule}, {cost}) {status}: {steps}").format(
            n=a["n"], rule=a["rule"], cost=money(a["cost"]), status=a["status"], steps=_steps_line(a)))


def request(
    key: Key,
    cost: Annotated[float, typer.Option("--cost", help="What it costs; picks the path (approvals.rules).")],
    what: Annotated[str, typer.Option("--what", help="What is to be approved, in a few words.")],
    attach: Annotated[list[str] | None, typer.Option(
        "--attach", help="A file the path may need, labelled by its name (quote.pdf: quote) or LABEL=FILE (repeatable).")] = None,
    json: Json = False,
) -> None:
    """Ask for approval: works out the path and blocks the ticket (awaiting_approval) until it is decided."""
    _print(approvals.request(env(), key, cost, what, attach or []), json)


def approve(
    key: Key,
    note: Annotated[str | None, typer.Option("--note", help="A word for the record.")] = None,
    json: Json = False,
) -> None:
    """Approve your step of a ticket's request (or, as their delegate, the step of someone away)."""
    _print(approvals.approve(env(), key, note), json)


def reject(
    key: Key,
    reason: Annotated[str, typer.Option("--reason", help="Why: the ticket's holder reads it.")],
    json: Json = False,
) -> None:
    """Reject a ticket's request: it ends, and the ticket goes back to its holder with the reason."""
    _print(approvals.reject(env(), key, reason), json)


def list_(
    mine: Annotated[bool, typer.Option("--mine", help="Only what you may decide now (yourself, or for someone away).")] = False,
    json: Json = False,
) -> None:
    """Requests waiting for a decision, the longest waiting first: the open steps, their age and who holds them."""
    e = env()
    rows = approvals.pending(e, mine)
    day = e.config.business_calendar.day_seconds
    if json:
        emit_json(rows)
        return
    if not rows:
        print(_("no approvals waiting"), file=sys.stderr)
        return
    cells = []
    for r in rows:
        for s in r["steps"]:
            away = _("away, {name} stands in")
            holders = join(n + paren(away.format(name=d)) if (d := s["delegates"].get(n)) else n for n in s["approvers"])
            cells.append([r["key"], f"#{r['n']}", r["rule"], money(r["cost"]), label("role", s["role"], e.config), holders,
                          _business(s["waited_s"], day) + " / " + _business(s["limit_s"], day), r["what"]])
    from ticketctl.core.approvals import COLUMNS

    emit_text(plain_table([_(c) for c in COLUMNS], cells))


def show(key: Key, json: Json = False) -> None:
    """A ticket's latest approval request: its path, each step with who decided it (and for whom)."""
    a, cfg = approvals.show(env(), key), env().config
    if json:
        emit_json(a)
        return
    print(f"{a['key']}  {a['title']}")
    print("  " + _("approval #{n}: {what}, cost {cost}, path {rule}: {status}").format(
        n=a["n"], what=a["what"], cost=money(a["cost"]), rule=a["rule"], status=a["status"]))
    print("  " + _("requested by {name} at {at}").format(name=a["by"], at=a["at"]))
    for f in a["attachments"]:
        print("  " + _("attached {label}: {name} sha256 {sha}").format(label=f["label"], name=f["name"], sha=f["sha256"][:12]))
    for i, s in enumerate(a["steps"], 1):
        if s["by"]:
            who = s["by"] + (" " + _("for {name}").format(name=s["for"]) if s["for"] else "") + f" {s['at']}"
        else:
            who = _("waiting for {who} since {at}").format(who=join(s["approvers"]), at=s["since"]) if s["since"] else join(
                s["approvers"])
        note = pair("", s["note"], ": ") if s["note"] else ""
        print(f"    {i}. {ljust(label('role', s['role'], cfg), 18)} {ljust(s['status'], 9)} {who}{note}")
    if a["reason"]:
        print("  " + _("rejected: {reason}").format(reason=a["reason"]))


def delegate(
    name: Annotated[str, typer.Argument(help="Who is away.")],
    to: Annotated[str | None, typer.Option("--to", help="Who approves in their place.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="From when (ISO-8601; default now).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Until when (ISO-8601, exclusive).")] = None,
    end: Annotated[bool, typer.Option("--end", help="End NAME's delegation now.")] = False,
    json: Json = False,
) -> None:
    """Name who approves for someone while they are away: the record says "OTHER for NAME"."""
    e = env()
    if end:
        d = approvals.undelegate(e, name)
    else:
        if to is None or until is None:
            raise BadInput(_("give --to OTHER and --until TIME (or --end)"))
        start = moment("--from", from_) or e.now
        stop = moment("--until", until)
        assert stop is not None
        from ticketctl.core.model import iso

        d = approvals.delegate(e, name, to, iso(start), iso(stop))
    if json:
        emit_json(d)
    elif d["cleared"]:
        print(_("{name} approves for themselves again").format(name=d["name"]))
    else:
        print(_("{to} approves for {name} from {start} until {until}").format(to=d["to"], name=d["name"], start=d["from"],
                                                                              until=d["until"]))


app.command("request", epilog="Example: ticketctl approval request KQT-12 --cost 6000 --what 'replace compressor' "
            "--attach quote.pdf")(request)
app.command("list", epilog="Example: TICKETCTL_USER=sam ticketctl approval list --mine --json")(list_)
app.command("show", epilog="Example: ticketctl approval show KQT-12 --json")(show)
app.command("approve", epilog="Example: TICKETCTL_USER=sam ticketctl approval approve KQT-12 --note 'ok, within budget'")(approve)
app.command("reject", epilog="Example: ticketctl approval reject KQT-12 --reason 'repair the old one first'")(reject)


def register(root: typer.Typer) -> None:
    root.command(epilog="Example: ticketctl delegate sam --to lee --from 2026-12-24T00:00:00Z --until 2027-01-02T00:00:00Z")(delegate)

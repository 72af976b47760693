"""The technician's verbs: assign, start, block, unblock, note, resolve, close,
reopen, cancel. Each prints the ticket's new state (one line, or ``--json``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ticketctl.commands.output import emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.render.tables import ticket_line
from ticketctl.services import tickets

if TYPE_CHECKING:
    from ticketctl.core.model import FieldValue

Key = Annotated[str, typer.Argument(help="Ticket key or any unique prefix of it.")]


def _done(t: dict[str, Any], json: bool) -> None:
    emit_json(t) if json else print(ticket_line(t, env().config))


def assign(
    key: Key,
    name: Annotated[str | None, typer.Argument(help="Technician to assign; omit to let dispatch pick the best.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Assign even over the technician's capacity (recorded).")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Show every technician's verdict and why; assigns nothing.")] = False,
    json: Json = False,
) -> None:
    """Assign (or reassign) a ticket: to NAME, or to the best eligible technician."""
    from ticketctl.services import dispatch

    if explain:
        from ticketctl.commands.dispatch_cmd import print_explain

        report = dispatch.explain(env(), key)
        emit_json(report) if json else print_explain(report)
    elif name is None:
        _done(dispatch.assign_best(env(), key), json)
    else:
        _done(tickets.assign(env(), key, name, force), json)


def start(key: Key, json: Json = False) -> None:
    """Start work on an assigned ticket."""
    _done(tickets.start(env(), key), json)


def block(
    key: Key,
    reason: Annotated[str, typer.Option("--reason", help="Why, from the configured menu (see `config show`).")],
    note: Annotated[str | None, typer.Option("--note", help="Free text.")] = None,
    collaborator: Annotated[str | None, typer.Option("--collaborator", help="Who we wait for (awaiting_collaboration).")] = None,
    deliverable: Annotated[str | None, typer.Option("--deliverable", help="What they deliver.")] = None,
    deadline: Annotated[str | None, typer.Option("--deadline", help="By when, ISO-8601 (2026-03-05T17:00).")] = None,
    expect: Annotated[str | None, typer.Option("--expect", help="The expected result.")] = None,
    json: Json = False,
) -> None:
    """Block a ticket with a reason; the resolution clock pauses for customer-caused reasons."""
    details = {"note": note, "collaborator": collaborator, "deliverable": deliverable, "deadline": deadline,
               "expected_result": expect}
    _done(tickets.block(env(), key, reason, {k: v for k, v in details.items() if v}), json)


def unblock(
    key: Key,
    note: Annotated[str | None, typer.Option("--note", help="What changed.")] = None,
    json: Json = False,
) -> None:
    """Unblock a ticket: it returns to where it was before the block."""
    _done(tickets.unblock(env(), key, note), json)


def note(
    key: Key,
    text: Annotated[str, typer.Argument(help="The note.")],
    json: Json = False,
) -> None:
    """Add a note to the ticket's timeline."""
    _done(tickets.note(env(), key, text), json)


def resolve(
    key: Key,
    note: Annotated[str | None, typer.Option("--note", help="What was done.")] = None,
    json: Json = False,
) -> None:
    """Mark the work done; the ticket waits for the customer's confirmation."""
    _done(tickets.resolve(env(), key, note), json)


def close(
    key: Key,
    check: Annotated[list[str] | None, typer.Option("--check", help="A checklist item done (repeatable).")] = None,
    json: Json = False,
) -> None:
    """Close a resolved ticket; refused, naming what is missing, while checklist items are unchecked, an item
    that needs evidence has none (`attach FILE --for ITEM`) or the customer has not confirmed (`confirm`)."""
    _done(tickets.close(env(), key, check or []), json)


def reopen(
    key: Key,
    reason: Annotated[str | None, typer.Option("--reason", help="Why it is not fixed.")] = None,
    json: Json = False,
) -> None:
    """Reopen a resolved or closed ticket; its checklist starts over."""
    _done(tickets.reopen(env(), key, reason), json)


def edit(
    key: Key,
    title: Annotated[str | None, typer.Option("--title", help="New title.")] = None,
    priority: Annotated[str | None, typer.Option("--priority", help="urgent, high, medium or low (SLA targets follow).")] = None,
    dept: Annotated[str | None, typer.Option("--dept", help="Hand over to another department (a transfer).")] = None,
    product: Annotated[str | None, typer.Option("--product", help="Product or asset.")] = None,
    fault: Annotated[str | None, typer.Option("--fault", help="Fault type.")] = None,
    zone: Annotated[str | None, typer.Option("--zone", help="Where the work is.")] = None,
    impact: Annotated[str | None, typer.Option("--impact", help="user, department or system.")] = None,
    skills: Annotated[str | None, typer.Option("--skills", help="Skills the work needs, comma separated.")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Customer name.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Customer phone.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="How it came in.")] = None,
    description: Annotated[str | None, typer.Option("--description", help="Longer description.")] = None,
    json: Json = False,
) -> None:
    """Change a ticket's fields; each change is an event in the timeline."""
    fields: dict[str, FieldValue] = {
        "title": title, "product": product, "fault": fault, "zone": zone, "impact": impact, "customer": customer,
        "phone": phone, "channel": channel, "description": description,
        "skills": [x.strip() for x in skills.split(",") if x.strip()] if skills is not None else None}
    changes: dict[str, FieldValue] = {k: v for k, v in fields.items() if v is not None}
    _done(tickets.edit(env(), key, changes, priority, dept), json)


def cancel(
    key: Key,
    reason: Annotated[str, typer.Option("--reason", help="Why the work is not needed.")],
    json: Json = False,
) -> None:
    """Cancel an open ticket (tickets are never deleted)."""
    _done(tickets.cancel(env(), key, reason), json)


def register(app: typer.Typer) -> None:
    examples: dict[Any, str] = {
        assign: "ticketctl assign KQT-12 ana   |   ticketctl assign KQT-12 --explain",
        start: "ticketctl start KQT-12",
        block: "ticketctl block KQT-12 --reason awaiting_parts --note 'compressor relay'",
        unblock: "ticketctl unblock KQT-12",
        note: "ticketctl note KQT-12 'relay replaced'",
        resolve: "ticketctl resolve KQT-12 --note 'relay replaced, cooling back'",
        close: "ticketctl close KQT-12 --check function_test --check safety_reset --check parts_recorded",
        reopen: "ticketctl reopen KQT-12 --reason 'still warm'",
        edit: "ticketctl edit KQT-12 --priority urgent --dept electrical --zone east",
        cancel: "ticketctl cancel KQT-12 --reason 'duplicate of KQT-9'",
    }
    for fn, example in examples.items():
        app.command(epilog=f"Example: {example}")(fn)

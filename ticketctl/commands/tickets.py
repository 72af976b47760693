"""``new``, ``list``, ``mine``, ``show``: create and read tickets."""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Annotated

import typer

from ticketctl.commands.output import emit_json, env, print_markup, print_tickets
from ticketctl.core.model import STATUSES
from ticketctl.services import tickets


class Priority(StrEnum):
    urgent = "urgent"
    high = "high"
    medium = "medium"
    low = "low"


class Impact(StrEnum):
    user = "user"
    department = "department"
    system = "system"


class Sort(StrEnum):
    weight = "weight"
    created = "created"
    due = "due"


Status = Enum("Status", {s: s for s in STATUSES}, type=str)  # type: ignore[misc]

Json = Annotated[bool, typer.Option("--json", help="Print JSON (stable keys, ISO-8601 UTC times).")]


def comma_list(text: str | None) -> list[str]:
    """The items of a comma-separated option (``--skills a, b``), blanks dropped."""
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def new(
    title: Annotated[str, typer.Argument(help="What is wrong, in a few words.")],
    type_: Annotated[str, typer.Option("--type", help="Ticket type; picks the closing checklist (repair, install, change, ...).")],
    dept: Annotated[str, typer.Option("--dept", help="Department that owns the work.")],
    product: Annotated[str, typer.Option("--product", help="Product or asset concerned.")],
    fault: Annotated[str, typer.Option("--fault", help="Fault type.")] = "",
    priority: Annotated[Priority, typer.Option("--priority", help="Urgency; sets the SLA targets.")] = Priority.medium,
    impact: Annotated[Impact, typer.Option("--impact", help="Who is affected.")] = Impact.user,
    skills: Annotated[str, typer.Option("--skills", help="Skills the work needs, comma separated.")] = "",
    zone: Annotated[str, typer.Option("--zone", help="Where the work is.")] = "",
    customer: Annotated[str, typer.Option("--customer", help="Customer name.")] = "",
    phone: Annotated[str, typer.Option("--phone", help="Customer phone.")] = "",
    channel: Annotated[str, typer.Option("--channel", help="How it came in (phone, email, walk-in, ...).")] = "",
    description: Annotated[str, typer.Option("--description", help="Longer description.")] = "",
    json: Json = False,
) -> None:
    """Open a ticket; prints its key (and, on stderr, the resolved ticket or
    knowledge article most like it, when one is close)."""
    t = tickets.create(env(), {
        "title": title, "type": type_.strip(), "dept": dept.strip(), "product": product.strip(), "fault": fault,
        "priority": priority.value, "impact": impact.value, "skills": comma_list(skills), "zone": zone,
        "customer": customer, "phone": phone, "channel": channel, "description": description,
    })
    if json:
        emit_json(t)
    else:
        print(t["key"])
        _hint_similar(t["key"])


def _hint_similar(key: str) -> None:
    """On stderr, the resolved ticket or article most like a new one, when it is close."""
    from ticketctl.services import kb

    best = kb.strong_match(env(), key)
    if best is not None:
        import sys

        from ticketctl.render.kb import similar_hint

        print(similar_hint([best]), file=sys.stderr)


def list_(
    status: Annotated[list[Status] | None, typer.Option("--status", help="Only these statuses (repeatable); default: open ones.")] = None,
    assignee: Annotated[str | None, typer.Option("--assignee", help="Only this technician's tickets.")] = None,
    dept: Annotated[str | None, typer.Option("--dept", help="Only this department.")] = None,
    sort: Annotated[
        Sort, typer.Option("--sort", help="weight (highest first), created (oldest first) or due (soonest first).")
    ] = Sort.weight,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many tickets.")] = 50,
    json: Json = False,
) -> None:
    """List tickets: by default the open ones, highest priority weight first."""
    rows = tickets.listing(env(), [s.value for s in status] if status else None, assignee, dept, sort.value, limit)
    emit_json(rows) if json else print_tickets(rows)


def mine(
    status: Annotated[list[Status] | None, typer.Option("--status", help="Only these statuses (repeatable); default: open ones.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many tickets.")] = 50,
    json: Json = False,
) -> None:
    """My open tickets (TICKETCTL_USER or `config set me NAME`), highest weight first."""
    e = env()
    rows = tickets.listing(e, [s.value for s in status] if status else None, e.actor, None, "weight", limit)
    emit_json(rows) if json else print_tickets(rows)


def show(
    key: Annotated[str, typer.Argument(help="Ticket key or any unique prefix of it.")],
    json: Json = False,
) -> None:
    """Show a ticket: fields, SLA clocks, checklist, its whole timeline, and the
    three resolved tickets or knowledge articles most like it."""
    from ticketctl.services import kb

    t = tickets.show(env(), key)
    t["similar"] = kb.similar(env(), t["key"], 3, everything=False)
    if json:
        emit_json(t)
        return
    from ticketctl.render.show import ticket_page

    print_markup(ticket_page(t, env().config))


def register(app: typer.Typer) -> None:
    app.command(epilog="Example: ticketctl new 'No cooling in server room' --type repair --dept facilities "
                "--product hvac --priority high --impact department")(new)
    app.command("list", epilog="Example: ticketctl list --status blocked --dept facilities --sort due --json")(list_)
    app.command(epilog="Example: TICKETCTL_USER=ana ticketctl mine")(mine)
    app.command(epilog="Example: ticketctl show KQT-12 --json")(show)

"""Who may do what: the rules the sync server enforces for each device's role,
and that a synced client checks before it queues a change it would only see
refused later.

Roles: ``technician`` works the tickets assigned to them; ``dispatcher`` and
``supervisor`` run the queue (assign, dispatch, edit, cancel, the roster);
``admin`` may do everything. Anyone may open a ticket or add a note to their
own work, and write or edit a knowledge article; publishing or retiring one
is for the queue's roles. A technician never receives a customer's phone number.
"""

from __future__ import annotations

import re
from typing import Any

from ticketctl.core.model import Ticket
from ticketctl.i18n import _

ROLES = ("technician", "dispatcher", "supervisor", "admin")

#: mutations only the people who run the queue may send (publishing a knowledge
#: article to customers, or retiring one, is a review, not a technician's call)
QUEUE_ONLY = frozenset({"ticket.assign", "ticket.cancel", "events.append", "tech.add", "kb.publish", "kb.retire"})

#: fields a technician's device never receives
REDACTED_FOR_TECHNICIANS = ("phone",)


def refusal(role: str, actor: str, name: str, ticket: Ticket | None, args: dict[str, Any]) -> str | None:
    """Why ``actor`` with ``role`` may not send mutation ``name`` (on ``ticket``,
    as it stands before the change), or None when they may. The reason is in
    the current language: the server's rejections speak the server's."""
    if role not in ROLES:
        return _("unknown role {role!r}").format(role=role)
    if role == "admin" or role in ("dispatcher", "supervisor"):
        return None
    if name in QUEUE_ONLY:
        return _("a technician may not {action}: only dispatchers and supervisors may").format(action=name.split(".", 1)[1])
    if name == "tech.update" and args.get("name") != actor:
        return _("a technician may change only their own roster entry")
    if name in ("approval.delegate", "approval.undelegate") and args.get("name") != actor:
        return _("a technician may name a delegate only for themselves")
    # every other ticket action (start, block, note, resolve, close, attach, asking for approval, ...) only on their own work;
    # deciding an approval is for its approvers, whatever their role (core.approvals.decide)
    own_work = name.startswith("ticket.") or name == "approval.request"
    if own_work and name != "ticket.create" and ticket is not None and ticket.assignee != actor:
        if ticket.assignee:
            return _("{key} is assigned to {assignee}, not to {actor}").format(key=ticket.key, assignee=ticket.assignee, actor=actor)
        return _("{key} is not assigned to anyone, not to {actor}").format(key=ticket.key, actor=actor)
    return None


def redact_ticket(data: dict[str, Any], role: str) -> dict[str, Any]:
    """A ticket's fields as a device with ``role`` may see them."""
    if role != "technician":
        return data
    return {k: ("" if k in REDACTED_FOR_TECHNICIANS and v else v) for k, v in data.items()}


def redact_json(text: str, role: str) -> str:
    """Compact JSON of projections (as the server stores them) as a device with
    ``role`` may see it: every redacted field's string value emptied, at any
    depth. Works on the text, so a whole snapshot is redacted without parsing it."""
    if role != "technician":
        return text
    for name in REDACTED_FOR_TECHNICIANS:
        text = re.sub(rf'"{name}":"(?:[^"\\]|\\.)*"', f'"{name}":""', text)
    return text


def redact_event(event_type: str, payload: dict[str, Any], role: str) -> dict[str, Any]:
    """An event's payload as a device with ``role`` may see it."""
    if role != "technician":
        return payload
    if event_type == "ticket.edited" and payload.get("field") in REDACTED_FOR_TECHNICIANS:
        return {**payload, **{k: "" for k in ("value", "previous") if k in payload}}
    return redact_ticket(payload, role)

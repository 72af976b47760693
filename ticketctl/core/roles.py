"""Who may do what: the one rule table for every named mutation, which the
mutation pipeline (``services.mutations.prepare``) applies on the device and on
the server alike, to the ticket the mutation will actually change.

Roles: ``technician`` works the tickets assigned to them; ``dispatcher`` and
``supervisor`` run the queue (assign, dispatch, edit, cancel, the roster, QA);
``admin`` may do everything. Each mutation has one rule (:data:`RULES`):

    ANYONE   every role (opening a ticket, writing an article, deciding an
             approval, which ``core.approvals`` then judges by its path)
    QUEUE    dispatchers, supervisors and admins only
    OWN      the queue's roles, or the technician the ticket is assigned to
    SELF     the queue's roles, or a technician about their own name
             (``args["name"]``: their roster entry, their approval delegate)
    SERVER   no device: only the server's own pages record it (the customer's
             confirmation through a link)

Field permissions cover reading and writing alike (:data:`HIDDEN_FROM`): a
technician never receives a customer's phone and may not set or change one,
and the refusal says nothing about the value. On their own roster entry a
technician may change only :data:`SELF_SERVICE` fields (shift, leave,
delegate, where they are), not their capacity, skills, department or seniority.
"""

from __future__ import annotations

import re
from typing import Any

from ticketctl.core.model import Ticket
from ticketctl.i18n import N_, _

ROLES = ("technician", "dispatcher", "supervisor", "admin")
#: the roles that run the queue
QUEUE_ROLES = frozenset({"dispatcher", "supervisor", "admin"})

ANYONE, QUEUE, OWN, SELF, SERVER = "anyone", "queue", "own", "self", "server"

#: every named mutation and who may send it (a test checks it names every registered one)
RULES: dict[str, str] = {
    "ticket.create": ANYONE,
    "ticket.assign": QUEUE,
    "ticket.cancel": QUEUE,
    "ticket.start": OWN,
    "ticket.block": OWN,
    "ticket.unblock": OWN,
    "ticket.note": OWN,
    "ticket.resolve": OWN,
    "ticket.close": OWN,
    "ticket.reopen": OWN,
    "ticket.edit": OWN,
    "ticket.attach": OWN,
    "ticket.why": OWN,
    "ticket.confirm": OWN,
    "ticket.confirm_request": OWN,
    "ticket.certify": OWN,
    "ticket.confirm_token": SERVER,
    "approval.request": OWN,
    "approval.approve": ANYONE,
    "approval.reject": ANYONE,
    "approval.delegate": SELF,
    "approval.undelegate": SELF,
    "tech.add": QUEUE,
    "tech.update": SELF,
    "kb.add": ANYONE,
    "kb.edit": ANYONE,
    "kb.publish": QUEUE,
    "kb.retire": QUEUE,
    "qa.record": QUEUE,
    "events.append": QUEUE,
    "part.add": QUEUE,
    "stock.place_add": QUEUE,
    "stock.receive": ANYONE,
    "stock.transfer": ANYONE,
    "stock.arrived": ANYONE,
    "stock.count": ANYONE,
    "part.need": OWN,
    "part.use": OWN,
}

#: ticket fields and the roles that may neither receive nor write them
HIDDEN_FROM: dict[str, frozenset[str]] = {"phone": frozenset({"technician"})}
#: how a refusal names a hidden field
FIELD_LABELS = {"phone": N_("phone number")}
#: fields a device never receives when its role is technician (what the server redacts)
REDACTED_FOR_TECHNICIANS = tuple(f for f, roles in HIDDEN_FROM.items() if "technician" in roles)
#: what a technician may change on their own roster entry
SELF_SERVICE = frozenset({"on_shift", "on_leave", "delegate", "zone", "lat", "lon"})
#: the arguments of each mutation that carry ticket fields a role may be forbidden to write
FIELD_ARGS = {"ticket.create": "fields", "ticket.edit": "changes"}


def refusal(role: str, actor: str, name: str, ticket: Ticket | None, args: dict[str, Any]) -> str | None:
    """Why ``actor`` with ``role`` may not send mutation ``name`` with ``args``
    (on ``ticket``, the one the mutation changes, as it stands before the
    change), or None when they may. The reason is in the current language: the
    server's rejections speak the server's."""
    if role not in ROLES:
        return _("unknown role {role!r}").format(role=role)
    rule = RULES.get(name)
    if rule is None:
        return _("unknown action {name!r}").format(name=name)
    if rule == SERVER:
        return _("{name} is recorded only by the server's own pages, never sent by a device").format(name=name)
    if role in QUEUE_ROLES:
        return None
    action = name.split(".", 1)[1]
    if rule == QUEUE:
        return _("a technician may not {action}: only dispatchers and supervisors may").format(action=action)
    if rule == SELF and args.get("name") != actor:
        if name == "tech.update":
            return _("a technician may change only their own roster entry")
        return _("a technician may name a delegate only for themselves")
    if rule == OWN and ticket is not None and ticket.assignee != actor:
        if ticket.assignee:
            return _("{key} is assigned to {assignee}, not to {actor}").format(key=ticket.key, assignee=ticket.assignee, actor=actor)
        return _("{key} is not assigned to anyone, not to {actor}").format(key=ticket.key, actor=actor)
    return field_refusal(role, name, args)


def field_refusal(role: str, name: str, args: dict[str, Any]) -> str | None:
    """Why ``role`` may not write the fields ``args`` set, or None. Says which
    field, never its value (nor whether a guess at it was right)."""
    given = args.get(FIELD_ARGS.get(name, ""))
    if isinstance(given, dict):
        for field_name in sorted(given):
            empty_on_a_new_ticket = name == "ticket.create" and given[field_name] in (None, "")
            if role in HIDDEN_FROM.get(field_name, ()) and not empty_on_a_new_ticket:
                return _("a technician may not set or change a customer's {field} (a dispatcher can)").format(
                    field=_(FIELD_LABELS.get(field_name, field_name)))
    if name == "tech.update" and role == "technician":
        locked = sorted(k for k, v in args.items() if k != "name" and v is not None and k not in SELF_SERVICE)
        if locked:
            return _("a technician may change only their own shift, leave, delegate and location, not {fields}"
                     " (a dispatcher can)").format(fields=", ".join(locked))
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

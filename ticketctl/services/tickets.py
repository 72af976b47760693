"""Ticket actions. Each: load, ask ``core.workflow``, append events + projection
in one transaction, return the public view. A refused action raises before
anything is written."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ticketctl.core import workflow
from ticketctl.core.dispatch import route
from ticketctl.core.model import HELD_STATUSES, Event, FieldValue, Ticket, iso
from ticketctl.core.views import ticket_public
from ticketctl.errors import BadInput, Refused
from ticketctl.i18n import _
from ticketctl.services import mutations
from ticketctl.services.env import Env
from ticketctl.services.mutations import mutation
from ticketctl.store.queries import list_tickets

if TYPE_CHECKING:
    from ticketctl.store.protocol import MutationStore

#: what a ticket key looks like: the making device's prefix and its number
KEY_RE = re.compile(r"[A-Z]{1,12}-[1-9][0-9]{0,11}")


def record(env: Env, st: MutationStore, key: str | None, drafts: list[workflow.Draft]) -> list[Event]:
    """Write ``drafts`` as events of the running mutation (call inside
    ``st.transaction()``); ``key`` is the ticket, None for technician events.
    The mutation is queued in the outbox with its first events; drafts written
    outside any named mutation are queued as ``events.append``."""
    at = iso(env.now)
    first = st.take_counter("next_device_seq", len(drafts))
    it = env.intent if env.intent is not None else mutations.raw_intent(key, drafts)
    device = st.meta("device_id")
    events = [
        Event(id=str(uuid.uuid4()), type=typ, at=at, actor=env.actor, device=device, device_seq=first + i,
              mutation_id=it.id, ticket=key, payload=payload)
        for i, (typ, payload) in enumerate(drafts)
    ]
    st.put_events(events)
    if env.queue_mutations and not it.queued:
        st.queue_mutation(it.id, it.name, it.args, at, env.actor)
        it.queued = True
    return events


def commit(env: Env, st: MutationStore, t: Ticket | None, key: str, drafts: list[workflow.Draft]) -> Ticket:
    """Record the drafts and write the projections they fold into: the ticket,
    and its history of spans when its status, department, product or fault moved."""
    existed = t is not None
    t, spans = workflow.fold(t, record(env, st, key, drafts), env.config)
    if spans:
        if existed:
            st.close_span(key, spans[0][1])
        st.put_spans(spans)
    st.put_ticket(t)
    return t


def act(env: Env, key: str, decide: Callable[[Ticket], list[workflow.Draft]]) -> dict[str, Any]:
    """Decide and commit one change to the ticket with exactly the key ``key``
    (a mutation's, which ``mutations.prepare`` resolved and judged)."""
    cfg = env.config  # a broken config file stops the command before anything else is judged
    st = env.mutation_store
    with st.transaction():
        t = st.ticket(key)
        t = commit(env, st, t, t.key, decide(t))
    return ticket_public(t, cfg, env.now)


def create(env: Env, fields: dict[str, Any]) -> dict[str, Any]:
    """A new ticket keyed ``PFX-N``: this device's prefix and its next number,
    taken here so the key is the same on every machine once synced."""
    workflow.decide_create(fields, env.config)  # bad input is refused before a number is taken
    st = env.mutation_store
    with st.transaction():
        return create_as(env, f"{st.meta('key_prefix')}-{st.take_counter('next_ticket_no')}", fields)


@mutation("ticket.create", resolve_key=False)
def create_as(env: Env, key: str, fields: dict[str, FieldValue]) -> dict[str, Any]:
    """Create the ticket ``key`` (the key chosen by the device that made it:
    its prefix, a dash, a number)."""
    if not KEY_RE.fullmatch(key):
        raise BadInput(_("ticket key {key!r} is not PREFIX-NUMBER like KQT-12").format(key=key))
    drafts = workflow.decide_create(fields, env.config)
    st = env.mutation_store
    with st.transaction():
        if st.has_ticket(key):
            raise Refused(_("ticket {key} already exists").format(key=key))
        t = commit(env, st, None, key, drafts)
    return ticket_public(t, env.config, env.now)


@mutation("ticket.assign")
def assign(env: Env, key: str, name: str, force: bool = False, note: dict[str, FieldValue] | None = None) -> dict[str, Any]:
    """Assign to ``name``; work for someone off shift or on leave goes to their
    delegate, and without one it is refused unless ``force``. ``note`` is
    recorded with the assignment (dispatch's reason)."""
    st = env.mutation_store
    asked = st.tech(name)
    target = route(asked, {t.name: t for t in st.techs()}) if (asked.on_leave or not asked.on_shift) else asked
    note = dict(note or {})
    if target is None:
        if not force:
            if asked.on_leave:
                raise Refused(_("{name} is on leave and has no delegate (`ticketctl tech set {name} --delegate NAME`,"
                                " or --force)").format(name=name))
            raise Refused(_("{name} is off shift and has no delegate (`ticketctl tech set {name} --delegate NAME`,"
                            " or --force)").format(name=name))
        target = asked
    elif target.name != asked.name:
        note["delegate_for"] = asked.name
    tech = target
    return act(env, key, lambda t: workflow.decide_assign(t, tech, st.load(tech.name, HELD_STATUSES), force, note))


@mutation("ticket.start")
def start(env: Env, key: str) -> dict[str, Any]:
    return act(env, key, workflow.decide_start)


@mutation("ticket.block")
def block(env: Env, key: str, reason: str, details: dict[str, str]) -> dict[str, Any]:
    return act(env, key, lambda t: workflow.decide_block(t, reason, env.config, details))


@mutation("ticket.unblock")
def unblock(env: Env, key: str, note: str | None = None) -> dict[str, Any]:
    return act(env, key, lambda t: workflow.decide_unblock(t, note))


@mutation("ticket.note")
def note(env: Env, key: str, text: str) -> dict[str, Any]:
    return act(env, key, lambda t: workflow.decide_note(t, text))


@mutation("ticket.resolve")
def resolve(env: Env, key: str, note: str | None = None) -> dict[str, Any]:
    return act(env, key, lambda t: workflow.decide_resolve(t, note))


def release_parts(env: Env, key: str) -> list[dict[str, Any]]:
    """Give back what the ticket still holds of parts, and end its waits for
    parts (closing or cancelling it; inside the caller's transaction), judged
    by ``core.stock``. Nothing on a store that keeps no stock."""
    from ticketctl.core import stock

    part = getattr(env.mutation_store, "stock", None)
    if part is None:
        return []
    led = part.load(tickets=[key])
    drafts: list[stock.Draft] = [("stock.released", {"ticket": key, "sku": s, "place": p, "qty": h.reserved})
                                 for (k, s, p), h in sorted(led.holds.items()) if k == key and h.reserved > 0]
    gone = [(k, s) for (k, s) in sorted(led.waits) if k == key]
    drafts += [("stock.wait_ended", {"ticket": key, "sku": s}) for _k, s in gone]
    if drafts:
        stock.apply_all(led, drafts, iso(env.now))
        record(env, env.mutation_store, key, drafts)
        part.save(led, gone)
    return [p for _t, p in drafts]


@mutation("ticket.close")
def close(env: Env, key: str, checks: list[str]) -> dict[str, Any]:
    """Close the ticket; the parts it reserved and did not use are released."""
    with env.mutation_store.transaction():
        out = act(env, key, lambda t: workflow.decide_close(t, checks, env.config))
        release_parts(env, key)
    return out


@mutation("ticket.reopen")
def reopen(env: Env, key: str, reason: str | None = None) -> dict[str, Any]:
    return act(env, key, lambda t: workflow.decide_reopen(t, reason))


@mutation("ticket.edit")
def edit(env: Env, key: str, changes: dict[str, FieldValue], priority: str | None = None,
         dept: str | None = None) -> dict[str, Any]:
    """Change plain fields, the priority (SLA targets follow) and/or the
    department (a transfer), as one mutation."""
    def decide(t: Ticket) -> list[workflow.Draft]:
        drafts: list[workflow.Draft] = []
        if priority is not None and priority != t.priority:
            drafts += workflow.decide_reprioritize(t, priority)
        if dept is not None and dept != t.dept:
            drafts += workflow.decide_transfer(t, dept)
        if changes or not drafts:
            try:
                drafts += workflow.decide_edit(t, changes)
            except Refused:
                if not drafts:
                    raise
        return drafts

    return act(env, key, decide)


@mutation("ticket.cancel")
def cancel(env: Env, key: str, reason: str) -> dict[str, Any]:
    """Cancel the ticket; the parts it reserved are released."""
    with env.mutation_store.transaction():
        out = act(env, key, lambda t: workflow.decide_cancel(t, reason))
        release_parts(env, key)
    return out


def show(env: Env, key: str) -> dict[str, Any]:
    """The ticket with its checklist and its whole timeline, oldest first."""
    st = env.store
    t = st.ticket(st.resolve_key(key))
    out = ticket_public(t, env.config, env.now, list(st.events(t.key)))
    holds, waits = st.ticket_parts(t.key)
    out["parts"] = {"holds": [{"sku": s, "place": p, "reserved": r, "used": u} for s, p, r, u in holds],
                    "waiting": [{"sku": s, "qty": q, "since": since} for s, q, since in waits]}
    return out


def listing(
    env: Env,
    statuses: list[str] | None = None,
    assignee: str | None = None,
    dept: str | None = None,
    sort: str = "weight",
    limit: int | None = 50,
) -> list[dict[str, Any]]:
    rows = list_tickets(env.store, env.config, env.now, statuses, assignee, dept, sort, limit)
    return [ticket_public(t, env.config, env.now) for t in rows]


#: what a device may append outside a named action: the sweep's work (never a
#: countersignature or a QA finding, which only their own paths write)
APPENDABLE = frozenset({"ticket.escalated", "ticket.stall_check", "ticket.linked", "ticket.created"})


@mutation(mutations.RAW, resolve_key=False)
def append_events(env: Env, ticket: str | None, drafts: list[list[Any]]) -> dict[str, Any]:
    """Events written outside a named action (the sweep's escalations, stall
    checks, links and batch parents), as the server accepts them: only system
    events, or the creation of a ticket whose key is new. An escalation the
    ticket already has (same rule and round) is not recorded again."""
    pairs: list[workflow.Draft] = [(str(typ), dict(payload)) for typ, payload in drafts]
    types = {typ for typ, _payload in pairs}
    if ticket is None or not pairs or not types <= APPENDABLE:
        raise Refused(_("events {types} must be sent as their named action, not appended").format(types=sorted(types)))
    st = env.mutation_store
    with st.transaction():
        t = st.ticket(ticket) if st.has_ticket(ticket) else None
        if t is None and not KEY_RE.fullmatch(ticket):
            raise BadInput(_("ticket key {key!r} is not PREFIX-NUMBER like KQT-12").format(key=ticket))
        if (t is None) != ("ticket.created" in types) or (t is None and pairs[0][0] != "ticket.created"):
            raise Refused(_("ticket {key} already exists").format(key=ticket) if t is not None
                          else _("no ticket {key!r}").format(key=ticket))
        if t is not None:
            # an escalation is (ticket, rule, round): two machines sweeping between syncs send the same
            # one twice; the first to arrive is kept, the repeat dropped, and a change of only repeats refused
            seen = t.escalations
            repeats = sorted({p["rule"] for typ, p in pairs if typ == "ticket.escalated" and p.get("rule") in seen})
            pairs = [(typ, p) for typ, p in pairs if not (typ == "ticket.escalated" and p.get("rule") in seen)]
            if not pairs:
                raise Refused(_("{key} was already escalated for {rules} (first at {at}): not recorded twice").format(
                    key=ticket, rules=", ".join(repeats), at=min(seen[r] for r in repeats)))
        t = commit(env, st, t, ticket, pairs)
    return ticket_public(t, env.config, env.now)

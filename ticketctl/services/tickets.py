"""Ticket actions. Each: load, ask ``core.workflow``, append events + projection
in one transaction, return the public view. A refused action raises before
anything is written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ticketctl.core import workflow
from ticketctl.core.dispatch import route
from ticketctl.core.model import HELD_STATUSES, Event, Ticket, iso
from ticketctl.core.views import ticket_public
from ticketctl.errors import Refused
from ticketctl.services.env import Env
from ticketctl.store.db import Store
from ticketctl.store.queries import list_tickets


def record(env: Env, st: Store, key: str | None, drafts: list[workflow.Draft]) -> list[Event]:
    """Write ``drafts`` as the events of one mutation (call inside
    ``st.transaction()``); ``key`` is the ticket, None for technician events."""
    at = iso(env.now)
    first = st.take_counter("next_device_seq", len(drafts))
    device, mutation = st.meta("device_id"), str(uuid.uuid4())
    events = [
        Event(id=str(uuid.uuid4()), type=typ, at=at, actor=env.actor, device=device, device_seq=first + i,
              mutation_id=mutation, ticket=key, payload=payload)
        for i, (typ, payload) in enumerate(drafts)
    ]
    st.put_events(events)
    return events


def commit(env: Env, st: Store, t: Ticket | None, key: str, drafts: list[workflow.Draft]) -> Ticket:
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
    cfg = env.config  # a broken config file stops the command before anything else is judged
    st = env.store
    with st.transaction():
        t = st.ticket(st.resolve_key(key))
        t = commit(env, st, t, t.key, decide(t))
    return ticket_public(t, cfg, env.now)


def create(env: Env, fields: dict[str, Any]) -> dict[str, Any]:
    """A new ticket keyed ``PFX-N``: this device's prefix and its next number."""
    drafts = workflow.decide_create(fields, env.config)
    st = env.store
    with st.transaction():
        key = f"{st.meta('key_prefix')}-{st.take_counter('next_ticket_no')}"
        t = commit(env, st, None, key, drafts)
    return ticket_public(t, env.config, env.now)


def assign(env: Env, key: str, name: str, force: bool = False) -> dict[str, Any]:
    """Assign to ``name``; work for someone off shift or on leave goes to their
    delegate, and without one it is refused unless ``force``."""
    st = env.store
    asked = st.tech(name)
    target = route(asked, {t.name: t for t in st.techs()}) if (asked.on_leave or not asked.on_shift) else asked
    note: dict[str, Any] = {}
    if target is None:
        if not force:
            away = "on leave" if asked.on_leave else "off shift"
            raise Refused(f"{name} is {away} and has no delegate (`ticketctl tech set {name} --delegate NAME`, or --force)")
        target = asked
    elif target.name != asked.name:
        note["delegate_for"] = asked.name
    tech = target
    return act(env, key, lambda t: workflow.decide_assign(t, tech, st.load(tech.name, HELD_STATUSES), force, note))


def start(env: Env, key: str) -> dict[str, Any]:
    return act(env, key, workflow.decide_start)


def block(env: Env, key: str, reason: str, details: dict[str, str]) -> dict[str, Any]:
    return act(env, key, lambda t: workflow.decide_block(t, reason, env.config, details))


def unblock(env: Env, key: str, note: str | None = None) -> dict[str, Any]:
    return act(env, key, lambda t: workflow.decide_unblock(t, note))


def note(env: Env, key: str, text: str) -> dict[str, Any]:
    return act(env, key, lambda t: workflow.decide_note(t, text))


def resolve(env: Env, key: str, note: str | None = None) -> dict[str, Any]:
    return act(env, key, lambda t: workflow.decide_resolve(t, note))


def close(env: Env, key: str, checks: list[str]) -> dict[str, Any]:
    return act(env, key, lambda t: workflow.decide_close(t, checks, env.config))


def reopen(env: Env, key: str, reason: str | None = None) -> dict[str, Any]:
    return act(env, key, lambda t: workflow.decide_reopen(t, reason))


def edit(env: Env, key: str, changes: dict[str, Any], priority: str | None = None,
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


def cancel(env: Env, key: str, reason: str) -> dict[str, Any]:
    return act(env, key, lambda t: workflow.decide_cancel(t, reason))


def show(env: Env, key: str) -> dict[str, Any]:
    """The ticket with its checklist and its whole timeline, oldest first."""
    st = env.store
    t = st.ticket(st.resolve_key(key))
    return ticket_public(t, env.config, env.now, list(st.events(t.key)))


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

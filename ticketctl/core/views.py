"""Public views: what ``--json`` prints and what screens show.

Built from projections plus "now"; never raw table rows. Keys are stable:
scripts depend on them (add keys, never rename or remove).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ticketctl.core.config import Config
from ticketctl.core.model import OPEN_STATUSES, Event, Technician, Ticket, iso, parse_time
from ticketctl.core.priority import weight

AT_RISK_SHARE = 0.2  # under 20% of the resolution time left


def sla_left(t: Ticket, now_bt: int) -> int | None:
    """Business seconds of resolution time left (negative when overdue)."""
    if t.resolve_due_bt is not None:
        return t.resolve_due_bt - now_bt
    return t.resolve_left_s


def sla_state(t: Ticket, now_bt: int) -> str:
    """ok, at_risk, breached, paused (clock stopped while open) or done."""
    if t.status not in OPEN_STATUSES:
        return "done"
    left = sla_left(t, now_bt) or 0
    if left < 0:
        return "breached"
    if t.resolve_due_bt is None:
        return "paused"
    return "at_risk" if left < AT_RISK_SHARE * t.resolve_target_s else "ok"


def ticket_weight(t: Ticket, cfg: Config, now: datetime) -> float:
    """The ticket's weight now; 0 once it left the queue (resolved, closed, cancelled)."""
    if t.status not in OPEN_STATUSES:
        return 0.0
    cal = cfg.business_calendar
    left = sla_left(t, cal.ordinal(now)) or 0
    return weight(cfg, t.priority, t.impact, left, t.resolve_target_s, cal.in_hours(now))


def ticket_public(t: Ticket, cfg: Config, now: datetime, events: list[Event] | None = None) -> dict[str, Any]:
    """The ticket as ``list --json`` prints it; with ``events``, as ``show --json``
    prints it (checklist, proof and timeline added: evidence files, the customer's
    confirmation, certificates and QA samples)."""
    cal = cfg.business_calendar
    now_bt = cal.ordinal(now)
    left = sla_left(t, now_bt)
    if t.resolve_due_bt is not None:
        resolve_due: str | None = iso(cal.instant(t.resolve_due_bt))
    elif t.status in OPEN_STATUSES and left is not None:
        resolve_due = iso(cal.instant(now_bt + left))  # paused: would be due if it ran on from now
    else:
        resolve_due = None
    blocked_for = int((now - parse_time(t.blocked_since)).total_seconds()) if t.blocked_since else None
    out: dict[str, Any] = {
        "key": t.key,
        "title": t.title,
        "status": t.status,
        "priority": t.priority,
        "impact": t.impact,
        "type": t.type,
        "dept": t.dept,
        "product": t.product,
        "fault": t.fault,
        "zone": t.zone,
        "skills": list(t.skills),
        "customer": t.customer,
        "phone": t.phone,
        "channel": t.channel,
        "description": t.description,
        "resolution": t.resolution,
        "assignee": t.assignee,
        "blocked_reason": t.blocked_reason,
        "blocked_since": t.blocked_since,
        "blocked_for_s": blocked_for,
        "block": dict(t.block),
        "blocked_seconds": dict(t.blocked_seconds),
        "weight": ticket_weight(t, cfg, now),
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "first_response_at": t.first_response_at,
        "resolved_at": t.resolved_at,
        "closed_at": t.closed_at,
        "cancel_reason": t.cancel_reason,
        "reopen_count": t.reopen_count,
        "sla_response_due": iso(cal.instant(t.response_due_bt)),
        "sla_response_met": None
        if t.first_response_at is None
        else cal.ordinal(parse_time(t.first_response_at)) <= t.response_due_bt,
        "sla_resolve_due": resolve_due,
        "sla_resolve_left_s": left,
        "sla_state": sla_state(t, now_bt),
        "status_since": t.status_since,
        "parent": t.parent,
        "links": list(t.links),
        "escalations": dict(t.escalations),
        "stall_check": dict(t.stall) or None,
    }
    if events is not None:
        needs = cfg.evidence_items(t.type)
        proof = [ev for ev in t.evidence if ev.get("round", 0) == t.reopen_count]
        out["checklist"] = [
            {"item": i, "done": i in t.checks, "at": t.checks.get(i, {}).get("at"), "by": t.checks.get(i, {}).get("by"),
             "needs_evidence": i in needs,
             "evidence": [ev["sha256"] for ev in proof if ev.get("item") == i and not ev.get("flag")]}
            for i in cfg.checklist(t.type)
        ]
        out["evidence"] = [dict(ev) for ev in t.evidence]
        out["confirmation_required"] = cfg.needs_confirmation(t.type)
        out["confirmation"] = dict(t.confirmation) or None
        out["certificates"] = [dict(c) for c in t.certificates]
        out["qa"] = [dict(q) for q in t.qa]
        out["timeline"] = [event_public(e) for e in events]
    return out


def event_public(e: Event) -> dict[str, Any]:
    return {
        "id": e.id,
        "type": e.type,
        "at": e.at,
        "actor": e.actor,
        "device": e.device,
        "device_seq": e.device_seq,
        "mutation_id": e.mutation_id,
        "server_seq": e.server_seq,
        "payload": dict(e.payload),
    }


def tech_public(t: Technician, load: int) -> dict[str, Any]:
    return {
        "name": t.name,
        "skills": list(t.skills),
        "zone": t.zone,
        "lat": t.lat,
        "lon": t.lon,
        "capacity": t.capacity,
        "load": load,
        "dept": t.dept,
        "on_shift": t.on_shift,
        "on_leave": t.on_leave,
        "senior": t.senior,
        "delegate": t.delegate,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    }

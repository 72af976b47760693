"""The ticket workflow: which action is legal when, and what each event does.

Two halves, both pure:

* ``decide_*`` functions look at a ticket as it is and an intended action and
  either refuse (raise) or return the events the action produces;
* :func:`apply` folds one event into a ticket. Replaying a ticket's events
  through :func:`apply` from ``None`` gives its projection; the store and the
  server do exactly that, so a rule is written once.

States::

    new --assign--> assigned --start--> in_progress --resolve--> resolved --close--> closed
                      |  ^                 |                        |                  |
                      |  +----unblock------+--block--> blocked      +------reopen------+--> assigned
                      +--------block---------------->  (reason)
    new/assigned/in_progress/blocked --cancel--> cancelled (final)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ticketctl.core import approvals, evidence
from ticketctl.core.config import IMPACTS, PRIORITIES, Config, check_known
from ticketctl.core.config.workflow import BLOCK_FIELDS
from ticketctl.core.model import Event, OutOfRange, Technician, Ticket, iso, out_of_range, parse_moment, parse_time, span_row, spans_differ
from ticketctl.errors import BadInput, Refused
from ticketctl.i18n import N_, _, fill

#: action -> statuses it may start from
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "assign": ("new", "assigned", "in_progress", "blocked"),
    "start": ("assigned",),
    "block": ("assigned", "in_progress"),
    "unblock": ("blocked",),
    "resolve": ("assigned", "in_progress"),
    "close": ("resolved",),
    "reopen": ("resolved", "closed"),
    "cancel": ("new", "assigned", "in_progress", "blocked"),
    "why": ("in_progress",),
}

#: answers to a stall check: choice -> block reason (None: no block)
STALL_CHOICES: dict[str, str | None] = {
    "awaiting_parts": "awaiting_parts",
    "awaiting_customer": "awaiting_customer",
    "technician_away": None,  # back to the queue for someone else
    "still_working": None,  # nothing is wrong; the clock of the stall check restarts
}
#: events made by the system (sweep), which are not an update to the work
SYSTEM_EVENTS = ("ticket.escalated", "ticket.stall_check", "ticket.linked", "ticket.qa_checked", "ticket.countersigned")

Draft = tuple[str, dict[str, Any]]  # (event type, payload)


def _guard(t: Ticket, action: str) -> None:
    allowed = ALLOWED_FROM[action]
    if t.status not in allowed:
        raise Refused(fill(N_("cannot {action} {key}: it is {status} ({action} needs {need})"),
                           action=action, key=t.key, status=t.status, need=" or ".join(allowed)))


# -- decisions ------------------------------------------------------------------


#: what a new ticket may say about itself; workflow state comes only from events
CREATE_FIELDS = ("title", "type", "dept", "product", "fault", "description", "priority", "impact", "zone", "skills",
                 "customer", "phone", "channel", "links")


def decide_create(fields: dict[str, Any], cfg: Config, imported: bool = False) -> list[Draft]:
    """Validate a new ticket's fields; returns the ``ticket.created`` draft.

    The type must be one the config declares (its checklist and confirmation
    rule hang on the name), unless ``imported``: a ticket brought in from
    another system (``import csv``) keeps that system's type as it was, and
    one the config does not declare closes without a checklist."""
    extra = sorted(set(fields) - set(CREATE_FIELDS))
    if extra:
        raise BadInput(_("a new ticket cannot set {fields}").format(fields=", ".join(extra)))
    title = str(fields.get("title", "")).strip()
    if not title:
        raise BadInput(_("a ticket needs a title"))
    for k in ("type", "dept", "product"):
        if not str(fields.get(k, "")).strip():
            raise BadInput(_("a ticket needs --{option}").format(option=k))
    if not imported:
        check_known("type", str(fields["type"]).strip(), cfg.types)
    check_known("priority", fields.get("priority", "medium"), PRIORITIES)
    check_known("impact", fields.get("impact", "user"), IMPACTS)
    payload = {k: v for k, v in fields.items() if v not in (None, "", [])}
    payload["title"] = title
    payload.setdefault("priority", "medium")
    payload.setdefault("impact", "user")
    return [("ticket.created", payload)]


def decide_assign(t: Ticket, tech: Technician, load: int, force: bool = False,
                  note: dict[str, Any] | None = None) -> list[Draft]:
    """Assign to ``tech``, who holds ``load`` open tickets; at or over capacity
    is refused unless ``force``, which the event records. ``note`` adds to the
    event why (the dispatcher's reason, a delegation)."""
    _guard(t, "assign")
    if t.assignee == tech.name:
        raise Refused(_("{key} is already assigned to {tech}").format(key=t.key, tech=tech.name))
    if load >= tech.capacity and not force:
        raise Refused(_("cannot assign {key} to {tech}: at capacity {load}/{capacity} (--force to assign anyway)").format(
            key=t.key, tech=tech.name, load=load, capacity=tech.capacity))
    payload: dict[str, Any] = {"assignee": tech.name}
    if t.assignee:
        payload["previous"] = t.assignee
    if force:
        payload["forced"] = True
    payload.update(note or {})
    return [("ticket.assigned", payload)]


def decide_start(t: Ticket) -> list[Draft]:
    _guard(t, "start")
    return [("ticket.started", {})]


def decide_block(t: Ticket, reason: str, cfg: Config, details: dict[str, str]) -> list[Draft]:
    """A block always names a reason from the menu; a reason may require the
    collaboration fields (collaborator, deliverable, deadline, expected_result)."""
    _guard(t, "block")
    rc = cfg.reasons[check_known("reason", reason, cfg.reasons)]
    missing = [f for f in rc.fields if not str(details.get(f) or "").strip()]
    if missing:
        flags = ", ".join("--" + ("expect" if f == "expected_result" else f) for f in missing)
        raise BadInput(fill(N_("blocking for {reason} needs {flags}"), team=cfg, reason=reason, flags=flags))
    details = dict(details)
    if details.get("deadline"):
        try:  # kept as ISO-8601 UTC, so it compares as text (sweep's SQL)
            details["deadline"] = iso(parse_moment(details["deadline"]))
        except OutOfRange:
            raise BadInput(out_of_range(f"--deadline {details['deadline']!r}")) from None
        except ValueError:
            raise BadInput(_("--deadline {value!r} is not a date or time like 2026-03-05T17:00").format(
                value=details["deadline"])) from None
    payload: dict[str, Any] = {"reason": reason}
    for k in ("note", *BLOCK_FIELDS):
        if details.get(k):
            payload[k] = details[k]
    return [("ticket.blocked", payload)]


def decide_request_approval(t: Ticket, cfg: Config, cost: float, what: str, attachments: list[dict[str, Any]]
                            ) -> list[Draft]:
    """Ask for approval of ``what`` at ``cost``: the request
    (``core.approvals.decide_request``: its path and steps) and the block in
    ``awaiting_approval`` that holds the ticket until a decision ends it."""
    request = approvals.decide_request(t, cfg, cost, what, attachments)
    return [*request, *decide_block(t, approvals.REASON, cfg, {"note": what.strip()})]


def decide_unblock(t: Ticket, note: str | None = None) -> list[Draft]:
    _guard(t, "unblock")
    req = approvals.open_request(t)
    if req is not None and t.blocked_reason == approvals.REASON:
        raise Refused(_("{key} waits for approval #{n} ({who}): it unblocks when approved, or when a rejection ends it").format(
            key=t.key, n=req["n"], who=", ".join(approvals.waiting_for(req))))
    return [("ticket.unblocked", {"note": note} if note else {})]


def decide_note(t: Ticket, text: str) -> list[Draft]:
    if not text.strip():
        raise BadInput(_("a note needs text"))
    if t.status == "cancelled":
        raise Refused(_("cannot note {key}: it is cancelled").format(key=t.key))
    return [("ticket.noted", {"text": text})]


def decide_resolve(t: Ticket, note: str | None = None) -> list[Draft]:
    _guard(t, "resolve")
    return [("ticket.resolved", {"note": note} if note else {})]


def decide_close(t: Ticket, checks: list[str], cfg: Config) -> list[Draft]:
    """Check the given items, then close; refused (nothing written), naming
    everything missing, while any item of the type's checklist stays
    unchecked, an item that needs evidence has none, or a type that needs the
    customer's confirmation lacks it (``core.evidence.missing_for_close``)."""
    _guard(t, "close")
    items = cfg.checklist(t.type)
    for c in checks:
        if c not in items:
            known = ", ".join(items) if items else _("none")
            raise BadInput(fill(N_("{item!r} is not on the {type} checklist (items: {items})"), team=cfg, item=c, type=t.type,
                                items=known))
    new = [c for c in dict.fromkeys(checks) if c not in t.checks]
    missing = evidence.missing_for_close(t, new, cfg)
    if missing:
        raise Refused(_("cannot close {key}: {missing}").format(key=t.key, missing=_("; ").join(missing)))
    return [*(("ticket.checked", {"item": c}) for c in new), ("ticket.closed", {})]


def decide_why(t: Ticket, choice: str, cfg: Config) -> list[Draft]:
    """Answer the open stall check: block with the named blocker, hand the
    ticket back to the queue (technician away), or say work goes on."""
    _guard(t, "why")
    if not t.stall:
        raise Refused(_("{key} has no open stall check (sweep asks after {after} without an update)").format(
            key=t.key, after=cfg.sweep.stall_after))
    check_known("answer", choice, STALL_CHOICES)
    drafts: list[Draft] = [("ticket.stall_answered", {"choice": choice})]
    reason = STALL_CHOICES[choice]
    if reason is not None:  # the note and the reason below are event data: English, not translated
        drafts += decide_block(t, reason, cfg, {"note": "answer to a stall check"})
    elif choice == "technician_away":
        drafts.append(("ticket.unassigned", {"previous": t.assignee, "reason": "technician away"}))
    return drafts


def decide_escalate(t: Ticket, rule: str, to: list[str], message: str) -> list[Draft]:
    """An escalation by ``sweep``; each rule fires once per ticket (the caller
    makes block-period rules unique by naming the block)."""
    if rule in t.escalations:
        return []
    return [("ticket.escalated", {"rule": rule, "to": to, "message": message})]


def decide_reopen(t: Ticket, reason: str | None = None) -> list[Draft]:
    _guard(t, "reopen")
    return [("ticket.reopened", {"reason": reason} if reason else {})]


def decide_transfer(t: Ticket, dept: str) -> list[Draft]:
    """Hand the ticket to another department (counted as a cross-department transfer)."""
    if t.status in ("closed", "cancelled"):
        raise Refused(fill(N_("cannot transfer {key}: it is {status}"), key=t.key, status=t.status))
    if dept == t.dept:
        raise BadInput(_("{key} is already in {dept}").format(key=t.key, dept=t.dept))
    if not dept.strip():
        raise BadInput(_("a transfer needs a department"))
    return [("ticket.transferred", {"dept": dept, "previous": t.dept})]


def decide_reprioritize(t: Ticket, priority: str) -> list[Draft]:
    """Change the priority; the SLA targets follow it, time already used stays used."""
    check_known("priority", priority, PRIORITIES)
    if priority == t.priority:
        raise Refused(fill(N_("{key} is already {priority}"), key=t.key, priority=priority))
    return [("ticket.reprioritized", {"priority": priority, "previous": t.priority})]


#: plain fields an edit may change (last writer wins); priority and department
#: have events of their own (reprioritized, transferred)
EDITABLE = ("title", "description", "product", "fault", "zone", "impact", "customer", "phone", "channel", "skills")


def decide_edit(t: Ticket, changes: dict[str, Any]) -> list[Draft]:
    """One ``ticket.edited`` per field that really changes; refused on a closed
    or cancelled ticket, and when nothing would change."""
    if t.status in ("closed", "cancelled"):
        raise Refused(fill(N_("cannot edit {key}: it is {status} (reopen it first)"), key=t.key, status=t.status))
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise BadInput(_("cannot edit {fields} (editable: {editable})").format(fields=", ".join(unknown), editable=", ".join(EDITABLE)))
    if "impact" in changes:
        check_known("impact", changes["impact"], IMPACTS)
    if "title" in changes and not str(changes["title"]).strip():
        raise BadInput(_("a ticket needs a title"))
    drafts: list[Draft] = [("ticket.edited", {"field": f, "value": v, "previous": getattr(t, f)})
                           for f, v in changes.items() if getattr(t, f) != v]
    if not drafts:
        raise Refused(_("nothing to change on {key}").format(key=t.key))
    return drafts


def decide_cancel(t: Ticket, reason: str) -> list[Draft]:
    _guard(t, "cancel")
    if not reason.strip():
        raise BadInput(_("cancelling needs --reason"))
    return [("ticket.cancelled", {"reason": reason})]


# -- folding --------------------------------------------------------------------


def _pause(t: Ticket, now_bt: int) -> None:
    if t.resolve_due_bt is not None:
        t.resolve_left_s = t.resolve_due_bt - now_bt
        t.resolve_due_bt = None


def _resume(t: Ticket, now_bt: int) -> None:
    if t.resolve_due_bt is None and t.resolve_left_s is not None:
        t.resolve_due_bt = now_bt + t.resolve_left_s
        t.resolve_left_s = None


def _end_block(t: Ticket, at: datetime) -> None:
    if t.blocked_reason and t.blocked_since:
        secs = int((at - parse_time(t.blocked_since)).total_seconds())
        t.blocked_seconds[t.blocked_reason] = t.blocked_seconds.get(t.blocked_reason, 0) + max(secs, 0)
    t.blocked_reason = None
    t.blocked_since = None
    t.block = {}


def _copy(t: Ticket) -> Ticket:
    """A copy of ``t`` whose containers ``apply`` changes in place are its own.
    What ``dataclasses.replace`` would give, without re-running ``__init__``
    over every field: a fold of a long history makes one copy per event."""
    c = object.__new__(Ticket)
    c.__dict__.update(t.__dict__)
    c.skills, c.block, c.blocked_seconds = list(t.skills), dict(t.block), dict(t.blocked_seconds)
    c.checks = {k: dict(v) for k, v in t.checks.items()}
    c.links, c.escalations, c.stall = list(t.links), dict(t.escalations), dict(t.stall)
    return c


def apply(t: Ticket | None, e: Event, cfg: Config) -> Ticket:
    """The ticket after event ``e``. Never mutates ``t``; never refuses (the
    decision was taken when the event was made)."""
    at = parse_time(e.at)
    cal = cfg.business_calendar
    bt = cal.ordinal(at)
    p = e.payload
    if e.type == "ticket.created":
        resp, res = cfg.sla_seconds(p.get("priority", "medium"))
        known = {k: p[k] for k in p if k in Ticket.__dataclass_fields__}
        return Ticket(
            key=e.ticket or "",
            created_at=e.at,
            updated_at=e.at,
            status_since=e.at,
            **known,
            response_due_bt=bt + resp,
            resolve_target_s=res,
            resolve_due_bt=bt + res,
        )
    if t is None:
        raise ValueError(f"event {e.id} ({e.type}) for {e.ticket} comes before the ticket was created")
    if e.type.startswith("stock."):  # a ticket's parts: the stock ledger's (core.stock), not the ticket's
        return t
    t = _copy(t)
    before = t.status
    if e.type not in SYSTEM_EVENTS:
        t.updated_at = e.at
        t.stall = {}  # any real update answers an open stall check
    if e.type == "ticket.assigned":
        t.assignee = p["assignee"]
        if t.status == "blocked":
            t.status_before_block = "assigned"
        else:
            t.status = "assigned"
    elif e.type == "ticket.started":
        t.status = "in_progress"
    elif e.type == "ticket.blocked":
        t.status_before_block = t.status
        t.status = "blocked"
        t.blocked_reason = p["reason"]
        t.blocked_since = e.at
        t.block = {k: v for k, v in p.items() if k != "reason"}
        rc = cfg.reasons.get(p["reason"])
        if rc is not None and rc.pauses_sla:
            _pause(t, bt)
    elif e.type == "ticket.unblocked":
        t.status = t.status_before_block or ("assigned" if t.assignee else "new")
        t.status_before_block = None
        _end_block(t, at)
        _resume(t, bt)
    elif e.type in ("ticket.noted", "ticket.stall_answered"):
        pass
    elif e.type == "ticket.escalated":
        t.escalations[p["rule"]] = e.at
    elif e.type == "ticket.stall_check":
        t.stall = {"at": e.at, "choices": list(p["choices"]), "holder": p.get("holder")}
    elif e.type == "ticket.linked":
        t.parent = p["parent"]
    elif e.type == "ticket.unassigned":
        t.assignee = None
        if t.status == "blocked":  # still blocked; it returns to the queue when unblocked
            t.status_before_block = "new"
        else:
            t.status = "new"
    elif e.type == "ticket.checked":  # an attach checks at the time its device saw (``at``)
        t.checks[p["item"]] = {"at": p.get("at", e.at), "by": e.actor}
    elif e.type == "ticket.resolved":
        t.status = "resolved"
        t.resolved_at = e.at
        if p.get("note"):
            t.resolution = p["note"]
        _pause(t, bt)
    elif e.type == "ticket.closed":
        t.status = "closed"
        t.closed_at = e.at
        _pause(t, bt)
    elif e.type == "ticket.transferred":
        t.dept = p["dept"]
    elif e.type == "ticket.edited":
        setattr(t, p["field"], list(p["value"]) if p["field"] == "skills" else p["value"])
    elif e.type == "ticket.reprioritized":
        resp, res = cfg.sla_seconds(p["priority"])
        old_resp, old_res = cfg.sla_seconds(t.priority)
        t.priority = p["priority"]
        t.response_due_bt += resp - old_resp
        t.resolve_target_s = res
        if t.resolve_due_bt is not None:
            t.resolve_due_bt += res - old_res
        elif t.resolve_left_s is not None:
            t.resolve_left_s += res - old_res
    elif e.type == "ticket.reopened":
        t.status = "assigned" if t.assignee else "new"
        t.reopen_count += 1
        t.resolved_at = None
        t.closed_at = None
        t.resolution = ""
        t.checks = {}
        evidence.on_reopen(t)
        _resume(t, bt)
    elif e.type == "ticket.cancelled":
        if t.status == "blocked":
            _end_block(t, at)
            t.status_before_block = None
        t.status = "cancelled"
        t.cancel_reason = p.get("reason")
        _pause(t, bt)
    elif approvals.apply(t, e):
        pass
    elif not evidence.apply_proof(t, e):
        raise ValueError(f"unknown event type {e.type!r}")
    if t.status != before:
        t.status_since = e.at
    by_assignee = e.actor == t.assignee or p.get("on_behalf_of") == t.assignee  # imports name who acted
    if t.first_response_at is None and t.assignee and by_assignee and e.type not in SYSTEM_EVENTS:
        t.first_response_at = e.at
    return t


def fold(t: Ticket | None, events: list[Event], cfg: Config) -> tuple[Ticket, list[tuple[Any, ...]]]:
    """Apply ``events`` in order. Returns the ticket and the span rows they
    open (a span: a stretch of time with one status, department, product and
    fault); each row is closed by the next, the last stays open. When ``t``
    already existed, its open span ends where the first new row starts."""
    rows: list[tuple[Any, ...]] = []
    for e in events:
        before, t = t, apply(t, e, cfg)
        if spans_differ(before, t):
            if rows:
                rows[-1] = (*rows[-1][:2], e.at, *rows[-1][3:])
            rows.append(span_row(t, e.at))
    assert t is not None
    return t, rows


def apply_tech(tech: Technician | None, e: Event, cfg: Config) -> Technician:
    """The technician after ``tech.added`` / ``tech.updated``."""
    p = e.payload
    known = {k: v for k, v in p.items() if k in Technician.__dataclass_fields__ and k != "name"}
    if e.type == "tech.added":
        known.setdefault("capacity", cfg.capacity)
        return Technician(name=p["name"], created_at=e.at, updated_at=e.at, **known)
    if tech is None:
        raise ValueError(f"event {e.id} updates technician {p.get('name')} before it was added")
    if e.type == "tech.updated":
        return replace(tech, updated_at=e.at, **known)
    raise ValueError(f"unknown event type {e.type!r}")

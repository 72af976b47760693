"""The sweep's rules: what cron should escalate, ask or group right now.

Pure: tickets (projections), "now" and the config in, a list of
:class:`Action` out; no store, no clock. ``ticketctl.services.sweep`` picks
the candidate tickets with SQL (a superset), asks :func:`plan`, and writes
what comes back, so every threshold below is decided here and only here.

Rules, by id (block rules carry the block's start, ``rule@blocked_since``, so
that they fire once per block; ``stall@updated_at`` asks again after an
answer or any real update)::

    silent              new, unassigned >= silent_after (wall) and resolution
                        time left < silent_sla_left (business)     -> supervisor
    response_breached   no first response, response clock past due  -> supervisor (+ assignee)
    response_at_risk    no first response, < at_risk_share left     -> supervisor (+ assignee)
    resolve_breached    open, resolution clock below zero           -> supervisor (+ assignee)
    resolve_at_risk     clock running, 0 <= left < at_risk_share     -> supervisor (+ assignee)
    stall@<updated_at>  in_progress, no update >= stall_after, no
                        open stall check                             -> a stall check to the holder
    blocked_too_long@.. blocked longer than the reason's limit       -> supervisor (+ assignee)
    collab_deadline@..  blocked with a deadline that has passed      -> supervisor + collaborator
    approval_reminder@n.i  an approval step open past half its limit
                        (business time)                             -> its approvers (+ their delegates)
    approval_overdue@n.i   ... past its whole limit                  -> the approvers' manager
                        (``approvals.escalate_to``, else the department's supervisor)
    batch               >= batch_size open, parentless tickets with
                        one product, fault and zone, created within
                        batch_window of each other                   -> one parent ticket linking them

Messages are :class:`~ticketctl.core.message.Message` objects: the English
text itself (what events, the outbox's generic body and ``sweep --json``
carry) with its template and values, so the people who read it (the sweep's
human output, chat webhooks) get it in their language (``Action.text``).

Every escalation fires once per ticket: a rule already in
``ticket.escalations`` yields nothing (``workflow.decide_escalate``), which
is what makes two sweeps at the same moment write nothing twice.

Boundaries: a duration "for N" counts from N on (silent, stall: ``>=``);
"longer than the limit" and "the deadline passed" are strict (``>``); a
share "under 20 %" is strict (``<``), and a clock is breached below zero, so
due-now is still at risk, not breached.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ticketctl.core import approvals, workflow
from ticketctl.core.approvals import Delegation
from ticketctl.core.config import IMPACTS, PRIORITIES, Config, parse_duration
from ticketctl.core.message import Listing, Message, msg, render, span  # span: a duration as a message
from ticketctl.core.model import OPEN_STATUSES, Ticket, parse_time
from ticketctl.core.views import sla_left
from ticketctl.i18n import N_

#: rule ids without their ``@...`` suffix, in the order actions are reported
RULES = ("silent", "response_breached", "response_at_risk", "resolve_breached", "resolve_at_risk", "stall",
         "blocked_too_long", "collab_deadline", "approval_reminder", "approval_overdue", "batch")
BATCH_TYPE = "batch"
#: what each stall-check answer means, shown next to its name where a person reads the question
#: (the names stay: they are what ``ticketctl why KEY CHOICE`` takes)
STALL_LABELS = {"awaiting_parts": N_("Awaiting parts"), "awaiting_customer": N_("Awaiting customer"),
                "technician_away": N_("Technician away"), "still_working": N_("Still working")}


@dataclass(frozen=True)
class Batch:
    """A parent ticket to create (``fields`` for ``workflow.decide_create``)
    and the children it links. Its ``title`` and ``description`` are Messages:
    ``services.sweep`` writes them in the team's language."""

    fields: dict[str, Any]
    children: tuple[str, ...]


@dataclass(frozen=True)
class Action:
    """One thing the sweep does to one ticket: ``drafts`` are the events on
    ``key``; a batch action has no key yet (the store numbers the new parent)
    and carries the :class:`Batch` instead."""

    key: str | None
    rule: str
    to: tuple[str, ...]
    message: str  # a Message: English, with its template and values
    drafts: tuple[workflow.Draft, ...] = ()
    batch: Batch | None = None

    @property
    def base_rule(self) -> str:
        """The rule without its ``@...`` suffix (what notify targets filter on)."""
        return self.rule.split("@", 1)[0]

    @property
    def template(self) -> str:
        """The message's msgid (marked with ``N_()`` where it is made)."""
        return self.message.template if isinstance(self.message, Message) else self.message

    @property
    def args(self) -> dict[str, Any]:
        """The values that fill :attr:`template`."""
        return self.message.args if isinstance(self.message, Message) else {}

    @property
    def text(self) -> str:
        """The message in the current language, for people to read."""
        return render(self.message)


@dataclass(frozen=True)
class Thresholds:
    """The sweep config turned into seconds once per run."""

    silent_after_s: int
    silent_left_s: int
    share: float
    stall_after_s: int
    batch_size: int
    batch_window_s: int
    response_s: dict[str, int] = field(default_factory=dict)
    limit_s: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, cfg: Config) -> Thresholds:
        sw = cfg.sweep
        return cls(
            silent_after_s=cfg.wall(sw.silent_after),
            silent_left_s=parse_duration(sw.silent_sla_left, cfg.business_calendar.day_seconds),
            share=sw.at_risk_share,
            stall_after_s=cfg.wall(sw.stall_after),
            batch_size=sw.batch_size,
            batch_window_s=cfg.wall(sw.batch_window),
            response_s={p: cfg.sla_seconds(p)[0] for p in PRIORITIES},
            limit_s={r: cfg.wall(rc.limit) for r, rc in cfg.reasons.items() if rc.limit},
        )


# -- words -------------------------------------------------------------------------


def _bt(seconds: int) -> Message:
    return span(seconds, days=False)


def _to(*names: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n))


def _held(t: Ticket) -> Message:
    return msg(N_("held by {assignee}"), assignee=t.assignee) if t.assignee else msg(N_("unassigned"))


def _choice(name: str) -> str:
    """A stall-check answer: its name, with its label where a translation shows it."""
    label = STALL_LABELS.get(name)
    return Message(N_("{choice} ({label})"), {"choice": name, "label": msg(label)}, english=name) if label else name


def _wall_since(now: datetime, at: str) -> int:
    return int((now - parse_time(at)).total_seconds())


def _escalate(t: Ticket, rule: str, to: tuple[str, ...], message: Message) -> list[Action]:
    drafts = workflow.decide_escalate(t, rule, list(to), message)
    return [Action(t.key, rule, to, message, tuple(drafts))] if drafts else []


# -- per-ticket rules ------------------------------------------------------------------


def silent(t: Ticket, now: datetime, now_bt: int, cfg: Config, th: Thresholds) -> list[Action]:
    """Unclaimed for ``silent_after`` (wall time in ``new``) with under
    ``silent_sla_left`` of business time left to resolve."""
    if t.status != "new" or t.assignee is not None:
        return []
    waited = _wall_since(now, t.status_since or t.created_at)
    left = sla_left(t, now_bt)
    if waited < th.silent_after_s or left is None or left >= th.silent_left_s:
        return []
    target = _bt(t.resolve_target_s)
    clock = (msg(N_("{left} of {target} to resolve left"), left=_bt(left), target=target) if left >= 0
             else msg(N_("resolution overdue by {overdue} (target {target})"), overdue=_bt(left), target=target))
    return _escalate(t, "silent", _to(cfg.supervisor(t.dept)), msg(
        N_("{key} {priority}, unassigned {waited} with {clock}: {title}"),
        key=t.key, priority=t.priority, waited=span(waited), clock=clock, title=t.title))


def response(t: Ticket, now_bt: int, cfg: Config, th: Thresholds) -> list[Action]:
    """No first response yet and under ``at_risk_share`` of the response target
    left (at risk), or past due (breached)."""
    if t.status not in OPEN_STATUSES or t.first_response_at is not None:
        return []
    target = th.response_s.get(t.priority, 0)
    left = t.response_due_bt - now_bt
    if left >= th.share * target:
        return []
    to = _to(cfg.supervisor(t.dept), t.assignee)
    if left < 0:
        return _escalate(t, "response_breached", to, msg(
            N_("{key} {priority}, no response yet, overdue by {overdue} (target {target}), {held}: {title}"),
            key=t.key, priority=t.priority, overdue=_bt(left), target=_bt(target), held=_held(t), title=t.title))
    return _escalate(t, "response_at_risk", to, msg(
        N_("{key} {priority}, no response yet, {left} of {target} left, {held}: {title}"),
        key=t.key, priority=t.priority, left=_bt(left), target=_bt(target), held=_held(t), title=t.title))


def resolution(t: Ticket, now_bt: int, cfg: Config, th: Thresholds) -> list[Action]:
    """Resolution clock below zero (breached, also while paused), or running
    with under ``at_risk_share`` of the target left (at risk)."""
    if t.status not in OPEN_STATUSES:
        return []
    left = sla_left(t, now_bt)
    if left is None or left >= th.share * t.resolve_target_s:
        return []
    to = _to(cfg.supervisor(t.dept), t.assignee)
    if left < 0:
        return _escalate(t, "resolve_breached", to, msg(
            N_("{key} {priority}, resolution overdue by {overdue} (target {target}), {status}, {held}: {title}"),
            key=t.key, priority=t.priority, overdue=_bt(left), target=_bt(t.resolve_target_s), status=t.status,
            held=_held(t), title=t.title))
    if t.resolve_due_bt is None:  # paused with time left: not at risk while nobody can act
        return []
    return _escalate(t, "resolve_at_risk", to, msg(
        N_("{key} {priority}, {left} of {target} to resolve left, {status}, {held}: {title}"),
        key=t.key, priority=t.priority, left=_bt(left), target=_bt(t.resolve_target_s), status=t.status,
        held=_held(t), title=t.title))


def stall(t: Ticket, now: datetime, cfg: Config, th: Thresholds) -> list[Action]:
    """in_progress without an update for ``stall_after`` and no open stall
    check: ask the holder why, with the likely blockers as choices."""
    if t.status != "in_progress" or t.stall:
        return []
    quiet = _wall_since(now, t.updated_at)
    if quiet < th.stall_after_s:
        return []
    choices = list(workflow.STALL_CHOICES)
    holder = t.assignee
    message = msg(N_("{key} in progress with no update for {quiet}: why? answer with `ticketctl why {key} CHOICE`"
                     " ({choices}): {title}"),
                  key=t.key, quiet=span(quiet), choices=Listing(_choice(c) for c in choices), title=t.title)
    drafts: tuple[workflow.Draft, ...] = (("ticket.stall_check", {"choices": choices, "holder": holder}),)
    return [Action(t.key, f"stall@{t.updated_at}", _to(holder or cfg.supervisor(t.dept)), message, drafts)]


def blocked(t: Ticket, now: datetime, cfg: Config, th: Thresholds) -> list[Action]:
    """Blocked longer than its reason's limit; blocked past a collaboration
    deadline (both once per block)."""
    if t.status != "blocked" or not t.blocked_since:
        return []
    out: list[Action] = []
    for_s = _wall_since(now, t.blocked_since)
    limit = th.limit_s.get(t.blocked_reason or "")
    sup = cfg.supervisor(t.dept)
    if limit is not None and for_s > limit:
        out += _escalate(t, f"blocked_too_long@{t.blocked_since}", _to(sup, t.assignee), msg(
            N_("{key} blocked ({reason}) for {blocked_for}, over the {limit} limit, {held}: {title}"),
            key=t.key, reason=t.blocked_reason, blocked_for=span(for_s), limit=span(limit), held=_held(t), title=t.title))
    deadline = t.block.get("deadline")
    if deadline:
        try:
            passed = now > parse_time(deadline)
        except ValueError:  # validated when blocked; an old event may still hold text
            passed = False
        if passed:
            who = t.block.get("collaborator")
            values = {"key": t.key, "who": who or msg(N_("a collaborator")), "deadline": deadline, "held": _held(t),
                      "title": t.title}
            text = (msg(N_("{key} waits for {who}: deadline {deadline} passed, deliverable: {deliverable}, {held}: {title}"),
                        deliverable=t.block["deliverable"], **values) if t.block.get("deliverable")
                    else msg(N_("{key} waits for {who}: deadline {deadline} passed, {held}: {title}"), **values))
            out += _escalate(t, f"collab_deadline@{t.blocked_since}", _to(sup, who), text)
    return out


def approval(t: Ticket, now: datetime, now_bt: int, cfg: Config, delegations: dict[str, Delegation]) -> list[Action]:
    """The open steps of the ticket's approval request: a reminder to their
    approvers (and whoever stands in for them) past half the step's limit, an
    escalation to the approvers' manager past all of it; each once per step."""
    req = approvals.open_request(t)
    if req is None:
        return []
    out: list[Action] = []
    cal = cfg.business_calendar
    for i in approvals.active_steps(req):
        step = req["steps"][i]
        waited = now_bt - cal.ordinal(parse_time(step["since"] or req["at"]))
        limit = int(step["limit_s"])
        values = {"key": t.key, "n": req["n"], "role": step["role"], "who": ", ".join(step["approvers"]),
                  "waited": _bt(waited), "limit": _bt(limit), "what": req["what"]}
        if waited > limit:
            boss = cfg.approvals.escalate_to.get(step["role"].split("|")[0], "")
            to = tuple(cfg.approvals.names(boss)) if boss else ()
            out += _escalate(t, f"approval_overdue@{req['n']}.{i}", to or _to(cfg.supervisor(t.dept)), msg(
                N_("{key}: approval #{n} ({role}) has waited {waited} for {who}, over its {limit}: {what}"), **values))
        elif 2 * waited >= limit:
            stand_in = [d for n in step["approvers"] if (d := approvals.delegate_of(delegations, n, now))]
            out += _escalate(t, f"approval_reminder@{req['n']}.{i}", _to(*step["approvers"], *stand_in), msg(
                N_("{key}: approval #{n} ({role}) waits for {who}, {waited} of its {limit}: {what}"), **values))
    return out


def ticket_actions(t: Ticket, now: datetime, cfg: Config, th: Thresholds | None = None,
                   now_bt: int | None = None, delegations: dict[str, Delegation] | None = None) -> list[Action]:
    """Every per-ticket rule for one ticket (``th`` and ``now_bt`` computed
    once per run by :func:`plan`)."""
    th = th or Thresholds.of(cfg)
    now_bt = cfg.business_calendar.ordinal(now) if now_bt is None else now_bt
    return [*silent(t, now, now_bt, cfg, th), *response(t, now_bt, cfg, th), *resolution(t, now_bt, cfg, th),
            *stall(t, now, cfg, th), *blocked(t, now, cfg, th), *approval(t, now, now_bt, cfg, delegations or {})]


# -- batch incidents -----------------------------------------------------------------


def batchable(t: Ticket) -> bool:
    """May join a new batch: open, no parent, not a batch itself, and
    product, fault and zone all known."""
    return (t.status in OPEN_STATUSES and t.parent is None and t.type != BATCH_TYPE
            and bool(t.product) and bool(t.fault) and bool(t.zone))


def batches(tickets: Iterable[Ticket], cfg: Config, th: Thresholds | None = None) -> list[Action]:
    """Groups of ``batch_size`` or more batchable tickets with one product,
    fault and zone whose creation times all lie within ``batch_window``.

    Per group, oldest first, a window opens at each ticket and takes every
    later one created within ``batch_window`` of it; the first window with
    enough tickets becomes a batch and the scan resumes after it::

        created   a  b c   d e  |  f          window from a holds a..e (5): batch
                  |<- window ->|     f alone: left for a later batch

    A linked child has a parent, so it never counts again: a sixth ticket
    arriving later starts no second batch until ``batch_size`` new ones do.
    """
    th = th or Thresholds.of(cfg)
    groups: dict[tuple[str, str, str], list[tuple[datetime, Ticket]]] = {}
    for t in tickets:
        if batchable(t):
            groups.setdefault((t.product, t.fault, t.zone), []).append((parse_time(t.created_at), t))
    out: list[Action] = []
    for (product, fault, zone), rows in sorted(groups.items()):
        if len(rows) < th.batch_size:
            continue
        rows.sort(key=lambda r: (r[0], key_order(r[1].key)))
        i = 0
        while i <= len(rows) - th.batch_size:
            j = i
            while j + 1 < len(rows) and (rows[j + 1][0] - rows[i][0]).total_seconds() <= th.batch_window_s:
                j += 1
            if j - i + 1 >= th.batch_size:
                out.append(_batch(cfg, product, fault, zone, [t for _, t in rows[i:j + 1]]))
                i = j + 1
            else:
                i += 1
    return out


def _batch(cfg: Config, product: str, fault: str, zone: str, children: Sequence[Ticket]) -> Action:
    keys = tuple(t.key for t in children)
    depts = Counter(t.dept for t in children)
    dept = max(depts, key=lambda d: (depts[d], -next(i for i, t in enumerate(children) if t.dept == d)))
    listed = Listing(keys)
    title = msg(N_("Batch: {n} x {fault} on {product} in {zone}"), n=len(children), fault=fault, product=product, zone=zone)
    fields: dict[str, Any] = {
        "title": title, "type": BATCH_TYPE, "dept": dept, "product": product, "fault": fault, "zone": zone,
        "priority": min((t.priority for t in children), key=lambda p: PRIORITIES.index(p) if p in PRIORITIES else 99),
        "impact": max((t.impact for t in children), key=lambda i: IMPACTS.index(i) if i in IMPACTS else -1),
        "skills": sorted({s for t in children for s in t.skills}),
        "description": msg(N_("{n} open tickets with {fault} on {product} in {zone}: {keys}"),
                           n=len(children), fault=fault, product=product, zone=zone, keys=listed),
        "links": list(keys),
    }
    return Action(None, "batch", _to(cfg.supervisor(dept)), msg(N_("{title}: {keys}"), title=title, keys=listed), (),
                  Batch(fields, keys))


def link_drafts(parent: str) -> list[workflow.Draft]:
    """The event that ties a child to its batch parent."""
    return [("ticket.linked", {"parent": parent})]


# -- the whole sweep ---------------------------------------------------------------------


def key_order(key: str | None) -> tuple[str, int, str]:
    """``KQT-9`` before ``KQT-10``."""
    k = key or ""
    prefix, _, n = k.rpartition("-")
    return (prefix, int(n), k) if n.isdigit() else (k, 0, k)


def plan(tickets: Iterable[Ticket], now: datetime, cfg: Config, batch_pool: Iterable[Ticket] | None = None,
         delegations: dict[str, Delegation] | None = None) -> list[Action]:
    """Everything the sweep does now to ``tickets``, ordered by rule (as in
    :data:`RULES`) and then by key. ``tickets`` may be any superset of the
    candidates; batches form from ``batch_pool`` (default: ``tickets``), which
    must hold every batchable ticket of a group whole."""
    th = Thresholds.of(cfg)
    now_bt = cfg.business_calendar.ordinal(now)
    ts = list(tickets)
    pool = ts if batch_pool is None else list(batch_pool)
    actions = [a for t in ts for a in ticket_actions(t, now, cfg, th, now_bt, delegations)] + batches(pool, cfg, th)
    return sorted(actions, key=lambda a: (RULES.index(a.base_rule), key_order(a.key or (a.batch.children[0] if a.batch else ""))))

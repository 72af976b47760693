"""Approvals: the yes a ticket needs before work goes on (a part above a price,
a replacement, a refund), on a path that follows the request.

A request works out its path once, from ``[approvals]`` (``core.config.approvals``),
and carries it in its event: the steps, each with its role and the people
who hold it then, so a later config change never rewrites a request under
way. The ticket blocks (reason ``awaiting_approval``) in the same action
(``core.workflow.decide_request_approval``: the workflow folds this module's
events, so it is the one that joins a request to its block).

Steps come in stages: an ``any_of`` step of the config is one step (any of
its people decides it), an ``all_of`` step is one step per entry, decided in
parallel; a stage is open once every earlier stage is approved, and one
person decides at most one step of a stage. When the last step approves, the
ticket unblocks by itself; a rejection ends the request and unblocks the
ticket to its holder with the reason.

Delegation: someone away names who approves in their place for a period
(:class:`Delegation`); the record then says "OTHER for NAME". Everything
here is pure: the actor, "now" and the delegations are parameters, so the
server, re-running a decision, judges it exactly as the device did.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ticketctl.core.config import Config, parse_duration
from ticketctl.core.model import Event, Ticket, parse_time
from ticketctl.errors import BadInput, Refused
from ticketctl.i18n import N_, _

REASON = "awaiting_approval"
#: the columns of a list of open steps (``approval list``, the dashboard's board)
COLUMNS = (N_("key"), N_("request"), N_("path"), N_("cost"), N_("step"), N_("held by"), N_("waited / limit"), N_("asked for"))
REQUESTED, DECIDED = "ticket.approval_requested", "ticket.approval_decided"
DELEGATION_PREFIX = "delegation."
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


# -- delegation ---------------------------------------------------------------------


@dataclass
class Delegation:
    """``name`` is away from ``starts`` to ``until`` (ISO-8601 UTC, until
    exclusive); ``to`` approves in their place meanwhile."""

    name: str
    to: str
    starts: str
    until: str
    by: str
    at: str
    cleared: bool = False

    def active(self, now: datetime) -> bool:
        return not self.cleared and parse_time(self.starts) <= now < parse_time(self.until)


def delegation_key(name: str) -> str:
    """What a delegation's events carry in their ``ticket`` column (no ticket key starts with ``@``)."""
    return f"@{name}"


def is_delegation_event(e: Event) -> bool:
    return e.type.startswith(DELEGATION_PREFIX)


def decide_delegate(name: str, to: str, starts: datetime, until: datetime) -> list[tuple[str, dict[str, Any]]]:
    for who in (name, to):
        if not who or any(c.isspace() for c in who) or len(who) > 100 or who.startswith("@"):
            raise BadInput(_("{name!r} is not a person's name (one word)").format(name=who))
    if name == to:
        raise BadInput(_("{name} cannot be their own delegate").format(name=name))
    if until <= starts:
        raise BadInput(_("--until must be after --from"))
    from ticketctl.core.model import iso

    return [("delegation.set", {"name": name, "to": to, "starts": iso(starts), "until": iso(until)})]


def decide_undelegate(d: Delegation | None, name: str) -> list[tuple[str, dict[str, Any]]]:
    if d is None or d.cleared:
        raise Refused(_("{name} has no delegation to end").format(name=name))
    return [("delegation.cleared", {"name": name})]


def apply_delegation(d: Delegation | None, e: Event) -> Delegation:
    p = e.payload
    if e.type == "delegation.set":
        return Delegation(name=p["name"], to=p["to"], starts=p["starts"], until=p["until"], by=e.actor, at=e.at)
    if d is None:
        raise ValueError(f"event {e.id} ({e.type}) clears a delegation of {p.get('name')} that was never set")
    if e.type == "delegation.cleared":
        return replace(d, cleared=True, at=e.at, by=e.actor)
    raise ValueError(f"unknown event type {e.type!r}")


def stand_ins(delegations: dict[str, Delegation], person: str, now: datetime) -> list[str]:
    """Whom ``person`` may approve for right now (those away who named them)."""
    return sorted(d.name for d in delegations.values() if d.to == person and d.active(now))


def delegate_of(delegations: dict[str, Delegation], name: str, now: datetime) -> str | None:
    d = delegations.get(name)
    return d.to if d is not None and d.active(now) else None


# -- the path -----------------------------------------------------------------------


def customer_class(cfg: Config, customer: str) -> str:
    for name, members in sorted(cfg.approvals.classes.items()):
        if customer and customer in members:
            return name
    return "standard"


def choose_rule(cfg: Config, t: Ticket, cost: float) -> str:
    """The name of the first rule (by ``order``, then name) whose conditions hold."""
    klass = customer_class(cfg, t.customer)
    for name, r in sorted(cfg.approvals.rules.items(), key=lambda kv: (kv[1].order, kv[0])):
        if cost < r.cost_from or (r.cost_below and cost >= r.cost_below):
            continue
        if (r.types and t.type not in r.types) or (r.depts and t.dept not in r.depts) or (
                r.customer_classes and klass not in r.customer_classes):
            continue
        return name
    raise Refused(_("no approval rule covers a cost of {cost} for {key} (see `ticketctl config show` approvals.rules)").format(
        cost=money(cost), key=t.key))


def plan(cfg: Config, rule: str) -> list[dict[str, Any]]:
    """The steps of ``rule`` with the people who hold each role now."""
    steps: list[dict[str, Any]] = []
    day = cfg.business_calendar.day_seconds
    for stage, sc in enumerate(cfg.approvals.rules[rule].steps, 1):
        groups = [[e] for e in sc.all_of] if sc.all_of else [list(sc.any_of)]
        for group in groups:
            people = sorted({n for e in group for n in cfg.approvals.names(e)})
            if not people:
                raise Refused(_("nobody holds {role}: set `ticketctl config set approvals.approvers.{role} NAME`").format(
                    role=group[0]))
            steps.append({"stage": stage, "role": "|".join(group), "approvers": people, "mode": "all" if sc.all_of else "any",
                          "attach": list(sc.attach), "limit_s": parse_duration(sc.limit, day), "status": PENDING})
    return steps


def money(cost: float) -> str:
    return f"{cost:,.2f}".rstrip("0").rstrip(".")


def open_request(t: Ticket) -> dict[str, Any] | None:
    """The ticket's request still waiting for a decision, if any."""
    if t.approvals and t.approvals[-1]["status"] == PENDING:
        return t.approvals[-1]
    return None


def decide_request(t: Ticket, cfg: Config, cost: float, what: str, attachments: list[dict[str, Any]]
                   ) -> list[tuple[str, dict[str, Any]]]:
    """The request, with its path and steps; refused, naming what is missing,
    when the path needs an attachment the request lacks. The block it puts the
    ticket in is the workflow's (``core.workflow.decide_request_approval``
    asks for both)."""
    if open_request(t) is not None:
        raise Refused(_("{key} already waits for approval #{n}: approve or reject it first").format(key=t.key, n=len(t.approvals)))
    if not cost >= 0 or cost > 1e12:
        raise BadInput(_("--cost must be a number of zero or more, not {cost}").format(cost=cost))
    if not what.strip():
        raise BadInput(_("--what needs text: what is to be approved"))
    rule = choose_rule(cfg, t, cost)
    steps = plan(cfg, rule)
    labels = {a["label"] for a in attachments}
    missing = sorted({need for s in steps for need in s["attach"]} - labels)
    if missing:
        raise Refused(_("the {rule} path for {cost} needs {labels} attached: --attach {label}=FILE").format(
            rule=rule, cost=money(cost), labels=", ".join(missing), label=missing[0]))
    req = {"n": len(t.approvals) + 1, "cost": cost, "what": what.strip(), "rule": rule, "steps": steps,
           "attachments": attachments}
    return [(REQUESTED, req)]


def active_steps(req: dict[str, Any]) -> list[int]:
    """Indexes of the undecided steps of the open stage."""
    if req["status"] != PENDING:
        return []
    for stage in sorted({s["stage"] for s in req["steps"]}):
        mine = [i for i, s in enumerate(req["steps"]) if s["stage"] == stage]
        if any(req["steps"][i]["status"] != APPROVED for i in mine):
            return [i for i in mine if req["steps"][i]["status"] == PENDING]
    return []


def can_decide(req: dict[str, Any], i: int, actor: str, delegations: dict[str, Delegation], now: datetime) -> str | None:
    """For whom ``actor`` may decide step ``i``: themselves (``""``), an absent
    approver whose delegate they are (that approver's name), or None."""
    approvers = req["steps"][i]["approvers"]
    if actor in approvers:
        return ""
    for name in approvers:
        if delegate_of(delegations, name, now) == actor:
            return name
    return None


def decide(t: Ticket, actor: str, approve: bool, note: str | None, delegations: dict[str, Delegation], now: datetime
           ) -> list[tuple[str, dict[str, Any]]]:
    """``actor``'s decision on the open stage of the ticket's request: the
    first step they may decide (as an approver, or as an absent approver's
    delegate), and, when it ends the request, the unblock."""
    req = open_request(t)
    if req is None:
        decided = t.approvals[-1] if t.approvals else None
        if decided is None:
            raise Refused(_("{key} has no approval request").format(key=t.key))
        last = max((s for s in decided["steps"] if s.get("by")), key=lambda s: s["at"], default=None)
        raise Refused(_("approval #{n} of {key} was already {status}{by}").format(
            n=decided["n"], key=t.key, status=decided["status"],
            by=_(" by {name} at {at}").format(name=last["by"], at=last["at"]) if last else ""))
    if not approve and not (note or "").strip():
        raise BadInput(_("a rejection needs --reason: the holder reads it"))
    open_ = active_steps(req)
    stage = req["steps"][open_[0]]["stage"] if open_ else 0
    done_by = {s.get("by") for s in req["steps"] if s["stage"] == stage and s["status"] == APPROVED}
    for i in open_:
        on_behalf = can_decide(req, i, actor, delegations, now)
        if on_behalf is None:
            continue
        if approve and actor in done_by:
            continue  # one person decides one step of an all-of stage
        payload: dict[str, Any] = {"n": req["n"], "step": i, "decision": APPROVED if approve else REJECTED}
        if on_behalf:
            payload["for"] = on_behalf
        if note and note.strip():
            payload["note"] = note.strip()
        drafts: list[tuple[str, dict[str, Any]]] = [(DECIDED, payload)]
        last = approve and all(j == i or req["steps"][j]["status"] == APPROVED for j in range(len(req["steps"])))
        if (last or not approve) and t.status == "blocked" and t.blocked_reason == REASON:
            why = _("approval #{n} approved").format(n=req["n"]) if approve else note.strip() if note else ""
            drafts.append(("ticket.unblocked", {"note": why}))
        return drafts
    who = ", ".join(sorted({n for i in open_ for n in req["steps"][i]["approvers"]}))
    if actor in done_by:
        raise Refused(_("{actor} already approved a step of this stage of {key}; the others are for {who}").format(
            actor=actor, key=t.key, who=who))
    raise Refused(_("{actor} may not decide approval #{n} of {key}: waiting for {who} (or their delegate)").format(
        actor=actor, n=req["n"], key=t.key, who=who))


# -- folding ------------------------------------------------------------------------


def apply(t: Ticket, e: Event) -> bool:
    """Fold an approval event into ``t`` (a copy the caller owns); False for
    any other event."""
    p = e.payload
    if e.type == REQUESTED:
        req = {k: p[k] for k in ("n", "cost", "what", "rule", "attachments")}
        req.update(by=e.actor, at=e.at, status=PENDING, decided_at=None, reason=None,
                   steps=[{**s, "since": None, "by": None, "for": None, "at": None, "note": None} for s in p["steps"]])
        for s in req["steps"]:
            if s["stage"] == req["steps"][0]["stage"]:
                s["since"] = e.at
        t.approvals = [*t.approvals, req]
        return True
    if e.type != DECIDED:
        return False
    approvals = [dict(r) for r in t.approvals]
    req = approvals[p["n"] - 1]
    steps = [dict(s) for s in req["steps"]]
    s = steps[p["step"]]
    s.update(status=p["decision"], by=e.actor, at=e.at, note=p.get("note"), **{"for": p.get("for")})
    req["steps"] = steps
    if p["decision"] == REJECTED:
        req.update(status=REJECTED, decided_at=e.at, reason=p.get("note"))
    elif all(x["status"] == APPROVED for x in steps):
        req.update(status=APPROVED, decided_at=e.at)
    else:
        nxt = active_steps(req)
        for i in nxt:
            if steps[i]["since"] is None:
                steps[i]["since"] = e.at
    approvals[p["n"] - 1] = req
    t.approvals = approvals
    return True


def waiting_for(req: dict[str, Any]) -> list[str]:
    """The people the open stage waits for."""
    return sorted({n for i in active_steps(req) for n in req["steps"][i]["approvers"]})

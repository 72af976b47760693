"""Approval actions: request, approve, reject, delegate (``core.approvals``).

Each is a named mutation: the server re-runs it with the device's person as
the actor, so only a step's approver, or their active delegate, can decide
it there, and a second decision of a step already decided (two devices
offline) is refused with the reason listed in ``sync status``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ticketctl.core import approvals, workflow
from ticketctl.core.approvals import Delegation
from ticketctl.core.model import FieldValue, Ticket, parse_time
from ticketctl.core.views import ticket_public
from ticketctl.errors import BadInput
from ticketctl.i18n import _
from ticketctl.services.env import Env
from ticketctl.services.mutations import mutation
from ticketctl.services.tickets import act, record
from ticketctl.store.queries import blocked_for


def request(env: Env, key: str, cost: float, what: str, attach: list[str] | None = None) -> dict[str, Any]:
    """Ask for approval of ``what`` at ``cost`` on ticket ``key``; ``attach``:
    files as ``PATH`` (labelled by its name without extension) or ``LABEL=PATH``.
    The files are stored by hash first, as evidence is; a refused request leaves none behind."""
    from ticketctl.services.evidence import blob_path, inspect_file, store_blob

    files: list[dict[str, Any]] = []
    fresh: list[str] = []
    for spec in attach or []:
        label, sep, path = spec.partition("=")
        if not sep:
            path, label = spec, Path(spec).stem
        label = label.strip().lower()
        if not label or any(c.isspace() for c in label):
            raise BadInput(_("--attach {spec!r}: the label must be one word (quote=FILE)").format(spec=spec))
        facts = inspect_file(Path(path), env)
        if store_blob(env, Path(path), facts["sha256"]):
            fresh.append(facts["sha256"])
        files.append({"label": label, "sha256": facts["sha256"], "name": facts["name"], "size": facts["size"],
                      "mime": facts["mime"]})
    try:
        return request_as(env, key, float(cost), what, files)
    except BaseException:
        for sha in fresh:
            blob_path(env, sha).unlink(missing_ok=True)
        raise


def _view(env: Env, t: Ticket) -> dict[str, Any]:
    out = ticket_public(t, env.config, env.now)
    out["approval"] = show_request(t)
    return out


@mutation("approval.request")
def request_as(env: Env, key: str, cost: float, what: str, attachments: list[dict[str, FieldValue]]) -> dict[str, Any]:
    """Work out the path for ``cost`` (``[approvals]``) and block the ticket on it."""
    out = act(env, key, lambda t: workflow.decide_request_approval(t, env.config, cost, what, attachments))
    return _view(env, env.mutation_store.ticket(out["key"]))


@mutation("approval.approve")
def approve(env: Env, key: str, note: str | None = None) -> dict[str, Any]:
    """Approve the step of ``key``'s request that the actor holds (or holds for
    someone away); the last approval unblocks the ticket."""
    st = env.mutation_store
    out = act(env, key, lambda t: approvals.decide(t, env.actor, True, note, st.delegations(), env.now))
    return _view(env, st.ticket(out["key"]))


@mutation("approval.reject")
def reject(env: Env, key: str, reason: str) -> dict[str, Any]:
    """Reject ``key``'s request: it ends, and the ticket goes back to its holder with the reason."""
    st = env.mutation_store
    out = act(env, key, lambda t: approvals.decide(t, env.actor, False, reason, st.delegations(), env.now))
    return _view(env, st.ticket(out["key"]))


def _delegation_commit(env: Env, name: str, drafts: list[tuple[str, dict[str, Any]]]) -> Delegation:
    st = env.mutation_store
    with st.transaction():
        before = st.delegations().get(name)
        d: Delegation | None = before
        for e in record(env, st, approvals.delegation_key(name), drafts):
            d = approvals.apply_delegation(d, e)
        assert d is not None
        st.put_delegation(d)
    return d


@mutation("approval.delegate", resolve_key=False)
def delegate(env: Env, name: str, to: str, starts: str, until: str) -> dict[str, Any]:
    """From ``starts`` to ``until`` (ISO-8601), ``to`` approves in ``name``'s place."""
    try:
        a, b = parse_time(starts), parse_time(until)
    except ValueError:
        raise BadInput(_("--from and --until must be ISO-8601 times like 2026-03-02T09:00:00Z")) from None
    return delegation_public(_delegation_commit(env, name, approvals.decide_delegate(name, to, a, b)), env)


@mutation("approval.undelegate", resolve_key=False)
def undelegate(env: Env, name: str) -> dict[str, Any]:
    """End ``name``'s delegation now."""
    d = env.mutation_store.delegations().get(name)
    return delegation_public(_delegation_commit(env, name, approvals.decide_undelegate(d, name)), env)


def delegation_public(d: Delegation, env: Env) -> dict[str, Any]:
    return {"name": d.name, "to": d.to, "from": d.starts, "until": d.until, "by": d.by, "at": d.at, "cleared": d.cleared,
            "active": d.active(env.now)}


def delegations(env: Env) -> list[dict[str, Any]]:
    return [delegation_public(d, env) for _n, d in sorted(env.store.delegations().items())]


# -- reading ------------------------------------------------------------------------


def show_request(t: Ticket) -> dict[str, Any] | None:
    """The ticket's latest request as ``approval show --json`` prints it."""
    if not t.approvals:
        return None
    req = t.approvals[-1]
    return {**{k: req[k] for k in ("n", "cost", "what", "rule", "status", "by", "at", "decided_at", "reason", "attachments")},
            "waiting_for": approvals.waiting_for(req),
            "steps": [{k: s.get(k) for k in ("stage", "role", "approvers", "mode", "status", "by", "for", "at", "note", "since",
                                             "limit_s", "attach")} for s in req["steps"]]}


def show(env: Env, key: str) -> dict[str, Any]:
    """The ticket's latest approval request (its steps, who decided each and for
    whom) and the earlier ones."""
    st = env.store
    t = st.ticket(st.resolve_key(key))
    latest = show_request(t)
    if latest is None:
        from ticketctl.errors import NotFound

        raise NotFound(_("{key} has no approval request").format(key=t.key))
    return {"key": t.key, "title": t.title, "status": t.status, "assignee": t.assignee, **latest,
            "earlier": [{k: r[k] for k in ("n", "cost", "what", "rule", "status", "decided_at", "reason")} for r in t.approvals[:-1]]}


def pending(env: Env, mine: bool = False) -> list[dict[str, Any]]:
    """Requests waiting for a decision, oldest step first: each with the open
    stage's steps, how long (business time) they have waited and who holds
    them. ``mine``: only those the actor may decide now, themselves or for
    someone away."""
    st, cfg, now = env.store, env.config, env.now
    cal = cfg.business_calendar
    now_bt = cal.ordinal(now)
    dels = st.delegations()
    me = env.actor
    rows = []
    for t in blocked_for(st, approvals.REASON):
        req = approvals.open_request(t)
        if req is None:
            continue
        steps = []
        for i in approvals.active_steps(req):
            s = req["steps"][i]
            holder = approvals.can_decide(req, i, me, dels, now)
            if mine and holder is None:
                continue
            since = s["since"] or req["at"]
            steps.append({"step": i, "role": s["role"], "approvers": s["approvers"], "since": since,
                          "waited_s": now_bt - cal.ordinal(parse_time(since)), "limit_s": s["limit_s"],
                          "delegates": {n: d for n in s["approvers"] if (d := approvals.delegate_of(dels, n, now))},
                          "for": holder or None})
        if steps:
            rows.append({"key": t.key, "title": t.title, "assignee": t.assignee, "n": req["n"], "cost": req["cost"],
                         "what": req["what"], "rule": req["rule"], "requested_by": req["by"], "requested_at": req["at"],
                         "steps": steps})
    rows.sort(key=lambda r: (-max(s["waited_s"] for s in r["steps"]), r["key"]))
    return rows


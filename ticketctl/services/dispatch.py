"""Dispatch: pick the best technician for one ticket, explain the choice, or
assign the whole unassigned backlog in one pass (``core.dispatch``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ticketctl.core import workflow
from ticketctl.core.dispatch import evaluate, plan, why_skipped
from ticketctl.core.message import render
from ticketctl.core.model import HELD_STATUSES, Technician, Ticket
from ticketctl.core.views import ticket_public, ticket_weight
from ticketctl.errors import Refused
from ticketctl.i18n import _
from ticketctl.services.env import Env
from ticketctl.services.mutations import intent
from ticketctl.services.tickets import commit
from ticketctl.store.queries import list_tickets

if TYPE_CHECKING:
    from ticketctl.store.protocol import MutationStore


def _team(st: MutationStore) -> tuple[list[Technician], dict[str, int], dict[str, str]]:
    return st.techs(), st.loads(HELD_STATUSES), st.last_active()


def explain(env: Env, key: str) -> dict[str, Any]:
    """Every technician's verdict for ``key``, best first; writes nothing."""
    st = env.store
    t = st.ticket(st.resolve_key(key))
    techs, loads, active = _team(st)
    cands = evaluate(t, techs, loads, active, env.config, env.now)
    best = next((c.name for c in cands if c.eligible), None)
    return {"key": t.key, "policy": env.config.policy(t.dept), "best": best, "candidates": [c.public() for c in cands]}


def assign_best(env: Env, key: str) -> dict[str, Any]:
    """Assign ``key`` to the best eligible technician; refused, with every
    technician's reason, when nobody is eligible."""
    cfg, st = env.config, env.mutation_store
    with st.transaction():
        t = st.ticket(st.resolve_key(key))
        techs, loads, active = _team(st)
        cands = evaluate(t, techs, loads, active, cfg, env.now)
        pick = next((c for c in cands if c.eligible), None)
        if pick is None:
            # each technician's reason is a Message: English in `assign --explain --json`, rendered for this line
            why = "; ".join(f"{c.name} {render(why_skipped(c.reason))}" for c in cands[:6]) or _("no technicians yet")
            raise Refused(_("no eligible technician for {key}: {why}").format(key=t.key, why=why))
        tech = next(x for x in techs if x.name == pick.name)
        note = {"by": "dispatch", "reason": pick.reason}
        with intent(env, "ticket.assign", {"key": t.key, "name": tech.name, "force": False, "note": note}):
            t = commit(env, st, t, t.key, workflow.decide_assign(t, tech, pick.load, note=note))
    return ticket_public(t, cfg, env.now)


def auto(env: Env, dry_run: bool = False, limit: int | None = None) -> dict[str, Any]:
    """Assign the unassigned backlog, highest weight first, never over capacity.
    Planned and written in one transaction, so nothing changes under the plan;
    each assignment still passes the same capacity rule as a manual assign."""
    cfg, st, now = env.config, env.store, env.now
    with st.transaction():
        backlog: list[Ticket] = list_tickets(st, cfg, now, ["new"], sort="weight", limit=None)
        techs, loads, active = _team(st)
        result = plan([(t, ticket_weight(t, cfg, now)) for t in backlog], techs, loads, active, cfg, now, limit)
        by_key = {t.key: t for t in backlog}
        by_name = {x.name: x for x in techs}
        held = dict(loads)
        for a in result.assigned:
            name = a["assignee"]
            if not dry_run:
                t = by_key[a["key"]]
                note = {"by": "dispatch", "reason": a["reason"]}
                with intent(env, "ticket.assign", {"key": t.key, "name": name, "force": False, "note": note}):
                    commit(env, st, t, t.key, workflow.decide_assign(t, by_name[name], held.get(name, 0), note=note))
            held[name] = held.get(name, 0) + 1
    return {
        "dry_run": dry_run,
        "assigned": [{k: a[k] for k in ("key", "assignee", "weight", "reason")} for a in result.assigned],
        "unassigned": result.unassigned,
        "score": round(result.score(), 3),
        "load": {x.name: {"load": held.get(x.name, 0), "capacity": x.capacity} for x in techs},
    }

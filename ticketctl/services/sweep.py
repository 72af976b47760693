"""The cron sweep and the answer to its stall checks.

:func:`sweep` runs from cron every few minutes and must stay fast on a large
backlog (100,000 open tickets in well under 2 s when little is new), so it
never folds every open ticket in Python. One SQL pass
(``store.sweep``) picks the candidates of every per-ticket rule (a superset: the thresholds are
compared against "now" as a business-second ordinal or an ISO-8601 'Z' time,
and a rule that already fired on a ticket is filtered out with
``json_extract(escalations, ...)``); a second query picks the groups that can
form a batch (a window count per product, fault and zone) and loads those
groups whole. Only these tickets go through ``core.sweep.plan``, which
decides.

Everything one run writes (escalations, stall checks, batch parents and their
links, and the queued webhook notifications) is one transaction, and the
candidates are read inside it: two sweeps at once cannot both escalate the
same ticket. Notifications are delivered after the commit.

Language: the messages stay English wherever they are data (events, the
generic webhook body, ``sweep --json``). What people read is written in the
language of the sweeping process, which is the team's (``lang`` in the config
comes first, ``ticketctl.i18n.choose``), at the moment it is written: the chat
webhooks' text (the outbox keeps the finished POST body, so a retry sends the
same bytes, whoever runs ``notify send`` and in whatever locale, and the outbox
needs no template column), and the title and description of a batch parent
(a ticket's title is shown as it is by every view, on every device).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from ticketctl.core import sweep as rules
from ticketctl.core import workflow
from ticketctl.core.config import Config
from ticketctl.core.config.sweep import reached
from ticketctl.core.message import render
from ticketctl.core.model import Ticket, iso
from ticketctl.services import notify
from ticketctl.services.env import Env
from ticketctl.services.mutations import mutation
from ticketctl.services.tickets import act, commit
from ticketctl.store.db import Store


def candidates(st: Store, cfg: Config, now: datetime) -> tuple[list[Ticket], set[str], bool]:
    """The tickets ``core.sweep.plan`` needs to see now, each once: at most
    ``sweep.max_tickets`` per-ticket candidates, most urgent and oldest first
    (the rest are picked up by the next runs), plus whole batchable groups up
    to the same cap; the keys of those groups (the batch pool); and whether
    the cap left some for later."""
    found = {t.key: t for t in st.sweep.rule_candidates(cfg, now, cfg.sweep.max_tickets)}
    capped = len(found) >= cfg.sweep.max_tickets
    groups: dict[tuple[str, str, str], list[str]] = {}
    for pr, fa, zo, k in st.sweep.batch_groups(cfg):
        groups.setdefault((pr, fa, zo), []).append(k)
    missing: list[str] = []
    pool: set[str] = set()
    for keys in groups.values():  # whole groups, up to the same cap
        if pool and len(pool) + len(keys) > cfg.sweep.max_tickets:
            capped = True
            break
        pool.update(keys)
        missing += [k for k in keys if k not in found]
    found.update((t.key, t) for t in st.tickets_by_key(missing))  # decode each row once: most are candidates already
    return list(found.values()), pool, capped


def breach_counts(st: Store, cfg: Config, now: datetime) -> dict[str, int]:
    """Open tickets whose response (no first response, past due) or
    resolution clock has run out now."""
    response, resolve = st.sweep.breach_counts(cfg, now)
    return {"response": response, "resolve": resolve}


def _write(env: Env, st: Store, tickets: list[Ticket], actions: list[rules.Action]) -> tuple[list[rules.Action], int]:
    """Write the actions (inside the transaction): batch parents first (they
    need a key), then one mutation per ticket with all its events, and one
    queued notification per action and target. Returns the actions with the
    parents' keys filled in, and how many notifications were queued."""
    cfg, now = env.config, env.now
    # on a synced device the server queues an escalation's notifications when it records it, once for the
    # team (server.jobs): two machines sweeping the same ticket between syncs must not notify twice
    team = bool(st.meta("sync_role", ""))
    by_key = {t.key: t for t in tickets}
    drafts: dict[str, list[workflow.Draft]] = {}
    done: list[rules.Action] = []
    queued = 0
    for a in actions:
        if a.batch is not None:
            key = f"{st.meta('key_prefix')}-{st.take_counter('next_ticket_no')}"
            fields = {**a.batch.fields, "title": render(a.batch.fields["title"]),
                      "description": render(a.batch.fields["description"])}  # content: in the team's language
            commit(env, st, None, key, workflow.decide_create(fields, cfg))
            for child in a.batch.children:
                drafts.setdefault(child, []).extend(rules.link_drafts(key))
            a = replace(a, key=key)
        else:
            assert a.key is not None
            drafts.setdefault(a.key, []).extend(_with_notified(cfg, a))
        if not (team and any(typ == "ticket.escalated" for typ, _p in a.drafts)):
            queued += notify.enqueue(st, cfg, now, a.key, a.base_rule, a.message, list(a.to))
        done.append(a)
    for key, ds in drafts.items():
        commit(env, st, by_key[key], key, ds)
    return done, queued


def _with_notified(cfg: Config, a: rules.Action) -> list[workflow.Draft]:
    """The action's events, an escalation's payload gaining ``notified``: the targets it was sent to as the
    sweep ran (``[]``: no one was told; events written before this key have none and read as before)."""
    names = reached(cfg.notify, a.rule)
    return [(typ, {**p, "notified": names} if typ == "ticket.escalated" else p) for typ, p in a.drafts]


def _public(cfg: Config, a: rules.Action) -> dict[str, Any]:
    """One action as ``sweep --json`` shows it: ``notified`` names the targets that take it, ``unreached``
    the recipients no target tells (all of ``to`` when ``notified`` is empty, else none)."""
    names = reached(cfg.notify, a.rule)
    return {"key": a.key, "rule": a.rule, "to": list(a.to), "message": a.message, "notified": names,
            "unreached": [] if names else list(a.to)}


def _number_batches(st: Store, actions: list[rules.Action]) -> list[rules.Action]:
    """Dry run: the keys the batch parents would get, without taking them."""
    prefix, n = st.meta("key_prefix"), int(st.meta("next_ticket_no"))
    out = []
    for a in actions:
        if a.batch is not None:
            a = replace(a, key=f"{prefix}-{n}")
            n += 1
        out.append(a)
    return out


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: a sweep that loads 100,000 tickets
    holds millions of live objects, and every automatic collection would walk
    them all (it doubled the time of a large first run). Nothing here builds
    reference cycles; plain reference counting frees everything."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def sweep(env: Env, dry_run: bool = False) -> dict[str, Any]:
    """Escalate, ask and group what needs it now (see ``core.sweep``); with
    ``dry_run`` report the same without writing. Returns the ``sweep --json``
    view: ``at``, ``dry_run``, ``actions`` (each ``message`` a ``Message``:
    English in JSON, ``render`` it for people; ``notified``: the targets that take it, ``unreached``: its
    recipients when none does), ``more`` (the run hit
    ``sweep.max_tickets``: the next run goes on), ``breached`` (open tickets past
    an SLA clock now) and ``notifications``: ``queued`` (rows this run added
    to the outbox; in a dry run, would add) plus, after a real run, the
    summary of ``notify.deliver`` (sent, pending, failed, errors)."""
    cfg, st, now = env.config, env.store, env.now
    with _no_gc():
        actions, breached, queued, more = _run(env, st, cfg, now, dry_run)
        public = [_public(cfg, a) for a in actions]
        del actions
    notes: dict[str, Any] = {"queued": queued}
    deliver = getattr(notify, "deliver", None)
    if deliver is not None and not dry_run:
        notes.update(deliver(env))
    return {"at": iso(now), "dry_run": dry_run, "actions": public, "more": more, "breached": breached,
            "notifications": notes}


def _run(env: Env, st: Store, cfg: Config, now: datetime, dry_run: bool
         ) -> tuple[list[rules.Action], dict[str, int], int, bool]:
    """(actions, breach counts, notifications queued, more left for the next
    run): one transaction, or none for a dry run."""
    if dry_run:
        found, pool, more = candidates(st, cfg, now)
        actions = _number_batches(st, rules.plan(found, now, cfg, [t for t in found if t.key in pool], st.delegations()))
        queued = sum(len(reached(cfg.notify, a.rule)) for a in actions)
        return actions, breach_counts(st, cfg, now), queued, more
    with st.transaction():
        found, pool, more = candidates(st, cfg, now)
        actions, queued = _write(env, st, found, rules.plan(found, now, cfg, [t for t in found if t.key in pool], st.delegations()))
        return actions, breach_counts(st, cfg, now), queued, more


@mutation("ticket.why")
def why(env: Env, key: str, choice: str) -> dict[str, Any]:
    """Answer the ticket's open stall check (``workflow.decide_why``)."""
    return act(env, key, lambda t: workflow.decide_why(t, choice, env.config))

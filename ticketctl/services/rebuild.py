"""Projections from the event log: replay, compare, rewrite.

The tickets, technicians and articles tables are a cache of folding the events with
``ticketctl.core.workflow``; this module proves it (``store check``) and
repairs it (``store rebuild``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from typing import Any

from ticketctl.core.approvals import DELEGATION_PREFIX, Delegation, apply_delegation, delegation_key, is_delegation_event
from ticketctl.core.config import Config
from ticketctl.core.kb import EVENT_PREFIX as KB_PREFIX
from ticketctl.core.kb import Article, apply_article, is_article_event
from ticketctl.core.model import Event, Technician, Ticket, span_row
from ticketctl.core.workflow import apply_tech, fold
from ticketctl.store.db import (
    ARTICLE_COLUMNS,
    EVENT_COLUMNS,
    EVENT_ORDER,
    TECH_COLUMNS,
    TICKET_COLUMNS,
    Store,
    article_from_row,
    event_from_row,
    tech_from_row,
    ticket_from_row,
)


def fold_from(base: Ticket | None, events: list[Event], cfg: Config) -> tuple[Ticket, list[tuple[Any, ...]]]:
    """Fold ``events`` onto ``base`` (a snapshot's projection, or None) and give
    the whole history's span rows: the base's own span from its
    ``status_since``, then one per change."""
    if not events:
        assert base is not None
        return base, [span_row(base, base.status_since or base.created_at)]
    t, rows = fold(base, events, cfg)
    if base is not None:
        first = span_row(base, base.status_since or base.created_at)
        rows = [(*first[:2], rows[0][1], *first[3:]), *rows] if rows else [first]
    return t, rows


def tech_events(store: Store, name: str) -> list[Event]:
    """One technician's events, in fold order."""
    cols = ", ".join(EVENT_COLUMNS)
    return [event_from_row(r) for r in store.db.execute(
        f"SELECT {cols} FROM events WHERE ticket IS NULL AND json_extract(payload, '$.name') = ? ORDER BY {EVENT_ORDER}", (name,))]


def replay(store: Store, cfg: Config, spans: list[tuple[Any, ...]] | None = None
           ) -> tuple[dict[str, Ticket], dict[str, Technician]]:
    """Fold every event in fold order onto the bases a snapshot brought (none
    on a store that never bootstrapped); with ``spans``, collect the ticket
    history rows too."""
    per_ticket: dict[str, list[Event]] = {}
    techs: dict[str, Technician] = {}
    for name, data in store.db.execute("SELECT name, data FROM bases WHERE kind = 'technician'"):
        techs[name] = Technician(**json.loads(data))
    base: dict[str, Ticket] = {k: Ticket(**json.loads(d)) for k, d in store.db.execute(
        "SELECT name, data FROM bases WHERE kind = 'ticket'")}
    for e in store.events():
        if is_article_event(e) or is_delegation_event(e):
            continue
        if e.ticket is None:
            name = e.payload["name"]
            techs[name] = apply_tech(techs.get(name), e, cfg)
        else:
            per_ticket.setdefault(e.ticket, []).append(e)
    tickets: dict[str, Ticket] = {}
    for key in base.keys() | per_ticket.keys():
        tickets[key], rows = fold_from(base.get(key), per_ticket.get(key, []), cfg)
        if spans is not None:
            spans.extend(rows)
    return tickets, techs


def _kind_events(store: Store, prefix: str, key: str | None) -> list[Event]:
    """The events whose type starts with ``prefix`` (an entity kind that is
    not a ticket), one entity's (by its ``ticket`` column) or all, in fold order."""
    cols = ", ".join(EVENT_COLUMNS)
    if key is None:
        rows = store.db.execute(f"SELECT {cols} FROM events WHERE type LIKE ? ORDER BY {EVENT_ORDER}", (f"{prefix}%",))
    else:
        rows = store.db.execute(f"SELECT {cols} FROM events WHERE ticket = ? AND type LIKE ? ORDER BY {EVENT_ORDER}",
                                (key, f"{prefix}%"))
    return [event_from_row(r) for r in rows]


def article_events(store: Store, article_id: str | None = None) -> list[Event]:
    """The knowledge articles' events (one article's, or all), in fold order."""
    return _kind_events(store, KB_PREFIX, article_id)


def delegation_events(store: Store, name: str | None = None) -> list[Event]:
    """Approval delegations' events (one person's, or all), in fold order."""
    return _kind_events(store, DELEGATION_PREFIX, None if name is None else delegation_key(name))


def replay_delegations(store: Store) -> dict[str, Delegation]:
    out: dict[str, Delegation] = {n: Delegation(**json.loads(d)) for n, d in store.db.execute(
        "SELECT name, data FROM bases WHERE kind = 'delegation'")}
    for e in delegation_events(store):
        out[e.payload["name"]] = apply_delegation(out.get(e.payload["name"]), e)
    return out


def replay_articles(store: Store) -> dict[str, Article]:
    """Every article folded from its base (a snapshot's) and its events."""
    arts: dict[str, Article] = {n: Article(**json.loads(d)) for n, d in store.db.execute(
        "SELECT name, data FROM bases WHERE kind = 'article'")}
    for e in article_events(store):
        arts[e.payload["id"]] = apply_article(arts.get(e.payload["id"]), e)
    return arts


def stored_articles(store: Store) -> dict[str, Article]:
    return {a.id: a for a in (article_from_row(r) for r in store.db.execute(
        f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles"))}


def stored(store: Store) -> tuple[dict[str, Ticket], dict[str, Technician]]:
    """The projections as the tables hold them."""
    tickets = {t.key: t for t in (ticket_from_row(r) for r in store.db.execute(
        f"SELECT {', '.join(TICKET_COLUMNS)} FROM tickets"))}
    techs = {t.name: t for t in (tech_from_row(r) for r in store.db.execute(
        f"SELECT {', '.join(TECH_COLUMNS)} FROM technicians"))}
    return tickets, techs


def differences(store: Store, cfg: Config, limit: int = 20) -> list[str]:
    """Where the tables differ from a replay of the events ([] when they agree)."""
    spans: list[tuple[Any, ...]] = []
    want_t, want_p = replay(store, cfg, spans)
    have_t, have_p = stored(store)
    out: list[str] = []
    span_cols = "ticket, from_at, to_at, status, dept, product, fault, created_at"
    have_s = Counter(store.db.execute(f"SELECT {span_cols} FROM spans").fetchall())
    want_s = Counter(spans)
    if have_s != want_s:
        keys = sorted({r[0] for r in (have_s - want_s) + (want_s - have_s)})
        out.append(f"spans differ for {len(keys)} ticket(s): {', '.join(keys[:5])}{', ...' if len(keys) > 5 else ''}")
    articles = (replay_articles(store), stored_articles(store))
    delegations = (replay_delegations(store), store.delegations())
    for kind, want, have in (("ticket", want_t, have_t), ("technician", want_p, have_p), ("article", *articles),
                             ("delegation", *delegations)):
        for k in sorted(set(want) | set(have)):
            if k not in have:
                out.append(f"{kind} {k}: in the events, missing from the table")
            elif k not in want:
                out.append(f"{kind} {k}: in the table, no events")
            elif want[k] != have[k]:
                a: dict[str, Any] = asdict(want[k])  # type: ignore[call-overload]
                b: dict[str, Any] = asdict(have[k])  # type: ignore[call-overload]
                cols = [c for c in a if a[c] != b[c]]
                out.append(f"{kind} {k}: differs in {', '.join(cols)}")
            if len(out) >= limit:
                return out
    return out


def rebuild(store: Store, cfg: Config) -> tuple[int, int]:
    """Rewrite the projection tables from the events in one transaction."""
    spans: list[tuple[Any, ...]] = []
    tickets, techs = replay(store, cfg, spans)
    articles = replay_articles(store)
    delegations = replay_delegations(store)
    with store.transaction():
        store.db.execute("DELETE FROM tickets")
        store.db.execute("DELETE FROM technicians")
        store.db.execute("DELETE FROM spans")
        store.db.execute("DELETE FROM articles")
        store.db.execute("DELETE FROM delegations")
        for d in delegations.values():
            store.put_delegation(d)
        store.put_tickets(list(tickets.values()))
        store.put_techs(list(techs.values()))
        store.put_articles(list(articles.values()))
        store.put_spans(spans)
        store.set_meta("rebuild_needed", None)
    return len(tickets), len(techs)

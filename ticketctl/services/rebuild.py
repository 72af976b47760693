"""Projections from the event log: replay, compare, rewrite.

The tickets, technicians and articles tables are a cache of folding the events with
``ticketctl.core.workflow``; this module proves it (``store check``) and
repairs it (``store rebuild``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from ticketctl.core.approvals import DELEGATION_PREFIX, Delegation, apply_delegation, delegation_key, is_delegation_event
from ticketctl.core.config import Config
from ticketctl.core.kb import EVENT_PREFIX as KB_PREFIX
from ticketctl.core.kb import Article, apply_article, is_article_event
from ticketctl.core.model import Event, Technician, Ticket, span_row
from ticketctl.core.stock import is_stock_event
from ticketctl.core.workflow import apply_tech, fold
from ticketctl.store.db import Store


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
    return store.replay.tech_events(name)


def replay(store: Store, cfg: Config, spans: list[tuple[Any, ...]] | None = None
           ) -> tuple[dict[str, Ticket], dict[str, Technician]]:
    """Fold every event in fold order onto the bases a snapshot brought (none
    on a store that never bootstrapped); with ``spans``, collect the ticket
    history rows too."""
    per_ticket: dict[str, list[Event]] = {}
    techs: dict[str, Technician] = {}
    for name, data in store.replay.bases("technician").items():
        techs[name] = Technician(**data)
    base: dict[str, Ticket] = {k: Ticket(**d) for k, d in store.replay.bases("ticket").items()}
    for e in store.events():
        if is_article_event(e) or is_delegation_event(e) or is_stock_event(e):
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


def article_events(store: Store, article_id: str | None = None) -> list[Event]:
    """The knowledge articles' events (one article's, or all), in fold order."""
    return store.replay.kind_events(KB_PREFIX, article_id)


def delegation_events(store: Store, name: str | None = None) -> list[Event]:
    """Approval delegations' events (one person's, or all), in fold order."""
    return store.replay.kind_events(DELEGATION_PREFIX, None if name is None else delegation_key(name))


def replay_delegations(store: Store) -> dict[str, Delegation]:
    out: dict[str, Delegation] = {n: Delegation(**d) for n, d in store.replay.bases("delegation").items()}
    for e in delegation_events(store):
        out[e.payload["name"]] = apply_delegation(out.get(e.payload["name"]), e)
    return out


def replay_articles(store: Store) -> dict[str, Article]:
    """Every article folded from its base (a snapshot's) and its events."""
    arts: dict[str, Article] = {n: Article(**d) for n, d in store.replay.bases("article").items()}
    for e in article_events(store):
        arts[e.payload["id"]] = apply_article(arts.get(e.payload["id"]), e)
    return arts


def stock_differences(store: Store, limit: int = 20) -> list[str]:
    """Where the stock tables differ from a fold of the ``stock.*`` ledger."""
    from ticketctl.core import stock

    want = stock.normal(stock.fold(store.stock.events()))
    have = stock.normal(store.stock.everything())
    out: list[str] = []
    for kind in ("parts", "places", "levels", "transfers", "holds", "waits"):
        w, h = getattr(want, kind), getattr(have, kind)
        for k in sorted(set(w) | set(h), key=str):
            if w.get(k) != h.get(k):
                out.append(f"{kind} {k}: the ledger says {w.get(k)}, the table {h.get(k)}")
                if len(out) >= limit:
                    return out
    return out


def rebuild_stock(store: Store) -> None:
    """Rewrite the stock tables from the ledger (inside the caller's transaction)."""
    from ticketctl.core import stock

    led = stock.fold(store.stock.events())
    store.stock.clear()
    store.stock.save(stock.normal(led))


def stored_articles(store: Store) -> dict[str, Article]:
    return {a.id: a for a in store.replay.stored_articles()}


def stored(store: Store) -> tuple[dict[str, Ticket], dict[str, Technician]]:
    """The projections as the tables hold them."""
    tickets = {t.key: t for t in store.replay.stored_tickets()}
    techs = {t.name: t for t in store.replay.stored_techs()}
    return tickets, techs


def differences(store: Store, cfg: Config, limit: int = 20) -> list[str]:
    """Where the tables differ from a replay of the events ([] when they agree)."""
    spans: list[tuple[Any, ...]] = []
    want_t, want_p = replay(store, cfg, spans)
    have_t, have_p = stored(store)
    out: list[str] = []
    have_s = Counter(store.replay.span_rows())
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
    return out + stock_differences(store, limit - len(out))


def rebuild(store: Store, cfg: Config) -> tuple[int, int]:
    """Rewrite the projection tables from the events in one transaction."""
    spans: list[tuple[Any, ...]] = []
    tickets, techs = replay(store, cfg, spans)
    articles = replay_articles(store)
    delegations = replay_delegations(store)
    with store.transaction():
        store.replay.clear_projections()
        for d in delegations.values():
            store.put_delegation(d)
        store.put_tickets(list(tickets.values()))
        store.put_techs(list(techs.values()))
        store.put_articles(list(articles.values()))
        store.put_spans(spans)
        rebuild_stock(store)
        store.set_meta("rebuild_needed", None)
    return len(tickets), len(techs)

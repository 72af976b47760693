"""Projections from the event log: replay, compare, rewrite.

The tickets and technicians tables are a cache of folding the events with
``ticketctl.core.workflow``; this module proves it (``store check``) and
repairs it (``store rebuild``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from ticketctl.core.config import Config
from ticketctl.core.model import Event, Technician, Ticket
from ticketctl.core.workflow import apply_tech, fold
from ticketctl.store.db import TECH_COLUMNS, TICKET_COLUMNS, Store, tech_from_row, ticket_from_row


def replay(store: Store, cfg: Config, spans: list[tuple[Any, ...]] | None = None
           ) -> tuple[dict[str, Ticket], dict[str, Technician]]:
    """Fold every event, in the order this store applied them; with ``spans``,
    collect the ticket history rows too."""
    per_ticket: dict[str, list[Event]] = {}
    techs: dict[str, Technician] = {}
    for e in store.events():
        if e.ticket is None:
            name = e.payload["name"]
            techs[name] = apply_tech(techs.get(name), e, cfg)
        else:
            per_ticket.setdefault(e.ticket, []).append(e)
    tickets: dict[str, Ticket] = {}
    for key, events in per_ticket.items():
        tickets[key], rows = fold(None, events, cfg)
        if spans is not None:
            spans.extend(rows)
    return tickets, techs


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
    for kind, want, have in (("ticket", want_t, have_t), ("technician", want_p, have_p)):
        for k in sorted(set(want) | set(have)):
            if k not in have:
                out.append(f"{kind} {k}: in the events, missing from the table")
            elif k not in want:
                out.append(f"{kind} {k}: in the table, no events")
            elif want[k] != have[k]:
                a: dict[str, Any] = asdict(want[k])
                b: dict[str, Any] = asdict(have[k])
                cols = [c for c in a if a[c] != b[c]]
                out.append(f"{kind} {k}: differs in {', '.join(cols)}")
            if len(out) >= limit:
                return out
    return out


def rebuild(store: Store, cfg: Config) -> tuple[int, int]:
    """Rewrite the projection tables from the events in one transaction."""
    spans: list[tuple[Any, ...]] = []
    tickets, techs = replay(store, cfg, spans)
    with store.transaction():
        store.db.execute("DELETE FROM tickets")
        store.db.execute("DELETE FROM technicians")
        store.db.execute("DELETE FROM spans")
        store.put_tickets(list(tickets.values()))
        store.put_techs(list(techs.values()))
        store.put_spans(spans)
        store.set_meta("rebuild_needed", None)
    return len(tickets), len(techs)

"""The client's side of sync inside the local store: applying what the server
sent (a snapshot, a page of events and results) and re-folding what it touched.

The local tables always show *server state with this device's pending
mutations on top*: the events the server confirmed, in its order, then the
events of mutations still waiting for a result, in the order they were made
(``store.db.EVENT_ORDER``). When a result arrives, the device's own provisional
events of that mutation are replaced by the server's (applied) or simply
dropped (rejected), and every ticket they touched is folded again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ticketctl.core.config import Config
from ticketctl.core.model import Event, Technician, Ticket
from ticketctl.services.rebuild import fold_from, tech_events
from ticketctl.store.db import Store

#: meta keys of a synced store
CURSOR, EPOCH, ROLE, DEVICE, NEXT_CLIENT_SEQ, LAST_SYNC = (
    "sync_cursor", "sync_epoch", "sync_role", "sync_device", "next_client_seq", "sync_last")


def bases(st: Store, kind: str, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    if names is None:
        rows = st.db.execute("SELECT name, data FROM bases WHERE kind = ?", (kind,))
        return {n: json.loads(d) for n, d in rows}
    out = {}
    for n in names:
        row = st.db.execute("SELECT data FROM bases WHERE kind = ? AND name = ?", (kind, n)).fetchone()
        if row is not None:
            out[n] = json.loads(row[0])
    return out


def refold(st: Store, cfg: Config, keys: Iterable[str], tech_names: Iterable[str]) -> None:
    """Fold the named tickets and technicians again from their base and events
    (inside a transaction); one with neither disappears (a creation the server
    refused)."""
    keys, tech_names = set(keys), set(tech_names)
    tb = bases(st, "ticket", keys)
    for key in keys:
        base = Ticket(**tb[key]) if key in tb else None
        evs = list(st.events(key))
        st.db.execute("DELETE FROM spans WHERE ticket = ?", (key,))
        if base is None and not evs:
            st.db.execute("DELETE FROM tickets WHERE key = ?", (key,))
            continue
        t, spans = fold_from(base, evs, cfg)
        st.put_ticket(t)
        st.put_spans(spans)
    pb = bases(st, "technician", tech_names)
    for name in tech_names:
        tech: Technician | None = Technician(**pb[name]) if name in pb else None
        from ticketctl.core.workflow import apply_tech

        for e in tech_events(st, name):
            tech = apply_tech(tech, e, cfg)
        if tech is None:
            st.db.execute("DELETE FROM technicians WHERE name = ?", (name,))
        else:
            st.put_tech(tech)


def pending_targets(st: Store, mutation_ids: Iterable[str] | None = None) -> tuple[set[str], set[str]]:
    """Tickets and technicians touched by this device's unconfirmed events
    (of the given mutations, or all)."""
    sql = "SELECT ticket, type, payload FROM events WHERE server_seq IS NULL"
    rows: list[Any] = []
    if mutation_ids is None:
        rows = st.db.execute(sql).fetchall()
    else:
        ids = list(mutation_ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            rows += st.db.execute(f"{sql} AND mutation_id IN ({', '.join('?' * len(part))})", part).fetchall()
    keys, names = set(), set()
    for ticket, _typ, payload in rows:
        if ticket is None:
            names.add(json.loads(payload)["name"])
        else:
            keys.add(ticket)
    return keys, names


def apply_snapshot(st: Store, cfg: Config, snap: dict[str, Any]) -> int:
    """Start over from the server's projections as of ``snap["seq"]`` (one
    transaction): confirmed history is replaced, pending work is kept and
    re-folded on top. Returns the number of tickets."""
    tickets = [Ticket(**d) for d in snap["tickets"]]
    techs = [Technician(**d) for d in snap["technicians"]]
    with st.transaction():
        for table in ("tickets", "technicians", "spans", "bases"):
            st.db.execute(f"DELETE FROM {table}")
        st.db.execute("DELETE FROM events WHERE server_seq IS NOT NULL")
        st.db.executemany("INSERT INTO bases (kind, name, data) VALUES ('ticket', ?, ?)",
                          [(d["key"], json.dumps(d, separators=(",", ":"))) for d in snap["tickets"]])
        st.db.executemany("INSERT INTO bases (kind, name, data) VALUES ('technician', ?, ?)",
                          [(d["name"], json.dumps(d, separators=(",", ":"))) for d in snap["technicians"]])
        st.put_tickets(tickets)
        st.put_techs(techs)
        from ticketctl.core.model import span_row

        st.put_spans([span_row(t, t.status_since or t.created_at) for t in tickets])
        refold(st, cfg, *pending_targets(st))
        st.set_meta(CURSOR, str(snap["seq"]))
        st.set_meta(EPOCH, snap["epoch"])
    return len(tickets)


def apply_page(st: Store, cfg: Config, page: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """One pulled page, with its cursor, in one transaction. Returns how many
    events were new here and the rejections it carried."""
    rejected: list[dict[str, Any]] = []
    with st.transaction():
        settled = []
        for r in page["results"]:
            cur = st.db.execute("UPDATE outbox SET status = ?, reason = ?, result_seq = ? WHERE mutation_id = ?",
                                (r["status"], r["reason"], r["seq"], r["mutation_id"]))
            if cur.rowcount:
                settled.append(r["mutation_id"])
                if r["status"] == "rejected":
                    rejected.append(r)
        keys, names = pending_targets(st, settled)
        for i in range(0, len(settled), 500):
            part = settled[i:i + 500]
            marks = ", ".join("?" * len(part))
            st.db.execute(f"DELETE FROM events WHERE server_seq IS NULL AND mutation_id IN ({marks})", part)
            st.db.execute(f"DELETE FROM outbox WHERE status = 'applied' AND mutation_id IN ({marks})", part)
        new = 0
        for d in page["events"]:
            e = Event(**d)
            cur = st.db.execute(
                "INSERT OR IGNORE INTO events (id, mutation_id, ticket, type, payload, actor, device, device_seq, at, server_seq)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (e.id, e.mutation_id, e.ticket, e.type, json.dumps(e.payload, separators=(",", ":"), sort_keys=True),
                 e.actor, e.device, e.device_seq, e.at, e.server_seq))
            new += cur.rowcount
            if e.ticket is None:
                names.add(e.payload["name"])
            else:
                keys.add(e.ticket)
        refold(st, cfg, keys, names)
        st.set_meta(CURSOR, str(page["cursor"]))
    return new, rejected

"""``ServerStore``: the team's state inside one writing transaction, as the
services see a store (``store.protocol``).

The services (``ticketctl.services``) were written against the local
``Store``; the server runs the very same functions, so ``ServerStore``
implements the part of that interface a mutation uses (see
``services.mutations``) over SQLAlchemy Core, on SQLite or PostgreSQL alike.
Two things differ on purpose:

- ``take_counter("next_device_seq", n)`` reserves ``n`` numbers of the global
  sequence, so an event's ``device_seq`` is its ``server_seq``;
  ``meta("device_id")`` is the name of the device whose mutation runs.
- there are no history spans on the server (``put_spans`` and ``close_span``
  do nothing): every client folds its own from the events it pulls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text

from ticketctl.core.approvals import Delegation
from ticketctl.core.kb import Article
from ticketctl.core.model import Event, Technician, Ticket, resolve_key
from ticketctl.errors import NotFound
from ticketctl.server import schema as S
from ticketctl.server.store.engine import SEQ_CHANNEL, high_water


def compact_json(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


def ticket_from_json(text: str) -> Ticket:
    return Ticket(**json.loads(text))


def tech_from_json(text: str) -> Technician:
    return Technician(**json.loads(text))


# statements built once: SQLAlchemy then only binds (building a select() per call
# cost more than running it)
_TICKET = text("SELECT data FROM tickets WHERE key = :key")
_TICKETS = text("SELECT key, data FROM tickets WHERE key IN :keys").bindparams(bindparam("keys", expanding=True))
_UPDATE_TICKET = text("UPDATE tickets SET status = :status, assignee = :assignee, updated_at = :updated_at, data = :data,"
                      " seq = :seq WHERE key = :key")
_INSERT_TICKET = text("INSERT INTO tickets (key, status, assignee, updated_at, data, seq)"
                      " VALUES (:key, :status, :assignee, :updated_at, :data, :seq)")
_LOAD = text("SELECT count(*) FROM tickets WHERE assignee = :name AND status IN :held").bindparams(bindparam("held", expanding=True))
_LOADS = text("SELECT assignee, count(*) FROM tickets WHERE assignee IS NOT NULL AND status IN :held GROUP BY assignee"
              ).bindparams(bindparam("held", expanding=True))
_TECH = text("SELECT data FROM technicians WHERE name = :name")
_UPDATE_TECH = text("UPDATE technicians SET data = :data, seq = :seq WHERE name = :name")
_INSERT_TECH = text("INSERT INTO technicians (name, data, seq) VALUES (:name, :data, :seq)")
_ARTICLE = text("SELECT data FROM articles WHERE id = :id")
_UPDATE_ARTICLE = text("UPDATE articles SET status = :status, public = :public, updated_at = :updated_at, data = :data,"
                       " seq = :seq WHERE id = :id")
_INSERT_ARTICLE = text("INSERT INTO articles (id, status, public, updated_at, data, seq)"
                       " VALUES (:id, :status, :public, :updated_at, :data, :seq)")
_UPDATE_DELEGATION = text("UPDATE delegations SET data = :data, seq = :seq WHERE name = :name")
_INSERT_DELEGATION = text("INSERT INTO delegations (name, data, seq) VALUES (:name, :data, :seq)")
_INSERT_EVENT = text("INSERT INTO events (seq, id, mutation_id, ticket, type, payload, actor, device, at)"
                     " VALUES (:seq, :id, :mutation_id, :ticket, :type, :payload, :actor, :device, :at)")
_EVENT_NUMBERS = text("SELECT id, seq FROM events WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
_SET_SEQ = text("UPDATE counters SET value = :value WHERE name = 'seq'")
_NOTIFY = text("SELECT pg_notify(:channel, :value)")


class ServerStore:
    """The team's state inside one writing transaction, as the services see a
    ``Store``. ``device`` is the device whose mutations run.

    Writes are buffered and reads see them: a whole pushed batch reaches the
    database in a few ``executemany`` calls at :meth:`flush` (one round trip
    each on PostgreSQL, instead of several per mutation), and a refused
    mutation is undone by dropping what it buffered (:meth:`mark`,
    :meth:`restore`), without a database savepoint. Counts by assignee and
    status (the capacity rule) are the database's, corrected for the buffered
    tickets. The sequence is held in memory while the transaction holds its
    lock and written by :meth:`flush`."""

    def __init__(self, conn: Connection, device: str, prefix: str = ""):
        self.c = conn
        self.device = device
        self.prefix = prefix
        self.seq = high_water(conn)
        self._told = self.seq  # the high-water mark the waiting pulls were last told of (PostgreSQL)
        self._orig: dict[str, Ticket | None] = {}  # as the database holds them
        self._cur: dict[str, Ticket | None] = {}   # with this batch's changes
        self._torig: dict[str, Technician | None] = {}
        self._tcur: dict[str, Technician | None] = {}
        self._aorig: dict[str, Article | None] = {}
        self._acur: dict[str, Article | None] = {}
        self._dcur: dict[str, Delegation | None] | None = None  # every delegation, read on first use
        self._dnew: dict[str, Delegation | None] = {}
        self._events: list[dict[str, Any]] = []
        self._undo: list[tuple[dict[str, Any], str, Any]] = []

    def mark(self) -> tuple[int, int, int]:
        """Where a mutation starts (see :meth:`restore`)."""
        return self.seq, len(self._events), len(self._undo)

    def restore(self, mark: tuple[int, int, int]) -> None:
        """Forget what a refused mutation did: its sequence numbers, events and changes."""
        self.seq, n_events, n_undo = mark
        del self._events[n_events:]
        while len(self._undo) > n_undo:
            where, key, before = self._undo.pop()
            where[key] = before

    def escalations(self) -> list[dict[str, Any]]:
        """The buffered ``ticket.escalated`` events (ticket, at, payload), for the outbox (``server.jobs``)."""
        return [{"ticket": e["ticket"], "at": e["at"], "payload": json.loads(e["payload"])}
                for e in self._events if e["type"] == "ticket.escalated"]

    def flush(self) -> None:
        """Write the buffered events, tickets, technicians and the sequence
        counter (before the transaction commits)."""
        if self._events:
            self.c.execute(_INSERT_EVENT, self._events)
        self._write(_INSERT_TICKET, _UPDATE_TICKET, self._orig, self._cur, self._ticket_row)
        self._write(_INSERT_TECH, _UPDATE_TECH, self._torig, self._tcur, self._tech_row)
        self._write(_INSERT_ARTICLE, _UPDATE_ARTICLE, self._aorig, self._acur, self._article_row)
        for d in (d for d in self._dnew.values() if d is not None):  # a refused mutation's undo leaves None
            row = {"name": d.name, "data": compact_json(vars(d)), "seq": self.seq}
            if self.c.execute(_UPDATE_DELEGATION, row).rowcount == 0:
                self.c.execute(_INSERT_DELEGATION, row)
        self._dnew.clear()
        self._events.clear()
        self._undo.clear()
        self.c.execute(_SET_SEQ, {"value": self.seq})
        if self.seq > self._told and self.c.dialect.name == "postgresql":  # delivered when the transaction commits
            self.c.execute(_NOTIFY, {"channel": SEQ_CHANNEL, "value": str(self.seq)})
            self._told = self.seq

    def _write(self, new: Any, upd: Any, orig: dict[str, Any], cur: dict[str, Any], row: Any) -> None:
        """Insert the new rows and update the changed ones of one buffered table."""
        changed = [k for k, v in cur.items() if v is not orig.get(k) and v is not None]
        inserts = [row(cur[k]) for k in changed if orig.get(k) is None]
        updates = [row(cur[k]) for k in changed if orig.get(k) is not None]
        if inserts:
            self.c.execute(new, inserts)
        if updates:
            self.c.execute(upd, updates)
        orig.update((k, cur[k]) for k in changed)

    def _ticket_row(self, t: Ticket) -> dict[str, Any]:
        return {"key": t.key, "status": t.status, "assignee": t.assignee, "updated_at": t.updated_at, "data": compact_json(vars(t)),
                "seq": self.seq}

    def _tech_row(self, t: Technician) -> dict[str, Any]:
        return {"name": t.name, "data": compact_json(vars(t)), "seq": self.seq}

    def _article_row(self, a: Article) -> dict[str, Any]:
        return {"id": a.id, "status": a.status, "public": int(a.public), "updated_at": a.updated_at, "data": compact_json(vars(a)),
                "seq": self.seq}

    def _set(self, where: dict[str, Any], key: str, value: Any) -> None:
        self._undo.append((where, key, where.get(key)))
        where[key] = value

    # -- transactions, meta, counters -------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[ServerStore]:
        """Already inside the server's transaction (see :meth:`mark`)."""
        yield self

    def meta(self, key: str, default: str | None = None) -> str:
        if key == "device_id":
            return self.device
        if key == "key_prefix":
            return self.prefix
        if default is None:
            raise KeyError(key)
        return default

    def take_counter(self, key: str, n: int = 1) -> int:
        """``next_device_seq``: ``n`` numbers of the global sequence (the first)."""
        if key != "next_device_seq":
            raise KeyError(f"the server has no counter {key!r}")
        first = self.seq + 1
        self.seq += n
        return first

    def queue_mutation(self, mutation_id: str, name: str, args: dict[str, Any], at: str, actor: str) -> None:
        """Nothing to queue: the server is where mutations go (``store.protocol.MutationStore``)."""

    # -- tickets ----------------------------------------------------------------

    def resolve_key(self, text: str) -> str:
        """The ticket ``text`` names, by the rule every store follows
        (``core.model.resolve_key``), exact keys only: a device resolves ``N`` and
        prefixes against its own store before it queues, and the server never
        guesses (a miss costs one index lookup, whoever sends it)."""
        return resolve_key(text, "", self.has_ticket, lambda _q: [])

    def resolve_article(self, text: str) -> str:
        """The article ``text`` names: the exact id, spelled in any case."""
        article_id = text.strip().upper()
        if not self.has_article(article_id):
            raise NotFound(f"no article {text!r}")
        return article_id

    def _get(self, key: str) -> Ticket | None:
        if key not in self._cur:
            row = self.c.execute(_TICKET, {"key": key}).first()
            self._orig[key] = self._cur[key] = ticket_from_json(row[0]) if row is not None else None
        return self._cur[key]

    def preload(self, keys: Sequence[str]) -> None:
        """Read these tickets in a few queries, ahead of a bulk write that touches them all."""
        want = [k for k in dict.fromkeys(keys) if k not in self._cur]
        for i in range(0, len(want), 1000):
            part = want[i:i + 1000]
            found = {k: ticket_from_json(d) for k, d in self.c.execute(_TICKETS, {"keys": part})}
            for k in part:
                self._orig[k] = self._cur[k] = found.get(k)

    def has_ticket(self, key: str) -> bool:
        return self._get(key) is not None

    def ticket(self, key: str) -> Ticket:
        t = self._get(key)
        if t is None:
            raise NotFound(f"no ticket {key!r}")
        return t

    def put_ticket(self, t: Ticket) -> None:
        self.put_tickets([t])

    def put_tickets(self, ts: Sequence[Ticket]) -> None:
        for t in ts:
            self._get(t.key)
            self._set(self._cur, t.key, t)

    def _changed(self) -> list[tuple[Ticket | None, Ticket | None]]:
        return [(self._orig.get(k), v) for k, v in self._cur.items() if v is not self._orig.get(k)]

    def load(self, name: str, held: Sequence[str]) -> int:
        n = int(self.c.execute(_LOAD, {"name": name, "held": list(held)}).scalar_one())
        for before, after in self._changed():
            n += _holds(after, name, held) - _holds(before, name, held)
        return n

    def loads(self, held: Sequence[str]) -> dict[str, int]:
        out = {str(a): int(n) for a, n in self.c.execute(_LOADS, {"held": list(held)})}
        for before, after in self._changed():
            for t, d in ((before, -1), (after, 1)):
                if t is not None and t.assignee and t.status in held:
                    out[t.assignee] = out.get(t.assignee, 0) + d
        return {k: v for k, v in out.items() if v}

    def last_active(self) -> dict[str, str]:
        q = select(S.tickets.c.assignee, func.max(S.tickets.c.updated_at)).where(
            S.tickets.c.assignee.is_not(None)).group_by(S.tickets.c.assignee)
        out = {str(a): str(t) for a, t in self.c.execute(q)}
        for _before, after in self._changed():
            if after is not None and after.assignee:
                out[after.assignee] = max(out.get(after.assignee, ""), after.updated_at)
        return out

    # -- technicians ------------------------------------------------------------

    def _tget(self, name: str) -> Technician | None:
        if name not in self._tcur:
            row = self.c.execute(_TECH, {"name": name}).first()
            self._torig[name] = self._tcur[name] = tech_from_json(row[0]) if row is not None else None
        return self._tcur[name]

    def tech(self, name: str) -> Technician:
        t = self._tget(name)
        if t is None:
            raise NotFound(f"no technician {name!r}")
        return t

    def has_tech(self, name: str) -> bool:
        return self._tget(name) is not None

    def techs(self) -> list[Technician]:
        rows = {t.name: t for t in (tech_from_json(r[0]) for r in self.c.execute(select(S.technicians.c.data)))}
        rows.update((k, v) for k, v in self._tcur.items() if v is not None)
        return [rows[k] for k in sorted(rows)]

    def put_tech(self, t: Technician) -> None:
        self.put_techs([t])

    def put_techs(self, ts: Sequence[Technician]) -> None:
        for t in ts:
            self._tget(t.name)
            self._set(self._tcur, t.name, t)

    # -- knowledge articles -----------------------------------------------------

    def _aget(self, article_id: str) -> Article | None:
        if article_id not in self._acur:
            row = self.c.execute(_ARTICLE, {"id": article_id}).first()
            self._aorig[article_id] = self._acur[article_id] = Article(**json.loads(row[0])) if row is not None else None
        return self._acur[article_id]

    def has_article(self, article_id: str) -> bool:
        return self._aget(article_id) is not None

    def article(self, article_id: str) -> Article:
        a = self._aget(article_id)
        if a is None:
            raise NotFound(f"no article {article_id!r}")
        return a

    def put_article(self, a: Article) -> None:
        self._aget(a.id)
        self._set(self._acur, a.id, a)

    # -- approval delegations ---------------------------------------------------

    def delegations(self) -> dict[str, Delegation]:
        if self._dcur is None:
            rows = self.c.execute(select(S.delegations.c.name, S.delegations.c.data))
            self._dcur = {r[0]: Delegation(**json.loads(r[1])) for r in rows}
        return {k: v for k, v in self._dcur.items() if v is not None}

    def put_delegation(self, d: Delegation) -> None:
        current = self.delegations()
        assert self._dcur is not None
        self._undo.append((self._dcur, d.name, current.get(d.name)))
        self._undo.append((self._dnew, d.name, self._dnew.get(d.name)))
        self._dcur[d.name] = d
        self._dnew[d.name] = d

    # -- spans: the server keeps none --------------------------------------------

    def put_spans(self, rows: Sequence[tuple[Any, ...]]) -> None:
        pass

    def close_span(self, key: str, at: str) -> None:
        pass

    # -- events -----------------------------------------------------------------

    def put_events(self, evs: Sequence[Event]) -> None:
        self._events.extend(
            {"seq": e.device_seq, "id": e.id, "mutation_id": e.mutation_id, "ticket": e.ticket, "type": e.type,
             "payload": compact_json(e.payload), "actor": e.actor, "device": e.device, "at": e.at}
            for e in evs)

    def event_numbers(self, ids: Sequence[str]) -> dict[str, int]:
        """The sequence number of each of these events the server has, by id (written ones only)."""
        out: dict[str, int] = {}
        for i in range(0, len(ids), 900):
            out.update((str(r[0]), int(r[1])) for r in self.c.execute(_EVENT_NUMBERS, {"ids": list(ids[i:i + 900])}))
        return out

    def events(self, ticket: str | None = None) -> Iterator[Event]:
        q = select(S.events).order_by(S.events.c.seq)
        if ticket is not None:
            q = q.where(S.events.c.ticket == ticket)
        for r in self.c.execute(q).mappings():
            yield event_from_server_row(r)
        for row in self._events:
            if ticket is None or row["ticket"] == ticket:
                yield event_from_server_row(row)


def _holds(t: Ticket | None, name: str, held: Sequence[str]) -> int:
    return int(t is not None and t.assignee == name and t.status in held)


def event_from_server_row(r: Any) -> Event:
    return Event(id=r["id"], mutation_id=r["mutation_id"], ticket=r["ticket"], type=r["type"], payload=json.loads(r["payload"]),
                 actor=r["actor"], device=r["device"], device_seq=int(r["seq"]), at=r["at"], server_seq=int(r["seq"]))

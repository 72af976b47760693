"""What applying the server's answers writes here (``sync.replica``): a snapshot
replacing the confirmed history, and a pulled page's events and results.

Each method runs inside the caller's transaction; ``sync.replica`` then folds
again what they touched (``store.replay``) and moves the cursor in the same
transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import MISSING, fields
from typing import Any

from ticketctl.core.approvals import Delegation
from ticketctl.core.kb import Article
from ticketctl.core.model import Event, Technician, Ticket
from ticketctl.i18n import _
from ticketctl.store.columns import JSON_COLUMNS
from ticketctl.store.part import Part
from ticketctl.store.rows import TICKET_COLUMNS

CHUNK = 500


class BadSnapshot(ValueError):
    """The server's snapshot body is not a snapshot this version can read."""


def _compact(d: dict[str, Any]) -> str:
    return json.dumps(d, separators=(",", ":"))


def _ticket_select() -> tuple[str, dict[str, Any]]:
    """``SELECT`` of ticket rows (``TICKET_COLUMNS`` order) from ``bases.data``,
    done by SQLite's JSON functions: a JSON column as its JSON text (``->``:
    the server's text is sorted and compact, as ``store.rows.encode`` writes
    it), any other as its value (``->>``); a missing field takes the
    dataclass default, as ``Ticket(**data)`` would."""
    cols, params = [], {}
    for f in fields(Ticket):
        expr = f"data -> '$.{f.name}'" if f.name in JSON_COLUMNS["tickets"] else f"data ->> '$.{f.name}'"
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        if default is not MISSING and default is not None:
            params[f.name] = _encode_default(f.name, default)
            expr = f"COALESCE({expr}, :{f.name})"
        cols.append(expr)
    return f"SELECT {', '.join(cols)} FROM bases WHERE kind = 'ticket'", params


def _encode_default(name: str, value: Any) -> Any:
    return json.dumps(value, separators=(",", ":"), sort_keys=True) if name in JSON_COLUMNS["tickets"] else value


class Mirror(Part):
    """Writes of the server's state (``st.mirror``)."""

    def snapshot_head(self, text: str) -> tuple[Any, Any, Any, Any, Any]:
        """``epoch``, ``seq`` and the ``technicians``, ``articles`` and
        ``delegations`` JSON texts of a snapshot body, read by SQLite (a body not
        laid out as the server writes it). Raises :class:`BadSnapshot` when it is
        not JSON."""
        try:
            row = self.db.execute(
                "SELECT ?1 ->> '$.epoch', ?1 ->> '$.seq', ?1 -> '$.technicians', ?1 -> '$.articles', ?1 -> '$.delegations'",
                (text,)).fetchone()
        except sqlite3.Error as e:
            raise BadSnapshot(_("not a snapshot: {error}").format(error=e)) from None
        return tuple(row)  # type: ignore[return-value]

    def load_snapshot(self, text: str, techs: Sequence[Technician], articles: Sequence[Article],
                      delegations: Sequence[Delegation], sent: dict[str, Sequence[dict[str, Any]]]) -> int:
        """Replace the confirmed history and every projection with a snapshot
        body's: its tickets (``text``), and its technicians, articles and
        delegations, already read from it, with ``sent`` holding each kind's
        dicts as the server sent them (``technician``, ``article``,
        ``delegation``: they become the bases). Pending events stay, for the
        caller to fold on top. Returns the number of tickets. Raises
        :class:`BadSnapshot` when the tickets are not JSON this version reads
        (the caller's transaction then rolls everything back).

        SQLite reads the body (no Python object per ticket): each ticket's JSON
        text, as the server sent it, becomes its base, and the ticket's row is
        read from that base. The ticket and span indexes are dropped and made
        again inside the transaction (one sort each instead of 100k scattered
        inserts); a rollback brings them back with everything else."""
        db, st = self.db, self.store
        select, defaults = _ticket_select()
        indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                             " AND tbl_name IN ('tickets', 'spans') AND sql IS NOT NULL").fetchall()
        for name, _sql in indexes:
            db.execute(f'DROP INDEX "{name}"')
        for table in ("tickets", "technicians", "articles", "delegations", "spans", "bases"):
            db.execute(f"DELETE FROM {table}")
        db.execute("DELETE FROM events WHERE server_seq IS NOT NULL")
        try:  # SQLite parses the whole body here: malformed JSON rolls everything back
            n = db.execute("INSERT INTO bases (kind, name, data) SELECT 'ticket', value ->> '$.key', value"
                           " FROM json_each(?, '$.tickets')", (text,)).rowcount
            first = db.execute("SELECT data FROM bases WHERE kind = 'ticket' LIMIT 1").fetchone()
            if first is not None:
                Ticket(**json.loads(first[0]))  # fields this version does not know are refused, as a fold would refuse them
        except (sqlite3.OperationalError, TypeError) as e:
            raise BadSnapshot(_("not a snapshot: {error}").format(error=e)) from None
        db.executemany("INSERT INTO bases (kind, name, data) VALUES ('technician', ?, ?)",
                       [(d["name"], _compact(d)) for d in sent["technician"]])
        db.execute(f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)}) {select}", defaults)
        st.put_techs(techs)
        db.executemany("INSERT INTO bases (kind, name, data) VALUES ('article', ?, ?)",
                       [(d["id"], _compact(d)) for d in sent["article"]])
        st.put_articles(articles)
        db.executemany("INSERT INTO bases (kind, name, data) VALUES ('delegation', ?, ?)",
                       [(d["name"], _compact(d)) for d in sent["delegation"]])
        for d in delegations:
            st.put_delegation(d)
        # each ticket's one open span, from its status_since (core.model.span_row)
        db.execute("INSERT INTO spans (ticket, from_at, to_at, status, dept, product, fault, created_at)"
                   " SELECT key, COALESCE(NULLIF(status_since, ''), created_at), NULL, status, dept, product, fault,"
                   " created_at FROM tickets")
        for _name, sql in indexes:
            db.execute(sql)
        return n

    # -- a pulled page ----------------------------------------------------------------------

    def provisional_events(self, mutation_ids: Iterable[str] | None = None) -> list[tuple[str | None, str, str]]:
        """(ticket, type, payload as JSON text) of this device's events the
        server has not confirmed, of the given mutations or all."""
        sql = "SELECT ticket, type, payload FROM events WHERE server_seq IS NULL"
        if mutation_ids is None:
            return self.db.execute(sql).fetchall()
        ids = list(mutation_ids)
        rows: list[tuple[str | None, str, str]] = []
        for i in range(0, len(ids), CHUNK):
            part = ids[i:i + CHUNK]
            rows += self.db.execute(f"{sql} AND mutation_id IN ({', '.join('?' * len(part))})", part).fetchall()
        return rows

    def replace_provisional(self, mutation_ids: Sequence[str]) -> None:
        """Drop the events these settled mutations made here (the server's own,
        if it applied them, arrive in the page) and their outbox rows if applied
        (a rejected row stays, for ``sync status``)."""
        for i in range(0, len(mutation_ids), CHUNK):
            part = list(mutation_ids[i:i + CHUNK])
            marks = ", ".join("?" * len(part))
            self.db.execute(f"DELETE FROM events WHERE server_seq IS NULL AND mutation_id IN ({marks})", part)
            self.db.execute(f"DELETE FROM outbox WHERE status = 'applied' AND mutation_id IN ({marks})", part)

    def known_events(self, ids: Sequence[str]) -> set[str]:
        """Which of these event ids this store already holds."""
        have: set[str] = set()
        for i in range(0, len(ids), CHUNK):
            part = list(ids[i:i + CHUNK])
            have |= {x for (x,) in self.db.execute(f"SELECT id FROM events WHERE id IN ({', '.join('?' * len(part))})", part)}
        return have

    def add_pulled(self, events: Sequence[Event]) -> None:
        """The server's events, with their ``server_seq`` (one already here is skipped)."""
        self.db.executemany(
            "INSERT OR IGNORE INTO events (id, mutation_id, ticket, type, payload, actor, device, device_seq, at, server_seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(e.id, e.mutation_id, e.ticket, e.type, json.dumps(e.payload, separators=(",", ":"), sort_keys=True), e.actor,
              e.device, e.device_seq, e.at, e.server_seq) for e in events])

    def confirm_events(self, seqs: Iterable[tuple[int, str]]) -> None:
        """Events of this store the server confirmed, as (server_seq, id); one
        already confirmed keeps its number."""
        self.db.executemany("UPDATE events SET server_seq = ? WHERE id = ? AND server_seq IS NULL", seqs)

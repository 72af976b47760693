"""The sync outbox: this device's mutations on their way to the server, and
the history it wrote outside mutations (an import, ``demo``) that the team
has not seen yet (``docs/sync.md``).

One row's life (``status``)::

    queue ──> pending ──number_pending──> sent (client_seq) ──results──> applied | rejected
                 ^                          │                                   │
                 └──── renumber (a new or restored server) ─────────────────────┘
    applied: removed once the pulled page carrying its result is applied
             (``Mirror.replace_provisional``); rejected: kept until retried or discarded

A row's ``args`` is the mutation's arguments as compact, sorted JSON text;
readers get them decoded, except :meth:`Outbox.to_push`, whose callers pack
requests by the text's size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from ticketctl.store.part import Part

#: events this store has not had confirmed that no queued mutation made: history written directly
_UNSHARED = "server_seq IS NULL AND mutation_id NOT IN (SELECT mutation_id FROM outbox)"


class Queued(NamedTuple):
    """One outbox row not yet applied, as ``sync status`` lists it."""

    id: int
    mutation_id: str
    name: str
    args: dict[str, Any]
    created_at: str
    actor: str
    client_seq: int | None
    status: str
    reason: str | None


class Outbox(Part):
    """The outbox table (``st.outbox``)."""

    def queue(self, mutation_id: str, name: str, args: dict[str, Any], at: str, actor: str) -> None:
        """A new pending row (inside the transaction that wrote the mutation's events)."""
        self.db.execute(
            "INSERT INTO outbox (mutation_id, name, args, created_at, actor, status) VALUES (?, ?, ?, ?, ?, 'pending')",
            (mutation_id, name, json.dumps(args, separators=(",", ":"), sort_keys=True), at, actor))

    def count_pending(self) -> int:
        """Rows queued and not yet numbered for a push."""
        return int(self.db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])

    def number_pending(self, first: int) -> int:
        """Give the pending rows, oldest first, the push order ``first``, ``first
        + 1``, ... (they become ``sent``); returns how many were numbered."""
        ids = [r[0] for r in self.db.execute("SELECT id FROM outbox WHERE status = 'pending' ORDER BY id")]
        self.db.executemany("UPDATE outbox SET client_seq = ?, status = 'sent' WHERE id = ?",
                            [(first + i, rid) for i, rid in enumerate(ids)])
        return len(ids)

    def renumber_unconfirmed(self) -> None:
        """Every sent or applied row back to pending, without a number (a new
        server, or one restored from a backup: it is numbered again)."""
        self.db.execute("UPDATE outbox SET client_seq = NULL, status = 'pending' WHERE status IN ('sent', 'applied')")

    def to_push(self, after: int, limit: int) -> list[tuple[str, int, str, str, str]]:
        """Sent rows numbered after ``after``, in push order, at most ``limit``:
        (mutation_id, client_seq, name, args as JSON text, created_at)."""
        return self.db.execute(
            "SELECT mutation_id, client_seq, name, args, created_at FROM outbox WHERE status = 'sent' AND client_seq > ?"
            " ORDER BY client_seq LIMIT ?", (after, limit)).fetchall()

    def has_sent(self, client_seq: int) -> bool:
        """Whether a sent row holds this number."""
        return self.db.execute("SELECT 1 FROM outbox WHERE status = 'sent' AND client_seq = ?",
                               (client_seq,)).fetchone() is not None

    def note_results(self, results: Sequence[dict[str, Any]]) -> None:
        """The server's answers to a push (``status``, ``reason``, ``seq`` by
        ``mutation_id``), on the rows still marked sent."""
        self.db.executemany(
            "UPDATE outbox SET status = ?, reason = ?, result_seq = ? WHERE mutation_id = ? AND status = 'sent'",
            [(r["status"], r["reason"], r["seq"], r["mutation_id"]) for r in results])

    def settle(self, results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Results a pulled page carries, noted on their rows whatever their
        state; returns those of this device's mutations (a row was found)."""
        out = []
        for r in results:
            cur = self.db.execute("UPDATE outbox SET status = ?, reason = ?, result_seq = ? WHERE mutation_id = ?",
                                  (r["status"], r["reason"], r["seq"], r["mutation_id"]))
            if cur.rowcount:
                out.append(r)
        return out

    def blob_args(self) -> Iterator[dict[str, Any]]:
        """The arguments of the sent rows that may name an evidence file (``sha256``)."""
        for (args,) in self.db.execute("SELECT args FROM outbox WHERE status = 'sent' AND args LIKE '%sha256%'").fetchall():
            yield json.loads(args)

    def of_mutation(self, mutation_id: str) -> tuple[int, str, dict[str, Any]] | None:
        """(row id, name, args) of the row of this mutation, if there is one."""
        row = self.db.execute("SELECT id, name, args FROM outbox WHERE mutation_id = ?", (mutation_id,)).fetchone()
        return None if row is None else (row[0], row[1], json.loads(row[2]))

    def row(self, rid: int) -> tuple[str, str, dict[str, Any], str] | None:
        """(mutation_id, name, args, status) of row ``rid``, if there is one."""
        row = self.db.execute("SELECT mutation_id, name, args, status FROM outbox WHERE id = ?", (rid,)).fetchone()
        return None if row is None else (row[0], row[1], json.loads(row[2]), row[3])

    def unsettled(self) -> list[Queued]:
        """Every row not applied yet (pending, sent, rejected), oldest first."""
        rows = self.db.execute("SELECT id, mutation_id, name, args, created_at, actor, client_seq, status, reason FROM outbox"
                               " WHERE status != 'applied' ORDER BY id").fetchall()
        return [Queued(rid, mid, name, json.loads(args), at, actor, cseq, state, reason)
                for rid, mid, name, args, at, actor, cseq, state, reason in rows]

    def remove(self, rid: int) -> None:
        """Drop row ``rid`` (its events stay: a retried change made new ones)."""
        self.db.execute("DELETE FROM outbox WHERE id = ?", (rid,))

    def discard(self, rid: int, mutation_id: str) -> None:
        """Drop row ``rid`` and the events its mutation made here that the server
        never confirmed (the caller folds what they touched again)."""
        self.db.execute("DELETE FROM events WHERE server_seq IS NULL AND mutation_id = ?", (mutation_id,))
        self.db.execute("DELETE FROM outbox WHERE id = ?", (rid,))

    # -- history written outside mutations --------------------------------------------

    def has_unshared_history(self) -> bool:
        """Whether any event was written here outside a mutation and never confirmed."""
        return self.db.execute(f"SELECT 1 FROM events WHERE {_UNSHARED} LIMIT 1").fetchone() is not None

    def unshared_history_ids(self) -> list[str]:
        """The ids of those events."""
        return [r[0] for r in self.db.execute(f"SELECT id FROM events WHERE {_UNSHARED}")]

    def unshared_history(self, after: int, limit: int) -> list[tuple[int, str, str, str | None, str, str, str, str, str]]:
        """Up to ``limit`` of those events after local ``seq`` ``after``, in order:
        (seq, id, mutation_id, ticket, type, payload as JSON text, actor, device, at)."""
        return self.db.execute(
            f"SELECT seq, id, mutation_id, ticket, type, payload, actor, device, at FROM events WHERE {_UNSHARED}"
            " AND seq > ? ORDER BY seq LIMIT ?", (after, limit)).fetchall()

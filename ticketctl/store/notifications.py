"""The webhook notification outbox (``services.notify``): rows queued with an
escalation, in its transaction, and their delivery outcomes.

A row is (created_at, target, url, body, ticket, rule, status, attempts,
next_attempt_at, last_error, sent_at); ``status`` is pending, sent or failed.
Outcomes are written only on rows still pending (a second deliverer that
already finished a row is not overwritten).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ticketctl.store.part import Part

_INSERT = (
    "INSERT INTO notifications (created_at, target, url, body, ticket, rule, status, attempts, next_attempt_at)"
    " VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)"
)
#: the columns of :meth:`Notifications.listing`
PUBLIC = "id, created_at, target, rule, ticket, status, attempts, last_error, next_attempt_at, sent_at"

#: a row to queue: (created_at, target, url, body, ticket, rule, next_attempt_at)
NewRow = tuple[str, str, str, str, str | None, str, str]


class Notifications(Part):
    """The notifications table (``st.notifications``)."""

    def enqueue(self, rows: Sequence[NewRow]) -> None:
        """Queue pending rows (inside the caller's transaction)."""
        self.db.executemany(_INSERT, rows)

    def enqueue_one(self, row: NewRow) -> int:
        """Queue one pending row; its id."""
        return int(self.db.execute(_INSERT, row).lastrowid or 0)

    def count_pending(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM notifications WHERE status = 'pending'").fetchone()[0])

    def due(self, now: str | None, ids: Sequence[int] | None = None) -> list[tuple[int, str, str, str, int]]:
        """Pending rows due at ``now`` (every pending row for None), only
        ``ids`` if given, oldest first: (id, target, url, body, attempts)."""
        sql = "SELECT id, target, url, body, attempts FROM notifications WHERE status = 'pending'"
        params: list[Any] = []
        if now is not None:
            sql += " AND next_attempt_at <= ?"
            params.append(now)
        if ids is not None:
            sql += f" AND id IN ({', '.join('?' * len(ids))})"
            params.extend(ids)
        return self.db.execute(sql + " ORDER BY id", params).fetchall()

    def mark_sent(self, nid: int, attempts: int, at: str, reason: str) -> None:
        """Delivered after ``attempts`` tries in all; ``reason``: why an earlier
        try of this run failed ('' if none), kept as the last error."""
        self.db.execute(
            "UPDATE notifications SET status = 'sent', attempts = ?, sent_at = ?, last_error = coalesce(nullif(?, ''), last_error)"
            " WHERE id = ? AND status = 'pending'", (attempts, at, reason, nid))

    def mark_failed(self, nid: int, attempts: int | None = None, reason: str | None = None) -> None:
        """Given up on (with its tries and last error, when given)."""
        if attempts is None:
            self.db.execute("UPDATE notifications SET status = 'failed' WHERE id = ? AND status = 'pending'", (nid,))
        else:
            self.db.execute("UPDATE notifications SET status = 'failed', attempts = ?, last_error = ? WHERE id = ?"
                            " AND status = 'pending'", (attempts, reason, nid))

    def retry_later(self, nid: int, attempts: int, reason: str, at: str) -> None:
        """Not delivered this run: tried again from ``at``."""
        self.db.execute("UPDATE notifications SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?"
                        " AND status = 'pending'", (attempts, reason, at, nid))

    def listing(self, statuses: Sequence[str] | None = None, limit: int | None = None) -> list[tuple[Any, ...]]:
        """Rows (the ``PUBLIC`` columns), newest first; only ``statuses`` if given."""
        sql = f"SELECT {PUBLIC} FROM notifications"
        params: list[Any] = []
        if statuses:
            sql += f" WHERE status IN ({', '.join('?' * len(statuses))})"
            params.extend(statuses)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self.db.execute(sql, params).fetchall()

    def row(self, nid: int) -> tuple[Any, ...]:
        """Row ``nid`` (the ``PUBLIC`` columns)."""
        return self.db.execute(f"SELECT {PUBLIC} FROM notifications WHERE id = ?", (nid,)).fetchone()

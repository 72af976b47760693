"""The team's webhook outbox (``notifications``): rows queued with the
escalations the server records, and their delivery outcomes, the server's
side of ``services.delivery.Outbox`` (``server.jobs`` delivers them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from ticketctl.server import schema as S

#: the most rows one delivery run reads (the rest wait for the next run)
DUE_MAX = 500
N = S.notifications.c


def queued(c: Connection, ticket: str, rule: str, target: str) -> bool:
    """Whether the notification of (ticket, rule with its round, target) is already in the outbox, whatever its status."""
    return c.execute(select(N.id).where(N.ticket == ticket, N.rule == rule, N.target == target)).first() is not None


def queue(c: Connection, at: str, target: str, url: str, body: str, ticket: str, rule: str) -> None:
    """Queue a pending row, due at once (inside the escalation's transaction)."""
    c.execute(insert(S.notifications).values(created_at=at, target=target, url=url, body=body, ticket=ticket, rule=rule,
                                             status="pending", attempts=0, next_attempt_at=at))


class ServerOutbox:
    """The server's outbox as ``services.delivery.Outbox``: each outcome in its own transaction."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def due(self, now: str | None, ids: Sequence[int] | None = None) -> list[tuple[int, str, str, str, int]]:
        q = select(N.id, N.target, N.url, N.body, N.attempts).where(N.status == "pending")
        if now is not None:
            q = q.where(N.next_attempt_at <= now)
        if ids is not None:
            q = q.where(N.id.in_(list(ids)))
        with self.engine.connect() as c:
            return [(int(i), str(t), str(u), str(b), int(a)) for i, t, u, b, a in c.execute(q.order_by(N.id).limit(DUE_MAX))]

    def _outcome(self, nid: int, **values: Any) -> None:
        with self.engine.begin() as c:
            c.execute(update(S.notifications).where(N.id == nid, N.status == "pending").values(**values))

    def mark_sent(self, nid: int, attempts: int, at: str, reason: str) -> None:
        values: dict[str, Any] = {"status": "sent", "attempts": attempts, "sent_at": at}
        if reason:
            values["last_error"] = reason
        self._outcome(nid, **values)

    def mark_failed(self, nid: int, attempts: int, reason: str) -> None:
        self._outcome(nid, status="failed", attempts=attempts, last_error=reason)

    def retry_later(self, nid: int, attempts: int, reason: str, at: str) -> None:
        self._outcome(nid, attempts=attempts, last_error=reason, next_attempt_at=at)

    def count_pending(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(S.notifications).where(N.status == "pending")).scalar_one())

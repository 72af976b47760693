"""The supervisors' reports over the projections (never a replay of events):
the morning brief (``services.report``), the backlog's age, blocked time and
trend (``services.report``), the heat map now or at a past moment
(``services.heatmap``) and the demo's summary (``services.demo``).

Each figure is one GROUP BY: "now" reads the tickets through the covering
index ``tickets_heat`` (status, dept, product, fault, created_at); a past
moment reads the spans, each ticket's history as stretches of (status, dept,
product, fault), through the partial covering index ``spans_open``. Times
are ISO-8601 UTC text, compared as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ticketctl.core.model import Ticket
from ticketctl.store.part import Part
from ticketctl.store.queries import OPEN_SQL

#: what a heat map may be keyed by (the spans hold all but channel)
HEAT_DIMENSIONS = ("dept", "product", "fault", "channel")
SPAN_DIMENSIONS = ("dept", "product", "fault")
#: a past moment's backlog: the spans open then (the text ``spans_open`` is declared with)
_SPANS_AT = f"spans WHERE from_at <= :at AND (to_at IS NULL OR to_at > :at) AND {OPEN_SQL}"


def _dimensions(by: Sequence[str], at: bool) -> str:
    allowed = SPAN_DIMENSIONS if at else HEAT_DIMENSIONS
    if not by or any(d not in allowed for d in by):
        raise ValueError(f"cannot group by {by!r}")
    return ", ".join(by)


class Reports(Part):
    """The reports' queries (``st.reports``)."""

    # -- the morning brief: open work waiting where it is since ``cutoff`` or earlier -------

    def count_open(self) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM tickets WHERE {OPEN_SQL}").fetchone()[0])

    def count_stuck(self, cutoff: str) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM tickets WHERE {OPEN_SQL} AND status_since <= ?",
                                   (cutoff,)).fetchone()[0])

    def stuck_kinds(self, cutoff: str, limit: int) -> list[tuple[str, str, str, int, str]]:
        """(type, product, fault, how many, oldest status_since), most first."""
        return self.db.execute(
            f"SELECT type, product, fault, count(*), min(status_since) FROM tickets WHERE {OPEN_SQL} AND status_since <= ?"
            " GROUP BY type, product, fault ORDER BY 4 DESC, 5, 1, 2, 3 LIMIT ?", (cutoff, limit)).fetchall()

    def waits_by_status(self, now: str) -> list[tuple[str, int, float, str]]:
        """Per open status: (status, how many, mean seconds in it until ``now``, oldest status_since)."""
        return self.db.execute(
            "SELECT status, count(*), avg((julianday(:now) - julianday(status_since)) * 86400), min(status_since) "
            f"FROM tickets WHERE {OPEN_SQL} GROUP BY status", {"now": now}).fetchall()

    def waits_by_dept(self, now: str) -> list[tuple[str, int, float]]:
        """Per department: (dept, open tickets in it since ``now`` or before, mean
        seconds they have waited in their status until ``now``), by department."""
        return self.db.execute(
            "SELECT dept, count(*), avg((julianday(:now) - julianday(since)) * 86400) FROM"
            f" (SELECT dept, COALESCE(NULLIF(status_since, ''), created_at) AS since FROM tickets WHERE {OPEN_SQL})"
            " WHERE since <= :now GROUP BY dept ORDER BY dept", {"now": now}).fetchall()

    def stuck_holders(self, cutoff: str, limit: int) -> list[tuple[str | None, int]]:
        """(assignee or None, stuck tickets held), most first."""
        return self.db.execute(f"SELECT assignee, count(*) FROM tickets WHERE {OPEN_SQL} AND status_since <= ?"
                               " GROUP BY assignee ORDER BY 2 DESC, 1 LIMIT ?", (cutoff, limit)).fetchall()

    def waiting_longest(self, cutoff: str, limit: int) -> list[tuple[str, str, str, str | None, str | None, str]]:
        """(key, title, status, blocked_reason, assignee, status_since), longest waiting first."""
        return self.db.execute(
            f"SELECT key, title, status, blocked_reason, assignee, status_since FROM tickets WHERE {OPEN_SQL}"
            " AND status_since <= ? ORDER BY status_since, key LIMIT ?", (cutoff, limit)).fetchall()

    # -- backlog views ------------------------------------------------------------------------

    def open_by_age(self, cuts: Mapping[int, str]) -> list[tuple[int, str, int]]:
        """Open tickets per (age bucket, status): bucket ``i`` is the highest
        of ``cuts`` whose time the ticket was created at or before (0 when none)."""
        params = {f"c{i}": cut for i, cut in cuts.items()}
        case = " ".join(f"WHEN created_at <= :c{i} THEN {int(i)}" for i in sorted(cuts, reverse=True))
        return self.db.execute(f"SELECT CASE {case} ELSE 0 END, status, count(*) FROM tickets WHERE {OPEN_SQL}"
                               " GROUP BY 1, 2", params).fetchall()

    def blocked_time(self, now: str) -> list[tuple[str, int, int, int]]:
        """Per block reason: (reason, tickets blocked for it at any time,
        blocked for it now, seconds: the finished blocks' plus the running
        ones' up to ``now``)."""
        return self.db.execute(
            """
            WITH parts(key, reason, secs, running) AS (
                SELECT t.key, j.key, j.value, 0 FROM tickets AS t, json_each(t.blocked_seconds) AS j
                WHERE t.blocked_seconds != '{}'
                UNION ALL
                SELECT key, blocked_reason,
                       max(CAST(round((julianday(:now) - julianday(blocked_since)) * 86400.0) AS INTEGER), 0), 1
                FROM tickets WHERE status = 'blocked' AND blocked_reason IS NOT NULL AND blocked_since IS NOT NULL
            )
            SELECT reason, count(DISTINCT key), sum(running), sum(secs) FROM parts GROUP BY reason""",
            {"now": now}).fetchall()

    def per_minute(self, column: str, start: str, end: str) -> list[tuple[str, int]]:
        """Tickets per minute (``YYYY-MM-DDTHH:MM``) of their ``created_at`` or
        ``closed_at`` in ``[start, end)``."""
        if column not in ("created_at", "closed_at"):
            raise ValueError(f"no trend of {column!r}")
        return self.db.execute(
            f"SELECT substr({column}, 1, 16), count(*) FROM tickets WHERE {column} >= :start AND {column} < :end GROUP BY 1",
            {"start": start, "end": end}).fetchall()

    def blocks_per_minute(self, reason: str, start: str, end: str) -> list[tuple[str, str]]:
        """(minute ``YYYY-MM-DDTHH:MM``, ticket) of each time a ticket became
        blocked for ``reason`` in ``[start, end)``, without repeats.

        A block opens a span whose status is ``blocked`` at the block's time
        (``core.workflow.fold``): the spans started in the window are found
        through ``spans_open`` (by ``from_at``), and each one's reason in the
        ``ticket.blocked`` event of that ticket at that moment (``events_ticket``).
        A span opened while blocked (a transfer) has no such event and is not a block."""
        return self.db.execute(
            "SELECT DISTINCT substr(s.from_at, 1, 16), s.ticket FROM spans AS s"
            " JOIN events AS e ON e.ticket = s.ticket AND e.at = s.from_at"
            f" WHERE s.from_at >= :start AND s.from_at < :end AND s.status = 'blocked' AND s.{OPEN_SQL}"
            " AND e.type = 'ticket.blocked' AND json_extract(e.payload, '$.reason') = :reason",
            {"start": start, "end": end, "reason": reason}).fetchall()

    # -- the heat map -----------------------------------------------------------------------

    def heat(self, by: Sequence[str], cut: str, at: str | None = None) -> list[tuple[Any, ...]]:
        """The backlog now (``at`` None) or at ``at`` per cell of ``by``: the
        cell's values, how many, how many created at or before ``cut``, the
        oldest creation; most first."""
        cols = _dimensions(by, at is not None)
        source = f"tickets WHERE {OPEN_SQL}" if at is None else _SPANS_AT
        return self.db.execute(
            f"SELECT {cols}, count(*), sum(created_at <= :cut), min(created_at) FROM {source} GROUP BY {cols} "
            f"ORDER BY {len(by) + 1} DESC, {cols}", {"at": at, "cut": cut}).fetchall()

    def oldest_backlog(self, cut: str, limit: int, at: str | None = None) -> list[tuple[str, str, str, str, str, str]]:
        """The backlog tickets (now, or at ``at``) created at or before ``cut``,
        oldest first: (key, status, dept, product, fault, created_at)."""
        params = {"at": at, "cut": cut, "limit": limit}
        if at is None:
            sql = (f"SELECT key, status, dept, product, fault, created_at FROM tickets WHERE {OPEN_SQL}"
                   " AND created_at <= :cut ORDER BY created_at, key LIMIT :limit")
        else:
            sql = (f"SELECT ticket, status, dept, product, fault, created_at FROM {_SPANS_AT} AND created_at <= :cut"
                   " ORDER BY created_at, ticket LIMIT :limit")
        return self.db.execute(sql, params).fetchall()

    # -- the demo's summary ---------------------------------------------------------------------

    def count_by_status(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, count(*) FROM tickets GROUP BY status ORDER BY status").fetchall())

    def count_blocked_by_reason(self) -> dict[str | None, int]:
        """Blocked tickets per reason, most first."""
        return dict(self.db.execute("SELECT blocked_reason, count(*) FROM tickets WHERE status = 'blocked' "
                                    "GROUP BY blocked_reason ORDER BY 2 DESC").fetchall())

    def open_piles(self, limit: int) -> list[tuple[str, str, int]]:
        """(dept, product, open tickets), the biggest first."""
        return self.db.execute(f"SELECT dept, product, count(*) FROM tickets WHERE {OPEN_SQL} "
                               "GROUP BY dept, product ORDER BY 3 DESC, 1, 2 LIMIT ?", (limit,)).fetchall()

    def open_tickets(self) -> list[Ticket]:
        """Every open ticket."""
        return self.store.select_tickets(OPEN_SQL, (), "", None)

"""The KPI report's queries (``services.kpi``, whose docstring says what each
figure is and what it costs), over the tickets created in a window
``w = {"from", "to"}`` (ISO-8601 UTC, ``[from, to)``).

``group`` is ``dept``, ``channel`` or ``''`` (one group, keyed ``''``);
``access`` is how the window is read: ``''`` through the ``tickets_created``
index, or ``NOT INDEXED`` (a scan) when it holds a large share of the store
(:meth:`Kpi.window`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ticketctl.store.part import Part

GROUPS = ("", "dept", "channel")
ACCESS = ("", "NOT INDEXED")
NO_GROUP = "''"  # the one group of an ungrouped report

#: SQL: the sum of a confirmation's three ratings (``confirmation`` is '{}' without one)
_RATED = ("(json_extract(confirmation, '$.ratings.solved') + json_extract(confirmation, '$.ratings.professional')"
          " + json_extract(confirmation, '$.ratings.on_time'))")


def _seconds(a: str, b: str) -> str:
    """SQL: whole seconds from ISO time ``b`` to ``a`` (exact: the times are whole seconds)."""
    return f"CAST(round((julianday({a}) - julianday({b})) * 86400.0) AS INTEGER)"


def _evidence_sql(checklists: Mapping[str, Sequence[str]], params: dict[str, Any]) -> str:
    """SQL true when a ticket's checks hold every item of its type's checklist.

    ``checks`` is the JSON the store writes (``store.rows.encode``: compact,
    ASCII-escaped), in which a checked item appears as its JSON string followed
    by ``:{``; a string value cannot contain that (its quotes are escaped), so
    ``instr`` is exact and much cheaper than parsing the JSON of every row."""
    whens = []
    for i, (name, checklist) in enumerate(sorted(checklists.items())):
        if not checklist:
            continue
        params[f"ty{i}"] = name
        conds = []
        for j, item in enumerate(checklist):
            params[f"it{i}_{j}"] = json.dumps(item) + ":{"
            conds.append(f"instr(checks, :it{i}_{j}) > 0")
        whens.append(f"WHEN :ty{i} THEN ({' AND '.join(conds)})")
    return f"(CASE type {' '.join(whens)} ELSE 1 END)" if whens else "1"


def _applies_sql() -> str:
    """SQL true when the evidence KPI applies to a closed ticket: it was not
    closed by an import (``import servicenow|csv|events`` write as devices
    ``import:*``; another system's closing checked nothing here). Read through
    the index ``events_device``, once per query."""
    return ("(key NOT IN (SELECT ticket FROM events"
            " WHERE device >= 'import:' AND device < 'import;' AND type = 'ticket.closed'))")


def _check(group: str, access: str) -> None:
    if group not in GROUPS or access not in ACCESS:
        raise ValueError(f"no KPI query grouped by {group!r} read {access!r}")


class Kpi(Part):
    """The KPI report's queries (``st.kpi``)."""

    def window(self, w: Mapping[str, str]) -> tuple[int, str]:
        """(tickets in the window, how to read them). A window holding more than
        a quarter of the store is read by scanning the table (``NOT INDEXED``):
        fetching a row through ``tickets_created`` costs 3 to 8 times a row of a
        scan (more when rows were not written in creation order, as after an
        import). Both counts are index-only."""
        n = self.db.execute("SELECT count(*) FROM tickets WHERE created_at >= :from AND created_at < :to", w).fetchone()[0]
        if not n:
            return 0, ""
        return n, "NOT INDEXED" if n * 4 > self.store.count_tickets() else ""

    def counts(self, w: Mapping[str, str], group: str, access: str,
               checklists: Mapping[str, Sequence[str]]) -> Iterator[tuple[Any, ...]]:
        """Per group of the window's tickets, in one read of the window: (group,
        tickets, resolved with an SLA clock, of them with time left, closed, of
        them those the evidence KPI applies to (:func:`_applies_sql`), of those
        with the type's ``checklists`` item all checked, confirmed, of them
        rated 4 or more on average, resolved never reopened with no customer,
        last resolution, resolved with the source's SLA verdict, of them made,
        with the source's reopen count, the sum of those counts, comma-joined first-response seconds, comma-joined
        resolution seconds)."""
        _check(group, access)
        p: dict[str, Any] = dict(w)
        evidence = _evidence_sql(checklists, p)
        applies = _applies_sql()
        sql = f"""
            SELECT {group or NO_GROUP}, count(*),
                   sum(resolved_at IS NOT NULL AND resolve_left_s IS NOT NULL),
                   sum(resolved_at IS NOT NULL AND resolve_left_s >= 0),
                   sum(status = 'closed'), sum(status = 'closed' AND {applies}),
                   sum(status = 'closed' AND {applies} AND {evidence}),
                   sum(confirmation != '{{}}'), sum(confirmation != '{{}}' AND {_RATED} >= 12),
                   sum(resolved_at IS NOT NULL AND reopen_count = 0 AND customer = ''), max(resolved_at),
                   sum(resolved_at IS NOT NULL AND source_made_sla IS NOT NULL),
                   sum(resolved_at IS NOT NULL AND source_made_sla = 1),
                   sum(source_reopens IS NOT NULL), sum(source_reopens),
                   group_concat({_seconds('first_response_at', 'created_at')}),
                   group_concat({_seconds('resolved_at', 'created_at')})
            FROM tickets {access} WHERE created_at >= :from AND created_at < :to"""
        if group:
            sql += f" GROUP BY {group}"
        yield from self.db.execute(sql, p)

    def transfers(self, w: Mapping[str, str], group: str, n_window: int) -> dict[str, int]:
        """Per group, the ``ticket.transferred`` events of the window's tickets.

        Two plans, picked by size: few tickets in the window look their events up
        by ticket (index ``events_ticket``); a window holding a large part of the
        store reads the event log once instead, which is then cheaper than a
        million lookups (there is no index on the event type)."""
        _check(group, "")
        n_events = self.store.last_event_seq()
        # ~14 events scanned cost about one ticket's lookup (measured on a demo store)
        join = "events AS e CROSS JOIN tickets AS t" if n_window * 14 > n_events else "tickets AS t CROSS JOIN events AS e"
        key = f"t.{group}" if group else NO_GROUP
        sql = (f"SELECT {key}, count(*) FROM {join} ON t.key = e.ticket"
               " WHERE e.type = 'ticket.transferred' AND t.created_at >= :from AND t.created_at < :to")
        if group:
            sql += f" GROUP BY {key}"
        return {k: n for k, n in self.db.execute(sql, w) if n}

    def first_time_fixes(self, w: Mapping[str, str], group: str, access: str, horizon: str, repeat_s: int) -> dict[str, int]:
        """Per group, resolved tickets of the window with a customer that were fixed the first time.

        Only the next ticket of the same customer, product and fault matters (by
        creation, then key): if it was opened within ``repeat_s`` seconds after
        ``resolved_at`` (inclusive), this ticket was not a first-time fix. Tickets
        opened after ``horizon`` (the last resolution of the window plus the
        repeat window) cannot be repeats. One sort of the window's tickets."""
        _check(group, access)
        p = {**w, "horizon": horizon, "repeat_s": repeat_s}
        sql = f"""
            SELECT {group or NO_GROUP}, count(*) FROM (
                SELECT {group + ',' if group else ''} created_at, resolved_at, reopen_count,
                       lead(created_at) OVER (PARTITION BY customer, product, fault ORDER BY created_at, key) AS next_at
                FROM tickets {access} WHERE created_at >= :from AND created_at <= :horizon AND customer != ''
            )
            WHERE created_at < :to AND resolved_at IS NOT NULL AND reopen_count = 0
              AND (next_at IS NULL OR {_seconds('next_at', 'resolved_at')} > :repeat_s)"""
        if group:
            sql += f" GROUP BY {group}"
        return {k: n for k, n in self.db.execute(sql, p) if n}

    def approval_requests(self, w: Mapping[str, str], access: str) -> Iterator[tuple[str, str, str, str | None]]:
        """(rule, status, at, decided_at) of every approval request of the window's
        tickets (only rows whose ``approvals`` is not ``'[]'`` are parsed)."""
        _check("", access)
        sql = f"""
            SELECT json_extract(r.value, '$.rule'), json_extract(r.value, '$.status'),
                   json_extract(r.value, '$.at'), json_extract(r.value, '$.decided_at')
            FROM tickets {access} CROSS JOIN json_each(tickets.approvals) AS r
            WHERE created_at >= :from AND created_at < :to AND approvals != '[]'"""
        yield from self.db.execute(sql, w)

    def on_time(self, end: str, last: int) -> list[tuple[str, int, int]]:
        """Per technician: (assignee, how many of their last ``last`` tickets
        resolved before ``end`` with a resolution clock, of them resolved with
        time left), by name. "Last" by ``resolved_at`` (then key), newest first.

        Read through ``tickets_resolved`` (assignee, resolved_at, key,
        resolve_left_s): the assignees one index seek each (a skip scan), then
        each one's newest ``last`` rows walked back from ``end``: a few
        thousand index rows whatever the store holds, not a sort of every
        resolved ticket."""
        newest = """(SELECT resolve_left_s AS left_s FROM tickets
                     WHERE assignee = who.name AND resolved_at < :end AND resolve_left_s IS NOT NULL
                     ORDER BY resolved_at DESC, key DESC LIMIT :last)"""
        sql = f"""
            WITH RECURSIVE who(name) AS (
                SELECT min(assignee) FROM tickets WHERE assignee IS NOT NULL
                UNION ALL
                SELECT (SELECT min(assignee) FROM tickets WHERE assignee > who.name) FROM who WHERE who.name IS NOT NULL
            )
            SELECT * FROM (
                SELECT name, (SELECT count(*) FROM {newest}) AS n, (SELECT coalesce(sum(left_s >= 0), 0) FROM {newest})
                FROM who WHERE name IS NOT NULL
            ) WHERE n > 0 ORDER BY name"""
        return [(a, int(n), int(met)) for a, n, met in self.db.execute(sql, {"end": end, "last": last})]

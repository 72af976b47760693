"""Queries that need SQL: queue listings ordered by the live priority weight,
and the few other listings the services ask for (tickets by status or block
reason, articles).

The weight changes with the clock (the SLA factor grows as time runs out), so
it is not stored: :func:`weight_sql` compiles ``ticketctl.core.priority`` into
one SQL expression over the stored SLA ordinals, evaluated for "now". SQLite
computes and sorts it for 100k open tickets in tens of milliseconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ticketctl.core.config import IMPACTS, PRIORITIES, Config
from ticketctl.core.kb import Article
from ticketctl.core.model import OPEN_STATUSES, Ticket
from ticketctl.core.priority import hours_factor

if TYPE_CHECKING:
    from ticketctl.store.part import Tables as Store

SORTS = ("weight", "created", "due")

#: the backlog as SQL; the exact text the partial index ``spans_open`` is declared with
OPEN_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in OPEN_STATUSES))


def weight_sql(cfg: Config, in_hours: bool) -> str:
    """The weight formula as SQL; needs the ``:now_bt`` parameter. Every number
    is a float literal from the config, every name a fixed priority/impact."""
    w = cfg.weights
    urgency = " ".join(
        f"WHEN '{p}' THEN {float(w.urgency[p] * hours_factor(cfg, p, in_hours))!r}" for p in PRIORITIES
    )
    impact = " ".join(f"WHEN '{i}' THEN {float(w.impact[i])!r}" for i in IMPACTS)
    left = "COALESCE(resolve_due_bt - :now_bt, resolve_left_s)"
    used = f"(1.0 - CAST({left} AS REAL) / resolve_target_s)"
    return (
        f"((CASE priority {urgency} ELSE 0.0 END) * (CASE impact {impact} ELSE 0.0 END)"
        f" * (1.0 + {float(w.sla_factor)!r} * MIN(MAX({used}, 0.0), 2.0)))"
    )


def list_tickets(
    store: Store,
    cfg: Config,
    now: datetime,
    statuses: list[str] | None = None,
    assignee: str | None = None,
    dept: str | None = None,
    sort: str = "weight",
    limit: int | None = 50,
) -> list[Ticket]:
    """Tickets in the given statuses (default: open), highest weight first,
    oldest first (``created``) or soonest due first (``due``)."""
    cal = cfg.business_calendar
    params: dict[str, Any] = {"now_bt": cal.ordinal(now)}
    wanted = list(statuses or OPEN_STATUSES)
    marks = []
    for i, s in enumerate(wanted):
        params[f"s{i}"] = s
        marks.append(f":s{i}")
    where = [f"status IN ({', '.join(marks)})"]
    if assignee is not None:
        where.append("assignee = :assignee")
        params["assignee"] = assignee
    if dept is not None:
        where.append("dept = :dept")
        params["dept"] = dept
    if sort == "weight":
        live = weight_sql(cfg, cal.in_hours(now))
        order = f"CASE WHEN {OPEN_SQL} THEN {live} ELSE 0 END DESC, created_at, key"
    elif sort == "created":
        order = "created_at, key"
    elif sort == "due":
        order = "COALESCE(resolve_due_bt, :now_bt + resolve_left_s), created_at, key"
    else:
        raise ValueError(f"unknown sort {sort!r}")
    return store.select_tickets(" AND ".join(where), params, order, limit)


def keys_in_status(store: Store, status: str) -> list[str]:
    """The keys of the tickets in ``status``, in key order."""
    return [k for (k,) in store.db.execute("SELECT key FROM tickets WHERE status = ? ORDER BY key", (status,))]


def blocked_for(store: Store, reason: str) -> list[Ticket]:
    """The tickets blocked for ``reason``, in key order."""
    return store.select_tickets("status = 'blocked' AND blocked_reason = ?", (reason,), "key", None)


def articles(store: Store, status: str | None = None, public: bool | None = None, product: str | None = None,
             limit: int | None = None) -> list[Article]:
    """Articles with this status, publicity and product (each when given),
    most recently changed first."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("status", status), ("public", None if public is None else int(public)), ("product", product)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    return store.select_articles(" AND ".join(where), params, "updated_at DESC, id", limit)

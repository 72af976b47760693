"""What the dashboard reads in its workers besides the backlog: a ticket's
similar work, the approvals board's steps, the rows a filter's words and
conditions keep."""

from __future__ import annotations

from typing import Any

from ticketctl.services import approvals, dashboard, kb
from ticketctl.services.dashboard import Filter
from ticketctl.services.env import Env

#: similar resolved tickets and articles on a ticket's detail screen (``ticketctl show`` lists as many)
SIMILAR_SHOWN = 3


def similar_docs(env: Env, key: str) -> list[dict[str, Any]]:
    """The resolved tickets and articles most like ticket ``key``, as many as
    ``ticketctl show`` lists; ``everything=False``: a long index catch-up
    (after a bootstrap) is left to search, never run from the dashboard."""
    return kb.similar(env, key, SIMILAR_SHOWN, everything=False)


def waiting_approvals(env: Env) -> tuple[list[dict[str, Any]], int]:
    """What the approvals board shows: the steps waiting for a decision
    (``approval list``) and the length of a business day, which its waited and
    limit times are counted in."""
    return approvals.pending(env), env.config.business_calendar.day_seconds


def words(env: Env, flt: Filter) -> set[int] | None:
    """Row ids of the open tickets ``flt``'s free words, SLA state and age
    keep (None: it asks for none of them); its exact fields are cut in memory."""
    return dashboard.matching(env, flt.conditions()) if flt.asks_sql() else None

"""What the cron sweep reads (``services.sweep``): a superset of the tickets
on which a per-ticket rule of ``core.sweep`` fires now, the groups that can
form a batch, and the open tickets past an SLA clock.

One SQL pass picks the candidates of every per-ticket rule: the thresholds
are compared against "now" as a business-second ordinal or an ISO-8601 'Z'
time, and a rule that already fired on a ticket is filtered out with
``json_extract(escalations, ...)``; a second query picks the groups that can
form a batch (a window count per product, fault and zone). Only these
tickets go through ``core.sweep.plan``, which decides.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from ticketctl.core import sweep as rules
from ticketctl.core.config import PRIORITIES, Config
from ticketctl.core.model import Ticket, iso
from ticketctl.store.part import Part
from ticketctl.store.queries import OPEN_SQL

LEFT_SQL = "COALESCE(resolve_due_bt - :now_bt, resolve_left_s)"


def _fresh(rule: str) -> str:
    """SQL: ``rule`` (a fixed rule id, or ``prefix@`` followed by the block's
    start) has not fired on this ticket yet."""
    if rule.endswith("@"):
        return f"json_extract(escalations, '$.\"{rule}' || blocked_since || '\"') IS NULL"
    return f"json_extract(escalations, '$.\"{rule}\"') IS NULL"


def candidate_sql(cfg: Config, now: datetime) -> tuple[str, dict[str, Any]]:
    """WHERE clause and parameters selecting a superset of the tickets on
    which a per-ticket rule of ``core.sweep`` fires now."""
    th = rules.Thresholds.of(cfg)
    params: dict[str, Any] = {
        "now_bt": cfg.business_calendar.ordinal(now),
        "silent_cut": iso(now - timedelta(seconds=th.silent_after_s)),
        "silent_left": th.silent_left_s,
        "share": th.share,
        "stall_cut": iso(now - timedelta(seconds=th.stall_after_s)),
        # block deadlines are stored as ISO-8601 UTC (workflow.decide_block)
        "deadline_cut": iso(now),
    }
    response_risk = " ".join(f"WHEN '{p}' THEN {float(th.share * th.response_s[p])!r}" for p in PRIORITIES)
    limits = []
    for i, (reason, secs) in enumerate(sorted(th.limit_s.items())):
        params[f"r{i}"], params[f"c{i}"] = reason, iso(now - timedelta(seconds=secs))
        limits.append(f"(blocked_reason = :r{i} AND blocked_since <= :c{i})")
    parts = [
        f"(status = 'new' AND assignee IS NULL AND COALESCE(NULLIF(status_since, ''), created_at) <= :silent_cut"
        f" AND {LEFT_SQL} < :silent_left AND {_fresh('silent')})",
        f"(first_response_at IS NULL AND response_due_bt < :now_bt AND {_fresh('response_breached')})",
        f"(first_response_at IS NULL AND response_due_bt >= :now_bt"
        f" AND response_due_bt - :now_bt < (CASE priority {response_risk} ELSE 0.0 END) AND {_fresh('response_at_risk')})",
        f"({LEFT_SQL} < 0 AND {_fresh('resolve_breached')})",
        f"(resolve_due_bt >= :now_bt AND resolve_due_bt - :now_bt < :share * resolve_target_s AND {_fresh('resolve_at_risk')})",
        "(status = 'in_progress' AND updated_at <= :stall_cut AND json_extract(stall, '$.at') IS NULL)",
        "(status = 'blocked' AND json_extract(block, '$.deadline') < :deadline_cut"
        f" AND {_fresh('collab_deadline@')})",
    ]
    if limits:
        parts.append(f"(status = 'blocked' AND ({' OR '.join(limits)}) AND {_fresh('blocked_too_long@')})")
    parts.append("(status = 'blocked' AND blocked_reason = 'awaiting_approval')")  # few: core.sweep.approval decides
    return f"{OPEN_SQL} AND ({' OR '.join(parts)})", params


def batch_sql(cfg: Config) -> tuple[str, dict[str, Any]]:
    """WHERE clause selecting every batchable ticket of each product/fault/zone
    group in which ``batch_size`` tickets were created within ``batch_window``
    (the window count runs forward from each ticket's creation)."""
    th = rules.Thresholds.of(cfg)
    eligible = (f"{OPEN_SQL} AND parent IS NULL AND type != '{rules.BATCH_TYPE}'"
                " AND product != '' AND fault != '' AND zone != ''")
    where = (
        f"{eligible} AND (product, fault, zone) IN ("
        " SELECT product, fault, zone FROM ("
        "  SELECT product, fault, zone, COUNT(*) OVER (PARTITION BY product, fault, zone"
        f"   ORDER BY unixepoch(created_at) RANGE BETWEEN CURRENT ROW AND {int(th.batch_window_s)} FOLLOWING) AS n"
        f"  FROM tickets WHERE {eligible})"
        " WHERE n >= :batch_size)"
    )
    return where, {"batch_size": th.batch_size}


URGENCY_ORDER = "CASE priority " + " ".join(f"WHEN '{p}' THEN {i}" for i, p in enumerate(PRIORITIES)) + " END"



class Sweep(Part):
    """The sweep's queries (``st.sweep``)."""

    def rule_candidates(self, cfg: Config, now: datetime, limit: int) -> list[Ticket]:
        """Up to ``limit`` tickets on which a per-ticket rule may fire now, most urgent and oldest first."""
        where, params = candidate_sql(cfg, now)
        return self.store.select_tickets(where, params, f"{URGENCY_ORDER}, created_at, key", limit)

    def batch_groups(self, cfg: Config) -> Iterator[tuple[str, str, str, str]]:
        """(product, fault, zone, key) of every batchable ticket in a group big
        enough now, by group, oldest first within one."""
        where, params = batch_sql(cfg)
        yield from self.db.execute(
            f"SELECT product, fault, zone, key FROM tickets WHERE {where} ORDER BY product, fault, zone, created_at", params)

    def breach_counts(self, cfg: Config, now: datetime) -> tuple[int, int]:
        """Open tickets whose response clock (no first response, past due) and
        whose resolution clock have run out now."""
        row = self.db.execute(
            f"SELECT COALESCE(SUM(first_response_at IS NULL AND response_due_bt < :now_bt), 0),"
            f" COALESCE(SUM({LEFT_SQL} < 0), 0) FROM tickets WHERE {OPEN_SQL}",
            {"now_bt": cfg.business_calendar.ordinal(now)},
        ).fetchone()
        return int(row[0]), int(row[1])

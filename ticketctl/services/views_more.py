"""More backlog views for supervisors: how old the backlog is, where blocked
time goes, and whether the team closes as much as it opens.

All three read the projections (the tickets table), never replay events:

* aging: open tickets (new, assigned, in progress, blocked) by age since
  ``created_at``, in buckets, and by status; one GROUP BY over the covering
  index ``tickets_heat``.
* blocked: per block reason, the sum of the finished blocks' seconds
  (``blocked_seconds``) plus the running blocks up to now; ``tickets`` counts
  the tickets that spent any time blocked for the reason (a ticket blocked
  twice for it counts once, its time summed), and the mean is per ticket.
* trend: tickets opened (``created_at``) and closed (``closed_at``, as the
  projection holds it now: a reopened ticket is not closed) per day, days in
  the business calendar's time zone.
"""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta
from typing import Any

from ticketctl.core.model import OPEN_STATUSES, iso, parse_time
from ticketctl.errors import BadInput
from ticketctl.i18n import N_, _
from ticketctl.services.env import Env

#: (label, lower bound in hours, upper bound in hours or None): age >= lower and < upper.
#: The label is the JSON ``bucket`` (English); a human table shows ``_(label)``.
AGE_BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    (N_("< 4 h"), 0, 4),
    (N_("4-24 h"), 4, 24),
    (N_("1-3 d"), 24, 72),
    (N_("3-7 d"), 72, 168),
    (N_("7-30 d"), 168, 720),
    (N_("> 30 d"), 720, None),
)


def aging(env: Env) -> dict[str, Any]:
    """The open backlog by age bucket and status.

    Returns ``{"at", "total", "statuses", "buckets": [{"bucket", "from_h", "to_h",
    "count", "by_status": {status: n}}], "by_status": {status: n}}``; a ticket
    created after "now" (a clock set back) counts as under 4 hours."""
    now = env.now
    # bucket i holds created_at in (now - hi, now - lo]: the last whose lower bound the age passes
    rows = env.store.reports.open_by_age(
        {i: iso(now - timedelta(hours=lo)) for i, (_label, lo, _hi) in enumerate(AGE_BUCKETS) if lo})
    buckets: list[dict[str, Any]] = [{"bucket": label, "from_h": lo, "to_h": hi, "count": 0, "by_status": {s: 0 for s in OPEN_STATUSES}}
               for label, lo, hi in AGE_BUCKETS]
    by_status = {s: 0 for s in OPEN_STATUSES}
    for i, status, n in rows:
        buckets[i]["count"] += n
        buckets[i]["by_status"][status] += n
        by_status[status] += n
    return {"at": iso(now), "total": sum(by_status.values()), "statuses": list(OPEN_STATUSES), "buckets": buckets,
            "by_status": by_status}


def blocked(env: Env) -> dict[str, Any]:
    """Time spent blocked per reason, over all tickets, running blocks up to now.

    Returns ``{"at", "reasons": [{"reason", "label", "tickets", "blocked_now",
    "total_s", "mean_s"}], "total_s"}``, most time first; reasons no longer in
    the config's menu keep their name as label."""
    now = iso(env.now)
    rows = env.store.reports.blocked_time(now)
    menu = env.config.reasons
    reasons: list[dict[str, Any]] = [
        {"reason": r, "label": menu[r].label if r in menu and menu[r].label else r, "tickets": n, "blocked_now": running,
         "total_s": int(secs), "mean_s": int(round(secs / n)) if n else 0}
        for r, n, running, secs in rows
    ]
    reasons.sort(key=lambda r: (-r["total_s"], r["reason"]))
    return {"at": now, "reasons": reasons, "total_s": sum(r["total_s"] for r in reasons)}


def trend(env: Env, days: int = 30) -> dict[str, Any]:
    """Tickets opened and closed per day over the last ``days`` days, today included.

    Days run midnight to midnight in the business calendar's time zone.
    Returns ``{"at", "days", "timezone", "series": [{"day", "opened", "closed"}],
    "opened", "closed"}``."""
    if days < 1:
        raise BadInput(_("--days must be 1 or more"))
    now = env.now
    bounds = day_bounds(env, days)
    dates = [parse_time(b).astimezone(env.config.business_calendar.tz).date() for b in bounds[:-1]]
    opened = [0] * days
    closed = [0] * days
    # by the minute (every time zone's offset is whole minutes), then into local days
    for column, counts in (("created_at", opened), ("closed_at", closed)):
        for minute, n in env.store.reports.per_minute(column, bounds[0], bounds[-1]):
            i = bisect.bisect_right(bounds, minute + ":00Z") - 1
            counts[i] += n
    series = [{"day": dates[i].isoformat(), "opened": opened[i], "closed": closed[i]} for i in range(days)]
    return {"at": iso(now), "days": days, "timezone": env.config.calendar.timezone, "series": series, "opened": sum(opened),
            "closed": sum(closed)}


def day_bounds(env: Env, days: int) -> list[str]:
    """The ``days + 1`` local midnights ``trend`` cuts days at, as UTC instants
    (a DST change makes a day 23 or 25 hours long)."""
    tz = env.config.business_calendar.tz
    today = env.now.astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    return [iso(datetime(d.year, d.month, d.day, tzinfo=tz)) for d in (first + timedelta(days=i) for i in range(days + 1))]


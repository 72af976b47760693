"""Reports over the local store for supervisors: the morning brief, and how
old the backlog is, where blocked time goes, and whether the team closes as
much as it opens.

"Stuck" (the brief) means open (new, assigned, in progress, blocked) and in the
same status for longer than the threshold (4 hours by default): the time a
ticket has been waiting where it is, not its age.

The other three read the projections (the tickets table), never replay events:

* aging: open tickets (new, assigned, in progress, blocked) by age since
  ``created_at``, in buckets, and by status; one GROUP BY over the covering
  index ``tickets_heat``.
* blocked: per block reason, the sum of the finished blocks' seconds
  (``blocked_seconds``) plus the running blocks up to now; ``tickets`` counts
  the tickets that spent any time blocked for the reason (a ticket blocked
  twice for it counts once, its time summed), and the mean is per ticket.
* trend: tickets opened (``created_at``) and closed (``closed_at``, as the
  projection holds it now: a reopened ticket is not closed) per day, days in
  the business calendar's time zone, and the tickets that became blocked for a
  reason each day (a ``blocked`` span joined to its ``ticket.blocked`` event,
  ``store.reports.Reports.blocks_per_minute``); ``write_trend_xlsx`` puts the
  days in a sheet with a line chart of the three beside them.
* dwell: per department, how long its open tickets have waited in their
  status (since ``status_since``), on average, against a threshold (2 hours).
"""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ticketctl.cells import paren
from ticketctl.core.config.base import check_known
from ticketctl.core.labels import HasLabels, label
from ticketctl.core.model import OPEN_STATUSES, iso, parse_time
from ticketctl.errors import BadInput
from ticketctl.i18n import N_, _, current
from ticketctl.services.env import Env

#: the holder of unassigned stuck work in ``brief()['holders']`` (English there; translated in the Markdown)
UNASSIGNED = N_("(unassigned)")


def _hours(now: datetime, since: str) -> float:
    return round((now - parse_time(since)).total_seconds() / 3600, 1)


def brief(env: Env, over_hours: float = 4.0) -> dict[str, Any]:
    """Top 3 stuck kinds of work, the status where tickets wait longest, who
    holds the stuck work, and the 5 tickets waiting longest."""
    rp, now = env.store.reports, env.now
    cutoff = iso(now - timedelta(hours=over_hours))
    total_open = rp.count_open()
    n_stuck = rp.count_stuck(cutoff)
    types = [
        {"type": t, "product": pr, "fault": f, "count": n, "oldest_h": _hours(now, oldest)}
        for t, pr, f, n, oldest in rp.stuck_kinds(cutoff, 3)
    ]
    states: list[dict[str, Any]] = [
        {"status": s, "count": n, "avg_wait_h": round(avg_s / 3600, 1), "max_wait_h": _hours(now, oldest)}
        for s, n, avg_s, oldest in rp.waits_by_status(iso(now))
    ]
    states.sort(key=lambda s: -s["avg_wait_h"])
    holders = [{"assignee": a or UNASSIGNED, "stuck": n} for a, n in rp.stuck_holders(cutoff, 5)]
    longest = [
        {"key": k, "title": ti, "status": s, "blocked_reason": br, "assignee": a, "waiting_h": _hours(now, since)}
        for k, ti, s, br, a, since in rp.waiting_longest(cutoff, 5)
    ]
    return {
        "at": iso(now),
        "over_hours": over_hours,
        "open": total_open,
        "stuck": n_stuck,
        "top_stuck_types": types,
        "longest_waiting_state": states[0]["status"] if states else None,
        "states": states,
        "holders": holders,
        "longest_waiting": longest,
    }


def brief_markdown(b: dict[str, Any], cfg: HasLabels | None = None) -> str:
    """The brief as Markdown, for a chat channel or an e-mail; values (type,
    status, blocked reason) as their labels (``cfg``: the team's own)."""
    lang = current()
    out = [_("# Backlog brief, {at}").format(at=b["at"]), "",
           _("{stuck} of {open} open tickets have waited over {hours:g} h where they are.").format(
               stuck=b["stuck"], open=b["open"], hours=b["over_hours"]), ""]
    out += [_("## Most stuck kinds of work"), ""]
    out += [_("- {count} x {type} / {product} / {fault} (oldest {hours} h)").format(
                count=t["count"], type=label("type", t["type"], cfg), product=t["product"], fault=t["fault"] or "-", hours=t["oldest_h"])
            for t in b["top_stuck_types"]] or [_("- none")]
    out += ["", _("## Where tickets wait longest"), ""]
    out += [_("- {status}: {count} tickets, {avg} h on average, up to {max} h").format(
                status=label("status", s["status"], cfg), count=s["count"], avg=s["avg_wait_h"], max=s["max_wait_h"])
            for s in b["states"]] or [_("- no open tickets")]
    out += ["", _("## Who holds the stuck work"), ""]
    out += [_("- {assignee}: {count}").format(assignee=_(UNASSIGNED) if h["assignee"] == UNASSIGNED else h["assignee"],
                                              count=h["stuck"])
            for h in b["holders"]] or [_("- nobody")]
    out += ["", _("## Waiting longest (over {hours:g} h)").format(hours=b["over_hours"]), ""]
    out += [_("- {key} {status}{reason} {hours} h, {assignee}: {title}").format(
                key=t["key"], status=label("status", t["status"], cfg),
                reason=paren(label("reason", t["blocked_reason"], cfg), lang) if t["blocked_reason"] else "",
                hours=t["waiting_h"], assignee=t["assignee"] or _("unassigned"), title=t["title"])
            for t in b["longest_waiting"]] or [_("- none")]
    return "\n".join(out) + "\n"


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


#: the block reason ``trend`` counts by default: work stopped for missing parts
DEFAULT_BLOCK_REASON = "awaiting_parts"


def trend(env: Env, days: int = 30, reason: str = DEFAULT_BLOCK_REASON) -> dict[str, Any]:
    """Tickets opened and closed per day over the last ``days`` days, today
    included, and the tickets that became blocked for ``reason`` each day.

    Days run midnight to midnight in the business calendar's time zone.
    ``blocked`` counts a ticket once a day however often it was blocked for
    the reason that day (from the store's history: every block, also those
    since ended); the total adds the days up. Returns ``{"at", "days",
    "timezone", "reason", "series": [{"day", "opened", "closed", "blocked"}],
    "opened", "closed", "blocked"}``. Raises BadInput for ``days`` < 1 or a
    reason the config does not list (the message lists those it does)."""
    if days < 1:
        raise BadInput(_("--days must be 1 or more"))
    check_known("reason", reason, env.config.reasons)
    now = env.now
    bounds = day_bounds(env, days)
    dates = [parse_time(b).astimezone(env.config.business_calendar.tz).date() for b in bounds[:-1]]
    opened = [0] * days
    closed = [0] * days
    # by the minute (every time zone's offset is whole minutes), then into local days
    for column, counts in (("created_at", opened), ("closed_at", closed)):
        for minute, n in env.store.reports.per_minute(column, bounds[0], bounds[-1]):
            counts[_day_index(bounds, minute)] += n
    stopped: list[set[str]] = [set() for _i in range(days)]
    for minute, key in env.store.reports.blocks_per_minute(reason, bounds[0], bounds[-1]):
        stopped[_day_index(bounds, minute)].add(key)
    blocked_n = [len(s) for s in stopped]
    series = [{"day": dates[i].isoformat(), "opened": opened[i], "closed": closed[i], "blocked": blocked_n[i]}
              for i in range(days)]
    return {"at": iso(now), "days": days, "timezone": env.config.calendar.timezone, "reason": reason, "series": series,
            "opened": sum(opened), "closed": sum(closed), "blocked": sum(blocked_n)}


def _day_index(bounds: list[str], minute: str) -> int:
    """Which day of ``bounds`` (``day_bounds``) the minute ``YYYY-MM-DDTHH:MM`` (UTC) falls in."""
    return bisect.bisect_right(bounds, minute + ":00Z") - 1


def day_bounds(env: Env, days: int) -> list[str]:
    """The ``days + 1`` local midnights ``trend`` cuts days at, as UTC instants
    (a DST change makes a day 23 or 25 hours long)."""
    tz = env.config.business_calendar.tz
    today = env.now.astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    return [iso(datetime(d.year, d.month, d.day, tzinfo=tz)) for d in (first + timedelta(days=i) for i in range(days + 1))]



#: the dwell threshold: a department whose open tickets wait longer than this on average is over the line
DWELL_THRESHOLD_H = 2.0


def dwell(env: Env, at: datetime | None = None) -> dict[str, Any]:
    """Per department, the mean hours its open tickets have waited in their
    status at ``at`` (default now), of the tickets as they stand now (those
    whose status began after ``at`` left out).

    Returns ``{"at", "threshold_h", "depts": [{"dept", "open", "avg_wait_h"}]}``, by department."""
    when = iso(at or env.now)
    depts = [{"dept": d, "open": n, "avg_wait_h": round((secs or 0) / 3600, 2)} for d, n, secs in env.store.reports.waits_by_dept(when)]
    return {"at": when, "threshold_h": DWELL_THRESHOLD_H, "depts": depts}


#: the trend sheet's name (in the reader's language in the workbook)
TREND_SHEET = N_("trend")


def write_trend_xlsx(path: Path, r: dict[str, Any], cfg: HasLabels | None = None) -> None:
    """The trend ``r`` (``trend()``) as a workbook, written atomically: one row a
    day (day, opened, closed, blocked for the reason) and a line chart of the
    three beside the table (its series reference the columns' cells)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from ticketctl.home import atomic_write
    from ticketctl.services.xlsx import fit_columns, save
    from ticketctl.services.xlsx_charts import beside, line_chart

    wb = Workbook()
    ws = wb.active
    ws.title = _(TREND_SHEET)
    ws.append([_("day"), _("opened"), _("closed"), _("blocked: {reason}").format(reason=label("reason", r["reason"], cfg))])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for d in r["series"]:
        ws.append([d["day"], d["opened"], d["closed"], d["blocked"]])
    fit_columns(ws, {"A": 12})
    line_chart(ws, title=_("Opened vs closed per day ({timezone})").format(timezone=r["timezone"]), x_title=_("day"),
               y_title=_("tickets"), cat_col=1, val_cols=(2, 3, 4), header_row=1, last_row=ws.max_row, anchor=beside(ws, 4))
    atomic_write(path, save(wb))

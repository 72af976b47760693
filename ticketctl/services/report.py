"""Reports over the local store: the supervisor's morning brief.

"Stuck" means open (new, assigned, in progress, blocked) and in the same
status for longer than the threshold (4 hours by default): the time a ticket
has been waiting where it is, not its age.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ticketctl.core.model import iso, parse_time
from ticketctl.i18n import N_, _
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


def brief_markdown(b: dict[str, Any]) -> str:
    """The brief as Markdown, for a chat channel or an e-mail."""
    out = [_("# Backlog brief, {at}").format(at=b["at"]), "",
           _("{stuck} of {open} open tickets have waited over {hours:g} h where they are.").format(
               stuck=b["stuck"], open=b["open"], hours=b["over_hours"]), ""]
    out += [_("## Most stuck kinds of work"), ""]
    out += [_("- {count} x {type} / {product} / {fault} (oldest {hours} h)").format(
                count=t["count"], type=t["type"], product=t["product"], fault=t["fault"] or "-", hours=t["oldest_h"])
            for t in b["top_stuck_types"]] or [_("- none")]
    out += ["", _("## Where tickets wait longest"), ""]
    out += [_("- {status}: {count} tickets, {avg} h on average, up to {max} h").format(
                status=s["status"], count=s["count"], avg=s["avg_wait_h"], max=s["max_wait_h"])
            for s in b["states"]] or [_("- no open tickets")]
    out += ["", _("## Who holds the stuck work"), ""]
    out += [_("- {assignee}: {count}").format(assignee=_(UNASSIGNED) if h["assignee"] == UNASSIGNED else h["assignee"],
                                              count=h["stuck"])
            for h in b["holders"]] or [_("- nobody")]
    out += ["", _("## Waiting longest (over {hours:g} h)").format(hours=b["over_hours"]), ""]
    out += [_("- {key} {status}{reason} {hours} h, {assignee}: {title}").format(
                key=t["key"], status=t["status"], reason=f" ({t['blocked_reason']})" if t["blocked_reason"] else "",
                hours=t["waiting_h"], assignee=t["assignee"] or _("unassigned"), title=t["title"])
            for t in b["longest_waiting"]] or [_("- none")]
    return "\n".join(out) + "\n"

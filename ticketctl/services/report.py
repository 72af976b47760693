"""Reports over the local store: the supervisor's morning brief.

"Stuck" means open (new, assigned, in progress, blocked) and in the same
status for longer than the threshold (4 hours by default): the time a ticket
has been waiting where it is, not its age.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ticketctl.core.model import iso, parse_time
from ticketctl.services.env import Env
from ticketctl.store.queries import OPEN_SQL


def _hours(now: datetime, since: str) -> float:
    return round((now - parse_time(since)).total_seconds() / 3600, 1)


def brief(env: Env, over_hours: float = 4.0) -> dict[str, Any]:
    """Top 3 stuck kinds of work, the status where tickets wait longest, who
    holds the stuck work, and the 5 tickets waiting longest."""
    db, now = env.store.db, env.now
    cutoff = iso(now - timedelta(hours=over_hours))
    stuck = f"{OPEN_SQL} AND status_since <= :cutoff"
    p = {"cutoff": cutoff}
    total_open = db.execute(f"SELECT count(*) FROM tickets WHERE {OPEN_SQL}").fetchone()[0]
    n_stuck = db.execute(f"SELECT count(*) FROM tickets WHERE {stuck}", p).fetchone()[0]
    types = [
        {"type": t, "product": pr, "fault": f, "count": n, "oldest_h": _hours(now, oldest)}
        for t, pr, f, n, oldest in db.execute(
            f"SELECT type, product, fault, count(*), min(status_since) FROM tickets WHERE {stuck} "
            "GROUP BY type, product, fault ORDER BY 4 DESC, 5, 1, 2, 3 LIMIT 3", p)
    ]
    states = [
        {"status": s, "count": n, "avg_wait_h": round(avg_s / 3600, 1), "max_wait_h": _hours(now, oldest)}
        for s, n, avg_s, oldest in db.execute(
            f"SELECT status, count(*), avg((julianday(:now) - julianday(status_since)) * 86400), min(status_since) "
            f"FROM tickets WHERE {OPEN_SQL} GROUP BY status", {"now": iso(now)})
    ]
    states.sort(key=lambda s: -s["avg_wait_h"])
    holders = [
        {"assignee": a or "(unassigned)", "stuck": n}
        for a, n in db.execute(f"SELECT assignee, count(*) FROM tickets WHERE {stuck} GROUP BY assignee "
                               "ORDER BY 2 DESC, 1 LIMIT 5", p)
    ]
    longest = [
        {"key": k, "title": ti, "status": s, "blocked_reason": br, "assignee": a, "waiting_h": _hours(now, since)}
        for k, ti, s, br, a, since in db.execute(
            f"SELECT key, title, status, blocked_reason, assignee, status_since FROM tickets WHERE {stuck} "
            "ORDER BY status_since, key LIMIT 5", p)
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
    out = [f"# Backlog brief, {b['at']}", "",
           f"{b['stuck']} of {b['open']} open tickets have waited over {b['over_hours']:g} h where they are.", ""]
    out += ["## Most stuck kinds of work", ""]
    out += [f"- {t['count']} x {t['type']} / {t['product']} / {t['fault'] or '-'} (oldest {t['oldest_h']} h)"
            for t in b["top_stuck_types"]] or ["- none"]
    out += ["", "## Where tickets wait longest", ""]
    out += [f"- {s['status']}: {s['count']} tickets, {s['avg_wait_h']} h on average, up to {s['max_wait_h']} h"
            for s in b["states"]] or ["- no open tickets"]
    out += ["", "## Who holds the stuck work", ""]
    out += [f"- {h['assignee']}: {h['stuck']}" for h in b["holders"]] or ["- nobody"]
    out += ["", f"## Waiting longest (over {b['over_hours']:g} h)", ""]
    out += [f"- {t['key']} {t['status']}{' (' + t['blocked_reason'] + ')' if t['blocked_reason'] else ''}"
            f" {t['waiting_h']} h, {t['assignee'] or 'unassigned'}: {t['title']}" for t in b["longest_waiting"]] or ["- none"]
    return "\n".join(out) + "\n"

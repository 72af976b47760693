"""Delivering webhook notifications from an outbox, wherever its rows live.

A device keeps its outbox in its own store (``services.notify``: ``sweep``,
``notify send``); in a team the server keeps the team's (``server.jobs``, over
``server.store.outbox``). Both hand their outbox to :func:`deliver`, so a
notification is posted, retried, backed off and given up on by the same rules
whichever machine sends it; an outbox only says which rows are due and
records each row's outcome (:class:`Outbox`).

One row's life::

    queued ──> pending ──(2xx)──────────────────────────> sent
                  │  ^
      no 2xx this │  │ next_attempt_at = now + 1, 2, 4 .. 60 min
             run  v  │
               (attempts += tries) ──(attempts >= give_up_after)──> failed

Delivery is at-least-once: a row is marked ``sent`` in its own small
transaction after the POST succeeded, so a crash (or a second deliverer
running at the same moment) between the two sends that row again; no row is
ever lost. Receivers that mind duplicates can key on the generic body's
``ticket`` + ``rule`` + ``at``.

httpx is imported when there is something to send: the outbox is written by
headless commands that must start fast, and only delivery needs the network.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypedDict

from ticketctl.core.config.sweep import NotifyConfig
from ticketctl.core.model import iso

if TYPE_CHECKING:
    import httpx

#: pause before the 2nd, 3rd, ... try of one row within a run: 0.2 s, 0.4 s, 0.8 s, then 1 s each
RETRY_SLEEP_FIRST = 0.2
RETRY_SLEEP_MAX = 1.0
#: wait before the next run may try a row again: 1, 2, 4, ... minutes per failed run, at most this
RETRY_WAIT_MAX_MINUTES = 60

#: a due row: (id, target, url, body, attempts so far)
Due = tuple[int, str, str, str, int]


class Outbox(Protocol):
    """Where the notification rows live. Each outcome is written in its own
    transaction, committed before :func:`deliver` posts the next row, and only
    on a row still pending (a second deliverer that finished it first wins)."""

    def due(self, now: str | None, ids: Sequence[int] | None = None) -> list[Due]:
        """Pending rows due at ``now`` (every pending row for None), only ``ids`` if given, oldest first."""
        ...

    def mark_sent(self, nid: int, attempts: int, at: str, reason: str) -> None:
        """Delivered at ``at`` after ``attempts`` tries in all; ``reason``: why an
        earlier try of this run failed ('' if none), kept as the last error."""
        ...

    def mark_failed(self, nid: int, attempts: int, reason: str) -> None:
        """Given up on after ``attempts`` tries, the last failing for ``reason``."""
        ...

    def retry_later(self, nid: int, attempts: int, reason: str, at: str) -> None:
        """Not delivered this run (``reason``); tried again from ``at``."""
        ...

    def count_pending(self) -> int:
        """Rows still pending, due or not."""
        ...


class DeliveryReport(TypedDict):
    """What one :func:`deliver` run did (the ``--json`` of ``notify send``)."""

    sent: int  # rows delivered in this run
    pending: int  # rows still pending in the outbox after this run (due or not)
    failed: int  # rows given up on in this run
    errors: list[str]  # one short line per row tried and not delivered in this run


def deliver(
    outbox: Outbox,
    conf: NotifyConfig,
    now: datetime,
    *,
    force: bool = False,
    ids: Sequence[int] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    budget_s: float | None = None,
) -> DeliveryReport:
    """Send ``outbox``'s pending notifications that are due at ``now``; returns what happened.

    Call it outside any transaction. ``force`` sends every pending row, due or
    not; ``ids`` limits the run to these rows; ``sleep`` is the pause between
    tries (tests pass a no-op); ``budget_s``: take no new row after this many
    seconds (the server's run must end before its next period).

    Per row, oldest first: up to ``conf.tries_per_run`` POSTs of the stored
    body (never more than ``give_up_after`` in all), ``sleep``-ing 0.2 s, 0.4 s,
    ... (at most 1 s) between them; any 2xx marks it ``sent``. Otherwise its
    ``attempts`` grow by the tries made, ``last_error`` says why in a few words
    ("connection refused", "HTTP 503", "timed out"), and it waits 1, 2, 4 ...
    60 minutes for the next run, or turns ``failed`` once ``give_up_after``
    tries are spent. Once one row of a target was not delivered, the target's
    other rows wait for the next run untouched: a dead endpoint costs one
    row's tries per run, not one per row.

    One httpx client (one connection pool) serves the whole run. Never raises
    for a delivery failure; the report's ``errors`` lists them.
    """
    rows = outbox.due(None if force else iso(now), ids)
    report = DeliveryReport(sent=0, pending=0, failed=0, errors=[])
    dead: set[str] = set()
    if rows:
        import httpx  # only when there is something to send: ~0.1 s of imports

        started = time.monotonic()
        with httpx.Client(timeout=conf.timeout, follow_redirects=False,
                          headers={"content-type": "application/json", "user-agent": "ticketctl"}) as client:
            for nid, target, url, body, attempts in rows:
                if target in dead:
                    continue
                if budget_s is not None and time.monotonic() - started > budget_s:
                    break
                budget = max(1, min(conf.tries_per_run, conf.give_up_after - attempts))
                ok, tries, reason = post(client, url, body, budget, sleep)
                total = attempts + tries
                if ok:
                    outbox.mark_sent(nid, total, iso(now), reason)
                    report["sent"] += 1
                    continue
                dead.add(target)
                if total >= conf.give_up_after:
                    outbox.mark_failed(nid, total, reason)
                    report["failed"] += 1
                    next_step = f"gave up after {total} tries"
                else:
                    later = iso(now + timedelta(minutes=retry_wait_minutes(total, conf.tries_per_run)))
                    outbox.retry_later(nid, total, reason, later)
                    next_step = f"retry after {later}"
                report["errors"].append(f"#{nid} {target}: {reason}; {next_step}")
    report["pending"] = outbox.count_pending()
    return report


def retry_wait_minutes(attempts: int, tries_per_run: int) -> int:
    """Minutes until the next run may retry a row that has ``attempts`` failed
    tries: 1 after its first failed run, then 2, 4, 8 ... at most 60."""
    failed_runs = max(1, math.ceil(attempts / max(1, tries_per_run)))
    return int(min(2 ** min(failed_runs - 1, 10), RETRY_WAIT_MAX_MINUTES))


def post(client: httpx.Client, url: str, body: str, tries: int, sleep: Callable[[float], None]) -> tuple[bool, int, str]:
    """POST ``body`` up to ``tries`` times until a 2xx; (delivered, tries made,
    why the last failed try failed or "")."""
    import httpx

    reason = ""
    for i in range(tries):
        if i:
            sleep(min(RETRY_SLEEP_FIRST * 2 ** (i - 1), RETRY_SLEEP_MAX))
        try:
            r = client.post(url, content=body.encode("utf-8"))
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as e:
            reason = failure(e)
            continue
        if 200 <= r.status_code < 300:
            return True, i + 1, reason
        reason = f"HTTP {r.status_code}"
    return False, tries, reason


def failure(e: BaseException) -> str:
    """A few words on why a POST failed (never the URL: it may hold a token)."""
    import httpx

    if isinstance(e, httpx.TimeoutException):
        return "timed out"
    chain: list[BaseException] = []
    cur: BaseException | None = e
    while cur is not None and len(chain) < 5:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    if any(isinstance(c, ConnectionRefusedError) for c in chain) or "refused" in str(e).lower():
        return "connection refused"
    if isinstance(e, httpx.ConnectError):
        return "cannot connect" + (": unknown host" if "name" in str(e).lower() else "")
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {text}"[:80] if text else type(e).__name__

"""Webhook notifications through a persistent outbox.

An escalation and its notifications are written in the same transaction
(:func:`enqueue`), so a crash can lose neither; delivery happens afterwards,
outside any transaction, and a target that is down only delays it: the row
stays ``pending`` and the next run (``sweep`` or ``notify send``) tries again.

One row's life::

    enqueue ──> pending ──(2xx)──────────────────────────> sent
                  │  ^
      no 2xx this │  │ next_attempt_at = now + 1, 2, 4 .. 60 min
             run  v  │
               (attempts += tries) ──(attempts >= give_up_after)──> failed

Delivery is at-least-once: a row is marked ``sent`` in its own small
transaction after the POST succeeded, so a crash (or a second deliverer
running at the same moment) between the two sends that row again; no row is
ever lost. Receivers that mind duplicates can key on the generic body's
``ticket`` + ``rule`` + ``at``.

httpx is imported inside :func:`deliver` only: the outbox is written by
headless commands that must start fast, and only delivery needs the network.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from ticketctl.core.config import Config
from ticketctl.core.config.sweep import NotifyConfig, NotifyTarget
from ticketctl.core.message import render
from ticketctl.core.model import iso
from ticketctl.errors import BadInput, Refused
from ticketctl.i18n import _
from ticketctl.store.db import Store

if TYPE_CHECKING:
    import httpx

    from ticketctl.services.env import Env
    from ticketctl.store.notifications import NewRow

#: pause before the 2nd, 3rd, ... try of one row within a run: 0.2 s, 0.4 s, 0.8 s, then 1 s each
RETRY_SLEEP_FIRST = 0.2
RETRY_SLEEP_MAX = 1.0
#: wait before the next run may try a row again: 1, 2, 4, ... minutes per failed run, at most this
RETRY_WAIT_MAX_MINUTES = 60


class DeliveryReport(TypedDict):
    """What one :func:`deliver` run did (the ``--json`` of ``notify send``)."""

    sent: int  # rows delivered in this run
    pending: int  # rows still pending in the outbox after this run (due or not)
    failed: int  # rows given up on in this run
    errors: list[str]  # one short line per row tried and not delivered in this run


class NotificationPublic(TypedDict):
    """One outbox row as ``notify list --json`` shows it. The URL and body are
    left out: a webhook URL often carries its secret token."""

    id: int
    created_at: str
    target: str
    rule: str
    ticket: str | None
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: str | None  # null unless pending
    sent_at: str | None


def body_for(fmt: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The POST body in a target's format: generic JSON, Slack, WeCom or DingTalk.

    The chat formats' text is for people: in the sender's language (the team's
    config ``lang``), the message rendered from its template when it is a
    ``Message``. The generic body is for programs: its keys and its English
    ``message`` stay as they are."""
    text = _("[ticketctl] {rule}: {message}").format(rule=payload["rule"], message=render(payload["message"]))
    if fmt == "slack":
        return {"text": text}
    if fmt in ("wecom", "dingtalk"):
        return {"msgtype": "text", "text": {"content": text}}
    return payload


def _payload(now: datetime, ticket: str | None, rule: str, message: str, to: list[str]) -> dict[str, Any]:
    return {"event": "escalation", "ticket": ticket, "rule": rule, "message": message, "to": to, "at": iso(now)}


def _row(now: datetime, name: str, t: NotifyTarget, payload: dict[str, Any]) -> NewRow:
    return (iso(now), name, t.url, json.dumps(body_for(t.format, payload), ensure_ascii=False), payload["ticket"],
            payload["rule"], iso(now))


def enqueue(st: Store, cfg: Config, now: datetime, ticket: str | None, rule: str, message: str, to: list[str]) -> int:
    """Queue one notification per target that takes ``rule`` (call inside
    ``st.transaction()``); returns how many were queued. The body is finished
    here, the chat text in the current language (see :func:`body_for`)."""
    payload = _payload(now, ticket, rule, message, to)
    rows = [_row(now, name, t, payload) for name, t in cfg.notify.targets.items() if not t.rules or rule in t.rules]
    st.notifications.enqueue(rows)
    return len(rows)


# -- delivery ---------------------------------------------------------------------------


def deliver(
    env: Env,
    now: datetime | None = None,
    *,
    force: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    ids: Sequence[int] | None = None,
) -> DeliveryReport:
    """Send the pending notifications that are due; returns what happened.

    Call it outside any transaction (``sweep`` calls it after its commit).
    ``now`` defaults to ``env.now``; ``force`` sends every pending row, due or
    not (``notify send``); ``ids`` limits the run to these rows (``notify test``);
    ``sleep`` is the pause between tries (tests pass a no-op).

    Per row, oldest first: up to ``notify.tries_per_run`` POSTs of the stored
    body (never more than ``give_up_after`` in all), ``sleep``-ing 0.2 s, 0.4 s,
    ... (at most 1 s) between them; any 2xx marks it ``sent``. Otherwise its
    ``attempts`` grow by the tries made, ``last_error`` says why in a few words
    ("connection refused", "HTTP 503", "timed out"), and it waits 1, 2, 4 ...
    60 minutes for the next run, or turns ``failed`` once ``give_up_after``
    tries are spent. Once one row of a target was not delivered, the target's
    other rows wait for the next run untouched: a dead endpoint costs one
    row's tries per run, not one per row.

    Each row's outcome is committed in its own transaction right after its
    POSTs, so delivery is at-least-once (see the module docstring). One
    httpx client (one connection pool) serves the whole run. Never raises
    for a delivery failure; the report's ``errors`` lists them.
    """
    cfg = env.config.notify
    st = env.store
    now = env.now if now is None else now
    rows = _pending(st, now, force, ids)
    report = DeliveryReport(sent=0, pending=0, failed=0, errors=[])
    dead: set[str] = set()
    if rows:
        import httpx  # only when there is something to send: ~0.1 s of imports

        with httpx.Client(timeout=cfg.timeout, follow_redirects=False,
                          headers={"content-type": "application/json", "user-agent": "ticketctl"}) as client:
            for nid, target, url, body, attempts in rows:
                if target in dead:
                    continue
                budget = max(1, min(cfg.tries_per_run, cfg.give_up_after - attempts))
                ok, tries, reason = _post(client, url, body, budget, sleep)
                if not ok:
                    dead.add(target)
                status, next_step = _record(st, cfg, now, nid, attempts + tries, ok, reason)
                if status == "sent":
                    report["sent"] += 1
                    continue
                if status == "failed":
                    report["failed"] += 1
                report["errors"].append(f"#{nid} {target}: {reason}; {next_step}")
    report["pending"] = st.notifications.count_pending()
    return report


def _record(st: Store, cfg: NotifyConfig, now: datetime, nid: int, total: int, ok: bool, reason: str) -> tuple[str, str]:
    """Commit one row's outcome in its own transaction; (new status, what
    happens next). ``reason`` is why the last failed try failed ("" if none)."""
    with st.transaction():
        if ok:
            st.notifications.mark_sent(nid, total, iso(now), reason)
            return "sent", ""
        if total >= cfg.give_up_after:
            st.notifications.mark_failed(nid, total, reason)
            return "failed", f"gave up after {total} tries"
        later = iso(now + timedelta(minutes=retry_wait_minutes(total, cfg.tries_per_run)))
        st.notifications.retry_later(nid, total, reason, later)
        return "pending", f"retry after {later}"


def retry_wait_minutes(attempts: int, tries_per_run: int) -> int:
    """Minutes until the next run may retry a row that has ``attempts`` failed
    tries: 1 after its first failed run, then 2, 4, 8 ... at most 60."""
    failed_runs = max(1, math.ceil(attempts / max(1, tries_per_run)))
    return int(min(2 ** min(failed_runs - 1, 10), RETRY_WAIT_MAX_MINUTES))


def _pending(st: Store, now: datetime, force: bool, ids: Sequence[int] | None) -> list[tuple[int, str, str, str, int]]:
    return st.notifications.due(None if force else iso(now), ids)


def _post(client: httpx.Client, url: str, body: str, tries: int, sleep: Callable[[float], None]) -> tuple[bool, int, str]:
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
            reason = _reason(e)
            continue
        if 200 <= r.status_code < 300:
            return True, i + 1, reason
        reason = f"HTTP {r.status_code}"
    return False, tries, reason


def _reason(e: BaseException) -> str:
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


# -- the notify commands' use cases ---------------------------------------------------------


def _public(row: Sequence[Any]) -> NotificationPublic:
    nid, created, target, rule, ticket, status, attempts, err, nxt, sent = row
    return NotificationPublic(
        id=nid, created_at=created, target=target, rule=rule, ticket=ticket, status=status, attempts=attempts,
        last_error=err, next_attempt_at=nxt if status == "pending" else None, sent_at=sent,
    )


def listing(env: Env, statuses: Sequence[str] | None = None, limit: int | None = 100) -> list[NotificationPublic]:
    """Outbox rows, newest first; only ``statuses`` if given."""
    return [_public(r) for r in env.store.notifications.listing(statuses, limit)]


def send_test(env: Env, target: str, sleep: Callable[[float], None] = time.sleep) -> NotificationPublic:
    """Queue one test notification to ``target`` (whatever its rules) and send it now.

    A test is a probe, not an alert: when it is not delivered it is marked
    ``failed`` at once (never retried later) and Refused says why.
    Raises BadInput for a target the config does not name."""
    targets = env.config.notify.targets
    if target not in targets:
        known = ", ".join(sorted(targets)) or _("none; add [notify.targets.NAME] with a url to config.toml")
        raise BadInput(_("no notify target {target!r} (configured: {known})").format(target=target, known=known))
    now = env.now
    payload = _payload(now, None, "test", _("test notification to {target} from {actor}").format(target=target, actor=env.actor), [])
    st = env.store
    with st.transaction():
        nid = st.notifications.enqueue_one(_row(now, target, targets[target], payload))
    report = deliver(env, now, force=True, sleep=sleep, ids=[nid])
    if not report["sent"]:
        with st.transaction():
            st.notifications.mark_failed(nid)
    row = _public(st.notifications.row(nid))
    if row["status"] != "sent":
        raise Refused(_("test notification #{id} to {target} not delivered: {error}").format(
            id=nid, target=target, error=row["last_error"]))
    return row

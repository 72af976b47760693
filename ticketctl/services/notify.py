"""Webhook notifications through a persistent outbox in the device's store.

An escalation and its notifications are written in the same transaction
(:func:`enqueue`), so a crash can lose neither; delivery happens afterwards,
outside any transaction, and a target that is down only delays it: the row
stays ``pending`` and the next run (``sweep`` or ``notify send``) tries again.
How a row is posted, retried and given up on is ``services.delivery``'s, the
same for the server's outbox in a team (``server.jobs``); this module says
where a device's rows live (:class:`StoreOutbox`) and what a body holds
(:func:`body`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from ticketctl.core.config import Config
from ticketctl.core.config.sweep import NotifyTarget, reached
from ticketctl.core.labels import label
from ticketctl.core.message import render
from ticketctl.core.model import iso
from ticketctl.errors import BadInput, Refused
from ticketctl.i18n import _
from ticketctl.services import delivery
from ticketctl.services.delivery import DeliveryReport
from ticketctl.store.db import Store

if TYPE_CHECKING:
    from ticketctl.services.env import Env
    from ticketctl.store.notifications import NewRow


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


def escalation(at: str, ticket: str | None, rule: str, message: str, to: list[str]) -> dict[str, Any]:
    """The generic body of an escalation's notification (``at``: when it was escalated)."""
    return {"event": "escalation", "ticket": ticket, "rule": rule, "message": message, "to": to, "at": at}


def body(t: NotifyTarget, payload: dict[str, Any]) -> str:
    """The POST body a target is sent for ``payload`` (:func:`escalation`), as the outbox stores it."""
    return json.dumps(body_for(t.format, payload), ensure_ascii=False)


def _payload(now: datetime, ticket: str | None, rule: str, message: str, to: list[str]) -> dict[str, Any]:
    return escalation(iso(now), ticket, rule, message, to)


def _row(now: datetime, name: str, t: NotifyTarget, payload: dict[str, Any]) -> NewRow:
    return (iso(now), name, t.url, body(t, payload), payload["ticket"], payload["rule"], iso(now))


def enqueue(st: Store, cfg: Config, now: datetime, ticket: str | None, rule: str, message: str, to: list[str]) -> int:
    """Queue one notification per target that takes ``rule`` (call inside
    ``st.transaction()``); returns how many were queued. The body is finished
    here, the chat text in the current language (see :func:`body_for`)."""
    payload = _payload(now, ticket, rule, message, to)
    rows = [_row(now, name, cfg.notify.targets[name], payload) for name in reached(cfg.notify, rule)]
    st.notifications.enqueue(rows)
    return len(rows)


def unreached_reason(cfg: Config, rule: str) -> str | None:
    """Why an escalation of ``rule`` reaches no one, in the current language, or None when a target
    takes it (``core.config.sweep.reached`` decides)."""
    if reached(cfg.notify, rule):
        return None
    if not cfg.notify.targets:
        return _("no notification target configured")
    return _("no notification target takes {rule}").format(rule=label("rule", rule.split("@", 1)[0], cfg))


# -- delivery ---------------------------------------------------------------------------


class StoreOutbox:
    """The device's outbox (its store's ``notifications`` part) as
    :class:`ticketctl.services.delivery.Outbox`: each outcome in its own transaction."""

    def __init__(self, st: Store):
        self.st = st

    def due(self, now: str | None, ids: Sequence[int] | None = None) -> list[delivery.Due]:
        return self.st.notifications.due(now, ids)

    def mark_sent(self, nid: int, attempts: int, at: str, reason: str) -> None:
        with self.st.transaction():
            self.st.notifications.mark_sent(nid, attempts, at, reason)

    def mark_failed(self, nid: int, attempts: int, reason: str) -> None:
        with self.st.transaction():
            self.st.notifications.mark_failed(nid, attempts, reason)

    def retry_later(self, nid: int, attempts: int, reason: str, at: str) -> None:
        with self.st.transaction():
            self.st.notifications.retry_later(nid, attempts, reason, at)

    def count_pending(self) -> int:
        return self.st.notifications.count_pending()


def deliver(
    env: Env,
    now: datetime | None = None,
    *,
    force: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    ids: Sequence[int] | None = None,
) -> DeliveryReport:
    """Send this device's pending notifications that are due (:func:`ticketctl.services.delivery.deliver`);
    returns what happened.

    Call it outside any transaction (``sweep`` calls it after its commit).
    ``now`` defaults to ``env.now``; ``force`` sends every pending row, due or
    not (``notify send``); ``ids`` limits the run to these rows (``notify test``);
    ``sleep`` is the pause between tries (tests pass a no-op)."""
    return delivery.deliver(StoreOutbox(env.store), env.config.notify, env.now if now is None else now,
                            force=force, ids=ids, sleep=sleep)


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
    row = _test_one(env, target, sleep)
    if row["status"] != "sent":
        raise Refused(_("test notification #{id} to {target} not delivered: {error}").format(
            id=row["id"], target=target, error=row["last_error"]))
    return row


def send_tests(env: Env, sleep: Callable[[float], None] = time.sleep) -> list[NotificationPublic]:
    """A test notification to every configured target, in config order, each sent now (see
    :func:`send_test`); each row says ``sent`` or ``failed`` and why. Raises BadInput when no target is
    configured: then nothing can be told at all."""
    if not env.config.notify.targets:
        raise BadInput(_("no notification target configured; add [notify.targets.NAME] with a `url` to config.toml"))
    return [_test_one(env, name, sleep) for name in env.config.notify.targets]


def _test_one(env: Env, target: str, sleep: Callable[[float], None]) -> NotificationPublic:
    """Queue and send one test to a configured ``target``; a failed test is marked failed, never retried."""
    now = env.now
    payload = _payload(now, None, "test", _("test notification to {target} from {actor}").format(target=target, actor=env.actor), [])
    st = env.store
    with st.transaction():
        nid = st.notifications.enqueue_one(_row(now, target, env.config.notify.targets[target], payload))
    report = deliver(env, now, force=True, sleep=sleep, ids=[nid])
    if not report["sent"]:
        with st.transaction():
            st.notifications.mark_failed(nid)
    return _public(st.notifications.row(nid))

"""What ``ticketctl sweep`` watches for (``[sweep]``) and where it says so
(``[notify]``: webhooks, sent from a persistent outbox)."""

from __future__ import annotations

from dataclasses import dataclass

from ticketctl.core.config.base import check_duration, doc
from ticketctl.i18n import _

NOTIFY_FORMATS = ("json", "slack", "wecom", "dingtalk")


@dataclass
class SweepConfig:
    """Thresholds of `ticketctl sweep` (durations: `30m`, `4h`, `2d`; wall time unless said)."""

    silent_after: str = doc("Unassigned this long ...", "2h")
    silent_sla_left: str = doc("... with less business time than this left to resolve -> escalate (silent ticket).", "4h")
    at_risk_share: float = doc("An SLA clock with less than this share of its target left is at risk.", 0.2)
    stall_after: str = doc("in_progress with no update this long -> ask the holder why (stall check).", "4h")
    batch_size: int = doc("This many open tickets with the same product and fault in one zone ...", 5)
    batch_window: str = doc("... created within this window -> one parent batch ticket links them.", "24h")
    max_tickets: int = doc(
        "Tickets one run acts on at most, most urgent first; the rest wait for the next run, so a first sweep over a"
        " large neglected backlog escalates over several runs instead of locking the store and flooding everyone.",
        2000,
    )


@dataclass
class NotifyTarget:
    """One webhook."""

    url: str = doc("Where to POST (http or https).", "")
    format: str = doc("Body shape: json (generic), slack, wecom or dingtalk.", "json")
    rules: list[str] = doc("Only escalations of these rules (empty: all).", factory=list)


@dataclass
class NotifyConfig:
    """Webhook notifications, sent from a persistent outbox."""

    targets: dict[str, NotifyTarget] = doc("Webhook targets by name.", factory=dict)
    timeout: float = doc("Seconds to wait for one delivery.", 5.0)
    tries_per_run: int = doc("Deliveries tried per notification in one run, with backoff, before waiting for the next.", 3)
    give_up_after: int = doc("Tries in all before a notification is marked failed.", 20)


def reached(notify: NotifyConfig, rule: str) -> list[str]:
    """Whom an escalation of ``rule`` (``stall@...`` or ``stall``) reaches: the names of the configured targets
    that take it, in config order. A target is a channel (a webhook), not a person: an escalation's recipients (roles,
    people) are told only through these, so an empty list means no one is told. The one place that decides it
    (the outbox queues for exactly these, ``sweep`` and the timeline mark the rest)."""
    base = rule.split("@", 1)[0]
    return [name for name, t in notify.targets.items() if not t.rules or base in t.rules]


def check_sweep(sw: SweepConfig) -> None:
    """Raise ValueError naming the first ``sweep.*`` key that is wrong."""
    for k in ("silent_after", "silent_sla_left", "stall_after", "batch_window"):
        check_duration(f"sweep.{k}", getattr(sw, k))
    if not 0 < sw.at_risk_share < 1:
        raise ValueError(_("sweep.at_risk_share: must be between 0 and 1"))
    if sw.batch_size < 2:
        raise ValueError(_("sweep.batch_size: must be 2 or more"))
    if sw.max_tickets < 1:
        raise ValueError(_("sweep.max_tickets: must be 1 or more"))


def check_notify(notify: NotifyConfig) -> None:
    """Raise ValueError naming the first ``notify.*`` key that is wrong."""
    for name, nt in notify.targets.items():
        if not nt.url.startswith(("http://", "https://")):
            raise ValueError(_("{key}: {value!r} is not an http(s) URL").format(key=f"notify.targets.{name}.url", value=nt.url))
        if nt.format not in NOTIFY_FORMATS:
            raise ValueError(_("{key}: {value!r} is not one of {known}").format(
                key=f"notify.targets.{name}.format", value=nt.format, known=", ".join(NOTIFY_FORMATS)))
    if notify.timeout <= 0 or notify.tries_per_run < 1 or notify.give_up_after < 1:
        raise ValueError(_("notify: timeout, tries_per_run and give_up_after must be positive"))

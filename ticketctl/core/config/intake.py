"""Work that arrives by itself (``[intake]``): how monitoring alerts,
webhooks, the support mailbox and the web form become tickets. The rules that
read it are ``core.intake``."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from ticketctl.core.config.base import check_duration, doc
from ticketctl.core.config.sla import PRIORITIES
from ticketctl.i18n import _


@dataclass
class AlertRule:
    """Where a monitoring alert goes: the first rule (by `order`, then name) whose
    `match` holds for the alert's labels gives its fields."""

    order: int = doc("Rules are tried by `order`, then name.", 0)
    match: dict[str, str] = doc(
        "Label name -> regular expression the whole value must match (`{ team = \"net|fibre\" }`); every one must hold"
        " (empty: any alert).", factory=dict)
    dept: str = doc("Department of the ticket (empty: `intake.dept`).", "")
    product: str = doc("Product (empty: the `service` label, else `intake.product`).", "")
    fault: str = doc("Fault type (empty: the `alertname` label).", "")
    type: str = doc("Ticket type (empty: `intake.type`).", "")


@dataclass
class IntakeConfig:
    """Work that arrives by itself (`ticketctl server add-source`): monitoring alerts,
    webhooks, the support mailbox and the customers' web form."""

    dept: str = doc("Department of tickets no rule places.", "operations")
    product: str = doc("Product of tickets that name none.", "general")
    type: str = doc("Type of the tickets intake opens (a key of `types`).", "repair")
    severity_label: str = doc("The alert label that gives the priority (through `intake.priorities`).", "severity")
    priorities: dict[str, str] = doc(
        "Alert severity -> priority; a severity not listed is `medium`.",
        factory=lambda: {"critical": "urgent", "page": "urgent", "error": "high", "major": "high", "warning": "medium",
                         "minor": "low", "info": "low"})
    alert_rules: dict[str, AlertRule] = doc("Label rules for monitoring alerts, by name.", factory=dict)
    resolve_on_resolved: bool = doc(
        "When monitoring says an alert is resolved, resolve its ticket too (else only a note says so).", False)
    web_per_hour: int = doc("Tickets one address may open through the web form per hour.", 5)
    max_photo_kb: int = doc("Largest photo the web form takes, in KiB.", 5120)
    max_mail_kb: int = doc("Largest mail `intake imap` hands to the server (text and attachments), in KiB.", 20480)
    webhook_window: str = doc(
        "How far a signed webhook's time (`X-Ticketctl-Timestamp`) may lie from the server's clock, either way (`5m`);"
        " within it, a delivery seen before is refused as a replay.", "5m")


def check_intake(i: IntakeConfig, types: Collection[str]) -> None:
    """Raise ValueError naming the first ``intake.*`` key that is wrong;
    ``types`` are the ticket types the config knows."""
    for sev, prio in i.priorities.items():
        if prio not in PRIORITIES:
            raise ValueError(_("{key}: {value!r} is not one of {known}").format(
                key=f"intake.priorities.{sev}", value=prio, known=", ".join(PRIORITIES)))
    named = [("intake.type", i.type), *((f"intake.alert_rules.{n}.type", r.type) for n, r in i.alert_rules.items())]
    for key, value in named:
        if value and value not in types:
            raise ValueError(_("{key}: {value!r} is not one of {known}").format(key=key, value=value, known=", ".join(types)))
    for name, rule in i.alert_rules.items():
        for label, pattern in rule.match.items():
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(_("{key}: {value!r} is not a regular expression ({why})").format(
                    key=f"intake.alert_rules.{name}.match.{label}", value=pattern, why=e)) from None
    for key in ("web_per_hour", "max_photo_kb", "max_mail_kb"):
        if getattr(i, key) < 1:
            raise ValueError(_("{key}: must be at least 1").format(key=f"intake.{key}"))
    check_duration("intake.webhook_window", i.webhook_window)

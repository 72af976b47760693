"""Work that arrives by itself: what a monitoring alert, a webhook call or a mail
says, as the fields of a ticket and the note a repeat writes.

Pure: no database, no clock. ``ticketctl.server.intake.doors`` runs these on the server
for each door (a *source*: ``ticketctl server add-source NAME --kind KIND``) and
writes the tickets as the source's own device, ``intake:NAME``.

Each arrival names its *ref*, its identity within the source (an alert's
fingerprint, a webhook's ``id``, a mail's Message-ID): the same ref arriving
again while its ticket is open notes that ticket instead of opening another.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ticketctl.core.config import AlertRule, Config
from ticketctl.i18n import _

#: the kinds of door, the channel their tickets record and the key prefix they get
KINDS = ("alertmanager", "webhook", "imap", "web")
CHANNELS = {"alertmanager": "alert", "webhook": "webhook", "imap": "email", "web": "web"}
PREFIXES = {"alertmanager": "ALR", "webhook": "HOOK", "imap": "MAIL", "web": "WEB"}
#: a ticket in one of these takes a repeat as a note; otherwise the repeat opens a new one
OPEN_STATUSES = ("new", "assigned", "in_progress", "blocked")
TITLE_MAX = 200
TEXT_MAX = 19_000  # under the 20,000 characters a mutation's text may hold

#: ``[KEY]`` in a reply's subject names the ticket it answers
SUBJECT_KEY = re.compile(r"\[([A-Z]{1,12}-[0-9]{1,12})\]")


def device_name(source: str) -> str:
    """The identity a source writes under (its events' actor and device)."""
    return f"intake:{source}"


def clip(text: str, n: int) -> str:
    text = text.replace("\x00", "")
    return text if len(text) <= n else text[: n - 1] + "…"


def one_line(text: str) -> str:
    return " ".join(text.split())


# -- monitoring (Prometheus Alertmanager, webhook version 4) ------------------------


def fingerprint(alert: dict[str, Any]) -> str:
    """The alert's identity: Alertmanager's own ``fingerprint``, else a hash of its
    sorted labels (what Alertmanager's fingerprint is made from)."""
    fp = str(alert.get("fingerprint") or "").strip()
    if fp:
        return fp
    labels = alert.get("labels") or {}
    text = "\x00".join(f"{k}\x01{labels[k]}" for k in sorted(labels))
    return "labels:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def alert_rule(labels: dict[str, str], cfg: Config) -> AlertRule | None:
    """The first rule (by order, then name) whose every matcher holds."""
    for _name, rule in sorted(cfg.intake.alert_rules.items(), key=lambda kv: (kv[1].order, kv[0])):
        if all(re.fullmatch(pattern, labels.get(label, "")) for label, pattern in rule.match.items()):
            return rule
    return None


def alert_fields(alert: dict[str, Any], cfg: Config) -> dict[str, Any]:
    """A new ticket's fields for a firing alert: placed by the label rules, its
    priority from the severity label, the summary as its title."""
    labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
    notes = {str(k): str(v) for k, v in (alert.get("annotations") or {}).items()}
    rule = alert_rule(labels, cfg) or AlertRule()
    i = cfg.intake
    name = labels.get("alertname", "")
    where = labels.get("instance") or labels.get("job") or ""
    title = notes.get("summary") or notes.get("title") or " ".join(x for x in (name, where) if x) or _("monitoring alert")
    lines = [notes[k] for k in ("description", "message") if notes.get(k)]
    lines.append(", ".join(f"{k}={v}" for k, v in sorted(labels.items())))
    if alert.get("generatorURL"):
        lines.append(str(alert["generatorURL"]))
    if alert.get("startsAt"):
        lines.append(_("firing since {at}").format(at=alert["startsAt"]))
    return {
        "title": clip(one_line(title), TITLE_MAX),
        "description": clip("\n".join(lines), TEXT_MAX),
        "type": rule.type or i.type,
        "dept": rule.dept or i.dept,
        "product": rule.product or labels.get("service") or i.product,
        "fault": rule.fault or name,
        "priority": i.priorities.get(labels.get(i.severity_label, "").lower(), "medium"),
        "impact": "system",
        "channel": CHANNELS["alertmanager"],
    }


def alert_note(alert: dict[str, Any]) -> str:
    """What a repeat of a firing alert, or its resolution, writes on the ticket."""
    notes = alert.get("annotations") or {}
    summary = one_line(str(notes.get("summary") or (alert.get("labels") or {}).get("alertname") or ""))
    if alert.get("status") == "resolved":
        text = _("monitoring: resolved at {at}").format(at=alert.get("endsAt") or "?")
    else:
        text = _("monitoring: still firing (since {at})").format(at=alert.get("startsAt") or "?")
    return clip(f"{text}: {summary}" if summary else text, TEXT_MAX)


# -- a generic JSON webhook -------------------------------------------------------------


def webhook_fields(body: dict[str, Any], cfg: Config) -> dict[str, Any]:
    """A new ticket's fields from a webhook's JSON (``title`` and optional
    ``description``, ``dept``, ``product``, ``fault``, ``priority``, ``customer``)."""
    i = cfg.intake
    return {
        "title": clip(one_line(str(body["title"])), TITLE_MAX),
        "description": clip(str(body.get("description") or ""), TEXT_MAX),
        "type": i.type,
        "dept": str(body.get("dept") or i.dept),
        "product": str(body.get("product") or i.product),
        "fault": str(body.get("fault") or ""),
        "priority": str(body.get("priority") or "medium"),
        "customer": str(body.get("customer") or ""),
        "channel": CHANNELS["webhook"],
    }


def webhook_note(body: dict[str, Any]) -> str:
    what = _("resolved") if body.get("status") == "resolved" else _("again")
    title = one_line(str(body.get("title") or ""))
    return clip(_("webhook: {what}: {title}").format(what=what, title=title), TEXT_MAX)


# -- mail -----------------------------------------------------------------------------


def mail_key(subject: str) -> str | None:
    """The ticket a reply names in its subject (``Re: [MAIL-3] printer``)."""
    m = SUBJECT_KEY.search(subject or "")
    return m.group(1) if m else None


def mail_fields(mail: dict[str, Any], cfg: Config) -> dict[str, Any]:
    """A new ticket's fields from a mail: the subject as title, the text as
    description, the sender as the customer."""
    i = cfg.intake
    return {
        "title": clip(one_line(str(mail["subject"])), TITLE_MAX),
        "description": clip(str(mail.get("text") or ""), TEXT_MAX),
        "type": i.type,
        "dept": i.dept,
        "product": i.product,
        "customer": clip(one_line(str(mail.get("sender") or "")), 200),
        "channel": CHANNELS["imap"],
    }


def mail_note(mail: dict[str, Any]) -> str:
    sender = one_line(str(mail.get("sender") or ""))
    text = str(mail.get("text") or "").strip() or one_line(str(mail.get("subject") or ""))
    return clip(_("mail from {sender}: {text}").format(sender=sender or "?", text=text), TEXT_MAX)

"""What each door takes, as pydantic models (the server validates with them,
and publishes them in its OpenAPI schema): Alertmanager's webhook, the generic
signed webhook, and a mail as ``ticketctl intake imap`` hands it over."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ticketctl.core import intake as I

#: largest body each door reads (bytes); more is 413 before anything reads it (``server.limits``)
ALERT_BODY_MAX = 2 * 1024 * 1024
WEBHOOK_BODY_MAX = 256 * 1024
MAX_ALERTS = 1000


class Alert(BaseModel):
    """One alert of an Alertmanager notification."""

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str = Field("", max_length=64)
    endsAt: str = Field("", max_length=64)
    generatorURL: str = Field("", max_length=2000)
    fingerprint: str = Field("", max_length=200)


class AlertmanagerPayload(BaseModel):
    """Alertmanager's webhook body, version 4 (``webhook_config`` in alertmanager.yml)."""

    version: str = Field("4", max_length=8)
    groupKey: str = Field("", max_length=2000)
    truncatedAlerts: int = Field(0, ge=0)
    status: Literal["firing", "resolved"] = "firing"
    receiver: str = Field("", max_length=200)
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = Field("", max_length=2000)
    alerts: list[Alert] = Field(max_length=MAX_ALERTS)


class WebhookPayload(BaseModel):
    """A generic webhook: one ticket per ``id`` (repeats while it is open are notes)."""

    title: str = Field(min_length=1, max_length=500)
    id: str = Field("", max_length=200, description="Your identity for this event: a repeat of it notes its open ticket.")
    status: Literal["open", "resolved"] = "open"
    description: str = Field("", max_length=I.TEXT_MAX)
    dept: str = Field("", max_length=100)
    product: str = Field("", max_length=100)
    fault: str = Field("", max_length=100)
    priority: Literal["", "urgent", "high", "medium", "low"] = ""
    customer: str = Field("", max_length=200)


class MailAttachment(BaseModel):
    name: str = Field(max_length=255)
    mime: str = Field("application/octet-stream", max_length=100)
    data: str = Field(description="The file, base64.")


class Mail(BaseModel):
    """One message as ``ticketctl intake imap`` reads it."""

    message_id: str = Field(min_length=1, max_length=300)
    in_reply_to: list[str] = Field(default_factory=list, max_length=100, description="In-Reply-To and References.")
    subject: str = Field(max_length=2000)
    sender: str = Field("", max_length=500)
    text: str = Field("", max_length=200_000)
    attachments: list[MailAttachment] = Field(default_factory=list, max_length=50)

"""The server's doors for work that arrives by itself: monitoring alerts
(Prometheus Alertmanager's webhook, version 4), a generic JSON webhook signed
with HMAC-SHA256, and the mail ``ticketctl intake imap`` hands over. (The
customers' web form is ``server.web.form``, on the same :class:`Door`.)

Every source is a device of its own, ``intake:NAME`` (``ticketctl server
add-source``): its tickets and notes are events in the team's log, synced to
every device like anyone's work, and the audit says which door each came
from. A source authenticates with ``Authorization: Bearer TOKEN``; a webhook
instead signs each delivery with the token as the key, as Stripe and Slack do:
``X-Ticketctl-Timestamp: UNIX_SECONDS`` and ``X-Signature-256: sha256=HEX``
(GitHub's header name ``X-Hub-Signature-256`` is accepted too), HEX being the
HMAC-SHA256 of ``"{timestamp}.{body}"``. A delivery is refused when its time is
further from the server's clock than ``intake.webhook_window`` (401), and when
it was taken before (409): its signature is kept in ``webhook_deliveries``, in
the transaction that writes what it brought, so this holds across workers and
servers on one database. A signature of the body alone (GitHub's own
deliveries) is refused: nothing would stop it being replayed.

Each request is one transaction under the sequence lock: the tickets it opens,
the notes it adds and the refs it remembers commit together or not at all,
and two requests for the same alert are judged one after the other (one
ticket, then a note). Bad input is a 4xx and writes nothing.
"""


import asyncio
import base64
import logging
import time
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import Engine

from ticketctl.core import intake as I
from ticketctl.core.config import Config, parse_duration
from ticketctl.errors import TicketctlError
from ticketctl.home import Home
from ticketctl.server.intake.bodies import AlertmanagerPayload, Mail, MailAttachment, WebhookPayload
from ticketctl.server.intake.door import Door, Writer
from ticketctl.server.intake.sources import Source, bearer_source, signed_source
from ticketctl.server.store.engine import token_hash

log = logging.getLogger("ticketctl.server")


def router(engine: Engine, home: Home, cfg: Config) -> APIRouter:
    r = APIRouter(tags=["intake"])

    writer = Writer(engine, home, cfg)

    def door(src: Source, work: Callable[[Door], Any]) -> dict[str, Any]:
        """Run ``work`` as ``src`` in the writer's next transaction (from a worker thread)."""
        return writer.submit(lambda _c, _table: src, work).result()

    def imap_source(authorization: Annotated[str | None, Header()] = None) -> Source:
        return bearer_source(engine, authorization, "imap")

    known: set[str] = set()  # hashes of alertmanager tokens seen valid (the writer checks again, in its transaction)

    async def alertmanager_gate(authorization: Annotated[str | None, Header()] = None) -> str | None:
        """Who calls, before the body is read: a token seen valid passes at once; any other
        is looked up (401, 403 answered here, as for every door)."""
        if authorization and authorization.startswith("Bearer ") and token_hash(authorization[7:].strip()) in known:
            return authorization
        await run_in_threadpool(bearer_source, engine, authorization, "alertmanager")
        known.add(token_hash(str(authorization)[7:].strip()))
        return authorization

    @r.post("/intake/alertmanager")
    async def alertmanager(body: AlertmanagerPayload, authorization: Annotated[str | None, Depends(alertmanager_gate)]) -> JSONResponse:
        """Prometheus Alertmanager's webhook: a firing alert opens a ticket (placed by
        ``intake.alert_rules``), firing again while its ticket is open notes it, resolved
        notes it (and with ``intake.resolve_on_resolved`` settles it). Returns ``opened``
        and ``noted`` ticket keys."""

        def work(d: Door) -> None:
            for a in body.alerts:
                alert = a.model_dump()
                ref = I.fingerprint(alert)
                key = d.ticket_for(ref)
                if a.status == "firing":
                    if key is None:
                        d.remember(ref, d.open(I.alert_fields(alert, cfg)))
                    else:
                        d.note(key, I.alert_note(alert))
                elif key is not None:
                    if cfg.intake.resolve_on_resolved:
                        d.settle(key, I.alert_note(alert))
                    else:
                        d.note(key, I.alert_note(alert))

        # no thread of its own: the token is checked and the alerts written in the writer's transaction
        return JSONResponse(await asyncio.wrap_future(writer.submit(
            lambda c, table: table.bearer(c, authorization, "alertmanager"), work)))

    window_s = parse_duration(cfg.intake.webhook_window, 86_400)

    @r.post("/intake/webhook/{name}", openapi_extra={"requestBody": {
        "required": True, "content": {"application/json": {"schema": WebhookPayload.model_json_schema()}}}})
    async def webhook(name: str, request: Request,
                      x_signature_256: Annotated[str | None, Header()] = None,
                      x_hub_signature_256: Annotated[str | None, Header()] = None,
                      x_ticketctl_timestamp: Annotated[str | None, Header(description="The unix time it was signed at.")] = None,
                      ) -> dict[str, Any]:
        """A generic JSON webhook (``WebhookPayload``), signed: ``X-Ticketctl-Timestamp: UNIX_SECONDS``
        and ``X-Signature-256: sha256=HEX``, the HMAC-SHA256 of ``"{timestamp}.{body}"`` (the raw
        body) under the source's token. 401 outside ``intake.webhook_window``, 409 for a delivery
        taken before."""
        raw = await request.body()
        return await run_in_threadpool(_webhook, name, raw, x_signature_256 or x_hub_signature_256, x_ticketctl_timestamp)

    def _webhook(name: str, raw: bytes, signature: str | None, timestamp: str | None) -> dict[str, Any]:
        now = int(time.time())
        src = signed_source(engine, name, raw, signature, timestamp, window_s, now)
        delivery = (str(signature)[7:].strip().lower(), int(str(timestamp)))
        try:
            body = WebhookPayload.model_validate_json(raw)
        except ValidationError as e:  # the errors' own "input" may be bytes that are not UTF-8: only where and why
            raise HTTPException(422, [{"loc": list(x["loc"]), "msg": x["msg"], "type": x["type"]} for x in e.errors()]) from None
        data = body.model_dump()

        def work(d: Door) -> None:
            d.once(*delivery, forget_before=now - 2 * window_s)  # twice the window: room for servers' clocks that differ
            ref = body.id
            key = d.ticket_for(ref) if ref else None
            if body.status == "resolved":
                if key is not None:
                    (d.settle if cfg.intake.resolve_on_resolved else d.note)(key, I.webhook_note(data))
                return
            if key is not None:
                d.note(key, I.webhook_note(data))
                return
            key = d.open(I.webhook_fields(data, cfg))
            if ref:
                d.remember(ref, key)

        return door(src, work)

    @r.post("/intake/mail")
    def mail(body: Mail, src: Annotated[Source, Depends(imap_source)]) -> dict[str, Any]:
        """One mail from ``ticketctl intake imap``: a new message opens a ticket (its
        attachments as evidence by hash), a reply (``[KEY]`` in the subject, or an
        In-Reply-To/References naming a message the server has seen) notes its
        ticket (one that is closed or cancelled: a new ticket linked to it), a message
        handed over before changes nothing (``duplicate``)."""
        files: list[tuple[MailAttachment, bytes]] = []
        total = len(body.text.encode())
        for a in body.attachments:
            try:
                blob = base64.b64decode(a.data, validate=True)
            except ValueError:
                raise HTTPException(422, f"attachment {a.name!r} is not base64") from None
            total += len(blob)
            files.append((a, blob))
        if total > cfg.intake.max_mail_kb * 1024:
            raise HTTPException(413, f"the mail is larger than intake.max_mail_kb ({cfg.intake.max_mail_kb} KiB)")
        if not body.subject.strip():
            raise HTTPException(422, "a mail without a subject opens no ticket")
        data = body.model_dump(exclude={"attachments"})
        ref = "mid:" + body.message_id.strip()

        def work(d: Door) -> dict[str, Any]:
            had = d.seen(ref)
            if had is not None:
                return {"duplicate": True, "ticket": had}
            key = I.mail_key(body.subject)
            if key is not None and not d.st.has_ticket(key):
                key = None
            for parent in body.in_reply_to:
                key = key or d.seen("mid:" + parent.strip())
            earlier = key if key is not None and d.st.ticket(key).status in ("closed", "cancelled") else None
            if key is not None and earlier is None:
                d.note(key, I.mail_note(data))
            else:  # new, or a reply to a ticket that is over: a new ticket that names the earlier one
                fields = I.mail_fields(data, cfg)
                if earlier is not None:
                    fields["links"] = [earlier]
                    fields["description"] = I.clip(f"(re: {earlier}) " + fields["description"], I.TEXT_MAX)
                key = d.open(fields, str(uuid.uuid5(uuid.NAMESPACE_URL, f"ticketctl:{src.name}:{ref}")))
            for a, blob in files:
                if d.st.ticket(key).status in ("new", "assigned", "in_progress", "blocked", "resolved"):
                    try:
                        d.attach(key, blob, a.name, a.mime)
                    except TicketctlError as e:  # the same file twice in one ticket's round: noted once
                        log.info("mail %s: attachment %s not attached: %s", body.message_id, a.name, e)
            d.remember(ref, key)
            return {"duplicate": False, "ticket": key}

        return door(src, work)

    return r

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
import hashlib
import hmac
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Connection, Engine, delete, insert, select, update

from ticketctl.core import intake as I
from ticketctl.core.config import Config, parse_duration
from ticketctl.core.evidence import decide_attach
from ticketctl.core.model import parse_time
from ticketctl.errors import TicketctlError
from ticketctl.home import Home
from ticketctl.server import schema as S
from ticketctl.server.store.engine import lock_sequence, now_iso, token_hash
from ticketctl.server.store.team import ServerStore
from ticketctl.services import tickets
from ticketctl.services.env import Env
from ticketctl.services.mutations import intent

log = logging.getLogger("ticketctl.server")

#: largest body each door reads (bytes); more is 413 before anything reads it (``server.limits``)
ALERT_BODY_MAX = 2 * 1024 * 1024
WEBHOOK_BODY_MAX = 256 * 1024
MAX_ALERTS = 1000


# -- request bodies (also the OpenAPI schema) --------------------------------------------


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


# -- the writer -----------------------------------------------------------------------


class Door:
    """One request's writes as source ``name``: opens tickets (keyed with the
    source's prefix and its own counter), notes them, attaches files, and
    remembers refs; :meth:`commit` writes it all. Runs inside the caller's
    transaction, which holds the sequence lock."""

    def __init__(self, c: Connection, home: Home, cfg: Config, name: str, prefix: str, lock: bool = True):
        from ticketctl.server.context import server_env

        if lock:
            lock_sequence(c)
        self.c, self.name, self.prefix = c, name, prefix
        self.st = ServerStore(c, I.device_name(name), prefix)
        self.env: Env = server_env(home, cfg, self.st, I.device_name(name), parse_time(now_iso()))
        self.opened: list[str] = []
        self.noted: list[str] = []
        # written at commit, like the store's buffers, so that one refused arrival of a batch can be undone
        self._refs: dict[str, str] = {}
        self._counter: int | None = None
        self._counter_row: bool | None = None
        self._blobs: dict[str, bytes] = {}
        self._deliveries: dict[str, int] = {}
        self._forget_before: int | None = None

    def mark(self) -> tuple[Any, ...]:
        """Where one arrival starts (see :meth:`restore`)."""
        return (self.st.mark(), dict(self._refs), self._counter, dict(self._blobs), len(self.opened), len(self.noted),
                dict(self._deliveries))

    def restore(self, mark: tuple[Any, ...]) -> None:
        """Forget what a refused arrival did (nothing of it reached the database)."""
        st_mark, refs, counter, blobs, n_opened, n_noted, deliveries = mark
        self.st.restore(st_mark)
        self._refs, self._counter, self._blobs, self._deliveries = refs, counter, blobs, deliveries
        del self.opened[n_opened:]
        del self.noted[n_noted:]

    def _as(self, mutation: str, args: dict[str, Any], fn: Callable[[], Any], mutation_id: str | None = None) -> Any:
        with intent(self.env, mutation, args, mutation_id or str(uuid.uuid4())):
            return fn()

    def open(self, fields: dict[str, Any], mutation_id: str | None = None) -> str:
        key = f"{self.prefix}-{self._next_number()}"
        self._as("ticket.create", {"key": key, "fields": fields}, lambda: tickets.create_as(self.env, key, fields), mutation_id)
        self.opened.append(key)
        return key

    def note(self, key: str, text: str) -> None:
        self._as("ticket.note", {"key": key, "text": text}, lambda: tickets.note(self.env, key, text))
        self.noted.append(key)

    def settle(self, key: str, note: str) -> None:
        """Monitoring says the fault is gone: resolve the ticket if someone holds
        it, cancel it if nobody took it yet, else (blocked) only note it."""
        status = self.st.ticket(key).status
        if status in ("assigned", "in_progress"):
            self._as("ticket.resolve", {"key": key, "note": note}, lambda: tickets.resolve(self.env, key, note))
        elif status == "new":
            self._as("ticket.cancel", {"key": key, "reason": note}, lambda: tickets.cancel(self.env, key, note))
        else:
            self.note(key, note)

    def attach(self, key: str, data: bytes, name: str, mime: str) -> str:
        """Store ``data`` as a blob and attach it to ``key`` (as a file that came with the request)."""
        sha = hashlib.sha256(data).hexdigest()
        self._blobs[sha] = data
        at = now_iso()
        facts = {"sha256": sha, "name": name, "size": len(data), "mime": mime, "item": None, "captured_at": None}
        args = {"key": key, **facts, "at": at}
        self._as("ticket.attach", args, lambda: tickets.act(
            self.env, key, lambda t: decide_attach(t, facts, at, self.env.config, arriving=True)))
        return sha

    def ticket_for(self, ref: str) -> str | None:
        """The open ticket ``ref`` opened before, if any."""
        key = self.seen(ref)
        if key is None or not self.st.has_ticket(key):
            return None
        return key if self.st.ticket(key).status in I.OPEN_STATUSES else None

    def seen(self, ref: str) -> str | None:
        """The ticket ``ref`` went to, whatever its status (a mail handed over twice)."""
        if ref in self._refs:
            return self._refs[ref]
        row = self.c.execute(select(S.intake_refs.c.ticket).where(
            S.intake_refs.c.source == self.name, S.intake_refs.c.ref == ref)).first()
        return None if row is None else str(row[0])

    def remember(self, ref: str, key: str) -> None:
        self._refs[ref] = key

    def once(self, signature: str, at: int, forget_before: int) -> None:
        """Take a signed webhook delivery (its signature, its signed time) once: 409 if
        it was taken before. Kept at :meth:`commit`, with what it brought; deliveries
        signed before ``forget_before`` are forgotten then (the window refuses them)."""
        if signature in self._deliveries or self.c.execute(select(S.webhook_deliveries.c.at).where(
                S.webhook_deliveries.c.source == self.name, S.webhook_deliveries.c.signature == signature)).first() is not None:
            raise HTTPException(409, "this webhook delivery was taken before (a replay); sign each delivery anew, with its own"
                                     " timestamp")
        self._deliveries[signature] = at
        self._forget_before = forget_before

    def _next_number(self) -> int:
        if self._counter is None:
            row = self.c.execute(select(S.counters.c.value).where(S.counters.c.name == f"tickets:{self.prefix}")).first()
            self._counter_row = row is not None
            self._counter = 0 if row is None else int(row[0])
        n = self._counter + 1
        while self.st.has_ticket(f"{self.prefix}-{n}"):  # never reuse a key, whoever made it
            n += 1
        self._counter = n
        return n

    def commit(self) -> dict[str, Any]:
        """Write everything buffered (inside the caller's transaction)."""
        for sha, data in self._blobs.items():
            if self.c.execute(select(S.blobs.c.sha256).where(S.blobs.c.sha256 == sha)).first() is None:
                self.c.execute(insert(S.blobs).values(sha256=sha, size=len(data), data=data, created_at=now_iso()))
        if self._counter is not None:
            name = f"tickets:{self.prefix}"
            if self._counter_row:
                self.c.execute(update(S.counters).where(S.counters.c.name == name).values(value=self._counter))
            else:
                self.c.execute(insert(S.counters).values(name=name, value=self._counter))
                self._counter_row = True
        seq = self.st.seq
        self.st.flush()
        if self._refs:
            known = {r for (r,) in self.c.execute(select(S.intake_refs.c.ref).where(
                S.intake_refs.c.source == self.name, S.intake_refs.c.ref.in_(list(self._refs))))}
            for ref, key in self._refs.items():
                if ref in known:
                    self.c.execute(update(S.intake_refs).where(S.intake_refs.c.source == self.name, S.intake_refs.c.ref == ref)
                                   .values(ticket=key, seq=seq))
                else:
                    self.c.execute(insert(S.intake_refs).values(source=self.name, ref=ref, ticket=key, seq=seq))
            self._refs.clear()
        self._blobs.clear()
        if self._deliveries:
            self.c.execute(insert(S.webhook_deliveries), [{"source": self.name, "signature": sig, "at": at}
                                                          for sig, at in self._deliveries.items()])
            self._deliveries.clear()
        if self._forget_before is not None:
            self.c.execute(delete(S.webhook_deliveries).where(S.webhook_deliveries.c.at < self._forget_before))
            self._forget_before = None
        return {"opened": self.opened, "noted": sorted(set(self.noted) - set(self.opened))}


# -- sources --------------------------------------------------------------------------


class Source:
    def __init__(self, row: Any):
        self.name: str = row["name"]
        self.kind: str = row["kind"]
        self.secret: str | None = row["secret"]
        self.prefix: str = row["prefix"] or I.PREFIXES[self.kind]


_SOURCE = (select(S.sources.c.name, S.sources.c.kind, S.sources.c.secret, S.devices.c.prefix, S.devices.c.revoked_at,
                  S.devices.c.token_hash)
           .join(S.devices, S.devices.c.name == ("intake:" + S.sources.c.name)))


def bearer_source(engine: Engine, authorization: str | None, kind: str) -> Source:
    """The source whose token the request carries: 401 without a known token, 403
    for a revoked one, a device's (not a source's) or one of another kind."""
    with engine.connect() as c:
        return Sources(c).bearer(c, authorization, kind)


def _usable(row: Any, kind: str) -> Source:
    if row is None:
        raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
    if row["revoked_at"]:
        raise HTTPException(403, f"source {row['name']} was revoked at {row['revoked_at']}")
    if row["kind"] != kind:
        raise HTTPException(403, f"source {row['name']} is a {row['kind']} source, not {kind}")
    return Source(row)


#: a webhook's signed time, in unix seconds
TIMESTAMP_HEADER = "X-Ticketctl-Timestamp"
HOW_TO_SIGN = ('X-Ticketctl-Timestamp: the unix time in seconds, and X-Signature-256: sha256= the HMAC-SHA256 of'
               ' "{timestamp}.{body}" under the source\'s token')


def signed_source(engine: Engine, name: str, body: bytes, signature: str | None, timestamp: str | None,
                  window_s: int, now: int) -> Source:
    """The webhook source ``name`` if ``signature`` is ``sha256=`` + the HMAC-SHA256 of
    ``"{timestamp}.{body}"`` under its token (compared in constant time) and
    ``timestamp`` lies within ``window_s`` of ``now``; 401 otherwise, saying what to send."""
    with engine.connect() as c:
        row = c.execute(_SOURCE.where(S.sources.c.name == name[:64])).mappings().first()
    if row is None or row["name"] != name or not row["secret"] or not signature or not signature.startswith("sha256="):
        raise HTTPException(401, f"missing or unknown signature: send {HOW_TO_SIGN}")
    if not timestamp:
        raise HTTPException(401, f"no {TIMESTAMP_HEADER}: a signature of the body alone (as GitHub sends) could be replayed;"
                                 f" send {HOW_TO_SIGN}")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise HTTPException(401, f"{TIMESTAMP_HEADER} must be the unix time in whole seconds")
    want = hmac.new(row["secret"].encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, signature[7:].strip().lower()):
        raise HTTPException(401, 'the signature does not match "{timestamp}.{body}"')
    if abs(now - int(timestamp)) > window_s:
        raise HTTPException(401, f"{TIMESTAMP_HEADER} is {now - int(timestamp)} s from the server's clock; intake.webhook_window"
                                 f" allows {window_s} s either way (sign each delivery as it is sent)")
    return _usable(row, "webhook")


def free_prefix(c: Connection, kind: str) -> str:
    """The kind's key prefix, or the first of PREFIX2, PREFIX3, ... no device holds."""
    base = I.PREFIXES[kind]
    taken = {str(p) for (p,) in c.execute(select(S.devices.c.prefix).where(S.devices.c.prefix.is_not(None)))}
    n = 1
    while (base if n == 1 else f"{base}{chr(ord('A') + n - 2)}") in taken:
        n += 1
    return base if n == 1 else f"{base}{chr(ord('A') + n - 2)}"


# -- the routes -----------------------------------------------------------------------


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


class Sources:
    """Every source of the database, read once per writer transaction."""

    def __init__(self, c: Connection):
        self.by_hash = {r["token_hash"]: r for r in c.execute(_SOURCE).mappings()}

    def bearer(self, c: Connection, authorization: str | None, kind: str) -> Source:
        """The source whose token ``authorization`` carries (see :func:`bearer_source`)."""
        if not authorization or not authorization.startswith("Bearer ") or len(authorization) > 200:
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        digest = token_hash(authorization[7:].strip())
        row = self.by_hash.get(digest)
        if row is None:
            dev = c.execute(select(S.devices.c.name, S.devices.c.revoked_at).where(S.devices.c.token_hash == digest)).first()
            if dev is not None:
                raise HTTPException(403, f"device {dev[0]} was revoked at {dev[1]}" if dev[1] else
                                    f"{dev[0]} is a device, not an intake source (ticketctl server add-source)")
        return _usable(row, kind)


Work = Callable[[Door], Any]
Who = Callable[[Connection, Sources], Source]


class Writer:
    """The doors' writes of one server process, committed in groups.

    Requests queue their work; one thread takes whatever is waiting (up to
    :data:`GROUP` arrivals) and runs it in one transaction under the sequence
    lock: the lock, the commit and its flush to disk are paid once for the group,
    not once per alert. Each arrival is still all or nothing: one the rules
    refuse is undone (:meth:`Door.restore`) and answered 422, the others commit.
    A database error fails the whole group (503), and nothing of it is written."""

    GROUP = 200

    def __init__(self, engine: Engine, home: Home, cfg: Config):
        self.engine, self.home, self.cfg = engine, home, cfg
        self.queue: queue.SimpleQueue[tuple[Who, Work, Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, who: Who, work: Work) -> Future[Any]:
        fut: Future[Any] = Future()
        self.queue.put((who, work, fut))
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="ticketctl-intake", daemon=True)
                    self._thread.start()
        return fut

    def _loop(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < self.GROUP:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            self._run(batch)

    def _run(self, batch: list[tuple[Who, Work, Future[Any]]]) -> None:
        out: list[Any] = [None] * len(batch)
        try:
            with self.engine.begin() as c:
                lock_sequence(c)
                table = Sources(c)
                d: Door | None = None
                for i, (who, work, _fut) in enumerate(batch):
                    try:
                        src = who(c, table)
                    except HTTPException as e:
                        out[i] = e
                        continue
                    if d is None or d.name != src.name:
                        if d is not None:
                            d.commit()  # the next source's store reads what this one wrote
                        d = Door(c, self.home, self.cfg, src.name, src.prefix, lock=False)
                    mark = d.mark()
                    try:
                        extra = work(d) or {}
                        opened, noted = d.opened[mark[4]:], d.noted[mark[5]:]
                        out[i] = {"opened": list(opened), "noted": sorted(set(noted) - set(opened)), **extra}
                    except HTTPException as e:  # the door refused this arrival (a replayed webhook): only it is undone
                        d.restore(mark)
                        out[i] = e
                    except TicketctlError as e:  # the rules refused this arrival: only it is undone
                        d.restore(mark)
                        out[i] = HTTPException(422, str(e))
                    except Exception as e:  # noqa: BLE001 - answered as this request's error, the group goes on
                        d.restore(mark)
                        log.exception("intake from %s failed", src.name)
                        out[i] = e
                if d is not None:
                    d.commit()
        except Exception as e:  # noqa: BLE001 - the transaction is rolled back: every request of the group fails
            for _who, _work, fut in batch:
                fut.set_exception(e)
            return
        for (_who, _work, fut), r in zip(batch, out, strict=True):
            if isinstance(r, BaseException):
                fut.set_exception(r)
            else:
                fut.set_result(r)

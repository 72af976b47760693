"""How large a body each of the server's routes takes, and the middleware that
holds every request to it.

One limit per route, by the path the app declares (``/c/{token}``); a route
not listed, and any path the app does not know, takes :data:`DEFAULT`, which
is room for a form field or a small JSON object and nothing more. A route
that needs more must be listed here (``tests/test_server_limits.py`` fails
for a route that takes a body and is not).

:class:`BodyLimit` refuses before the body is read: a ``Content-Length`` over
the limit is 413 at once, before routing, authentication or parsing; a
chunked body is counted as the app reads it and refused as soon as the count
passes the limit. Nothing is buffered here, so a large legitimate body (an
evidence file) streams on to its route. After a 413 the server reads and
drops whatever the client still sends (uvicorn), so the client sees the
answer rather than a reset connection, and memory stays flat.

The routes that need a token (:data:`TOKEN_ROUTES`) take more than
:data:`DEFAULT` only with the token of a device or source that is not revoked:
FastAPI reads and parses a body before it checks who sent it, so without this
anyone could make each request hold a push's worth of memory. Which device it
is, and what it may do, is still decided by the route alone.

(Recent FastAPI and Starlette releases have a ``max_body_size`` per route
too; it looks at ``Content-Length`` only when the route reads its body, and
it needs a much newer FastAPI than ticketctl requires.)
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketctl.core.config import Config
from ticketctl.server import schema as S
from ticketctl.server.intake import doors as intake
from ticketctl.server.store.engine import token_hash
from ticketctl.services.evidence import MAX_BYTES as EVIDENCE_MAX
from ticketctl.sync.protocol import MAX_BATCH_BODY

KiB, MiB = 1024, 1024 * 1024

#: any route not listed, and unknown paths: a form field or a small JSON object
DEFAULT = 64 * KiB
#: ``POST /sync/hello``: a key prefix, a public key (PEM, at most 4,000 characters) and its id
HELLO_MAX = 16 * KiB
#: ``POST /sync/push``: the client sends 500 mutations a batch (``sync.client.PUSH_BATCH``), the
#: server takes 1,000 (``protocol.MAX_PUSH``); 32 KiB each leaves room for a note of 10,000 Chinese
#: characters (3 bytes each in UTF-8) in every one of them. A typical mutation is under 1 KiB;
#: the client packs a batch to ``protocol.BATCH_BYTES`` as well as by count.
PUSH_MAX = MAX_BATCH_BODY
#: ``POST /sync/history``: 5,000 events a page (``sync.client.HISTORY_BATCH``); an imported event is
#: 300-500 bytes (the ServiceNow export's average is 313), 32 MiB is 6.5 KiB each
HISTORY_MAX = MAX_BATCH_BODY
#: ``PUT /blobs/{sha256}``: the largest evidence file ``attach`` takes (``services.evidence.MAX_BYTES``)
BLOB_MAX = EVIDENCE_MAX
#: ``POST /c/{token}``: the customer's form (three ratings, a comment, a name; the page reads 20,000 bytes of it)
CONFIRM_MAX = 64 * KiB


def route_limits(cfg: Config) -> dict[str, int]:
    """Each route that takes a body, by its declared path, and its largest body in bytes."""
    return {
        "/sync/hello": HELLO_MAX,
        "/sync/push": PUSH_MAX,
        "/sync/history": HISTORY_MAX,
        "/blobs/{sha256}": BLOB_MAX,
        "/c/{token}": CONFIRM_MAX,
        "/intake/alertmanager": intake.ALERT_BODY_MAX,
        "/intake/webhook/{name}": intake.WEBHOOK_BODY_MAX,
        # the attachments in base64 (4/3) and the JSON around the text
        "/intake/mail": cfg.intake.max_mail_kb * KiB * 4 // 3 + 256 * KiB,
        # the photo and the form's text fields (``webform.FIELD_MAX_BYTES`` each)
        "/new": cfg.intake.max_photo_kb * KiB + 64 * KiB,
    }


#: routes whose callers carry ``Authorization: Bearer TOKEN`` (see the module doc)
TOKEN_ROUTES = frozenset({"/sync/hello", "/sync/push", "/sync/history", "/blobs/{sha256}", "/intake/alertmanager",
                          "/intake/mail"})

#: whether an Authorization header carries the token of a device or source that is not revoked
Known = Callable[[str | None], bool]


def known_tokens(engine: Engine) -> Known:
    """:data:`Known` over the server's devices (a source is the device ``intake:NAME``)."""

    def known(authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer ") or len(authorization) > 200:
            return False
        try:
            with engine.connect() as c:
                return c.execute(select(S.devices.c.name).where(
                    S.devices.c.token_hash == token_hash(authorization[7:].strip()), S.devices.c.revoked_at.is_(None))).first() is not None
        except DBAPIError:
            return True  # the route meets the same outage and answers 503 (retry), not 413 (give up)

    return known


class TooLarge(HTTPException):
    """Raised from ``receive`` when a chunked body passes its limit (an HTTP error
    to FastAPI, which lets it through its body reader as it is)."""

    def __init__(self, limit: int, anonymous: bool = False):
        super().__init__(413, too_large(limit, anonymous))


def too_large(limit: int, anonymous: bool = False) -> str:
    return f"the body is larger than {limit} bytes" + (" (a larger one needs a valid token)" if anonymous else "")


class BodyLimit:
    """ASGI middleware: each request's body held to its route's limit (see the module doc)."""

    def __init__(self, app: ASGIApp, limits: dict[str, int], known: Known, default: int = DEFAULT):
        self.app, self.known, self.default = app, known, default
        self.routes = [(compile_path(path)[0], path, n) for path, n in limits.items()]

    def route(self, path: str) -> tuple[str | None, int]:
        """The declared path of the route ``path`` falls to, and its limit (None, :data:`DEFAULT`: none listed)."""
        for regex, declared, n in self.routes:
            if regex.match(path):
                return declared, n
        return None, self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route, limit = self.route(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and not length.strip().isdigit():
            await _refuse(send, limit)
            return
        anonymous = False
        if route in TOKEN_ROUTES and limit > self.default and (length is None or int(length) > self.default):
            authorization = headers.get(b"authorization", b"").decode("latin-1") or None
            if not await run_in_threadpool(self.known, authorization):
                limit, anonymous = self.default, True
        if length is not None and int(length) > limit:
            await _refuse(send, limit, anonymous)
            return
        seen = 0
        over = started = False

        async def counted() -> Message:
            nonlocal seen, over
            if over:
                raise TooLarge(limit, anonymous)
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    over = True
                    raise TooLarge(limit, anonymous)
            return msg

        async def watched(msg: Message) -> None:
            nonlocal started
            if over and not started:
                return  # whatever the route makes of a cut body (a form page, a 400) gives way to the 413
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not over or started:
                raise
        if over and not started:
            await _refuse(send, limit, anonymous)


async def _refuse(send: Send, limit: int, anonymous: bool = False) -> None:
    body = json.dumps({"detail": too_large(limit, anonymous)}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

"""Who may open a door: every intake source is a device of its own
(``intake:NAME``), with a token (``Authorization: Bearer``) or, for a webhook,
a signature made with it over the delivery's time and body."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi import HTTPException
from sqlalchemy import Connection, Engine

from ticketctl.core import intake as I
from ticketctl.server.store import intake as intake_store
from ticketctl.server.store.engine import token_hash


class Source:
    def __init__(self, row: Any):
        self.name: str = row["name"]
        self.kind: str = row["kind"]
        self.secret: str | None = row["secret"]
        self.prefix: str = row["prefix"] or I.PREFIXES[self.kind]


def bearer_source(engine: Engine, authorization: str | None, kind: str) -> Source:
    """The source whose token the request carries: 401 without a known token, 403
    for a revoked one, a device's (not a source's) or one of another kind."""
    with engine.connect() as c:
        return Sources(c).bearer(c, authorization, kind)


def usable(row: Any, kind: str) -> Source:
    """The source of ``row`` if it may open a door of ``kind``: 401 for no row, 403 for a revoked or other kind."""
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
        row = intake_store.source_named(c, name[:64])
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
    return usable(row, "webhook")


def free_prefix(c: Connection, kind: str) -> str:
    """The kind's key prefix, or the first of PREFIX2, PREFIX3, ... no device holds."""
    base = I.PREFIXES[kind]
    taken = intake_store.prefixes_taken(c)
    n = 1
    while (base if n == 1 else f"{base}{chr(ord('A') + n - 2)}") in taken:
        n += 1
    return base if n == 1 else f"{base}{chr(ord('A') + n - 2)}"


class Sources:
    """Every source of the database, read once per writer transaction."""

    def __init__(self, c: Connection):
        self.by_hash = {r["token_hash"]: r for r in intake_store.source_rows(c)}

    def bearer(self, c: Connection, authorization: str | None, kind: str) -> Source:
        """The source whose token ``authorization`` carries (see :func:`bearer_source`)."""
        if not authorization or not authorization.startswith("Bearer ") or len(authorization) > 200:
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        digest = token_hash(authorization[7:].strip())
        row = self.by_hash.get(digest)
        if row is None:
            dev = intake_store.device_of_token(c, digest)
            if dev is not None:
                raise HTTPException(403, f"device {dev[0]} was revoked at {dev[1]}" if dev[1] else
                                    f"{dev[0]} is a device, not an intake source (ticketctl server add-source)")
        return usable(row, kind)

"""What the intake doors keep: their sources (each a device ``intake:NAME``),
the refs that tie an alert, a webhook id or a mail to its ticket, each
source's key counter, the files arrivals bring, and the signed webhook
deliveries already taken."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ticketctl.server import schema as S
from ticketctl.server.store.engine import now_iso

#: a source's row: its name, kind and secret, and its device's prefix, revocation and token hash
_SOURCE = (select(S.sources.c.name, S.sources.c.kind, S.sources.c.secret, S.sources.c.created_at, S.devices.c.prefix,
                  S.devices.c.revoked_at, S.devices.c.token_hash)
           .join(S.devices, S.devices.c.name == ("intake:" + S.sources.c.name)))


def source_rows(c: Connection) -> list[Any]:
    """Every source (revoked ones too), as :data:`_SOURCE` rows."""
    return list(c.execute(_SOURCE).mappings())


def source_named(c: Connection, name: str) -> Any | None:
    return c.execute(_SOURCE.where(S.sources.c.name == name)).mappings().first()


def first_web_source(c: Connection) -> Any | None:
    """The web form's source: the first added of kind ``web`` that is not revoked."""
    query = (_SOURCE.where(S.sources.c.kind == "web", S.devices.c.revoked_at.is_(None))
             .order_by(S.sources.c.created_at, S.sources.c.name).limit(1))
    return c.execute(query).mappings().first()


def add_source(c: Connection, name: str, kind: str, secret: str | None) -> None:
    c.execute(insert(S.sources).values(name=name, kind=kind, secret=secret, created_at=now_iso()))


def device_of_token(c: Connection, digest: str) -> tuple[str, str | None] | None:
    """(name, revoked_at) of the device whose token hashes to ``digest``, if any."""
    row = c.execute(select(S.devices.c.name, S.devices.c.revoked_at).where(S.devices.c.token_hash == digest)).first()
    return None if row is None else (str(row[0]), row[1])


def prefixes_taken(c: Connection) -> set[str]:
    return {str(p) for (p,) in c.execute(select(S.devices.c.prefix).where(S.devices.c.prefix.is_not(None)))}


def ref_ticket(c: Connection, source: str, ref: str) -> str | None:
    """The ticket ``ref`` (an alert's fingerprint, a webhook's id, a mail's message id) went to."""
    row = c.execute(select(S.intake_refs.c.ticket).where(S.intake_refs.c.source == source, S.intake_refs.c.ref == ref)).first()
    return None if row is None else str(row[0])


def remember_refs(c: Connection, source: str, refs: Mapping[str, str], seq: int) -> None:
    """Tie each ref to its ticket (a ref seen before moves to its new ticket)."""
    if not refs:
        return
    known = {r for (r,) in c.execute(select(S.intake_refs.c.ref).where(
        S.intake_refs.c.source == source, S.intake_refs.c.ref.in_(list(refs))))}
    for ref, key in refs.items():
        if ref in known:
            c.execute(update(S.intake_refs).where(S.intake_refs.c.source == source, S.intake_refs.c.ref == ref)
                      .values(ticket=key, seq=seq))
        else:
            c.execute(insert(S.intake_refs).values(source=source, ref=ref, ticket=key, seq=seq))


def last_number(c: Connection, prefix: str) -> int | None:
    """The last ticket number the source of ``prefix`` gave, None before its first."""
    row = c.execute(select(S.counters.c.value).where(S.counters.c.name == f"tickets:{prefix}")).first()
    return None if row is None else int(row[0])


def set_last_number(c: Connection, prefix: str, n: int, exists: bool) -> None:
    name = f"tickets:{prefix}"
    if exists:
        c.execute(update(S.counters).where(S.counters.c.name == name).values(value=n))
    else:
        c.execute(insert(S.counters).values(name=name, value=n))


def keep_blobs(c: Connection, blobs: Mapping[str, bytes]) -> None:
    """Store each file by its SHA-256 unless the server has it already."""
    for sha, data in blobs.items():
        if c.execute(select(S.blobs.c.sha256).where(S.blobs.c.sha256 == sha)).first() is None:
            c.execute(insert(S.blobs).values(sha256=sha, size=len(data), data=data, created_at=now_iso()))


def delivery_taken(c: Connection, source: str, signature: str) -> bool:
    """Whether the signed webhook delivery ``signature`` was taken before."""
    return c.execute(select(S.webhook_deliveries.c.at).where(
        S.webhook_deliveries.c.source == source, S.webhook_deliveries.c.signature == signature)).first() is not None


def keep_deliveries(c: Connection, source: str, deliveries: Mapping[str, int], forget_before: int | None) -> None:
    """Keep the deliveries taken (signature -> signed time), and forget those signed before ``forget_before``."""
    if deliveries:
        c.execute(insert(S.webhook_deliveries), [{"source": source, "signature": sig, "at": at} for sig, at in deliveries.items()])
    if forget_before is not None:
        c.execute(delete(S.webhook_deliveries).where(S.webhook_deliveries.c.at < forget_before))

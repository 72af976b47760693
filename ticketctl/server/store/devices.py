"""Devices and what the server keeps of their pushes: tokens, key prefixes,
signing keys, the last ``client_seq`` taken and each mutation's stored result."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from ticketctl.server import schema as S
from ticketctl.server.store.engine import token_hash

#: letters of a key prefix (no I or O: they read as 1 and 0), as a device makes its own
KEY_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def by_token(engine: Engine, token: str) -> Any | None:
    """The device row a bearer token opens (revoked ones too), or None."""
    with engine.connect() as c:
        return c.execute(select(S.devices).where(S.devices.c.token_hash == token_hash(token))).mappings().first()


def give_prefix(c: Connection, device: str, wanted: str) -> str:
    """Give ``device`` the key prefix ``wanted`` when no device holds it, else a
    free three-letter one (inside a transaction holding the sequence lock, so
    two first hellos never get the same); returns the prefix given."""
    taken = {str(p) for (p,) in c.execute(select(S.devices.c.prefix).where(S.devices.c.prefix.is_not(None)))}
    while not wanted or wanted in taken:
        wanted = "".join(secrets.choice(KEY_LETTERS) for _i in range(3))
    c.execute(update(S.devices).where(S.devices.c.name == device).values(prefix=wanted))
    return wanted


def key_holder(c: Connection, key_id: str, other_than: str) -> str | None:
    """The device other than ``other_than`` that enrolled signing key ``key_id``, if any."""
    name = c.execute(select(S.devices.c.name).where(S.devices.c.key_id == key_id, S.devices.c.name != other_than)).scalar()
    return None if name is None else str(name)


def set_key(c: Connection, device: str, pem: str, key_id: str) -> None:
    c.execute(update(S.devices).where(S.devices.c.name == device).values(public_key=pem, key_id=key_id))


def enrolled_keys(c: Connection) -> list[tuple[str, str, str, str | None]]:
    """(device, pem, key id, revoked_at) of every device that enrolled a key, the first enrolled first."""
    rows = c.execute(select(S.devices.c.name, S.devices.c.public_key, S.devices.c.key_id, S.devices.c.revoked_at)
                     .where(S.devices.c.public_key.is_not(None)).order_by(S.devices.c.created_at, S.devices.c.name))
    return [(str(n), str(p), str(k), r) for n, p, k, r in rows]


def last_client_seq(c: Connection, device: str) -> int:
    return int(c.execute(select(S.devices.c.last_client_seq).where(S.devices.c.name == device)).scalar_one())


def set_last_client_seq(c: Connection, device: str, seq: int) -> None:
    c.execute(update(S.devices).where(S.devices.c.name == device).values(last_client_seq=seq))


def stored_results(c: Connection, device: str, client_seqs: list[int], mutation_ids: list[str]) -> dict[tuple[str, Any], Any]:
    """The results the server already holds for these mutations of ``device``,
    by ``("seq", client_seq)`` and by ``("id", mutation_id)``: one query."""
    if not client_seqs:
        return {}
    q = select(S.results).where(S.results.c.device == device,
                                S.results.c.client_seq.between(min(client_seqs), max(client_seqs))
                                | S.results.c.mutation_id.in_(mutation_ids))
    out: dict[tuple[str, Any], Any] = {}
    for r in c.execute(q).mappings():
        out[("seq", int(r["client_seq"]))] = r
        out[("id", r["mutation_id"])] = r
    return out


def add_results(c: Connection, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    if rows:
        c.execute(insert(S.results), rows)

"""What the server keeps about itself (``server_meta``): its signing key."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from ticketctl.server import schema as S


def signing_key(c: Connection) -> str | None:
    """The server's private signing key (PEM), None before it made one."""
    row = c.execute(select(S.server_meta.c.value).where(S.server_meta.c.key == "signing_key")).first()
    return None if row is None else str(row[0])


def keep_signing_key(c: Connection, pem: str) -> None:
    c.execute(insert(S.server_meta).values(key="signing_key", value=pem))

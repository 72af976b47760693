"""Evidence files, stored once by their SHA-256."""

from __future__ import annotations

from typing import IO

from sqlalchemy import Engine, insert, select

from ticketctl.server import schema as S
from ticketctl.server.store.engine import now_iso


def put(engine: Engine, sha256: str, f: IO[bytes], size: int) -> None:
    """Store the file ``f`` (read from its start) unless the server has it already."""
    with engine.begin() as c:
        if c.execute(select(S.blobs.c.sha256).where(S.blobs.c.sha256 == sha256)).first() is None:
            f.seek(0)
            c.execute(insert(S.blobs).values(sha256=sha256, size=size, data=f.read(), created_at=now_iso()))


def get(engine: Engine, sha256: str) -> bytes | None:
    with engine.connect() as c:
        row = c.execute(select(S.blobs.c.data).where(S.blobs.c.sha256 == sha256)).first()
    return None if row is None else bytes(row[0])

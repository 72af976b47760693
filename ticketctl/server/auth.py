"""Who is asking: every device request names its device with
``Authorization: Bearer TOKEN``. A missing or unknown token is 401, a revoked
device's 403, an intake source's 403 (its token opens only its door), and none
of them ever gets data. What the device may then do is decided by the mutation
pipeline (``services.mutations.prepare``), not here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException

from ticketctl.server.context import Ctx
from ticketctl.server.store import devices


@dataclass(frozen=True)
class Device:
    """An enrolled device, as its token row says."""

    name: str
    role: str
    prefix: str
    last_client_seq: int
    public_key: str | None

    @classmethod
    def of(cls, row: Any) -> Device:
        return cls(row["name"], row["role"], row["prefix"] or "", int(row["last_client_seq"]), row["public_key"])


def device(server: Ctx, authorization: Annotated[str | None, Header()] = None) -> Device:
    if not authorization or not authorization.startswith("Bearer ") or len(authorization) > 200:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    row = devices.by_token(server.engine, authorization[7:].strip())
    if row is None:
        raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
    if row["revoked_at"]:
        raise HTTPException(403, f"device {row['name']} was revoked at {row['revoked_at']}")
    if row["role"] == "intake":
        raise HTTPException(403, f"{row['name']} is an intake source: its token opens only its door (/intake/...)")
    return Device.of(row)


Auth = Annotated[Device, Depends(device)]

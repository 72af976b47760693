"""Server administration without a running server: devices and their tokens,
written straight to the server database (``ticketctl server add-device``)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import Engine, insert, select, update

from ticketctl.core.roles import ROLES
from ticketctl.errors import BadInput, NotFound, Refused
from ticketctl.i18n import _
from ticketctl.server import schema as S
from ticketctl.server.store.engine import engine_for, migrate, now_iso, token_hash


def add_device(db_url: str, name: str, role: str) -> dict[str, Any]:
    """Enrol a device; returns its row and the token (shown once, stored hashed)."""
    name = name.strip()
    if not name or any(c.isspace() for c in name) or len(name) > 200:
        raise BadInput(_("device name {name!r} must be one word (the person's name, as used in assignments)").format(name=name))
    if role not in ROLES:
        raise BadInput(_("--role must be one of {roles}").format(roles=", ".join(ROLES)))
    engine = engine_for(db_url)
    migrate(engine)
    token = enrol(engine, name, role)
    engine.dispose()
    return {"name": name, "role": role, "token": token}


def enrol(engine: Engine, name: str, role: str) -> str:
    """Write the device row; returns its token."""
    token = secrets.token_urlsafe(32)
    with engine.begin() as c:
        if c.execute(select(S.devices.c.name).where(S.devices.c.name == name)).first() is not None:
            raise Refused(_("device {name!r} exists (revoke it first: `ticketctl server revoke {name}`)").format(name=name))
        c.execute(insert(S.devices).values(name=name, role=role, token_hash=token_hash(token), created_at=now_iso(), last_client_seq=0))
    return token


def add_source(db_url: str, name: str, kind: str, prefix: str | None = None) -> dict[str, Any]:
    """Open a door for work that arrives by itself (``server.intake.doors``): the source
    ``name`` of ``kind`` and its device ``intake:NAME``, which writes its tickets
    keyed ``PREFIX-N``. Returns the row and the token (shown once; a webhook's is
    also its signing key, which the server keeps)."""
    from ticketctl.core.intake import KINDS, device_name
    from ticketctl.server.intake.doors import free_prefix

    name = name.strip()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name):
        raise BadInput(_("source name {name!r} must be lowercase letters, digits, - and _ (like prometheus)").format(name=name))
    if kind not in KINDS:
        raise BadInput(_("--kind must be one of {kinds}").format(kinds=", ".join(KINDS)))
    if prefix is not None and not re.fullmatch(r"[A-Z]{1,12}", prefix):
        raise BadInput(_("--prefix {prefix!r} must be 1 to 12 capital letters").format(prefix=prefix))
    engine = engine_for(db_url)
    migrate(engine)
    token = secrets.token_urlsafe(32)
    device = device_name(name)
    with engine.begin() as c:
        if c.execute(select(S.sources.c.name).where(S.sources.c.name == name)).first() is not None:
            raise Refused(_("source {name!r} exists (revoke it first: `ticketctl server revoke {device}`)").format(
                name=name, device=device))
        if prefix is not None and c.execute(select(S.devices.c.name).where(S.devices.c.prefix == prefix)).first() is not None:
            raise Refused(_("key prefix {prefix} is taken by another device").format(prefix=prefix))
        prefix = prefix or free_prefix(c, kind)
        c.execute(insert(S.devices).values(name=device, role="intake", token_hash=token_hash(token), prefix=prefix,
                                           created_at=now_iso(), last_client_seq=0))
        c.execute(insert(S.sources).values(name=name, kind=kind, secret=token if kind == "webhook" else None, created_at=now_iso()))
    engine.dispose()
    return {"name": name, "kind": kind, "device": device, "prefix": prefix, "token": token}


def list_devices(db_url: str) -> list[dict[str, Any]]:
    engine = engine_for(db_url)
    migrate(engine)
    with engine.connect() as c:
        rows = c.execute(select(S.devices.c.name, S.devices.c.role, S.devices.c.prefix, S.devices.c.key_id, S.devices.c.created_at,
                                S.devices.c.revoked_at, S.devices.c.last_client_seq).order_by(S.devices.c.name)).mappings().all()
    engine.dispose()
    return [dict(r) for r in rows]


def revoke(db_url: str, name: str) -> dict[str, Any]:
    """Revoke a device: its token stops working at once (403), its key is no
    longer trusted for new certificates."""
    engine = engine_for(db_url)
    migrate(engine)
    with engine.begin() as c:
        row = c.execute(select(S.devices.c.revoked_at).where(S.devices.c.name == name)).first()
        if row is None:
            raise NotFound(_("no device {name!r}").format(name=name))
        at = row[0] or now_iso()
        c.execute(update(S.devices).where(S.devices.c.name == name).values(revoked_at=at))
    engine.dispose()
    return {"name": name, "revoked_at": at}

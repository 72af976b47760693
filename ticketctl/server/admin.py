"""Server administration without a running server: devices and their tokens,
written straight to the server database (``ticketctl server add-device``)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import Engine

from ticketctl.core.roles import ROLES
from ticketctl.errors import BadInput, NotFound, Refused
from ticketctl.i18n import _
from ticketctl.server.store import devices
from ticketctl.server.store import intake as intake_store
from ticketctl.server.store.engine import engine_for, migrate, token_hash


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
        if devices.exists(c, name):
            raise Refused(_("device {name!r} exists (revoke it first: `ticketctl server revoke {name}`)").format(name=name))
        devices.add(c, name, role, token_hash(token))
    return token


def add_source(db_url: str, name: str, kind: str, prefix: str | None = None) -> dict[str, Any]:
    """Open a door for work that arrives by itself (``server.intake``): the source
    ``name`` of ``kind`` and its device ``intake:NAME``, which writes its tickets
    keyed ``PREFIX-N``. Returns the row and the token (shown once; a webhook's is
    also its signing key, which the server keeps)."""
    from ticketctl.core.intake import KINDS, device_name
    from ticketctl.server.intake.sources import free_prefix

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
        if intake_store.source_named(c, name) is not None:
            raise Refused(_("source {name!r} exists (revoke it first: `ticketctl server revoke {device}`)").format(
                name=name, device=device))
        if prefix is not None and prefix in intake_store.prefixes_taken(c):
            raise Refused(_("key prefix {prefix} is taken by another device").format(prefix=prefix))
        prefix = prefix or free_prefix(c, kind)
        devices.add(c, device, "intake", token_hash(token), prefix)
        intake_store.add_source(c, name, kind, token if kind == "webhook" else None)
    engine.dispose()
    return {"name": name, "kind": kind, "device": device, "prefix": prefix, "token": token}


def list_devices(db_url: str) -> list[dict[str, Any]]:
    engine = engine_for(db_url)
    migrate(engine)
    with engine.connect() as c:
        rows = devices.listing(c)
    engine.dispose()
    return rows


def revoke(db_url: str, name: str) -> dict[str, Any]:
    """Revoke a device: its token stops working at once (403), its key is no
    longer trusted for new certificates."""
    engine = engine_for(db_url)
    migrate(engine)
    with engine.begin() as c:
        if not devices.exists(c, name):
            raise NotFound(_("no device {name!r}").format(name=name))
        at = devices.revoke(c, name)
    engine.dispose()
    return {"name": name, "revoked_at": at}

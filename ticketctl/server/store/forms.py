"""What the customers' web form (``server.web.form``) asks of the server's
database: the product menu, how often an address posted, the key of its
status links, and a ticket's progress. (Which source it opens tickets as is
``store.intake.first_web_source``, beside the other doors' sources.)"""

from __future__ import annotations

import json
import secrets

from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from ticketctl.core.model import Event, Ticket
from ticketctl.server import schema as S
from ticketctl.server.store.team import event_from_server_row, ticket_from_json

_STATUS_SECRET = select(S.server_meta.c.value).where(S.server_meta.c.key == "status_secret")


def latest_products(c: Connection, scan: int) -> list[str]:
    """The products of the latest ``scan`` tickets, newest first, but not those
    opened through the web form (what a customer typed there is their words,
    never shown to others); "" for a ticket without one."""
    rows = c.execute(select(S.tickets.c.data).order_by(S.tickets.c.seq.desc()).limit(scan))
    return [str(d.get("product") or "") for d in (json.loads(r[0]) for r in rows) if d.get("channel") != "web"]


def hits(c: Connection, source: str, address: str, since: int) -> list[int]:
    """When (unix seconds) ``address`` opened tickets through ``source`` after ``since``, oldest first."""
    return [int(x) for (x,) in c.execute(select(S.intake_hits.c.at).where(
        S.intake_hits.c.source == source, S.intake_hits.c.address == address,
        S.intake_hits.c.at > since).order_by(S.intake_hits.c.at))]


def count_hit(c: Connection, source: str, address: str, at: int, forget_before: int) -> None:
    """Count a ticket ``address`` opened through ``source`` at ``at``, and forget
    the source's hits at or before ``forget_before`` (inside the ticket's transaction)."""
    c.execute(delete(S.intake_hits).where(S.intake_hits.c.source == source, S.intake_hits.c.at <= forget_before))
    c.execute(insert(S.intake_hits).values(source=source, address=address, at=at))


def status_secret(engine: Engine) -> bytes:
    """The server's key for status links (``server_meta``), made on first use;
    a worker that loses the race to make it reads the winner's."""
    with engine.connect() as c:
        row = c.execute(_STATUS_SECRET).first()
    if row is None:
        try:
            with engine.begin() as c:
                c.execute(insert(S.server_meta).values(key="status_secret", value=secrets.token_urlsafe(32)))
        except IntegrityError:
            pass  # another worker made it first
        with engine.connect() as c:
            row = c.execute(_STATUS_SECRET).one()
    return str(row[0]).encode()


def progress(c: Connection, key: str) -> tuple[Ticket, list[Event]] | None:
    """Ticket ``key`` and its events in sequence order (every type), or None for a key the server does not hold."""
    row = c.execute(select(S.tickets.c.data).where(S.tickets.c.key == key)).first()
    if row is None:
        return None
    rows = c.execute(select(S.events).where(S.events.c.ticket == key).order_by(S.events.c.seq)).mappings()
    return ticket_from_json(row[0]), [event_from_server_row(r) for r in rows]

"""The central server's tables, as SQLModel classes: the one source of every
column the server keeps, on SQLite and on PostgreSQL alike. The server's
store queries them through SQLAlchemy (``Device.__table__``, also named below
as ``devices`` etc. for the queries), and its Alembic migrations
(``server/migrations/``) take an existing database to them.

The server keeps the team's event log and the projections its rules need
(tickets, technicians, knowledge articles and approval delegations, each as
the JSON of its ``core`` dataclass plus the columns the rules query: status,
assignee). Keeping the projection as one JSON text is deliberate: a snapshot
of a million tickets is their texts joined, with no decoding on the server.
It keeps no history spans: each client folds its own from the events it pulls.

Sequence numbers: one global counter row (``counters.seq``), taken with the row
locked inside the writing transaction. Writers therefore commit in sequence
order, and a reader of ``seq > N`` can never see N+2 committed before N+1 (a
``bigserial`` could: its values become visible in commit order, not in number
order). Results of mutations share the sequence with events, so a client's
cursor covers both.

Adding a column: add it here, then a migration in ``server/migrations/versions``
(``tests/test_upgrade.py`` fails while the migrated schema differs from these
classes).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, MetaData, String, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class ServerTable(SQLModel):
    """Base of the server's tables: their own metadata (the device store's
    tables, ``store.tables``, have tables of the same names)."""

    metadata = MetaData()


def text_column(nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(Text, nullable=nullable)


class ServerMeta(ServerTable, table=True):
    """The database's identity (``epoch``), its schema generation, and the server's signing key."""

    __tablename__ = "server_meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=text_column())


class Counter(ServerTable, table=True):
    """``seq``, the global sequence; ``tickets:PREFIX``, an intake source's last ticket number."""

    __tablename__ = "counters"
    name: str = Field(primary_key=True, max_length=64)
    value: int = Field(sa_type=BigInteger)


class DeviceBase(ServerTable):
    """What anyone who runs the server may see of a device (``server list-devices``)."""

    name: str = Field(primary_key=True, max_length=200, description="The person's name, as used in assignments.")
    role: str = Field(max_length=20)
    prefix: str | None = Field(default=None, max_length=12, description="The ticket key prefix the device makes keys with.")
    key_id: str | None = Field(default=None, max_length=64, description="Its certificate signing key's id.")
    created_at: str = Field(max_length=32)
    revoked_at: str | None = Field(default=None, max_length=32)
    last_client_seq: int = Field(default=0, sa_type=BigInteger)


class Device(DeviceBase, table=True):
    __tablename__ = "devices"
    token_hash: str = Field(max_length=64, unique=True, description="SHA-256 of the bearer token (the token is shown once).")
    public_key: str | None = Field(default=None, sa_column=text_column(nullable=True))


class DevicePublic(DeviceBase):
    """A device as ``server list-devices --json`` prints it: no token hash, no key."""


class EventRecord(ServerTable, table=True):
    """One event of the team's log (``core.model.Event``), ``payload`` as JSON."""

    __tablename__ = "events"
    __table_args__ = (Index("server_events_ticket", "ticket", "seq"),)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    id: str = Field(max_length=36, unique=True)
    mutation_id: str = Field(max_length=36)
    ticket: str | None = Field(default=None, max_length=64)
    type: str = Field(max_length=64)
    payload: str = Field(sa_column=text_column())
    actor: str = Field(max_length=200)
    device: str = Field(max_length=200)
    at: str = Field(max_length=32)


class Result(ServerTable, table=True):
    """What became of one pushed mutation: applied, or rejected with the reason."""

    __tablename__ = "results"
    __table_args__ = (UniqueConstraint("device", "client_seq", name="results_device_seq"),
                      UniqueConstraint("device", "mutation_id", name="results_device_mutation"),
                      Index("server_results_device", "device", "seq"))
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    device: str = Field(max_length=200)
    client_seq: int = Field(sa_type=BigInteger)
    mutation_id: str = Field(max_length=36)
    name: str = Field(max_length=64)
    status: str = Field(max_length=16)
    reason: str | None = Field(default=None, sa_column=text_column(nullable=True))
    at: str = Field(max_length=32)


class TicketRecord(ServerTable, table=True):
    """A ticket's projection: the JSON of ``core.model.Ticket``, and what the rules query."""

    __tablename__ = "tickets"
    __table_args__ = (Index("server_tickets_assignee", "assignee", "status"),)
    key: str = Field(primary_key=True, max_length=64)
    status: str = Field(max_length=20)
    assignee: str | None = Field(default=None, max_length=200)
    updated_at: str = Field(max_length=32)
    data: str = Field(sa_column=text_column())
    seq: int = Field(sa_type=BigInteger, description="The last event that changed it.")


class TechnicianRecord(ServerTable, table=True):
    """A technician's roster entry: the JSON of ``core.model.Technician``."""

    __tablename__ = "technicians"
    name: str = Field(primary_key=True, max_length=200)
    data: str = Field(sa_column=text_column())
    seq: int = Field(sa_type=BigInteger)


class ArticleRecord(ServerTable, table=True):
    """A knowledge article: the JSON of ``core.kb.Article``; ``public`` 1 on the /kb pages."""

    __tablename__ = "articles"
    __table_args__ = (Index("server_articles_public", "public", "status"),)
    id: str = Field(primary_key=True, max_length=64)
    status: str = Field(max_length=20)
    public: int = Field(sa_type=BigInteger)
    updated_at: str = Field(max_length=32)
    data: str = Field(sa_column=text_column())
    seq: int = Field(sa_type=BigInteger)


class DelegationRecord(ServerTable, table=True):
    """Who approves for someone away: the JSON of ``core.approvals.Delegation``."""

    __tablename__ = "delegations"
    name: str = Field(primary_key=True, max_length=200)
    data: str = Field(sa_column=text_column())
    seq: int = Field(sa_type=BigInteger)


class Blob(ServerTable, table=True):
    """An evidence file, stored once by its SHA-256."""

    __tablename__ = "blobs"
    sha256: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_type=BigInteger)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: str = Field(max_length=32)


class Source(ServerTable, table=True):
    """An intake source; its device is ``intake:NAME``."""

    __tablename__ = "sources"
    name: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=20, description="alertmanager, webhook, imap or web")
    secret: str | None = Field(default=None, sa_column=text_column(nullable=True),
                               description="A webhook's HMAC key (the token itself); others keep only its hash.")
    created_at: str = Field(max_length=32)


class IntakeRef(ServerTable, table=True):
    """An alert's fingerprint, a webhook's id or a mail's Message-ID, and the ticket it opened or noted."""

    __tablename__ = "intake_refs"
    source: str = Field(primary_key=True, max_length=64)
    ref: str = Field(primary_key=True, max_length=300)
    ticket: str = Field(max_length=64)
    seq: int = Field(sa_type=BigInteger, description="When it was last seen.")


class IntakeHit(ServerTable, table=True):
    """One ticket the web form opened for a client address (its rate limit). The
    table has no key (two tickets in one second from one address are two rows);
    SQLModel maps it by all three columns."""

    __tablename__ = "intake_hits"
    __table_args__ = (Index("intake_hits_address", "source", "address", "at"),)
    __mapper_args__ = {"primary_key": ["source", "address", "at"]}
    source: str = Field(sa_column=Column(String(64), nullable=False))
    address: str = Field(sa_column=Column(String(64), nullable=False), description="The client's IP address.")
    at: int = Field(sa_column=Column(BigInteger, nullable=False), description="Unix seconds.")


class WebhookDelivery(ServerTable, table=True):
    """A signed webhook taken inside its window: none is taken twice; pruned once outside it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("webhook_deliveries_at", "at"),)
    source: str = Field(primary_key=True, max_length=64)
    signature: str = Field(primary_key=True, max_length=64, description='Hex HMAC-SHA256 of "{timestamp}.{body}".')
    at: int = Field(sa_type=BigInteger, description="Its signed unix time.")


class Notification(ServerTable, table=True):
    """The team's webhook outbox (``server.jobs``), as the device store's."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("ticket", "rule", "target", name="notifications_once"),
                      Index("server_notifications_due", "status", "next_attempt_at"))
    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                                          autoincrement=True))
    created_at: str = Field(max_length=32)
    target: str = Field(max_length=200, description="Its name in [notify.targets].")
    url: str = Field(sa_column=text_column())
    body: str = Field(sa_column=text_column(), description="JSON, in the target's format.")
    ticket: str | None = Field(default=None, max_length=64)
    rule: str = Field(max_length=200, description="The escalation's rule and round (sla_resolve, blocked@...).")
    status: str = Field(max_length=16, description="pending, sent, failed")
    attempts: int = Field(sa_type=BigInteger)
    last_error: str | None = Field(default=None, sa_column=text_column(nullable=True))
    next_attempt_at: str = Field(max_length=32)
    sent_at: str | None = Field(default=None, max_length=32)


def table(cls: type[SQLModel]) -> Table:
    """The SQLAlchemy table a SQLModel class maps (what the queries are written against)."""
    return cast(Table, cls.__table__)  # type: ignore[attr-defined]


metadata = ServerTable.metadata
# the tables by the names the server's queries use
server_meta = table(ServerMeta)
counters = table(Counter)
devices = table(Device)
events = table(EventRecord)
results = table(Result)
tickets = table(TicketRecord)
technicians = table(TechnicianRecord)
articles = table(ArticleRecord)
delegations = table(DelegationRecord)
blobs = table(Blob)
sources = table(Source)
intake_refs = table(IntakeRef)
intake_hits = table(IntakeHit)
webhook_deliveries = table(WebhookDelivery)
notifications = table(Notification)

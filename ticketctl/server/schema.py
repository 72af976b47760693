"""The central server's schema (SQLAlchemy Core): the same tables on SQLite and
on PostgreSQL, versioned in ``server_meta``.

The server keeps the team's event log and the projections its rules need
(tickets, technicians and knowledge articles, each as the JSON of the ``core.model`` dataclass plus
the columns the rules query: status, assignee). It keeps no history spans:
each client folds its own from the events it pulls.

Sequence numbers: one global counter row (``counters.seq``), taken with the row
locked inside the writing transaction. Writers therefore commit in sequence
order, and a reader of ``seq > N`` can never see N+2 committed before N+1 (a
``bigserial`` could: its values become visible in commit order, not in number
order). Results of mutations share the sequence with events, so a client's
cursor covers both.

Migrations are append-only, like the local store's: ``MIGRATIONS[n]`` takes a
database from version n to n+1 and is a list of tables to create (later
versions may add statements).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

server_meta = Table(
    "server_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

counters = Table(
    "counters", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

devices = Table(
    "devices", metadata,
    Column("name", String(200), primary_key=True),   # the person's name, as used in assignments
    Column("role", String(20), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the bearer token
    Column("prefix", String(12)),                     # the ticket key prefix the device uses
    Column("public_key", Text),                       # PEM of its certificate signing key
    Column("key_id", String(64)),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
    Column("last_client_seq", BigInteger, nullable=False, default=0),
)

events = Table(
    "events", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("id", String(36), nullable=False, unique=True),
    Column("mutation_id", String(36), nullable=False),
    Column("ticket", String(64)),
    Column("type", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("device", String(200), nullable=False),
    Column("at", String(32), nullable=False),
    Index("server_events_ticket", "ticket", "seq"),
)

results = Table(
    "results", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("device", String(200), nullable=False),
    Column("client_seq", BigInteger, nullable=False),
    Column("mutation_id", String(36), nullable=False),
    Column("name", String(64), nullable=False),
    Column("status", String(16), nullable=False),      # applied or rejected
    Column("reason", Text),
    Column("at", String(32), nullable=False),
    UniqueConstraint("device", "client_seq", name="results_device_seq"),
    UniqueConstraint("device", "mutation_id", name="results_device_mutation"),
    Index("server_results_device", "device", "seq"),
)

tickets = Table(
    "tickets", metadata,
    Column("key", String(64), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("assignee", String(200)),
    Column("updated_at", String(32), nullable=False),
    Column("data", Text, nullable=False),              # JSON of core.model.Ticket
    Column("seq", BigInteger, nullable=False),         # last event that changed it
    Index("server_tickets_assignee", "assignee", "status"),
)

technicians = Table(
    "technicians", metadata,
    Column("name", String(200), primary_key=True),
    Column("data", Text, nullable=False),              # JSON of core.model.Technician
    Column("seq", BigInteger, nullable=False),
)

articles = Table(
    "articles", metadata,
    Column("id", String(64), primary_key=True),
    Column("status", String(20), nullable=False),      # active or retired
    Column("public", BigInteger, nullable=False),      # 1: on the public /kb pages
    Column("updated_at", String(32), nullable=False),
    Column("data", Text, nullable=False),              # JSON of core.kb.Article
    Column("seq", BigInteger, nullable=False),
    Index("server_articles_public", "public", "status"),
)

delegations = Table(
    "delegations", metadata,
    Column("name", String(200), primary_key=True),     # who is away
    Column("data", Text, nullable=False),              # JSON of core.approvals.Delegation
    Column("seq", BigInteger, nullable=False),
)

blobs = Table(
    "blobs", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", String(32), nullable=False),
)

sources = Table(
    "sources", metadata,
    Column("name", String(64), primary_key=True),      # its device is ``intake:NAME``
    Column("kind", String(20), nullable=False),        # alertmanager, webhook, imap or web
    Column("secret", Text),                            # a webhook's HMAC key (the token itself); others keep only its hash
    Column("created_at", String(32), nullable=False),
)

intake_refs = Table(
    "intake_refs", metadata,
    Column("source", String(64), primary_key=True),
    Column("ref", String(300), primary_key=True),      # an alert's fingerprint, a webhook's id, a mail's Message-ID
    Column("ticket", String(64), nullable=False),      # the ticket it opened or noted
    Column("seq", BigInteger, nullable=False),         # when it was last seen
)

intake_hits = Table(
    "intake_hits", metadata,
    Column("source", String(64), nullable=False),
    Column("address", String(64), nullable=False),     # the client's IP address (the web form's rate limit)
    Column("at", BigInteger, nullable=False),          # unix seconds
    Index("intake_hits_address", "source", "address", "at"),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,                    # signed webhooks accepted inside their window: none is taken twice
    Column("source", String(64), primary_key=True),
    Column("signature", String(64), primary_key=True), # hex HMAC-SHA256 of "{timestamp}.{body}"
    Column("at", BigInteger, nullable=False),          # its signed unix time; pruned once outside the window
    Index("webhook_deliveries_at", "at"),
)

notifications = Table(
    "notifications", metadata,                         # the team's webhook outbox (server.jobs), as the local store's
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("created_at", String(32), nullable=False),
    Column("target", String(200), nullable=False),     # name in [notify.targets]
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),              # JSON, in the target's format
    Column("ticket", String(64)),
    Column("rule", String(200), nullable=False),       # the escalation's rule and round (sla_resolve, blocked@...)
    Column("status", String(16), nullable=False),      # pending, sent, failed
    Column("attempts", BigInteger, nullable=False),
    Column("last_error", Text),
    Column("next_attempt_at", String(32), nullable=False),
    Column("sent_at", String(32)),
    UniqueConstraint("ticket", "rule", "target", name="notifications_once"),
    Index("server_notifications_due", "status", "next_attempt_at"),
)

#: per version, the tables it creates
MIGRATIONS: list[list[Table]] = [
    [server_meta, counters, devices, events, results, tickets, technicians, blobs],
    [articles],  # v2: the knowledge base
    [delegations],  # v3: approvals: who approves for whom while away
    [sources, intake_refs, intake_hits, notifications],  # v4: intake doors; the team's notification outbox
    [webhook_deliveries],  # v5: webhooks that cannot be replayed
]
LATEST = len(MIGRATIONS)

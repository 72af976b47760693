"""SQLModel mirror of the local store's schema (``ticketctl.store.schema``).

These classes serve tooling (reports, ad-hoc analysis with SQLModel or
pandas over a copy of a store); the central server keeps its own schema
(``ticketctl.server.schema``). The technician's hot path never imports this
module: every headless command opens the store with stdlib ``sqlite3`` and the
DDL in ``schema.py``, because SQLAlchemy, SQLModel and pydantic together cost
more to import than a whole command may take.

The mirror is column for column: same table and column names, same
nullability, and the same SQLite type affinity (TEXT -> ``str``, INTEGER ->
``int``, REAL -> ``float``). JSON columns stay TEXT (``str``) here as in the
local store, so a row moves between the two unchanged; decoding them is the
job of ``ticketctl.store.db``. Booleans are INTEGER 0/1 (``on_shift``), as
SQLite stores them. ``tests/test_store_schema.py`` fails when this module and
``schema.py`` disagree.

Defaults repeat the projection dataclasses in ``ticketctl.core.model`` (the
JSON columns as their encoded empty values), so a row built here without
every column folds to the same projection.
"""

from __future__ import annotations

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel


class MetaRow(SQLModel, table=True):
    """One key/value of the store's identity and counters (``device_id``,
    ``key_prefix``, ``next_device_seq``, ``next_ticket_no``)."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True)
    value: str


class EventRow(SQLModel, table=True):
    """One immutable event of the log, ``payload`` JSON-encoded.

    ``seq`` is the order in which this store applied it (AUTOINCREMENT: a
    sequence number is never reused, even after the last row is removed);
    ``(device, device_seq)`` is unique, so a device's own order has no gaps or
    duplicates; ``server_seq`` is set once the server accepted the event."""

    __tablename__ = "events"
    __table_args__ = (
        Index("events_ticket", "ticket", "seq"),
        Index("events_device", "device", "device_seq", unique=True),
        Index("events_mutation", "mutation_id"),
        Index("events_server", "server_seq"),
        {"sqlite_autoincrement": True},
    )

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True)
    mutation_id: str
    ticket: str | None = None
    type: str
    payload: str = "{}"
    actor: str
    device: str
    device_seq: int
    at: str
    server_seq: int | None = None


class TicketRow(SQLModel, table=True):
    """The projection of one ticket (see ``ticketctl.core.model.Ticket``).

    ``skills``, ``block``, ``blocked_seconds``, ``checks``, ``links``,
    ``escalations``, ``stall``, ``evidence``, ``confirmation``, ``confirm_tokens``,
    ``certificates``, ``qa`` and ``approvals`` are JSON text;
    the ``*_bt`` columns are business-second ordinals of the SLA calendar."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("tickets_status", "status"),
        Index("tickets_assignee", "assignee", "status"),
        Index("tickets_created", "created_at"),
        Index("tickets_batch", "product", "fault", "zone", "created_at"),
        Index("tickets_heat", "status", "dept", "product", "fault", "created_at"),
        Index("tickets_rank", "status", "priority", "impact", "resolve_due_bt", "resolve_left_s", "resolve_target_s",
              "created_at", "key", "dept", "product", "fault", "assignee", "zone", "blocked_reason"),
    )

    key: str = Field(primary_key=True)
    title: str
    type: str
    dept: str
    product: str
    fault: str = ""
    description: str = ""
    priority: str = "medium"
    impact: str = "user"
    zone: str = ""
    skills: str = "[]"
    customer: str = ""
    phone: str = ""
    channel: str = ""
    status: str = "new"
    assignee: str | None = None
    blocked_reason: str | None = None
    blocked_since: str | None = None
    block: str = "{}"
    status_before_block: str | None = None
    created_at: str
    updated_at: str
    first_response_at: str | None = None
    resolved_at: str | None = None
    closed_at: str | None = None
    cancel_reason: str | None = None
    response_due_bt: int = 0
    resolve_target_s: int = 0
    resolve_due_bt: int | None = None
    resolve_left_s: int | None = None
    blocked_seconds: str = "{}"
    checks: str = "{}"
    reopen_count: int = 0
    status_since: str = ""
    parent: str | None = None
    links: str = "[]"
    escalations: str = "{}"
    stall: str = "{}"
    evidence: str = "[]"
    confirmation: str = "{}"
    confirm_tokens: str = "{}"
    certificates: str = "[]"
    qa: str = "[]"
    resolution: str = ""
    approvals: str = "[]"


class TechnicianRow(SQLModel, table=True):
    """The projection of one technician (see ``ticketctl.core.model.Technician``);
    ``skills`` is JSON text, ``on_shift`` is 0 or 1."""

    __tablename__ = "technicians"

    name: str = Field(primary_key=True)
    skills: str = "[]"
    zone: str = ""
    lat: float | None = None
    lon: float | None = None
    capacity: int = 3
    dept: str = ""
    on_shift: int = 1
    created_at: str
    updated_at: str
    senior: int = 0
    on_leave: int = 0
    delegate: str | None = None


class NotificationRow(SQLModel, table=True):
    """One webhook delivery in the persistent outbox: ``pending`` until a
    target accepted it (``sent``) or it ran out of tries (``failed``)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("notifications_status", "status", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: str
    target: str
    url: str
    body: str
    ticket: str | None = None
    rule: str
    status: str
    attempts: int
    last_error: str | None = None
    next_attempt_at: str
    sent_at: str | None = None


class SpanRow(SQLModel, table=True):
    """One stretch of a ticket's history with one status, department, product
    and fault: from ``from_at`` (inclusive) to ``to_at`` (exclusive, NULL while
    it lasts). Heat maps at a past moment count the spans that cover it."""

    __tablename__ = "spans"
    __table_args__ = (
        Index("spans_ticket", "ticket", "to_at"),
        Index("spans_open", "from_at", "to_at", "status", "dept", "product", "fault", "created_at",
              sqlite_where=text("status IN ('new', 'assigned', 'in_progress', 'blocked')")),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket: str
    from_at: str
    to_at: str | None = None
    status: str
    dept: str
    product: str
    fault: str
    created_at: str


class OutboxRow(SQLModel, table=True):
    """One mutation queued for the server (``docs/sync.md``): pending until
    sent, then applied or rejected with the server's reason."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("outbox_status", "status", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    mutation_id: str = Field(unique=True)
    name: str
    args: str
    created_at: str
    actor: str
    client_seq: int | None = Field(default=None, unique=True)
    status: str
    reason: str | None = None
    result_seq: int | None = None


class BaseRow(SQLModel, table=True):
    """A projection as a snapshot brought it: the base later events fold onto."""

    __tablename__ = "bases"

    kind: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    data: str


class ArticleRow(SQLModel, table=True):
    """The projection of one knowledge article (see ``ticketctl.core.kb.Article``);
    ``steps``, ``tags`` and ``editors`` are JSON text, ``public`` is 0 or 1."""

    __tablename__ = "articles"

    id: str = Field(primary_key=True)
    title: str
    author: str
    created_at: str
    updated_at: str
    problem: str = ""
    steps: str = "[]"
    cause: str = ""
    solution: str = ""
    tags: str = "[]"
    product: str = ""
    fault: str = ""
    dept: str = ""
    source: str | None = None
    status: str = "active"
    public: int = 0
    published_at: str | None = None
    retired_at: str | None = None
    retire_reason: str | None = None
    version: int = 1
    editors: str = "[]"


class KbDocRow(SQLModel, table=True):
    """What one row of the knowledge base's FTS5 index (``kb_fts``, same rowid)
    is: an article or a resolved ticket, with the fields similar tickets match
    on and the moment recency ranks by. The FTS5 table itself (a virtual table)
    and the triggers that fill ``kb_dirty`` are not mirrored here."""

    __tablename__ = "kb_docs"
    __table_args__ = (
        Index("kb_docs_ref", "kind", "ref", unique=True),
        Index("kb_docs_fault", "fault", "product", "at"),
        Index("kb_docs_fault_at", "fault", "at"),
    )

    id: int = Field(primary_key=True)
    kind: str
    ref: str
    product: str
    fault: str
    dept: str
    at: str


class KbDirtyRow(SQLModel, table=True):
    """A ticket or article whose search index entry is out of date."""

    __tablename__ = "kb_dirty"
    __table_args__ = {"sqlite_with_rowid": False}

    kind: str = Field(primary_key=True)
    ref: str = Field(primary_key=True)


class DelegationRow(SQLModel, table=True):
    """Who approves in someone's place while they are away
    (``ticketctl.core.approvals.Delegation`` as JSON text)."""

    __tablename__ = "delegations"

    name: str = Field(primary_key=True)
    data: str


#: table name -> class, in the order ``schema.py`` creates them
TABLES: dict[str, type[SQLModel]] = {
    "meta": MetaRow,
    "events": EventRow,
    "tickets": TicketRow,
    "technicians": TechnicianRow,
    "notifications": NotificationRow,
    "spans": SpanRow,
    "outbox": OutboxRow,
    "bases": BaseRow,
    "articles": ArticleRow,
    "kb_docs": KbDocRow,
    "kb_dirty": KbDirtyRow,
    "delegations": DelegationRow,
}

"""The device store's tables, declared once, as SQLModel classes.

This module is the one source of every column of the device's SQLite store.
The store itself never imports it: ``tools/gen_ddl.py`` writes the SQLite DDL
of these classes into ``ticketctl/store/ddl.py`` (the CREATE statements a new
store is made with) and the facts a row needs into ``ticketctl/store/columns.py``
(the schema's version, which columns hold JSON and which hold flags), because
SQLAlchemy, SQLModel and pydantic together cost more to import than a whole
technician's command may take. ``tests/test_store_schema.py`` fails when the
committed modules differ from what these classes generate, and when a store
upgraded through the migrations (``store/schema.py``) differs from one created
from the generated DDL.

The projections (``tickets``, ``technicians``, ``articles``) are not written
out: each is made from the fields of its ``core`` dataclass (name, type,
default) and a small :class:`Projection` spec (its table, primary key and
indexes), so a field added to ``core.model.Ticket`` is a column of ``tickets``.
A field's type decides its column::

    str / int / float         TEXT / INTEGER / REAL, NOT NULL
    X | None                  the same, NULL allowed
    bool                      INTEGER 0 or 1 (a flag: FLAG_COLUMNS); bool | None also NULL
    list[...] / dict[...]     TEXT holding compact JSON (JSON_COLUMNS)

and its default is the column's DEFAULT (a JSON field's as its encoded
empty value), so ``ALTER TABLE ... ADD COLUMN`` in a migration gives an old
store the very column a new one gets. The other tables are written out below.
What SQLModel cannot say (the full-text index, a virtual table, and the
triggers that keep it current) is :data:`SQLITE_EXTRAS`, DDL text.

Rows here are the stored values (JSON as text, flags as 0/1), so a row moves
between a store file and these classes unchanged; decoding them into the
dataclasses is ``ticketctl.store.rows``'s job.

Adding a column: add the field (to the dataclass, or to a class here), add a
migration that gives an existing store the same column (``store/schema.py``;
a new field goes last, with a default), then run ``python tools/gen_ddl.py``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DDL, Column, Float, Index, Integer, MetaData, Text, event, text
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeEngine
from sqlmodel import Field, SQLModel

from ticketctl.core.kb import Article
from ticketctl.core.model import Technician, Ticket
from ticketctl.core.stock import Part, Place, Transfer


class StoreTable(SQLModel):
    """Base of the device store's tables: their own metadata (the server's
    tables, ``server.schema``, have tables of the same names)."""

    metadata = MetaData()


# -- the projections, made from the core's dataclasses ------------------------------------------


@dataclass(frozen=True)
class Projection:
    """What a core dataclass does not say about its table."""

    #: the dataclass whose fields are the columns, in their order
    source: type
    table: str
    primary_key: str
    #: ``Index("name", "column", ...)``, as in a written-out class's ``__table_args__``
    indexes: tuple[Index, ...] = ()


#: a plain field type -> (stored Python type, SQLAlchemy type)
PLAIN: dict[Any, tuple[type, type[TypeEngine[Any]]]] = {str: (str, Text), int: (int, Integer), float: (float, Float)}


def encode_default(value: Any) -> str:
    """A JSON field's value as the store writes it (``rows.encode``): compact, keys sorted."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def stored_field(owner: str, f: dataclasses.Field[Any], hint: Any, primary_key: bool) -> tuple[Any, Any]:
    """(annotation, ``Field``) of one dataclass field as a column: see the module's table.
    Raises TypeError for a type with no column (a nested dataclass, a set, an optional JSON value)."""
    args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    kinds = [a for a in args if a is not type(None)]
    optional = len(kinds) < len(args)
    kind = (typing.get_origin(kinds[0]) or kinds[0]) if len(kinds) == 1 else None
    if f.default is not dataclasses.MISSING:
        default: Any = f.default
    elif f.default_factory is not dataclasses.MISSING:
        default = f.default_factory()
    else:
        default = dataclasses.MISSING
    info: dict[str, bool] = {}
    python: type
    sa_type: type[TypeEngine[Any]]
    if kind in (list, dict) and not optional:
        python, sa_type, info["json"] = str, Text, True
        default = default if default is dataclasses.MISSING else encode_default(default)
    elif kind is bool:  # optional: NULL when unknown
        python, sa_type, info["flag"] = int, Integer, True
        default = default if default is dataclasses.MISSING or default is None else int(default)
    elif kind in PLAIN:
        python, sa_type = PLAIN[kind]
    else:
        raise TypeError(f"{owner}.{f.name}: {hint} has no column type (str, int, float or bool, optional or not; "
                        "or a list or dict, stored as JSON, never None)")
    if isinstance(default, str):
        server_default: str | TextClause | None = default
    elif default is None or default is dataclasses.MISSING:
        server_default = None
    else:
        server_default = text(repr(default))
    column = Column(f.name, sa_type, primary_key=primary_key, nullable=optional and not primary_key,
                    server_default=server_default, info=info)
    annotation = python | None if optional else python
    if default is dataclasses.MISSING:
        return annotation, Field(sa_column=column)
    return annotation, Field(default=default, sa_column=column)


def projection(name: str, spec: Projection, base: type[SQLModel] = StoreTable) -> type[SQLModel]:
    """The table class of ``spec.source``: one column per field, in the dataclass's order."""
    hints = typing.get_type_hints(spec.source)
    owner = spec.source.__name__
    fields = dataclasses.fields(spec.source)
    if spec.primary_key not in {f.name for f in fields}:
        raise TypeError(f"{owner} has no field {spec.primary_key!r} for the primary key of {spec.table}")
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"The projection ``{spec.source.__module__}.{owner}``, stored (made from its fields).",
        "__tablename__": spec.table,
        "__table_args__": spec.indexes,
        "__annotations__": {},
    }
    for f in fields:
        namespace["__annotations__"][f.name], namespace[f.name] = stored_field(owner, f, hints[f.name], f.name == spec.primary_key)
    metaclass: Any = type(base)  # SQLModel's: ``table=True`` makes the SQLAlchemy table
    cls: type[SQLModel] = metaclass(name, (base,), namespace, table=True)
    return cls


#: the ``*_bt`` columns are business-second ordinals of the SLA calendar (``core.calendar``)
TicketRow = projection("TicketRow", Projection(Ticket, "tickets", "key", (
    Index("tickets_status", "status"),
    Index("tickets_assignee", "assignee", "status"),
    Index("tickets_created", "created_at"),
    # the sweep's batch incidents: same product and fault in one zone
    Index("tickets_batch", "product", "fault", "zone", "created_at"),
    # the heat map's counts now
    Index("tickets_heat", "status", "dept", "product", "fault", "created_at"),
    # the dashboard's ranking (store.board) reads only this index: the weight's inputs, the order's
    # tie-breaks and the columns a filter matches
    Index("tickets_rank", "status", "priority", "impact", "resolve_due_bt", "resolve_left_s", "resolve_target_s",
          "created_at", "key", "dept", "product", "fault", "assignee", "zone", "blocked_reason"),
    # the trends' tickets closed per day (``report trend``)
    Index("tickets_closed", "closed_at"),
    # each technician's last resolved tickets, newest first, with their clocks (``report kpi --by assignee``)
    Index("tickets_resolved", "assignee", "resolved_at", "key", "resolve_left_s"),
)))

TechnicianRow = projection("TechnicianRow", Projection(Technician, "technicians", "name"))

ArticleRow = projection("ArticleRow", Projection(Article, "articles", "id"))


# -- the other tables, written out --------------------------------------------------------------


class MetaRow(StoreTable, table=True):
    """One key/value of the store's identity and counters (``device_id``,
    ``key_prefix``, ``next_device_seq``, ``next_ticket_no``, ...)."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True)
    value: str


class EventRow(StoreTable, table=True):
    """One immutable event of the log (``core.model.Event``), ``payload`` JSON-encoded.

    ``seq`` is the order in which this store applied it (AUTOINCREMENT: a
    sequence number is never reused, even after the last row is removed);
    ``(device, device_seq)`` is unique, so a device's own order has no gaps or
    duplicates; ``mutation_id`` is the user action that made it; ``ticket`` is
    a ticket key, an article id, or NULL for a technician's event;
    ``server_seq`` is set once the server accepted the event."""

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
    payload: str = Field(default="{}", sa_column_kwargs={"info": {"json": True}})
    actor: str
    device: str
    device_seq: int
    at: str
    server_seq: int | None = None


class NotificationRow(StoreTable, table=True):
    """One webhook delivery in the persistent outbox (``store.notifications``):
    ``pending`` until a target (a name in ``[notify.targets]``) accepted it
    (``sent``) or it ran out of tries (``failed``); ``body`` is JSON in the
    target's format."""

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


class SpanRow(StoreTable, table=True):
    """One stretch of a ticket's history with one status, department, product
    and fault: from ``from_at`` (inclusive) to ``to_at`` (exclusive, NULL while
    it lasts); ``created_at`` is the ticket's, for ages. Heat maps at a past
    moment count the spans that cover it; ``spans_open`` covers them, for the
    backlog's statuses only (a third of the rows or less)."""

    __tablename__ = "spans"
    __table_args__ = (
        Index("spans_ticket", "ticket", "to_at"),
        Index("spans_open", "from_at", "to_at", "status", "dept", "product", "fault", "created_at",
              sqlite_where=text("status IN ('new', 'assigned', 'in_progress', 'blocked')")),
        # the blocks that began in a window (``report trend``'s work stopped per day)
        Index("spans_blocked", "from_at", "ticket", sqlite_where=text("status = 'blocked'")),
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


class OutboxRow(StoreTable, table=True):
    """One mutation queued for the server (``docs/sync.md``): ``id`` is what
    ``sync retry`` and ``sync discard`` name, ``mutation_id`` the uuid its events
    carry, ``name`` and ``args`` (JSON) what the server runs again, ``client_seq``
    this device's push order, taken when first sent. ``status`` is pending, sent,
    applied or rejected (with the server's ``reason``); ``result_seq`` is the
    server's sequence number of the result."""

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


class BaseRow(StoreTable, table=True):
    """A projection as a snapshot brought it (``kind`` ticket, technician,
    article or delegation; ``name`` its key; ``data`` its JSON): the base its
    later events fold onto."""

    __tablename__ = "bases"

    kind: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    data: str


class KbDocRow(StoreTable, table=True):
    """What one row of the knowledge base's full-text index (``kb_fts``, same
    rowid) is: an article or a resolved ticket (``kind``; ``ref`` its id or key),
    with the fields similar tickets match on and the moment recency ranks by
    (``at``: resolved, or changed)."""

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


class KbDirtyRow(StoreTable, table=True):
    """A ticket or article whose search index entry may be out of date
    (put here by the triggers of :data:`SQLITE_EXTRAS`; ``store.kbindex``
    catches up from here)."""

    __tablename__ = "kb_dirty"
    __table_args__ = {"sqlite_with_rowid": False}

    kind: str = Field(primary_key=True)
    ref: str = Field(primary_key=True)


class DelegationRow(StoreTable, table=True):
    """Who approves in someone's place while they are away
    (``ticketctl.core.approvals.Delegation`` as JSON text)."""

    __tablename__ = "delegations"

    name: str = Field(primary_key=True)
    data: str


#: the catalogue (folded from ``stock.part_added``) and the places stock is at: a warehouse, a store, a
#: technician's van (``owner``) or a site, in a ``zone`` (``stock.place_added``)
PartRow = projection("PartRow", Projection(Part, "parts", "sku"))
PlaceRow = projection("PlaceRow", Projection(Place, "places", "name"))


class StockRow(StoreTable, table=True):
    """One part at one place: on hand and reserved for tickets (available is
    the difference), folded from the ``stock.*`` ledger (``core.stock.apply``)."""

    __tablename__ = "stock"
    __table_args__ = (
        Index("stock_place", "place", "sku"),
        {"sqlite_with_rowid": False},
    )

    sku: str = Field(primary_key=True)
    place: str = Field(primary_key=True)
    on_hand: int = 0
    reserved: int = 0


#: a transfer of a part between places: it left ``src`` at ``sent_at`` and counts at ``dst`` only from ``arrived_at``
TransferRow = projection("TransferRow", Projection(Transfer, "transfers", "id"))


class PartHoldRow(StoreTable, table=True):
    """A ticket's parts from one place: still reserved, and used (``core.stock.Hold``)."""

    __tablename__ = "part_holds"
    __table_args__ = {"sqlite_with_rowid": False}

    ticket: str = Field(primary_key=True)
    sku: str = Field(primary_key=True)
    place: str = Field(primary_key=True)
    reserved: int = 0
    used: int = 0


class PartWaitRow(StoreTable, table=True):
    """A ticket waiting for a part no place could serve (``core.stock.Wait``):
    stock received where it can be served goes to these, oldest SLA first."""

    __tablename__ = "part_waits"
    __table_args__ = (
        Index("part_waits_sku", "sku"),
        {"sqlite_with_rowid": False},
    )

    ticket: str = Field(primary_key=True)
    sku: str = Field(primary_key=True)
    qty: int
    since: str


#: table name -> class, in the order a new store creates them
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
    "parts": PartRow,
    "places": PlaceRow,
    "stock": StockRow,
    "transfers": TransferRow,
    "part_holds": PartHoldRow,
    "part_waits": PartWaitRow,
}

#: What SQLModel cannot declare, run after the tables in this order: the knowledge base's
#: full-text index (FTS5, a virtual table; a ``kb_docs`` row's id is its rowid there) and its
#: vocabulary, and the triggers that put every ticket or article whose searchable state may
#: have changed on ``kb_dirty``, whoever wrote it (``store.kbindex.refresh`` catches up).
SQLITE_EXTRAS: tuple[str, ...] = (
    "CREATE VIRTUAL TABLE kb_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE kb_vocab USING fts5vocab(kb_fts, 'row')",
    """CREATE TRIGGER kb_ticket_put AFTER INSERT ON tickets
    WHEN NEW.status IN ('resolved', 'closed') OR EXISTS (SELECT 1 FROM kb_docs WHERE kind = 'ticket' AND ref = NEW.key)
    BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('ticket', NEW.key); END""",
    """CREATE TRIGGER kb_ticket_changed AFTER UPDATE OF status, title, description, resolution, product, fault, dept ON tickets
    BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('ticket', NEW.key); END""",
    """CREATE TRIGGER kb_ticket_gone AFTER DELETE ON tickets
    WHEN EXISTS (SELECT 1 FROM kb_docs WHERE kind = 'ticket' AND ref = OLD.key)
    BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('ticket', OLD.key); END""",
    """CREATE TRIGGER kb_article_put AFTER INSERT ON articles
    BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('article', NEW.id); END""",
    """CREATE TRIGGER kb_article_gone AFTER DELETE ON articles
    BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('article', OLD.id); END""",
)

# so that ``StoreTable.metadata.create_all`` on SQLite makes a whole store too (tooling, tests)
for _statement in SQLITE_EXTRAS:
    event.listen(StoreTable.metadata, "after_create", DDL(_statement).execute_if(dialect="sqlite"))


def json_columns() -> dict[str, tuple[str, ...]]:
    """Table -> its columns that hold JSON text, for the tables that have any."""
    return _marked("json")


def flag_columns() -> dict[str, tuple[str, ...]]:
    """Table -> its columns that hold a flag (0 or 1, a ``bool`` in the dataclass)."""
    return _marked("flag")


def _marked(mark: str) -> dict[str, tuple[str, ...]]:
    out = {}
    for name, cls in TABLES.items():
        cols = tuple(c.name for c in cls.__table__.columns if c.info.get(mark))  # type: ignore[attr-defined]
        if cols:
            out[name] = cols
    return out

# ruff: noqa: E501  (generated: one statement per item)
"""The device store's DDL for SQLite: what a new store is made with.

Generated from the SQLModel classes of ``ticketctl.store.tables`` by
``python tools/gen_ddl.py``; ``tests/test_store_schema.py`` fails when it differs
from them, and when a store upgraded through the migrations (``store.schema``)
differs from one made by these statements. Do not edit: change the classes.
"""

#: the schema version these statements make (``PRAGMA user_version``)
VERSION = 12

#: every table, index, virtual table and trigger of a new store, by name, in the order they are made
OBJECTS: dict[str, str] = {
    "meta": """CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
)""",
    "events": """CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    mutation_id TEXT NOT NULL,
    ticket TEXT,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    actor TEXT NOT NULL,
    device TEXT NOT NULL,
    device_seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    server_seq INTEGER
)""",
    "events_device": 'CREATE UNIQUE INDEX events_device ON events (device, device_seq)',
    "events_mutation": 'CREATE INDEX events_mutation ON events (mutation_id)',
    "events_server": 'CREATE INDEX events_server ON events (server_seq)',
    "events_ticket": 'CREATE INDEX events_ticket ON events (ticket, seq)',
    "tickets": """CREATE TABLE tickets (
    key TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    type TEXT NOT NULL,
    dept TEXT NOT NULL,
    product TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    fault TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    priority TEXT NOT NULL DEFAULT 'medium',
    impact TEXT NOT NULL DEFAULT 'user',
    zone TEXT NOT NULL DEFAULT '',
    skills TEXT NOT NULL DEFAULT '[]',
    customer TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'new',
    assignee TEXT,
    blocked_reason TEXT,
    blocked_since TEXT,
    block TEXT NOT NULL DEFAULT '{}',
    status_before_block TEXT,
    first_response_at TEXT,
    resolved_at TEXT,
    closed_at TEXT,
    cancel_reason TEXT,
    response_due_bt INTEGER NOT NULL DEFAULT 0,
    resolve_target_s INTEGER NOT NULL DEFAULT 0,
    resolve_due_bt INTEGER,
    resolve_left_s INTEGER,
    blocked_seconds TEXT NOT NULL DEFAULT '{}',
    checks TEXT NOT NULL DEFAULT '{}',
    reopen_count INTEGER NOT NULL DEFAULT 0,
    status_since TEXT NOT NULL DEFAULT '',
    parent TEXT,
    links TEXT NOT NULL DEFAULT '[]',
    escalations TEXT NOT NULL DEFAULT '{}',
    stall TEXT NOT NULL DEFAULT '{}',
    evidence TEXT NOT NULL DEFAULT '[]',
    confirmation TEXT NOT NULL DEFAULT '{}',
    confirm_tokens TEXT NOT NULL DEFAULT '{}',
    certificates TEXT NOT NULL DEFAULT '[]',
    qa TEXT NOT NULL DEFAULT '[]',
    resolution TEXT NOT NULL DEFAULT '',
    approvals TEXT NOT NULL DEFAULT '[]',
    source_made_sla INTEGER,
    source_reopens INTEGER
)""",
    "tickets_assignee": 'CREATE INDEX tickets_assignee ON tickets (assignee, status)',
    "tickets_batch": 'CREATE INDEX tickets_batch ON tickets (product, fault, zone, created_at)',
    "tickets_closed": 'CREATE INDEX tickets_closed ON tickets (closed_at)',
    "tickets_created": 'CREATE INDEX tickets_created ON tickets (created_at)',
    "tickets_heat": 'CREATE INDEX tickets_heat ON tickets (status, dept, product, fault, created_at)',
    "tickets_rank": 'CREATE INDEX tickets_rank ON tickets (status, priority, impact, resolve_due_bt, resolve_left_s, resolve_target_s, created_at, key, dept, product, fault, assignee, zone, blocked_reason)',
    "tickets_resolved": 'CREATE INDEX tickets_resolved ON tickets (assignee, resolved_at, key, resolve_left_s)',
    "tickets_status": 'CREATE INDEX tickets_status ON tickets (status)',
    "technicians": """CREATE TABLE technicians (
    name TEXT PRIMARY KEY NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    skills TEXT NOT NULL DEFAULT '[]',
    zone TEXT NOT NULL DEFAULT '',
    lat REAL,
    lon REAL,
    capacity INTEGER NOT NULL DEFAULT 3,
    dept TEXT NOT NULL DEFAULT '',
    on_shift INTEGER NOT NULL DEFAULT 1,
    senior INTEGER NOT NULL DEFAULT 0,
    on_leave INTEGER NOT NULL DEFAULT 0,
    delegate TEXT
)""",
    "notifications": """CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    target TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    ticket TEXT,
    rule TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    next_attempt_at TEXT NOT NULL,
    sent_at TEXT
)""",
    "notifications_status": 'CREATE INDEX notifications_status ON notifications (status, next_attempt_at)',
    "spans": """CREATE TABLE spans (
    id INTEGER PRIMARY KEY,
    ticket TEXT NOT NULL,
    from_at TEXT NOT NULL,
    to_at TEXT,
    status TEXT NOT NULL,
    dept TEXT NOT NULL,
    product TEXT NOT NULL,
    fault TEXT NOT NULL,
    created_at TEXT NOT NULL
)""",
    "spans_blocked": "CREATE INDEX spans_blocked ON spans (from_at, ticket) WHERE status = 'blocked'",
    "spans_open": "CREATE INDEX spans_open ON spans (from_at, to_at, status, dept, product, fault, created_at) WHERE status IN ('new', 'assigned', 'in_progress', 'blocked')",
    "spans_ticket": 'CREATE INDEX spans_ticket ON spans (ticket, to_at)',
    "outbox": """CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mutation_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    args TEXT NOT NULL,
    created_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    client_seq INTEGER UNIQUE,
    status TEXT NOT NULL,
    reason TEXT,
    result_seq INTEGER
)""",
    "outbox_status": 'CREATE INDEX outbox_status ON outbox (status, id)',
    "bases": """CREATE TABLE bases (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, name)
)""",
    "articles": """CREATE TABLE articles (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    problem TEXT NOT NULL DEFAULT '',
    steps TEXT NOT NULL DEFAULT '[]',
    cause TEXT NOT NULL DEFAULT '',
    solution TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    product TEXT NOT NULL DEFAULT '',
    fault TEXT NOT NULL DEFAULT '',
    dept TEXT NOT NULL DEFAULT '',
    source TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    public INTEGER NOT NULL DEFAULT 0,
    published_at TEXT,
    retired_at TEXT,
    retire_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    editors TEXT NOT NULL DEFAULT '[]'
)""",
    "kb_docs": """CREATE TABLE kb_docs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    product TEXT NOT NULL,
    fault TEXT NOT NULL,
    dept TEXT NOT NULL,
    at TEXT NOT NULL
)""",
    "kb_docs_fault": 'CREATE INDEX kb_docs_fault ON kb_docs (fault, product, at)',
    "kb_docs_fault_at": 'CREATE INDEX kb_docs_fault_at ON kb_docs (fault, at)',
    "kb_docs_ref": 'CREATE UNIQUE INDEX kb_docs_ref ON kb_docs (kind, ref)',
    "kb_dirty": """CREATE TABLE kb_dirty (
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    PRIMARY KEY (kind, ref)
) WITHOUT ROWID""",
    "delegations": """CREATE TABLE delegations (
    name TEXT PRIMARY KEY NOT NULL,
    data TEXT NOT NULL
)""",
    "parts": """CREATE TABLE parts (
    sku TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT 'pcs',
    created_at TEXT NOT NULL DEFAULT ''
)""",
    "places": """CREATE TABLE places (
    name TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    owner TEXT,
    zone TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT ''
)""",
    "stock": """CREATE TABLE stock (
    sku TEXT NOT NULL,
    place TEXT NOT NULL,
    on_hand INTEGER NOT NULL,
    reserved INTEGER NOT NULL,
    PRIMARY KEY (sku, place)
) WITHOUT ROWID""",
    "stock_place": 'CREATE INDEX stock_place ON stock (place, sku)',
    "transfers": """CREATE TABLE transfers (
    id TEXT PRIMARY KEY NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    src TEXT NOT NULL,
    dst TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    arrived_at TEXT
)""",
    "part_holds": """CREATE TABLE part_holds (
    ticket TEXT NOT NULL,
    sku TEXT NOT NULL,
    place TEXT NOT NULL,
    reserved INTEGER NOT NULL,
    used INTEGER NOT NULL,
    PRIMARY KEY (ticket, sku, place)
) WITHOUT ROWID""",
    "part_waits": """CREATE TABLE part_waits (
    ticket TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (ticket, sku)
) WITHOUT ROWID""",
    "part_waits_sku": 'CREATE INDEX part_waits_sku ON part_waits (sku)',
    "kb_fts": "CREATE VIRTUAL TABLE kb_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')",
    "kb_vocab": "CREATE VIRTUAL TABLE kb_vocab USING fts5vocab(kb_fts, 'row')",
    "kb_ticket_put": """CREATE TRIGGER kb_ticket_put AFTER INSERT ON tickets
    WHEN NEW.status IN ('resolved', 'closed') OR EXISTS (SELECT 1 FROM kb_docs WHERE kind = 'ticket' AND ref = NEW.key)
    BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('ticket', NEW.key); END""",
    "kb_ticket_changed": """CREATE TRIGGER kb_ticket_changed AFTER UPDATE OF status, title, description, resolution, product, fault, dept ON tickets
    BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('ticket', NEW.key); END""",
    "kb_ticket_gone": """CREATE TRIGGER kb_ticket_gone AFTER DELETE ON tickets
    WHEN EXISTS (SELECT 1 FROM kb_docs WHERE kind = 'ticket' AND ref = OLD.key)
    BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('ticket', OLD.key); END""",
    "kb_article_put": """CREATE TRIGGER kb_article_put AFTER INSERT ON articles
    BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('article', NEW.id); END""",
    "kb_article_gone": """CREATE TRIGGER kb_article_gone AFTER DELETE ON articles
    BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('article', OLD.id); END""",
}

STATEMENTS: tuple[str, ...] = tuple(OBJECTS.values())

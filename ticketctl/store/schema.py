"""How an existing store is brought to the latest schema: the ordered list of migrations.

A new store is not made from these: it is created at the latest version directly
from ``store.ddl``, the DDL generated from the tables' one declaration, the
SQLModel classes of ``store.tables``. The migrations are the history an older
store still has to go through; ``tests/test_store_schema.py`` checks that a store
upgraded through them, from any version, has exactly the tables, columns,
indexes and triggers of a store made from ``store.ddl``. So a schema change is
the classes changed (``python tools/gen_ddl.py``) plus a migration here that
takes an existing store to the same place.

Why not Alembic: the local store is opened by every technician command, and
Alembic (with SQLAlchemy under it) costs ~0.7 s to import, more than a whole
command may take. Here a version check is one ``PRAGMA user_version`` read,
and a migration is a SQL script run in the same transaction that bumps the
version. Migrations are append-only: never edit a shipped one, add the next.
This module is imported only to upgrade a store.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # v1: event log, projections, device identity
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- order in which this store applied it
        id TEXT NOT NULL UNIQUE,                -- uuid
        mutation_id TEXT NOT NULL,              -- the user action that made it
        ticket TEXT,                            -- ticket key; NULL for technician events
        type TEXT NOT NULL,
        payload TEXT NOT NULL,                  -- JSON
        actor TEXT NOT NULL,
        device TEXT NOT NULL,
        device_seq INTEGER NOT NULL,
        at TEXT NOT NULL,                       -- ISO-8601 UTC
        server_seq INTEGER                      -- set once the server accepted it
    );
    CREATE INDEX events_ticket ON events (ticket, seq);
    CREATE UNIQUE INDEX events_device ON events (device, device_seq);
    CREATE TABLE tickets (
        key TEXT PRIMARY KEY NOT NULL,
        title TEXT NOT NULL,
        type TEXT NOT NULL,
        dept TEXT NOT NULL,
        product TEXT NOT NULL,
        fault TEXT NOT NULL,
        description TEXT NOT NULL,
        priority TEXT NOT NULL,
        impact TEXT NOT NULL,
        zone TEXT NOT NULL,
        skills TEXT NOT NULL,                   -- JSON list
        customer TEXT NOT NULL,
        phone TEXT NOT NULL,
        channel TEXT NOT NULL,
        status TEXT NOT NULL,
        assignee TEXT,
        blocked_reason TEXT,
        blocked_since TEXT,
        block TEXT NOT NULL,                    -- JSON: note and collaboration fields
        status_before_block TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        first_response_at TEXT,
        resolved_at TEXT,
        closed_at TEXT,
        cancel_reason TEXT,
        response_due_bt INTEGER NOT NULL,       -- business-second ordinals
        resolve_target_s INTEGER NOT NULL,
        resolve_due_bt INTEGER,
        resolve_left_s INTEGER,
        blocked_seconds TEXT NOT NULL,          -- JSON: reason -> seconds
        checks TEXT NOT NULL,                   -- JSON: item -> {at, by}
        reopen_count INTEGER NOT NULL
    );
    CREATE INDEX tickets_status ON tickets (status);
    CREATE INDEX tickets_assignee ON tickets (assignee, status);
    CREATE INDEX tickets_created ON tickets (created_at);
    CREATE TABLE technicians (
        name TEXT PRIMARY KEY NOT NULL,
        skills TEXT NOT NULL,                   -- JSON list
        zone TEXT NOT NULL,
        lat REAL,
        lon REAL,
        capacity INTEGER NOT NULL,
        dept TEXT NOT NULL,
        on_shift INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # v2: dispatch and sweep state; the notification outbox
    """
    ALTER TABLE tickets ADD COLUMN status_since TEXT NOT NULL DEFAULT '';
    ALTER TABLE tickets ADD COLUMN parent TEXT;
    ALTER TABLE tickets ADD COLUMN links TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE tickets ADD COLUMN escalations TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE tickets ADD COLUMN stall TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE technicians ADD COLUMN senior INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE technicians ADD COLUMN on_leave INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE technicians ADD COLUMN delegate TEXT;
    CREATE INDEX tickets_batch ON tickets (product, fault, zone, created_at);
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        target TEXT NOT NULL,                   -- name in [notify.targets]
        url TEXT NOT NULL,
        body TEXT NOT NULL,                     -- JSON, in the target's format
        ticket TEXT,
        rule TEXT NOT NULL,
        status TEXT NOT NULL,                   -- pending, sent, failed
        attempts INTEGER NOT NULL,
        last_error TEXT,
        next_attempt_at TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE INDEX notifications_status ON notifications (status, next_attempt_at);
    """,
    # v3: spans, the history of where each ticket was (status, department, product,
    # fault) over time, for heat maps at any past moment; covering indexes for them
    # (the spans one partial: only backlog statuses, a third of the rows or less)
    """
    CREATE TABLE spans (
        id INTEGER PRIMARY KEY,
        ticket TEXT NOT NULL,
        from_at TEXT NOT NULL,                  -- ISO-8601 UTC, inclusive
        to_at TEXT,                             -- exclusive; NULL while it lasts
        status TEXT NOT NULL,
        dept TEXT NOT NULL,
        product TEXT NOT NULL,
        fault TEXT NOT NULL,
        created_at TEXT NOT NULL                -- the ticket's, for ages
    );
    CREATE INDEX spans_ticket ON spans (ticket, to_at);
    CREATE INDEX spans_open ON spans (from_at, to_at, status, dept, product, fault, created_at)
        WHERE status IN ('new', 'assigned', 'in_progress', 'blocked');
    CREATE INDEX tickets_heat ON tickets (status, dept, product, fault, created_at);
    """,
    # v4: sync. The outbox of mutations for the server (docs/sync.md), and the
    # bases a client bootstrapped from a snapshot folds its later events onto
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,   -- what `sync retry` / `sync discard` name
        mutation_id TEXT NOT NULL UNIQUE,       -- uuid; the events it wrote carry it
        name TEXT NOT NULL,                     -- ticket.start, ticket.assign, ...
        args TEXT NOT NULL,                     -- JSON
        created_at TEXT NOT NULL,               -- when it was made here (ISO-8601 UTC)
        actor TEXT NOT NULL,
        client_seq INTEGER UNIQUE,              -- this device's push order, taken when first sent
        status TEXT NOT NULL,                   -- pending, sent, applied, rejected
        reason TEXT,                            -- the server's, when rejected
        result_seq INTEGER                      -- the server's sequence number of the result
    );
    CREATE INDEX outbox_status ON outbox (status, id);
    CREATE INDEX events_mutation ON events (mutation_id);
    CREATE INDEX events_server ON events (server_seq);
    CREATE TABLE bases (
        kind TEXT NOT NULL,                     -- ticket or technician
        name TEXT NOT NULL,                     -- its key or name
        data TEXT NOT NULL,                     -- JSON of the projection as of the snapshot
        PRIMARY KEY (kind, name)
    );
    """,
    # v5: closing with proof (ticketctl.core.evidence): evidence files, the customer's
    # confirmation and its tokens, certificates issued, QA samples
    """
    ALTER TABLE tickets ADD COLUMN evidence TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE tickets ADD COLUMN confirmation TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE tickets ADD COLUMN confirm_tokens TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE tickets ADD COLUMN certificates TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE tickets ADD COLUMN qa TEXT NOT NULL DEFAULT '[]';
    """,
    # v6: the dashboard's ranking (services.dashboard) reads only this index: the
    # weight's inputs, the order's tie-breaks and the columns a filter matches
    """
    CREATE INDEX tickets_rank ON tickets (status, priority, impact, resolve_due_bt, resolve_left_s, resolve_target_s,
                                         created_at, key, dept, product, fault, assignee, zone, blocked_reason);
    """,
    # v7: the knowledge base (ticketctl.core.kb): articles, and the search index over
    # them and the resolved tickets (ticketctl.store.kbindex). Triggers put every ticket
    # or article whose searchable state may have changed on kb_dirty, whoever wrote
    # it; the index catches up from there (kbindex.refresh)
    """
    ALTER TABLE tickets ADD COLUMN resolution TEXT NOT NULL DEFAULT '';
    CREATE TABLE articles (
        id TEXT PRIMARY KEY NOT NULL,           -- KB-PREFIX-N
        title TEXT NOT NULL,
        author TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        problem TEXT NOT NULL,
        steps TEXT NOT NULL,                    -- JSON list
        cause TEXT NOT NULL,
        solution TEXT NOT NULL,
        tags TEXT NOT NULL,                     -- JSON list
        product TEXT NOT NULL,
        fault TEXT NOT NULL,
        dept TEXT NOT NULL,
        source TEXT,                            -- the ticket it was made from
        status TEXT NOT NULL,                   -- active, retired
        public INTEGER NOT NULL,
        published_at TEXT,
        retired_at TEXT,
        retire_reason TEXT,
        version INTEGER NOT NULL,
        editors TEXT NOT NULL                   -- JSON list
    );
    CREATE TABLE kb_docs (
        id INTEGER PRIMARY KEY,                 -- its row in kb_fts
        kind TEXT NOT NULL,                     -- ticket or article
        ref TEXT NOT NULL,                      -- the ticket key or article id
        product TEXT NOT NULL,
        fault TEXT NOT NULL,
        dept TEXT NOT NULL,
        at TEXT NOT NULL                        -- resolved (ticket) or changed (article): recency
    );
    CREATE UNIQUE INDEX kb_docs_ref ON kb_docs (kind, ref);
    CREATE INDEX kb_docs_fault ON kb_docs (fault, product, at);
    CREATE INDEX kb_docs_fault_at ON kb_docs (fault, at);
    CREATE VIRTUAL TABLE kb_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');
    CREATE VIRTUAL TABLE kb_vocab USING fts5vocab(kb_fts, 'row');
    CREATE TABLE kb_dirty (
        kind TEXT NOT NULL,
        ref TEXT NOT NULL,
        PRIMARY KEY (kind, ref)
    ) WITHOUT ROWID;
    CREATE TRIGGER kb_ticket_put AFTER INSERT ON tickets
        WHEN NEW.status IN ('resolved', 'closed') OR EXISTS (SELECT 1 FROM kb_docs WHERE kind = 'ticket' AND ref = NEW.key)
        BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('ticket', NEW.key); END;
    CREATE TRIGGER kb_ticket_changed AFTER UPDATE OF status, title, description, resolution, product, fault, dept ON tickets
        BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('ticket', NEW.key); END;
    CREATE TRIGGER kb_ticket_gone AFTER DELETE ON tickets
        WHEN EXISTS (SELECT 1 FROM kb_docs WHERE kind = 'ticket' AND ref = OLD.key)
        BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('ticket', OLD.key); END;
    CREATE TRIGGER kb_article_put AFTER INSERT ON articles
        BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('article', NEW.id); END;
    CREATE TRIGGER kb_article_gone AFTER DELETE ON articles
        BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('article', OLD.id); END;
    """,
    # v8: approvals (ticketctl.core.approvals): each ticket's requests and their
    # steps; who approves for whom while away
    """
    ALTER TABLE tickets ADD COLUMN approvals TEXT NOT NULL DEFAULT '[]';
    CREATE TABLE delegations (
        name TEXT PRIMARY KEY NOT NULL,         -- who is away
        data TEXT NOT NULL                      -- JSON of core.approvals.Delegation
    );
    """,
    # v9: the projection tables exactly as their core dataclasses make them (store.tables):
    # columns in the dataclass's order, each field's default the column's DEFAULT (the
    # earliest columns had none), so an upgraded store is what a new one is made as
    # (store.ddl). The rows are copied as they are; the indexes and the knowledge base's
    # triggers on these tables, dropped with the old tables, are made again
    """
    ALTER TABLE tickets RENAME TO tickets_v8;
    CREATE TABLE tickets (
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
        approvals TEXT NOT NULL DEFAULT '[]'
    );
    INSERT INTO tickets (key, title, type, dept, product, created_at, updated_at, fault, description, priority, impact, zone, skills,
        customer, phone, channel, status, assignee, blocked_reason, blocked_since, block, status_before_block,
        first_response_at, resolved_at, closed_at, cancel_reason, response_due_bt, resolve_target_s, resolve_due_bt,
        resolve_left_s, blocked_seconds, checks, reopen_count, status_since, parent, links, escalations, stall,
        evidence, confirmation, confirm_tokens, certificates, qa, resolution, approvals)
        SELECT key, title, type, dept, product, created_at, updated_at, fault, description, priority, impact, zone, skills,
            customer, phone, channel, status, assignee, blocked_reason, blocked_since, block, status_before_block,
            first_response_at, resolved_at, closed_at, cancel_reason, response_due_bt, resolve_target_s, resolve_due_bt,
            resolve_left_s, blocked_seconds, checks, reopen_count, status_since, parent, links, escalations, stall,
            evidence, confirmation, confirm_tokens, certificates, qa, resolution, approvals FROM tickets_v8;
    DROP TABLE tickets_v8;
    CREATE INDEX tickets_assignee ON tickets (assignee, status);
    CREATE INDEX tickets_batch ON tickets (product, fault, zone, created_at);
    CREATE INDEX tickets_created ON tickets (created_at);
    CREATE INDEX tickets_heat ON tickets (status, dept, product, fault, created_at);
    CREATE INDEX tickets_rank ON tickets (status, priority, impact, resolve_due_bt, resolve_left_s, resolve_target_s,
                                         created_at, key, dept, product, fault, assignee, zone, blocked_reason);
    CREATE INDEX tickets_status ON tickets (status);
    ALTER TABLE technicians RENAME TO technicians_v8;
    CREATE TABLE technicians (
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
    );
    INSERT INTO technicians (name, created_at, updated_at, skills, zone, lat, lon, capacity, dept, on_shift, senior, on_leave, delegate)
        SELECT name, created_at, updated_at, skills, zone, lat, lon, capacity, dept, on_shift, senior, on_leave, delegate
        FROM technicians_v8;
    DROP TABLE technicians_v8;
    ALTER TABLE articles RENAME TO articles_v8;
    CREATE TABLE articles (
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
    );
    INSERT INTO articles (id, title, author, created_at, updated_at, problem, steps, cause, solution, tags, product, fault, dept,
        source, status, public, published_at, retired_at, retire_reason, version, editors)
        SELECT id, title, author, created_at, updated_at, problem, steps, cause, solution, tags, product, fault, dept,
            source, status, public, published_at, retired_at, retire_reason, version, editors FROM articles_v8;
    DROP TABLE articles_v8;
    CREATE TRIGGER kb_ticket_put AFTER INSERT ON tickets
        WHEN NEW.status IN ('resolved', 'closed') OR EXISTS (SELECT 1 FROM kb_docs WHERE kind = 'ticket' AND ref = NEW.key)
        BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('ticket', NEW.key); END;
    CREATE TRIGGER kb_ticket_changed AFTER UPDATE OF status, title, description, resolution, product, fault, dept ON tickets
        BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('ticket', NEW.key); END;
    CREATE TRIGGER kb_ticket_gone AFTER DELETE ON tickets
        WHEN EXISTS (SELECT 1 FROM kb_docs WHERE kind = 'ticket' AND ref = OLD.key)
        BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('ticket', OLD.key); END;
    CREATE TRIGGER kb_article_put AFTER INSERT ON articles
        BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('article', NEW.id); END;
    CREATE TRIGGER kb_article_gone AFTER DELETE ON articles
        BEGIN INSERT OR IGNORE INTO kb_dirty (kind, ref) VALUES ('article', OLD.id); END;
    """,
    # v10: parts and stock, folded from the stock.* ledger (core.stock)
    """
    CREATE TABLE parts (
        sku TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL,
        unit TEXT NOT NULL DEFAULT 'pcs',
        created_at TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE places (
        name TEXT PRIMARY KEY NOT NULL,
        kind TEXT NOT NULL,
        owner TEXT,
        zone TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE stock (
        sku TEXT NOT NULL,
        place TEXT NOT NULL,
        on_hand INTEGER NOT NULL,
        reserved INTEGER NOT NULL,
        PRIMARY KEY (sku, place)
    ) WITHOUT ROWID;
    CREATE INDEX stock_place ON stock (place, sku);
    CREATE TABLE transfers (
        id TEXT PRIMARY KEY NOT NULL,
        sku TEXT NOT NULL,
        qty INTEGER NOT NULL,
        src TEXT NOT NULL,
        dst TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        arrived_at TEXT
    );
    CREATE TABLE part_holds (
        ticket TEXT NOT NULL,
        sku TEXT NOT NULL,
        place TEXT NOT NULL,
        reserved INTEGER NOT NULL,
        used INTEGER NOT NULL,
        PRIMARY KEY (ticket, sku, place)
    ) WITHOUT ROWID;
    CREATE TABLE part_waits (
        ticket TEXT NOT NULL,
        sku TEXT NOT NULL,
        qty INTEGER NOT NULL,
        since TEXT NOT NULL,
        PRIMARY KEY (ticket, sku)
    ) WITHOUT ROWID;
    CREATE INDEX part_waits_sku ON part_waits (sku);
    """,
    # v11: indexes for the trends (report trend, report kpi --by assignee, the dashboard's trends screen)
    """
    CREATE INDEX tickets_closed ON tickets (closed_at);
    CREATE INDEX tickets_resolved ON tickets (assignee, resolved_at, key, resolve_left_s);
    CREATE INDEX spans_blocked ON spans (from_at, ticket) WHERE status = 'blocked';
    """,
    # v12: the source system's own figures of an imported ticket (its SLA verdict, its reopen count);
    # no replay: no event written before v12 carries them
    """
    ALTER TABLE tickets ADD COLUMN source_made_sla INTEGER;
    ALTER TABLE tickets ADD COLUMN source_reopens INTEGER;
    """,
]

#: migrations that add projection columns: the projections are replayed from the
#: events after them, so new columns hold exactly what the events say
REBUILD_AFTER = {2, 3, 5, 7}

LATEST = len(MIGRATIONS)

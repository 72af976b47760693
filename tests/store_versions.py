"""Take a store file back to an older schema version, as an older ticketctl
left it, for the tests that upgrade one."""

from __future__ import annotations

import sqlite3


def undo_v8(db: sqlite3.Connection) -> None:
    """v8 -> v7: no approvals column, no delegations."""
    db.execute("DROP TABLE delegations")
    db.execute("ALTER TABLE tickets DROP COLUMN approvals")


def undo_v7(db: sqlite3.Connection) -> None:
    """v7 -> v6: no knowledge base, no ``resolution``."""
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'kb_%'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    for table in ("kb_vocab", "kb_fts", "kb_docs", "kb_dirty", "articles"):
        db.execute(f"DROP TABLE {table}")
    db.execute("ALTER TABLE tickets DROP COLUMN resolution")


def back_to(db: sqlite3.Connection, version: int) -> None:
    """Undo the migrations after ``version`` (6 or 7) and set ``user_version``."""
    undo_v8(db)
    if version < 7:
        undo_v7(db)
    db.execute(f"PRAGMA user_version = {version}")

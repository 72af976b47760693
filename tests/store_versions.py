"""Take a store file back to an older schema version, as an older ticketctl
left it, for the tests that upgrade one."""

from __future__ import annotations

import sqlite3

from ticketctl.store.db import migrate


def shape_at(version: int) -> sqlite3.Connection:
    """An empty store in memory as the first ``version`` migrations leave it."""
    ref = sqlite3.connect(":memory:", isolation_level=None)
    migrate(ref, 0, version)
    return ref


def rebuild_as(db: sqlite3.Connection, ref: sqlite3.Connection, table: str) -> None:
    """Make ``table`` of ``db`` again as ``ref`` declares it (columns in its order, its
    defaults, its indexes and triggers), its rows kept in the columns both have."""
    sql = ref.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()[0]
    cols = ", ".join(r[1] for r in ref.execute(f"PRAGMA table_info({table})")
                     if r[1] in {c[1] for c in db.execute(f"PRAGMA table_info({table})")})
    db.execute(f"ALTER TABLE {table} RENAME TO {table}_newer")
    db.execute(sql)
    db.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {table}_newer")
    db.execute(f"DROP TABLE {table}_newer")
    for (extra,) in ref.execute("SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = ?"
                                " AND sql IS NOT NULL", (table,)).fetchall():
        db.execute(extra)


def undo_v12(db: sqlite3.Connection) -> None:
    """v12 -> v11: no source figures on the tickets."""
    for column in ("source_made_sla", "source_reopens"):
        db.execute(f"ALTER TABLE tickets DROP COLUMN {column}")


def undo_v11(db: sqlite3.Connection) -> None:
    """v11 -> v10: no trends indexes."""
    for index in ("tickets_closed", "tickets_resolved", "spans_blocked"):
        db.execute(f"DROP INDEX {index}")


def undo_v10(db: sqlite3.Connection) -> None:
    """v10 -> v9: no parts and stock."""
    for table in ("parts", "places", "stock", "transfers", "part_holds", "part_waits"):
        db.execute(f"DROP TABLE {table}")


def undo_v9(db: sqlite3.Connection) -> None:
    """v9 -> v8: the projection tables in the order their columns were added, with no
    DEFAULT on the first ones."""
    ref = shape_at(8)
    for table in ("tickets", "technicians", "articles"):
        rebuild_as(db, ref, table)
    ref.close()


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
    """Undo the migrations after ``version`` (6 .. 11) and set ``user_version``."""
    undo_v12(db)
    if version < 11:
        undo_v11(db)
    if version < 10:
        undo_v10(db)
    if version < 9:
        undo_v9(db)
    if version < 8:
        undo_v8(db)
    if version < 7:
        undo_v7(db)
    db.execute(f"PRAGMA user_version = {version}")

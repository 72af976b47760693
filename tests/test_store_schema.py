"""The SQLModel mirror (``ticketctl.store.tables``) and the local store's DDL
(``ticketctl.store.schema``) describe the same tables.

The local store is created the way a technician's command creates it (``Store``
on a fresh file, which runs the migrations); the mirror both as metadata and
as a real SQLite file made by ``SQLModel.metadata.create_all``. Both sides are
read back with ``PRAGMA table_info`` / ``index_list``, so the comparison is
about what SQLite actually holds, not what either side's source says.
"""

from __future__ import annotations

import sqlite3
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlmodel import SQLModel

from ticketctl.core.model import Technician, Ticket
from ticketctl.store import tables
from ticketctl.store.db import EVENT_COLUMNS, TECH_COLUMNS, TICKET_COLUMNS, Store

PYTHON_AFFINITY = {str: "TEXT", int: "INTEGER", float: "REAL"}


def affinity(declared: str) -> str:
    """SQLite's type affinity of a declared column type (datatype3.html, 3.1)."""
    t = declared.upper()
    if "INT" in t:
        return "INTEGER"
    if "CHAR" in t or "CLOB" in t or "TEXT" in t:
        return "TEXT"
    if "BLOB" in t or not t:
        return "BLOB"
    if "REAL" in t or "FLOA" in t or "DOUB" in t:
        return "REAL"
    return "NUMERIC"


Columns = list[dict[str, Any]]


def user_tables(db: sqlite3.Connection) -> list[str]:
    """The tables a mirror class stands for: not SQLite's own, not an FTS5 table
    (the knowledge base's ``kb_fts``) nor its shadow tables (``kb_fts_data``, ...)."""
    names = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    virtual = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")]
    return [n for n in names if not any(n == v or n.startswith(f"{v}_") for v in virtual)]


def read_schema(path: Path) -> dict[str, Columns]:
    """table -> its columns in order: name, affinity, notnull, pk (user tables only)."""
    db = sqlite3.connect(path)
    try:
        return {
            name: [
                {"name": c[1], "affinity": affinity(c[2]), "notnull": bool(c[3]), "pk": c[5]}
                for c in db.execute(f"PRAGMA table_info({name})")
            ]
            for name in user_tables(db)
        }
    finally:
        db.close()


def read_indexes(path: Path) -> dict[str, set[tuple[Any, ...]]]:
    """table -> its indexes as (name or origin, unique, columns). Explicit indexes
    (origin 'c') by name; the automatic ones of PRIMARY KEY and UNIQUE by origin,
    since SQLite numbers their names in declaration order."""
    db = sqlite3.connect(path)
    try:
        out: dict[str, set[tuple[Any, ...]]] = {}
        for table in user_tables(db):
            found = set()
            for _, name, unique, origin, _partial in db.execute(f"PRAGMA index_list({table})"):
                cols = tuple(r[2] for r in db.execute(f"PRAGMA index_info({name})"))
                found.add((name if origin == "c" else origin, bool(unique), cols))
            out[table] = found
        return out
    finally:
        db.close()


def has_table(path: Path, name: str) -> bool:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None
    finally:
        db.close()


def required(c: dict[str, Any]) -> bool:
    """Whether a column must hold a value by its declaration: NOT NULL, or part of
    the primary key. (SQLite itself lets a non-INTEGER PRIMARY KEY hold NULL unless
    it also says NOT NULL; see test_local_text_primary_keys_refuse_null.)"""
    return c["notnull"] or c["pk"] > 0


def comparable(schema: dict[str, Columns]) -> dict[str, list[tuple[str, str, bool, int]]]:
    return {t: [(c["name"], c["affinity"], required(c), c["pk"]) for c in cols] for t, cols in schema.items()}


def mirror_classes() -> dict[str, type[SQLModel]]:
    """Every table class defined in ``ticketctl.store.tables``, by table name."""
    return {
        c.__table__.name: c  # type: ignore[attr-defined]
        for c in vars(tables).values()
        if isinstance(c, type) and issubclass(c, SQLModel) and c.__module__ == tables.__name__
        and hasattr(c, "__table__")
    }


def metadata_schema() -> dict[str, list[tuple[str, str, bool, int]]]:
    """The mirror's tables as ``comparable`` shapes them, read from SQLModel.metadata
    (the SQL type as the SQLite dialect would declare it)."""
    out = {}
    for name in mirror_classes():
        table = SQLModel.metadata.tables[name]
        pk = [c.name for c in table.primary_key.columns]
        out[name] = [
            (c.name, affinity(str(c.type.compile(dialect=sqlite_dialect()))), not c.nullable or c.primary_key,
             pk.index(c.name) + 1 if c.name in pk else 0)
            for c in table.columns
        ]
    return out


def annotation_affinity(annotation: Any) -> tuple[str, bool]:
    """(affinity, optional) of a field annotation: ``str`` -> TEXT, ``int | None`` -> (INTEGER, True)."""
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    kinds = [a for a in args if a is not type(None)]
    assert len(kinds) == 1, annotation
    return PYTHON_AFFINITY[kinds[0]], len(args) > 1


@pytest.fixture()
def local_db(tmp_path: Path) -> Path:
    """A store file exactly as the first technician command creates it."""
    path = tmp_path / "local" / "ticketctl.db"
    with Store(path):
        pass
    return path


@pytest.fixture()
def mirror_db(tmp_path: Path) -> Path:
    """The SQLModel tables created on a second SQLite file."""
    path = tmp_path / "mirror.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        SQLModel.metadata.create_all(engine)
    finally:
        engine.dispose()
    return path


def test_mirror_module_declares_exactly_the_local_tables(local_db: Path) -> None:
    classes = mirror_classes()
    assert sorted(classes) == sorted(read_schema(local_db)) == [
        "articles", "bases", "delegations", "events", "kb_dirty", "kb_docs", "meta", "notifications", "outbox", "spans", "technicians",
        "tickets"]
    assert tables.TABLES == classes
    for name, cls in classes.items():
        assert SQLModel.metadata.tables[name] is cls.__table__  # type: ignore[attr-defined]
        assert cls.__doc__ and cls.__doc__.strip(), f"{cls.__name__} has no docstring"


def test_metadata_matches_the_local_store(local_db: Path) -> None:
    """Names and order, declared affinity, NOT NULL and primary key of every column."""
    local = comparable(read_schema(local_db))
    mirror = metadata_schema()
    for name in local:
        assert mirror[name] == local[name], f"table {name} differs"


def test_python_types_follow_the_affinity(local_db: Path) -> None:
    """TEXT -> str, INTEGER -> int, REAL -> float; ``X | None`` exactly where NULL is allowed
    (the AUTOINCREMENT ``events.seq`` is the one key that is optional: SQLite assigns it)."""
    local = read_schema(local_db)
    for name, cls in mirror_classes().items():
        fields = cls.model_fields
        assert list(fields) == [c["name"] for c in local[name]], name
        for c in local[name]:
            kind, optional = annotation_affinity(fields[c["name"]].annotation)
            assert kind == c["affinity"], f"{name}.{c['name']}"
            rowid = (name, c["name"]) in (("events", "seq"), ("notifications", "id"), ("spans", "id"), ("outbox", "id"))
            assert optional == (not required(c) or rowid), f"{name}.{c['name']}"


def test_create_all_gives_the_same_sqlite_schema(local_db: Path, mirror_db: Path) -> None:
    local = comparable(read_schema(local_db))
    created = comparable({t: c for t, c in read_schema(mirror_db).items() if t in local})
    assert created == local


def test_create_all_gives_the_same_indexes(local_db: Path, mirror_db: Path) -> None:
    local = read_indexes(local_db)
    created = {t: ix for t, ix in read_indexes(mirror_db).items() if t in local}
    assert created == local
    assert ("events_device", True, ("device", "device_seq")) in local["events"]
    assert ("u", True, ("id",)) in local["events"]
    # events.seq is AUTOINCREMENT on both sides: SQLite keeps sqlite_sequence for it
    assert has_table(local_db, "sqlite_sequence") and has_table(mirror_db, "sqlite_sequence")


def test_metadata_indexes_match_the_local_store(local_db: Path) -> None:
    local = read_indexes(local_db)
    for name in mirror_classes():
        declared = {(ix.name, bool(ix.unique), tuple(c.name for c in ix.columns))
                    for ix in SQLModel.metadata.tables[name].indexes}
        assert declared == {ix for ix in local[name] if ix[0] not in ("pk", "u")}, name


def test_store_column_tuples_match_the_tables(local_db: Path) -> None:
    """TICKET_COLUMNS / TECH_COLUMNS (the core.model dataclasses, the projection
    shape) name each column of their table once; EVENT_COLUMNS is every events
    column but the local ``seq``."""
    schema = read_schema(local_db)
    cols = {t: [c["name"] for c in cs] for t, cs in schema.items()}
    assert len(set(TICKET_COLUMNS)) == len(TICKET_COLUMNS)
    assert sorted(TICKET_COLUMNS) == sorted(cols["tickets"])
    assert sorted(TECH_COLUMNS) == sorted(cols["technicians"])
    assert sorted(EVENT_COLUMNS) == sorted(c for c in cols["events"] if c != "seq")
    assert TICKET_COLUMNS == tuple(Ticket.__dataclass_fields__)
    assert TECH_COLUMNS == tuple(Technician.__dataclass_fields__)


@pytest.mark.parametrize("table, column", [("meta", "key"), ("tickets", "key"), ("technicians", "name")])
def test_local_text_primary_keys_refuse_null(local_db: Path, table: str, column: str) -> None:
    db = sqlite3.connect(local_db)
    try:
        notnull = {c[1]: bool(c[3]) for c in db.execute(f"PRAGMA table_info({table})")}
        assert notnull[column], f"{table}.{column} is declared without NOT NULL"
    finally:
        db.close()

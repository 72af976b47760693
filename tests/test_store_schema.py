"""The device store's schema is declared once (the SQLModel classes of
``ticketctl.store.tables``, the projections made from ``core``'s dataclasses), and
both ways a store comes to be give exactly that schema:

* a new store is made from ``ticketctl/store/ddl.py``, generated from the classes
  by ``tools/gen_ddl.py`` (checked here to be current, with ``columns.py``);
* an existing one is upgraded through the migrations (``store.schema``), from
  every older version, and from the previous release's file.

Two stores are compared by what SQLite holds, read back with ``PRAGMA
table_info`` (name, declared type, NOT NULL, DEFAULT, primary key, in order),
``index_list`` / ``index_info`` and ``sqlite_master`` (each index's, trigger's
and virtual table's SQL, white space normalised).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import sqlite3
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine
from sqlmodel import SQLModel
from store_versions import back_to
from tools_loader import load_tool

from ticketctl.core.kb import Article
from ticketctl.core.model import Technician, Ticket
from ticketctl.store import columns, ddl, schema, tables
from ticketctl.store.db import Store, migrate
from ticketctl.store.rows import ARTICLE_COLUMNS, EVENT_COLUMNS, TECH_COLUMNS, TICKET_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
PREVIOUS = Path(__file__).parent / "data" / "previous_release"


@pytest.fixture(scope="module")
def gen_ddl() -> types.ModuleType:
    return load_tool("gen_ddl")


# -- reading a store's schema -------------------------------------------------------------------


def normal(sql: str) -> str:
    """SQL with every run of white space one space, none inside parentheses' edges."""
    return re.sub(r"\( ", "(", re.sub(r" \)", ")", re.sub(r"\s+", " ", sql).strip()))


def schema_of(db: sqlite3.Connection) -> dict[str, Any]:
    """Everything of a store's schema, by name: each table's columns as ``table_info``
    gives them (name, type, notnull, default, pk; in order), its indexes (the automatic
    ones of PRIMARY KEY and UNIQUE by origin, since SQLite numbers their names), whether
    it is WITHOUT ROWID or AUTOINCREMENT; each index's, trigger's and virtual table's
    SQL; and the version."""
    out: dict[str, Any] = {"user_version": db.execute("PRAGMA user_version").fetchone()[0]}
    for kind, name, table, sql in db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall():
        if kind == "table" and sql.upper().startswith("CREATE VIRTUAL TABLE"):
            out[name] = ("virtual table", normal(sql))
        elif kind == "table":
            indexes = set()
            for _seq, ix, unique, origin, partial in db.execute(f"PRAGMA index_list({name})").fetchall():
                cols = tuple(r[2] for r in db.execute(f"PRAGMA index_info({ix})"))
                indexes.add((ix if origin == "c" else origin, bool(unique), bool(partial), cols))
            text = normal(sql).upper()
            out[name] = ("table", [tuple(c[1:]) for c in db.execute(f"PRAGMA table_info({name})")], sorted(indexes),
                         "WITHOUT ROWID" in text, "AUTOINCREMENT" in text)
        elif sql is not None:  # an index or a trigger (an automatic index has no SQL)
            out[name] = (kind, table, normal(sql))
    return out


def schema_of_file(path: Path) -> dict[str, Any]:
    db = sqlite3.connect(path)
    try:
        return schema_of(db)
    finally:
        db.close()


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    """The schema the generated DDL makes, on an empty database."""
    db = sqlite3.connect(":memory:")
    for stmt in ddl.STATEMENTS:
        db.execute(stmt)
    db.execute(f"PRAGMA user_version = {ddl.VERSION}")
    return schema_of(db)


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """What differs between two ``schema_of``s, one line per name, for a readable failure."""
    return [f"{name}:\n  {a.get(name)}\n  {b.get(name)}" for name in sorted(set(a) | set(b)) if a.get(name) != b.get(name)]


# -- the generated modules ------------------------------------------------------------------------


def test_the_generated_modules_are_the_classes(gen_ddl: types.ModuleType) -> None:
    assert (ROOT / "ticketctl/store/ddl.py").read_text(encoding="utf-8") == gen_ddl.ddl_source(), (
        "ticketctl/store/ddl.py is out of date: run python tools/gen_ddl.py")
    assert (ROOT / "ticketctl/store/columns.py").read_text(encoding="utf-8") == gen_ddl.columns_source(), (
        "ticketctl/store/columns.py is out of date: run python tools/gen_ddl.py")


def test_the_check_fails_on_a_stale_module(gen_ddl: types.ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(gen_ddl, "ROOT", tmp_path)
    monkeypatch.setattr(gen_ddl, "DDL_FILE", tmp_path / "ddl.py")
    monkeypatch.setattr(gen_ddl, "COLUMNS_FILE", tmp_path / "columns.py")
    monkeypatch.setattr("sys.argv", ["gen_ddl.py", "--check"])
    assert gen_ddl.main() == 1 and "ddl.py is out of date" in capsys.readouterr().err
    monkeypatch.setattr("sys.argv", ["gen_ddl.py"])
    assert gen_ddl.main() == 0 and (tmp_path / "ddl.py").read_text(encoding="utf-8") == gen_ddl.ddl_source()
    monkeypatch.setattr("sys.argv", ["gen_ddl.py", "--check"])
    assert gen_ddl.main() == 0


def test_the_ddl_names_what_each_statement_makes(generated: dict[str, Any]) -> None:
    """``ddl.OBJECTS`` by name: every table, index, virtual table and trigger SQLite lists,
    but its own (``sqlite_*``, the automatic indexes) and FTS5's shadow tables."""
    shadows = {n for n in generated if re.fullmatch(r"kb_fts_(data|idx|content|docsize|config)", n)}
    assert set(ddl.OBJECTS) == set(generated) - shadows - {"user_version", "sqlite_sequence"}
    assert ddl.STATEMENTS == tuple(ddl.OBJECTS.values())


def test_the_versions_agree() -> None:
    """The generated DDL is the schema the last migration leaves: a migration added
    without generating again, or a class changed without a migration, fails here or below."""
    assert ddl.VERSION == columns.VERSION == schema.LATEST == len(schema.MIGRATIONS)


def test_json_and_flag_columns_are_the_classes() -> None:
    assert columns.JSON_COLUMNS == tables.json_columns()
    assert columns.FLAG_COLUMNS == tables.flag_columns()
    assert columns.JSON_COLUMNS["events"] == ("payload",)


# -- the projections are their dataclasses ---------------------------------------------------------


def expected_column(hint: Any, f: dataclasses.Field[Any]) -> tuple[str, bool, str | None, str]:
    """(type, notnull, default as table_info shows it, kind) a dataclass field should be stored as."""
    args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    base = typing.get_origin(args[0]) or args[0]
    optional = type(None) in args
    value = f.default if f.default is not dataclasses.MISSING else (
        f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING)
    if base in (list, dict):
        kind, sql, dflt = "json", "TEXT", None if value is dataclasses.MISSING else f"'{json.dumps(value)}'"
    elif base is bool:
        kind, sql, dflt = "flag", "INTEGER", str(int(value)) if value not in (None, dataclasses.MISSING) else None
    else:
        kind, sql = "plain", {str: "TEXT", int: "INTEGER", float: "REAL"}[base]
        dflt = None if value in (None, dataclasses.MISSING) else (f"'{value}'" if base is str else str(value))
    return sql, not optional, dflt, kind


@pytest.mark.parametrize("source, table", [(Ticket, "tickets"), (Technician, "technicians"), (Article, "articles")])
def test_a_projection_table_is_its_dataclass_field_for_field(source: type, table: str, generated: dict[str, Any]) -> None:
    """Name and order, type, NOT NULL, DEFAULT; JSON for a list or dict, a flag for a bool."""
    hints = typing.get_type_hints(source)
    fields = dataclasses.fields(source)
    want = {f.name: expected_column(hints[f.name], f) for f in fields}
    stored = {c[0]: c for c in generated[table][1]}
    assert list(stored) == [f.name for f in fields]
    for name, (sql, notnull, dflt, _kind) in want.items():
        _, got_type, got_notnull, got_dflt, pk = stored[name]
        assert (got_type, bool(got_notnull) or pk > 0, got_dflt) == (sql, notnull, dflt), f"{table}.{name}"
    assert columns.JSON_COLUMNS[table] == tuple(n for n, w in want.items() if w[3] == "json")
    assert columns.FLAG_COLUMNS.get(table, ()) == tuple(n for n, w in want.items() if w[3] == "flag")
    model = tables.TABLES[table]
    assert list(model.model_fields) == list(want)


def test_a_field_added_to_a_dataclass_is_a_column() -> None:
    """What ``projection`` makes of a field, on a dataclass of this test's own."""

    class Scratch(SQLModel):
        metadata = MetaData()

    @dataclass
    class Pump:
        serial: str
        rpm: int = 1450
        tags: list[str] = field(default_factory=list)
        spare: bool = False
        note: str | None = None

    row = tables.projection("PumpRow", tables.Projection(Pump, "pumps", "serial"), base=Scratch)
    table = row.__table__  # type: ignore[attr-defined]
    assert [(c.name, c.nullable, c.primary_key, c.info) for c in table.columns] == [
        ("serial", False, True, {}), ("rpm", False, False, {}), ("tags", False, False, {"json": True}),
        ("spare", False, False, {"flag": True}), ("note", True, False, {})]
    assert row(serial="P-1").model_dump() == {"serial": "P-1", "rpm": 1450, "tags": "[]", "spare": 0, "note": None}

    @dataclass
    class Bad:
        key: str
        parts: set[str] = field(default_factory=set)

    with pytest.raises(TypeError, match=r"Bad.parts: .*has no column type"):
        tables.projection("BadRow", tables.Projection(Bad, "bad", "key"), base=Scratch)


def test_store_column_tuples_match_the_tables(generated: dict[str, Any]) -> None:
    """TICKET_COLUMNS / TECH_COLUMNS / ARTICLE_COLUMNS (the rows a store reads and writes)
    are their tables' columns; EVENT_COLUMNS is every events column but the local ``seq``."""
    cols = {t: [c[0] for c in v[1]] for t, v in generated.items() if isinstance(v, tuple) and v[0] == "table"}
    assert list(TICKET_COLUMNS) == cols["tickets"]
    assert list(TECH_COLUMNS) == cols["technicians"]
    assert list(ARTICLE_COLUMNS) == cols["articles"]
    assert sorted(EVENT_COLUMNS) == sorted(c for c in cols["events"] if c != "seq")


@pytest.mark.parametrize("table, column", [("meta", "key"), ("tickets", "key"), ("technicians", "name"), ("articles", "id")])
def test_text_primary_keys_refuse_null(generated: dict[str, Any], table: str, column: str) -> None:
    """(SQLite lets a PRIMARY KEY that is not the rowid hold NULL unless it also says NOT NULL.)"""
    assert {c[0]: c[2] for c in generated[table][1]}[column] == 1


# -- a new store, and one upgraded from any version, are the generated schema ---------------------


def test_a_new_store_is_made_from_the_generated_ddl(tmp_path: Path, generated: dict[str, Any]) -> None:
    with Store(tmp_path / "ticketctl.db") as st:
        assert differences(schema_of(st.db), generated) == []
        assert {"device_id", "key_prefix", "next_device_seq", "next_ticket_no"} <= set(dict(st.db.execute("SELECT key, value FROM meta")))
        assert st.meta("rebuild_needed", "0") == "0", "nothing to replay in a new store"
    assert generated["user_version"] == schema.LATEST
    assert {"tickets", "kb_fts", "kb_vocab", "kb_ticket_put", "spans_open", "sqlite_sequence"} <= set(generated)


def test_the_comparison_sees_a_default_an_order_and_a_trigger(generated: dict[str, Any]) -> None:
    """``schema_of`` is not blind to what the migrations' history could get wrong."""
    db = sqlite3.connect(":memory:")
    for stmt in ddl.STATEMENTS:
        db.execute(stmt.replace("priority TEXT NOT NULL DEFAULT 'medium'", "priority TEXT NOT NULL")
                   .replace("WHEN NEW.status IN ('resolved', 'closed')", "WHEN NEW.status IN ('resolved')"))
    db.execute(f"PRAGMA user_version = {ddl.VERSION}")
    assert sorted(n.split(":")[0] for n in differences(schema_of(db), generated)) == ["kb_ticket_put", "tickets"]


@pytest.mark.parametrize("version", range(schema.LATEST))
def test_a_store_upgraded_from_each_version_is_the_generated_schema(version: int, tmp_path: Path,
                                                                    generated: dict[str, Any]) -> None:
    """The migrations from ``version`` on, as a store of that version (made by the ones before)
    runs them when a newer ticketctl opens it. From 0 every migration runs (no ticketctl makes a
    store that way any more: a new one is created from the DDL)."""
    path = tmp_path / "ticketctl.db"
    db = sqlite3.connect(path, isolation_level=None)
    migrate(db, 0, version)
    if version == 0:
        migrate(db, 0)
        assert differences(schema_of(db), generated) == []
        db.close()
        return
    db.close()
    with Store(path) as st:
        assert differences(schema_of(st.db), generated) == []


def rows(db: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    cur = db.execute(f"SELECT * FROM {table} ORDER BY 1")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur]


def a_day(home: Path) -> None:
    """A technician added, a ticket resolved with a note, an article made from it."""
    from ticketctl.services import kb, techs, tickets
    from ticketctl.services.env import Env

    env = Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_USER": "ana", "TICKETCTL_NOW": "2026-03-02T09:00:00Z"})
    techs.add(env, "ana", skills=["hvac"], senior=True)
    key = tickets.create(env, {"title": "Chiller alarm", "type": "repair", "dept": "facilities", "product": "hvac",
                               "priority": "urgent"})["key"]
    tickets.assign(env, key, "ana")
    tickets.start(env, key)
    tickets.resolve(env, key, note="reset the compressor relay")
    kb.add(env, key, {"tags": ["chiller"]})
    env.store.close()


@pytest.mark.parametrize("version", [6, 7, 8, 9, 10, 11])
def test_a_store_with_data_taken_back_upgrades_to_the_generated_schema_with_its_rows(
        version: int, tmp_path: Path, generated: dict[str, Any]) -> None:
    a_day(tmp_path)
    db = sqlite3.connect(tmp_path / "ticketctl.db")
    tables_then = ("tickets", "technicians", "events") + (("articles",) if version >= 7 else ())
    before = {t: rows(db, t) for t in tables_then}
    back_to(db, version)
    db.commit()
    assert db.execute("PRAGMA user_version").fetchone()[0] == version
    assert differences(schema_of(db), generated), "taken back, it is not the latest schema"
    db.close()
    with Store(tmp_path / "ticketctl.db") as st:
        assert differences(schema_of(st.db), generated) == []
        after = {t: rows(st.db, t) for t in before}
    # what the versions taken back had no column for is its DEFAULT until the events are replayed
    gone = {"approvals": "[]"} if version < 8 else {}
    gone |= {"resolution": ""} if version < 7 else {}
    assert after == {t: [r | gone for r in rs] if t == "tickets" else rs for t, rs in before.items()}


def test_the_previous_releases_device_store_upgrades_to_the_generated_schema(tmp_path: Path, generated: dict[str, Any]) -> None:
    shutil.copy(PREVIOUS / "device.db", tmp_path / "ticketctl.db")
    db = sqlite3.connect(tmp_path / "ticketctl.db")
    before = {t: rows(db, t) for t in ("tickets", "technicians", "articles", "events", "outbox", "meta")}
    db.close()
    with Store(tmp_path / "ticketctl.db") as st:
        assert differences(schema_of(st.db), generated) == []
        # the columns added since (v12: the source's own figures, NULL for a ticket made here)
        since = {"source_made_sla": None, "source_reopens": None}
        after = {t: rows(st.db, t) for t in before}
        assert after == {t: [r | since for r in rs] if t == "tickets" else rs for t, rs in before.items()}, \
            "every row as it was, column for column"


# -- SQLAlchemy reads the classes the same way ---------------------------------------------------


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


def by_affinity(s: dict[str, Any]) -> dict[str, Any]:
    """``schema_of`` with declared types as their affinity and NOT NULL as "must hold a value"
    (SQLAlchemy writes VARCHAR for ``str``, and NOT NULL on an INTEGER PRIMARY KEY)."""
    out = {}
    for name, v in s.items():
        if isinstance(v, tuple) and v[0] == "table":
            v = (v[0], [(n, affinity(t), bool(nn) or pk > 0, d, pk) for n, t, nn, d, pk in v[1]], *v[2:])
        out[name] = v
    return out


def test_sqlalchemys_create_all_makes_the_same_store(tmp_path: Path, generated: dict[str, Any]) -> None:
    """The classes as SQLAlchemy itself compiles them (``tables.StoreTable.metadata``, the
    SQLite-only statements included), against the DDL ``tools/gen_ddl.py`` writes from them."""
    engine = create_engine(f"sqlite:///{tmp_path / 'create_all.db'}")
    try:
        tables.StoreTable.metadata.create_all(engine)
    finally:
        engine.dispose()
    made = schema_of_file(tmp_path / "create_all.db")
    made["user_version"] = generated["user_version"]
    indexes = {k for k, v in generated.items() if isinstance(v, tuple) and v[0] == "index"}
    assert differences({k: v for k, v in by_affinity(made).items() if k not in indexes},
                       {k: v for k, v in by_affinity(generated).items() if k not in indexes}) == []
    assert {k: made[k][:2] for k in indexes} == {k: generated[k][:2] for k in indexes}
    assert tables.StoreTable.metadata.tables.keys() == tables.TABLES.keys()

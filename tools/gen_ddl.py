"""Generate the device store's DDL from its SQLModel classes (``ticketctl.store.tables``).

    python tools/gen_ddl.py          # rewrite ticketctl/store/ddl.py and columns.py
    python tools/gen_ddl.py --check  # exit 1 when either is out of date

Two committed modules, plain Python, so that a technician's command never
imports SQLModel or SQLAlchemy:

* ``ticketctl/store/ddl.py``: the CREATE statements of a new store, for SQLite,
  by the name of what each makes, and the schema version they are
  (``store.schema.LATEST``, the number of migrations). Imported only when a store
  is created (and by the server's in-memory knowledge-base index, ``store.kbindex``).
* ``ticketctl/store/columns.py``: the schema version and, per table, the columns
  that hold JSON text or flags (how ``store.rows`` encodes and decodes a row).
  Imported whenever a store is opened.

The statements are written from the classes' SQLAlchemy tables by the rules
below (not by SQLAlchemy's own DDL compiler, whose ``VARCHAR`` and ``NOT NULL``
on an ``INTEGER PRIMARY KEY`` are not what the migrations wrote); then
``tables.SQLITE_EXTRAS`` verbatim. ``tests/test_store_schema.py`` runs the check,
and compares a store made from these statements with one upgraded through the
migrations.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Float, Index, Integer, String, Table, TypeDecorator
from sqlalchemy.sql.elements import TextClause

ROOT = Path(__file__).resolve().parent.parent
DDL_FILE = ROOT / "ticketctl" / "store" / "ddl.py"
COLUMNS_FILE = ROOT / "ticketctl" / "store" / "columns.py"


def sql_type(column: Any) -> str:
    """SQLite's name for a column's type: one of the three the store uses, by affinity."""
    kind = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type  # SQLModel's AutoString
    if isinstance(kind, Integer):
        return "INTEGER"
    if isinstance(kind, Float):
        return "REAL"
    if isinstance(kind, String):  # Text too
        return "TEXT"
    raise TypeError(f"{column.table.name}.{column.name}: no SQLite type for {column.type!r}")


def sql_literal(value: Any) -> str:
    if isinstance(value, TextClause):
        return value.text
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"a DEFAULT is text, or a number given as text(...): {value!r}")


def column_clause(column: Any, single_key: bool, autoincrement: bool) -> str:
    """``name TYPE [PRIMARY KEY [AUTOINCREMENT]] [NOT NULL] [UNIQUE] [DEFAULT x]``. An
    ``INTEGER PRIMARY KEY`` is the rowid, which SQLite fills in: it is never NOT NULL."""
    kind = sql_type(column)
    parts = [column.name, kind]
    rowid = single_key and column.primary_key and kind == "INTEGER"
    if single_key and column.primary_key:
        parts.append("PRIMARY KEY")
        if autoincrement:
            parts.append("AUTOINCREMENT")
    if not column.nullable and not rowid:
        parts.append("NOT NULL")
    if column.unique:
        parts.append("UNIQUE")
    if column.server_default is not None:
        parts.append(f"DEFAULT {sql_literal(column.server_default.arg)}")
    return " ".join(parts)


def create_table(table: Table) -> str:
    options = table.dialect_options["sqlite"]
    keys = [c.name for c in table.primary_key.columns]
    if options["autoincrement"] and not (len(keys) == 1 and sql_type(table.c[keys[0]]) == "INTEGER"):
        raise TypeError(f"{table.name}: AUTOINCREMENT needs one INTEGER PRIMARY KEY")
    lines = [column_clause(c, len(keys) == 1, bool(options["autoincrement"])) for c in table.columns]
    if len(keys) > 1:
        lines.append(f"PRIMARY KEY ({', '.join(keys)})")
    tail = " WITHOUT ROWID" if options["with_rowid"] is False else ""
    return f"CREATE TABLE {table.name} (\n    " + ",\n    ".join(lines) + f"\n){tail}"


def create_index(index: Index) -> str:
    assert index.table is not None
    where = index.dialect_options["sqlite"]["where"]
    unique = "UNIQUE " if index.unique else ""
    sql = f"CREATE {unique}INDEX {index.name} ON {index.table.name} ({', '.join(c.name for c in index.columns)})"
    return sql + (f" WHERE {where}" if where is not None else "")


#: the name a CREATE statement gives (SQLite's tables, indexes and triggers share one namespace)
CREATED = re.compile(r"CREATE (?:VIRTUAL TABLE|TABLE|UNIQUE INDEX|INDEX|TRIGGER) (\w+)")


def objects() -> dict[str, str]:
    """Every object of a new store by name, with the statement that makes it, in the order
    they are made: each table then its indexes (by name), in ``tables.TABLES`` order, then
    ``tables.SQLITE_EXTRAS``."""
    from ticketctl.store import tables

    out = []
    for cls in tables.TABLES.values():
        table: Table = cls.__table__  # type: ignore[attr-defined]
        out.append(create_table(table))
        out += [create_index(ix) for ix in sorted(table.indexes, key=lambda ix: str(ix.name))]
    named = {}
    for stmt in out + list(tables.SQLITE_EXTRAS):
        m = CREATED.match(stmt)
        assert m and m[1] not in named, stmt
        named[m[1]] = stmt
    return named


def version() -> int:
    from ticketctl.store.schema import LATEST

    return LATEST


def literal(sql: str) -> str:
    """A statement as a Python string literal: triple-quoted when it spans lines."""
    return f'"""{sql}"""' if "\n" in sql and '"' not in sql and "\\" not in sql else repr(sql)


def ddl_source() -> str:
    """The text of ``ticketctl/store/ddl.py``."""
    body = "".join(f"    {quoted(name)}: {literal(sql)},\n" for name, sql in objects().items())
    return ("# ruff: noqa: E501  (generated: one statement per item)\n"
            '"""The device store\'s DDL for SQLite: what a new store is made with.\n\n'
            "Generated from the SQLModel classes of ``ticketctl.store.tables`` by\n"
            "``python tools/gen_ddl.py``; ``tests/test_store_schema.py`` fails when it differs\n"
            "from them, and when a store upgraded through the migrations (``store.schema``)\n"
            "differs from one made by these statements. Do not edit: change the classes.\n"
            '"""\n\n'
            f"#: the schema version these statements make (``PRAGMA user_version``)\nVERSION = {version()}\n\n"
            "#: every table, index, virtual table and trigger of a new store, by name, in the order they are made\n"
            "OBJECTS: dict[str, str] = {\n" + body + "}\n\n"
            "STATEMENTS: tuple[str, ...] = tuple(OBJECTS.values())\n")


def quoted(name: str) -> str:
    """A table or column name (an identifier) as a Python string literal, in double quotes."""
    assert name.isidentifier(), name
    return f'"{name}"'


def names(cols: tuple[str, ...]) -> str:
    """A tuple of names as a Python literal."""
    return "(" + ", ".join(quoted(c) for c in cols) + ("," if len(cols) == 1 else "") + ")"


def columns_source() -> str:
    """The text of ``ticketctl/store/columns.py``."""
    from ticketctl.store import tables

    def mapping(name: str, doc: str, marked: dict[str, tuple[str, ...]]) -> str:
        rows = "".join(f"    {quoted(table)}: {names(cols)},\n" for table, cols in marked.items())
        return f"#: {doc}\n{name}: dict[str, tuple[str, ...]] = {{\n{rows}}}\n"

    return ("# ruff: noqa: E501  (generated)\n"
            '"""What a row of the device store needs to know of its columns, as plain data.\n\n'
            "Generated from the SQLModel classes of ``ticketctl.store.tables`` by\n"
            "``python tools/gen_ddl.py`` (with ``ddl.py``, the CREATE statements); a test fails\n"
            "when it differs from them. Every command that opens a store imports this module,\n"
            'so it stays small. Do not edit: change the classes.\n"""\n\n'
            f"#: the latest schema version (``PRAGMA user_version``): ``store.schema.LATEST``\nVERSION = {version()}\n\n"
            + mapping("JSON_COLUMNS", "table -> its columns that hold compact JSON text (``rows.encode``)", tables.json_columns())
            + "\n" + mapping("FLAG_COLUMNS", "table -> its columns that hold a flag, 0 or 1 (a ``bool`` of the dataclass)",
                             tables.flag_columns()))


def main() -> int:
    stale = []
    for path, source in ((DDL_FILE, ddl_source()), (COLUMNS_FILE, columns_source())):
        if path.exists() and path.read_text(encoding="utf-8") == source:
            continue
        stale.append(path)
        if "--check" not in sys.argv:
            path.write_text(source, encoding="utf-8")
    if "--check" in sys.argv and stale:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run python tools/gen_ddl.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

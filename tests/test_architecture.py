"""SQL lives in the stores: the device's (``ticketctl/store/``) and the
server's (``ticketctl/server/``). Everywhere else a store is asked by what it answers, so no
other module calls ``execute``, ``executemany``, ``executescript`` or
``exec_driver_sql``, nor reaches for a store's connection (``.db``).

The package's source is read with ``ast``: a string that merely mentions
``.db`` (a file name) or the word execute is not a call."""

from __future__ import annotations

import ast
from pathlib import Path

import ticketctl

PACKAGE = Path(ticketctl.__file__).parent
SQL_CALLS = frozenset({"execute", "executemany", "executescript", "exec_driver_sql"})
#: where SQL may be written, relative to the package
STORES = ("store/", "server/")


def allowed(rel: str) -> bool:
    return rel.startswith(STORES)


def sql_outside_the_stores(root: Path) -> list[str]:
    """``path:line what`` for every SQL call or ``.db`` access in a module of ``root`` outside the stores."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if allowed(rel):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
                found.append(f"{rel}:{node.lineno} .{node.func.attr}()")
            elif isinstance(node, ast.Attribute) and node.attr == "db":
                found.append(f"{rel}:{node.lineno} .db")
    return found


def test_no_sql_outside_the_stores() -> None:
    assert sql_outside_the_stores(PACKAGE) == []


def test_the_scan_finds_sql(tmp_path: Path) -> None:
    """The check itself: each kind of offence is found, outside the stores only."""
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "x.py").write_text(
        "def f(env, c, conn):\n"
        "    env.store.db.execute('SELECT 1')\n"
        "    c.exec_driver_sql('SELECT 1')\n"
        "    conn.executemany('INSERT', [])\n"
        "    name = 'ticketctl.db'\n", encoding="utf-8")
    for allowed_dir in ("store", "server"):
        (tmp_path / allowed_dir).mkdir()
        (tmp_path / allowed_dir / "y.py").write_text("def g(st):\n    st.db.execute('SELECT 1')\n", encoding="utf-8")
    (tmp_path / "sync").mkdir()
    (tmp_path / "sync" / "client.py").write_text("def k(st):\n    return st.db\n", encoding="utf-8")
    assert sorted(sql_outside_the_stores(tmp_path)) == [
        "services/x.py:2 .db", "services/x.py:2 .execute()", "services/x.py:3 .exec_driver_sql()",
        "services/x.py:4 .executemany()", "sync/client.py:2 .db"]

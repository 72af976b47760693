"""The architecture holds in the code.

SQL lives in the stores: the device's (``ticketctl/store/``) and the
server's (``ticketctl/server/``). Everywhere else a store is asked by what it answers, so no
other module calls ``execute``, ``executemany``, ``executescript`` or
``exec_driver_sql``, nor reaches for a store's connection (``.db``).

The layers: the dashboard never reaches into the commands, what both show
(``ticketctl.render``) depends on neither, no two modules of the three import
each other in a circle, and none of them uses another's private name.

The package's source is read with ``ast``: a string that merely mentions
``.db`` (a file name) or the word execute is not a call. The import graph is
grimp's (the engine of import-linter): every ``import`` statement, those inside
functions included, so an import deferred for speed still counts as a
dependency (``test_import_hygiene.py`` checks what a command loads at run time)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

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


# -- layers -------------------------------------------------------------------------------

#: the adapters and what they share: the packages these tests hold to the layering
ADAPTERS = ("ticketctl.commands", "ticketctl.render", "ticketctl.tui")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("ticketctl")


def _imports(graph: grimp.ImportGraph, importer: str, imported: str) -> list[str]:
    """Every direct import of a module under ``imported`` by a module under ``importer``, as ``a -> b``."""
    return sorted(f"{a} -> {b}" for a in graph.find_descendants(importer) | {importer}
                  for b in graph.find_modules_directly_imported_by(a) if b == imported or b.startswith(imported + "."))


def _chain(graph: grimp.ImportGraph, importer: str, imported: str) -> tuple[str, ...] | None:
    return graph.find_shortest_chain(importer, imported, as_packages=True)


def test_the_dashboard_imports_no_command(graph: grimp.ImportGraph) -> None:
    """What the dashboard shows as the commands do comes from ``ticketctl.render``, never from a command module."""
    assert _imports(graph, "ticketctl.tui", "ticketctl.commands") == []
    assert _chain(graph, "ticketctl.tui", "ticketctl.commands") is None


@pytest.mark.parametrize("above", ["ticketctl.commands", "ticketctl.tui", "ticketctl.cli", "ticketctl.server"])
def test_render_imports_nothing_above_it(graph: grimp.ImportGraph, above: str) -> None:
    """``render`` sits under both adapters: it may use core and the services' views, not what uses it."""
    assert _imports(graph, "ticketctl.render", above) == []
    assert _chain(graph, "ticketctl.render", above) is None


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), imports
    among ``modules`` only; a module importing itself counts too."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & modules) for m in sorted(modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges[v]:
                found.append(sorted(component))

    for m in edges:
        if m not in index:
            visit(m)
    return found


def test_no_cycle_among_commands_render_and_the_dashboard(graph: grimp.ImportGraph) -> None:
    modules = {m for p in ADAPTERS for m in graph.find_descendants(p) | {p}}
    assert len(modules) > 30  # the graph is the package's, not an empty one
    assert _cycles(graph, modules) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above would pass on a finder that finds nothing: a graph with one circle."""
    g = grimp.ImportGraph()
    for a, b in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        g.add_import(importer=a, imported=b)
    assert _cycles(g, {"p.a", "p.b", "p.c", "p.d"}) == [["p.a", "p.b", "p.c"]]


def _private_uses(path: Path) -> list[str]:
    """``from ticketctl.x import _name`` and ``module._name`` (a ticketctl module
    imported by name) in one file. ``_`` (gettext) is not a private name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: dict[str, str] = {}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ticketctl"):
            for alias in node.names:
                if alias.name.startswith("_") and alias.name != "_" and not alias.name.startswith("__"):
                    out.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} from {node.module} import {alias.name}")
                modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            modules.update((alias.asname or alias.name.split(".")[0], alias.name) for alias in node.names
                           if alias.name.startswith("ticketctl"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            out.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {modules[node.value.id]}.{node.attr}")
    return out


def test_no_private_name_is_used_across_modules() -> None:
    """A name that another module needs is public where it belongs (and documented there)."""
    found = [use for p in ADAPTERS for path in sorted((PACKAGE.parent / p.replace(".", "/")).rglob("*.py")) for use in _private_uses(path)]
    assert found == []


def test_the_import_contracts_hold() -> None:
    """pyproject.toml's import-linter contracts (the layers, no cycles, what needs the web stack
    or Textual), checked as CI checks them; a broken one prints the import chain that breaks it."""
    import shutil
    import subprocess
    import sys

    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    r = subprocess.run([exe, "--no-cache"], cwd=Path(__file__).parent.parent, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "0 broken" in r.stdout, r.stdout[-3000:] + r.stderr[-2000:]

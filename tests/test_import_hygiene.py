"""Headless stays headless: what a technician or cron runs never imports the TUI,
the ORM or the validation stack.

A static import graph cannot tell a module-level import from one deferred into
the function that needs it, so each scenario runs the real entry point
(``ticketctl.cli.main``) in a fresh interpreter and then reads ``sys.modules``.
(Style after harlequin's ``tests/unit_tests/test_import_hygiene.py``.)

Why each module is forbidden:

* ``textual``: the dashboard only; ``ticketctl`` with no arguments opens it.
* ``sqlalchemy``, ``sqlmodel``, ``pydantic`` and ``ticketctl.store.tables``:
  the server's and tooling's view of the schema; the local store is stdlib
  ``sqlite3`` (see ``ticketctl/store/db.py``) because these cost more to import
  than a whole command may take. The store's schema is declared in
  ``store.tables`` and generated into plain modules: ``store.ddl`` (imported only
  to create a store) and ``store.columns``; ``store.schema``, the migrations, is
  imported only to upgrade an older store.
* ``rich``: only a human table or ``show`` renders with it; ``--json`` output
  and error lines are plain writes.
* ``httpx``: only webhook delivery (``sweep``, ``notify send``) needs it.
* ``scipy``/``numpy``: test-only (the dispatch optimality check).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HEAVY = ("textual", "sqlalchemy", "sqlmodel", "pydantic", "ticketctl.store.tables", "httpx", "scipy", "numpy")
FORBIDDEN_JSON = (*HEAVY, "rich")

# Runs the argv lists given as JSON in sys.argv[1] through ticketctl.cli.main, in
# order; "{key}" in an argument is replaced by the key the first `new --json` printed.
# Prints one JSON line: the exit codes and which forbidden modules are loaded.
RUNNER = r"""
import contextlib, io, json, sys
steps, forbidden = json.loads(sys.argv[1]), json.loads(sys.argv[2])
import ticketctl.cli
codes, key = [], None
for argv in steps:
    argv = [a.replace("{key}", key or "") for a in argv]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        codes.append(ticketctl.cli.main(argv))
    if key is None and argv[0] == "new" and codes[-1] == 0:
        key = json.loads(out.getvalue())["key"]
print(json.dumps({"codes": codes, "key": key, "loaded": [m for m in forbidden if m in sys.modules]}))
"""


def run_in_fresh_interpreter(home: Path, steps: list[list[str]], forbidden: tuple[str, ...]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    env.update(TICKETCTL_HOME=str(home), TICKETCTL_USER="ana", TICKETCTL_NOW="2026-03-02T09:00:00Z")
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(steps), json.dumps(forbidden)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


NEW = ["new", "No cooling in server room", "--type", "repair", "--dept", "facilities", "--product", "hvac", "--json"]


def test_importing_the_cli_loads_nothing_heavy(tmp_path: Path) -> None:
    result = run_in_fresh_interpreter(tmp_path, [], FORBIDDEN_JSON)
    assert result["loaded"] == []


def test_json_commands_load_nothing_heavy(tmp_path: Path) -> None:
    """A technician's day with ``--json``: no Rich, no ORM, no Textual."""
    steps = [
        ["list", "--json"],
        NEW,
        ["show", "{key}", "--json"],
        ["tech", "add", "ana", "--json"],
        ["assign", "{key}", "ana", "--json"],
        ["start", "{key}", "--json"],
        ["note", "{key}", "relay replaced", "--json"],
        ["mine", "--json"],
        ["tech", "list", "--json"],
        ["config", "show", "--json"],
        ["locate", "--json"],
        ["store", "check", "--json"],
        ["show", "{key}", "--json"],
        ["assign", "{key}", "--explain", "--json"],
        ["dispatch", "auto", "--dry-run", "--json"],
    ]
    result = run_in_fresh_interpreter(tmp_path, steps, FORBIDDEN_JSON)
    assert result["codes"] == [0] * len(steps)
    assert result["key"]
    assert result["loaded"] == []


def test_a_store_is_created_from_the_generated_ddl_and_then_opened_without_it(tmp_path: Path) -> None:
    """The first command makes the store from ``store.ddl`` (plain strings), without
    the migrations or the classes they are generated from; every later command opens
    it with neither the DDL nor the migrations."""
    watched = (*HEAVY, "ticketctl.store.ddl", "ticketctl.store.schema")
    first = run_in_fresh_interpreter(tmp_path, [NEW], watched)
    assert first["codes"] == [0]
    assert first["loaded"] == ["ticketctl.store.ddl"]
    for steps in ([["list", "--json"]], [["show", first["key"], "--json"], ["note", first["key"], "checked", "--json"]]):
        later = run_in_fresh_interpreter(tmp_path, steps, watched)
        assert later["codes"] == [0] * len(steps)
        assert later["loaded"] == [], steps


def test_errors_load_nothing_heavy(tmp_path: Path) -> None:
    """Refusals, unknown keys and usage errors are one plain stderr line each."""
    steps = [
        NEW,
        ["start", "{key}", "--json"],  # refused: it is new
        ["show", "NOPE-404", "--json"],  # unknown key
        ["new", "x", "--json"],  # missing --type
        ["list", "--priority", "high"],  # no such option
    ]
    result = run_in_fresh_interpreter(tmp_path, steps, FORBIDDEN_JSON)
    assert result["codes"] == [0, 1, 1, 2, 2]
    assert result["loaded"] == []


@pytest.mark.parametrize("argv", [["list"], ["show", "{key}"], ["tech", "list"]])
def test_human_output_loads_no_tui_and_no_orm(tmp_path: Path, argv: list[str]) -> None:
    """A human table may use Rich, but still no Textual and no ORM."""
    result = run_in_fresh_interpreter(tmp_path, [NEW, argv], HEAVY)
    assert result["codes"] == [0, 0]
    assert result["loaded"] == []


#: what a technician's everyday command must never load (each is the dashboard, the server, a
#: network client, certificates, spreadsheets or analysis: imported only by the commands that need them)
FIELD_FORBIDDEN = ("textual", "fastapi", "uvicorn", "httpx", "fpdf", "cryptography", "PIL", "openpyxl", "qrcode", "pandas")
#: modules in sys.modules after one command (the interpreter alone has ~60; Click and Typer ~100 more);
#: a new top-level import that drags a library in shows up here first
MODULE_BUDGET = 225

ONE = r"""
import contextlib, io, json, sys
argv, forbidden = json.loads(sys.argv[1]), json.loads(sys.argv[2])
from ticketctl.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(argv)
print(json.dumps({"code": code, "modules": len(sys.modules), "loaded": [m for m in forbidden if m in sys.modules]}))
"""


def test_a_technicians_commands_stay_lean(tmp_path: Path) -> None:
    """Each everyday verb in its own fresh interpreter, as a technician types it (human output, piped)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    env.update(TICKETCTL_HOME=str(tmp_path), TICKETCTL_USER="ana", TICKETCTL_NOW="2026-03-02T09:00:00Z")

    def one(argv: list[str]) -> dict[str, Any]:
        p = subprocess.run([sys.executable, "-c", ONE, json.dumps(argv), json.dumps(FIELD_FORBIDDEN)],
                           capture_output=True, text=True, env=env, timeout=60, check=False)
        assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
        result: dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
        return result

    assert one(["tech", "add", "ana"])["code"] == 0
    steps = [["new", "Pump leaks", "--type", "repair", "--dept", "facilities", "--product", "pump"]]
    first = one(steps[0])
    key = sqlite3.connect(tmp_path / "ticketctl.db").execute("SELECT key FROM tickets").fetchone()[0]
    assert one(["assign", key, "ana"])["code"] == 0
    results = {"new": first}
    for name, argv in [("list", ["list"]), ("show", ["show", key]), ("mine", ["mine"]), ("start", ["start", key]),
                       ("block", ["block", key, "--reason", "awaiting_parts"]), ("unblock", ["unblock", key]),
                       ("note", ["note", key, "relay replaced"]), ("resolve", ["resolve", key]),
                       ("list --json", ["list", "--json"]), ("show --json", ["show", key, "--json"])]:
        results[name] = one(argv)
    for name, r in results.items():
        assert r["code"] == 0, name
        assert r["loaded"] == [], (name, r["loaded"])
        assert r["modules"] <= MODULE_BUDGET, (name, r["modules"])

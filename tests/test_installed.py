"""The installed console script, end to end, in real processes.

Everything else drives ``ticketctl.cli.main`` in process; this one test proves
the packaging: the ``ticketctl`` entry point exists, ``sys.exit`` carries the
exit code, and stdout is parseable JSON across separate invocations sharing
one ``TICKETCTL_HOME``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def installed_ticketctl() -> str:
    """The script next to this interpreter (the venv's own), else the one on PATH."""
    beside = Path(sys.executable).parent / ("ticketctl.exe" if os.name == "nt" else "ticketctl")
    if beside.exists():
        return str(beside)
    found = shutil.which("ticketctl")
    if found is None:
        pytest.fail("no installed `ticketctl` script: run `pip install -e .` in this environment")
    return found


def test_installed_entry_point(tmp_path: Path) -> None:
    exe = installed_ticketctl()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    env.update(TICKETCTL_HOME=str(tmp_path / "home"), TICKETCTL_NOW="2026-03-02T09:00:00Z", TICKETCTL_USER="ana")

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, *argv], capture_output=True, text=True, env=env, timeout=60, check=False)

    def ok_json(*argv: str) -> Any:
        p = run(*argv, "--json")
        assert (p.returncode, p.stderr) == (0, ""), argv
        return json.loads(p.stdout)

    t = ok_json("new", "No cooling in server room", "--type", "repair", "--dept", "facilities", "--product", "hvac",
                "--priority", "high")
    key = t["key"]
    assert (t["status"], t["priority"], t["created_at"]) == ("new", "high", "2026-03-02T09:00:00Z")
    assert ok_json("tech", "add", "ana")["name"] == "ana"

    p = run("assign", key, "ana")
    assert (p.returncode, p.stdout, p.stderr) == (0, f"{key} assigned @ana  No cooling in server room\n", "")
    p = run("start", key)
    assert (p.returncode, p.stdout, p.stderr) == (0, f"{key} in_progress @ana  No cooling in server room\n", "")

    t = ok_json("show", key)
    assert (t["key"], t["status"], t["assignee"], t["first_response_at"]) == (
        key, "in_progress", "ana", "2026-03-02T09:00:00Z")
    assert [e["type"] for e in t["timeline"]] == ["ticket.created", "ticket.assigned", "ticket.started"]

    p = run("start", key)
    assert (p.returncode, p.stdout) == (1, "")
    assert p.stderr == f"ticketctl: error: cannot start {key}: it is in_progress (start needs assigned)\n"
    assert (tmp_path / "home" / "ticketctl.db").exists()


@pytest.mark.parametrize("argv", [
    ["report", "trend", "--days", "1500"],  # Rich draws it
    ["list", "--limit", "2000", *(x for s in ("new", "resolved", "closed") for x in ("--status", s))],
    ["list", "--limit", "2000", "--status", "closed", "--json"],
])
def test_a_reader_that_stops_early_is_not_an_error(tmp_path: Path, argv: list[str]) -> None:
    """`ticketctl ... | head -1` on more output than a pipe holds (~400 kB): exit 0,
    nothing on stderr (Rich alone would exit 1)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    env.update(TICKETCTL_HOME=str(tmp_path / "home"), TICKETCTL_NOW="2026-03-02T09:00:00Z")
    gen = subprocess.run([installed_ticketctl(), "demo", "--tickets", "2000", "--techs", "5", "--lang", "en"], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert gen.returncode == 0, gen.stderr
    p = subprocess.Popen([installed_ticketctl(), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert p.stdout is not None and p.stderr is not None
    first = p.stdout.readline()
    p.stdout.close()  # the reader goes away
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 0 and err == "" and first

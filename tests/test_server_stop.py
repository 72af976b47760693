"""Server processes stop together (``server.lifeline``).

``ticketctl server run --workers 2 --sweep-every 1`` (uvicorn's master, two
workers, each running the team's jobs) in its own process group; SIGKILL to
the master alone. Within a bounded wait every other process of the group is
gone (no orphan worker keeps serving or sweeping) and the port is free: a new
server starts on it and answers.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest
from sync_helpers import ServerGroup

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process table from /proc")

WAIT_S = 30.0  # the workers' grace (lifeline.GRACE_S) and then some


def group(pgid: int) -> dict[int, str]:
    """The processes of process group ``pgid`` that still run (not zombies): pid -> state."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state not in ("Z", "X"):
            out[int(stat.parent.name)] = state
    return out


def port_free(port: int) -> bool:
    """Whether a server could listen on ``port`` (bound as uvicorn binds: SO_REUSEADDR)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        s.listen()
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_killing_the_master_stops_its_workers_and_a_new_server_takes_the_port(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"
    first = ServerGroup(tmp_path / "first", db, "--workers", "2", "--sweep-every", "1").start()
    assert first.proc is not None
    master = first.proc.pid
    second: ServerGroup | None = None
    try:
        deadline = time.monotonic() + WAIT_S
        while len(group(master)) < 3:  # the master and its two workers
            assert time.monotonic() < deadline, f"no two workers after {WAIT_S} s: {group(master)}"
            time.sleep(0.1)
        workers = set(group(master)) - {master}

        os.kill(master, signal.SIGKILL)
        first.proc.wait(10)
        deadline = time.monotonic() + WAIT_S
        while group(master) or not port_free(first.port):
            assert time.monotonic() < deadline, (
                f"{WAIT_S} s after the master was killed: still running {group(master)} (workers were {sorted(workers)}),"
                f" port {first.port} {'free' if port_free(first.port) else 'taken'}")
            time.sleep(0.2)

        second = ServerGroup(tmp_path / "second", db, "--workers", "2")
        second.port, second.url = first.port, first.url
        second.start()
        assert httpx.get(f"{second.url}/health", timeout=10).json()["ok"] is True
    finally:
        for pid in group(master):  # whatever the test saw, it leaves nothing running
            os.kill(pid, signal.SIGKILL)
        if second is not None:
            second.kill()

"""A real sync server process on 127.0.0.1 (random port) and client homes, for
the sync tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from ticketctl.core.config import Config
from ticketctl.core.model import Event, Ticket
from ticketctl.core.workflow import fold
from ticketctl.home import Home
from ticketctl.server.admin import add_device
from ticketctl.services.env import Env

CLI = [sys.executable, "-c", "import sys; from ticketctl.cli import run; sys.argv[0] = 'ticketctl'; run()"]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


class Server:
    """``ticketctl server run`` in a subprocess; ``kill()`` is a SIGKILL."""

    def __init__(self, root: Path, db: str | None = None):
        self.root = root
        self.home = root / "server-home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.db = db or f"sqlite:///{root / 'central.db'}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        env = {**os.environ, "TICKETCTL_HOME": str(self.home)}
        self.proc = subprocess.Popen([*CLI, "server", "run", "--port", str(self.port), "--db", self.db], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not listen within 20 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def token(self, name: str, role: str) -> str:
        return str(add_device(self.db, name, role)["token"])


class ServerGroup(Server):
    """``ticketctl server run ARGS`` (the installed script: ``--workers`` starts
    uvicorn's supervisor and its workers) in its own process group, stopped as a
    group; its stderr goes to ``server.log``."""

    def __init__(self, root: Path, db: str, *args: str):
        super().__init__(root, db)
        self.args = list(args)
        self.log = root / "server.log"

    def start(self) -> ServerGroup:
        import httpx

        exe = Path(sys.executable).with_name("ticketctl")
        env = {**os.environ, "TICKETCTL_HOME": str(self.home)}
        env.pop("TICKETCTL_SERVER_DB", None)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([str(exe), "server", "run", "--port", str(self.port), "--db", self.db, *self.args],
                                         env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, f"the server exited: {self.log.read_text()}"
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"no server on {self.url} after 30 s: {self.log.read_text()}"
            time.sleep(0.1)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGTERM to the group (SIGKILL after 10 s)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def client(root: Path, name: str) -> Env:
    home = root / f"client-{name}"
    environ = {"TICKETCTL_HOME": str(home), "TICKETCTL_USER": name}
    return Env(Home.from_env(environ), environ)


def fresh(env: Env) -> Env:
    """The same home as a new invocation would see it (nothing cached)."""
    env.close()
    return Env(env.home, env.environ)


def server_state(db_path: Path) -> tuple[dict[str, Ticket], dict[str, list[Event]], list[dict[str, Any]]]:
    """The server database read directly: its ticket projections, its events
    per ticket, and its mutation results."""
    import sqlite3

    db = sqlite3.connect(db_path)
    try:
        tickets = {k: Ticket(**json.loads(d)) for k, d in db.execute("SELECT key, data FROM tickets")}
        events: dict[str, list[Event]] = defaultdict(list)
        for seq, eid, mid, ticket, typ, payload, actor, device, at in db.execute(
                "SELECT seq, id, mutation_id, ticket, type, payload, actor, device, at FROM events ORDER BY seq"):
            if ticket is not None and not typ.startswith("kb."):  # a knowledge article's events name the article
                events[ticket].append(Event(id=eid, mutation_id=mid, ticket=ticket, type=typ, payload=json.loads(payload), actor=actor,
                                            device=device, device_seq=seq, at=at, server_seq=seq))
        results = [dict(zip(("seq", "device", "client_seq", "mutation_id", "status", "reason"), r, strict=True))
                   for r in db.execute("SELECT seq, device, client_seq, mutation_id, status, reason FROM results ORDER BY seq")]
        return tickets, events, results
    finally:
        db.close()


def server_replays(db_path: Path, cfg: Config) -> None:
    """Assert the server's projections equal a replay of its events."""
    tickets, events, _ = server_state(db_path)
    assert set(tickets) == set(events)
    for key, evs in events.items():
        replayed, _spans = fold(None, evs, cfg)
        assert replayed == tickets[key], key


def server_on(request: Any, tmp_path: Path, config: str = "") -> Server:
    """A started server on SQLite, or on PostgreSQL when the test is
    parametrized with ``"postgresql"`` (the ``pg_url`` fixture: a fresh
    database, skipped where there is none outside CI); ``config``: the
    server home's config.toml (the rules the server judges by)."""
    db = str(request.getfixturevalue("pg_url")) if getattr(request, "param", "sqlite") == "postgresql" else None
    s = Server(tmp_path, db)
    if config:
        (s.home / "config.toml").write_text(config)
    return s.start()

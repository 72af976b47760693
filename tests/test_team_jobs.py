"""Jobs that run once for the team (``server.jobs``).

- Two devices sweeping the same neglected ticket between syncs leave exactly
  one escalation per rule and one notification per rule and target, in the
  server's outbox (the devices queue none of their own), and the server
  delivers each once to a real HTTP receiver on loopback.
- ``server run --sweep-every --dispatch-every`` with several workers, and two
  server instances on one PostgreSQL database: the neglected ticket is
  escalated once per rule, notified once, and a new ticket is assigned once,
  however many workers race for the job.
- A lease is won by exactly one of many callers per period.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from server_fixtures import pg_databases_fixture, pg_url_fixture  # noqa: F401
from sqlalchemy import select
from sync_helpers import Server, ServerGroup, client, server_on

from ticketctl.server import jobs
from ticketctl.server import schema as S
from ticketctl.server.store.engine import engine_for, migrate
from ticketctl.services import sweep, techs, tickets
from ticketctl.services.env import Env
from ticketctl.sync import client as sync

LONG_AGO = {"TICKETCTL_NOW": "2026-01-05T09:00:00Z"}  # a Monday; by now every clock of a ticket made then is breached


class Receiver:
    """A webhook endpoint on loopback that records every body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        got = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def rules(self) -> list[tuple[str, str]]:
        return sorted((b["ticket"], b["rule"]) for b in self.bodies)

    def close(self) -> None:
        self.http.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def notify_config(url: str) -> str:
    return f'[notify.targets.ops]\nurl = "{url}"\n'


def joined(srv: Server, root: Path, name: str, role: str, config: str = "") -> Env:
    env = client(root, name)
    if config:
        env.home.config_file.parent.mkdir(parents=True, exist_ok=True)
        env.home.config_file.write_text(config)
    sync.setup(env, srv.url, srv.token(name, role))
    sync.sync(env)
    return env


def at(env: Env, when: dict[str, str]) -> Env:
    return Env(env.home, {**env.environ, **when})


def outbox(env: Env) -> list[tuple[str, str]]:
    return [tuple(r) for r in env.store.db.execute("SELECT ticket, rule FROM notifications ORDER BY id")]


def server_outbox(db: str) -> list[dict[str, Any]]:
    engine = engine_for(db)
    try:
        with engine.connect() as c:
            return [dict(r) for r in c.execute(select(S.notifications).order_by(S.notifications.c.id)).mappings()]
    finally:
        engine.dispose()


def escalations(db: str, key: str) -> list[str]:
    engine = engine_for(db)
    try:
        with engine.connect() as c:
            rows = c.execute(select(S.events.c.payload).where(S.events.c.ticket == key, S.events.c.type == "ticket.escalated"))
            return sorted(json.loads(p)["rule"] for (p,) in rows)
    finally:
        engine.dispose()


def wait_for(what: Any, seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        got = what()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_two_devices_sweeping_leave_one_escalation_and_one_notification_on_the_server(
        request: pytest.FixtureRequest, tmp_path: Path, receiver: Receiver) -> None:
    cfg = notify_config(receiver.url)
    srv = server_on(request, tmp_path, cfg)
    try:
        disp = joined(srv, tmp_path, "disp", "dispatcher", cfg)
        sup = joined(srv, tmp_path, "sup", "supervisor", cfg)
        key = tickets.create(at(disp, LONG_AGO), {"title": "Server room too hot", "type": "repair", "dept": "field",
                                                  "product": "hvac", "priority": "urgent"})["key"]
        sync.sync(disp)
        sync.sync(sup)
        a_rules = sorted(x["rule"] for x in sweep.sweep(disp)["actions"] if x["key"] == key)
        b_rules = sorted(x["rule"] for x in sweep.sweep(sup)["actions"] if x["key"] == key)
        assert a_rules == b_rules and len(a_rules) >= 2, (a_rules, b_rules)  # both escalated the same rules, offline
        assert outbox(disp) == outbox(sup) == []  # in a team the server notifies, not the machine that swept
        sync.sync(disp)
        sync.sync(sup)
        assert escalations(srv.db, key) == a_rules  # one each, whoever swept first
        rows = server_outbox(srv.db)
        assert sorted((r["ticket"], r["rule"], r["target"]) for r in rows) == [(key, r, "ops") for r in a_rules]
        # the server delivers them (its jobs run whenever a notify target is configured), each once
        got = wait_for(lambda: len(receiver.bodies) >= len(a_rules) and receiver.bodies)
        assert receiver.rules() == [(key, r.split("@", 1)[0]) for r in a_rules], got
        assert wait_for(lambda: all(r["status"] == "sent" for r in server_outbox(srv.db)))
        time.sleep(jobs.DELIVER_EVERY + 1.5)  # another delivery period: nothing is sent again
        assert len(receiver.bodies) == len(a_rules)
        assert "OLT" not in json.dumps(receiver.bodies) and all(b["event"] == "escalation" for b in receiver.bodies)
    finally:
        srv.kill()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_scheduled_sweep_and_dispatch_run_once_for_all_workers_and_instances(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path, receiver: Receiver) -> None:
    db = str(request.getfixturevalue("pg_url")) if backend == "postgresql" else f"sqlite:///{tmp_path / 'central.db'}"
    cfg = notify_config(receiver.url)
    flags = ("--workers", "2", "--sweep-every", "2", "--dispatch-every", "2")
    # SQLite: one instance, two workers; PostgreSQL: two instances of two workers each
    servers = [ServerGroup(tmp_path / f"s{i}", db, *flags) for i in range(1 if backend == "sqlite" else 2)]
    for s in servers:
        (s.home / "config.toml").write_text(cfg)
        s.start()
    try:
        disp = joined(servers[0], tmp_path, "disp", "dispatcher", cfg)
        techs.add(disp, "ana", skills=["hvac"], capacity=3)
        old = tickets.create(at(disp, LONG_AGO), {"title": "Server room too hot", "type": "repair", "dept": "field",
                                                  "product": "hvac", "priority": "urgent"})["key"]
        sync.sync(disp)
        fresh = tickets.create(disp, {"title": "Chiller noisy", "type": "repair", "dept": "field", "product": "hvac",
                                      "skills": ["hvac"]})["key"]
        sync.sync(disp)
        # the server's jobs escalate the neglected ticket and assign both to ana (the only technician)
        assert wait_for(lambda: len(escalations(db, old)) >= 2, 40), [s.log.read_text()[-2000:] for s in servers]
        assert wait_for(lambda: len(receiver.bodies) >= len(escalations(db, old)), 40)
        time.sleep(5)  # a few more periods of every worker: nothing more may happen
        rules = escalations(db, old)
        assert len(rules) == len(set(rules))
        assert receiver.rules() == sorted((old, r.split("@", 1)[0]) for r in rules)
        assert sorted((r["rule"], r["status"]) for r in server_outbox(db)) == [(r, "sent") for r in rules]
        sync.sync(disp)
        shown = tickets.show(disp, fresh)
        assert shown["assignee"] == "ana"
        assigned = [e for e in shown["timeline"] if e["type"] == "ticket.assigned"]
        assert len(assigned) == 1 and assigned[0]["actor"].startswith("jobs-"), assigned
        # the replica judges by the team's rules: the server home's config file
        for s in servers:
            if (s.home / "jobs" / "device.json").exists():
                assert (s.home / "jobs" / "config.toml").read_text() == cfg
        # one replica device per server home; each instance used its own
        assert len({json.loads((s.home / "jobs" / "device.json").read_text())["name"]
                    for s in servers if (s.home / "jobs" / "device.json").exists()}) >= 1
        for s in servers:
            text = s.log.read_text()
            assert "Traceback" not in text and "failed" not in text, text[-3000:]
    finally:
        for s in servers:
            s.kill()


def test_a_lease_is_won_once_per_period(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'lease.db'}")
    migrate(engine)
    won: list[bool] = []
    gate = threading.Barrier(8)

    def race() -> None:
        gate.wait(5)
        won.append(jobs.claim(engine, "sweep", 60, now=1000.0))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(won) == [False] * 7 + [True]
    assert not jobs.claim(engine, "sweep", 60, now=1059.0)  # still this period
    assert jobs.claim(engine, "sweep", 60, now=1060.0)  # the next one
    assert jobs.claim(engine, "dispatch", 60, now=1060.0)  # each job has its own lease
    db = sqlite3.connect(tmp_path / "lease.db")
    assert dict(db.execute("SELECT name, value FROM counters WHERE name LIKE 'job:%'").fetchall()) == {
        "job:sweep": 1120, "job:dispatch": 1120}

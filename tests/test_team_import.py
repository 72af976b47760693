"""Imports reach the team (``server.history``): what ``import`` writes on a synced
device becomes part of the server's log, by event identity, and every other
device gets the tickets with their whole timeline.

On SQLite and on PostgreSQL (the ``server_on`` fixture): a ServiceNow slice
imported on A is on B after B's sync, each ticket equal to A's and with the
same timeline; the server's projections are the replay of its events; the
same export imported on a third device adds nothing; a key another ticket
holds is refused, reported once and never offered again; a technician's
device refuses to import at all; an import made while the server is down is
shared by the next sync.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from server_fixtures import pg_databases_fixture, pg_url_fixture  # noqa: F401
from sqlalchemy import func, select
from sync_helpers import CLI, Server, client, server_on

from ticketctl.core.workflow import fold
from ticketctl.server import schema as S
from ticketctl.server.store.engine import engine_for
from ticketctl.server.store.team import event_from_server_row
from ticketctl.services import rebuild, tickets
from ticketctl.services.env import Env
from ticketctl.sync import client as sync

DATA = Path(__file__).parent / "data"
SLICE = DATA / "servicenow_first50incidents.csv"  # 50 incidents, 308 rows (tests/data/README.md)

def cli(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env={**os.environ, **env.environ}, capture_output=True, text=True, timeout=120)


def joined(srv: Server, root: Path, name: str, role: str) -> Env:
    env = client(root, name)
    sync.setup(env, srv.url, srv.token(name, role))
    sync.sync(env)
    return env


def server_counts(db: str) -> tuple[int, int]:
    engine = engine_for(db)
    try:
        with engine.connect() as c:
            return (int(c.execute(select(func.count()).select_from(S.events)).scalar_one()),
                    int(c.execute(select(func.count()).select_from(S.tickets)).scalar_one()))
    finally:
        engine.dispose()


def server_replays(db: str, env: Env) -> None:
    """The server's ticket projections are the fold of its events (on either database)."""
    engine = engine_for(db)
    try:
        with engine.connect() as c:
            stored = {k: json.loads(d) for k, d in c.execute(select(S.tickets.c.key, S.tickets.c.data))}
            per: dict[str, list[Any]] = {}
            for r in c.execute(select(S.events).where(S.events.c.ticket.is_not(None)).order_by(S.events.c.seq)).mappings():
                per.setdefault(r["ticket"], []).append(event_from_server_row(r))
    finally:
        engine.dispose()
    assert set(stored) == set(per)
    for key, evs in per.items():
        t, _ = fold(None, evs, env.config)
        assert vars(t) == stored[key], key


def timeline(env: Env, key: str) -> list[tuple[str, str, str, str]]:
    return [(e["id"], e["type"], e["at"], e["actor"]) for e in tickets.show(env, key)["timeline"]]


@pytest.fixture(params=["sqlite", "postgresql"])
def srv(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    s = server_on(request, tmp_path)
    yield s
    s.kill()


def test_an_import_on_one_device_reaches_the_team_with_its_timeline(srv: Server, tmp_path: Path) -> None:
    ana = joined(srv, tmp_path, "ana", "dispatcher")
    ben = joined(srv, tmp_path, "ben", "supervisor")
    r = cli(ana, "import", "servicenow", str(SLICE), "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["tickets_new"] == 50
    assert s["team"] == {"shared": s["events"], "duplicates": 0, "refused": 0, "unshared": 0,
                         "error": None}
    assert sync.unshared_history(ana) == 0
    assert server_counts(srv.db) == (s["events"], 50)
    server_replays(srv.db, ana)

    got = sync.sync(ben)
    assert got["pulled"] == s["events"]
    mine = rebuild.stored(ana.store)
    theirs = rebuild.stored(ben.store)
    assert theirs == mine  # every ticket and technician the same on both devices
    for key in sorted(mine[0])[:10]:
        assert timeline(ben, key) == timeline(ana, key) and len(timeline(ben, key)) >= 2
    assert rebuild.differences(ben.store, ben.config) == [] and rebuild.differences(ana.store, ana.config) == []
    # A needed no pull of its own history: the upload confirmed it in the server's numbers
    assert sync.sync(ana)["pulled"] == 0
    # work on an imported ticket goes on through the normal path
    key = sorted(mine[0])[0]
    tickets.note(ben, key, "followed up with the caller")
    assert sync.sync(ben)["rejected"] == []
    sync.sync(ana)
    assert timeline(ana, key) == timeline(ben, key)


def test_the_same_export_imported_again_elsewhere_adds_nothing(srv: Server, tmp_path: Path) -> None:
    ana = joined(srv, tmp_path, "ana", "dispatcher")
    cy = joined(srv, tmp_path, "cy", "admin")
    first = json.loads(cli(ana, "import", "servicenow", str(SLICE), "--json").stdout)
    before = server_counts(srv.db)
    sync.sync(cy)
    r = cli(cy, "import", "servicenow", str(SLICE), "--json")
    assert r.returncode == 0, r.stderr
    again = json.loads(r.stdout)
    # cy had pulled ana's import before importing: the importer finds every event in its store already
    assert again["events"] == 0 and again["team"]["shared"] == 0
    assert server_counts(srv.db) == before
    # a device that imported before it ever pulled: the server knows every id and stores nothing twice
    dee = client(tmp_path, "dee")
    offline = json.loads(cli(dee, "import", "servicenow", str(SLICE), "--json").stdout)
    assert offline["events"] == first["events"] and offline["team"] is None
    sync.setup(dee, srv.url, srv.token("dee", "dispatcher"))
    r2 = sync.sync(dee)
    assert r2["history"]["shared"] == 0 and r2["history"]["duplicates"] == first["events"]
    assert server_counts(srv.db) == before
    assert sync.unshared_history(dee) == 0
    assert rebuild.stored(dee.store) == rebuild.stored(ana.store)


def test_a_key_another_ticket_holds_is_refused_once_and_never_offered_again(srv: Server, tmp_path: Path) -> None:
    ana = joined(srv, tmp_path, "ana", "dispatcher")
    ben = client(tmp_path, "ben")
    table = tmp_path / "old.csv"
    table.write_text("Id,Subject,Kind,Team,Item\nINC0000045,a different ticket with the same number,repair,desk,laptop\n"
                     "OLD-7,printer offline,repair,desk,printer\n")
    r = cli(ben, "import", "csv", str(table), "--map", "key=Id,title=Subject,type=Kind,dept=Team,product=Item", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(cli(ana, "import", "servicenow", str(SLICE), "--json").stdout)["team"]["refused"] == 0
    sync.setup(ben, srv.url, srv.token("ben", "dispatcher"))
    r = sync.sync(ben)
    refused = r["history"]["refused"]
    assert refused and all(why == "INC0000045: the team already has a ticket with this key" for why in refused.values())
    assert r["history"]["shared"] >= 1  # OLD-7 went through
    again = sync.sync(ben)
    assert again["history"] == {"shared": 0, "duplicates": 0, "refused": {}, "kept": 0}  # not offered twice
    assert tickets.show(ana, "INC0000045")["title"] != "a different ticket with the same number"


def test_a_technicians_device_refuses_to_import_and_writes_nothing(srv: Server, tmp_path: Path) -> None:
    tom = joined(srv, tmp_path, "tom", "technician")
    r = cli(tom, "import", "servicenow", str(SLICE))
    assert r.returncode == 1 and r.stderr.startswith("ticketctl: error: imports on a synced device are shared"), r.stderr
    assert tom.store.db.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0


def test_an_import_while_the_server_is_down_is_shared_by_the_next_sync(srv: Server, tmp_path: Path) -> None:
    try:
        ana = joined(srv, tmp_path, "ana", "dispatcher")
        srv.kill()
        r = cli(ana, "import", "servicenow", str(SLICE), "--json")
        assert r.returncode == 0, r.stderr
        s = json.loads(r.stdout)
        assert s["team"]["shared"] == 0 and s["team"]["unshared"] == s["events"]
        assert "stays on this device until `ticketctl sync` shares it" in r.stderr
        srv.start()
        assert sync.sync(ana)["history"]["shared"] == s["events"]
        assert sync.unshared_history(ana) == 0
        server_replays(srv.db, ana)
    finally:
        srv.kill()


def test_an_event_log_import_reaches_the_team_too(srv: Server, tmp_path: Path) -> None:
    """``import events`` (here the ServiceNow slice through the shipped profile) shares its history like the others."""
    ana = joined(srv, tmp_path, "ana", "dispatcher")
    ben = joined(srv, tmp_path, "ben", "supervisor")
    r = cli(ana, "import", "events", str(SLICE), "--profile", "servicenow", "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["tickets_new"] == 50 and s["used"] == s["rows"] == 308
    assert s["team"] == {"shared": s["events"], "duplicates": 0, "refused": 0, "unshared": 0, "error": None}
    assert server_counts(srv.db) == (s["events"], 50)
    server_replays(srv.db, ana)
    assert sync.sync(ben)["pulled"] == s["events"]
    assert rebuild.stored(ben.store) == rebuild.stored(ana.store)
    assert rebuild.differences(ben.store, ben.config) == []

"""Databases an earlier ticketctl left behind open with this one, with their
data: the server's (SQLite and PostgreSQL) upgrade in place through Alembic,
a device's store through its own migrations. The fixtures in
tests/data/previous_release/ were made by the release before the migrations
moved to Alembic (its make.py says how).

And the schema is declared once: a database migrated from empty has exactly
the tables of the SQLModel classes (``server.schema``), checked by Alembic's
own comparison."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_fixtures import _connect, bearer, home_in, pg_databases_fixture, pg_url_fixture  # noqa: F401

from ticketctl.errors import ConfigError
from ticketctl.server import schema as S
from ticketctl.server.admin import add_device
from ticketctl.server.app import create_app
from ticketctl.server.store.engine import GENERATION, engine_for, migrate, revision

PREVIOUS = Path(__file__).parent / "data" / "previous_release"
HEAD = "0002"


def differences(url: str) -> list[Any]:
    """What Alembic finds between the database at ``url`` and the SQLModel classes."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = engine_for(url)
    try:
        with engine.connect() as c:
            return list(compare_metadata(MigrationContext.configure(c), S.metadata))
    finally:
        engine.dispose()


def load_pg_dump(url: str, dump: str) -> None:
    """Run a plain ``pg_dump --inserts`` file against the database at ``url`` (psql's own
    backslash commands, which only psql reads, left out)."""
    from sqlalchemy.engine import make_url

    sql = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))
    with _connect(make_url(url).render_as_string(hide_password=False), autocommit=True) as c:
        c.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'server.db'}" if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


def test_a_new_database_is_exactly_the_sqlmodel_tables(empty_db: str) -> None:
    epoch = migrate(engine_for(empty_db))
    assert re.fullmatch(r"[0-9a-f]{32}", epoch)
    assert revision(engine_for(empty_db)) == HEAD
    assert differences(empty_db) == []
    assert migrate(engine_for(empty_db)) == epoch, "migrating again changes nothing, the epoch least of all"


@pytest.fixture(params=["sqlite", "postgresql"])
def previous_server(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The previous release's server database after a small team's day."""
    if request.param == "sqlite":
        shutil.copy(PREVIOUS / "server.db", tmp_path / "server.db")
        return f"sqlite:///{tmp_path / 'server.db'}"
    url = str(request.getfixturevalue("pg_url"))
    load_pg_dump(url, (PREVIOUS / "server_pg.sql").read_text())
    return url


def test_the_previous_releases_server_database_upgrades_in_place_with_its_data(previous_server: str, tmp_path: Path) -> None:
    engine = engine_for(previous_server)
    with engine.connect() as c:
        before = {t: c.execute(S.metadata.tables[t].select()).mappings().all() for t in ("events", "tickets", "devices", "sources")}
        old_epoch = c.execute(S.server_meta.select().where(S.server_meta.c.key == "epoch")).mappings().one()["value"]
    assert revision(engine) is None and len(before["events"]) >= 10
    assert differences(previous_server), "the old schema lacks what came later (the webhook deliveries)"

    client = TestClient(create_app(previous_server, home_in(tmp_path / "home")))
    assert revision(engine) == HEAD and differences(previous_server) == []
    with engine.connect() as c:
        after = {t: c.execute(S.metadata.tables[t].select()).mappings().all() for t in before}
        meta = {r["key"]: r["value"] for r in c.execute(S.server_meta.select()).mappings()}
    assert after == before, "every row kept"
    assert meta["epoch"] == old_epoch and meta["version"] == str(GENERATION)

    # and the team goes on: the old devices sync, a new one joins
    dana = add_device(previous_server, "una", "dispatcher")["token"]
    pulled = client.get("/sync/pull", params={"after": 0, "limit": 5000}, headers=bearer(dana)).json()
    assert [e["ticket"] for e in pulled["events"] if e["type"] == "ticket.created"][:2] == ["DAN-1", "DAN-2"]
    tickets = {t["key"]: t for t in client.get("/sync/snapshot", headers=bearer(dana)).json()["tickets"]}
    assert (tickets["DAN-1"]["status"], tickets["DAN-1"]["assignee"]) == ("resolved", "tom")
    assert any(k.startswith("ALR-") for k in tickets), "the alert's ticket"
    hello = client.post("/sync/hello", json={"prefix": "UNA"}, headers=bearer(dana)).json()
    r = client.post("/sync/push", headers=bearer(dana), json={"mutations": [{
        "mutation_id": str(uuid.uuid4()), "client_seq": 1, "name": "ticket.note", "args": {"key": "DAN-2", "text": "after the upgrade"},
        "client_ts": "2026-12-07T09:00:00Z"}]})
    assert hello["prefix"] == "UNA" and r.json()["results"][0]["status"] == "applied", r.text
    assert client.get("/health").json()["epoch"] == old_epoch, "devices see the same database, not a restore"


def test_a_database_from_a_newer_ticketctl_is_refused_not_touched(empty_db: str) -> None:
    engine = engine_for(empty_db)
    migrate(engine)
    with engine.begin() as c:
        c.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(ConfigError, match="upgraded by a newer ticketctl .*upgrade ticketctl"):
        migrate(engine_for(empty_db))
    assert revision(engine_for(empty_db)) == "9999"


def test_a_pre_alembic_database_of_an_unknown_generation_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    shutil.copy(PREVIOUS / "server.db", tmp_path / "server.db")
    with sqlite3.connect(tmp_path / "server.db") as db:
        db.execute("UPDATE server_meta SET value = '9' WHERE key = 'version'")
    with pytest.raises(ConfigError, match="schema v9; this ticketctl knows v5"):
        migrate(engine_for(url))


def test_the_previous_releases_device_store_opens_and_upgrades(tmp_path: Path) -> None:
    """A device store of the release before: its tickets, roster and queued work survive the
    upgrade, and its tables still equal a replay of its events."""
    from ticketctl.services import rebuild, tickets
    from ticketctl.services.env import Env
    from ticketctl.store.schema import LATEST

    home = tmp_path / "device"
    home.mkdir()
    shutil.copy(PREVIOUS / "device.db", home / "ticketctl.db")
    with sqlite3.connect(home / "ticketctl.db") as db:
        old_version = db.execute("PRAGMA user_version").fetchone()[0]
        queued = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        events = db.execute("SELECT count(*) FROM events").fetchone()[0]
    env = Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_USER": "rita", "TICKETCTL_NOW": "2026-12-07T09:00:00Z"})
    listed = {t["title"]: t for t in tickets.listing(env, statuses=None, limit=None)}
    assert (listed["Door sensor faulty"]["status"], listed["Door sensor faulty"]["blocked_reason"]) == ("blocked", "awaiting_parts")
    assert listed["Door sensor faulty"]["phone"] == "+1 555 0100"
    assert "Chiller alarm" in listed
    st = env.store
    assert int(st.db.execute("PRAGMA user_version").fetchone()[0]) == LATEST >= old_version
    assert st.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == queued, "queued work is still queued"
    assert st.db.execute("SELECT count(*) FROM events").fetchone()[0] == events
    assert rebuild.differences(st, env.config) == []
    shown = tickets.show(env, listed["Chiller alarm"]["key"])
    assert [e["type"] for e in shown["timeline"]] == ["ticket.created", "ticket.noted"]
    assert json.loads(json.dumps(shown))["priority"] == "urgent"

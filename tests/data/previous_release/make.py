"""Make the databases an earlier ticketctl left behind, for the upgrade tests
(tests/test_upgrade.py). Run with THAT release's code first on the path:

    git worktree add --detach /tmp/old d0f3a54
    PYTHONPATH=/tmp/old python tests/data/previous_release/make.py postgresql://postgres@127.0.0.1:5432/test

It writes, beside itself:
- ``server.db``: the server's SQLite database (schema v4) after a small team's day;
- ``server_pg.sql``: the same day on PostgreSQL, as ``pg_dump --inserts`` (plain SQL);
- ``device.db``: a dispatcher's device store (schema v8) with a morning's local work.

d0f3a54 is the last commit before the server's migrations moved to Alembic and
the schema to SQLModel classes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def team_day(url: str, root: Path) -> Path:
    """Enrol devices, push a day's work, take an alert; returns the dispatcher's home."""
    from fastapi.testclient import TestClient
    from ticketctl.sync.admin import add_device, add_source
    from ticketctl.sync.server import create_app

    from ticketctl.home import Home

    server_home = root / "server-home"
    server_home.mkdir(parents=True, exist_ok=True)
    home = Home(config_file=server_home / "config.toml", store_file=server_home / "t.db", log_dir=server_home / "logs", root=server_home)
    app = create_app(url, home)
    client = TestClient(app)
    tokens = {n: add_device(url, n, r)["token"] for n, r in (("dana", "dispatcher"), ("tom", "technician"))}
    alerts = add_source(url, "prometheus", "alertmanager")["token"]
    for name, prefix in (("dana", "DAN"), ("tom", "TOM")):
        client.post("/sync/hello", json={"prefix": prefix}, headers={"Authorization": f"Bearer {tokens[name]}"})
    fields = {"title": "Boiler pressure low", "type": "repair", "dept": "facilities", "product": "hvac", "fault": "pressure",
              "customer": "Ada Lovelace", "phone": "+44 20 7946 0000", "priority": "high"}
    seq = iter(range(1, 1000))

    def push(who: str, *batch: tuple[str, dict[str, Any]]) -> None:
        ms = [{"mutation_id": str(uuid.uuid4()), "client_seq": next(seq) if who == "dana" else next(tom_seq), "name": n, "args": a,
               "client_ts": "2026-11-30T09:00:00Z"} for n, a in batch]
        r = client.post("/sync/push", json={"mutations": ms}, headers={"Authorization": f"Bearer {tokens[who]}"})
        assert r.status_code == 200 and all(x["status"] == "applied" for x in r.json()["results"]), r.text

    tom_seq = iter(range(1, 1000))
    push("dana", ("tech.add", {"name": "tom", "skills": ["hvac"], "capacity": 5}),
         ("ticket.create", {"key": "DAN-1", "fields": fields}), ("ticket.assign", {"key": "DAN-1", "name": "tom"}),
         ("ticket.create", {"key": "DAN-2", "fields": {**fields, "title": "Lift stuck on floor 3", "product": "lift"}}),
         ("kb.add", {"article": "KB-DAN-1", "fields": {"title": "Resetting a boiler", "steps": "Hold reset 5 s.",
                                                        "solution": "Reset it."}}),
         ("kb.publish", {"article": "KB-DAN-1"}))
    push("tom", ("ticket.start", {"key": "DAN-1"}), ("ticket.note", {"key": "DAN-1", "text": "valve replaced"}),
         ("ticket.resolve", {"key": "DAN-1"}))
    alert = {"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": {"alertname": "DiskFull", "instance": "db1"},
                                                             "annotations": {"summary": "disk 95% full"}, "fingerprint": "f00d"}]}
    r = client.post("/intake/alertmanager", json=alert, headers={"Authorization": f"Bearer {alerts}"})
    assert r.status_code == 200, r.text
    client.close()
    return server_home


def main() -> None:
    pg = sys.argv[1] if len(sys.argv) > 1 else ""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = root / "server.db"
        team_day(f"sqlite:///{db}", root / "sqlite")
        import sqlite3
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.close()
        shutil.copy(db, HERE / "server.db")
        device_store(root)
        if pg:
            import psycopg

            name = f"ticketctl_previous_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(pg, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{name}"')
            url = pg.rsplit("/", 1)[0] + "/" + name
            try:
                team_day(url, root / "pg")
                dump = subprocess.run(["pg_dump", "--inserts", "--no-owner", "--no-privileges", "--no-comments", url.replace(
                    "postgresql+psycopg", "postgresql")], check=True, capture_output=True, text=True).stdout
                (HERE / "server_pg.sql").write_text(dump)
            finally:
                with psycopg.connect(pg, autocommit=True) as c:
                    c.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def device_store(root: Path) -> None:
    """A dispatcher's device store with a morning's local work (queued for a sync it never had)."""
    from ticketctl.services import techs, tickets
    from ticketctl.services.env import Env

    environ = {"TICKETCTL_HOME": str(root / "device"), "TICKETCTL_USER": "rita", "TICKETCTL_NOW": "2026-11-30T10:00:00Z"}
    env = Env.from_environ(environ)
    techs.add(env, "tom", skills=["hvac"], capacity=4)
    k1 = tickets.create(env, {"title": "Door sensor faulty", "type": "install", "dept": "facilities", "product": "doors",
                              "customer": "Grace Hopper", "phone": "+1 555 0100"})["key"]
    k2 = tickets.create(env, {"title": "Chiller alarm", "type": "repair", "dept": "facilities", "product": "hvac",
                              "priority": "urgent"})["key"]
    tickets.assign(env, k1, "tom")
    tickets.start(env, k1)
    tickets.block(env, k1, "awaiting_parts", {})
    tickets.note(env, k2, "called the customer")
    env.close()
    shutil.copy(root / "device" / "ticketctl.db", HERE / "device.db")


if __name__ == "__main__":
    main()

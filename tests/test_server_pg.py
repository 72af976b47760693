"""The sync server on a real PostgreSQL (a throwaway database per test).

Without a reachable PostgreSQL these skip with one line saying how to run
them; under CI=true they fail instead (see server_fixtures).

- Parallel pushers and readers against ``ticketctl server run --workers 2``:
  no reader ever sees sequence number s before every event below s (one global
  sequence from a locked counter row; a ``bigserial`` would not give this).
- The same push/pull/snapshot round trip on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from server_fixtures import DISPATCHER_FIELDS, Outbox, bearer, home_in, pg_databases_fixture, pg_url_fixture  # noqa: F401
from sqlalchemy import select

from ticketctl.server import schema as S
from ticketctl.server.admin import add_device
from ticketctl.server.app import create_app
from ticketctl.server.store.engine import engine_for

PUSHERS, BATCHES, BATCH = 6, 25, 5  # 750 mutations, 150 pushes racing on the sequence
READERS = (("r0", "dispatcher", 7, 0.0), ("r1", "technician", 50, 0.0), ("r2", "supervisor", 5000, 0.5))  # name, role, limit, wait


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(pg_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``ticketctl server run --workers 2`` on the test's database: (base URL, db URL)."""
    port = free_port()
    exe = Path(sys.executable).with_name("ticketctl")
    log = (tmp_path / "server.log").open("wb")
    env = {**os.environ, "TICKETCTL_HOME": str(tmp_path / "home")}
    env.pop("TICKETCTL_SERVER_DB", None)
    proc = subprocess.Popen([str(exe), "server", "run", "--host", "127.0.0.1", "--port", str(port), "--db", pg_url,
                             "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"the server exited: {(tmp_path / 'server.log').read_text()}"
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"no server on {base} after 30 s: {(tmp_path / 'server.log').read_text()}"
            time.sleep(0.1)
        yield base, pg_url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the group this test started: uvicorn's supervisor and its workers
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        log.close()


def test_parallel_pushers_and_readers_never_see_a_gap(live_server: tuple[str, str]) -> None:
    base, db = live_server
    tokens = {f"p{i}": add_device(db, f"p{i}", "dispatcher")["token"] for i in range(PUSHERS)}
    tokens |= {name: add_device(db, name, role)["token"] for name, role, _, _ in READERS}
    pushed: dict[str, list[dict[str, Any]]] = {f"p{i}": [] for i in range(PUSHERS)}
    seen: dict[str, dict[str, list[int]]] = {name: {"events": [], "results": [], "cursors": []} for name, *_ in READERS}
    errors: list[str] = []
    pushing = threading.Event()
    pushing.set()

    def pusher(i: int) -> None:
        name, prefix, out = f"p{i}", "P" + "ABCDEFGH"[i], Outbox()
        try:
            with httpx.Client(base_url=base, headers=bearer(tokens[name]), timeout=60) as c:
                assert c.post("/sync/hello", json={"prefix": prefix}).json()["prefix"] == prefix  # the keys it makes carry it
                for b in range(1, BATCHES + 1):
                    key = f"{prefix}-{b}"
                    batch = [out("ticket.create", key=key, fields={**DISPATCHER_FIELDS, "title": f"{name} batch {b}"})]
                    batch += [out("ticket.note", key=key, text=f"note {n}") for n in range(1, BATCH)]
                    r = c.post("/sync/push", json={"mutations": batch})
                    assert r.status_code == 200, r.text
                    pushed[name] += r.json()["results"]
        except BaseException as e:  # noqa: BLE001 - reported by the test
            errors.append(f"{name}: {e!r}")

    def reader(name: str, limit: int, wait: float) -> None:
        mine = seen[name]
        cursor = 0
        try:
            with httpx.Client(base_url=base, headers=bearer(tokens[name]), timeout=60) as c:
                idle_after_push = 0
                while idle_after_push < 2:  # drain: two empty pages once the pushers are done
                    done = not pushing.is_set()
                    r = c.get("/sync/pull", params={"after": cursor, "limit": limit, "wait": wait})
                    assert r.status_code == 200, r.text
                    page = r.json()
                    for e in page["events"]:
                        assert e["server_seq"] == e["device_seq"], e
                        mine["events"].append(e["server_seq"])
                    mine["results"] += [x["seq"] for x in page["results"]]
                    assert page["cursor"] >= cursor
                    cursor = page["cursor"]
                    mine["cursors"].append(cursor)
                    idle_after_push = idle_after_push + 1 if done and not page["events"] and not page["more"] else 0
                    if not page["events"] and not wait:
                        time.sleep(0.01)  # nothing new: do not spin the server's two cores away from the pushers
        except BaseException as e:  # noqa: BLE001
            errors.append(f"{name}: {e!r}")

    readers = [threading.Thread(target=reader, args=(n, lim, w)) for n, _, lim, w in READERS]
    pushers = [threading.Thread(target=pusher, args=(i,)) for i in range(PUSHERS)]
    for t in readers + pushers:
        t.start()
    for t in pushers:
        t.join(240)
    pushing.clear()
    for t in readers:
        t.join(120)
    assert not any(t.is_alive() for t in readers + pushers), "a thread hung"
    assert not errors, errors

    engine = engine_for(db)
    try:
        with engine.connect() as c:
            events = [r[0] for r in c.execute(select(S.events.c.seq).order_by(S.events.c.seq))]
            results = {r[0]: r[1] for r in c.execute(select(S.results.c.seq, S.results.c.device))}
            top = int(c.execute(select(S.counters.c.value).where(S.counters.c.name == "seq")).scalar_one())
    finally:
        engine.dispose()

    mutations = PUSHERS * BATCHES * BATCH
    assert len(events) == mutations and len(results) == mutations  # one event and one result per mutation
    # the global sequence has no holes: every number is one event or one result
    assert sorted([*events, *results]) == list(range(1, top + 1))
    for name, rows in pushed.items():
        assert [x["status"] for x in rows] == ["applied"] * BATCHES * BATCH, [x for x in rows if x["status"] != "applied"][:3]
        assert sorted(x["seq"] for x in rows) == sorted(s for s, d in results.items() if d == name)
    for name, mine in seen.items():
        got = mine["events"]
        assert got == sorted(set(got)), f"{name} saw an event twice or out of order"
        # having seen s, a reader had seen every event below s: what it saw, in order, is the server's log
        missing = sorted(set(events) - set(got))
        assert got == events, f"{name} missed {len(missing)} events, first {missing[:5]}"
        assert mine["results"] == []  # it pushed nothing: nobody else's results
        assert mine["cursors"][-1] == top
        assert len(set(mine["cursors"])) > 5, f"{name} never raced the pushers: {sorted(set(mine['cursors']))}"


# -- the same round trip on both backends ------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'server.db'}"
    return str(request.getfixturevalue("pg_url"))


def test_push_pull_snapshot_round_trip(db_url: str, tmp_path: Path) -> None:
    client = TestClient(create_app(db_url, home_in(tmp_path / "home")))
    tok = {n: add_device(db_url, n, r)["token"] for n, r in (("dana", "dispatcher"), ("tom", "technician"), ("sue", "supervisor"))}

    def push(who: str, out: Outbox, *batch: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
        r = client.post("/sync/push", json={"mutations": [out(n, **a) for n, a in batch]}, headers=bearer(tok[who]))
        assert r.status_code == 200, r.text
        return [(x["name"], x["status"]) for x in r.json()["results"]]

    def pull_all(who: str, after: int = 0, limit: int = 3) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        events: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        while True:
            page = client.get("/sync/pull", params={"after": after, "limit": limit}, headers=bearer(tok[who])).json()
            events += page["events"]
            results += page["results"]
            after = page["cursor"]
            if not page["more"]:
                return events, results, after

    hello = client.post("/sync/hello", json={"prefix": "DAN"}, headers=bearer(tok["dana"])).json()
    assert (hello["role"], hello["prefix"], hello["seq"]) == ("dispatcher", "DAN", 0)
    d, t = Outbox(), Outbox()
    assert push("dana", d, ("tech.add", {"name": "tom"}), ("ticket.create", {"key": "DAN-1", "fields": DISPATCHER_FIELDS}),
                ("ticket.assign", {"key": "DAN-1", "name": "tom"}), ("ticket.create", {"key": "DAN-2", "fields": DISPATCHER_FIELDS})) \
        == [("tech.add", "applied"), ("ticket.create", "applied"), ("ticket.assign", "applied"), ("ticket.create", "applied")]
    assert push("tom", t, ("ticket.start", {"key": "DAN-1"}), ("ticket.note", {"key": "DAN-1", "text": "on site"}),
                ("ticket.note", {"key": "DAN-2", "text": "not mine"}), ("ticket.resolve", {"key": "DAN-1", "note": "replaced the ONT"})) \
        == [("ticket.start", "applied"), ("ticket.note", "applied"), ("ticket.note", "rejected"), ("ticket.resolve", "applied")]

    events, results, cursor = pull_all("tom")
    assert [(e["type"], e["ticket"]) for e in events][:4] == [("tech.added", None), ("ticket.created", "DAN-1"),
                                                              ("ticket.assigned", "DAN-1"), ("ticket.created", "DAN-2")]
    assert {e["actor"] for e in events} == {"dana", "tom"}
    seqs = [e["server_seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert [(x["client_seq"], x["status"]) for x in results] == [(1, "applied"), (2, "applied"), (3, "rejected"), (4, "applied")]
    assert all(e["payload"].get("phone", "") == "" for e in events)  # a technician's pull

    snap = client.get("/sync/snapshot", headers=bearer(tok["dana"])).json()
    assert snap["seq"] == cursor
    by_key = {x["key"]: x for x in snap["tickets"]}
    one = by_key["DAN-1"]
    assert (one["status"], one["assignee"], one["phone"]) == ("resolved", "tom", DISPATCHER_FIELDS["phone"])
    assert (by_key["DAN-2"]["status"], by_key["DAN-2"]["assignee"]) == ("new", None)
    assert [x["name"] for x in snap["technicians"]] == ["tom"]
    assert snap == client.get("/sync/snapshot", headers=bearer(tok["sue"])).json()

    # a new device starts from the snapshot and pulls what follows it, and only that
    assert pull_all("sue", after=snap["seq"]) == ([], [], snap["seq"])
    assert push("dana", d, ("ticket.note", {"key": "DAN-2", "text": "customer called"})) == [("ticket.note", "applied")]
    later, _, _ = pull_all("sue", after=snap["seq"])
    assert [(e["type"], e["ticket"], e["payload"].get("text")) for e in later] == [("ticket.noted", "DAN-2", "customer called")]
    # and the full log is the same for everyone
    assert [e["id"] for e in pull_all("sue")[0]] == [e["id"] for e in pull_all("dana", limit=5000)[0]]


# -- what SQLite takes, PostgreSQL must not turn into a 503 ------------------------

LONG_KEY, NUL_KEY = "K" * 65, "ABC\x00-1"
PG_POISON = [  # (id, method, path, json body); each must be answered below 500 on both backends
    ("key-longer-than-its-column", "POST", "/sync/push", {"ticket.create": {"key": LONG_KEY, "fields": DISPATCHER_FIELDS}}),
    ("nul-in-a-key", "POST", "/sync/push", {"ticket.create": {"key": NUL_KEY, "fields": DISPATCHER_FIELDS}}),
    ("technician-name-longer-than-its-column", "POST", "/sync/push", {"tech.add": {"name": "T" * 201}}),
    ("nul-in-a-mutation-id", "POST", "/sync/push", {"mutation_id": "m\x00"}),
    ("nul-in-a-public-key", "POST", "/sync/hello", {"public_key": "PEM\x00"}),
    ("nul-in-a-blob-name", "GET", "/blobs/ab%00cd", None),
]


@pytest.mark.parametrize("method, path, body", [p[1:] for p in PG_POISON], ids=[p[0] for p in PG_POISON])
def test_input_the_protocol_accepts_is_never_a_server_error(db_url: str, tmp_path: Path, request: pytest.FixtureRequest,
                                                            method: str, path: str, body: dict[str, Any] | None) -> None:
    """Strings PostgreSQL's columns refuse (too long, NUL characters) are
    refused before they reach it (422, or a rejected result that lets the
    queue move on), never a 5xx that a client would retry for ever."""
    client = TestClient(create_app(db_url, home_in(tmp_path / "home")))
    token = add_device(db_url, "dana", "dispatcher")["token"]
    out = Outbox()
    if path == "/sync/push":
        assert body is not None
        if "mutation_id" in body:
            batch = [{**out("ticket.note", key="ABC-1", text="x"), **body}]
        else:
            ((name, args),) = body.items()
            batch = [out(name, **args)]
        body = {"mutations": [*batch, out("tech.add", name="tom")]}
    r = client.request(method, path, json=body, headers=bearer(token))
    assert r.status_code < 500, r.text
    if path == "/sync/push" and r.status_code == 200:  # the queue moves on past it
        assert [x["client_seq"] for x in r.json()["results"]] == [1, 2] and r.json()["results"][1]["status"] == "applied"

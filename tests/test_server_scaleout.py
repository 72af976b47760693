"""Several server processes on one PostgreSQL database: one gap-free global
order, nothing lost, nothing applied twice.

Two ``ticketctl server run --db PG --workers 2`` processes (four workers, each
its own port and home) share a throwaway database. A dispatcher, a supervisor
and four technicians work a seeded random schedule through the services; each
device syncs at random moments with a randomly chosen one of the two servers
(``sync setup`` again: the outbox and the cursor stay), and every so often
three devices sync at the same moment, two pushing to different servers while
the third pulls. Then every device syncs until nothing is pending, and:

1. every device holds the same projections as every other and as the server,
   and they equal a replay of its own events;
2. events and results share one sequence, 1..N, without a gap or a repeat;
3. every mutation any device made has exactly one result; an applied one's
   events are on the server, as many as the device made, numbered just before
   its result; a rejected one has none and is still listed on its device;
4. the server's projections equal a replay of the server's events.

The seed is ``TICKETCTL_TEST_SEED`` (default below) and a failure names it; it
fixes every choice, while the outcome of the races may vary from run to run.
Without a reachable PostgreSQL this skips with one line; under CI=true it fails.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_fixtures import bearer, pg_databases_fixture, pg_url_fixture  # noqa: F401
from sqlalchemy import select
from sync_helpers import Server, ServerGroup, client

from ticketctl.core.approvals import DELEGATION_PREFIX
from ticketctl.core.config import Config
from ticketctl.core.kb import EVENT_PREFIX as KB_PREFIX
from ticketctl.core.model import HELD_STATUSES, Event, Technician, Ticket
from ticketctl.core.workflow import apply_tech, fold
from ticketctl.errors import TicketctlError
from ticketctl.home import Home
from ticketctl.server import schema as S
from ticketctl.server.store.engine import engine_for
from ticketctl.services import rebuild, techs, tickets
from ticketctl.services.env import Env
from ticketctl.sync import client as sync

SEED = int(os.environ.get("TICKETCTL_TEST_SEED", "20260302"))
STEPS, RACE_EVERY, SYNC_P = 300, 30, 0.25
WORKERS = 2
CAPACITY = {"ana": 3, "bob": 3, "cy": 3, "eve": 1}  # eve takes one ticket: two assignments racing for her, one wins
FIELDS = {"type": "incident", "dept": "field", "product": "fibre", "customer": "Ada Lovelace"}  # no phone: redaction aside
REASONS = ("awaiting_parts", "awaiting_customer", "awaiting_third_party")
OPEN = ("new", "assigned", "in_progress", "blocked")


@dataclass
class Device:
    """One person's machine: its home, token, the mutations it made (id ->
    name and how many events it wrote locally) and its syncs (server URL, result)."""

    name: str
    role: str
    token: str
    home: Home
    environ: dict[str, str]
    url: str = ""
    made: dict[str, tuple[str, int]] = field(default_factory=dict)
    syncs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @contextmanager
    def session(self) -> Iterator[Env]:
        """The store as one command sees it (its own clock, its own connection: usable from any thread)."""
        env = Env(self.home, self.environ)
        try:
            yield env
        finally:
            env.close()

    def act(self, do: Callable[[Env], Any]) -> list[str]:
        """Run one user action; a local refusal queues nothing. Returns the ids of the mutations it queued."""
        with self.session() as env:
            before = {m for (m,) in env.store.db.execute("SELECT mutation_id FROM outbox")}
            try:
                do(env)
            except TicketctlError:
                pass
            new = [(m, n) for m, n in env.store.db.execute("SELECT mutation_id, name FROM outbox ORDER BY id") if m not in before]
            for mid, name in new:
                count = env.store.db.execute("SELECT count(*) FROM events WHERE mutation_id = ?", (mid,)).fetchone()[0]
                self.made[mid] = (name, int(count))
        return [m for m, _ in new]

    def point(self, server: Server) -> None:
        """Sync with ``server`` from now on: ``sync setup`` again, with the same token."""
        if self.url != server.url:
            with self.session() as env:
                me = sync.setup(env, server.url, self.token)
            assert (me["device"], me["role"]) == (self.name, self.role), me  # the devices table is the database's
            self.url = server.url

    def sync(self) -> dict[str, Any]:
        with self.session() as env:
            r = sync.sync(env)
        self.syncs.append((self.url, r))
        return r

    def sync_with(self, server: Server) -> dict[str, Any]:
        self.point(server)
        return self.sync()


def together(pairs: list[tuple[Device, Server]]) -> list[dict[str, Any]]:
    """Each device syncs with its server, all at the same moment (one thread each)."""
    for dev, server in pairs:
        dev.point(server)
    gate = threading.Barrier(len(pairs))
    out: list[Any] = [None] * len(pairs)

    def run(i: int, dev: Device) -> None:
        try:
            gate.wait(10)
            out[i] = dev.sync()
        except BaseException as e:  # noqa: BLE001 - reported below
            out[i] = e

    threads = [threading.Thread(target=run, args=(i, d)) for i, (d, _) in enumerate(pairs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), f"seed {SEED}: a sync hung"
    errors = [(d.name, r) for (d, _), r in zip(pairs, out, strict=True) if isinstance(r, BaseException)]
    assert not errors, f"seed {SEED}: {errors}"
    return out


def local_tickets(env: Env) -> list[tuple[str, str, str | None]]:
    return [tuple(r) for r in env.store.db.execute("SELECT key, status, assignee FROM tickets ORDER BY key")]


def queue_action(rng: random.Random, env: Env) -> None:
    """What a dispatcher or supervisor does next: open, assign, note, edit, close or cancel."""
    ts = local_tickets(env)
    live = [t for t in ts if t[1] in OPEN]
    roll = rng.random()
    if len(live) < 4 or roll < 0.25:
        tickets.create(env, {**FIELDS, "title": f"no dial tone {rng.randrange(10**6)}"})
        return
    key, _status, _assignee = rng.choice(live)
    if roll < 0.6:
        tickets.assign(env, key, rng.choice(sorted(CAPACITY)))
    elif roll < 0.72:
        tickets.note(env, key, f"customer called {rng.randrange(100)}")
    elif roll < 0.82:
        tickets.edit(env, key, {"title": f"no dial tone, line {rng.randrange(1000)}"})
    elif roll < 0.95:
        resolved = [t[0] for t in ts if t[1] == "resolved"]
        if resolved:
            tickets.close(env, rng.choice(resolved), [])
    else:
        tickets.cancel(env, key, "duplicate")


def tech_action(rng: random.Random, env: Env, me: str) -> None:
    """What a technician does next with one of the tickets their screen shows as theirs."""
    mine = [t for t in local_tickets(env) if t[2] == me and t[1] in (*HELD_STATUSES, "resolved")]
    if not mine:
        return
    key, status, _ = rng.choice(mine)
    roll = rng.random()
    if status == "assigned":
        if roll < 0.6:
            tickets.start(env, key)
        elif roll < 0.8:
            tickets.block(env, key, rng.choice(REASONS), {})
        else:
            tickets.resolve(env, key, "power cycled")
    elif status == "in_progress":
        if roll < 0.4:
            tickets.note(env, key, f"reading {rng.randrange(1000)}")
        elif roll < 0.7:
            tickets.block(env, key, rng.choice(REASONS), {})
        else:
            tickets.resolve(env, key, "replaced the ONT")
    elif status == "blocked":
        if roll < 0.7:
            tickets.unblock(env, key, "parts in")
        else:
            tickets.note(env, key, "still waiting")
    elif roll < 0.5:
        tickets.close(env, key, [])
    else:
        tickets.note(env, key, "customer satisfied")


# -- the server's database, read directly ---------------------------------------------


def server_rows(db: str) -> dict[str, Any]:
    """Events, results, projections, devices and the counter, as PostgreSQL holds them."""
    engine = engine_for(db)
    try:
        with engine.connect() as c:
            events = [dict(r) for r in c.execute(select(S.events).order_by(S.events.c.seq)).mappings()]
            results = [dict(r) for r in c.execute(select(S.results).order_by(S.results.c.seq)).mappings()]
            tix = {k: Ticket(**json.loads(d)) for k, d in c.execute(select(S.tickets.c.key, S.tickets.c.data))}
            people = {n: Technician(**json.loads(d)) for n, d in c.execute(select(S.technicians.c.name, S.technicians.c.data))}
            devices = {n: int(s) for n, s in c.execute(select(S.devices.c.name, S.devices.c.last_client_seq))}
            top = int(c.execute(select(S.counters.c.value).where(S.counters.c.name == "seq")).scalar_one())
    finally:
        engine.dispose()
    return {"events": events, "results": results, "tickets": tix, "technicians": people, "devices": devices, "top": top}


def server_replay(events: list[dict[str, Any]], cfg: Config) -> tuple[dict[str, Ticket], dict[str, Technician]]:
    """The tickets and technicians a replay of the server's events gives (sync_helpers.server_replays, on PostgreSQL)."""
    per_ticket: dict[str, list[Event]] = defaultdict(list)
    people: dict[str, Technician] = {}
    for r in events:
        e = Event(id=r["id"], mutation_id=r["mutation_id"], ticket=r["ticket"], type=r["type"], payload=json.loads(r["payload"]),
                  actor=r["actor"], device=r["device"], device_seq=r["seq"], at=r["at"], server_seq=r["seq"])
        if e.type.startswith((KB_PREFIX, DELEGATION_PREFIX)):
            continue
        if e.ticket is None:
            people[e.payload["name"]] = apply_tech(people.get(e.payload["name"]), e, cfg)
        else:
            per_ticket[e.ticket].append(e)
    return {k: fold(None, evs, cfg)[0] for k, evs in per_ticket.items()}, people


# -- the test ---------------------------------------------------------------------------


@pytest.fixture
def servers(pg_url: str, tmp_path: Path) -> Iterator[tuple[ServerGroup, ServerGroup]]:
    """Two server processes on one database; the second starts once the first has migrated it."""
    a = ServerGroup(tmp_path / "a", pg_url, "--workers", str(WORKERS))
    b = ServerGroup(tmp_path / "b", pg_url, "--workers", str(WORKERS))
    try:
        a.start()
        b.start()
        yield a, b
    finally:
        b.kill()
        a.kill()


def enrol(root: Path, maker: Server, name: str, role: str, prefix: str) -> Device:
    env = client(root, name)
    with env.store.transaction():
        env.store.set_meta("key_prefix", prefix)  # fixed, so the schedule does not depend on a random prefix
    env.close()
    return Device(name, role, maker.token(name, role), env.home, dict(env.environ))


def test_two_server_processes_on_one_database_keep_one_order_and_lose_nothing(
        servers: tuple[ServerGroup, ServerGroup], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = servers
    both = [a, b]
    rng = random.Random(SEED)
    calls: list[tuple[str, str, str, int]] = []  # every HTTP answer a device got: server, method, path, status
    real_init = sync.Connection.__init__

    def recording(self: sync.Connection, url: str, token: str, timeout: float = 10.0) -> None:
        real_init(self, url, token, timeout)
        self.http.event_hooks = {"request": [], "response": [
            lambda r: calls.append((url, r.request.method, r.request.url.path, r.status_code))]}

    monkeypatch.setattr(sync.Connection, "__init__", recording)

    # -- devices: tokens made in the one database work on both servers ----------------
    root = tmp_path / "devices"
    disp = enrol(root, a, "disp", "dispatcher", "DSP")
    sue = enrol(root, b, "sue", "supervisor", "SUE")
    people = [enrol(root, both[i % 2], name, "technician", name.upper()[:3] + "X") for i, name in enumerate(sorted(CAPACITY))]
    devices = [disp, sue, *people]
    for name, cap in CAPACITY.items():
        disp.act(lambda env, name=name, cap=cap: techs.add(env, name, skills=["fibre"], capacity=cap))
    assert disp.sync_with(b)["bootstrapped"]  # its token was made through a
    for i, dev in enumerate([sue, *people]):
        assert dev.sync_with(both[i % 2])["bootstrapped"]  # the other server than the one that made its token
    assert len({httpx.get(f"{s.url}/health").json()["epoch"] for s in both}) == 1
    server_keys = set()
    for s in both:
        for _ in range(4):  # a few answers, from either worker
            keys = httpx.get(f"{s.url}/sync/keys", headers=bearer(disp.token)).json()["keys"]
            server_keys |= {(kid, k["pem"]) for kid, k in keys.items() if k["device"] == "server"}
    assert len(server_keys) == 1, f"the servers countersign with different keys: {server_keys}"

    # -- two assignments racing for eve's one slot, through different servers ----------
    for title in ("race 1", "race 2"):
        disp.act(lambda env, title=title: tickets.create(env, {**FIELDS, "title": title}))
    disp.sync_with(a)
    sue.sync_with(a)
    k1, k2 = "DSP-1", "DSP-2"
    assert disp.act(lambda env: tickets.assign(env, k1, "eve")) and sue.act(lambda env: tickets.assign(env, k2, "eve"))
    raced = together([(disp, a), (sue, b)])
    refused = [x["reason"] for r in raced for x in r["rejected"]]
    assert len(refused) == 1 and "at capacity 1/1" in refused[0], f"seed {SEED}: {refused}"
    for dev in (disp, sue):
        dev.sync_with(b)
    with sue.session() as env:
        held = [t[0] for t in local_tickets(env) if t[2] == "eve"]
    assert len(held) == 1, f"seed {SEED}: eve (capacity 1) holds {held}"

    # -- the long poll on one server wakes for a commit made through the other ---------
    with httpx.Client(base_url=b.url, headers=bearer(sue.token), timeout=90) as c:
        after = c.post("/sync/hello", json={}).json()["seq"]
        page: dict[str, Any] = {}
        poll = threading.Thread(target=lambda: page.update(c.get("/sync/pull", params={"after": after, "wait": 60}).json()))
        poll.start()
        time.sleep(0.5)  # let it park on b
        poked = disp.act(lambda env: tickets.note(env, k1, "are you there?"))
        disp.sync_with(a)
        poll.join(30)
        assert not poll.is_alive(), "the long poll on b slept through a commit made through a"
    assert {e["mutation_id"] for e in page["events"]} == set(poked)

    # -- the schedule -----------------------------------------------------------------
    weights = [3 if d.role != "technician" else 2 for d in devices]
    races = 0
    for step in range(STEPS):
        if step % RACE_EVERY == RACE_EVERY - 1:  # two devices push to different servers while a third pulls
            pushers = rng.sample(devices, 2)
            puller = rng.choice([d for d in devices if d not in pushers])
            for dev in pushers:
                for _ in range(rng.randint(1, 3)):
                    dev.act(lambda env, dev=dev: queue_action(rng, env) if dev.role != "technician" else tech_action(rng, env, dev.name))
            one, other = rng.sample(both, 2)
            together([(pushers[0], one), (pushers[1], other), (puller, rng.choice(both))])
            races += 1
            continue
        dev = rng.choices(devices, weights)[0]
        dev.act(lambda env, dev=dev: queue_action(rng, env) if dev.role != "technician" else tech_action(rng, env, dev.name))
        if rng.random() < SYNC_P:
            dev.sync_with(rng.choice(both))

    # -- everyone syncs until nothing is pending and nothing new arrives ----------------
    for n in range(10):
        quiet = True
        for dev in devices:
            r = dev.sync_with((b if dev.url == a.url else a) if n == 0 else rng.choice(both))  # first: the other one
            quiet = quiet and not (r["pushed"] or r["pulled"] or r["pending"])
        if quiet:
            break
    else:
        pytest.fail(f"seed {SEED}: the devices did not settle in 10 rounds")
    assert a.running() and b.running(), "both servers ran the whole time"

    # HTTP: both servers answered pushes and pulls; never a server error, never a gap
    answered = Counter((url, path) for url, _, path, _ in calls)
    for s in both:
        assert answered[(s.url, "/sync/push")] > 10 and answered[(s.url, "/sync/pull")] > 10, answered
    bad = [c for c in calls if c[3] not in (200, 201)]
    assert bad == [], f"seed {SEED}: {bad[:10]}"
    for dev in devices:
        assert not any(r["bootstrapped"] for _, r in dev.syncs[1:]), f"{dev.name} bootstrapped again: the epoch is the database's"
        hops = sum(1 for (u1, _), (u2, _) in zip(dev.syncs, dev.syncs[1:], strict=False) if u1 != u2)
        assert hops > 0, f"{dev.name} never switched servers"
    logs = {s.log: s.log.read_text() for s in both}
    for path, text in logs.items():
        assert not any(w in text for w in ("Exception in ASGI application", "database error", "malformed")), f"{path}:\n{text[-3000:]}"

    srv = server_rows(a.db)
    cfg = Config()

    # (2) events and results share one sequence: 1..N, each number once
    seqs = [e["seq"] for e in srv["events"]] + [r["seq"] for r in srv["results"]]
    assert sorted(seqs) == list(range(1, srv["top"] + 1)), f"seed {SEED}: gaps or repeats in the global sequence"
    assert len({e["id"] for e in srv["events"]}) == len(srv["events"])

    # (3) exactly once: every mutation made has one result, from its device, in that device's order
    made = {mid: (dev.name, name, n) for dev in devices for mid, (name, n) in dev.made.items()}
    results = {r["mutation_id"]: r for r in srv["results"]}
    assert len(results) == len(srv["results"]), f"seed {SEED}: a mutation has two results"
    assert set(results) == set(made), (f"seed {SEED}: lost {sorted(set(made) - set(results))[:5]},"
                                       f" unknown {sorted(set(results) - set(made))[:5]}")
    for dev in devices:
        mine = sorted(r["client_seq"] for r in srv["results"] if r["device"] == dev.name)
        assert mine == list(range(1, len(dev.made) + 1)) and srv["devices"][dev.name] == len(dev.made), dev.name
    by_mutation: dict[str, list[int]] = defaultdict(list)
    for e in srv["events"]:
        by_mutation[e["mutation_id"]].append(e["seq"])
    statuses = Counter(r["status"] for r in srv["results"])
    for mid, r in results.items():
        who, name, n = made[mid]
        assert (r["device"], r["name"]) == (who, name), r
        if r["status"] == "applied":
            s = r["seq"]
            assert by_mutation[mid] == list(range(s - n, s)), f"seed {SEED}: {name} {mid}: events {by_mutation[mid]}, made {n}, result {s}"
        else:
            assert mid not in by_mutation, f"seed {SEED}: rejected {name} {mid} left events"
    assert set(by_mutation) <= set(results)
    for dev in devices:  # what the server refused stays listed on the device; everything else left the outbox
        with dev.session() as env:
            st = sync.status(env)
        assert st["pending"] == []
        assert {x["mutation_id"] for x in st["rejected"]} == {m for m, r in results.items() if r["device"] == dev.name
                                                              and r["status"] == "rejected"}, dev.name

    # (1) the same projections everywhere, and on each device they are its own events' replay
    want = (srv["tickets"], srv["technicians"])
    for dev in devices:
        with dev.session() as env:
            assert rebuild.differences(env.store, env.config) == [], dev.name
            assert rebuild.stored(env.store) == want, f"seed {SEED}: {dev.name}'s projections differ from the server's"

    # (4) the server's projections are the replay of its events; nobody holds more than their capacity
    assert server_replay(srv["events"], cfg) == want, f"seed {SEED}: the server's projections are not its events' replay"
    load = Counter(t.assignee for t in srv["tickets"].values() if t.status in HELD_STATUSES)
    assert all(load[name] <= cap for name, cap in CAPACITY.items()), (load, CAPACITY)

    assert races == STEPS // RACE_EVERY and statuses["applied"] > 100, statuses
    print(f"seed {SEED}: {len(made)} mutations ({dict(statuses)}), {len(srv['events'])} events, sequence 1..{srv['top']},"
          f" {races} races, {len(calls)} requests")

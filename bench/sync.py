"""Sync benchmark: bootstrap, offline push, concurrent round trips, devices per server, watchers (run by hand, not in CI).

    .venv/bin/python bench/sync.py [--quick] [--only bootstrap|push|roundtrips|devices|watchers] [--backends sqlite,pg]
                                   [--pg-url postgresql://postgres@127.0.0.1:5432/test] [--runs 3]
                                   [--tickets 1000000] [--duration 180] [--watchers 60,200] [--sync-timeout 30]

Budgets (issue text), each measured against a SQLite server and a PostgreSQL server:

* bootstrap: a fresh client (new TICKETCTL_HOME, ``ticketctl sync setup`` untimed) syncs from a
  server holding 100,000 tickets: the whole ``ticketctl sync --json`` process, <= 10 s. Median of
  --runs, for a dispatcher's device and for a technician's (whose snapshot the server redacts).
* push: 10,000 ``ticket.note`` mutations queued offline in one store (in-process through
  ``services.tickets.note``, over 100 of the device's own tickets; untimed), then the whole
  ``ticketctl sync --json`` process that pushes them and pulls the results back, <= 10 s.
* round trips: 32 client threads in this process, each with its own home, store and dispatcher
  device, each looping "note on its own ticket (local), then ``client.sync(env)``"; after a
  warm-up, syncs finished per second over the window, and the latency of one sync (median, p95).
  No budget number was given: the figure is reported. The clients share the 2-core machine with
  the server (and the GIL with each other): the CPU each side used is printed with the figure.

Devices per server (issue text: "100 devices syncing every 30 s against 1M server tickets on
PostgreSQL, p50/p99 sync time"; no budget: the figures are reported), PostgreSQL only:

* devices: a server loaded with --tickets tickets (1,000,000) and 100 enrolled devices, four
  technicians to a dispatcher, each with its own home, store and key prefix. Each device syncs
  every 30 s, first at a random phase in [0, 30) s, for --duration s (180: 6 syncs each); before
  each sync it makes 1-3 local actions through the services (a technician: a note on, a start or
  a resolve of one of its tickets, or a new ticket; a dispatcher: assigning a new ticket of one of
  its technicians back to them, a note, or a new ticket). Each ``client.sync(env)`` is timed from
  call to return: syncs done, syncs/s, p50, p95, p99 and max, and the failed syncs (any fails the
  run). The devices run as 4 spawned processes of 25 threads, so that one interpreter's GIL does
  not stretch the others' latency; they share the 2 cores with the server and PostgreSQL, whose
  CPU (clients, server, the database's backends) is printed with the figures.
  The stores are not bootstrapped from a 1M-ticket snapshot (bootstrap is measured above): each
  gets what a client bootstrapped just after the load holds, the server's epoch and its
  high-water mark as the sync cursor, so it holds only the work made after the load. That work
  goes through the services and real syncs: the first dispatcher adds the technicians to the
  roster, every device opens 2 tickets, the dispatchers assign the technicians' ones to them.
  The check at the end: every mutation the devices queued (read from their outboxes before each
  sync) has exactly one result on the server, and no store is left with unconfirmed work; a
  mismatch fails the run. This measure's server has a database of its own, ``bench_devices``
  beside --pg-url's (made at the start, dropped at the end): the --pg-url database is not touched.

Watchers (issue 22: "With 200 devices in ``sync --watch`` against one server process, another
device's ``sync`` stays within 2x of its time on an idle server"), SQLite only (one server process,
--workers 1), 2,000 tickets loaded over HTTP:

* watchers: one measured dispatcher device (bootstrapped from the snapshot) and, for each count in
  --watchers (60,200), that many technicians' devices running ``client.watch`` (the code of
  ``ticketctl sync --watch``: a sync, then ``GET /sync/pull?wait=2`` long polls, a sync again when
  something changed), each with its own home, store and token, as threads in spawned helper
  processes of at most 50 (the counts add up: 60, then 140 more). Their stores start at the
  server's epoch and high-water mark (what a client bootstrapped then holds) instead of fetching
  200 snapshots. Before the runs, every watcher has finished its first sync (at most 60 s) and sits
  in its long poll. Timed: the whole ``ticketctl sync --json`` of the measured device, first with
  no watcher (idle server; one untimed run first), then with each count: (a) nothing to push;
  (b) pushing one note made just before by ``ticketctl note KEY TEXT`` (untimed), which commits an
  event and so wakes every watcher at once (the herd); after each, the bench waits (at most 30 s)
  until every watcher has synced, and reports how long that took. Median and p90 of --runs (9);
  the ratio with watchers / idle, against the 2x bar for (a) (a failed sync misses it whatever the
  ratio); (b)'s ratio shown without a bar. A sync that exits non-zero or outlives --sync-timeout
  (30 s; killed) counts at its wall time and is shown; a series stops after 2 such failures, or
  once it has 3 runs and has taken 45 s, so the run stays bounded (about 3 minutes when syncs are
  quick, 6 when they time out). Also printed: the watchers' syncs and errors (``on_result`` calls)
  during each series, the CPU of the server and of the watchers' processes, and the server's RSS
  (VmRSS, peak VmHWM) idle and with each count. The helper processes are terminated at the end.

Servers: ``ticketctl server run`` subprocesses on free 127.0.0.1 ports (SQLite: --workers 1, the
database takes one writer at a time anyway; PostgreSQL: --workers 2, one per core), killed at the
end, also on error. Every other PostgreSQL run starts clean: the server's tables (server_meta,
counters, devices, events, results, tickets, technicians, blobs) are DROPPED in the --pg-url
database first.

Loading the tickets (setup, not timed against a budget; how long it took is printed): 20
technicians and the first 2,000 tickets (create, and an assign for 3 in 10) go through the running
server's POST /sync/push like any device's work; the rest is written straight into the server's
tables in one transaction, as the same service rules fold them (``core.workflow``
decide_create/decide_assign/fold), with their events and results, because the server takes
~1-2.5 ms per mutation (20 minutes or more for 1M). It streams in chunks of 50,000 tickets (memory
stays bounded): PostgreSQL COPY (psycopg 3), SQLite executemany; on PostgreSQL a VACUUM ANALYZE
follows, what autovacuum would do after such an insert, so that it does not run during a measure.
The script checks that a bulk-built ticket equals the one the server built from the same fields.

--quick: 5,000 tickets, 1,000 notes, 8 clients for 5 s, 1 run; devices: 20,000 tickets, 20
devices in 2 processes for 40 s; watchers: 20 watchers, 3 runs (a smoke run, not the figures).
Progress goes to stderr, the table to stdout; the exit code is 1 only if something fails.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, Table, create_engine, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ticketctl.core import workflow
from ticketctl.core.model import Event
from ticketctl.errors import TicketctlError
from ticketctl.home import load_config
from ticketctl.server import admin
from ticketctl.server import schema as S
from ticketctl.server.store.engine import engine_for, high_water, lock_sequence
from ticketctl.server.store.team import compact_json, tech_from_json
from ticketctl.services import techs as techs_service
from ticketctl.services import tickets
from ticketctl.services.env import Env
from ticketctl.sync import client
from ticketctl.sync.replica import CURSOR, EPOCH

sys.path.insert(0, str(Path(__file__).resolve().parent))
from budget import ticketctl  # noqa: E402

PG_TABLES = ("server_meta", "counters", "devices", "events", "results", "tickets", "technicians", "blobs")
WORKERS = {"sqlite": 1, "pg": 2}
HTTP_TICKETS = 2000
CHUNK = 50_000  # tickets built and written at a time by the bulk loader
DEPTS = ("facilities", "it", "fleet", "kitchen", "lab", "retail", "security", "warehouse")
PRODUCTS = ("hvac", "laptop", "printer", "van", "oven", "fridge", "badge", "forklift", "lift", "pump")
FAULTS = ("noise", "leak", "no-power", "broken", "slow", "error-code")
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
SERVERS: list[Server] = []
PROBLEMS: list[str] = []  # what makes the run fail although its figures are printed
DEVICE_DB = "bench_devices"  # the devices measure's own PostgreSQL database, made and dropped by the run
ROUND_S = 30.0  # how often each device syncs
ENROL_LOCK = threading.Lock()
MEASURES = ("bootstrap", "push", "roundtrips", "devices", "watchers")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def iso(t: datetime) -> str:
    return t.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[max(0, min(len(xs) - 1, round(q * len(xs) + 0.5) - 1))]


class Server:
    """``ticketctl server run`` in its own session (so its workers die with it)."""

    def __init__(self, db: str, workers: int, root: Path, name: str):
        self.db, self.home, self.port = db, root / f"{name}-server-home", free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logf = open(root / f"{name}-server.log", "w")
        cmd = [ticketctl(), "server", "run", "--host", "127.0.0.1", "--port", str(self.port), "--db", db, "--workers", str(workers)]
        self.proc = subprocess.Popen(cmd, env={**BASE_ENV, "TICKETCTL_HOME": str(self.home)}, stdout=self.logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        SERVERS.append(self)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"bench: the server did not start:\n{Path(self.logf.name).read_text()[-2000:]}")
            time.sleep(0.2)

    def cpu_s(self) -> float:
        """CPU seconds used so far by the server and its workers (its session, from /proc)."""
        tick, total = os.sysconf("SC_CLK_TCK"), 0
        for p in Path("/proc").glob("[0-9]*/stat"):
            try:
                f = p.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(f[3]) == self.proc.pid:  # field 6: session id
                total += int(f[11]) + int(f[12])
        return total / tick

    def stop(self) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)
                    self.proc.wait(wait)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue
        self.logf.close()
        if self in SERVERS:
            SERVERS.remove(self)


def fresh_db(backend: str, root: Path, name: str, pg_url: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{root / (name + '.db')}"
    eng = engine_for(pg_url)
    with eng.begin() as c:
        c.execute(text(f"DROP TABLE IF EXISTS {', '.join(PG_TABLES)} CASCADE"))
    eng.dispose()
    return pg_url


def make_env(home: Path, user: str) -> Env:
    return Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_USER": user})


def join(home: Path, user: str, server: Server, role: str, prefix: str) -> tuple[Env, str]:
    """A new device: its token, a home with its own key prefix, sync set up (in-process)."""
    with ENROL_LOCK:  # add_device runs Alembic's upgrade, whose module-level proxies are not thread-safe
        token = admin.add_device(server.db, user, role)["token"]
    env = make_env(home, user)
    with env.store.transaction():
        env.store.set_meta("key_prefix", prefix)
    client.setup(env, server.url, token)
    return env, token


def run_cli(args: list[str], home: Path, user: str, timeout: float | None = None) -> tuple[float, int | None, str, str]:
    """One whole ticketctl process: (wall seconds, exit code or None when it was killed at
    ``timeout`` seconds, stdout, stderr)."""
    env = {**BASE_ENV, "TICKETCTL_HOME": str(home), "TICKETCTL_USER": user}
    t0 = time.perf_counter()
    try:
        p = subprocess.run([ticketctl(), *args], env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return time.perf_counter() - t0, None, "", err
    return time.perf_counter() - t0, p.returncode, p.stdout, p.stderr


def cli(args: list[str], home: Path, user: str) -> tuple[float, str]:
    """One whole ticketctl process: (wall seconds, stdout); exits if it fails."""
    secs, code, out, err = run_cli(args, home, user)
    if code != 0:
        raise RuntimeError(f"ticketctl {' '.join(args)} failed ({code}): {err.strip()[-1500:]}")
    return secs, out


def fields(i: int, rng: random.Random) -> dict[str, object]:
    dept, product = rng.choice(DEPTS), rng.choice(PRODUCTS)
    return {"title": f"{product} {rng.choice(FAULTS)} in {dept} #{i}", "type": rng.choice(("repair", "install", "incident")),
            "dept": dept, "product": product, "fault": rng.choice(FAULTS), "priority": rng.choice(("urgent", "high", "medium", "low")),
            "description": "Reported by the site: " + " ".join(rng.choice(("unit", "fails", "after", "restart", "again", "noisy"))
                                                              for _ in range(rng.randint(5, 25))),
            "zone": rng.choice(("north", "south", "east", "west")), "customer": f"Customer {rng.randint(1, 5000)}",
            "phone": f"+1 555 {rng.randint(1000000, 9999999)}", "channel": rng.choice(("phone", "email", "portal"))}


def plan(n: int, techs: list[str], seed: int = 1) -> Iterator[tuple[str, dict[str, object], str | None, str]]:
    """(key, fields, assignee or None, client_ts) for n tickets, one a minute up to an hour ago (made as read)."""
    rng, start = random.Random(seed), datetime.now(UTC) - timedelta(hours=1, minutes=n)
    for i in range(n):
        yield f"LOAD-{i + 1}", fields(i, rng), techs[i % len(techs)] if i % 10 < 3 else None, iso(start + timedelta(minutes=i))


def build(cfg, key, flds, tech, at, seq, cseq):  # type: ignore[no-untyped-def]
    """What the server writes for a create (and an assign): ticket row, events, results."""
    t, evs, res, last = None, [], [], seq
    steps = [("ticket.create", lambda t: workflow.decide_create(flds, cfg))]
    if tech is not None:
        steps.append(("ticket.assign", lambda t: workflow.decide_assign(t, tech, 0)))
    for name, decide in steps:
        mid = str(uuid.uuid4())
        batch = [Event(id=str(uuid.uuid4()), type=typ, at=at, actor="loader", device="loader", device_seq=seq + 1 + k,
                       mutation_id=mid, ticket=key, payload=p) for k, (typ, p) in enumerate(decide(t))]
        t, _ = workflow.fold(t, batch, cfg)
        seq = last = seq + len(batch)
        evs += [{"seq": e.device_seq, "id": e.id, "mutation_id": mid, "ticket": key, "type": e.type, "payload": compact_json(e.payload),
                 "actor": "loader", "device": "loader", "at": at} for e in batch]
        seq += 1
        res.append({"seq": seq, "device": "loader", "client_seq": cseq, "mutation_id": mid, "name": name, "status": "applied",
                    "reason": None, "at": at})
        cseq += 1
    row = {"key": key, "status": t.status, "assignee": t.assignee, "updated_at": t.updated_at, "data": compact_json(vars(t)), "seq": last}
    return row, evs, res, seq, cseq


def load(server: Server, n: int) -> None:
    """Fill the server with n tickets (see the module doc): the bulk part streams in chunks of
    ``CHUNK`` tickets, by COPY on PostgreSQL and by executemany on SQLite, in one transaction."""
    t_all = time.perf_counter()
    token = admin.add_device(server.db, "loader", "dispatcher")["token"]
    http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=600)
    http.post("/sync/hello", json={"prefix": "LOAD"}).raise_for_status()
    techs = [f"tech{i:02d}" for i in range(20)]
    todo = plan(n, techs)
    head = list(islice(todo, HTTP_TICKETS))
    muts = [("tech.add", {"name": t, "capacity": 10**6, "zone": "north", "skills": ["hvac"]}, iso(datetime.now(UTC))) for t in techs]
    for key, flds, tech, at in head:
        muts.append(("ticket.create", {"key": key, "fields": flds}, at))
        if tech:
            muts.append(("ticket.assign", {"key": key, "name": tech}, at))
    t0 = time.perf_counter()
    for b in range(0, len(muts), 1000):
        body = {"mutations": [{"mutation_id": str(uuid.uuid4()), "client_seq": b + i + 1, "name": m, "args": a, "client_ts": at}
                              for i, (m, a, at) in enumerate(muts[b:b + 1000])]}
        r = http.post("/sync/push", json=body)
        r.raise_for_status()
        bad = [x for x in r.json()["results"] if x["status"] != "applied"]
        if bad:
            raise RuntimeError(f"loading: the server rejected {bad[0]}")
    http.close()
    log(f"  loaded {len(muts)} mutations over HTTP in {time.perf_counter() - t0:.1f} s"
        f" ({(time.perf_counter() - t0) / len(muts) * 1000:.2f} ms each)")
    cfg, eng, t0 = load_config(server.home / "config.toml"), engine_for(server.db), time.perf_counter()
    write = copy_rows if eng.dialect.name == "postgresql" else insert_rows
    bulk = max(0, n - HTTP_TICKETS)
    with eng.begin() as c:
        staff = {r[0]: tech_from_json(r[1]) for r in c.execute(select(S.technicians.c.name, S.technicians.c.data))}
        key, flds, tech, at = head[0]  # the check: the bulk rows are the server's rows
        made = json.loads(c.execute(select(S.tickets.c.data).where(S.tickets.c.key == key)).scalar_one())
        mine = json.loads(build(cfg, key, flds, staff.get(tech), at, 0, 1)[0]["data"])
        if made != mine:
            raise RuntimeError(f"bulk rows differ from the server's: {[k for k in made if made[k] != mine.get(k)]}")
        seq = lock_sequence(c)
        cseq = int(c.execute(select(S.devices.c.last_client_seq).where(S.devices.c.name == "loader")).scalar_one()) + 1
        done, shown = 0, time.perf_counter()
        while chunk := list(islice(todo, CHUNK)):
            rows, evs, res = [], [], []
            for key, flds, tech, at in chunk:
                row, e, r, seq, cseq = build(cfg, key, flds, staff.get(tech), at, seq, cseq)
                rows.append(row)
                evs += e
                res += r
            for table, part in ((S.tickets, rows), (S.events, evs), (S.results, res)):
                write(c, table, part)
            done += len(chunk)
            if time.perf_counter() - shown >= 10 or done == bulk:
                shown = time.perf_counter()
                log(f"  bulk: {done:,}/{bulk:,} tickets in {shown - t0:.0f} s")
        c.execute(update(S.counters).where(S.counters.c.name == "seq").values(value=seq))
        c.execute(update(S.devices).where(S.devices.c.name == "loader").values(last_client_seq=cseq - 1))
        count = c.execute(select(text("count(*)")).select_from(S.tickets)).scalar_one()
    t1 = time.perf_counter()
    if eng.dialect.name == "postgresql":  # what autovacuum does after a large insert, done now rather than during a measure
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM (ANALYZE) tickets, events, results"))
    eng.dispose()
    log(f"  bulk-loaded {bulk:,} tickets in {t1 - t0:.1f} s" + (f", VACUUM ANALYZE {time.perf_counter() - t1:.1f} s"
                                                                  if eng.dialect.name == "postgresql" else "")
        + f"; server holds {count:,}")
    log(f"  the load took {time.perf_counter() - t_all:.1f} s")


def copy_rows(c: Connection, table: Table, rows: list[dict[str, object]]) -> None:
    """Rows into a PostgreSQL table by COPY (psycopg 3), inside the connection's transaction."""
    if not rows:
        return
    cols = list(rows[0])
    names = ", ".join(f'"{x}"' for x in cols)
    cur = c.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as cp:
        for r in rows:
            cp.write_row([r[k] for k in cols])


def insert_rows(c: Connection, table: Table, rows: list[dict[str, object]]) -> None:
    if rows:
        c.execute(insert(table), rows)


def bench_bootstrap(server: Server, root: Path, n: int, runs: int) -> list[tuple]:
    out = []
    for role in ("dispatcher", "technician"):
        token = admin.add_device(server.db, f"boot-{role}", role)["token"]
        secs = []
        for r in range(runs):
            home = root / f"boot-{role}-{r}"
            cli(["sync", "setup", server.url, "--token", token], home, f"boot-{role}")
            s, out_json = cli(["sync", "--json"], home, f"boot-{role}")
            res = json.loads(out_json)
            with sqlite3.connect(home / "ticketctl.db") as db:
                have = db.execute("SELECT count(*) FROM tickets").fetchone()[0]
            if not res["bootstrapped"] or have != n:
                raise RuntimeError(f"bootstrap: expected a snapshot of {n} tickets, the store has {have}: {res}")
            secs.append(s)
            log(f"  bootstrap ({role}) run {r + 1}: {s:.2f} s; store {(home / 'ticketctl.db').stat().st_size / 1e6:.0f} MB")
        out.append((f"bootstrap {n:,} tickets ({role})", statistics.median(secs), "s", 10.0,
                    f"whole `ticketctl sync`, median of {runs} (min {min(secs):.2f}, max {max(secs):.2f})"))
    return out


def bench_push(server: Server, root: Path, n: int, runs: int) -> list[tuple]:
    home = root / "pusher"
    env, _ = join(home, "pusher", server, "dispatcher", "PUSH")
    keys = [tickets.create(env, fields(i, random.Random(i)))["key"] for i in range(100)]
    client.sync(env)
    secs = []
    for r in range(runs):
        t0 = time.perf_counter()
        with env.store.transaction():  # each note is its own mutation; one commit keeps the queueing quick
            for i in range(n):
                tickets.note(env, keys[i % len(keys)], f"offline note {r}.{i}: checked the unit, waiting for parts")
        queued = env.store.db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
        log(f"  push run {r + 1}: queued {queued} notes in-process in {time.perf_counter() - t0:.1f} s")
        env.close()
        s, out = cli(["sync", "--json"], home, "pusher")
        res = json.loads(out)
        if res["pushed"] != n or res["rejected"] or res["pending"]:
            raise RuntimeError(f"push: expected {n} pushed, none pending: pushed {res['pushed']}, pending {len(res['pending'])}")
        secs.append(s)
        log(f"  push run {r + 1}: {s:.2f} s (pushed {res['pushed']}, pulled {res['pulled']})")
    return [(f"push {n:,} queued notes", statistics.median(secs), "s", 10.0,
             f"whole `ticketctl sync` (push + pull back), median of {runs} (min {min(secs):.2f}, max {max(secs):.2f})")]


def bench_roundtrips(server: Server, root: Path, nclients: int, warm: float, window: float) -> list[tuple]:
    lat: list[tuple[float, float]] = []
    errors: list[str] = []
    ready, go, stop = threading.Barrier(nclients + 1), threading.Event(), threading.Event()
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            name, prefix = f"rt{i:02d}", "RT" + chr(65 + i // 26) + chr(65 + i % 26)
            env, _ = join(root / f"rt-{i}", name, server, "dispatcher", prefix)
            key = tickets.create(env, fields(i, random.Random(i)))["key"]
            client.sync(env)
        except Exception as e:  # noqa: BLE001
            errors.append(f"setup {i}: {e!r}")
            ready.abort()
            return
        ready.wait()
        go.wait()
        n = 0
        while not stop.is_set():
            n += 1
            tickets.note(env, key, f"round trip {n}")
            t0 = time.perf_counter()
            try:
                r = client.sync(env)
                if r["rejected"]:
                    errors.append(f"{name}: rejected {r['rejected'][0]['reason']}")
            except Exception as e:  # noqa: BLE001
                errors.append(f"{name}: {e!r}")
                continue
            t1 = time.perf_counter()
            with lock:
                lat.append((t1, t1 - t0))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(nclients)]
    for t in threads:
        t.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        raise RuntimeError(f"round trips: a client failed to set up: {errors[:3]}") from None
    go.set()
    time.sleep(warm)
    start, cpu0, scpu0 = time.perf_counter(), time.process_time(), server.cpu_s()
    time.sleep(window)
    end, cpu1, scpu1 = time.perf_counter(), time.process_time(), server.cpu_s()
    stop.set()
    for t in threads:
        t.join(60)
    xs = [d for at, d in lat if start <= at <= end]
    if errors:
        log(f"  round trips: {len(errors)} errors, e.g. {errors[:3]}")
    if not xs:
        raise RuntimeError("round trips: no sync finished in the window")
    rate = len(xs) / (end - start)
    log(f"  {nclients} clients: {rate:.1f} round trips/s over {window:.0f} s")
    return [(f"round trips, {nclients} clients", rate, "/s", None,
             f"sync median {statistics.median(xs) * 1000:.0f} ms, p95 {pct(xs, 0.95) * 1000:.0f} ms; {len(xs)} in {window:.0f} s;"
             f" {len(errors)} errors; CPU: clients {(cpu1 - cpu0) / (end - start):.0%}, server {(scpu1 - scpu0) / (end - start):.0%}"
             " of a core")]


def device_db(pg_url: str) -> str:
    """A new, empty DEVICE_DB database beside --pg-url's (dropped first if a run left one behind)."""
    u = make_url(pg_url).set(drivername="postgresql+psycopg")
    eng = create_engine(u, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {DEVICE_DB} WITH (FORCE)"))
        c.execute(text(f"CREATE DATABASE {DEVICE_DB}"))
    eng.dispose()
    return make_url(pg_url).set(database=DEVICE_DB).render_as_string(hide_password=False)


def drop_device_db(pg_url: str) -> None:
    eng = create_engine(make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {DEVICE_DB} WITH (FORCE)"))
    eng.dispose()


def pg_cpu(db: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the database (from /proc)."""
    eng = create_engine(make_url(db).set(drivername="postgresql+psycopg"), poolclass=NullPool)
    with eng.connect() as c:
        pids = [r[0] for r in c.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                             " AND pid <> pg_backend_pid()"))]
    eng.dispose()
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(f[11]) + int(f[12])) / tick
    return out


def device_specs(n: int, root: Path) -> list[dict[str, object]]:
    """n devices: four technicians to a dispatcher; technician j's new tickets are
    assigned by dispatcher j % (number of dispatchers)."""
    ndisp = max(1, n // 5)
    out: list[dict[str, object]] = []
    for i in range(n):
        role = "technician" if i < n - ndisp else "dispatcher"
        name = f"dtech{i:03d}" if role == "technician" else f"ddisp{i - (n - ndisp):03d}"
        out.append({"i": i, "name": name, "role": role, "prefix": "DV" + chr(65 + i // 26) + chr(65 + i % 26),
                    "home": str(root / f"dev-{i}")})
    for d, s in enumerate(x for x in out if x["role"] == "dispatcher"):
        s["serves"] = {str(t["prefix"]): str(t["name"]) for j, t in enumerate(out) if t["role"] == "technician" and j % ndisp == d}
    return out


def pending_ids(env: Env) -> list[str]:
    """The mutation ids this store has queued and not yet numbered for the server."""
    return [r[0] for r in env.store.db.execute("SELECT mutation_id FROM outbox WHERE status = 'pending'")]


def setup_devices(server: Server, specs: list[dict[str, object]]) -> dict[str, set[str]]:
    """Enrol the devices and give each store the state a client bootstrapped right
    after the load has: the server's epoch, and the cursor at its high-water mark.
    Then (all through the services and real syncs) the first dispatcher adds the
    technicians to the roster, every device opens 2 tickets, and the dispatchers
    assign the technicians' tickets to them. Returns each device's mutation ids."""
    epoch = httpx.get(f"{server.url}/health").json()["epoch"]
    envs = {str(s["name"]): join(Path(str(s["home"])), str(s["name"]), server, str(s["role"]), str(s["prefix"]))[0] for s in specs}
    eng = engine_for(server.db)
    with eng.connect() as c:
        high = high_water(c)
    eng.dispose()
    for env in envs.values():
        with env.store.transaction():
            env.store.set_meta(EPOCH, epoch)
            env.store.set_meta(CURSOR, str(high))
    made: dict[str, set[str]] = {name: set() for name in envs}

    def sync(name: str) -> None:
        made[name].update(pending_ids(envs[name]))
        r = client.sync(envs[name])
        if r["rejected"] or r["bootstrapped"]:
            raise RuntimeError(f"devices setup: {name}'s sync: rejected {r['rejected'][:1]}, bootstrapped {r['bootstrapped']}")

    techs = [s for s in specs if s["role"] == "technician"]
    disps = [s for s in specs if s["role"] == "dispatcher"]
    first = envs[str(disps[0]["name"])]
    for t in techs:
        techs_service.add(first, str(t["name"]), capacity=1000, zone="north", skills=["hvac"])
    for s in specs:
        rng = random.Random(int(str(s["i"])))
        for k in range(2):
            tickets.create(envs[str(s["name"])], fields(k, rng))
    for s in (disps[0], *techs, *disps[1:]):  # the roster first
        sync(str(s["name"]))
    for s in disps:
        env, serves = envs[str(s["name"])], dict(s["serves"])  # type: ignore[call-overload]
        sync(str(s["name"]))
        for (key,) in env.store.db.execute("SELECT key FROM tickets WHERE status = 'new' ORDER BY key").fetchall():
            if key.split("-")[0] in serves:
                tickets.assign(env, key, serves[key.split("-")[0]])
        sync(str(s["name"]))
    for s in specs:
        sync(str(s["name"]))
        envs[str(s["name"])].close()
    log(f"  {len(specs)} devices set up ({len(techs)} technicians, {len(disps)} dispatchers);"
        f" {sum(map(len, made.values()))} mutations so far")
    return made


def device_actions(env: Env, spec: dict[str, object], rng: random.Random) -> None:
    """1-3 local actions, as a technician or a dispatcher would make them between syncs."""
    db, name = env.store.db, str(spec["name"])
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if spec["role"] == "technician":
            mine = db.execute("SELECT key, status FROM tickets WHERE assignee = ? AND status IN ('assigned', 'in_progress')"
                              " ORDER BY key", (name,)).fetchall()
            if mine and roll < 0.85:
                key, status = rng.choice(mine)
                if roll < 0.55 or (status == "in_progress" and len(mine) == 1):  # keep one ticket to work on
                    tickets.note(env, key, f"on site: checked the unit, {rng.choice(FAULTS)} again")
                elif status == "assigned":
                    tickets.start(env, key)
                else:
                    tickets.resolve(env, key, "replaced the faulty part; tested")
                continue
        else:
            serves = dict(spec["serves"])  # type: ignore[call-overload]
            new = [k for (k,) in db.execute("SELECT key FROM tickets WHERE status = 'new' ORDER BY key") if k.split("-")[0] in serves]
            if new and roll < 0.5:
                tickets.assign(env, new[0], serves[new[0].split("-")[0]])
                continue
            if roll < 0.85:
                (key,) = rng.choice(db.execute("SELECT key FROM tickets WHERE status != 'cancelled'").fetchall())
                tickets.note(env, key, "called the customer: a visit is booked")
                continue
        tickets.create(env, fields(rng.randint(0, 10**6), rng))


def device_worker(specs: list[dict[str, object]], t_start: Any, go: Any, ready: Any, out: Any, duration: float) -> None:
    """One client process: a thread per device, each syncing every ROUND_S seconds
    (first at a random phase) with 1-3 local actions before each sync. Puts its
    figures on ``out``."""
    lat: list[tuple[str, float]] = []
    fails: list[str] = []
    made: dict[str, list[str]] = {str(s["name"]): [] for s in specs}
    counts = {"rejected": 0, "refused": 0, "pulled": 0, "unsettled": 0}
    lock = threading.Lock()
    opened = threading.Barrier(len(specs) + 1)
    release = threading.Event()

    def device(spec: dict[str, object]) -> None:
        name = str(spec["name"])
        try:
            env = make_env(Path(str(spec["home"])), name)
            env.store  # noqa: B018  (opened before the clock starts)
        except Exception as e:  # noqa: BLE001
            fails.append(f"{name}: cannot open its store: {e!r}")
            opened.abort()
            return
        rng = random.Random(1000 + int(str(spec["i"])))
        phase = rng.uniform(0, ROUND_S)
        opened.wait()
        release.wait()
        at, end = t_start.value + phase, t_start.value + duration
        while at < end:
            time.sleep(max(0.0, at - time.time()))
            env.__dict__.pop("now", None)  # each round's actions at their own time
            try:
                device_actions(env, spec, rng)
            except TicketctlError as e:  # the local rules said no: not expected with these actions
                with lock:
                    counts["refused"] += 1
                    fails.append(f"{name}: local action refused: {e}")
            except Exception as e:  # noqa: BLE001
                with lock:
                    fails.append(f"{name}: local action failed: {e!r}")
            made[name] += pending_ids(env)
            t0 = time.perf_counter()
            try:
                r = client.sync(env)
            except Exception as e:  # noqa: BLE001
                with lock:
                    fails.append(f"{name}: sync failed: {type(e).__name__}: {e}")
            else:
                with lock:
                    lat.append((spec["role"], time.perf_counter() - t0))  # type: ignore[arg-type]
                    counts["rejected"] += len(r["rejected"])
                    counts["pulled"] += r["pulled"]
            at += ROUND_S
        with lock:
            counts["unsettled"] += env.store.db.execute("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sent')").fetchone()[0]
        env.close()

    threads = [threading.Thread(target=device, args=(s,), daemon=True) for s in specs]
    for t in threads:
        t.start()
    try:
        opened.wait()
    except threading.BrokenBarrierError:
        release.set()
    ready.put(os.getpid())
    go.wait()
    cpu0 = time.process_time()
    release.set()
    for t in threads:
        t.join()
    out.put({"lat": lat, "fails": fails, "made": made, "cpu": time.process_time() - cpu0, **counts})


def bench_devices(server: Server, root: Path, n: int, ndev: int, nproc: int, duration: float) -> list[tuple]:
    load(server, n)
    specs = device_specs(ndev, root)
    made = {k: set(v) for k, v in setup_devices(server, specs).items()}
    ctx = mp.get_context("spawn")  # fresh interpreters: no threads or connections inherited
    t_start, go, ready, out = ctx.Value("d", 0.0), ctx.Event(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=device_worker, args=(specs[p::nproc], t_start, go, ready, out, duration), daemon=True)
             for p in range(nproc)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=300)
    log(f"  {ndev} devices in {nproc} processes: syncing every {ROUND_S:.0f} s for {duration:.0f} s ...")
    t_start.value = time.time() + 1.0
    time.sleep(max(0.0, t_start.value - time.time()))
    w0, scpu0, pcpu0 = time.perf_counter(), server.cpu_s(), pg_cpu(server.db)
    go.set()
    got = [out.get(timeout=duration + 600) for _ in procs]
    wall = time.perf_counter() - w0
    scpu, pcpu1 = server.cpu_s() - scpu0, pg_cpu(server.db)
    pcpu = sum(v - pcpu0.get(pid, 0.0) for pid, v in pcpu1.items())
    for p in procs:
        p.join(30)
    lat = [d for g in got for _role, d in g["lat"]]
    fails = [f for g in got for f in g["fails"]]
    total = {k: sum(g[k] for g in got) for k in ("rejected", "refused", "pulled", "unsettled")}
    for g in got:
        for name, ids in g["made"].items():
            made[name].update(ids)
    for f in fails[:5]:
        log(f"  {f}")
    # the check: every mutation a device made has exactly one result on the server
    eng = engine_for(server.db)
    with eng.connect() as c:
        have: dict[str, list[str]] = {name: [] for name in made}
        for dev, mid in c.execute(select(S.results.c.device, S.results.c.mutation_id).where(S.results.c.device.in_(list(made)))):
            have[dev].append(mid)
    eng.dispose()
    n_made, n_res = sum(map(len, made.values())), sum(map(len, have.values()))
    wrong = [name for name in made if len(have[name]) != len(set(have[name])) or set(have[name]) != made[name]]
    check = (f"{n_made:,} mutations made by the devices, {n_res:,} results on the server:"
             + (" exactly one each" if not wrong else f" MISMATCH on {len(wrong)} devices, e.g. {wrong[:3]}")
             + (f"; {total['unsettled']} left unconfirmed in the stores" if total["unsettled"] else ""))
    log(f"  check: {check}")
    if wrong or total["unsettled"]:
        PROBLEMS.append(f"devices: {check}")
    if fails:
        PROBLEMS.append(f"devices: {len(fails)} failed syncs or local actions, e.g. {fails[0]}")
    if not lat:
        raise RuntimeError("devices: no sync finished")
    ms = sorted(x * 1000 for x in lat)
    by_role = {r: statistics.median([d for g in got for role, d in g["lat"] if role == r]) * 1000
               for r in ("technician", "dispatcher") if any(role == r for g in got for role, _d in g["lat"])}
    label = f"{ndev} devices / 30 s, {n:,} tickets"
    failed = sum(1 for f in fails if ": sync failed:" in f)
    cpu = (f"CPU over {wall:.0f} s: clients {sum(g['cpu'] for g in got) / wall:.0%}, server {scpu / wall:.0%},"
           f" PostgreSQL {pcpu / wall:.0%} ({len(pcpu1)} backends) of a core")
    log(f"  {len(ms)} syncs: p50 {pct(ms, 0.5):.0f} ms, p99 {pct(ms, 0.99):.0f} ms, {failed} failed")
    return [("devices: sync p50", pct(ms, 0.5), "ms", None,
             f"{label}: {len(ms)} syncs in {duration:.0f} s ({len(ms) / duration:.2f}/s), {failed} failed; median technician"
             f" {by_role.get('technician', 0):.0f} ms, dispatcher {by_role.get('dispatcher', 0):.0f} ms"),
            ("devices: sync p95", pct(ms, 0.95), "ms", None, f"{total['pulled'] / len(ms):.0f} events pulled per sync;"
             f" {total['rejected']} mutations rejected, {total['refused']} refused locally"),
            ("devices: sync p99", pct(ms, 0.99), "ms", None, cpu),
            ("devices: sync max", ms[-1], "ms", None, f"check: {check}")]


WATCH_PER_PROC = 50  # watcher threads per helper process
WATCH_POKE_S = 2.0  # each watcher's long poll (GET /sync/pull?wait=2), client.watch's default, as `sync --watch` runs it
WATCH_GIVE_UP = 2  # a series stops after this many failed or timed-out syncs, so that the run stays bounded
WATCH_SERIES_S = 45.0  # ... and once it has taken this long with at least WATCH_MIN_RUNS runs
WATCH_MIN_RUNS = 3
WATCH_WARM_S = 60.0  # at most this long for the watchers' first syncs before the runs start
WATCH_SETTLE_S = 30.0  # at most this long for the watchers to catch up with a pushed note before the next run


def watcher_worker(specs: list[tuple[str, str]], counts: Any, errq: Any, ready: Any, poke_s: float) -> None:
    """One helper process: a thread per watcher device, each running ``client.watch`` (what
    ``ticketctl sync --watch`` runs) until the process is terminated. ``counts`` (shared with the
    bench): [watchers whose first sync is done, syncs done (on_result calls without an error),
    on_result errors (Unreachable), watchers whose watch ended on an exception]; the first few
    error messages go on ``errq``."""
    said = [0]
    lock = threading.Lock()

    def say(msg: str) -> None:
        with lock:
            said[0] += 1
            if said[0] <= 5:
                errq.put(msg)

    def watcher(name: str, home: str) -> None:
        first = [True]

        def on_result(r: dict[str, Any]) -> None:
            with counts.get_lock():
                if "error" in r:
                    counts[2] += 1
                else:
                    counts[1] += 1
                    if first[0]:
                        counts[0] += 1
                        first[0] = False
            if "error" in r:
                say(f"{name}: {r['error']}")

        try:
            client.watch(make_env(Path(home), name), on_result, poke_s=poke_s)
        except Exception as e:  # noqa: BLE001  (Refused, ServerError: the watch is over for this device)
            with counts.get_lock():
                counts[3] += 1
            say(f"{name}: watch ended: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=watcher, args=s, daemon=True) for s in specs]
    for t in threads:
        t.start()
        time.sleep(0.02)  # the devices come up over a second, not in one burst
    ready.put(os.getpid())
    for t in threads:
        t.join()


def procs_cpu_s(pids: list[int]) -> float:
    """CPU seconds used so far by these processes (from /proc; 0 for one that is gone)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(f[11]) + int(f[12])
    return total / tick


def server_mem_mb(server: Server) -> tuple[float, float]:
    """The server process's VmRSS and VmHWM (peak RSS), in MB (from /proc/PID/status)."""
    got = {}
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            got[k] = int(v.split()[0]) / 1024
    return got.get("VmRSS", 0.0), got.get("VmHWM", 0.0)


def bench_watchers(server: Server, root: Path, steps: list[int], runs: int, timeout: float) -> list[tuple]:
    """Issue 22's done-when: with W devices in ``sync --watch`` against one server process, another
    device's ``ticketctl sync`` stays within 2x of its time on an idle server. Each count in ``steps``
    adds watchers (threads running ``client.watch`` in helper processes) to those already watching."""
    load(server, HTTP_TICKETS)
    home, user = root / "measured", "meas"
    env, _ = join(home, user, server, "dispatcher", "MEAS")
    client.sync(env)  # bootstrapped from the server's snapshot, as a real device is
    # the watchers: technicians' devices that hold what a client bootstrapped now holds (the epoch, the
    # cursor at the high-water mark), so that 200 of them do not each fetch a snapshot while warming up
    t0 = time.perf_counter()
    epoch = httpx.get(f"{server.url}/health").json()["epoch"]
    eng = engine_for(server.db)
    with eng.connect() as c:
        high = high_water(c)
    eng.dispose()
    specs = [(f"watch{i:03d}", str(root / f"watch-{i}")) for i in range(max(steps))]

    def enrol(i: int) -> None:
        name, whome = specs[i]
        wenv, _ = join(Path(whome), name, server, "technician", "W" + chr(65 + i // 26) + chr(65 + i % 26))
        with wenv.store.transaction():
            wenv.store.set_meta(EPOCH, epoch)
            wenv.store.set_meta(CURSOR, str(high))
        wenv.close()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(enrol, range(len(specs))))
    log(f"  {len(specs)} watcher devices enrolled in {time.perf_counter() - t0:.1f} s")
    key = tickets.create(env, fields(0, random.Random(22)))["key"]  # after the watchers' cursor: they pull its creation
    client.sync(env)
    env.close()

    ctx = mp.get_context("spawn")  # fresh interpreters: no threads or connections inherited
    errq, ready = ctx.Queue(), ctx.Queue()
    procs: list[tuple[Any, Any]] = []  # (process, its counters)
    errors: list[str] = []

    def counts() -> list[int]:
        return [sum(c[k] for _p, c in procs) for k in range(4)]

    def drain() -> None:
        while True:
            try:
                errors.append(errq.get_nowait())
            except Exception:  # noqa: BLE001  (queue.Empty)
                return

    def series(variant: str, warm: bool, watching: int) -> dict[str, Any]:
        """``runs`` timed ``ticketctl sync`` processes of the measured device (after one untimed one
        when ``warm``); variant "note": each after an untimed ``ticketctl note KEY TEXT``, and then
        waits for the watchers to pull it."""
        secs: list[float] = []
        fails: list[str] = []
        herd: list[float] = []
        odd = 0  # runs that pushed other than expected (0 for "push-nothing", 1 for "note"): left over by a killed run
        c0, w0, cpu0, hcpu0 = counts(), time.perf_counter(), server.cpu_s(), procs_cpu_s([p.pid for p, _c in procs])
        for r in range(-1 if warm else 0, runs):
            if variant == "note":
                cli(["note", key, f"bench: checked on site, run {r}"], home, user)
            base, t_push = counts()[1], time.perf_counter()
            s, code, out, err = run_cli(["sync", "--json"], home, user, timeout)
            if code == 0 and json.loads(out)["pushed"] != (1 if variant == "note" else 0):
                odd += r >= 0
            why = "ok" if code == 0 else "TIMED OUT" if code is None else f"FAILED, exit {code}"
            tail = err.strip().splitlines()[-1][:200] if code != 0 and err.strip() else ""
            log(f"  sync ({variant}, {watching} watching) {'warm-up' if r < 0 else f'run {r + 1}'}: {s:.2f} s {why} {tail}")
            if variant == "note" and watching:
                live = counts()[0] - counts()[3]
                deadline = t_push + (WATCH_SETTLE_S if code == 0 else 10.0)
                while counts()[1] - base < live and time.perf_counter() < deadline:
                    time.sleep(0.05)
                if counts()[1] - base >= live:
                    herd.append(time.perf_counter() - t_push)
                time.sleep(0.2)
            if r < 0:
                continue
            secs.append(s)
            if code != 0:
                fails.append("timed out" if code is None else f"exit {code}")
                if len(fails) >= WATCH_GIVE_UP:
                    log(f"  sync ({variant}, {watching} watching): {len(fails)} failed, giving up after {len(secs)} runs")
                    break
            if len(secs) >= WATCH_MIN_RUNS and len(secs) < runs and time.perf_counter() - w0 > WATCH_SERIES_S:
                log(f"  sync ({variant}, {watching} watching): {time.perf_counter() - w0:.0f} s, stopping after {len(secs)} runs")
                break
        c1, wall = counts(), time.perf_counter() - w0
        drain()
        return {"secs": secs, "fails": fails, "herd": herd, "odd": odd, "syncs": c1[1] - c0[1], "errors": c1[2] - c0[2],
                "wall": wall, "cpu": (server.cpu_s() - cpu0) / wall,
                "hcpu": (procs_cpu_s([p.pid for p, _c in procs]) - hcpu0) / wall}

    def show(variant: str, watching: int, x: dict[str, Any]) -> str:
        xs = x["secs"]
        msg = (f"median {statistics.median(xs):.2f} s, p90 {pct(xs, 0.9):.2f} s over {len(xs)} runs"
               + (f", {len(x['fails'])} FAILED ({', '.join(x['fails'])})" if x["fails"] else ", none failed")
               + (f", {x['odd']} pushed a note a killed run had left queued" if x["odd"] else ""))
        if watching:
            msg += f"; {x['syncs']} watcher syncs, {x['errors']} watcher errors in {x['wall']:.0f} s"
            if variant == "note":
                msg += (f"; every watcher had synced {statistics.median(x['herd']):.1f} s (median) after the measured sync"
                        f" started, in {len(x['herd'])} of {len(xs)} runs" if x["herd"]
                        else f"; in no run had every watcher synced within {WATCH_SETTLE_S:.0f} s")
        return msg + f"; CPU: server {x['cpu']:.0%}" + (f", watchers {x['hcpu']:.0%}" if watching else "") + " of a core"

    out: list[tuple] = []
    res: dict[tuple[str, int], dict[str, Any]] = {}
    mem: dict[int, tuple[float, float]] = {}
    warmed: dict[int, str] = {}
    started = 0  # watchers running so far
    try:
        for variant in ("push-nothing", "note"):
            res[variant, 0] = series(variant, True, 0)
            log(f"  sync ({variant}), idle server: {show(variant, 0, res[variant, 0])}")
        mem[0] = server_mem_mb(server)
        for n in steps:
            add, started = specs[started:n], max(started, n)
            nproc = -(-len(add) // WATCH_PER_PROC)
            t0 = time.perf_counter()
            for k in range(nproc):
                shared = ctx.Array("q", 4)
                p = ctx.Process(target=watcher_worker, args=(add[k::nproc], shared, errq, ready, WATCH_POKE_S), daemon=True)
                p.start()
                procs.append((p, shared))
            for _ in range(nproc):
                ready.get(timeout=120)
            while counts()[0] + counts()[3] < n and time.perf_counter() - t0 < WATCH_WARM_S:
                time.sleep(0.2)
            time.sleep(WATCH_POKE_S + 0.5)  # the last ones are in their long poll now
            now = counts()
            warmed[n] = (f"{now[0]} of {n} watchers did their first sync in {time.perf_counter() - t0:.0f} s"
                         f" ({len(procs)} helper processes); {now[2]} watcher errors, {now[3]} watches ended")
            log(f"  {warmed[n]}")
            for variant in ("push-nothing", "note"):
                res[variant, n] = series(variant, False, n)
                log(f"  sync ({variant}), {n} watching: {show(variant, n, res[variant, n])}")
            mem[n] = server_mem_mb(server)
            log(f"  server RSS with {n} watching: {mem[n][0]:.0f} MB (peak {mem[n][1]:.0f} MB)")
    finally:
        for p, _c in procs:
            p.terminate()
        for p, _c in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join(5)
        drain()
    for e in errors[:5]:
        log(f"  watcher error: {e}")

    names = {"push-nothing": "(a) no push", "note": "(b) note"}
    for variant in ("push-nothing", "note"):
        idle = res[variant, 0]
        base = statistics.median(idle["secs"])
        out.append((f"watchers {names[variant]}: sync idle", base, "s", None,
                    f"whole `ticketctl sync`, no watcher: {show(variant, 0, idle)}"))
        for n in steps:
            x = res[variant, n]
            out.append((f"watchers {names[variant]}: sync, {n} watching", statistics.median(x["secs"]), "s", None, show(variant, n, x)))
        for n in steps:
            x = res[variant, n]
            ratio = statistics.median(x["secs"]) / base
            ok = None if variant == "note" else not x["fails"]
            note = (f"median with {n} watchers / median idle; p90 {pct(x['secs'], 0.9) / pct(idle['secs'], 0.9):.2f}x"
                    + (f"; {len(x['fails'])} of {len(x['secs'])} syncs failed (counted at their wall time)" if x["fails"] else ""))
            if variant == "note":
                note += "; the herd case: the note wakes every watcher at once (no bar)"
            else:
                note += "; issue 22: <= 2x with 200 watchers, no sync failing"
            out.append((f"watchers {names[variant]}: {n} watching/idle", ratio, "x",
                        2.0 if variant == "push-nothing" else None, note, ok))
    out.append(("watchers: server RSS idle", mem[0][0], "MB", None, f"VmRSS of the server process; peak (VmHWM) {mem[0][1]:.0f} MB"))
    for n in steps:
        out.append((f"watchers: server RSS, {n} watching", mem[n][0], "MB", None,
                    f"peak (VmHWM) {mem[n][1]:.0f} MB; {warmed[n]}"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, one run (smoke test)")
    ap.add_argument("--only", choices=MEASURES, help="one measure only")
    ap.add_argument("--backends", default="sqlite,pg", help="comma-separated: sqlite, pg (devices: pg only)")
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test",
                    help="PostgreSQL database (the server's tables in it are DROPPED first; devices makes its own beside it)")
    ap.add_argument("--runs", type=int,
                    help="runs of bootstrap and push (default 3, --quick 1); of each watchers series (default 9, --quick 3)")
    ap.add_argument("--tickets", type=int, help="server tickets for devices (default 1,000,000, --quick 20,000)")
    ap.add_argument("--duration", type=float, help="seconds the devices sync for (default 180, --quick 40)")
    ap.add_argument("--watchers", help="watchers: comma-separated counts of devices in `sync --watch`, ascending"
                    " (default 60,200; --quick 20)")
    ap.add_argument("--sync-timeout", type=float, default=30.0,
                    help="watchers: seconds before a measured `ticketctl sync` is killed and counted as timed out (30)")
    args = ap.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    n_tickets, n_notes = (5_000, 1_000) if args.quick else (100_000, 10_000)
    n_clients, warm, window = (8, 1.0, 5.0) if args.quick else (32, 3.0, 15.0)
    dev_tickets = args.tickets or (20_000 if args.quick else 1_000_000)
    n_devices, n_procs = (20, 2) if args.quick else (100, 4)
    duration = args.duration or (40.0 if args.quick else 180.0)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not set(backends) <= {"sqlite", "pg"}:
        ap.error("--backends takes sqlite and/or pg")
    try:
        steps = [int(x) for x in (args.watchers or ("20" if args.quick else "60,200")).split(",") if x.strip()]
    except ValueError:
        ap.error("--watchers takes counts like 60,200")
    if not steps or steps != sorted(set(steps)) or steps[0] < 1:
        ap.error("--watchers takes ascending counts like 60,200")
    watch_runs = args.runs or (3 if args.quick else 9)
    if dev_tickets <= HTTP_TICKETS:
        ap.error(f"--tickets must be more than {HTTP_TICKETS}")
    todo = [args.only] if args.only else list(MEASURES)
    root = Path(tempfile.mkdtemp(prefix="ticketctl-syncbench-"))
    rows: list[tuple[str, tuple]] = []
    failed = made_db = False
    try:
        for backend in backends:
            for what in todo:
                if what == "devices" and backend != "pg":
                    log(f"[{backend}] devices: PostgreSQL only, skipped")
                    continue
                if what == "watchers" and backend != "sqlite":
                    log(f"[{backend}] watchers: SQLite only (one server process), skipped")
                    continue
                log(f"[{backend}] {what} ...")
                if what == "devices":
                    db, made_db = device_db(args.pg_url), True
                else:
                    db = fresh_db(backend, root, f"{backend}-{what}", args.pg_url)
                server = Server(db, WORKERS[backend], root, f"{backend}-{what}")
                try:
                    if what == "bootstrap":
                        load(server, n_tickets)
                        got = bench_bootstrap(server, root, n_tickets, runs)
                    elif what == "push":
                        got = bench_push(server, root, n_notes, runs)
                    elif what == "roundtrips":
                        got = bench_roundtrips(server, root, n_clients, warm, window)
                    elif what == "watchers":
                        got = bench_watchers(server, root, steps, watch_runs, args.sync_timeout)
                    else:
                        got = bench_devices(server, root, dev_tickets, n_devices, n_procs, duration)
                finally:
                    server.stop()
                rows += [(f"{backend} (--workers {WORKERS[backend]})", r) for r in got]
    except Exception as e:  # noqa: BLE001  (the figures so far are still printed)
        log(f"bench: FAILED: {type(e).__name__}: {e}")
        failed = True
    finally:
        for s in list(SERVERS):
            s.stop()
        if made_db:
            drop_device_db(args.pg_url)
        shutil.rmtree(root, ignore_errors=True)
    for p in PROBLEMS:
        log(f"bench: FAILED: {p}")
    failed = failed or bool(PROBLEMS)

    print(f"\n{'measure':<40} {'server':<20} {'figure':>10} {'budget':>8}  {'verdict':<7}  note")
    missed = 0
    for label, (name, value, unit, budget, note, *ok) in rows:  # ok: [False] misses the budget whatever the value
        verdict = "-" if budget is None else ("met" if value <= budget and ok != [False] else "MISSED")
        missed += verdict == "MISSED"
        fig = f"{value:.2f} {unit}" if unit in ("s", "x") else f"{value:.1f} {unit}"
        print(f"{name:<40} {label:<20} {fig:>10} {f'<= {budget:g} {unit}' if budget else '-':>8}  {verdict:<7}  {note}")
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
          " (other work on the machine slows every figure)")
    print("\nall budgets met" if not missed else f"\n{missed} budget(s) MISSED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Sync benchmark: bootstrap, offline push, concurrent round trips (run by hand, not in CI).

    .venv/bin/python bench/sync.py [--quick] [--only bootstrap|push|roundtrips] [--backends sqlite,pg]
                                   [--pg-url postgresql://postgres@127.0.0.1:5432/test] [--runs 3]

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

Servers: ``ticketctl server run`` subprocesses on free 127.0.0.1 ports (SQLite: --workers 1, the
database takes one writer at a time anyway; PostgreSQL: --workers 2, one per core), killed at the
end, also on error. Every PostgreSQL run starts clean: the server's tables (server_meta, counters,
devices, events, results, tickets, technicians, blobs) are DROPPED in the --pg-url database first.

Loading 100,000 tickets (setup, not timed against a budget): 20 technicians and the first 2,000
tickets (create, and an assign for 3 in 10) go through the running server's POST /sync/push like
any device's work; the rest is written straight into the server's tables in one transaction, as
the same service rules fold them (``core.workflow`` decide_create/decide_assign/fold), with their
events and results, because the server takes ~2.5 ms per mutation (over 4 minutes for 100k). The
script checks that a bulk-built ticket equals the one the server built from the same fields.

--quick: 5,000 tickets, 1,000 notes, 8 clients for 5 s, 1 run (a smoke run, not the figures).
Progress goes to stderr, the table to stdout; the exit code is 1 only if something fails.
"""
from __future__ import annotations

import argparse
import json
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
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select, text, update

from ticketctl.core import workflow
from ticketctl.core.model import Event
from ticketctl.home import load_config
from ticketctl.services import tickets
from ticketctl.services.env import Env
from ticketctl.sync import admin, client
from ticketctl.sync import schema as S
from ticketctl.sync.serverdb import _json, engine_for, lock_sequence, tech_from_json

sys.path.insert(0, str(Path(__file__).resolve().parent))
from budget import ticketctl  # noqa: E402

PG_TABLES = ("server_meta", "counters", "devices", "events", "results", "tickets", "technicians", "blobs")
WORKERS = {"sqlite": 1, "pg": 2}
HTTP_TICKETS = 2000
DEPTS = ("facilities", "it", "fleet", "kitchen", "lab", "retail", "security", "warehouse")
PRODUCTS = ("hvac", "laptop", "printer", "van", "oven", "fridge", "badge", "forklift", "lift", "pump")
FAULTS = ("noise", "leak", "no-power", "broken", "slow", "error-code")
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
SERVERS: list[Server] = []


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
    token = admin.add_device(server.db, user, role)["token"]
    env = make_env(home, user)
    with env.store.transaction():
        env.store.set_meta("key_prefix", prefix)
    client.setup(env, server.url, token)
    return env, token


def cli(args: list[str], home: Path, user: str) -> tuple[float, str]:
    """One whole ticketctl process: (wall seconds, stdout); exits if it fails."""
    env = {**BASE_ENV, "TICKETCTL_HOME": str(home), "TICKETCTL_USER": user}
    t0 = time.perf_counter()
    p = subprocess.run([ticketctl(), *args], env=env, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"ticketctl {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()[-1500:]}")
    return secs, p.stdout


def fields(i: int, rng: random.Random) -> dict[str, object]:
    dept, product = rng.choice(DEPTS), rng.choice(PRODUCTS)
    return {"title": f"{product} {rng.choice(FAULTS)} in {dept} #{i}", "type": rng.choice(("repair", "install", "inspect")),
            "dept": dept, "product": product, "fault": rng.choice(FAULTS), "priority": rng.choice(("urgent", "high", "medium", "low")),
            "description": "Reported by the site: " + " ".join(rng.choice(("unit", "fails", "after", "restart", "again", "noisy"))
                                                              for _ in range(rng.randint(5, 25))),
            "zone": rng.choice(("north", "south", "east", "west")), "customer": f"Customer {rng.randint(1, 5000)}",
            "phone": f"+1 555 {rng.randint(1000000, 9999999)}", "channel": rng.choice(("phone", "email", "portal"))}


def plan(n: int, techs: list[str], seed: int = 1) -> list[tuple[str, dict[str, object], str | None, str]]:
    """(key, fields, assignee or None, client_ts) for n tickets, one a minute up to an hour ago."""
    rng, start = random.Random(seed), datetime.now(UTC) - timedelta(hours=1, minutes=n)
    return [(f"LOAD-{i + 1}", fields(i, rng), techs[i % len(techs)] if i % 10 < 3 else None, iso(start + timedelta(minutes=i)))
            for i in range(n)]


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
        evs += [{"seq": e.device_seq, "id": e.id, "mutation_id": mid, "ticket": key, "type": e.type, "payload": _json(e.payload),
                 "actor": "loader", "device": "loader", "at": at} for e in batch]
        seq += 1
        res.append({"seq": seq, "device": "loader", "client_seq": cseq, "mutation_id": mid, "name": name, "status": "applied",
                    "reason": None, "at": at})
        cseq += 1
    row = {"key": key, "status": t.status, "assignee": t.assignee, "updated_at": t.updated_at, "data": _json(asdict(t)), "seq": last}
    return row, evs, res, seq, cseq


def load(server: Server, n: int) -> None:
    """Fill the server with n tickets (see the module doc)."""
    token = admin.add_device(server.db, "loader", "dispatcher")["token"]
    http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=600)
    http.post("/sync/hello", json={"prefix": "LOAD"}).raise_for_status()
    techs = [f"tech{i:02d}" for i in range(20)]
    todo = plan(n, techs)
    muts = [("tech.add", {"name": t, "capacity": 10**6, "zone": "north", "skills": ["hvac"]}, iso(datetime.now(UTC))) for t in techs]
    for key, flds, tech, at in todo[:HTTP_TICKETS]:
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
    with eng.begin() as c:
        staff = {r[0]: tech_from_json(r[1]) for r in c.execute(select(S.technicians.c.name, S.technicians.c.data))}
        key, flds, tech, at = todo[0]  # the check: the bulk rows are the server's rows
        made = json.loads(c.execute(select(S.tickets.c.data).where(S.tickets.c.key == key)).scalar_one())
        mine = json.loads(build(cfg, key, flds, staff.get(tech), at, 0, 1)[0]["data"])
        if made != mine:
            raise RuntimeError(f"bulk rows differ from the server's: {[k for k in made if made[k] != mine.get(k)]}")
        seq = lock_sequence(c)
        cseq = int(c.execute(select(S.devices.c.last_client_seq).where(S.devices.c.name == "loader")).scalar_one()) + 1
        for b in range(HTTP_TICKETS, n, 10_000):
            rows, evs, res = [], [], []
            for key, flds, tech, at in todo[b:b + 10_000]:
                row, e, r, seq, cseq = build(cfg, key, flds, staff.get(tech), at, seq, cseq)
                rows.append(row), evs.extend(e), res.extend(r)
            c.execute(insert(S.tickets), rows)
            c.execute(insert(S.events), evs)
            c.execute(insert(S.results), res)
        c.execute(update(S.counters).where(S.counters.c.name == "seq").values(value=seq))
        c.execute(update(S.devices).where(S.devices.c.name == "loader").values(last_client_seq=cseq - 1))
        count = c.execute(select(text("count(*)")).select_from(S.tickets)).scalar_one()
    eng.dispose()
    log(f"  bulk-loaded {max(0, n - HTTP_TICKETS)} tickets in {time.perf_counter() - t0:.1f} s; server holds {count}")


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, one run (smoke test)")
    ap.add_argument("--only", choices=("bootstrap", "push", "roundtrips"), help="one measure only")
    ap.add_argument("--backends", default="sqlite,pg", help="comma-separated: sqlite, pg")
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test",
                    help="PostgreSQL database (the server's tables in it are DROPPED first)")
    ap.add_argument("--runs", type=int, help="runs of bootstrap and push (default 3, --quick 1)")
    args = ap.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    n_tickets, n_notes = (5_000, 1_000) if args.quick else (100_000, 10_000)
    n_clients, warm, window = (8, 1.0, 5.0) if args.quick else (32, 3.0, 15.0)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not set(backends) <= {"sqlite", "pg"}:
        ap.error("--backends takes sqlite and/or pg")
    todo = [args.only] if args.only else ["bootstrap", "push", "roundtrips"]
    root = Path(tempfile.mkdtemp(prefix="ticketctl-syncbench-"))
    rows: list[tuple[str, tuple]] = []
    failed = False
    try:
        for backend in backends:
            for what in todo:
                log(f"[{backend}] {what} ...")
                server = Server(fresh_db(backend, root, f"{backend}-{what}", args.pg_url), WORKERS[backend], root, f"{backend}-{what}")
                try:
                    if what == "bootstrap":
                        load(server, n_tickets)
                        got = bench_bootstrap(server, root, n_tickets, runs)
                    elif what == "push":
                        got = bench_push(server, root, n_notes, runs)
                    else:
                        got = bench_roundtrips(server, root, n_clients, warm, window)
                finally:
                    server.stop()
                rows += [(f"{backend} (--workers {WORKERS[backend]})", r) for r in got]
    except Exception as e:  # noqa: BLE001  (the figures so far are still printed)
        log(f"bench: FAILED: {type(e).__name__}: {e}")
        failed = True
    finally:
        for s in list(SERVERS):
            s.stop()
        shutil.rmtree(root, ignore_errors=True)

    print(f"\n{'measure':<40} {'server':<20} {'figure':>10} {'budget':>8}  {'verdict':<7}  note")
    missed = 0
    for label, (name, value, unit, budget, note) in rows:
        verdict = "-" if budget is None else ("met" if value <= budget else "MISSED")
        missed += verdict == "MISSED"
        fig = f"{value:.2f} {unit}" if unit == "s" else f"{value:.1f} {unit}"
        print(f"{name:<40} {label:<20} {fig:>10} {'<= ' + str(int(budget)) + ' s' if budget else '-':>8}  {verdict:<7}  {note}")
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
          " (other work on the machine slows every figure)")
    print("\nall budgets met" if not missed else f"\n{missed} budget(s) MISSED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

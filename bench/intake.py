"""Intake benchmark: alerts per second the server takes (goal: >= 500/s on SQLite, concurrent posts). Run by hand, not in CI.

    .venv/bin/python bench/intake.py [--quick] [--backends sqlite,pg] [--pg-url postgresql://postgres@127.0.0.1:5432/test]
                                     [--clients 16] [--duration 20] [--batch 10] [--client threads|async]
                                     [--doors alertmanager,webhook]

What is measured: ``POST /intake/alertmanager`` of a real ``ticketctl server run`` subprocess on a
free 127.0.0.1 port (SQLite: --workers 1, the database takes one writer at a time anyway;
PostgreSQL: --workers 2, one per core), with a fresh database, the source ``prometheus`` (``admin.
add_source``, kind alertmanager; its token as ``Authorization: Bearer``) and a config.toml with
four label rules (``intake.alert_rules``), as a team that routes its alerts would have.

* Load: --clients (16) concurrent clients in this process, each posting one request after the
  other. Each request is an Alertmanager notification (webhook version 4: groupKey, groupLabels,
  commonLabels, commonAnnotations, externalURL...) of ONE alert: the honest unit, since
  Alertmanager sends one notification per alert group and a group is often one alert. A second
  run on a fresh server posts --batch (10) alerts per request, grouped by alertname as
  Alertmanager groups them. Each alert is new (a fingerprint never posted: it opens a ticket) 7
  times in 10 and a repeat 3 times in 10 (the same alert again, labels, fingerprint and startsAt,
  as Alertmanager resends a firing alert: it notes the open ticket); a repeat is drawn from the
  alerts whose ticket the server has confirmed, so it always finds one open. The alerts look like
  a monitored estate's: node, Kubernetes, blackbox, PostgreSQL, SNMP (OLT uplinks, UPSes) alerts
  with instance/job/severity/team/region/service labels, a summary, a description and a runbook
  URL; the fingerprint is a hash of the labels, as Alertmanager's is.
* Signed webhooks (``--doors ...,webhook``, on by default): a third run on a fresh server posts
  the same alerts one per request to ``POST /intake/webhook/shop`` as a generic JSON webhook
  (title, description, priority, product, ``id`` = the fingerprint: a repeat notes the open
  ticket), each delivery signed when it is sent (``X-Ticketctl-Timestamp``, ``X-Signature-256``
  over ``"{timestamp}.{body}"``) and carrying a delivery id of its own, as a real sender's event
  does, so that no two are the same delivery. This run pays for the signature, the window and
  the replay check (``webhook_deliveries``); it has no goal of its own.
* The clients are one thread per client, each with its own ``httpx.Client`` (keep-alive: one
  connection each; ``--client threads``, the default), or one asyncio loop with an
  ``httpx.AsyncClient`` whose pool keeps one connection per client (``--client async``). Threads
  load the server at least as hard and cost the client side less: over six alternating 10 s runs
  of 16 clients, 186 against 173 alerts/s on average, at ~21% against ~30% of a core (httpx's
  async stack costs more per request than its blocking one, and the server is the bottleneck
  either way).
* Figures: after a warm-up (3 s; --quick 1 s) of the same load, over a timed window (--duration,
  20 s; --quick 5 s): alerts accepted per second (in requests answered 200 that finished in the
  window), requests per second, request latency p50 and p99 (post to answer), and the errors:
  any answer but 200, any transport error, or an answer whose ``opened``/``noted`` do not match
  the request's new alerts and repeats fails the run (exit code 1). The CPU the clients (this
  process), the server (its process and workers) and PostgreSQL (the server database's backends)
  used over the window is printed with the figures, since they share the machine's cores.
* The check after each run, from the server's database read directly: one ticket per distinct
  fingerprint accepted (``tickets``, ``intake_refs``: one ref per fingerprint, each to its own
  ticket, and one ``ticket.created`` event each), and one ``ticket.noted`` event per accepted
  repeat; a mismatch fails the run.

PostgreSQL (``--backends sqlite,pg``): each run's server gets a throwaway database, ``bench_intake``,
made beside --pg-url's (dropped first if a run left one behind) and dropped at the end: the
--pg-url database itself is only connected to, to create and drop it.

Progress goes to stderr, the table to stdout; the exit code is 1 only if something fails (an
error, a wrong answer, a check that does not add up), not when the goal is missed.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ticketctl.server import admin
from ticketctl.server.store.engine import engine_for

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync import SERVERS, Server, log, pct, pg_cpu  # noqa: E402

GOAL = 500.0  # alerts/s on SQLite, one alert per request
WORKERS = {"sqlite": 1, "pg": 2}
SOURCE = "prometheus"
PATH = "/intake/alertmanager"
HOOK = "shop"  # the webhook run's source
HOOK_PATH = f"/intake/webhook/{HOOK}"
PRIORITY = {"critical": "urgent", "major": "high", "error": "high", "warning": "medium"}
REPEAT_SHARE = 0.3
TIMEOUT = 60.0
PG_DB = "bench_intake"  # the PostgreSQL runs' own database, made and dropped by the run
RULES = """
[intake.alert_rules.fibre]
order = 1
match = { team = "fibre|ftth" }
dept = "network"
product = "fibre"

[intake.alert_rules.power]
order = 2
match = { alertname = "Ups.*|Pdu.*" }
dept = "facilities"
product = "ups"

[intake.alert_rules.database]
order = 3
match = { team = "dba", severity = "critical|major" }
dept = "it"
product = "postgres"

[intake.alert_rules.platform]
order = 4
match = { team = "platform|infra", env = "prod" }
dept = "it"
"""
# alertname, job, severity, team, service, summary, description, expression
KINDS = (
    ("NodeHighCPU", "node", "warning", "infra", "compute", "CPU above 90% on {instance}",
     "5m average CPU busy is {value}% for 10 minutes; load {load} on {cores} cores.",
     '100 - avg by (instance) (rate(node_cpu_seconds_total{{mode="idle"}}[5m])) * 100 > 90'),
    ("NodeFilesystemAlmostFull", "node", "critical", "infra", "storage", "{mountpoint} on {instance} is {value}% full",
     "Filesystem {mountpoint} ({device}) has {free} GiB left and will fill within 4 hours at the current rate.",
     'predict_linear(node_filesystem_avail_bytes{{mountpoint="{mountpoint}"}}[6h], 4*3600) < 0'),
    ("KubePodCrashLooping", "kube-state-metrics", "critical", "platform", "checkout", "Pod {namespace}/{pod} is crash looping",
     "Pod {namespace}/{pod} (container {container}) restarted {restarts} times in the last 15 minutes.",
     'increase(kube_pod_container_status_restarts_total{{namespace="{namespace}"}}[15m]) > 3'),
    ("ProbeFailed", "blackbox", "error", "web", "storefront", "{target} is not answering",
     "HTTP probe of {target} failed from {region} for 3 minutes (status {code}).",
     'probe_success{{job="blackbox",instance="{target}"}} == 0'),
    ("PostgresReplicationLag", "postgres", "major", "dba", "billing", "Replica {instance} is {value} s behind",
     "Streaming replica {instance} lags its primary by {value} s; reads from it are stale.",
     "pg_replication_lag_seconds > 30"),
    ("OltUplinkDown", "snmp", "critical", "fibre", "ftth", "OLT {olt} uplink {port} down",
     "No light on uplink port {port} of OLT {olt} for 5 minutes; {subs} subscribers behind it.",
     'ifOperStatus{{job="snmp",ifName="{port}"}} == 2'),
    ("UpsOnBattery", "snmp", "critical", "facilities", "power", "UPS {ups} in {site} is on battery",
     "UPS {ups} switched to battery at {site}; {minutes} minutes of runtime left at the current load.",
     "upsOutputSource == 5"),
)
KIND_OF = {k[0]: i for i, k in enumerate(KINDS)}
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "ap-southeast-1")
SITES = ("dc1-hall-a", "dc1-hall-b", "dc2", "pop-north", "pop-south")


def alert_for(n: int, kind: int, rng: random.Random, at: datetime) -> dict[str, Any]:
    """The n-th distinct alert, of KINDS[kind], on its own target (so its own labels and fingerprint)."""
    name, job, severity, team, service, summary, description, expr = KINDS[kind]
    region, site = rng.choice(REGIONS), rng.choice(SITES)
    v = {"instance": f"{job}-{n:06d}.{region}.internal:9100", "value": rng.randint(31, 99), "load": round(rng.uniform(8, 64), 1),
         "cores": rng.choice((8, 16, 32)), "mountpoint": rng.choice(("/", "/var", "/srv/data")), "device": "/dev/nvme0n1p2",
         "free": rng.randint(1, 20), "namespace": rng.choice(("shop", "payments", "search")), "pod": f"api-{n:06d}-7f9c",
         "container": "api", "restarts": rng.randint(4, 30), "target": f"https://shop-{n:06d}.example.com/health",
         "region": region, "code": rng.choice((0, 502, 503, 504)), "olt": f"olt-{n:06d}", "port": f"xe-0/0/{rng.randint(0, 7)}",
         "subs": rng.randint(50, 900), "ups": f"ups-{n:06d}", "site": site, "minutes": rng.randint(3, 40)}
    labels = {"alertname": name, "job": job, "severity": severity, "team": team, "service": service, "env": "prod",
              "region": region, "instance": str(v["instance"]), "prometheus": f"monitoring/k8s-{region}"}
    if job == "kube-state-metrics":
        labels |= {"namespace": str(v["namespace"]), "pod": str(v["pod"]), "container": "api"}
    elif job == "node" and "mountpoint" in summary:
        labels |= {"mountpoint": str(v["mountpoint"]), "device": str(v["device"]), "fstype": "ext4"}
    elif job == "snmp":
        labels |= {"site": site}
    return {
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": summary.format(**v), "description": description.format(**v),
                        "runbook_url": f"https://runbooks.example.com/alerts/{name.lower()}"},
        "startsAt": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond:06d}123Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus.{region}.internal:9090/graph?g0.expr={quote(expr.format(**v))}&g0.tab=1",
        "fingerprint": hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16],
    }


def notification(alerts: list[dict[str, Any]]) -> bytes:
    """Alertmanager's webhook body (version 4) for a group of alerts of one alertname."""
    common = {k: v for k, v in alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in alerts)}
    notes = {k: v for k, v in alerts[0]["annotations"].items() if all(a["annotations"].get(k) == v for a in alerts)}
    group = {"alertname": alerts[0]["labels"]["alertname"]}
    return json.dumps({
        "version": "4", "groupKey": '{}/{team=~".+"}:{alertname="' + group["alertname"] + '"}', "truncatedAlerts": 0,
        "status": "firing", "receiver": "ticketctl", "groupLabels": group, "commonLabels": common, "commonAnnotations": notes,
        "externalURL": "http://alertmanager.monitoring.internal:9093", "alerts": alerts,
    }).encode()


def webhook(alert: dict[str, Any], delivery: int) -> bytes:
    """One alert as a generic JSON webhook (``server.intake.doors.WebhookPayload``), its fingerprint as the ``id``;
    ``delivery`` (a field the server ignores) makes each delivery of it a body of its own."""
    labels, notes = alert["labels"], alert["annotations"]
    return json.dumps({"title": notes["summary"], "id": alert["fingerprint"], "description": notes["description"],
                       "priority": PRIORITY.get(labels["severity"], "low"), "product": labels["service"],
                       "delivery": f"evt_{delivery:09d}"}).encode()


def signed(token: str, body: bytes) -> dict[str, str]:
    """The headers of a webhook delivery signed now."""
    at = str(int(time.time()))
    mac = hmac.new(token.encode(), at.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Ticketctl-Timestamp": at, "X-Signature-256": f"sha256={mac}"}


class Load:
    """The notifications the clients post (see the module doc) and what came back.
    ``next`` and ``answer`` are called by the clients (threads or tasks)."""

    def __init__(self, per_request: int, seed: int, door: str = "alertmanager"):
        self.per, self.rng, self.lock = per_request, random.Random(seed), threading.Lock()
        self.door = door
        self.t0 = datetime.now(UTC) - timedelta(hours=1)
        self.made = 0  # distinct alerts made so far
        self.requests = 0
        self.open: list[list[dict[str, Any]]] = [[] for _ in KINDS]  # by kind, the alerts whose ticket the server confirmed
        self.fps: set[str] = set()  # fingerprints accepted as new
        self.repeats = 0  # repeats accepted
        self.done: list[tuple[float, float, int]] = []  # (finished at, seconds, alerts) of each request answered right
        self.errors: list[str] = []

    def next(self) -> tuple[bytes, list[dict[str, Any]], int]:
        """A body, its new alerts and how many repeats it holds. One request is one
        group: all its alerts of one alertname, as Alertmanager groups them."""
        with self.lock:
            kind = self.requests % len(KINDS)
            self.requests += 1
            n_rep = min(sum(self.rng.random() < REPEAT_SHARE for _ in range(self.per)), len(self.open[kind]))
            repeats = self.rng.sample(self.open[kind], n_rep) if n_rep else []
            fresh = []
            for _ in range(self.per - n_rep):
                fresh.append(alert_for(self.made, kind, self.rng, self.t0 + timedelta(milliseconds=self.made)))
                self.made += 1
            if self.door == "webhook":
                return webhook((fresh + repeats)[0], self.requests), fresh, n_rep
        return notification(fresh + repeats), fresh, n_rep

    def answer(self, t0: float, t1: float, status: int, body: str, fresh: list[dict[str, Any]], n_rep: int) -> None:
        if status != 200:
            self.failed(f"HTTP {status}: {body[:300]}")
            return
        got = json.loads(body)
        if len(got.get("opened", ())) != len(fresh) or len(got.get("noted", ())) != n_rep:
            self.failed(f"posted {len(fresh)} new alerts and {n_rep} repeats, the server says {body[:300]}")
            return
        with self.lock:
            if fresh:
                self.open[KIND_OF[fresh[0]["labels"]["alertname"]]] += fresh
            self.fps.update(a["fingerprint"] for a in fresh)
            self.repeats += n_rep
            self.done.append((t1, t1 - t0, len(fresh) + n_rep))

    def failed(self, why: str) -> None:
        with self.lock:
            self.errors.append(why)


Sample = tuple[float, float, float, dict[int, float]]  # (perf_counter, this process's CPU, server CPU, PostgreSQL backends' CPU)


def sampler(server: Server, pg: bool) -> Callable[[], Sample]:
    def sample() -> Sample:
        return time.perf_counter(), time.process_time(), server.cpu_s(), pg_cpu(server.db) if pg else {}
    return sample


def door(load: Load, token: str) -> tuple[str, dict[str, str], Callable[[bytes], dict[str, str]]]:
    """Where the load posts, the client's headers, and each request's own (a webhook is signed as it is sent)."""
    if load.door == "webhook":
        return HOOK_PATH, {}, lambda body: signed(token, body)
    return PATH, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, lambda body: {}


def drive_async(server: Server, token: str, load: Load, nclients: int, t_start: float, t_end: float,
                sample: Callable[[], Sample]) -> list[Sample]:
    """Post from ``nclients`` tasks over one pooled AsyncClient until ``t_end``; sample the CPU at the window's edges."""
    marks: list[Sample] = []
    path, headers, own = door(load, token)

    async def main() -> None:
        limits = httpx.Limits(max_connections=nclients, max_keepalive_connections=nclients)
        async with httpx.AsyncClient(base_url=server.url, headers=headers, limits=limits, timeout=TIMEOUT) as http:
            async def client() -> None:
                while time.perf_counter() < t_end:
                    body, fresh, n_rep = load.next()
                    t0 = time.perf_counter()
                    try:
                        r = await http.post(path, content=body, headers=own(body))
                    except httpx.HTTPError as e:
                        load.failed(f"{type(e).__name__}: {e}")
                        await asyncio.sleep(0.1)
                        continue
                    load.answer(t0, time.perf_counter(), r.status_code, r.text, fresh, n_rep)

            async def clock() -> None:
                for at in (t_start, t_end):
                    await asyncio.sleep(max(0.0, at - time.perf_counter()))
                    marks.append(await asyncio.to_thread(sample))

            await asyncio.gather(clock(), *(client() for _ in range(nclients)))

    asyncio.run(main())
    return marks


def drive_threads(server: Server, token: str, load: Load, nclients: int, t_start: float, t_end: float,
                  sample: Callable[[], Sample]) -> list[Sample]:
    """Post from ``nclients`` threads, each with its own Client, until ``t_end``; sample the CPU at the window's edges."""
    path, headers, own = door(load, token)

    def client() -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=TIMEOUT) as http:
            while time.perf_counter() < t_end:
                body, fresh, n_rep = load.next()
                t0 = time.perf_counter()
                try:
                    r = http.post(path, content=body, headers=own(body))
                except httpx.HTTPError as e:
                    load.failed(f"{type(e).__name__}: {e}")
                    time.sleep(0.1)
                    continue
                load.answer(t0, time.perf_counter(), r.status_code, r.text, fresh, n_rep)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(nclients)]
    for t in threads:
        t.start()
    marks = []
    for at in (t_start, t_end):
        time.sleep(max(0.0, at - time.perf_counter()))
        marks.append(sample())
    for t in threads:
        t.join(TIMEOUT + 10)
    return marks


def check(db: str, load: Load) -> tuple[bool, str]:
    """The server's database against what was accepted: one ticket per fingerprint, one note per repeat."""
    eng = engine_for(db)
    with eng.connect() as c:
        keys = {str(k) for (k,) in c.execute(text("SELECT key FROM tickets"))}
        source = HOOK if load.door == "webhook" else SOURCE
        refs = {str(r): str(t) for r, t in c.execute(text("SELECT ref, ticket FROM intake_refs WHERE source = :s"), {"s": source})}
        kinds = {str(ty): int(n) for ty, n in c.execute(text("SELECT type, count(*) FROM events GROUP BY type"))}
    eng.dispose()
    created, noted = kinds.pop("ticket.created", 0), kinds.pop("ticket.noted", 0)
    ok = (set(refs) == load.fps and len(set(refs.values())) == len(refs) and set(refs.values()) == keys
          and created == len(load.fps) and noted == load.repeats and not kinds)
    return ok, (f"{len(load.fps):,} fingerprints accepted -> {len(keys):,} tickets, {len(refs):,} refs to {len(set(refs.values())):,}"
                f" tickets, {created:,} ticket.created; {load.repeats:,} repeats -> {noted:,} ticket.noted"
                + (f"; other events {kinds}" if kinds else "") + (": exactly one each" if ok else ": MISMATCH"))


@dataclass
class Run:
    per_request: int
    nclients: int
    warm: float
    window: float
    mode: str
    door: str = "alertmanager"


def bench(backend: str, db: str, root: Path, name: str, run: Run, problems: list[str]) -> list[tuple[str, float, str, float | None, str]]:
    """One fresh server, one load; the table's rows."""
    home = root / f"{name}-server-home"  # the home sync.Server gives the server: its config first
    home.mkdir(parents=True)
    (home / "config.toml").write_text(RULES)
    server = Server(db, WORKERS[backend], root, name)
    load, ok = Load(run.per_request, seed=run.per_request, door=run.door), False
    try:
        token = admin.add_source(db, HOOK, "webhook")["token"] if run.door == "webhook" else admin.add_source(
            db, SOURCE, "alertmanager")["token"]
        log(f"  {run.nclients} clients ({run.mode}), {run.per_request} alert(s) a request ({run.door}): warm-up {run.warm:.0f} s,"
            f" window {run.window:.0f} s ...")
        t_start = time.perf_counter() + run.warm
        t_end = t_start + run.window
        drive = drive_async if run.mode == "async" else drive_threads
        marks = drive(server, token, load, run.nclients, t_start, t_end, sampler(server, backend == "pg"))
        ok, checked = check(db, load)
    finally:
        server.stop()
        if load.errors or not ok:
            tail = Path(server.logf.name).read_text(errors="replace")[-1500:].strip()
            if tail:
                log(f"  the server's log ends:\n{tail}")
    (w0, c0, s0, p0), (w1, c1, s1, p1) = marks
    wall = w1 - w0
    inside = [(d, n) for at, d, n in load.done if t_start <= at <= t_end]
    if not inside:
        raise RuntimeError(f"{name}: no request finished in the window; errors: {load.errors[:3]}")
    rate = sum(n for _d, n in inside) / run.window
    ms = sorted(d * 1000 for d, _n in inside)
    cpu = f"CPU over the window: clients {(c1 - c0) / wall:.0%}, server {(s1 - s0) / wall:.0%}"
    if backend == "pg":
        cpu += f", PostgreSQL {sum(v - p0.get(pid, 0.0) for pid, v in p1.items()) / wall:.0%} ({len(p1)} backends)"
    cpu += " of a core"
    share = load.repeats / max(1, load.repeats + len(load.fps))
    log(f"  {rate:.1f} alerts/s ({len(inside) / run.window:.1f} requests/s), p50 {pct(ms, 0.5):.1f} ms, p99 {pct(ms, 0.99):.1f} ms,"
        f" {len(load.errors)} errors; {cpu}")
    log(f"  check: {checked}")
    if load.errors:
        log(f"  errors, e.g.: {load.errors[:3]}")
        problems.append(f"{name}: {len(load.errors)} errors, e.g. {load.errors[0]}")
    if not ok:
        problems.append(f"{name}: check: {checked}")
    per = f"{run.per_request} alert{'s' if run.per_request > 1 else ''}/request"
    if run.door == "webhook":
        per = "signed webhooks"
    judged = backend == "sqlite" and run.per_request == 1 and run.door == "alertmanager"
    return [(f"alerts/s, {per}, {run.nclients} clients", rate, "/s", GOAL if judged else None,
             f"{len(inside):,} requests in {run.window:.0f} s ({len(inside) / run.window:.1f}/s), {share:.0%} repeats;"
             f" {len(load.errors)} errors"),
            (f"  request p50, {per}", pct(ms, 0.5), "ms", None, cpu),
            (f"  request p99, {per}", pct(ms, 0.99), "ms", None, f"check: {checked}")]


def pg_admin(pg_url: str) -> Any:
    return create_engine(make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")


def fresh_pg(pg_url: str) -> str:
    """A new, empty PG_DB beside --pg-url's database (dropped first if a run left one behind)."""
    eng = pg_admin(pg_url)
    with eng.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
        c.execute(text(f"CREATE DATABASE {PG_DB}"))
    eng.dispose()
    return str(make_url(pg_url).set(database=PG_DB).render_as_string(hide_password=False))


def drop_pg(pg_url: str) -> None:
    eng = pg_admin(pg_url)
    with eng.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
    eng.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 5 s window after a 1 s warm-up (smoke test)")
    ap.add_argument("--backends", default="sqlite", help="comma-separated: sqlite, pg (default sqlite)")
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test",
                    help=f"PostgreSQL server: the runs use a database {PG_DB} made beside this one, and drop it")
    ap.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    ap.add_argument("--duration", type=float, help="seconds of the timed window (default 20, --quick 5)")
    ap.add_argument("--batch", type=int, default=10, help="alerts a request in the second run (default 10; 0: no second run)")
    ap.add_argument("--doors", default="alertmanager,webhook",
                    help="comma-separated: alertmanager (one alert a request, then --batch), webhook (signed, one a request)")
    ap.add_argument("--client", choices=("threads", "async"), default="threads",
                    help="a thread per client, each with its own httpx.Client (default), or one asyncio loop with a pooled AsyncClient")
    args = ap.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or not set(backends) <= {"sqlite", "pg"}:
        ap.error("--backends takes sqlite and/or pg")
    if args.clients < 1 or args.batch < 0 or args.batch > 1000:
        ap.error("--clients must be at least 1, --batch 0 to 1000")
    window = args.duration or (5.0 if args.quick else 20.0)
    warm = 1.0 if args.quick else 3.0
    doors = [d.strip() for d in args.doors.split(",") if d.strip()]
    if not doors or not set(doors) <= {"alertmanager", "webhook"}:
        ap.error("--doors takes alertmanager and/or webhook")
    runs = [Run(n, args.clients, warm, window, args.client) for n in (1, args.batch) if n and "alertmanager" in doors]
    runs += [Run(1, args.clients, warm, window, args.client, "webhook")] if "webhook" in doors else []
    root = Path(tempfile.mkdtemp(prefix="ticketctl-intakebench-"))
    rows: list[tuple[str, tuple[str, float, str, float | None, str]]] = []
    problems: list[str] = []
    failed = made_pg = False
    try:
        for backend in backends:
            for run in runs:
                log(f"[{backend}] {run.per_request} alert(s) a request ({run.door}) ...")
                name = f"{run.door}-{run.per_request}"
                if backend == "pg":
                    db, made_pg = fresh_pg(args.pg_url), True
                else:
                    db = f"sqlite:///{root / f'intake-{name}.db'}"
                got = bench(backend, db, root, f"{backend}-{name}", run, problems)
                rows += [(f"{backend} (--workers {WORKERS[backend]})", r) for r in got]
    except Exception as e:  # noqa: BLE001  (the figures so far are still printed)
        log(f"bench: FAILED: {type(e).__name__}: {e}")
        failed = True
    finally:
        for s in list(SERVERS):
            s.stop()
        if made_pg:
            drop_pg(args.pg_url)
        shutil.rmtree(root, ignore_errors=True)
    for p in problems:
        log(f"bench: FAILED: {p}")
    failed = failed or bool(problems)

    print(f"\n{'measure':<40} {'server':<20} {'figure':>10} {'budget':>9}  {'verdict':<7}  note")
    missed = 0
    for label, (name, value, unit, budget, note) in rows:
        verdict = "-" if budget is None else ("met" if value >= budget else "MISSED")
        missed += verdict == "MISSED"
        goal = f">= {budget:.0f}{unit}" if budget else "-"
        print(f"{name:<40} {label:<20} {f'{value:.1f} {unit}':>10} {goal:>9}  {verdict:<7}  {note}")
    how = "one asyncio loop, a pooled httpx.AsyncClient" if args.client == "async" else "a thread each, each its own httpx.Client"
    print(f"\nclients: {args.client} ({how}); load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
          f" on {os.cpu_count()} cores (other work on the machine slows every figure)")
    judged = sum(1 for _label, r in rows if r[3] is not None)
    if missed:
        print(f"\n{missed} goal(s) MISSED")
    else:
        print("\ngoal met" if judged else "\nno goal judged (the goal is SQLite's, one alert a request)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

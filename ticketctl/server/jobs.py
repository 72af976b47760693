"""The team's scheduled work, run once for everyone by the server.

**Notifications.** In a team the server keeps the webhook outbox: when it
records an escalation (``ticket.escalated``, whichever device or job swept),
it queues one row per notify target in the same transaction, unique by
(ticket, rule with its round, target). Two machines sweeping the same ticket
between syncs send the same escalation twice; the server keeps the first
(``services.tickets.append_events``) and so queues one notification. Synced
devices therefore queue none of their own for escalations
(``services.sweep``). Delivery is the local outbox's (``services.notify``):
at-least-once, backing off 1, 2, 4 ... 60 minutes per failed run.

**Jobs.** ``server run --sweep-every S --dispatch-every S`` (delivery runs
every ``DELIVER_EVERY`` seconds whenever notify targets are configured). Every
worker of every server instance runs a :class:`Jobs` thread, and each job
runs once per period for all of them: a run is a *lease*, the row
``job:NAME`` of ``counters`` holding the unix time the next run may start,
taken by one conditional UPDATE (``value <= now``) that only one transaction
can win, on SQLite and PostgreSQL alike.

Sweep and dispatch run as on any device, on a replica: a local store in the
server home (``jobs/``), enrolled on first use as the dispatcher device
``jobs-XXXXXX`` (one per server home, so instances never share a device's
push order), that syncs with its own server over loopback before and after
its work. Its escalations and assignments are mutations like anyone's, judged
by the same rules.
"""

import fcntl
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ticketctl.core.config import Config
from ticketctl.core.model import iso
from ticketctl.home import Home
from ticketctl.server import schema as S

log = logging.getLogger("ticketctl.server")

DELIVER_EVERY = 10
#: a delivery run stops taking new rows after this long (its lease is DELIVER_EVERY)
DELIVER_BUDGET_S = 8.0
ENV = "TICKETCTL_SERVER_JOBS"


# -- the outbox ----------------------------------------------------------------------------


def enqueue(c: Connection, cfg: Config, escalations: list[dict[str, Any]]) -> int:
    """Queue the notifications of escalations being recorded in this
    transaction (which holds the sequence lock): one per target that takes the
    rule, never a second for the same (ticket, rule, target)."""
    from ticketctl.services import notify

    targets = cfg.notify.targets
    if not targets or not escalations:
        return 0
    now = datetime.now(UTC).replace(microsecond=0)
    n = 0
    for e in escalations:
        p = e["payload"]
        rule = str(p.get("rule", ""))
        base = rule.split("@", 1)[0]
        message = p.get("message", "")
        to = [str(x) for x in p.get("to") or []]
        payload = {"event": "escalation", "ticket": e["ticket"], "rule": base, "message": message, "to": to, "at": e["at"]}
        for name, t in targets.items():
            if t.rules and base not in t.rules:
                continue
            had = c.execute(select(S.notifications.c.id).where(S.notifications.c.ticket == e["ticket"],
                                                               S.notifications.c.rule == rule,
                                                               S.notifications.c.target == name)).first()
            if had is not None:
                continue
            c.execute(insert(S.notifications).values(
                created_at=iso(now), target=name, url=t.url, body=json.dumps(notify.body_for(t.format, payload), ensure_ascii=False),
                ticket=e["ticket"], rule=rule, status="pending", attempts=0, next_attempt_at=iso(now)))
            n += 1
    return n


def deliver(engine: Engine, cfg: Config, now: datetime | None = None, sleep: Callable[[float], None] = time.sleep,
            budget_s: float = DELIVER_BUDGET_S) -> dict[str, Any]:
    """Send the due rows of the server's outbox, oldest first (``services.notify.deliver``'s rules)."""
    from ticketctl.services import notify

    conf = cfg.notify
    now = now or datetime.now(UTC).replace(microsecond=0)
    with engine.connect() as c:
        rows = c.execute(select(S.notifications.c.id, S.notifications.c.target, S.notifications.c.url, S.notifications.c.body,
                                S.notifications.c.attempts)
                         .where(S.notifications.c.status == "pending", S.notifications.c.next_attempt_at <= iso(now))
                         .order_by(S.notifications.c.id).limit(500)).all()
    report: dict[str, Any] = {"sent": 0, "failed": 0, "errors": []}
    if not rows:
        return report
    import httpx

    dead: set[str] = set()
    started = time.monotonic()
    with httpx.Client(timeout=conf.timeout, follow_redirects=False,
                      headers={"content-type": "application/json", "user-agent": "ticketctl"}) as client:
        for nid, target, url, body, attempts in rows:
            if target in dead:
                continue
            if time.monotonic() - started > budget_s:
                break
            tries = max(1, min(conf.tries_per_run, conf.give_up_after - int(attempts)))
            ok, made, reason = notify._post(client, url, body, tries, sleep)
            total = int(attempts) + made
            q = update(S.notifications).where(S.notifications.c.id == nid, S.notifications.c.status == "pending")
            with engine.begin() as c:
                if ok:
                    c.execute(q.values(status="sent", attempts=total, sent_at=iso(now)))
                    report["sent"] += 1
                    continue
                dead.add(target)
                if total >= conf.give_up_after:
                    c.execute(q.values(status="failed", attempts=total, last_error=reason))
                    report["failed"] += 1
                else:
                    later = now + timedelta(minutes=notify.retry_wait_minutes(total, conf.tries_per_run))
                    c.execute(q.values(attempts=total, last_error=reason, next_attempt_at=iso(later)))
            report["errors"].append(f"#{nid} {target}: {reason}")
    return report


# -- leases ---------------------------------------------------------------------------------


def claim(engine: Engine, job: str, every: float, now: float | None = None) -> bool:
    """Take this period's run of ``job`` (True for exactly one caller per period)."""
    now = time.time() if now is None else now
    name = f"job:{job}"
    nxt = int(now + every)
    try:
        with engine.begin() as c:
            won = c.execute(update(S.counters).where(S.counters.c.name == name, S.counters.c.value <= int(now))
                            .values(value=nxt)).rowcount
            if won:
                return True
            if c.execute(select(S.counters.c.value).where(S.counters.c.name == name)).first() is None:
                c.execute(insert(S.counters).values(name=name, value=nxt))
                return True
            return False
    except IntegrityError:  # another worker made the row first: its run
        return False


# -- the replica that sweeps and dispatches ----------------------------------------------------


def replica(server_home: Home, url: str, db: Engine) -> Any:
    """The jobs' device (its ``Env``): a store in ``<server home>/jobs``, enrolled
    with the server's database on first use and set up against ``url``."""
    from ticketctl.server.admin import enrol
    from ticketctl.services.env import Env
    from ticketctl.sync import client

    root = Path(server_home.root or server_home.config_file.parent) / "jobs"
    root.mkdir(parents=True, exist_ok=True)
    ident = root / "device.json"
    fd = os.open(root / "device.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the workers of one instance enrol one device between them
        if ident.exists():
            me = json.loads(ident.read_text())
        else:
            name = f"jobs-{secrets.token_hex(3)}"
            me = {"name": name, "token": enrol(db, name, "dispatcher")}
            tmp = ident.with_suffix(".tmp")
            tmp.write_text(json.dumps(me))
            os.chmod(tmp, 0o600)
            tmp.replace(ident)
        environ = {"TICKETCTL_HOME": str(root), "TICKETCTL_USER": me["name"]}
        home = Home.from_env(environ)
        _same_rules(server_home.config_file, home.config_file)
        env = Env(home, environ)
        if not env.home.sync_file.exists() or client.load_settings(env).get("url") != url:
            client.setup(env, url, me["token"])
    finally:
        os.close(fd)
    return env


def _same_rules(team: Path, replica: Path) -> None:
    """The replica judges by the server's config file (SLA targets, sweep rules, capacity): a copy, kept current."""
    want = team.read_bytes() if team.exists() else None
    have = replica.read_bytes() if replica.exists() else None
    if want == have:
        return
    if want is None:
        replica.unlink()
        return
    tmp = replica.with_suffix(".tmp")
    tmp.write_bytes(want)
    tmp.replace(replica)


class Jobs(threading.Thread):
    """The scheduled work of one server worker (see the module doc)."""

    def __init__(self, engine: Engine, home: Home, cfg: Config, url: str, sweep_every: float = 0, dispatch_every: float = 0):
        super().__init__(name="ticketctl-jobs", daemon=True)
        self.engine, self.home, self.cfg, self.url = engine, home, cfg, url
        self.every = {"sweep": sweep_every, "dispatch": dispatch_every, "deliver": DELIVER_EVERY if cfg.notify.targets else 0}
        self.stopping = threading.Event()
        self.runs: dict[str, int] = {}

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            for job, every in self.every.items():
                if every and claim(self.engine, job, every):
                    try:
                        self._run(job)
                        self.runs[job] = self.runs.get(job, 0) + 1
                    except Exception:  # a job that fails is logged and tried next period; the server goes on
                        log.exception("server job %s failed", job)

    def _run(self, job: str) -> None:
        if job == "deliver":
            r = deliver(self.engine, self.cfg)
            if r["sent"] or r["errors"]:
                log.info("notifications: %s sent, %s", r["sent"], "; ".join(r["errors"]) or "no errors")
            return
        from ticketctl.services import dispatch, sweep
        from ticketctl.sync import client

        env = replica(self.home, self.url, self.engine)
        try:
            client.sync(env)
            out = sweep.sweep(env) if job == "sweep" else dispatch.auto(env)
            r = client.sync(env)
            log.info("server job %s: %s; pushed %s, refused %s", job,
                     f"{len(out.get('actions', []))} actions" if job == "sweep" else f"{len(out.get('assigned', []))} assigned",
                     r["pushed"], len(r["rejected"]))
        finally:
            env.close()


def settings_from_env() -> dict[str, Any] | None:
    """What ``server run`` asked its workers to run (``TICKETCTL_SERVER_JOBS``)."""
    raw = os.environ.get(ENV)
    return json.loads(raw) if raw else None

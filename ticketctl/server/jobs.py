"""The team's scheduled work, run once for everyone by the server.

**Notifications.** In a team the server keeps the webhook outbox: when it
records an escalation (``ticket.escalated``, whichever device or job swept),
it queues one row per notify target in the same transaction, unique by
(ticket, rule with its round, target). Two machines sweeping the same ticket
between syncs send the same escalation twice; the server keeps the first
(``services.tickets.append_events``) and so queues one notification. Synced
devices therefore queue none of their own for escalations
(``services.sweep``). Delivery is the one a device runs on its own outbox
(``services.delivery``), over the server's (``server.store.outbox``):
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

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine

from ticketctl.core.config import Config
from ticketctl.core.config.sweep import reached
from ticketctl.core.model import iso
from ticketctl.home import Home
from ticketctl.server.store import leases, outbox

if TYPE_CHECKING:
    from ticketctl.services.delivery import DeliveryReport

log = logging.getLogger("ticketctl.server")

DELIVER_EVERY = 10
#: a delivery run stops taking new rows after this long (its lease is DELIVER_EVERY)
DELIVER_BUDGET_S = 8.0
ENV = "TICKETCTL_SERVER_JOBS"


# -- the outbox ----------------------------------------------------------------------------


def enqueue(c: Connection, cfg: Config, escalations: list[dict[str, Any]], now: datetime | None = None) -> int:
    """Queue the notifications of escalations being recorded in this
    transaction (which holds the sequence lock), due from ``now`` (the clock's):
    one per target that takes the rule, never a second for the same (ticket,
    rule, target). The body is the one a device queues (``services.notify.body``)."""
    from ticketctl.services import notify

    targets = cfg.notify.targets
    if not targets or not escalations:
        return 0
    queued_at = iso(now or datetime.now(UTC).replace(microsecond=0))
    n = 0
    for e in escalations:
        p = e["payload"]
        rule = str(p.get("rule", ""))
        base = rule.split("@", 1)[0]
        payload = notify.escalation(e["at"], e["ticket"], base, p.get("message", ""), [str(x) for x in p.get("to") or []])
        for name in reached(cfg.notify, base):
            t = targets[name]
            if outbox.queued(c, e["ticket"], rule, name):
                continue
            outbox.queue(c, queued_at, name, t.url, notify.body(t, payload), e["ticket"], rule)
            n += 1
    return n


def deliver(engine: Engine, cfg: Config, now: datetime | None = None, sleep: Callable[[float], None] = time.sleep,
            budget_s: float = DELIVER_BUDGET_S) -> DeliveryReport:
    """Send the due rows of the server's outbox, oldest first, as a device sends its own (``services.delivery``)."""
    from ticketctl.services import delivery

    now = now or datetime.now(UTC).replace(microsecond=0)
    return delivery.deliver(outbox.ServerOutbox(engine), cfg.notify, now, sleep=sleep, budget_s=budget_s)


# -- leases ---------------------------------------------------------------------------------


def claim(engine: Engine, job: str, every: float, now: float | None = None) -> bool:
    """Take this period's run of ``job`` (True for exactly one caller per period)."""
    now = time.time() if now is None else now
    return leases.take(engine, job, int(now), int(now + every))


# -- the replica that sweeps and dispatches ----------------------------------------------------


def replica(server_home: Home, url: str, db: Engine) -> Any:
    """The jobs' device (its ``Env``): a store in ``<server home>/jobs``, enrolled
    with the server's database on first use and set up against ``url``."""
    from filelock import FileLock

    from ticketctl.server.admin import enrol
    from ticketctl.services.env import Env
    from ticketctl.sync import client

    root = Path(server_home.root or server_home.config_file.parent) / "jobs"
    root.mkdir(parents=True, exist_ok=True)
    ident = root / "device.json"
    with FileLock(root / "device.lock"):  # the workers of one instance enrol one device between them
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
            sent = deliver(self.engine, self.cfg)
            if sent["sent"] or sent["errors"]:
                log.info("notifications: %s sent, %s", sent["sent"], "; ".join(sent["errors"]) or "no errors")
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

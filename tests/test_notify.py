"""Webhook notifications against a real HTTP receiver on 127.0.0.1.

The receiver is a ``ThreadingHTTPServer`` in a thread that records every POST
and answers 200 (or the statuses queued in ``answers``); ``down()`` closes its
socket so a POST gets "connection refused", ``up()`` binds the same port
again. Nothing else is faked: targets come from a ``config.toml`` in a
temporary ``TICKETCTL_HOME``, the outbox is read back from the store file, and
only the pause between tries is a no-op (``sleep=``). Every test stays well
under a second of network time; the 3 s client timeout only bounds a receiver
that hangs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from ticketctl import errors
from ticketctl.cli import main
from ticketctl.core.model import iso, parse_time
from ticketctl.services import delivery, notify
from ticketctl.services.env import Env

NOW = "2026-03-02T09:00:00Z"


def at(minutes: float) -> str:
    return iso(parse_time(NOW) + timedelta(minutes=minutes))


class Receiver:
    """A webhook endpoint that can go down and come back on the same port."""

    def __init__(self) -> None:
        self.port = 0
        self.received: list[tuple[str, dict[str, Any], str]] = []  # (path, body, content-type)
        self.answers: list[int] = []  # statuses to answer next, in order; then 200
        self.delay = 0.0  # seconds before answering (timeouts)
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.up()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.received.append((self.path, json.loads(raw), self.headers.get("content-type", "")))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)  # allow_reuse_address: same port again
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            assert self.thread is not None
            self.thread.join(timeout=5)
            self.server = None

    def bodies(self, path: str = "/hook") -> list[dict[str, Any]]:
        with self.lock:
            return [b for p, b, _ in self.received if p == path]


@pytest.fixture()
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for r in made:
        r.down()


@pytest.fixture()
def rx(receivers: list[Receiver]) -> Receiver:
    r = Receiver()
    receivers.append(r)
    return r


class Home:
    """A TICKETCTL_HOME with notify targets, and the ways to drive it."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]):
        self.root = root
        self.capsys = capsys
        self.sleeps: list[float] = []

    def configure(self, targets: dict[str, dict[str, Any]], **notify_opts: Any) -> Home:
        self.root.mkdir(parents=True, exist_ok=True)
        # a down receiver refuses at once; the timeout only bounds a slow one, and is
        # generous so a loaded CI box does not turn a 200 into "timed out"
        table = {"notify": {"timeout": 3.0, "tries_per_run": 1, **notify_opts, "targets": targets}}
        (self.root / "config.toml").write_text(tomli_w.dumps(table), encoding="utf-8")
        return self

    def env(self, now: str = NOW) -> Env:
        return Env.from_environ({"TICKETCTL_HOME": str(self.root), "TICKETCTL_NOW": now, "TICKETCTL_USER": "ana"})

    def queue(self, rule: str = "silent", ticket: str | None = "KQT-1", message: str = "unclaimed for 2 h",
              to: tuple[str, ...] = ("dora",), now: str = NOW) -> int:
        """What ``sweep`` does: enqueue inside its transaction, then commit."""
        e = self.env(now)
        try:
            with e.store.transaction() as st:
                return notify.enqueue(st, e.config, e.now, ticket, rule, message, list(to))
        finally:
            e.close()

    def deliver(self, now: str = NOW, **kw: Any) -> notify.DeliveryReport:
        e = self.env(now)
        try:
            return notify.deliver(e, sleep=self.sleeps.append, **kw)
        finally:
            e.close()

    def cli(self, *argv: str, now: str = NOW) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(argv), env=self.env(now))
        out, err = self.capsys.readouterr()
        return code, out, err

    def outbox(self) -> list[dict[str, Any]]:
        if not (self.root / "ticketctl.db").exists():
            return []
        db = sqlite3.connect(self.root / "ticketctl.db")
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute("SELECT * FROM notifications ORDER BY id")]
        finally:
            db.close()


@pytest.fixture()
def home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Home:
    return Home(tmp_path / "home", capsys)


def no_errors(report: notify.DeliveryReport) -> None:
    assert report["errors"] == [], report


# -- body formats and rules ---------------------------------------------------------------


def test_each_format_arrives_in_its_shape(home: Home, rx: Receiver) -> None:
    home.configure({f: {"url": rx.url(f"/{f}"), "format": f} for f in ("json", "slack", "wecom", "dingtalk")})
    assert home.queue("silent", "KQT-1", "KQT-1 unclaimed for 2 h", ("dora", "sam")) == 4

    report = home.deliver()

    assert report == {"sent": 4, "pending": 0, "failed": 0, "errors": []}
    text = "[ticketctl] silent: KQT-1 unclaimed for 2 h"
    assert rx.bodies("/json") == [{"event": "escalation", "ticket": "KQT-1", "rule": "silent",
                                   "message": "KQT-1 unclaimed for 2 h", "to": ["dora", "sam"], "at": NOW}]
    assert rx.bodies("/slack") == [{"text": text}]
    assert rx.bodies("/wecom") == [{"msgtype": "text", "text": {"content": text}}]
    assert rx.bodies("/dingtalk") == [{"msgtype": "text", "text": {"content": text}}]
    assert {ct for _, _, ct in rx.received} == {"application/json"}
    assert [(r["target"], r["status"], r["attempts"], r["sent_at"], r["last_error"]) for r in home.outbox()] == [
        (f, "sent", 1, NOW, None) for f in ("json", "slack", "wecom", "dingtalk")
    ]


def test_rules_pick_the_targets(home: Home, rx: Receiver) -> None:
    home.configure({
        "silent_only": {"url": rx.url("/a"), "rules": ["silent"]},
        "breaches": {"url": rx.url("/b"), "rules": ["sla_breached", "silent"]},
        "everything": {"url": rx.url("/c")},
    })
    assert home.queue("sla_breached", "KQT-2", "resolution SLA breached") == 2
    assert [r["target"] for r in home.outbox()] == ["breaches", "everything"]

    no_errors(home.deliver())

    assert [p for p, _, _ in rx.received] == ["/b", "/c"]
    assert rx.bodies("/b")[0]["rule"] == "sla_breached"


def test_no_targets_queues_nothing_and_sends_nothing(home: Home) -> None:
    home.configure({})
    assert home.queue() == 0
    assert home.deliver() == {"sent": 0, "pending": 0, "failed": 0, "errors": []}


def test_a_rolled_back_transaction_leaves_nothing_in_the_outbox(home: Home, rx: Receiver) -> None:
    home.configure({"ops": {"url": rx.url()}})
    e = home.env()
    try:
        with pytest.raises(RuntimeError), e.store.transaction() as st:
            assert notify.enqueue(st, e.config, e.now, "KQT-1", "silent", "escalated", ["dora"]) == 1
            raise RuntimeError("the escalation failed after queueing")
    finally:
        e.close()

    assert home.outbox() == []
    assert home.deliver()["sent"] == 0
    assert rx.received == []


# -- a target that is down, then back -------------------------------------------------------


def test_down_target_keeps_the_row_and_it_is_sent_exactly_once_when_back(home: Home, rx: Receiver) -> None:
    home.configure({"ops": {"url": rx.url()}}, tries_per_run=3)
    home.queue()
    rx.down()

    report = home.deliver()

    assert (report["sent"], report["pending"], report["failed"]) == (0, 1, 0)
    assert report["errors"] == [f"#1 ops: connection refused; retry after {at(1)}"]
    assert home.sleeps == [0.2, 0.4]  # three tries, short backoff between them
    (row,) = home.outbox()
    assert (row["status"], row["attempts"], row["last_error"], row["next_attempt_at"], row["sent_at"]) == (
        "pending", 3, "connection refused", at(1), None)

    code, out, err = home.cli("notify", "list", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == [{
        "id": 1, "created_at": NOW, "target": "ops", "rule": "silent", "ticket": "KQT-1", "status": "pending",
        "attempts": 3, "last_error": "connection refused", "next_attempt_at": at(1), "sent_at": None,
    }]

    # not due yet: the next run within the minute leaves it alone
    assert home.deliver(now=at(0.5))["errors"] == []
    assert home.outbox()[0]["attempts"] == 3

    rx.up()  # the same port again
    report = home.deliver(now=at(1))
    assert report == {"sent": 1, "pending": 0, "failed": 0, "errors": []}
    assert len(rx.bodies()) == 1 and rx.bodies()[0]["ticket"] == "KQT-1"
    (row,) = home.outbox()
    assert (row["status"], row["attempts"], row["sent_at"], row["last_error"]) == ("sent", 4, at(1), "connection refused")

    # a sent row is never sent again
    assert home.deliver(now=at(60), force=True)["sent"] == 0
    assert len(rx.bodies()) == 1


def test_the_wait_between_runs_grows(home: Home, rx: Receiver) -> None:
    home.configure({"ops": {"url": rx.url()}}, tries_per_run=2, give_up_after=100)
    home.queue()
    rx.down()
    t = 0
    waits = []
    for _ in range(5):
        home.deliver(now=at(t))
        nxt = home.outbox()[0]["next_attempt_at"]
        waits.append(int((parse_time(nxt) - parse_time(at(t))).total_seconds() // 60))
        t += waits[-1]
    assert waits == [1, 2, 4, 8, 16]
    assert home.outbox()[0]["attempts"] == 10
    assert [delivery.retry_wait_minutes(n, 2) for n in (2, 4, 20, 200)] == [1, 2, 60, 60]


def test_http_503_then_200_in_one_run(home: Home, rx: Receiver) -> None:
    home.configure({"ops": {"url": rx.url()}}, tries_per_run=3)
    home.queue()
    rx.answers = [503]

    assert home.deliver() == {"sent": 1, "pending": 0, "failed": 0, "errors": []}

    assert len(rx.bodies()) == 2 and rx.bodies()[0] == rx.bodies()[1]
    assert home.sleeps == [0.2]
    (row,) = home.outbox()
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, "HTTP 503")


def test_http_503_then_200_in_the_next_run(home: Home, rx: Receiver) -> None:
    home.configure({"ops": {"url": rx.url()}}, tries_per_run=1)
    home.queue()
    rx.answers = [503]

    assert home.deliver()["errors"] == [f"#1 ops: HTTP 503; retry after {at(1)}"]
    (row,) = home.outbox()
    assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1, "HTTP 503")

    assert home.deliver(now=at(1))["sent"] == 1
    assert len(rx.bodies()) == 2
    assert home.outbox()[0]["status"] == "sent"


def test_a_slow_endpoint_times_out(home: Home, rx: Receiver) -> None:
    home.configure({"ops": {"url": rx.url()}}, timeout=0.2)
    home.queue()
    rx.delay = 0.6

    report = home.deliver()

    assert report["errors"] == [f"#1 ops: timed out; retry after {at(1)}"]
    assert home.outbox()[0]["status"] == "pending"


def test_give_up_after_marks_it_failed(home: Home, rx: Receiver) -> None:
    home.configure({"ops": {"url": rx.url()}}, tries_per_run=2, give_up_after=5)
    home.queue()
    rx.answers = [503] * 10

    assert home.deliver(now=at(0))["failed"] == 0  # 2 tries
    assert home.deliver(now=at(1))["failed"] == 0  # 4 tries
    report = home.deliver(now=at(3))  # only 1 try left of the 5
    assert (report["sent"], report["pending"], report["failed"]) == (0, 0, 1)
    assert report["errors"] == ["#1 ops: HTTP 503; gave up after 5 tries"]
    assert len(rx.bodies()) == 5
    (row,) = home.outbox()
    assert (row["status"], row["attempts"], row["last_error"], row["sent_at"]) == ("failed", 5, "HTTP 503", None)

    assert home.deliver(now=at(600), force=True)["sent"] == 0  # failed is final
    assert len(rx.bodies()) == 5
    code, out, _ = home.cli("notify", "list", "--status", "failed", "--json")
    assert code == 0
    assert [(r["id"], r["status"], r["next_attempt_at"]) for r in json.loads(out)] == [(1, "failed", None)]


def test_a_dead_target_is_tried_once_per_run_and_the_others_still_get_theirs(
        home: Home, receivers: list[Receiver]) -> None:
    live, dead = Receiver(), Receiver()
    receivers += [live, dead]
    home.configure({"dead": {"url": dead.url()}, "live": {"url": live.url()}}, tries_per_run=2)
    dead.down()
    for rule in ("silent", "sla_at_risk", "stalled"):
        home.queue(rule)

    report = home.deliver()

    assert (report["sent"], report["pending"], report["failed"]) == (3, 3, 0)
    assert report["errors"] == [f"#1 dead: connection refused; retry after {at(1)}"]
    assert home.sleeps == [0.2]  # only the first dead row was tried
    assert [b["rule"] for b in live.bodies()] == ["silent", "sla_at_risk", "stalled"]
    dead_rows = [(r["id"], r["attempts"], r["last_error"], r["next_attempt_at"]) for r in home.outbox() if r["target"] == "dead"]
    assert dead_rows == [(1, 2, "connection refused", at(1)), (3, 0, None, NOW), (5, 0, None, NOW)]

    # the untouched rows are due, the tried one is not: the next run tries row 3 first
    report = home.deliver(now=at(0.5))
    assert report["errors"] == [f"#3 dead: connection refused; retry after {at(1.5)}"]

    dead.up()
    assert home.deliver(now=at(2))["sent"] == 3
    assert [b["rule"] for b in dead.bodies()] == ["silent", "sla_at_risk", "stalled"]
    assert {r["status"] for r in home.outbox()} == {"sent"}


# -- the commands -------------------------------------------------------------------------------


def test_notify_send_ignores_the_retry_time(home: Home, rx: Receiver) -> None:
    home.configure({"ops": {"url": rx.url()}})
    home.queue()
    rx.answers = [503]
    home.deliver()
    assert home.outbox()[0]["next_attempt_at"] == at(1)

    code, out, err = home.cli("notify", "send", "--json")  # still at NOW, before the retry time

    assert (code, err) == (0, ""), err
    assert json.loads(out) == {"sent": 1, "pending": 0, "failed": 0, "errors": []}
    assert home.outbox()[0]["status"] == "sent"
    assert len(rx.bodies()) == 2


def test_notify_send_human_output_reports_what_is_stuck(home: Home, rx: Receiver) -> None:
    home.configure({"ops": {"url": rx.url()}})
    home.queue()
    rx.down()

    code, out, err = home.cli("notify", "send")

    assert code == 0  # a down target is not a failed command: the row stays queued
    assert out == "sent 0, pending 1, failed 0\n"
    assert err == f"ticketctl: not delivered: #1 ops: connection refused; retry after {at(1)}\n"


def test_notify_list_filters_and_renders(home: Home, rx: Receiver) -> None:
    home.configure({"ops": {"url": rx.url()}, "chat": {"url": rx.url("/chat"), "format": "slack"}})
    code, out, err = home.cli("notify", "list")
    assert (code, out, err) == (0, "", "no notifications match\n")

    home.queue("silent", "KQT-1")
    home.deliver()  # both sent
    home.queue("stalled", "KQT-2", now=at(5))  # two pending

    rows = json.loads(home.cli("notify", "list", "--json")[1])
    assert [(r["id"], r["target"], r["rule"], r["status"]) for r in rows] == [
        (4, "chat", "stalled", "pending"), (3, "ops", "stalled", "pending"),
        (2, "chat", "silent", "sent"), (1, "ops", "silent", "sent"),
    ]
    assert [r["sent_at"] for r in rows] == [None, None, NOW, NOW]
    assert [r["next_attempt_at"] for r in rows] == [at(5), at(5), None, None]
    assert [r["id"] for r in json.loads(home.cli("notify", "list", "--status", "sent", "--json")[1])] == [2, 1]
    assert [r["id"] for r in json.loads(home.cli("notify", "list", "--limit", "1", "--json")[1])] == [4]
    assert home.cli("notify", "list", "--status", "lost")[0] == errors.BAD_INPUT

    code, out, err = home.cli("notify", "list", "--status", "pending")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["id", "created", "target", "rule", "ticket", "status", "tries", "next", "/", "sent",
                                "last", "error"]
    assert lines[1].split() == ["4", at(5), "chat", "stalled", "KQT-2", "pending", "0", at(5)]
    assert len(lines) == 3


def test_notify_test_sends_to_one_target_whatever_its_rules(home: Home, rx: Receiver) -> None:
    home.configure({"ops": {"url": rx.url(), "rules": ["silent"]}, "chat": {"url": rx.url("/chat"), "format": "slack"}})

    code, out, err = home.cli("notify", "test", "chat")

    assert (code, out, err) == (0, "test notification #1 delivered to chat\n", "")
    assert rx.received == [("/chat", {"text": "[ticketctl] test: test notification to chat from ana"}, "application/json")]
    (row,) = home.outbox()
    assert (row["target"], row["rule"], row["ticket"], row["status"]) == ("chat", "test", None, "sent")

    code, out, err = home.cli("notify", "test", "ops", "--json")
    assert code == 0 and json.loads(out)["status"] == "sent"
    assert rx.bodies()[0]["rule"] == "test"


def test_notify_test_to_a_down_target_fails_and_is_not_retried_later(home: Home, rx: Receiver) -> None:
    home.configure({"ops": {"url": rx.url()}})
    rx.down()

    code, out, err = home.cli("notify", "test", "ops")

    assert (code, out) == (errors.REFUSED, "")
    assert err == "ticketctl: error: test notification #1 to ops not delivered: connection refused\n"
    (row,) = home.outbox()
    assert (row["status"], row["attempts"]) == ("failed", 1)
    rx.up()
    assert home.deliver(now=at(60))["sent"] == 0
    assert rx.received == []


def test_notify_test_names_the_configured_targets(home: Home) -> None:
    home.configure({"ops": {"url": "http://127.0.0.1:9/"}, "chat": {"url": "http://127.0.0.1:9/", "format": "slack"}})
    code, out, err = home.cli("notify", "test", "pager")
    assert (code, out) == (errors.BAD_INPUT, "")
    assert err == "ticketctl: error: no notify target 'pager' (configured: chat, ops)\n"
    assert home.outbox() == []

    home.configure({})
    code, _, err = home.cli("notify", "test", "pager")
    assert code == errors.BAD_INPUT
    assert err == ("ticketctl: error: no notify target 'pager' "
                   "(configured: none; add [notify.targets.NAME] with a url to config.toml)\n")


def test_every_notify_command_has_an_example(home: Home) -> None:
    for cmd in ("list", "send", "test"):
        code, out, _ = home.cli("notify", cmd, "--help")
        assert code == 0 and "Example: ticketctl notify " + cmd in out, out


def test_headless_commands_do_not_import_httpx(tmp_path: Path) -> None:
    """Only delivery needs the network stack; listing the outbox or tickets does not load it."""
    runner = (
        "import contextlib, io, json, sys\n"
        "import ticketctl.cli\n"
        "codes = []\n"
        "for argv in (['list', '--json'], ['notify', 'list', '--json']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        codes.append(ticketctl.cli.main(argv))\n"
        "print(json.dumps({'codes': codes, 'loaded': [m for m in ('httpx', 'rich') if m in sys.modules]}))\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    environ.update(TICKETCTL_HOME=str(tmp_path), TICKETCTL_NOW=NOW, TICKETCTL_USER="ana")
    proc = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True, env=environ, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"codes": [0, 0], "loaded": []}



# -- the server's outbox ------------------------------------------------------------------


def test_a_device_and_the_server_deliver_by_the_same_rules(home: Home, rx: Receiver, tmp_path: Path) -> None:
    """In a team the server queues and sends the escalations' notifications
    (``server.jobs``) from its own database; alone, a device sends them from its
    store. Both post the same body for the same escalation, and both go through
    ``services.delivery``: the same tries, pauses, errors, backoff and outcome."""
    from sqlalchemy import select

    from ticketctl.server import jobs
    from ticketctl.server import schema as S
    from ticketctl.server.store.engine import engine_for, migrate

    home.configure({"ops": {"url": rx.url("/ops")}, "chat": {"url": rx.url("/chat"), "format": "wecom"}}, tries_per_run=2)
    assert home.queue("silent", "KQT-1", "KQT-1 unclaimed for 2 h", ("dora",)) == 2
    engine = engine_for(f"sqlite:///{tmp_path / 'server.db'}")
    migrate(engine)
    e = home.env()
    cfg = e.config
    e.close()
    escalation = {"ticket": "KQT-1", "at": NOW, "payload": {"rule": "silent", "message": "KQT-1 unclaimed for 2 h", "to": ["dora"]}}
    with engine.begin() as c:
        assert jobs.enqueue(c, cfg, [escalation], now=parse_time(NOW)) == 2
        assert jobs.enqueue(c, cfg, [escalation], now=parse_time(NOW)) == 0  # once per (ticket, rule, target)

    def server_rows() -> list[dict[str, Any]]:
        with engine.connect() as c:
            return [dict(r) for r in c.execute(select(S.notifications).order_by(S.notifications.c.id)).mappings()]

    fields = ("target", "url", "body", "ticket", "rule", "status", "attempts", "last_error", "next_attempt_at", "sent_at")

    def same_rows() -> list[tuple[Any, ...]]:
        device = [tuple(r[k] for k in fields) for r in home.outbox()]
        assert device == [tuple(r[k] for k in fields) for r in server_rows()]
        return device

    same_rows()  # the same bodies queued, in each target's format
    server_sleeps: list[float] = []

    def run(now: str) -> tuple[Any, Any, list[Any]]:
        """Deliver from the device, then from the server, each against the same answers; what each sent."""
        answers = list(rx.answers)
        start = len(rx.received)
        device = home.deliver(now=now)
        sent_by_device = rx.received[start:]
        rx.answers = answers
        server = jobs.deliver(engine, cfg, now=parse_time(now), sleep=server_sleeps.append)
        assert rx.received[start + len(sent_by_device):] == sent_by_device
        assert rx.answers == []
        return device, server, sent_by_device

    rx.answers = [503, 503, 503]  # ops fails both its tries this run; chat fails once, then takes it
    device, server, sent = run(NOW)
    assert device == server == {"sent": 1, "pending": 1, "failed": 0, "errors": [f"#1 ops: HTTP 503; retry after {at(1)}"]}
    assert [p for p, _, _ in sent] == ["/ops", "/ops", "/chat", "/chat"]
    assert home.sleeps == server_sleeps == [0.2, 0.2]
    ops, chat = home.outbox()
    assert same_rows() == [
        ("ops", rx.url("/ops"), ops["body"], "KQT-1", "silent", "pending", 2, "HTTP 503", at(1), None),
        ("chat", rx.url("/chat"), chat["body"], "KQT-1", "silent", "sent", 2, "HTTP 503", NOW, NOW)]
    assert [b for _, b, _ in sent] == [json.loads(ops["body"])] * 2 + [json.loads(chat["body"])] * 2
    assert json.loads(ops["body"]) == {"event": "escalation", "ticket": "KQT-1", "rule": "silent",
                                       "message": "KQT-1 unclaimed for 2 h", "to": ["dora"], "at": NOW}
    assert json.loads(chat["body"]) == {"msgtype": "text", "text": {"content": "[ticketctl] silent: KQT-1 unclaimed for 2 h"}}

    device, server, sent = run(at(0.5))  # not due yet
    assert device == server == {"sent": 0, "pending": 1, "failed": 0, "errors": []} and sent == []

    device, server, sent = run(at(1))
    assert device == server == {"sent": 1, "pending": 0, "failed": 0, "errors": []}
    assert [(p, b) for p, b, _ in sent] == [("/ops", json.loads(ops["body"]))]
    assert [r[5:] for r in same_rows()] == [("sent", 3, "HTTP 503", at(1), at(1)), ("sent", 2, "HTTP 503", NOW, NOW)]
    engine.dispose()

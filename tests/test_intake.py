"""Monitoring alerts and signed webhooks become tickets (``server.intake.doors``).

In process (the server app over a SQLite file) for the rules: an Alertmanager
notification posted twice opens one ticket and notes it once; a resolved alert
notes it (and, configured, settles it); a wrong token, a wrong signature, an
oversized or malformed body is a 4xx that writes nothing. Fuzzed from the
OpenAPI schema with the sources' own credentials: no 5xx. Then a real server
process: concurrent posts of one new alert open one ticket, and a device sees
the intake's tickets after ``sync``, with their channel and their source as
the author.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import HTTPException
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from server_fixtures import bearer, home_in, pg_databases_fixture, pg_url_fixture  # noqa: F401
from sqlalchemy import func, select
from sync_helpers import Server, client, server_on

from ticketctl.server import schema as S
from ticketctl.server.admin import add_device, add_source, revoke
from ticketctl.server.app import create_app
from ticketctl.server.store.engine import engine_for
from ticketctl.services import tickets
from ticketctl.sync import client as sync

FIRING = {
    "status": "firing",
    "labels": {"alertname": "OltUplinkDown", "instance": "olt-3:9100", "severity": "critical", "team": "fibre"},
    "annotations": {"summary": "OLT 3 uplink down", "description": "No light on the uplink port for 5 minutes."},
    "startsAt": "2026-12-03T08:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus:9090/graph?g0.expr=up", "fingerprint": "9f2c1b7e0a3d4c55",
}
RULES = """
[intake.alert_rules.fibre]
match = { team = "fibre|ftth" }
dept = "network"
product = "fibre"
"""


def notification(*alerts: dict[str, Any]) -> dict[str, Any]:
    """Alertmanager's webhook body (version 4) around ``alerts``."""
    return {"version": "4", "groupKey": '{}:{alertname="OltUplinkDown"}', "truncatedAlerts": 0,
            "status": "resolved" if all(a["status"] == "resolved" for a in alerts) else "firing", "receiver": "ticketctl",
            "groupLabels": {"alertname": "OltUplinkDown"}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093", "alerts": list(alerts)}


def resolved(alert: dict[str, Any]) -> dict[str, Any]:
    return {**alert, "status": "resolved", "endsAt": "2026-12-03T08:40:00Z"}


def sign(secret: str, body: bytes, at: int | str | None = None) -> str:
    """``X-Signature-256`` of a delivery signed at ``at`` (unix seconds; None: the body alone, as GitHub signs)."""
    signed = body if at is None else f"{at}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed(secret: str, body: bytes, at: int | None = None, header: str = "X-Signature-256") -> dict[str, str]:
    """The headers of a webhook delivery signed now (or at ``at``)."""
    at = int(time.time()) if at is None else at
    return {"Content-Type": "application/json", "X-Ticketctl-Timestamp": str(at), header: sign(secret, body, at)}


class Team:
    """The server app in process, its sources' tokens and a dispatcher's, and its database read directly."""

    def __init__(self, root: Path, config: str = ""):
        self.db = root / "server.db"
        self.url = f"sqlite:///{self.db}"
        home = home_in(root)
        if config:
            (root / "config.toml").write_text(config)
        self.client = TestClient(create_app(self.url, home))
        self.alerts = add_source(self.url, "prometheus", "alertmanager")
        self.hook = add_source(self.url, "shop", "webhook")
        self.mail = add_source(self.url, "support", "imap")
        self.dispatcher = add_device(self.url, "dana", "dispatcher")["token"]

    def alert(self, body: dict[str, Any], token: str | None = None) -> httpx.Response:
        return self.client.post("/intake/alertmanager", json=body, headers=bearer(token or self.alerts["token"]))

    def webhook(self, body: dict[str, Any] | bytes, signature: str | None = None, header: str = "X-Signature-256",
                at: int | None = None) -> httpx.Response:
        """A delivery signed now (or at ``at``), or carrying ``signature`` instead."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = signed(self.hook["token"], raw, at, header)
        if signature is not None:
            headers[header] = signature
        return self.client.post("/intake/webhook/shop", content=raw, headers=headers)

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(self.db)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def events(self, ticket: str | None = None) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(ticket, type, device, payload) of every event, in order."""
        rows = self.rows("SELECT ticket, type, device, payload FROM events ORDER BY seq")
        return [(t, ty, d, json.loads(p)) for t, ty, d, p in rows if ticket is None or t == ticket]

    def ticket(self, key: str) -> dict[str, Any]:
        (data,) = self.rows("SELECT data FROM tickets WHERE key = ?", key)[0]
        return dict(json.loads(data))

    def written(self) -> tuple[int, int, int, int]:
        """What a refused request must leave as it was: events, tickets, refs, the sequence."""
        return (self.rows("SELECT count(*) FROM events")[0][0], self.rows("SELECT count(*) FROM tickets")[0][0],
                self.rows("SELECT count(*) FROM intake_refs")[0][0], self.rows("SELECT value FROM counters WHERE name = 'seq'")[0][0])


@pytest.fixture
def team(tmp_path: Path) -> Team:
    return Team(tmp_path, RULES)


# -- monitoring -------------------------------------------------------------------------


def test_an_alert_posted_twice_opens_one_ticket_with_one_note(team: Team) -> None:
    first = team.alert(notification(FIRING))
    assert first.status_code == 200, first.text
    assert first.json() == {"opened": ["ALR-1"], "noted": []}
    again = team.alert(notification(FIRING))
    assert again.json() == {"opened": [], "noted": ["ALR-1"]}

    evs = team.events()
    assert [(t, ty, d) for t, ty, d, _ in evs] == [("ALR-1", "ticket.created", "intake:prometheus"),
                                                    ("ALR-1", "ticket.noted", "intake:prometheus")]
    t = team.ticket("ALR-1")
    # placed by the rule whose matcher holds; the priority from the severity label; the summary as title
    assert (t["title"], t["dept"], t["product"], t["fault"], t["priority"], t["channel"], t["status"]) == (
        "OLT 3 uplink down", "network", "fibre", "OltUplinkDown", "urgent", "alert", "new")
    assert "No light on the uplink port" in t["description"] and "instance=olt-3:9100" in t["description"]
    assert "still firing" in evs[1][3]["text"]


def test_a_resolved_alert_notes_its_ticket_and_an_unknown_one_writes_nothing(team: Team) -> None:
    team.alert(notification(FIRING))
    before = team.written()
    r = team.alert(notification(resolved({**FIRING, "fingerprint": "never-seen"})))
    assert r.json() == {"opened": [], "noted": []} and team.written() == before
    r = team.alert(notification(resolved(FIRING)))
    assert r.json() == {"opened": [], "noted": ["ALR-1"]}
    assert team.ticket("ALR-1")["status"] == "new"  # not configured to settle: only the note
    assert "resolved at 2026-12-03T08:40:00Z" in team.events("ALR-1")[-1][3]["text"]
    # firing after its ticket was closed or cancelled is a new fault: a new ticket
    team.client.post("/intake/alertmanager", json=notification(FIRING), headers=bearer(team.alerts["token"]))
    assert team.written()[1] == 1


def test_configured_resolution_resolves_a_held_ticket_and_cancels_an_untouched_one(tmp_path: Path) -> None:
    team = Team(tmp_path, RULES + "\n[intake]\nresolve_on_resolved = true\n")
    other = {**FIRING, "fingerprint": "second", "labels": {**FIRING["labels"], "instance": "olt-4:9100"}}
    assert team.alert(notification(FIRING, other)).json()["opened"] == ["ALR-1", "ALR-2"]
    # a dispatcher takes ALR-1 through the sync protocol; ALR-2 stays untouched
    push = {"mutations": [
        {"mutation_id": "m1", "client_seq": 1, "name": "tech.add", "args": {"name": "ana", "skills": ["fibre"]},
         "client_ts": "2026-12-03T08:05:00Z"},
        {"mutation_id": "m2", "client_seq": 2, "name": "ticket.assign", "args": {"key": "ALR-1", "name": "ana"},
         "client_ts": "2026-12-03T08:06:00Z"}]}
    r = team.client.post("/sync/push", json=push, headers=bearer(team.dispatcher))
    assert [x["status"] for x in r.json()["results"]] == ["applied", "applied"], r.text
    team.alert(notification(resolved(FIRING), resolved(other)))
    assert team.ticket("ALR-1")["status"] == "resolved"
    assert (team.ticket("ALR-2")["status"], team.ticket("ALR-2")["cancel_reason"]) == ("cancelled", team.events("ALR-2")[-1][3]["reason"])
    # firing again after the resolution: a new ticket, the fingerprint now names it
    assert team.alert(notification(FIRING)).json()["opened"] == ["ALR-3"]


def test_a_wrong_token_is_401_and_writes_nothing(team: Team) -> None:
    before = team.written()
    for token, status in (("not-a-token", 401), (team.mail["token"], 403), (team.dispatcher, 403)):
        r = team.alert(notification(FIRING), token)
        assert r.status_code == status, (token, r.text)
        assert set(r.json()) == {"detail"}
    assert team.client.post("/intake/alertmanager", json=notification(FIRING)).status_code == 401
    revoke(team.url, "intake:prometheus")
    assert team.alert(notification(FIRING)).status_code == 403
    assert team.written() == before


def test_an_intake_token_opens_only_its_door(team: Team) -> None:
    for path in ("/sync/pull", "/sync/snapshot"):
        r = team.client.get(path, headers=bearer(team.alerts["token"]))
        assert r.status_code == 403 and "intake source" in r.json()["detail"], r.text
    r = team.client.post("/sync/push", json={"mutations": []}, headers=bearer(team.alerts["token"]))
    assert r.status_code == 403


@pytest.mark.parametrize("body, status", [
    (b"{not json", 422),
    (b'{"version": "4", "alerts": [{"status": "burning"}]}', 422),
    (b'{"version": "4", "alerts": [{"status": "firing", "labels": {"a": ["b"]}}]}', 422),
    (b'{"alerts": "none"}', 422),
    (b"\xff\xfe", 422),
    (b" " * (3 * 1024 * 1024), 413),
])
def test_bad_bodies_are_4xx_and_write_nothing(team: Team, body: bytes, status: int) -> None:
    before = team.written()
    r = team.client.post("/intake/alertmanager", content=body,
                         headers={**bearer(team.alerts["token"]), "Content-Type": "application/json"})
    assert r.status_code in ((status, 400) if status == 422 else (status,)), r.text[:200]
    assert team.written() == before


def test_an_oversized_chunked_body_is_413(team: Team) -> None:
    def chunks() -> Any:
        for _ in range(40):
            yield b" " * 100_000

    r = team.client.post("/intake/alertmanager", content=chunks(),
                         headers={**bearer(team.alerts["token"]), "Content-Type": "application/json"})
    assert r.status_code == 413 and "larger than" in r.json()["detail"]


def test_a_batch_is_all_or_nothing(tmp_path: Path) -> None:
    """An alert the rules refuse (here: a priority map to a type the config lacks cannot
    happen, so a title that is only spaces) leaves none of its batch's tickets behind."""
    team = Team(tmp_path)
    blank = {**FIRING, "fingerprint": "blank", "labels": {"alertname": " "}, "annotations": {"summary": "   "}}
    before = team.written()
    r = team.alert(notification(FIRING, blank))
    assert r.status_code == 422 and "title" in r.json()["detail"], r.text
    assert team.written() == before


# -- signed webhooks ----------------------------------------------------------------------


def test_a_signed_webhook_opens_a_ticket_and_its_id_repeats_as_a_note(team: Team) -> None:
    order = {"title": "Order 88 failed to provision", "id": "order-88", "description": "port 4 refused the profile",
             "product": "fibre", "priority": "high", "customer": "Ada Lovelace"}
    r = team.webhook(order)
    assert r.status_code == 200 and r.json() == {"opened": ["HOOK-1"], "noted": []}, r.text
    t = team.ticket("HOOK-1")
    assert (t["title"], t["product"], t["priority"], t["customer"], t["channel"], t["dept"]) == (
        "Order 88 failed to provision", "fibre", "high", "Ada Lovelace", "webhook", "operations")
    r = team.webhook(order, header="X-Hub-Signature-256", at=int(time.time()) - 1)  # GitHub's header name, signed our way
    assert r.json() == {"opened": [], "noted": ["HOOK-1"]}
    now = int(time.time())  # the same body signed at two times: two deliveries (at one time it would be a replay)
    assert team.webhook({"title": "no id: each call is its own ticket"}, at=now).json()["opened"] == ["HOOK-2"]
    assert team.webhook({"title": "no id: each call is its own ticket"}, at=now + 1).json()["opened"] == ["HOOK-3"]
    assert team.webhook({**order, "status": "resolved"}).json()["noted"] == ["HOOK-1"]


def test_a_wrong_signature_is_401_and_writes_nothing(team: Team) -> None:
    body = json.dumps({"title": "forged"}).encode()
    now = int(time.time())
    before = team.written()
    for sig in ("sha256=" + "0" * 64, sign("not-the-secret", body, now), sign(team.hook["token"], body + b" ", now),
                sign(team.hook["token"], body, now + 1), sign(team.hook["token"], body), "md5=abc", ""):
        r = team.webhook(body, sig, at=now)
        assert r.status_code == 401, (sig, r.text)
    r = team.client.post("/intake/webhook/shop", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    r = team.client.post("/intake/webhook/nobody", content=body, headers=signed(team.hook["token"], body))
    assert r.status_code == 401
    assert team.webhook({"title": "x"}, sign(team.hook["token"], b"{}", now), at=now).status_code == 401
    for stamp in ("", "12.5", "-300", "1e9", "9" * 13):
        headers = {**signed(team.hook["token"], body), "X-Ticketctl-Timestamp": stamp}
        headers["X-Signature-256"] = sign(team.hook["token"], body, stamp)
        assert team.client.post("/intake/webhook/shop", content=body, headers=headers).status_code == 401, stamp
    assert team.written() == before
    bad = b'{"title": ""}'
    assert team.webhook(bad).status_code == 422
    assert team.written() == before


def test_a_replayed_webhook_is_409_and_writes_nothing(team: Team) -> None:
    raw = json.dumps({"title": "Order 91 stuck", "id": "order-91"}).encode()
    headers = signed(team.hook["token"], raw)
    first = team.client.post("/intake/webhook/shop", content=raw, headers=headers)
    assert first.status_code == 200 and first.json()["opened"] == ["HOOK-1"], first.text
    before = team.written()
    for _ in range(2):
        again = team.client.post("/intake/webhook/shop", content=raw, headers=headers)
        assert again.status_code == 409 and "taken before" in again.json()["detail"], again.text
    assert team.written() == before
    # the same body signed again, later, is a new delivery: the id makes it a note
    assert team.webhook(raw, at=int(headers["X-Ticketctl-Timestamp"]) + 1).json() == {"opened": [], "noted": ["HOOK-1"]}
    assert team.rows("SELECT count(*) FROM webhook_deliveries WHERE source = 'shop'") == [(2,)]


def test_a_webhook_outside_the_window_is_401_and_one_inside_is_taken(tmp_path: Path) -> None:
    team = Team(tmp_path, '[intake]\nwebhook_window = "2m"\n')
    now = int(time.time())
    before = team.written()
    for at in (now - 180, now + 180, 0):
        r = team.webhook({"title": "late or early"}, at=at)
        assert r.status_code == 401 and "intake.webhook_window allows 120 s" in r.json()["detail"], (at, r.text)
    assert team.written() == before
    assert team.webhook({"title": "a little late"}, at=now - 60).status_code == 200
    assert team.webhook({"title": "a little early"}, at=now + 60).status_code == 200


def test_a_delivery_signed_without_a_timestamp_is_refused_saying_what_to_send(team: Team) -> None:
    raw = json.dumps({"title": "from GitHub"}).encode()
    r = team.client.post("/intake/webhook/shop", content=raw, headers={"Content-Type": "application/json",
                                                                        "X-Hub-Signature-256": sign(team.hook["token"], raw)})
    assert r.status_code == 401
    assert r.json()["detail"] == ('no X-Ticketctl-Timestamp: a signature of the body alone (as GitHub sends) could be replayed;'
                                  ' send X-Ticketctl-Timestamp: the unix time in seconds, and X-Signature-256: sha256= the'
                                  ' HMAC-SHA256 of "{timestamp}.{body}" under the source\'s token')
    assert team.written()[0] == 0


def test_deliveries_older_than_twice_the_window_are_forgotten(team: Team) -> None:
    now = int(time.time())
    db = sqlite3.connect(team.db)
    with db:
        db.executemany("INSERT INTO webhook_deliveries (source, signature, at) VALUES ('shop', ?, ?)",
                       [("a" * 64, now - 601), ("b" * 64, now - 500)])  # the window is 5 minutes
    db.close()
    raw = b'{"title": "fresh"}'
    headers = signed(team.hook["token"], raw)
    assert team.client.post("/intake/webhook/shop", content=raw, headers=headers).status_code == 200
    kept = {sig for (sig,) in team.rows("SELECT signature FROM webhook_deliveries")}
    assert kept == {"b" * 64, headers["X-Signature-256"].removeprefix("sha256=")}


# -- fuzzed with the sources' credentials ---------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_team(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return Team(tmp_path_factory.mktemp("intake-fuzz"), RULES)


@pytest.fixture(scope="module")
def intake_schema(fuzz_team: Team) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_team.client.app)


schema = schemathesis.pytest.from_fixture("intake_schema")


@schema.include(path_regex=r"^/intake/").parametrize()
@settings(max_examples=60, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_with_the_sources_credentials_gets_a_server_error(case: Any, fuzz_team: Team) -> None:
    headers = {k: v for k, v in (case.headers or {}).items()
               if k.lower() not in ("authorization", "x-signature-256", "x-hub-signature-256", "x-ticketctl-timestamp")}
    path = case.operation.path
    if path == "/intake/alertmanager":
        headers["Authorization"] = f"Bearer {fuzz_team.alerts['token']}"
    elif path == "/intake/mail":
        headers["Authorization"] = f"Bearer {fuzz_team.mail['token']}"
    else:
        case.path_parameters = {"name": "shop"}
        body = case.body if isinstance(case.body, bytes | dict | list | str | int | float | bool) else {}  # NOT_SET: an empty object
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        case.body = raw
        headers.pop("X-Ticketctl-Timestamp", None)
        headers.update(signed(fuzz_team.hook["token"], raw))
    case.headers = headers
    case.call_and_validate(checks=[not_a_server_error])


# -- a real server process, and a device --------------------------------------------------


def test_concurrent_posts_of_one_alert_open_one_ticket_and_a_device_sees_it(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    srv = server_on(request, tmp_path, RULES)
    try:
        src = add_source(srv.db, "prometheus", "alertmanager")
        dana = client(tmp_path, "dana")
        sync.setup(dana, srv.url, srv.token("dana", "dispatcher"))
        sync.sync(dana)  # set up before the alerts: it pulls their events (a later one starts from a snapshot)
        body = notification(FIRING)
        gate = threading.Barrier(8)
        answers: list[Any] = []

        def post() -> None:
            with httpx.Client(base_url=srv.url, headers=bearer(src["token"]), timeout=30) as c:
                gate.wait(10)
                answers.append(c.post("/intake/alertmanager", json=body))

        threads = [threading.Thread(target=post) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(r.status_code for r in answers) == [200] * 8
        opened = [k for r in answers for k in r.json()["opened"]]
        noted = [k for r in answers for k in r.json()["noted"]]
        assert (opened, noted) == (["ALR-1"], ["ALR-1"] * 7)

        assert sync.sync(dana)["pulled"] == 8
        shown = tickets.show(dana, "ALR-1")
        assert (shown["channel"], shown["dept"], shown["product"], shown["status"]) == ("alert", "network", "fibre", "new")
        authors = {e["actor"] for e in shown["timeline"]}
        assert authors == {"intake:prometheus"}
        assert [e["type"] for e in shown["timeline"]].count("ticket.noted") == 7
        # and the dispatcher works it like any ticket
        tickets.note(dana, "ALR-1", "calling the field team")
        r = sync.sync(dana)
        assert r["rejected"] == [] and r["pending"] == [] and r["pushed"] == 1
        dana.close()
    finally:
        srv.kill()


@pytest.fixture(params=["sqlite", "postgresql"])
def two_servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Two server processes on one database (a SQLite file, or PostgreSQL)."""
    db = str(request.getfixturevalue("pg_url")) if request.param == "postgresql" else f"sqlite:///{tmp_path / 'central.db'}"
    servers = [Server(tmp_path / "a", db), Server(tmp_path / "b", db)]
    try:
        for s in servers:
            s.start()
        yield servers[0], servers[1]
    finally:
        for s in servers:
            s.kill()


def test_a_webhook_delivery_is_taken_once_across_two_server_processes(two_servers: tuple[Server, Server]) -> None:
    a, b = two_servers
    hook = add_source(a.db, "shop", "webhook")
    raw = json.dumps({"title": "Order 77 failed", "id": "order-77"}).encode()
    headers = signed(hook["token"], raw)
    gate = threading.Barrier(4)
    answers: list[httpx.Response] = []

    def post(srv: Server) -> None:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            gate.wait(10)
            answers.append(c.post("/intake/webhook/shop", content=raw, headers=headers))

    threads = [threading.Thread(target=post, args=(srv,)) for srv in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409], [r.text for r in answers]
    for srv in (a, b):  # and later, through either
        assert httpx.post(f"{srv.url}/intake/webhook/shop", content=raw, headers=headers, timeout=30).status_code == 409
    fresh = httpx.post(f"{b.url}/intake/webhook/shop", content=raw, timeout=30,
                       headers=signed(hook["token"], raw, int(headers["X-Ticketctl-Timestamp"]) + 1))
    assert fresh.status_code == 200 and fresh.json() == {"opened": [], "noted": ["HOOK-1"]}, fresh.text
    stale = httpx.post(f"{a.url}/intake/webhook/shop", content=raw, timeout=30,
                       headers=signed(hook["token"], raw, int(time.time()) - 3600))
    assert stale.status_code == 401, stale.text
    engine = engine_for(a.db)
    try:
        with engine.connect() as c:
            assert c.execute(select(func.count()).select_from(S.events)).scalar_one() == 2  # opened, noted
    finally:
        engine.dispose()


# -- mail (the door; the reader is tests/test_intake_imap.py) ---------------------------------


def test_a_reply_to_a_cancelled_ticket_opens_a_new_one_linked_to_it(team: Team) -> None:
    def mail(body: dict[str, Any]) -> dict[str, Any]:
        r = team.client.post("/intake/mail", json=body, headers=bearer(team.mail["token"]))
        assert r.status_code == 200, r.text
        return dict(r.json())

    assert mail({"message_id": "<a@x>", "subject": "printer jams", "sender": "Ada <ada@example.org>"})["ticket"] == "MAIL-1"
    push = {"mutations": [{"mutation_id": "c1", "client_seq": 1, "name": "ticket.cancel",
                           "args": {"key": "MAIL-1", "reason": "duplicate"}, "client_ts": "2026-12-03T08:05:00Z"}]}
    assert team.client.post("/sync/push", json=push, headers=bearer(team.dispatcher)).json()["results"][0]["status"] == "applied"
    got = mail({"message_id": "<b@x>", "in_reply_to": ["<a@x>"], "subject": "Re: printer jams", "text": "still jamming"})
    assert (got["ticket"], got["opened"]) == ("MAIL-2", ["MAIL-2"])
    t = team.ticket("MAIL-2")
    assert t["links"] == ["MAIL-1"] and t["description"].startswith("(re: MAIL-1) still jamming")
    # an open ticket takes the reply as a note, by [KEY] as well as by In-Reply-To
    got = mail({"message_id": "<c@x>", "subject": "Re: [MAIL-2] printer jams", "text": "and now it smokes"})
    assert (got["ticket"], got["noted"]) == ("MAIL-2", ["MAIL-2"])


def test_the_heat_map_and_kpis_split_by_channel(tmp_path: Path) -> None:
    """Counted two ways: the report's SQL, and the tickets read back one by one."""
    from collections import Counter
    from datetime import timedelta

    from ticketctl.errors import BadInput
    from ticketctl.services import heatmap, kpi

    env = client(tmp_path, "dana")
    channels = ["alert"] * 5 + ["email"] * 3 + ["web"] * 2 + [""] * 4
    for i, ch in enumerate(channels):
        tickets.create(env, {"title": f"fault {i}", "type": "repair", "dept": "network" if i % 2 else "field",
                             "product": "fibre", "channel": ch})
    first = env.store.db.execute("SELECT key FROM tickets WHERE channel = 'alert' ORDER BY key LIMIT 1").fetchone()[0]
    tickets.cancel(env, first, "duplicate")  # out of the backlog, still in the window's KPIs
    rows = [tickets.show(env, k) for (k,) in env.store.db.execute("SELECT key FROM tickets")]
    open_by = Counter((t["dept"], t["channel"]) for t in rows if t["status"] in ("new", "assigned", "in_progress", "blocked"))
    hm = heatmap.heatmap(env, ("dept", "channel"))
    assert {(c["dept"], c["channel"]): c["count"] for c in hm["cells"]} == dict(open_by)
    assert {c["channel"]: c["count"] for c in heatmap.heatmap(env, ("channel",))["cells"]} == dict(
        Counter(t["channel"] for t in rows if t["status"] in ("new", "assigned", "in_progress", "blocked")))
    report = kpi.kpis(env, end=env.now + timedelta(minutes=1), by="channel")  # the window's end is exclusive
    assert {ch: g["tickets"] for ch, g in report["by"]["channel"].items()} == dict(Counter(t["channel"] for t in rows))
    with pytest.raises(BadInput, match="by channel is of the backlog now"):
        heatmap.heatmap(env, ("channel",), at=env.now)
    env.close()


def test_a_group_commit_undoes_only_the_refused_arrival(team: Team, tmp_path: Path) -> None:
    """The writer runs waiting requests in one transaction; one the rules refuse is
    undone alone (its ticket number, ref and events), the others commit."""
    from concurrent.futures import Future

    from ticketctl.core.config import Config
    from ticketctl.server.intake import doors as intake
    from ticketctl.server.store.engine import engine_for

    w = intake.Writer(engine_for(team.url), home_in(tmp_path / "w"), Config())
    good, bad, other = (notification({**FIRING, "fingerprint": f}) for f in ("g1", "b1", "g2"))
    bad["alerts"].append({**FIRING, "fingerprint": "b2", "labels": {"alertname": " "}, "annotations": {"summary": " "}})

    def work(body: dict[str, Any]) -> Any:
        payload = intake.AlertmanagerPayload.model_validate(body)

        def run(d: intake.Door) -> None:
            for a in payload.alerts:
                alert = a.model_dump()
                d.remember(intake.I.fingerprint(alert), d.open(intake.I.alert_fields(alert, Config())))
        return run

    who = lambda c, table: table.bearer(c, f"Bearer {team.alerts['token']}", "alertmanager")  # noqa: E731
    futures: list[Future[Any]] = [Future(), Future(), Future(), Future()]
    batch = [(who, work(good), futures[0]), (who, work(bad), futures[1]), (who, work(other), futures[2]),
             (lambda c, table: table.bearer(c, "Bearer nope", "alertmanager"), work(good), futures[3])]
    w._run(batch)
    assert futures[0].result() == {"opened": ["ALR-1"], "noted": []}
    with pytest.raises(HTTPException) as refused:
        futures[1].result()
    assert refused.value.status_code == 422 and "title" in str(refused.value.detail)
    assert futures[2].result() == {"opened": ["ALR-2"], "noted": []}  # the refused one's number was not taken
    with pytest.raises(HTTPException) as unknown:
        futures[3].result()
    assert unknown.value.status_code == 401
    assert sorted(r[0] for r in team.rows("SELECT ref FROM intake_refs")) == ["g1", "g2"]
    assert [k for k, ty, _d, _p in team.events()] == ["ALR-1", "ALR-2"]
    assert team.rows("SELECT value FROM counters WHERE name = 'tickets:ALR'") == [(2,)]


def test_add_source_prints_its_token_as_the_last_word_and_refuses_bad_input(tmp_path: Path) -> None:
    """The contract scripts rely on: `server add-source NAME --kind KIND` ends its line with the token."""
    import subprocess

    from sync_helpers import CLI

    env = {**__import__("os").environ, "TICKETCTL_HOME": str(tmp_path / "home")}
    db = f"sqlite:///{tmp_path / 'central.db'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, "server", *args, "--db", db], env=env, capture_output=True, text=True, timeout=60)

    r = run("add-source", "prometheus", "--kind", "alertmanager")
    assert r.returncode == 0, r.stderr
    token = r.stdout.split()[-1]
    team = TestClient(create_app(db, home_in(tmp_path / "srv")))
    got = team.post("/intake/alertmanager", json=notification(FIRING), headers=bearer(token))
    assert got.status_code == 200 and got.json()["opened"] == ["ALR-1"]
    assert run("add-source", "prometheus", "--kind", "alertmanager").returncode == 1  # exists
    for bad in (["Bad Name", "--kind", "web"], ["form", "--kind", "fax"], ["form", "--kind", "web", "--prefix", "w1"]):
        r = run("add-source", *bad)
        assert r.returncode == 2 and r.stderr.startswith("ticketctl: error: ") and len(r.stderr.splitlines()) == 1, r.stderr
    second = json.loads(run("add-source", "alerts2", "--kind", "alertmanager", "--json").stdout)
    assert second["prefix"] == "ALRA" and second["device"] == "intake:alerts2"  # the kind's prefix was taken

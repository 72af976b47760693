"""The sync server's HTTP API, in process on a SQLite file.

Fuzzed from its own OpenAPI schema (schemathesis): with a valid token no
request gets a 5xx; without one (none, a wrong one, a revoked device's) every
operation but /health and the public pages (/c/..., /v/...: the customer's form
and the certificate verdict, reached from a QR code; /kb: the published
knowledge articles; /new and /s/...: the customers' web form and its status link) is 401 or 403 and carries
nothing but a ``detail``.
Then the protocol by hand: gaps, duplicates, role rules, redaction, blobs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from server_fixtures import DISPATCHER_FIELDS, Outbox, bearer, home_in, mutation

from ticketctl.server.admin import add_device, revoke
from ticketctl.server.app import create_app

PHONE = DISPATCHER_FIELDS["phone"]
DATA_KEYS = {"events", "tickets", "results", "technicians", "device", "role", "seq", "cursor", "sha256"}


@dataclass
class Server:
    client: TestClient
    url: str
    dispatcher: str  # tokens
    technician: str
    revoked: str

    def push(self, token: str, *mutations: dict[str, Any]) -> Any:
        return self.client.post("/sync/push", json={"mutations": list(mutations)}, headers=bearer(token))

    def pull(self, token: str, after: int = 0, **params: Any) -> dict[str, Any]:
        r = self.client.get("/sync/pull", params={"after": after, **params}, headers=bearer(token))
        assert r.status_code == 200, r.text
        return r.json()

    def snapshot(self, token: str) -> dict[str, Any]:
        r = self.client.get("/sync/snapshot", headers=bearer(token))
        assert r.status_code == 200, r.text
        return r.json()


def start(root: Path) -> Server:
    url = f"sqlite:///{root / 'server.db'}"
    app = create_app(url, home_in(root))
    tokens = {name: add_device(url, name, role)["token"] for name, role in
              (("dana", "dispatcher"), ("tom", "technician"), ("rex", "dispatcher"))}
    client = TestClient(app)
    for name, prefix in (("dana", "ABC"), ("tom", "TOM")):  # the prefixes their tickets' keys carry
        assert client.post("/sync/hello", json={"prefix": prefix}, headers=bearer(tokens[name])).json()["prefix"] == prefix
    revoke(url, "rex")
    return Server(client, url, tokens["dana"], tokens["tom"], tokens["rex"])


@pytest.fixture
def server(tmp_path: Path) -> Server:
    return start(tmp_path)


# -- fuzzed from the schema -------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Server:
    return start(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(scope="module")
def api_schema(fuzz_server: Server) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_server.client.app)


schema = schemathesis.pytest.from_fixture("api_schema")
FUZZ = settings(max_examples=25, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))


def with_auth(case: Any, authorization: str | None) -> None:
    """Replace whatever Authorization header was generated."""
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    if authorization is not None:
        headers["Authorization"] = authorization
    case.headers = headers


@schema.parametrize()
@FUZZ
def test_no_request_from_a_valid_device_gets_a_server_error(case: Any, fuzz_server: Server) -> None:
    with_auth(case, f"Bearer {fuzz_server.dispatcher}")
    if case.query and "wait" in case.query:
        case.query["wait"] = 0  # a long poll would only make the run slow
    if case.method.upper() == "PUT" and isinstance(case.body, bytes) and case.path_parameters:
        case.path_parameters["sha256"] = hashlib.sha256(case.body).hexdigest()  # stored, not only refused
    case.call_and_validate(checks=[not_a_server_error])


@schema.exclude(path_regex=r"^/(health$|c/|v/|s/|new$|kb($|\.json$|/))").parametrize()
@FUZZ
def test_without_a_valid_token_nothing_but_401_or_403_and_no_data(case: Any, fuzz_server: Server) -> None:
    generated = next((v for k, v in (case.headers or {}).items() if k.lower() == "authorization"), None)
    for authorization, expected in ((None, 401), ("Bearer not-a-token", 401), ("Basic ZGFuYTpkYW5h", 401),
                                    (f"Bearer {fuzz_server.revoked}", 403), (generated, None)):
        if expected is None and authorization is None:
            continue
        with_auth(case, authorization)
        r = case.call()
        if case.method.upper() != case.operation.method.upper():  # the coverage phase tries other methods
            assert r.status_code == 405 and set(r.json()) == {"detail"}, (case.method, r.text[:300])
            continue
        body = r.json()
        assert set(body) == {"detail"}, body
        if unreadable_body(r.status_code, body):
            continue  # FastAPI reads the body before it asks who is calling (see below)
        if r.status_code == 413 and str(body["detail"]).endswith("(a larger one needs a valid token)"):
            continue  # a body over server.limits.DEFAULT is read only from a valid token: refused on its size, nothing shown
        assert r.status_code in (401, 403), (authorization, r.status_code, r.text[:300])
        if expected is not None:
            if case.operation.path.startswith("/intake/webhook/"):
                expected = 401  # a webhook proves itself by its signature, whatever bearer token it carries
            assert r.status_code == expected, (authorization, r.text[:300])


def unreadable_body(status: int, body: dict[str, Any]) -> bool:
    """A 400 or 422 about a body that is not JSON at all (not UTF-8, not
    parseable): FastAPI decodes the body before it runs the dependencies, so
    such a request gets that answer whatever its token. It holds nothing but
    the parse error, so it is let through here; any other 4xx (one that shows
    the request was read further) is not."""
    detail = body.get("detail")
    if status == 400:
        return detail == "There was an error parsing the body"
    return (status == 422 and isinstance(detail, list) and bool(detail)
            and all(isinstance(d, dict) and d.get("type") == "json_invalid" for d in detail))


# -- by hand ------------------------------------------------------------------------


def test_the_openapi_schema_is_served_and_names_every_endpoint(server: Server) -> None:
    r = server.client.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert {"/health", "/sync/hello", "/sync/push", "/sync/pull", "/sync/snapshot", "/blobs/{sha256}"} <= set(paths)
    assert {"put", "get"} <= set(paths["/blobs/{sha256}"])
    h = server.client.get("/health").json()
    assert h["ok"] is True and h["epoch"]


def test_hello_names_the_device_and_its_role_and_keeps_its_prefix(server: Server) -> None:
    r = server.client.post("/sync/hello", json={"prefix": "DAN"}, headers=bearer(server.dispatcher)).json()
    assert (r["device"], r["role"], r["prefix"], r["last_client_seq"], r["seq"]) == ("dana", "dispatcher", "ABC", 0, 0)
    r = server.client.post("/sync/hello", json={"prefix": "ABC"}, headers=bearer(server.technician)).json()
    assert (r["device"], r["role"], r["prefix"]) == ("tom", "technician", "TOM")
    # a new device asking for a prefix another holds gets a free one of its own
    token = add_device(server.url, "una", "technician")["token"]
    r = server.client.post("/sync/hello", json={"prefix": "ABC"}, headers=bearer(token)).json()
    assert r["prefix"] not in ("ABC", "TOM", None) and len(r["prefix"]) == 3 and r["prefix"].isalpha(), r


def test_a_gap_in_client_seq_is_409_with_the_number_expected(server: Server) -> None:
    r = server.push(server.dispatcher, mutation(1, "ticket.create", key="ABC-1", fields=DISPATCHER_FIELDS))
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied"
    r = server.push(server.dispatcher, mutation(3, "ticket.note", key="ABC-1", text="skipped 2"))
    assert r.status_code == 409
    body = r.json()
    assert body["expected"] == 2 and body["last_client_seq"] == 1 and body["results"] == []
    # those before the gap are kept: 2 applies, 4 is refused with "expected 3"
    r = server.push(server.dispatcher, mutation(2, "ticket.note", key="ABC-1", text="two"),
                    mutation(4, "ticket.note", key="ABC-1", text="four"))
    assert r.status_code == 409 and r.json()["expected"] == 3
    assert [x["client_seq"] for x in r.json()["results"]] == [2]
    assert [e["payload"].get("text") for e in server.pull(server.dispatcher)["events"]][1:] == ["two"]


def test_a_duplicate_push_returns_the_stored_results_and_writes_nothing(server: Server) -> None:
    batch = [mutation(1, "ticket.create", key="ABC-1", fields=DISPATCHER_FIELDS),
             mutation(2, "ticket.note", key="ABC-1", text="called the customer"),
             mutation(3, "ticket.note", key="NOPE-9", text="no such ticket")]
    first = server.push(server.dispatcher, *batch)
    assert first.status_code == 200
    res = first.json()["results"]
    assert [x["status"] for x in res] == ["applied", "applied", "rejected"]
    before = server.pull(server.dispatcher)
    again = server.push(server.dispatcher, *batch)
    assert again.status_code == 200
    assert again.json()["results"] == [{**x, "duplicate": True} for x in res]
    assert again.json()["last_client_seq"] == 3
    after = server.pull(server.dispatcher)
    assert after["events"] == before["events"] and after["cursor"] == before["cursor"]
    # the same mutation_id under a new client_seq is the same mutation too
    r = server.push(server.dispatcher, {**batch[1], "client_seq": 4})
    assert r.json()["results"][0]["duplicate"] is True and server.pull(server.dispatcher)["cursor"] == before["cursor"]


def test_a_technician_may_not_assign_and_is_told_why(server: Server) -> None:
    d, t = Outbox(), Outbox()
    assert server.push(server.dispatcher, d("tech.add", name="tom"),
                       d("ticket.create", key="ABC-1", fields=DISPATCHER_FIELDS)).status_code == 200
    cursor = server.pull(server.dispatcher)["cursor"]
    r = server.push(server.technician, t("ticket.assign", key="ABC-1", name="tom"))
    assert r.status_code == 200
    (res,) = r.json()["results"]
    assert res["status"] == "rejected" and "technician may not assign" in res["reason"], res
    assert server.pull(server.dispatcher, after=cursor)["events"] == []
    assert server.snapshot(server.dispatcher)["tickets"][0]["assignee"] is None
    # the dispatcher may
    r = server.push(server.dispatcher, d("ticket.assign", key="ABC-1", name="tom"))
    assert r.json()["results"][0]["status"] == "applied", r.json()
    assert server.snapshot(server.dispatcher)["tickets"][0]["assignee"] == "tom"


def test_a_technician_never_receives_the_customers_phone(server: Server) -> None:
    d = Outbox()
    r = server.push(server.dispatcher, d("tech.add", name="tom"),
                    d("ticket.create", key="ABC-1", fields=DISPATCHER_FIELDS),
                    d("ticket.assign", key="ABC-1", name="tom"),
                    d("ticket.create", key="ABC-2", fields={**DISPATCHER_FIELDS, "phone": "+1 555 0100"}))
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * 4, r.json()
    # the dispatcher sees it, in the snapshot and in the events
    assert {t["key"]: t["phone"] for t in server.snapshot(server.dispatcher)["tickets"]} == {"ABC-1": PHONE, "ABC-2": "+1 555 0100"}
    assert PHONE in server.client.get("/sync/pull", headers=bearer(server.dispatcher)).text
    # the technician does not, assigned or not
    snap = server.client.get("/sync/snapshot", headers=bearer(server.technician))
    assert [t["phone"] for t in snap.json()["tickets"]] == ["", ""]
    assert [t["customer"] for t in snap.json()["tickets"]] == ["Ada Lovelace"] * 2
    pulled = server.client.get("/sync/pull", headers=bearer(server.technician))
    for text in (snap.text, pulled.text):
        assert PHONE not in text and "555 0100" not in text
    created = [e for e in pulled.json()["events"] if e["type"] == "ticket.created"]
    assert [e["payload"]["phone"] for e in created] == ["", ""]


def test_a_technician_never_receives_the_customers_phone_from_an_edit(server: Server) -> None:
    d = Outbox()
    r = server.push(server.dispatcher, d("ticket.create", key="ABC-1", fields=DISPATCHER_FIELDS),
                    d("ticket.edit", key="ABC-1", changes={"phone": "+1 555 0199"}))
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * 2, r.json()
    pulled = server.client.get("/sync/pull", headers=bearer(server.technician))
    edited = [e["payload"] for e in pulled.json()["events"] if e["type"] == "ticket.edited"]
    assert [p["value"] for p in edited] == [""]
    assert PHONE not in pulled.text and "555 0199" not in pulled.text, edited


@pytest.mark.parametrize("name, args", [
    ("ticket.note", {"key": "ABC-1", "text": ["not", "text"]}),
    ("ticket.note", {"key": "ABC-1"}),
    ("ticket.note", {"key": "ABC-1", "text": "hi", "extra": 1}),
    ("tech.add", {"name": []}),
    ("no.such.action", {}),
    ("ticket.create", {"key": "ABC-2", "fields": 5}),
    ("ticket.create", {"key": ["ABC-2"], "fields": DISPATCHER_FIELDS}),
    ("ticket.create", {"key": "abc-2", "fields": DISPATCHER_FIELDS}),
    ("ticket.create", {"key": 5, "fields": DISPATCHER_FIELDS}),
    ("ticket.assign", {"key": "ABC-1", "name": {"n": 1}}),
    ("events.append", {"ticket": [], "drafts": [["ticket.created", {}]]}),
])
def test_a_malformed_mutation_is_stored_as_a_rejection_never_a_server_error(server: Server, name: str, args: dict[str, Any]) -> None:
    """A poison mutation must never block a device's queue: it is rejected
    (and the device's seq advances), the rest of the batch applies."""
    r = server.push(server.dispatcher, mutation(1, "ticket.create", key="ABC-1", fields=DISPATCHER_FIELDS),
                    mutation(2, name, **args), mutation(3, "ticket.note", key="ABC-1", text="after"))
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["applied", "rejected", "applied"], r.json()
    assert r.json()["results"][1]["reason"]


def test_a_revoked_device_is_403_at_once(server: Server) -> None:
    assert server.client.post("/sync/hello", json={}, headers=bearer(server.dispatcher)).status_code == 200
    revoke(server.url, "dana")
    r = server.client.get("/sync/pull", headers=bearer(server.dispatcher))
    assert r.status_code == 403 and set(r.json()) == {"detail"} and "revoked" in r.json()["detail"]
    r = server.push(server.dispatcher, mutation(1, "ticket.create", key="ABC-1", fields=DISPATCHER_FIELDS))
    assert r.status_code == 403
    assert server.snapshot(server.technician)["tickets"] == []


def test_blobs_are_stored_by_their_hash(server: Server) -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    sha = hashlib.sha256(data).hexdigest()
    for _ in range(2):  # idempotent
        r = server.client.put(f"/blobs/{sha}", content=data, headers=bearer(server.technician))
        assert r.status_code == 201, r.text
        assert r.json() == {"sha256": sha, "size": len(data)}
    r = server.client.get(f"/blobs/{sha}", headers=bearer(server.dispatcher))
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "application/octet-stream"
    other = hashlib.sha256(b"something else").hexdigest()
    r = server.client.put(f"/blobs/{other}", content=data, headers=bearer(server.technician))
    assert r.status_code == 422 and "does not match" in r.json()["detail"]
    assert server.client.get(f"/blobs/{other}", headers=bearer(server.dispatcher)).status_code == 404
    assert server.client.put(f"/blobs/{sha.upper()}", content=data, headers=bearer(server.technician)).status_code == 422
    assert server.client.put(f"/blobs/{sha}", content=data).status_code == 401
    assert server.client.get(f"/blobs/{sha}", headers=bearer(server.revoked)).status_code == 403

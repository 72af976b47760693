"""Every route's body is bounded before anything reads it (``server.limits``).

A real server process: a 300 MB body to every route that takes one, streamed
from a generator with a Content-Length and again chunked, is refused with 413
while the server's peak memory (VmHWM, reset before) grows by under 50 MB;
then a push, a page of imported history, an evidence file larger than what
is kept in memory, and a customer's confirmation still work. In process: every
route that takes a body has its own limit and every limit names a route; a
body of exactly the limit passes and one byte more does not; a chunked body
over the limit is 413 whatever the route would have made of it; unknown paths
and routes without a body take the small default, and so does a token route
without a valid token.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from server_fixtures import bearer, home_in
from sync_helpers import Server, client

from ticketctl.server import limits
from ticketctl.server.admin import add_device, add_source, revoke
from ticketctl.server.app import create_app
from ticketctl.services import confirm, import_servicenow, techs, tickets
from ticketctl.services.env import Env
from ticketctl.sync import client as sync

HUGE = 300_000_000
MiB = 2**20
SLICE = Path(__file__).parent / "data" / "servicenow_first50incidents.csv"


#: the start of the web form's photo part: the rest of the 300 MB is the photo
PHOTO_PART = (b'--xyz\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n'
              b"Content-Type: image/jpeg\r\n\r\n")


def spaces(total: int, chunk: int = MiB, start: bytes = b"") -> Iterator[bytes]:
    """``total`` bytes: ``start``, then JSON whitespace, a chunk at a time (never all in memory)."""
    block = b" " * chunk
    yield start
    sent = len(start)
    while sent < total:
        n = min(chunk, total - sent)
        yield block if n == chunk else block[:n]
        sent += n


def status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


# -- a real server process -------------------------------------------------------------------


class Doors:
    """Who may knock on which route: the path to post to and the headers that get the body read."""

    def __init__(self, srv: Server):
        self.admin = srv.token("root", "admin")
        alerts = add_source(srv.db, "prometheus", "alertmanager")["token"]
        mail = add_source(srv.db, "support", "imap")["token"]
        add_source(srv.db, "shop", "webhook")
        add_source(srv.db, "form", "web")
        json_ = {"Content-Type": "application/json"}
        self.calls: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
            ("post", "/sync/hello"): ("/sync/hello", {**json_, **bearer(self.admin)}),
            ("post", "/sync/push"): ("/sync/push", {**json_, **bearer(self.admin)}),
            ("post", "/sync/history"): ("/sync/history", {**json_, **bearer(self.admin)}),
            ("put", "/blobs/{sha256}"): ("/blobs/" + "0" * 64, bearer(self.admin)),
            ("post", "/c/{token}"): ("/c/T-1.not-a-token", {"Content-Type": "application/x-www-form-urlencoded"}),
            ("post", "/intake/alertmanager"): ("/intake/alertmanager", {**json_, **bearer(alerts)}),
            ("post", "/intake/webhook/{name}"): ("/intake/webhook/shop", {**json_, "X-Signature-256": "sha256=" + "0" * 64}),
            ("post", "/intake/mail"): ("/intake/mail", {**json_, **bearer(mail)}),
            ("post", "/new"): ("/new", {"Content-Type": "multipart/form-data; boundary=xyz"}),
        }


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the server's memory from /proc")
def test_300_mb_to_every_route_is_413_with_flat_memory_and_legitimate_work_goes_on(tmp_path: Path) -> None:
    srv = Server(tmp_path).start()
    try:
        assert srv.proc is not None
        doors = Doors(srv)
        with httpx.Client(base_url=srv.url, timeout=120) as http:
            spec = http.get("/openapi.json").json()["paths"]
            takes_a_body = {(m, p) for p, ops in spec.items() for m in ops if m in ("post", "put", "patch")}
            assert takes_a_body == set(doors.calls), "a route that takes a body: add it to Doors (and to limits.route_limits)"
            for path, headers in doors.calls.values():  # every route's code loaded before measuring
                http.request("PUT" if path.startswith("/blobs/") else "POST", path, content=b"{}", headers=headers)

            reset = Path(f"/proc/{srv.proc.pid}/clear_refs")
            before = status(srv.proc.pid)["VmRSS"]
            peaks: dict[str, int] = {}
            for (method, route), (path, headers) in sorted(doors.calls.items()):
                anonymous = {k: v for k, v in headers.items() if k != "Authorization"}
                tries = [("content-length", {**anonymous, "Content-Length": str(HUGE)}), ("chunked, no token", anonymous)]
                if "Authorization" in headers:
                    tries.append(("chunked, with its token", headers))
                for framing, sent in tries:
                    body = spaces(HUGE, start=PHOTO_PART if route == "/new" else b"")  # a body each route reads on
                    reset.write_text("5")  # VmHWM := VmRSS: from here on it is this request's peak
                    r = http.request(method.upper(), path, content=body, headers=sent)
                    peaks[f"{method.upper()} {route} ({framing})"] = status(srv.proc.pid)["VmHWM"] - before
                    if route == "/blobs/{sha256}" and framing == "chunked, no token":
                        assert r.status_code == 401, r.text[:200]  # answered before a byte of it is read
                        continue
                    assert r.status_code == 413, (route, framing, r.status_code, r.text[:200])
                    assert "larger than" in r.json()["detail"]
            after = status(srv.proc.pid)["VmRSS"]
            print(f"\nserver VmRSS {before / MiB:.1f} MiB before, {after / MiB:.1f} MiB after; peak growth per 300 MB body:")
            for what, grew in peaks.items():
                print(f"  {grew / MiB:6.1f} MiB  {what}")
            assert max(peaks.values()) < 50 * 10**6 and after - before < 50 * 10**6, peaks

        legitimate_work_goes_on(srv, tmp_path, doors)
    finally:
        srv.kill()


def joined(srv: Server, root: Path, name: str, role: str) -> Env:
    env = client(root, name)
    sync.setup(env, srv.url, srv.token(name, role))
    return env


def legitimate_work_goes_on(srv: Server, root: Path, doors: Doors) -> None:
    disp = joined(srv, root, "disp", "dispatcher")
    ana = joined(srv, root, "ana", "technician")
    # a page of imported history, then a push
    imported = import_servicenow.import_servicenow(disp, SLICE, None, None)
    techs.add(disp, "ana", capacity=3)
    key = tickets.create(disp, {"title": "Chiller alarm", "type": "repair", "dept": "fac", "product": "hvac"})["key"]
    tickets.assign(disp, key, "ana")
    r = sync.sync(disp)
    assert r["history"]["shared"] == imported["events"] > 0 and r["pushed"] == 3 and r["rejected"] == [], r
    # an evidence file, larger than the part the server keeps in memory
    data = os.urandom(3 * MiB) * 4
    sha = hashlib.sha256(data).hexdigest()
    put = httpx.put(f"{srv.url}/blobs/{sha}", content=data, headers=bearer(doors.admin), timeout=60)
    assert put.status_code == 201 and put.json() == {"sha256": sha, "size": len(data)}, put.text
    assert httpx.get(f"{srv.url}/blobs/{sha}", headers=bearer(doors.admin), timeout=60).content == data
    # the customer's confirmation
    sync.sync(ana)
    tickets.start(ana, key)
    tickets.resolve(ana, key)
    link = confirm.request_qr(ana, key)
    sync.sync(ana)
    done = httpx.post(link["url"], data={"rating": ["5", "4", "5"], "comment": "Works again, thank you!", "by": "Mrs Li"},
                      timeout=10)
    assert done.status_code == 200 and "Thank you" in done.text, done.text[:300]


# -- in process: the table and the middleware --------------------------------------------------


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("limits")
    url = f"sqlite:///{root / 'server.db'}"
    c = TestClient(create_app(url, home_in(root)))
    c.admin = add_device(url, "root", "admin")["token"]  # type: ignore[attr-defined]
    return c


def test_every_route_that_takes_a_body_has_its_own_limit(app_client: Any) -> None:
    paths = app_client.app.openapi()["paths"]
    takes_a_body = {p for p, ops in paths.items() if set(ops) & {"post", "put", "patch"}}
    table = limits.route_limits(app_client.app.state.server.config)
    assert set(table) == takes_a_body


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_of_the_limit_passes_and_one_byte_more_is_413(app_client: Any, chunked: bool) -> None:
    def body(n: int) -> Any:
        raw = b"{}" + b" " * (n - 2)
        return iter([raw]) if chunked else raw

    headers = {**bearer(app_client.admin), "Content-Type": "application/json"}
    at = app_client.post("/sync/hello", content=body(limits.HELLO_MAX), headers=headers)
    assert at.status_code == 200 and at.json()["device"] == "root", at.text[:200]
    over = app_client.post("/sync/hello", content=body(limits.HELLO_MAX + 1), headers=headers)
    assert over.status_code == 413 and over.json() == {"detail": f"the body is larger than {limits.HELLO_MAX} bytes"}


def test_a_chunked_body_over_the_limit_is_413_whatever_the_route_makes_of_it(app_client: Any) -> None:
    add_source(app_client.app.state.server.engine.url.render_as_string(), "form", "web")
    form = {"Content-Type": "multipart/form-data; boundary=xyz"}
    too_much = limits.route_limits(app_client.app.state.server.config)["/new"] + 1
    r = app_client.post("/new", content=iter([b"--xyz\r\n" + b"x" * too_much]), headers=form)
    assert r.status_code == 413 and r.json()["detail"].startswith("the body is larger than"), r.text[:200]
    under = app_client.post("/new", content=iter([b"--xyz\r\n"]), headers=form)  # the form page says what is wrong
    assert under.status_code in (400, 422) and under.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/health", "/sync/pull", "/no/such/path"])
def test_routes_without_a_body_and_unknown_paths_take_the_small_default(app_client: Any, path: str) -> None:
    assert app_client.request("GET", path, content=b" " * limits.DEFAULT).status_code != 413
    r = app_client.request("GET", path, content=b" " * (limits.DEFAULT + 1))
    assert r.status_code == 413, r.text[:200]


def test_a_token_route_takes_more_than_the_default_only_with_a_valid_token(app_client: Any) -> None:
    url = app_client.app.state.server.engine.url.render_as_string()
    revoked = add_device(url, "gone", "technician")["token"]
    revoke(url, "gone")
    body = b"{" + b" " * limits.DEFAULT + b"}"
    json_ = {"Content-Type": "application/json"}
    r = app_client.post("/sync/push", content=body, headers=json_)
    assert r.status_code == 413 and r.json()["detail"] == (
        f"the body is larger than {limits.DEFAULT} bytes (a larger one needs a valid token)")
    for token in ("not-a-token", revoked):
        assert app_client.post("/sync/push", content=body, headers={**json_, **bearer(token)}).status_code == 413
    r = app_client.post("/sync/push", content=body, headers={**json_, **bearer(app_client.admin)})
    assert r.status_code == 422 and "mutations" in r.text  # read, and judged by the route
    assert app_client.post("/sync/push", content=b"{}", headers=json_).status_code == 401  # small: the route says who may

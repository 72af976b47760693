"""The same rules on the device, against a real server process: a technician's
device resolves a key (a unique prefix, any case, padded) against its own store
once, and refuses at once what the server would refuse for its role, queueing
nothing; a bad device key elsewhere in the team never stops anyone's sync."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sync_helpers import CLI, Server, client, server_state

from ticketctl.errors import Refused
from ticketctl.services import techs, tickets
from ticketctl.services.env import Env
from ticketctl.sync import client as sync


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path).start()
    yield s
    s.kill()


def joined(server: Server, root: Path, name: str, role: str) -> Env:
    env = client(root, name)
    sync.setup(env, server.url, server.token(name, role))
    return env


def fields(title: str) -> dict[str, Any]:
    return {"title": title, "type": "install", "dept": "fac", "product": "hvac", "priority": "high", "phone": "+1 555 0100"}


def cli(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env={**os.environ, **env.environ}, capture_output=True, text=True, timeout=60)


def test_a_technicians_device_resolves_a_key_once_and_refuses_anothers_ticket_at_once(server: Server, tmp_path: Path) -> None:
    disp = joined(server, tmp_path, "disp", "dispatcher")
    tina = joined(server, tmp_path, "tina", "technician")
    for name in ("tina", "otto"):
        techs.add(disp, name, capacity=5)
    theirs = tickets.create(disp, fields("Chiller alarm"))["key"]
    tickets.assign(disp, theirs, "otto")
    sync.sync(disp)
    mine = tickets.create(tina, {**fields("Boiler pressure"), "phone": ""})["key"]  # the only ticket of tina's prefix
    sync.sync(tina)
    sync.sync(disp)
    tickets.assign(disp, mine, "tina")
    sync.sync(disp)
    sync.sync(tina)
    unique = theirs.split("-")[0].lower() + "-"  # the only ticket with the dispatcher's prefix
    for spelled in (theirs.lower(), f"  {theirs} ", unique, f" {unique.upper()}\t"):
        with pytest.raises(Refused, match=f"^{theirs} is assigned to otto, not to tina"):
            tickets.note(tina, spelled, "mine now")
    r = cli(tina, "note", theirs.lower(), "mine now")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == f"ticketctl: error: {theirs} is assigned to otto, not to tina (the server enforces this for a technician's device)\n"
    r = cli(tina, "edit", mine.lower(), "--phone", "+1 555 0100")  # their own ticket, a field they may not write
    assert r.returncode == 1 and "may not set or change a customer's phone number" in r.stderr, r.stderr
    assert sync.status(tina)["pending"] == []

    # their own ticket, by any spelling: resolved here, queued with its exact key, applied by the server
    tickets.note(tina, f" {mine.split('-')[0].lower()}-\t", "on my way")
    queued = sync.status(tina)["pending"]
    assert [(q["name"], q["key"]) for q in queued] == [("ticket.note", mine)]
    assert sync.sync(tina)["rejected"] == []
    server_tickets, events, _results = server_state(tmp_path / "central.db")
    assert [e.payload.get("text") for e in events[mine] if e.type == "ticket.noted"] == ["on my way"]
    assert all(e.actor != "tina" for e in events[theirs])


def test_a_bad_device_key_on_the_server_never_stops_anyones_sync(server: Server, tmp_path: Path) -> None:
    """A server written before hello checked keys may hold a garbage key and a
    copied key id: every other device's sync goes on, saying which key it skipped."""
    import sqlite3

    disp = joined(server, tmp_path, "disp", "dispatcher")
    joined(server, tmp_path, "tina", "technician")
    db = sqlite3.connect(tmp_path / "central.db")
    with db:
        db.execute("UPDATE devices SET public_key = 'not a key', key_id = 'deadbeefdeadbeef' WHERE name = 'tina'")
    db.close()
    r = cli(disp, "sync")
    assert r.returncode == 0, r.stderr
    from ticketctl.services import signing

    trusted = signing.trusted(client(tmp_path, "disp"))
    assert "deadbeefdeadbeef" not in trusted and "tina" not in {k["device"] for k in trusted.values()}
    # and a hello with a garbage key is refused for that device alone
    import httpx

    bad = httpx.post(f"{server.url}/sync/hello", json={"public_key": "garbage", "key_id": "x"},
                     headers={"Authorization": f"Bearer {server.token('mallory', 'technician')}"})
    assert bad.status_code == 422 and "not an Ed25519 public key" in bad.json()["detail"]
    assert cli(disp, "sync").returncode == 0


def test_a_client_skips_a_key_its_server_lists_badly_and_says_so(tmp_path: Path) -> None:
    """The client's own check (``signing.key_problem``), for a server that lists a bad key anyway."""
    from ticketctl.services import signing

    env = client(tmp_path, "ana")
    said: list[str] = []
    env.notice = said.append

    class Listing:
        def call(self, method: str, path: str, **_kw: Any) -> Any:
            assert (method, path) == ("GET", "/sync/keys")
            good_pem = signing.public_key_pem(client(tmp_path, "bob"))
            return {"keys": {"0123456789abcdef": {"pem": "garbage", "device": "mallory", "revoked_at": None},
                             signing.key_id_of(good_pem): {"pem": good_pem, "device": "bob", "revoked_at": None},
                             "fedcba9876543210": {"pem": good_pem, "device": "eve", "revoked_at": None}}}

    sync.trust_keys(env, Listing())  # type: ignore[arg-type]
    assert sorted(v["device"] for v in signing.trusted(env).values()) == ["bob"]
    assert said == ["skipped the signing key 0123456789abcdef of device mallory: not an Ed25519 public key in PEM",
                    f"skipped the signing key fedcba9876543210 of device eve: key id 'fedcba9876543210' is not the id of that key"
                    f" (it is {signing.key_id_of(signing.public_key_pem(client(tmp_path, 'bob')))})"]

"""``ticketctl confirm KEY --qr`` shows a link the customer can open at once:
on a device that syncs it pushes first; when the server cannot be reached (or
the device does not sync) it still prints the link, says on stderr that it
works after the next sync, and ``--json`` says whether it is live. A real
server process on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sync_helpers import Server, client, fresh

from ticketctl.cli import main
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


def resolved(server: Server, root: Path) -> tuple[Env, str]:
    """A repair resolved by ana, everything synced; ana's env."""
    disp = joined(server, root, "disp", "dispatcher")
    ana = joined(server, root, "ana", "technician")
    techs.add(disp, "ana", capacity=3)
    k = tickets.create(disp, {"title": "Chiller alarm", "type": "repair", "dept": "fac", "product": "hvac"})["key"]
    tickets.assign(disp, k, "ana")
    sync.sync(disp)
    sync.sync(ana)
    tickets.start(ana, k)
    tickets.resolve(ana, k)
    return fresh(ana), k


def qr(env: Env, key: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object], str]:
    capsys.readouterr()
    code = main(["confirm", key, "--qr", "--json"], env=fresh(env))
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_the_link_answers_at_once_when_the_server_is_up(server: Server, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    ana, k = resolved(server, tmp_path)
    code, link, err = qr(ana, k, capsys)
    assert (code, err, link["live"]) == (0, "", True)
    assert str(link["url"]).startswith(f"{server.url}/c/{k}.")
    page = httpx.get(str(link["url"]), timeout=10)  # no `ticketctl sync` in between
    assert page.status_code == 200 and "Chiller alarm" in page.text
    assert sync.status(fresh(ana))["pending"] == []


def test_with_the_server_down_the_link_is_printed_and_works_after_the_next_sync(
        server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ana, k = resolved(server, tmp_path)
    sync.sync(ana)
    server.kill()
    code, link, err = qr(ana, k, capsys)
    assert code == 0 and link["live"] is False
    assert err.startswith("ticketctl: the link works after the next `ticketctl sync`: the sync server at ") and err.count("\n") == 1
    assert [p["name"] for p in sync.status(fresh(ana))["pending"]] == ["ticket.confirm_request"]
    server.start()
    assert httpx.get(str(link["url"]), timeout=10).status_code == 404  # the server has not got it yet
    capsys.readouterr()
    assert main(["sync"], env=fresh(ana)) == 0
    page = httpx.get(str(link["url"]), timeout=10)
    assert page.status_code == 200 and "Chiller alarm" in page.text


def test_a_device_that_does_not_sync_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = client(tmp_path, "solo")
    env = Env(env.home, {**env.environ, "TICKETCTL_USER": "ana"})
    techs.add(env, "ana", capacity=3)
    k = tickets.create(env, {"title": "Chiller alarm", "type": "repair", "dept": "fac", "product": "hvac"})["key"]
    tickets.assign(env, k, "ana")
    tickets.resolve(env, k)
    capsys.readouterr()
    code = main(["confirm", k, "--qr", "--url", "https://tickets.example", "--json"], env=fresh(env))
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["live"] is False
    assert err == ("ticketctl: the link works after the next `ticketctl sync`: this device does not sync with a server"
                   " (`ticketctl sync setup`)\n")

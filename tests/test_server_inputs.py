"""The server refuses what a device refuses, by the same rules: a ticket type
its config does not declare (a device with another config pushes one), and a
knowledge-base query past the bounds every search has. A real server process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sync_helpers import Server, client, fresh

from ticketctl.services import tickets
from ticketctl.sync import client as sync


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path).start()
    yield s
    s.kill()


def test_the_server_refuses_a_type_its_config_does_not_declare(server: Server, tmp_path: Path) -> None:
    env = client(tmp_path, "disp")
    env.home.config_file.parent.mkdir(parents=True, exist_ok=True)
    env.home.config_file.write_text('[types.visitt]\nchecklist = []\n')  # this device's own config knows it
    sync.setup(env, server.url, server.token("disp", "dispatcher"))
    key = tickets.create(env, {"title": "Look at the chiller", "type": "visitt", "dept": "fac", "product": "hvac"})["key"]
    r = sync.sync(fresh(env))
    assert [(x["name"], x["key"], x["reason"]) for x in r["rejected"]] == [
        ("ticket.create", key, "unknown type 'visitt' (known: repair, install, change, incident, batch)")]
    ok = tickets.create(fresh(env), {"title": "Chiller alarm", "type": "repair", "dept": "fac", "product": "hvac"})["key"]
    assert sync.sync(fresh(env))["rejected"] == []
    assert ok in {t["key"] for t in tickets.listing(fresh(env), None, None, None, "created", 50)}


@pytest.mark.parametrize("path", ["/kb", "/kb.json"])
def test_kb_queries_past_the_bounds_are_422(server: Server, path: str) -> None:
    most = " ".join(f"word{i}" for i in range(16))
    assert httpx.get(server.url + path, params={"q": most}, timeout=10).status_code == 200
    assert httpx.get(server.url + path, params={"q": most + " word16"}, timeout=10).status_code == 422
    assert httpx.get(server.url + path, params={"q": "a" * 201}, timeout=10).status_code == 422
    assert httpx.get(server.url + path, params={"q": "空调" * 9}, timeout=10).status_code == 422  # 18 characters: 17 terms


def test_json_says_why(server: Server) -> None:
    r = httpx.get(server.url + "/kb.json", params={"q": " ".join(f"w{i}x" for i in range(20))}, timeout=10)
    assert r.status_code == 422
    assert r.json()["detail"] == "the query has 20 search terms; at most 16 (a Chinese run of n characters is n-1 terms)"

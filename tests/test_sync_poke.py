"""Waiting pulls (``GET /sync/pull?wait=S``, what ``sync --watch`` sleeps on)
hold no server thread (``server.poke``), against real server processes:

- more devices wait than the one worker process has threads (40), and another
  device still pushes and pulls at once; its commit wakes every waiter with the
  new event, long before their wait is over;
- a commit made through another server process on the same database (SQLite
  and PostgreSQL) wakes a waiter of this one;
- with nothing new, a waiting pull waits its time and answers an empty page;
  with something already there, it does not wait at all.

No timing is measured here (``bench/sync.py`` measures the cost of watchers):
the margins below are the waits' own length, 30 s, against what takes a second.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_fixtures import DISPATCHER_FIELDS, Outbox, bearer, pg_databases_fixture, pg_url_fixture  # noqa: F401
from sync_helpers import Server, ServerGroup

WAIT_S = 30.0
WAITERS = 60  # more than a worker's threads (anyio's default limiter: 40)


def enrol(server: Server, name: str, role: str, prefix: str) -> str:
    token = server.token(name, role)
    r = httpx.post(f"{server.url}/sync/hello", json={"prefix": prefix}, headers=bearer(token), timeout=10)
    assert r.status_code == 200, r.text
    return token


def high_water(server: Server, token: str) -> int:
    return int(httpx.get(f"{server.url}/sync/pull", params={"after": 0, "limit": 1}, headers=bearer(token),
                         timeout=10).json()["cursor"])


async def wait_all(url: str, tokens: list[str], after: int) -> list[tuple[float, dict[str, Any]]]:
    """Every token's waiting pull at once; (seconds taken, page) each."""
    limits = httpx.Limits(max_connections=len(tokens) + 4)
    async with httpx.AsyncClient(base_url=url, timeout=WAIT_S + 30, limits=limits) as http:

        async def one(token: str) -> tuple[float, dict[str, Any]]:
            t0 = time.monotonic()
            r = await http.get("/sync/pull", params={"after": after, "wait": WAIT_S}, headers=bearer(token))
            assert r.status_code == 200, r.text
            return time.monotonic() - t0, r.json()

        return await asyncio.gather(*(one(t) for t in tokens))


def waiting_while(url: str, tokens: list[str], after: int, act: Any) -> tuple[list[tuple[float, dict[str, Any]]], Any]:
    """Start every waiting pull, give them a moment to reach the server, run
    ``act()`` meanwhile, and return the waiters' answers and what ``act`` returned."""
    out: dict[str, Any] = {}

    async def main() -> list[tuple[float, dict[str, Any]]]:
        waiters = asyncio.ensure_future(wait_all(url, tokens, after))
        await asyncio.sleep(1.0)
        assert not waiters.done(), "the waiting pulls answered before anything happened"
        out["acted"] = await asyncio.to_thread(act)
        return await waiters

    return asyncio.run(main()), out["acted"]


def create_ticket(server: Server, token: str, outbox: Outbox, key: str) -> dict[str, Any]:
    """A push and a pull by a device that is not waiting."""
    with httpx.Client(base_url=server.url, headers=bearer(token), timeout=WAIT_S / 3) as http:
        r = http.post("/sync/push", json={"mutations": [outbox("ticket.create", key=key, fields=DISPATCHER_FIELDS)]})
        assert r.status_code == 200, r.text
        (result,) = r.json()["results"]
        assert result["status"] == "applied", result
        page = http.get("/sync/pull", params={"after": 0}).json()
        assert any(e["ticket"] == key for e in page["events"])
        return dict(result)


@pytest.fixture
def server(tmp_path: Path) -> Any:
    s = Server(tmp_path).start()
    yield s
    s.kill()


def test_waiters_hold_no_thread_and_a_commit_wakes_them_all(server: Server) -> None:
    dan = enrol(server, "dan", "dispatcher", "DAN")
    watchers = [enrol(server, f"w{i}", "technician", "") for i in range(WAITERS)]
    after = high_water(server, dan)

    answers, result = waiting_while(server.url, watchers, after, lambda: create_ticket(server, dan, Outbox(), "DAN-1"))

    assert result["seq"] > after
    for took, page in answers:
        assert took < WAIT_S / 2, f"a waiter slept {took:.1f} s past the commit"
        assert page["cursor"] >= result["seq"]
        assert [e["ticket"] for e in page["events"]][:1] == ["DAN-1"]


def test_a_waiting_pull_waits_its_time_when_nothing_happens_and_not_at_all_when_something_is_there(server: Server) -> None:
    dan = enrol(server, "dan", "dispatcher", "DAN")
    after = high_water(server, dan)
    with httpx.Client(base_url=server.url, headers=bearer(dan), timeout=30) as http:
        t0 = time.monotonic()
        page = http.get("/sync/pull", params={"after": after, "wait": 1.5}).json()
        assert time.monotonic() - t0 >= 1.4
        assert page["events"] == [] and page["cursor"] == after

    result = create_ticket(server, dan, Outbox(), "DAN-1")
    with httpx.Client(base_url=server.url, headers=bearer(dan), timeout=30) as http:
        t0 = time.monotonic()
        page = http.get("/sync/pull", params={"after": after, "wait": WAIT_S}).json()
        assert time.monotonic() - t0 < WAIT_S / 2
        assert page["cursor"] == result["seq"]


def wakes_across_processes(root: Path, db: str, *args: str) -> None:
    """A waiter on server A is woken by a commit that went through server B."""
    a, b = ServerGroup(root / "a", db, *args).start(), ServerGroup(root / "b", db, *args).start()
    try:
        dan = enrol(b, "dan", "dispatcher", "DAN")
        waiters = [enrol(a, f"w{i}", "technician", "") for i in range(3)]
        after = high_water(a, dan)
        answers, result = waiting_while(a.url, waiters, after, lambda: create_ticket(b, dan, Outbox(), "DAN-1"))
        for took, page in answers:
            assert took < WAIT_S / 2, f"a waiter on the other server slept {took:.1f} s past the commit"
            assert page["cursor"] >= result["seq"] and page["events"][0]["ticket"] == "DAN-1"
    finally:
        a.kill()
        b.kill()


def test_a_commit_through_another_server_process_wakes_the_waiters_sqlite(tmp_path: Path) -> None:
    wakes_across_processes(tmp_path, f"sqlite:///{tmp_path / 'central.db'}")


def test_a_commit_through_another_server_process_wakes_the_waiters_postgresql(tmp_path: Path, pg_url: str) -> None:
    wakes_across_processes(tmp_path, pg_url, "--workers", "2")

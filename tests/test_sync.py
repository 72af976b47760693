"""Sync against a real server process on 127.0.0.1: convergence, refusals that
are listed and not dropped, and faults (server killed mid-push, replies lost,
duplicate and reordered delivery, a client dying before it saved its cursor)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sync_helpers import CLI, Server, client, fresh, server_replays, server_state

from ticketctl.errors import Refused, Unreachable
from ticketctl.services import rebuild, techs, tickets
from ticketctl.services.env import Env
from ticketctl.store.db import Store
from ticketctl.sync import client as sync
from ticketctl.sync import replica


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path).start()
    yield s
    s.kill()


def joined(server: Server, root: Path, name: str, role: str) -> Env:
    env = client(root, name)
    sync.setup(env, server.url, server.token(name, role))
    return env


def fields(title: str, **more: Any) -> dict[str, Any]:
    return {"title": title, "type": "repair", "dept": "fac", "product": "hvac", "priority": "high", **more}


def test_two_machines_converge_and_the_refused_offline_change_is_listed(server: Server, tmp_path: Path) -> None:
    disp = joined(server, tmp_path, "disp", "dispatcher")
    ana = joined(server, tmp_path, "ana", "technician")
    techs.add(disp, "ana", skills=["hvac"], capacity=3)
    techs.add(disp, "bob", skills=["hvac"], capacity=3)
    k = tickets.create(disp, fields("Chiller alarm", phone="+1 555 0100"))["key"]
    tickets.assign(disp, k, "ana")
    assert sync.sync(disp)["pushed"] == 4
    r = sync.sync(ana)
    assert r["bootstrapped"] and r["rejected"] == []
    seen = tickets.show(ana, k)
    assert (seen["status"], seen["assignee"]) == ("assigned", "ana")
    assert seen["phone"] == "", "a technician never receives the customer's phone"
    assert tickets.show(disp, k)["phone"] == "+1 555 0100"

    server.kill()  # offline: the technician starts and blocks, the dispatcher reassigns
    tickets.start(ana, k)
    tickets.block(ana, k, "awaiting_parts", {})
    tickets.assign(disp, k, "bob")
    with pytest.raises(Unreachable):
        sync.sync(ana)
    assert len(sync.status(ana)["pending"]) == 2, "work stays queued while the server is down"
    assert tickets.show(ana, k)["status"] == "blocked", "the technician sees their own change at once"

    server.start()
    assert sync.sync(disp)["rejected"] == []
    r = sync.sync(ana)
    assert [x["name"] for x in r["rejected"]] == ["ticket.start", "ticket.block"]
    assert f"{k} is assigned to bob, not to ana" in r["rejected"][0]["reason"]
    sync.sync(disp)
    a, d = tickets.show(ana, k), tickets.show(disp, k)
    assert (a["status"], a["assignee"], a["blocked_reason"]) == (d["status"], d["assignee"], d["blocked_reason"]) \
        == ("assigned", "bob", None)
    st = sync.status(ana)
    assert st["pending"] == [] and [x["reason"] for x in st["rejected"]] == [x["reason"] for x in r["rejected"]]
    for env in (ana, disp):
        assert rebuild.differences(fresh(env).store, env.config) == []
    server_replays(server.root / "central.db", disp.config)

    # discarding a rejected change drops it; nothing else moves
    ana = fresh(ana)
    sync.discard(ana, st["rejected"][0]["id"])
    assert len(sync.status(ana)["rejected"]) == 1


def test_a_technician_may_not_assign_and_retry_resubmits(server: Server, tmp_path: Path) -> None:
    disp = joined(server, tmp_path, "disp", "dispatcher")
    ana = joined(server, tmp_path, "ana", "technician")
    techs.add(disp, "ana", capacity=3)
    techs.add(disp, "bob", capacity=3)
    k = tickets.create(disp, fields("Door sensor"))["key"]
    sync.sync(disp)
    sync.sync(ana)
    with pytest.raises(Refused, match="a technician may not assign: only dispatchers and supervisors may"):
        tickets.assign(ana, k, "ana")  # the device knows its role: refused at once, nothing queued
    assert sync.status(ana)["pending"] == []

    tickets.assign(disp, k, "bob")
    sync.sync(disp)
    sync.sync(ana)
    with pytest.raises(Refused, match="is assigned to bob, not to ana"):
        tickets.note(ana, k, "parts are in the van")  # not ana's ticket: refused here too
    tickets.assign(disp, k, "ana")
    sync.sync(disp)
    sync.sync(ana)
    tickets.note(ana, k, "parts are in the van")  # offline, while the dispatcher takes it back
    tickets.assign(disp, k, "bob")
    sync.sync(disp)
    assert "assigned to bob, not to ana" in sync.sync(ana)["rejected"][0]["reason"]
    assert tickets.show(ana, k)["assignee"] == "bob"
    rid = next(x["id"] for x in sync.status(ana)["rejected"] if x["name"] == "ticket.note")
    tickets.assign(disp, k, "ana")
    sync.sync(disp)
    sync.sync(ana)
    sync.retry(ana, rid)  # now it is ana's: the same note goes out again and is applied
    assert sync.sync(ana)["rejected"] == []
    assert all(x["id"] != rid for x in sync.status(ana)["rejected"])
    sync.sync(disp)
    notes = [e for e in tickets.show(fresh(disp), k)["timeline"] if "parts are in the van" in json.dumps(e)]
    assert len(notes) == 1


def test_server_killed_mid_push_loses_nothing_and_duplicates_nothing(server: Server, tmp_path: Path) -> None:
    disp = joined(server, tmp_path, "disp", "dispatcher")
    ana = joined(server, tmp_path, "ana", "technician")
    techs.add(disp, "ana", capacity=3)
    k = tickets.create(disp, fields("Pump noise"))["key"]
    tickets.assign(disp, k, "ana")
    sync.sync(disp)
    sync.sync(ana)
    n = 0
    for delay in (0.15, 0.4, 0.8):
        for _ in range(100):
            tickets.note(ana, k, f"reading {n:03d}")
            n += 1
        ana = fresh(ana)
        p = subprocess.Popen([*CLI, "sync"], env={**os.environ, **ana.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        server.kill()
        assert p.wait(timeout=60) in (0, 3)
        server.start()
    for env in (fresh(ana), fresh(ana), fresh(disp)):
        sync.sync(env)
    timeline = tickets.show(fresh(disp), k)["timeline"]
    notes = [e["text"] if "text" in e else json.dumps(e) for e in timeline if "reading " in json.dumps(e)]
    assert len(notes) == n == 300 and len(set(notes)) == 300
    _, _, results = server_state(server.root / "central.db")
    assert len({r["mutation_id"] for r in results}) == len(results)


def test_a_lost_reply_and_reordered_delivery_apply_each_mutation_once(server: Server, tmp_path: Path) -> None:
    disp = joined(server, tmp_path, "disp", "dispatcher")
    k = tickets.create(disp, fields("Leak"))["key"]
    sync.sync(disp)
    for i in range(4):
        tickets.note(disp, k, f"n{i}")
    disp = fresh(disp)
    sync._number(disp)
    rows = disp.store.db.execute("SELECT mutation_id, client_seq, name, args, created_at FROM outbox WHERE status = 'sent'"
                                 " ORDER BY client_seq").fetchall()
    body = [{"mutation_id": m, "client_seq": c, "name": n, "args": json.loads(a), "client_ts": at} for m, c, n, a, at in rows]
    conn = sync.Connection(server.url, json.loads(disp.home.sync_file.read_text())["token"])
    try:
        late = conn.call("POST", "/sync/push", json={"mutations": body[2:]})  # reordered: 3 and 4 before 1 and 2
        assert late["expected"] == body[0]["client_seq"] and late["results"] == []
        first = conn.call("POST", "/sync/push", json={"mutations": body[:2]})  # its reply is "lost": not recorded here
        assert [r["status"] for r in first["results"]] == ["applied", "applied"]
        again = conn.call("POST", "/sync/push", json={"mutations": body})
        assert [r.get("duplicate", False) for r in again["results"]] == [True, True, False, False]
    finally:
        conn.close()
    r = sync.sync(disp)
    assert r["pending"] == []
    texts = [json.dumps(e) for e in tickets.show(fresh(disp), k)["timeline"]]
    assert [sum(f'"n{i}"' in t for t in texts) for i in range(4)] == [1, 1, 1, 1]


def test_a_client_dying_before_it_saves_the_cursor_pulls_the_page_again_once(server: Server, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    disp = joined(server, tmp_path, "disp", "dispatcher")
    other = joined(server, tmp_path, "eve", "supervisor")
    sync.sync(other)
    k = tickets.create(disp, fields("Boiler"))["key"]
    tickets.note(disp, k, "first look")
    sync.sync(disp)
    real = Store.set_meta

    def dying(self: Any, key: str, value: str | None) -> None:
        if key == replica.CURSOR and value != "0":
            raise KeyboardInterrupt  # the process is killed while the page is being written
        real(self, key, value)

    monkeypatch.setattr(Store, "set_meta", dying)
    with pytest.raises(KeyboardInterrupt):
        sync.sync(fresh(other))
    monkeypatch.undo()
    other = fresh(other)
    assert not other.store.has_ticket(k), "nothing of the page is kept without its cursor"
    sync.sync(other)
    assert [e["type"] for e in tickets.show(fresh(other), k)["timeline"]] == ["ticket.created", "ticket.noted"]


def test_a_new_client_bootstraps_from_the_snapshot_and_replays_clean(server: Server, tmp_path: Path) -> None:
    disp = joined(server, tmp_path, "disp", "dispatcher")
    techs.add(disp, "ana", capacity=2)
    keys = [tickets.create(disp, fields(f"T{i}"))["key"] for i in range(5)]
    tickets.assign(disp, keys[0], "ana")
    tickets.note(disp, keys[1], "seen")
    sync.sync(disp)
    late = joined(server, tmp_path, "sam", "supervisor")
    r = sync.sync(late)
    assert r["bootstrapped"] and r["pulled"] == 0
    assert [t["key"] for t in tickets.listing(fresh(late), limit=None)] == [t["key"] for t in tickets.listing(fresh(disp), limit=None)]
    tickets.note(late, keys[0], "checked by sam")
    sync.sync(late)
    sync.sync(disp)
    assert rebuild.differences(fresh(late).store, late.config) == []
    assert any("checked by sam" in json.dumps(e) for e in tickets.show(fresh(disp), keys[0])["timeline"])


def test_sync_not_set_up_and_unreachable_exit_codes(tmp_path: Path) -> None:
    env = {**os.environ, "TICKETCTL_HOME": str(tmp_path / "h"), "TICKETCTL_USER": "ana"}
    p = subprocess.run([*CLI, "sync"], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stderr.startswith("ticketctl: error: sync is not set up here")
    p = subprocess.run([*CLI, "sync", "setup", f"http://127.0.0.1:{_closed_port()}", "--token", "x"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 3 and "unreachable" in p.stderr and "Traceback" not in p.stderr


def _closed_port() -> int:
    from sync_helpers import free_port

    return free_port()


def test_mutation_ids_are_unique_per_action(tmp_path: Path) -> None:
    env = client(tmp_path, "ana")
    k = tickets.create(env, fields("x"))["key"]
    tickets.note(env, k, "a")
    rows = env.store.db.execute("SELECT mutation_id, name FROM outbox ORDER BY id").fetchall()
    assert [n for _, n in rows] == ["ticket.create", "ticket.note"]
    assert len({m for m, _ in rows}) == 2 and all(uuid.UUID(m) for m, _ in rows)
    ev = env.store.db.execute("SELECT DISTINCT mutation_id FROM events").fetchall()
    assert {m for (m,) in ev} == {m for m, _ in rows}


def test_sync_watch_wakes_on_the_servers_poke(server: Server, tmp_path: Path) -> None:
    disp = joined(server, tmp_path, "disp", "dispatcher")
    eve = joined(server, tmp_path, "eve", "supervisor")
    sync.sync(disp)
    sync.sync(eve)
    w = subprocess.Popen([*CLI, "sync", "--watch", "--json"], env={**os.environ, **eve.environ},
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        k = tickets.create(disp, fields("Lift stuck"))["key"]
        sync.sync(disp)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with fresh(eve).store as st:
                if st.has_ticket(k):
                    break
            time.sleep(0.2)
        else:
            pytest.fail("sync --watch did not bring the new ticket within 30 s")
        tickets.note(eve, k, "watching")  # a local change goes out without another command
        eve.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            sync.sync(disp)
            if any("watching" in json.dumps(e) for e in tickets.show(fresh(disp), k)["timeline"]):
                break
            time.sleep(0.3)
        else:
            pytest.fail("sync --watch did not push a local change within 30 s")
    finally:
        w.terminate()
        w.wait(timeout=10)


def test_two_machines_sweeping_between_syncs_leave_one_escalation_on_the_server(server: Server, tmp_path: Path) -> None:
    """An escalation is (ticket, rule, round): the server keeps the first that
    arrives and refuses a change made only of repeats, with the reason."""
    from ticketctl.services import sweep

    disp = joined(server, tmp_path, "disp", "dispatcher")
    sup = joined(server, tmp_path, "sup", "supervisor")
    k = tickets.create(disp, {**fields("Server room too hot"), "priority": "urgent"})["key"]
    sync.sync(disp)
    sync.sync(sup)
    later = {"TICKETCTL_NOW": "2099-01-05T12:00:00Z"}  # long neglected: silent, response and resolution breached
    a, b = Env(disp.home, {**disp.environ, **later}), Env(sup.home, {**sup.environ, **later})
    rules_a = sorted(x["rule"] for x in sweep.sweep(a)["actions"] if x["key"] == k)
    rules_b = sorted(x["rule"] for x in sweep.sweep(b)["actions"] if x["key"] == k)
    assert rules_a == rules_b and rules_a  # both machines escalated the same rules, offline
    assert sync.sync(a)["rejected"] == []
    r = sync.sync(b)
    _tickets, events, _results = server_state(Path(server.db.removeprefix("sqlite:///")))
    kept = [e for e in events[k] if e.type == "ticket.escalated"]
    assert sorted(e.payload["rule"] for e in kept) == rules_a  # once each
    assert [x["reason"] for x in r["rejected"]] == [  # (the server dates a change no later than its own clock)
        f"{k} was already escalated for {', '.join(rules_a)} (first at {min(e.at for e in kept)}): not recorded twice"]
    sync.sync(a)
    assert tickets.show(b, k)["escalations"] == tickets.show(a, k)["escalations"]
    assert rebuild.differences(b.store, b.config) == []


def test_a_queue_larger_than_one_request_goes_up_in_batches_the_server_takes(server: Server, tmp_path: Path) -> None:
    """A batch is packed by bytes as well as by count: 300 tickets of 120 KB each
    (a full-length Chinese title and description) are over the 32 MiB a push may
    carry, and all reach the server."""
    disp = joined(server, tmp_path, "disp", "dispatcher")
    long = "漏水" * 9_990  # 19,980 characters, under the 20,000 a text may hold
    keys = [tickets.create(disp, fields(f"{i} {long}", description=long))["key"] for i in range(300)]
    r = sync.sync(disp)
    assert (r["pushed"], r["rejected"]) == (300, [])
    server_tickets, _events, _results = server_state(tmp_path / "central.db")
    assert set(server_tickets) == set(keys) and {len(t.description) for t in server_tickets.values()} == {len(long)}

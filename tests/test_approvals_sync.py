"""Approvals across a team, against a real server process: the server judges
every decision with its own rules (only a step's approver or their active
delegate), two offline approvals of one step converge (the second is refused
and listed), and delegations reach every device, snapshots included."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_fixtures import pg_databases_fixture, pg_url_fixture  # noqa: F401
from sync_helpers import Server, client, server_on

from ticketctl.services import approvals, rebuild, techs, tickets
from ticketctl.services.env import Env
from ticketctl.sync import client as sync

TEAM = '[approvals.approvers]\nsupervisor = "sam,lee"\nregional_manager = "rita"\nfinance_director = "fred"\n'


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    s = server_on(request, tmp_path, TEAM)
    yield s
    s.kill()


def joined(server: Server, root: Path, name: str, role: str, config: str = TEAM) -> Env:
    env = client(root, name)
    env.home.root.mkdir(parents=True, exist_ok=True)
    env.home.config_file.write_text(config)
    sync.setup(env, server.url, server.token(name, role))
    return env


def sneak(env: Env, key: str) -> None:
    """Queue an approval the device's own check would refuse, as a tampered or
    outdated device could: the server must judge it by itself."""
    st = env.store
    with st.transaction():
        st.queue_mutation(str(uuid.uuid4()), "approval.approve", {"key": key, "note": None}, "2026-03-02T09:00:00Z", env.actor)


def test_the_server_holds_the_approval_rules(server: Server, tmp_path: Path) -> None:
    disp = joined(server, tmp_path, "disp", "dispatcher")
    ana = joined(server, tmp_path, "ana", "technician")
    sam = joined(server, tmp_path, "sam", "supervisor")
    lee = joined(server, tmp_path, "lee", "supervisor")
    bob = joined(server, tmp_path, "bob", "supervisor")
    techs.add(disp, "ana")
    key = tickets.create(disp, {"title": "fan seized", "type": "repair", "dept": "fac", "product": "hvac"})["key"]
    tickets.assign(disp, key, "ana")
    sync.sync(disp)
    sync.sync(ana)
    tickets.start(ana, key)
    approvals.request(ana, key, 200, "new fan")
    sync.sync(ana)
    for env in (sam, lee, bob):
        sync.sync(env)

    # offline, both supervisors approve the one supervisor step; bob, no approver, sends one past his device's check
    sneak(bob, key)
    approvals.approve(lee, key, "go ahead")
    approvals.approve(sam, key)
    assert sync.sync(lee)["rejected"] == []
    r = sync.sync(sam)
    assert [x["reason"] for x in r["rejected"]] == [f"approval #1 of {key} was already approved by lee at "
                                                    f"{approvals.show(lee, key)['steps'][0]['at']}"]
    assert [x["name"] for x in sync.status(sam)["rejected"]] == ["approval.approve"]  # listed, not dropped
    r = sync.sync(bob)
    assert [x["reason"] for x in r["rejected"]] == [f"approval #1 of {key} was already approved by lee at "
                                                    f"{approvals.show(lee, key)['steps'][0]['at']}"]
    for env in (disp, ana, sam):
        sync.sync(env)
        a = approvals.show(env, key)
        assert (a["status"], a["steps"][0]["by"], tickets.show(env, key)["status"]) == ("approved", "lee", "in_progress")
        assert rebuild.differences(env.store, env.config) == []


def test_a_delegation_reaches_the_team_and_only_the_delegate_stands_in(server: Server, tmp_path: Path) -> None:
    disp = joined(server, tmp_path, "disp", "dispatcher")
    bob = joined(server, tmp_path, "bob", "supervisor")
    dan = joined(server, tmp_path, "dan", "technician")
    techs.add(disp, "dan")
    key = tickets.create(disp, {"title": "boiler", "type": "repair", "dept": "fac", "product": "heating"})["key"]
    tickets.assign(disp, key, "dan")
    sync.sync(disp)
    sync.sync(dan)
    tickets.start(dan, key)
    approvals.request(dan, key, 1500, "new pump")  # medium: supervisor and regional manager
    approvals.delegate(disp, "rita", "dan", "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z")  # rita is away: dan stands in
    sync.sync(dan)
    sync.sync(disp)
    sync.sync(bob)
    sneak(bob, key)
    assert "bob may not decide" in sync.sync(bob)["rejected"][0]["reason"]
    sync.sync(dan)
    assert [(r["key"], r["steps"][0]["for"]) for r in approvals.pending(dan, mine=True)] == [(key, "rita")]
    approvals.approve(dan, key)
    assert sync.sync(dan)["rejected"] == []

    fred = joined(server, tmp_path, "fred", "supervisor")
    assert sync.sync(fred)["bootstrapped"]
    assert approvals.delegations(fred)[0]["to"] == "dan"  # the snapshot carries it
    assert [(s["role"], s["by"], s["for"]) for s in approvals.show(fred, key)["steps"]] == [
        ("supervisor", None, None), ("regional_manager", "dan", "rita")]
    assert rebuild.differences(fred.store, fred.config) == []

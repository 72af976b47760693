"""Hypothesis stateful test of sync: three devices (a dispatcher and two
technicians) make random changes offline, sync in random orders, and lose the
server at random moments. At the end, after everyone syncs twice:

- every device's tickets equal the server's (the technicians' without phones);
- the server's projections equal a replay of its events;
- every mutation any device made was applied or rejected exactly once;
- no technician holds more open tickets than their capacity.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sync_helpers import Server, client, fresh, server_replays, server_state

from ticketctl.core.model import HELD_STATUSES
from ticketctl.errors import TicketctlError, Unreachable
from ticketctl.services import techs, tickets
from ticketctl.services.env import Env
from ticketctl.sync import client as sync

NAMES = ("disp", "ana", "bob")
RUN = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> object:
    s = Server(tmp_path_factory.mktemp("stateful")).start()
    yield s
    s.kill()


class Devices(RuleBasedStateMachine):
    server: Server
    root: Path

    def __init__(self) -> None:
        super().__init__()
        self.run = next(RUN)
        self.envs: dict[str, Env] = {}
        self.keys: list[str] = []
        self.made: set[str] = set()
        self.up = True

    @initialize()
    def join(self) -> None:
        if self.server.proc is None or self.server.proc.poll() is not None:
            self.server.start()
        roles = {"disp": "dispatcher", "ana": "technician", "bob": "technician"}
        for n in NAMES:
            env = client(self.root / f"run{self.run}", n)
            device = f"{n}{self.run}"
            env = Env(env.home, {**env.environ, "TICKETCTL_USER": device})
            sync.setup(env, self.server.url, self.server.token(device, roles[n]))
            self.envs[n] = env
        d = self.envs["disp"]
        for n in ("ana", "bob"):
            techs.add(d, f"{n}{self.run}", capacity=2)
        self._sync("disp")

    def _sync(self, name: str) -> None:
        env = self.envs[name] = fresh(self.envs[name])
        try:
            sync.sync(env)
        except Unreachable:
            assert not self.up
        self.envs[name] = fresh(env)

    def _try(self, fn: object, *args: object) -> None:
        """Run an action on a device; one the device refuses queues nothing."""
        env = args[0]
        assert isinstance(env, Env)
        before = env.store.db.execute("SELECT count(*), coalesce(max(id), 0) FROM outbox").fetchone()
        try:
            fn(*args)  # type: ignore[operator]
        except TicketctlError:
            assert env.store.db.execute("SELECT count(*), coalesce(max(id), 0) FROM outbox").fetchone() == before

    @rule(who=st.sampled_from(NAMES), prio=st.sampled_from(["low", "high", "urgent"]))
    def create(self, who: str, prio: str) -> None:
        t = tickets.create(self.envs[who], {"title": f"t{len(self.keys)}", "type": "repair", "dept": "fac", "product": "hvac",
                                            "priority": prio, "phone": "+1 555 0101" if who == "disp" else ""})  # a technician writes none
        self.keys.append(t["key"])

    @precondition(lambda self: self.keys)
    @rule(i=st.integers(0, 50), tech=st.sampled_from(["ana", "bob"]))
    def assign(self, i: int, tech: str) -> None:
        self._try(tickets.assign, self.envs["disp"], self.keys[i % len(self.keys)], f"{tech}{self.run}")

    @precondition(lambda self: self.keys)
    @rule(who=st.sampled_from(NAMES), i=st.integers(0, 50),
          action=st.sampled_from(["start", "block", "unblock", "note", "resolve", "reopen"]))
    def work(self, who: str, i: int, action: str) -> None:
        env, key = self.envs[who], self.keys[i % len(self.keys)]
        if action == "block":
            self._try(tickets.block, env, key, "awaiting_parts", {})
        elif action == "note":
            self._try(tickets.note, env, key, f"{who} was here")
        else:
            self._try(getattr(tickets, action), env, key)

    @rule(who=st.sampled_from(NAMES))
    def sync_one(self, who: str) -> None:
        self._sync(who)

    @rule()
    def partition(self) -> None:
        """The server goes away (SIGKILL) or comes back."""
        if self.up:
            self.server.kill()
        else:
            self.server.start()
        self.up = not self.up

    @invariant()
    def note_what_was_queued(self) -> None:
        """Every mutation any device queued (rows leave the outbox once settled)."""
        for env in self.envs.values():
            self.made |= {m for (m,) in env.store.db.execute("SELECT mutation_id FROM outbox")}

    def teardown(self) -> None:
        if not self.up:
            self.server.start()
            self.up = True
        made = set(self.made)
        for _ in range(2):
            for n in NAMES:
                self._sync(n)
        db = self.server.root / "central.db"
        server_tickets, _, results = server_state(db)
        mine = {k: t for k, t in server_tickets.items() if k in self.keys}
        for n, env in self.envs.items():
            env = fresh(env)
            local = {t.key: t for t in env.store.select_tickets("", (), "key", None) if t.key in self.keys}
            want = {k: (replace(t, phone="") if n != "disp" else t) for k, t in mine.items()}
            assert local == want, f"{n} differs from the server"
            assert sync.status(env)["pending"] == []
        ids = [r["mutation_id"] for r in results]
        assert len(ids) == len(set(ids)), "a mutation was applied or rejected twice"
        assert made <= set(ids), "a mutation was never applied nor rejected"
        server_replays(db, self.envs["disp"].config)
        held: dict[str, int] = {}
        for t in server_tickets.values():
            if t.assignee and t.status in HELD_STATUSES:
                held[t.assignee] = held.get(t.assignee, 0) + 1
        assert all(n <= 2 for n in held.values()), held
        for env in self.envs.values():
            env.close()


def test_devices_converge(server: Server, tmp_path: Path) -> None:
    Devices.server, Devices.root = server, tmp_path
    machine = Devices.TestCase
    machine.settings = settings(max_examples=12, stateful_step_count=25, deadline=None, derandomize=True,
                                suppress_health_check=list(HealthCheck))
    machine().runTest()

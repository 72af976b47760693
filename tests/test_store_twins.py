"""The mutation services give the same answer on a device and on the server.

A named mutation runs first against the device's ``Store`` and again, when
pushed, against the server's ``ServerStore`` (``store.protocol.MutationStore``
is what both implement). Here the same sequence of mutations runs through the
one pipeline (``services.mutations.prepare`` then the function inside its
intent) against a throwaway device store and a throwaway server database
(SQLite, migrated by ``server.store.engine.migrate``, each mutation in its own
server transaction as ``/sync/push`` runs it), and both must give the same
ticket and technician projections, the same events (types, payloads, actors,
times, mutation ids) and the same refusals (a rule's refusal word for word;
a look-up of something missing by its kind and what it names: the server's
``NotFound`` leaves out the device's hint on how to add it).

Both stores are also checked against the protocol by mypy
(:func:`test_both_stores_satisfy_the_protocol`).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ticketctl.core.model import parse_time
from ticketctl.errors import TicketctlError
from ticketctl.home import Home
from ticketctl.server.context import server_env
from ticketctl.server.store.engine import engine_for, lock_sequence, migrate
from ticketctl.server.store.team import ServerStore
from ticketctl.services.env import Env
from ticketctl.services.mutations import intent, load_mutations, perform, prepare
from ticketctl.store.db import Store
from ticketctl.store.protocol import MutationStore

NOW = "2026-03-02T09:00:00Z"
ACTOR = "sam"  # the supervisor: may approve the small path
CONFIG = '[approvals.approvers]\nsupervisor = "sam"\n'


def both_satisfy_the_protocol(device: Store, server: ServerStore) -> tuple[MutationStore, MutationStore]:
    """Type-checked by :func:`test_both_stores_satisfy_the_protocol`."""
    return device, server


class Twins:
    """A device store and a server database, fed the same mutations."""

    def __init__(self, root: Path):
        load_mutations()
        (root / "device").mkdir()
        (root / "device" / "config.toml").write_text(CONFIG, encoding="utf-8")
        self.environ = {"TICKETCTL_HOME": str(root / "device"), "TICKETCTL_USER": ACTOR, "TICKETCTL_NOW": NOW}
        self.device = Env(Home.from_env(self.environ), dict(self.environ))
        self.prefix = self.device.store.meta("key_prefix")
        self.engine = engine_for(f"sqlite:///{root / 'server.db'}")
        migrate(self.engine)
        self.minutes = 0

    def close(self) -> None:
        self.device.close()
        self.engine.dispose()

    def run(self, name: str, /, **args: Any) -> tuple[Any, Any]:
        """Run mutation ``name`` on both sides at the same moment; each side's
        result, or its refusal as (exception type, message)."""
        self.minutes += 1
        now = parse_time(NOW) + timedelta(minutes=self.minutes)
        mid = str(uuid.uuid4())
        self.device.__dict__["now"] = now
        try:
            mine: Any = perform(self.device, name, args, mutation_id=mid)
        except TicketctlError as e:
            mine = (type(e).__name__, str(e))
        try:
            with self.engine.begin() as c:
                lock_sequence(c)
                st = ServerStore(c, ACTOR, self.prefix)
                env = server_env(self.device.home, self.device.config, st, ACTOR, now)
                call = prepare(env, name, args, check=True)
                with intent(env, call.name, call.args, mid):
                    theirs: Any = call.run(env)
                st.flush()
        except TicketctlError as e:
            theirs = (type(e).__name__, str(e))
        return mine, theirs

    def same(self, name: str, /, **args: Any) -> Any:
        """Run ``name`` on both sides and check the answers agree; the device's answer."""
        mine, theirs = self.run(name, **args)
        assert isinstance(mine, dict), f"{name} was refused on the device: {mine}"
        assert mine == theirs, name
        return mine

    def refused(self, name: str, /, **args: Any) -> str:
        """Run ``name`` on both sides, check both refuse it alike; the reason."""
        mine, theirs = self.run(name, **args)
        assert isinstance(mine, tuple), f"{name} was not refused on the device: {mine}"
        if mine[0] == "NotFound":
            # the server's look-ups name what is missing without the device's hint (`ticketctl tech add ...`)
            assert theirs[0] == "NotFound" and mine[1].startswith(theirs[1]), (name, mine, theirs)
        else:
            assert mine == theirs, name
        return str(mine[1])

    def server_state(self) -> tuple[dict[str, Any], dict[str, Any], list[tuple[Any, ...]], dict[str, Any]]:
        with self.engine.connect() as c:
            st = ServerStore(c, ACTOR, self.prefix)
            return _state(st, [t.name for t in st.techs()], list(st.events()))

    def device_state(self) -> tuple[dict[str, Any], dict[str, Any], list[tuple[Any, ...]], dict[str, Any]]:
        st = self.device.store
        return _state(st, [t.name for t in st.techs()], list(st.events()))


def _state(st: Any, names: list[str], events: list[Any]) -> tuple[dict[str, Any], dict[str, Any], list[tuple[Any, ...]], dict[str, Any]]:
    keys = sorted({e.ticket for e in events if e.ticket and st.has_ticket(e.ticket)})
    tickets = {k: asdict(st.ticket(k)) for k in keys}
    techs = {n: asdict(st.tech(n)) for n in names}
    # what both sides record alike: the device's own number and name for itself differ by design
    evs = [(e.ticket, e.type, e.payload, e.actor, e.at, e.mutation_id) for e in events]
    articles = {a: asdict(st.article(a)) for a in sorted({e.ticket for e in events if e.type.startswith("kb.")})}
    return tickets, techs, evs, articles


@pytest.fixture
def twins(tmp_path: Path) -> Any:
    t = Twins(tmp_path)
    yield t
    t.close()


def test_every_kind_of_mutation_gives_the_same_state_events_and_refusals(twins: Twins) -> None:
    k = f"{twins.prefix}-1"
    fields = {"title": "Compressor trips", "type": "change", "dept": "facilities", "product": "hvac", "priority": "high",
              "customer": "ACME", "phone": "555-0100"}
    twins.same("tech.add", name="ana", skills=["hvac"], capacity=1)
    twins.same("tech.add", name="bob", capacity=1)
    assert "already exists" in twins.refused("tech.add", name="ana")
    twins.same("tech.update", name="ana", zone="north", capacity=2, delegate="bob")
    assert "no technician" in twins.refused("tech.update", name="zed", zone="north")

    twins.same("ticket.create", key=k, fields=fields)
    assert "already exists" in twins.refused("ticket.create", key=k, fields=fields)
    twins.same("ticket.create", key=f"{twins.prefix}-2", fields={**fields, "title": "Second"})
    assert "not" in twins.refused("ticket.start", key=k)  # nobody holds it yet
    twins.same("ticket.assign", key=k, name="ana")
    twins.same("ticket.assign", key=f"{twins.prefix}-2", name="bob")
    twins.same("ticket.start", key=k)
    twins.same("ticket.note", key=k, text="compressor hot, fan seized")
    twins.same("ticket.block", key=k, reason="awaiting_parts", details={"note": "fan on order"})
    assert twins.refused("ticket.block", key=k, reason="awaiting_parts", details={})
    twins.same("ticket.unblock", key=k, note="fan arrived")
    twins.same("ticket.edit", key=k, changes={"title": "Compressor trips (fan)"}, priority="urgent", dept="it")
    assert twins.refused("ticket.edit", key=k, changes={"status": "closed"})

    twins.same("approval.request", key=k, cost=100.0, what="new fan motor", attachments=[])
    assert twins.refused("approval.request", key=k, cost=100.0, what="again", attachments=[])
    twins.same("approval.approve", key=k, note="go ahead")
    assert twins.refused("approval.approve", key=k)

    twins.same("ticket.resolve", key=k, note="fan replaced")
    assert "cannot close" in twins.refused("ticket.close", key=k, checks=[])
    twins.same("ticket.close", key=k, checks=["backup_done", "rollback_plan", "stakeholders_notified"])
    a = f"KB-{twins.prefix}-1"
    twins.same("kb.add", article=a, fields={"title": "Seized condenser fan", "problem": "Compressor trips", "product": "hvac",
                                            "solution": "Replace the fan motor."}, ticket=k)
    assert "already exists" in twins.refused("kb.add", article=a, fields={"title": "x"}, ticket=None)
    assert "no field" in twins.refused("kb.edit", article=a, fields={"body": "y"})
    twins.same("kb.edit", article=a, fields={"solution": "Replace the fan motor; check its capacitor."})

    twins.same("ticket.reopen", key=k, reason="trips again")
    twins.same("ticket.cancel", key=f"{twins.prefix}-2", reason="duplicate")
    assert twins.refused("ticket.start", key=f"{twins.prefix}-2")

    assert twins.device_state() == twins.server_state()
    tickets, techs, events, articles = twins.device_state()
    assert tickets[k]["dept"] == "it" and tickets[k]["reopen_count"] == 1
    assert techs["ana"]["delegate"] == "bob" and set(articles) == {a}
    assert len(events) > 20


def test_the_capacity_rule_refuses_alike(twins: Twins) -> None:
    """The one rule that reads counts across tickets: the device's are SQL counts,
    the server's the database's corrected for what its transaction buffered."""
    fields = {"title": "Leak", "type": "change", "dept": "facilities", "product": "plumbing"}
    twins.same("tech.add", name="cy", capacity=1)
    for n in (1, 2):
        twins.same("ticket.create", key=f"{twins.prefix}-{n}", fields=fields)
    twins.same("ticket.assign", key=f"{twins.prefix}-1", name="cy")
    assert "capacity" in twins.refused("ticket.assign", key=f"{twins.prefix}-2", name="cy")
    twins.same("ticket.assign", key=f"{twins.prefix}-2", name="cy", force=True)
    assert twins.device_state() == twins.server_state()


def test_both_stores_satisfy_the_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    """mypy checks :func:`both_satisfy_the_protocol`: the device's Store and the
    server's ServerStore are each a MutationStore (every method, compatible
    signatures)."""
    api = pytest.importorskip("mypy.api")
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)  # mypy finds the package from the checkout (an editable install hides it)
    out, err, status = api.run(["--follow-imports=silent", "--no-error-summary", "--cache-dir", str(root / ".mypy_cache"),
                                str(Path(__file__).resolve())])
    assert status == 0, out + err

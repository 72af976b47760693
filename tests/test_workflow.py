"""The workflow through the services on a real store: every action from every
state, block reasons, checklists, cancel, and ticket key resolution."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ticketctl.core.config import config_from_dict
from ticketctl.core.model import STATUSES, Event, iso
from ticketctl.core.views import event_public
from ticketctl.core.workflow import ALLOWED_FROM, fold
from ticketctl.errors import BadInput, NotFound, Refused
from ticketctl.home import Home
from ticketctl.services import confirm, rebuild, techs, tickets
from ticketctl.services.env import Env
from ticketctl.store.db import KEY_LETTERS, Store

T0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
CONFIG_TOML = '[calendar]\ntimezone = "Europe/Berlin"\n'
REPAIR_CHECKS = ["function_test", "safety_reset", "parts_recorded"]
COLLAB = {"collaborator": "facilities", "deliverable": "power to rack 4", "deadline": "2024-03-06T17:00",
          "expected_result": "rack powered"}


class World:
    """A ticketctl home in a folder; every action runs in a fresh Env whose clock
    is a given moment, as a given user."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        (root / "config.toml").write_text(CONFIG_TOML)
        self.root = root
        self.now = T0
        self.cfg = config_from_dict({"calendar": {"timezone": "Europe/Berlin"}})
        self.store = Store(root / "ticketctl.db")

    def env(self, user: str = "disp", now: datetime | None = None) -> Env:
        environ = {"TICKETCTL_HOME": str(self.root), "TICKETCTL_NOW": iso(now or self.now), "TICKETCTL_USER": user}
        return Env(Home.from_env(environ), environ)

    def do(self, fn: Callable[..., Any], *args: Any, user: str = "disp", minutes: int = 0, **kw: Any) -> Any:
        """Run a service ``minutes`` after the previous action."""
        self.now += timedelta(minutes=minutes)
        env = self.env(user)
        try:
            return fn(env, *args, **kw)
        finally:
            env.close()

    def new(self, type_: str = "repair", **fields: Any) -> str:
        return self.do(tickets.create, {"title": "Printer jams", "type": type_, "dept": "it", "product": "printer",
                                        **fields}, minutes=1)["key"]

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a refused action must leave alone."""
        events = [event_public(e) for e in self.store.events()]
        tks, tcs = rebuild.stored(self.store)
        meta = dict(self.store.db.execute("SELECT key, value FROM meta").fetchall())
        return events, {k: asdict(v) for k, v in tks.items()}, {k: asdict(v) for k, v in tcs.items()}, meta

    def status(self, key: str) -> str:
        return self.store.ticket(key).status

    def events(self, key: str) -> list[Event]:
        return list(self.store.events(key))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path / "home")
    for name in ("ana", "bob", "cem"):
        w.do(techs.add, name)
    yield w
    assert rebuild.differences(w.store, w.cfg) == []  # every test leaves projections = replay
    w.store.close()


def confirmed(w: World, key: str, minutes: int = 1) -> None:
    """The customer's confirmation that a repair needs before it closes."""
    w.do(confirm.confirm, key, [5, 5, 4], "works again, thank you", "Kim", user="ana", minutes=minutes)


def close_repair(w: World, key: str, minutes: int = 3) -> Any:
    """Close a resolved repair: the customer confirms first, unless they already did."""
    if w.store.ticket(key).status == "resolved" and not w.store.ticket(key).confirmation:
        confirmed(w, key)
    return w.do(tickets.close, key, REPAIR_CHECKS, user="ana", minutes=minutes)


# -- every action from every state ------------------------------------------------------------


def reach(w: World, state: str) -> str:
    """A repair ticket in ``state`` (blocked from in_progress, held by ana; once
    resolved, the customer has confirmed)."""
    key = w.new()
    if state == "new":
        return key
    if state == "cancelled":
        w.do(tickets.cancel, key, "duplicate", minutes=5)
        return key
    w.do(tickets.assign, key, "ana", minutes=5)
    if state == "assigned":
        return key
    w.do(tickets.start, key, user="ana", minutes=5)
    if state == "in_progress":
        return key
    if state == "blocked":
        w.do(tickets.block, key, "awaiting_parts", {"note": "relay"}, user="ana", minutes=5)
        return key
    w.do(tickets.resolve, key, user="ana", minutes=30)
    confirmed(w, key)  # the customer's word; a repair closes only with it
    if state == "resolved":
        return key
    assert state == "closed"
    close_repair(w, key, minutes=5)
    return key


ACTIONS: dict[str, Callable[[World, str], Any]] = {
    "assign": lambda w, k: w.do(tickets.assign, k, "cem", minutes=3),
    "start": lambda w, k: w.do(tickets.start, k, user="ana", minutes=3),
    "block": lambda w, k: w.do(tickets.block, k, "awaiting_parts", {}, user="ana", minutes=3),
    "unblock": lambda w, k: w.do(tickets.unblock, k, user="ana", minutes=3),
    "resolve": lambda w, k: w.do(tickets.resolve, k, "done", user="ana", minutes=3),
    "close": lambda w, k: w.do(tickets.close, k, REPAIR_CHECKS, user="ana", minutes=3),
    "reopen": lambda w, k: w.do(tickets.reopen, k, "still broken", minutes=3),
    "cancel": lambda w, k: w.do(tickets.cancel, k, "customer withdrew", minutes=3),
}

# status after a legal action from a state (blocked tickets here were in_progress before)
AFTER = {
    ("assign", "new"): "assigned",
    ("assign", "assigned"): "assigned",
    ("assign", "in_progress"): "assigned",
    ("assign", "blocked"): "blocked",
    ("start", "assigned"): "in_progress",
    ("block", "assigned"): "blocked",
    ("block", "in_progress"): "blocked",
    ("unblock", "blocked"): "in_progress",
    ("resolve", "assigned"): "resolved",
    ("resolve", "in_progress"): "resolved",
    ("close", "resolved"): "closed",
    ("reopen", "resolved"): "assigned",
    ("reopen", "closed"): "assigned",
    **{("cancel", s): "cancelled" for s in ("new", "assigned", "in_progress", "blocked")},
}


def test_allowed_from_matches_the_design() -> None:
    """The lifecycle verbs of DESIGN.md "Workflow" (later verbs such as stall
    answers have their own tests)."""
    legal = {(a, s) for a in ACTIONS for s in ALLOWED_FROM[a]}
    assert legal == set(AFTER)
    assert all(s in STATUSES for froms in ALLOWED_FROM.values() for s in froms)


@pytest.mark.parametrize("state", STATUSES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_from_every_state(world: World, action: str, state: str) -> None:
    key = reach(world, state)
    assert world.status(key) == state
    before = world.snapshot()
    if state in ALLOWED_FROM[action]:
        out = ACTIONS[action](world, key)
        assert out["status"] == AFTER[action, state]
        assert world.status(key) == out["status"]
        new_events = world.snapshot()[0][len(before[0]):]
        assert new_events, "a legal action appends events"
        assert len({e["mutation_id"] for e in new_events}) == 1  # one action, one mutation
        assert [e["device_seq"] for e in new_events] == list(
            range(before[0][-1]["device_seq"] + 1, before[0][-1]["device_seq"] + 1 + len(new_events))
        )
    else:
        with pytest.raises(Refused) as err:
            ACTIONS[action](world, key)
        assert f"cannot {action}" in str(err.value)
        assert state in str(err.value)
        assert world.snapshot() == before


@pytest.mark.parametrize("state", STATUSES)
def test_note_is_allowed_unless_cancelled(world: World, state: str) -> None:
    key = reach(world, state)
    before = world.snapshot()
    if state == "cancelled":
        with pytest.raises(Refused):
            world.do(tickets.note, key, "called back", user="ana")
        assert world.snapshot() == before
    else:
        out = world.do(tickets.note, key, "called back", user="ana", minutes=1)
        assert out["status"] == state
        assert world.events(key)[-1].payload == {"text": "called back"}
    with pytest.raises(BadInput):
        world.do(tickets.note, key, "   ")


def test_assigning_to_the_current_assignee_is_refused(world: World) -> None:
    key = reach(world, "in_progress")
    before = world.snapshot()
    with pytest.raises(Refused, match="already assigned to ana"):
        world.do(tickets.assign, key, "ana")
    assert world.snapshot() == before
    with pytest.raises(NotFound, match="zed"):
        world.do(tickets.assign, key, "zed")
    assert world.snapshot() == before
    out = world.do(tickets.assign, key, "bob", minutes=2)
    assert out["assignee"] == "bob"
    assert world.events(key)[-1].payload == {"assignee": "bob", "previous": "ana"}


# -- blocking ---------------------------------------------------------------------------------


def test_unknown_block_reason_is_bad_input(world: World) -> None:
    key = reach(world, "in_progress")
    before = world.snapshot()
    with pytest.raises(BadInput) as err:
        world.do(tickets.block, key, "lunch", {}, user="ana")
    assert "lunch" in str(err.value)
    assert "awaiting_customer" in str(err.value)  # the menu is offered
    assert world.snapshot() == before


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"collaborator": "facilities"},
        {"collaborator": "facilities", "deliverable": "power", "deadline": "2024-03-06T17:00"},
        {"deliverable": "power", "expected_result": "ok"},
        {**COLLAB, "collaborator": "   "},  # blank counts as missing
    ],
)
def test_collaboration_needs_the_four_fields(world: World, given: dict[str, str]) -> None:
    key = reach(world, "assigned")
    before = world.snapshot()
    with pytest.raises(BadInput) as err:
        world.do(tickets.block, key, "awaiting_collaboration", given, user="ana")
    msg = str(err.value)
    flags = {"collaborator": "--collaborator", "deliverable": "--deliverable", "deadline": "--deadline",
             "expected_result": "--expect"}
    for field, flag in flags.items():
        missing = not str(given.get(field) or "").strip()
        assert (flag in msg) is missing, (flag, msg)
    assert world.snapshot() == before


def test_collaboration_with_a_bad_deadline_is_bad_input(world: World) -> None:
    key = reach(world, "assigned")
    before = world.snapshot()
    with pytest.raises(BadInput, match="deadline"):
        world.do(tickets.block, key, "awaiting_collaboration", {**COLLAB, "deadline": "next tuesday"}, user="ana")
    assert world.snapshot() == before


def test_collaboration_block_is_stored(world: World) -> None:
    key = reach(world, "in_progress")
    out = world.do(tickets.block, key, "awaiting_collaboration", {**COLLAB, "note": "asked Jo"}, user="ana", minutes=5)
    assert out["status"] == "blocked"
    assert out["blocked_reason"] == "awaiting_collaboration"
    stored = {**COLLAB, "deadline": "2024-03-06T17:00:00Z", "note": "asked Jo"}  # the deadline kept as ISO-8601 UTC
    assert out["block"] == stored
    assert out["blocked_since"] == iso(world.now)
    t = world.store.ticket(key)
    assert t.block == stored
    assert t.status_before_block == "in_progress"
    assert world.events(key)[-1].payload == {"reason": "awaiting_collaboration", **stored}
    # shown with its timeline
    shown = world.do(tickets.show, key)
    assert shown["block"] == out["block"]
    assert shown["timeline"][-1]["payload"]["collaborator"] == "facilities"
    # unblocking clears the block
    out = world.do(tickets.unblock, key, "power is back", user="ana", minutes=60)
    assert out["block"] == {} and out["blocked_reason"] is None and out["blocked_since"] is None
    assert out["blocked_seconds"] == {"awaiting_collaboration": 3600}


def test_blocked_time_accumulates_per_reason(world: World) -> None:
    key = reach(world, "in_progress")  # Monday morning: all blocks below are inside business hours
    world.do(tickets.block, key, "awaiting_parts", {}, user="ana", minutes=10)
    world.do(tickets.unblock, key, user="ana", minutes=120)
    world.do(tickets.block, key, "awaiting_customer", {}, user="ana", minutes=15)
    out = world.do(tickets.unblock, key, user="ana", minutes=45)
    assert out["blocked_seconds"] == {"awaiting_parts": 7200, "awaiting_customer": 2700}
    world.do(tickets.block, key, "awaiting_parts", {}, user="ana", minutes=5)
    out = world.do(tickets.unblock, key, user="ana", minutes=30)
    assert out["blocked_seconds"] == {"awaiting_parts": 7200 + 1800, "awaiting_customer": 2700}
    # a cancel while blocked closes the running block too
    world.do(tickets.block, key, "awaiting_customer", {}, user="ana", minutes=5)
    out = world.do(tickets.cancel, key, "customer gone", minutes=20)
    assert out["blocked_seconds"] == {"awaiting_parts": 9000, "awaiting_customer": 2700 + 1200}
    assert out["blocked_reason"] is None and out["status"] == "cancelled"


@pytest.mark.parametrize("before_block", ["assigned", "in_progress"])
def test_unblock_returns_to_the_state_before_the_block(world: World, before_block: str) -> None:
    key = reach(world, before_block)
    world.do(tickets.block, key, "awaiting_approval", {}, user="ana", minutes=5)
    assert world.status(key) == "blocked"
    out = world.do(tickets.unblock, key, user="ana", minutes=5)
    assert out["status"] == before_block
    assert world.store.ticket(key).status_before_block is None


def test_reassigning_a_blocked_ticket_keeps_it_blocked(world: World) -> None:
    key = reach(world, "blocked")  # held by ana, blocked from in_progress
    out = world.do(tickets.assign, key, "bob", minutes=5)
    assert out["status"] == "blocked"
    assert out["assignee"] == "bob"
    assert out["blocked_reason"] == "awaiting_parts"
    assert out["block"] == {"note": "relay"}
    # bob has not started it: unblocking hands it back as assigned to bob
    out = world.do(tickets.unblock, key, user="bob", minutes=5)
    assert out["status"] == "assigned" and out["assignee"] == "bob"


# -- closing ----------------------------------------------------------------------------------


def test_close_refused_naming_missing_items_and_nothing_written(world: World) -> None:
    key = reach(world, "resolved")
    before = world.snapshot()
    with pytest.raises(Refused) as err:
        world.do(tickets.close, key, ["function_test"], user="ana")
    msg = str(err.value)
    assert "safety_reset" in msg and "parts_recorded" in msg and "function_test" not in msg
    assert world.snapshot() == before
    assert not [e for e in world.events(key) if e.type == "ticket.checked"]
    with pytest.raises(Refused) as err:
        world.do(tickets.close, key, [], user="ana")
    assert all(i in str(err.value) for i in REPAIR_CHECKS)
    assert world.snapshot() == before


def test_close_with_every_check(world: World) -> None:
    key = reach(world, "resolved")
    out = world.do(tickets.close, key, [*REPAIR_CHECKS, "function_test"], user="ana", minutes=10)  # a repeat is fine
    assert out["status"] == "closed"
    assert out["closed_at"] == iso(world.now)
    evs = world.events(key)[-4:]
    assert [e.type for e in evs] == ["ticket.checked"] * 3 + ["ticket.closed"]
    assert [e.payload.get("item") for e in evs[:3]] == REPAIR_CHECKS
    assert len({e.mutation_id for e in evs}) == 1
    t = world.store.ticket(key)
    assert t.checks == {i: {"at": iso(world.now), "by": "ana"} for i in REPAIR_CHECKS}
    shown = world.do(tickets.show, key)
    assert [c["done"] for c in shown["checklist"]] == [True, True, True]


def test_unknown_check_item_is_bad_input(world: World) -> None:
    key = reach(world, "resolved")
    before = world.snapshot()
    with pytest.raises(BadInput) as err:
        world.do(tickets.close, key, [*REPAIR_CHECKS, "site_clean"], user="ana")
    assert "site_clean" in str(err.value) and "function_test" in str(err.value)
    assert world.snapshot() == before


def test_type_without_checklist_closes_without_checks(world: World) -> None:
    key = world.new(type_="incident")  # declared, with no checklist
    world.do(tickets.assign, key, "ana")
    world.do(tickets.resolve, key, user="ana")
    before = world.snapshot()
    with pytest.raises(BadInput, match="none"):
        world.do(tickets.close, key, ["function_test"])
    assert world.snapshot() == before
    assert world.do(tickets.close, key, [])["status"] == "closed"


def test_reopen_clears_checks(world: World) -> None:
    key = reach(world, "closed")
    assert set(world.store.ticket(key).checks) == set(REPAIR_CHECKS)
    out = world.do(tickets.reopen, key, "still jams", minutes=60)
    assert out["status"] == "assigned" and out["reopen_count"] == 1
    assert out["closed_at"] is None and out["resolved_at"] is None
    assert world.store.ticket(key).checks == {}
    world.do(tickets.start, key, user="ana", minutes=5)
    world.do(tickets.resolve, key, user="ana", minutes=5)
    before = world.snapshot()
    with pytest.raises(Refused, match="function_test"):
        world.do(tickets.close, key, [], user="ana")  # the old checks do not count any more
    with pytest.raises(Refused, match="no customer confirmation"):
        world.do(tickets.close, key, REPAIR_CHECKS, user="ana")  # nor does the old confirmation
    assert world.snapshot() == before
    confirmed(world, key)
    assert world.do(tickets.close, key, REPAIR_CHECKS, user="ana")["status"] == "closed"


def test_refused_close_keeps_no_partial_checks(world: World) -> None:
    key = reach(world, "resolved")
    with pytest.raises(Refused):
        world.do(tickets.close, key, REPAIR_CHECKS[:2], user="ana")
    assert world.store.ticket(key).checks == {}  # the two valid checks were not kept either


# -- cancel -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "\t\n"])
def test_cancel_needs_a_reason(world: World, reason: str) -> None:
    key = reach(world, "assigned")
    before = world.snapshot()
    with pytest.raises(BadInput, match="reason"):
        world.do(tickets.cancel, key, reason)
    assert world.snapshot() == before


def test_cancel_records_the_reason(world: World) -> None:
    key = reach(world, "new")
    out = world.do(tickets.cancel, key, "duplicate of another", minutes=1)
    assert out["cancel_reason"] == "duplicate of another"
    assert out["status"] == "cancelled" and out["sla_state"] == "done" and out["weight"] == 0.0


# -- key resolution ---------------------------------------------------------------------------


def foreign_ticket(w: World, key: str) -> None:
    """A ticket made by another device (as a sync pull would bring it)."""
    e = Event(id=str(uuid.uuid4()), type="ticket.created", at=iso(w.now), actor="eve", device="other-device",
              device_seq=int(key.split("-")[1]), mutation_id=str(uuid.uuid4()), ticket=key,
              payload={"title": "foreign", "type": "repair", "dept": "it", "product": "p", "priority": "low",
                       "impact": "user"})
    t, spans = fold(None, [e], w.cfg)
    with w.store.transaction():
        w.store.put_events([e])
        w.store.put_ticket(t)
        w.store.put_spans(spans)


Keyed = tuple[World, str, str, str]


@pytest.fixture
def keyed(world: World) -> Keyed:
    """Local tickets PFX-1..PFX-12, foreign OTH-7 and OTH-8 and XYZ-30, where the
    three prefixes start with three different letters."""
    pfx = world.store.meta("key_prefix")
    keys = [world.new() for _ in range(12)]
    assert keys == [f"{pfx}-{i}" for i in range(1, 13)]
    other, third = [c * 3 for c in KEY_LETTERS if c != pfx[0]][:2]
    foreign_ticket(world, f"{other}-7")
    foreign_ticket(world, f"{other}-8")
    foreign_ticket(world, f"{third}-30")
    return world, pfx, other, third


def test_exact_key_wins_over_longer_keys(keyed: Keyed) -> None:
    w, pfx, other, _ = keyed
    assert w.store.resolve_key(f"{pfx}-1") == f"{pfx}-1"  # though PFX-10..12 start with it too
    assert w.store.resolve_key(f" {pfx.lower()}-1 ") == f"{pfx}-1"  # case and blanks do not matter
    assert w.store.resolve_key(f"{other}-8") == f"{other}-8"
    assert w.do(tickets.show, f"{pfx}-11")["key"] == f"{pfx}-11"


def test_unique_prefix(keyed: Keyed) -> None:
    w, _, _, third = keyed
    for text in (third[0], third[:2].lower(), f"{third}-", f"{third}-3"):
        assert w.store.resolve_key(text) == f"{third}-30", text
    out = w.do(tickets.assign, f"{third}-3".lower(), "ana")  # through a service
    assert out["key"] == f"{third}-30" and out["assignee"] == "ana"


def test_bare_number_means_this_devices_ticket(keyed: Keyed) -> None:
    w, pfx, _, _ = keyed
    assert w.store.resolve_key("3") == f"{pfx}-3"
    assert w.store.resolve_key("12") == f"{pfx}-12"
    assert w.store.resolve_key("7") == f"{pfx}-7"  # not the foreign OTH-7
    assert w.store.resolve_key("1") == f"{pfx}-1"  # not ambiguous with 10, 11, 12
    out = w.do(tickets.assign, "4", "bob")
    assert out["key"] == f"{pfx}-4"
    with pytest.raises(NotFound):
        w.store.resolve_key("30")  # the foreign XYZ-30 is not this device's
    with pytest.raises(NotFound):
        w.store.resolve_key("99")


def test_ambiguous_prefix_lists_candidates(keyed: Keyed) -> None:
    w, pfx, other, _ = keyed
    with pytest.raises(NotFound) as err:
        w.store.resolve_key(other)
    assert "ambiguous" in str(err.value)
    assert f"{other}-7" in str(err.value) and f"{other}-8" in str(err.value)
    assert "..." not in str(err.value)
    with pytest.raises(NotFound) as err:
        w.store.resolve_key(pfx[:1])  # all twelve local tickets
    msg = str(err.value)
    assert "ambiguous" in msg and msg.rstrip().endswith("...")
    assert msg.count(f"{pfx}-") == 5  # the first five are named
    before = w.snapshot()
    with pytest.raises(NotFound, match="ambiguous"):
        w.do(tickets.start, pfx)
    assert w.snapshot() == before


@pytest.mark.parametrize("text", ["NOPE-1", "", "   ", "ZZZZZZ"])
def test_unknown_key(keyed: Keyed, text: str) -> None:
    w = keyed[0]
    with pytest.raises(NotFound):
        w.store.resolve_key(text)
    with pytest.raises(NotFound):
        w.do(tickets.show, text)


# -- capacity -----------------------------------------------------------------------------------


def test_assign_over_capacity_is_refused_unless_forced(world: World) -> None:
    world.do(techs.add, "dai", capacity=2)
    held = [reach(world, "new") for _ in range(4)]
    world.do(tickets.assign, held[0], "dai", minutes=1)
    world.do(tickets.assign, held[1], "dai", minutes=1)
    before = world.snapshot()
    with pytest.raises(Refused, match="capacity 2/2"):
        world.do(tickets.assign, held[2], "dai")
    assert world.snapshot() == before
    out = world.do(tickets.assign, held[2], "dai", force=True, minutes=1)
    assert out["assignee"] == "dai"
    assert world.events(held[2])[-1].payload == {"assignee": "dai", "forced": True}
    # blocked tickets still count; resolved, closed and cancelled ones do not
    world.do(tickets.block, held[0], "awaiting_parts", {}, user="dai", minutes=1)
    with pytest.raises(Refused, match="capacity 3/2"):
        world.do(tickets.assign, held[3], "dai")
    world.do(tickets.resolve, held[1], user="dai", minutes=1)
    world.do(tickets.cancel, held[0], "not needed", minutes=1)
    assert world.do(tickets.assign, held[3], "dai", minutes=1)["assignee"] == "dai"  # dai held 1 of 2


# -- creating ---------------------------------------------------------------------------------


def test_create_starts_new_with_a_running_clock(world: World) -> None:
    out = world.do(tickets.create, {"title": "  Printer jams  ", "type": "repair", "dept": "it", "product": "p"})
    assert out["title"] == "Printer jams"
    assert (out["status"], out["assignee"], out["priority"], out["impact"]) == ("new", None, "medium", "user")
    assert out["sla_state"] == "ok" and out["sla_resolve_due"] is not None
    for missing in ("title", "type", "dept", "product"):
        fields = {"title": "t", "type": "repair", "dept": "it", "product": "p", missing: "  "}
        before = world.snapshot()
        with pytest.raises(BadInput):
            world.do(tickets.create, fields)
        assert world.snapshot() == before
    with pytest.raises(BadInput, match="priority"):
        world.do(tickets.create, {"title": "t", "type": "repair", "dept": "it", "product": "p", "priority": "asap"})
    with pytest.raises(BadInput, match="impact"):
        world.do(tickets.create, {"title": "t", "type": "repair", "dept": "it", "product": "p", "impact": "world"})


@pytest.mark.parametrize(
    "extra",
    [{"status": "closed"}, {"assignee": "ana"}, {"reopen_count": 5}, {"key": "ZZZ-1"}, {"resolve_due_bt": 1},
     {"created_at": "2020-01-01T00:00:00Z"}],
    ids=["status", "assignee", "reopen_count", "key", "resolve_due_bt", "created_at"],
)
def test_create_cannot_set_workflow_state(world: World, extra: dict[str, Any]) -> None:
    fields = {"title": "t", "type": "repair", "dept": "it", "product": "p", **extra}
    before = world.snapshot()
    with pytest.raises(BadInput) as err:
        world.do(tickets.create, fields)
    assert next(iter(extra)) in str(err.value)
    assert world.snapshot() == before

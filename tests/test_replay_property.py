"""Random action sequences through the services on a real store, with time moving
on between actions. After each sequence the projections must equal a replay of
the events, and the invariants of the workflow and the SLA clock must hold; an
independent model written here predicts every outcome."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ticketctl.core.config import config_from_dict
from ticketctl.core.model import STATUSES, Ticket, iso, parse_time
from ticketctl.errors import BadInput, Refused, TicketctlError
from ticketctl.home import Home
from ticketctl.services import confirm, rebuild, techs, tickets
from ticketctl.services.env import Env
from ticketctl.store.db import Store

TECHS = ("ana", "bob", "cem")
CAPACITY = {"ana": 3, "bob": 3, "cem": 1}  # ana and bob by the default, cem by `tech add --capacity 1`
HELD = ("assigned", "in_progress", "blocked")
ACTORS = ("disp", *TECHS)
HOLIDAYS = ["2024-04-01", "2024-05-01", "2024-05-09"]
CFG = config_from_dict({"calendar": {"timezone": "Europe/Berlin", "holidays": HOLIDAYS}})
CAL = CFG.business_calendar
CONFIG_TOML = f'[calendar]\ntimezone = "Europe/Berlin"\nholidays = {HOLIDAYS!r}\n'.replace("'", '"')
COLLAB = {"collaborator": "facilities", "deliverable": "power", "deadline": "2024-05-06T17:00",
          "expected_result": "rack powered"}
CHECKLISTS = {"repair": ["function_test", "safety_reset", "parts_recorded"], "incident": []}
PAUSING = {"awaiting_customer"}
OPEN = ("new", "assigned", "in_progress", "blocked")


# -- the actions ---------------------------------------------------------------------------

ALL_ACTIONS = ("assign", "start", "block", "unblock", "note", "resolve", "confirm", "close", "reopen", "cancel")
#: what DESIGN.md allows from each state (used only to steer the generator towards deep paths)
LIKELY = {
    "new": ("assign", "assign", "cancel", "note"),
    "assigned": ("assign", "start", "start", "block", "resolve", "cancel", "note"),
    "in_progress": ("assign", "block", "block", "resolve", "resolve", "cancel", "note"),
    "blocked": ("assign", "unblock", "unblock", "cancel", "note"),
    "resolved": ("confirm", "confirm", "close", "close", "reopen", "note"),
    "closed": ("reopen", "note"),
    "cancelled": ALL_ACTIONS,
}
REASONS = ("awaiting_customer", "awaiting_parts", "awaiting_third_party", "awaiting_approval",
           "awaiting_collaboration")
ITEMS = ("function_test", "safety_reset", "parts_recorded", "site_clean")

minutes = st.one_of(st.integers(0, 59), st.integers(60, 600), st.integers(600, 4 * 1440))
creates = st.tuples(st.just("create"), st.sampled_from(["urgent", "high", "medium", "low"]),
                    st.sampled_from(["user", "department", "system"]), st.sampled_from(sorted(CHECKLISTS)))
block_details = st.one_of(
    st.just(COLLAB),
    st.just({}),
    st.dictionaries(st.sampled_from([*sorted(COLLAB), "note"]), st.sampled_from(["x", " ", "2024-05-06"])),
)
starts = st.sampled_from([
    datetime(2024, 3, 28, 15, 0, tzinfo=UTC),  # before Easter and the spring-forward weekend
    datetime(2024, 4, 29, 6, 30, tzinfo=UTC),  # the week with May 1st and Ascension Day
    datetime(2024, 10, 24, 20, 0, tzinfo=UTC),  # a night before the fall-back weekend
])


def draw_action(data: st.DataObject, m: Model) -> tuple[Any, ...]:
    """Mostly an action the state allows (so sequences get deep), sometimes any."""
    legal = data.draw(st.integers(0, 99)) < 85
    name = data.draw(st.sampled_from(LIKELY[m.status] if legal else ALL_ACTIONS))
    if name == "assign":
        return (name, data.draw(st.sampled_from(TECHS)), data.draw(st.integers(0, 9)) == 0)  # sometimes --force
    if name == "block":
        reason = data.draw(st.sampled_from(REASONS) if legal else st.sampled_from([*REASONS, "lunch"]))
        usual = COLLAB if reason == "awaiting_collaboration" else {"note": "waiting"}
        details = data.draw(st.sampled_from([usual, usual, None])) or data.draw(block_details)
        return (name, reason, details)
    if name == "note":
        return (name, data.draw(st.sampled_from(["called", "called", " "])))
    if name == "close":
        items = CHECKLISTS[m.type] if legal else data.draw(st.lists(st.sampled_from(ITEMS), max_size=4))
        return (name, items)
    if name == "cancel":
        return (name, data.draw(st.sampled_from(["duplicate", "duplicate", ""])))
    return (name,)


# -- an independent model of the workflow, from DESIGN.md ------------------------------------


@dataclass
class Model:
    status: str = "new"
    assignee: str | None = None
    before_block: str | None = None
    reason: str | None = None
    type: str = "repair"
    confirmed: bool = False  # the customer's word, needed to close a repair (DESIGN.md: closing)


def predict(m: Model, action: tuple[Any, ...], load: int) -> type[TicketctlError] | None:
    """The error the action must raise, or None and update the model. ``load`` is
    how many tickets the technician an assign names holds now."""
    name = action[0]
    if name == "assign":
        _, tech, force = action
        if m.status not in OPEN or m.assignee == tech:
            return Refused
        if load >= CAPACITY[tech] and not force:
            return Refused
        m.assignee = tech
        if m.status == "blocked":
            m.before_block = "assigned"
        else:
            m.status = "assigned"
    elif name == "start":
        if m.status != "assigned":
            return Refused
        m.status = "in_progress"
    elif name == "block":
        _, reason, details = action
        if m.status not in ("assigned", "in_progress"):
            return Refused
        if reason not in CFG.reasons:
            return BadInput
        if reason == "awaiting_collaboration" and any(not str(details.get(f) or "").strip() for f in COLLAB):
            return BadInput
        if details.get("deadline"):  # a deadline, when given, must be a time (whatever the reason)
            try:
                parse_time(details["deadline"])
            except ValueError:
                return BadInput
        m.before_block, m.status, m.reason = m.status, "blocked", reason
    elif name == "unblock":
        if m.status != "blocked":
            return Refused
        m.status, m.before_block, m.reason = m.before_block or "assigned", None, None
    elif name == "note":
        if not action[1].strip():
            return BadInput
        if m.status == "cancelled":
            return Refused
    elif name == "resolve":
        if m.status not in ("assigned", "in_progress"):
            return Refused
        m.status = "resolved"
    elif name == "close":
        if m.status != "resolved":
            return Refused
        items = CHECKLISTS[m.type]
        if any(c not in items for c in action[1]):
            return BadInput
        if set(items) - set(action[1]):
            return Refused
        if m.type == "repair" and not m.confirmed:
            return Refused
        m.status = "closed"
    elif name == "confirm":
        if m.status != "resolved" or m.confirmed:
            return Refused
        m.confirmed = True
    elif name == "reopen":
        if m.status not in ("resolved", "closed"):
            return Refused
        m.status = "assigned" if m.assignee else "new"
        m.confirmed = False
    elif name == "cancel":
        if m.status not in OPEN:
            return Refused
        if not action[1].strip():
            return BadInput
        m.status, m.before_block, m.reason = "cancelled", None, None
    return None


# -- running a sequence ------------------------------------------------------------------------


class World:
    def __init__(self, root: Path, now: datetime) -> None:
        (root / "config.toml").write_text(CONFIG_TOML)
        self.root, self.now = root, now

    def do(self, fn: Any, *args: Any, user: str = "disp", **kw: Any) -> Any:
        environ = {"TICKETCTL_HOME": str(self.root), "TICKETCTL_NOW": iso(self.now), "TICKETCTL_USER": user}
        env = Env(Home.from_env(environ), environ)
        try:
            return fn(env, *args, **kw)
        finally:
            env.close()


def run(w: World, key: str, actor: str, action: tuple[Any, ...]) -> Any:
    name = action[0]
    if name == "assign":
        return w.do(tickets.assign, key, action[1], action[2], user=actor)
    if name == "block":
        return w.do(tickets.block, key, action[1], dict(action[2]), user=actor)
    if name == "note":
        return w.do(tickets.note, key, action[1], user=actor)
    if name == "close":
        return w.do(tickets.close, key, list(action[1]), user=actor)
    if name == "cancel":
        return w.do(tickets.cancel, key, action[1], user=actor)
    if name == "confirm":
        return w.do(confirm.confirm, key, [5, 4, 5], "fixed and tested", "Kim", user=actor)
    return w.do(getattr(tickets, name), key, user=actor)


def check_ticket_against_its_events(t: Ticket, store: Store, end: datetime) -> None:
    """Recompute first response, blocked time and the resolution clock from the
    ticket's events, independently of ticketctl.core.workflow.apply."""
    evs = list(store.events(t.key))
    assert evs[0].type == "ticket.created"
    assignee: str | None = None
    first: str | None = None
    blocked: tuple[str, datetime] | None = None
    blocked_s: dict[str, int] = {}
    running_since: datetime | None = parse_time(evs[0].at)
    used = 0  # business seconds the resolution clock has run
    for e in evs[1:]:
        at = parse_time(e.at)
        if e.type == "ticket.assigned":
            assignee = e.payload["assignee"]
        stop = (e.type == "ticket.blocked" and e.payload["reason"] in PAUSING) or e.type in (
            "ticket.resolved", "ticket.closed", "ticket.cancelled")
        go = e.type in ("ticket.unblocked", "ticket.reopened")
        if stop and running_since is not None:
            used += CAL.between(running_since, at)
            running_since = None
        if go and running_since is None:
            running_since = at
        if e.type == "ticket.blocked":
            blocked = (e.payload["reason"], at)
        if e.type in ("ticket.unblocked", "ticket.cancelled") and blocked is not None:
            reason, since = blocked
            blocked_s[reason] = blocked_s.get(reason, 0) + int((at - since).total_seconds())
            blocked = None
        if first is None and assignee is not None and e.actor == assignee:
            first = e.at
    assert t.first_response_at == first
    assert t.blocked_seconds == blocked_s
    assert (t.blocked_since is not None) == (blocked is not None)
    if running_since is None:
        assert t.resolve_due_bt is None
        assert t.resolve_left_s == t.resolve_target_s - used
    else:
        assert t.resolve_left_s is None and t.resolve_due_bt is not None
        assert t.resolve_due_bt - CAL.ordinal(end) == t.resolve_target_s - used - CAL.between(running_since, end)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(starts, st.integers(5, 40), st.data())
def test_random_sequences_replay_to_the_projections(start: datetime, n_steps: int, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        w = World(root, start)
        w.do(techs.add, "ana")
        w.do(techs.add, "bob")
        w.do(techs.add, "cem", capacity=1)
        keys: list[str] = []
        models: dict[str, Model] = {}
        for _ in range(n_steps):
            w.now += timedelta(minutes=data.draw(minutes))
            if not keys or data.draw(st.integers(0, 5)) == 0:
                _, priority, impact, type_ = data.draw(creates)
                out = w.do(tickets.create, {"title": "t", "type": type_, "dept": "it", "product": "p",
                                            "priority": priority, "impact": impact},
                           user=data.draw(st.sampled_from(ACTORS)))
                keys.append(out["key"])
                models[out["key"]] = Model(type=type_)
                continue
            key = data.draw(st.sampled_from(keys))
            m = models[key]
            action = draw_action(data, m)
            # the assignee acts more often than anyone else (first response)
            actor = data.draw(st.sampled_from(ACTORS + (m.assignee,) * 3 if m.assignee else ACTORS))
            tech = action[1] if action[0] == "assign" else None
            load = sum(1 for x in models.values() if tech and x.assignee == tech and x.status in HELD)
            expected = predict(m, action, load)
            try:
                out = run(w, key, actor, action)
            except TicketctlError as err:
                assert type(err) is expected, f"{action} on {key}: raised {err!r}, model expected {expected}"
                event(f"{action[0]} {type(err).__name__}")
                continue
            event(f"{action[0]} ok")
            assert expected is None, f"{action} on {key} succeeded, model expected {expected.__name__}"
            assert (out["status"], out["assignee"], out["blocked_reason"]) == (m.status, m.assignee, m.reason)

        store = Store(root / "ticketctl.db")
        try:
            assert rebuild.differences(store, CFG) == []
            tks, _ = rebuild.stored(store)
            assert set(tks) == set(keys)
            for t in tks.values():
                event(f"final status {t.status}")
                assert t.status in STATUSES
                assert t.status == models[t.key].status
                if t.status == "blocked":
                    assert t.blocked_reason in CFG.reasons
                    assert t.blocked_since is not None and t.status_before_block in ("assigned", "in_progress")
                else:
                    assert t.blocked_reason is None and t.blocked_since is None and t.block == {}
                    assert t.status_before_block is None
                if t.status in ("resolved", "closed", "cancelled"):
                    assert t.resolve_due_bt is None and t.resolve_left_s is not None
                # checks are written only by the close that uses them, and a reopen clears them
                assert set(t.checks) == (set(CHECKLISTS[t.type]) if t.status == "closed" else set())
                check_ticket_against_its_events(t, store, w.now)
            events = list(store.events())
            device = store.meta("device_id")
            assert {e.device for e in events} == {device}
            assert [e.device_seq for e in events] == list(range(1, len(events) + 1))
            assert int(store.meta("next_device_seq")) == len(events) + 1
            assert len({e.id for e in events}) == len(events)
        finally:
            store.close()

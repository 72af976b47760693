"""SLA clocks through the workflow fold, the priority weight, and the SQL queue
order against the Python weight."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ticketctl.core.config import Config, config_from_dict
from ticketctl.core.model import OPEN_STATUSES, STATUSES, Event, Ticket, iso, parse_time
from ticketctl.core.priority import hours_factor, sla_factor, weight
from ticketctl.core.views import sla_state, ticket_public, ticket_weight
from ticketctl.core.workflow import apply
from ticketctl.errors import TicketctlError
from ticketctl.home import Home
from ticketctl.services import techs, tickets
from ticketctl.services.env import Env
from ticketctl.store.db import Store
from ticketctl.store.queries import list_tickets, weight_sql

BERLIN = ZoneInfo("Europe/Berlin")
H = 3600
CFG = config_from_dict({"calendar": {"timezone": "Europe/Berlin", "holidays": ["2024-04-01", "2024-05-01"]}})
CAL = CFG.business_calendar


def berlin(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN)


# -- building events by hand -------------------------------------------------------------

_seq = itertools.count(1)


def ev(typ: str, at: datetime, actor: str = "disp", ticket: str = "ABC-1", **payload: Any) -> Event:
    n = next(_seq)
    return Event(id=f"e{n}", type=typ, at=iso(at), actor=actor, device="dev", device_seq=n, mutation_id=f"m{n}",
                 ticket=ticket, payload=payload)


def created(at: datetime, priority: str = "medium", impact: str = "user", actor: str = "disp") -> Event:
    return ev("ticket.created", at, actor, title="t", type="repair", dept="it", product="printer",
              priority=priority, impact=impact)


def fold(*events: Event, cfg: Config = CFG) -> Ticket:
    t: Ticket | None = None
    for e in events:
        t = apply(t, e, cfg)
    assert t is not None
    return t


def public(t: Ticket, now: datetime, cfg: Config = CFG) -> dict[str, Any]:
    return ticket_public(t, cfg, now)


# -- an independent reference: walk business minutes on the local wall clock ---------------

HOLIDAYS = {date(2024, 4, 1), date(2024, 5, 1)}


def walk_due(start: datetime, minutes: int) -> datetime:
    """The end of the ``minutes``-th business minute (Mon-Fri 08-18 Berlin) from ``start``."""
    ts = int(start.timestamp()) // 60 * 60
    left = minutes
    while left:
        local = datetime.fromtimestamp(ts, BERLIN)
        if local.weekday() < 5 and local.date() not in HOLIDAYS and time(8) <= local.time() < time(18):
            left -= 1
        ts += 60
    return datetime.fromtimestamp(ts, UTC)


TARGET_MIN = {"urgent": (15, 120), "high": (60, 480), "medium": (240, 1800), "low": (1440, 4200)}

# (created, priority, response due, resolve due), all worked out by hand in Berlin time
SLA_CASES = [
    # inside hours, Monday 09:00
    (berlin(2024, 3, 4, 9), "urgent", berlin(2024, 3, 4, 9, 15), berlin(2024, 3, 4, 11)),
    (berlin(2024, 3, 4, 9), "high", berlin(2024, 3, 4, 10), berlin(2024, 3, 4, 17)),
    (berlin(2024, 3, 4, 9), "medium", berlin(2024, 3, 4, 13), berlin(2024, 3, 7, 9)),
    (berlin(2024, 3, 4, 9), "low", berlin(2024, 3, 6, 13), berlin(2024, 3, 13, 9)),
    # on a weekend: counts from Monday 08:00; whole days end at 18:00
    (berlin(2024, 3, 9, 14), "urgent", berlin(2024, 3, 11, 8, 15), berlin(2024, 3, 11, 10)),
    (berlin(2024, 3, 9, 14), "high", berlin(2024, 3, 11, 9), berlin(2024, 3, 11, 16)),
    (berlin(2024, 3, 9, 14), "medium", berlin(2024, 3, 11, 12), berlin(2024, 3, 13, 18)),
    (berlin(2024, 3, 9, 14), "low", berlin(2024, 3, 13, 12), berlin(2024, 3, 19, 18)),
    # at night, Tuesday 22:30: counts from Wednesday 08:00
    (berlin(2024, 3, 5, 22, 30), "urgent", berlin(2024, 3, 6, 8, 15), berlin(2024, 3, 6, 10)),
    (berlin(2024, 3, 5, 22, 30), "high", berlin(2024, 3, 6, 9), berlin(2024, 3, 6, 16)),
    (berlin(2024, 3, 5, 22, 30), "medium", berlin(2024, 3, 6, 12), berlin(2024, 3, 8, 18)),
    (berlin(2024, 3, 5, 22, 30), "low", berlin(2024, 3, 8, 12), berlin(2024, 3, 14, 18)),
    # Tuesday 16:00 before the May 1st (Wednesday) holiday
    (berlin(2024, 4, 30, 16), "urgent", berlin(2024, 4, 30, 16, 15), berlin(2024, 4, 30, 18)),
    (berlin(2024, 4, 30, 16), "high", berlin(2024, 4, 30, 17), berlin(2024, 5, 2, 14)),
    (berlin(2024, 4, 30, 16), "medium", berlin(2024, 5, 2, 10), berlin(2024, 5, 6, 16)),
    (berlin(2024, 4, 30, 16), "low", berlin(2024, 5, 6, 10), berlin(2024, 5, 10, 16)),
    # Friday 17:00 before Easter Monday and the spring-forward weekend
    (berlin(2024, 3, 29, 17), "high", berlin(2024, 3, 29, 18), berlin(2024, 4, 2, 15)),
    # Friday 17:00 before the fall-back weekend
    (berlin(2024, 10, 25, 17), "urgent", berlin(2024, 10, 25, 17, 15), berlin(2024, 10, 28, 9)),
]


@pytest.mark.parametrize(("at", "priority", "resp", "res"), SLA_CASES)
def test_default_sla_targets(at: datetime, priority: str, resp: datetime, res: datetime) -> None:
    t = fold(created(at, priority))
    view = public(t, at)
    assert view["sla_response_due"] == iso(resp)
    assert view["sla_resolve_due"] == iso(res)
    # the same dues by walking business minutes
    r_min, s_min = TARGET_MIN[priority]
    assert walk_due(at, r_min) == resp
    assert walk_due(at, s_min) == res
    assert t.resolve_target_s == s_min * 60
    assert view["sla_resolve_left_s"] == s_min * 60
    assert view["sla_state"] == "ok"
    assert view["sla_response_met"] is None
    assert view["first_response_at"] is None


# -- pausing ---------------------------------------------------------------------------------

MON_9 = berlin(2024, 3, 4, 9)  # medium: resolution due Thu 2024-03-07 09:00


def started_ticket() -> list[Event]:
    return [
        created(MON_9),
        ev("ticket.assigned", berlin(2024, 3, 4, 9, 5), "disp", assignee="ana"),
        ev("ticket.started", berlin(2024, 3, 4, 9, 30), "ana"),
    ]


def test_customer_block_pauses_across_a_night_and_moves_due_by_paused_time() -> None:
    evs = started_ticket()
    b_at, u_at = berlin(2024, 3, 5, 17), berlin(2024, 3, 6, 9)  # Tue 17:00 -> Wed 09:00
    blocked = fold(*evs, ev("ticket.blocked", b_at, "ana", reason="awaiting_customer"))
    assert blocked.resolve_due_bt is None
    assert blocked.resolve_left_s == 12 * H  # Tue 1 h + Wed 10 h + Thu 1 h
    view = public(blocked, berlin(2024, 3, 5, 23))
    assert view["sla_state"] == "paused"
    assert view["sla_resolve_left_s"] == 12 * H
    # while paused, the due shown is "if it ran on from now": from Tue 23:00 -> Thu 10:00
    assert view["sla_resolve_due"] == iso(berlin(2024, 3, 7, 10))
    # the left time does not shrink while paused, even days later
    assert public(blocked, berlin(2024, 3, 6, 8, 59))["sla_resolve_left_s"] == 12 * H
    unblocked = fold(*evs, ev("ticket.blocked", b_at, "ana", reason="awaiting_customer"),
                     ev("ticket.unblocked", u_at, "ana"))
    assert unblocked.status == "in_progress"
    due = public(unblocked, u_at)["sla_resolve_due"]
    assert due == iso(berlin(2024, 3, 7, 11))  # Thu 09:00 + 2 paused business hours
    assert CAL.ordinal(parse_time(due)) - CAL.ordinal(berlin(2024, 3, 7, 9)) == CAL.between(b_at, u_at) == 2 * H
    assert unblocked.blocked_seconds == {"awaiting_customer": 16 * H}  # wall time blocked


def test_customer_block_pauses_across_a_weekend() -> None:
    evs = started_ticket()
    b_at, u_at = berlin(2024, 3, 6, 17, 30), berlin(2024, 3, 11, 8, 30)  # Wed 17:30 -> Mon 08:30
    evs += [ev("ticket.blocked", b_at, "ana", reason="awaiting_customer", note="no access until Monday")]
    blocked = fold(*evs)
    assert blocked.resolve_left_s == 90 * 60  # Wed 30 min + Thu 1 h
    assert public(blocked, berlin(2024, 3, 9, 12))["sla_state"] == "paused"  # would be breached if it ran
    t = fold(*evs, ev("ticket.unblocked", u_at, "ana"))
    due = parse_time(public(t, u_at)["sla_resolve_due"])
    assert due == berlin(2024, 3, 11, 10)  # Mon 08:30 + 1.5 h
    assert CAL.between(berlin(2024, 3, 7, 9), due) == CAL.between(b_at, u_at) == 21 * H
    assert public(t, u_at)["sla_state"] == "at_risk"


def test_parts_block_does_not_pause() -> None:
    evs = started_ticket()
    b_at, u_at = berlin(2024, 3, 6, 17, 30), berlin(2024, 3, 11, 8, 30)
    blocked = fold(*evs, ev("ticket.blocked", b_at, "ana", reason="awaiting_parts"))
    assert blocked.resolve_due_bt == CAL.ordinal(berlin(2024, 3, 7, 9))
    assert public(blocked, berlin(2024, 3, 9, 12))["sla_state"] == "breached"
    t = fold(*evs, ev("ticket.blocked", b_at, "ana", reason="awaiting_parts"), ev("ticket.unblocked", u_at, "ana"))
    assert public(t, u_at)["sla_resolve_due"] == iso(berlin(2024, 3, 7, 9))
    # overdue from Thu 09:00 to Mon 08:30: Thu 9 h + Fri 10 h + Mon 0.5 h
    assert public(t, u_at)["sla_resolve_left_s"] == -(19 * H + 30 * 60)
    assert t.blocked_seconds == {"awaiting_parts": int((u_at - b_at).total_seconds())}


def test_resolve_pauses_and_reopen_resumes() -> None:
    evs = started_ticket()
    r_at, o_at = berlin(2024, 3, 5, 10), berlin(2024, 3, 6, 15)
    resolved = fold(*evs, ev("ticket.resolved", r_at, "ana"))
    assert resolved.resolve_due_bt is None
    assert resolved.resolve_left_s == 19 * H  # Tue 8 h + Wed 10 h + Thu 1 h
    v = public(resolved, o_at)
    assert v["sla_state"] == "done"
    assert v["sla_resolve_due"] is None
    assert v["weight"] == 0.0
    reopened = fold(*evs, ev("ticket.resolved", r_at, "ana"), ev("ticket.reopened", o_at, "cust", reason="still warm"))
    assert reopened.status == "assigned"
    assert reopened.reopen_count == 1
    assert public(reopened, o_at)["sla_resolve_due"] == iso(berlin(2024, 3, 8, 14))  # Wed 15:00 + 19 h
    # closing keeps it paused; a reopen from closed resumes it the same way
    closed = fold(*evs, ev("ticket.resolved", r_at, "ana"),
                  ev("ticket.checked", r_at, "ana", item="function_test"),
                  ev("ticket.closed", berlin(2024, 3, 5, 12), "ana"))
    assert closed.resolve_left_s == 19 * H and closed.resolve_due_bt is None
    again = apply(closed, ev("ticket.reopened", o_at, "disp"), CFG)
    assert again.resolve_due_bt == CAL.ordinal(berlin(2024, 3, 8, 14))
    assert again.checks == {}


def test_cancel_stops_the_clock() -> None:
    t = fold(*started_ticket(), ev("ticket.cancelled", berlin(2024, 3, 5, 10), "disp", reason="duplicate"))
    assert t.resolve_due_bt is None
    assert public(t, berlin(2024, 4, 5, 10))["sla_state"] == "done"


def test_first_response_is_the_first_event_by_the_assignee() -> None:
    c = created(MON_9)
    a = ev("ticket.assigned", berlin(2024, 3, 4, 9, 5), "disp", assignee="ana")
    n1 = ev("ticket.noted", berlin(2024, 3, 4, 9, 10), "disp", text="called the customer")
    n2 = ev("ticket.noted", berlin(2024, 3, 4, 9, 20), "bob", text="not mine")
    n3 = ev("ticket.noted", berlin(2024, 3, 4, 9, 40), "ana", text="on my way")
    s = ev("ticket.started", berlin(2024, 3, 4, 10), "ana")
    assert fold(c, a, n1, n2).first_response_at is None  # the dispatcher and others do not count
    t = fold(c, a, n1, n2, n3, s)
    assert t.first_response_at == iso(berlin(2024, 3, 4, 9, 40))  # the first, not the latest
    assert public(t, berlin(2024, 3, 4, 10))["sla_response_met"] is True
    # late: the assignee first acts after the 4 h response target (13:00)
    late = fold(c, a, ev("ticket.started", berlin(2024, 3, 4, 13, 1), "ana"))
    assert public(late, berlin(2024, 3, 4, 14))["sla_response_met"] is False
    on_the_dot = fold(c, a, ev("ticket.started", berlin(2024, 3, 4, 13), "ana"))
    assert public(on_the_dot, berlin(2024, 3, 4, 14))["sla_response_met"] is True
    # a technician who assigns themselves responds by doing so
    self_assigned = fold(c, ev("ticket.assigned", berlin(2024, 3, 4, 9, 7), "ana", assignee="ana"))
    assert self_assigned.first_response_at == iso(berlin(2024, 3, 4, 9, 7))
    # an event by the creator before anyone is assigned is no response
    assert fold(created(MON_9, actor="ana"), ev("ticket.noted", MON_9, "ana", text="x")).first_response_at is None


def test_sla_state_boundaries() -> None:
    t = fold(*started_ticket())  # medium, 30 h target, due Thu 09:00; at risk under 6 h left
    assert sla_state(t, CAL.ordinal(berlin(2024, 3, 6, 13))) == "ok"  # exactly 6 h left
    assert public(t, berlin(2024, 3, 6, 13, 1))["sla_state"] == "at_risk"
    assert public(t, berlin(2024, 3, 6, 20))["sla_state"] == "at_risk"  # 1 h left all night
    assert public(t, berlin(2024, 3, 7, 9))["sla_state"] == "at_risk"  # due now, not yet breached
    assert public(t, berlin(2024, 3, 7, 9, 1))["sla_state"] == "breached"
    assert public(t, berlin(2024, 3, 7, 9, 1))["sla_resolve_left_s"] == -60
    paused = apply(t, ev("ticket.blocked", berlin(2024, 3, 5, 9), "ana", reason="awaiting_customer"), CFG)
    assert public(paused, berlin(2024, 3, 20, 9))["sla_state"] == "paused"
    late_pause = apply(t, ev("ticket.blocked", berlin(2024, 3, 7, 10), "ana", reason="awaiting_customer"), CFG)
    assert late_pause.resolve_left_s == -H
    assert public(late_pause, berlin(2024, 3, 20, 9))["sla_state"] == "breached"  # overdue even while paused


# -- the weight formula ----------------------------------------------------------------------

DEFAULT = Config()


@pytest.mark.parametrize(
    ("priority", "impact", "left", "target", "in_hours", "expected"),
    [
        ("medium", "department", 100, 100, True, 2 * 2 * 1 * 1.0),  # whole time left
        ("medium", "department", 50, 100, False, 2 * 2 * 0.5 * (1 + 3 * 0.5)),  # 5.0: night, half used
        ("urgent", "system", 0, 7200, False, 8 * 4 * 1 * (1 + 3 * 1)),  # 128: urgent ignores the night; due now
        ("low", "user", -100, 100, True, 1 * 1 * 1 * (1 + 3 * 2)),  # overdue by a whole target: 7
        ("low", "user", -300, 100, True, 7.0),  # clamped at 1 + 2k
        ("high", "user", 25, 100, False, 4 * 1 * 0.5 * (1 + 3 * 0.75)),  # 6.5
        ("high", "system", 200, 100, True, 4 * 4 * 1 * 1.0),  # more left than the target: factor 1
        ("medium", "user", 0, 0, True, 2 * 1 * 1 * 7.0),  # no target: treated as fully overdue
        ("high", "user", 1, 7, True, 14.286),  # 4 * (1 + 3 * 6/7) = 14.2857... rounded to 3 places
        ("low", "department", 36_000, 252_000, False, 1 * 2 * 0.5 * (1 + 3 * (1 - 1 / 7))),  # 3.571...
    ],
)
def test_weight_hand_worked(priority: str, impact: str, left: int, target: int, in_hours: bool, expected: float) -> None:
    assert weight(DEFAULT, priority, impact, left, target, in_hours) == pytest.approx(round(expected, 3), abs=1e-12)


def test_weight_with_a_custom_config() -> None:
    cfg = config_from_dict({"weights": {"off_hours_factor": 0.25, "always_on": ["urgent", "high"], "sla_factor": 1.0,
                                        "urgency": {"medium": 3.0}}})
    assert weight(cfg, "high", "user", 50, 100, False) == 4 * 1 * 1 * 1.5
    assert weight(cfg, "medium", "system", 50, 100, False) == 3 * 4 * 0.25 * 1.5
    assert weight(cfg, "medium", "system", -500, 100, True) == 3 * 4 * 1 * 3.0
    assert hours_factor(cfg, "low", False) == 0.25 and hours_factor(cfg, "low", True) == 1.0
    assert sla_factor(cfg, 100, 100) == 1.0 and sla_factor(cfg, -100, 100) == 3.0


def test_ticket_weight_follows_the_clock() -> None:
    t = fold(created(MON_9, "high", "department"))  # 8 h target, due Mon 17:00
    w = [ticket_weight(t, CFG, at) for at in (MON_9, berlin(2024, 3, 4, 13), berlin(2024, 3, 4, 17),
                                                 berlin(2024, 3, 4, 20), berlin(2024, 3, 5, 17))]
    # 13:00: half the 8 h used; 17:00: due; 20:00 (night): 1 h overdue (18:00) -> used 9/8, halved off hours;
    # next day 17:00: 10 h overdue -> clamped at 1 + 2k
    assert w == [8.0, 8.0 * (1 + 3 * 0.5), 8.0 * 4, 8.0 * 0.5 * (1 + 3 * 9 / 8), 8.0 * 7]
    assert public(t, berlin(2024, 3, 4, 13))["weight"] == w[1]


# -- the SQL order against the Python weight -----------------------------------------------------

CONFIG_TOML = '[calendar]\ntimezone = "Europe/Berlin"\nholidays = ["2024-04-01", "2024-05-01"]\n'
TECHS = ("ana", "bob", "cem", "dai")


class World:
    """A ticketctl home in a folder; each action runs in a fresh Env with its own clock."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        (root / "config.toml").write_text(CONFIG_TOML)
        self.root = root

    def env(self, now: datetime, user: str = "disp") -> Env:
        environ = {"TICKETCTL_HOME": str(self.root), "TICKETCTL_NOW": iso(now), "TICKETCTL_USER": user}
        return Env(Home.from_env(environ), environ)

    def do(self, fn: Any, now: datetime, *args: Any, user: str = "disp", **kw: Any) -> Any:
        env = self.env(now, user)
        try:
            return fn(env, *args, **kw)
        finally:
            env.close()


def python_weight(t: Ticket, now: datetime) -> float:
    """The weight straight from the docstring formula, unrounded."""
    w = CFG.weights
    now_bt = CAL.ordinal(now)
    left = t.resolve_due_bt - now_bt if t.resolve_due_bt is not None else t.resolve_left_s
    assert left is not None
    used = min(max(1 - left / t.resolve_target_s, 0.0), 2.0)
    hours = 1.0 if CAL.in_hours(now) or t.priority in w.always_on else w.off_hours_factor
    return w.urgency[t.priority] * w.impact[t.impact] * hours * (1 + w.sla_factor * used)


def due_ordinal(t: Ticket, now: datetime) -> int:
    if t.resolve_due_bt is not None:
        return t.resolve_due_bt
    assert t.resolve_left_s is not None
    return CAL.ordinal(now) + t.resolve_left_s


LEGAL = {  # repeated entries make an action likelier
    "new": ["assign"] * 4 + ["cancel"],
    "assigned": ["assign", "start", "start", "block_c", "block_p", "resolve"],
    "in_progress": ["assign", "block_c", "block_c", "block_p", "resolve", "cancel"],
    "blocked": ["assign", "unblock", "unblock", "cancel"],
    "resolved": ["reopen"],
    "closed": ["reopen"],
    "cancelled": ["start"],
}


def build_random_store(root: Path, seed: int) -> tuple[World, datetime]:
    """45 tickets of random priority and impact, moved through the workflow at
    random moments (inside and outside hours); mostly legal actions, some not."""
    rng = random.Random(seed)
    w = World(root)
    now = berlin(2024, 3, 25, 7, 30)  # the week before Easter Monday
    for name in TECHS:
        w.do(techs.add, now, name, capacity=100)
    status: dict[str, str] = {}
    for _ in range(45):
        now += timedelta(minutes=rng.choice([1, 5, 20, 45, 90, 240, 600]))
        fields = {"title": "t", "type": rng.choice(["repair", "install", "incident"]), "dept": rng.choice(["it", "hr"]),
                  "product": "p", "priority": rng.choice(["urgent", "high", "medium", "low"]),
                  "impact": rng.choice(["user", "department", "system"])}
        key = w.do(tickets.create, now, fields)["key"]
        status[key] = "new"
        for _ in range(rng.randint(0, 4)):
            key = rng.choice(list(status))
            tech = rng.choice(TECHS)
            choices = LEGAL[status[key]] if rng.random() < 0.9 else ["start", "unblock", "resolve", "reopen"]
            action = rng.choice(choices)
            try:
                if action == "assign":
                    out = w.do(tickets.assign, now, key, tech)
                elif action == "start":
                    out = w.do(tickets.start, now, key, user=tech)
                elif action == "block_c":
                    out = w.do(tickets.block, now, key, "awaiting_customer", {}, user=tech)
                elif action == "block_p":
                    out = w.do(tickets.block, now, key, "awaiting_parts", {}, user=tech)
                elif action == "unblock":
                    out = w.do(tickets.unblock, now, key, user=tech)
                elif action == "resolve":
                    out = w.do(tickets.resolve, now, key, user=tech)
                elif action == "cancel":
                    out = w.do(tickets.cancel, now, key, "not needed")
                else:
                    out = w.do(tickets.reopen, now, key)
                status[key] = out["status"]
            except TicketctlError:
                pass
            now += timedelta(minutes=rng.choice([0, 3, 30, 120]))
    # always some paused ones (one paused with time left, one paused when already overdue)
    # and a closed one, whatever the seed drew
    for prio, wait in (("low", 30), ("urgent", 600)):
        key = w.do(tickets.create, now, {"title": "t", "type": "incident", "dept": "it", "product": "p", "priority": prio})["key"]
        w.do(tickets.assign, now, key, "ana")
        now += timedelta(minutes=wait)
        w.do(tickets.block, now, key, "awaiting_customer", {}, user="ana")
    key = w.do(tickets.create, now, {"title": "t", "type": "incident", "dept": "it", "product": "p"})["key"]
    w.do(tickets.assign, now, key, "bob")
    w.do(tickets.resolve, now, key, user="bob")
    w.do(tickets.close, now, key, [])
    return w, now


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_weight_order_matches_python_weight(tmp_path: Path, seed: int) -> None:
    w, last = build_random_store(tmp_path / "home", seed)
    store = Store(tmp_path / "home" / "ticketctl.db")
    try:
        everything = {t.key: t for t in store.select_tickets("", (), "key", None)}
        open_keys = {k for k, t in everything.items() if t.status in OPEN_STATUSES}
        assert any(t.status == "blocked" and t.resolve_due_bt is None for t in everything.values())  # paused
        nows = [
            last,
            berlin(2024, 4, 2, 10),  # inside hours, after the holiday
            berlin(2024, 4, 2, 21),  # at night
            berlin(2024, 4, 6, 12),  # a Saturday
            berlin(2024, 4, 1, 10),  # on the holiday
            berlin(2024, 5, 20, 9),  # weeks later: everything running is breached
        ]
        seen_breached = seen_paused = seen_off_hours = False
        for now in nows:
            now_bt = CAL.ordinal(now)
            rows = list_tickets(store, CFG, now, sort="weight", limit=None)
            assert {t.key for t in rows} == open_keys
            assert len(rows) == len(open_keys)
            py = [ticket_weight(t, CFG, now) for t in rows]
            for i, (a, b) in enumerate(itertools.pairwise(py)):
                assert a >= b - 1e-9, f"at {now}: {rows[i].key} ({a}) before {rows[i + 1].key} ({b})"
            # the SQL expression itself against the docstring formula, and the rounded view
            expr = weight_sql(CFG, CAL.in_hours(now))
            sql = dict(store.db.execute(f"SELECT key, {expr} FROM tickets", {"now_bt": now_bt}).fetchall())
            for t in rows:
                exact = python_weight(t, now)
                assert sql[t.key] == pytest.approx(exact, abs=1e-9)
                assert abs(ticket_weight(t, CFG, now) - exact) <= 5e-4 + 1e-9
            # a limit is a prefix of the whole order
            assert [t.key for t in list_tickets(store, CFG, now, sort="weight", limit=7)] == [t.key for t in rows[:7]]
            # every status: closed, resolved and cancelled come last with weight 0
            all_rows = list_tickets(store, CFG, now, statuses=list(STATUSES), sort="weight", limit=None)
            assert len(all_rows) == len(everything)
            allw = [ticket_weight(t, CFG, now) for t in all_rows]
            assert all(a >= b - 1e-9 for a, b in itertools.pairwise(allw))
            assert all(x > 0 for x in allw[: len(open_keys)]) and all(x == 0 for x in allw[len(open_keys):])
            # soonest due first, consistent with the due the view prints
            due_rows = list_tickets(store, CFG, now, sort="due", limit=None)
            assert {t.key for t in due_rows} == open_keys
            dues = [due_ordinal(t, now) for t in due_rows]
            assert dues == sorted(dues)
            shown = [parse_time(ticket_public(t, CFG, now)["sla_resolve_due"]) for t in due_rows]
            assert shown == sorted(shown)
            assert [CAL.ordinal(s) for s in shown] == dues
            states = {ticket_public(t, CFG, now)["sla_state"] for t in rows}
            seen_breached |= "breached" in states
            seen_paused |= "paused" in states
            seen_off_hours |= not CAL.in_hours(now)
        assert seen_breached and seen_paused and seen_off_hours
    finally:
        store.close()


def test_sql_weight_breaks_ties_by_age(tmp_path: Path) -> None:
    w = World(tmp_path / "home")
    at = berlin(2024, 3, 4, 9)
    keys = [w.do(tickets.create, at + timedelta(minutes=i),
                 {"title": "t", "type": "repair", "dept": "it", "product": "p", "priority": "low"})["key"]
            for i in range(3)]
    # at night, a low ticket's weight barely moves; all three are equal when all left the target at once
    now = berlin(2024, 4, 30, 9)  # long overdue: all clamped at the same weight
    store = Store(tmp_path / "home" / "ticketctl.db")
    try:
        rows = list_tickets(store, CFG, now, sort="weight", limit=None)
        assert [ticket_weight(t, CFG, now) for t in rows] == [7.0, 7.0, 7.0]
        assert [t.key for t in rows] == keys  # oldest first among equals
    finally:
        store.close()

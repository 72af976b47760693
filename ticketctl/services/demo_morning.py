"""The shape of the demo's morning (``services.demo`` writes it): who is at
work, full, off shift or on leave; which open tickets are held, unassigned
and fitting the free room, worked off, at risk; what the held ones are doing;
and the product a batch incident hits. Plans only: the events are written by
``services.demo``, whose docstring states the rule these numbers make.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ticketctl.core import approvals
from ticketctl.core.config import Config
from ticketctl.core.model import Technician
from ticketctl.core.views import AT_RISK_SHARE

# the morning's shape (see the module docstring)
OFF_SHIFT = 0.08  # technicians not on shift
ON_LEAVE = 0.05  # technicians on leave, each with a delegate at work in their department
FULL = 0.12  # technicians at work who are full
HELD_THIRDS = (0, 1, 1, 2, 2)  # the others hold this many thirds of their capacity (always below it)
FILL = 0.8  # the unassigned work that fits: this share of the free room of those at work
SAVABLE = 0.2  # ... of it older open tickets, mostly past their SLA, rather than the newest
AT_RISK = 0.15  # ... and as many as this share of it (rounded up), unassigned or held and working, are given
#                 the priority whose SLA runs out soon, where one does
CLEARED_PER_TECH = 15  # the older open work beyond that: this many per technician at work were worked off
BLOCKED_EACH = 2  # held tickets blocked for each reason of the menu, at least
APPROVALS = 3  # held tickets waiting for an approval
APPROVAL_COSTS = (180.0, 320.0, 1200.0, 2600.0)  # under 5,000: the default paths need no quote attached
APPROVAL_WHAT = ("replacement compressor", "new control board", "after-hours contractor", "spare drive set")
BATCH_FROM = 50  # tickets from which the demo has a batch incident
#: what a ticket is this morning
DONE, CLEARED, HELD, NEW, APPROVAL = "done", "cleared", "held", "new", "approval"


def holds(rng: random.Random, techs: list[Technician]) -> dict[str, int]:
    """How many open tickets each technician holds: a handful of those at work
    full, the others below capacity; off shift or on leave, what they left."""
    at_work = [t for t in techs if t.on_shift and not t.on_leave]
    full = {t.name for t in rng.sample(at_work, max(1, round(len(at_work) * FULL)))} if len(at_work) >= 3 else set()
    out: dict[str, int] = {}
    for t in techs:
        if t.name in full:
            out[t.name] = t.capacity
        elif t.on_shift and not t.on_leave:
            out[t.name] = min(max(t.capacity - 1, 0), rng.choice(HELD_THIRDS) * t.capacity // 3)
        else:
            out[t.name] = min(t.capacity, rng.choice((0, 1, 1, 2)))
    return out


def at_risk(at: datetime, now: datetime, cfg: Config) -> str | None:
    """The first priority under which a ticket created ``at`` and still
    unassigned is at risk now (under ``AT_RISK_SHARE`` of its resolution time
    left), or None."""
    cal = cfg.business_calendar
    waited = cal.ordinal(now) - cal.ordinal(at)
    for p in cfg.sla:
        res = cfg.sla_seconds(p)[1]
        if (1 - AT_RISK_SHARE) * res < waited < res:
            return p
    return None


def into_risk(at: datetime, now: datetime, cfg: Config) -> tuple[datetime, str]:
    """The time nearest ``at`` at which an unassigned ticket is created to be at
    risk now, and its priority (the one whose window is nearest)."""
    cal = cfg.business_calendar
    now_bt = cal.ordinal(now)
    times = [(cal.instant(now_bt - int((1 - AT_RISK_SHARE / 2) * cfg.sla_seconds(p)[1])).replace(microsecond=0), p)
             for p in cfg.sla]
    return min(times, key=lambda tp: (abs((tp[0] - at).total_seconds()), tp[1]))


@dataclass(frozen=True)
class BatchAt:
    skill: str  # the product the batch's tickets share
    dept: str


def batch_skill(at_work: list[Technician], holds: dict[str, int]) -> BatchAt | None:
    """The product a batch incident hits: the skill with the most free room among
    technicians at work (so that the batch can be dispatched), or None."""
    room: Counter[tuple[str, str]] = Counter()
    for t in at_work:
        for s in t.skills:
            room[(s, t.dept)] += t.capacity - holds[t.name]
    if not room:
        return None
    (skill, dept), _n = max(sorted(room.items()), key=lambda kv: kv[1])
    return BatchAt(skill, dept)


@dataclass
class Roles:
    """What each ticket is this morning (:data:`DONE`, :data:`CLEARED`, :data:`HELD`
    or :data:`NEW`); who holds a held one; and, for an unassigned one that fits,
    the technician at work whose free room it is drawn for (its product is one of their skills)."""

    role: list[str]
    held: dict[int, Technician] = field(default_factory=dict)
    room: dict[int, Technician] = field(default_factory=dict)


def roles(rng: random.Random, created: list[datetime], done_of: list[datetime], dept_of: list[dict[str, Any]],
           kids: set[int], techs: list[Technician], holds: dict[str, int], now: datetime) -> Roles:
    """Split the open tickets (those the profile has done after ``now``) by
    department into the unassigned that fits (``FILL`` of the free room of those
    at work: the newest, and ``SAVABLE`` of them older, mostly past their SLA),
    the held (the next newest, as many as the department's technicians hold)
    and the rest; of the rest the newest stay unassigned and the older
    ``CLEARED_PER_TECH`` per technician at work were worked off (history)."""
    roles = Roles([DONE] * len(created))
    open_by: dict[str, list[int]] = {}
    for n, done in enumerate(done_of):
        if n in kids:
            roles.role[n] = NEW
        elif done >= now:
            open_by.setdefault(dept_of[n]["name"], []).append(n)
    team: dict[str, list[Technician]] = {}
    for t in techs:
        team.setdefault(t.dept, []).append(t)
    rest: list[int] = []
    for dept, ids in open_by.items():
        mates = team.get(dept, [])
        room = [t for t in mates if t.on_shift and not t.on_leave for _i in range(t.capacity - holds[t.name])]
        rng.shuffle(room)
        fit = min(int(FILL * len(room)), len(ids))
        newest = fit - round(fit * SAVABLE)
        older = ids[: len(ids) - newest]
        saved = rng.sample(older, min(fit - newest, len(older)))
        for n, t in zip(ids[len(ids) - newest:] + saved, room, strict=False):
            roles.role[n], roles.room[n] = NEW, t
        left = [n for n in older if n not in set(saved)]
        slots = [t for t in mates for _i in range(holds[t.name])]
        rng.shuffle(slots)
        for n, t in zip(reversed(left), slots, strict=False):
            roles.role[n], roles.held[n] = HELD, t
        rest += left[: max(len(left) - len(slots), 0)]
    rest.sort()
    at_work = sum(1 for t in techs if t.on_shift and not t.on_leave)
    stay = max(len(rest) - CLEARED_PER_TECH * at_work, 0)  # open work beyond what the team worked off
    for i, n in enumerate(rest):
        roles.role[n] = NEW if i >= len(rest) - stay else CLEARED
    return roles


def held_states(rng: random.Random, roles: Roles, pick_held: Callable[[], Any], cfg: Config) -> dict[int, str]:
    """What each held ticket is doing, by the profile's shares; then a few
    working ones turned into blocks for every reason of the menu that has
    fewer than ``BLOCKED_EACH``, and ``APPROVALS`` into approval requests
    (at most half the held tickets turned: a small team still has work going)."""
    held = sorted(roles.held)
    states: dict[int, str] = {}
    for n in held:
        s = pick_held()
        states[n] = s if not s.startswith("blocked:") or s.split(":", 1)[1] in cfg.reasons else "in_progress"

    budget = [len(held) // 2]  # a small team keeps half its held work going: turn at most that many

    def turn(into: str, k: int) -> None:
        working = [n for n in held if states[n] in ("assigned", "in_progress")]
        for n in rng.sample(working, max(min(k, len(working), budget[0]), 0)):
            states[n] = into
            budget[0] -= 1

    have = Counter(states.values())
    for reason in cfg.reasons:
        if reason != approvals.REASON and have[f"blocked:{reason}"] < BLOCKED_EACH:
            turn(f"blocked:{reason}", BLOCKED_EACH - have[f"blocked:{reason}"])
    if approvals.REASON in cfg.reasons:
        turn(APPROVAL, APPROVALS)
    return states

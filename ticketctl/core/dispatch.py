"""Load-aware assignment: who may take a ticket, who should, and why.

Eligibility (a technician who fails one is *skipped*, with the reason):
on leave -> off shift -> lacks a required skill -> at capacity.
Ranking among the eligible, by policy (``[dispatch] policy``, per department
in ``[dispatch.departments.<dept>]``); a VIP customer's ticket puts senior
technicians first under every policy:

    least_loaded   skill fit, lower load, shorter distance, longest idle
    skills_first   skill fit, fewest skills beyond the ticket's, load, distance, idle
    round_robin    longest idle, lower load

*Skill fit* counts what the technician covers of the ticket's required skills,
product and fault. *Distance* is 0 in the same zone, else the haversine
distance between the technician's coordinates and the ticket zone's centre
(``[zones.<name>]``), unknown otherwise (ranked last).

:func:`plan` assigns a whole backlog in one pass, highest weight first, never
over capacity. Greedy alone can strand a ticket whose only skilled technician
was taken by an earlier one that had other options, so when a ticket finds
every candidate full, :func:`plan` moves tickets placed earlier in this pass
to other technicians they may take,
which frees the slot; chains of such moves are found breadth first (an
augmenting path, as in bipartite matching)::

    before:  A(w=9) -> T1 [full]     B(w=8): only T1 has the skill
    after:   A(w=9) -> T2            B(w=8) -> T1

Reasons (a candidate's, an assignment's, why a ticket stays unassigned) are
:class:`~ticketctl.core.message.Message` objects: English text, which is what
events and ``--json`` carry, with the template and values the human views
render in the reader's language. A skipped candidate's reason is
``skipped: <why>`` (:data:`SKIPPED`); :func:`why_skipped` gives the ``<why>``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ticketctl.core.config import Config
from ticketctl.core.message import Message, inner, msg
from ticketctl.core.model import Technician, Ticket, parse_time
from ticketctl.i18n import N_

FAR = 1e9  # unknown distance sorts after every known one
#: a skipped candidate's reason; its ``why`` is what a table under a "skipped" verdict shows
SKIPPED = N_("skipped: {why}")


@dataclass(frozen=True)
class Candidate:
    """One technician's verdict for one ticket."""

    name: str
    eligible: bool
    reason: str  # a Message (see the module doc)
    load: int
    capacity: int
    fit: int = 0
    distance_km: float | None = None
    idle_s: int = 0
    routes_to: str | None = None
    rank: tuple[Any, ...] = field(default=(), compare=False)

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "verdict": "eligible" if self.eligible else "skipped", "reason": self.reason,
                "load": self.load, "capacity": self.capacity, "fit": self.fit, "distance_km": self.distance_km,
                "idle_s": self.idle_s, "routes_to": self.routes_to}


def wanted(t: Ticket) -> set[str]:
    """What a technician's skills can cover of this ticket."""
    return {s for s in (*t.skills, t.product, t.fault) if s}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def distance_km(t: Ticket, tech: Technician, cfg: Config) -> float | None:
    if t.zone and tech.zone == t.zone:
        return 0.0
    z = cfg.zones.get(t.zone)
    if z is None:
        return None
    if tech.lat is not None and tech.lon is not None:
        return round(haversine_km(tech.lat, tech.lon, z.lat, z.lon), 1)
    home = cfg.zones.get(tech.zone)
    return round(haversine_km(home.lat, home.lon, z.lat, z.lon), 1) if home else None


def is_vip(t: Ticket, cfg: Config) -> bool:
    return bool(t.customer) and t.customer in cfg.dispatch.vip_customers


def why_skipped(reason: str) -> str:
    """A skipped candidate's reason without its ``skipped: `` head (a Message
    when ``reason`` is one), for a view that shows the verdict in its own column."""
    return inner(reason, SKIPPED, "why") if isinstance(reason, Message) else reason.removeprefix("skipped: ")


def _duration(seconds: int) -> Message:
    h, m = divmod(max(seconds, 0) // 60, 60)
    if h >= 24:
        return msg(N_("{sign}{days}d {hours}h"), sign="", days=h // 24, hours=h % 24)
    return msg(N_("{sign}{hours}h {minutes}m"), sign="", hours=h, minutes=f"{m:02d}")


def rank_key(t: Ticket, tech: Technician, load: int, fit: int, dist: float | None, idle_s: int, cfg: Config) -> tuple[Any, ...]:
    """Smaller is better; the policy of the ticket's department decides the order."""
    vip = 0 if not is_vip(t, cfg) or tech.senior else 1
    d = FAR if dist is None else dist
    policy = cfg.policy(t.dept)
    if policy == "round_robin":
        return (vip, -idle_s, load, tech.name)
    if policy == "skills_first":
        extra = len(set(tech.skills) - wanted(t))
        return (vip, -fit, extra, load, d, -idle_s, tech.name)
    return (vip, -fit, load, d, -idle_s, tech.name)


def judge(t: Ticket, tech: Technician, load: int, last_active: str | None, cfg: Config, now: datetime) -> Candidate:
    """The verdict for one technician, in plain words."""
    base: dict[str, Any] = {"name": tech.name, "load": load, "capacity": tech.capacity}
    if tech.on_leave or not tech.on_shift:
        if tech.delegate:
            away = (msg(N_("on leave, routes to {delegate}"), delegate=tech.delegate) if tech.on_leave
                    else msg(N_("off shift, routes to {delegate}"), delegate=tech.delegate))
        else:
            away = msg(N_("on leave")) if tech.on_leave else msg(N_("off shift"))
        return Candidate(eligible=False, reason=msg(SKIPPED, why=away), routes_to=tech.delegate, **base)
    missing = sorted(set(t.skills) - set(tech.skills))
    if missing:
        return Candidate(eligible=False, reason=msg(SKIPPED, why=msg(N_("lacks skill {skills}"), skills=", ".join(missing))),
                         **base)
    if load >= tech.capacity:
        return Candidate(eligible=False, reason=msg(SKIPPED, why=msg(
            N_("at capacity {load}/{capacity}"), load=load, capacity=tech.capacity)), **base)
    fit = len(wanted(t) & set(tech.skills))
    dist = distance_km(t, tech, cfg)
    idle_s = int((now - parse_time(last_active or tech.created_at)).total_seconds())
    where = (msg(N_("same zone")) if dist == 0.0 else msg(N_("distance unknown")) if dist is None
             else msg(N_("distance {km} km"), km=dist))
    reason = msg(N_("skill fit {fit}, load {load}/{capacity}, {where}, idle {idle}"),
                 fit=fit, load=load, capacity=tech.capacity, where=where, idle=_duration(idle_s))
    if is_vip(t, cfg):
        reason = (msg(N_("{reason}, senior for a VIP customer"), reason=reason) if tech.senior
                  else msg(N_("{reason}, not senior (VIP customer)"), reason=reason))
    return Candidate(eligible=True, reason=reason, fit=fit, distance_km=dist, idle_s=idle_s,
                     rank=rank_key(t, tech, load, fit, dist, idle_s, cfg), **base)


def evaluate(t: Ticket, techs: Iterable[Technician], loads: dict[str, int], last_active: dict[str, str],
             cfg: Config, now: datetime) -> list[Candidate]:
    """Every technician's verdict: the eligible best first, then the skipped."""
    cands = [judge(t, tech, loads.get(tech.name, 0), last_active.get(tech.name), cfg, now) for tech in techs]
    ok = sorted((c for c in cands if c.eligible), key=lambda c: c.rank)
    return ok + sorted((c for c in cands if not c.eligible), key=lambda c: c.name)


def route(tech: Technician, techs: dict[str, Technician]) -> Technician | None:
    """Where work for ``tech`` goes: themselves, their delegate when they are
    away (following a chain of delegates), or None when away without one."""
    seen: set[str] = set()
    while tech.on_leave or not tech.on_shift:
        if not tech.delegate or tech.delegate in seen or tech.delegate not in techs:
            return None
        seen.add(tech.name)
        tech = techs[tech.delegate]
    return tech


def pair_score(weight: float, fit: int) -> float:
    """What one assignment is worth: the ticket's weight, and 1% more per
    skill of the ticket the technician covers (weight decides; fit breaks ties)."""
    return weight * (1.0 + 0.01 * fit)


@dataclass
class Plan:
    assigned: list[dict[str, Any]] = field(default_factory=list)
    unassigned: list[dict[str, Any]] = field(default_factory=list)

    def score(self) -> float:
        return sum(a["score"] for a in self.assigned)


def plan(backlog: list[tuple[Ticket, float]], techs: list[Technician], loads: dict[str, int],
         last_active: dict[str, str], cfg: Config, now: datetime, limit: int | None = None) -> Plan:
    """Assign ``backlog`` ((ticket, weight) pairs) in one pass, highest weight
    first; nobody ends above capacity. Pure: the caller writes the result."""
    avail = [tech for tech in techs if tech.on_shift and not tech.on_leave]
    by_skill: dict[str, set[str]] = {}
    for tech in avail:
        for s in tech.skills:
            by_skill.setdefault(s, set()).add(tech.name)
    info = {tech.name: tech for tech in avail}
    free = {tech.name: tech.capacity - loads.get(tech.name, 0) for tech in avail}
    idle = {tech.name: int((now - parse_time(last_active.get(tech.name) or tech.created_at)).total_seconds())
            for tech in avail}
    placed: dict[str, list[int]] = {}  # technician -> indexes into result.assigned made in this pass
    result = Plan()
    everyone = set(info)

    def skilled(t: Ticket) -> set[str]:
        names = set(everyone)
        for s in t.skills:
            names &= by_skill.get(s, set())
            if not names:
                break
        return names

    def best(t: Ticket, names: Iterable[str]) -> str | None:
        keyed = []
        for n in names:
            tech = info[n]
            fit = len(wanted(t) & set(tech.skills))
            load = tech.capacity - free[n]
            keyed.append((rank_key(t, tech, load, fit, distance_km(t, tech, cfg), idle[n], cfg), n))
        return min(keyed)[1] if keyed else None

    def put(t: Ticket, weight: float, name: str) -> None:
        tech = info[name]
        fit = len(wanted(t) & set(tech.skills))
        free[name] -= 1
        placed.setdefault(name, []).append(len(result.assigned))
        result.assigned.append({"key": t.key, "assignee": name, "weight": weight, "score": pair_score(weight, fit),
                                "reason": judge(t, tech, tech.capacity - free[name] - 1, last_active.get(name), cfg, now).reason,
                                "_ticket": t})

    dead: set[str] = set()  # full technicians from which no free slot can be reached, ever again

    def move(i: int, frm: str, to: str) -> None:
        moved = result.assigned[i]
        placed[frm].remove(i)
        placed.setdefault(to, []).append(i)
        free[frm] += 1
        free[to] -= 1
        fit = len(wanted(moved["_ticket"]) & set(info[to].skills))
        why = judge(moved["_ticket"], info[to], info[to].capacity - free[to] - 1, last_active.get(to), cfg, now)
        moved.update(assignee=to, score=pair_score(moved["weight"], fit),
                     reason=msg(N_("{reason} (moved from {previous} to make room)"), reason=why.reason, previous=frm))

    def augment(t: Ticket, weight: float, names: set[str], budget: int = 5000) -> bool:
        """Breadth-first search for a chain of moves of tickets placed in this
        pass that frees a slot on one of ``names`` (all full); True when ``t``
        got a technician. A failed search marks what it saw as dead: those
        technicians stay full and closed for the rest of the pass."""
        if names <= dead:
            return False
        parent: dict[str, tuple[str, int] | None] = {n: None for n in sorted(names)}
        queue = deque(parent)
        steps = 0
        while queue:
            n = queue.popleft()
            for i in placed.get(n, []):
                for m in sorted(skilled(result.assigned[i]["_ticket"]) - dead):
                    if m in parent:
                        continue
                    parent[m] = (n, i)
                    if free[m] > 0:
                        cur = m
                        while (link := parent[cur]) is not None:
                            move(link[1], link[0], cur)
                            cur = link[0]
                        put(t, weight, cur)
                        return True
                    queue.append(m)
                    steps += 1
                    if steps > budget:
                        return False
        dead.update(parent)
        return False

    # highest weight first; on equal weight the ticket fewer technicians can take goes first
    ordered = sorted(backlog, key=lambda tw: (-tw[1], len(skilled(tw[0])), tw[0].created_at, tw[0].key))
    for t, weight in ordered:
        if limit is not None and len(result.assigned) >= limit:
            break
        names = skilled(t)
        if not names:
            need = ", ".join(sorted(t.skills))
            result.unassigned.append({"key": t.key, "weight": weight,
                                      "reason": msg(N_("no technician on shift has skill {skills}"), skills=need)})
            continue
        open_names = [n for n in names if free[n] > 0]
        if open_names:
            put(t, weight, best(t, open_names))  # type: ignore[arg-type]
            continue
        if not augment(t, weight, names):
            result.unassigned.append({"key": t.key, "weight": weight, "reason": msg(
                N_("every technician with the skills is at capacity ({n} of them)"), n=len(names))})
    for a in result.assigned:
        a.pop("_ticket", None)
    return result

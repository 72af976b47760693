"""A realistic team and backlog for trying ticketctl, shaped on real data.

The shares and durations come from ``ticketctl/data/demo_profile.json``, an
aggregate measured on the ServiceNow incident event log (UCI, CC BY 4.0; see
``tools/build_demo_profile.py``): departments and their products and faults,
priorities, impact, channels, zones, arrivals by hour of the week, time to
first assignment and to resolution, and what an open backlog is doing
(assigned, in progress, blocked and why).

Every ticket is made of the same events a user's commands would make
(created, assigned, started, blocked, approval requested, linked, resolved,
checked, closed; ``tech set --on-leave --delegate`` for the team), folded by
``core.workflow`` and written in one transaction: the demo store passes
``ticketctl store check`` like any other. Deterministic per seed.

A real morning, not a drowning team. The open backlog is sized by this rule:

* *open*: the tickets whose resolution time (from the profile) reaches past
  now, about a fifth of them;
* *held*: each technician holds a share of their capacity (a handful of those
  at work, ``FULL``, are full; the others hold 0-2 thirds of it; those off shift
  or on leave what they left), filled per department with its newest open
  tickets: about half of the team's capacity is held;
* *unassigned that fits*: ``FILL`` of the free room of the technicians at work,
  per department, each ticket drawn for one free slot (its product is one of
  that technician's skills, so dispatch finds someone for every one): mostly
  the newest open tickets, ``SAVABLE`` of them older ones (past their SLA, the
  first that ``dispatch``/``d`` takes by weight); as many as ``AT_RISK`` of
  them, unassigned or held, get the priority that puts them at risk;
* *the rest*, older open work beyond what the team holds: of it,
  ``CLEARED_PER_TECH`` tickets per technician at work were worked off
  (resolved before now) and the newest beyond that stay unassigned.

At the default size (2,000 tickets, 40 technicians) the rest is all worked
off, so ``d`` in the dashboard assigns nearly all the unassigned work within
capacity; at large sizes (``--tickets 500000``) the rest dwarfs what the team
works off, and the open count still scales with ``--tickets`` (about a fifth,
which ``bench/tui.py`` relies on). Besides: a few technicians on leave, each
with a delegate at work in their department; at least ``BLOCKED_EACH`` held
tickets blocked for each reason of the config's menu (with the fields a
reason requires) and ``APPROVALS`` waiting for an approval on the config's
paths; and, from ``BATCH_FROM`` tickets, a batch incident: the newest
``sweep.batch_size`` tickets share a product (the one with the most free room),
fault and zone within the batch window, linked under the parent that
``sweep``'s batch rule (``core.sweep.batches``) opens over them.
"""

from __future__ import annotations

import bisect
import json
import math
import random
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from importlib import resources
from types import ModuleType
from typing import Any

from ticketctl.core import sweep as rules
from ticketctl.core import workflow
from ticketctl.core.config import Config
from ticketctl.core.model import OPEN_STATUSES, Event, Technician, Ticket, iso
from ticketctl.core.views import sla_state
from ticketctl.errors import Refused
from ticketctl.i18n import _
from ticketctl.services import demo_morning as morning
from ticketctl.services import demo_zh
from ticketctl.services.demo_morning import (
    APPROVAL,
    APPROVAL_COSTS,
    APPROVAL_WHAT,
    AT_RISK,
    BATCH_FROM,
    CLEARED,
    DONE,
    HELD,
    OFF_SHIFT,
    ON_LEAVE,
)
from ticketctl.services.env import Env

NAMES = (
    "ana bob chen dara eli fatima gus hana ivan jo kai lena mo nia omar pia quinn raj sara tom uma vic wen "
    "xena yusuf zoe amir bea carl dina emil flor gita hugo ines jan kim luis maya nils olga pablo rosa sven "
    "tara ugo vera will yara zeno"
).split()
TYPES = (("incident", 0.5), ("repair", 0.35), ("install", 0.1), ("change", 0.05))
WINDOW_DAYS = 30
CHUNK = 5000

#: after a ticket's steps: (when, who, the drafts a decision makes of the ticket as it is then)
_Then = tuple[datetime, str, Callable[[Ticket], list[workflow.Draft]]]


def load_profile() -> dict[str, Any]:
    data = resources.files("ticketctl").joinpath("data/demo_profile.json").read_text(encoding="utf-8")
    return dict(json.loads(data))


class _Pick:
    """Weighted choice by bisecting a cumulative table (fast for large runs)."""

    def __init__(self, rng: random.Random, items: Sequence[Any], weights: Sequence[float]):
        self.rng, self.items, self.cum = rng, list(items), []
        total = 0.0
        for w in weights:
            total += max(w, 0.0)
            self.cum.append(total)

    def __call__(self) -> Any:
        i = bisect.bisect_right(self.cum, self.rng.random() * self.cum[-1])
        return self.items[min(i, len(self.items) - 1)]


def _quantile_sampler(rng: random.Random, q: dict[str, float]) -> Callable[[], float]:
    """Inverse-CDF sampling, linear between the profile's quantiles (hours)."""
    ps = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0]
    vs = [0.0, q["p10"], q["p25"], q["p50"], q["p75"], q["p90"], q["p99"], q["p99"] * 1.5]

    def draw() -> float:
        u = rng.random()
        i = max(bisect.bisect_right(ps, u) - 1, 0)
        i = min(i, len(ps) - 2)
        f = (u - ps[i]) / (ps[i + 1] - ps[i])
        return vs[i] + f * (vs[i + 1] - vs[i])

    return draw


class _Writer:
    """Builds events with this store's device identity and folds them."""

    def __init__(self, env: Env, id_rng: random.Random):
        self.env, self.rng, self.cfg = env, id_rng, env.config
        st = env.store
        self.device = st.meta("device_id")
        self.seq = int(st.meta("next_device_seq"))
        self.events: list[Event] = []
        self.spans: list[tuple[Any, ...]] = []

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def emit(self, key: str | None, typ: str, at: datetime, actor: str, payload: dict[str, Any]) -> Event:
        e = Event(id=self._id(), type=typ, at=iso(at), actor=actor, device=self.device, device_seq=self.seq,
                  mutation_id=self._id(), ticket=key, payload=payload)
        self.seq += 1
        self.events.append(e)
        return e

    def ticket(self, key: str, steps: list[tuple[str, datetime, str, dict[str, Any]]], then: _Then | None = None) -> Ticket:
        """Fold ``steps`` into a new ticket; ``then``: a decision made on the ticket
        they give (an approval request works out its path from it), its drafts
        added (none when the config refuses it)."""
        events = [self.emit(key, typ, at, actor, payload) for typ, at, actor, payload in steps]
        if then is not None:
            at, actor, decide = then
            try:
                drafts = decide(workflow.fold(None, events, self.cfg)[0])
            except Refused:
                drafts = []
            events += [self.emit(key, typ, at, actor, payload) for typ, payload in drafts]
        t, rows = workflow.fold(None, events, self.cfg)
        self.spans.extend(rows)
        return t


def generate(env: Env, n_tickets: int, n_techs: int, seed: int, force: bool = False,
             progress: Callable[[int], None] | None = None, lang: str = "en") -> dict[str, Any]:
    """Write the demo team and backlog into ``env.store``; returns a summary.

    ``lang`` ``zh_CN``: a Chinese team (``services.demo_zh``) on China's calendar,
    written into the config when it names no country or time zone of its own."""
    st, now = env.store, env.now
    existing = st.count_tickets()
    if existing and not force:
        raise Refused(_("the store {store} already holds {n} tickets; use an empty TICKETCTL_HOME"
                        " (e.g. TICKETCTL_HOME=/tmp/ticketctl-demo ticketctl demo) or pass --force to add to it").format(
                            store=env.home.store_file, n=existing))
    zh = demo_zh if lang == "zh_CN" else None
    if zh:
        use_calendar(env, zh.CALENDAR)
    st, cfg = env.store, env.config
    prof = zh.profile(load_profile()) if zh else load_profile()
    names = zh.NAMES if zh else NAMES
    # content depends on the seed only (same seed, same backlog on any store);
    # event ids also on the device, so that ids never repeat across stores
    rng = random.Random(f"{seed}:{st.meta('next_ticket_no')}")
    id_rng = random.Random(f"{seed}:{st.meta('device_id')}:{st.meta('next_device_seq')}")
    depts = prof["departments"]
    pick_dept = _Pick(rng, depts, [d["share"] for d in depts])
    pick_zone = _Pick(rng, [z["name"] for z in prof["zones"]], [z["share"] for z in prof["zones"]])
    pick_pri = _Pick(rng, list(prof["priority"]), list(prof["priority"].values()))
    pick_imp = _Pick(rng, list(prof["impact"]), list(prof["impact"].values()))
    pick_chan = _Pick(rng, list(prof["channel"]), list(prof["channel"].values()))
    pick_type = _Pick(rng, [t for t, _w in TYPES], [w for _t, w in TYPES])
    held_shares = {k: v for k, v in prof["backlog_states"]["shares"].items() if k != "new"}
    pick_held = _Pick(rng, list(held_shares), list(held_shares.values()))
    products = {d["name"]: _Pick(rng, d["products"], [p["share"] for p in d["products"]]) for d in depts}
    faults = {(d["name"], p["name"]): _Pick(rng, [f["name"] for f in p["faults"]], [f["share"] for f in p["faults"]])
              for d in depts for p in d["products"]}
    hours_to_resolve = _quantile_sampler(rng, prof["hours_to_resolve"])
    hours_to_assign = _quantile_sampler(rng, prof["hours_to_first_assignment"])
    hour_weights = prof["arrivals_by_hour_of_week"]
    pick_how = _Pick(rng, range(168), hour_weights)
    w = _Writer(env, id_rng)
    dispatcher = zh.DISPATCHER if zh else "dispatch"

    # -- the team: every department staffed, the rest by share; a few on leave
    per_dept = Counter(d["name"] for d in depts[: min(n_techs, len(depts))])
    for _i in range(n_techs - sum(per_dept.values())):
        per_dept[pick_dept()["name"]] += 1
    techs: list[Technician] = []
    team_at = now - timedelta(days=WINDOW_DAYS + 1)
    i = 0
    for d in depts:
        for _i in range(per_dept[d["name"]]):
            name = names[i % len(names)] + (f"{i // len(names) + 1}" if i >= len(names) else "")
            i += 1
            k = min(len(d["products"]), rng.choice((2, 2, 3)))
            skills = sorted({products[d["name"]]()["name"] for _j in range(k * 2)})[:k]
            payload = {"name": name, "skills": skills, "zone": pick_zone(), "dept": d["name"],
                       "capacity": cfg.capacity, "on_shift": rng.random() > OFF_SHIFT}
            techs.append(workflow.apply_tech(None, w.emit(None, "tech.added", team_at, dispatcher, payload), cfg))
    techs = _send_on_leave(rng, w, techs, now, dispatcher, cfg)
    holds = morning.holds(rng, techs)
    at_work = [t for t in techs if t.on_shift and not t.on_leave]

    # -- arrivals: when each ticket came in, its department and when it would be done
    batch_size = cfg.sweep.batch_size
    batch = morning.batch_skill(at_work, holds) if n_tickets >= max(BATCH_FROM, 4 * batch_size) else None
    n_made = n_tickets - 1 if batch else n_tickets  # the batch's parent is the last ticket
    start_no = int(st.meta("next_ticket_no"))
    prefix = st.meta("key_prefix")
    weeks = WINDOW_DAYS / 7
    # the profile's hours of the week are local time: the calendar's for a Chinese team, UTC for the English one
    local = now.astimezone(cfg.business_calendar.tz) if zh else now
    week0 = local - timedelta(days=local.weekday(), hours=local.hour, minutes=local.minute, seconds=local.second)
    holidays = set(cfg.business_calendar.holidays) if zh else set()
    created: list[datetime] = []
    while len(created) < n_made:
        how = pick_how()
        at = week0 - timedelta(weeks=int(rng.random() * weeks)) + timedelta(hours=how, minutes=rng.random() * 60)
        if holidays and at.date() in holidays and rng.random() < 0.7:
            continue  # a public holiday: few calls
        if now - timedelta(days=WINDOW_DAYS) <= at < now:
            created.append(at.astimezone(now.tzinfo).replace(microsecond=0))
    created.sort()
    dept_of: list[dict[str, Any]] = [pick_dept() for _at in created]
    done_of = [at + timedelta(hours=max(hours_to_resolve(), 0.2)) for at in created]
    kids: list[int] = []
    if batch:  # the newest tickets: one fault of one product in one zone, within the batch window
        kids = list(range(n_made - batch_size, n_made))
        lo = created[-1] - timedelta(seconds=cfg.wall(cfg.sweep.batch_window) / 2)
        bdept = next(d for d in depts if d["name"] == batch.dept)
        for n in kids:
            created[n], dept_of[n] = max(created[n], lo), bdept
        bfault = faults[(batch.dept, batch.skill)]()
        bzone = rng.choice([t.zone for t in at_work if batch.skill in t.skills])
    roles = morning.roles(rng, created, done_of, dept_of, set(kids), techs, holds, now)
    states = morning.held_states(rng, roles, pick_held, cfg)
    working = [n for n in roles.held if states[n] in ("assigned", "in_progress")]
    can_risk = {n: p for n in sorted([*roles.room, *working]) if (p := morning.at_risk(created[n], now, cfg))}
    want = math.ceil(len(roles.room) * AT_RISK)
    risky = {n: can_risk[n] for n in rng.sample(sorted(can_risk), min(len(can_risk), want))}
    unfit = sorted(set(roles.room) - set(can_risk))
    for n in rng.sample(unfit, min(max(want - len(risky), 0), len(unfit))):
        created[n], risky[n] = morning.into_risk(created[n], now, cfg)  # called in when it puts the ticket at risk now
    by_dept: dict[str, list[Technician]] = {}
    for t in techs:
        by_dept.setdefault(t.dept, []).append(t)
    prod_of = {(d["name"], p["name"]): p for d in depts for p in d["products"]}
    by_skills: dict[str, _Pick] = {}

    def product_for(tech: Technician) -> dict[str, Any]:
        """One of the technician's skills, by the products' shares: work they can take."""
        if tech.name not in by_skills:
            ps = [prod_of[(tech.dept, s)] for s in tech.skills]
            by_skills[tech.name] = _Pick(rng, ps, [p["share"] for p in ps])
        return dict(by_skills[tech.name]())

    # -- tickets, oldest first, each the events its commands would make ------
    parent_key = f"{prefix}-{start_no + n_made}"
    sweep_at = (created[-1] + (now - created[-1]) / 2).replace(microsecond=0) if created else now
    tickets: list[Ticket] = []
    linked: list[Ticket] = []
    with st.transaction():
        st.put_techs(techs)
        for n, at in enumerate(created):
            d = dept_of[n]
            role = roles.role[n]
            if batch and n >= kids[0]:
                prod = prod_of[(d["name"], batch.skill)]
            elif n in roles.room:
                prod = product_for(roles.room[n])
            else:
                prod = products[d["name"]]()
            pri, ttype = pick_pri(), pick_type()
            pri = risky.get(n, pri)
            fault = bfault if batch and n >= kids[0] else faults[(d["name"], prod["name"])]()
            fields = {"title": zh.title(prod["name"], fault) if zh else f"{fault} on {prod['name']}", "type": ttype,
                      "dept": d["name"], "product": prod["name"], "priority": pri, "impact": pick_imp(),
                      "channel": pick_chan(), "zone": pick_zone(), "skills": [prod["name"]],
                      "customer": f"customer-{rng.randrange(1, 4500):04d}"}
            fields["fault"] = fault
            if batch and n >= kids[0]:
                fields["zone"] = bzone
            if zh:
                fields["customer"], fields["phone"] = zh.customer(int(fields["customer"].split("-")[1]))
                fields["description"] = zh.description(rng, fields["zone"], prod["name"], fault)
            steps: list[tuple[str, datetime, str, dict[str, Any]]] = [("ticket.created", at, dispatcher, fields)]
            then: _Then | None = None
            team = by_dept.get(d["name"]) or techs
            assign_at = at + timedelta(hours=hours_to_assign())
            if role in (DONE, CLEARED):  # history: worked, resolved and (mostly) closed
                done_at = done_of[n] if role == DONE else at + (now - at) * rng.uniform(0.3, 0.9)
                tech = rng.choice(team).name
                start_at = assign_at + (done_at - assign_at) * 0.2 if done_at > assign_at else done_at
                assign_at = min(assign_at, start_at)
                steps += [("ticket.assigned", assign_at, dispatcher, {"assignee": tech}),
                          ("ticket.started", start_at, tech, {})]
                if rng.random() < 0.3 and done_at - start_at > timedelta(hours=1):
                    reason = "awaiting_customer" if rng.random() < 0.8 else "awaiting_parts"
                    steps += [("ticket.blocked", start_at + (done_at - start_at) * 0.2, tech, {"reason": reason}),
                              ("ticket.unblocked", start_at + (done_at - start_at) * 0.7, tech, {})]
                steps.append(("ticket.resolved", done_at, tech, {"note": zh.resolution(rng)} if zh else {}))
                close_at = done_at + timedelta(hours=rng.uniform(1, 48))
                if close_at < now:
                    if zh:  # the follow-up call (回访) before closing
                        steps.append(("ticket.noted", close_at, dispatcher, {"text": zh.follow_up(rng)}))
                    steps += [("ticket.checked", close_at, tech, {"item": c}) for c in cfg.checklist(ttype)]
                    steps.append(("ticket.closed", close_at, tech, {}))
            elif role == HELD:  # held by its technician: assigned, started, maybe blocked or waiting for approval
                tech = roles.held[n].name
                state = states[n]
                if assign_at >= now:
                    assign_at = at + (now - at) * 0.3
                steps.append(("ticket.assigned", assign_at, dispatcher, {"assignee": tech}))
                start_at = assign_at + (now - assign_at) * rng.uniform(0.05, 0.4)
                if state != "assigned":
                    steps.append(("ticket.started", start_at, tech, {}))
                    if zh:
                        steps.append(("ticket.noted", start_at, tech, {"text": zh.note(rng)}))
                block_at = start_at + (now - start_at) * rng.uniform(0.1, 0.9)
                if state.startswith("blocked:"):
                    reason = state.split(":", 1)[1]
                    steps.append(("ticket.blocked", block_at, tech, _blocked(reason, rng, now, depts, cfg, zh)))
                elif state == APPROVAL:
                    cost, what = rng.choice(APPROVAL_COSTS), zh.approval(rng) if zh else rng.choice(APPROVAL_WHAT)
                    then = (block_at, tech, lambda t, cost=cost, what=what:
                            workflow.decide_request_approval(t, cfg, cost, what, []))
            if batch and n >= kids[0]:
                steps.append(("ticket.linked", sweep_at, dispatcher, {"parent": parent_key}))
            key = f"{prefix}-{start_no + n}"
            tickets.append(w.ticket(key, steps, then))
            if batch and n >= kids[0]:
                linked.append(tickets[-1])
            if batch and n == n_made - 1:  # the parent `sweep` opens over the batch
                tickets.append(w.ticket(parent_key, [("ticket.created", sweep_at, dispatcher,
                                                      _batch_fields(linked, cfg, zh))]))
            if len(tickets) >= CHUNK or n == len(created) - 1:
                st.put_tickets(tickets)
                st.put_events(w.events)
                st.put_spans(w.spans)
                tickets, w.events, w.spans = [], [], []
                if progress:
                    progress(n + 1)
        st.put_events(w.events)
        st.set_meta("next_device_seq", str(w.seq))
        st.set_meta("next_ticket_no", str(start_no + n_tickets))
    return summary(env)


def _send_on_leave(rng: random.Random, w: _Writer, techs: list[Technician], now: datetime, actor: str,
                   cfg: Config) -> list[Technician]:
    """A few technicians on leave, each with a colleague of their department at
    work as delegate: the event ``tech set NAME --on-leave --delegate OTHER`` makes."""
    if len(techs) < 4:
        return techs
    out = {t.name: t for t in techs}
    todo = max(1, round(len(techs) * ON_LEAVE))
    for t in rng.sample(techs, len(techs)):
        if not todo:
            break
        delegates = {x.delegate for x in out.values()}
        mates = [m for m in techs if m.dept == t.dept and m.name != t.name and m.on_shift
                 and not out[m.name].on_leave and m.name not in delegates]
        if not t.on_shift or t.name in delegates or not mates:
            continue
        payload = {"name": t.name, "on_leave": True, "delegate": rng.choice(mates).name}
        out[t.name] = workflow.apply_tech(t, w.emit(None, "tech.updated", now - timedelta(hours=rng.uniform(12, 72)),
                                                    actor, payload), cfg)
        todo -= 1
    return [out[t.name] for t in techs]


def _blocked(reason: str, rng: random.Random, now: datetime, depts: list[dict[str, Any]], cfg: Config,
             zh: ModuleType | None) -> dict[str, Any]:
    """A block's payload, as ``block KEY REASON`` with its details would write
    it: every field the reason requires filled in."""
    collaborator, deadline = rng.choice(depts)["name"], iso(now + timedelta(days=rng.randint(1, 5)))
    words = zh.block_payload if zh else _block_payload
    p = words(reason, rng, collaborator, deadline)
    need = [f for f in cfg.reasons[reason].fields if f not in p]
    if need:
        full = words("awaiting_collaboration", rng, collaborator, deadline)
        p.update({f: full[f] for f in need})
    return p


def _batch_fields(children: list[Ticket], cfg: Config, zh: ModuleType | None) -> dict[str, Any]:
    """The parent ``sweep``'s batch rule (``core.sweep.batches``) opens over
    ``children``, its title and description in the team's language."""
    (action,) = rules.batches([replace(t, parent=None) for t in children], cfg)
    assert action.batch is not None
    fields = dict(action.batch.fields)
    if zh:
        fields["title"], fields["description"] = zh.batch_texts(len(children), fields["fault"], fields["product"],
                                                                fields["zone"], [t.key for t in children])
    else:
        fields["title"], fields["description"] = str(fields["title"]), str(fields["description"])
    (created,) = workflow.decide_create(fields, cfg)
    return created[1]


def use_calendar(env: Env, calendar: dict[str, str]) -> None:
    """Set the ``calendar`` keys the config does not set yet (a team's own
    calendar stays); ``env`` then reads the config again and opens its store
    anew, which folds the clocks of any tickets already there by the new calendar."""
    from ticketctl.home import read_config_table, write_config_table

    data = read_config_table(env.home.config_file)
    table = data.setdefault("calendar", {})
    missing = {k: v for k, v in calendar.items()
               if not table.get(k) and not (k == "timezone" and table.get("country"))}
    if missing:
        table.update(missing)
        write_config_table(env.home.config_file, data)
        notice, empty = env.notice, not env.store.count_tickets()
        env.close()
        env.__dict__.pop("store", None)  # cached properties: made again on next use
        env.__dict__.pop("config", None)
        env.notice = None if empty else notice  # nothing to fold again: nothing to say
        env.store  # noqa: B018 (opening it folds the clocks by the new calendar)
        env.notice = notice


def _block_payload(reason: str, rng: random.Random, collaborator: str, deadline: str) -> dict[str, Any]:
    p: dict[str, Any] = {"reason": reason}
    if reason == "awaiting_collaboration":
        p.update(collaborator=collaborator, deliverable="diagnosis of the shared part", deadline=deadline,
                 expected_result="root cause and a fix plan")
    elif reason == "awaiting_customer":
        p["note"] = rng.choice(("no answer on the phone", "site not accessible", "waiting for a test window"))
    elif reason == "awaiting_parts":
        p["note"] = rng.choice(("control board on order", "compressor due in 3 days", "filter kit back-ordered"))
    elif reason == "awaiting_third_party":
        p["note"] = rng.choice(("the vendor's engineer is booked for Friday", "the carrier's line fault is open"))
    return p


def summary(env: Env) -> dict[str, Any]:
    """Counts a dispatcher wants first: by status, unassigned, blocked by reason, SLA risk, piles;
    technicians full, at work with room (on shift, not on leave, below capacity) and on leave."""
    st, cfg, now = env.store, env.config, env.now
    rp = st.reports
    by_status = rp.count_by_status()
    blocked = rp.count_blocked_by_reason()
    piles = [{"dept": d, "product": p, "open": c} for d, p, c in rp.open_piles(5)]
    now_bt = cfg.business_calendar.ordinal(now)
    open_rows = rp.open_tickets()
    states = Counter(sla_state(t, now_bt) for t in open_rows)
    techs = st.techs()
    loads = st.loads(("assigned", "in_progress", "blocked"))
    at_work = [t for t in techs if t.on_shift and not t.on_leave]
    return {
        "tickets": sum(by_status.values()),
        "technicians": len(techs),
        "by_status": by_status,
        "open": sum(by_status.get(s, 0) for s in OPEN_STATUSES),
        "unassigned": by_status.get("new", 0),
        "blocked_by_reason": blocked,
        "sla": {k: states.get(k, 0) for k in ("ok", "at_risk", "breached", "paused")},
        "technicians_at_capacity": sum(1 for t in techs if loads.get(t.name, 0) >= t.capacity),
        "technicians_with_room": sum(1 for t in at_work if loads.get(t.name, 0) < t.capacity),
        "technicians_on_leave": sum(1 for t in techs if t.on_leave),
        "top_piles": piles,
        "store": str(env.home.store_file),
    }

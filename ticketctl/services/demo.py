"""A realistic team and backlog for trying ticketctl, shaped on real data.

The shares and durations come from ``ticketctl/data/demo_profile.json``, an
aggregate measured on the ServiceNow incident event log (UCI, CC BY 4.0; see
``tools/build_demo_profile.py``): departments and their products and faults,
priorities, impact, channels, zones, arrivals by hour of the week, time to
first assignment and to resolution, and what an open backlog is doing
(assigned, in progress, blocked and why).

Every ticket is made of the same events a user's commands would make
(created, assigned, started, blocked, resolved, checked, closed), folded by
``core.workflow`` and written in one transaction: the demo store passes
``ticketctl store check`` like any other. Technicians are filled up to their
capacity; open work beyond that stays unassigned, which is what a team that
is drowning looks like.
"""

from __future__ import annotations

import bisect
import json
import random
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from ticketctl.core import workflow
from ticketctl.core.model import OPEN_STATUSES, Event, Technician, Ticket, iso
from ticketctl.core.views import sla_state
from ticketctl.errors import Refused
from ticketctl.i18n import _
from ticketctl.services import demo_zh
from ticketctl.services.env import Env

NAMES = (
    "ana bob chen dara eli fatima gus hana ivan jo kai lena mo nia omar pia quinn raj sara tom uma vic wen "
    "xena yusuf zoe amir bea carl dina emil flor gita hugo ines jan kim luis maya nils olga pablo rosa sven "
    "tara ugo vera will yara zeno"
).split()
TYPES = (("incident", 0.5), ("repair", 0.35), ("install", 0.1), ("change", 0.05))
WINDOW_DAYS = 30
CHUNK = 5000


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

    def ticket(self, key: str, steps: list[tuple[str, datetime, str, dict[str, Any]]]) -> Ticket:
        t, rows = workflow.fold(None, [self.emit(key, typ, at, actor, payload) for typ, at, actor, payload in steps], self.cfg)
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

    # -- the team: every department staffed, the rest by share --------------
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
                       "capacity": cfg.capacity, "on_shift": rng.random() > 0.1}
            techs.append(workflow.apply_tech(None, w.emit(None, "tech.added", team_at, dispatcher, payload), cfg))
    by_dept: dict[str, list[Technician]] = {}
    for t in techs:
        by_dept.setdefault(t.dept, []).append(t)
    load: Counter[str] = Counter()

    # -- tickets, oldest first, so capacity fills the way it would have -------
    start_no = int(st.meta("next_ticket_no"))
    prefix = st.meta("key_prefix")
    weeks = WINDOW_DAYS / 7
    # the profile's hours of the week are local time: the calendar's for a Chinese team, UTC for the English one
    local = now.astimezone(cfg.business_calendar.tz) if zh else now
    week0 = local - timedelta(days=local.weekday(), hours=local.hour, minutes=local.minute, seconds=local.second)
    holidays = set(cfg.business_calendar.holidays) if zh else set()
    created: list[datetime] = []
    while len(created) < n_tickets:
        how = pick_how()
        at = week0 - timedelta(weeks=int(rng.random() * weeks)) + timedelta(hours=how, minutes=rng.random() * 60)
        if holidays and at.date() in holidays and rng.random() < 0.7:
            continue  # a public holiday: few calls
        if now - timedelta(days=WINDOW_DAYS) <= at < now:
            created.append(at.astimezone(now.tzinfo).replace(microsecond=0))
    created.sort()
    tickets: list[Ticket] = []
    with st.transaction():
        st.put_techs(techs)
        for n, at in enumerate(created):
            d = pick_dept()
            prod = products[d["name"]]()
            pri, ttype = pick_pri(), pick_type()
            fault = faults[(d["name"], prod["name"])]()
            fields = {"title": zh.title(prod["name"], fault) if zh else f"{fault} on {prod['name']}", "type": ttype,
                      "dept": d["name"], "product": prod["name"], "priority": pri, "impact": pick_imp(),
                      "channel": pick_chan(), "zone": pick_zone(), "skills": [prod["name"]],
                      "customer": f"customer-{rng.randrange(1, 4500):04d}"}
            fields["fault"] = fault
            if zh:
                fields["customer"], fields["phone"] = zh.customer(int(fields["customer"].split("-")[1]))
                fields["description"] = zh.description(rng, fields["zone"], prod["name"], fault)
            steps: list[tuple[str, datetime, str, dict[str, Any]]] = [("ticket.created", at, dispatcher, fields)]
            team = by_dept.get(d["name"]) or techs
            assign_at = at + timedelta(hours=hours_to_assign())
            done_at = at + timedelta(hours=max(hours_to_resolve(), 0.2))
            if done_at < now:  # history: worked, resolved and (mostly) closed
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
            else:
                free = [t for t in team if load[t.name] < t.capacity]
                state = pick_held() if rng.random() > prof["backlog_states"]["shares"].get("new", 0.07) else "new"
                if free and state != "new" and assign_at < now:
                    tech = rng.choice(free).name
                    load[tech] += 1
                    steps.append(("ticket.assigned", assign_at, dispatcher, {"assignee": tech}))
                    started = state != "assigned"
                    start_at = assign_at + (now - assign_at) * rng.uniform(0.05, 0.4)
                    if started:
                        steps.append(("ticket.started", start_at, tech, {}))
                        if zh:
                            steps.append(("ticket.noted", start_at, tech, {"text": zh.note(rng)}))
                    if state.startswith("blocked:"):
                        block_at = start_at + (now - start_at) * rng.uniform(0.1, 0.9)
                        reason = state.split(":", 1)[1]
                        steps.append(("ticket.blocked", block_at, tech, zh.block_payload(
                            reason, rng, rng.choice(depts)["name"], iso(now + timedelta(days=rng.randint(1, 5))))
                            if zh else _block_payload(reason, rng, now, depts)))
            key = f"{prefix}-{start_no + n}"
            tickets.append(w.ticket(key, steps))
            if len(tickets) >= CHUNK or n == len(created) - 1:
                st.put_tickets(tickets)
                st.put_events(w.events)
                st.put_spans(w.spans)
                tickets, w.events, w.spans = [], [], []
                if progress:
                    progress(n + 1)
        st.put_events(w.events)
        st.set_meta("next_device_seq", str(w.seq))
        st.set_meta("next_ticket_no", str(start_no + len(created)))
    return summary(env)


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


def _block_payload(reason: str, rng: random.Random, now: datetime, depts: list[dict[str, Any]]) -> dict[str, Any]:
    p: dict[str, Any] = {"reason": reason}
    if reason == "awaiting_collaboration":
        p.update(collaborator=rng.choice(depts)["name"], deliverable="diagnosis of the shared part",
                 deadline=iso(now + timedelta(days=rng.randint(1, 5))), expected_result="root cause and a fix plan")
    elif reason == "awaiting_customer":
        p["note"] = rng.choice(("no answer on the phone", "site not accessible", "waiting for a test window"))
    return p


def summary(env: Env) -> dict[str, Any]:
    """Counts a dispatcher wants first: by status, unassigned, blocked by reason, SLA risk, piles."""
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
    return {
        "tickets": sum(by_status.values()),
        "technicians": len(techs),
        "by_status": by_status,
        "open": sum(by_status.get(s, 0) for s in OPEN_STATUSES),
        "unassigned": by_status.get("new", 0),
        "blocked_by_reason": blocked,
        "sla": {k: states.get(k, 0) for k in ("ok", "at_risk", "breached", "paused")},
        "technicians_at_capacity": sum(1 for t in techs if loads.get(t.name, 0) >= t.capacity),
        "top_piles": piles,
        "store": str(env.home.store_file),
    }

"""The demo: built from real-data shares, made of real events, within the rules."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from tools_loader import load_tool

from ticketctl.core import sweep as sweep_rules
from ticketctl.core.model import HELD_STATUSES, OPEN_STATUSES
from ticketctl.core.views import sla_state
from ticketctl.errors import Refused
from ticketctl.services import approvals, demo, dispatch, rebuild
from ticketctl.services.env import Env

ROOT = Path(__file__).resolve().parent.parent
SLICE = ROOT / "tests" / "data" / "servicenow_first50incidents.csv"
NOW = "2026-03-04T10:30:00Z"  # a Wednesday, in business hours


def make_env(home: Path, now: str = NOW) -> Env:
    return Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": now, "TICKETCTL_USER": "disp"})


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    env = make_env(tmp_path_factory.mktemp("demo"))
    summary = demo.generate(env, 1500, 30, seed=3)
    yield env, summary
    env.close()


def test_demo_store_is_a_replay_of_its_events(demo_store):
    env, _ = demo_store
    assert rebuild.differences(env.store, env.config) == []


def test_demo_never_puts_a_technician_over_capacity(demo_store):
    env, summary = demo_store
    loads = env.store.loads(HELD_STATUSES)
    caps = {t.name: t.capacity for t in env.store.techs()}
    assert loads and all(loads[n] <= caps[n] for n in loads)
    assert summary["technicians"] == 30 == len(caps)


def test_demo_summary_matches_the_store(demo_store):
    env, summary = demo_store
    db = sqlite3.connect(env.home.store_file)
    by_status = dict(db.execute("SELECT status, count(*) FROM tickets GROUP BY status"))
    assert summary["by_status"] == by_status
    assert summary["tickets"] == 1500 == sum(by_status.values())
    assert summary["open"] == sum(by_status.get(s, 0) for s in OPEN_STATUSES)
    assert summary["unassigned"] == db.execute("SELECT count(*) FROM tickets WHERE assignee IS NULL AND status = 'new'").fetchone()[0]
    blocked = db.execute("SELECT blocked_reason FROM tickets WHERE status = 'blocked'").fetchall()
    assert summary["blocked_by_reason"] == dict(Counter(r for (r,) in blocked))
    assert sum(summary["sla"].values()) == summary["open"]
    # every event time lies in the past of "now", and device_seq has no gaps
    at_max, seqs = db.execute("SELECT max(at), group_concat(device_seq) FROM events").fetchone()
    assert at_max <= NOW
    seq = sorted(int(x) for x in seqs.split(","))
    assert seq == list(range(1, len(seq) + 1))


def test_demo_follows_the_profile_shares(demo_store):
    env, _ = demo_store
    prof = demo.load_profile()
    db = sqlite3.connect(env.home.store_file)
    n = db.execute("SELECT count(*) FROM tickets").fetchone()[0]
    got = dict(db.execute("SELECT dept, count(*) * 1.0 / ? FROM tickets GROUP BY dept", (n,)))
    top = max(prof["departments"], key=lambda d: d["share"])
    assert abs(got[top["name"]] - top["share"]) < 0.05
    pri = dict(db.execute("SELECT priority, count(*) * 1.0 / ? FROM tickets GROUP BY priority", (n,)))
    assert abs(pri["medium"] - prof["priority"]["medium"]) < 0.03


def test_same_seed_same_backlog(tmp_path):
    shapes = []
    for i in range(2):
        env = make_env(tmp_path / str(i))
        demo.generate(env, 200, 8, seed=11)
        db = sqlite3.connect(env.home.store_file)
        shapes.append(db.execute("SELECT title, status, priority, dept, assignee IS NULL FROM tickets ORDER BY key").fetchall())
        env.close()
    # keys differ (each store has its own prefix) but the backlog is the same
    assert shapes[0] == shapes[1]


def test_demo_refuses_a_store_with_tickets_unless_forced(tmp_path):
    env = make_env(tmp_path)
    demo.generate(env, 50, 3, seed=1)
    with pytest.raises(Refused, match="already holds 50 tickets"):
        demo.generate(env, 50, 3, seed=1)
    assert env.store.count_tickets() == 50
    demo.generate(env, 50, 3, seed=2, force=True)
    assert env.store.count_tickets() == 100
    assert rebuild.differences(env.store, env.config) == []
    env.close()


# -- the profile builder, on a slice of the real log --------------------------


def test_profile_builder_counts_agree_with_a_plain_count(tmp_path):
    out = tmp_path / "profile.json"
    assert load_tool("build_demo_profile").main([str(SLICE), "-o", str(out)]) == 0
    prof = json.loads(out.read_text())
    with SLICE.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    last: dict[str, dict[str, str]] = {}
    for r in rows:  # the incident's last known value, counted independently here
        d = last.setdefault(r["number"], {})
        for k in ("priority", "contact_type"):
            if r[k] != "?":
                d[k] = r[k]
    assert prof["source"]["incidents"] == len(last) == 50
    assert prof["source"]["events"] == len(rows)
    names = {"1": "urgent", "2": "high", "3": "medium", "4": "low"}
    pri = Counter(names[d["priority"][0]] for d in last.values())
    for k, v in pri.items():
        assert prof["priority"][k] == pytest.approx(v / len(last), abs=1e-4)
    chan = Counter(d["contact_type"].lower() for d in last.values())
    for k, v in chan.items():
        assert prof["channel"][k] == pytest.approx(v / len(last), abs=1e-4)
    assert len(prof["arrivals_by_hour_of_week"]) == 168
    assert sum(prof["arrivals_by_hour_of_week"]) == pytest.approx(1.0, abs=1e-3)


# -- a real morning (issue 24): a team that can be helped ----------------------


def test_most_technicians_have_room_a_handful_are_full_a_few_on_leave(demo_store):
    env, summary = demo_store
    team = env.store.techs()
    loads = env.store.loads(HELD_STATUSES)
    at_work = [t for t in team if t.on_shift and not t.on_leave]
    full = [t for t in at_work if loads.get(t.name, 0) >= t.capacity]
    room = [t for t in at_work if loads.get(t.name, 0) < t.capacity]
    assert len(room) > len(team) / 2 and 1 <= len(full) <= len(at_work) / 4
    assert summary["technicians_with_room"] == len(room)
    held, capacity = sum(loads.values()), sum(t.capacity for t in team)
    assert 0.3 * capacity <= held <= 0.7 * capacity, (held, capacity)
    away = [t for t in team if t.on_leave]
    assert away and summary["technicians_on_leave"] == len(away)
    by_name = {t.name: t for t in team}
    for t in away:  # each routes to a colleague at work in their department, as `tech set --on-leave --delegate` says
        mate = by_name[t.delegate]
        assert mate.dept == t.dept and mate.on_shift and not mate.on_leave
    db = sqlite3.connect(env.home.store_file)
    updates = [json.loads(p) for (p,) in db.execute("SELECT payload FROM events WHERE type = 'tech.updated'")]
    assert sorted(updates, key=lambda p: p["name"]) == [
        {"name": t.name, "on_leave": True, "delegate": t.delegate} for t in sorted(away, key=lambda t: t.name)]


def test_each_block_reason_and_approvals_waiting(demo_store):
    env, summary = demo_store
    cfg = env.config
    for reason in cfg.reasons:
        assert summary["blocked_by_reason"].get(reason, 0) >= 2, reason
    db = sqlite3.connect(env.home.store_file)
    for reason, block in db.execute("SELECT blocked_reason, block FROM tickets WHERE status = 'blocked'"):
        b = json.loads(block)
        assert all(b.get(f) for f in cfg.reasons[reason].fields), (reason, b)
    waiting = approvals.pending(env)
    assert len(waiting) >= 3 and summary["blocked_by_reason"]["awaiting_approval"] == len(waiting)
    assert all(r["steps"] and r["what"] for r in waiting)


def test_a_batch_incident_linked_the_way_sweep_links_one(demo_store):
    env, _ = demo_store
    cfg = env.config
    db = sqlite3.connect(env.home.store_file)
    (parent,) = db.execute("SELECT key, links, product, fault, zone FROM tickets WHERE type = 'batch'").fetchall()
    children = [env.store.ticket(k) for k in json.loads(parent[1])]
    assert len(children) >= cfg.sweep.batch_size
    assert all(t.parent == parent[0] and t.status == "new" and (t.product, t.fault, t.zone) == parent[2:] for t in children)
    # what sweep's batch rule would open over them, and (linked) sweep opens no second one
    unlinked = [replace(t, parent=None) for t in children]
    (action,) = sweep_rules.batches(unlinked, cfg)
    assert action.batch is not None and list(action.batch.children) == [t.key for t in children]
    assert sweep_rules.batches(env.store.reports.open_tickets(), cfg) == []


def test_the_unassigned_work_fits_and_some_of_it_is_past_its_sla(demo_store):
    env, summary = demo_store
    backlog = [t for t in env.store.reports.open_tickets() if t.status == "new"]
    assert len(backlog) == summary["unassigned"] > 0
    now_bt = env.config.business_calendar.ordinal(env.now)
    breached = [t for t in backlog if sla_state(t, now_bt) == "breached"]
    assert breached and summary["sla"]["at_risk"] > 0
    for t in backlog:  # someone may take every one of them now
        assert dispatch.explain(env, t.key)["best"] is not None, t.key
    plan = dispatch.auto(env, dry_run=True)
    assert len(plan["assigned"]) > len(backlog) / 2
    assert all(v["load"] <= v["capacity"] for v in plan["load"].values())


def test_a_large_demo_keeps_about_a_fifth_of_its_tickets_open(tmp_path):
    """Beyond what the team holds and works off, the open backlog still scales
    with --tickets (bench/tui.py builds ~100,000 open of 500,000)."""
    env = make_env(tmp_path)
    summary = demo.generate(env, 12000, 8, seed=5)
    assert 0.15 * 12000 < summary["open"] < 0.25 * 12000
    env.close()

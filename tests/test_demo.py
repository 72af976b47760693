"""The demo: built from real-data shares, made of real events, within the rules."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from tools_loader import load_tool

from ticketctl.core.model import HELD_STATUSES, OPEN_STATUSES
from ticketctl.errors import Refused
from ticketctl.services import demo, rebuild
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

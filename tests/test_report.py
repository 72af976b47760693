"""The backlog brief: SQL aggregates checked against a plain Python count of the projections."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest

from ticketctl.cli import main
from ticketctl.core.model import OPEN_STATUSES, parse_time
from ticketctl.services import demo, report, techs, tickets
from ticketctl.services.env import Env

NOW = "2026-03-04T10:30:00Z"


def make_env(home, now=NOW):
    return Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": now, "TICKETCTL_USER": "sup"})


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    h = tmp_path_factory.mktemp("brief")
    env = make_env(h)
    demo.generate(env, 1200, 25, seed=5)
    env.close()
    return h


def test_brief_agrees_with_a_python_count(home):
    env = make_env(home)
    b = report.brief(env)
    now = parse_time(NOW)
    rows = [t for t in env.store.select_tickets("", (), "", None) if t.status in OPEN_STATUSES]
    stuck = [t for t in rows if now - parse_time(t.status_since) >= timedelta(hours=4)]
    assert (b["open"], b["stuck"]) == (len(rows), len(stuck)) and b["stuck"] > 0
    kinds = Counter((t.type, t.product, t.fault) for t in stuck)
    assert [(k["type"], k["product"], k["fault"], k["count"]) for k in b["top_stuck_types"]][0][3] == kinds.most_common(1)[0][1]
    assert {(k["type"], k["product"], k["fault"]) for k in b["top_stuck_types"]} <= set(kinds)
    assert sorted(k["count"] for k in b["top_stuck_types"]) == sorted(c for _, c in kinds.most_common())[-3:]
    waits: dict[str, list[float]] = {}
    for t in rows:
        waits.setdefault(t.status, []).append((now - parse_time(t.status_since)).total_seconds() / 3600)
    longest_state = max(waits, key=lambda s: sum(waits[s]) / len(waits[s]))
    assert b["longest_waiting_state"] == longest_state
    for s in b["states"]:
        assert s["count"] == len(waits[s["status"]])
        assert s["avg_wait_h"] == pytest.approx(sum(waits[s["status"]]) / len(waits[s["status"]]), abs=0.06)
    holders = Counter(t.assignee or "(unassigned)" for t in stuck)
    assert [h["stuck"] for h in b["holders"]] == sorted(holders.values(), reverse=True)[:5]
    oldest = sorted(stuck, key=lambda t: (t.status_since, t.key))[:5]
    assert [t["key"] for t in b["longest_waiting"]] == [t.key for t in oldest]
    env.close()


def test_brief_json_and_markdown(home, capsys):
    assert main(["report", "brief", "--json"], env=make_env(home)) == 0
    b = json.loads(capsys.readouterr().out)
    assert set(b) == {"at", "over_hours", "open", "stuck", "top_stuck_types", "longest_waiting_state", "states",
                      "holders", "longest_waiting"}
    assert main(["report", "brief", "--md"], env=make_env(home)) == 0
    md = capsys.readouterr().out
    assert md.startswith(f"# Backlog brief, {NOW}\n")
    assert f"{b['stuck']} of {b['open']} open tickets have waited over 4 h" in md
    for t in b["longest_waiting"]:
        assert t["key"] in md


def test_brief_on_a_fresh_ticket_has_nothing_stuck(tmp_path):
    env = make_env(tmp_path)
    techs.add(env, "ana", skills=["hvac"])
    tickets.create(env, {"title": "x", "type": "repair", "dept": "d", "product": "p"})
    b = report.brief(env)
    assert (b["open"], b["stuck"], b["longest_waiting"], b["top_stuck_types"]) == (1, 0, [], [])
    later = report.brief(make_env(tmp_path, "2026-03-04T15:00:00Z"))
    assert later["stuck"] == 1 and later["longest_waiting"][0]["waiting_h"] == 4.5
    assert "- none" not in report.brief_markdown(later).split("## Waiting longest")[1]

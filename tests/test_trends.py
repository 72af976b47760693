"""The trends (issue 24): work stopped per day for a block reason (``report
trend --reason``), each technician's on-time rate over their last resolved
tickets (``report kpi --by assignee``), and the dashboard's trends screen,
whose numbers must be those the CLI prints for the same store and clock.

Each figure is checked on a hand-made store with known events (exact values)
and against a second count in plain Python over the event log read with
sqlite3; the screen is compared with the CLI's JSON from a subprocess."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_kpi import _sla_left_at_resolution
from test_tui import settle
from textual.widgets import Sparkline, Static

from ticketctl.core import workflow
from ticketctl.errors import BadInput
from ticketctl.services import demo, kpi, report, techs, tickets
from ticketctl.services.env import Env
from ticketctl.tui.app import Dashboard
from ticketctl.tui.trends import FLOW, TrendsScreen

NOW = "2026-03-05T16:00:00Z"  # a Thursday; the calendar's zone is UTC
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def env_at(home: Path, now: str, user: str = "sup") -> Env:
    return Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": now, "TICKETCTL_USER": user})


def do(home: Path, now: str, fn: Callable[..., Any], *args: Any, user: str = "sup", **kw: Any) -> Any:
    env = env_at(home, now, user)
    try:
        return fn(env, *args, **kw)
    finally:
        env.close()


def new(home: Path, now: str, priority: str = "medium") -> str:
    return str(do(home, now, tickets.create, {"title": "t", "type": "repair", "dept": "d1", "product": "p",
                                              "priority": priority})["key"])


# -- work stopped per day -------------------------------------------------------------------------


@pytest.fixture
def blocks(tmp_path: Path) -> Path:
    """Blocks at known moments (D = 2026-03-05, today):
    t1 parts D-2 10:00 and again D-2 12:00 (once that day), then parts D-1 10:00;
    t2 customer D-1; t3 parts D-2, transferred while blocked D-1 (no new block);
    t4 parts 40 days ago (outside 30 days); t5 parts D 08:00 (today)."""
    do(tmp_path, "2026-01-01T00:00:00Z", techs.add, "ana", capacity=100)
    keys = [new(tmp_path, "2026-01-20T09:00:00Z") for _ in range(5)]
    t1, t2, t3, t4, t5 = keys
    for k in keys:
        do(tmp_path, "2026-01-20T09:05:00Z", tickets.assign, k, "ana")
    do(tmp_path, "2026-01-24T09:00:00Z", tickets.block, t4, "awaiting_parts", {})
    do(tmp_path, "2026-03-03T10:00:00Z", tickets.block, t1, "awaiting_parts", {})
    do(tmp_path, "2026-03-03T11:00:00Z", tickets.unblock, t1)
    do(tmp_path, "2026-03-03T12:00:00Z", tickets.block, t1, "awaiting_parts", {})
    do(tmp_path, "2026-03-04T09:00:00Z", tickets.unblock, t1)
    do(tmp_path, "2026-03-04T10:00:00Z", tickets.block, t1, "awaiting_parts", {})
    do(tmp_path, "2026-03-04T11:00:00Z", tickets.block, t2, "awaiting_customer", {})
    do(tmp_path, "2026-03-03T15:00:00Z", tickets.block, t3, "awaiting_parts", {})
    do(tmp_path, "2026-03-04T15:00:00Z", tickets.act, t3, lambda x: workflow.decide_transfer(x, "d2"))
    do(tmp_path, "2026-03-05T08:00:00Z", tickets.block, t5, "awaiting_parts", {})
    return tmp_path


def by_events(home: Path, reason: str) -> dict[str, int]:
    """The second way: distinct tickets per UTC day from the ``ticket.blocked`` events."""
    db = sqlite3.connect(home / "ticketctl.db")
    days: dict[str, set[str]] = {}
    for key, at, payload in db.execute("SELECT ticket, at, payload FROM events WHERE type = 'ticket.blocked'"):
        if json.loads(payload)["reason"] == reason:
            days.setdefault(at[:10], set()).add(key)
    db.close()
    return {d: len(k) for d, k in days.items()}


def test_blocked_per_day_counts_each_ticket_once_a_day(blocks: Path) -> None:
    r = do(blocks, NOW, report.trend, 30)
    assert r["reason"] == "awaiting_parts" and len(r["series"]) == 30
    got = {s["day"]: s["blocked"] for s in r["series"] if s["blocked"]}
    assert got == {"2026-03-03": 2, "2026-03-04": 1, "2026-03-05": 1}
    assert r["blocked"] == 4
    assert got == {d: n for d, n in by_events(blocks, "awaiting_parts").items() if d >= r["series"][0]["day"]}
    r = do(blocks, NOW, report.trend, 60)
    assert {s["day"]: s["blocked"] for s in r["series"] if s["blocked"]} == by_events(blocks, "awaiting_parts")
    r = do(blocks, NOW, report.trend, 3, "awaiting_customer")
    assert [s["blocked"] for s in r["series"]] == [0, 1, 0] and r["blocked"] == 1


def test_a_bad_reason_is_refused_naming_the_known_ones(blocks: Path) -> None:
    with pytest.raises(BadInput) as e:
        do(blocks, NOW, report.trend, 30, "awaiting_prts")
    assert "awaiting_parts" in str(e.value) and "awaiting_customer" in str(e.value) and "\n" not in str(e.value)
    env = os.environ | {"TICKETCTL_HOME": str(blocks), "TICKETCTL_NOW": NOW, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-m", "ticketctl", "report", "trend", "--reason", "nope"], env=env,
                       capture_output=True, text=True, check=False)
    assert p.returncode == 2 and p.stdout == ""
    assert re.fullmatch(r"ticketctl: error: unknown block reason 'nope' \(known: awaiting_customer, awaiting_parts, .*\)\n", p.stderr)


# -- on time over the last N ------------------------------------------------------------------


@pytest.fixture
def resolved(tmp_path: Path) -> Path:
    return build_resolved(tmp_path)


def build_resolved(tmp_path: Path) -> Path:
    """ana resolves three urgent tickets (2 business hours each): on time, late,
    on time, in that order; bob one late; cyd resolves none."""
    for name in ("ana", "bob", "cyd"):
        do(tmp_path, "2026-03-01T00:00:00Z", techs.add, name, capacity=100)
    plan = [("ana", "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"),   # 1 h: on time
            ("ana", "2026-03-02T12:00:00Z", "2026-03-03T12:00:00Z"),   # a day: late
            ("ana", "2026-03-04T09:00:00Z", "2026-03-04T10:59:00Z"),   # 1 h 59: on time
            ("bob", "2026-03-02T09:00:00Z", "2026-03-02T15:00:00Z")]   # 6 h: late
    for who, opened, done in plan:
        key = new(tmp_path, opened, "urgent")
        do(tmp_path, opened, tickets.assign, key, who)
        do(tmp_path, opened, tickets.start, key, user=who)
        do(tmp_path, done, tickets.resolve, key, user=who)
    return tmp_path


def build_history(home: Path) -> Path:
    """The trends screen's snapshot store: ``build_resolved``'s technicians and
    resolutions, blocks for parts on two days, and open tickets waiting in three
    departments: d1 and d3 over the 2 h line, d2 under it (since 15:00)."""
    build_resolved(home)
    waiting = [new(home, "2026-03-05T09:00:00Z") for _ in range(2)]
    do(home, "2026-03-05T15:00:00Z", tickets.create, {"title": "t", "type": "repair", "dept": "d2", "product": "p"})
    do(home, "2026-03-05T09:10:00Z", tickets.assign, waiting[0], "cyd")
    do(home, "2026-03-05T11:00:00Z", tickets.block, waiting[0], "awaiting_parts", {})
    old = str(do(home, "2026-03-03T09:00:00Z", tickets.create, {"title": "t", "type": "repair", "dept": "d3", "product": "p"})["key"])
    do(home, "2026-03-03T09:10:00Z", tickets.assign, old, "cyd")
    do(home, "2026-03-03T10:00:00Z", tickets.block, old, "awaiting_parts", {})
    do(home, "2026-03-03T12:00:00Z", tickets.unblock, old)
    return home


def test_on_time_over_the_last_resolved_tickets(resolved: Path) -> None:
    got = do(resolved, NOW, kpi.on_time)
    assert list(got) == ["bob", "ana"]  # worst first; cyd resolved nothing
    assert got["bob"] == {"resolved": 1, "on_time": 0, "on_time_pct": 0.0, "band": "warning"}
    assert got["ana"]["resolved"] == 3 and got["ana"]["on_time"] == 2 and got["ana"]["on_time_pct"] == 66.7
    last2 = do(resolved, NOW, kpi.on_time, None, 2)
    assert (last2["ana"]["resolved"], last2["ana"]["on_time"]) == (2, 1)  # the late one and the newest
    last1 = do(resolved, NOW, kpi.on_time, None, 1)
    assert last1["ana"]["on_time_pct"] == 100.0
    # up to an end: before ana's third resolution, her last two are the on-time and the late one
    from ticketctl.core.model import parse_time
    early = do(resolved, NOW, kpi.on_time, parse_time("2026-03-04T10:00:00Z"), 30)
    assert (early["ana"]["resolved"], early["ana"]["on_time"]) == (2, 1)
    # the same rule as sla_attainment: the KPI over all four tickets agrees with the sum
    k = do(resolved, NOW, kpi.kpis, parse_time("2026-03-01T00:00:00Z"))["kpis"]["sla_attainment"]
    assert (k["n"], round(k["value"], 1)) == (4, 50.0)
    with pytest.raises(BadInput):
        do(resolved, NOW, kpi.on_time, None, 0)


def on_time_by_events(home: Path, last: int, end: str) -> dict[str, tuple[int, int]]:
    """The second way: replay each ticket's events (sqlite3): its assignee, its
    last resolution unless reopened after, the SLA time left then; per
    technician, the ``last`` latest resolutions before ``end``: (how many, met)."""
    cfg = env_at(home, NOW).config
    db = sqlite3.connect(home / "ticketctl.db")
    db.row_factory = sqlite3.Row
    evs: dict[str, list[dict[str, Any]]] = {}
    for r in db.execute("SELECT ticket, type, payload, at FROM events WHERE ticket IS NOT NULL ORDER BY seq"):
        evs.setdefault(r["ticket"], []).append(dict(r))
    db.close()
    done: dict[str, list[tuple[str, str, bool]]] = {}
    for key, es in evs.items():
        if es[0]["type"] != "ticket.created":
            continue
        assignee, resolved_at = None, None
        for e in es:
            p = json.loads(e["payload"])
            if e["type"] == "ticket.assigned":
                assignee = p["assignee"]
            elif e["type"] == "ticket.unassigned":
                assignee = None
            elif e["type"] == "ticket.resolved":
                resolved_at = e["at"]
            elif e["type"] == "ticket.reopened":
                resolved_at = None
        if assignee and resolved_at and resolved_at < end:
            met = _sla_left_at_resolution(cfg, es[0], es) >= 0
            done.setdefault(assignee, []).append((resolved_at, key, met))
    out = {}
    for who, rows in done.items():
        mine = sorted(rows, reverse=True)[:last]
        out[who] = (len(mine), sum(m for _a, _k, m in mine))
    return out


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    h = tmp_path_factory.mktemp("trends-demo")
    env = env_at(h, NOW)
    demo.generate(env, 900, 12, seed=8)
    env.close()
    return h


@pytest.mark.parametrize("last", [30, 7])
def test_on_time_agrees_with_a_replay_of_the_events(demo_home: Path, last: int) -> None:
    got = do(demo_home, NOW, kpi.on_time, None, last)
    want = on_time_by_events(demo_home, last, NOW)
    assert len(want) >= 10 and any(n == last for n, _m in want.values())
    assert {k: (v["resolved"], v["on_time"]) for k, v in got.items()} == want
    pcts = [v["on_time_pct"] for v in got.values()]
    assert pcts == sorted(pcts) and 0 < pcts[0] < pcts[-1]


# -- the CLI ------------------------------------------------------------------------------------


def cli(home: Path, *argv: str) -> tuple[int, str, str]:
    env = os.environ | {"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "sup", "PYTHONPATH": str(ROOT),
                        "TICKETCTL_LANG": "en"}
    p = subprocess.run([sys.executable, "-m", "ticketctl", *argv], env=env, capture_output=True, text=True, check=False)
    return p.returncode, p.stdout, p.stderr


def test_kpi_by_assignee_json_and_table(resolved: Path) -> None:
    code, out, err = cli(resolved, "report", "kpi", "--by", "assignee", "--last", "2", "--json")
    r = json.loads(out)
    assert (code, err) == (0, "") and r["last"] == 2 and list(r["by"]) == ["assignee"]
    assert r["by"]["assignee"] == {"ana": {"resolved": 2, "on_time": 1, "on_time_pct": 50.0, "band": "warning"},
                                   "bob": {"resolved": 1, "on_time": 0, "on_time_pct": 0.0, "band": "warning"}}
    code, out, _ = cli(resolved, "report", "kpi", "--by", "assignee")
    lines = out.splitlines()
    assert any(ln.startswith("on time per technician: of their last 30") for ln in lines)
    i = next(n for n, ln in enumerate(lines) if ln.split()[:2] == ["technician", "resolved"])
    assert [ln.split() for ln in lines[i + 1:]] == [["bob", "1", "0", "0%"], ["ana", "3", "2", "66.7%"]]
    code, _, err = cli(resolved, "report", "kpi", "--last", "5")
    assert code == 2 and err == "ticketctl: error: --last goes with --by assignee\n"


# -- the dashboard's trends screen ---------------------------------------------------------------


def plain(screen: TrendsScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


def screen_figures(screen: TrendsScreen) -> dict[str, Any]:
    """The numbers the screen shows, read off its widgets' text and the sparklines' data."""
    dwell = {}
    for line in plain(screen, "#dwell").splitlines():
        m = re.fullmatch(r"(\S+) +[ █┃│]+ +([\d.]+) h  (\d+) open", line)
        assert m, line
        dwell[m.group(1)] = (float(m.group(2)), int(m.group(3)))
    flow = {}
    for key, _label, _c in FLOW:
        text = plain(screen, f"#flow-{key}")
        total, today, most = (int(x) for x in re.findall(r"\d+", text))
        flow[key] = {"total": total, "today": today, "most": most, "data": list(screen.query_one(f"#spark-{key}", Sparkline).data)}
    on_time = []
    for line in plain(screen, "#on-time").splitlines():
        m = re.fullmatch(r"(\S+) +[█░]+ +([\d.]+)%  (\d+)/(\d+)", line)
        assert m, line
        on_time.append((m.group(1), float(m.group(2)), int(m.group(3)), int(m.group(4))))
    return {"dwell": dwell, "flow": flow, "on_time": on_time}


def cli_figures(home: Path, reason: str) -> dict[str, Any]:
    """The same numbers from the CLI's JSON, run as another process on the same store and clock."""
    dwell = json.loads(cli(home, "report", "dwell", "--json")[1])
    trend = json.loads(cli(home, "report", "trend", "--days", "30", "--reason", reason, "--json")[1])
    k = json.loads(cli(home, "report", "kpi", "--by", "assignee", "--json")[1])
    flow = {}
    for key in ("opened", "closed", "blocked"):
        data = [d[key] for d in trend["series"]]
        flow[key] = {"total": trend[key], "today": data[-1], "most": max(data), "data": data}
    return {"dwell": {d["dept"]: (d["avg_wait_h"], d["open"]) for d in dwell["depts"]}, "flow": flow,
            "on_time": [(n, t["on_time_pct"], t["on_time"], t["resolved"]) for n, t in k["by"]["assignee"].items()]}


@pytest.mark.anyio
async def test_the_trends_screen_shows_the_cli_s_numbers(demo_home: Path) -> None:
    app = Dashboard(lambda: env_at(demo_home, NOW), poll_s=0.1)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TrendsScreen) and screen.reason == "awaiting_parts"
        shown = screen_figures(screen)
        want = cli_figures(demo_home, "awaiting_parts")
        assert shown == want
        assert len(shown["dwell"]) >= 5 and shown["flow"]["blocked"]["total"] > 0 and len(shown["on_time"]) == 12
        # r: the next reason of the config's menu, read again
        await pilot.press("r")
        await settle(pilot)
        assert screen.reason == "awaiting_third_party" and screen.data is not None
        assert screen_figures(screen)["flow"] == cli_figures(demo_home, "awaiting_third_party")["flow"]
        assert "awaiting_third_party" in str(screen.query_one("#flow-caption", Static).content)
        # a ticket blocked from another shell shows with no key pressed (the live poll)
        await pilot.press("r", "r", "r")  # round the menu to its first reason
        await settle(pilot)
        before = screen_figures(screen)["flow"]["blocked"]["total"]
        assert screen.reason == "awaiting_customer"
        env = env_at(demo_home, NOW)
        # a new ticket, assigned then blocked (the demo's small team may hold only blocked work)
        key = next(t.key for t in env.store.select_tickets("status = 'new'", (), "key", 5))
        tickets.assign(env, key, env.store.techs()[0].name, force=True)
        tickets.block(env, key, "awaiting_customer", {})
        env.close()
        for _ in range(20):
            await pilot.pause(0.1)
            await settle(pilot)
            if screen_figures(screen)["flow"]["blocked"]["total"] != before:
                break
        assert screen_figures(screen) == cli_figures(demo_home, "awaiting_customer")
        assert screen_figures(screen)["flow"]["blocked"]["total"] in (before, before + 1)  # once a day per ticket
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, TrendsScreen)

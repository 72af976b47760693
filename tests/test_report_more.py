"""``report aging``, ``blocked``, ``trend`` and ``daily``: each checked against a
plain Python count of the projections, on a demo store and on hand-made tickets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ticketctl.cli import main
from ticketctl.core.model import OPEN_STATUSES, iso, parse_time
from ticketctl.services import daily, demo, heatmap, kpi, report, techs, tickets
from ticketctl.services.env import Env

NOW = "2026-03-12T10:30:00Z"  # the demo month holds the US switch to summer time (2026-03-08)


def make_env(home: Path, now: str = NOW, user: str = "sup") -> Env:
    return Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": now, "TICKETCTL_USER": user})


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    h = tmp_path_factory.mktemp("more")
    (h / "config.toml").write_text('[calendar]\ntimezone = "America/New_York"\n')
    env = make_env(h)
    demo.generate(env, 1500, 30, seed=3)
    env.close()
    return h


def all_tickets(env: Env) -> list[Any]:
    return env.store.select_tickets("", (), "key", None)


# -- aging ----------------------------------------------------------------------------------


def bucket_of(age_h: float) -> str:
    for label, lo, hi in report.AGE_BUCKETS:
        if age_h >= lo and (hi is None or age_h < hi):
            return label
    return report.AGE_BUCKETS[0][0]  # created after now


def test_aging_agrees_with_a_python_count(home: Path) -> None:
    env = make_env(home)
    r = report.aging(env)
    now = parse_time(NOW)
    open_ = [t for t in all_tickets(env) if t.status in OPEN_STATUSES]
    want = Counter((bucket_of((now - parse_time(t.created_at)).total_seconds() / 3600), t.status) for t in open_)
    got = Counter({(b["bucket"], s): n for b in r["buckets"] for s, n in b["by_status"].items() if n})
    assert got == want
    assert r["total"] == len(open_) == sum(b["count"] for b in r["buckets"])
    assert r["by_status"] == {s: sum(1 for t in open_ if t.status == s) for s in OPEN_STATUSES}
    assert [b["bucket"] for b in r["buckets"]] == ["< 4 h", "4-24 h", "1-3 d", "3-7 d", "7-30 d", "> 30 d"]
    assert sum(1 for b in r["buckets"] if b["count"]) >= 4


def test_aging_bucket_edges(tmp_path: Path) -> None:
    for age in (0, timedelta(hours=4) - timedelta(seconds=1), timedelta(hours=4), timedelta(hours=24),
                timedelta(days=30) - timedelta(seconds=1), timedelta(days=30)):
        tickets.create(make_env(tmp_path, iso(parse_time(NOW) - (age or timedelta()))),
                       {"title": "t", "type": "repair", "dept": "d", "product": "p"})
    r = report.aging(make_env(tmp_path))
    assert [b["count"] for b in r["buckets"]] == [2, 1, 1, 0, 1, 1]
    assert r["buckets"][1]["by_status"]["new"] == 1


# -- blocked --------------------------------------------------------------------------------


def test_blocked_agrees_with_the_projections(home: Path) -> None:
    env = make_env(home)
    r = report.blocked(env)
    now = parse_time(NOW)
    secs: Counter[str] = Counter()
    holders: dict[str, set[str]] = {}
    for t in all_tickets(env):
        for reason, s in t.blocked_seconds.items():
            secs[reason] += s
            holders.setdefault(reason, set()).add(t.key)
        if t.status == "blocked":
            secs[t.blocked_reason] += int((now - parse_time(t.blocked_since)).total_seconds())
            holders.setdefault(t.blocked_reason, set()).add(t.key)
    got = {x["reason"]: (x["total_s"], x["tickets"]) for x in r["reasons"]}
    assert got == {k: (secs[k], len(holders[k])) for k in secs}
    assert len(got) >= 3 and r["total_s"] == sum(secs.values())
    assert [x["total_s"] for x in r["reasons"]] == sorted(secs.values(), reverse=True)
    for x in r["reasons"]:
        assert x["mean_s"] == round(x["total_s"] / x["tickets"])
        assert x["label"] == env.config.reasons[x["reason"]].label


def test_blocked_counts_finished_and_running_blocks(tmp_path: Path) -> None:
    t0 = parse_time("2026-03-10T09:00:00Z")

    def env_at(**d: float) -> Env:
        return make_env(tmp_path, iso(t0 + timedelta(**d)), "ana")

    techs.add(env_at(), "ana")
    key = tickets.create(env_at(), {"title": "t", "type": "repair", "dept": "d", "product": "p"})["key"]
    other = tickets.create(env_at(), {"title": "u", "type": "repair", "dept": "d", "product": "p"})["key"]
    for k in (key, other):
        tickets.assign(env_at(), k, "ana")
    tickets.block(env_at(hours=1), key, "awaiting_parts", {})
    tickets.unblock(env_at(hours=3), key)
    tickets.block(env_at(hours=4), key, "awaiting_parts", {})
    tickets.unblock(env_at(hours=5), key)
    tickets.block(env_at(hours=6), key, "awaiting_customer", {})
    tickets.block(env_at(hours=2), other, "awaiting_parts", {})
    r = report.blocked(make_env(tmp_path, iso(t0 + timedelta(hours=6, minutes=30))))
    assert [(x["reason"], x["tickets"], x["blocked_now"], x["total_s"], x["mean_s"]) for x in r["reasons"]] == [
        ("awaiting_parts", 2, 1, 3 * 3600 + int(4.5 * 3600), int(7.5 * 3600 / 2)),
        ("awaiting_customer", 1, 1, 1800, 1800),
    ]


# -- trend ----------------------------------------------------------------------------------


def test_trend_agrees_with_a_python_count_in_local_days(home: Path) -> None:
    env = make_env(home)
    r = report.trend(env, 14)
    tz = ZoneInfo("America/New_York")
    days = [s["day"] for s in r["series"]]
    assert len(days) == 14 and days[-1] == parse_time(NOW).astimezone(tz).date().isoformat()
    assert "2026-03-08" in days  # a 23-hour day
    rows = all_tickets(env)
    opened = Counter(parse_time(t.created_at).astimezone(tz).date().isoformat() for t in rows)
    closed = Counter(parse_time(t.closed_at).astimezone(tz).date().isoformat() for t in rows if t.closed_at)
    assert [(s["opened"], s["closed"]) for s in r["series"]] == [(opened[d], closed[d]) for d in days]
    assert (r["opened"], r["closed"]) == (sum(opened[d] for d in days), sum(closed[d] for d in days))
    assert r["timezone"] == "America/New_York" and r["closed"] > 0


@pytest.mark.parametrize("reason", ["awaiting_parts", "awaiting_customer"])
def test_trend_blocked_agrees_with_the_event_log_in_local_days(home: Path, reason: str) -> None:
    """The second way: every ``ticket.blocked`` event for the reason, read with sqlite3, put in its
    local day; a ticket counts once a day."""
    import sqlite3

    env = make_env(home)
    r = report.trend(env, 20, reason)
    tz = ZoneInfo("America/New_York")
    db = sqlite3.connect(env.home.store_file)
    per_day: dict[str, set[str]] = {}
    for key, at, payload in db.execute("SELECT ticket, at, payload FROM events WHERE type = 'ticket.blocked'"):
        if json.loads(payload)["reason"] == reason:
            per_day.setdefault(parse_time(at).astimezone(tz).date().isoformat(), set()).add(key)
    db.close()
    days = [s["day"] for s in r["series"]]
    assert r["reason"] == reason and "2026-03-08" in days
    assert [s["blocked"] for s in r["series"]] == [len(per_day.get(d, ())) for d in days]
    assert r["blocked"] == sum(s["blocked"] for s in r["series"]) > 0


def test_trend_bounds_are_local_midnights(home: Path) -> None:
    b = report.day_bounds(make_env(home), 6)
    assert b[0] == "2026-03-07T05:00:00Z" and b[1] == "2026-03-08T05:00:00Z" and b[2] == "2026-03-09T04:00:00Z"


# -- daily XLSX -----------------------------------------------------------------------------


def test_daily_xlsx_reads_back(home: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    env = make_env(home)
    path = tmp_path / "out" / "daily.xlsx"
    r = daily.daily(env, path)
    assert r["sheets"] == ["heat map", "stuck", "KPIs", "dwell", "blocked"] and r["path"] == str(path)
    assert os.listdir(path.parent) == ["daily.xlsx"]  # no temp file left behind
    wb = load_workbook(path)
    assert wb.sheetnames == ["heat map", "stuck", "KPIs", "dwell", "blocked"]
    hm = heatmap.heatmap(env, ("dept", "product"))
    ws = wb["heat map"]
    rules = [rule for cf in ws.conditional_formatting for rule in cf.rules]
    assert rules and all(rule.type == "colorScale" for rule in rules)
    assert sum(ws.cell(row, ws.max_column).value for row in range(2, ws.max_row + 1)) == hm["total"] == r["backlog"]
    stuck = [row for row in wb["stuck"].iter_rows(min_row=2, values_only=True)]
    assert [row[0] for row in stuck] == [t["key"] for t in heatmap.stuck(env)] and len(stuck) == 5
    assert all(row[5] > 4 for row in stuck)
    report = kpi.kpis(env, by="dept")
    ks = wb["KPIs"]
    # the sheet lists the report's figures (no source figures: the tickets were made here)
    by_name = {row[0].value: row for row in ks.iter_rows(min_row=3, max_row=2 + len(report["kpis"]))}
    assert list(by_name) == list(report["kpis"]) == [n for n in kpi.KPIS if not n.startswith("source_")]
    for name, k in report["kpis"].items():
        value_cell, band_cell = by_name[name][1], by_name[name][3]
        assert value_cell.value == k["value"]
        if k["band"]:
            assert value_cell.fill.fill_type == "solid" and band_cell.value == k["band"]
            assert value_cell.fill.start_color.rgb.endswith(daily.BAND_FILLS[k["band"]])
        else:
            assert value_cell.fill.fill_type is None
    header = next(row for row in ks.iter_rows() if row[0].value == "dept")
    dept_rows = [row for row in ks.iter_rows(min_row=header[0].row + 1) if row[0].value in report["by"]["dept"]]
    assert len(dept_rows) == len(report["by"]["dept"])
    col = [c.value for c in header].index("sla_attainment")
    for row in dept_rows:
        band = report["by"]["dept"][row[0].value]["kpis"]["sla_attainment"]["band"]
        assert row[col].fill.start_color.rgb.endswith(daily.BAND_FILLS[band])


def test_daily_at_a_past_moment(home: Path, tmp_path: Path) -> None:
    env = make_env(home)
    when = parse_time("2026-03-05T08:00:00Z")
    r = daily.daily(env, tmp_path / "d.xlsx", when)
    assert r["at"] == "2026-03-05T08:00:00Z" and r["kpi_to"] == r["at"]
    assert r["backlog"] == heatmap.heatmap(env, ("dept", "product"), when)["total"]


# -- the commands ---------------------------------------------------------------------------


def run(home: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv), env=make_env(home))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("argv", "keys"), [
    (["aging"], ["at", "total", "statuses", "buckets", "by_status"]),
    (["blocked"], ["at", "reasons", "total_s"]),
    (["trend", "--days", "7"], ["at", "days", "timezone", "reason", "series", "opened", "closed", "blocked"]),
    (["dwell"], ["at", "threshold_h", "depts"]),
])
def test_json_views(home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], keys: list[str]) -> None:
    code, out, err = run(home, capsys, "report", *argv, "--json")
    assert (code, err) == (0, "")
    assert list(json.loads(out)) == keys


def test_terminal_views(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = make_env(home)
    code, out, _ = run(home, capsys, "report", "aging")
    assert code == 0 and out.startswith(f"backlog at {NOW}: {report.aging(env)['total']} open tickets\n")
    code, out, _ = run(home, capsys, "report", "blocked")
    assert code == 0 and "Awaiting customer" in out
    code, out, _ = run(home, capsys, "report", "trend", "--days", "5")
    t = report.trend(env, 5)
    lines = out.splitlines()
    assert code == 0 and f"{t['opened']} opened" in lines[0] and f"{t['closed']} closed" in lines[0]
    stopped = [str(t["blocked"]), "ticket" if t["blocked"] == 1 else "tickets"]
    assert lines[3].split()[:2] == ["blocked:", "awaiting_parts"] and lines[3].split()[-3:-1] == stopped
    assert [ln.split()[0] for ln in lines[4:]] == [s["day"] for s in t["series"]]
    assert all(ln.split()[-2:] == [str(s["closed"]), str(s["blocked"])] for ln, s in zip(lines[4:], t["series"], strict=True))
    code, out, _ = run(home, capsys, "report", "dwell")
    d = report.dwell(env)
    lines = out.splitlines()
    assert code == 0 and lines[0] == f"average wait in status per department at {NOW} (threshold 2 h)"
    assert [(ln.split()[0], ln.split()[-4], ln.split()[-2]) for ln in lines[1:]] == [
        (x["dept"], f"{x['avg_wait_h']:.2f}", str(x["open"])) for x in d["depts"]]


def test_daily_command(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "d.xlsx"
    code, out, err = run(home, capsys, "report", "daily", "--xlsx", str(path))
    assert (code, out) == (0, "") and err.startswith(f"wrote {path} (") and path.exists()
    code, out, err = run(home, capsys, "report", "daily", "--xlsx", str(path), "--at", "noon")
    assert code == 2 and "--at 'noon' is not an ISO-8601 time" in err


def test_json_reports_load_no_rich(home: Path, tmp_path: Path) -> None:
    """Cron runs these with --json: no Rich, no ORM, no Textual."""
    script = (
        "import sys, json, contextlib, io\n"
        "import ticketctl.cli\n"
        "codes = []\n"
        "for argv in (['report', 'kpi', '--json'], ['report', 'aging', '--json'], ['report', 'blocked', '--json'],\n"
        "             ['report', 'trend', '--json']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        codes.append(ticketctl.cli.main(argv))\n"
        "heavy = ('rich', 'textual', 'sqlalchemy', 'sqlmodel', 'pydantic', 'openpyxl', 'httpx')\n"
        "print(json.dumps({'codes': codes, 'loaded': [m for m in heavy if m in sys.modules]}))\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    environ.update(TICKETCTL_HOME=str(home), TICKETCTL_NOW=NOW)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environ, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"codes": [0, 0, 0, 0], "loaded": []}

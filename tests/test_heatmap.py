"""Heat maps now and at past moments, against an independent replay of the event log."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from ticketctl.cli import main
from ticketctl.core.model import OPEN_STATUSES, iso, parse_time
from ticketctl.core.workflow import apply
from ticketctl.services import demo, heatmap
from ticketctl.services.env import Env

NOW = "2026-03-04T10:30:00Z"


def make_env(home: Path, now: str = NOW) -> Env:
    return Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": now, "TICKETCTL_USER": "sup"})


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    h = tmp_path_factory.mktemp("heat")
    env = make_env(h)
    demo.generate(env, 1500, 25, seed=9)
    env.close()
    return h


def replay_backlog(env: Env, at: str, by: tuple[str, ...]) -> Counter:
    """Fold each ticket's events up to ``at`` (inclusive) and count the open ones per cell."""
    state = {}
    for e in env.store.events():
        if e.ticket is not None and e.at <= at:
            state[e.ticket] = apply(state.get(e.ticket), e, env.config)
    return Counter(tuple(getattr(t, d) for d in by) for t in state.values() if t.status in OPEN_STATUSES)


@pytest.mark.parametrize("hours_ago", [0.5, 6, 30, 24 * 7, 24 * 20])
@pytest.mark.parametrize("by", [("dept",), ("dept", "product"), ("product", "fault")])
def test_past_heatmap_equals_a_replay_of_the_events(home, hours_ago, by):
    env = make_env(home)
    at = parse_time(NOW) - timedelta(hours=hours_ago)
    hm = heatmap.heatmap(env, by, at)
    got = Counter({tuple(c[d] for d in by): c["count"] for c in hm["cells"]})
    want = replay_backlog(env, iso(at), by)
    assert got == want and hm["total"] == sum(want.values()) > 0
    env.close()


def test_now_from_the_tickets_equals_now_from_the_spans(home):
    env = make_env(home)
    now_cells = heatmap.heatmap(env, ("dept", "fault"))
    span_cells = heatmap.heatmap(env, ("dept", "fault"), parse_time(NOW))
    assert now_cells == span_cells
    env.close()


def test_over_4h_and_oldest_age(home):
    env = make_env(home)
    at = parse_time(NOW) - timedelta(hours=30)
    hm = heatmap.heatmap(env, ("dept",), at)
    state = {}
    for e in env.store.events():
        if e.ticket is not None and e.at <= iso(at):
            state[e.ticket] = apply(state.get(e.ticket), e, env.config)
    for cell in hm["cells"]:
        ts = [t for t in state.values() if t.status in OPEN_STATUSES and t.dept == cell["dept"]]
        ages = [(at - parse_time(t.created_at)).total_seconds() / 3600 for t in ts]
        assert cell["over_4h"] == sum(a >= 4 for a in ages)
        assert cell["oldest_age_h"] == round(max(ages), 1)
    stuck = heatmap.stuck(env, at)
    oldest = sorted((t for t in state.values() if t.status in OPEN_STATUSES), key=lambda t: (t.created_at, t.key))[:5]
    assert [s["key"] for s in stuck] == [t.key for t in oldest]
    env.close()


def test_cli_json_csv_xlsx_and_grid(home, tmp_path, capsys):
    env = make_env(home)
    assert main(["report", "heatmap", "--by", "dept", "--json"], env=env) == 0
    hm = json.loads(capsys.readouterr().out)
    assert set(hm) == {"at", "by", "cells", "total"} and hm["by"] == ["dept"]
    assert set(hm["cells"][0]) == {"dept", "count", "over_4h", "oldest_age_h"}
    out_csv, out_xlsx = tmp_path / "h.csv", tmp_path / "h.xlsx"
    assert main(["report", "heatmap", "--csv", str(out_csv), "--xlsx", str(out_xlsx)], env=make_env(home)) == 0
    capsys.readouterr()
    assert out_csv.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, for Excel (tests/test_import_cn.py reads Chinese back)
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8-sig", newline="")))
    assert rows[0].keys() == {"dept", "product", "count", "over_4h", "oldest_age_h"}
    assert sum(int(r["count"]) for r in rows) == hm["total"]
    from openpyxl import load_workbook

    wb = load_workbook(out_xlsx)
    assert wb.sheetnames == ["heat map", "stuck over 4h"]
    ws = wb["heat map"]
    assert ws.max_row > 2 and len(ws.conditional_formatting) == 1
    assert sum(ws.cell(r, ws.max_column).value for r in range(2, ws.max_row + 1)) == hm["total"]
    assert wb["stuck over 4h"].max_row == 6
    assert main(["report", "heatmap"], env=make_env(home)) == 0
    grid = capsys.readouterr().out
    assert "legend" in grid and str(hm["total"]) in grid


def test_bad_by_and_bad_at_are_bad_input(home, capsys):
    assert main(["report", "heatmap", "--by", "zone"], env=make_env(home)) == 2
    assert "ticketctl: error: --by 'zone': use one of" in capsys.readouterr().err
    assert main(["report", "heatmap", "--at", "yesterday"], env=make_env(home)) == 2
    assert "is not an ISO-8601 time" in capsys.readouterr().err

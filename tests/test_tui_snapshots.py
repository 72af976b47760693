"""One snapshot per dashboard screen, at a fixed size, clock and store
(``tests/__snapshots__/test_tui_snapshots/``; after a deliberate change to a
screen, look at the report and accept with ``pytest --snapshot-update``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_cjk_layout import build_cjk_store
from test_tui import REJECTED, build_approvals_store, build_store, set_up_sync, settle, to_key
from test_tui_layout import build_busy_store
from test_tui_zh import build_zh_store
from textual.pilot import Pilot

from ticketctl.tui.app import Dashboard
from ticketctl.tui.trends import TrendsScreen

SIZE = (160, 40)


def shot(*keys: str, on: str | None = None) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Settle, put the cursor on ticket ``on``, press ``keys``, settle again."""
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if on:
            await to_key(pilot, on)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)
    return run_before


@pytest.fixture
def app(tmp_path: Path) -> Dashboard:
    return Dashboard(build_store(tmp_path), poll_s=0.1)


def test_main_screen(snap_compare: Any, app: Dashboard) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=shot())


def test_detail_screen(snap_compare: Any, app: Dashboard) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=shot("enter", on="TST-3"))


def test_blocked_board(snap_compare: Any, app: Dashboard) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=shot("B"))


def test_approvals_board(snap_compare: Any, tmp_path: Path) -> None:
    """Three steps waiting on Wednesday noon: one past its limit (red), one
    past half of it (yellow), one young; an approver away, her delegate named.
    The cursor goes to the young one: the cursor's highlight covers a row's colour."""
    app = Dashboard(build_approvals_store(tmp_path), poll_s=0.1)
    assert snap_compare(app, terminal_size=SIZE, run_before=shot("A", "down", "down"))


def test_help(snap_compare: Any, app: Dashboard) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=shot("question_mark"))


def test_assign_dialog(snap_compare: Any, app: Dashboard) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=shot("a", on="TST-1"))


def test_block_dialog(snap_compare: Any, app: Dashboard) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=shot("b", on="TST-6"))


def test_dispatch_preview(snap_compare: Any, app: Dashboard) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=shot("d"))


def test_main_screen_with_chinese_data(snap_compare: Any, tmp_path: Path) -> None:
    """Chinese titles, departments, products and technicians beside Latin ones:
    the backlog's columns line up by cells, a cut never halves a wide character."""
    app = Dashboard(build_cjk_store(tmp_path), poll_s=0.1)
    assert snap_compare(app, terminal_size=SIZE, run_before=shot())


def test_rejected_changes(snap_compare: Any, tmp_path: Path) -> None:
    """Sync set up (the header shows it) and two changes the server rejected."""
    make_env = build_store(tmp_path)
    set_up_sync(make_env, REJECTED)
    app = Dashboard(make_env, poll_s=0.1)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.fixture
def chinese() -> Iterator[None]:
    from ticketctl import i18n

    i18n.use("zh_CN")
    yield
    i18n.use("en")


def test_main_screen_in_chinese(snap_compare: Any, tmp_path: Path, chinese: None) -> None:
    """A Chinese team under zh_CN at 160x50: priorities, statuses, SLA times
    and blocked reasons as Chinese labels, each column as wide as its widest
    label or time, so none is cut (issue 23)."""
    app = Dashboard(build_zh_store(tmp_path), poll_s=0.1)
    assert snap_compare(app, terminal_size=(160, 50), run_before=shot())


def test_blocked_board_in_chinese(snap_compare: Any, tmp_path: Path, chinese: None) -> None:
    app = Dashboard(build_zh_store(tmp_path), poll_s=0.1)
    assert snap_compare(app, terminal_size=(160, 50), run_before=shot("B"))


def test_trends_screen(snap_compare: Any, tmp_path: Path) -> None:
    """Dwell per department against 2 h (two over it, red), the days' opened / closed / blocked for
    parts, and the technicians on time, worst first (``test_trends.build_history``)."""
    from test_trends import NOW, build_history, env_at

    home = build_history(tmp_path)
    app = Dashboard(lambda: env_at(home, NOW), poll_s=0.1)

    async def run_before(pilot: Pilot[Any]) -> None:
        await shot("T")(pilot)
        screen = app.screen
        assert isinstance(screen, TrendsScreen)
        # the figures arrive from a worker; the widgets they fill grow on a later layout: wait until every part
        # stands at its full height (on a loaded machine a fixed pause was sometimes too short)
        parts = ["#dwell", "#on-time", *(f"#flow-name-{key}" for key in ("opened", "closed", "blocked"))]
        for _ in range(200):
            if screen.data is not None and all(screen.query_one(p).region.height > 0 for p in parts) \
                    and screen.query_one("#on-time").region.height >= len(screen.data["on_time"]):
                break
            await pilot.pause(0.05)
        await pilot.pause()
        assert screen.data is not None

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 50), (220, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen_at_each_size(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    """Thirty tickets, more than 80x24 shows: under 120x35 the backlog alone,
    key, priority, status, assignee and SLA on every row (product, then dept,
    leave first); from 160 columns the heat map and the load beside it."""
    app = Dashboard(build_busy_store(tmp_path), poll_s=0.1)
    assert snap_compare(app, terminal_size=size, run_before=shot())


def test_main_screen_at_80x24_with_the_panels_shown(snap_compare: Any, tmp_path: Path) -> None:
    """``p`` on a small terminal: the heat map and the load below the backlog, side by side."""
    app = Dashboard(build_busy_store(tmp_path), poll_s=0.1)
    assert snap_compare(app, terminal_size=(80, 24), run_before=shot("p"))


def test_main_screen_in_chinese_at_80x24(snap_compare: Any, tmp_path: Path, chinese: None) -> None:
    app = Dashboard(build_zh_store(tmp_path), poll_s=0.1)
    assert snap_compare(app, terminal_size=(80, 24), run_before=shot())

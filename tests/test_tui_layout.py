"""The dashboard in any terminal from 80x24 up (issue 24): the backlog keeps
key, priority, status, assignee and SLA on every row it shows; the heat map
and the technicians' load stand beside it from 160 columns, below it from
120x35, and are hidden under that until ``p``; the key line shows every key;
the header's counts stay whole. Read from what is drawn: the backlog's lines
and the screen's text (Textual's SVG screenshot). Snapshots of the main
screen at each size are in ``test_tui_snapshots.py``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_tui import REJECTED, build_store, set_up_sync, settle
from test_tui_zh import build_zh_store, cell_slice, screen_lines
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Static

from ticketctl.cells import cells
from ticketctl.core.labels import label
from ticketctl.render.text import duration
from ticketctl.services import dashboard, techs, tickets
from ticketctl.services.env import Env
from ticketctl.tui.app import ACTIONS, Dashboard, hint
from ticketctl.tui.backlog import COLUMNS, LEAST_TITLE, MIN_TITLE, BacklogView, _fit, widths
from ticketctl.tui.dialogs import HelpDialog
from ticketctl.tui.header import Counts

pytestmark = pytest.mark.anyio
#: the columns a row never loses, by their (English) titles
CORE = ("key", "pri", "status", "assignee", "SLA left")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def zh() -> Iterator[None]:
    from ticketctl import i18n

    i18n.use("zh_CN")
    yield
    i18n.use("en")


def build_busy_store(home: Path) -> Callable[[], Env]:
    """``test_tui``'s six tickets and 24 more, with long departments,
    products and technicians' names, in every open status: more rows than an
    80x24 backlog shows, values wider than its columns."""
    make = build_store(home)
    e = make()
    techs.add(e, "maximiliana", skills=["hvac", "router"], zone="east", capacity=20)
    depts = ("facilities-maintenance", "it-network-operations", "security-and-access")
    products = ("air-handling-unit", "core-switch", "turnstile-controller", "hvac")
    prios = ("urgent", "high", "medium", "low")
    for i in range(24):
        t = tickets.create(e, {"title": f"Recurring fault number {i} reported by the night shift", "type": "repair",
                               "dept": depts[i % 3], "product": products[i % 4], "priority": prios[i % 4], "impact": "user"})
        if i % 3:
            tickets.assign(e, t["key"], "maximiliana")
            if i % 3 == 2:
                tickets.start(e, t["key"])
            if i % 4 == 1:
                tickets.block(e, t["key"], "awaiting_third_party", {"note": "vendor"})
    e.close()
    return make


def row_columns(view: BacklogView, index: int) -> dict[str, str]:
    """What each shown column of the backlog's line for ranking ``index`` reads, by the column's English
    title, spaces stripped (a column the line has no room for is absent)."""
    line = view.render_line(index - int(view.scroll_y) + 1).text
    out, at = {}, 0
    assert view.render_line(0).cell_length == view.line_width == view.size.width - (2 if view.show_vertical_scrollbar else 0)
    for col, w in zip(view.columns, view.widths(view.line_width), strict=True):
        if not w:
            continue
        assert at + w <= view.line_width, ("cropped at the edge, or under the scrollbar", col.title)
        out[col.title] = cell_slice(line, at, w).rstrip()
        at += w + 1
    return out


def visible(view: BacklogView) -> range:
    """The ranking's indexes of the rows on screen."""
    top = int(view.scroll_y)
    return range(top, min(top + view.page_height, len(view.ranks)))


def expected(make_env: Callable[[], Env], keys: list[str]) -> dict[str, dict[str, str]]:
    """The core columns of ``keys`` as a fresh reader of the store would write them."""
    e = make_env()
    try:
        rows = dashboard.rows(e, keys)
        return {k: {"key": k, "pri": label("priority", r["priority"], e.config),
                    "status": label("status", r["status"], e.config), "assignee": r["assignee"] or "-",
                    "SLA left": duration(r["sla_resolve_left_s"])} for k, r in rows.items()}
    finally:
        e.close()


def region(app: Dashboard, selector: str) -> Any:
    return app.screen_stack[0].query_one(selector, Widget).region


def in_order(line: str, words: list[str]) -> bool:
    """Whether ``words`` stand in ``line`` in this order, each between spaces."""
    at = 0
    for w in words:
        m = re.compile(rf"(?<!\S){re.escape(w)}(?!\S)").search(line, at)
        if m is None:
            return False
        at = m.end()
    return True


def check_core_columns(app: Dashboard, make_env: Callable[[], Env]) -> int:
    """Every row on screen shows key, priority, status, assignee and SLA whole, as the store has them,
    in the backlog's lines and on the screen; returns how many rows were read."""
    view = app.backlog
    rows = list(visible(view))
    keys = view.keys(rows[0], rows[-1] + 1)
    want = expected(make_env, keys)
    screen = screen_lines(app)
    for index, key in zip(rows, keys, strict=True):
        shown = row_columns(view, index)
        who, name = shown["assignee"], want[key]["assignee"]
        # a name as wide as the column allows (9 cells at most, at any width), and at least its header's 8
        assert who == name or (who.endswith("…") and name.startswith(who[:-1]) and cells(who) >= cells("assignee")), shown
        assert {c: shown[c] for c in CORE} == want[key] | {"assignee": who}, (key, shown)
        assert cells(shown["title"]) >= LEAST_TITLE
        line = next(s for s in screen if s.lstrip().startswith(key + " "))  # the row as the terminal shows it
        assert in_order(line, [shown[c] for c in CORE]), (shown, line)
    return len(rows)


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_a_narrow_backlog_keeps_key_priority_status_assignee_and_sla(tmp_path: Path, size: tuple[int, int]) -> None:
    make_env = build_busy_store(tmp_path)
    app = Dashboard(make_env, poll_s=0.1)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert not app.screen_stack[0].query_one("#right").display  # the panels are hidden: the backlog has the width
        assert region(app, "#backlog").width == size[0]
        assert check_core_columns(app, make_env) == app.backlog.page_height  # a full page, every row read
        await pilot.press("end")  # and at the bottom of the backlog, with other rows
        await settle(pilot)
        assert check_core_columns(app, make_env) >= 10


async def test_a_chinese_backlog_at_80x24_keeps_its_columns(zh: None, tmp_path: Path) -> None:
    """Labels and times two cells a character: still every core column, whole."""
    make_env = build_zh_store(tmp_path)
    app = Dashboard(make_env, poll_s=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert check_core_columns(app, make_env) == 4
        shown = row_columns(app.backlog, 0)
        assert (shown["pri"], shown["status"], shown["assignee"], shown["SLA left"]) == ("紧急", "处理中", "王小明", "-1天4小时")
        assert row_columns(app.backlog, 1)["status"] == "已挂起"
        head = app.backlog.render_line(0).text
        assert "优先级" in head and "SLA 剩余" in head and "处理人" in head and "…" not in head


async def test_the_panels_stand_beside_below_or_hide_by_size_and_p_toggles_them(tmp_path: Path) -> None:
    make_env = build_busy_store(tmp_path)
    app = Dashboard(make_env, poll_s=0.1)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        right, backlog = region(app, "#right"), region(app, "#backlog")
        assert right.width == 74 and right.x == backlog.right and right.y <= backlog.y  # beside, as ever
        await pilot.resize_terminal(130, 40)
        await settle(pilot)
        right, backlog = region(app, "#right"), region(app, "#backlog")
        assert backlog.width == 130 and right.y >= backlog.bottom and right.height >= 8  # below it
        heat, load = region(app, "#heat"), region(app, "#load")
        assert heat.y == load.y and heat.right <= load.x and heat.height >= 3  # side by side
        check_core_columns(app, make_env)
        app.set_focus(app.heat)  # as tab would: then the panels hide, and the focus goes back to the backlog
        await pilot.pause()
        assert app.focused is app.heat
        for size in ((130, 30), (100, 30), (80, 24)):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            assert not app.screen_stack[0].query_one("#right").display, size
            assert app.focused is app.backlog
        await pilot.press("p")  # shown on demand: below the backlog, which keeps its columns
        await settle(pilot)
        right, backlog = region(app, "#right"), region(app, "#backlog")
        assert app.screen_stack[0].query_one("#right").display and right.y >= backlog.bottom and backlog.height >= 8
        check_core_columns(app, make_env)
        heat_lines = [s for s in screen_lines(app) if "facilities-mai" in s and "TST-" not in s]
        assert heat_lines, "the heat map's row labels stay in sight"
        await pilot.resize_terminal(200, 50)  # the choice holds at any size
        await settle(pilot)
        assert app.screen_stack[0].query_one("#right").display
        await pilot.press("p")
        await settle(pilot)
        assert not app.screen_stack[0].query_one("#right").display and region(app, "#backlog").width == 200
        await pilot.press("enter")  # not from a ticket's screen: the main screen's panels are not there
        await settle(pilot)
        await pilot.press("p")
        assert app.panels is False
        await pilot.press("escape", "p")
        assert app.panels is True


async def test_a_resize_reads_nothing_from_the_store(tmp_path: Path) -> None:
    """A resize changes classes and the key line only: no Env made, no worker run, no row measured."""
    made: list[int] = []
    make_env = build_busy_store(tmp_path)

    def counting() -> Env:
        made.append(1)
        return make_env()

    app = Dashboard(counting, poll_s=60)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        before, measured = len(made), list(app.backlog.measured)
        for size in ((80, 24), (100, 30), (130, 40), (220, 60), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert not any(w.is_running for w in app.workers)
        assert len(made) == before and app.backlog.measured == measured


def test_columns_leave_product_then_dept_then_blocked_and_never_a_core_one() -> None:
    """From 200 cells down to 50: every line is exactly the width; the
    droppable columns leave in their order, only when the title would be
    under MIN_TITLE with the cut columns at their headers; the core columns
    keep their widest value."""
    measured = [6, 6, 40, 22, 20, 11, 11, 8, 14]
    order = ["product", "dept", "blocked"]
    titles = [c.title for c in COLUMNS]
    left_before: list[str] = []
    for total in range(200, 49, -1):
        w = widths(COLUMNS, total, measured)
        shown = [t for t, n in zip(titles, w, strict=True) if n]
        assert sum(w) + len(shown) == total, total
        gone = [t for t in order if t not in shown]
        assert gone == order[: len(gone)] and len(gone) >= len(left_before), total  # in order, and none comes back
        left_before = gone
        for title in ("key", "pri", "status", "SLA left"):
            assert w[titles.index(title)] == measured[titles.index(title)], (total, title)
        assert w[titles.index("assignee")] >= 4 and w[titles.index("title")] >= LEAST_TITLE
        if gone:  # the last to leave left because with it the title had under MIN_TITLE, its cut columns at their headers
            assert _fit(COLUMNS, total, measured, {titles.index(t) for t in gone[:-1]})[1] < MIN_TITLE, total
        else:
            assert w[titles.index("title")] >= MIN_TITLE, total
    assert widths(COLUMNS, 80, measured)[titles.index("product")] == 0  # at 80, product has left
    assert all(widths(COLUMNS, 200, measured))  # at 200, all shown


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("width", [78, 98, 158, 218])
def test_the_key_line_shows_every_key_within_its_width(lang: str, width: int) -> None:
    from ticketctl import i18n

    i18n.use(lang)
    try:
        text = hint(width).plain
        full = hint().plain
    finally:
        i18n.use("en")
    assert cells(text) <= width < cells(full) or text == full
    assert text.startswith("? 帮助  q 退出" if lang == "zh_CN" else "? help  q quit")
    tokens = text.split()
    for key, *_rest in ACTIONS:
        assert key in tokens, (key, text)
    assert "ctrl+p" in tokens
    if width >= 98:
        assert {"/", "B", "A", "R", "S", "p"} <= set(tokens)


async def test_at_80x24_the_key_line_and_the_header_counts_are_whole(tmp_path: Path) -> None:
    make_env = build_store(tmp_path)
    set_up_sync(make_env, REJECTED)
    app = Dashboard(make_env, poll_s=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        lines = screen_lines(app)
        assert lines[0].strip() == "open 6  unassigned 4  at risk 0  breached 0  blocked 1"  # two spaces apart when narrow
        assert lines[1].strip().startswith("sync: 13 pending  2 rejected (R)")  # a line of its own
        keys = lines[-1].split()
        assert keys[:4] == ["?", "help", "q", "quit"] and all(k in keys for k, *_r in ACTIONS), lines[-1]
        assert str(app.screen_stack[0].query_one("#keys", Static).render()).strip() == lines[-1].strip()
        assert not app.screen_stack[0].query_one("#title").display
        top = app.screen_stack[0].query_one("#top", Horizontal)
        assert top.region.height == 2
        await pilot.press("2")  # a header count's key still filters to what it counts
        await settle(pilot)
        assert app.filter.text() == "assignee:-" and len(app.backlog.ranks) == 4
        app.show_counts({"open": 100_000, "unassigned": 67_000, "at_risk": 2_900, "breached": 22_500, "blocked": 5_700})
        await pilot.pause()
        assert screen_lines(app)[0] == " open 100,000  unassigned 67,000  at risk 2,900  breached 22,500  blocked 5,700"  # whole
        await pilot.resize_terminal(160, 24)
        await settle(pilot)
        assert top.region.height == 1 and app.screen_stack[0].query_one("#title").display
        assert "open 100,000   unassigned 67,000   at risk" in screen_lines(app)[0]


async def test_at_80x24_help_lists_every_key_and_p_is_in_the_command_palette(tmp_path: Path) -> None:
    """The help screen fits 80x24: its title and hint stay, its list scrolls to the last key (1-5 among them)."""
    app = Dashboard(build_store(tmp_path), poll_s=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpDialog)
        assert any(k == "p" and "heat map" in d for k, d in app.screen.keys)
        first = "\n".join(screen_lines(app))
        assert "Keys (also in the command palette" in first and "Escape closes" in first
        assert re.search(r"\s a  assign: technicians", first) and not re.search(r"\s ctrl\+p  command palette", first)
        await pilot.press("end")
        await settle(pilot)
        last = "\n".join(screen_lines(app))
        assert "Keys (also in the command palette" in last and "Escape closes" in last
        for key in ("1", "5", "ctrl+p"):
            assert re.search(rf"\s{re.escape(key)}  \w", last), (key, last)
        assert all(cells(line) <= 80 for line in last.splitlines())
        await pilot.press("escape")
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert "(key p)" in commands["Panels"]


async def test_at_80x24_a_click_on_a_counts_first_or_last_cell_filters_to_it(tmp_path: Path) -> None:
    """The narrow header pads its counts by a cell: a click lands on the count it is drawn over."""
    app = Dashboard(build_store(tmp_path), poll_s=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = app.query_one("#counts", Counts)
        assert bar.styles.padding.left == 1
        for start, end, name in bar.spans:
            for cell in (start, end - 1):
                await pilot.press("1")
                await settle(pilot)
                await pilot.click("#counts", offset=(cell + 1, 0))
                await settle(pilot)
                assert app.filter == dashboard.COUNT_FILTERS[name], (name, cell)

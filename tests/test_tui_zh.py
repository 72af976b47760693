"""The dashboard under zh_CN over a Chinese team's store: every value a
person reads is a Chinese label (statuses, priorities, blocked reasons, SLA
states, types, checklist items, event kinds, roles), and the columns that
hold them are sized by terminal cells, so none is cut where ``list`` shows
it whole (issue 23)."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_cjk_layout import cell_slice
from test_tui import recorded, set_up_sync, settle, to_key
from textual.coordinate import Coordinate
from textual.widgets import OptionList, Static

from ticketctl.cells import cells
from ticketctl.core.labels import label
from ticketctl.render.text import duration
from ticketctl.services import techs, tickets
from ticketctl.services.env import Env
from ticketctl.tui.app import Dashboard
from ticketctl.tui.backlog import COLUMNS, BacklogView, widths
from ticketctl.tui.dialogs import BlockDialog, DispatchDialog
from ticketctl.tui.screens import BlockedScreen, DetailScreen

#: the store is made on Monday morning; the dashboard opens on Thursday, when TST-1's two hours are long past
MADE = "2026-03-02T09:00:00Z"
NOW = "2026-03-05T09:00:00Z"
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def build_zh_store(home: Path) -> Callable[[], Env]:
    """A Chinese team: Chinese titles, departments, products, customers and
    technicians; an urgent ticket in progress far past its SLA, tickets
    blocked awaiting the customer and awaiting another department."""
    made = {"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": MADE, "TICKETCTL_USER": "调度员"}
    e = Env.from_environ(made)
    with e.store.transaction():
        e.store.set_meta("key_prefix", "TST")
    techs.add(e, "王小明", skills=["空调", "水泵"], zone="北区", capacity=3)
    techs.add(e, "李娜", skills=["打印机"], zone="南区", capacity=2)
    new = [
        ("机房空调不制冷", "信息中心", "空调", "urgent", "system", "华东医院"),
        ("三楼打印机卡纸", "行政部", "打印机", "high", "department", "恒通物流"),
        ("水泵噪音大", "后勤部", "水泵", "medium", "user", "华东医院"),
        ("会议室投影仪没有信号", "行政部", "投影仪", "low", "user", "星河科技"),
    ]
    for title, dept, product, prio, impact, customer in new:
        tickets.create(e, {"title": title, "type": "repair", "dept": dept, "product": product, "priority": prio,
                           "impact": impact, "customer": customer})
    tickets.assign(e, "TST-1", "王小明")
    tickets.start(e, "TST-1")
    tickets.note(e, "TST-1", "压缩机过热，已联系厂家")
    tickets.assign(e, "TST-2", "李娜")
    tickets.block(e, "TST-2", "awaiting_customer", {"note": "客户周五才能开门"})
    tickets.assign(e, "TST-3", "王小明")
    tickets.block(e, "TST-3", "awaiting_collaboration", {"collaborator": "基建处", "deliverable": "停水许可",
                                                         "deadline": "2026-03-09T12:00", "expected_result": "可以拆泵"})
    e.close()
    now = {**made, "TICKETCTL_NOW": NOW}
    return lambda: Env.from_environ(now)


@pytest.fixture
def zh() -> Iterator[None]:
    from ticketctl import i18n

    i18n.use("zh_CN")
    yield
    i18n.use("en")


SIZE = (160, 50)
#: identifiers a Chinese reader must never see on a screen (word by word: ``TST-1`` or a filter hint's ``status:X`` is fine)
ENGLISH = re.compile(r"(?<![\w:])(in_progress|urgent|high|medium|low|awaiting_\w+|customer|collaboration|parts|blocked|new|"
                     r"assigned|repair|breached|at_risk|created|started|noted|technician|supervisor)(?![\w:])")
CLOSING = tuple("，。、；：？！）」』》")
BOX = "█▀▄▊▎▔▁│─ "


def screen_lines(app: Dashboard) -> list[str]:
    """The screen's text, line by line, each run at its cell, read from the SVG screenshot Textual exports."""
    svg = app.export_screenshot()
    runs = [(float(x), float(y), float(n), html.unescape(t).replace("\xa0", " ").replace("\n", ""))
            for x, y, n, t in re.findall(r'<text [^>]*?x="([\d.]+)" y="([\d.]+)" textLength="([\d.]+)"[^>]*>([^<]*)</text>', svg)]
    cell = max(n / cells(t) for _x, _y, n, t in runs if cells(t))  # a run's width per cell
    lines: dict[float, str] = {}
    for x, y, _n, t in sorted(runs):
        line = lines.get(y, "")
        at = round(x / cell)
        lines[y] = line + " " * max(at - cells(line), 0) + t
    return [lines[y].rstrip() for y in sorted(lines)]


def check_chinese(lines: list[str], where: str) -> None:
    """No English identifier and no line that starts with a closing mark."""
    text = "\n".join(lines)
    assert not ENGLISH.findall(text), (where, ENGLISH.findall(text), text)
    for line in lines:
        assert not line.strip(BOX).startswith(CLOSING), (where, line)


def column_texts(view: BacklogView, key: str) -> dict[str, str]:
    """What each column of ``key``'s line shows, by the column's (English) title, spaces stripped;
    a column the line has no room for (0 cells, ``Column.drop``) is not in it."""
    line = view.render_line(view.keys(0, len(view.ranks)).index(key) + 1)
    widths = view.widths(view.size.width)
    out, at = {}, 0
    for col, w in zip(view.columns, widths, strict=True):
        if not w:
            continue
        out[col.title] = cell_slice(line.text, at, w).rstrip()
        at += w + 1
    assert at <= view.size.width, "the last column is cropped at the panel's edge"
    return out


async def test_the_backlog_shows_chinese_labels_and_times_whole(zh: None, tmp_path: Path) -> None:
    app = Dashboard(build_zh_store(tmp_path), poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        view = app.backlog
        assert view.size.width < 100  # the panel beside the heat map, not the whole screen
        shown = {key: column_texts(view, key) for key in ("TST-1", "TST-2", "TST-3", "TST-4")}
        assert shown["TST-1"] | {"title": ""} == {"key": "TST-1", "pri": "紧急", "title": "", "dept": "信息中心", "product": "空调",
                                                  "status": "处理中", "assignee": "王小明", "SLA left": "-1天4小时", "blocked": ""}
        assert (shown["TST-2"]["status"], shown["TST-2"]["blocked"], shown["TST-2"]["SLA left"]) == ("已挂起", "客户 3天0小时", "8小时00分")
        assert (shown["TST-3"]["pri"], shown["TST-3"]["blocked"]) == ("中", "协作 3天0小时")
        assert (shown["TST-4"]["pri"], shown["TST-4"]["status"], shown["TST-4"]["SLA left"]) == ("低", "新建", "1天16小时")
        for key, cols in shown.items():  # every label and time whole, as `list` shows it
            row = view.cache[key]
            assert cols["pri"] == label("priority", row["priority"]) and cols["status"] == label("status", row["status"])
            assert cols["SLA left"] == duration(row["sla_resolve_left_s"])
            assert not any("…" in cols[c] for c in ("key", "pri", "status", "SLA left", "blocked")), cols
        head = "".join(s.text for s in view.render_line(0))
        assert "优先级" in head and "SLA 剩余" in head and "…" not in head
        check_chinese(screen_lines(app), "main screen")


async def test_every_screen_reads_chinese(zh: None, tmp_path: Path) -> None:
    """The blocked board, a ticket, the block dialog's menu, help: Chinese
    labels, identifiers only underneath (the block dialog returns one)."""
    make_env = build_zh_store(tmp_path)
    app = Dashboard(make_env, poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        notes = recorded(app)
        await settle(pilot)
        await to_key(pilot, "TST-4")
        await pilot.press("s")  # refused: TST-4 is new; the statuses in the reason are labels
        await settle(pilot)
        refused = notes.pop()
        assert refused[1] == "error" and "TST-4" in refused[0] and "新建" in refused[0] and "已指派" in refused[0], refused
        assert not ENGLISH.findall(refused[0]), refused
        await pilot.press("B")
        await settle(pilot)
        assert isinstance(app.screen, BlockedScreen)
        board = app.screen.view
        assert column_texts(board, "TST-3")["reason"] == "协作" and column_texts(board, "TST-2")["reason"] == "客户"
        summary = str(app.screen.query_one("#blocked-summary", Static).render())
        assert "等待客户 1" in summary and "等待跨部门协作 1" in summary
        check_chinese(screen_lines(app), "blocked board")
        await pilot.press("escape")
        await to_key(pilot, "TST-3")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        lines = screen_lines(app)
        fields = lines[: next(i for i, line in enumerate(lines) if line.strip() == "时间线")]
        text = "\n".join(fields)
        for shown in ("已挂起（等待跨部门协作，3天0小时）", "中 / 影响范围 个人", "维修", "协作方：基建处；", "[ ] 功能测试"):
            assert shown in text, (shown, text)
        check_chinese(fields, "ticket")
        kinds = [line.split()[2] for line in lines[len(fields) + 2:] if line.strip().startswith("2026-")]
        assert kinds == ["创建", "指派", "挂起"]
        await pilot.press("escape")
        await to_key(pilot, "TST-1")
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, BlockDialog)
        menu = app.screen.query_one(OptionList)
        assert [str(menu.get_option_at_index(i).prompt) for i in range(menu.option_count)] == [
            "等待客户", "等待备件", "等待第三方", "等待审批", "等待跨部门协作"]
        check_chinese(screen_lines(app), "block dialog")
        await pilot.press("enter")  # the first reason: awaiting_customer, returned as its identifier
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        check_chinese(screen_lines(app), "help")
        await pilot.press("escape", "d")  # the dispatch preview: each pick's reason in Chinese
        await settle(pilot)
        assert isinstance(app.screen, DispatchDialog)
        lines = screen_lines(app)
        assert any("TST-4" in line and "-> 李娜" in line and "技能匹配 0，负载 1/2" in line for line in lines), lines
        check_chinese(lines, "dispatch preview")
        await pilot.press("escape", "A")
        await settle(pilot)
        check_chinese(screen_lines(app), "approvals board")
    e = make_env()
    try:
        assert tickets.show(e, "TST-1")["blocked_reason"] == "awaiting_customer"
    finally:
        e.close()
    assert ("已挂起：TST-1 已挂起（等待客户） @王小明", "information") in notes


async def test_english_keeps_its_words(tmp_path: Path) -> None:
    """The same store in English: the identifiers, as English users type them."""
    app = Dashboard(build_zh_store(tmp_path), poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        one, two = column_texts(app.backlog, "TST-1"), column_texts(app.backlog, "TST-2")
        assert (one["pri"], one["status"], one["SLA left"]) == ("urgent", "in_progress", "-1d 4h")
        assert (two["status"], two["blocked"]) == ("blocked", "customer 3d 0h")


def test_columns_give_way_to_the_title_but_never_cut_a_label() -> None:
    """Too narrow for every column at its widest: the cut columns (dept,
    product, assignee) narrow first, down to their headers; the labels and
    times keep their cells."""
    measured = [5, 6, 30, 14, 12, 11, 9, 8, 20]
    wide = widths(COLUMNS, 200, measured)
    assert sum(wide) + len(COLUMNS) == 200 and wide[:2] + wide[3:] == [5, 6, 14, 12, 11, 9, 8, 20]  # the title takes the rest
    narrow = widths(COLUMNS, 100, measured)
    assert sum(narrow) + len(COLUMNS) == 100 and narrow[2] == 12
    assert [narrow[i] for i in (0, 1, 5, 7, 8)] == [5, 6, 11, 8, 20]
    assert all(narrow[i] < wide[i] for i in (3, 4)) and narrow[6] >= len("assignee")


async def test_a_filter_takes_and_shows_labels(zh: None, tmp_path: Path) -> None:
    """``status:已挂起`` filters the blocked tickets, as ``status:blocked`` does, and the filter line says it in Chinese."""
    app = Dashboard(build_zh_store(tmp_path), poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for typed in ("status:已挂起", "status:blocked"):
            await pilot.press("slash", "ctrl+u", *typed, "enter")
            await settle(pilot)
            assert app.backlog.keys(0, 10) == ["TST-2", "TST-3"], typed
            assert app.filter.fields == (("status", "blocked"),)
            assert "status:已挂起" in str(app.query_one("#filter-line", Static).render())
        await pilot.press("slash", "ctrl+u", *"priority:紧急", "enter")
        await settle(pilot)
        assert app.backlog.keys(0, 10) == ["TST-1"]


#: sentences of growing length: wrapped at any width, Rich's fold puts some comma first on a line
LONG = "".join("修" * n + ("，" if n % 3 else "。") for n in range(1, 30))


@pytest.mark.parametrize("width", range(8, 60))
def test_wrapped_text_never_starts_a_line_with_a_closing_mark(width: int) -> None:
    from rich.console import Console

    from ticketctl.tui.wrap import Wrapped

    text = "（" + LONG + "）设备型号 KFR-72LW，已更换压缩机（见「备件单」）。"
    console = Console(width=width, color_system=None, record=True, file=io.StringIO())
    console.print(Wrapped(text))
    lines = console.export_text().splitlines()
    assert "".join(line.rstrip() for line in lines).replace(" ", "") == text.replace(" ", "")  # nothing lost
    assert all(cells(line.rstrip()) <= width for line in lines)
    assert not [line for line in lines if line.startswith(CLOSING) or line.rstrip().endswith(("（", "「", "『", "《"))]


async def test_a_long_chinese_description_wraps_as_chinese_is_set(zh: None, tmp_path: Path) -> None:
    """A description folded where a comma would begin the next line: the
    character before it goes down with it. (The width a line holds is read
    off a first ticket, then a second is written to break at a comma.)"""
    make_env = build_zh_store(tmp_path)

    def create(description: str) -> str:
        e = make_env()
        try:
            return str(tickets.create(e, {"title": "冷库温度报警", "type": "repair", "dept": "后勤部", "product": "冷库",
                                          "priority": "high", "impact": "user", "description": description})["key"])
        finally:
            e.close()

    async def detail(key: str) -> list[str]:
        await to_key(pilot, key)
        await pilot.press("enter")
        await settle(pilot)
        lines = screen_lines(app)
        await pilot.press("escape")
        return lines

    probe = create("修" * 300)
    app = Dashboard(make_env, poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        per_line = max(line.count("修") for line in await detail(probe))
        key = create(("修" * per_line + "，") * 3 + LONG)
        await pilot.pause(0.3)  # the poll brings the new ticket in
        await settle(pilot)
        lines = await detail(key)
        assert sum("修修修修修修修修" in line for line in lines) > 3  # the description, over several lines
        assert not [line for line in lines if line.strip(BOX).startswith(CLOSING)]
        # the fields (the timeline's event texts are `show`'s, render.show.event_text)
        check_chinese(lines[: next(i for i, line in enumerate(lines) if line.strip() == "时间线")], "ticket with a long description")


async def test_rejected_changes_name_their_action_in_chinese(zh: None, tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from ticketctl.tui.screens import RejectedScreen

    make_env = build_zh_store(tmp_path)
    set_up_sync(make_env, [("ticket.note", {"key": "TST-2", "text": "客户已回电"}, "TST-2 is assigned to 李娜, not to 王小明"),
                           ("ticket.start", {"key": "TST-4"}, "cannot start TST-4: it is new (start needs assigned)"),
                           ("kb.add", {"title": "压缩机过热"}, "kb is read-only here")])
    app = Dashboard(make_env, poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, RejectedScreen)
        table = app.screen.query_one(DataTable)
        assert [str(table.get_cell_at(Coordinate(i, 1))) for i in range(3)] == ["备注", "开始处理", "kb.add"]


async def test_a_teams_own_labels_win_and_widen_their_columns(zh: None, tmp_path: Path) -> None:
    make_env = build_zh_store(tmp_path)
    (tmp_path / "config.toml").write_text('[labels."reason.awaiting_customer"]\nen = "customer away"\nzh_CN = "等客户开门"\n'
                                          '[labels."priority.urgent"]\nzh_CN = "特急（一级）"\n', encoding="utf-8")
    app = Dashboard(make_env, poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert column_texts(app.backlog, "TST-1")["pri"] == "特急（一级）"
        assert column_texts(app.backlog, "TST-2")["blocked"] == "等客户开门 3天0小时"
        assert column_texts(app.backlog, "TST-3")["blocked"] == "协作 3天0小时"
        await to_key(pilot, "TST-4")
        await pilot.press("b")
        await settle(pilot)
        menu = app.screen.query_one(OptionList)
        assert str(menu.get_option_at_index(0).prompt) == "等客户开门"

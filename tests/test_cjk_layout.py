"""Chinese (wide) text lines up: ``ticketctl.cells`` measured against two
independent implementations (wcwidth and Rich), the CLI's tables read back
cell by cell, and the dashboard's backlog rows drawn by Pilot.

A column "lines up" when the terminal cell where it starts is the same on
every row: ``cells(line[:i])`` at the position ``i`` of the row's value.
``len()`` would say 空调不制冷 is 5 wide; a terminal draws it in 10 cells.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import wcwidth
from rich.cells import cell_len, get_character_cell_size, set_cell_size
from test_cli import Cli
from test_tui import NOW, SIZE, settle

from ticketctl import cells as text
from ticketctl.cells import cells, fit, ljust, rjust, truncate
from ticketctl.services import techs, tickets
from ticketctl.services.env import Env
from ticketctl.tui.app import Dashboard

#: CJK, fullwidth punctuation and letters, emoji (with VS16, skin tone, ZWJ, flags, keycaps),
#: combining marks (decomposed accents, Thai, Hangul jamo) and plain Latin
CORPUS = (
    "空调不制冷", "售后服务部", "王小明", "繁體中文：電腦當機", "日本語のテキスト", "한국어 텍스트", "ｶﾀｶﾅ",
    "，。！？：；（）「」【】、《》", "\u3000全角空格", "ＡＢＣ１２３", "打印机卡纸，无法打印（急）",
    "😀", "🔧 扳手", "✅ 已完成", "⚠️ 注意", "❤️", "🛠️", "👍🏽", "👨\u200d👩\u200d👧", "🇨🇳🇯🇵", "1️⃣#️⃣", "☯\ufe0f 太极",
    "e\u0301", "Tie\u0302\u0301ng Vie\u0323\u0302t", "a\u0308\u0323b", "น้ำ", "\u1100\u1161\u11a8", "王\u0301小明",
    "No cooling in server room", "naïve café", "…·→±°C Ω", "Ω𝐀𝔸", "空调 AC-3 不制冷！", "空调😀👍🏽⚠️不制冷e\u0301", "",
)


# -- core.text against wcwidth and Rich ------------------------------------------------------


@pytest.mark.parametrize("s", CORPUS)
def test_cells_agree_with_wcwidth_and_rich(s: str) -> None:
    assert cells(s) == wcwidth.wcswidth(s) == cell_len(s)
    assert sum(w for _, w in text.clusters(s)) == cells(s)
    assert "".join(piece for piece, _ in text.clusters(s)) == s


def test_examples() -> None:
    assert [cells(s) for s in ("空调不制冷", "王小明", "，", "Ａ", "e\u0301", "❤\ufe0f", "👨\u200d👩\u200d👧", "\u200b", "abc")] == [
        10, 6, 2, 2, 1, 2, 2, 0, 3]


def test_every_code_point_agrees_where_wcwidth_and_rich_agree() -> None:
    """Each character Python's Unicode data knows, alone. Left out: controls
    (wcwidth says -1), skin-tone modifiers and regional indicators (no width of
    their own: they join the emoji or flag they are part of), and what the two
    disagree on between themselves."""
    checked, wrong = 0, []
    for o in range(0x20, 0x40000):
        ch = chr(o)
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") or 0x1F1E6 <= o <= 0x1F1FF or 0x1F3FB <= o <= 0x1F3FF:
            continue
        theirs = wcwidth.wcwidth(ch)
        if theirs != get_character_cell_size(ch):
            continue
        checked += 1
        if text.char_cells(ch) != theirs:
            wrong.append(f"U+{o:04X} {unicodedata.name(ch, '?')}: {text.char_cells(ch)} != {theirs}")
    assert checked > 140_000
    assert wrong == []


@pytest.mark.parametrize("s", CORPUS)
def test_fit_is_exactly_the_width_and_cuts_between_characters(s: str) -> None:
    for width in range(cells(s) + 3):
        for align in ("left", "right", "center"):
            assert cells(fit(s, width, align)) == width, (width, align)
        out = fit(s, width)
        if cells(s) <= width:
            assert out == s + " " * (width - cells(s))
            continue
        if width == 0:
            assert out == ""
            continue
        cut = truncate(s, width)
        assert cut.endswith("…") and out == ljust(cut, width)
        head = cut[:-1]
        assert s.startswith(head)
        assert cells(head) in (width - 1, width - 2)  # one short only where a wide character would straddle the edge
        # the same head as wcwidth's clip (which fills a straddled wide character with a space)
        if "\u200b" not in s:  # a trailing zero-width space: wcwidth drops it, we keep it with its word
            assert ljust(head, width - 1) == wcwidth.clip(s, 0, width - 1), width
        # and as Rich's set_cell_size, except that Rich splits a flag in two
        if not any(0x1F1E6 <= ord(c) <= 0x1F1FF for c in s):
            assert ljust(head, width - 1) == set_cell_size(s, width - 1), width


def test_fit_examples() -> None:
    assert fit("空调不制冷", 10) == "空调不制冷"
    assert fit("空调不制冷", 9) == "空调不制…"
    assert fit("空调不制冷", 8) == "空调不… "  # 制 would straddle the edge: left out whole, padded
    assert fit("空调不制冷", 8, "right") == " 空调不…"
    assert fit("空调不制冷", 1) == "…"
    assert fit("空调不制冷", 0) == ""
    assert fit("空调", 6, "center") == " 空调 " and fit("空调", 7, "center") == " 空调  "
    assert fit("No cooling in server room", 12) == "No cooling …"
    assert fit("王小明", 6, ellipsis="") == "王小明"
    assert fit("售后服务部", 6, "right", ellipsis="") == "售后服"
    assert fit("e\u0301e\u0301e\u0301", 2) == "e\u0301…"  # the accent stays on its letter
    with pytest.raises(ValueError):
        fit("x", 3, "middle")


@pytest.mark.parametrize("s", CORPUS)
def test_ljust_rjust_agree_with_wcwidth(s: str) -> None:
    for width in range(cells(s) + 3):
        assert ljust(s, width) == wcwidth.ljust(s, width)
        assert rjust(s, width) == wcwidth.rjust(s, width)


# -- the CLI's tables -------------------------------------------------------------------------


def starts(line: str, values: list[str]) -> list[int]:
    """The cell where each value starts in ``line``, found left to right."""
    out, pos = [], 0
    for v in values:
        i = line.find(v, pos)
        assert i >= 0, (v, line)
        out.append(cells(line[:i]))
        pos = i + len(v)
    return out


def ends(line: str, values: list[str]) -> list[int]:
    """The cell after each value ends in ``line``, found left to right."""
    out, pos = [], 0
    for v in values:
        i = line.find(v, pos)
        assert i >= 0, (v, line)
        pos = i + len(v)
        out.append(cells(line[:pos]))
    return out


def aligned(table: list[list[int]]) -> bool:
    return all(row == table[0] for row in table)


@pytest.fixture()
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "home", capsys)


@pytest.fixture()
def cjk(cli: Cli) -> Cli:
    """Chinese technicians, departments, products and titles beside Latin ones."""
    cli.ok("tech", "add", "王小明", "--skills", "空调,制冷", "--zone", "北区", "--dept", "售后服务部")
    cli.ok("tech", "add", "ana", "--skills", "hvac", "--zone", "north", "--dept", "facilities")
    cli.ok("tech", "add", "欧阳娜娜", "--skills", "打印机", "--zone", "南区", "--dept", "行政部", "--capacity", "2")
    one = cli.new("空调不制冷", "--priority", "urgent", dept="售后服务部", product="空调", user="调度员")
    two = cli.new("No cooling in server room", "--priority", "high", dept="facilities", product="hvac", user="调度员")
    three = cli.new("打印机卡纸，无法打印（急）", dept="行政部", product="打印机", user="调度员")
    cli.ok("assign", one, "王小明", user="调度员")
    cli.ok("assign", two, "ana", user="调度员")
    cli.ok("assign", three, "欧阳娜娜", user="调度员")
    cli.ok("start", one, user="王小明")
    cli.ok("note", one, "压缩机不启动，已联系厂家", user="王小明")
    cli.ok("note", one, "vendor called back", user="ana")
    return cli


def test_list_columns_line_up(cjk: Cli) -> None:
    r = cjk.ok("list")
    rows = {t["key"]: t for t in cjk.json("list")}
    lines = r.out.splitlines()
    assert len(lines) == 4 and r.err == ""
    table = [starts(lines[0], ["key", "pri", "status", "assignee", "dept", "product", "title"])]
    for line in lines[1:]:
        t = rows[line.split()[0]]
        table.append(starts(line, [t["key"], t["priority"], t["status"], t["assignee"], t["dept"], t["product"], t["title"]]))
    assert {t["title"] for t in rows.values()} == {"空调不制冷", "No cooling in server room", "打印机卡纸，无法打印（急）"}
    assert aligned(table), table
    weight = [ends(lines[0], ["weight"])] + [ends(line, [f"{rows[line.split()[0]]['weight']:.1f}"]) for line in lines[1:]]
    assert aligned(weight), weight  # right-justified: the ends line up


def test_a_chinese_title_wraps_whole_on_a_narrow_terminal(cjk: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at spaces and cuts a longer run to "…"; a Chinese title has
    no spaces, so the title column folds instead and keeps every character."""
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "90")
    monkeypatch.setenv("TERM", "xterm-256color")  # Rich draws a "dumb" terminal 80 wide
    lines = re.sub(r"\x1b\[[0-9;]*m", "", cjk.ok("list").out).splitlines()  # without the colours
    assert all(cells(line) <= 90 for line in lines), lines
    col = starts(lines[0], ["title"])[0]
    titles = [cell_slice(line, col, 90).strip() for line in lines[1:]]
    assert "打印机卡纸，无法打印（急）" in "".join(titles), lines
    assert "打印机卡纸，无法打印（急）" not in titles, "the title fits: make the terminal narrower"
    assert "…" not in "".join(lines)


def test_tech_list_columns_line_up(cjk: Cli) -> None:
    r = cjk.ok("tech", "list")
    lines = r.out.splitlines()
    by_name = {t["name"]: t for t in cjk.json("tech", "list")}
    table = [starts(lines[0], ["name", "load", "skills", "zone", "dept", "shift"])]
    for line in lines[1:]:
        t = by_name[line.split()[0]]
        table.append(starts(line, [t["name"], f"{t['load']}/{t['capacity']}", ",".join(t["skills"]), t["zone"], t["dept"], "on"]))
    assert len(table) == 4 and aligned(table), table


def test_heat_map_report_columns_line_up(cjk: Cli) -> None:
    hm = cjk.json("report", "heatmap")
    r = cjk.ok("report", "heatmap")
    lines = r.out.splitlines()[1:-1]  # between the caption and the legend
    products = lines[0].split()[1:]
    assert sorted(products) == sorted(["空调", "hvac", "打印机"])
    count = {(c["dept"], c["product"]): c["count"] for c in hm["cells"]}
    header = ends(lines[0], ["dept", *products])[1:]
    for line in lines[1:]:
        dept = line.split()[0]
        cols = [str(count[(dept, p)]) if (dept, p) in count else "." for p in products]
        assert ends(line, [dept, *cols])[1:] == header, line  # right-justified under their product
    assert len(lines) == 4


def test_show_timeline_lines_up(cjk: Cli) -> None:
    t = cjk.json("show", "1")
    r = cjk.ok("show", "1")
    lines = [line for line in r.out.splitlines() if line.startswith("    20")]
    assert len(lines) == len(t["timeline"]) == 5
    table = [starts(line, [e["at"], e["actor"], e["type"].split(".", 1)[1]]) for line, e in zip(lines, t["timeline"], strict=True)]
    assert [e["actor"] for e in t["timeline"]] == ["调度员", "调度员", "王小明", "王小明", "ana"]
    assert aligned(table), table
    assert starts(lines[3], ["noted", "压缩机不启动"])[1] == starts(lines[4], ["noted", "vendor"])[1] == table[0][2] + 11


# -- the dashboard ------------------------------------------------------------------------------


def build_cjk_store(home: Path) -> Callable[[], Env]:
    """Chinese titles, departments, products and technicians beside Latin
    ones, in every column the backlog draws; one title and one department too
    wide for their columns, so they are cut."""
    environ = {"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "调度员"}

    def make() -> Env:
        return Env.from_environ(environ)

    e = make()
    with e.store.transaction():
        e.store.set_meta("key_prefix", "TST")
    techs.add(e, "王小明", skills=["空调"], zone="北区", capacity=3, dept="售后服务部")
    techs.add(e, "欧阳娜娜", skills=["打印机", "投影仪"], zone="南区", capacity=2)
    techs.add(e, "ana", skills=["hvac"], zone="north", capacity=2)
    new = [
        ("空调不制冷", "售后服务部", "空调", "urgent", "system"),
        ("No cooling in server room", "facilities", "hvac", "high", "department"),
        ("打印机卡纸，无法打印（急）", "行政部", "打印机", "medium", "user"),
        ("会议室投影仪没有信号", "信息技术部网络组", "投影仪", "low", "user"),
        ("Router drops every hour", "it-network", "router", "high", "user"),
    ]
    for title, dept, product, prio, impact in new:
        tickets.create(e, {"title": title, "type": "repair", "dept": dept, "product": product, "priority": prio,
                           "impact": impact})
    tickets.assign(e, "TST-1", "王小明")
    tickets.assign(e, "TST-3", "欧阳娜娜")
    tickets.block(e, "TST-3", "awaiting_parts", {"note": "等待配件：搓纸轮"})
    tickets.assign(e, "TST-5", "ana")
    tickets.start(e, "TST-5")
    e.close()
    return make


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def segment_cells(strip: Any) -> list[int]:
    return [cell_len(seg.text) for seg in strip]


@pytest.mark.anyio
async def test_backlog_rows_have_the_same_cells_in_chinese_and_latin(tmp_path: Path) -> None:
    app = Dashboard(build_cjk_store(tmp_path), poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        view = app.backlog
        keys = view.keys(0, len(view.ranks))
        width = view.size.width
        widths = view.widths(width)
        strips = {k: view.render_line(keys.index(k) + 1) for k in keys}
        header = view.render_line(0)
        chinese, latin = strips["TST-1"], strips["TST-2"]
        assert view.cache["TST-1"]["title"] == "空调不制冷" and view.cache["TST-2"]["title"] == "No cooling in server room"
        # every row and the header: the same cells in the same segments, the whole width
        for strip in (header, *strips.values()):
            assert cells(strip.text) == cell_len(strip.text) == strip.cell_length == width
            assert segment_cells(strip) == segment_cells(latin)
        assert segment_cells(chinese) == segment_cells(latin)
        # each column holds its value fitted to the column, where the header says the column is
        col_start = {col.title: sum(widths[:i]) + i for i, col in enumerate(view.columns)}
        shown = 0
        for col, w in zip(view.columns, widths, strict=True):
            at = col_start[col.title]
            if at + w > width:
                break  # cropped at the panel's edge
            assert cell_slice(header.text, at, w) == fit(col.title, w)
            for key in ("TST-1", "TST-2", "TST-3", "TST-4"):
                assert cell_slice(strips[key].text, at, w) == fit(view.cell_text(col, view.cache[key]), w), (key, col.title)
            shown += 1
        assert shown >= 7  # key .. assignee at least
        assert cell_slice(strips["TST-3"].text, col_start["title"], widths[2]).startswith("打印机卡纸")
        dept = cell_slice(strips["TST-4"].text, col_start["dept"], widths[3])  # narrowed to give the title room
        assert dept.startswith("信息技术部") and dept.rstrip().endswith("…") and cells(dept) == widths[3] < 14


def cell_slice(s: str, start: int, width: int) -> str:
    """The characters of ``s`` from cell ``start`` for ``width`` cells (whole characters)."""
    out, at = [], 0
    for piece, w in text.clusters(s):
        if start <= at and at + w <= start + width:
            out.append(piece)
        at += w
    return "".join(out)

"""No English for a Chinese team, no Chinese for an English one (issue 23).

One store whose own data is Chinese (titles, customers, departments, products,
notes, technicians, a knowledge article), synced with a real server process,
is read in Chinese and, in a second home, in English: every command's
``--help``, the human output of the commands that built it and of every read
command, the dashboard's screens (Pilot), the customer's pages and the
certificate's page text (``tests/zh_surfaces.py``). Under ``zh_CN`` no
English word may be left (``tests/english_finder.py`` says what is no word:
keys, typed identifiers, file names, hashes, a short allowlist); under English
no Chinese outside the data. One test per surface, so that what is left is
listed surface by surface; the finder's own rules are tested first.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from english_finder import chinese, english, toml_prose
from zh_surfaces import Surfaces, render_all, typed_words

from ticketctl import i18n
from ticketctl.commands.index import COMMANDS

CLI = ("build", "list", "mine", "show", "similar", "assign --explain", "tech list", "kb list", "kb search", "kb show",
       "approval list", "config show", "locate", "store check", "dispatch auto", "report brief", "report heatmap",
       "report kpi", "report aging", "report blocked", "report trend", "report dwell", "report daily", "report qa", "notify list",
       "sync status", "sweep", "cert verify", "refusals", "stock list", "part list", "stock place")
TUI = ("backlog", "ticket", "blocked board", "approvals board", "rejected changes", "trends", "help", "assign dialog",
       "block dialog", "dispatch dialog", "heat map axes", "command palette", "small terminal", "small terminal with panels")
WEB = ("web form", "web form refused", "web form answer", "web form status", "kb list", "kb search",
       "kb search nothing", "kb article", "kb not found", "confirm form", "confirm refused", "confirm thanks", "confirm used",
       "confirm unknown", "certificate verdict", "certificate refused")
SURFACES = (*(f"help:{n}" for n in ("ticketctl", *(name for name, _s, _h in COMMANDS))), *(f"cli:{n}" for n in CLI),
            *(f"tui:{n}" for n in TUI), *(f"web:{n}" for n in WEB), "cert:page")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Surfaces]]:
    tmp = tmp_path_factory.mktemp("no-english")
    yield {lang: render_all(tmp, lang) for lang in ("zh_CN", "en")}
    i18n.use("en")


@pytest.fixture(scope="module")
def typed() -> tuple[frozenset[str], frozenset[str]]:
    return typed_words()


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{what}:\n  " + "\n  ".join(items[:12]) for what, items in found.items())


@pytest.mark.parametrize("surface", SURFACES)
def test_no_english_in_chinese(runs: dict[str, Surfaces], typed: tuple[frozenset[str], frozenset[str]],
                               surface: str) -> None:
    run = runs["zh_CN"]
    assert run.shown.get(surface), f"{surface} was not rendered"
    found = {}
    for what, text in run.shown[surface]:
        if surface == "cli:config show":
            text = toml_prose(text)  # the config file as the user edits it: only its prose is read
        left = english(text, run.data, typed=typed[0], config_keys=typed[1], help_text=surface.startswith("help:"))
        if left:
            found[what] = [str(f) for f in left]
    assert not found, "English left under zh_CN:\n" + _report(found)


@pytest.mark.parametrize("surface", SURFACES)
def test_no_chinese_in_english(runs: dict[str, Surfaces], surface: str) -> None:
    run = runs["en"]
    assert run.shown.get(surface), f"{surface} was not rendered"
    found = {what: [str(f) for f in left] for what, text in run.shown[surface] if (left := chinese(text, run.data))}
    assert not found, "Chinese outside the data under English:\n" + _report(found)


def test_chinese_surfaces_hold_chinese(runs: dict[str, Surfaces]) -> None:
    """The Chinese run really is Chinese: the help and the backlog speak it (not only the data)."""
    zh = runs["zh_CN"]
    assert any("选项" in text for _w, text in zh.shown["help:block"])
    assert chinese(zh.shown["tui:backlog"][0][1], zh.data)


# -- the finder's own rules --------------------------------------------------------------------


def words(text: str, data: tuple[str, ...] = (), help_text: bool = False) -> list[str]:
    return [f.word for f in english(text, data, typed={"new", "block", "start", "repair", "awaiting_parts", "KEY"},
                                    config_keys={"proof", "calendar"}, help_text=help_text)]


def test_the_finder_finds_words_labels_and_units() -> None:
    assert words("KQT-1 处理中 in_progress，优先级 urgent") == ["in_progress", "urgent"]
    assert words("由 this device 签名") == ["this", "device"]
    assert words("允许的时间窗口为 5m；剩余 -6天14小时") == ["5m"]
    assert words("已超时 -8h 00m（KQT-12，2026-03-02T09:00:00Z）") == ["8h", "00m"]
    assert words("用法：ticketctl new 'No cooling' --type repair") == ["No", "cooling"]
    assert words("Usage: ticketctl block [OPTIONS] KEY") == ["Usage"]
    assert words("标题 Pump noisy", data=("标题",)) == ["Pump", "noisy"]


def test_the_finder_lets_typed_and_non_words_pass() -> None:
    assert words("用法：ticketctl block [OPTIONS] KEY --reason awaiting_parts") == []
    assert words("请运行 `ticketctl sync` 后重试（见 `config show`）") == []
    assert words("ticketctl: error: 无法开始 KQT-12：它已关闭") == []
    assert words("已写入 /tmp/x/cert.pdf 与 report.xlsx，12 MB，SHA-256 " + "ab12" * 16) == []
    assert words("签发于 2026-03-02T09:00:00Z，见 https://t.example/v/KQT-1.abc，TICKETCTL_USER，ana@example.org") == []
    assert words("SLA、KPI、QR、PDF、CSV、XLSX、JSON；KB-KQT-3；proof.photo_window；--json") == []
    assert words("原因：awaiting_parts", help_text=True) == []
    assert words("原因：awaiting_parts") == ["awaiting_parts"]  # an identifier is a leftover outside help
    assert words("北京 Gree KFR-35", data=("Gree KFR-35",)) == []


def test_the_reverse_finder() -> None:
    assert [f.word for f in chinese("KQT-1 空调不制冷 in_progress", ("空调不制冷",))] == []
    assert [f.word for f in chinese("KQT-1 空调不… 处理中，ok", ("空调不制冷",))] == ["处理中，"]


def test_the_config_is_read_for_its_prose() -> None:
    doc = '# 团队规则\n[sla.urgent]\nresolve = "2h"\n[reasons.awaiting_customer]\nlabel = "Awaiting customer"\nlimit = "5d"\n'
    assert toml_prose(doc).split("\n") == [" 团队规则", "Awaiting customer"]

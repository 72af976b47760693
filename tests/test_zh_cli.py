"""The CLI's human output reads Chinese all the way under ``LANG=zh_CN.UTF-8``:
every value a person reads (a status, a priority, a blocked reason, a checklist
item, a timeline's event kind) is its label (``core.labels``), lists are joined
with full-width punctuation, and help text keeps the kinsoku rule. What a person
types may be a label too (``--reason 等待备件``); ``--json`` and the events keep
the identifiers, and English output is unchanged.

Each command runs in this process (``ticketctl.cli.main``) on a real store."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer

from ticketctl import errors, i18n
from ticketctl.cells import cells
from ticketctl.cli import build_app, main
from ticketctl.render.text import join, paren
from ticketctl.services.env import Env

NOW = "2026-03-02T09:00:00Z"
ZH_LOCALE = {"LANG": "zh_CN.UTF-8"}
EN_LOCALE = {"LANG": "C"}
#: identifiers that a Chinese reader must never see in human output (they have labels)
IDENTIFIERS = ("in_progress", "urgent", "awaiting_parts", "awaiting_customer", "function_test", "site_clean")


class Cli:
    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]):
        self.home, self.capsys = home, capsys

    def __call__(self, *argv: str, code: int = errors.OK, now: str = NOW, **env: str) -> tuple[str, str]:
        environ = {"TICKETCTL_HOME": str(self.home), "TICKETCTL_NOW": now, "TICKETCTL_USER": "ana", "COLUMNS": "200", **env}
        self.capsys.readouterr()
        got = main(list(argv), env=Env.from_environ(environ))
        out, err = self.capsys.readouterr()
        assert got == code, (argv, got, out, err)
        return out, err

    def json(self, *argv: str, **env: str) -> Any:
        return json.loads(self(*argv, "--json", **env)[0])


@pytest.fixture()
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(home, capsys)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+(?:_[a-z]+)*", text))


def _install(cli: Cli, **env: str) -> str:
    """An install ticket (no customer confirmation) in progress with ana; its key."""
    key = cli("new", "Install badge reader", "--type", "install", "--dept", "security", "--product", "badge-reader",
              "--priority", "urgent", **env)[0].strip()
    cli("tech", "add", "ana", "--skills", "badge-reader", "--capacity", "5", **env)
    cli("assign", key, "ana", **env)
    cli("start", key, **env)
    return key


# -- values read as their labels ------------------------------------------------------------


def test_a_blocked_ticket_reads_chinese_in_list_show_and_the_action_line(cli: Cli) -> None:
    key = _install(cli)
    out, _err = cli("block", key, "--reason", "awaiting_parts", "--note", "压缩机继电器", **ZH_LOCALE)
    assert "已挂起（等待备件）" in out and not _words(out) & set(IDENTIFIERS)

    out, _err = cli("list", **ZH_LOCALE)
    assert "已挂起：等待备件" in out and "紧急" in out
    assert not _words(out) & {"blocked", *IDENTIFIERS}, out

    out, _err = cli("show", key, **ZH_LOCALE)
    for want in ("已挂起（等待备件，", "紧急 / 影响范围 个人", "安装", "备注：压缩机继电器",
                 "创建", "指派", "开始处理", "挂起", "等待备件（备注：压缩机继电器）", "功能测试", "现场已清理"):
        assert want in out, (want, out)
    timeline = out[out.index("时间线"):]
    assert not _words(timeline) & {"created", "assigned", "started", "blocked", *IDENTIFIERS}, timeline
    assert not _words(out) & set(IDENTIFIERS), out


def test_the_same_ticket_in_english_keeps_the_identifiers(cli: Cli) -> None:
    key = _install(cli, **EN_LOCALE)
    out, _err = cli("block", key, "--reason", "awaiting_parts", "--note", "relay", **EN_LOCALE)
    assert out.startswith(f"{key} blocked (awaiting_parts) @ana")
    out, _err = cli("list", **EN_LOCALE)
    assert "blocked: awaiting_parts" in out and "urgent" in out
    out, _err = cli("show", key, **EN_LOCALE)
    assert "blocked (awaiting_parts, " in out and "urgent / impact user" in out
    assert re.search(r"ana\s+blocked\s+awaiting_parts \(note=relay\)", out), out
    assert re.search(r"created\s+urgent install in security: Install badge reader", out), out
    assert "[ ] function_test  [ ] site_clean" in out


def test_the_demo_summary_reads_labels(cli: Cli) -> None:
    out, _err = cli("demo", "--tickets", "150", "--techs", "6", **ZH_LOCALE)
    summary = out.splitlines()
    by_status = next(line for line in summary if "按状态" in line)
    assert "处理中" in by_status or "已指派" in by_status
    assert not _words(out) & {"assigned", "blocked", "closed", "new", "resolved", *IDENTIFIERS}, out
    out, _err = cli("demo", "--tickets", "150", "--techs", "6", "--force", **EN_LOCALE)
    assert re.search(r"by status\s+\w+ \d+", out) and "closed" in out


# -- what a person types ------------------------------------------------------------------


def test_a_typed_label_is_the_identifier_in_json_and_in_the_events(cli: Cli) -> None:
    key = cli("new", "空调不制冷", "--type", "安装", "--dept", "facilities", "--product", "hvac", "--priority", "紧急",
              "--impact", "全系统", "--channel", "电话", **ZH_LOCALE)[0].strip()
    t = cli.json("show", key)
    assert (t["type"], t["priority"], t["impact"], t["channel"]) == ("install", "urgent", "system", "phone")
    cli("tech", "add", "ana", "--skills", "hvac", **ZH_LOCALE)
    cli("assign", key, "ana")
    cli("start", key)
    t = cli.json("block", key, "--reason", "等待备件", **ZH_LOCALE)
    assert t["status"] == "blocked" and t["blocked_reason"] == "awaiting_parts"
    blocked = [e for e in cli.json("show", key)["timeline"] if e["type"] == "ticket.blocked"]
    assert blocked[-1]["payload"]["reason"] == "awaiting_parts"
    assert [r["key"] for r in cli.json("list", "--status", "已挂起", **ZH_LOCALE)] == [key]
    assert [r["key"] for r in cli.json("list", "--status", "blocked")] == [key]  # the identifier still works
    cli("unblock", key)
    cli("resolve", key)
    done = cli.json("close", key, "--check", "功能测试", "--check", "现场已清理", "--check", "customer_briefed", **ZH_LOCALE)
    assert done["status"] == "closed"
    checked = {e["payload"]["item"] for e in cli.json("show", key)["timeline"] if e["type"] == "ticket.checked"}
    assert checked == {"function_test", "site_clean", "customer_briefed"}
    out, _err = cli("show", key, **ZH_LOCALE)
    assert "勾选检查项" in out and "已向客户说明" in out


def test_a_teams_own_label_is_typed_and_read(cli: Cli) -> None:
    (cli.home / "config.toml").write_text('[labels."reason.awaiting_parts"]\nen = "waiting for parts"\nzh_CN = "等待配件"\n',
                                          encoding="utf-8")
    key = _install(cli)
    out, _err = cli("block", key, "--reason", "waiting for parts", **ZH_LOCALE)
    assert "等待配件" in out
    assert cli.json("show", key)["blocked_reason"] == "awaiting_parts"


@pytest.mark.parametrize(("argv", "option"), [
    (["block", "{K}", "--reason", "等待外星人"], "等待外星人"),
    (["list", "--status", "不存在"], "--status"),
    (["new", "x", "--type", "上门", "--dept", "d", "--product", "p"], "上门"),
    (["close", "{K}", "--check", "拍照"], "拍照"),
])
def test_a_label_that_names_nothing_is_one_line_of_bad_input(cli: Cli, argv: list[str], option: str) -> None:
    key = _install(cli)
    if argv[0] == "close":
        cli("resolve", key)
    argv = [a.replace("{K}", key) for a in argv]
    out, err = cli(*argv, code=errors.BAD_INPUT, **ZH_LOCALE)
    assert out == "" and err.startswith("ticketctl: error: ") and err.count("\n") == 1 and option in err, err


# -- typography ---------------------------------------------------------------------------


def test_join_and_asides_use_full_width_punctuation_in_chinese() -> None:
    assert join(["a", "b", "c"], lang="en") == "a, b, c" and join(["a", "b"], lang="zh_CN") == "a、b"
    assert join(["a", "b"], "clause", lang="zh_CN") == "a，b" and join(["a", "b"], "statement", lang="zh_CN") == "a；b"
    assert join(["a", "b"], "statement", lang="en") == "a; b"
    assert paren("x", "en") == " (x)" and paren("x", "zh_CN") == "（x）"
    i18n.use("zh_CN")
    assert join(["备件", "客户"]) == "备件、客户"


def _help_pages() -> list[list[str]]:
    root = typer.main.get_command(build_app())
    pages: list[list[str]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        pages.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    return pages


@pytest.mark.parametrize("width", [60, 80, 100])
def test_no_help_line_starts_with_a_closing_mark_or_ends_with_an_opening_one(
        cli: Cli, monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    pages = _help_pages()
    assert len(pages) > 60
    broken = []
    for path in pages:
        out, _err = cli(*path, "--help", COLUMNS=str(width), **ZH_LOCALE)
        assert re.search(r"[\u4e00-\u9fff]", out), path
        for line in out.splitlines():
            text = line.strip()
            if text and (text[0] in i18n.CLOSING or text[-1] in i18n.OPENING):
                broken.append((path, line))
            if re.search(r"[\u4e00-\u9fff]", line):
                assert cells(line) <= width, (path, line)  # a carried mark never widens a line
    assert broken == []


def test_the_kinsoku_glue_keeps_the_text() -> None:
    chunks = ["按", "时", "长", "（", "<", " ", "4", " ", "h", "）", "、", "和", "「", "状", "态", "」", "。"]
    glued = i18n.kinsoku(chunks)
    assert "".join(glued) == "".join(chunks)
    assert glued == ["按", "时", "长", "（<", " ", "4", " ", "h）、", "和", "「状", "态」。"]
    assert not any(c[0] in i18n.CLOSING for c in glued) and not any(c[-1] in i18n.OPENING for c in glued)


# -- reports, sweep, proofs ---------------------------------------------------------------


def test_reports_read_labels(cli: Cli) -> None:
    key = _install(cli)
    cli("block", key, "--reason", "awaiting_parts", now="2026-03-02T09:05:00Z")
    later = "2026-03-02T17:00:00Z"
    out, _err = cli("report", "aging", now=later, **ZH_LOCALE)
    assert "已挂起" in out and not _words(out) & {"blocked", "new", "assigned"}, out
    out, _err = cli("report", "brief", now=later, **ZH_LOCALE)
    assert f"{key} 已挂起（等待备件）" in out and "安装" in out, out
    assert not _words(out) & {"blocked", "install", *IDENTIFIERS}, out
    out, _err = cli("report", "heatmap", now=later, **ZH_LOCALE)
    assert "按 部门 × 产品" in out and out.splitlines()[1].startswith("部门"), out
    out, _err = cli("report", "brief", now=later, **EN_LOCALE)
    assert f"{key} blocked (awaiting_parts)" in out and "install" in out


def test_a_photo_window_and_a_certificates_signer_read_chinese(cli: Cli, tmp_path: Path) -> None:
    data = Path(__file__).resolve().parent / "data"
    key = _install(cli)
    _out, err = cli("attach", key, str(data / "gauge_0900.jpg"), "--for", "功能测试", code=errors.REFUSED,
                    now="2026-03-02T10:05:00Z", **ZH_LOCALE)
    assert "允许的时间窗口为 5分钟" in err and err.count("\n") == 1, err
    _out, err = cli("attach", key, str(data / "gauge_0900.jpg"), "--for", "function_test", code=errors.REFUSED,
                    now="2026-03-02T10:05:00Z", **EN_LOCALE)
    assert "the window is 5m" in err
    out, _err = cli("attach", key, str(data / "gauge_0900.jpg"), "--for", "功能测试", now="2026-03-02T09:03:00Z", **ZH_LOCALE)
    assert "sha256" in out and "function_test" not in out
    assert "，拍摄于" in out and "）；已勾选 功能测试" in out, out
    cli("resolve", key)
    cli("close", key, "--check", "site_clean", "--check", "customer_briefed")
    pdf = tmp_path / "cert.pdf"
    cli("cert", "issue", key, "-o", str(pdf))
    out, _err = cli("cert", "verify", str(pdf), **ZH_LOCALE)
    assert "由 本设备 签名" in out and "this device" not in out, out
    out, _err = cli("cert", "verify", str(pdf), **EN_LOCALE)
    assert out.endswith("signed by this device\n")


def test_similar_documents_are_joined_with_full_width_marks(cli: Cli) -> None:
    from ticketctl.core.kb import why_text

    i18n.use("zh_CN")
    assert why_text({"words": ["camera", "cctv"], "fault": "no-power"}) == "匹配词：camera、cctv；相同故障类型 no-power"
    i18n.use("en")
    assert why_text({"words": ["camera", "cctv"], "fault": "no-power"}) == "words: camera, cctv; same fault no-power"


def test_a_refusal_names_statuses_by_their_labels(cli: Cli) -> None:
    key = _install(cli)
    _out, err = cli("close", key, code=errors.REFUSED, **ZH_LOCALE)
    assert "处理中" in err and "已解决" in err and not _words(err) & {"in_progress", "resolved"}, err
    _out, err = cli("close", key, code=errors.REFUSED, **EN_LOCALE)
    assert err == f"ticketctl: error: cannot close {key}: it is in_progress (close needs resolved)\n"


def test_an_aside_in_chinese_takes_no_space_before_its_full_width_paren(cli: Cli) -> None:
    data = Path(__file__).resolve().parent / "data"
    key = _install(cli)
    cli("attach", key, str(data / "gauge_0900.jpg"), "--for", "function_test", now="2026-03-02T09:03:00Z")
    out, _err = cli("show", key, **ZH_LOCALE)
    assert re.search(r"勾选检查项 功能测试（证据 [0-9a-f]{12}）", out), out
    out, _err = cli("show", key, **EN_LOCALE)
    assert re.search(r"checked\s+function_test \(evidence [0-9a-f]{12}\)", out), out


def test_an_escalation_stored_in_english_reads_chinese_on_the_timeline(cli: Cli) -> None:
    key = cli("new", "payment gateway down", "--type", "incident", "--dept", "it", "--product", "payments", "--priority",
              "urgent", "--skills", "quantum")[0].strip()
    out, _err = cli("sweep", now="2026-03-02T11:15:00Z", **ZH_LOCALE)
    assert f"{key}  无人响应  -> 主管（无人收到通知：未配置通知目标）  {key} 紧急，" in out, out
    stored = [e["payload"]["message"] for e in cli.json("show", key)["timeline"] if e["type"] == "ticket.escalated"]
    assert stored and all(m.startswith(f"{key} urgent, ") for m in stored)  # the event is English data
    out, _err = cli("show", key, now="2026-03-02T11:15:00Z", **ZH_LOCALE)
    line = next(x for x in out.splitlines() if "升级" in x and "silent" in x)
    assert f"{key} 紧急，" in line and "已 2小时15分 未指派，解决已超时 15分钟（时限 2小时）" in line, line
    assert line.endswith("-> 主管（无人收到通知）"), line  # no notify target configured
    assert not _words(out[out.index("时间线"):]) & {"urgent", "escalated", "supervisor", "new"}
    out, _err = cli("show", key, now="2026-03-02T11:15:00Z", **EN_LOCALE)
    assert f"silent: {key} urgent, unassigned 2h15 with resolution overdue by 15m (target 2h): payment gateway down -> supervisor" \
        in out, out


def test_a_choice_refused_in_chinese_lists_each_choice_with_its_label(cli: Cli) -> None:
    _out, err = cli("list", "--status", "不存在", code=errors.BAD_INPUT, **ZH_LOCALE)
    assert "in_progress（处理中）、blocked（已挂起）" in err and "。（参见 `ticketctl list --help`）" in err, err
    _out, err = cli("list", "--status", "bogus", code=errors.BAD_INPUT, **EN_LOCALE)
    assert "'bogus' is not one of 'new', 'assigned', 'in_progress'" in err and err.endswith(". (see `ticketctl list --help`)\n")

"""Messages that are data and text at once (``ticketctl.core.message``): the
sweep's escalations, dispatch reasons, certificate verdicts, QA findings and
blocked-reason labels stay English where they are data (events, ``--json``,
the generic webhook body) and read in Chinese where a person reads them (chat
webhooks, the human output of ``sweep``, ``assign --explain``, ``dispatch
auto``, ``cert verify``, ``report qa``, ``report blocked``).

The shipped catalog is not needed: each test builds a small gettext catalog of
the translations it relies on with Babel into a temporary folder and points
``ticketctl.i18n`` at it. Everything else is real: a store in a temporary
``TICKETCTL_HOME``, the CLI through ``ticketctl.cli.main``, a webhook receiver
on 127.0.0.1.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from test_notify import Receiver

from ticketctl import errors, i18n
from ticketctl.cli import main
from ticketctl.core import evidence, sweep
from ticketctl.core.config import config_from_dict
from ticketctl.core.message import Listing, msg, render
from ticketctl.core.model import Ticket
from ticketctl.i18n import N_
from ticketctl.services.env import Env

#: the translations these tests read (as in /tmp/i18n/data_msgs.json and the other helpers' files)
ZH = {
    "[ticketctl] {rule}: {message}": "[ticketctl] {rule}：{message}",
    "no one notified: {reason}": "无人收到通知：{reason}",
    "no notification target takes {rule}": "没有通知目标接收 {rule}",
    "{key} {priority}, unassigned {waited} with {clock}: {title}": "{key} {priority}，已 {waited} 未指派，{clock}：{title}",
    "{left} of {target} to resolve left": "解决时限 {target}，剩余 {left}",
    "resolution overdue by {overdue} (target {target})": "解决已超时 {overdue}（时限 {target}）",
    "{key} {priority}, no response yet, overdue by {overdue} (target {target}), {held}: {title}":
        "{key} {priority}，尚未响应，已超时 {overdue}（时限 {target}），{held}：{title}",
    "{key} {priority}, resolution overdue by {overdue} (target {target}), {status}, {held}: {title}":
        "{key} {priority}，解决已超时 {overdue}（时限 {target}），状态 {status}，{held}：{title}",
    "unassigned": "未指派",
    "{sign}{days}d {hours}h": "{sign}{days}天{hours}小时",
    "{days}d": "{days}天",
    "{hours}h{minutes}": "{hours}小时{minutes}分",
    "{hours}h": "{hours}小时",
    "{sign}{minutes}m": "{sign}{minutes}分钟",
    "{sign}{hours}h {minutes}m": "{sign}{hours}小时{minutes}分",
    "Batch: {n} x {fault} on {product} in {zone}": "批量事件：{zone} 的 {product} 出现 {n} 起 {fault}",
    "{n} open tickets with {fault} on {product} in {zone}: {keys}": "{zone} 的 {product} 有 {n} 个未关闭工单报告 {fault}：{keys}",
    "{title}: {keys}": "{title}：{keys}",
    ", ": "、",
    "skipped: {why}": "跳过：{why}",
    "on leave, routes to {delegate}": "休假中，转给 {delegate}",
    "lacks skill {skills}": "缺少技能 {skills}",
    "skill fit {fit}, load {load}/{capacity}, {where}, idle {idle}": "技能匹配 {fit}，负载 {load}/{capacity}，{where}，空闲 {idle}",
    "same zone": "同一区域",
    "distance unknown": "距离未知",
    "no technician on shift has skill {skills}": "没有在班的技术员具备技能 {skills}",
    "{key} not assigned: {reason}": "{key} 未指派：{reason}",
    "technician": "技术员",
    "verdict": "结论",
    "why": "原因",
    "eligible": "可指派",
    "skipped": "跳过",
    "{key}: policy {policy}; best: {best}": "{key}：策略 {policy}；最佳人选：{best}",
    "invalid certificate: {reason}": "服务证书无效：{reason}",
    "malformed certificate payload": "服务证书数据格式错误",
    "Awaiting parts": "等待备件",
    "closed without the customer's confirmation": "未经客户确认即已关闭",
    "no evidence for {item}": "{item} 缺少证据",
    "{choice} ({label})": "{label}（`{choice}`）",
    "Awaiting customer": "等待客户",
    "Technician away": "技术员不在",
    "Still working": "仍在处理",
    "{key} in progress with no update for {quiet}: why? answer with `ticketctl why {key} CHOICE` ({choices}): {title}":
        "{key} 处理中，已 {quiet} 无更新：原因是什么？请用 `ticketctl why {key} CHOICE` 回答（{choices}）：{title}",
}

NOW = "2026-03-02T09:00:00Z"


@pytest.fixture()
def zh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``ticketctl.i18n`` reading a zh_CN catalog of :data:`ZH` compiled into a temporary folder."""
    catalog = Catalog(locale="zh_CN", domain=i18n.DOMAIN)
    for msgid, text in ZH.items():
        catalog.add(msgid, text)
    folder = tmp_path / "locale" / "zh_CN" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / f"{i18n.DOMAIN}.mo", "wb") as f:
        write_mo(f, catalog)
    monkeypatch.setattr(i18n, "LOCALEDIR", tmp_path / "locale")
    monkeypatch.setattr(i18n, "_cache", {})
    yield
    i18n.use("en")


class Cli:
    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]):
        self.home, self.capsys = home, capsys

    def __call__(self, *argv: str, now: str = NOW, code: int = errors.OK, **env: str) -> tuple[str, str]:
        environ = {"TICKETCTL_HOME": str(self.home), "TICKETCTL_NOW": now, "TICKETCTL_USER": "dora", **env}
        self.capsys.readouterr()
        got = main(list(argv), env=Env.from_environ(environ))
        out, err = self.capsys.readouterr()
        assert got == code, (argv, got, err)
        return out, err

    def json(self, *argv: str, **kw: Any) -> Any:
        return json.loads(self(*argv, "--json", **kw)[0])

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(self.home / "ticketctl.db")
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()


@pytest.fixture()
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(home, capsys)


# -- the message object -----------------------------------------------------------------------


def test_a_message_is_its_english_and_renders_its_template(zh: None) -> None:
    m = msg(N_("{key} {priority}, unassigned {waited} with {clock}: {title}"), key="KQT-1", priority="urgent",
            waited=msg(N_("{hours}h{minutes}"), hours=2, minutes="05"), clock=msg(N_("unassigned")), title="unassigned")
    assert m == "KQT-1 urgent, unassigned 2h05 with unassigned: unassigned" and json.dumps(m) == json.dumps(str(m))
    assert render(m) == "KQT-1 urgent, unassigned 2h05 with unassigned: unassigned"  # English: the text itself
    i18n.use("zh_CN")
    # nested messages are rendered; an identifier whose placeholder says what it is reads as its label
    # (i18n.LABELLED: the priority); other plain values (the title) are data and stay as they are
    assert render(m) == "KQT-1 紧急，已 2小时05分 未指派，未指派：unassigned"
    assert render("unassigned") == "unassigned" and render(str(m)) == str(m)  # text read back from a store: as it is
    keys = msg(N_("{title}: {keys}"), title="Batch", keys=Listing(["KQT-1", "KQT-2"]))
    assert keys == "Batch: KQT-1, KQT-2" and render(keys) == "Batch：KQT-1、KQT-2"


# -- sweep ----------------------------------------------------------------------------------------


def test_sweep_notifies_a_chinese_team_in_chinese_and_keeps_its_data_english(cli: Cli, zh: None) -> None:
    rx = Receiver()
    try:
        (cli.home / "config.toml").write_text(
            'lang = "zh_CN"\n[notify]\ntries_per_run = 1\n'
            f'[notify.targets.wecom]\nurl = "{rx.url("/wecom")}"\nformat = "wecom"\nrules = ["silent"]\n'
            f'[notify.targets.ops]\nurl = "{rx.url("/json")}"\nformat = "json"\nrules = ["silent"]\n', encoding="utf-8")
        key = cli.json("new", "payment gateway down", "--type", "incident", "--dept", "it", "--product", "payments",
                       "--priority", "urgent", "--skills", "quantum", now="2026-03-02T09:10:00Z")["key"]
        english = f"{key} urgent, unassigned 2h05 with resolution overdue by 5m (target 2h): payment gateway down"
        chinese = f"{key} 紧急，已 2小时05分 未指派，解决已超时 5分钟（时限 2小时）：payment gateway down"

        out, _err = cli("sweep", "--dry-run", now="2026-03-02T11:15:00Z")
        assert out.splitlines() == [  # the human view: the team's language, values as their labels
            f"{key}  无人响应  -> 主管  {chinese.replace('urgent', '紧急')}",
            f"{key}  响应超时  -> 主管（无人收到通知：没有通知目标接收 响应超时）  "  # the targets take only `silent`
            f"{key} 紧急，尚未响应，已超时 1小时50分（时限 15分钟），未指派：payment gateway down",
            f"{key}  解决超时  -> 主管（无人收到通知：没有通知目标接收 解决超时）  "
            f"{key} 紧急，解决已超时 5分钟（时限 2小时），状态 新建，未指派：payment gateway down",
        ]

        r = cli.json("sweep", now="2026-03-02T11:15:00Z")
        assert [(a["rule"], a["message"]) for a in r["actions"]] == [
            ("silent", english),
            ("response_breached", f"{key} urgent, no response yet, overdue by 1h50 (target 15m), unassigned: payment gateway down"),
            ("resolve_breached", f"{key} urgent, resolution overdue by 5m (target 2h), new, unassigned: payment gateway down"),
        ]
        assert r["notifications"]["sent"] == 2  # both targets take only `silent`
        assert rx.bodies("/wecom") == [{"msgtype": "text", "text": {"content": f"[ticketctl] silent：{chinese}"}}]
        (generic,) = rx.bodies("/json")
        assert generic["message"] == english and set(generic) == {"event", "ticket", "rule", "message", "to", "at"}
        # the event is data: English, whatever the team speaks
        events = [json.loads(p) for (p,) in cli.rows(
            "SELECT payload FROM events WHERE ticket = ? AND type = 'ticket.escalated' ORDER BY seq", (key,))]
        assert [e["message"] for e in events] == [a["message"] for a in r["actions"]]
        # the outbox holds the body as written at sweep time, in the team's language
        bodies = dict(cli.rows("SELECT target, body FROM notifications"))
        assert json.loads(bodies["wecom"])["text"]["content"] == f"[ticketctl] silent：{chinese}"
    finally:
        rx.down()


def test_the_same_sweep_in_english_is_unchanged(cli: Cli, zh: None) -> None:
    key = cli.json("new", "payment gateway down", "--type", "incident", "--dept", "it", "--product", "payments",
                   "--priority", "urgent", "--skills", "quantum", now="2026-03-02T09:10:00Z")["key"]
    out, _err = cli("sweep", "--dry-run", now="2026-03-02T11:10:00Z", TICKETCTL_LANG="en")
    nobody = " (no one notified: no notification target configured)"  # none is: no one is told
    assert out.splitlines() == [
        f"{key}  silent  -> supervisor{nobody}  {key} urgent, unassigned 2h with 0m of 2h to resolve left: payment gateway down",
        f"{key}  response_breached  -> supervisor{nobody}  {key} urgent, no response yet, overdue by 1h45 (target 15m), unassigned:"
        " payment gateway down",
        f"{key}  resolve_at_risk  -> supervisor{nobody}  {key} urgent, 0m of 2h to resolve left, new, unassigned: payment gateway down",
    ]


def test_a_batch_parent_is_titled_in_the_teams_language(cli: Cli, zh: None) -> None:
    (cli.home / "config.toml").write_text('lang = "zh_CN"\n', encoding="utf-8")
    kids = [cli.json("new", f"noisy {i}", "--type", "repair", "--dept", "facilities", "--product", "hvac", "--fault", "noise",
                     "--zone", "east-01", now=f"2026-03-02T09:0{i}:00Z")["key"] for i in range(5)]
    r = cli.json("sweep", now="2026-03-02T09:30:00Z")
    (batch,) = [a for a in r["actions"] if a["rule"] == "batch"]
    assert batch["message"] == f"Batch: 5 x noise on hvac in east-01: {', '.join(kids)}"  # JSON: English
    parent = cli.json("show", batch["key"])
    assert parent["title"] == "批量事件：east-01 的 hvac 出现 5 起 noise"
    assert parent["description"] == f"east-01 的 hvac 有 5 个未关闭工单报告 noise：{'、'.join(kids)}"


# -- dispatch ------------------------------------------------------------------------------------------


def _team(cli: Cli) -> str:
    cli("tech", "add", "ana", "--skills", "hvac", "--zone", "east-01")
    cli("tech", "add", "bo", "--skills", "hvac")
    cli("tech", "add", "cy", "--skills", "plumbing")
    cli("tech", "set", "bo", "--on-leave", "--delegate", "ana")
    return str(cli.json("new", "No cooling", "--type", "repair", "--dept", "facilities", "--product", "hvac",
                        "--skills", "hvac", "--zone", "east-01")["key"])


def test_assign_explain_speaks_chinese_and_its_json_does_not_change(cli: Cli, zh: None) -> None:
    key = _team(cli)
    english_json, _err = cli("assign", key, "--explain", "--json", TICKETCTL_LANG="en")
    chinese_json, _err = cli("assign", key, "--explain", "--json", TICKETCTL_LANG="zh_CN")
    assert chinese_json == english_json  # byte for byte
    reasons = {c["name"]: c["reason"] for c in json.loads(english_json)["candidates"]}
    assert reasons == {"ana": "skill fit 1, load 0/3, same zone, idle 0h 00m", "bo": "skipped: on leave, routes to ana",
                       "cy": "skipped: lacks skill hvac"}

    out, _err = cli("assign", key, "--explain", TICKETCTL_LANG="zh_CN")
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0] == f"{key}：策略 负载最低优先；最佳人选：ana"
    assert lines[1].split() == ["技术员", "结论", "原因"]
    assert [line.split(None, 2) for line in lines[2:]] == [
        ["ana", "可指派", "技能匹配 1，负载 0/3，同一区域，空闲 0小时00分"],
        ["bo", "跳过", "休假中，转给 ana"],  # the verdict column says skipped: the reason does not repeat it
        ["cy", "跳过", "缺少技能 hvac"],
    ]
    out, _err = cli("assign", key, "--explain", TICKETCTL_LANG="en")
    assert "bo          skipped   on leave, routes to ana" in out


def test_dispatch_auto_speaks_chinese_and_its_json_does_not_change(cli: Cli, zh: None) -> None:
    key = _team(cli)
    stuck = cli.json("new", "Leak", "--type", "repair", "--dept", "facilities", "--product", "pipes",
                     "--skills", "quantum")["key"]
    english_json, _err = cli("dispatch", "auto", "--dry-run", "--json", TICKETCTL_LANG="en")
    chinese_json, _err = cli("dispatch", "auto", "--dry-run", "--json", TICKETCTL_LANG="zh_CN")
    assert chinese_json == english_json
    assert json.loads(english_json)["unassigned"][0]["reason"] == "no technician on shift has skill quantum"
    out, _err = cli("dispatch", "auto", "--dry-run", TICKETCTL_LANG="zh_CN")
    assert out.splitlines() == [f"{key} -> ana  (技能匹配 1，负载 0/3，同一区域，空闲 0小时00分)",
                                f"{stuck} 未指派：没有在班的技术员具备技能 quantum"]


# -- certificates, QA, labels ----------------------------------------------------------------------------


def test_cert_verify_says_why_in_chinese_and_json_stays_english(cli: Cli, zh: None) -> None:
    _out, err = cli("cert", "verify", "TKC1.not-a-payload", code=errors.REFUSED, TICKETCTL_LANG="zh_CN")
    assert err == "ticketctl: error: 服务证书无效：服务证书数据格式错误\n"
    out, _err = cli("cert", "verify", "TKC1.not-a-payload", "--json", code=errors.REFUSED, TICKETCTL_LANG="zh_CN")
    assert json.loads(out)["reason"] == "malformed certificate payload"


def test_qa_findings_and_stall_choices_render_in_chinese(zh: None) -> None:
    cfg = config_from_dict({"types": {"repair": {"checklist": ["function_test"], "evidence": ["function_test"], "confirm": True}}})
    t = Ticket(key="KQT-1", title="x", type="repair", dept="it", product="pc", status="closed", created_at=NOW, updated_at=NOW,
               closed_at=NOW)
    found = evidence.qa_issues(t, cfg)
    assert found == {"evidence": ["no evidence for function_test"], "time": [],
                     "confirmation": ["closed without the customer's confirmation"]}
    busy = Ticket(key="KQT-2", title="x", type="repair", dept="it", product="pc", status="in_progress", assignee="ana",
                  created_at=NOW, updated_at=NOW)
    stall = sweep.ticket_actions(busy, datetime(2026, 3, 2, 14, tzinfo=UTC), cfg)
    (ask,) = [a for a in stall if a.base_rule == "stall"]
    assert "(awaiting_parts, awaiting_customer, technician_away, still_working)" in ask.message
    i18n.use("zh_CN")
    assert [render(m) for m in found["evidence"]] == ["功能测试 缺少证据"]
    assert [render(m) for m in found["confirmation"]] == ["未经客户确认即已关闭"]
    assert json.dumps(found["confirmation"]) == '["closed without the customer\'s confirmation"]'
    # each answer by its label, with its name in backticks (`ticketctl why` takes either)
    assert ask.text == ("KQT-2 处理中，已 5小时 无更新：原因是什么？请用 `ticketctl why KQT-2 CHOICE` 回答（等待备件（`awaiting_parts`）、"
                        "等待客户（`awaiting_customer`）、技术员不在（`technician_away`）、仍在处理（`still_working`））：x")


def test_report_blocked_shows_the_reason_label_in_chinese(cli: Cli, zh: None) -> None:
    cli("tech", "add", "ana", "--skills", "hvac")
    key = cli.json("new", "No cooling", "--type", "repair", "--dept", "facilities", "--product", "hvac")["key"]
    cli("assign", key, "ana")
    cli("start", key, TICKETCTL_USER="ana")
    cli("block", key, "--reason", "awaiting_parts", TICKETCTL_USER="ana")
    r = cli.json("report", "blocked", TICKETCTL_LANG="zh_CN", now="2026-03-02T10:00:00Z")
    assert [x["label"] for x in r["reasons"]] == ["Awaiting parts"]
    out, _err = cli("report", "blocked", TICKETCTL_LANG="zh_CN", now="2026-03-02T10:00:00Z")
    assert "等待备件" in out and "Awaiting parts" not in out

"""Refusals name statuses, blocked reasons and checklist items: a Chinese reader reads them as
labels (issue 23), an English one as the identifiers, exactly as before; stored text and events
keep the identifiers (``ticketctl.i18n.LABELLED``: one table says which placeholders hold what).

Through the real CLI (``cli.main``) on a real store, and through the three ways a message is
shown: made now (``i18n.fill``), stored as English text (``i18n.localize``) and kept as a
``Message`` (``core.message.render``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ticketctl import i18n
from ticketctl.cli import main
from ticketctl.core.message import Listing, msg, render
from ticketctl.i18n import N_
from ticketctl.services.env import Env

NOW = "2026-03-02T09:00:00Z"


class Desk:
    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]):
        self.home, self.capsys = home, capsys

    def __call__(self, *argv: str, lang: str = "zh_CN") -> tuple[int, str, str]:
        env = Env.from_environ({"TICKETCTL_HOME": str(self.home), "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "张伟",
                                "TICKETCTL_LANG": lang})
        self.capsys.readouterr()
        code = main(list(argv), env=env)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def desk(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Desk:
    d = Desk(tmp_path / "home", capsys)
    assert d("tech", "add", "张伟", "--skills", "空调")[0] == 0
    return d


@pytest.fixture(autouse=True)
def english_after() -> object:
    yield None
    i18n.use("en")


def _new(desk: Desk) -> str:
    code, out, err = desk("new", "机房空调不制冷", "--type", "repair", "--dept", "物业设施部", "--product", "中央空调")
    assert code == 0, err
    return out.strip()


def test_a_refused_transition_names_statuses_and_the_action_as_labels(desk: Desk) -> None:
    k = _new(desk)
    code, _out, err = desk("start", k)
    assert code == 1
    assert err.strip() == f"ticketctl: error: 无法开始处理 {k}：当前状态为新建（开始处理要求状态为已指派）"
    code, _out, err = desk("block", k, "--reason", "awaiting_parts")
    assert code == 1 and "当前状态为新建（挂起要求状态为已指派或处理中）" in err
    # English: the identifiers, as ever
    code, _out, err = desk("start", k, lang="en")
    assert err.strip() == f"ticketctl: error: cannot start {k}: it is new (start needs assigned)"
    assert desk("block", k, "--reason", "awaiting_parts", lang="en")[2].strip().endswith(
        "it is new (block needs assigned or in_progress)")


def test_unchecked_items_and_known_reasons_read_as_labels_with_what_to_type(desk: Desk) -> None:
    k = _new(desk)
    assert desk("assign", k, "张伟")[0] == 0
    code, _out, err = desk("block", k, "--reason", "no_such_reason")
    assert code == 2
    assert "未知的阻塞原因 'no_such_reason'（已知：等待客户（`awaiting_customer`）、等待备件（`awaiting_parts`）、" in err
    assert "awaiting_customer, awaiting_parts" in desk("block", k, "--reason", "no_such_reason", lang="en")[2]
    assert desk("resolve", k, "--note", "已更换继电器")[0] == 0
    code, _out, err = desk("close", k, "--check", "function_test")
    assert code == 1
    assert "检查清单未完成：安全复位（`safety_reset`）、备件已登记（`parts_recorded`）（使用 --check ITEM 勾选）" in err
    assert "function_test" not in err  # checked now, so no longer missing
    code, _out, err = desk("close", k, lang="en")
    assert "checklist items not done: function_test, safety_reset, parts_recorded (pass --check ITEM)" in err
    code, _out, err = desk("close", k, "--check", "bogus")
    assert code == 2 and "'bogus' 不在“维修”类工单的检查清单中（清单项：功能测试（`function_test`）、" in err
    # nothing refused was written, and what was written keeps its identifiers
    show = json.loads(desk("show", k, "--json")[1])
    assert show["status"] == "resolved"
    assert [(c["item"], c["done"]) for c in show["checklist"]] == [
        ("function_test", False), ("safety_reset", False), ("parts_recorded", False)]


def test_the_teams_own_labels_name_its_checklist_items(desk: Desk) -> None:
    desk.home.joinpath("config.toml").write_text('[labels."checklist.safety_reset"]\nzh_CN = "安全装置复位"\n',
                                                 encoding="utf-8")
    k = _new(desk)
    assert desk("assign", k, "张伟")[0] == 0 and desk("resolve", k)[0] == 0
    err = desk("close", k)[2]
    assert "安全装置复位（`safety_reset`）" in err and "功能测试（`function_test`）" in err


def test_the_three_ways_a_message_is_shown_label_the_same_placeholders() -> None:
    i18n.use("zh_CN")
    # made now
    assert i18n.fill(N_("cannot transfer {key}: it is {status}"), key="K-1", status="closed") == "无法转派 K-1：当前状态为已关闭"
    # stored as English text: the same message found again, its identifiers labelled
    assert i18n.localize("cannot transfer K-1: it is blocked") == "无法转派 K-1：当前状态为已挂起"
    assert i18n.localize("cannot transfer K-1: it is 某状态") == "无法转派 K-1：当前状态为某状态"  # no identifier: as it is
    # a Message: English where stored, labels where rendered; a Listing item by item
    m = msg(N_("{key} is already {priority}"), key="K-1", priority="urgent")
    assert str(m) == "K-1 is already urgent" and render(m) == "K-1 的优先级已是“紧急”"
    items = msg(N_("checklist items not done: {items} (pass --check ITEM)"), items=Listing(("safety_reset", "x_custom")))
    assert str(items) == "checklist items not done: safety_reset, x_custom (pass --check ITEM)"
    assert render(items) == "检查清单未完成：安全复位（`safety_reset`）、x_custom（使用 --check ITEM 勾选）"
    # values whose placeholder holds free text or a key are data: never relabelled
    assert i18n.labelled("key", "closed") == "closed"
    assert i18n.labelled("reason", "waiting for parts, then test") == "waiting for parts, then test"
    i18n.use("en")
    assert i18n.fill(N_("cannot transfer {key}: it is {status}"), key="K-1", status="closed") == "cannot transfer K-1: it is closed"
    assert i18n.localize("cannot transfer K-1: it is blocked") == "cannot transfer K-1: it is blocked"
    assert render(m) == "K-1 is already urgent"

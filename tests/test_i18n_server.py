"""The customer's pages speak the customer's language: ``/c/...`` (the
confirmation form) and ``/v/...`` (a certificate's verdict) answer in the
language of the phone's ``Accept-Language`` (else the server's), while the
server's JSON and the refusal reasons it stores stay English.

The team's data comes through a real server process and real devices (as in
``test_sync_proof``); the pages are then read from an app on the same database
in this process, so that the server's own language can be chosen per test.
The Chinese assertions need the compiled catalog (``tools/i18n.py``).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from server_fixtures import bearer, mutation
from sync_helpers import Server, client, fresh

from ticketctl import i18n
from ticketctl.home import Home
from ticketctl.server.app import create_app
from ticketctl.server.web.pages import page_language
from ticketctl.services import cert, confirm, techs, tickets
from ticketctl.services.env import Env
from ticketctl.sync import client as sync

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
CHECKS = ["function_test", "safety_reset", "parts_recorded"]
FORM = {"rating": ["5", "4", "5"], "comment": "修好了，谢谢师傅！很专业", "by": "李女士"}


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path).start()
    yield s
    s.kill()


def pages(server: Server, lang: str) -> TestClient:
    """The server's pages on the same database, its own language ``lang``."""
    return TestClient(create_app(server.db, Home.from_env({"TICKETCTL_HOME": str(server.home)}), lang=lang))


def resolved_repair(server: Server, tmp_path: Path) -> tuple[Env, str]:
    """ana's device holds a resolved repair that the server has."""
    disp, ana = client(tmp_path, "disp"), client(tmp_path, "ana")
    sync.setup(disp, server.url, server.token("disp", "dispatcher"))
    sync.setup(ana, server.url, server.token("ana", "technician"))
    techs.add(disp, "ana", capacity=3)
    k = tickets.create(disp, {"title": "空调不制冷", "type": "repair", "dept": "售后服务部", "product": "hvac"})["key"]
    tickets.assign(disp, k, "ana")
    sync.sync(disp)
    sync.sync(ana)
    tickets.start(ana, k)
    tickets.resolve(ana, k)
    return ana, k


def path(url: str) -> str:
    return urlsplit(url).path


def test_the_confirmation_page_speaks_the_phones_language(server: Server, tmp_path: Path) -> None:
    ana, k = resolved_repair(server, tmp_path)
    link = path(confirm.request_qr(ana, k)["url"])
    sync.sync(ana)
    en, zh_server = pages(server, "en"), pages(server, "zh_CN")
    assert i18n.current() == "en", "the server speaks English but for its pages"

    zh = en.get(link, headers=ZH)
    assert zh.status_code == 200 and zh.headers["content-language"] == "zh-CN" and "accept-language" in zh.headers["vary"].lower()
    assert '<html lang="zh-CN">' in zh.text and '<meta charset="utf-8">' in zh.text
    assert "请确认已完成的工作并评分。" in zh.text and "问题解决了吗？（5 = 非常好）" in zh.text and "空调不制冷" in zh.text
    assert "Please confirm" not in zh.text
    plain = en.get(link)
    assert '<html lang="en">' in plain.text and "Please confirm the work done and rate it." in plain.text
    assert "Is the problem solved? (5 = very good)" in plain.text and "请确认" not in plain.text
    assert "请确认已完成的工作并评分。" in zh_server.get(link).text  # no header: the server's language
    assert "Please confirm" in zh_server.get(link, headers={"Accept-Language": "en-GB,en;q=0.8"}).text

    # a refusal from the rules (an English message with values) is shown in the page's language
    short = {**FORM, "comment": "好了"}
    r = en.post(link, data=short, headers=ZH)
    assert r.status_code == 409 and "客户评价至少需要 10 个字符（当前 2 个）" in r.text
    assert "the customer's comment needs at least 10 characters (got 2)" in html.unescape(en.post(link, data=short).text)

    done = en.post(link, data=FORM, headers=ZH)
    assert done.status_code == 200 and f"您对 {k} 的确认已记录。" in done.text
    again = en.post(link, data=FORM, headers=ZH)
    assert again.status_code == 409 and "此确认链接已于 " in again.text and " 使用过" in again.text
    assert "此确认链接已被使用。" in en.get(link, headers=ZH).text
    assert "This confirmation link was already used." in en.get(link).text
    assert en.get(f"/c/{k}.not-a-real-token-at-all", headers=ZH).text.count("此确认链接无效") == 1

    sync.sync(ana)
    got = fresh(ana).store.ticket(k).confirmation
    assert (got["by"], got["comment"]) == ("李女士", FORM["comment"])


def test_the_certificate_page_speaks_the_phones_language_and_json_stays_english(server: Server, tmp_path: Path) -> None:
    ana, k = resolved_repair(server, tmp_path)
    confirm.confirm(ana, k, [5, 5, 4], "修好了，讲解也很清楚", "王先生")
    tickets.close(ana, k, CHECKS)
    qr = path(cert.issue(ana, k, tmp_path / "cert.pdf")["qr"])  # issued offline: the server has not seen it yet
    en = pages(server, "en")

    zh = en.get(qr, headers=ZH)
    assert zh.status_code == 200 and '<html lang="zh-CN">' in zh.text and '<meta charset="utf-8">' in zh.text
    assert "<h1 class=ok>服务证书有效</h1>" in zh.text and f"有效：{k} 的服务证书 " in zh.text and "由 ana 签名" in zh.text
    assert "尚未同步到服务器（离线签发）" in zh.text and "尚未经服务器副署" in zh.text
    plain = en.get(qr)
    assert "<h1 class=ok>Certificate valid</h1>" in plain.text and "has not reached the server yet (issued offline)" in plain.text
    assert "服务证书" not in plain.text

    v = en.get(f"{qr}?format=json", headers=ZH).json()  # scripts: English whatever the phone says
    assert v["valid"] and v["reason"].startswith("valid: certificate ") and v["reason"].endswith(f" for {k}, signed by ana")
    assert v["warnings"] == [f"certificate {v['cert_id']} has not reached the server yet (issued offline)"]

    sync.sync(ana)
    zh = en.get(qr, headers=ZH).text
    assert "已由服务团队的服务器副署。" in zh and "尚未同步" not in zh
    i = len(qr) - 5
    tampered = qr[:i] + ("A" if qr[i] != "A" else "B") + qr[i + 1:]
    bad = en.get(tampered, headers=ZH)
    assert bad.status_code == 422 and "<h1 class=bad>服务证书无效</h1>" in bad.text and "签名无效" in bad.text
    assert "bad signature" in en.get(tampered).text


def test_refusal_reasons_the_server_stores_stay_english_whatever_its_language(server: Server, tmp_path: Path) -> None:
    """A server whose language is Chinese (started from a Chinese shell) still
    stores English reasons: they are data, synced to every device."""
    ana, k = resolved_repair(server, tmp_path)
    sync.sync(ana)  # resolved on the server too: a start is refused there
    i18n.use("zh_CN")
    app = pages(server, "zh_CN")
    assert i18n.current() == "en"
    token = server.token("bo", "dispatcher")
    r = app.post("/sync/push", json={"mutations": [mutation(1, "ticket.start", key=k)]}, headers=bearer(token))
    assert r.status_code == 200, r.text
    (result,) = r.json()["results"]
    assert result["status"] == "rejected" and result["reason"].startswith(f"cannot start {k}: it is resolved"), result


@pytest.mark.parametrize(("header", "default", "want"), [
    ("zh-CN,zh;q=0.9", "en", "zh_CN"),
    ("zh", "en", "zh_CN"),
    ("zh-Hans-CN", "en", "zh_CN"),
    ("zh-TW,en;q=0.5", "en", "zh_CN"),
    (None, "zh_CN", "zh_CN"),
    ("", "en", "en"),
    ("fr-FR,fr;q=0.9", "zh_CN", "zh_CN"),  # nothing ticketctl speaks: the server's language
    ("fr-FR, en;q=0.5, zh;q=0.4", "zh_CN", "en"),
    ("en-US,zh;q=0.5", "zh_CN", "en"),
    ("zh;q=0, en", "zh_CN", "en"),  # q=0: not acceptable
    ("de;q=0.9, zh;q=bad", "en", "en"),
    ("*", "zh_CN", "zh_CN"),
])
def test_page_language(header: str | None, default: str, want: str) -> None:
    assert page_language(header, default) == want


def test_a_chinese_device_reads_the_servers_english_refusal_in_chinese(server: Server, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The server stores its reasons in English; `sync status` on a device set to Chinese shows them in Chinese."""
    from ticketctl.cli import main

    disp = client(tmp_path, "disp")
    sync.setup(disp, server.url, server.token("disp", "dispatcher"))
    techs.add(disp, "ana", capacity=3)
    k = tickets.create(disp, {"title": "空调不制冷", "type": "repair", "dept": "售后服务部", "product": "hvac"})["key"]
    tickets.assign(disp, k, "ana")
    sync.sync(disp)
    ana = client(tmp_path, "ana")
    sync.setup(ana, server.url, server.token("ana", "technician"))
    sync.sync(ana)
    tickets.start(ana, k)  # offline, while the dispatcher cancels the ticket on the server
    disp = fresh(disp)
    tickets.cancel(disp, k, "duplicate")
    sync.sync(disp)
    ana = fresh(ana)
    rejected = sync.sync(ana)["rejected"]
    assert len(rejected) == 1 and rejected[0]["reason"].startswith(f"cannot start {k}: it is cancelled")
    english = rejected[0]["reason"]
    chinese = i18n.translator("zh_CN").gettext("cannot {action} {key}: it is {status} ({action} needs {need})").format(
        action="start", key=k, status="已取消", need="已指派")  # the statuses as their labels
    assert english == f"cannot start {k}: it is cancelled (start needs assigned)"
    for lang, want in (("zh_CN.UTF-8", chinese), ("C", english)):
        capsys.readouterr()
        assert main(["sync", "status"], env=Env(ana.home, {**ana.environ, "LANG": lang})) == 0
        out = capsys.readouterr().out
        assert want in out, out

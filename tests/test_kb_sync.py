"""The knowledge base across the team: an article reaches other devices by
sync (pulled, and in a new device's snapshot), the server re-checks and
re-scrubs it, only the queue's roles publish, and the server's public ``/kb``
pages show exactly the published, active articles. Against a real server
process on 127.0.0.1, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_fixtures import pg_databases_fixture, pg_url_fixture  # noqa: F401
from sync_helpers import Server, client, server_on

from ticketctl.errors import Refused
from ticketctl.services import kb, rebuild, techs, tickets
from ticketctl.services.env import Env
from ticketctl.sync import client as sync

PHONE = "+86 138 0013 8000"


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    s = server_on(request, tmp_path)
    yield s
    s.kill()


def joined(server: Server, root: Path, name: str, role: str) -> Env:
    env = client(root, name)
    sync.setup(env, server.url, server.token(name, role))
    return env


def get(server: Server, path: str, **params: Any) -> httpx.Response:
    return httpx.get(server.url + path, params=params, timeout=10, headers={"Accept-Language": "en"})


def test_an_article_reaches_the_team_and_its_published_form_the_customers(server: Server, tmp_path: Path) -> None:
    disp = joined(server, tmp_path, "disp", "dispatcher")
    ana = joined(server, tmp_path, "ana", "technician")
    techs.add(disp, "ana", skills=["plumbing"])
    key = tickets.create(disp, {"title": "卫生间漏水 toilet leaking", "type": "repair", "dept": "facilities", "product": "toilet",
                                "fault": "leak", "phone": PHONE, "customer": "Wang Lei",
                                "description": "Wang Lei reports water under the cistern"})["key"]
    tickets.assign(disp, key, "ana")
    sync.sync(disp)
    sync.sync(ana)
    assert tickets.show(ana, key)["phone"] == ""  # the technician's device never had the number...
    tickets.start(ana, key)
    tickets.note(ana, key, "customer wrote the number as 138.0013.8000 on the cistern")
    tickets.resolve(ana, key, note="replaced the fill valve washer; 更换进水阀垫圈")
    art = kb.add(ana, key, {"cause": "perished washer", "tags": ["plumbing"]})
    with pytest.raises(Refused, match="technician may not publish"):
        kb.publish(ana, art["id"])  # refused on the device, never queued
    assert sync.sync(ana)["rejected"] == []

    sync.sync(disp)
    seen = kb.show(disp, art["id"])
    text = json.dumps(seen, ensure_ascii=False)
    assert "Wang Lei" not in text and "138" not in text  # ...and the server re-scrubbed with the ticket's own phone and name
    assert seen["steps"] == ["customer wrote the number as [phone] on the cistern"]
    assert [r["id"] for r in kb.search(disp, "漏水")["results"]] == [art["id"], key]
    assert rebuild.differences(disp.store, disp.config) == []

    assert get(server, f"/kb/{art['id']}").status_code == 404  # not published yet
    assert get(server, "/kb.json").json()["articles"] == []
    kb.publish(disp, art["id"])
    other = kb.add(disp, None, {"title": "Reset a tripped RCD 跳闸", "solution": "Push the switch fully down, then up"})
    sync.sync(disp)

    page = get(server, "/kb", q="漏水")
    assert page.status_code == 200 and art["id"] in page.text and other["id"] not in page.text
    assert "更换进水阀垫圈" in get(server, f"/kb/{art['id']}").text
    assert get(server, f"/kb/{other['id']}").status_code == 404
    listed = get(server, "/kb.json").json()["articles"]
    assert [a["id"] for a in listed] == [art["id"]]
    assert set(listed[0]) == {"id", "title", "problem", "steps", "cause", "solution", "tags", "product", "fault",
                              "published_at", "updated_at", "url"}  # no author, no source ticket
    typo = get(server, "/kb.json", q="washr").json()
    assert typo["corrected"] == {"washr": ["washer"]} and [a["id"] for a in typo["articles"]] == [art["id"]]
    assert get(server, "/kb.json", q="printer").json()["articles"] == []

    # a new device bootstraps from the snapshot and folds later changes onto the article's base
    bob = joined(server, tmp_path, "bob", "supervisor")
    assert sync.sync(bob)["bootstrapped"]
    assert kb.show(bob, art["id"])["public"] is True
    kb.edit(ana, art["id"], {"solution": "replaced the fill valve washer and the float; 更换进水阀垫圈"})
    sync.sync(ana)
    sync.sync(bob)
    assert kb.show(bob, art["id"])["version"] == 2
    assert [r["id"] for r in kb.search(bob, "float")["results"]] == [art["id"]]
    assert rebuild.differences(bob.store, bob.config) == []

    kb.retire(bob, art["id"], "the cistern model is gone")
    sync.sync(bob)
    assert get(server, f"/kb/{art['id']}").status_code == 404
    assert get(server, "/kb.json").json()["articles"] == []
    sync.sync(ana)
    assert kb.search(ana, "washer", kind="article")["results"] == []


def test_the_public_pages_speak_the_browsers_language_and_need_no_token(server: Server, tmp_path: Path) -> None:
    disp = joined(server, tmp_path, "disp", "dispatcher")
    a = kb.add(disp, None, {"title": "Printer offline", "solution": "Turn it off and on; check the cable"})
    kb.publish(disp, a["id"])
    sync.sync(disp)
    zh = httpx.get(server.url + "/kb", headers={"Accept-Language": "zh-CN,zh;q=0.9"}, timeout=10)
    assert zh.status_code == 200 and zh.headers["content-language"] == "zh-CN"
    assert "知识库" in zh.text and "Printer offline" in zh.text
    missing = httpx.get(server.url + "/kb/KB-NOPE-1", timeout=10)
    assert missing.status_code == 404 and "KB-NOPE-1" in missing.text
    assert get(server, "/kb", q="x" * 201).status_code == 422


def test_an_article_event_from_an_older_device_without_a_solution_is_rejected_by_the_server(server: Server, tmp_path: Path) -> None:
    """The server re-runs kb.add: a device that skipped the rules (edited its
    outbox) gets a rejection, and the article disappears from its store."""
    disp = joined(server, tmp_path, "disp", "dispatcher")
    a = kb.add(disp, None, {"title": "Fan noisy", "solution": "Clean the fan"})
    db = sqlite3.connect(disp.store.path)
    args = json.loads(db.execute("SELECT args FROM outbox WHERE name = 'kb.add'").fetchone()[0])
    args["fields"]["solution"] = ""
    db.execute("UPDATE outbox SET args = ? WHERE name = 'kb.add'", (json.dumps(args),))
    db.commit()
    db.close()
    r = sync.sync(disp)
    assert [x["reason"] for x in r["rejected"]] == ["an article needs a solution (pass --solution TEXT, or --edit)"]
    assert not disp.store.has_article(a["id"])

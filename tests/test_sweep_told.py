"""Told when no one is told: an escalation that no notification target takes
is marked as such in `sweep`'s output (human and JSON), in the ticket's
timeline (`show`, the dashboard's ticket screen), and `notify test` with no
target probes every configured one. Real store files in a temporary
TICKETCTL_HOME, a real HTTP receiver on 127.0.0.1 (``test_notify.Receiver``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_notify import Receiver
from test_tui import SIZE, app_for, detail_text, settle, to_key

from ticketctl import errors
from ticketctl.cli import main
from ticketctl.render.show import event_text
from ticketctl.services.env import Env
from ticketctl.tui.screens import DetailScreen

CREATED, SWEPT = "2026-03-02T09:10:00Z", "2026-03-02T11:15:00Z"
NOBODY = " (no one notified: no notification target configured)"


class Home:
    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]):
        self.root, self.capsys = root, capsys
        root.mkdir(parents=True, exist_ok=True)

    def environ(self, now: str, **extra: str) -> dict[str, str]:
        return {"TICKETCTL_HOME": str(self.root), "TICKETCTL_NOW": now, "TICKETCTL_USER": "cron", **extra}

    def env(self, now: str = SWEPT) -> Env:
        return Env.from_environ(self.environ(now))

    def targets(self, targets: dict[str, dict[str, Any]]) -> Home:
        import tomli_w

        table = {"notify": {"timeout": 3.0, "tries_per_run": 1, "targets": targets}}
        (self.root / "config.toml").write_text(tomli_w.dumps(table), encoding="utf-8")
        return self

    def cli(self, *argv: str, now: str = SWEPT, **extra: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(argv), env=Env.from_environ(self.environ(now, **extra)))
        out, err = self.capsys.readouterr()
        return code, out, err

    def new(self) -> str:
        code, out, err = self.cli("new", "Server room too hot", "--type", "repair", "--dept", "facilities", "--product", "hvac",
                                  "--priority", "urgent", "--skills", "cryogenics", "--json", now=CREATED)
        assert code == 0, err
        return str(json.loads(out)["key"])

    def escalated(self, key: str) -> list[dict[str, Any]]:
        code, out, _ = self.cli("show", key, "--json")
        assert code == 0
        return [e for e in json.loads(out)["timeline"] if e["type"] == "ticket.escalated"]


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture()
def home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Home:
    return Home(tmp_path / "home", capsys)


@pytest.fixture()
def rx() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.down()


def test_no_target_configured_marks_every_escalation_unreached(home: Home) -> None:
    key = home.new()
    code, out, err = home.cli("sweep", "--dry-run", "--json")
    dry = json.loads(out)["actions"]
    assert code == 0 and dry and all((a["notified"], a["unreached"]) == ([], a["to"]) for a in dry)

    code, out, err = home.cli("sweep")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3 and all(line.startswith(f"{key}  ") and f"-> supervisor{NOBODY}  " in line for line in lines)
    assert "3 of the sweep's actions reached no one" in err and "ticketctl notify test" in err

    events = home.escalated(key)
    assert len(events) == 3 and all(e["payload"]["notified"] == [] for e in events)
    code, out, _ = home.cli("show", key)
    shown = [line for line in out.splitlines() if "-> supervisor" in line]
    assert len(shown) == 3 and all(line.endswith("-> supervisor (no one notified)") for line in shown)


def test_sweep_json_marks_unreached_without_changing_the_other_fields(home: Home) -> None:
    key = home.new()
    code, out, _ = home.cli("sweep", "--json")
    silent = [a for a in json.loads(out)["actions"] if a["rule"] == "silent"]
    assert silent == [{"key": key, "rule": "silent", "to": ["supervisor"], "message": silent[0]["message"],
                       "notified": [], "unreached": ["supervisor"]}]
    assert silent[0]["message"].startswith(f"{key} urgent, unassigned 2h05")


def test_with_a_target_escalations_are_not_marked(home: Home, rx: Receiver) -> None:
    home.targets({"ops": {"url": rx.url()}})
    key = home.new()
    code, out, err = home.cli("sweep")
    assert code == 0 and "no one notified" not in out and "reached no one" not in err
    assert [line.split("  ")[2] for line in out.splitlines()] == ["-> supervisor"] * 3
    assert len(rx.bodies()) == 3  # they were told

    assert all(e["payload"]["notified"] == ["ops"] for e in home.escalated(key))
    code, out, _ = home.cli("show", key)
    assert "no one notified" not in out and out.count("-> supervisor") == 3

    home2 = Home(home.root.parent / "home2", home.capsys).targets({"ops": {"url": rx.url()}})
    home2.new()
    code, out, _ = home2.cli("sweep", "--json")
    assert {(tuple(a["notified"]), tuple(a["unreached"])) for a in json.loads(out)["actions"]} == {(("ops",), ())}


def test_a_target_that_takes_other_rules_only_reaches_no_one_for_this_one(home: Home, rx: Receiver) -> None:
    home.targets({"ops": {"url": rx.url(), "rules": ["resolve_breached"]}})
    key = home.new()
    code, out, _ = home.cli("sweep")
    by_rule = {line.split("  ")[1]: line for line in out.splitlines()}
    assert "-> supervisor (no one notified: no notification target takes silent)  " in by_rule["silent"]
    assert "-> supervisor  " in by_rule["resolve_breached"]
    notified = {e["payload"]["rule"]: e["payload"]["notified"] for e in home.escalated(key)}
    assert notified == {"silent": [], "response_breached": [], "resolve_breached": ["ops"]}


def test_the_mark_reads_in_chinese(home: Home) -> None:
    key = home.new()
    code, out, _ = home.cli("sweep", TICKETCTL_LANG="zh_CN")
    assert code == 0 and all("（无人收到通知：未配置通知目标）" in line for line in out.splitlines())
    code, out, _ = home.cli("show", key, TICKETCTL_LANG="zh_CN")
    assert out.count("（无人收到通知）") == 3


def test_an_older_escalation_without_the_key_reads_as_before() -> None:
    e = {"type": "ticket.escalated", "payload": {"rule": "silent", "to": ["supervisor"], "message": "unclaimed"}}
    assert event_text(e) == "silent: unclaimed -> supervisor"
    e["payload"]["notified"] = []
    assert event_text(e) == "silent: unclaimed -> supervisor (no one notified)"
    e["payload"]["notified"] = ["ops"]
    assert event_text(e) == "silent: unclaimed -> supervisor"


@pytest.mark.anyio
async def test_the_dashboard_ticket_screen_shows_the_mark(home: Home) -> None:
    key = home.new()
    assert home.cli("sweep")[0] == 0
    app = app_for(lambda: home.env())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await to_key(pilot, key)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        text = " ".join(detail_text(app.screen).split())
        assert text.count("-> supervisor (no one notified)") == 3


def test_notify_test_without_a_target_probes_each_and_reports_each(home: Home, rx: Receiver) -> None:
    refusing = Receiver()
    refusing.down()  # its port refuses connections
    home.targets({"ops": {"url": rx.url()}, "pager": {"url": refusing.url(), "rules": ["silent"]}})

    code, out, err = home.cli("notify", "test")
    assert code == errors.REFUSED
    assert out.splitlines() == ["ops: sent (test notification #1)",
                                "pager: failed: connection refused (test notification #2)"]
    assert err == "ticketctl: error: test notifications not delivered to pager\n"
    assert [b["rule"] for b in rx.bodies()] == ["test"]

    code, out, _ = home.cli("notify", "test", "--json")
    rows = json.loads(out)
    assert code == errors.REFUSED
    assert [(r["target"], r["status"], r["last_error"]) for r in rows] == [
        ("ops", "sent", None), ("pager", "failed", "connection refused")]

    home.targets({"ops": {"url": rx.url()}})
    code, out, err = home.cli("notify", "test")
    assert (code, out.splitlines(), err) == (0, ["ops: sent (test notification #5)"], "")

    home.targets({})
    code, out, err = home.cli("notify", "test")
    assert (code, out) == (errors.BAD_INPUT, "")
    assert err == ("ticketctl: error: no notification target configured;"
                   " add [notify.targets.NAME] with a `url` to config.toml\n")

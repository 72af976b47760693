"""The sweep (SLA escalation, stall checks, batch incidents) and ``why``.

Two layers:

* the pure rules of ``ticketctl.core.sweep`` on hand-built ticket
  projections, each threshold just below and at/just above its boundary;
* the store through the real CLI (``ticketctl.cli.main`` with an injected
  ``Env``), with ``TICKETCTL_NOW`` moving the clock: the issue's acceptance
  scenario, idempotency of every rule, stall check answers, batches,
  ``--fail-on-breach``, ``--dry-run``, and the event log still replaying to
  the tables. A last test checks that the SQL pre-selection never misses a
  ticket the pure rules would act on.

Default calendar: UTC, Mon-Fri 08:00-18:00; 2026-03-02 is a Monday.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ticketctl import errors
from ticketctl.cli import main
from ticketctl.core import sweep
from ticketctl.core.config import Config, config_from_dict
from ticketctl.core.model import Ticket, iso
from ticketctl.core.views import sla_left
from ticketctl.services import sweep as sweeping
from ticketctl.services.env import Env
from ticketctl.services.rebuild import differences
from ticketctl.store.db import Store

CFG = Config()
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # Monday noon
BT = CFG.business_calendar.ordinal(NOW)
H = 3600


def ago(seconds: float) -> str:
    return iso(NOW - timedelta(seconds=seconds))


def ticket(**kw: Any) -> Ticket:
    """A high-priority ticket created an hour ago, with plenty of SLA left."""
    base: dict[str, Any] = dict(
        key="KQT-12", title="No cooling", type="repair", dept="facilities", product="hvac",
        created_at=ago(H), updated_at=ago(H), status_since=ago(H), priority="high",
        response_due_bt=BT + 3 * H, resolve_target_s=8 * H, resolve_due_bt=BT + 7 * H,
    )
    base.update(kw)
    return Ticket(**base)


def fired(t: Ticket, now: datetime = NOW, cfg: Config = CFG) -> dict[str, sweep.Action]:
    """Base rule -> action, for one ticket."""
    return {a.base_rule: a for a in sweep.ticket_actions(t, now, cfg)}


# -- pure rules: silent -----------------------------------------------------------------


def silent_ticket(waited: int, left: int) -> Ticket:
    return ticket(priority="urgent", status_since=ago(waited), created_at=ago(waited), resolve_target_s=2 * H,
                  resolve_due_bt=BT + left, response_due_bt=BT + 10 * H)


def test_silent_fires_from_two_hours_unassigned() -> None:
    assert "silent" not in fired(silent_ticket(2 * H - 1, H))
    a = fired(silent_ticket(2 * H, H))["silent"]
    assert (a.key, a.rule, a.to) == ("KQT-12", "silent", ("supervisor",))
    assert a.drafts == (("ticket.escalated", {"rule": "silent", "to": ["supervisor"], "message": a.message}),)
    assert "silent" in fired(silent_ticket(2 * H + 1, H))


def test_silent_needs_under_four_hours_of_sla_left() -> None:
    assert "silent" in fired(silent_ticket(3 * H, 4 * H - 1))
    assert "silent" not in fired(silent_ticket(3 * H, 4 * H))
    assert "silent" in fired(silent_ticket(3 * H, -60))  # overdue counts too


def test_silent_message_in_plain_words() -> None:
    a = fired(silent_ticket(2 * H + 5 * 60, H + 55 * 60))["silent"]
    assert a.message == "KQT-12 urgent, unassigned 2h05 with 1h55 of 2h to resolve left: No cooling"
    a = fired(silent_ticket(2 * H + 5 * 60, -5 * 60))["silent"]
    assert a.message == "KQT-12 urgent, unassigned 2h05 with resolution overdue by 5m (target 2h): No cooling"


def test_silent_only_for_new_unassigned_and_once() -> None:
    t = silent_ticket(3 * H, H)
    assert "silent" not in fired(replace(t, status="assigned", assignee="ana"))
    assert "silent" not in fired(replace(t, escalations={"silent": ago(60)}))


def test_silent_goes_to_the_departments_supervisor() -> None:
    cfg = config_from_dict({"dispatch": {"departments": {"facilities": {"supervisor": "sam"}}}})
    assert fired(silent_ticket(3 * H, H), cfg=cfg)["silent"].to == ("sam",)
    assert fired(replace(silent_ticket(3 * H, H), dept="it"), cfg=cfg)["silent"].to == ("supervisor",)


def test_silent_thresholds_come_from_the_config() -> None:
    cfg = config_from_dict({"sweep": {"silent_after": "30m", "silent_sla_left": "1h"}})
    assert "silent" in fired(silent_ticket(30 * 60, H - 1), cfg=cfg)
    assert "silent" not in fired(silent_ticket(30 * 60, H), cfg=cfg)
    assert "silent" not in fired(silent_ticket(30 * 60 - 1, 60), cfg=cfg)


# -- pure rules: response and resolution clocks ------------------------------------------------


def test_response_at_risk_under_a_fifth_left_then_breached() -> None:
    risk = 0.2 * H  # high: 1 h response target
    base = ticket(resolve_due_bt=BT + 8 * H)
    assert fired(replace(base, response_due_bt=BT + int(risk))) == {}
    a = fired(replace(base, response_due_bt=BT + int(risk) - 1))["response_at_risk"]
    assert a.message == "KQT-12 high, no response yet, 11m of 1h left, unassigned: No cooling"
    assert set(fired(replace(base, response_due_bt=BT))) == {"response_at_risk"}  # due now: not yet breached
    b = fired(replace(base, response_due_bt=BT - 1))
    assert set(b) == {"response_breached"}
    assert b["response_breached"].message == "KQT-12 high, no response yet, overdue by 0m (target 1h), unassigned: No cooling"


def test_response_clock_stops_at_the_first_response() -> None:
    t = ticket(response_due_bt=BT - H, status="assigned", assignee="ana")
    assert fired(t)["response_breached"].to == ("supervisor", "ana")
    assert fired(replace(t, first_response_at=ago(60))) == {}
    assert fired(replace(t, escalations={"response_breached": ago(60)})) == {}


def test_resolution_at_risk_under_a_fifth_left_then_breached() -> None:
    risk = int(0.2 * 8 * H)
    base = ticket(status="in_progress", assignee="ana", first_response_at=ago(60), updated_at=ago(60))
    assert fired(replace(base, resolve_due_bt=BT + risk)) == {}
    a = fired(replace(base, resolve_due_bt=BT + risk - 1))["resolve_at_risk"]
    assert a.to == ("supervisor", "ana")
    assert a.message == "KQT-12 high, 1h35 of 8h to resolve left, in_progress, held by ana: No cooling"
    assert set(fired(replace(base, resolve_due_bt=BT))) == {"resolve_at_risk"}
    b = fired(replace(base, resolve_due_bt=BT - 90 * 60))
    assert set(b) == {"resolve_breached"}
    assert b["resolve_breached"].message == (
        "KQT-12 high, resolution overdue by 1h30 (target 8h), in_progress, held by ana: No cooling")


def test_a_paused_clock_is_not_at_risk_but_can_be_breached() -> None:
    base = ticket(status="blocked", blocked_reason="awaiting_customer", blocked_since=ago(60), assignee="ana",
                  first_response_at=ago(H), resolve_due_bt=None)
    assert fired(replace(base, resolve_left_s=60)) == {}
    assert set(fired(replace(base, resolve_left_s=-60))) == {"resolve_breached"}


def test_finished_tickets_are_left_alone() -> None:
    for status in ("resolved", "closed", "cancelled"):
        assert fired(ticket(status=status, response_due_bt=BT - H, resolve_due_bt=None, resolve_left_s=-H)) == {}


# -- pure rules: stall ------------------------------------------------------------------------------


def stalled(quiet: int, **kw: Any) -> Ticket:
    return ticket(status="in_progress", assignee="ana", first_response_at=ago(quiet), updated_at=ago(quiet), **kw)


def test_stall_check_after_four_hours_without_an_update() -> None:
    assert "stall" not in fired(stalled(4 * H - 1))
    a = fired(stalled(4 * H))["stall"]
    assert (a.rule, a.to) == (f"stall@{ago(4 * H)}", ("ana",))
    choices = ["awaiting_parts", "awaiting_customer", "technician_away", "still_working"]
    assert a.drafts == (("ticket.stall_check", {"choices": choices, "holder": "ana"}),)
    assert a.message == ("KQT-12 in progress with no update for 4h: why? answer with `ticketctl why KQT-12 CHOICE`"
                         " (awaiting_parts, awaiting_customer, technician_away, still_working): No cooling")


def test_no_second_stall_check_while_one_is_open() -> None:
    t = stalled(6 * H, stall={"at": ago(2 * H), "choices": ["still_working"], "holder": "ana"})
    assert "stall" not in fired(t)
    assert "stall" not in fired(replace(stalled(6 * H), status="assigned"))


# -- pure rules: blocked --------------------------------------------------------------------------------


def blocked(reason: str, since: int, **block: str) -> Ticket:
    return ticket(status="blocked", assignee="ana", first_response_at=ago(since + 60), blocked_reason=reason,
                  blocked_since=ago(since), block=dict(block), status_before_block="in_progress",
                  resolve_due_bt=BT + 7 * H)


def test_blocked_longer_than_the_reasons_limit() -> None:
    day = 86_400
    assert fired(blocked("awaiting_parts", 3 * day)) == {}  # limit 3d: at the limit is not longer
    a = fired(blocked("awaiting_parts", 3 * day + 1))["blocked_too_long"]
    assert a.rule == f"blocked_too_long@{ago(3 * day + 1)}"
    assert a.to == ("supervisor", "ana")
    assert a.message == "KQT-12 blocked (awaiting_parts) for 3d, over the 3d limit, held by ana: No cooling"
    assert "blocked_too_long" in fired(blocked("awaiting_approval", 2 * day + 1))  # its own limit: 2d
    assert fired(blocked("awaiting_collaboration", 30 * day, deadline=iso(NOW + timedelta(days=1)))) == {}  # no limit


def test_blocked_too_long_fires_once_per_block() -> None:
    t = blocked("awaiting_parts", 4 * 86_400)
    rule = f"blocked_too_long@{t.blocked_since}"
    assert fired(replace(t, escalations={rule: ago(60)})) == {}
    assert "blocked_too_long" in fired(replace(t, escalations={"blocked_too_long@2026-01-01T08:00:00Z": ago(60)}))


def test_collaboration_deadline_escalates_to_both_sides() -> None:
    def collab(deadline: str) -> Ticket:
        return blocked("awaiting_collaboration", H, collaborator="network", deliverable="a new switch port",
                       deadline=deadline, expected_result="link up")

    assert fired(collab(iso(NOW))) == {}  # due now: not passed yet
    a = fired(collab(iso(NOW - timedelta(seconds=1))))["collab_deadline"]
    assert (a.rule, a.to) == (f"collab_deadline@{ago(H)}", ("supervisor", "network"))
    assert a.message == ("KQT-12 waits for network: deadline 2026-03-02T11:59:59Z passed, deliverable: a new switch port,"
                         " held by ana: No cooling")
    assert "collab_deadline" in fired(collab("2026-03-02T11:30"))  # typed without a zone: UTC
    assert "collab_deadline" not in fired(collab("2026-03-02T12:30"))


# -- pure rules: batch incidents ---------------------------------------------------------------


def child(n: int, minutes: float, **kw: Any) -> Ticket:
    fields: dict[str, Any] = dict(key=f"KQT-{n}", title="noisy", product="hvac", fault="noise", zone="east-01",
                                  priority="low", created_at=iso(NOW - timedelta(days=2) + timedelta(minutes=minutes)),
                                  response_due_bt=BT + 20 * H, resolve_target_s=70 * H, resolve_due_bt=BT + 50 * H)
    fields.update(kw)
    return ticket(**fields)


def test_five_alike_within_a_day_make_one_batch() -> None:
    kids = [child(i, i * 60, dept="facilities" if i != 3 else "it", priority="high" if i == 2 else "low",
                  impact="department" if i == 4 else "user", skills=["hvac"]) for i in range(1, 6)]
    (a,) = sweep.batches(kids, CFG)
    assert (a.key, a.rule, a.to) == (None, "batch", ("supervisor",))
    assert a.batch is not None and a.batch.children == ("KQT-1", "KQT-2", "KQT-3", "KQT-4", "KQT-5")
    assert a.batch.fields == {
        "title": "Batch: 5 x noise on hvac in east-01", "type": "batch", "dept": "facilities", "product": "hvac",
        "fault": "noise", "zone": "east-01", "priority": "high", "impact": "department", "skills": ["hvac"],
        "description": "5 open tickets with noise on hvac in east-01: KQT-1, KQT-2, KQT-3, KQT-4, KQT-5",
        "links": ["KQT-1", "KQT-2", "KQT-3", "KQT-4", "KQT-5"],
    }
    assert a.message == "Batch: 5 x noise on hvac in east-01: KQT-1, KQT-2, KQT-3, KQT-4, KQT-5"
    assert sweep.batches(kids[:4], CFG) == []


def test_batch_window_is_twenty_four_hours_from_the_first() -> None:
    at_edge = [child(i, m) for i, m in enumerate((0, 60, 120, 180, 24 * 60), 1)]
    assert len(sweep.batches(at_edge, CFG)) == 1
    past_edge = [child(i, m) for i, m in enumerate((0, 60, 120, 180, 24 * 60 + 1 / 60), 1)]
    assert sweep.batches(past_edge, CFG) == []
    # the window slides: the first is too early, the next five fit
    slid = [child(i, m) for i, m in enumerate((0, 60, 120, 180, 24 * 60 + 1, 24 * 60 + 2), 1)]
    (a,) = sweep.batches(slid, CFG)
    assert a.batch is not None and a.batch.children == ("KQT-2", "KQT-3", "KQT-4", "KQT-5", "KQT-6")


def test_a_batch_takes_every_alike_ticket_in_its_window() -> None:
    kids = [child(i, i) for i in range(1, 12)]
    (a,) = sweep.batches(kids, CFG)
    assert a.batch is not None and len(a.batch.children) == 11
    assert a.message.startswith("Batch: 11 x noise on hvac in east-01: KQT-1, KQT-2,")


def test_only_open_parentless_alike_tickets_with_a_zone_count() -> None:
    four = [child(i, i) for i in range(1, 5)]
    for odd in (child(5, 5, zone="west-02"), child(5, 5, fault="leak"), child(5, 5, parent="KQT-99"),
                child(5, 5, type="batch"), child(5, 5, status="resolved")):
        assert sweep.batches([*four, odd], CFG) == [], odd
    blank = [child(i, i, zone="") for i in range(1, 6)]
    assert sweep.batches(blank, CFG) == []
    assert len(sweep.batches([*four, child(5, 5, status="blocked")], CFG)) == 1


def test_batch_size_and_window_come_from_the_config() -> None:
    cfg = config_from_dict({"sweep": {"batch_size": 3, "batch_window": "1h"}})
    assert len(sweep.batches([child(i, m) for i, m in enumerate((0, 30, 60), 1)], cfg)) == 1
    assert sweep.batches([child(i, m) for i, m in enumerate((0, 30, 61), 1)], cfg) == []


# -- pure: the whole plan ------------------------------------------------------------------------------


def test_plan_orders_by_rule_then_key() -> None:
    ts = [silent_ticket(3 * H, H), replace(silent_ticket(3 * H, H), key="KQT-9"),
          replace(stalled(5 * H), key="KQT-100"), *(child(i, i) for i in range(1, 6))]
    got = [(a.key, a.base_rule) for a in sweep.plan(ts, NOW, CFG)]
    assert got == [("KQT-9", "silent"), ("KQT-12", "silent"), ("KQT-100", "stall"), (None, "batch")]


def test_span_words() -> None:
    assert [sweep.span(s) for s in (0, 59, 60, 3600, 7500, -300, 86_400, 90_000 + 1800)] == [
        "0m", "0m", "1m", "1h", "2h05", "5m", "1d", "1d 1h"]
    assert sweep.span(30 * H, days=False) == "30h"


# == the store, through the CLI ===========================================================================


class Cli:
    """``ticketctl.cli.main`` with a fresh Env per call, like tests/test_cli.py."""

    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]):
        self.home, self.capsys = home, capsys
        self.store_file = home / "ticketctl.db"

    def environ(self, now: str, user: str = "dora") -> dict[str, str]:
        return {"TICKETCTL_HOME": str(self.home), "TICKETCTL_NOW": now, "TICKETCTL_USER": user}

    def __call__(self, *argv: str, now: str, user: str = "dora") -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(argv), env=Env.from_environ(self.environ(now, user)))
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *argv: str, now: str, user: str = "dora") -> str:
        code, out, err = self(*argv, now=now, user=user)
        assert code == errors.OK, err
        return out

    def json(self, *argv: str, now: str, user: str = "dora") -> Any:
        code, out, err = self(*argv, "--json", now=now, user=user)
        assert (code, err) == (errors.OK, ""), err
        return json.loads(out)

    def new(self, title: str, at: str, *opts: str, product: str = "hvac") -> str:
        return str(self.json("new", title, "--type", "repair", "--dept", "facilities", "--product", product, *opts,
                             now=at)["key"])

    def sweep(self, at: str, *opts: str) -> dict[str, Any]:
        r = self.json("sweep", *opts, now=at)
        assert set(r) == {"at", "dry_run", "actions", "more", "breached", "notifications"}
        assert all(list(a) == ["key", "rule", "to", "message", "notified", "unreached"] for a in r["actions"])
        return dict(r)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(self.store_file)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        return {t: self.rows(f"SELECT * FROM {t} ORDER BY 1")
                for t in ("meta", "events", "tickets", "technicians", "notifications")}

    def escalations(self, key: str) -> list[str]:
        return [json.loads(p)["rule"] for (p,) in self.rows(
            "SELECT payload FROM events WHERE ticket = ? AND type = 'ticket.escalated' ORDER BY seq", (key,))]

    def differences(self, now: str) -> list[str]:
        env = Env.from_environ(self.environ(now))
        try:
            return differences(env.store, env.config)
        finally:
            env.close()


@pytest.fixture()
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "home", capsys)


def mon(hhmm: str) -> str:
    return f"2026-03-02T{hhmm}:00Z"


def test_acceptance_an_unclaimed_urgent_ticket_is_escalated_once(cli: Cli) -> None:
    key = cli.new("Server room too hot", mon("09:10"), "--priority", "urgent", "--skills", "cryogenics")
    r = cli.sweep(mon("11:15"))
    assert r["at"] == mon("11:15") and r["dry_run"] is False
    silent = [a for a in r["actions"] if a["rule"] == "silent"]
    assert silent == [{"key": key, "rule": "silent", "to": ["supervisor"], "message":
                       f"{key} urgent, unassigned 2h05 with resolution overdue by 5m (target 2h): Server room too hot",
                       "notified": [], "unreached": ["supervisor"]}]  # no notify target configured: no one is told
    assert cli.escalations(key) == ["silent", "response_breached", "resolve_breached"]
    assert cli.sweep(mon("11:15"))["actions"] == []
    assert [a for a in cli.sweep(mon("11:20"))["actions"] if a["key"] == key] == []
    assert cli.escalations(key) == ["silent", "response_breached", "resolve_breached"]
    t = cli.json("show", key, now=mon("11:20"))
    assert set(t["escalations"]) == {"silent", "response_breached", "resolve_breached"}
    assert t["updated_at"] == mon("09:10")  # escalations are not an update to the work
    assert cli.differences(mon("11:20")) == []


def every_rule_store(cli: Cli) -> dict[str, str]:
    """One ticket (or five) per rule, all due at Monday 15:30. Returns name -> key."""
    cli.ok("tech", "add", "ana", "--skills", "hvac", now="2026-02-26T08:00:00Z")
    cli.ok("tech", "add", "bob", "--skills", "hvac", now="2026-02-26T08:00:00Z")
    cli.ok("tech", "add", "cem", "--skills", "plumbing", now="2026-02-26T08:00:00Z")
    k: dict[str, str] = {}
    # blocked for approval since Friday: limit 2d; its 8 h clock ran out on Thursday
    k["approval"] = cli.new("Chiller valve", "2026-02-26T09:00:00Z", "--priority", "high")
    cli.ok("assign", k["approval"], "ana", now="2026-02-26T09:05:00Z")
    cli.ok("start", k["approval"], now="2026-02-26T09:10:00Z", user="ana")
    cli.ok("block", k["approval"], "--reason", "awaiting_approval", now="2026-02-27T10:00:00Z", user="ana")
    # in progress since 09:10 without an update; 1h30 of 8h left at 15:30
    k["quiet"] = cli.new("Fan bearing", mon("09:00"), "--priority", "high")
    cli.ok("assign", k["quiet"], "ana", now=mon("09:05"))
    cli.ok("start", k["quiet"], now=mon("09:10"), user="ana")
    # waiting for the network team, deadline noon
    k["collab"] = cli.new("Controller offline", mon("09:00"), "--priority", "low")
    cli.ok("assign", k["collab"], "bob", now=mon("09:05"))
    cli.ok("start", k["collab"], now=mon("09:30"), user="bob")
    cli.ok("block", k["collab"], "--reason", "awaiting_collaboration", "--collaborator", "network", "--deliverable",
           "a port on the BMS VLAN", "--deadline", "2026-03-02T12:00", "--expect", "controller reachable",
           now=mon("10:00"), user="bob")
    # five alike (low: no SLA trouble), one batch
    k.update({f"b{i}": cli.new(f"Printer jams {i}", mon(f"10:{i}0"), "--priority", "low", "--fault", "paper jam",
                               "--zone", "east-01", product="printer") for i in range(5)})
    k["risk"] = cli.new("Dripping tap", mon("11:35"))  # medium: 5 of 240 response minutes left at 15:30
    k["silent"] = cli.new("Server room too hot", mon("13:20"), "--priority", "urgent", "--skills", "cryogenics")
    # approvals waiting since 08:30 and 11:00 (with APPROVALS_6H: past the 6 h limit, past half of it)
    for name, at in (("late", "08:30"), ("remind", "11:00")):
        k[name] = cli.new(f"Valve {name}", mon(at), "--priority", "low")
        cli.ok("assign", k[name], "cem", now=mon(at))
        cli.ok("start", k[name], now=mon(at), user="cem")
        cli.ok("approval", "request", k[name], "--cost", "120", "--what", "new valve", now=mon(at), user="cem")
    return k


#: who approves, and a 6-hour limit on the small path's step, for the approval rules of the every-rule store
APPROVALS_6H = ('[approvals.approvers]\nsupervisor = "sam"\nregional_manager = "rita"\n'
                '[[approvals.rules.small.steps]]\nany_of = ["supervisor"]\nlimit = "6h"\n')


EVERY_RULE_AT = mon("15:30")


def expected_every_rule(k: dict[str, str], batch_key: str) -> list[tuple[str, str, list[str]]]:
    return [
        (k["silent"], "silent", ["sam"]),
        (k["silent"], "response_breached", ["sam"]),
        (k["risk"], "response_at_risk", ["sam"]),
        (k["approval"], "resolve_breached", ["sam", "ana"]),
        (k["silent"], "resolve_breached", ["sam"]),
        (k["quiet"], "resolve_at_risk", ["sam", "ana"]),
        (k["quiet"], f"stall@{mon('09:10')}", ["ana"]),
        (k["approval"], "blocked_too_long@2026-02-27T10:00:00Z", ["sam", "ana"]),
        (k["collab"], f"collab_deadline@{mon('10:00')}", ["sam", "network"]),
        (k["remind"], "approval_reminder@1.0", ["sam"]),
        (k["late"], "approval_overdue@1.0", ["rita"]),
        (batch_key, "batch", ["sam"]),
    ]


def test_every_rule_fires_once_and_the_log_still_replays(cli: Cli) -> None:
    cli.home.mkdir(parents=True)
    (cli.home / "config.toml").write_text('[dispatch.departments.facilities]\nsupervisor = "sam"\n' + APPROVALS_6H)
    k = every_rule_store(cli)
    r = cli.sweep(EVERY_RULE_AT)
    batch_key = r["actions"][-1]["key"]
    assert [(a["key"], a["rule"], a["to"]) for a in r["actions"]] == expected_every_rule(k, batch_key)
    assert {a["rule"].split("@")[0] for a in r["actions"]} == set(sweep.RULES)
    assert r["breached"] == {"response": 1, "resolve": 2}

    events = cli.rows("SELECT count(*) FROM events")[0][0]
    assert cli.sweep(EVERY_RULE_AT)["actions"] == []
    assert cli.sweep(mon("15:31"))["actions"] == []
    assert cli.rows("SELECT count(*) FROM events")[0][0] == events
    assert cli.differences(mon("15:31")) == []

    # what the run wrote: one mutation per ticket, the stall question, the batch and its links
    assert cli.escalations(k["approval"]) == ["resolve_breached", "blocked_too_long@2026-02-27T10:00:00Z"]
    muts = cli.rows("SELECT count(DISTINCT mutation_id) FROM events WHERE ticket = ? AND at = ?",
                    (k["approval"], EVERY_RULE_AT))
    assert muts == [(1,)]
    q = cli.json("show", k["quiet"], now=mon("15:31"))
    assert q["stall_check"] == {"at": EVERY_RULE_AT, "holder": "ana",
                                "choices": ["awaiting_parts", "awaiting_customer", "technician_away", "still_working"]}
    b = cli.json("show", batch_key, now=mon("15:31"))
    kids = [k[f"b{i}"] for i in range(5)]
    assert (b["type"], b["title"], b["links"], b["priority"], b["status"]) == (
        "batch", "Batch: 5 x paper jam on printer in east-01", kids, "low", "new")
    assert {cli.json("show", c, now=mon("15:31"))["parent"] for c in kids} == {batch_key}

    # later the response clock of "risk" runs out: a new rule, fired once
    later = cli.sweep(mon("15:40"))
    assert [(a["key"], a["rule"]) for a in later["actions"]] == [(k["risk"], "response_breached")]
    assert cli.sweep(mon("15:40"))["actions"] == []
    assert cli.differences(mon("15:40")) == []


def test_dry_run_writes_nothing_and_shows_what_the_run_will_do(cli: Cli) -> None:
    every_rule_store(cli)
    before = cli.snapshot()
    dry = cli.sweep(EVERY_RULE_AT, "--dry-run")
    assert dry["dry_run"] is True and len(dry["actions"]) == 10
    assert cli.snapshot() == before
    real = cli.sweep(EVERY_RULE_AT)
    assert real["actions"] == dry["actions"]  # the batch parent's key included
    assert cli.snapshot() != before


def test_notifications_are_queued_with_the_escalation(cli: Cli) -> None:
    cli.home.mkdir(parents=True)
    (cli.home / "config.toml").write_text(
        "[notify]\ntries_per_run = 1\n"
        '[notify.targets.ops]\nurl = "http://127.0.0.1:9/hook"\nrules = ["silent", "blocked_too_long"]\n')
    k = every_rule_store(cli)
    r = cli.sweep(EVERY_RULE_AT)
    assert r["notifications"]["queued"] == 2
    rows = cli.rows("SELECT ticket, rule, target, created_at FROM notifications ORDER BY id")
    assert rows == [(k["silent"], "silent", "ops", EVERY_RULE_AT), (k["approval"], "blocked_too_long", "ops", EVERY_RULE_AT)]
    assert cli.sweep(EVERY_RULE_AT)["notifications"]["queued"] == 0
    assert len(cli.rows("SELECT id FROM notifications")) == 2


def test_fail_on_breach_exits_1_after_doing_its_work(cli: Cli) -> None:
    key = cli.new("Server room too hot", mon("09:10"), "--priority", "urgent")
    code, out, err = cli("sweep", "--json", "--fail-on-breach", now=mon("09:20"))
    assert (code, json.loads(out)["breached"], err) == (0, {"response": 0, "resolve": 0}, "")
    code, out, err = cli("sweep", "--json", "--fail-on-breach", now=mon("11:15"))
    assert code == errors.REFUSED
    assert {a["rule"] for a in json.loads(out)["actions"]} == {"silent", "response_breached", "resolve_breached"}
    assert err == ("ticketctl: error: SLA breached: open tickets past their response target: 1,"
                   " past their resolution target: 1\n")
    assert cli.escalations(key) == ["silent", "response_breached", "resolve_breached"]  # written despite exit 1
    code, out, err = cli("sweep", "--fail-on-breach", now=mon("11:16"))  # still breached: still 1
    assert code == errors.REFUSED and out == ""


NOBODY = " (no one notified: no notification target configured)"


def test_human_output_one_line_per_action_and_a_summary(cli: Cli) -> None:
    key = cli.new("Server room too hot", mon("09:10"), "--priority", "urgent")
    code, out, err = cli("sweep", now=mon("11:15"))
    assert code == 0
    assert out.splitlines() == [
        f"{key}  silent  -> supervisor{NOBODY}  {key} urgent, unassigned 2h05 with resolution overdue by 5m (target 2h):"
        " Server room too hot",
        f"{key}  response_breached  -> supervisor{NOBODY}  {key} urgent, no response yet, overdue by 1h50 (target 15m),"
        " unassigned: Server room too hot",
        f"{key}  resolve_breached  -> supervisor{NOBODY}  {key} urgent, resolution overdue by 5m (target 2h), new, unassigned:"
        " Server room too hot",
    ]
    assert err.startswith("sweep at 2026-03-02T11:15:00Z: 3 escalations, 0 stall checks, 0 batches;"
                          " breached now: 1 response, 1 resolution; notifications: 0 queued")
    assert err.count("\n") == 2  # and the hint: no target is configured
    assert err.splitlines()[1] == ("ticketctl: 3 of the sweep's actions reached no one; add [notify.targets.NAME] with a `url`"
                                   " to config.toml and check it with `ticketctl notify test`")
    code, out, err = cli("sweep", "--dry-run", now=mon("11:16"))
    assert (code, out) == (0, "") and err.startswith("sweep (dry run, nothing written) at 2026-03-02T11:16:00Z: 0 escalations")


# -- stall checks and why ----------------------------------------------------------------------------------


def stalled_store(cli: Cli, n: int) -> list[str]:
    cli.ok("tech", "add", "ana", "--skills", "hvac", "--capacity", "5", now=mon("08:00"))
    keys = []
    for i in range(n):
        key = cli.new(f"Fan {i}", mon("09:00"))
        cli.ok("assign", key, "ana", now=mon("09:05"))
        cli.ok("start", key, now=mon("09:10"), user="ana")
        keys.append(key)
    return keys


def test_why_awaiting_parts_blocks_and_technician_away_hands_back(cli: Cli) -> None:
    parts, away, working = stalled_store(cli, 3)
    assert [a["rule"] for a in cli.sweep(mon("13:09"))["actions"]] == []
    r = cli.sweep(mon("13:10"))
    assert [(a["key"], a["rule"], a["to"]) for a in r["actions"]] == [
        (key, f"stall@{mon('09:10')}", ["ana"]) for key in (parts, away, working)]
    assert cli.sweep(mon("17:30"))["actions"] == []  # the question is open: not asked again

    t = cli.json("why", parts, "awaiting_parts", now=mon("13:30"), user="ana")
    assert (t["status"], t["blocked_reason"], t["block"], t["stall_check"]) == (
        "blocked", "awaiting_parts", {"note": "answer to a stall check"}, None)
    out = cli.ok("why", away, "technician_away", now=mon("13:31"), user="ana")
    assert out == f"{away} new  Fan 1\n"
    t = cli.json("show", away, now=mon("13:31"))
    assert (t["status"], t["assignee"], t["stall_check"]) == ("new", None, None)
    assert [e["type"] for e in t["timeline"]][-3:] == ["ticket.stall_check", "ticket.stall_answered", "ticket.unassigned"]

    # still working: the stall clock restarts from the answer, and asks again 4 h later
    t = cli.json("why", working, "still_working", now=mon("13:40"), user="ana")
    assert (t["status"], t["updated_at"], t["stall_check"]) == ("in_progress", mon("13:40"), None)
    assert [a for a in cli.sweep(mon("17:39"))["actions"] if a["key"] == working] == []
    again = [a for a in cli.sweep(mon("17:40"))["actions"] if a["key"] == working]
    assert [a["rule"] for a in again] == [f"stall@{mon('13:40')}"]
    assert cli.differences(mon("17:40")) == []


def test_why_is_refused_without_an_open_stall_check(cli: Cli) -> None:
    (key,) = stalled_store(cli, 1)
    code, out, err = cli("why", key, "awaiting_parts", now=mon("10:00"), user="ana")
    assert (code, out) == (errors.REFUSED, "")
    assert err == f"ticketctl: error: {key} has no open stall check (sweep asks after 4h without an update)\n"
    cli.sweep(mon("13:10"))
    code, out, err = cli("why", key, "lunch", now=mon("13:20"), user="ana")
    assert (code, out) == (errors.BAD_INPUT, "")
    assert err.startswith("ticketctl: error: unknown answer 'lunch'")


# -- batches over time -------------------------------------------------------------------------------------


def test_a_batch_is_created_once_and_a_sixth_ticket_does_not_make_another(cli: Cli) -> None:
    def alike(at: str) -> str:
        return cli.new("Noise", at, "--priority", "low", "--fault", "noise", "--zone", "east-01")

    first = [alike(mon(f"09:{m:02d}")) for m in range(0, 50, 10)]
    r = cli.sweep(mon("10:00"))
    (b,) = [a for a in r["actions"] if a["rule"] == "batch"]
    assert b["message"] == f"Batch: 5 x noise on hvac in east-01: {', '.join(first)}"
    assert cli.sweep(mon("10:00"))["actions"] == []

    sixth = alike(mon("10:30"))
    assert [a for a in cli.sweep(mon("10:31"))["actions"] if a["rule"] == "batch"] == []
    assert cli.json("show", sixth, now=mon("10:31"))["parent"] is None
    more = [alike(mon(f"11:{m:02d}")) for m in range(0, 40, 10)]
    r = cli.sweep(mon("11:40"))
    (b2,) = [a for a in r["actions"] if a["rule"] == "batch"]
    assert b2["key"] != b["key"]
    assert cli.json("show", b2["key"], now=mon("11:40"))["links"] == [sixth, *more]
    batches = cli.rows("SELECT count(*) FROM tickets WHERE type = 'batch'")
    assert batches == [(2,)]
    assert cli.differences(mon("11:40")) == []


# -- the SQL pre-selection misses nothing ---------------------------------------------------------------------


def random_ticket(rng: random.Random, n: int) -> Ticket:
    status = rng.choice(["new", "assigned", "in_progress", "blocked", "resolved", "closed"])
    pri = rng.choice(["urgent", "high", "medium", "low"])
    resp, res = CFG.sla_seconds(pri)
    age = rng.randrange(0, 6 * 86_400)
    created = NOW - timedelta(seconds=age)
    c_bt = CFG.business_calendar.ordinal(created)
    t = ticket(key=f"RND-{n}", priority=pri, status=status, created_at=iso(created),
               updated_at=iso(created + timedelta(seconds=rng.randrange(0, age + 1))),
               status_since=iso(created + timedelta(seconds=rng.randrange(0, age + 1))),
               response_due_bt=c_bt + resp, resolve_target_s=res, resolve_due_bt=c_bt + res,
               product=rng.choice(["hvac", "printer"]), fault=rng.choice(["noise", "leak", ""]),
               zone=rng.choice(["east-01", "west-02"]))
    if status != "new":
        t = replace(t, assignee="ana", first_response_at=rng.choice([None, t.updated_at]))
    if status == "blocked":
        reason = rng.choice(["awaiting_parts", "awaiting_customer", "awaiting_collaboration"])
        since = iso(NOW - timedelta(seconds=rng.randrange(0, 5 * 86_400)))
        block = {"deadline": iso(NOW + timedelta(seconds=rng.randrange(-86_400, 86_400))), "collaborator": "it"} \
            if reason == "awaiting_collaboration" else {}
        t = replace(t, blocked_reason=reason, blocked_since=since, block=block)
        if reason == "awaiting_customer":
            t = replace(t, resolve_left_s=t.resolve_due_bt - BT if t.resolve_due_bt else 0, resolve_due_bt=None)
    if status in ("resolved", "closed"):
        t = replace(t, resolve_left_s=(t.resolve_due_bt or 0) - BT, resolve_due_bt=None)
    if status == "in_progress" and rng.random() < 0.3:
        t = replace(t, stall={"at": t.updated_at, "choices": [], "holder": "ana"})
    if rng.random() < 0.3:
        t = replace(t, parent="RND-0")
    # some rules already fired
    fired_rules = [a.rule for a in sweep.ticket_actions(t, NOW, CFG)]
    return replace(t, escalations={r: iso(NOW) for r in fired_rules if rng.random() < 0.5})


def test_sql_candidates_are_a_superset_of_what_the_rules_act_on(tmp_path: Path) -> None:
    rng = random.Random(7)
    tickets = [random_ticket(rng, n) for n in range(1500)]
    with Store(tmp_path / "t.db") as st:
        with st.transaction():
            st.put_tickets(tickets)
        everything = sweep.plan(tickets, NOW, CFG)
        picked, pool, more = sweeping.candidates(st, CFG, NOW)
        assert len(picked) < len(tickets) and not more
        assert sweep.plan(picked, NOW, CFG, [t for t in picked if t.key in pool]) == everything
        assert {a.base_rule for a in everything} >= {"silent", "response_breached", "resolve_breached", "stall",
                                                     "blocked_too_long", "collab_deadline", "batch"}
        want = {"response": sum(t.status in ("new", "assigned", "in_progress", "blocked") and t.first_response_at is None
                                and t.response_due_bt < BT for t in tickets),
                "resolve": sum(t.status in ("new", "assigned", "in_progress", "blocked")
                               and (sla_left(t, BT) or 0) < 0 for t in tickets)}
        assert sweeping.breach_counts(st, CFG, NOW) == want


def test_a_capped_run_leaves_the_rest_for_the_next_run_most_urgent_first(tmp_path: Path) -> None:
    rng = random.Random(11)
    tickets = [random_ticket(rng, n) for n in range(400)]
    cfg = replace(CFG, sweep=replace(CFG.sweep, max_tickets=25, batch_size=10**6))  # only the capped per-ticket path
    everything = {(a.key, a.rule) for a in sweep.plan(tickets, NOW, CFG) if a.batch is None}
    with Store(tmp_path / "t.db") as st:
        with st.transaction():
            st.put_tickets(tickets)
        first, _, more = sweeping.candidates(st, cfg, NOW)
        assert more
        per_ticket = [t for t in first if t.key in {k for k, _ in everything}]
        ranks = {p: i for i, p in enumerate(("urgent", "high", "medium", "low"))}
        worst_taken = max(ranks[t.priority] for t in per_ticket)
        left = {k for k, _ in everything} - {t.key for t in first}
        assert left and all(ranks[t.priority] >= worst_taken for t in tickets if t.key in left)


def test_a_capped_run_takes_batch_groups_whole(tmp_path: Path) -> None:
    from ticketctl.services import sweep as service
    from ticketctl.services import tickets as ticket_service
    from ticketctl.services.env import Env

    (tmp_path / "config.toml").write_text("[sweep]\nmax_tickets = 7\n")
    for i in range(12):
        env = Env.from_environ({"TICKETCTL_HOME": str(tmp_path), "TICKETCTL_NOW": f"2026-03-02T09:{i:02d}:00Z"})
        ticket_service.create(env, {"title": f"t{i}", "type": "repair", "dept": "fac", "product": "hvac",
                                    "fault": "noise" if i % 2 else "leak", "zone": "east"})
        env.close()
    sizes = []
    for minute in ("10:00", "10:01", "10:02"):
        env = Env.from_environ({"TICKETCTL_HOME": str(tmp_path), "TICKETCTL_NOW": f"2026-03-02T{minute}:00Z"})
        r = service.sweep(env)
        parents = [a["key"] for a in r["actions"] if a["rule"] == "batch"]
        sizes.append([len(env.store.ticket(k).links) for k in parents])
        env.close()
    assert sizes == [[6], [6], []]  # one whole group per run, never a partial batch

"""Approvals on one device: each tier's path, all-of and any-of steps, the
quote a large request needs, delegation, the sweep's reminder and escalation,
rejection back to the holder; the commands and their JSON contract."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_cli import Cli
from test_workflow import World

from ticketctl.core import approvals as rules
from ticketctl.core.config import config_from_dict
from ticketctl.errors import BadInput, Refused
from ticketctl.services import approvals, rebuild, sweep, techs, tickets

APPROVERS = '[approvals.approvers]\nsupervisor = "sam"\nregional_manager = "rita"\nfinance_director = "fred"\n'
MONDAY = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path / "home")
    (world.root / "config.toml").write_text('[calendar]\ntimezone = "Europe/Berlin"\n' + APPROVERS)
    world.do(techs.add, "ana")
    yield world
    assert rebuild.differences(world.store, world.cfg) == []


@pytest.fixture
def quote(tmp_path: Path) -> str:
    f = tmp_path / "quote.pdf"
    f.write_bytes(b"%PDF-1.4 quote for a new compressor")
    return str(f)


def started(w: World) -> str:
    key = w.new(title="compressor dead")
    w.do(tickets.assign, key, "ana")
    w.do(tickets.start, key, user="ana")
    return key


def steps(w: World, key: str) -> list[tuple[Any, ...]]:
    return [(s["stage"], s["role"], s["approvers"], s["status"], s["by"], s["for"]) for s in w.do(approvals.show, key)["steps"]]


@pytest.mark.parametrize(("cost", "rule", "path"), [
    (120, "small", [(1, "supervisor", ["sam"])]),
    (499.99, "small", [(1, "supervisor", ["sam"])]),
    (500, "medium", [(1, "supervisor", ["sam"]), (1, "regional_manager", ["rita"])]),
    (4999, "medium", [(1, "supervisor", ["sam"]), (1, "regional_manager", ["rita"])]),
    (5000, "large", [(1, "supervisor", ["sam"]), (1, "regional_manager", ["rita"]), (2, "finance_director", ["fred"])]),
])
def test_each_tier_takes_its_path_and_blocks_the_ticket(w: World, quote: str, cost: float, rule: str, path: list[Any]) -> None:
    key = started(w)
    t = w.do(approvals.request, key, cost, "replace compressor", [quote], user="ana")
    assert (t["status"], t["blocked_reason"], t["approval"]["rule"]) == ("blocked", "awaiting_approval", rule)
    assert [s[:3] for s in steps(w, key)] == path
    assert {s[3] for s in steps(w, key)} == {"pending"}


def test_a_large_request_without_the_quote_is_refused_naming_it(w: World) -> None:
    key = started(w)
    before = w.snapshot()
    with pytest.raises(Refused, match="needs quote attached"):
        w.do(approvals.request, key, 6000, "replace compressor", user="ana")
    assert w.snapshot() == before and w.status(key) == "in_progress"


def test_every_step_of_an_all_of_stage_needs_its_own_approver_then_the_next_stage_opens(w: World, quote: str) -> None:
    key = started(w)
    w.do(approvals.request, key, 6000, "replace compressor", [f"quote={quote}"], user="ana")
    with pytest.raises(Refused, match="fred may not decide"):
        w.do(approvals.approve, key, user="fred")  # stage 2 is not open yet
    w.do(approvals.approve, key, user="sam", minutes=5)
    with pytest.raises(Refused, match="sam already approved a step of this stage"):
        w.do(approvals.approve, key, user="sam")
    assert w.status(key) == "blocked"
    w.do(approvals.approve, key, "within budget", user="rita", minutes=5)
    assert w.status(key) == "blocked"  # the finance director is still to come
    assert [p["steps"][0]["role"] for p in w.do(approvals.pending)] == ["finance_director"]
    t = w.do(approvals.approve, key, user="fred", minutes=5)
    assert (t["status"], t["approval"]["status"]) == ("in_progress", "approved")  # unblocked by itself
    assert [s[3:5] for s in steps(w, key)] == [("approved", "sam"), ("approved", "rita"), ("approved", "fred")]
    with pytest.raises(Refused, match=r"approval #1 of .* was already approved by fred"):
        w.do(approvals.approve, key, user="sam")


def test_unblocking_by_hand_is_refused_while_the_request_waits(w: World) -> None:
    key = started(w)
    w.do(approvals.request, key, 100, "new filter", user="ana")
    with pytest.raises(Refused, match="waits for approval #1 \\(sam\\)"):
        w.do(tickets.unblock, key, user="ana")


def test_a_rejection_returns_the_ticket_to_its_holder_with_the_reason(w: World) -> None:
    key = started(w)
    w.do(approvals.request, key, 800, "new fan motor", user="ana")
    with pytest.raises(BadInput, match="needs --reason"):
        w.do(approvals.reject, key, "", user="rita")
    t = w.do(approvals.reject, key, "clean and re-grease the old motor first", user="rita", minutes=30)
    assert (t["status"], t["assignee"], t["blocked_reason"]) == ("in_progress", "ana", None)
    a = w.do(approvals.show, key)
    assert (a["status"], a["reason"]) == ("rejected", "clean and re-grease the old motor first")
    assert w.events(key)[-1].payload == {"note": "clean and re-grease the old motor first"}  # the unblock says why
    again = w.do(approvals.request, key, 300, "grease and bearings", user="ana", minutes=5)
    assert (again["approval"]["n"], again["approval"]["rule"]) == (2, "small")
    assert [r["n"] for r in w.do(approvals.show, key)["earlier"]] == [1]


def test_a_delegate_approves_for_the_absent_approver_and_nobody_else_can(w: World) -> None:
    key = started(w)
    w.do(approvals.request, key, 200, "thermostat", user="ana")
    w.do(approvals.delegate, "sam", "lee", "2024-03-04T00:00:00Z", "2024-03-08T00:00:00Z", user="sam")
    assert [r["key"] for r in w.do(approvals.pending, True, user="lee")] == [key]  # the request reaches the delegate
    assert w.do(approvals.pending, True, user="bob") == []
    with pytest.raises(Refused, match="bob may not decide"):
        w.do(approvals.approve, key, user="bob")
    w.do(approvals.approve, key, user="lee", minutes=10)
    assert steps(w, key) == [(1, "supervisor", ["sam"], "approved", "lee", "sam")]


def test_a_delegation_only_counts_within_its_dates_and_until_it_ends(w: World) -> None:
    key = started(w)
    w.do(approvals.request, key, 200, "thermostat", user="ana")
    w.do(approvals.delegate, "sam", "lee", "2024-03-05T00:00:00Z", "2024-03-06T00:00:00Z", user="sam")
    with pytest.raises(Refused, match="lee may not decide"):
        w.do(approvals.approve, key, user="lee")  # not yet
    w.now = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    w.do(approvals.undelegate, "sam", user="sam")
    with pytest.raises(Refused, match="lee may not decide"):
        w.do(approvals.approve, key, user="lee")  # ended early
    with pytest.raises(BadInput, match="their own delegate"):
        w.do(approvals.delegate, "sam", "sam", "2024-03-05T00:00:00Z", "2024-03-06T00:00:00Z")


def test_a_step_past_half_its_limit_reminds_and_past_its_limit_escalates_once(w: World) -> None:
    """The limit is business time (2 days = 20 h of a 10-hour day): a weekend
    in between does not count."""
    w.now = datetime(2024, 3, 7, 7, 59, tzinfo=UTC)  # the request: Thursday 09:00 Berlin (new takes a minute)
    key = started(w)
    w.do(approvals.request, key, 100, "thermostat", user="ana")
    w.do(approvals.delegate, "sam", "lee", "2024-03-07T00:00:00Z", "2024-03-20T00:00:00Z", user="sam")

    def run(at: datetime) -> list[tuple[str, list[str]]]:
        w.now = at
        r = w.do(sweep.sweep)
        return [(a["rule"], a["to"]) for a in r["actions"] if a["key"] == key and a["rule"].startswith("approval")]

    assert run(datetime(2024, 3, 7, 17, 0, tzinfo=UTC)) == []  # Thursday 18:00 Berlin: 9 business hours of 20
    assert run(datetime(2024, 3, 7, 22, 0, tzinfo=UTC)) == []  # the night does not count
    assert run(datetime(2024, 3, 8, 8, 0, tzinfo=UTC)) == [("approval_reminder@1.0", ["sam", "lee"])]  # Friday 09:00: 10 h, half
    assert run(datetime(2024, 3, 8, 16, 0, tzinfo=UTC)) == []  # reminded once; 18 h
    assert run(datetime(2024, 3, 11, 8, 0, tzinfo=UTC)) == []  # Monday 09:00: 9 + 10 + 1 = 20 h, the weekend did not count
    assert run(datetime(2024, 3, 11, 8, 1, tzinfo=UTC)) == [("approval_overdue@1.0", ["rita"])]  # past it: the manager
    assert run(datetime(2024, 3, 12, 9, 0, tzinfo=UTC)) == []  # once
    w.now += timedelta(minutes=1)
    w.do(approvals.approve, key, user="lee")
    assert w.status(key) == "in_progress"


def test_the_path_follows_type_department_and_customer_class_rules() -> None:
    cfg = config_from_dict({"approvals": {
        "approvers": {"supervisor": "sam", "regional_manager": "rita", "finance_director": "fred", "vip_desk": "vera"},
        "classes": {"vip": ["ACME"]},
        "rules": {"vip": {"order": -1, "customer_classes": ["vip"], "steps": [{"any_of": ["vip_desk", "@boss"]}]}}}})
    from ticketctl.core.model import Ticket

    t = Ticket(key="T-1", title="x", type="repair", dept="it", product="pc", created_at="", updated_at="", customer="ACME")
    assert rules.choose_rule(cfg, t, 99_999) == "vip"
    assert [(s["role"], s["approvers"]) for s in rules.plan(cfg, "vip")] == [("vip_desk|@boss", ["boss", "vera"])]
    other = Ticket(key="T-2", title="x", type="repair", dept="it", product="pc", created_at="", updated_at="", customer="Bob")
    assert rules.choose_rule(cfg, other, 99_999) == "large"
    with pytest.raises(ValueError, match="give either all_of or any_of"):
        config_from_dict({"approvals": {"rules": {"odd": {"steps": [{"all_of": ["a"], "any_of": ["b"]}]}}}})


# -- the commands -----------------------------------------------------------------------------


@pytest.fixture()
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    c = Cli(tmp_path / "home", capsys)
    c.home.mkdir(parents=True)
    c.config_file.write_text(APPROVERS)
    c.ok("tech", "add", "ana")
    return c


def test_approval_show_json_is_the_contract(cli: Cli, quote: str) -> None:
    key = cli.new("Compressor dead")
    cli.ok("assign", key, "ana")
    cli.ok("start", key)
    cli.fails(1, "approval", "request", key, "--cost", "6000", "--what", "replace compressor",
              message="the large path for 6,000 needs quote attached: --attach quote=FILE")
    t = cli.json("approval", "request", key, "--cost", "6000", "--what", "replace compressor", "--attach", quote)
    assert t["approval"]["attachments"][0]["label"] == "quote"
    cli.ok("delegate", "rita", "--to", "lee", "--until", "2026-03-10T00:00:00Z")
    cli.json("approval", "approve", key, user="sam")
    assert [r["key"] for r in cli.json("approval", "list", "--mine", user="lee")] == [key]
    cli.json("approval", "approve", key, "--note", "fine", user="lee")
    a = cli.json("approval", "show", key)
    assert [{k: s[k] for k in ("role", "approvers", "status", "by", "for")} for s in a["steps"]] == [
        {"role": "supervisor", "approvers": ["sam"], "status": "approved", "by": "sam", "for": None},
        {"role": "regional_manager", "approvers": ["rita"], "status": "approved", "by": "lee", "for": "rita"},
        {"role": "finance_director", "approvers": ["fred"], "status": "pending", "by": None, "for": None}]
    cli.fails(1, "approval", "approve", key, user="sam")
    out = cli.ok("approval", "list").out
    assert "finance_director" in out and "fred" in out
    r = cli.json("approval", "reject", key, "--reason", "too dear", user="fred")
    assert (r["status"], r["approval"]["status"]) == ("in_progress", "rejected")
    assert "rejected: too dear" in cli.ok("approval", "show", key).out
    cli.fails(1, "approval", "show", cli.new("Door"), message=None)

"""``report qa``: a reproducible sample of closed tickets, checked for evidence,
time consistency and confirmation, and recorded on the sampled tickets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cert import closed_repair
from test_cli import Cli
from test_evidence import NO_EXIF, T, started_repair

from ticketctl.core.config import Config
from ticketctl.core.evidence import qa_issues
from ticketctl.core.model import Ticket
from ticketctl.services.qa import pick


@pytest.fixture()
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "home", capsys)


def test_the_sample_is_reproducible_and_sized_by_the_rate() -> None:
    keys = [f"ABC-{i}" for i in range(1, 201)]
    a, b = pick(keys, 0.05, 7), pick(keys, 0.05, 7)
    assert a == b and len(a) == 10 and a == sorted(a) and set(a) <= set(keys)
    assert pick(keys, 0.05, 8) != a
    assert pick(keys, 0.001, 7) and len(pick(keys, 0.001, 7)) == 1  # at least one
    assert pick(keys, 1.0, 7) == sorted(keys)
    assert pick([], 0.5, 7) == []
    # the population's order does not matter, only its members
    assert pick(sorted(keys, reverse=True), 0.05, 7) == a
    assert pick(keys[:100], 0.1, 3) == pick(keys[:100], 0.1, 3)


def visit(cli: Cli) -> str:
    """A closed ticket of a type with no checklist and no confirmation."""
    key = cli.new("Site visit", type_="incident", now=T("09:00"))
    cli.ok("assign", key, "ana", now=T("09:01"))
    cli.ok("resolve", key, now=T("09:02"))
    cli.ok("close", key, now=T("09:03"))
    return key


def test_report_qa_checks_and_records(cli: Cli) -> None:
    good = closed_repair(cli)
    flagged = started_repair(cli, "Fan noisy")
    cli.ok("attach", flagged, NO_EXIF, now=T("10:00"))
    cli.ok("resolve", flagged, now=T("10:10"))
    cli.ok("confirm", flagged, "--rating", "4", "--rating", "4", "--rating", "4", "--comment", "fine, thank you",
           "--by", "Kim", now=T("10:20"))
    cli.ok("close", flagged, "--check", "function_test", "--check", "safety_reset", "--check", "parts_recorded",
           now=T("10:30"))
    plain = visit(cli)
    cli.new("still open", now=T("09:00"))
    before = {k: cli.ticket_row(k)["updated_at"] for k in (good, flagged, plain)}
    r = cli.json("report", "qa", "--rate", "1", "--seed", "3", now=T("12:00"))
    assert (r["seed"], r["rate"], r["closed"], r["sampled"], r["passed"]) == (3, 1.0, 3, 3, 2)
    by_key = {t["key"]: t for t in r["tickets"]}
    assert by_key[good] == {"key": good, "ok": True, "issues": {"evidence": [], "time": [], "confirmation": []}}
    assert by_key[flagged]["issues"] == {"evidence": ["no_exif.jpg: photo without a capture time"], "time": [],
                                         "confirmation": []}
    assert by_key[plain]["ok"] is True
    # recorded on each sampled ticket, as a system event (not an update to the work)
    for k in (good, flagged, plain):
        assert cli.event_types(k)[-1] == "ticket.qa_checked"
        assert cli.ticket_row(k)["updated_at"] == before[k]
        (qa,) = json.loads(cli.ticket_row(k)["qa"])
        assert (qa["run"], qa["seed"], qa["ok"], qa["at"]) == (r["run"], 3, by_key[k]["ok"], T("12:00"))
    (args,), = cli.rows("SELECT args FROM outbox WHERE name = 'qa.record'")
    assert json.loads(args)["results"] == r["tickets"]
    # the same seed again: the same sample
    again = cli.json("report", "qa", "--rate", "0.5", "--seed", "3", now=T("12:05"))
    assert [t["key"] for t in again["tickets"]] == pick(sorted([good, flagged, plain]), 0.5, 3)
    human = cli.ok("report", "qa", "--rate", "1", "--seed", "3", now=T("12:10")).out
    assert human.splitlines()[0].endswith("(seed 3): 3 of 3 closed tickets sampled, 2 passed")
    assert f"  {flagged}  FAIL  evidence: no_exif.jpg: photo without a capture time" in human


def test_bad_rates(cli: Cli) -> None:
    cli.new("x")
    cli.fails(2, "report", "qa", "--rate", "0", message="--rate 0 must be above 0 and at most 1 (0.05 is 5%)")
    cli.fails(2, "report", "qa", "--rate", "1.5", message="--rate 1.5 must be above 0 and at most 1 (0.05 is 5%)")
    r = cli.json("report", "qa", "--seed", "1")
    assert (r["closed"], r["sampled"], r["tickets"]) == (0, 0, [])


def test_qa_sees_time_and_confirmation_problems() -> None:
    """Closed tickets made by hand (as an import or an old store may hold them): the checks are pure."""
    cfg = Config()
    t = Ticket(key="ABC-1", title="t", type="repair", dept="d", product="p", created_at=T("09:00"), updated_at=T("11:00"),
               status="closed", resolved_at=T("10:00"), closed_at=T("11:00"),
               checks={"function_test": {"at": T("10:30"), "by": "ana"}, "safety_reset": {"at": T("12:00"), "by": "ana"}},
               evidence=[{"sha256": "a" * 64, "name": "old.jpg", "mime": "image/jpeg", "item": "function_test",
                          "captured_at": T("08:00"), "round": 0}])
    found = qa_issues(t, cfg)
    assert found["time"] == ["old.jpg: taken 150 min from the check of function_test",
                             "old.jpg: taken before the ticket was created",
                             f"safety_reset: checked outside the ticket's life ({T('12:00')})"]
    assert found["confirmation"] == ["closed without the customer's confirmation"]
    t.confirmation = {"ratings": {"solved": 1, "professional": 5, "on_time": 5}, "comment": "not fixed at all",
                      "by": "Kim", "via": "qr", "at": T("11:30")}
    found = qa_issues(t, cfg)
    assert found["confirmation"] == ["the customer rated problem solved 1/5"]
    assert f"confirmed at {T('11:30')}, outside resolved {T('10:00')} .. closed {T('11:00')}" in found["time"]

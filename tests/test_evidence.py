"""Evidence files through the CLI: stored once by hash, the EXIF time window,
flagged photos, items that need evidence, and the sync contract (the mutation
carries the ``sha256``; the decide part reads no file).

Photos come from ``tests/data`` (made by ``tests/data/make_photos.py``): relay
10:04 UTC, panel 10:02:30 UTC (EXIF offset +01:00), gauge 09:00 UTC, and one
without EXIF.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from store_versions import back_to
from test_cli import CONFIRM, REPAIR_CHECKS, Cli

from ticketctl.core.evidence import parse_exif_time
from ticketctl.services.mutations import REGISTRY
from ticketctl.store.schema import LATEST

DATA = Path(__file__).resolve().parent / "data"
RELAY, PANEL, GAUGE, NO_EXIF = (str(DATA / n) for n in ("relay_1004.jpg", "panel_1102_berlin.jpg", "gauge_0900.jpg",
                                                        "no_exif.jpg"))
RELAY_SHA = "6c8ddcf38a47fa9e990d928f1298f4e4b28b6594b7fd30f09988bd7dff489765"
T = "2026-03-02T{}:00Z".format


@pytest.fixture()
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "home", capsys)


def started_repair(cli: Cli, title: str = "AC not cooling") -> str:
    """A repair ticket held by ana, in progress since 09:30."""
    if not cli.store_file.exists() or not cli.rows("SELECT 1 FROM technicians WHERE name = 'ana'"):
        cli.ok("tech", "add", "ana", "--capacity", "10", now=T("08:00"))
    key = cli.new(title, now=T("09:00"))
    cli.ok("assign", key, "ana", now=T("09:10"))
    cli.ok("start", key, now=T("09:30"))
    return key


def blobs(cli: Cli) -> list[str]:
    root = cli.home / "blobs"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_exif_times_are_read_in_the_right_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert parse_exif_time("2026:03:02 11:02:30", None, berlin) == "2026-03-02T10:02:30Z"
    assert parse_exif_time("2026:03:02 11:02:30", "+01:00", ZoneInfo("UTC")) == "2026-03-02T10:02:30Z"
    assert parse_exif_time("2026:03:02 11:02:30", "-05:00", berlin) == "2026-03-02T16:02:30Z"
    assert parse_exif_time("2026:07:01 12:00:00", None, berlin) == "2026-07-01T10:00:00Z"  # summer time
    for junk in (None, "", "0000:00:00 00:00:00", "    :  :     :  :  ", "2026-03-02T10:00"):
        assert parse_exif_time(junk, None, berlin) is None


def test_attach_for_an_item_checks_it_and_stores_the_file_once(cli: Cli) -> None:
    key = started_repair(cli)
    r = cli.ok("attach", key, RELAY, "--for", "function_test", now=T("10:05"))
    assert r.out == (f"{key}: attached relay_1004.jpg for function_test (sha256 {RELAY_SHA[:12]}, 1988 bytes,"
                     " taken 2026-03-02T10:04:00Z); checked function_test\n")
    assert r.err == ""
    assert blobs(cli) == [f"{RELAY_SHA[:2]}/{RELAY_SHA}"]
    assert (cli.home / "blobs" / RELAY_SHA[:2] / RELAY_SHA).read_bytes() == Path(RELAY).read_bytes()
    row = cli.ticket_row(key)
    assert json.loads(row["evidence"]) == [{
        "sha256": RELAY_SHA, "name": "relay_1004.jpg", "size": 1988, "mime": "image/jpeg", "item": "function_test",
        "captured_at": T("10:04"), "at": T("10:05"), "by": "ana", "round": 0}]
    assert json.loads(row["checks"]) == {"function_test": {"at": T("10:05"), "by": "ana"}}
    assert cli.event_types(key)[-2:] == ["ticket.attached", "ticket.checked"]
    # the sync contract: one mutation, by name, whose args carry the facts of the file, sha256 by that name
    (name, args), = cli.rows("SELECT name, args FROM outbox WHERE name = 'ticket.attach'")
    assert json.loads(args) == {"key": key, "sha256": RELAY_SHA, "name": "relay_1004.jpg", "size": 1988,
                                "mime": "image/jpeg", "item": "function_test", "captured_at": T("10:04"), "at": T("10:05")}
    assert "ticket.attach" in REGISTRY
    # the same file on another ticket: a second record, still one blob
    other = started_repair(cli, "Fan noisy")
    cli.ok("attach", other, RELAY, now=T("10:06"))
    assert blobs(cli) == [f"{RELAY_SHA[:2]}/{RELAY_SHA}"]
    shown = cli.json("show", key, now=T("10:07"))
    assert shown["checklist"][0] == {"item": "function_test", "done": True, "at": T("10:05"), "by": "ana",
                                     "needs_evidence": False, "evidence": [RELAY_SHA]}
    assert [e["sha256"] for e in shown["evidence"]] == [RELAY_SHA]
    human = cli.ok("show", key, now=T("10:07")).out
    assert f"relay_1004.jpg {RELAY_SHA[:12]} for function_test taken {T('10:04')}" in human


def test_a_photo_outside_the_window_is_refused_with_the_gap(cli: Cli) -> None:
    key = started_repair(cli)
    cli.fails(1, "attach", key, GAUGE, "--for", "function_test", now=T("10:05"),
              message=f"cannot attach gauge_0900.jpg for function_test on {key}: taken 65 min from now, when it would"
                      f" check function_test; the window is 5m (EXIF time {T('09:00')})")
    assert blobs(cli) == []  # a refused attach leaves no file behind
    assert cli.rows("SELECT count(*) FROM outbox WHERE name = 'ticket.attach'") == [(0,)]
    # the edge of the window is inside it; a second past it is not
    cli.ok("attach", key, GAUGE, "--for", "function_test", now="2026-03-02T09:05:00Z")
    other = started_repair(cli, "Fan noisy")
    r = cli.fails(1, "attach", other, GAUGE, "--for", "function_test", now="2026-03-02T09:05:06Z")
    assert "taken 5.1 min from now" in r.err
    # a wider window from the config
    cli.config_file.write_text('[proof]\nphoto_window = "2h"\n')
    cli.ok("attach", other, GAUGE, "--for", "function_test", now=T("10:05"))


def test_check_then_attach_must_match_the_time_of_the_check(cli: Cli) -> None:
    key = started_repair(cli)
    cli.ok("attach", key, PANEL, "--for", "safety_reset", now=T("10:03"))  # checks safety_reset at 10:03
    r = cli.ok("attach", key, RELAY, "--for", "safety_reset", now=T("10:30"))  # 10:04: 1 min from that check
    assert r.out.endswith("taken 2026-03-02T10:04:00Z)\n")  # no new check
    assert json.loads(cli.ticket_row(key)["checks"])["safety_reset"]["at"] == T("10:03")
    cli.fails(1, "attach", key, GAUGE, "--for", "safety_reset", now=T("10:31"),
              message=f"cannot attach gauge_0900.jpg for safety_reset on {key}: taken 63 min from the check of"
                      f" safety_reset at {T('10:03')}; the window is 5m (EXIF time {T('09:00')})")
    cli.fails(1, "attach", key, RELAY, "--for", "safety_reset", now=T("10:32"),
              message=f"relay_1004.jpg is already attached to {key} for safety_reset")


def test_a_photo_without_exif_time_is_flagged_and_proves_nothing(cli: Cli) -> None:
    key = started_repair(cli)
    r = cli.ok("attach", key, NO_EXIF, "--for", "function_test", now=T("10:05"))
    assert r.err == "ticketctl: warning: no_exif.jpg has no EXIF capture time: attached but flagged; it proves no checklist item\n"
    assert "checked" not in r.out
    row = cli.ticket_row(key)
    assert json.loads(row["checks"]) == {}
    assert json.loads(row["evidence"])[0]["flag"] == "no_capture_time"
    shown = cli.json("show", key, now=T("10:06"))
    assert shown["checklist"][0]["evidence"] == [] and shown["evidence"][0]["flag"] == "no_capture_time"
    # a document is not a photo: no capture time, no flag
    doc = cli.home.parent / "report.txt"
    doc.write_text("pressure 4.2 bar after refill\n")
    cli.ok("attach", key, str(doc), "--for", "parts_recorded", now=T("10:10"))
    ev = json.loads(cli.ticket_row(key)["evidence"])[1]
    assert (ev["mime"], "flag" in ev, "captured_at" in ev) == ("text/plain", False, False)
    assert json.loads(cli.ticket_row(key)["checks"]) == {"parts_recorded": {"at": T("10:10"), "by": "ana"}}


def test_items_that_need_evidence_close_only_with_it(cli: Cli) -> None:
    cli.home.mkdir(parents=True)
    cli.config_file.write_text('[types.repair]\nevidence = ["function_test"]\n')
    key = started_repair(cli)
    cli.ok("resolve", key, now=T("10:00"))
    cli.ok(*CONFIRM, key, now=T("10:01"))
    checks = [a for c in REPAIR_CHECKS for a in ("--check", c)]
    cli.fails(1, "close", key, *checks, now=T("10:02"),
              message=f"cannot close {key}: evidence missing for function_test (attach FILE --for ITEM)")
    cli.ok("attach", key, NO_EXIF, "--for", "function_test", now=T("10:03"))  # flagged: still no proof
    cli.fails(1, "close", key, *checks, now=T("10:04"),
              message=f"cannot close {key}: evidence missing for function_test (attach FILE --for ITEM)")
    cli.ok("attach", key, RELAY, "--for", "function_test", now=T("10:06"))
    assert cli.json("close", key, "--check", "safety_reset", "--check", "parts_recorded", now=T("10:07"))["status"] == "closed"
    assert cli.json("show", key)["checklist"][0]["needs_evidence"] is True
    # a reopen starts a new round: the old files stay, and prove nothing any more
    cli.ok("reopen", key, now=T("11:00"))
    cli.ok("start", key, now=T("11:01"))
    cli.ok("resolve", key, now=T("11:02"))
    cli.ok(*CONFIRM, key, now=T("11:03"))
    r = cli.fails(1, "close", key, *checks, now=T("11:04"))
    assert "evidence missing for function_test" in r.err
    assert len(json.loads(cli.ticket_row(key)["evidence"])) == 2


def test_bad_attaches(cli: Cli) -> None:
    key = started_repair(cli)
    cli.fails(2, "attach", key, str(cli.home / "nope.jpg"), message=f"no file {str(cli.home / 'nope.jpg')!r}")
    cli.fails(2, "attach", key, RELAY, "--for", "coffee",
              message="'coffee' is not on the repair checklist (items: function_test, safety_reset, parts_recorded)")
    cli.fails(1, "attach", "NOPE-1", RELAY, message="no ticket 'NOPE-1'")
    fresh = cli.new("Door stuck", now=T("09:40"))
    cli.fails(1, "attach", fresh, RELAY, message=f"cannot attach to {fresh}: it is new (attach needs assigned or"
                                                 " in_progress or blocked or resolved)")
    assert blobs(cli) == []
    r = cli("attach", key, RELAY, "--help")
    assert r.code == 0 and "Example: ticketctl attach" in r.out


def test_blob_store_is_private_to_the_home(cli: Cli) -> None:
    key = started_repair(cli)
    cli.ok("attach", key, RELAY, now=T("10:00"))
    path = cli.home / "blobs" / RELAY_SHA[:2] / RELAY_SHA
    assert path.is_file() and not os.path.islink(path)
    assert [p.name for p in path.parent.iterdir()] == [RELAY_SHA]  # no temp file left behind


def test_a_store_from_before_proof_upgrades_and_replays(cli: Cli) -> None:
    """Schema v5 adds the proof columns; an older store replays its events into them."""
    key = started_repair(cli)
    cli.ok("attach", key, RELAY, "--for", "function_test", now=T("10:05"))
    cli.ok("resolve", key, now=T("10:10"))
    cli.ok(*CONFIRM, key, now=T("10:20"))
    want = cli.ticket_row(key)
    db = sqlite3.connect(cli.store_file)
    back_to(db, 6)
    for col in ("evidence", "confirmation", "confirm_tokens", "certificates", "qa"):
        db.execute(f"ALTER TABLE tickets DROP COLUMN {col}")
    db.execute("DROP INDEX IF EXISTS tickets_rank")  # v6, made after the columns: a v4 store has neither
    db.execute("PRAGMA user_version = 4")  # and before proof
    db.commit()
    db.close()
    assert cli.json("show", key, now=T("10:30"))["confirmation"]["by"] == "Li Wei"
    assert cli.rows("PRAGMA user_version") == [(LATEST,)]
    assert cli.ticket_row(key) == want
    assert cli.json("store", "check") == {"ok": True, "differences": []}

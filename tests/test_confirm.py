"""The customer's confirmation: in person through the CLI, and by phone through
a single-use, expiring link (the services the server calls: ``request_qr``,
``link_status``, ``confirm_by_token``)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from test_cli import CONFIRM, REPAIR_CHECKS, Cli
from test_evidence import T, started_repair
from test_import_hygiene import FORBIDDEN_JSON, run_in_fresh_interpreter

from ticketctl.errors import NotFound, Refused
from ticketctl.home import Home
from ticketctl.services import confirm
from ticketctl.services.env import Env
from ticketctl.services.mutations import REGISTRY

RATINGS = ("--rating", "5", "--rating", "4", "--rating", "5")


@pytest.fixture()
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "home", capsys)


def resolved_repair(cli: Cli) -> str:
    key = started_repair(cli)
    cli.ok("resolve", key, now=T("10:00"))
    return key


def service_env(cli: Cli, now: str, user: str = "ana") -> Env:
    environ = {"TICKETCTL_HOME": str(cli.home), "TICKETCTL_NOW": now, "TICKETCTL_USER": user}
    return Env(Home.from_env(environ), environ)


def test_in_person_confirmation_is_recorded_and_lets_the_repair_close(cli: Cli) -> None:
    key = resolved_repair(cli)
    checks = [a for c in REPAIR_CHECKS for a in ("--check", c)]
    cli.fails(1, "close", key, *checks, now=T("10:05"),
              message=f"cannot close {key}: no customer confirmation (ticketctl confirm {key} ..., or --qr)")
    r = cli.ok(*CONFIRM, key, now=T("10:10"))
    assert r.out == f"{key} resolved @ana  AC not cooling  (confirmed by Li Wei)\n"
    assert json.loads(cli.ticket_row(key)["confirmation"]) == {
        "ratings": {"solved": 5, "professional": 4, "on_time": 5}, "comment": "Cooling works again", "by": "Li Wei",
        "via": "in_person", "at": T("10:10")}
    (args,), = cli.rows("SELECT args FROM outbox WHERE name = 'ticket.confirm'")
    assert json.loads(args) == {"key": key, "ratings": [5, 4, 5], "comment": "Cooling works again", "by": "Li Wei"}
    cli.fails(1, *CONFIRM, key, now=T("10:11"), message=f"{key} is already confirmed by Li Wei at {T('10:10')}")
    assert cli.json("close", key, *checks, now=T("10:15"))["status"] == "closed"
    human = cli.ok("show", key, now=T("10:16")).out
    assert "Li Wei (in_person): solved 5/5, professional 4/5, on time 5/5: Cooling works again" in human


@pytest.mark.parametrize(("argv", "message"), [
    (("--rating", "5", "--rating", "4", "--comment", "works fine now", "--by", "Kim"),
     "a confirmation needs three ratings of 1-5, in order: problem solved, professional, on time (--rating N three times)"),
    (("--rating", "5", "--rating", "6", "--rating", "5", "--comment", "works fine now", "--by", "Kim"),
     "a confirmation needs three ratings of 1-5, in order: problem solved, professional, on time (--rating N three times)"),
    ((*RATINGS, "--comment", "  ok thx  ", "--by", "Kim"), "the customer's comment needs at least 10 characters (got 6)"),
    ((*RATINGS, "--comment", "works fine now", "--by", "  "), "a confirmation needs the customer's name (--by NAME)"),
    ((*RATINGS, "--by", "Kim"), "an in-person confirmation needs --comment (or use --qr)"),
    (("--qr", "--by", "Kim"), "--qr lets the customer answer on the phone: leave out --rating, --comment and --by"),
])
def test_bad_confirmations_are_bad_input(cli: Cli, argv: tuple[str, ...], message: str) -> None:
    key = resolved_repair(cli)
    cli.fails(2, "confirm", key, *argv, now=T("10:10"), message=message)


def test_only_a_resolved_ticket_is_confirmed(cli: Cli) -> None:
    key = started_repair(cli)
    cli.fails(1, *CONFIRM, key, now=T("10:10"),
              message=f"cannot confirm {key}: it is in_progress (the customer confirms a resolved ticket)")


def test_not_solved_says_the_customer_and_the_ticket_stays_open(cli: Cli) -> None:
    key = resolved_repair(cli)
    cli.ok("confirm", key, "--rating", "2", "--rating", "5", "--rating", "5", "--comment", "still warm in here",
           "--by", "Kim", now=T("10:10"))
    r = cli.fails(1, "close", key, *(a for c in REPAIR_CHECKS for a in ("--check", c)), now=T("10:11"))
    assert r.err == f"ticketctl: error: cannot close {key}: the customer rated problem solved 2/5 (reopen it)\n"
    cli.ok("reopen", key, "--reason", "customer says still warm", now=T("10:12"))
    assert cli.ticket_row(key)["confirmation"] == "{}"


def test_a_type_without_confirmation_closes_without_it(cli: Cli) -> None:
    cli.ok("tech", "add", "ana")
    key = cli.new("Install printer", type_="install")
    cli.ok("assign", key, "ana")
    cli.ok("resolve", key)
    assert cli.json("show", key)["confirmation_required"] is False
    cli.ok("close", key, "--check", "function_test", "--check", "site_clean", "--check", "customer_briefed")


def test_qr_needs_a_server_url(cli: Cli) -> None:
    key = resolved_repair(cli)
    cli.fails(2, "confirm", key, "--qr", now=T("10:10"),
              message="no server URL to send the customer to: pass --url https://tickets.example.com or set it once"
                      " with `ticketctl config set proof.url https://...`")
    cli.fails(2, "confirm", key, "--qr", "--url", "tickets.example.com", now=T("10:10"),
              message="--url 'tickets.example.com' is not an http(s) URL")
    cli.fails(2, *CONFIRM, key, "--url", "https://x.example", message="--url goes with --qr")


def test_qr_link_is_single_use_and_expires(cli: Cli) -> None:
    key = resolved_repair(cli)
    cli.ok("config", "set", "proof.url", "https://tickets.example.com")
    r = cli.ok("confirm", key, "--qr", now=T("10:10"))
    lines = r.out.splitlines()
    url = lines[-2]
    assert url.startswith(f"https://tickets.example.com/c/{key}.") and lines[-1] == "single use, expires 2026-03-03T10:10:00Z"
    assert any("█" in line or "▀" in line for line in lines[:-2])  # the code itself, in block characters
    token = url.rsplit("/c/", 1)[1]
    # only the token's hash is stored and queued: the server learns the link, not the secret
    assert token.split(".", 1)[1] not in json.dumps(cli.rows("SELECT * FROM events")) + json.dumps(cli.rows("SELECT * FROM outbox"))
    (args,), = cli.rows("SELECT args FROM outbox WHERE name = 'ticket.confirm_request'")
    assert json.loads(args) == {"key": key, "token_hash": confirm.token_hash(token), "expires_at": "2026-03-03T10:10:00Z"}

    env = service_env(cli, T("11:00"))
    assert confirm.link_status(env, token)["state"] == "open"
    out = confirm.confirm_by_token(env, token, [5, 5, 4], "Fixed over the phone, great", "Kim")
    assert out["status"] == "resolved"
    c = json.loads(cli.ticket_row(key)["confirmation"])
    assert (c["via"], c["by"], c["token"], c["at"]) == ("qr", "Kim", confirm.token_hash(token), T("11:00"))
    assert confirm.link_status(service_env(cli, T("11:01")), token)["state"] == "used"
    with pytest.raises(Refused, match=f"this confirmation link was already used at {T('11:00')}"):
        confirm.confirm_by_token(service_env(cli, T("11:02")), token, [5, 5, 5], "once more, with feeling", "Kim")
    assert {"ticket.confirm", "ticket.confirm_request", "ticket.confirm_token"} <= set(REGISTRY)


def test_an_expired_or_unknown_or_used_link_is_refused(cli: Cli) -> None:
    key = resolved_repair(cli)
    link = confirm.request_qr(service_env(cli, T("10:10")), key, "https://t.example")
    token = link["token"]
    late = service_env(cli, "2026-03-03T10:10:00Z")
    assert confirm.link_status(late, token)["state"] == "expired"
    before = cli.snapshot()
    with pytest.raises(Refused, match="expired at 2026-03-03T10:10:00Z"):
        confirm.confirm_by_token(late, token, [5, 5, 5], "works fine now", "Kim")
    with pytest.raises(Refused, match="not valid"):
        confirm.confirm_by_token(service_env(cli, T("10:20")), token[:-1] + ("A" if token[-1] != "A" else "B"),
                                 [5, 5, 5], "works fine now", "Kim")
    with pytest.raises(NotFound):
        confirm.link_status(service_env(cli, T("10:20")), "garbage")
    with pytest.raises(Refused, match="not valid"):
        confirm.confirm_by_token(service_env(cli, T("10:20")), "NOPE-1.aaaaaaaaaaaaaaaaaaaaaa", [5, 5, 5],
                                 "works fine now", "Kim")
    assert cli.snapshot() == before
    # a second link; the first one used up by an in-person confirmation is not usable either
    second = confirm.request_qr(service_env(cli, T("10:30")), key, "https://t.example")["token"]
    cli.ok(*CONFIRM, key, now=T("10:40"))
    with pytest.raises(Refused, match="already confirmed"):
        confirm.confirm_by_token(service_env(cli, T("10:50")), second, [5, 5, 5], "works fine now", "Kim")
    # the token lifetime is configurable
    cli.config_file.write_text('[proof]\ntoken_ttl = "30m"\n')
    other = started_repair(cli, "Fan")
    cli.ok("resolve", other, now=T("10:00"))
    assert confirm.request_qr(service_env(cli, T("10:00")), other, "https://t.example")["expires_at"] == T("10:30")


def test_confirm_json_and_qr_json(cli: Cli) -> None:
    key = resolved_repair(cli)
    r = cli.ok("confirm", key, "--qr", "--url", "https://t.example/", "--json", now=T("10:10"))
    assert r.err == ("ticketctl: the link works after the next `ticketctl sync`: this device does not sync with a server"
                     " (`ticketctl sync setup`)\n")
    link = r.json
    assert set(link) == {"key", "url", "token", "expires_at", "live"} and link["url"] == f"https://t.example/c/{link['token']}"
    assert link["live"] is False
    t = cli.json(*CONFIRM, key, now=T("10:11"))
    assert (t["key"], t["status"]) == (key, "resolved")


def test_confirming_in_person_loads_no_pdf_qr_or_crypto_library(tmp_path: Path) -> None:
    """The technician's in-person confirm and attach of a document stay light."""
    doc = tmp_path / "note.txt"
    doc.write_text("meter reading 1234\n")
    steps = [["new", "No cooling", "--type", "repair", "--dept", "f", "--product", "hvac", "--json"],
             ["tech", "add", "ana", "--json"], ["assign", "{key}", "ana", "--json"], ["resolve", "{key}", "--json"],
             ["confirm", "{key}", *RATINGS, "--comment", "works fine again", "--by", "Kim", "--json"],
             ["close", "{key}", *(a for c in REPAIR_CHECKS for a in ("--check", c)), "--json"],
             ["show", "{key}", "--json"]]
    heavy = (*FORBIDDEN_JSON, "PIL", "fpdf", "qrcode", "cryptography")
    result = run_in_fresh_interpreter(tmp_path / "home", steps, heavy)
    assert result["codes"] == [0] * len(steps)
    assert result["loaded"] == []


def test_now_is_the_servers_clock_for_a_link(cli: Cli) -> None:
    """``confirm_by_token`` judges expiry by ``env.now``: the server's clock when the server runs it."""
    key = resolved_repair(cli)
    token = confirm.request_qr(service_env(cli, T("10:10")), key, "https://t.example")["token"]
    env = service_env(cli, "2026-03-03T10:09:59Z")
    assert env.now == datetime.fromisoformat("2026-03-03T10:09:59+00:00")
    assert confirm.confirm_by_token(env, token, [4, 4, 4], "fine, just in time", "Kim")["status"] == "resolved"

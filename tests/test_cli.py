"""The CLI contract, in process: ``ticketctl.cli.main(argv, env=Env(...))``.

Every test asserts the exit code, the exact output (or the exact JSON values)
and the resulting store state, read with stdlib ``sqlite3`` straight from the
file. Only process boundaries are faked: the clock (``TICKETCTL_NOW``), the
user (``TICKETCTL_USER``) and the home folder (``TICKETCTL_HOME``), all through
the environment mapping the ``Env`` is built from.

The clock runs on the default calendar (UTC, Mon-Fri 08:00-18:00);
2026-03-02 is a Monday.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from ticketctl import errors
from ticketctl.cli import main
from ticketctl.services.env import Env
from ticketctl.store.rows import TICKET_COLUMNS

NOW = "2026-03-02T09:00:00Z"
KEY_RE = re.compile(r"^[A-HJ-NP-Z]{3}-\d+$")
REPAIR_CHECKS = ("function_test", "safety_reset", "parts_recorded")
#: the customer's confirmation a repair needs before it closes (argv after the verb's key)
CONFIRM = ("confirm", "--rating", "5", "--rating", "4", "--rating", "5", "--comment", "Cooling works again", "--by", "Li Wei")
SHOW_KEYS = {
    "key", "title", "status", "priority", "type", "dept", "product", "fault", "assignee", "blocked_reason",
    "weight", "created_at", "sla_response_due", "sla_resolve_due", "checklist", "timeline",
}


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """Runs ``main`` with a fresh Env per call (an Env is one invocation: its
    clock, config and actor are cached) and reads the store file back."""

    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str], **environ: str):
        self.home = home
        self.capsys = capsys
        self.store_file = home / "ticketctl.db"
        self.config_file = home / "config.toml"
        self.environ = environ  # more variables every invocation sees (TICKETCTL_LANG, ...)

    def __call__(self, *argv: str, now: str | None = NOW, user: str | None = "ana", **extra: str) -> Result:
        environ = {"TICKETCTL_HOME": str(self.home), **self.environ, **extra}
        if now is not None:
            environ["TICKETCTL_NOW"] = now
        if user is not None:
            environ["TICKETCTL_USER"] = user
        self.capsys.readouterr()
        code = main(list(argv), env=Env.from_environ(environ))
        out, err = self.capsys.readouterr()
        return Result(code, out, err)

    def ok(self, *argv: str, **kw: Any) -> Result:
        r = self(*argv, **kw)
        assert r.code == errors.OK, r.err
        return r

    def json(self, *argv: str, **kw: Any) -> Any:
        r = self.ok(*argv, "--json", **kw)
        assert r.err == ""
        return r.json

    def fails(self, code: int, *argv: str, message: str | None = None, **kw: Any) -> Result:
        """Run a command that must be refused: exit ``code``, nothing on stdout,
        one ``ticketctl: error:`` line on stderr (``message`` exactly, if given),
        and the store byte-for-byte as it was."""
        before = self.snapshot()
        r = self(*argv, **kw)
        assert r.code == code, (r.code, r.err)
        assert r.out == ""
        assert "Traceback" not in r.err
        assert r.err.startswith("ticketctl: error: ") and r.err.endswith("\n")
        assert r.err.count("\n") == 1, r.err
        if message is not None:
            assert r.err == f"ticketctl: error: {message}\n"
        assert self.snapshot() == before, "a refused command changed the store"
        return r

    # -- the store file -------------------------------------------------------

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(self.store_file)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]] | None:
        if not self.store_file.exists():
            return None
        return {t: self.rows(f"SELECT * FROM {t} ORDER BY 1") for t in ("meta", "events", "tickets", "technicians")}

    def event_count(self) -> int:
        return int(self.rows("SELECT count(*) FROM events")[0][0])

    def ticket_row(self, key: str) -> dict[str, Any]:
        db = sqlite3.connect(self.store_file)
        db.row_factory = sqlite3.Row
        try:
            row = db.execute("SELECT * FROM tickets WHERE key = ?", (key,)).fetchone()
            return dict(row) if row is not None else {}
        finally:
            db.close()

    def event_types(self, key: str) -> list[str]:
        return [r[0] for r in self.rows("SELECT type FROM events WHERE ticket = ? ORDER BY seq", (key,))]

    # -- shortcuts --------------------------------------------------------------

    def new(self, title: str, *opts: str, type_: str = "repair", dept: str = "facilities", product: str = "hvac",
            **kw: Any) -> str:
        t = self.json("new", title, "--type", type_, "--dept", dept, "--product", product, *opts, **kw)
        assert KEY_RE.match(t["key"]), t["key"]
        return str(t["key"])


@pytest.fixture()
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "home", capsys)


# -- the whole lifecycle ---------------------------------------------------------------


def test_lifecycle_new_to_closed(cli: Cli) -> None:
    cli.ok("tech", "add", "ana", "--skills", "hvac", now="2026-03-02T08:55:00Z", user="dora")
    r = cli.ok("new", "No cooling in server room", "--type", "repair", "--dept", "facilities", "--product", "hvac",
               "--fault", "no cooling", "--priority", "high", "--impact", "department", "--skills", "hvac",
               "--zone", "east", user="dora")
    key = r.out.strip()
    assert KEY_RE.match(key) and r.out == f"{key}\n" and r.err == ""
    assert key.endswith("-1")
    title = "No cooling in server room"

    t = cli.json("show", key)
    assert SHOW_KEYS <= set(t)
    assert (t["status"], t["priority"], t["impact"], t["assignee"], t["weight"]) == ("new", "high", "department", None, 8.0)
    assert t["created_at"] == t["updated_at"] == NOW
    assert t["sla_response_due"] == "2026-03-02T10:00:00Z"  # high: 1 h
    assert t["sla_resolve_due"] == "2026-03-02T17:00:00Z"  # high: 8 h
    assert t["checklist"] == [{"item": i, "done": False, "at": None, "by": None, "needs_evidence": False, "evidence": []}
                              for i in REPAIR_CHECKS]
    assert [(e["type"], e["actor"], e["at"]) for e in t["timeline"]] == [("ticket.created", "dora", NOW)]
    assert t["timeline"][0]["payload"] == {
        "title": title, "type": "repair", "dept": "facilities", "product": "hvac", "fault": "no cooling",
        "priority": "high", "impact": "department", "skills": ["hvac"], "zone": "east",
    }

    steps: list[tuple[list[str], str, str, str, str, list[str]]] = [
        # argv, now, user, expected line, status, new event types
        (["assign", key, "ana"], "09:05", "dora", f"{key} assigned @ana  {title}", "assigned", ["ticket.assigned"]),
        (["start", key], "09:10", "ana", f"{key} in_progress @ana  {title}", "in_progress", ["ticket.started"]),
        (["block", key, "--reason", "awaiting_parts", "--note", "compressor relay"], "09:20", "ana",
         f"{key} blocked (awaiting_parts) @ana  {title}", "blocked", ["ticket.blocked"]),
        (["unblock", key], "10:20", "ana", f"{key} in_progress @ana  {title}", "in_progress", ["ticket.unblocked"]),
        (["note", key, "relay replaced"], "10:30", "ana", f"{key} in_progress @ana  {title}", "in_progress",
         ["ticket.noted"]),
        (["resolve", key, "--note", "cooling back"], "11:00", "ana", f"{key} resolved @ana  {title}", "resolved",
         ["ticket.resolved"]),
        ([*CONFIRM, key], "11:10", "ana", f"{key} resolved @ana  {title}  (confirmed by Li Wei)", "resolved",
         ["ticket.confirmed"]),
        (["close", key, *(a for c in REPAIR_CHECKS for a in ("--check", c))], "11:30", "ana",
         f"{key} closed @ana  {title}", "closed", ["ticket.checked"] * 3 + ["ticket.closed"]),
    ]
    types = ["ticket.created"]
    for argv, hhmm, user, line, status, new_types in steps:
        now = f"2026-03-02T{hhmm}:00Z"
        r = cli.ok(*argv, now=now, user=user)
        assert (r.out, r.err) == (line + "\n", ""), argv
        types += new_types
        t = cli.json("show", key, now=now)
        assert t["status"] == status, argv
        assert t["updated_at"] == now
        assert [e["type"] for e in t["timeline"]] == types
        assert cli.event_types(key) == types
        assert cli.ticket_row(key)["status"] == status
        if status == "blocked":
            assert (t["blocked_reason"], t["blocked_since"], t["block"]) == ("awaiting_parts", now, {"note": "compressor relay"})
            assert t["blocked_for_s"] == 0
            assert t["sla_resolve_due"] == "2026-03-02T17:00:00Z"  # parts do not pause the clock
        if argv[0] == "start":
            assert (t["first_response_at"], t["sla_response_met"]) == (now, True)

    t = cli.json("show", key, now="2026-03-02T12:00:00Z")
    assert SHOW_KEYS <= set(t)
    assert {k: t[k] for k in ("key", "title", "status", "priority", "type", "dept", "product", "fault", "assignee",
                              "blocked_reason", "weight", "created_at", "sla_response_due", "sla_resolve_due")} == {
        "key": key, "title": title, "status": "closed", "priority": "high", "type": "repair", "dept": "facilities",
        "product": "hvac", "fault": "no cooling", "assignee": "ana", "blocked_reason": None, "weight": 0.0,
        "created_at": NOW, "sla_response_due": "2026-03-02T10:00:00Z", "sla_resolve_due": None,
    }
    assert (t["resolved_at"], t["closed_at"], t["sla_state"]) == ("2026-03-02T11:00:00Z", "2026-03-02T11:30:00Z", "done")
    assert t["blocked_seconds"] == {"awaiting_parts": 3600}
    assert t["sla_resolve_left_s"] == 6 * 3600  # paused at resolve: 11:00 -> 17:00
    assert t["checklist"] == [{"item": i, "done": True, "at": "2026-03-02T11:30:00Z", "by": "ana", "needs_evidence": False,
                               "evidence": []} for i in REPAIR_CHECKS]
    assert [e["type"] for e in t["timeline"]] == [
        "ticket.created", "ticket.assigned", "ticket.started", "ticket.blocked", "ticket.unblocked", "ticket.noted",
        "ticket.resolved", "ticket.confirmed", "ticket.checked", "ticket.checked", "ticket.checked", "ticket.closed",
    ]
    assert t["confirmation"] == {"ratings": {"solved": 5, "professional": 4, "on_time": 5}, "comment": "Cooling works again",
                                 "by": "Li Wei", "via": "in_person", "at": "2026-03-02T11:10:00Z"}
    tl = t["timeline"]
    assert [e["payload"] for e in tl[1:]] == [
        {"assignee": "ana"}, {}, {"reason": "awaiting_parts", "note": "compressor relay"}, {}, {"text": "relay replaced"},
        {"note": "cooling back"},
        {"ratings": {"solved": 5, "professional": 4, "on_time": 5}, "comment": "Cooling works again", "by": "Li Wei",
         "via": "in_person"},
        *({"item": i} for i in REPAIR_CHECKS), {},
    ]
    assert [e["actor"] for e in tl] == ["dora", "dora"] + ["ana"] * 10
    assert [e["device_seq"] for e in tl] == list(range(2, 14))  # 1 was `tech add`
    assert len({e["device"] for e in tl}) == 1 and all(e["server_seq"] is None for e in tl)
    assert len({e["id"] for e in tl}) == 12
    # one user action, one mutation: the three checks and the close travel together
    assert len({e["mutation_id"] for e in tl[8:]}) == 1
    assert len({e["mutation_id"] for e in tl}) == 9

    row = cli.ticket_row(key)
    assert (row["status"], row["assignee"], row["closed_at"], row["blocked_reason"]) == (
        "closed", "ana", "2026-03-02T11:30:00Z", None)
    assert json.loads(row["checks"]) == {i: {"at": "2026-03-02T11:30:00Z", "by": "ana"} for i in REPAIR_CHECKS}
    assert json.loads(row["blocked_seconds"]) == {"awaiting_parts": 3600}
    assert cli.event_count() == 13
    assert cli.rows("SELECT type, ticket FROM events ORDER BY seq LIMIT 1") == [("tech.added", None)]


def test_action_json_is_the_ticket_view(cli: Cli) -> None:
    cli.ok("tech", "add", "ana")
    key = cli.new("Door closer broken")
    t = cli.json("assign", key, "ana", now="2026-03-02T09:30:00Z")
    assert (t["key"], t["status"], t["assignee"], t["updated_at"]) == (key, "assigned", "ana", "2026-03-02T09:30:00Z")
    assert "timeline" not in t and "checklist" not in t
    show_only = {"checklist", "timeline", "evidence", "confirmation_required", "confirmation", "certificates", "qa", "similar", "parts"}
    assert set(t) | show_only == set(cli.json("show", key))


def test_now_with_an_offset_is_stored_as_utc(cli: Cli) -> None:
    key = cli.new("Printer jam", now="2026-03-02T10:00:00+01:00")
    assert cli.json("show", key)["created_at"] == NOW
    assert cli.rows("SELECT at FROM events") == [(NOW,)]


def test_close_with_missing_checks_writes_nothing(cli: Cli) -> None:
    cli.ok("tech", "add", "ana")
    key = cli.new("No cooling")
    for step in (["assign", key, "ana"], ["start", key], ["resolve", key]):
        cli.ok(*step)
    cli.fails(1, "close", key, "--check", "function_test",
              message=f"cannot close {key}: checklist items not done: safety_reset, parts_recorded (pass --check ITEM);"
                      f" no customer confirmation (ticketctl confirm {key} ..., or --qr)")
    assert cli.event_types(key)[-1] == "ticket.resolved"
    assert json.loads(cli.ticket_row(key)["checks"]) == {}
    cli.fails(2, "close", key, "--check", "coffee",
              message="'coffee' is not on the repair checklist (items: function_test, safety_reset, parts_recorded)")


# -- exit codes ----------------------------------------------------------------------


def test_illegal_transition_is_refused_with_one_line(cli: Cli) -> None:
    key = cli.new("No cooling")
    cli.fails(1, "start", key, message=f"cannot start {key}: it is new (start needs assigned)")
    cli.fails(1, "close", key, message=f"cannot close {key}: it is new (close needs resolved)")
    cli.fails(1, "unblock", key, "--json", message=f"cannot unblock {key}: it is new (unblock needs blocked)")
    assert cli.event_types(key) == ["ticket.created"]


def test_unknown_key_is_refused(cli: Cli) -> None:
    cli.new("No cooling")
    cli.fails(1, "show", "NOPE-9", message="no ticket 'NOPE-9'")
    cli.fails(1, "start", "NOPE-9", message="no ticket 'NOPE-9'")


def test_unknown_technician_is_refused(cli: Cli) -> None:
    key = cli.new("No cooling")
    cli.fails(1, "assign", key, "zed", message="no technician 'zed' (add one with `ticketctl tech add zed`)")


def test_bad_priority_is_bad_usage(cli: Cli) -> None:
    r = cli.fails(2, "new", "x", "--type", "repair", "--dept", "d", "--product", "p", "--priority", "asap")
    assert "'--priority'" in r.err and "'asap'" in r.err and r.err.endswith("(see `ticketctl new --help`)\n")
    assert cli.snapshot() is None  # refused before the store was even opened


def test_missing_required_option_is_bad_usage(cli: Cli) -> None:
    r = cli.fails(2, "new", "x", "--type", "repair", "--dept", "d")
    assert r.err == "ticketctl: error: Missing option '--product'. (see `ticketctl new --help`)\n"


def test_unknown_block_reason_is_bad_input(cli: Cli) -> None:
    cli.ok("tech", "add", "ana")
    key = cli.new("No cooling")
    cli.ok("assign", key, "ana")
    cli.fails(2, "block", key, "--reason", "lunch", message="unknown block reason 'lunch' (known: awaiting_customer, "
              "awaiting_parts, awaiting_third_party, awaiting_approval, awaiting_collaboration)")
    cli.fails(2, "block", key, "--reason", "awaiting_collaboration", "--collaborator", "it",
              message="blocking for awaiting_collaboration needs --deliverable, --deadline, --expect")
    r = cli.fails(2, "block", key)
    assert "Missing option '--reason'" in r.err
    assert cli.ticket_row(key)["status"] == "assigned"


@pytest.mark.parametrize("text, message", [
    ("bogus = 1\n",
     "bogus: unknown key (known: approvals, calendar, capacity, dispatch, intake, kpi, labels, lang, me, notify, parts, proof,"
     " reasons, sla, sweep, types, weights, zones)"),
    ('capacity = "x"\n', "capacity: expected int, got 'x'"),
    ('[calendar]\ntimezone = "Mars/Olympus"\n', "calendar.timezone: unknown time zone 'Mars/Olympus'"),
])
def test_invalid_config_file_is_bad_input(cli: Cli, text: str, message: str) -> None:
    cli.ok("tech", "add", "ana")
    key = cli.new("No cooling")
    cli.ok("assign", key, "ana")
    cli.config_file.write_text(text)
    for argv in (["list", "--json"], ["show", key], ["start", key], ["mine"], ["config", "show", "--json"],
                 ["tech", "add", "bob"], ["new", "x", "--type", "repair", "--dept", "d", "--product", "p"]):
        cli.fails(2, *argv, message=f"{cli.config_file}: {message}")
    assert cli.event_count() == 3
    assert cli.config_file.read_text() == text
    # the one command that must work with a broken config: finding it
    assert cli.json("locate")["config"] == str(cli.config_file)


def test_bad_clock_is_bad_input(cli: Cli) -> None:
    msg = "TICKETCTL_NOW='garbage' is not an ISO-8601 time like 2026-03-02T09:00:00Z"
    key = cli.new("No cooling")
    cli.fails(2, "list", "--json", now="garbage", message=msg)
    cli.fails(2, "new", "x", "--type", "repair", "--dept", "d", "--product", "p", now="garbage", message=msg)
    cli.fails(2, "note", key, "hello", now="garbage", message=msg)
    assert cli.event_count() == 1


def test_traceback_flag_reraises(cli: Cli) -> None:
    key = cli.new("No cooling")
    env = Env.from_environ({"TICKETCTL_HOME": str(cli.home), "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "ana"})
    with pytest.raises(errors.Refused, match=f"cannot start {key}"):
        main(["start", key, "--traceback"], env=env)
    with pytest.raises(errors.NotFound):
        main(["--traceback", "show", "NOPE-1"], env=Env.from_environ({"TICKETCTL_HOME": str(cli.home)}))
    with pytest.raises(click.UsageError):
        main(["new", "x", "--traceback"], env=Env.from_environ({"TICKETCTL_HOME": str(cli.home)}))
    assert cli.event_types(key) == ["ticket.created"]


def test_group_without_a_subcommand_prints_its_help(cli: Cli) -> None:
    r = cli("tech")
    assert r.code == errors.BAD_INPUT
    assert r.err.startswith("Usage: ticketctl tech ")
    assert "ticketctl: error:" not in r.err


# -- listing -------------------------------------------------------------------------


@pytest.fixture()
def backlog(cli: Cli) -> dict[str, str]:
    """Six tickets in every state, made between 09:00 and 09:55 (listed at 10:00):

    A new, medium/user, facilities        B assigned ana, urgent/system, it
    C in_progress ana, low/system, facil. D blocked bob (awaiting_customer), low/user, it
    E resolved bob, facilities            F closed bob, it
    """
    for name in ("ana", "bob"):
        cli.ok("tech", "add", name, now="2026-03-02T08:00:00Z", user="dora")
    spec = [
        ("A", "09:00", "facilities", "medium", "user", []),
        ("B", "09:10", "it", "urgent", "system", [["assign", "ana"]]),
        ("C", "09:20", "facilities", "low", "system", [["assign", "ana"], ["start"]]),
        ("D", "09:30", "it", "low", "user", [["assign", "bob"], ["block", "--reason", "awaiting_customer"]]),
        ("E", "09:40", "facilities", "medium", "user", [["assign", "bob"], ["start"], ["resolve"]]),
        ("F", "09:50", "it", "medium", "user", [["assign", "bob"], ["resolve"], [CONFIRM[0], *CONFIRM[1:]],
                                                 ["close", *(a for c in REPAIR_CHECKS for a in ("--check", c))]]),
    ]
    keys = {}
    for name, hhmm, dept, pri, impact, actions in spec:
        hour, minute = hhmm.split(":")
        key = cli.new(f"ticket {name}", "--priority", pri, "--impact", impact, dept=dept,
                      now=f"2026-03-02T{hhmm}:00Z", user="dora")
        keys[name] = key
        holder = "dora"
        for i, (verb, *rest) in enumerate(actions, start=1):
            if verb == "assign":
                holder = rest[0]
            cli.ok(verb, key, *rest, now=f"2026-03-02T{hour}:{int(minute) + i:02d}:00Z",
                   user="dora" if verb == "assign" else holder)
    return keys


def names(rows: list[dict[str, Any]], keys: dict[str, str]) -> str:
    by_key = {v: k for k, v in keys.items()}
    return "".join(by_key[r["key"]] for r in rows)


LATER = "2026-03-02T10:00:00Z"


def test_list_defaults_to_open_tickets_by_weight(cli: Cli, backlog: dict[str, str]) -> None:
    rows = cli.json("list", now=LATER)
    assert names(rows, backlog) == "BCAD"
    assert [r["status"] for r in rows] == ["assigned", "in_progress", "new", "blocked"]
    weights = [r["weight"] for r in rows]
    assert weights == sorted(weights, reverse=True)
    assert weights[0] == 72.0  # urgent 8 x system 4 x (1 + 3 x 50/120 of the 2 h used)
    assert "timeline" not in rows[0]


def test_list_filters_sorts_and_limits(cli: Cli, backlog: dict[str, str]) -> None:
    def listed(*argv: str) -> str:
        return names(cli.json("list", *argv, now=LATER), backlog)

    assert listed("--status", "resolved", "--status", "closed") == "EF"
    assert listed("--status", "new") == "A"
    assert listed("--status", "closed", "--status", "blocked", "--status", "new") == "ADF"
    assert listed("--assignee", "ana") == "BC"
    assert listed("--assignee", "bob") == "D"
    assert listed("--assignee", "bob", "--status", "resolved", "--status", "closed") == "EF"
    assert listed("--dept", "it") == "BD"
    assert listed("--dept", "facilities", "--assignee", "ana") == "C"
    assert listed("--sort", "created") == "ABCD"
    assert listed("--sort", "due") == "BACD"
    assert listed("--limit", "2") == "BC"
    assert listed("--sort", "created", "--limit", "1") == "A"
    assert listed("--assignee", "nobody") == ""
    cli.fails(2, "list", "--limit", "0")
    cli.fails(2, "list", "--status", "open")
    cli.fails(2, "list", "--sort", "random")


def test_list_human_table(cli: Cli, backlog: dict[str, str]) -> None:
    r = cli.ok("list", now=LATER)
    lines = r.out.splitlines()
    assert lines[0].split() == ["key", "pri", "weight", "status", "assignee", "sla", "left", "dept", "product", "title"]
    assert [line.split()[0] for line in lines[1:]] == [backlog[n] for n in "BCAD"]
    assert lines[1].split()[:5] == [backlog["B"], "urgent", "72.0", "assigned", "ana"]
    assert r.err == ""
    r = cli.ok("list", "--assignee", "nobody", now=LATER)
    assert (r.out, r.err) == ("", "no tickets match\n")


def test_mine_uses_the_current_user(cli: Cli, backlog: dict[str, str]) -> None:
    assert names(cli.json("mine", now=LATER, user="ana"), backlog) == "BC"
    assert names(cli.json("mine", now=LATER, user="bob"), backlog) == "D"
    assert names(cli.json("mine", "--status", "resolved", now=LATER, user="bob"), backlog) == "E"
    assert names(cli.json("mine", "--limit", "1", now=LATER, user="ana"), backlog) == "B"
    assert cli.json("mine", now=LATER, user="dora") == []
    # without TICKETCTL_USER the config's `me` decides
    cli.ok("config", "set", "me", "bob")
    assert names(cli.json("mine", now=LATER, user=None), backlog) == "D"


# -- technicians ---------------------------------------------------------------------


def test_tech_add_list_set(cli: Cli) -> None:
    t = cli.json("tech", "add", "ana", "--skills", "HVAC, electrical", "--zone", "east", "--capacity", "2",
                 "--dept", "facilities", user="dora")
    assert t == {"name": "ana", "skills": ["electrical", "hvac"], "zone": "east", "lat": None, "lon": None,
                 "capacity": 2, "load": 0, "dept": "facilities", "on_shift": True, "on_leave": False, "senior": False,
                 "delegate": None, "created_at": NOW, "updated_at": NOW}
    r = cli.ok("tech", "add", "bob", "--lat", "52.5", "--lon", "13.4")
    assert (r.out, r.err) == ("bob  load 0/3  skills -  zone -  on shift\n", "")
    assert cli.rows("SELECT name, lat, lon, capacity, on_shift FROM technicians ORDER BY name") == [
        ("ana", None, None, 2, 1), ("bob", 52.5, 13.4, 3, 1)]

    cli.fails(1, "tech", "add", "ana", message="technician 'ana' already exists (change them with "
              "`ticketctl tech set ana ...`)")
    cli.fails(2, "tech", "add", "cy", "--lat", "52.5", message="--lat and --lon go together")
    cli.fails(2, "tech", "add", "cy", "--lon", "13.4", message="--lat and --lon go together")
    cli.fails(2, "tech", "add", "c y", message="technician name 'c y' must be one word of at most 100 characters")
    cli.fails(2, "tech", "add", "cy", "--capacity", "-1", message="--capacity must be zero or more")
    cli.fails(2, "tech", "set", "ana", "--lat", "1", message="--lat and --lon go together")
    cli.fails(2, "tech", "set", "ana", message="nothing to change: pass --skills, --zone, --lat/--lon, --capacity, "
              "--dept, --on-shift/--off-shift, --on-leave/--back, --delegate or --senior/--not-senior")
    cli.fails(1, "tech", "set", "zed", "--zone", "x", message="no technician 'zed' (add one with `ticketctl tech add zed`)")
    assert cli.rows("SELECT name FROM technicians ORDER BY name") == [("ana",), ("bob",)]

    later = "2026-03-02T09:30:00Z"
    r = cli.ok("tech", "set", "ana", "--off-shift", now=later)
    assert (r.out, r.err) == ("ana  load 0/2  skills electrical,hvac  zone east  off shift\n", "")
    assert cli.rows("SELECT on_shift, updated_at, created_at FROM technicians WHERE name = 'ana'") == [(0, later, NOW)]
    t = cli.json("tech", "set", "ana", "--on-shift", "--capacity", "3", "--zone", "west")
    assert (t["on_shift"], t["capacity"], t["zone"], t["skills"]) == (True, 3, "west", ["electrical", "hvac"])
    assert cli.rows("SELECT type FROM events ORDER BY seq") == [
        ("tech.added",), ("tech.added",), ("tech.updated",), ("tech.updated",)]


def test_tech_list_counts_held_tickets(cli: Cli) -> None:
    for name in ("ana", "bob"):
        cli.ok("tech", "add", name)
    a, b, c = (cli.new(f"ticket {i}") for i in range(3))
    cli.ok("assign", a, "ana")
    cli.ok("assign", b, "ana")
    cli.ok("start", b)
    cli.ok("assign", c, "bob")
    cli.ok("block", c, "--reason", "awaiting_parts")
    loads = {t["name"]: (t["load"], t["capacity"]) for t in cli.json("tech", "list")}
    assert loads == {"ana": (2, 3), "bob": (1, 3)}
    cli.ok("resolve", a)
    assert [(t["name"], t["load"]) for t in cli.json("tech", "list")] == [("ana", 1), ("bob", 1)]
    r = cli.ok("tech", "list")
    assert [line.split()[:2] for line in r.out.splitlines()] == [["name", "load"], ["ana", "1/3"], ["bob", "1/3"]]
    r = cli.ok("tech", "set", "bob", "--capacity", "1")
    assert r.out == "bob  load 1/1  skills -  zone -  on shift\n"


def test_tech_list_empty(cli: Cli) -> None:
    assert cli.json("tech", "list") == []
    r = cli.ok("tech", "list")
    assert (r.out, r.err) == ("", "no technicians yet: ticketctl tech add NAME\n")


def test_assign_over_capacity_needs_force(cli: Cli) -> None:
    cli.ok("tech", "add", "ana", "--capacity", "1")
    a, b = cli.new("first"), cli.new("second")
    cli.ok("assign", a, "ana")
    r = cli("assign", b, "ana")
    assert r.code == errors.REFUSED
    assert cli.event_types(b) == ["ticket.created"]
    t = cli.json("assign", b, "ana", "--force")
    assert t["assignee"] == "ana"


# -- config and locate ---------------------------------------------------------------


def test_config_show_and_set(cli: Cli) -> None:
    c = cli.json("config", "show")
    assert set(c) == {"me", "lang", "capacity", "calendar", "sla", "weights", "reasons", "types", "dispatch", "zones", "sweep", "kpi",
                      "notify", "proof", "approvals", "intake", "labels", "parts"}
    assert (c["me"], c["capacity"], c["calendar"]["timezone"]) == ("", 3, "UTC")
    assert c["sla"]["high"] == {"response": "1h", "resolve": "8h"}
    assert c["types"]["repair"]["checklist"] == list(REPAIR_CHECKS)
    assert not cli.config_file.exists()

    r = cli.ok("config", "set", "me", "bob")
    assert (r.out, r.err) == (f"me = 'bob'  ({cli.config_file})\n", "")
    assert cli.config_file.read_text() == 'me = "bob"\n'
    assert cli.json("config", "show")["me"] == "bob"
    r = cli.ok("config", "show")
    assert r.out.startswith('me = "bob"\nlang = ""\ncapacity = 3\n\n[calendar]\ntimezone = "UTC"\n')

    cli.ok("config", "set", "capacity", "4")
    cli.ok("config", "set", "calendar.timezone", "Europe/Berlin")
    saved = cli.config_file.read_bytes()
    assert saved == b'me = "bob"\ncapacity = 4\n\n[calendar]\ntimezone = "Europe/Berlin"\n'
    cli.fails(2, "config", "set", "capacity", '"x"',
              message=f"{cli.config_file}: refused, the config would be invalid: capacity: expected int, got 'x'")
    cli.fails(2, "config", "set", "calendar.timezone", "Mars/Olympus",
              message=f"{cli.config_file}: refused, the config would be invalid: calendar.timezone: unknown time zone 'Mars/Olympus'")
    cli.fails(2, "config", "set", "colour", "blue")
    assert cli.config_file.read_bytes() == saved
    assert [p.name for p in cli.home.iterdir()] == ["config.toml"]  # no temp file left behind
    # the new capacity is the default of the next technician
    assert cli.json("tech", "add", "ana")["capacity"] == 4


def test_config_set_takes_a_quoted_key_part_and_show_reads_the_built_in_labels_in_the_readers_language(cli: Cli) -> None:
    # a [labels] key holds a dot: TOML's own key syntax addresses it
    cli.ok("config", "set", 'labels."checklist.gas_test".zh_CN', "燃气检测")
    assert cli.config_file.read_text() == '[labels."checklist.gas_test"]\nzh_CN = "燃气检测"\n'
    assert cli.json("config", "show")["labels"] == {"checklist.gas_test": {"en": "", "zh_CN": "燃气检测"}}
    cli.fails(2, "config", "set", "a..b", "1", message="bad key 'a..b'")
    cli.fails(2, "config", "set", 'labels."x', "1", message="bad key 'labels.\"x'")
    cli.ok("config", "set", "reasons.awaiting_customer.label", "Waiting on the customer")
    en = cli.ok("config", "show").out
    zh = cli.ok("config", "show", TICKETCTL_LANG="zh_CN").out
    assert 'label = "Awaiting parts"' in en and 'label = "等待备件"' in zh
    # a team's own label stays as written; JSON stays the config's own values
    assert 'label = "Waiting on the customer"' in zh
    assert cli.json("config", "show", TICKETCTL_LANG="zh_CN")["reasons"]["awaiting_parts"]["label"] == "Awaiting parts"


def test_locate(cli: Cli) -> None:
    assert cli.json("locate") == {"home": str(cli.home), "config": str(cli.config_file),
                                  "store": str(cli.store_file), "logs": str(cli.home / "logs")}
    r = cli.ok("locate")
    assert r.out == (f"  home  {cli.home}\nconfig  {cli.config_file}\n store  {cli.store_file}\n"
                     f"  logs  {cli.home / 'logs'}\n")


# -- store check / rebuild -----------------------------------------------------------


def corrupt(cli: Cli, sql: str) -> None:
    db = sqlite3.connect(cli.store_file)
    try:
        with db:
            db.execute(sql)
    finally:
        db.close()


@pytest.fixture()
def worked(cli: Cli) -> Iterator[str]:
    cli.ok("tech", "add", "ana")
    key = cli.new("No cooling")
    cli.ok("assign", key, "ana")
    cli.ok("start", key)
    yield key


def test_store_check_and_rebuild(cli: Cli, worked: str) -> None:
    key = worked
    r = cli.ok("store", "check")
    assert (r.out, r.err) == ("", "store ok: the projections equal a replay of the event log\n")
    assert cli.json("store", "check") == {"ok": True, "differences": []}

    before = cli.snapshot()
    assert before is not None
    corrupt(cli, "UPDATE tickets SET status = 'new'")
    msg = "ticketctl: error: the projections differ from the event log in 1 place(s); `ticketctl store rebuild` repairs them\n"
    r = cli("store", "check")
    assert (r.code, r.out, r.err) == (1, f"ticket {key}: differs in status\n", msg)
    r = cli("store", "check", "--json")
    assert (r.code, r.json, r.err) == (1, {"ok": False, "differences": [f"ticket {key}: differs in status"]}, msg)
    assert cli.ticket_row(key)["status"] == "new"  # check never repairs

    r = cli.ok("store", "rebuild")
    assert (r.out, r.err) == ("", "rebuilt 1 tickets and 1 technicians from the event log\n")
    assert cli.ticket_row(key)["status"] == "in_progress"
    assert cli.snapshot() == before
    assert cli.ok("store", "check").code == 0


def test_store_check_sees_missing_and_extra_rows(cli: Cli, worked: str) -> None:
    corrupt(cli, "DELETE FROM technicians")
    rest = ", ".join(c for c in TICKET_COLUMNS if c != "key")
    corrupt(cli, f"INSERT INTO tickets (key, {rest}) SELECT 'ZZZ-9', {rest} FROM tickets")
    r = cli("store", "check", "--json")
    assert r.code == 1
    assert r.json["differences"] == ["ticket ZZZ-9: in the table, no events", "technician ana: in the events, missing from the table"]
    assert cli.json("store", "rebuild") == {"tickets": 1, "technicians": 1}
    assert cli.json("store", "check") == {"ok": True, "differences": []}
    assert cli.rows("SELECT key FROM tickets") == [(worked,)]

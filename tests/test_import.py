"""Import: a real ServiceNow event log replayed as events, and any CSV/XLSX.

The ServiceNow tests run on ``tests/data/servicenow_first50incidents.csv`` (the
first 50 incidents of the real log, 308 rows) and check the import against a
replay written here with the plain ``csv`` module: the state, group, assignee
and priority of every incident after every row, and every row accounted for.
Commands run in process through ``ticketctl.cli.main`` with a fixed clock and
user; the store is read back with ``sqlite3``.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ticketctl import errors
from ticketctl.cli import main
from ticketctl.services import rebuild
from ticketctl.services.env import Env

DATA = Path(__file__).resolve().parent / "data"
SLICE = DATA / "servicenow_first50incidents.csv"
NOW = "2026-03-02T09:00:00Z"
PRIORITY = {"1": "urgent", "2": "high", "3": "medium", "4": "low"}
STATUS = {"New": "new", "Active": "in_progress", "Awaiting User Info": "blocked", "Awaiting Evidence": "blocked",
          "Awaiting Vendor": "blocked", "Awaiting Problem": "blocked", "Resolved": "resolved", "Closed": "closed"}
SUMMARY_KEYS = {"file", "rows", "used", "incidents", "events", "tickets_new", "tickets_updated", "tickets_unchanged", "indexed",
                "technicians_added", "skipped", "retimed", "team"}


class Run:
    """``ticketctl`` in process against one home; reads the store file back."""

    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]):
        self.home, self.capsys = home, capsys
        self.db_file = home / "ticketctl.db"

    def env(self) -> Env:
        return Env.from_environ({"TICKETCTL_HOME": str(self.home), "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "ana"})

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(argv), env=self.env())
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *argv: str) -> Any:
        code, out, err = self(*argv, "--json")
        assert code == 0, err
        assert err == ""
        return json.loads(out)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(self.db_file)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]] | None:
        if not self.db_file.exists():
            return None
        return {t: self.rows(f"SELECT * FROM {t} ORDER BY 1") for t in ("meta", "events", "tickets", "technicians", "spans")}

    def differences(self) -> list[str]:
        env = self.env()
        try:
            return rebuild.differences(env.store, env.config)
        finally:
            env.close()


@pytest.fixture()
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(tmp_path / "home", capsys)


def read_slice(path: Path = SLICE) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def utc(text: str, tz: str = "UTC") -> str:
    """``29/2/2016 01:16`` read in ``tz`` -> ISO-8601 UTC."""
    t = datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=ZoneInfo(tz))
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def missing(v: str) -> str:
    return "" if v == "?" else v


def expected_after_each_time(rows: list[dict[str, str]]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """The independent replay: per incident, at each update time, what the
    ticket should be (the last row at that time wins)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        person = missing(r["assigned_to"]) or None
        status = STATUS[r["incident_state"]]
        if status == "new" and person:
            status = "assigned"  # New with an analyst is ticketctl's assigned
        out.setdefault(r["number"], {})[utc(r["sys_updated_at"])] = {
            "status": status, "dept": missing(r["assignment_group"]), "assignee": person,
            "priority": PRIORITY[r["priority"][0]],
        }
    return {n: sorted(times.items()) for n, times in out.items()}


# -- ServiceNow: the replay is faithful -------------------------------------------------


def test_import_servicenow_matches_an_independent_replay(run: Run) -> None:
    rows = read_slice()
    s = run.json("import", "servicenow", str(SLICE))
    assert set(s) == SUMMARY_KEYS
    names = {r["assigned_to"] for r in rows} - {"?"}
    assert s == {
        "file": str(SLICE), "rows": 308, "used": 308, "incidents": 50, "events": s["events"], "tickets_new": 50,
        "tickets_updated": 0, "tickets_unchanged": 0, "technicians_added": len(names), "skipped": {},
        "retimed": {"count": 0, "rows": []}, "indexed": s["indexed"], "team": None,
    }
    # every incident of the slice ends closed: each is indexed for the knowledge base's search
    assert s["indexed"] == 50 == run.rows("SELECT count(*) FROM kb_docs WHERE kind = 'ticket'")[0][0]
    assert len(rows) == 308
    assert s["events"] == run.rows("SELECT count(*) FROM events")[0][0]
    want = expected_after_each_time(rows)
    tickets = {r[0]: r[1:] for r in run.rows("SELECT key, status, dept, assignee, priority, created_at FROM tickets")}
    assert set(tickets) == set(want)
    opened = {r["number"]: utc(r["opened_at"]) for r in rows}
    for number, timeline in want.items():
        final = timeline[-1][1]
        assert tickets[number] == (final["status"], final["dept"], final["assignee"], final["priority"], opened[number])
        # time travel: the span open at each update time holds what the rows say
        for at, state in timeline:
            (span,) = run.rows("SELECT status, dept FROM spans WHERE ticket = ? AND from_at <= ? AND (to_at > ? OR to_at IS NULL)",
                               (number, at, at))
            assert span == (state["status"], state["dept"]), (number, at)
        (first,) = run.rows("SELECT status, from_at FROM spans WHERE ticket = ? ORDER BY from_at, id LIMIT 1", (number,))
        assert first == ("new", opened[number])
    # every analyst is a technician, in the group they first worked for
    techs = dict(run.rows("SELECT name, dept FROM technicians"))
    first_group: dict[str, str] = {}
    for r in rows:
        if r["assigned_to"] != "?":
            first_group.setdefault(r["assigned_to"], missing(r["assignment_group"]))
    assert techs == first_group
    assert run.differences() == []


def test_one_incident_timeline_event_by_event(run: Run) -> None:
    run.json("import", "servicenow", str(SLICE))
    got = [(t, at, actor, json.loads(p)) for t, at, actor, p in run.rows(
        "SELECT type, at, actor, payload FROM events WHERE ticket = 'INC0000102' ORDER BY seq")]
    block = {"reason": "awaiting_customer", "note": "Awaiting User Info"}
    assert got == [
        ("ticket.created", "2016-02-29T09:06:00Z", "Opened by  131", {
            "title": "Symptom 87: Category 37 / Subcategory 135", "type": "incident", "dept": "Group 70",
            "product": "Category 37", "fault": "Subcategory 135", "priority": "medium", "impact": "department",
            "zone": "Location 46", "customer": "Caller 307", "channel": "phone",
            # ServiceNow's own figures, from the incident's last row (221): made_sla false, reopen_count 1
            "source_made_sla": False, "source_reopens": 1}),
        ("ticket.assigned", "2016-02-29T09:13:00Z", "Updated by 265", {"assignee": "Resolver 31"}),  # row 203, New
        ("ticket.blocked", "2016-02-29T20:09:00Z", "Updated by 111", block),  # row 205
        ("ticket.unblocked", "2016-03-03T17:29:00Z", "Updated by 727", {}),  # row 209, Active
        ("ticket.started", "2016-03-03T17:29:00Z", "Updated by 727", {"on_behalf_of": "Resolver 31"}),
        ("ticket.transferred", "2016-03-04T11:15:00Z", "Updated by 451", {"dept": "Group 50", "previous": "Group 70"}),
        ("ticket.transferred", "2016-03-04T12:17:00Z", "Updated by 259", {"dept": "Group 70", "previous": "Group 50"}),
        ("ticket.transferred", "2016-03-04T14:08:00Z", "Updated by 336", {"dept": "Group 29", "previous": "Group 70"}),
        ("ticket.transferred", "2016-03-04T15:51:00Z", "Updated by 135", {"dept": "Group 23", "previous": "Group 29"}),
        ("ticket.blocked", "2016-03-07T11:50:00Z", "Updated by 507", block),  # row 215
        ("ticket.unblocked", "2016-03-14T08:13:00Z", "Updated by 135", {}),  # row 218, Resolved
        ("ticket.resolved", "2016-03-14T08:13:00Z", "Updated by 135", {}),
        ("ticket.reopened", "2016-03-17T16:27:00Z", "Updated by 241", {"reason": "ServiceNow: Resolved -> Active"}),
        ("ticket.started", "2016-03-17T16:27:00Z", "Updated by 241", {"on_behalf_of": "Resolver 31"}),
        ("ticket.resolved", "2016-03-17T16:28:00Z", "Updated by 241", {}),
        ("ticket.closed", "2016-03-24T18:59:00Z", "Updated by 908", {}),
    ]
    devices = run.rows("SELECT DISTINCT device FROM events")
    assert devices == [("import:servicenow",)]
    (t,) = run.rows("SELECT status, blocked_seconds, reopen_count, resolved_at, closed_at FROM tickets WHERE key = 'INC0000102'")
    # the resolver's first response: Active, on the resolver's behalf (ServiceNow's actors are not its resolvers)
    assert run.rows("SELECT first_response_at FROM tickets WHERE key = 'INC0000102'") == [("2016-03-03T17:29:00Z",)]
    blocked = (datetime(2016, 3, 3, 17, 29) - datetime(2016, 2, 29, 20, 9)) + (datetime(2016, 3, 14, 8, 13) - datetime(2016, 3, 7, 11, 50))
    assert (*t[:1], json.loads(t[1]), *t[2:]) == ("closed", {"awaiting_customer": int(blocked.total_seconds())}, 1,
                                                   "2016-03-17T16:28:00Z", "2016-03-24T18:59:00Z")


def test_importing_twice_changes_nothing(run: Run) -> None:
    first = run.json("import", "servicenow", str(SLICE))
    before = run.snapshot()
    again = run.json("import", "servicenow", str(SLICE))
    assert again == {**first, "events": 0, "tickets_new": 0, "tickets_unchanged": 50, "technicians_added": 0, "indexed": 0}
    assert run.snapshot() == before


def test_a_later_export_adds_only_what_is_new(run: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An earlier export (every incident's last row missing), then the full file:
    the tickets gain their closing events and end as a fresh import of the full file."""
    lines = SLICE.read_text(encoding="utf-8").splitlines(keepends=True)
    last_row = {ln.split(",", 1)[0]: i for i, ln in enumerate(lines) if i}
    early = tmp_path / "early.csv"
    early.write_text("".join(ln for i, ln in enumerate(lines) if i not in set(last_row.values())), encoding="utf-8")
    e = run.json("import", "servicenow", str(early))
    assert (e["rows"], e["incidents"], e["tickets_new"]) == (308 - 50, 50, 50)  # every incident has 2 rows or more
    assert run.rows("SELECT count(*) FROM tickets WHERE status = 'closed'") == [(0,)]
    s = run.json("import", "servicenow", str(SLICE))
    assert (s["tickets_new"], s["tickets_updated"], s["tickets_unchanged"], s["technicians_added"]) == (0, 50, 0, 0)
    assert s["events"] == run.rows("SELECT count(*) FROM events")[0][0] - e["events"]
    assert run.differences() == []
    fresh = Run(tmp_path / "fresh", capsys)
    fresh.json("import", "servicenow", str(SLICE))
    cols = "key, status, dept, assignee, priority, resolved_at, closed_at, blocked_seconds, reopen_count, updated_at"
    assert run.rows(f"SELECT {cols} FROM tickets ORDER BY key") == fresh.rows(f"SELECT {cols} FROM tickets ORDER BY key")
    span_cols = "ticket, from_at, to_at, status, dept"
    assert run.rows(f"SELECT {span_cols} FROM spans ORDER BY 1, 2, id") == fresh.rows(f"SELECT {span_cols} FROM spans ORDER BY 1, 2, id")
    assert run.rows("SELECT count(*) FROM events") == fresh.rows("SELECT count(*) FROM events")
    # device_seq stays unique and gap-free across the two imports
    seqs = [r[0] for r in run.rows("SELECT device_seq FROM events WHERE device = 'import:servicenow' ORDER BY device_seq")]
    assert seqs == list(range(1, len(seqs) + 1))


def test_rows_it_cannot_use_are_skipped_and_accounted_for(run: Run, tmp_path: Path) -> None:
    lines = SLICE.read_text(encoding="utf-8").splitlines(keepends=True)
    bad = list(lines)
    # rows are numbered as a spreadsheet shows them: lines[i] is row i + 1
    assert lines[7].startswith("INC0000047,Active,")
    bad[7] = lines[7].replace(",Active,", ",-100,", 1)  # row 8: a middle row of INC0000047
    parts = bad[10].split(",")
    parts[13] = "31/2/2016 25:61"  # row 11: a sys_updated_at that is no time
    bad[10] = ",".join(parts)
    parts = bad[14].split(",")  # row 15: the first of INC0000057's 7 rows, with an opened_at that is no time
    assert parts[0] == "INC0000057" and not bad[13].startswith("INC0000057") and bad[20].startswith("INC0000057")
    parts[9] = "yesterday"
    bad[14] = ",".join(parts)
    # row 12 (INC0000047 goes Awaiting User Info) is stamped before row 10, the last row used before it
    parts = bad[11].split(",")
    assert parts[1] == "Awaiting User Info"
    parts[13] = "1/1/2016 00:00"
    bad[11] = ",".join(parts)
    path = tmp_path / "bad.csv"
    path.write_text("".join(bad), encoding="utf-8")
    s = run.json("import", "servicenow", str(path))
    assert s["retimed"] == {"count": 1, "rows": [12]}
    row10_at = utc(lines[9].split(",")[13])
    assert run.rows("SELECT at FROM events WHERE ticket = 'INC0000047' AND type = 'ticket.blocked'") == [(row10_at,)]
    assert s["skipped"] == {
        "bad_date": {"count": 2, "rows": [11, 15]},
        "incident_not_created": {"count": 6, "rows": [16, 17, 18, 19, 20, 21]},
        "unknown_state": {"count": 1, "rows": [8]},
    }
    assert (s["rows"], s["used"], s["incidents"]) == (308, 299, 49)
    assert s["rows"] == s["used"] + sum(d["count"] for d in s["skipped"].values())
    assert run.rows("SELECT count(*) FROM tickets WHERE key = 'INC0000057'") == [(0,)]
    # the rest is imported as if the bad rows were not there
    kept = [r for i, r in enumerate(read_slice(path), start=2) if i not in (8, 11) and r["number"] != "INC0000057"]
    want = expected_after_each_time(kept)
    for number, timeline in want.items():
        (t,) = run.rows("SELECT status, dept, assignee FROM tickets WHERE key = ?", (number,))
        assert t == tuple(timeline[-1][1][k] for k in ("status", "dept", "assignee"))
    assert run.differences() == []


def test_an_incident_whose_key_is_taken_is_left_alone(run: Run, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("Id,Subject,Kind,Team,Asset\nINC0000045,Someone else's,repair,it,pc\n", encoding="utf-8")
    run.json("import", "csv", str(other), "--map", "key=Id,title=Subject,type=Kind,dept=Team,product=Asset")
    before = run.rows("SELECT * FROM events WHERE ticket = 'INC0000045'")
    s = run.json("import", "servicenow", str(SLICE))
    assert s["skipped"] == {"key_taken": {"count": 4, "rows": [2, 3, 4, 5]}}
    assert (s["rows"], s["used"], s["incidents"], s["tickets_new"]) == (308, 304, 49, 49)
    assert run.rows("SELECT * FROM events WHERE ticket = 'INC0000045'") == before
    assert run.differences() == []


def test_tz_shifts_naive_times(run: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run.json("import", "servicenow", str(SLICE))
    madrid = Run(tmp_path / "madrid", capsys)
    madrid.json("import", "servicenow", str(SLICE), "--tz", "Europe/Madrid")
    a = dict(run.rows("SELECT id, at FROM events"))
    b = dict(madrid.rows("SELECT id, at FROM events"))
    assert a.keys() == b.keys()  # same ids: the id does not depend on the zone
    for eid, at in a.items():
        utc_at = datetime.fromisoformat(at)
        hours = 2 if utc_at >= datetime(2016, 3, 27, 1, tzinfo=UTC) else 1  # CET, then CEST from 27 March
        assert datetime.fromisoformat(b[eid]) == utc_at - timedelta(hours=hours)
    assert madrid.rows("SELECT created_at FROM tickets WHERE key = 'INC0000045'") == [("2016-02-29T00:16:00Z",)]
    code, out, err = run("import", "servicenow", str(SLICE), "--tz", "Mars/Olympus")
    assert (code, out) == (errors.BAD_INPUT, "")
    assert err == "ticketctl: error: --tz 'Mars/Olympus' is not an IANA time zone like Europe/Berlin\n"


def test_gzip_and_human_summary(run: Run, tmp_path: Path) -> None:
    import gzip

    gz = tmp_path / "slice.csv.gz"
    gz.write_bytes(gzip.compress(SLICE.read_bytes()))
    code, out, err = run("import", "servicenow", str(gz))
    assert (code, err) == (0, "")
    first, second = out.splitlines()
    assert first.startswith(f"{gz}: 308 rows, 50 incidents -> ") and "tickets 50 new, 0 updated, 0 unchanged;" in first
    assert second == "skipped 0 of 308 rows"


def test_servicenow_bad_input_exits_2(run: Run, tmp_path: Path) -> None:
    nope = tmp_path / "nope.csv"
    code, out, err = run("import", "servicenow", str(nope))
    assert (code, out, err) == (errors.BAD_INPUT, "", f"ticketctl: error: {nope}: no such file\n")
    other = tmp_path / "other.csv"
    other.write_text("id,title\n1,x\n", encoding="utf-8")
    code, out, err = run("import", "servicenow", str(other))
    assert (code, out) == (errors.BAD_INPUT, "")
    assert err.startswith(f"ticketctl: error: {other}: not a ServiceNow incident event log: no column number,")
    assert err.count("\n") == 1
    notgz = tmp_path / "broken.csv.gz"
    notgz.write_bytes(b"not gzip at all")
    code, out, err = run("import", "servicenow", str(notgz))
    assert (code, out) == (errors.BAD_INPUT, "")
    assert err.startswith(f"ticketctl: error: {notgz}: cannot read it") and err.endswith("nothing was imported\n")


# -- import csv ------------------------------------------------------------------------------

CSV_HEADER = "Id,Subject,Kind,Team,Asset,Prio,Opened,Caller\n"
CSV_MAP = "title=Subject,type=Kind,dept=Team,product=Asset,priority=Prio,created_at=Opened,customer=Caller,key=Id"


def write_csv(path: Path, *rows: str) -> Path:
    path.write_text(CSV_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_import_csv_with_keys_is_idempotent(run: Run, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "t.csv",
                  "a-1,No cooling,repair,facilities,hvac,High,2026-02-27T10:00:00,ACME",
                  "A-2,Printer jams,repair,it,printer,,2026-02-27 11:30,",
                  "",  # blank rows are ignored
                  "A-3,New laptop,install,it,laptop,2 - High,2026-02-28T08:00:00+01:00,Bob")
    r = run.json("import", "csv", str(f), "--map", CSV_MAP)
    assert r == {"file": str(f), "encoding": "utf-8", "rows": 4, "blank": 1, "valid": 3, "invalid_rows": 0, "invalid": {}, "tickets_new": 3,
                 "tickets_unchanged": 0, "events": 3, "written": True, "dry_run": False, "indexed": 0,
                 "team": None, "dates": {"created_at": "iso"}, "dates_ambiguous": [], "retimed": {"count": 0, "rows": []}}
    assert run.rows("SELECT key, title, type, dept, product, priority, customer, created_at, status FROM tickets ORDER BY key") == [
        ("A-1", "No cooling", "repair", "facilities", "hvac", "high", "ACME", "2026-02-27T10:00:00Z", "new"),
        ("A-2", "Printer jams", "repair", "it", "printer", "medium", "", "2026-02-27T11:30:00Z", "new"),
        ("A-3", "New laptop", "install", "it", "laptop", "high", "Bob", "2026-02-28T07:00:00Z", "new"),
    ]
    assert run.rows("SELECT DISTINCT device, actor FROM events") == [("import:csv", "ana")]
    before = run.snapshot()
    again = run.json("import", "csv", str(f), "--map", CSV_MAP)
    assert (again["tickets_new"], again["tickets_unchanged"], again["events"], again["written"]) == (0, 3, 0, False)
    assert run.snapshot() == before
    assert run.differences() == []


def test_import_csv_validation_refuses_and_writes_nothing(run: Run, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "t.csv",
                  "A-1,No cooling,repair,facilities,hvac,High,2026-02-27T10:00:00,ACME",
                  "A-2,,repair,it,printer,extreme,last week,",
                  "A-1,Dup,repair,it,printer,low,,",
                  "A-4,Fine,repair,,printer,low,,")
    run.json("tech", "add", "bob")  # the store exists and holds something
    before = run.snapshot()
    code, out, err = run("import", "csv", str(f), "--map", CSV_MAP, "--json")
    assert code == errors.REFUSED
    assert err == ("ticketctl: error: 3 invalid row(s): nothing was written (fix them, or --skip-invalid to import"
                   " the valid rows)\n")
    r = json.loads(out)
    assert r["invalid"] == {
        "bad_created_at": {"count": 1, "rows": [3], "example": "last week"},
        "bad_priority": {"count": 1, "rows": [3], "example": "extreme"},
        "duplicate_key": {"count": 1, "rows": [4], "example": "A-1 (first in row 2)"},
        "missing_dept": {"count": 1, "rows": [5]},
        "missing_title": {"count": 1, "rows": [3]},
    }
    assert (r["valid"], r["invalid_rows"], r["written"]) == (1, 3, False)
    assert run.snapshot() == before
    # --dry-run reports the same, writes nothing, and exits as the import would
    code, out, err = run("import", "csv", str(f), "--map", CSV_MAP, "--dry-run", "--json")
    assert code == errors.REFUSED and json.loads(out)["invalid"] == r["invalid"] and json.loads(out)["dry_run"] is True
    assert err.startswith("ticketctl: error: 3 invalid row(s): the import would write nothing")
    assert run.snapshot() == before
    code, out, _ = run("import", "csv", str(f), "--map", CSV_MAP, "--dry-run", "--skip-invalid", "--json")
    assert code == 0 and json.loads(out)["tickets_new"] == 1 and json.loads(out)["dry_run"] is True
    assert run.snapshot() == before
    # --skip-invalid imports the valid row
    r = run.json("import", "csv", str(f), "--map", CSV_MAP, "--skip-invalid")
    assert (r["tickets_new"], r["events"], r["written"]) == (1, 1, True)
    assert run.rows("SELECT key FROM tickets") == [("A-1",)]
    # a key another ticket already has is invalid, never overwritten; our own key is unchanged
    code, out, _ = run("new", "Leak", "--type", "repair", "--dept", "facilities", "--product", "pipes")
    other = out.strip()
    u = write_csv(tmp_path / "u.csv", f"{other.lower()},Other,repair,it,pc,,,", "A-1,Changed title,repair,it,pc,,,")
    before = run.snapshot()
    code, out, _ = run("import", "csv", str(u), "--map", CSV_MAP, "--skip-invalid", "--json")
    r = json.loads(out)
    assert code == 0 and r["invalid"] == {"key_taken": {"count": 1, "rows": [2], "example": other}}
    assert (r["tickets_new"], r["tickets_unchanged"], r["written"]) == (0, 1, False)
    assert run.snapshot() == before


def test_import_csv_mapping_errors_exit_2(run: Run, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "t.csv", "A-1,No cooling,repair,facilities,hvac,High,,")
    cases = [
        ("title=Subject,type=Kind,dept=Team,product=Asset,colour=Prio",
         "--map: unknown field 'colour' (fields: title, type, dept, product, fault, priority, impact, zone, customer,"
         " phone, channel, description, created_at, key, status, resolved_at, closed_at)"),
        ("title=Subject,type=Kind,dept=Team,product=Machine,zone=Site",
         f"--map: no column 'Machine', 'Site' in t.csv (columns: {CSV_HEADER.strip().replace(',', ', ')})"),
        ("title=Subject,type=Kind", "--map must map dept, product (required: title, type, dept, product)"),
        ("title", "--map: 'title' is not field=column"),
    ]
    for spec, message in cases:
        code, out, err = run("import", "csv", str(f), "--map", spec)
        assert (code, out, err) == (errors.BAD_INPUT, "", f"ticketctl: error: {message}\n"), spec
    assert not run.db_file.exists() or run.rows("SELECT count(*) FROM tickets") == [(0,)]
    code, out, err = run("import", "csv", str(tmp_path / "none.xlsx"), "--map", CSV_MAP)
    assert (code, out, err) == (errors.BAD_INPUT, "", f"ticketctl: error: {tmp_path / 'none.xlsx'}: no such file\n")


def test_import_xlsx_without_keys_gets_device_keys(run: Run, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Subject", "Kind", "Team", "Asset", "Prio", "Opened", "Scope", "Phone"])
    ws.append(["No cooling", "repair", "facilities", "hvac", 1, datetime(2026, 2, 27, 10, 0), "system", 5550100])
    ws.append(["Printer jams", "repair", "it", "printer", "low", None, "3 - Low", None])
    ws.append(["Bad one", "repair", "it", "printer", "low", None, "galaxy", None])
    path = tmp_path / "t.xlsx"
    wb.save(path)
    spec = "title=Subject,type=Kind,dept=Team,product=Asset,priority=Prio,created_at=Opened,impact=Scope,phone=Phone"
    code, out, err = run("import", "csv", str(path), "--map", spec)
    assert code == errors.REFUSED and "1 invalid row(s)" in err
    assert out.splitlines() == [f"{path}: 3 rows, 2 valid, 1 invalid, 0 blank; nothing written",
                                "  bad_impact                   1  rows 4  e.g. 'galaxy'"]
    r = run.json("import", "csv", str(path), "--map", spec, "--skip-invalid")
    assert (r["tickets_new"], r["written"]) == (2, True)
    prefix = run.rows("SELECT value FROM meta WHERE key = 'key_prefix'")[0][0]
    assert run.rows("SELECT key, title, priority, impact, phone, created_at FROM tickets ORDER BY key") == [
        (f"{prefix}-1", "No cooling", "urgent", "system", "5550100", "2026-02-27T10:00:00Z"),
        (f"{prefix}-2", "Printer jams", "low", "user", "", NOW),
    ]
    assert run.differences() == []

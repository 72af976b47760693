"""Reading a ServiceNow incident event log (the export's rows, replayed per
incident into the events that turn one row into the next): what
``services.import_servicenow`` writes. See that module for the mapping."""

from __future__ import annotations

import csv
import gzip
import io
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ticketctl.core.model import in_range, iso
from ticketctl.errors import BadInput
from ticketctl.i18n import _

#: namespace of every imported event id; never change it (re-imports would duplicate)
NAMESPACE = uuid.UUID("6f1d3c52-8a8e-5b7e-9c1a-2d4b6e8f0a13")
DEVICE = "import:servicenow"
SEQ_KEY = "seq:import:servicenow"
#: incidents written per transaction
CHUNK = 2000
#: row numbers kept per skip reason (the count is always complete)
KEEP_ROWS = 20

#: incident_state -> (ticketctl status, block reason)
STATES: dict[str, tuple[str, str | None]] = {
    "New": ("new", None),
    "Active": ("in_progress", None),
    "Awaiting User Info": ("blocked", "awaiting_customer"),
    "Awaiting Evidence": ("blocked", "awaiting_customer"),
    "Awaiting Vendor": ("blocked", "awaiting_third_party"),
    "Awaiting Problem": ("blocked", "awaiting_collaboration"),
    "Resolved": ("resolved", None),
    "Closed": ("closed", None),
}
PRIORITIES = {"1": "urgent", "2": "high", "3": "medium", "4": "low"}
IMPACTS = {"1": "system", "2": "department", "3": "user"}
REQUIRED = ("number", "incident_state", "sys_mod_count", "opened_at", "sys_updated_by", "sys_updated_at",
            "assignment_group", "assigned_to", "priority", "impact", "category", "subcategory", "u_symptom",
            "location", "caller_id", "contact_type")
OPTIONAL = ("opened_by", "problem_id", "vendor")
MISSING = "?"
DONE = ("resolved", "closed")

# a draft event: (id, type, at, actor, mutation_id, payload)
Draft = tuple[str, str, str, str, str, dict[str, Any]]


# -- shared by the importers ------------------------------------------------------


class Skips:
    """Rows left out, by reason: a complete count and the first row numbers."""

    def __init__(self) -> None:
        self.count: dict[str, int] = {}
        self.rows: dict[str, list[int]] = {}

    def add(self, reason: str, row: int) -> None:
        self.count[reason] = self.count.get(reason, 0) + 1
        kept = self.rows.setdefault(reason, [])
        if len(kept) < KEEP_ROWS:
            kept.append(row)

    def total(self) -> int:
        return sum(self.count.values())

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {r: {"count": self.count[r], "rows": self.rows[r]} for r in sorted(self.count)}


def zone(name: str | None) -> tzinfo:
    """The zone naive times in a file are read in (UTC when not given)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(_("--tz {name!r} is not an IANA time zone like Europe/Berlin").format(name=name)) from None


def uid(*parts: object) -> str:
    """A deterministic event id from its parts."""
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


@contextmanager
def open_text(path: Path) -> Iterator[tuple[TextIO, Callable[[], int], int]]:
    """Open a ``.csv`` or ``.csv.gz`` as text (UTF-8, a BOM is dropped); yields
    the stream, a function giving the bytes of the file read so far, and its size."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise BadInput(_("{path}: no such file").format(path=path)) from None
    except OSError as e:  # a folder, no permission, a name too long
        raise BadInput(_("{path}: cannot read it: {error}").format(path=path, error=e.strerror)) from None
    try:
        stream: Any = gzip.GzipFile(fileobj=raw, mode="rb") if path.name.lower().endswith(".gz") else raw
        yield io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""), raw.tell, path.stat().st_size
    finally:
        raw.close()


#: what reading a damaged or non-text file raises
READ_ERRORS = (UnicodeDecodeError, gzip.BadGzipFile, EOFError, zlib.error, csv.Error)


def unreadable(path: Path, row: int, e: Exception, written: bool) -> BadInput:
    """The error for a file that stops being readable after ``row``; ``written``:
    earlier chunks are already in the store."""
    error = f"{type(e).__name__}: {e}"
    if written:
        msg = (_("{path}: cannot read it after row {row}: {error}; the incidents before it that were already written"
                 " stay (importing again after a fix is safe)") if row > 1 else
               _("{path}: cannot read it: {error}; the incidents before it that were already written stay"
                 " (importing again after a fix is safe)"))
    else:
        msg = (_("{path}: cannot read it after row {row}: {error}; nothing was imported") if row > 1 else
               _("{path}: cannot read it: {error}; nothing was imported"))
    return BadInput(msg.format(path=path, row=row, error=error))


class Times:
    """``D/M/YYYY HH:MM[:SS]`` in a zone -> ISO-8601 UTC, cached (the same
    times repeat on many rows); None for text that is no such time."""

    def __init__(self, tz: tzinfo):
        self.tz = tz
        self.cache: dict[str, str | None] = {}

    def __call__(self, text: str) -> str | None:
        try:
            return self.cache[text]
        except KeyError:
            pass
        out: str | None
        try:
            date, clock = text.strip().split(" ")
            d, m, y = date.split("/")
            hms = [int(x) for x in clock.split(":")] + [0]
            if len(y) != 4 or len(hms) not in (3, 4):
                raise ValueError(text)
            out = iso(in_range(datetime(int(y), int(m), int(d), hms[0], hms[1], hms[2], tzinfo=self.tz)))  # OutOfRange: a ValueError
        except (ValueError, TypeError):
            out = None
        self.cache[text] = out
        return out


# -- the ServiceNow replay ----------------------------------------------------------


@dataclass
class Incident:
    """One incident's drafts, ready to be written."""

    key: str
    drafts: list[Draft]
    rows: list[int]  # the rows used


@dataclass
class IncidentState:
    """What the folded ticket looks like after the drafts so far (mirrors
    ``workflow.apply`` for the fields the replay decides on)."""

    status: str = "new"
    assignee: str | None = None
    dept: str = ""
    priority: str = "medium"
    state: str = ""  # ServiceNow's incident_state of the previous row used
    block_state: str | None = None  # the ServiceNow state of the current block
    before_block: str | None = None
    at: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # product, fault, zone, impact as last written


def source_figures(made_sla: Any, reopens: Any) -> dict[str, Any]:
    """The source's own SLA verdict and reopen count as the ``ticket.created``
    payload keeps them (``source_made_sla``, ``source_reopens``); a value that
    is missing or unreadable is left out. ``made_sla`` reads true/false, yes/no,
    1/0 (any case); ``reopens`` a whole number of 0 or more."""
    out: dict[str, Any] = {}
    verdict = str(made_sla).strip().lower() if made_sla is not None else ""
    if verdict in ("true", "yes", "1", "y", "t"):
        out["source_made_sla"] = True
    elif verdict in ("false", "no", "0", "n", "f"):
        out["source_made_sla"] = False
    try:
        n = int(float(str(reopens).strip()))
    except ValueError:
        n = -1
    if n >= 0:
        out["source_reopens"] = n
    return out


@dataclass
class Replay:
    """Turns the rows of one file into incidents, technicians and skips."""

    col: dict[str, int]
    times: Times
    skips: Skips = field(default_factory=Skips)
    retimed: Skips = field(default_factory=Skips)
    read: int = 0
    used: int = 0
    seen: set[str] = field(default_factory=set)
    techs: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # name -> (at, dept, actor), in order met

    def _get(self, row: list[str], name: str) -> str:
        i = self.col.get(name)
        v = row[i].strip() if i is not None else ""
        return "" if v == MISSING else v

    def _check(self, row: list[str], first: bool) -> str | None:
        """Why ``row`` cannot be used, or None."""
        g = self._get
        if g(row, "incident_state") not in STATES:
            return "unknown_state"
        if self.times(row[self.col["sys_updated_at"]]) is None or (first and self.times(row[self.col["opened_at"]]) is None):
            return "bad_date"
        p = g(row, "priority")
        if p and p[:1] not in PRIORITIES:
            return "bad_value"
        if first and g(row, "impact") and g(row, "impact")[:1] not in IMPACTS:
            return "bad_value"
        return None

    def incident(self, number: str, rows: list[tuple[int, list[str]]]) -> Incident | None:
        """The drafts of one incident's consecutive rows (None: not created)."""
        if number in self.seen:
            for no, _row in rows:
                self.skips.add("not_consecutive", no)
            return None
        self.seen.add(number)
        first_no, first = rows[0]
        reason = self._check(first, first=True)
        if reason:
            self.skips.add(reason, first_no)
            for no, _row in rows[1:]:
                self.skips.add("incident_not_created", no)
            return None
        g = self._get
        s = IncidentState()
        drafts: list[Draft] = []
        created_at = self.times(first[self.col["opened_at"]])
        assert created_at is not None
        s.at = created_at
        symptom, cat, sub = g(first, "u_symptom"), g(first, "category"), g(first, "subcategory")
        title = " / ".join(x for x in (cat, sub) if x)
        title = (f"{symptom}: {title}" if title else symptom) if symptom else (title or f"Incident {number}")
        s.dept = g(first, "assignment_group")
        s.priority = PRIORITIES.get(g(first, "priority")[:1], "medium")
        fields = {"title": title, "type": "incident", "dept": s.dept, "product": cat, "fault": sub,
                  "priority": s.priority, "impact": IMPACTS.get(g(first, "impact")[:1], "user"),
                  "zone": g(first, "location"), "customer": g(first, "caller_id"),
                  "channel": g(first, "contact_type").lower()}
        payload = {k: v for k, v in fields.items() if v or k in ("dept", "product")}
        s.fields = {k: str(payload.get(k, "")) for k in ("product", "fault", "zone", "impact")}
        actor = g(first, "opened_by") or g(first, "sys_updated_by") or "servicenow"
        cid = uid(number, "created")
        drafts.append((cid, "ticket.created", created_at, actor, cid, payload))
        mods: dict[str, int] = {}
        used: list[int] = []
        for no, row in rows:
            if no != first_no:
                reason = self._check(row, first=False)
                if reason:
                    self.skips.add(reason, no)
                    continue
            used.append(no)
            mod = g(row, "sys_mod_count")
            occurrence = mods.get(mod, 0)
            mods[mod] = occurrence + 1
            if self._row(number, (mod, occurrence), row, s, drafts):
                self.retimed.add("earlier_than_previous", no)
        self.used += len(used)
        last = dict(rows)[used[-1]]  # the final values: the incident's last row used
        payload.update(source_figures(g(last, "made_sla"), g(last, "reopen_count")))
        return Incident(number, drafts, used)

    def _row(self, number: str, mod: tuple[str, int], row: list[str], s: IncidentState, drafts: list[Draft]) -> bool:
        """Append the drafts that turn ``s`` into what ``row`` says; True when
        the row's time was before the previous event's and was moved up to it."""
        g = self._get
        at = self.times(row[self.col["sys_updated_at"]])
        assert at is not None
        retimed = at < s.at
        s.at = at = max(at, s.at)
        actor = g(row, "sys_updated_by") or "servicenow"
        state = g(row, "incident_state")
        target, reason = STATES[state]
        group, person = g(row, "assignment_group"), g(row, "assigned_to") or None
        priority = PRIORITIES.get(g(row, "priority")[:1])
        mutation = ""  # one per row, made with its first event (a row without changes needs none)
        step = 0

        def emit(typ: str, payload: dict[str, Any]) -> None:
            nonlocal step, mutation
            mutation = mutation or uid(number, *mod)
            drafts.append((uid(number, *mod, step), typ, at, actor, mutation, payload))
            step += 1

        # leave the old state
        if s.status == "blocked" and (target != "blocked" or state != s.block_state or (person is None and s.assignee)):
            emit("ticket.unblocked", {})
            s.status = s.before_block or ("assigned" if s.assignee else "new")
            s.before_block = s.block_state = None
        if s.status in DONE and (target not in DONE or (s.status == "closed" and target == "resolved")):
            emit("ticket.reopened", {"reason": f"ServiceNow: {s.state} -> {state}"})
            s.status = "assigned" if s.assignee else "new"
        # the fields
        if group != s.dept:
            emit("ticket.transferred", {"dept": group, "previous": s.dept})
            s.dept = group
        if person != s.assignee:
            if person is None:
                emit("ticket.unassigned", {"previous": s.assignee})
                s.status = "new"
            else:
                emit("ticket.assigned", {"assignee": person, **({"previous": s.assignee} if s.assignee else {})})
                if s.status == "blocked":
                    s.before_block = "assigned"
                else:
                    s.status = "assigned"
                if person not in self.techs:
                    self.techs[person] = (at, group, actor)
            s.assignee = person
        if priority and priority != s.priority:
            emit("ticket.reprioritized", {"priority": priority, "previous": s.priority})
            s.priority = priority
        for name, value in self._edits(row).items():
            if value and value != s.fields.get(name, ""):
                emit("ticket.edited", {"field": name, "value": value, "previous": s.fields.get(name, "")})
                s.fields[name] = value
        # enter the new state
        if target == "in_progress" and s.status != "in_progress":
            # ServiceNow's Active: the assigned resolver took it up (their first response)
            emit("ticket.started", {"on_behalf_of": s.assignee} if s.assignee else {})
            s.status = "in_progress"
        elif target == "blocked" and s.status != "blocked":
            assert reason is not None
            emit("ticket.blocked", self._block(reason, state, row))
            s.before_block, s.status, s.block_state = s.status, "blocked", state
        elif target in DONE and s.status != target:
            if target == "closed" and s.status != "resolved":
                emit("ticket.resolved", {})
            emit(f"ticket.{target}", {})
            s.status = target
        s.state = state
        return retimed

    def _edits(self, row: list[str]) -> dict[str, str]:
        """The plain fields a row may change: category, subcategory, location, impact."""
        g = self._get
        return {"product": g(row, "category"), "fault": g(row, "subcategory"), "zone": g(row, "location"),
                "impact": IMPACTS.get(g(row, "impact")[:1], "")}

    def _block(self, reason: str, state: str, row: list[str]) -> dict[str, Any]:
        """The block payload: the reason, ServiceNow's state as the note, and
        what the row knows of whom the work waits for."""
        p: dict[str, Any] = {"reason": reason, "note": state}
        if reason == "awaiting_collaboration":
            p["collaborator"] = "problem management"
            problem = self._get(row, "problem_id")
            if problem:
                p["deliverable"] = f"a fix for {problem}"
                p["problem"] = problem
        vendor = self._get(row, "vendor")
        if reason == "awaiting_third_party" and vendor:
            p["vendor"] = vendor
        return p


def incidents(path: Path, times: Times) -> Iterator[tuple[Replay, list[Incident], int]]:
    """Read ``path``; yields (replay, incidents, bytes read) every :data:`CHUNK`
    incidents and once at the end; the replay carries the counts and skips."""
    no, written = 1, False
    with open_text(path) as (text, tell, size):
        try:
            reader = csv.reader(text)
            header = next(reader, None)
            if header is None:
                raise BadInput(_("{path}: the file is empty").format(path=path))
            col = {name.strip(): i for i, name in enumerate(header)}
            missing = [c for c in REQUIRED if c not in col]
            if missing:
                raise BadInput(_("{path}: not a ServiceNow incident event log: no column {columns}").format(
                    path=path, columns=", ".join(missing)))
            rp = Replay(col, times)
            width, num = len(header), col["number"]
            batch: list[Incident] = []
            current, rows = "", list[tuple[int, list[str]]]()
            for no, row in enumerate(reader, start=2):
                rp.read += 1
                if len(row) != width:
                    rp.skips.add("malformed_row", no)
                    continue
                number = row[num].strip()
                if not number or number == MISSING:
                    rp.skips.add("missing_number", no)
                    continue
                if number != current:
                    if rows:
                        inc = rp.incident(current, rows)
                        if inc:
                            batch.append(inc)
                        if len(batch) >= CHUNK:
                            yield rp, batch, tell()
                            batch, written = [], True
                    current, rows = number, []
                rows.append((no, row))
        except READ_ERRORS as e:
            raise unreadable(path, no, e, written) from None
        if rows:
            inc = rp.incident(current, rows)
            if inc:
                batch.append(inc)
        yield rp, batch, size

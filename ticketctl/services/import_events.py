"""Import any event log (CSV, XLSX, XES; one row per change of a case) as
tickets with their history, through a mapping (``services.event_map``). An XES
log is read as a table by ``services.xes`` (``case:concept:name``,
``time:timestamp``, ``concept:name``, ``org:resource``, ...).

The file is read whole; its rows are grouped by case (they need not be
consecutive) and each case's rows put in time order (rows with the same time
keep their file order), or, when the profile says ``"row_order": "file"``
(ServiceNow's export), in file order, a row stamped before the previous one
then written at the previous one's time and listed under ``retimed``. Per case, its first usable row writes
``ticket.created`` at that row's time; each row then writes, at its time, the
events that take the ticket from where the previous row left it to what this
row says::

    leave:   blocked -> ticket.unblocked     (a different target, or another block)
             resolved/closed/cancelled -> ticket.reopened   (a target that is not done)
    fields:  group changed      -> ticket.transferred
             priority changed   -> ticket.reprioritized; product/fault/zone/impact -> ticket.edited
             person, while the target is assigned/in_progress/blocked and it is
             not the assignee   -> ticket.assigned
             target new with an assignee -> ticket.unassigned (back in the queue)
    enter:   assigned (an unassigned one) -> ticket.assigned; in_progress -> ticket.started;
             blocked:reason -> ticket.blocked; resolved -> ticket.resolved;
             closed -> ticket.resolved (unless resolved) + ticket.closed;
             cancelled -> ticket.cancelled

The rules for who resolved a ticket and when are the mapping's: the row that
enters a done status (resolved or closed) resolves it, at its time, and its
person is the event's actor; later rows while done (a closing step by another
person, a second "Closed") change neither the assignee nor the resolution time.
So a ticket's ``resolved_at`` is its last entry into a done status: a reopened
ticket resolved again gets the later time. Closing is final among the done
statuses: a closed ticket whose later row says resolved or cancelled stays
closed (only a status that is not done reopens it). Unlike ``import servicenow``, no
"assigned while resolved -> resolved again".

Rows it cannot use are skipped and counted by reason with their row numbers
(the header is row 1), so ``rows == used + sum of skipped``: ``blank``,
``missing_case``, ``bad_time``, ``unmapped_status`` (with an example),
``bad_value`` (a priority or impact no ``--value-map`` and no known word
reads), ``key_taken`` (the case's key is a ticket this import did not make).

Idempotent: each event id is a uuid5 of the case, the row's time, status,
person and group (and how often that combination came before in the case), and
the event's place in the row; ids in the store are not written again, and a
case that gains rows is refolded from all its events. A later export should
only add rows after those already imported (as a log does): rows that fall
between imported ones are appended after them, and the fold applies them last. Written in transactions
of :data:`CHUNK` cases through ``import_servicenow.write_chunk``.

The source's own figures, when ``made_sla`` and ``reopens`` are mapped (the
``servicenow`` profile maps ``made_sla`` and ``reopen_count``), are read from a
case's final row and kept on its ``ticket.created`` (``source_made_sla``,
``source_reopens``): ``report kpi`` shows them beside ticketctl's own. They are
kept as the first import of a case saw them (its ``ticket.created`` is not
written again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ticketctl.core import dates
from ticketctl.errors import BadInput
from ticketctl.i18n import _
from ticketctl.services import xes
from ticketctl.services.env import Env
from ticketctl.services.event_map import Mapping
from ticketctl.services.import_csv import impact_word, priority_word, read_rows, resolve_columns
from ticketctl.services.import_servicenow import Counts, write_chunk
from ticketctl.services.servicenow_log import Draft, Incident, Skips, source_figures, uid, zone

DEVICE = "import:events"
SEQ_KEY = "seq:import:events"
CHUNK = 2000
DONE = ("resolved", "closed", "cancelled")
EDITABLE = ("product", "fault", "zone", "impact")


@dataclass
class _State:
    status: str = "new"
    assignee: str | None = None
    dept: str = ""
    priority: str = "medium"
    block: str | None = None  # the target of the current block
    before_block: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class EventReplay:
    """Turns a file's rows into cases; carries the counts ``write_chunk`` updates."""

    mapping: Mapping
    col: dict[str, int]
    layout: dates.Layout
    created_layout: dates.Layout
    tz: Any
    skips: Skips = field(default_factory=Skips)
    examples: dict[str, str] = field(default_factory=dict)
    used: int = 0
    techs: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    retimed: Skips = field(default_factory=Skips)

    def skip(self, reason: str, no: int, example: Any = None) -> None:
        self.skips.add(reason, no)
        if example is not None:
            self.examples.setdefault(reason, str(example))

    def get(self, cells: list[Any], name: str) -> Any:
        i = self.col.get(name)
        if i is None or i >= len(cells):
            return self.mapping.defaults.get(name, "")
        v = cells[i]
        if not isinstance(v, str):
            return v
        v = v.strip()
        return "" if v in self.mapping.missing else v

    def read(self, no: int, cells: list[Any]) -> dict[str, Any] | None:
        """One row's values, or None (skipped, with its reason)."""
        g = self.get
        at = self.layout.parse(g(cells, "time"), self.tz)
        if at is None:
            self.skip("bad_time", no, g(cells, "time"))
            return None
        status, sub = str(g(cells, "status")), str(g(cells, "substatus"))
        target = self.mapping.target(status, sub)
        if target is None:
            self.skip("unmapped_status", no, f"{status}/{sub}" if sub else status)
            return None
        row: dict[str, Any] = {"no": no, "at": at, "target": target, "source": f"{status}/{sub}" if sub else status,
                               "person": str(g(cells, "person")) or None, "group": str(g(cells, "group"))}
        for name, reader in (("priority", priority_word), ("impact", impact_word)):
            raw = str(g(cells, name))
            if raw:
                v = reader(self.mapping.value(name, raw))
                if v is None:
                    self.skip("bad_value", no, f"{name}: {raw}")
                    return None
                row[name] = v
        for name in ("title", "type", "product", "fault", "zone", "customer", "channel", "description"):
            row[name] = str(g(cells, name))
        row["figures"] = source_figures(g(cells, "made_sla"), g(cells, "reopens"))
        opened = g(cells, "created")
        row["created"] = self.created_layout.parse(opened, self.tz) if opened != "" else None
        return row

    def case(self, key: str, rows: list[dict[str, Any]]) -> Incident:
        """The drafts of one case's usable rows, in time order."""
        if self.mapping.row_order == "file":  # the file's order is the truth (ServiceNow's export)
            for prev, r in zip(rows, rows[1:], strict=False):
                if r["at"] < prev["at"]:  # history never runs backwards: written at the previous row's time
                    r["at"] = prev["at"]
                    self.retimed.add("earlier_than_previous", r["no"])
        else:
            rows.sort(key=lambda r: r["at"])  # stable: same-time rows keep file order
        first = rows[0]
        s = _State(dept=first["group"] or first.get("dept") or self.mapping.defaults.get("group", "imported"),
                   priority=first.get("priority", "medium"))
        product = first["product"] or self.mapping.defaults.get("product", "-")
        payload = {"title": first["title"] or f"Case {key}",  # data, not a message: not translated
                   "type": first["type"] or "incident",
                   "dept": s.dept, "product": product, "priority": s.priority,
                   **{k: first[k] for k in ("fault", "zone", "customer", "description", "impact") if first.get(k)},
                   **({"channel": first["channel"].lower()} if first["channel"] else {})}
        payload |= rows[-1]["figures"]  # the source's own figures as its final row has them
        s.fields = {k: str(payload.get(k, "")) for k in EDITABLE}
        cid = uid("events", key, "created")
        actor = first["person"] or "import"
        opened = min(first["created"] or first["at"], first["at"])  # a mapped opening time, never after the first row
        drafts: list[Draft] = [(cid, "ticket.created", opened, actor, cid, payload)]
        seen: dict[tuple[Any, ...], int] = {}
        for r in rows:
            ident = (r["at"], r["source"], r["person"], r["group"])
            n = seen.get(ident, 0)
            seen[ident] = n + 1
            self._row(key, (*ident, n), r, s, drafts)
        self.used += len(rows)
        return Incident(key, drafts, [r["no"] for r in rows])

    def _row(self, key: str, ident: tuple[Any, ...], r: dict[str, Any], s: _State, drafts: list[Draft]) -> None:
        at, person, target = r["at"], r["person"], r["target"]
        status = target.partition(":")[0]
        actor = person or "import"
        mutation, step = "", 0

        def emit(typ: str, payload: dict[str, Any]) -> None:
            nonlocal mutation, step
            mutation = mutation or uid("events", key, *ident)
            drafts.append((uid("events", key, *ident, step), typ, at, actor, mutation, payload))
            step += 1

        # leave the old state
        if s.status == "blocked" and target != s.block:
            emit("ticket.unblocked", {})
            s.status, s.before_block, s.block = s.before_block or ("assigned" if s.assignee else "new"), None, None
        if s.status in DONE and status not in DONE:
            emit("ticket.reopened", {"reason": r["source"]})
            s.status = "assigned" if s.assignee else "new"
        # the fields
        if r["group"] and r["group"] != s.dept:
            emit("ticket.transferred", {"dept": r["group"], "previous": s.dept})
            s.dept = r["group"]
        if r.get("priority") and r["priority"] != s.priority:
            emit("ticket.reprioritized", {"priority": r["priority"], "previous": s.priority})
            s.priority = r["priority"]
        for name in EDITABLE:
            value = r.get(name) or ""
            if value and value != s.fields.get(name, ""):
                emit("ticket.edited", {"field": name, "value": value, "previous": s.fields.get(name, "")})
                s.fields[name] = value
        if status in ("assigned", "in_progress", "blocked") and person and person != s.assignee:
            emit("ticket.assigned", {"assignee": person, **({"previous": s.assignee} if s.assignee else {})})
            if s.status == "blocked":
                s.before_block = "assigned"
            else:
                s.status = "assigned"
            s.assignee = person
            self.techs.setdefault(person, (at, s.dept, actor))
        elif status == "new" and s.status != "new" and s.status not in DONE:
            emit("ticket.unassigned", {"previous": s.assignee})
            s.assignee, s.status = None, "new"
        # enter the new state
        if status == "in_progress" and s.status != "in_progress":
            emit("ticket.started", {"on_behalf_of": s.assignee} if s.assignee else {})
            s.status = "in_progress"
        elif status == "blocked" and s.status != "blocked":
            emit("ticket.blocked", {"reason": target.partition(":")[2], "note": r["source"]})
            s.before_block, s.status, s.block = s.status, "blocked", target
        elif status == "resolved" and s.status not in ("resolved", "closed"):
            emit("ticket.resolved", {})
            s.status = "resolved"
        elif status == "closed" and s.status != "closed":
            if s.status != "resolved":
                emit("ticket.resolved", {})
            emit("ticket.closed", {})
            s.status = "closed"
        elif status == "cancelled" and s.status not in ("closed", "cancelled"):
            emit("ticket.cancelled", {"reason": r["source"]})
            s.status = "cancelled"


def import_events(env: Env, path: Path, mapping: Mapping, encoding: str | None = None,
                  progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Import an event log through ``mapping``. Returns the summary: ``file``,
    ``encoding``, ``dates`` (the layout read: iso, day_first, month_first,
    format), ``dates_ambiguous``, ``rows``, ``used``, ``cases``, ``events``
    (written now), ``tickets_new`` / ``tickets_updated`` / ``tickets_unchanged``,
    ``technicians_added``, ``skipped`` {reason: {count, rows, example?}}, with
    ``rows == used + sum(skipped counts)``. ``progress(cases_done, cases)`` after
    every chunk. Raises BadInput for a bad mapping or an unreadable file."""
    missing = [f for f in ("case", "time", "status") if f not in mapping.columns]
    if missing:
        raise BadInput(_("--map must name the columns of {fields} (or --profile)").format(fields=", ".join(missing)))
    if not mapping.status_map:
        raise BadInput(_("--status-map is needed: which source status is which ticketctl status (or --profile)"))
    tz = zone(mapping.tz)
    if xes.is_xes(path):
        if encoding:
            raise BadInput(_("--encoding is for CSV files: {file} is an XES log, which says its own").format(file=path))
        codec, rows = None, xes.rows(path)
    else:
        codec, rows = read_rows(path, encoding)
    header_row = next(rows, None)
    if header_row is None:
        raise BadInput(_("{path}: the file is empty").format(path=path))
    col = resolve_columns(path, [str(h).strip() for h in header_row[1]], mapping.columns)
    table = list(rows)
    layouts = []
    for name in ("time", "created"):
        i = col.get(name)
        try:
            layouts.append(dates.detect((c[i] for _no, c in table if i is not None and i < len(c) and c[i] != ""),
                                        mapping.date_format))
        except dates.Conflict as e:
            raise BadInput(_("{path}: its times are neither all day-first ({day!r}) nor all month-first ({month!r});"
                             " name the layout with --date-format").format(
                path=path, day=e.day_first, month=e.month_first)) from None
    both = dates.agree({"time": layouts[0], "created": layouts[1]})
    layout = both["time"]
    rp = EventReplay(mapping, col, layout, both["created"], tz)
    cases: dict[str, list[dict[str, Any]]] = {}
    ccol = col["case"]
    for no, cells in table:
        if not any(str(c).strip() for c in cells):
            rp.skip("blank", no)
            continue
        key = str(cells[ccol]).strip() if ccol < len(cells) else ""
        if not key:
            rp.skip("missing_case", no)
            continue
        r = rp.read(no, cells)
        if r is not None:
            cases.setdefault(key, []).append(r)
    st, cfg = env.store, env.config
    known_techs = st.imports.tech_names()
    c = Counts()
    keys = list(cases)
    for i in range(0, len(keys), CHUNK):
        batch = [rp.case(k, cases[k]) for k in keys[i:i + CHUNK]]
        c.incidents += len(batch)
        with st.transaction():
            write_chunk(st, cfg, batch, rp, known_techs, c, device=DEVICE, seq_key=SEQ_KEY)
        if progress:
            progress(min(i + CHUNK, len(keys)), len(keys))
    skipped = rp.skips.as_dict()
    for reason, example in rp.examples.items():
        skipped[reason]["example"] = example
    return {
        "file": str(path), "encoding": codec, "dates": layout.kind, "dates_ambiguous": layout.ambiguous,
        "rows": len(table), "used": rp.used, "cases": c.incidents, "events": c.events,
        "tickets_new": c.new, "tickets_updated": c.updated, "tickets_unchanged": c.unchanged,
        "technicians_added": c.techs, "skipped": skipped,
        "retimed": rp.retimed.as_dict().get("earlier_than_previous", {"count": 0, "rows": []}),
    }

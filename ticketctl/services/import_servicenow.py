"""Import a ServiceNow incident event log: each row a snapshot, replayed as events.

The export (see ``shared/data/servicenow_incident_event_log/README.md``) has one
row per update of an incident; an incident's rows are consecutive and in update
order. Per incident this writes a ``ticket.created`` at ``opened_at`` from its
first row, then, at each row's ``sys_updated_at``, the events that turn the
previous row into this one::

    row n-1                      row n                          events at row n's time
    Awaiting User Info  ------>  Active, Group 23, Resolver 3   unblocked            (leave the state)
      Group 70, Resolver 31                                     transferred Group 23 (then the fields)
                                                                assigned Resolver 3
                                                                started              (then enter the state)

Order inside a row: leave the old state (``ticket.unblocked``, or
``ticket.reopened`` out of Resolved/Closed), then the department, the assignee
and the priority, then enter the new state. That order keeps the folded
ticket where ServiceNow had it: ``workflow.apply`` moves an assigned ticket to
``assigned``, so an assignment must not land on a ticket that is still
resolved or blocked-and-leaving. Two consequences worth knowing:

* an unassignment while blocked is written as unblocked, unassigned, blocked
  (``apply`` of ``ticket.unassigned`` sets ``new`` even on a blocked ticket),
  so the blocked time is split at that moment but counted in full;
* an assignment while Resolved stays Resolved is written as assigned then
  resolved again, so the ticket's ``resolved_at`` is that later moment.

Closed from a state other than Resolved is written as resolved, then closed.
Rows are replayed in file order (``sys_mod_count`` order); a row whose time is
before the previous event of its incident (a handful in the real log, e.g. an
update stamped before ``opened_at``) is written at that event's time and
listed under ``retimed`` in the summary, so a ticket's history never runs
backwards.
The ticket's ``ticket.created`` also keeps ServiceNow's own figures from the
incident's last row used: ``made_sla`` as ``source_made_sla`` and
``reopen_count`` as ``source_reopens`` (``report kpi`` shows them beside
ticketctl's own; a later export does not rewrite them: the created event is
written once).
The ticket is created with the first row's category (product), subcategory
(fault), location (zone) and impact; a later row that changes one of them
writes a ``ticket.edited`` (a ``?`` never erases a known value).

Rows it cannot use are skipped and counted by reason with their row numbers
(spreadsheet numbering: the header is row 1, the first incident row is 2), so
``rows == used + sum of skipped``:

* ``unknown_state``: an incident_state outside the mapping (upstream has ``-100``);
* ``bad_date``: a ``sys_updated_at`` (or, on an incident's first row, ``opened_at``)
  that is not ``D/M/YYYY HH:MM``;
* ``bad_value``: a priority or (first row) impact that is neither ``?`` nor ``1``..``4``;
* ``missing_number``: no incident number;
* ``malformed_row``: not as many fields as the header;
* ``not_consecutive``: rows of an incident found after another incident's rows;
* ``incident_not_created``: the later rows of an incident whose first row was skipped;
* ``key_taken``: the rows of an incident whose number is already the key of a
  ticket this import did not make.

Idempotent: every event id is a uuid5 of the incident number, the row's
``sys_mod_count`` (and how often that count occurred before in the incident)
and the event's index in the row. Ids already in the store are not written
again; a ticket that gains events (a later export of the same incidents) is
refolded from all its events and its projection and spans are rewritten.
A later export must hold each incident from its first row, as ServiceNow's
audit export does: rows that start mid-way through an incident would be
replayed as if the incident began there. Written in transactions of :data:`CHUNK` incidents, so other commands are not
locked out for the whole import; a failed import can simply be run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ticketctl.core import workflow
from ticketctl.core.config import Config
from ticketctl.core.model import Event, Technician, Ticket
from ticketctl.services.env import Env
from ticketctl.services.servicenow_log import DEVICE, SEQ_KEY, Incident, Replay, Skips, Times, incidents, uid, zone
from ticketctl.store.db import Store


@dataclass
class Counts:
    rows: int = 0
    incidents: int = 0
    events: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    techs: int = 0


class Rows(Protocol):
    """What :func:`write_chunk` updates of a replay: the skips, the rows used, the technicians met."""

    skips: Skips
    used: int
    techs: dict[str, tuple[str, str, str]]


def write_chunk(st: Store, cfg: Config, batch: list[Incident], rp: Rows, known_techs: set[str], c: Counts,
           device: str = DEVICE, seq_key: str = SEQ_KEY) -> None:
    """Write one chunk: new events, refolded tickets, their spans, new technicians.
    An incident whose key another ticket already has (not made by this import)
    is not touched: its rows count as skipped, ``key_taken``. ``import events``
    writes through it too, as its own ``device`` (``rp`` then is its replay:
    anything with ``skips``, ``used`` and ``techs``)."""
    events: list[Event] = []
    tickets: list[Ticket] = []
    spans: list[tuple[Any, ...]] = []
    stored: dict[str, list[Event]] = {}
    for e in st.imports.events_as_applied([inc.key for inc in batch]):
        stored.setdefault(e.ticket or "", []).append(e)
    seq = int(st.meta(seq_key, "1"))
    for inc in batch:
        have = stored.get(inc.key)
        ids = {e.id for e in have} if have else set()
        if have and inc.drafts[0][0] not in ids:
            for no in inc.rows:
                rp.skips.add("key_taken", no)
            rp.used -= len(inc.rows)
            c.incidents -= 1
            continue
        new = []
        for eid, typ, at, actor, mutation, payload in inc.drafts:
            if eid not in ids:
                new.append(Event(id=eid, type=typ, at=at, actor=actor, device=device, device_seq=seq,
                                 mutation_id=mutation, ticket=inc.key, payload=payload))
                seq += 1
        if not new:
            c.unchanged += 1
            continue
        if have:
            st.replay.drop_spans([inc.key])
            c.updated += 1
        else:
            c.new += 1
        t, rows = workflow.fold(None, [*(have or []), *new], cfg)
        events.extend(new)
        tickets.append(t)
        spans.extend(rows)
    added: list[Technician] = []
    techs = rp.techs
    for name, (at, dept, actor) in techs.items():
        if name in known_techs:
            continue
        known_techs.add(name)
        eid = uid("tech", name)
        e = Event(id=eid, type="tech.added", at=at, actor=actor, device=device, device_seq=seq, mutation_id=eid,
                  payload={"name": name, "dept": dept})
        seq += 1
        events.append(e)
        added.append(workflow.apply_tech(None, e, cfg))
    techs.clear()
    st.put_events(events)
    st.put_tickets(tickets)
    st.put_techs(added)
    st.put_spans(spans)
    st.set_meta(seq_key, str(seq))
    c.events += len(events)
    c.techs += len(added)


def import_servicenow(env: Env, path: Path, tz: str | None = None,
                      progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Import a ServiceNow incident event log (``.csv`` or ``.csv.gz``).

    Returns the summary: ``file``, ``rows`` (data rows read), ``used``,
    ``incidents`` (created from the file), ``events`` (written now),
    ``tickets_new`` / ``tickets_updated`` / ``tickets_unchanged``,
    ``technicians_added``, ``skipped`` {reason: {count, rows}} (every row
    read is either used or skipped: ``rows == used + sum(skipped counts)``) and
    ``retimed`` {count, rows}: used rows whose time was before the previous
    event of their incident (or its ``opened_at``), written at that event's time. ``progress(bytes_read, size)`` is
    called after every chunk. Raises BadInput for a missing or unreadable
    file, a file without the ServiceNow columns, or an unknown ``tz``."""
    times = Times(zone(tz))
    cfg, st = env.config, env.store
    known_techs = st.imports.tech_names()
    c = Counts()
    rp: Replay | None = None
    try:
        size = path.stat().st_size if path.is_file() else 0
    except OSError:  # a name too long: opening it says so
        size = 0
    for rp, batch, done in incidents(path, times):
        c.incidents += len(batch)
        with st.transaction():
            write_chunk(st, cfg, batch, rp, known_techs, c)
        if progress:
            progress(done, size)
    assert rp is not None
    return {
        "file": str(path),
        "rows": rp.read,
        "used": rp.used,
        "incidents": c.incidents,
        "events": c.events,
        "tickets_new": c.new,
        "tickets_updated": c.updated,
        "tickets_unchanged": c.unchanged,
        "technicians_added": c.techs,
        "skipped": rp.skips.as_dict(),
        "retimed": rp.retimed.as_dict().get("earlier_than_previous", {"count": 0, "rows": []}),
    }

"""History that reaches the team: events a device wrote outside any mutation
(``import servicenow``, ``import csv``, ``demo``) become part of the server's
log, in bulk (``POST /sync/history``).

Such events are facts, not intents: the server does not re-run them, it
checks and records them. Each keeps its identity (the importer's ids are
uuid5 of the source's row, so the same export imported on two machines has
the same ids), its time, actor and device; the server gives it the next
number of the global sequence and folds it into its projections as every
client will. Per upload, under the sequence lock, in the upload's order:

- an id the server has is a duplicate: skipped, nothing written;
- a ticket's events either create it (the first is ``ticket.created`` and no
  ticket has the key) or continue a ticket the server has (no creation among
  them); otherwise they are a *conflict* (another ticket holds the key, or the
  creation is missing) and are refused, named in the reply;
- ``tech.added`` for a technician the team already has is refused too (the
  roster is the team's: ``tech set`` changes it).

Refused events are answered by id, so the device stops offering them. The
accepted ones are answered with their sequence numbers, one unbroken run
(``first`` .. ``last``: nothing else can take a number while the upload holds
the lock), so a device whose cursor stands just before it confirms them
without pulling its own history back.
"""

from collections import defaultdict
from typing import Any

from ticketctl.core.config import Config
from ticketctl.core.model import Event
from ticketctl.core.workflow import apply_tech, fold
from ticketctl.server.store.team import ServerStore
from ticketctl.sync.bodies import HistoryEvent

_EXISTING = "SELECT id, seq FROM events WHERE id IN ({marks})"


def record(st: ServerStore, cfg: Config, upload: list[HistoryEvent]) -> dict[str, Any]:
    """Record an upload (inside the transaction holding the sequence lock);
    returns ``accepted``, ``duplicates``, ``refused`` ({event id: reason}), and
    ``seqs``: the number of every event the server now has, the duplicates' included
    (the device confirms its copies of those too), and ``first``/``last`` of the accepted."""
    from sqlalchemy import text

    ids = [e.id for e in upload]
    have: dict[str, int] = {}
    for i in range(0, len(ids), 900):
        part = ids[i:i + 900]
        q = text(_EXISTING.format(marks=", ".join(f":i{j}" for j in range(len(part)))))
        have.update((r[0], int(r[1])) for r in st.c.execute(q, {f"i{j}": v for j, v in enumerate(part)}))
    fresh: list[HistoryEvent] = []
    seen: set[str] = set()
    for e in upload:
        if e.id not in have and e.id not in seen:
            seen.add(e.id)
            fresh.append(e)
    per_ticket: dict[str, list[HistoryEvent]] = defaultdict(list)
    techs: list[HistoryEvent] = []
    for e in fresh:
        (techs if e.ticket is None else per_ticket[e.ticket]).append(e)
    st.preload(list(per_ticket))
    refused: dict[str, str] = {}
    written: list[Event] = []
    for key, evs in per_ticket.items():
        exists = st.has_ticket(key)
        creates = [e for e in evs if e.type == "ticket.created"]
        why = None
        if any(e.type.startswith("tech.") for e in evs):
            why = f"{key}: a technician's event names a ticket"
        elif exists and creates:
            why = f"{key}: the team already has a ticket with this key"
        elif not exists and (not creates or evs[0].type != "ticket.created" or len(creates) > 1):
            why = f"{key}: the team has no such ticket and these events do not create it"
        if why is not None:
            refused.update((e.id, why) for e in evs)
            continue
        numbered = [_event(st, e) for e in evs]
        t, _spans = fold(st.ticket(key) if exists else None, numbered, cfg)
        st.put_ticket(t)
        written += numbered
    for e in techs:
        name = str(e.payload.get("name", ""))
        if not name or not e.type.startswith("tech."):
            refused[e.id] = f"{e.type}: not a technician's event"
            continue
        has = st.has_tech(name)
        if e.type == "tech.added" and has:
            refused[e.id] = f"{name}: the team already has this technician"
            continue
        if e.type != "tech.added" and not has:
            refused[e.id] = f"{name}: the team has no such technician"
            continue
        ev = _event(st, e)
        st.put_tech(apply_tech(st.tech(name) if has else None, ev, cfg))
        written.append(ev)
    written.sort(key=lambda ev: ev.device_seq)
    st.put_events(written)
    seqs = [ev.device_seq for ev in written]
    return {"accepted": len(written), "duplicates": len(upload) - len(fresh), "refused": refused,
            "seqs": {**have, **{ev.id: ev.device_seq for ev in written}},
            "first": seqs[0] if seqs else None, "last": seqs[-1] if seqs else None}


def _event(st: ServerStore, e: HistoryEvent) -> Event:
    seq = st.take_counter("next_device_seq")
    return Event(id=e.id, type=e.type, at=e.at, actor=e.actor, device=e.device, device_seq=seq, mutation_id=e.mutation_id,
                 ticket=e.ticket, payload=dict(e.payload), server_seq=seq)

"""Reading the team's log: pages of events and results after a sequence
number, and the snapshot of every projection as of one number. Written as JSON
text around what is stored: a page of 5,000 events or a snapshot of a million
tickets is the bulk of what a device downloads, and decoding and re-encoding
each stored payload would cost more than the query."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, select

from ticketctl.core import roles
from ticketctl.server import schema as S
from ticketctl.server.store.engine import high_water


def result_json(r: Any, duplicate: bool = False) -> dict[str, Any]:
    """A stored mutation result as the protocol returns it."""
    out = {"client_seq": int(r["client_seq"]), "mutation_id": r["mutation_id"], "name": r["name"], "status": r["status"],
           "reason": r["reason"], "seq": int(r["seq"])}
    if duplicate:
        out["duplicate"] = True
    return out


def event_json(r: Any, role: str) -> str:
    """One stored event as the JSON of ``core.model.Event`` (the fields of ``dataclasses.asdict``),
    its payload as the device's role may see it."""
    payload = r["payload"]
    if role == "technician":
        payload = json.dumps(roles.redact_event(r["type"], json.loads(payload), role), separators=(",", ":"), sort_keys=True)
    d = json.dumps
    return (f'{{"id":{d(r["id"])},"type":{d(r["type"])},"at":{d(r["at"])},"actor":{d(r["actor"])},"device":{d(r["device"])},'
            f'"device_seq":{int(r["seq"])},"mutation_id":{d(r["mutation_id"])},"ticket":{d(r["ticket"])},"payload":{payload},'
            f'"server_seq":{int(r["seq"])}}}')


def page(engine: Engine, epoch: str, device: str, role: str, after: int, limit: int) -> str:
    """Events with ``seq > after`` and ``device``'s results, in sequence order, as
    the JSON of a pull page: ``events``, ``results``, ``cursor``, ``more``, ``epoch``."""
    with engine.connect() as c:
        return _page(c, epoch, device, role, after, limit)


def _page(c: Connection, epoch: str, device: str, role: str, after: int, limit: int) -> str:
    seqs = sorted([r[0] for r in c.execute(select(S.events.c.seq).where(S.events.c.seq > after).order_by(S.events.c.seq).limit(limit))]
                  + [r[0] for r in c.execute(select(S.results.c.seq).where(S.results.c.seq > after)
                                             .order_by(S.results.c.seq).limit(limit))])[:limit]
    upto = seqs[-1] if seqs else after
    rows = c.execute(select(S.events).where(S.events.c.seq > after, S.events.c.seq <= upto).order_by(S.events.c.seq)).mappings()
    res = [result_json(r) for r in c.execute(select(S.results).where(
        S.results.c.device == device, S.results.c.seq > after, S.results.c.seq <= upto).order_by(S.results.c.seq)).mappings()]
    events = ",".join(event_json(r, role) for r in rows)
    return (f'{{"epoch":{json.dumps(epoch)},"events":[{events}],"results":{json.dumps(res, separators=(",", ":"))},'
            f'"cursor":{upto},"more":{"true" if len(seqs) >= limit else "false"}}}')


def newest(engine: Engine) -> int:
    """The last sequence number taken (what a waiting pull compares with)."""
    with engine.connect() as c:
        return high_water(c)


def snapshot(engine: Engine, epoch: str, role: str) -> str:
    """Every projection as of one sequence number, read in one snapshot of the
    database, as JSON: ``articles``, ``delegations``, ``tickets`` (as ``role``
    may see them), ``technicians``, ``seq``, ``epoch``."""
    with engine.connect() as c:
        if engine.dialect.name == "postgresql":
            c.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        else:
            c.exec_driver_sql("BEGIN")  # one read snapshot of the WAL for all four queries
        seq = high_water(c)
        rows = [r[0] for r in c.execute(select(S.tickets.c.data).order_by(S.tickets.c.key))]
        techs = [r[0] for r in c.execute(select(S.technicians.c.data).order_by(S.technicians.c.name))]
        arts = [r[0] for r in c.execute(select(S.articles.c.data).order_by(S.articles.c.id))]
        dlgs = [r[0] for r in c.execute(select(S.delegations.c.data).order_by(S.delegations.c.name))]
    return (f'{{"epoch":{json.dumps(epoch)},"seq":{seq},"articles":[' + ",".join(arts) + '],"delegations":['
            + ",".join(dlgs) + '],"tickets":[' + roles.redact_json(",".join(rows), role)
            + '],"technicians":[' + ",".join(techs) + "]}")

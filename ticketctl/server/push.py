"""What the server does with what a device sends, as plain functions (the
routes in ``server.sync_routes`` only parse and answer): its hello, a batch of
named mutations, and history written outside any mutation.

A push, in one transaction holding the sequence lock::

    for each mutation, in client_seq order:
        seen before (by client_seq or mutation_id)? -> its stored result again
        a gap?                                       -> stop: 409, resend from `expected`
        else run it: mutations.prepare (resolve the key, judge the role) -> the service
             applied  -> its events and projections (buffered in the ServerStore)
             refused  -> nothing of it; the reason is stored as the result
        the result takes the next sequence number either way
    write the results, the escalations' notifications, the buffered changes, the device's last seq

A refusal still advances the device's number: a poison mutation never blocks
its queue (``docs/sync.md``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from ticketctl.core.model import parse_time
from ticketctl.errors import BadInput, Refused, TicketctlError
from ticketctl.server import countersign, history, jobs
from ticketctl.server.auth import Device
from ticketctl.server.context import Server
from ticketctl.server.store import devices
from ticketctl.server.store.engine import high_water, lock_sequence, now_iso
from ticketctl.server.store.log import result_json
from ticketctl.server.store.team import ServerStore
from ticketctl.services import signing
from ticketctl.services.mutations import intent, prepare
from ticketctl.sync.bodies import Hello, HistoryEvent, Mutation

log = logging.getLogger("ticketctl.server")

#: the roles that may share imported history with the team
HISTORY_ROLES = ("dispatcher", "supervisor", "admin")


def hello(server: Server, dev: Device, body: Hello) -> dict[str, Any]:
    """Register the device's key prefix (a free one when it asks for none or for
    one another device holds) and its signing key; BadInput unless the key is an
    Ed25519 key in PEM, ``key_id`` its own id, and no other device enrolled it."""
    with server.engine.begin() as c:
        prefix = dev.prefix
        if not prefix:
            lock_sequence(c)  # two first hellos asking for one prefix: one after the other
            prefix = devices.give_prefix(c, dev.name, body.prefix)
        if body.public_key and body.public_key != dev.public_key:  # no write (and no write lock) on every sync
            problem = signing.key_problem(body.public_key, body.key_id)
            holder = devices.key_holder(c, str(body.key_id), dev.name) if problem is None else None
            if holder is not None:
                problem = (f"signing key {body.key_id} is enrolled by device {holder}: a device needs a key of its own"
                           " (move this device's key file away and sync again to make one)")
            if problem is not None:
                raise BadInput(f"signing key refused: {problem}")
            devices.set_key(c, dev.name, body.public_key, str(body.key_id))
        seq = high_water(c)
    return {"epoch": server.epoch, "device": dev.name, "role": dev.role, "prefix": prefix,
            "last_client_seq": dev.last_client_seq, "seq": seq}


def push(server: Server, dev: Device, batch: list[Mutation]) -> tuple[dict[str, Any], int | None]:
    """Run a batch (see the module doc); returns the reply (``results``,
    ``last_client_seq``, ``epoch``) and, when the batch stopped at a gap, the
    ``client_seq`` the server expects."""
    out: list[dict[str, Any]] = []
    gap: int | None = None
    with server.engine.begin() as c:
        lock_sequence(c)
        st = ServerStore(c, dev.name, dev.prefix)
        last = devices.last_client_seq(c, dev.name)
        seen = devices.stored_results(c, dev.name, [m.client_seq for m in batch], [m.mutation_id for m in batch])
        rows: list[dict[str, Any]] = []
        for m in batch:
            had = seen.get(("seq", m.client_seq)) or seen.get(("id", m.mutation_id))
            if had is not None:
                out.append(result_json(had, duplicate=True))
                if m.client_seq == last + 1:  # re-sent under a new number after a restore (new epoch)
                    last = m.client_seq
                continue
            if m.client_seq != last + 1:
                gap = last + 1
                break
            row = _run(server, c, st, dev, m)
            rows.append(row)
            out.append(result_json(row))
            last = m.client_seq
        devices.add_results(c, rows)
        jobs.enqueue(c, server.config, st.escalations())
        st.flush()
        devices.set_last_client_seq(c, dev.name, last)
    return {"epoch": server.epoch, "results": out, "last_client_seq": last}, gap


def _run(server: Server, c: Connection, st: ServerStore, dev: Device, m: Mutation) -> dict[str, Any]:
    """One mutation, all or nothing (its writes are buffered in ``st`` until the
    batch is flushed; a refusal drops them); returns its result row, which
    takes the next sequence number."""
    status, reason = "applied", None
    mark = st.mark()
    try:
        env = server.env(st, dev.name, when(m.client_ts), dev.role)
        call = prepare(env, m.name, m.args, check=True)
        with intent(env, call.name, call.args, m.mutation_id):
            call.run(env)
            if call.name == "ticket.certify":
                countersign.countersign(c, env, dev.name, call.args)
    except TicketctlError as e:
        st.restore(mark)
        status, reason = "rejected", str(e)
    except (TypeError, ValueError, KeyError, AttributeError, DataError, IntegrityError, StatementError) as e:
        # arguments this server cannot read or store: refused, never a stuck queue
        if isinstance(e, DBAPIError) and not isinstance(e, DataError | IntegrityError):
            raise
        st.restore(mark)
        log.warning("mutation %s from %s malformed: %r", m.name, dev.name, e)
        status, reason = "rejected", f"malformed {m.name}: {type(e).__name__}: {e}"
    seq = st.take_counter("next_device_seq")
    return {"seq": seq, "device": dev.name, "client_seq": m.client_seq, "mutation_id": m.mutation_id, "name": m.name,
            "status": status, "reason": reason, "at": now_iso()}


def when(client_ts: str) -> datetime:
    """When a mutation happened: the device's time, never later than the
    server's (a clock running fast must not date work in the future)."""
    now = parse_time(now_iso())
    try:
        t = parse_time(client_ts)
    except ValueError:
        return now
    return min(t, now)


def share_history(server: Server, dev: Device, events: list[HistoryEvent]) -> dict[str, Any]:
    """Record history this device wrote outside any mutation (``server.history``);
    Refused unless the device's role may share history with the team."""
    if dev.role not in HISTORY_ROLES:
        raise Refused(f"a {dev.role} may not share imported history: only dispatchers, supervisors and admins")
    with server.engine.begin() as c:
        lock_sequence(c)
        st = ServerStore(c, dev.name, dev.prefix)
        out = history.record(st, server.config, events)
        st.flush()
        return {**out, "seq": st.seq, "epoch": server.epoch}

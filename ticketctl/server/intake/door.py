"""Where the doors write: a :class:`Door` buffers one source's tickets, notes,
files and refs inside a transaction holding the sequence lock, and the
:class:`Writer` commits the arrivals of one server process in groups."""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from fastapi import HTTPException
from sqlalchemy import Connection, Engine

from ticketctl.core import intake as I
from ticketctl.core.config import Config
from ticketctl.core.evidence import decide_attach
from ticketctl.core.model import parse_time
from ticketctl.errors import TicketctlError
from ticketctl.home import Home
from ticketctl.server.context import server_env
from ticketctl.server.intake.sources import Source, Sources
from ticketctl.server.store import intake as intake_store
from ticketctl.server.store.engine import lock_sequence, now_iso
from ticketctl.server.store.team import ServerStore
from ticketctl.services import tickets
from ticketctl.services.env import Env
from ticketctl.services.mutations import intent

log = logging.getLogger("ticketctl.server")


class Door:
    """One request's writes as source ``name``: opens tickets (keyed with the
    source's prefix and its own counter), notes them, attaches files, and
    remembers refs; :meth:`commit` writes it all. Runs inside the caller's
    transaction, which holds the sequence lock."""

    def __init__(self, c: Connection, home: Home, cfg: Config, name: str, prefix: str, lock: bool = True):
        if lock:
            lock_sequence(c)
        self.c, self.name, self.prefix = c, name, prefix
        self.st = ServerStore(c, I.device_name(name), prefix)
        self.env: Env = server_env(home, cfg, self.st, I.device_name(name), parse_time(now_iso()))
        self.opened: list[str] = []
        self.noted: list[str] = []
        # written at commit, like the store's buffers, so that one refused arrival of a batch can be undone
        self._refs: dict[str, str] = {}
        self._counter: int | None = None
        self._counter_row: bool | None = None
        self._blobs: dict[str, bytes] = {}
        self._deliveries: dict[str, int] = {}
        self._forget_before: int | None = None

    def mark(self) -> tuple[Any, ...]:
        """Where one arrival starts (see :meth:`restore`)."""
        return (self.st.mark(), dict(self._refs), self._counter, dict(self._blobs), len(self.opened), len(self.noted),
                dict(self._deliveries))

    def restore(self, mark: tuple[Any, ...]) -> None:
        """Forget what a refused arrival did (nothing of it reached the database)."""
        st_mark, refs, counter, blobs, n_opened, n_noted, deliveries = mark
        self.st.restore(st_mark)
        self._refs, self._counter, self._blobs, self._deliveries = refs, counter, blobs, deliveries
        del self.opened[n_opened:]
        del self.noted[n_noted:]

    def _as(self, mutation: str, args: dict[str, Any], fn: Callable[[], Any], mutation_id: str | None = None) -> Any:
        with intent(self.env, mutation, args, mutation_id or str(uuid.uuid4())):
            return fn()

    def open(self, fields: dict[str, Any], mutation_id: str | None = None) -> str:
        key = f"{self.prefix}-{self._next_number()}"
        self._as("ticket.create", {"key": key, "fields": fields}, lambda: tickets.create_as(self.env, key, fields), mutation_id)
        self.opened.append(key)
        return key

    def note(self, key: str, text: str) -> None:
        self._as("ticket.note", {"key": key, "text": text}, lambda: tickets.note(self.env, key, text))
        self.noted.append(key)

    def settle(self, key: str, note: str) -> None:
        """Monitoring says the fault is gone: resolve the ticket if someone holds
        it, cancel it if nobody took it yet, else (blocked) only note it."""
        status = self.st.ticket(key).status
        if status in ("assigned", "in_progress"):
            self._as("ticket.resolve", {"key": key, "note": note}, lambda: tickets.resolve(self.env, key, note))
        elif status == "new":
            self._as("ticket.cancel", {"key": key, "reason": note}, lambda: tickets.cancel(self.env, key, note))
        else:
            self.note(key, note)

    def attach(self, key: str, data: bytes, name: str, mime: str) -> str:
        """Store ``data`` as a blob and attach it to ``key`` (as a file that came with the request)."""
        sha = hashlib.sha256(data).hexdigest()
        self._blobs[sha] = data
        at = now_iso()
        facts = {"sha256": sha, "name": name, "size": len(data), "mime": mime, "item": None, "captured_at": None}
        args = {"key": key, **facts, "at": at}
        self._as("ticket.attach", args, lambda: tickets.act(
            self.env, key, lambda t: decide_attach(t, facts, at, self.env.config, arriving=True)))
        return sha

    def ticket_for(self, ref: str) -> str | None:
        """The open ticket ``ref`` opened before, if any."""
        key = self.seen(ref)
        if key is None or not self.st.has_ticket(key):
            return None
        return key if self.st.ticket(key).status in I.OPEN_STATUSES else None

    def seen(self, ref: str) -> str | None:
        """The ticket ``ref`` went to, whatever its status (a mail handed over twice)."""
        if ref in self._refs:
            return self._refs[ref]
        return intake_store.ref_ticket(self.c, self.name, ref)

    def remember(self, ref: str, key: str) -> None:
        self._refs[ref] = key

    def once(self, signature: str, at: int, forget_before: int) -> None:
        """Take a signed webhook delivery (its signature, its signed time) once: 409 if
        it was taken before. Kept at :meth:`commit`, with what it brought; deliveries
        signed before ``forget_before`` are forgotten then (the window refuses them)."""
        if signature in self._deliveries or intake_store.delivery_taken(self.c, self.name, signature):
            raise HTTPException(409, "this webhook delivery was taken before (a replay); sign each delivery anew, with its own"
                                     " timestamp")
        self._deliveries[signature] = at
        self._forget_before = forget_before

    def _next_number(self) -> int:
        if self._counter is None:
            last = intake_store.last_number(self.c, self.prefix)
            self._counter_row = last is not None
            self._counter = last or 0
        n = self._counter + 1
        while self.st.has_ticket(f"{self.prefix}-{n}"):  # never reuse a key, whoever made it
            n += 1
        self._counter = n
        return n

    def commit(self) -> dict[str, Any]:
        """Write everything buffered (inside the caller's transaction)."""
        intake_store.keep_blobs(self.c, self._blobs)
        if self._counter is not None:
            intake_store.set_last_number(self.c, self.prefix, self._counter, exists=bool(self._counter_row))
            self._counter_row = True
        seq = self.st.seq
        self.st.flush()
        intake_store.remember_refs(self.c, self.name, self._refs, seq)
        self._refs.clear()
        self._blobs.clear()
        intake_store.keep_deliveries(self.c, self.name, self._deliveries, self._forget_before)
        self._deliveries.clear()
        self._forget_before = None
        return {"opened": self.opened, "noted": sorted(set(self.noted) - set(self.opened))}


#: what one arrival does at its door; who it comes from (looked up in the writer's transaction)
Work = Callable[[Door], Any]
Who = Callable[[Connection, Sources], Source]


class Writer:
    """The doors' writes of one server process, committed in groups.

    Requests queue their work; one thread takes whatever is waiting (up to
    :data:`GROUP` arrivals) and runs it in one transaction under the sequence
    lock: the lock, the commit and its flush to disk are paid once for the group,
    not once per alert. Each arrival is still all or nothing: one the rules
    refuse is undone (:meth:`Door.restore`) and answered 422, the others commit.
    A database error fails the whole group (503), and nothing of it is written."""

    GROUP = 200

    def __init__(self, engine: Engine, home: Home, cfg: Config):
        self.engine, self.home, self.cfg = engine, home, cfg
        self.queue: queue.SimpleQueue[tuple[Who, Work, Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, who: Who, work: Work) -> Future[Any]:
        fut: Future[Any] = Future()
        self.queue.put((who, work, fut))
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="ticketctl-intake", daemon=True)
                    self._thread.start()
        return fut

    def _loop(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < self.GROUP:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            self._run(batch)

    def _run(self, batch: list[tuple[Who, Work, Future[Any]]]) -> None:
        out: list[Any] = [None] * len(batch)
        try:
            with self.engine.begin() as c:
                lock_sequence(c)
                table = Sources(c)
                d: Door | None = None
                for i, (who, work, _fut) in enumerate(batch):
                    try:
                        src = who(c, table)
                    except HTTPException as e:
                        out[i] = e
                        continue
                    if d is None or d.name != src.name:
                        if d is not None:
                            d.commit()  # the next source's store reads what this one wrote
                        d = Door(c, self.home, self.cfg, src.name, src.prefix, lock=False)
                    mark = d.mark()
                    try:
                        extra = work(d) or {}
                        opened, noted = d.opened[mark[4]:], d.noted[mark[5]:]
                        out[i] = {"opened": list(opened), "noted": sorted(set(noted) - set(opened)), **extra}
                    except HTTPException as e:  # the door refused this arrival (a replayed webhook): only it is undone
                        d.restore(mark)
                        out[i] = e
                    except TicketctlError as e:  # the rules refused this arrival: only it is undone
                        d.restore(mark)
                        out[i] = HTTPException(422, str(e))
                    except Exception as e:  # noqa: BLE001 - answered as this request's error, the group goes on
                        d.restore(mark)
                        log.exception("intake from %s failed", src.name)
                        out[i] = e
                if d is not None:
                    d.commit()
        except Exception as e:  # noqa: BLE001 - the transaction is rolled back: every request of the group fails
            for _who, _work, fut in batch:
                fut.set_exception(e)
            return
        for (_who, _work, fut), r in zip(batch, out, strict=True):
            if isinstance(r, BaseException):
                fut.set_exception(r)
            else:
                fut.set_result(r)

"""Waiting for the team's next event without holding a thread.

A waiting pull (``GET /sync/pull?wait=S``, what ``sync --watch`` sleeps on)
awaits this process's :class:`Waker`, which one task per server process keeps
up to date with the sequence's high-water mark, whoever wrote it:

- on PostgreSQL the task LISTENs on :data:`~ticketctl.server.store.engine.SEQ_CHANNEL`;
  every writing transaction notifies that channel with its new high-water mark
  as it commits (``ServerStore.flush``), so a commit by any worker or server on
  the database wakes the waiters at once (and the task re-reads the counter
  every :data:`CHECK_S` in case a notification was lost with its connection);
- on SQLite, which has no notifications, the task reads the counter every
  :data:`POLL_S` while anyone waits: one indexed read per process, however many
  devices wait, and writers in other processes are seen as soon as they commit.

A watcher costs an open connection and a coroutine, not one of the worker's
threads: hundreds of ``sync --watch`` devices leave the threads to the devices
that are syncing. The task stops when nobody has waited for :data:`IDLE_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import Engine

from ticketctl.server.store.engine import SEQ_CHANNEL
from ticketctl.server.store.log import newest

log = logging.getLogger("ticketctl.server")

#: SQLite: how often the counter is read while anyone waits (the longest a watcher sleeps past a commit)
POLL_S = 0.1
#: PostgreSQL: how often the counter is read even without a notification
CHECK_S = 5.0
#: the task ends after this long without a waiter (its PostgreSQL connection with it)
IDLE_S = 30.0
#: after a lost database connection, the task tries again after this long
RETRY_S = 1.0


class Waker:
    """The sequence's high-water mark as this process last saw it (:attr:`seen`),
    and the waiters on it. Lives in one event loop: a new loop (a test
    client's) starts over."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.seen = -1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._waiting = 0

    async def wait_past(self, after: int, timeout: float) -> None:
        """Return once the sequence is past ``after`` (at once if it is), or
        after ``timeout`` seconds; whether it moved, the caller reads."""
        if self.seen > after or timeout <= 0:
            return
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._changed, self._task = loop, asyncio.Event(), None
        deadline = loop.time() + timeout
        self._waiting += 1
        try:
            if self._task is None or self._task.done():
                self._task = loop.create_task(self._follow())
            while self.seen <= after:
                left = deadline - loop.time()
                if left <= 0:
                    return
                assert self._changed is not None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), left)
        finally:
            self._waiting -= 1

    def _saw(self, seq: int) -> None:
        """The counter reads ``seq``: wake every waiter if it moved."""
        if seq > self.seen:
            self.seen = seq
            changed, self._changed = self._changed, asyncio.Event()
            if changed is not None:
                changed.set()

    async def stop(self) -> None:
        """End the task (the app is shutting down)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _follow(self) -> None:
        follow = self._listen if self.engine.dialect.name == "postgresql" else self._poll
        while True:
            try:
                await follow()
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the database went away: the waiters time out, and this tries again
                log.warning("waiting pulls: lost the database (%s); retrying", e)
                if self._waiting == 0:
                    return
                await asyncio.sleep(RETRY_S)

    async def _poll(self) -> None:
        idle = 0.0
        while idle < IDLE_S:
            self._saw(await asyncio.to_thread(newest, self.engine))
            await asyncio.sleep(POLL_S)
            idle = idle + POLL_S if self._waiting == 0 else 0.0

    async def _listen(self) -> None:
        import psycopg

        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        async with conn:
            await conn.execute(f"LISTEN {SEQ_CHANNEL}")
            idle = 0.0
            while idle < IDLE_S:
                # read after LISTEN: a commit before it is in the counter, one after it is notified
                cur = await conn.execute("SELECT value FROM counters WHERE name = 'seq'")
                row = await cur.fetchone()
                self._saw(int(row[0]) if row else 0)
                async for note in conn.notifies(timeout=CHECK_S):
                    with contextlib.suppress(ValueError):
                        self._saw(int(note.payload))
                idle = idle + CHECK_S if self._waiting == 0 else 0.0

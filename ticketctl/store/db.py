"""The local store: one SQLite file, stdlib ``sqlite3``, no ORM on the hot path.

Every technician command opens this store, so opening must be cheap: a
connection, three pragmas and a ``user_version`` read. A new store is made at
the latest version from ``store.ddl`` (generated from ``store.tables``); an
older one is brought up to it through the migrations of ``store.schema``. A
store already at the latest version imports neither module. Writes happen inside
:meth:`Store.transaction` (``BEGIN IMMEDIATE``), in which the events and the
projections they change are written together or not at all. The file runs in
WAL mode with ``synchronous=FULL``: a committed change survives a crash or a
power cut, and readers (the dashboard) never block writers.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ticketctl.core.approvals import Delegation
from ticketctl.core.kb import Article
from ticketctl.core.model import Event, Technician, Ticket, resolve_key
from ticketctl.errors import NotFound, TicketctlError
from ticketctl.i18n import _
from ticketctl.store.columns import VERSION
from ticketctl.store.rows import (
    ARTICLE_COLUMNS,
    EVENT_COLUMNS,
    EVENT_ORDER,
    TECH_COLUMNS,
    TICKET_COLUMNS,
    article_from_row,
    encode,
    event_from_row,
    tech_from_row,
    ticket_from_row,
)

if TYPE_CHECKING:  # each part is imported when first used: a technician's command loads only its own
    from ticketctl.store.board import Board
    from ticketctl.store.imports import Imports
    from ticketctl.store.kpi import Kpi
    from ticketctl.store.mirror import Mirror
    from ticketctl.store.notifications import Notifications
    from ticketctl.store.outbox import Outbox
    from ticketctl.store.replay import Replay
    from ticketctl.store.reports import Reports
    from ticketctl.store.stock import Stock
    from ticketctl.store.sweep import Sweep

KEY_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: they read as 1 and 0


class StoreError(TicketctlError):
    """The store file cannot be used (newer schema, corrupt file)."""


class Store:
    """An open local store. Use as a context manager, or call :meth:`close`.

    This class holds the connection, the transaction, the meta values and what
    a mutation reads and writes (tickets, technicians, articles, delegations,
    spans, events, the outbox row): the interface the server's store shares
    (``store.protocol.MutationStore``). Every other concern is a *part* in its
    own module, composed here and made on first use::

        st.outbox     store/outbox.py   the sync outbox and the history upload
        st.mirror     store/mirror.py   what applying a snapshot or a pulled page writes
        st.replay     store/replay.py   folding's reads (bases, events in fold order) and removals
        st.board      store/board.py    the dashboard's ranking, filters, counts and changes
        st.notifications  store/notifications.py  the webhook outbox
        st.reports    store/reports.py  the brief, backlog views, heat map, demo summary
        st.kpi        store/kpi.py      the KPI report's window reads
        st.sweep      store/sweep.py    the sweep's candidates, batch groups and breaches
        st.imports    store/imports.py  the importers' look-ups
        st.stock      store/stock.py    parts, places and stock: the ledger's projections

    Composition rather than mixins: a part module is imported only by the
    command that uses it (``ticketctl start`` never loads the KPI queries,
    and every technician command pays for each module it imports), the
    parts share this one connection, so one :meth:`transaction` covers
    them all, and the mutation interface stays this class's own, short
    enough to be the protocol the server implements too.
    """

    def __init__(self, path: Path):
        self.path = path
        self._meta: dict[str, str] | None = None
        from ticketctl.home import make_folder

        make_folder(path.parent)
        try:
            self.db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
            self.db.execute("PRAGMA busy_timeout = 10000")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version < VERSION:
                self._upgrade()
            elif version > VERSION:
                raise StoreError(
                    _("{path} was written by a newer ticketctl (schema v{version}, this one knows v{latest}); upgrade ticketctl")
                    .format(path=path, version=version, latest=VERSION)
                )
            self.db.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as e:
            raise StoreError(_("{path}: cannot open the store: {error}").format(path=path, error=e)) from None
    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the parts ------------------------------------------------------------------

    @cached_property
    def outbox(self) -> Outbox:
        from ticketctl.store.outbox import Outbox

        return Outbox(self)

    @cached_property
    def mirror(self) -> Mirror:
        from ticketctl.store.mirror import Mirror

        return Mirror(self)

    @cached_property
    def replay(self) -> Replay:
        from ticketctl.store.replay import Replay

        return Replay(self)

    @cached_property
    def board(self) -> Board:
        from ticketctl.store.board import Board

        return Board(self)

    @cached_property
    def notifications(self) -> Notifications:
        from ticketctl.store.notifications import Notifications

        return Notifications(self)

    @cached_property
    def reports(self) -> Reports:
        from ticketctl.store.reports import Reports

        return Reports(self)

    @cached_property
    def kpi(self) -> Kpi:
        from ticketctl.store.kpi import Kpi

        return Kpi(self)

    @cached_property
    def sweep(self) -> Sweep:
        from ticketctl.store.sweep import Sweep

        return Sweep(self)

    @cached_property
    def stock(self) -> Stock:
        from ticketctl.store.stock import Stock

        return Stock(self)

    @cached_property
    def imports(self) -> Imports:
        from ticketctl.store.imports import Imports

        return Imports(self)

    # -- schema ---------------------------------------------------------------------

    def _upgrade(self) -> None:
        """Bring the store to :data:`VERSION` in one transaction: a new (empty) one
        is created from the generated DDL, an older one runs the migrations after its
        version. The version is read again once the write lock is held: another
        process may have done it meanwhile."""
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                create(self.db)
                self._init_identity()
            elif version < VERSION and migrate(self.db, version):
                # new projection columns: the services replay the events (they hold the config)
                self.set_meta("rebuild_needed", "1")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _init_identity(self) -> None:
        """A new store is a new device: an id, and a key prefix for its tickets."""
        import secrets  # a new store only
        import uuid

        prefix = "".join(secrets.choice(KEY_LETTERS) for _i in range(3))
        self.db.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("device_id", uuid.uuid4().hex), ("key_prefix", prefix), ("next_device_seq", "1"), ("next_ticket_no", "1")],
        )

    # -- transactions and meta ------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """One write transaction; everything in it lands together or not at all.
        Inside another transaction it is part of that one."""
        if self.db.in_transaction:
            yield self
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._meta = None
        try:
            yield self
        except BaseException:
            self.db.execute("ROLLBACK")
            self._meta = None
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """One read transaction: every query inside sees the store as of its
        first read (the dashboard's figures all from one moment)."""
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            if self.db.in_transaction:
                self.db.execute("COMMIT")

    def meta(self, key: str, default: str | None = None) -> str:
        if self._meta is None:
            self._meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        if default is not None:
            return self._meta.get(key, default)
        return self._meta[key]

    def set_meta(self, key: str, value: str | None) -> None:
        """Set (or, with None, remove) one meta value."""
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        self._meta = None

    def take_counter(self, key: str, n: int = 1) -> int:
        """Reserve ``n`` values of a meta counter; returns the first (inside a transaction)."""
        first = int(self.meta(key))
        self.set_meta(key, str(first + n))
        return first

    # -- tickets --------------------------------------------------------------------

    def resolve_key(self, text: str) -> str:
        """The ticket key that ``text`` names (``core.model.resolve_key``: the exact
        key, ``N`` for this device's ``PFX-N``, or any unique prefix, case-insensitive)."""
        return resolve_key(text, self.meta("key_prefix"), self.has_ticket, self._keys_starting)

    def _keys_starting(self, q: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT key FROM tickets WHERE key >= ? AND key < ? ORDER BY key LIMIT 6",
                                              (q, q + "\uffff"))]

    def has_ticket(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM tickets WHERE key = ?", (key,)).fetchone() is not None

    def ticket(self, key: str) -> Ticket:
        """The ticket with exactly this key."""
        row = self.db.execute(f"SELECT {', '.join(TICKET_COLUMNS)} FROM tickets WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise NotFound(_("no ticket {key!r}").format(key=key))
        return ticket_from_row(row)

    def put_ticket(self, t: Ticket) -> None:
        self.db.execute(
            f"INSERT OR REPLACE INTO tickets ({', '.join(TICKET_COLUMNS)}) VALUES ({', '.join('?' * len(TICKET_COLUMNS))})",
            encode("tickets", t, TICKET_COLUMNS),
        )

    def put_tickets(self, ts: Sequence[Ticket]) -> None:
        self.db.executemany(
            f"INSERT OR REPLACE INTO tickets ({', '.join(TICKET_COLUMNS)}) VALUES ({', '.join('?' * len(TICKET_COLUMNS))})",
            [encode("tickets", t, TICKET_COLUMNS) for t in ts],
        )

    def select_tickets(self, where: str, params: Sequence[Any] | dict[str, Any], order: str, limit: int | None) -> list[Ticket]:
        sql = f"SELECT {', '.join(TICKET_COLUMNS)} FROM tickets"
        if where:
            sql += f" WHERE {where}"
        if order:
            sql += f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [ticket_from_row(r) for r in self.db.execute(sql, params)]

    def tickets_by_key(self, keys: Sequence[str]) -> Iterator[Ticket]:
        """The tickets of ``keys`` that exist (a few hundred keys a query), in no set order."""
        cols = ", ".join(TICKET_COLUMNS)
        for i in range(0, len(keys), 500):
            part = tuple(keys[i:i + 500])
            for r in self.db.execute(f"SELECT {cols} FROM tickets WHERE key IN ({', '.join('?' * len(part))})", part):
                yield ticket_from_row(r)

    def count_tickets(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM tickets").fetchone()[0])

    # -- technicians ----------------------------------------------------------------

    def tech(self, name: str) -> Technician:
        row = self.db.execute(f"SELECT {', '.join(TECH_COLUMNS)} FROM technicians WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(_("no technician {name!r} (add one with `ticketctl tech add {name}`)").format(name=name))
        return tech_from_row(row)

    def has_tech(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM technicians WHERE name = ?", (name,)).fetchone() is not None

    def techs(self) -> list[Technician]:
        return [tech_from_row(r) for r in self.db.execute(
            f"SELECT {', '.join(TECH_COLUMNS)} FROM technicians ORDER BY name")]

    def put_tech(self, t: Technician) -> None:
        self.put_techs([t])

    def put_techs(self, ts: Sequence[Technician]) -> None:
        self.db.executemany(
            f"INSERT OR REPLACE INTO technicians ({', '.join(TECH_COLUMNS)}) VALUES ({', '.join('?' * len(TECH_COLUMNS))})",
            [encode("technicians", t, TECH_COLUMNS) for t in ts],
        )

    def load(self, name: str, held: Sequence[str]) -> int:
        """Open tickets ``name`` holds (``held`` statuses count)."""
        marks = ", ".join("?" * len(held))
        row = self.db.execute(f"SELECT count(*) FROM tickets WHERE assignee = ? AND status IN ({marks})", (name, *held))
        return int(row.fetchone()[0])

    def last_active(self) -> dict[str, str]:
        """Per technician, the last update of any ticket they hold or held."""
        return dict(self.db.execute(
            "SELECT assignee, max(updated_at) FROM tickets WHERE assignee IS NOT NULL GROUP BY assignee").fetchall())

    def loads(self, held: Sequence[str]) -> dict[str, int]:
        """Open tickets held per assignee (``held`` statuses count)."""
        marks = ", ".join("?" * len(held))
        return dict(self.db.execute(
            f"SELECT assignee, count(*) FROM tickets WHERE assignee IS NOT NULL AND status IN ({marks}) GROUP BY assignee",
            tuple(held),
        ).fetchall())

    # -- a ticket's parts (store/stock.py has the rest: not loaded by ``show``) --------

    def ticket_parts(self, key: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """A ticket's parts: (sku, place, reserved, used) it holds, (sku, qty, since) it waits for."""
        holds = self.db.execute("SELECT sku, place, reserved, used FROM part_holds WHERE ticket = ? ORDER BY sku, place",
                                (key,)).fetchall()
        waits = self.db.execute("SELECT sku, qty, since FROM part_waits WHERE ticket = ? ORDER BY sku", (key,)).fetchall()
        return holds, waits

    # -- knowledge articles ---------------------------------------------------------

    def resolve_article(self, text: str) -> str:
        """The article id ``text`` names: the exact id, ``N`` or ``KB-N`` for this
        device's ``KB-PFX-N``, ``PFX-N``, or any unique prefix (case-insensitive)."""
        q = text.strip().upper()
        if not q:
            raise NotFound(_("no article id given"))
        bare = q.removeprefix("KB-")
        candidates = [q, f"KB-{bare}"]
        if bare.isdigit():
            candidates.insert(0, f"KB-{self.meta('key_prefix')}-{bare}")
        for c in candidates:
            if self.has_article(c):
                return c
        hits = [r[0] for r in self.db.execute(
            "SELECT id FROM articles WHERE id >= ? AND id < ? ORDER BY id LIMIT 6", (f"KB-{bare}", f"KB-{bare}\uffff"))]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise NotFound(_("no article {id!r} (`ticketctl kb list` shows them)").format(id=text))
        more = ", ..." if len(hits) > 5 else ""
        raise NotFound(_("{id!r} is ambiguous: {ids}").format(id=text, ids=", ".join(hits[:5]) + more))

    def has_article(self, article_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    def article(self, article_id: str) -> Article:
        row = self.db.execute(f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            raise NotFound(_("no article {id!r} (`ticketctl kb list` shows them)").format(id=article_id))
        return article_from_row(row)

    def put_article(self, a: Article) -> None:
        self.put_articles([a])

    def put_articles(self, arts: Sequence[Article]) -> None:
        self.db.executemany(
            f"INSERT OR REPLACE INTO articles ({', '.join(ARTICLE_COLUMNS)}) VALUES ({', '.join('?' * len(ARTICLE_COLUMNS))})",
            [encode("articles", a, ARTICLE_COLUMNS) for a in arts],
        )

    def select_articles(self, where: str = "", params: Sequence[Any] = (), order: str = "id",
                        limit: int | None = None) -> list[Article]:
        sql = f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles"
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [article_from_row(r) for r in self.db.execute(sql, params)]

    # -- approval delegations -------------------------------------------------------

    def delegations(self) -> dict[str, Delegation]:
        return {n: Delegation(**json.loads(d)) for n, d in self.db.execute("SELECT name, data FROM delegations")}

    def put_delegation(self, d: Delegation) -> None:
        self.db.execute("INSERT OR REPLACE INTO delegations (name, data) VALUES (?, ?)",
                        (d.name, json.dumps(asdict(d), separators=(",", ":"), sort_keys=True)))

    # -- spans ----------------------------------------------------------------------

    def put_spans(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert span rows (ticket, from_at, to_at, status, dept, product, fault, created_at)."""
        self.db.executemany(
            "INSERT INTO spans (ticket, from_at, to_at, status, dept, product, fault, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def close_span(self, key: str, at: str) -> None:
        """End the ticket's open span at ``at``."""
        self.db.execute("UPDATE spans SET to_at = ? WHERE ticket = ? AND to_at IS NULL", (at, key))

    # -- events ---------------------------------------------------------------------

    def put_events(self, events: Sequence[Event]) -> None:
        self.db.executemany(
            f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
            [encode("events", e, EVENT_COLUMNS) for e in events],
        )

    def last_event_seq(self) -> int:
        """The newest event's local ``seq`` (0 for none): cheap, and it moves with every write."""
        return int(self.db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])

    def events(self, ticket: str | None = None) -> Iterator[Event]:
        """Events in the order the projections fold them, one ticket's or all:
        the server's events in its order, then this device's not yet confirmed
        ones in the order they were made (``EVENT_ORDER``)."""
        cols = ", ".join(EVENT_COLUMNS)
        if ticket is None:
            cur = self.db.execute(f"SELECT {cols} FROM events ORDER BY {EVENT_ORDER}")
        else:
            cur = self.db.execute(f"SELECT {cols} FROM events WHERE ticket = ? ORDER BY {EVENT_ORDER}", (ticket,))
        for row in cur:
            yield event_from_row(row)

    # -- the sync outbox ------------------------------------------------------------

    def queue_mutation(self, mutation_id: str, name: str, args: dict[str, Any], at: str, actor: str) -> None:
        """Queue a mutation for the server (inside the transaction that wrote its events)."""
        self.outbox.queue(mutation_id, name, args, at, actor)


def create(db: sqlite3.Connection) -> None:
    """Make every table, index and trigger of a new store in ``db`` (inside the
    caller's transaction) and set its version: the statements of ``store.ddl``."""
    from ticketctl.store import ddl  # a new store only

    for stmt in ddl.STATEMENTS:
        db.execute(stmt)
    db.execute(f"PRAGMA user_version = {ddl.VERSION}")


def migrate(db: sqlite3.Connection, version: int, to: int | None = None) -> bool:
    """Run the migrations of ``store.schema`` that take ``db`` from ``version`` to
    ``to`` (the latest when None), inside the caller's transaction, and set its
    version. Returns whether one of them added projection columns, which the
    events must then be replayed into (``schema.REBUILD_AFTER``)."""
    from ticketctl.store.schema import LATEST, MIGRATIONS, REBUILD_AFTER  # an older store only

    to = LATEST if to is None else to
    for n in range(version, to):
        for stmt in _statements(MIGRATIONS[n]):
            db.execute(stmt)
    db.execute(f"PRAGMA user_version = {to}")
    return any(n + 1 in REBUILD_AFTER for n in range(version, to))


def _statements(script: str) -> list[str]:
    """Split a migration script into statements: drop ``--`` comments, split on
    the ``;`` that end a statement (not those inside a trigger's body)."""
    code = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    out, part = [], ""
    for piece in code.split(";"):
        part += piece + ";"
        if sqlite3.complete_statement(part):
            if part.strip(" \n;"):
                out.append(part.strip().removesuffix(";"))
            part = ""
    if part.strip(" \n;"):
        out.append(part.strip().removesuffix(";"))
    return out

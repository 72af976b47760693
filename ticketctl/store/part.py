"""What every part of a device store is built on (``st.outbox``, ``st.board``,
...): the store it belongs to and its connection. Its own module, so that a
part never imports the ``Store`` that composes it."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, Protocol

from ticketctl.core.approvals import Delegation
from ticketctl.core.kb import Article
from ticketctl.core.model import Technician, Ticket


class Tables(Protocol):
    """What a part, or a query over the store, asks of the ``Store`` it belongs
    to: its connection and the reads and writes below (a part never imports ``store.db``)."""

    db: sqlite3.Connection

    def select_tickets(self, where: str, params: Sequence[Any] | dict[str, Any], order: str, limit: int | None) -> list[Ticket]: ...

    def select_articles(self, where: str = "", params: Sequence[Any] = (), order: str = "id",
                        limit: int | None = None) -> list[Article]: ...

    def count_tickets(self) -> int: ...

    def put_techs(self, ts: Sequence[Technician]) -> None: ...

    def put_articles(self, arts: Sequence[Article]) -> None: ...

    def put_delegation(self, d: Delegation) -> None: ...

    def last_event_seq(self) -> int: ...


class Part:
    """One concern of a ``Store`` (a module of ``ticketctl.store``) over its
    connection; inside the store's transaction when one is open."""

    def __init__(self, store: Tables):
        self.store = store
        self.db = store.db

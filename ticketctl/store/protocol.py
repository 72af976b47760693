"""The store a mutation runs against, whichever side runs it.

A named mutation (``services.mutations``) runs first on the device, against
its :class:`~ticketctl.store.db.Store`, and again on the server, against a
``ServerStore`` (the team's state inside one server transaction). The
mutation services (``services/tickets.py``, ``techs``, ``dispatch``,
``sweep``'s answer to a stall check, ``evidence``, ``confirm``, ``cert``,
``qa``, ``kb``, ``approvals`` and ``mutations`` itself) reach the store
only through :attr:`Env.mutation_store <ticketctl.services.env.Env.mutation_store>`,
typed with this protocol, so mypy proves they call nothing else; both
stores are checked against it (``tests/test_store_twins.py``).

What differs between the two implementations, on purpose:

- the device's counters are its own (``next_device_seq``, ``next_ticket_no``);
  the server's ``take_counter("next_device_seq", n)`` reserves numbers of the
  global sequence, and its ``meta("device_id")`` is the pushing device's name;
- the server resolves exact keys only (a device resolved a prefix before it
  queued the mutation);
- the server keeps no history spans (``put_spans``, ``close_span`` do
  nothing) and queues nothing (``queue_mutation``: it is where mutations go).

Parameters are positional-only: the two implementations name some of them
differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ticketctl.core.approvals import Delegation
from ticketctl.core.kb import Article
from ticketctl.core.model import Event, Technician, Ticket


class MutationStore(Protocol):
    """What a mutation may read and write."""

    def transaction(self) -> AbstractContextManager[object]:
        """One write transaction: everything inside lands together or not at
        all (inside another, it is part of that one). On the server the whole
        push already runs in one; a refused mutation is undone there."""
        ...

    def meta(self, key: str, default: str | None = None, /) -> str:
        """A meta value (``device_id``, ``key_prefix``, ``next_ticket_no``,
        ``sync_role``, ...), else ``default``; KeyError without one."""
        ...

    def take_counter(self, key: str, n: int = 1, /) -> int:
        """Reserve ``n`` numbers of a counter (``next_device_seq``: the events'
        ``device_seq``); returns the first."""
        ...

    def queue_mutation(self, mutation_id: str, name: str, args: dict[str, Any], at: str, actor: str, /) -> None:
        """Queue the running mutation for the server with its first events (the
        device's outbox; the server queues nothing)."""
        ...

    # -- tickets ---------------------------------------------------------------------

    def resolve_key(self, text: str, /) -> str:
        """The ticket key ``text`` names (``core.model.resolve_key``); NotFound when none."""
        ...

    def has_ticket(self, key: str, /) -> bool:
        """Whether the ticket with exactly this key exists."""
        ...

    def ticket(self, key: str, /) -> Ticket:
        """The ticket with exactly this key; NotFound when there is none."""
        ...

    def put_ticket(self, t: Ticket, /) -> None:
        """Write a ticket's projection (new or changed)."""
        ...

    def load(self, name: str, held: Sequence[str], /) -> int:
        """How many tickets ``name`` holds in the ``held`` statuses (the capacity rule)."""
        ...

    def loads(self, held: Sequence[str], /) -> dict[str, int]:
        """Tickets held in the ``held`` statuses, per assignee holding any."""
        ...

    def last_active(self) -> dict[str, str]:
        """Per assignee, the last update of any ticket they hold or held (dispatch's idle time)."""
        ...

    # -- technicians -----------------------------------------------------------------

    def has_tech(self, name: str, /) -> bool:
        """Whether the technician ``name`` is on the roster."""
        ...

    def tech(self, name: str, /) -> Technician:
        """The technician ``name``; NotFound when not on the roster."""
        ...

    def techs(self) -> list[Technician]:
        """The whole roster, by name."""
        ...

    def put_tech(self, t: Technician, /) -> None:
        """Write a technician's projection."""
        ...

    # -- knowledge articles ------------------------------------------------------------

    def resolve_article(self, text: str, /) -> str:
        """The article id ``text`` names; NotFound when none."""
        ...

    def has_article(self, article_id: str, /) -> bool:
        """Whether the article with exactly this id exists."""
        ...

    def article(self, article_id: str, /) -> Article:
        """The article with exactly this id; NotFound when there is none."""
        ...

    def put_article(self, a: Article, /) -> None:
        """Write an article's projection."""
        ...

    # -- approval delegations ------------------------------------------------------------

    def delegations(self) -> dict[str, Delegation]:
        """Every approval delegation, by the delegating person's name."""
        ...

    def put_delegation(self, d: Delegation, /) -> None:
        """Write a delegation's projection."""
        ...

    # -- history: spans and events ---------------------------------------------------------

    def put_spans(self, rows: Sequence[tuple[Any, ...]], /) -> None:
        """Append a ticket's history rows (``core.model.span_row``)."""
        ...

    def close_span(self, key: str, at: str, /) -> None:
        """End the ticket's open history row at ``at``."""
        ...

    def put_events(self, events: Sequence[Event], /) -> None:
        """Append events to the log."""
        ...

"""What folding the event log reads and writes besides the mutation interface:
the bases a snapshot brought, the events of one entity or of many in fold
order, the projections as stored, and their removal.

``services.rebuild`` replays everything (``store check``, ``store rebuild``);
``sync.replica`` folds again only what a pull or a discarded change touched.
Both fold in ``EVENT_ORDER``: the server's events in its order, then this
device's unconfirmed ones in the order they were made.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ticketctl.core.kb import Article
from ticketctl.core.model import Event, Technician, Ticket
from ticketctl.store.part import Part
from ticketctl.store.rows import (
    ARTICLE_COLUMNS,
    EVENT_COLUMNS,
    EVENT_ORDER,
    TECH_COLUMNS,
    TICKET_COLUMNS,
    article_from_row,
    event_from_row,
    tech_from_row,
    ticket_from_row,
)

#: keys per ``IN (...)`` list
CHUNK = 500
SPAN_COLUMNS = "ticket, from_at, to_at, status, dept, product, fault, created_at"


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class Replay(Part):
    """Folding's reads and removals (``st.replay``)."""

    # -- bases ------------------------------------------------------------------------

    def bases(self, kind: str, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """The bases of one kind (``ticket``, ``technician``, ``article``,
        ``delegation``) as a snapshot sent them, all or the named ones that exist."""
        if names is None:
            return {n: json.loads(d) for n, d in self.db.execute("SELECT name, data FROM bases WHERE kind = ?", (kind,))}
        want = list(names)
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(want), CHUNK):
            part = want[i:i + CHUNK]
            out.update((n, json.loads(d)) for n, d in self.db.execute(
                f"SELECT name, data FROM bases WHERE kind = ? AND name IN ({_marks(len(part))})", (kind, *part)))
        return out

    # -- events in fold order -----------------------------------------------------------

    def events_of_tickets(self, keys: Sequence[str]) -> dict[str, list[Event]]:
        """Each ticket's events in fold order (one query; keep ``keys`` to a few hundred)."""
        out: dict[str, list[Event]] = {k: [] for k in keys}
        cols = ", ".join(EVENT_COLUMNS)
        for row in self.db.execute(f"SELECT {cols} FROM events WHERE ticket IN ({_marks(len(keys))})"
                                   f" ORDER BY ticket, {EVENT_ORDER}", tuple(keys)):
            out[row[2]].append(event_from_row(row))
        return out

    def tech_events(self, name: str) -> list[Event]:
        """One technician's events, in fold order."""
        cols = ", ".join(EVENT_COLUMNS)
        return [event_from_row(r) for r in self.db.execute(
            f"SELECT {cols} FROM events WHERE ticket IS NULL AND json_extract(payload, '$.name') = ? ORDER BY {EVENT_ORDER}",
            (name,))]

    def kind_events(self, prefix: str, key: str | None = None) -> list[Event]:
        """The events whose type starts with ``prefix`` (an entity kind that is
        not a ticket), one entity's (by its ``ticket`` column) or all, in fold order."""
        cols = ", ".join(EVENT_COLUMNS)
        if key is None:
            rows = self.db.execute(f"SELECT {cols} FROM events WHERE type LIKE ? ORDER BY {EVENT_ORDER}", (f"{prefix}%",))
        else:
            rows = self.db.execute(f"SELECT {cols} FROM events WHERE ticket = ? AND type LIKE ? ORDER BY {EVENT_ORDER}",
                                   (key, f"{prefix}%"))
        return [event_from_row(r) for r in rows]

    # -- the projections as stored --------------------------------------------------------

    def stored_tickets(self) -> Iterator[Ticket]:
        for r in self.db.execute(f"SELECT {', '.join(TICKET_COLUMNS)} FROM tickets"):
            yield ticket_from_row(r)

    def stored_techs(self) -> Iterator[Technician]:
        for r in self.db.execute(f"SELECT {', '.join(TECH_COLUMNS)} FROM technicians"):
            yield tech_from_row(r)

    def stored_articles(self) -> Iterator[Article]:
        for r in self.db.execute(f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles"):
            yield article_from_row(r)

    def span_rows(self) -> list[tuple[Any, ...]]:
        """Every span row: (ticket, from_at, to_at, status, dept, product, fault, created_at)."""
        return self.db.execute(f"SELECT {SPAN_COLUMNS} FROM spans").fetchall()

    # -- removals -------------------------------------------------------------------------

    def clear_projections(self) -> None:
        """Empty every projection table (a rebuild writes them again; inside its transaction)."""
        for table in ("tickets", "technicians", "spans", "articles", "delegations"):
            self.db.execute(f"DELETE FROM {table}")

    def drop_spans(self, keys: Sequence[str]) -> None:
        """These tickets' spans (a few hundred keys: one statement)."""
        self.db.execute(f"DELETE FROM spans WHERE ticket IN ({_marks(len(keys))})", tuple(keys))

    def drop_tickets(self, keys: Sequence[str]) -> None:
        """These tickets' rows (creations the server refused; a few hundred keys)."""
        self.db.execute(f"DELETE FROM tickets WHERE key IN ({_marks(len(keys))})", tuple(keys))

    def drop_tech(self, name: str) -> None:
        self.db.execute("DELETE FROM technicians WHERE name = ?", (name,))

    def drop_article(self, article_id: str) -> None:
        self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))

    def drop_delegation(self, name: str) -> None:
        self.db.execute("DELETE FROM delegations WHERE name = ?", (name,))

"""What the importers read (``services.import_servicenow``: a ServiceNow event log;
``services.import_csv``: a table of tickets): which keys are taken, which
events an earlier run of the same import wrote, who is on the roster.

An import writes through the mutation interface (``put_events``,
``put_tickets``, ``put_spans``, ...) in chunks of a few thousand tickets,
each chunk one transaction; these reads look a chunk's keys up a few
hundred at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ticketctl.core.model import Event
from ticketctl.store.part import Part
from ticketctl.store.rows import EVENT_COLUMNS, event_from_row

CHUNK = 500


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class Imports(Part):
    """The importers' reads (``st.imports``)."""

    def events_as_applied(self, keys: Sequence[str]) -> Iterator[Event]:
        """The events of these tickets, in the order this store applied them (local ``seq``)."""
        cols = ", ".join(EVENT_COLUMNS)
        for i in range(0, len(keys), CHUNK):
            part = tuple(keys[i:i + CHUNK])
            for r in self.db.execute(f"SELECT {cols} FROM events WHERE ticket IN ({_marks(len(part))}) ORDER BY seq", part):
                yield event_from_row(r)

    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these ticket keys exist."""
        out: set[str] = set()
        for i in range(0, len(keys), CHUNK):
            part = tuple(keys[i:i + CHUNK])
            out |= {k for (k,) in self.db.execute(f"SELECT key FROM tickets WHERE key IN ({_marks(len(part))})", part)}
        return out

    def tickets_of_events(self, ids: Sequence[str]) -> set[str]:
        """The tickets of those of these event ids this store holds."""
        out: set[str] = set()
        for i in range(0, len(ids), CHUNK):
            part = tuple(ids[i:i + CHUNK])
            out |= {k for (k,) in self.db.execute(f"SELECT ticket FROM events WHERE id IN ({_marks(len(part))})", part)}
        return out

    def tech_names(self) -> set[str]:
        """Every technician's name."""
        return {name for (name,) in self.db.execute("SELECT name FROM technicians")}

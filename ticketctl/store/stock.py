"""Parts and stock (``st.stock``): the projections of the ``stock.*`` ledger
(``core.stock``) and what the parts commands read.

A service loads only the rows its decision needs into a ``core.stock.Ledger``
(:meth:`Stock.load`), lets ``core.stock.apply`` judge and change it, then
writes the rows back (:meth:`Stock.save`); ``store check`` folds the whole
ledger and compares it with :meth:`Stock.everything`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ticketctl.core.model import Event
from ticketctl.core.stock import PREFIX, Hold, Ledger, Level, Part, Place, Transfer, Wait
from ticketctl.store.part import Part as StorePart
from ticketctl.store.rows import EVENT_COLUMNS, EVENT_ORDER, event_from_row

CHUNK = 400


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class Stock(StorePart):
    """The parts, places, levels, transfers, holds and waits tables."""

    # -- loading part of the ledger -----------------------------------------------------

    def load(self, skus: Iterable[str] = (), places: Iterable[str] = (), tickets: Iterable[str] = (),
             transfers: Iterable[str] = (), all_places: bool = False) -> Ledger:
        """The rows of these parts (their parts rows, every level of each, and
        the waits for them), these places (or all), these tickets' holds and
        waits, and these transfers."""
        led = Ledger()
        skus, places, tickets = list(skus), list(places), list(dict.fromkeys(tickets))
        for i in range(0, len(tickets), CHUNK):  # the parts a ticket holds or waits for: their levels too
            part = tickets[i:i + CHUNK]
            skus += [r[0] for r in self.db.execute(
                f"SELECT sku FROM part_holds WHERE ticket IN ({_marks(len(part))})"
                f" UNION SELECT sku FROM part_waits WHERE ticket IN ({_marks(len(part))})", part + part)]
        skus = list(dict.fromkeys(skus))
        for tid in transfers:
            r = self.db.execute("SELECT id, sku, qty, src, dst, sent_at, arrived_at FROM transfers WHERE id = ?",
                                (tid,)).fetchone()
            if r is not None:
                led.transfers[r[0]] = Transfer(*r)
                skus.append(r[1])
                places += [r[3], r[4]]
        q = self.db.execute
        for i in range(0, len(skus), CHUNK):
            part = skus[i:i + CHUNK]
            for r in q(f"SELECT sku, name, unit, created_at FROM parts WHERE sku IN ({_marks(len(part))})", part):
                led.parts[r[0]] = Part(*r)
            for r in q(f"SELECT sku, place, on_hand, reserved FROM stock WHERE sku IN ({_marks(len(part))})", part):
                led.levels[(r[0], r[1])] = Level(r[2], r[3])
                places.append(r[1])
            for r in q(f"SELECT ticket, sku, qty, since FROM part_waits WHERE sku IN ({_marks(len(part))})", part):
                led.waits[(r[0], r[1])] = Wait(r[2], r[3])
        if all_places:
            rows = q("SELECT name, kind, owner, zone, created_at FROM places").fetchall()
        else:
            want = list(dict.fromkeys(places))
            rows = []
            for i in range(0, len(want), CHUNK):
                part = want[i:i + CHUNK]
                rows += q(f"SELECT name, kind, owner, zone, created_at FROM places WHERE name IN ({_marks(len(part))})",
                          part).fetchall()
        for r in rows:
            led.places[r[0]] = Place(*r)
        for i in range(0, len(tickets), CHUNK):
            part = tickets[i:i + CHUNK]
            for r in q(f"SELECT ticket, sku, place, reserved, used FROM part_holds WHERE ticket IN ({_marks(len(part))})", part):
                led.holds[(r[0], r[1], r[2])] = Hold(r[3], r[4])
            for r in q(f"SELECT ticket, sku, qty, since FROM part_waits WHERE ticket IN ({_marks(len(part))})", part):
                led.waits[(r[0], r[1])] = Wait(r[2], r[3])
        return led

    def save(self, led: Ledger, gone_waits: Iterable[tuple[str, str]] = ()) -> None:
        """Write every row of ``led`` (inside the transaction that wrote its
        events); ``gone_waits``: waits that ended (their rows are removed)."""
        x = self.db.executemany
        x("INSERT OR REPLACE INTO parts (sku, name, unit, created_at) VALUES (?, ?, ?, ?)",
          [(p.sku, p.name, p.unit, p.created_at) for p in led.parts.values()])
        x("INSERT OR REPLACE INTO places (name, kind, owner, zone, created_at) VALUES (?, ?, ?, ?, ?)",
          [(p.name, p.kind, p.owner, p.zone, p.created_at) for p in led.places.values()])
        x("INSERT OR REPLACE INTO stock (sku, place, on_hand, reserved) VALUES (?, ?, ?, ?)",
          [(s, pl, lv.on_hand, lv.reserved) for (s, pl), lv in led.levels.items()])
        x("INSERT OR REPLACE INTO transfers (id, sku, qty, src, dst, sent_at, arrived_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
          [(t.id, t.sku, t.qty, t.src, t.dst, t.sent_at, t.arrived_at) for t in led.transfers.values()])
        x("INSERT OR REPLACE INTO part_holds (ticket, sku, place, reserved, used) VALUES (?, ?, ?, ?, ?)",
          [(k, s, pl, h.reserved, h.used) for (k, s, pl), h in led.holds.items()])
        x("DELETE FROM part_waits WHERE ticket = ? AND sku = ?", list(gone_waits))
        x("INSERT OR REPLACE INTO part_waits (ticket, sku, qty, since) VALUES (?, ?, ?, ?)",
          [(k, s, w.qty, w.since) for (k, s), w in led.waits.items()])

    def everything(self) -> Ledger:
        """Every row, as a ledger (``store check`` compares it with the fold)."""
        led = Ledger()
        q = self.db.execute
        led.parts = {r[0]: Part(*r) for r in q("SELECT sku, name, unit, created_at FROM parts")}
        led.places = {r[0]: Place(*r) for r in q("SELECT name, kind, owner, zone, created_at FROM places")}
        led.levels = {(r[0], r[1]): Level(r[2], r[3]) for r in q("SELECT sku, place, on_hand, reserved FROM stock")}
        led.transfers = {r[0]: Transfer(*r) for r in q("SELECT id, sku, qty, src, dst, sent_at, arrived_at FROM transfers")}
        led.holds = {(r[0], r[1], r[2]): Hold(r[3], r[4]) for r in q("SELECT ticket, sku, place, reserved, used FROM part_holds")}
        led.waits = {(r[0], r[1]): Wait(r[2], r[3]) for r in q("SELECT ticket, sku, qty, since FROM part_waits")}
        return led

    def clear(self) -> None:
        for table in ("parts", "places", "stock", "transfers", "part_holds", "part_waits"):
            self.db.execute(f"DELETE FROM {table}")

    def events(self) -> list[Event]:
        """The whole ledger, in fold order."""
        cols = ", ".join(EVENT_COLUMNS)
        return [event_from_row(r) for r in self.db.execute(
            f"SELECT {cols} FROM events WHERE type >= ? AND type < ? ORDER BY {EVENT_ORDER}", (PREFIX, PREFIX[:-1] + "/"))]

    def touches(self, tickets: Iterable[str]) -> bool:
        """Whether any of these tickets holds or waits for parts."""
        want = list(tickets)
        for i in range(0, len(want), CHUNK):
            part = want[i:i + CHUNK]
            if self.db.execute(f"SELECT 1 FROM part_holds WHERE ticket IN ({_marks(len(part))})"
                               f" UNION ALL SELECT 1 FROM part_waits WHERE ticket IN ({_marks(len(part))}) LIMIT 1",
                               part + part).fetchone():
                return True
        return False

    # -- reads ----------------------------------------------------------------------------

    def has_part(self, sku: str) -> bool:
        return self.db.execute("SELECT 1 FROM parts WHERE sku = ?", (sku,)).fetchone() is not None

    def has_place(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM places WHERE name = ?", (name,)).fetchone() is not None

    def levels(self, sku: str | None, place: str | None, limit: int | None) -> list[tuple[Any, ...]]:
        """(sku, place, on_hand, reserved, name, unit) of one part, one place or all, by part then place."""
        where, params = [], []
        if sku is not None:
            where.append("s.sku = ?")
            params.append(sku)
        if place is not None:
            where.append("s.place = ?")
            params.append(place)
        sql = ("SELECT s.sku, s.place, s.on_hand, s.reserved, p.name, p.unit FROM stock s JOIN parts p ON p.sku = s.sku"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY s.sku, s.place")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self.db.execute(sql, params).fetchall()

    def parts_list(self, limit: int | None) -> list[tuple[str, str, str]]:
        sql = "SELECT sku, name, unit FROM parts ORDER BY sku" + (f" LIMIT {int(limit)}" if limit is not None else "")
        return self.db.execute(sql).fetchall()

    def places_list(self) -> list[tuple[Any, ...]]:
        return self.db.execute("SELECT name, kind, owner, zone FROM places ORDER BY name").fetchall()

    def transfer(self, tid: str) -> Transfer | None:
        r = self.db.execute("SELECT id, sku, qty, src, dst, sent_at, arrived_at FROM transfers WHERE id = ?", (tid,)).fetchone()
        return Transfer(*r) if r is not None else None

    def transfers_starting(self, prefix: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM transfers WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
                                              (prefix, prefix + "\uffff"))]

    def holds_of(self, ticket: str) -> list[tuple[Any, ...]]:
        """(sku, place, reserved, used) of one ticket."""
        return self.db.execute("SELECT sku, place, reserved, used FROM part_holds WHERE ticket = ? ORDER BY sku, place",
                               (ticket,)).fetchall()

    def waits_of(self, ticket: str) -> list[tuple[Any, ...]]:
        """(sku, qty, since) of one ticket."""
        return self.db.execute("SELECT sku, qty, since FROM part_waits WHERE ticket = ? ORDER BY sku", (ticket,)).fetchall()

    def waiting(self) -> list[tuple[Any, ...]]:
        """(ticket, sku, qty, since) of every wait."""
        return self.db.execute("SELECT ticket, sku, qty, since FROM part_waits ORDER BY since").fetchall()

    def counts(self) -> dict[str, int]:
        q = self.db.execute
        return {"parts": q("SELECT count(*) FROM parts").fetchone()[0],
                "places": q("SELECT count(*) FROM places").fetchone()[0],
                "stock_outs": q("SELECT count(*) FROM stock WHERE on_hand - reserved <= 0").fetchone()[0]}

    def consumed(self, since: str | None) -> list[tuple[Any, ...]]:
        """(sku, qty used, events) of consumptions since ``since`` (all when None)."""
        sql = ("SELECT json_extract(payload, '$.sku'), sum(json_extract(payload, '$.qty')), count(*) FROM events"
               " WHERE type = 'stock.consumed'" + (" AND at >= ?" if since else "") + " GROUP BY 1 ORDER BY 2 DESC")
        return self.db.execute(sql, (since,) if since else ()).fetchall()

    def wait_spans(self) -> list[tuple[Any, ...]]:
        """(ticket, sku, type, at) of every stock.waiting / stock.wait_ended event, in order."""
        return self.db.execute(
            "SELECT ticket, json_extract(payload, '$.sku'), type, at FROM events"
            f" WHERE type IN ('stock.waiting', 'stock.wait_ended') ORDER BY {EVENT_ORDER}").fetchall()

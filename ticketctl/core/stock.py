"""Parts and stock: the ledger's rules, decided in one place.

Stock is an append-only ledger of ``stock.*`` events, like everything else;
on hand, reserved and available per part per place are a fold of it
(:func:`apply`). The rules are checked *by the fold itself*: an event that
would make a level negative, reserve more than is available, or receive a
transfer twice raises :class:`~ticketctl.errors.Refused`. A service decides
its events, applies them to the part of the ledger it loaded (which refuses
what breaks a rule before anything is written), then writes the changed rows;
``store check`` folds the whole ledger again and compares; the property test
folds random ledgers; a server that runs a mutation again refuses by the same
function.

The events (``ticket`` column: the ticket for the ones on a ticket, else
``part:SKU`` or ``place:NAME``):

=====================  ===========================================================
``stock.part_added``    ``{sku, name, unit}``
``stock.place_added``   ``{name, kind, owner, zone}``
``stock.received``      ``{sku, place, qty}``: on hand up
``stock.sent``          ``{transfer, sku, qty, from, to}``: leaves ``from`` now
``stock.arrived``       ``{transfer}``: reaches ``to`` only now
``stock.counted``       ``{sku, place, qty, delta, reason}``: on hand set to ``qty``
``stock.reserved``      ``{ticket, sku, place, qty}``: held for a ticket
``stock.released``      ``{ticket, sku, place, qty}``: hold given back
``stock.consumed``      ``{ticket, sku, place, qty, from_hold}``: used on a ticket
``stock.returned``      ``{ticket, sku, place, qty}``: unused part back on hand
``stock.waiting``       ``{ticket, sku, qty}``: the ticket waits for this part
``stock.wait_ended``    ``{ticket, sku}``: it waits no longer
=====================  ===========================================================

Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ticketctl.errors import BadInput, NotFound, Refused
from ticketctl.i18n import _

PREFIX = "stock."
#: the kinds of place stock can be at (a van is one technician's own stock)
KINDS = ("warehouse", "store", "van", "site")

Draft = tuple[str, dict[str, Any]]


def is_stock_event(e: Any) -> bool:
    return str(e.type).startswith(PREFIX)


@dataclass
class Part:
    sku: str
    name: str
    unit: str = "pcs"
    created_at: str = ""


@dataclass
class Place:
    name: str
    kind: str
    owner: str | None = None
    zone: str = ""
    created_at: str = ""


@dataclass
class Transfer:
    id: str
    sku: str
    qty: int
    src: str
    dst: str
    sent_at: str
    arrived_at: str | None = None


@dataclass
class Level:
    """One part at one place."""

    on_hand: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass
class Hold:
    """A ticket's parts from one place: still reserved, and used."""

    reserved: int = 0
    used: int = 0


@dataclass
class Wait:
    """A ticket waiting for a part no place could serve."""

    qty: int
    since: str


@dataclass
class Ledger:
    """The fold of the ledger (or of the part of it a service loaded)."""

    parts: dict[str, Part] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)
    levels: dict[tuple[str, str], Level] = field(default_factory=dict)  # (sku, place)
    transfers: dict[str, Transfer] = field(default_factory=dict)
    holds: dict[tuple[str, str, str], Hold] = field(default_factory=dict)  # (ticket, sku, place)
    waits: dict[tuple[str, str], Wait] = field(default_factory=dict)  # (ticket, sku)

    def level(self, sku: str, place: str) -> Level:
        lv = self.levels.get((sku, place))
        if lv is None:
            lv = self.levels[(sku, place)] = Level()
        return lv

    def hold(self, ticket: str, sku: str, place: str) -> Hold:
        h = self.holds.get((ticket, sku, place))
        if h is None:
            h = self.holds[(ticket, sku, place)] = Hold()
        return h


def entity(typ: str, p: dict[str, Any]) -> str:
    """The ``ticket`` column of a stock event: its ticket, else ``part:SKU`` / ``place:NAME``."""
    if p.get("ticket"):
        return str(p["ticket"])
    if typ == "stock.place_added":
        return f"place:{p['name']}"
    return f"part:{p['sku']}"


# -- the fold: every rule is here ------------------------------------------------------


def _short(sku: str, place: str, want: int, have: int) -> Refused:
    return Refused(_("not enough {sku} at {place}: {want} wanted, {have} available").format(
        sku=sku, place=place, want=want, have=have))


def _known(led: Ledger, sku: str, place: str | None = None) -> None:
    if sku not in led.parts:
        raise NotFound(_("no part {sku!r} (add it with `ticketctl part add {sku} --name NAME`)").format(sku=sku))
    if place is not None and place not in led.places:
        raise NotFound(_("no place {place!r} (add it with `ticketctl stock place add {place} --kind store`)").format(place=place))


def _qty(q: Any) -> int:
    if not isinstance(q, int) or isinstance(q, bool) or q <= 0:
        raise BadInput(_("a quantity must be a whole number above 0, not {qty!r}").format(qty=q))
    return q


def apply(led: Ledger, typ: str, p: dict[str, Any], at: str) -> None:
    """Apply one event to ``led`` in place, or raise (Refused, NotFound,
    BadInput) without changing it when the event breaks a rule: nothing is
    ever negative, nothing is reserved or sent that is not available, a
    transfer arrives once, and only at its destination."""
    if typ == "stock.part_added":
        if p["sku"] in led.parts:
            raise Refused(_("part {sku} already exists").format(sku=p["sku"]))
        led.parts[p["sku"]] = Part(p["sku"], p["name"], p.get("unit") or "pcs", at)
    elif typ == "stock.place_added":
        if p["name"] in led.places:
            raise Refused(_("place {place} already exists").format(place=p["name"]))
        if p["kind"] not in KINDS:
            raise BadInput(_("--kind must be one of {kinds}, not {kind!r}").format(kinds=", ".join(KINDS), kind=p["kind"]))
        led.places[p["name"]] = Place(p["name"], p["kind"], p.get("owner"), p.get("zone") or "", at)
    elif typ == "stock.received":
        _known(led, p["sku"], p["place"])
        led.level(p["sku"], p["place"]).on_hand += _qty(p["qty"])
    elif typ == "stock.sent":
        _known(led, p["sku"], p["from"])
        _known(led, p["sku"], p["to"])
        q = _qty(p["qty"])
        if p["from"] == p["to"]:
            raise BadInput(_("a transfer goes from one place to another, not from {place} to itself").format(place=p["from"]))
        if p["transfer"] in led.transfers:
            raise Refused(_("transfer {id} already exists").format(id=p["transfer"]))
        lv = led.level(p["sku"], p["from"])
        if lv.available < q:
            raise _short(p["sku"], p["from"], q, lv.available)
        lv.on_hand -= q
        led.transfers[p["transfer"]] = Transfer(p["transfer"], p["sku"], q, p["from"], p["to"], at)
    elif typ == "stock.arrived":
        tr = led.transfers.get(p["transfer"])
        if tr is None:
            raise NotFound(_("no transfer {id!r}").format(id=p["transfer"]))
        if tr.arrived_at is not None:
            raise Refused(_("transfer {id} already arrived at {place} ({at})").format(id=tr.id, place=tr.dst, at=tr.arrived_at))
        led.level(tr.sku, tr.dst).on_hand += tr.qty
        tr.arrived_at = at
    elif typ == "stock.counted":
        _known(led, p["sku"], p["place"])
        q = p["qty"]
        if not isinstance(q, int) or isinstance(q, bool) or q < 0:
            raise BadInput(_("a count must be a whole number, 0 or more, not {qty!r}").format(qty=q))
        lv = led.level(p["sku"], p["place"])
        if q < lv.reserved:
            raise Refused(_("{sku} at {place}: counted {qty} but {reserved} are reserved for tickets; release them first").format(
                sku=p["sku"], place=p["place"], qty=q, reserved=lv.reserved))
        lv.on_hand = q
    elif typ == "stock.reserved":
        _known(led, p["sku"], p["place"])
        q = _qty(p["qty"])
        lv = led.level(p["sku"], p["place"])
        if lv.available < q:
            raise _short(p["sku"], p["place"], q, lv.available)
        lv.reserved += q
        led.hold(p["ticket"], p["sku"], p["place"]).reserved += q
    elif typ == "stock.released":
        q = _qty(p["qty"])
        h = led.holds.get((p["ticket"], p["sku"], p["place"]))
        lv = led.level(p["sku"], p["place"])
        if h is None or h.reserved < q or lv.reserved < q:
            raise Refused(_("{key} holds fewer than {qty} {sku} at {place}").format(
                key=p["ticket"], qty=q, sku=p["sku"], place=p["place"]))
        h.reserved -= q
        lv.reserved -= q
    elif typ == "stock.consumed":
        _known(led, p["sku"], p["place"])
        q = _qty(p["qty"])
        from_hold = int(p.get("from_hold", 0))
        h = led.holds.get((p["ticket"], p["sku"], p["place"])) or Hold()
        lv = led.level(p["sku"], p["place"])
        if not 0 <= from_hold <= min(q, h.reserved, lv.reserved):
            raise Refused(_("{key} holds fewer than {qty} {sku} at {place}").format(
                key=p["ticket"], qty=from_hold, sku=p["sku"], place=p["place"]))
        if lv.available < q - from_hold:
            raise _short(p["sku"], p["place"], q - from_hold, lv.available)
        lv.on_hand -= q
        lv.reserved -= from_hold
        h.reserved -= from_hold
        h.used += q
        led.holds[(p["ticket"], p["sku"], p["place"])] = h
    elif typ == "stock.returned":
        q = _qty(p["qty"])
        h = led.holds.get((p["ticket"], p["sku"], p["place"]))
        if h is None or h.used < q:
            raise Refused(_("{key} used fewer than {qty} {sku} from {place}").format(
                key=p["ticket"], qty=q, sku=p["sku"], place=p["place"]))
        h.used -= q
        led.level(p["sku"], p["place"]).on_hand += q
    elif typ == "stock.waiting":
        _known(led, p["sku"])
        q = _qty(p["qty"])
        w = led.waits.get((p["ticket"], p["sku"]))
        led.waits[(p["ticket"], p["sku"])] = Wait(q + (w.qty if w else 0), w.since if w else at)
    elif typ == "stock.wait_ended":
        led.waits.pop((p["ticket"], p["sku"]), None)
    else:
        raise ValueError(f"unknown stock event type {typ!r}")


def apply_all(led: Ledger, drafts: list[Draft], at: str) -> None:
    """Apply ``drafts`` in order (each checked against the state the earlier left)."""
    for typ, p in drafts:
        apply(led, typ, p, at)


def fold(events: Any) -> Ledger:
    """The whole ledger from its events (``core.model.Event``), in fold order."""
    led = Ledger()
    for e in events:
        apply(led, e.type, e.payload, e.at)
    return led


# -- decisions: which place serves a ticket, who gets what arrives ------------------------


def serving_places(led: Ledger, sku: str, qty: int, assignee: str | None, zone: str) -> list[str]:
    """The places that could serve ``qty`` of ``sku`` for a ticket, best first:
    the assignee's own van, then places in the ticket's zone, then the rest
    (stores and warehouses before other vans and sites), by most available."""
    rank = {"store": 0, "warehouse": 1, "van": 2, "site": 3}
    out = []
    for (s, name), lv in led.levels.items():
        pl = led.places.get(name)
        if s != sku or pl is None or lv.available < qty:
            continue
        own_van = pl.kind == "van" and assignee is not None and pl.owner == assignee
        other_van = pl.kind == "van" and not own_van
        out.append(((0 if own_van else 1, 0 if zone and pl.zone == zone else 1, 1 if other_van else 0, rank[pl.kind],
                     -lv.available, name), name))
    return [name for _k, name in sorted(out)]


def can_serve(place: Place, assignee: str | None, zone: str) -> bool:
    """Whether stock arriving at ``place`` serves a waiting ticket by itself:
    the assignee's own van (not another technician's), or a store or
    warehouse in the ticket's zone (any, for a ticket or place without one).
    Never a site."""
    if place.kind == "van":
        return assignee is not None and place.owner == assignee
    return place.kind in ("store", "warehouse") and (not zone or not place.zone or place.zone == zone)


def normal(led: Ledger) -> Ledger:
    """``led`` without the empty levels and holds (what two folds compare on:
    a row at zero and no row say the same)."""
    return Ledger(dict(led.parts), dict(led.places),
                  {k: v for k, v in led.levels.items() if v.on_hand or v.reserved}, dict(led.transfers),
                  {k: v for k, v in led.holds.items() if v.reserved or v.used}, dict(led.waits))


def public_level(sku: str, place: str, lv: Level) -> dict[str, Any]:
    return {"sku": sku, "place": place, "on_hand": lv.on_hand, "reserved": lv.reserved, "available": lv.available}

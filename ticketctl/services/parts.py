"""Parts and stock: the catalogue, places, the ledger's moves, and parts on a ticket.

Each action is a named mutation: it loads the rows its decision needs into a
``core.stock.Ledger`` (``st.stock.load``), decides its events, lets
``core.stock.apply`` judge them against that ledger (the one place the rules
live: never negative, nothing reserved or sent that is not available, a
transfer counts at its destination only once it arrived), then writes the
events and the rows they change in one transaction.

On a ticket: ``part need`` reserves from the assignee's van, else the nearest
place that has it (the ticket's zone first); when none has it the ticket
blocks itself ``awaiting_parts`` naming the part, and a transfer is
suggested. Stock received (or a transfer arriving) at a place that can serve
a waiting ticket reserves for it and unblocks it, oldest SLA first
(``[parts] auto_unblock``). Closing or cancelling a ticket releases what it
still holds.
"""

from __future__ import annotations

from typing import Any

from ticketctl.core import stock, workflow
from ticketctl.core.stock import Ledger
from ticketctl.core.views import ticket_public
from ticketctl.errors import BadInput, NotFound, Refused
from ticketctl.i18n import _
from ticketctl.services.env import Env
from ticketctl.services.mutations import mutation
from ticketctl.services.tickets import commit, record

#: the block reason a ticket waiting for a part carries
REASON = "awaiting_parts"


def _part(env: Env) -> Any:
    """The store's stock part; a store that keeps no stock (the team's server,
    for now) refuses every stock change, so nothing is half done."""
    part = getattr(env.mutation_store, "stock", None)
    if part is None:
        raise Refused(_("the team's server does not keep parts and stock yet"))
    return part


def _sku(sku: str) -> str:
    s = sku.strip().upper()
    if not s or len(s) > 64 or any(c.isspace() for c in s):
        raise BadInput(_("a part number (SKU) is one word of up to 64 characters, not {sku!r}").format(sku=sku))
    return s


def _name(text: str, what: str) -> str:
    s = text.strip()
    if not s or len(s) > 200:
        raise BadInput(_("{what} must not be empty").format(what=what))
    return s


def _write(env: Env, led: Ledger, drafts: list[stock.Draft], gone: list[tuple[str, str]] | None = None) -> None:
    """Judge ``drafts`` against ``led`` (raises before anything is written),
    then record them (each on its ticket, part or place) and save the rows."""
    from ticketctl.core.model import iso

    stock.apply_all(led, drafts, iso(env.now))
    st = env.mutation_store
    for typ, p in drafts:
        record(env, st, stock.entity(typ, p), [(typ, p)])
    _part(env).save(led, gone or [])


# -- the catalogue and places --------------------------------------------------------


@mutation("part.add", resolve_key=False)
def add_part(env: Env, sku: str, name: str, unit: str = "pcs") -> dict[str, Any]:
    """Add a part to the catalogue."""
    sku, name, unit = _sku(sku), _name(name, "--name"), _name(unit, "--unit")
    st = env.mutation_store
    with st.transaction():
        led = _part(env).load(skus=[sku])
        _write(env, led, [("stock.part_added", {"sku": sku, "name": name, "unit": unit})])
    return {"sku": sku, "name": name, "unit": unit}


@mutation("stock.place_add", resolve_key=False)
def add_place(env: Env, name: str, kind: str, owner: str | None = None, zone: str | None = None) -> dict[str, Any]:
    """Add a place stock is kept at: a warehouse, a store, a technician's van
    (``owner``) or a site."""
    name = _name(name, _("the place's name"))
    if kind not in stock.KINDS:
        raise BadInput(_("--kind must be one of {kinds}, not {kind!r}").format(kinds=", ".join(stock.KINDS), kind=kind))
    if kind == "van" and not owner:
        raise BadInput(_("a van is a technician's own stock: give --owner NAME"))
    st = env.mutation_store
    if owner and not st.has_tech(owner):
        raise NotFound(_("no technician {name!r} (add one with `ticketctl tech add {name}`)").format(name=owner))
    with st.transaction():
        led = _part(env).load(places=[name])
        _write(env, led, [("stock.place_added", {"name": name, "kind": kind, "owner": owner or None, "zone": zone or ""})])
    return {"name": name, "kind": kind, "owner": owner or None, "zone": zone or ""}


# -- ledger moves ----------------------------------------------------------------------


def _levels(led: Ledger, sku: str, places: list[str]) -> list[dict[str, Any]]:
    return [stock.public_level(sku, p, led.level(sku, p)) for p in places]


@mutation("stock.receive", resolve_key=False)
def receive(env: Env, sku: str, qty: int, place: str) -> dict[str, Any]:
    """Stock received at ``place`` (a delivery, a purchase): on hand there goes
    up, and tickets waiting for it there are served."""
    sku = _sku(sku)
    with env.mutation_store.transaction():
        led = _part(env).load(skus=[sku], places=[place])
        _write(env, led, [("stock.received", {"sku": sku, "place": place, "qty": qty})])
        served = _serve_waiting(env, sku, place)
    return {"sku": sku, "place": place, "qty": qty, "level": _levels(_part(env).load(skus=[sku]), sku, [place])[0],
            "served": served}


def transfer(env: Env, sku: str, qty: int, src: str, dst: str) -> dict[str, Any]:
    """Send stock from ``src`` to ``dst`` under a new transfer id ``TR-PFX-N``
    (this device's prefix and next number)."""
    st = env.store
    with st.transaction():
        n = int(st.meta("next_transfer_no", "1"))
        st.set_meta("next_transfer_no", str(n + 1))
        return transfer_as(env, f"TR-{st.meta('key_prefix')}-{n}", sku, qty, src, dst)


@mutation("stock.transfer", resolve_key=False)
def transfer_as(env: Env, transfer: str, sku: str, qty: int, src: str, dst: str) -> dict[str, Any]:
    """Send stock as transfer ``transfer``: it leaves ``src`` now and counts at
    ``dst`` only when it arrives (``stock arrived``)."""
    sku = _sku(sku)
    with env.mutation_store.transaction():
        led = _part(env).load(skus=[sku], places=[src, dst], transfers=[transfer])
        _write(env, led, [("stock.sent", {"transfer": transfer, "sku": sku, "qty": qty, "from": src, "to": dst})])
    return {"transfer": transfer, "sku": sku, "qty": qty, "from": src, "to": dst, "arrived": False,
            "levels": _levels(led, sku, [src, dst])}


@mutation("stock.arrived", resolve_key=False)
def arrived(env: Env, transfer: str) -> dict[str, Any]:
    """A transfer reached its destination: its stock counts there from now,
    and tickets waiting for it there are served."""
    tid = transfer.strip().upper()
    with env.mutation_store.transaction():
        led = _part(env).load(transfers=[tid])
        if tid not in led.transfers:
            hits = _part(env).transfers_starting(tid)
            if len(hits) == 1:
                tid = hits[0]
                led = _part(env).load(transfers=[tid])
            else:
                raise NotFound(_("no transfer {id!r}").format(id=transfer))
        tr = led.transfers[tid]
        _write(env, led, [("stock.arrived", {"transfer": tid, "sku": tr.sku})])
        served = _serve_waiting(env, tr.sku, tr.dst)
    return {"transfer": tid, "sku": tr.sku, "qty": tr.qty, "from": tr.src, "to": tr.dst, "arrived": True,
            "level": _levels(_part(env).load(skus=[tr.sku]), tr.sku, [tr.dst])[0], "served": served}


@mutation("stock.count", resolve_key=False)
def count(env: Env, sku: str, qty: int, place: str, reason: str) -> dict[str, Any]:
    """A stock count: on hand at ``place`` is ``qty`` from now (the difference
    is recorded with ``reason``)."""
    sku = _sku(sku)
    reason = _name(reason, "--reason")
    with env.mutation_store.transaction():
        led = _part(env).load(skus=[sku], places=[place])
        before = led.levels[(sku, place)].on_hand if (sku, place) in led.levels else 0
        delta = qty - before if isinstance(qty, int) else 0
        _write(env, led, [("stock.counted", {"sku": sku, "place": place, "qty": qty, "delta": delta, "reason": reason})])
    return {"sku": sku, "place": place, "qty": qty, "delta": delta, "reason": reason,
            "level": _levels(led, sku, [place])[0]}


# -- parts on a ticket -----------------------------------------------------------------


def _suggest(led: Ledger, sku: str, qty: int, t: Any) -> dict[str, Any] | None:
    """Where to move ``qty`` of ``sku`` from, for the ticket ``t``: the place
    with the most available, to the assignee's van, else a store in the
    ticket's zone. None when no place has any."""
    have = sorted(((lv.available, pl) for (s, pl), lv in led.levels.items() if s == sku and lv.available > 0), reverse=True)
    if not have:
        return None
    to = next((p.name for p in led.places.values() if p.kind == "van" and t.assignee and p.owner == t.assignee), None)
    if to is None:
        to = next((p.name for p in sorted(led.places.values(), key=lambda p: p.name)
                   if p.kind in ("store", "warehouse") and stock.can_serve(p, t.assignee, t.zone)), None)
    src = have[0][1]
    if to is None or to == src:
        return {"from": src, "available": have[0][0], "to": None, "command": None}
    return {"from": src, "available": have[0][0], "to": to,
            "command": f"ticketctl stock transfer {sku} {min(qty, have[0][0])} --from {src} --to {to}"}


@mutation("part.need")
def need(env: Env, key: str, sku: str, qty: int) -> dict[str, Any]:
    """The ticket needs ``qty`` of ``sku``: reserve it from the assignee's van,
    else the nearest place that has it; when none has it, the ticket blocks
    ``awaiting_parts`` naming the part and waits for it."""
    sku = _sku(sku)
    st = env.mutation_store
    with st.transaction():
        t = st.ticket(key)
        if t.status in ("resolved", "closed", "cancelled"):
            from ticketctl.core.labels import label

            raise Refused(_("{key} is {status}: it needs no more parts").format(key=key, status=label("status", t.status)))
        led = _part(env).load(skus=[sku], tickets=[key], all_places=True)
        if sku not in led.parts:
            raise NotFound(_("no part {sku!r} (add it with `ticketctl part add {sku} --name NAME`)").format(sku=sku))
        if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
            raise BadInput(_("a quantity must be a whole number above 0, not {qty!r}").format(qty=qty))
        places = stock.serving_places(led, sku, qty, t.assignee, t.zone)
        out: dict[str, Any] = {"key": key, "sku": sku, "qty": qty}
        if places:
            _write(env, led, [("stock.reserved", {"ticket": key, "sku": sku, "place": places[0], "qty": qty})])
            out.update(reserved=True, place=places[0], blocked=False, suggestion=None)
            return out
        suggestion = _suggest(led, sku, qty, t)
        from ticketctl.core.model import iso

        drafts: list[stock.Draft] = [("stock.waiting", {"ticket": key, "sku": sku, "qty": qty})]
        stock.apply_all(led, drafts, iso(env.now))
        blocks = t.status in workflow.ALLOWED_FROM["block"]
        if blocks:
            drafts += workflow.decide_block(t, REASON, env.config, {"note": f"{sku} x{qty}"})
        t = commit(env, st, t, key, drafts)
        _part(env).save(led)
        out.update(reserved=False, place=None, blocked=t.status == "blocked", suggestion=suggestion,
                   ticket=ticket_public(t, env.config, env.now))
        return out


@mutation("part.use")
def use(env: Env, key: str, sku: str, qty: int) -> dict[str, Any]:
    """The ticket used ``qty`` of ``sku``: from its reservation first, then
    from the place that holds it, else the nearest that has it."""
    sku = _sku(sku)
    st = env.mutation_store
    with st.transaction():
        t = st.ticket(key)
        led = _part(env).load(skus=[sku], tickets=[key], all_places=True)
        if sku not in led.parts:
            raise NotFound(_("no part {sku!r} (add it with `ticketctl part add {sku} --name NAME`)").format(sku=sku))
        if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
            raise BadInput(_("a quantity must be a whole number above 0, not {qty!r}").format(qty=qty))
        drafts: list[stock.Draft] = []
        left = qty
        for (k, s, place), h in sorted(led.holds.items()):
            if k != key or s != sku or left <= 0:
                continue
            take = min(left, h.reserved + max(led.level(sku, place).available, 0))
            if take <= 0:
                continue
            drafts.append(("stock.consumed", {"ticket": key, "sku": sku, "place": place, "qty": take,
                                              "from_hold": min(take, h.reserved)}))
            left -= take
        if left > 0:
            places = stock.serving_places(led, sku, left, t.assignee, t.zone)
            if not places:
                have = sum(max(lv.available, 0) for (s, _p), lv in led.levels.items() if s == sku)
                raise Refused(_("not enough {sku} for {key}: {want} more wanted, no place has that many available ({have} in all)")
                              .format(sku=sku, key=key, want=left, have=have))
            drafts.append(("stock.consumed", {"ticket": key, "sku": sku, "place": places[0], "qty": left, "from_hold": 0}))
        _write(env, led, drafts)
    return {"key": key, "sku": sku, "qty": qty,
            "from": [{"place": p["place"], "qty": p["qty"], "reserved": p["from_hold"]} for _t, p in drafts]}


def _serve_waiting(env: Env, sku: str, place: str) -> list[dict[str, Any]]:
    """Tickets waiting for ``sku`` that stock at ``place`` can serve, oldest
    SLA first: each gets its reservation, and unblocks once it waits for no
    other part (``[parts] auto_unblock``; inside the caller's transaction)."""
    if not env.config.parts.auto_unblock:
        return []
    st = env.mutation_store
    part = _part(env)
    led = part.load(skus=[sku], places=[place])
    pl = led.places.get(place)
    if pl is None:
        return []
    waiting = [(k, w) for (k, s), w in led.waits.items() if s == sku]
    tickets = {k: st.ticket(k) for k, _w in waiting if st.has_ticket(k)}
    big = 1 << 62
    order = sorted(((tickets[k].resolve_due_bt if tickets[k].resolve_due_bt is not None else big, w.since, k), w)
                   for k, w in waiting if k in tickets)
    served = []
    for (_due, _since, k), w in order:
        t = tickets[k]
        if not stock.can_serve(pl, t.assignee, t.zone) or led.level(sku, place).available < w.qty:
            continue
        tled = part.load(skus=[sku], places=[place], tickets=[k])
        drafts: list[stock.Draft] = [("stock.reserved", {"ticket": k, "sku": sku, "place": place, "qty": w.qty}),
                                     ("stock.wait_ended", {"ticket": k, "sku": sku})]
        from ticketctl.core.model import iso

        stock.apply_all(tled, drafts, iso(env.now))
        others = [s for (kk, s) in tled.waits if kk == k]
        unblocks = not others and t.status == "blocked" and t.blocked_reason == REASON
        if unblocks:
            drafts += workflow.decide_unblock(t)
        commit(env, st, t, k, drafts)
        part.save(tled, [(k, sku)])
        led.level(sku, place).reserved += w.qty
        served.append({"key": k, "qty": w.qty, "place": place, "unblocked": unblocks})
    return served


# -- reading ---------------------------------------------------------------------------


def listing(env: Env, sku: str | None = None, place: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Per part and place: on hand, reserved and available."""
    st = env.store
    if sku is not None:
        sku = _sku(sku)
        if not st.stock.has_part(sku):
            raise NotFound(_("no part {sku!r} (add it with `ticketctl part add {sku} --name NAME`)").format(sku=sku))
    if place is not None and not st.stock.has_place(place):
        raise NotFound(_("no place {place!r} (add it with `ticketctl stock place add {place} --kind store`)").format(place=place))
    return [{"sku": s, "name": name, "unit": unit, "place": p, "on_hand": oh, "reserved": r, "available": oh - r}
            for s, p, oh, r, name, unit in st.stock.levels(sku, place, limit)]


def parts_listing(env: Env, limit: int | None = None) -> list[dict[str, Any]]:
    return [{"sku": s, "name": n, "unit": u} for s, n, u in env.store.stock.parts_list(limit)]


def places_listing(env: Env) -> list[dict[str, Any]]:
    return [{"name": n, "kind": k, "owner": o, "zone": z} for n, k, o, z in env.store.stock.places_list()]


def of_ticket(env: Env, key: str) -> dict[str, Any]:
    """A ticket's parts: what it holds where (reserved, used) and what it waits for."""
    from ticketctl.services.tickets import show

    return dict(show(env, key)["parts"])


def ticket_parts(env: Env, key: str) -> dict[str, Any]:
    st = env.store
    return of_ticket(env, st.resolve_key(key))

"""``part add|need|use|list`` and ``stock place|receive|transfer|arrived|count|list``:
parts, places and the stock ledger (``services.parts``)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import click
import typer

from ticketctl.commands.output import emit_json, emit_text, env
from ticketctl.commands.tickets import Json
from ticketctl.core.stock import KINDS
from ticketctl.i18n import N_, _

part_app = typer.Typer(help="Parts: the catalogue, and the parts a ticket needs and uses.", no_args_is_help=True)
stock_app = typer.Typer(help="Stock: places, receiving, transfers, counts and levels (an append-only ledger).",
                        no_args_is_help=True)
place_app = typer.Typer(help="Places stock is kept at: warehouses, stores, technicians' vans, sites.", no_args_is_help=True)
stock_app.add_typer(place_app, name="place")

Sku = Annotated[str, typer.Argument(help="Part number (SKU).")]
Qty = Annotated[int, typer.Argument(help="Quantity (a whole number above 0).")]
Key = Annotated[str, typer.Argument(help="Ticket key (or a unique prefix, or N for this device's own).")]
At = Annotated[str, typer.Option("--at", help="The place.")]

#: a place's kind as people read it
KIND_WORDS = {"warehouse": N_("warehouse"), "store": N_("store"), "van": N_("van"), "site": N_("site")}


def _kind(kind: str) -> str:
    return _(KIND_WORDS[kind]) if kind in KIND_WORDS else kind


def _levels_text(rows: list[dict[str, Any]]) -> str:
    from ticketctl.render.tables import plain_table

    heads = [_("part"), _("part name"), _("place"), _("on hand"), _("reserved"), _("available")]
    cells = [[r["sku"], r["name"], r["place"], str(r["on_hand"]), str(r["reserved"]), str(r["available"])] for r in rows]
    return plain_table(heads, cells, right={3, 4, 5})


def _level_line(lv: dict[str, Any]) -> str:
    return _("{sku} at {place}: on hand {on_hand}, reserved {reserved}, available {available}").format(**lv)


def _served(rows: list[dict[str, Any]]) -> None:
    for s in rows:
        if s["unblocked"]:
            print(_("{key}: {qty} reserved at {place}, unblocked").format(**s), file=sys.stderr)
        else:
            print(_("{key}: {qty} reserved at {place}").format(**s), file=sys.stderr)


# -- part ------------------------------------------------------------------------------


@part_app.command("add", epilog="Example: ticketctl part add BOSCH-08921 --name 'pressure sensor'")
def part_add(
    sku: Sku,
    name: Annotated[str, typer.Option("--name", help="What the part is called.")],
    unit: Annotated[str | None, typer.Option("--unit", help="Unit it is counted in (default: pieces).")] = None,
    json: Json = False,
) -> None:
    """Add a part to the catalogue."""
    from ticketctl.services import parts

    p = parts.add_part(env(), sku, name, unit or "pcs")
    if json:
        emit_json(p)
    else:
        emit_text(_("part {sku} added: {name} ({unit})").format(**p))


@part_app.command("need", epilog="Example: ticketctl part need KQT-12 BOSCH-08921 1")
def part_need(key: Key, sku: Sku, qty: Qty, json: Json = False) -> None:
    """Reserve a part for a ticket: from the assignee's van, else the nearest place that has it
    (the ticket's zone first). When no place has it, the ticket blocks itself awaiting_parts,
    naming the part, and unblocks by itself when the part is received where it can be served."""
    from ticketctl.services import parts

    e = env()
    r = parts.need(e, e.store.resolve_key(key), sku, qty)
    r.pop("ticket", None)
    if json:
        emit_json(r)
        return
    if r["reserved"]:
        emit_text(_("{key}: {qty} x {sku} reserved at {place}").format(**r))
        return
    emit_text(_("{key}: no place has {qty} x {sku} available; waiting for it").format(**r)
              + (" " + _("(blocked: awaiting parts)") if r["blocked"] else ""))
    s = r["suggestion"]
    if s is None:
        print(_("no stock of {sku} anywhere: order it, then `ticketctl stock receive {sku} {qty} --at PLACE`").format(**r),
              file=sys.stderr)
    elif s["command"]:
        print(_("{place} has {n} available; move it with: {command}").format(place=s["from"], n=s["available"],
                                                                           command=s["command"]), file=sys.stderr)
    else:
        print(_("{place} has {n} available").format(place=s["from"], n=s["available"]), file=sys.stderr)


@part_app.command("use", epilog="Example: ticketctl part use KQT-12 BOSCH-08921 1")
def part_use(key: Key, sku: Sku, qty: Qty, json: Json = False) -> None:
    """Record parts used on a ticket: taken from its reservation first."""
    from ticketctl.services import parts

    e = env()
    r = parts.use(e, e.store.resolve_key(key), sku, qty)
    if json:
        emit_json(r)
    else:
        emit_text(_("{key}: used {qty} x {sku}").format(**r) + " ("
                  + ", ".join(f"{f['qty']} @ {f['place']}" for f in r["from"]) + ")")


@part_app.command("list", epilog="Example: ticketctl part list --json")
def part_list(
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many.")] = None,
    json: Json = False,
) -> None:
    """List the parts catalogue."""
    from ticketctl.services import parts

    if limit is not None and limit < 1:
        from ticketctl.errors import BadInput

        raise BadInput(_("--limit must be at least 1"))
    rows = parts.parts_listing(env(), limit)
    if json:
        emit_json(rows)
    elif rows:
        from ticketctl.render.tables import plain_table

        emit_text(plain_table([_("part"), _("part name"), _("unit")], [[r["sku"], r["name"], r["unit"]] for r in rows]))
    else:
        print(_("no parts yet: ticketctl part add SKU --name NAME"), file=sys.stderr)


# -- stock place -------------------------------------------------------------------------


@place_app.command("add", epilog="Example: ticketctl stock place add van-ana --kind van --owner ana --zone east")
def place_add(
    name: Annotated[str, typer.Argument(help="The place's name.")],
    kind: Annotated[str, typer.Option("--kind", click_type=click.Choice(KINDS), help="What kind of place it is.")],
    owner: Annotated[str | None, typer.Option("--owner", help="The technician whose van it is.")] = None,
    zone: Annotated[str | None, typer.Option("--zone", help="Zone (tickets in it are served from here first).")] = None,
    json: Json = False,
) -> None:
    """Add a place stock is kept at."""
    from ticketctl.services import parts

    p = parts.add_place(env(), name, kind, owner, zone)
    if json:
        emit_json(p)
    else:
        emit_text(_("place {name} added: {kind}").format(name=p["name"], kind=_kind(p["kind"]))
                  + (" " + _("of {owner}").format(owner=p["owner"]) if p["owner"] else "")
                  + (" " + _("in zone {zone}").format(zone=p["zone"]) if p["zone"] else ""))


@place_app.command("list", epilog="Example: ticketctl stock place list --json")
def place_list(json: Json = False) -> None:
    """List the places."""
    from ticketctl.services import parts

    rows = parts.places_listing(env())
    if json:
        emit_json(rows)
    elif rows:
        from ticketctl.render.tables import plain_table

        emit_text(plain_table([_("place"), _("kind"), _("owner"), _("zone")],
                              [[r["name"], _kind(r["kind"]), r["owner"] or "", r["zone"]] for r in rows]))
    else:
        print(_("no places yet: ticketctl stock place add NAME --kind store"), file=sys.stderr)


# -- stock -------------------------------------------------------------------------------


@stock_app.command("receive", epilog="Example: ticketctl stock receive BOSCH-08921 10 --at main-store")
def receive(sku: Sku, qty: Qty, at: At, json: Json = False) -> None:
    """Receive stock at a place; tickets waiting for the part there get it and unblock."""
    from ticketctl.services import parts

    r = parts.receive(env(), sku, qty, at)
    if json:
        emit_json(r)
        return
    emit_text(_level_line(r["level"]))
    _served(r["served"])


@stock_app.command("transfer", epilog="Example: ticketctl stock transfer BOSCH-08921 2 --from main-store --to van-ana")
def transfer(
    sku: Sku, qty: Qty,
    src: Annotated[str, typer.Option("--from", help="Where it leaves from (now).")],
    dst: Annotated[str, typer.Option("--to", help="Where it goes (counts there once it arrived).")],
    json: Json = False,
) -> None:
    """Send stock to another place; prints the transfer id. It counts at the
    destination only once received (`stock arrived TRANSFER`)."""
    from ticketctl.services import parts

    r = parts.transfer(env(), sku, qty, src, dst)
    if json:
        emit_json(r)
    else:
        emit_text(r["transfer"])
        print(_("{qty} x {sku} on the way from {src} to {dst}").format(qty=r["qty"], sku=r["sku"], src=r["from"], dst=r["to"]),
              file=sys.stderr)


@stock_app.command("arrived", epilog="Example: ticketctl stock arrived TR-KQT-3")
def arrived(
    transfer_id: Annotated[str, typer.Argument(metavar="TRANSFER", help="The transfer id `stock transfer` printed.")],
    json: Json = False,
) -> None:
    """A transfer reached its destination: its stock counts there from now."""
    from ticketctl.services import parts

    r = parts.arrived(env(), transfer_id)
    if json:
        emit_json(r)
        return
    emit_text(_level_line(r["level"]))
    _served(r["served"])


@stock_app.command("count", epilog="Example: ticketctl stock count BOSCH-08921 7 --at main-store --reason 'monthly count'")
def count_(
    sku: Sku,
    qty: Annotated[int, typer.Argument(help="How many were counted (0 or more).")],
    at: At,
    reason: Annotated[str, typer.Option("--reason", help="Why the count (kept with the adjustment).")],
    json: Json = False,
) -> None:
    """Record a stock count: on hand becomes the counted number; the difference is kept with the reason."""
    from ticketctl.services import parts

    r = parts.count(env(), sku, qty, at, reason)
    if json:
        emit_json(r)
    else:
        emit_text(_level_line(r["level"]) + " " + _("(adjusted by {delta:+d})").format(delta=r["delta"]))


@stock_app.command("list", epilog="Example: ticketctl stock list BOSCH-08921 --at main-store --json")
def list_(
    sku: Annotated[str | None, typer.Argument(help="Only this part.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="Only this place.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many rows.")] = None,
    json: Json = False,
) -> None:
    """Stock per part and place: on hand, reserved for tickets, available."""
    from ticketctl.services import parts

    if limit is not None and limit < 1:
        from ticketctl.errors import BadInput

        raise BadInput(_("--limit must be at least 1"))
    rows = parts.listing(env(), sku, at, limit)
    if json:
        emit_json(rows)
    elif rows:
        emit_text(_levels_text(rows))
    else:
        print(_("no stock matches"), file=sys.stderr)

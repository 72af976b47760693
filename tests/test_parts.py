"""Parts and stock (issue 26): the ledger's rules (``core.stock``), the
commands over a real store file, and a ticket that waits for a part.

The property test drives random ledger operations through the services into a
real store and checks, after every one, that what the tables say equals a
fold of the ledger's events (``store check``'s comparison) and that nothing
is ever negative; a refused operation changes nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from test_cli import Cli

from ticketctl import errors
from ticketctl.core import stock
from ticketctl.errors import Refused
from ticketctl.services import parts, rebuild
from ticketctl.services.env import Env
from ticketctl.store.db import Store

SKU = "BOSCH-08921"


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "home", capsys)


def setup(cli: Cli) -> None:
    cli.ok("tech", "add", "ana", "--zone", "east", user="dina")
    cli.ok("tech", "add", "bob", "--zone", "east", user="dina")
    cli.ok("part", "add", SKU, "--name", "pressure sensor", user="dina")
    cli.ok("stock", "place", "add", "main", "--kind", "store", "--zone", "east", user="dina")
    cli.ok("stock", "place", "add", "west", "--kind", "store", "--zone", "west", user="dina")
    cli.ok("stock", "place", "add", "van-ana", "--kind", "van", "--owner", "ana", "--zone", "east", user="dina")
    cli.ok("stock", "place", "add", "van-bob", "--kind", "van", "--owner", "bob", "--zone", "east", user="dina")


def ticket(cli: Cli, zone: str = "east", to: str = "ana") -> str:
    key = str(cli.json("new", "boiler pressure low", "--type", "repair", "--dept", "facilities", "--product", "boiler",
                       "--zone", zone, user="dina")["key"])
    cli.ok("assign", key, to, user="dina")
    return key


def level(cli: Cli, place: str, sku: str = SKU) -> dict[str, Any]:
    rows = cli.json("stock", "list", sku, "--at", place)
    return rows[0] if rows else {"on_hand": 0, "reserved": 0, "available": 0}


def check(cli: Cli) -> None:
    with Store(cli.store_file) as st:
        assert rebuild.stock_differences(st) == []
        assert st.db.execute("SELECT count(*) FROM stock WHERE on_hand < 0 OR reserved < 0 OR on_hand < reserved"
                             ).fetchone()[0] == 0


# -- the commands ----------------------------------------------------------------------


def test_a_transfer_counts_at_the_destination_only_when_it_arrives(cli: Cli) -> None:
    setup(cli)
    r = cli.json("stock", "receive", SKU, "5", "--at", "main")
    assert r["level"] == {"sku": SKU, "place": "main", "on_hand": 5, "reserved": 0, "available": 5}
    out = cli.ok("stock", "transfer", SKU, "2", "--from", "main", "--to", "van-ana")
    tr = out.out.strip()
    assert tr.startswith("TR-") and "\n" not in tr
    assert level(cli, "main")["on_hand"] == 3
    assert level(cli, "van-ana")["on_hand"] == 0  # on the way: at neither place
    arrived = cli.json("stock", "arrived", tr)
    assert arrived["level"]["on_hand"] == 2 and arrived["arrived"] is True
    assert level(cli, "van-ana") | {"name": None} == {"sku": SKU, "name": None, "unit": "pcs", "place": "van-ana",
                                                      "on_hand": 2, "reserved": 0, "available": 2}
    cli.fails(errors.REFUSED, "stock", "arrived", tr, message=f"transfer {tr} already arrived at van-ana ({NOW_AT})")
    check(cli)


NOW_AT = "2026-03-02T09:00:00Z"


def test_stock_is_never_negative_and_refusals_change_nothing(cli: Cli) -> None:
    setup(cli)
    cli.ok("stock", "receive", SKU, "1", "--at", "main")
    cli.fails(errors.REFUSED, "stock", "transfer", SKU, "2", "--from", "main", "--to", "west",
              message=f"not enough {SKU} at main: 2 wanted, 1 available")
    cli.fails(errors.REFUSED, "stock", "receive", "NOPE", "1", "--at", "main")
    cli.fails(errors.REFUSED, "stock", "receive", SKU, "1", "--at", "nowhere")
    cli.fails(errors.BAD_INPUT, "stock", "receive", SKU, "0", "--at", "main")
    cli.fails(errors.BAD_INPUT, "stock", "place", "add", "x", "--kind", "boat")
    cli.fails(errors.REFUSED, "part", "add", SKU, "--name", "again")
    r = cli.json("stock", "count", SKU, "4", "--at", "main", "--reason", "monthly count")
    assert (r["delta"], r["level"]["on_hand"]) == (3, 4)
    check(cli)


def test_part_need_reserves_from_the_assignees_van_first_then_the_zone(cli: Cli) -> None:
    setup(cli)
    for place in ("main", "west", "van-ana", "van-bob"):
        cli.ok("stock", "receive", SKU, "1", "--at", place)
    key = ticket(cli)
    assert cli.json("part", "need", key, SKU, "1")["place"] == "van-ana"
    assert cli.json("part", "need", key, SKU, "1")["place"] == "main"  # a store before another technician's van
    assert cli.json("part", "need", key, SKU, "1")["place"] == "van-bob"  # the ticket's zone before another zone
    assert cli.json("part", "need", key, SKU, "1")["place"] == "west"
    shown = cli.json("show", key)
    assert {(h["place"], h["reserved"]) for h in shown["parts"]["holds"]} == {
        ("van-ana", 1), ("main", 1), ("van-bob", 1), ("west", 1)}
    assert "stock.reserved" in [e["type"] for e in shown["timeline"]]
    # use takes the reservation first; closing releases what was not used
    used = cli.json("part", "use", key, SKU, "1")
    assert used["from"] == [{"place": "main", "qty": 1, "reserved": 1}]
    cli.ok("start", key)
    cli.ok("cancel", key, "--reason", "duplicate", user="dina")
    assert [level(cli, p)["reserved"] for p in ("main", "west", "van-ana")] == [0, 0, 0]
    assert level(cli, "main")["on_hand"] == 0 and level(cli, "west")["on_hand"] == 1
    check(cli)


def test_a_ticket_blocked_for_a_part_unblocks_by_itself_on_receipt_at_the_right_place_only(cli: Cli) -> None:
    setup(cli)
    cli.ok("stock", "receive", SKU, "2", "--at", "west")  # the other zone: suggested, not reserved (zone first)
    cli.ok("stock", "transfer", SKU, "2", "--from", "west", "--to", "main")  # on the way: not available anywhere
    old = ticket(cli)
    young = ticket(cli, to="bob")
    r = cli(*["part", "need", old, SKU, "1"])
    assert r.code == 0 and "blocked" in r.out
    assert cli.json("part", "need", young, SKU, "1")["blocked"] is True
    for key in (old, young):
        t = cli.ticket_row(key)
        assert (t["status"], t["blocked_reason"]) == ("blocked", "awaiting_parts")
    assert json.loads(cli.ticket_row(old)["block"])["note"] == f"{SKU} x1"  # the block names the part
    # received elsewhere for ana's ticket: bob's van (it serves bob's), a site, another zone's store
    cli.ok("stock", "place", "add", "site-9", "--kind", "site", "--zone", "east", user="dina")
    served = cli.json("stock", "receive", SKU, "1", "--at", "van-bob")["served"]
    assert served == [{"key": young, "qty": 1, "place": "van-bob", "unblocked": True}]
    assert cli.ticket_row(old)["status"] == "blocked" and cli.ticket_row(young)["status"] == "assigned"
    assert cli.json("stock", "receive", SKU, "1", "--at", "site-9")["served"] == []
    assert cli.json("stock", "receive", SKU, "3", "--at", "west")["served"] == []
    assert cli.ticket_row(old)["status"] == "blocked"
    # the right place: one unit reaches ana's van
    tr = cli.ok("stock", "transfer", SKU, "1", "--from", "west", "--to", "van-ana").out.strip()
    assert cli.ticket_row(old)["status"] == "blocked"  # sent is not arrived
    arrived = cli.json("stock", "arrived", tr)
    assert arrived["served"] == [{"key": old, "qty": 1, "place": "van-ana", "unblocked": True}]
    assert cli.ticket_row(old)["status"] == "assigned"
    assert level(cli, "van-ana")["reserved"] == 1
    types = [e["type"] for e in cli.json("show", old)["timeline"]]
    assert types[-5:] == ["stock.waiting", "ticket.blocked", "stock.reserved", "stock.wait_ended", "ticket.unblocked"]
    check(cli)


def test_waiting_tickets_are_served_oldest_sla_first_and_auto_unblock_can_be_turned_off(cli: Cli) -> None:
    setup(cli)
    low = str(cli.json("new", "low", "--type", "repair", "--dept", "f", "--product", "p", "--zone", "east",
                       "--priority", "low", user="dina")["key"])
    urgent = str(cli.json("new", "urgent", "--type", "repair", "--dept", "f", "--product", "p", "--zone", "east",
                          "--priority", "urgent", user="dina")["key"])
    for k in (low, urgent):
        cli.ok("assign", k, "ana", user="dina")
        cli.ok("part", "need", k, SKU, "1")
    served = cli.json("stock", "receive", SKU, "1", "--at", "main")["served"]
    assert [s["key"] for s in served] == [urgent]
    cli.ok("config", "set", "parts.auto_unblock", "false", user="dina")
    assert cli.json("stock", "receive", SKU, "1", "--at", "main")["served"] == []
    assert cli.ticket_row(low)["status"] == "blocked"
    check(cli)


def test_chinese_messages(cli: Cli) -> None:
    setup(cli)
    r = cli("stock", "transfer", SKU, "2", "--from", "main", "--to", "west", TICKETCTL_LANG="zh_CN")
    assert r.code == errors.REFUSED and r.err.startswith("ticketctl: error: ") and "main" in r.err
    assert not any(w in r.err for w in ("enough", "wanted", "available")), r.err
    r = cli("part", "need", "--help", TICKETCTL_LANG="zh_CN")
    assert r.code == 0 and "示例" in r.out


# -- the property: tables == fold of the ledger, never negative ----------------------------

OPS = hs.lists(hs.tuples(hs.sampled_from(["receive", "transfer", "arrive", "count", "need", "use", "close"]),
                         hs.integers(0, 3), hs.integers(0, 3), hs.integers(0, 4)), min_size=1, max_size=25)
PLACES = ("main", "west", "van-ana", "site")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_on_hand_is_the_fold_of_the_ledger_and_never_negative(tmp_path_factory: pytest.TempPathFactory,
                                                             ops: list[tuple[str, int, int, int]]) -> None:
    home = tmp_path_factory.mktemp("ledger")
    environ = {"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": NOW_AT, "TICKETCTL_USER": "dina"}

    def run(fn: Any, *args: Any) -> Any:
        e = Env.from_environ(environ)
        try:
            return fn(e, *args)
        finally:
            e.close()

    from ticketctl.services import techs, tickets

    run(techs.add, "ana")
    for sku in ("A", "B"):
        run(parts.add_part, sku, sku)
    for name, kind in (("main", "store"), ("west", "warehouse"), ("van-ana", "van"), ("site", "site")):
        run(parts.add_place, name, kind, "ana" if kind == "van" else None, "east" if name != "west" else "west")
    keys = [run(tickets.create, {"title": f"t{i}", "type": "repair", "dept": "f", "product": "p", "zone": "east"})["key"]
            for i in range(2)]
    for k in keys:
        run(tickets.assign, k, "ana")
    transfers: list[str] = []
    for op, a, b, q in ops:
        sku, src, dst, key = "AB"[a % 2], PLACES[a], PLACES[b], keys[b % 2]
        try:
            if op == "receive":
                run(parts.receive, sku, q, src)
            elif op == "transfer":
                transfers.append(run(parts.transfer, sku, q, src, dst)["transfer"])
            elif op == "arrive" and transfers:
                run(parts.arrived, transfers[b % len(transfers)])
            elif op == "count":
                run(parts.count, sku, q, src, "count")
            elif op == "need":
                run(parts.need, key, sku, q)
            elif op == "use":
                run(parts.use, key, sku, q)
            elif op == "close":
                run(tickets.cancel, key, "done")
        except (errors.TicketctlError, Refused):
            pass
        with Store(home / "ticketctl.db") as st:
            assert rebuild.stock_differences(st) == []
            led = stock.fold(st.stock.events())
            for lv in led.levels.values():
                assert 0 <= lv.reserved <= lv.on_hand
            for h in led.holds.values():
                assert h.reserved >= 0 and h.used >= 0
            # conservation: what is on hand, on the way and used adds up to what came in
            for sku in "AB":
                came = sum(e.payload["qty"] for e in st.stock.events() if e.type == "stock.received" and e.payload["sku"] == sku)
                counted = sum(e.payload["delta"] for e in st.stock.events() if e.type == "stock.counted" and e.payload["sku"] == sku)
                on_way = sum(t.qty for t in led.transfers.values() if t.sku == sku and t.arrived_at is None)
                used = sum(h.used for (_k, s, _p), h in led.holds.items() if s == sku)
                have = sum(lv.on_hand for (s, _p), lv in led.levels.items() if s == sku)
                assert have + on_way + used == came + counted
    db = sqlite3.connect(home / "ticketctl.db")
    assert db.execute("SELECT count(*) FROM stock WHERE on_hand < 0 OR reserved < 0").fetchone()[0] == 0
    db.close()

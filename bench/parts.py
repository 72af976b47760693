"""Parts and stock against the technician-command budget (issue 26; run by hand, not in CI).

    python bench/parts.py [--quick] [--runs 15] [--home DIR] [--parts 10000] [--places 200]
                          [--events 1000000] [--tickets 10000] [--check] [--installed] [--json]

Done-when of issue 26: "`stock list` and `part need` within the technician-command
budget with 10,000 parts, 200 places and 1,000,000 ledger events".

* The store: a demo backlog (``services.demo.generate``: --tickets tickets, 160
  technicians), then a stock ledger written in bulk the way the demo writes
  tickets: events built in Python, each judged and folded by ``core.stock.apply``
  (the ledger's one set of rules: a draft it refuses is dropped), inserted in
  chunks of 50,000 in one transaction, then the projections written once with
  ``Stock.save``. Places (--places, 200): 4 warehouses, 20 stores, 150 vans (one
  per technician, owner and zone the technician's), the rest customer sites.
  Parts (--parts, 10,000) of Zipf-like popularity: every warehouse stocks most of
  them, each store ~800, each van ~60. The ledger then runs over two years:
  receipts at warehouses (deliveries) and stores, transfers warehouse -> store
  and store -> van (sent, arriving later; the last few stay on the way), parts
  reserved for tickets and then used or released (open tickets keep some
  holds), counts with their difference, a few returns, until --events ledger
  events (1,000,000) in all. Progress goes to stderr. ``--home DIR`` builds the
  store there once and reuses it on the next run (a store built with other
  sizes is refused); ``--check`` folds the whole ledger again and compares it
  with the tables (``store check``'s comparison) after building.
* Timed as whole processes, the way ``bench/cli.py`` times them (its machinery is
  loaded from that file: a non-editable copy of an editable install, 2 untimed
  warm-ups, then --runs timed runs, median and p90):
    reads  (<= 300 ms)  stock list (all levels, the table), stock list --json,
                        stock list --limit 50 --json, stock list SKU --json (the
                        part stocked at the most places), stock list --at VAN --json,
                        stock list --at WAREHOUSE --json
    writes (<= 400 ms)  part need KEY SKU 1 (a different open assigned ticket
                        each run; it reserves from the nearest place), part use
                        KEY SKU 1 (the same tickets: it uses the reservation),
                        stock receive SKU 5 --at STORE --json
  A miss is printed clearly; exit code 0 unless a command fails (1).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from ticketctl.core import stock
from ticketctl.core.model import Event, iso
from ticketctl.errors import TicketctlError
from ticketctl.services import demo, rebuild
from ticketctl.services.env import Env

sys.path.insert(0, str(Path(__file__).resolve().parent))
from budget import sibling  # noqa: E402

cli = sibling("cli")
log = cli.log

USER = "benchtech"
READ_BUDGET_MS, WRITE_BUDGET_MS = 300.0, 400.0
FULL = {"parts": 10_000, "places": 200, "events": 1_000_000, "tickets": 10_000, "runs": 15}
QUICK = {"parts": 2_000, "places": 200, "events": 100_000, "tickets": 2_000, "runs": 5}
N_TECHS = 160
CHUNK = 50_000
BRANDS = ["BOSCH", "SIEMENS", "DANFOSS", "GRUNDFOS", "HONEYWELL", "CARRIER", "DAIKIN", "SCHNEIDER", "ABB", "HP",
          "EPSON", "CISCO", "OTIS", "KONE", "WILO", "EMERSON", "PANASONIC", "MIDEA", "GREE", "HAIER"]
WORDS = ["pressure sensor", "fan motor", "capacitor 35uF", "contactor", "thermostat", "valve 1/2in", "pump seal kit",
         "filter", "belt", "fuse 10A", "relay", "control board", "toner cartridge", "fuser unit", "door switch",
         "gasket", "igniter", "flow switch", "compressor", "expansion valve", "access card reader", "PSU 24V"]


def make_env(home: Path) -> Env:
    return Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_USER": USER})


class Ledger:
    """Drafts judged and folded by ``core.stock.apply``, kept as events."""

    def __init__(self, env: Env, rng: random.Random, n_events: int):
        st = env.store
        self.led = stock.Ledger()
        self.rng = rng
        self.device, self.seq = st.meta("device_id"), int(st.meta("next_device_seq"))
        self.events: list[Event] = []
        self.n = 0
        self.refused = 0
        # two years, one event every so often, ending an hour before now
        self.start = env.now - timedelta(days=730)
        self.step = timedelta(days=729) / max(n_events, 1)
        self.st = st

    def at(self) -> str:
        return iso((self.start + self.step * self.n).replace(microsecond=0))

    def add(self, typ: str, p: dict[str, Any], actor: str = "stores") -> bool:
        at = self.at()
        try:
            stock.apply(self.led, typ, p, at)
        except TicketctlError:
            self.refused += 1
            return False
        ids = self.rng.getrandbits(128), self.rng.getrandbits(128)
        self.events.append(Event(id=str(uuid.UUID(int=ids[0], version=4)), type=typ, at=at, actor=actor,
                                 device=self.device, device_seq=self.seq, mutation_id=str(uuid.UUID(int=ids[1], version=4)),
                                 ticket=stock.entity(typ, p), payload=p))
        self.seq += 1
        self.n += 1
        if len(self.events) >= CHUNK:
            self.flush()
        return True

    def flush(self) -> None:
        self.st.put_events(self.events)
        self.events = []
        log(f"  {self.n:,} ledger events")


def build(home: Path, sizes: dict[str, int], seed: int = 1) -> dict[str, Any]:
    """The bench store (see the module doc) in ``home``; returns what it holds and the build's times."""
    env = make_env(home)
    rng = random.Random(seed)
    t0 = time.perf_counter()
    log(f"[build] demo backlog: {sizes['tickets']:,} tickets, {N_TECHS} technicians ...")
    demo.generate(env, sizes["tickets"], N_TECHS, seed, lang="en")
    t_demo = time.perf_counter() - t0
    st = env.store
    techs = st.db.execute("SELECT name, zone FROM technicians ORDER BY name").fetchall()
    tickets = st.db.execute("SELECT key, status, assignee, zone FROM tickets ORDER BY created_at, key").fetchall()
    zones = sorted({z for _n, z in techs if z} | {t[3] for t in tickets if t[3]}) or [""]
    n_events = sizes["events"]
    w = Ledger(env, rng, n_events)
    with st.transaction():
        # places: warehouses, stores, vans (a technician's own), sites
        n_vans = min(150, len(techs), max(sizes["places"] - 30, 0))
        n_wh, n_store = 4, 20
        n_site = max(sizes["places"] - n_wh - n_store - n_vans, 0)
        warehouses = [f"WH-{i + 1}" for i in range(n_wh)]
        stores = [f"store-{zones[i % len(zones)]}-{i + 1}".lower().replace(" ", "-") for i in range(n_store)]
        vans = [f"van-{techs[i][0]}" for i in range(n_vans)]
        sites = [f"site-{i + 1:03d}" for i in range(n_site)]
        for i, name in enumerate(warehouses):
            w.add("stock.place_added", {"name": name, "kind": "warehouse", "owner": None, "zone": zones[i % len(zones)]})
        for i, name in enumerate(stores):
            w.add("stock.place_added", {"name": name, "kind": "store", "owner": None, "zone": zones[i % len(zones)]})
        for i, name in enumerate(vans):
            w.add("stock.place_added", {"name": name, "kind": "van", "owner": techs[i][0], "zone": techs[i][1] or ""})
        for i, name in enumerate(sites):
            w.add("stock.place_added", {"name": name, "kind": "site", "owner": None, "zone": zones[i % len(zones)]})
        van_of = {techs[i][0]: vans[i] for i in range(n_vans)}
        # the catalogue, Zipf-like popularity
        skus = [f"{BRANDS[i % len(BRANDS)]}-{10000 + i * 7 % 90000:05d}-{i}" if i % 3 else f"{BRANDS[i % len(BRANDS)]}-{i:05d}"
                for i in range(sizes["parts"])]
        for i, sku in enumerate(skus):
            w.add("stock.part_added", {"sku": sku, "name": f"{WORDS[i % len(WORDS)]} ({BRANDS[i % len(BRANDS)].title()})",
                                       "unit": "m" if i % 17 == 0 else "pcs"})
        weights = [1.0 / (r + 1) ** 0.9 for r in range(len(skus))]
        popular = skus[:]
        rng.shuffle(popular)
        cum: list[float] = []
        acc = 0.0
        for x in weights:
            acc += x
            cum.append(acc)

        def part() -> str:
            return popular[min(_bisect(cum, rng.random() * acc), len(popular) - 1)]

        # opening stock: warehouses most parts, stores ~800, vans ~60
        for wh in warehouses:
            for sku in skus:
                if rng.random() < 0.8:
                    w.add("stock.received", {"sku": sku, "place": wh, "qty": rng.randint(20, 400)})
        store_parts = {s: {part() for _ in range(1000)} for s in stores}
        for s in stores:
            for sku in store_parts[s]:
                w.add("stock.received", {"sku": sku, "place": s, "qty": rng.randint(5, 60)})
        van_parts = {v: sorted({part() for _ in range(70)}) for v in vans}
        store_of_van = {v: rng.choice(stores) for v in vans}
        log(f"  opening stock: {w.n:,} events, {len(w.led.levels):,} levels")
        in_transit: list[str] = []
        tr_no = 0
        open_keys = [t for t in tickets if t[1] not in ("resolved", "closed", "cancelled")]
        done_keys = [t for t in tickets if t[1] in ("resolved", "closed", "cancelled")] or tickets
        hold_left: list[tuple[str, str, str, int]] = []

        def transfer(sku: str, src: str, dst: str, qty: int) -> None:
            nonlocal tr_no
            tr_no += 1
            tid = f"TR-BEN-{tr_no}"
            if w.add("stock.sent", {"transfer": tid, "sku": sku, "qty": qty, "from": src, "to": dst}):
                in_transit.append(tid)

        def arrive_some(keep: int) -> None:
            while len(in_transit) > keep:
                tid = in_transit.pop(rng.randrange(len(in_transit)))
                w.add("stock.arrived", {"transfer": tid, "sku": w.led.transfers[tid].sku})

        def serving(t: tuple[str, str, str | None, str], sku: str) -> str | None:
            van = van_of.get(t[2] or "")
            for place in ([van] if van else []) + [store_of_van.get(van or "", stores[0]), rng.choice(stores)] + warehouses:
                lv = w.led.levels.get((sku, place))
                if lv is not None and lv.available > 0:
                    return place
            return None

        while w.n < n_events - 20:
            r = rng.random()
            if r < 0.14:  # a delivery at a warehouse
                w.add("stock.received", {"sku": part(), "place": rng.choice(warehouses), "qty": rng.randint(10, 200)})
            elif r < 0.18:  # bought locally by a store
                w.add("stock.received", {"sku": part(), "place": rng.choice(stores), "qty": rng.randint(1, 20)})
            elif r < 0.38:  # warehouse -> store replenishment
                s = rng.choice(stores)
                sku = part()
                wh = rng.choice(warehouses)
                lv = w.led.levels.get((sku, wh))
                if lv is not None and lv.available > 0:
                    transfer(sku, wh, s, max(1, min(lv.available, rng.randint(2, 30))))
            elif r < 0.52:  # store -> van: a technician restocks
                v = rng.choice(vans)
                sku = rng.choice(van_parts[v]) if rng.random() < 0.8 else part()
                s = store_of_van[v]
                lv = w.led.levels.get((sku, s))
                if lv is not None and lv.available > 0:
                    transfer(sku, s, v, max(1, min(lv.available, rng.randint(1, 6))))
                else:
                    wh = rng.choice(warehouses)
                    lv = w.led.levels.get((sku, wh))
                    if lv is not None and lv.available > 0:
                        transfer(sku, wh, v, max(1, min(lv.available, rng.randint(1, 6))))
            elif r < 0.93:  # a part on a ticket: reserved, then used (or given back)
                t = rng.choice(done_keys) if rng.random() < 0.85 or not open_keys else rng.choice(open_keys)
                v = van_of.get(t[2] or "")
                sku = rng.choice(van_parts[v]) if v and rng.random() < 0.6 else part()
                place = serving(t, sku)
                if place is None:
                    continue
                qty = 1 if rng.random() < 0.8 else min(w.led.levels[(sku, place)].available, rng.randint(2, 4))
                if not w.add("stock.reserved", {"ticket": t[0], "sku": sku, "place": place, "qty": qty}, t[2] or USER):
                    continue
                if t in open_keys and rng.random() < 0.5:
                    hold_left.append((t[0], sku, place, qty))
                elif rng.random() < 0.9:
                    w.add("stock.consumed", {"ticket": t[0], "sku": sku, "place": place, "qty": qty, "from_hold": qty},
                          t[2] or USER)
                    if rng.random() < 0.02:
                        w.add("stock.returned", {"ticket": t[0], "sku": sku, "place": place, "qty": 1}, t[2] or USER)
                else:
                    w.add("stock.released", {"ticket": t[0], "sku": sku, "place": place, "qty": qty}, t[2] or USER)
            else:  # a count: on hand corrected, never below what is reserved
                place = rng.choice(warehouses + stores + vans)
                sku = rng.choice(van_parts[place]) if place in van_parts else part()
                lv = w.led.levels.get((sku, place))
                if lv is None:
                    continue
                qty = max(lv.reserved, lv.on_hand + rng.choice((-2, -1, -1, 0, 0, 0, 1)))
                w.add("stock.counted", {"sku": sku, "place": place, "qty": qty, "delta": qty - lv.on_hand,
                                        "reason": rng.choice(["monthly count", "cycle count", "damaged", "found on shelf"])})
            if len(in_transit) > 400:
                arrive_some(200)
        arrive_some(25)  # the last few stay on the way
        # a few tickets blocked awaiting parts wait for one
        for key, status, _a, _z in tickets:
            if status == "blocked":
                row = st.db.execute("SELECT blocked_reason FROM tickets WHERE key = ?", (key,)).fetchone()
                if row and row[0] == "awaiting_parts":
                    w.add("stock.waiting", {"ticket": key, "sku": part(), "qty": 1})
        w.flush()
        log(f"  writing the projections ({len(w.led.levels):,} levels, {len(w.led.transfers):,} transfers, "
            f"{len(w.led.holds):,} holds) ...")
        st.stock.save(w.led)
        st.set_meta("next_device_seq", str(w.seq))
        st.set_meta("bench_parts", json.dumps({k: sizes[k] for k in ("parts", "places", "events", "tickets")}))
    secs = time.perf_counter() - t0
    log(f"[build] done in {secs:.1f} s (demo {t_demo:.1f} s); {w.refused:,} drafts refused by the rules and dropped")
    return {"build_s": secs, "demo_s": t_demo, "refused_drafts": w.refused}


def _bisect(cum: list[float], x: float) -> int:
    import bisect

    return bisect.bisect_left(cum, x)


def facts(home: Path) -> dict[str, Any]:
    """What the store holds, and the ids the timed commands use."""
    env = make_env(home)
    q = env.store.db.execute
    out: dict[str, Any] = {
        "parts": q("SELECT count(*) FROM parts").fetchone()[0],
        "places": q("SELECT count(*) FROM places").fetchone()[0],
        "ledger_events": q("SELECT count(*) FROM events WHERE type >= 'stock.' AND type < 'stock/'").fetchone()[0],
        "levels": q("SELECT count(*) FROM stock").fetchone()[0],
        "transfers": q("SELECT count(*) FROM transfers").fetchone()[0],
        "holds": q("SELECT count(*) FROM part_holds").fetchone()[0],
        "tickets": q("SELECT count(*) FROM tickets").fetchone()[0],
        "store_mb": round(env.home.store_file.stat().st_size / 1e6, 1),
    }
    out["by_type"] = dict(q("SELECT type, count(*) FROM events WHERE type >= 'stock.' AND type < 'stock/' GROUP BY type"
                            " ORDER BY 2 DESC").fetchall())
    out["sku"] = q("SELECT sku FROM stock GROUP BY sku ORDER BY count(*) DESC, sku LIMIT 1").fetchone()[0]
    out["sku_rows"] = q("SELECT count(*) FROM stock WHERE sku = ?", (out["sku"],)).fetchone()[0]
    out["van"], out["van_rows"] = q("SELECT s.place, count(*) FROM stock s JOIN places p ON p.name = s.place"
                                    " WHERE p.kind = 'van' GROUP BY 1 ORDER BY 2 DESC LIMIT 1").fetchone()
    out["warehouse"], out["warehouse_rows"] = q("SELECT s.place, count(*) FROM stock s JOIN places p ON p.name = s.place"
                                                " WHERE p.kind = 'warehouse' GROUP BY 1 ORDER BY 2 DESC LIMIT 1").fetchone()
    out["store"] = q("SELECT name FROM places WHERE kind = 'store' ORDER BY name LIMIT 1").fetchone()[0]
    # open assigned tickets whose assignee has a van, for part need / part use
    out["keys"] = [r[0] for r in q("SELECT t.key FROM tickets t JOIN places p ON p.kind = 'van' AND p.owner = t.assignee"
                                   " WHERE t.status IN ('assigned', 'in_progress') ORDER BY t.key")]
    return out


def choose_install(installed: str, as_is: bool, root: Path, env: dict[str, str]) -> tuple[str, str, dict]:
    """``bench/cli.py``'s choice, except that with PYTHONPATH set (a worktree's source,
    as the project's notes run it) the copy is of the package PYTHONPATH names, and the
    timed processes run without PYTHONPATH (``env`` loses it), so they import the copy."""
    if as_is or "PYTHONPATH" not in env:
        return cli.choose_install(installed, as_is, root, env)  # type: ignore[no-any-return]
    python = cli.script_python(installed)
    info = cli.probe(python, cli.PROBE_INSTALL, env)
    del env["PYTHONPATH"]
    script, vpy, more = cli.non_editable_copy(python, info, root, env)
    facts = {"installed": installed, "mode": "copy", **more,
             "describe": f"a non-editable copy of {info['pkg']} (PYTHONPATH's) in {Path(script).parent.parent}; "
                         f"imports {more['imports']}, {more['mo_files']} .mo files copied"}
    return script, vpy, facts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smaller store and 5 runs (not the budget's figures)")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--home", type=Path, help="build the store here once, reuse it afterwards")
    for k in ("parts", "places", "events", "tickets"):
        ap.add_argument(f"--{k}", type=int)
    ap.add_argument("--check", action="store_true", help="fold the whole ledger again after building and compare")
    ap.add_argument("--installed", action="store_true", help="measure the installed ticketctl as is")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sizes = dict(QUICK if args.quick else FULL)
    for k in ("parts", "places", "events", "tickets"):
        if getattr(args, k):
            sizes[k] = getattr(args, k)
    runs = args.runs or sizes["runs"]

    root = Path(tempfile.mkdtemp(prefix="ticketctl-partsbench-"))
    home = (args.home or root / "store").resolve()
    out: dict[str, Any] = {"sizes": sizes, "runs": runs, "home": str(home)}
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_") and k != "PYTHONDONTWRITEBYTECODE"}
    base_env["TICKETCTL_USER"] = USER
    cwd = os.getcwd()
    try:
        want = {k: sizes[k] for k in ("parts", "places", "events", "tickets")}
        store_file = home / "ticketctl.db"
        if store_file.exists():
            got = make_env(home).store.meta("bench_parts", "")
            if not got or json.loads(got) != want:
                sys.exit(f"bench: {home} holds a store not built by this bench with these sizes ({got or 'none'}); "
                         "use another --home")
            log(f"[build] reusing the store in {home}")
            out["build"] = None
        else:
            home.mkdir(parents=True, exist_ok=True)
            out["build"] = build(home, sizes)
            if args.check:
                t0 = time.perf_counter()
                diff = rebuild.stock_differences(make_env(home).store)
                log(f"[check] the tables equal the fold of the ledger: {not diff} ({time.perf_counter() - t0:.1f} s)")
                if diff:
                    sys.exit("bench: " + "\n".join(diff))
        f = out["facts"] = facts(home)
        log(f"[store] {f['parts']:,} parts, {f['places']} places, {f['ledger_events']:,} ledger events, {f['levels']:,} levels, "
            f"{f['tickets']:,} tickets, {f['store_mb']} MB")
        n_writes = runs + cli.WARMUP
        if len(f["keys"]) < n_writes:
            sys.exit(f"bench: only {len(f['keys'])} open assigned tickets with a van; need {n_writes}")

        os.chdir(root)
        base_env["TICKETCTL_HOME"] = str(root / "startup")
        tc, _python, out["measured"] = choose_install(cli.find_ticketctl(), args.installed, root, base_env)
        log(f"measured: {out['measured']['describe']}")
        env = dict(base_env, TICKETCTL_HOME=str(home))
        sku, keys = f["sku"], f["keys"][:n_writes]
        # the part the write tickets need: one the first ticket's assignee's van carries, else the popular one
        reads: list[tuple[str, list[str], float]] = [
            ("stock list", ["stock", "list"], READ_BUDGET_MS),
            ("stock list --json", ["stock", "list", "--json"], READ_BUDGET_MS),
            ("stock list --limit 50 --json", ["stock", "list", "--limit", "50", "--json"], READ_BUDGET_MS),
            (f"stock list SKU --json ({f['sku_rows']} rows)", ["stock", "list", sku, "--json"], READ_BUDGET_MS),
            (f"stock list --at VAN --json ({f['van_rows']} rows)", ["stock", "list", "--at", f["van"], "--json"], READ_BUDGET_MS),
            (f"stock list --at WAREHOUSE --json ({f['warehouse_rows']:,} rows)",
             ["stock", "list", "--at", f["warehouse"], "--json"], READ_BUDGET_MS),
        ]
        rows: list[dict[str, Any]] = []
        for name, argv, budget in reads:
            log(f"[time] {name} ...")
            rows.append({"measure": name, "budget_ms": budget, **cli.timed(lambda i, a=argv: [tc, *a], env, runs)})
        writes: list[tuple[str, Any, float]] = [
            ("part need KEY SKU 1 --json", lambda i: [tc, "part", "need", keys[i], sku, "1", "--json"], WRITE_BUDGET_MS),
            ("part use KEY SKU 1 --json", lambda i: [tc, "part", "use", keys[i], sku, "1", "--json"], WRITE_BUDGET_MS),
            ("stock receive SKU 5 --at STORE --json",
             lambda i: [tc, "stock", "receive", sku, "5", "--at", f["store"], "--json"], WRITE_BUDGET_MS),
        ]
        for name, make, budget in writes:
            log(f"[time] {name} ...")
            rows.append({"measure": name, "budget_ms": budget, **cli.timed(make, env, runs)})
        out["rows"] = rows
    finally:
        os.chdir(cwd)
        shutil.rmtree(root / "venv-copy", ignore_errors=True)
        if args.home is None:
            shutil.rmtree(root, ignore_errors=True)
        elif not any(root.iterdir()):
            root.rmdir()

    if args.json:
        print(json.dumps(out, indent=2, default=str))
        return
    f = out["facts"]
    b = out["build"]
    types = ", ".join(f"{k.removeprefix('stock.')} {v:,}" for k, v in f["by_type"].items())
    print(f"parts bench (issue 26): {f['parts']:,} parts, {f['places']} places, {f['ledger_events']:,} ledger events "
          f"({types}), "
          f"{f['levels']:,} levels, {f['transfers']:,} transfers, {f['holds']:,} holds, {f['tickets']:,} tickets; "
          f"store {f['store_mb']} MB")
    print("store built in " + (f"{b['build_s']:.1f} s (demo backlog {b['demo_s']:.1f} s)" if b else f"an earlier run ({out['home']})"))
    print(f"measured: {out['measured']['describe']}")
    print(f"whole process, {runs} runs after {cli.WARMUP} warm-ups; SKU {f['sku']}, VAN {f['van']}, "
          f"WAREHOUSE {f['warehouse']}, STORE {f['store']}\n")
    print(f"{'measure':<52} {'median ms':>10} {'p90 ms':>8} {'budget ms':>10}  verdict")
    missed = 0
    for r in out["rows"]:
        ok = r["median_ms"] <= r["budget_ms"]
        missed += not ok
        print(f"{r['measure']:<52} {r['median_ms']:>10.0f} {r['p90_ms']:>8.0f} {r['budget_ms']:>10.0f}  {'met' if ok else 'MISSED'}")
    print("\nall budgets met" if not missed else f"\n{missed} budget(s) MISSED")


if __name__ == "__main__":
    main()

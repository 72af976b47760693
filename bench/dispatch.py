"""Dispatch and sweep benchmark (run by hand, not in CI).

    python bench/dispatch.py [--runs 5]

Budgets (issue: load-aware dispatch): ``dispatch auto`` for 10,000 unassigned
tickets over 1,000 technicians in <= 2 s of core time; ``sweep`` over 100,000
open tickets in <= 2 s.

* dispatch: a store with 1,000 technicians (3 of 12 skills each, 20 zones,
  capacity 3, some load) and 10,000 unassigned tickets (one required skill,
  random zone and priority) built through the product's own event fold. The core
  time is CPU time of ``core.dispatch.plan`` on the store's tickets and team
  (median of --runs); the whole ``ticketctl dispatch auto --dry-run --json``
  process is timed too, for what a dispatcher waits on.
* sweep: a store with 100,000 open tickets opened over the last three days
  (many breached, most in batchable groups), timed as whole ``ticketctl sweep
  --json`` processes: the first run, every catch-up run until the neglected
  backlog is swept (each acts on at most ``sweep.max_tickets``), and the steady
  state (the same minute again: nothing new, as cron sees it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from budget import print_rows, ticketctl

from ticketctl.core import workflow
from ticketctl.core.dispatch import plan
from ticketctl.core.model import HELD_STATUSES, Event, iso
from ticketctl.core.views import ticket_weight
from ticketctl.services.env import Env
from ticketctl.store.queries import list_tickets

NOW = "2026-03-04T10:00:00Z"
SKILLS = [f"skill{i:02d}" for i in range(12)]
ZONES = [f"zone{i:02d}" for i in range(20)]
PRIORITIES = ["urgent", "high", "medium", "medium", "medium", "low"]


def build(home: Path, n_techs: int, n_tickets: int, spread_days: float, seed: int = 1) -> None:
    """Technicians and open tickets written as events + projections, like `demo`."""
    env = Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "bench"})
    rng, st, cfg = random.Random(seed), env.store, env.config
    device, seq = st.meta("device_id"), int(st.meta("next_device_seq"))
    now = env.now
    events, tickets, techs = [], [], []

    def ev(key: str | None, typ: str, at: str, payload: dict) -> Event:
        nonlocal seq
        seq += 1
        e = Event(id=str(uuid.uuid4()), type=typ, at=at, actor="bench", device=device, device_seq=seq - 1,
                  mutation_id=str(uuid.uuid4()), ticket=key, payload=payload)
        events.append(e)
        return e

    t0 = iso(now - timedelta(days=spread_days + 1))
    for i in range(n_techs):
        p = {"name": f"tech{i:04d}", "skills": sorted(rng.sample(SKILLS, 3)), "zone": rng.choice(ZONES), "capacity": 3}
        techs.append(workflow.apply_tech(None, ev(None, "tech.added", t0, p), cfg))
    prefix = st.meta("key_prefix")
    for j in range(n_tickets):
        at = iso(now - timedelta(seconds=rng.uniform(0, spread_days * 86400)))
        skill = rng.choice(SKILLS)
        p = {"title": f"job {j}", "type": "repair", "dept": "ops", "product": skill, "fault": rng.choice(["leak", "noise"]),
             "skills": [skill], "zone": rng.choice(ZONES), "priority": rng.choice(PRIORITIES), "impact": "user"}
        tickets.append(workflow.apply(None, ev(f"{prefix}-{j + 1}", "ticket.created", at, p), cfg))
    with st.transaction():
        st.put_techs(techs)
        st.put_tickets(tickets)
        st.put_events(events)
        st.set_meta("next_device_seq", str(seq))
        st.set_meta("next_ticket_no", str(n_tickets + 1))
    env.close()


def timed(args: list[str], home: Path) -> float:
    return run(args, home)[0]


def run(args: list[str], home: Path) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    env.update(TICKETCTL_HOME=str(home), TICKETCTL_NOW=NOW, TICKETCTL_USER="bench")
    t0 = time.perf_counter()
    p = subprocess.run([ticketctl(), *args], capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        sys.exit(f"ticketctl {' '.join(args)} failed ({p.returncode}): {p.stderr[-300:]}")
    return dt, p.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="ticketctl-bench-") as tmp:
        home = Path(tmp) / "dispatch"
        t = time.perf_counter()
        build(home, 1000, 10_000, spread_days=0.5)
        print(f"built 1,000 technicians and 10,000 unassigned tickets in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        env = Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": NOW})
        st, cfg, now = env.store, env.config, env.now
        backlog = [(x, ticket_weight(x, cfg, now)) for x in list_tickets(st, cfg, now, ["new"], limit=None)]
        team, loads, active = st.techs(), st.loads(HELD_STATUSES), st.last_active()
        cpu = []
        for _ in range(args.runs):
            c0 = time.process_time()
            p = plan(backlog, team, loads, active, cfg, now)
            cpu.append(time.process_time() - c0)
        env.close()
        rows.append(("dispatch plan (core CPU)", statistics.median(cpu), 2.0,
                     f"{len(p.assigned)} assigned, {len(p.unassigned)} left (3,000 slots)"))
        whole = [timed(["dispatch", "auto", "--dry-run", "--json"], home) for _ in range(args.runs)]
        rows.append(("dispatch auto --dry-run (process)", statistics.median(whole), None, "what a dispatcher waits on"))

        home = Path(tmp) / "sweep"
        t = time.perf_counter()
        build(home, 200, 100_000, spread_days=3)
        print(f"built 100,000 open tickets in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        catch_up, actions = [], []
        while True:  # a neglected backlog: each run acts on at most sweep.max_tickets, most urgent first
            secs, out = run(["sweep", "--json"], home)
            r = json.loads(out)
            catch_up.append(secs)
            actions.append(len(r["actions"]))
            if not r["more"] or len(catch_up) > 200:
                break
        rows.append(("sweep, first run (process)", catch_up[0], 2.0, f"{actions[0]} actions"))
        rows.append(("sweep, slowest catch-up run (process)", max(catch_up), 2.0,
                     f"{len(catch_up)} runs, {sum(actions)} actions to sweep the whole backlog"))
        steady = [timed(["sweep", "--json"], home) for _ in range(args.runs)]
        rows.append(("sweep, steady state (process)", statistics.median(steady), 2.0, "same minute again: nothing new"))

    print_rows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reports benchmark (run by hand, not in CI).

    python bench/reports.py [--tickets 1000000] [--runs 5] [--skip-import]

Budgets (issue: heat maps, KPI reports and real-data import): on 1,000,000
tickets the heat map <= 0.5 s and the KPI report <= 2 s; importing the 101,045
event rows of the ServiceNow dev file <= 30 s.

* A store of --tickets tickets is written straight into the projection tables
  (tickets and their spans: 1 to 3 stretches of history each, ~20% still open,
  12 departments x 20 products x 10 faults, opened over 90 days). The reports
  only read projections, so no events are needed for what is timed here.
* Heat map: the service call (``services.heatmap.heatmap``) in-process, median
  of --runs, for "now" (tickets + covering index) and for a past moment (spans),
  plus the whole ``ticketctl report heatmap --json`` process.
* KPI: ``ticketctl report kpi --json`` whole process, median of --runs.
* Import: ``ticketctl import servicenow`` of the dev file into an empty home.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from budget import print_rows, ticketctl

from ticketctl.core.model import Ticket, iso
from ticketctl.services import heatmap
from ticketctl.services.env import Env

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
DEV_FILE = (Path(__file__).resolve().parents[2] / "shared/data/servicenow_incident_event_log"
            / "incident_event_log_dev_2016-02-29_to_2016-04-30.csv.gz")


def build(home: Path, n: int, seed: int = 1) -> None:
    env = Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": iso(NOW)})
    st, rng = env.store, random.Random(seed)
    depts = [f"dept{i:02d}" for i in range(12)]
    products = [f"product{i:02d}" for i in range(20)]
    faults = [f"fault{i:02d}" for i in range(10)]
    chunk_t, chunk_s = [], []
    with st.transaction():
        for i in range(n):
            created = NOW - timedelta(seconds=rng.uniform(0, 90 * 86400))
            c = iso(created)
            dept, product, fault = rng.choice(depts), rng.choice(products), rng.choice(faults)
            open_ = rng.random() < 0.2
            status = rng.choice(("new", "assigned", "in_progress", "blocked")) if open_ else "closed"
            moved = iso(created + (NOW - created) * rng.uniform(0.1, 0.9))
            t = Ticket(key=f"BEN-{i + 1}", title="x", type="repair", dept=dept, product=product, fault=fault,
                       created_at=c, updated_at=moved, status=status, status_since=moved, priority="medium")
            chunk_t.append(t)
            chunk_s.append((t.key, c, moved, "new", dept, product, fault, c))
            chunk_s.append((t.key, moved, None, status, dept, product, fault, c))
            if len(chunk_t) >= 20000:
                st.put_tickets(chunk_t)
                st.put_spans(chunk_s)
                chunk_t, chunk_s = [], []
        st.put_tickets(chunk_t)
        st.put_spans(chunk_s)
    st.db.execute("ANALYZE")
    env.close()


def timed(args: list[str], home: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    env.update(TICKETCTL_HOME=str(home), TICKETCTL_NOW=iso(NOW))
    t0 = time.perf_counter()
    p = subprocess.run([ticketctl(), *args], capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"ticketctl {' '.join(args)} failed ({p.returncode}): {p.stderr[-300:]}")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-import", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="ticketctl-bench-") as tmp:
        home = Path(tmp) / "big"
        t = time.perf_counter()
        build(home, args.tickets)
        print(f"built {args.tickets:,} tickets in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        env = Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": iso(NOW)})
        for label, at in (("now", None), ("past moment (spans)", NOW - timedelta(days=20))):
            secs = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                hm = heatmap.heatmap(env, ("dept", "product"), at)
                secs.append(time.perf_counter() - t0)
            rows.append((f"heat map {label}, query", statistics.median(secs), 0.5, f"{hm['total']:,} open, {len(hm['cells'])} cells"))
        env.close()
        whole = [timed(["report", "heatmap", "--json"], home) for _ in range(args.runs)]
        rows.append(("heat map now, whole process", statistics.median(whole), None, ""))
        kpi = [timed(["report", "kpi", "--json"], home) for _ in range(args.runs)]
        rows.append(("KPI report, whole process", statistics.median(kpi), 2.0, "last 30 days"))
        if not args.skip_import and DEV_FILE.exists():
            t0 = time.perf_counter()
            timed(["import", "servicenow", str(DEV_FILE), "--json"], Path(tmp) / "import")
            rows.append(("import servicenow (101,045 rows)", time.perf_counter() - t0, 30.0, DEV_FILE.name))
    print_rows(rows, digits=3)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Team import benchmark: an import on one device reaching the server and a second device (run by hand).

    python bench/team_import.py [--runs 3] [--backends sqlite,pg] [--pg-url postgresql://postgres@127.0.0.1:5432/test]
                                [--file PATH]

Budget (team-operations issue): the 101k-row ServiceNow dev log
(``../shared/data/servicenow_incident_event_log/incident_event_log_dev_2016-02-29_to_2016-04-30.csv.gz``:
101,045 rows, 17,136 incidents, 118,804 events) imported on device A reaches the server and a second
device B in <= 60 s. Measured per run, whole processes, as a dispatcher would wait on them:

1. ``ticketctl import servicenow FILE --json`` on A, a synced dispatcher's device: the local import,
   its search index, then the sync that uploads the history (``POST /sync/history``) and confirms it;
2. then ``ticketctl sync --json`` on B, a synced supervisor's device, which pulls every event and folds
   the 17,136 tickets with their timelines.

The figure is (1) + (2), from the start of the import to B holding every ticket; (1) and (2) are
printed too. Each run: a fresh ``ticketctl server run`` subprocess on a free loopback port (SQLite:
its own file; PostgreSQL: a throwaway database ``bench_team_import``, created and dropped here), fresh
homes for A and B (``sync setup`` and a first sync untimed). Checks after each run: the server holds
the 118,804 events and 17,136 tickets, and B's tickets equal A's. Median of --runs.

Progress goes to stderr, the table to stdout; the exit code is 1 only if something fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sync_helpers import Server  # noqa: E402

DEV_LOG = (Path(__file__).resolve().parents[2] / "shared" / "data" / "servicenow_incident_event_log"
           / "incident_event_log_dev_2016-02-29_to_2016-04-30.csv.gz")
BUDGET_S = 60.0


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def pg_database(admin_url: str, name: str, drop_only: bool = False) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            c.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def device(srv: Server, root: Path, name: str, role: str) -> dict[str, str]:
    env = {**os.environ, "TICKETCTL_HOME": str(root / f"dev-{name}"), "TICKETCTL_USER": name}
    env.pop("TICKETCTL_NOW", None)
    subprocess.run(["ticketctl", "sync", "setup", srv.url, "--token", srv.token(name, role)], env=env, check=True,
                   capture_output=True)
    subprocess.run(["ticketctl", "sync"], env=env, check=True, capture_output=True)
    return env


def tickets_of(env: dict[str, str]) -> list[tuple[str, str, str | None]]:
    import sqlite3

    db = sqlite3.connect(Path(env["TICKETCTL_HOME"]) / "ticketctl.db")
    try:
        return db.execute("SELECT key, status, assignee FROM tickets ORDER BY key").fetchall()
    finally:
        db.close()


def one_run(backend: str, pg_url: str, file: Path) -> tuple[float, float]:
    root = Path(tempfile.mkdtemp(prefix="ticketctl-team-import-"))
    db = pg_database(pg_url, "bench_team_import") if backend == "pg" else None
    srv = Server(root, db).start()
    try:
        a = device(srv, root, "ana", "dispatcher")
        b = device(srv, root, "ben", "supervisor")
        t0 = time.perf_counter()
        r = subprocess.run(["ticketctl", "import", "servicenow", str(file), "--json"], env=a, capture_output=True, text=True)
        t1 = time.perf_counter()
        if r.returncode != 0:
            raise RuntimeError(f"import failed: {r.stderr}")
        s = json.loads(r.stdout)
        if s["team"] is None or s["team"]["error"] or s["team"]["shared"] != s["events"]:
            raise RuntimeError(f"the import did not reach the server: {s['team']}")
        r = subprocess.run(["ticketctl", "sync", "--json"], env=b, capture_output=True, text=True)
        t2 = time.perf_counter()
        if r.returncode != 0:
            raise RuntimeError(f"B's sync failed: {r.stderr}")
        pulled = json.loads(r.stdout)["pulled"]
        if pulled != s["events"] or tickets_of(a) != tickets_of(b):
            raise RuntimeError(f"B pulled {pulled} of {s['events']} events, or its tickets differ from A's")
        say(f"  {backend}: import+share {t1 - t0:.1f} s, second device {t2 - t1:.1f} s ({s['events']:,} events,"
            f" {s['tickets_new']:,} tickets)")
        return t1 - t0, t2 - t1
    finally:
        srv.kill()
        shutil.rmtree(root, ignore_errors=True)
        if db is not None:
            pg_database(pg_url, "bench_team_import", drop_only=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--backends", default="sqlite,pg")
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--file", type=Path, default=DEV_LOG)
    args = ap.parse_args()
    if not args.file.exists():
        say(f"bench/team_import.py: {args.file} not found (the shared data folder)")
        return 1
    rows = []
    for backend in args.backends.split(","):
        say(f"{backend}: {args.runs} runs")
        runs = [one_run(backend, args.pg_url, args.file) for _ in range(args.runs)]
        a = statistics.median(x for x, _ in runs)
        b = statistics.median(y for _, y in runs)
        total = statistics.median(x + y for x, y in runs)
        rows.append((backend, a, b, total))
    print(f"{'server':<8} {'import+share (A)':>17} {'sync (B)':>9} {'total':>8} {'budget':>7}  verdict")
    for backend, a, b, total in rows:
        print(f"{backend:<8} {a:>15.1f} s {b:>7.1f} s {total:>6.1f} s {BUDGET_S:>5.0f} s  "
              f"{'met' if total <= BUDGET_S else 'MISSED'}")
    load = os.getloadavg()
    print(f"median of {args.runs} runs; load average at the end {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} on"
          f" {os.cpu_count()} cores (other work on the machine slows every figure)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

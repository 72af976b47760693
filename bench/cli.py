"""Whole-process CLI benchmark for ticketctl (run by hand, not in CI).

    python bench/cli.py [--sizes 1000,10000,100000] [--runs 15] [--json]

What is measured, and how:

* For each size N a store is built in its own temporary TICKETCTL_HOME by the
  product's own generator, ``ticketctl demo --tickets N --techs M --seed 1``
  with M = max(20, N // 500); the build's wall time is printed (budget: 100k
  tickets in under 60 s).
* Each command is run as a separate process with the installed ``ticketctl``
  (the one next to sys.executable, else the one on PATH), stdout and stderr
  captured, and timed with time.perf_counter() around subprocess.run(). That is
  what a user waits for: interpreter start, imports, opening the store, the
  work, the output. Each command gets 2 untimed warm-up runs, then --runs timed
  runs; median and p90 (nearest rank) are reported.
    list   ticketctl list --limit 50 --json
    show   ticketctl show KEY --json        (KEY: first ticket of list --json)
    new    ticketctl new TITLE --type repair --dept facilities --product hvac
           --priority high --json
    start  ticketctl start KEY              (a different ticket each run: runs+2
           tickets are created with `new` and assigned to `benchtech`, a
           technician added with --capacity 1000, beforehand, untimed)
  All runs use TICKETCTL_USER=benchtech; other TICKETCTL_* variables are dropped.
* Startup share: the same timing of ``python -c pass`` (interpreter alone) and
  ``python -c "import ticketctl.cli"`` (interpreter + imports), reported as a
  share of each command's median; plus the top 5 modules by cumulative import
  time from ``python -X importtime``.
* Budgets (set for 100k, applied to every size): list, show <= 300 ms median;
  new, start <= 400 ms. A miss is printed clearly but the exit code stays 0:
  this is a measurement. A command that fails exits 1.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_MS = {"list": 300, "show": 300, "new": 400, "start": 400}
BUILD_BUDGET_S = {100_000: 60.0}
WARMUP = 2
USER = "benchtech"
NEW_ARGS = ["--type", "repair", "--dept", "facilities", "--product", "hvac", "--priority", "high"]
TASKWARRIOR = ("For scale: Taskwarrior 2.6 takes ~0.5 s to list 10k tasks and 7.8 s for 100k on this "
               "machine; the aim is 20x better at 100k, i.e. <= 0.39 s.")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def find_ticketctl() -> str:
    here = Path(sys.executable).parent / "ticketctl"
    found = str(here) if here.exists() else shutil.which("ticketctl")
    if not found:
        sys.exit("bench: no ticketctl next to sys.executable nor on PATH (install the project first)")
    return found


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run one process; return (wall seconds, stdout). Exit 1 if it fails."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        log(f"bench: command failed (exit {p.returncode}): {' '.join(cmd)}\n{p.stderr.strip()}")
        sys.exit(1)
    return elapsed, p.stdout


def timed(make_cmd, env: dict[str, str], runs: int) -> dict[str, float]:
    """2 warm-ups, then `runs` timed runs; make_cmd(i) gives the i-th command line."""
    for i in range(WARMUP):
        run(make_cmd(i), env)
    ms = sorted(run(make_cmd(WARMUP + i), env)[0] * 1000 for i in range(runs))
    return {"median_ms": statistics.median(ms), "p90_ms": ms[math.ceil(0.9 * len(ms)) - 1],
            "min_ms": ms[0], "max_ms": ms[-1]}


def importtime_top(python: str, env: dict[str, str], n: int = 5) -> list[dict[str, object]]:
    p = subprocess.run([python, "-X", "importtime", "-c", "import ticketctl.cli"],
                       env=env, capture_output=True, text=True)
    rows = []
    for line in p.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append({"module": parts[2].strip(), "cumulative_ms": int(parts[1]) / 1000})
    return sorted(rows, key=lambda r: -r["cumulative_ms"])[:n]


def bench_size(tc: str, size: int, runs: int, base_env: dict[str, str], root: Path) -> dict:
    home = root / f"store-{size}"
    env = dict(base_env, TICKETCTL_HOME=str(home))
    techs = max(20, size // 500)
    log(f"[{size}] building: ticketctl demo --tickets {size} --techs {techs} --seed 1 ...")
    build_s, _ = run([tc, "demo", "--tickets", str(size), "--techs", str(techs), "--seed", "1"], env)
    db_mb = (home / "ticketctl.db").stat().st_size / 1e6
    log(f"[{size}] built in {build_s:.2f} s ({db_mb:.1f} MB store)")

    run([tc, "tech", "add", USER, "--capacity", "1000"], env)
    key = json.loads(run([tc, "list", "--limit", "1", "--json"], env)[1])[0]["key"]
    to_start = []
    for i in range(runs + WARMUP):
        new_key = json.loads(run([tc, "new", f"bench start {i}", *NEW_ARGS, "--json"], env)[1])["key"]
        run([tc, "assign", new_key, USER], env)
        to_start.append(new_key)

    cmds = {
        "list": lambda i: [tc, "list", "--limit", "50", "--json"],
        "show": lambda i: [tc, "show", key, "--json"],
        "new": lambda i: [tc, "new", f"bench new {i}", *NEW_ARGS, "--json"],
        "start": lambda i: [tc, "start", to_start[i]],
    }
    results = {}
    for name, make in cmds.items():
        results[name] = timed(make, env, runs)
        log(f"[{size}] {name:<5} median {results[name]['median_ms']:.1f} ms")
    shutil.rmtree(home, ignore_errors=True)  # free the disk before the next size
    budget = BUILD_BUDGET_S.get(size)
    return {"size": size, "techs": techs, "build_s": build_s, "store_mb": db_mb, "show_key": key,
            "build_budget_s": budget, "build_met": None if budget is None else build_s <= budget,
            "commands": results}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000", help="comma-separated ticket counts")
    ap.add_argument("--runs", type=int, default=15, help="timed runs per command (after 2 warm-ups)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.runs < 1 or not sizes:
        ap.error("need --runs >= 1 and at least one size")

    tc, python = find_ticketctl(), sys.executable
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    base_env["TICKETCTL_USER"] = USER
    root = Path(tempfile.mkdtemp(prefix="ticketctl-bench-"))
    try:
        base_env["TICKETCTL_HOME"] = str(root / "startup")  # never touch the user's real store
        log(f"ticketctl: {tc}\npython:    {python}\nstartup: python -c pass / import ticketctl.cli ...")
        startup = {"python_pass": timed(lambda i: [python, "-c", "pass"], base_env, args.runs),
                   "import_cli": timed(lambda i: [python, "-c", "import ticketctl.cli"], base_env, args.runs),
                   "importtime_top5": importtime_top(python, base_env)}
        sizes_out = [bench_size(tc, n, args.runs, base_env, root) for n in sizes]
    finally:
        shutil.rmtree(root, ignore_errors=True)

    pass_ms = startup["python_pass"]["median_ms"]
    import_ms = startup["import_cli"]["median_ms"]
    rows, misses = [], []
    for s in sizes_out:
        for name, r in s["commands"].items():
            row = {"size": s["size"], "command": name, "median_ms": round(r["median_ms"], 1),
                   "p90_ms": round(r["p90_ms"], 1), "budget_ms": BUDGET_MS[name],
                   "met": r["median_ms"] <= BUDGET_MS[name],
                   "interpreter_share": round(pass_ms / r["median_ms"], 3),
                   "startup_imports_share": round(import_ms / r["median_ms"], 3)}
            rows.append(row)
            if not row["met"]:
                misses.append(f"{name} at {s['size']}: median {row['median_ms']} ms > {row['budget_ms']} ms")
        if s["build_met"] is False:
            misses.append(f"demo build at {s['size']}: {s['build_s']:.1f} s > {s['build_budget_s']:.0f} s")

    if args.json:
        print(json.dumps({"ticketctl": tc, "python": python, "runs": args.runs, "warmups": WARMUP,
                          "budgets_ms": BUDGET_MS, "startup": startup, "builds": sizes_out,
                          "results": rows, "misses": misses, "reference": TASKWARRIOR}, indent=2))
        return 0

    print("\nStore builds (ticketctl demo --seed 1):")
    for s in sizes_out:
        verdict = "" if s["build_met"] is None else \
            f"  budget {s['build_budget_s']:.0f} s: {'met' if s['build_met'] else 'MISSED'}"
        print(f"  {s['size']:>7} tickets, {s['techs']:>3} techs: {s['build_s']:6.2f} s"
              f"  ({s['store_mb']:.1f} MB){verdict}")
    print(f"\nStartup ({args.runs} runs, median): python -c pass {pass_ms:.1f} ms; "
          f"python -c 'import ticketctl.cli' {import_ms:.1f} ms (imports alone {import_ms - pass_ms:.1f} ms)")
    print("  top 5 by cumulative import time (-X importtime, one run):")
    for m in startup["importtime_top5"]:
        print(f"    {m['cumulative_ms']:8.1f} ms  {m['module']}")

    print(f"\nWhole-process wall time, {args.runs} runs after {WARMUP} warm-ups "
          f"('startup' = share of the median spent in interpreter start + imports):")
    head = f"{'size':>7}  {'command':<7} {'median ms':>9} {'p90 ms':>8} {'budget ms':>9}  {'verdict':<7} {'startup':>7}"
    print(head + "\n" + "-" * len(head))
    for r in rows:
        print(f"{r['size']:>7}  {r['command']:<7} {r['median_ms']:>9.1f} {r['p90_ms']:>8.1f} "
              f"{r['budget_ms']:>9}  {'met' if r['met'] else 'MISSED':<7} {r['startup_imports_share']:>7.0%}")
    print("\n" + TASKWARRIOR)
    if misses:
        print(f"\nMISSED {len(misses)} budget(s):")
        for m in misses:
            print(f"  MISSED  {m}")
    else:
        print("\nAll budgets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

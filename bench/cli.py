"""Whole-process CLI benchmark for ticketctl, side by side with Taskwarrior (run by hand, not in CI).

    python bench/cli.py [--sizes 1000,10000,100000] [--runs 15] [--quick] [--installed] [--no-task] [--json]

What is measured, and how:

* For each size N a store is built in its own temporary TICKETCTL_HOME by the
  product's own generator, ``ticketctl demo --tickets N --techs M --seed 1 --lang en --json``
  with M = max(20, N // 500); the build's wall time is printed (budget: 100k
  tickets in under 60 s).
* Each command is run as a separate process, stdout and stderr captured, and
  timed with time.perf_counter() around subprocess.run(). That is what a user
  waits for: interpreter start, imports, opening the store, the work, the
  output. Each command gets 2 untimed warm-up runs, then --runs timed runs;
  median and p90 (nearest rank) are reported.
    list   ticketctl list --limit 50 --json
    show   ticketctl show KEY --json        (KEY: first ticket of list --json)
    mine   ticketctl mine --json            (as `benchmine`, who holds 12 tickets
           of the demo's unassigned backlog, assigned beforehand, untimed)
    new    ticketctl new TITLE --type repair --dept facilities --product hvac
           --priority high --json
    start  ticketctl start KEY              (a different ticket each run: runs+2
           tickets are created with `new` and assigned to `benchtech`, a
           technician added with --capacity 1000, beforehand, untimed)
    note   ticketctl note KEY TEXT          (KEY as for show)
  All runs use TICKETCTL_USER=benchtech (mine: benchmine); other TICKETCTL_*
  variables are dropped; every process runs in the bench's temp directory.
  ``ticketctl --help`` and ``ticketctl list --help`` are timed once (budget 150 ms).
* What is measured: users run ``pip install .``; an editable install
  (``pip install -e .``) adds ~20 ms to every start through its import finder.
  So when the installed ticketctl is editable (an ``__editable__*`` .pth or
  finder, or an .egg-link, in its site-packages) the bench measures a throwaway
  non-editable copy instead: a venv made with ``python -m venv --without-pip``
  whose site-packages holds a copy of the package directory (``__pycache__``
  left out, locale .mo files included), a .pth listing the installed venv's
  site-packages for the dependencies, and a bin/ticketctl script like pip's.
  A run checks that it imports the copy. ``--installed`` measures the installed
  script as is. The copy is a snapshot of the source at the start of the run.
* Taskwarrior in the same run, when ``task`` is installed (else its columns say
  "not installed"): per size, a task store of N tasks, one per demo ticket (its
  title and zone as description, dept.product as project, type and fault as
  tags, priority urgent/high -> H, medium -> M, low -> L; in_progress tickets are
  started, blocked ones tagged +blocked with an annotation), the open tickets
  (new, assigned, in_progress, blocked) pending and the others completed, so the
  pending share equals the ticketctl store's. It is built with one
  ``task import`` of a JSON array into its own TASKDATA, with its own TASKRC
  (confirmation=off, color=off, hooks=off, json.array=on; verbosity, gc and
  everything else as a user has them by default) and HOME, never ~/.task; ``task
  status:pending count`` and ``task status:completed count`` are checked. Pairs:
    list   task limit:50 list
    show   task ID info                     (closest read to show)
    mine   task project:P list              (P: the project whose pending count is
           closest to mine's 12 tickets: a filtered read of about as many rows)
    new    task add TEXT project:facilities.hvac priority:H +repair
    start  task ID start                    (a different pending task each run)
    note   task ID annotate TEXT            (ID as for show)
  The two tools' runs alternate per command (warm-ups A B A B, then timed A B
  A B ...) so machine noise hits both alike. Ratio = ticketctl median / task
  median; target <= 0.6x at 10k and <= 0.1x at 100k (none at other sizes).
* Startup share: the same timing of ``python -c pass`` (interpreter alone) and
  ``python -c "import ticketctl.cli"`` (interpreter + imports) with the measured
  install's python, reported as a share of each command's median; plus the top 5
  modules by cumulative import time from ``python -X importtime``.
* Budgets (set for 100k, applied to every size): list, show, mine <= 300 ms
  median; new, start, note <= 400 ms; --help <= 150 ms. A miss (budget or ratio)
  is printed clearly but the exit code stays 0: this is a measurement. A command
  that fails exits 1.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

BUDGET_MS = {"list": 300, "show": 300, "mine": 300, "new": 400, "start": 400, "note": 400}
HELP_BUDGET_MS = 150
BUILD_BUDGET_S = {100_000: 60.0}
RATIO_TARGET = {10_000: 0.6, 100_000: 0.1}  # ticketctl median / Taskwarrior median, same run
WARMUP = 2
USER = "benchtech"
MINE_USER = "benchmine"
MINE_TICKETS = 12  # a technician's realistic load
QUICK_SIZES, QUICK_RUNS = "1000,10000", 7
NEW_ARGS = ["--type", "repair", "--dept", "facilities", "--product", "hvac", "--priority", "high"]
OPEN_STATUSES = ("new", "assigned", "in_progress", "blocked")  # pending in the task store; the rest completed
TASK_PRIORITY = {"urgent": "H", "high": "H", "medium": "M", "low": "L"}
TASKRC = "data.location={data}\nconfirmation=off\ncolor=off\nhooks=off\njson.array=on\n"
TASK_NEW_ARGS = ["project:facilities.hvac", "priority:H", "+repair"]
TASKWARRIOR = ("For scale (measured by hand earlier, when `task` is not installed): Taskwarrior 2.6 takes ~0.5 s "
               "to list 10k tasks and 7.8 s for 100k on this machine; the aim is 20x better at 100k, i.e. <= 0.39 s.")

Cmd = Callable[[int], list[str]]


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


def summary(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {"median_ms": statistics.median(ms), "p90_ms": ms[math.ceil(0.9 * len(ms)) - 1],
            "min_ms": ms[0], "max_ms": ms[-1]}


def timed_interleaved(jobs: list[tuple[Cmd, dict[str, str]]], runs: int) -> list[dict[str, float]]:
    """2 warm-ups each, then `runs` timed runs each, the jobs alternating (A B A B ...) so that
    machine noise hits them alike; make_cmd(i) gives the i-th command line of a job."""
    for i in range(WARMUP):
        for make_cmd, env in jobs:
            run(make_cmd(i), env)
    ms: list[list[float]] = [[] for _ in jobs]
    for i in range(runs):
        for k, (make_cmd, env) in enumerate(jobs):
            ms[k].append(run(make_cmd(WARMUP + i), env)[0] * 1000)
    return [summary(m) for m in ms]


def timed(make_cmd: Cmd, env: dict[str, str], runs: int) -> dict[str, float]:
    """2 warm-ups, then `runs` timed runs; make_cmd(i) gives the i-th command line."""
    return timed_interleaved([(make_cmd, env)], runs)[0]


def importtime_top(python: str, env: dict[str, str], n: int = 5) -> list[dict[str, object]]:
    p = subprocess.run([python, "-X", "importtime", "-c", "import ticketctl.cli"],
                       env=env, capture_output=True, text=True)
    rows: list[tuple[float, str]] = []
    for line in p.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]) / 1000, parts[2].strip()))
    return [{"module": m, "cumulative_ms": ms} for ms, m in sorted(rows, key=lambda r: -r[0])[:n]]


# --- what is measured: the installed script, or a non-editable copy of it -------------------------

def script_python(script: str) -> str:
    """The interpreter a console script runs with (its shebang), else this one."""
    first = Path(script).read_text(errors="replace").split("\n", 1)[0]
    if first.startswith("#!") and " " not in first[2:].strip():
        return first[2:].strip()
    return sys.executable


def probe(python: str, code: str, env: dict[str, str]) -> Any:
    p = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench: probing {python} failed:\n{p.stderr.strip()}")
    return json.loads(p.stdout)


PROBE_INSTALL = """import importlib.metadata as md, importlib.util, json, sysconfig
spec = importlib.util.find_spec("ticketctl")
eps = [e.value for e in md.entry_points(group="console_scripts") if e.name == "ticketctl"]
print(json.dumps({"purelib": sysconfig.get_paths()["purelib"], "pkg": list(spec.submodule_search_locations)[0],
                  "entry_point": eps[0] if eps else "ticketctl.cli:run"}))"""
PROBE_COPY = """import json, sys, ticketctl
print(json.dumps({"file": ticketctl.__file__, "editable_finder": sorted(m for m in sys.modules if "editable" in m)}))"""
PIP_SCRIPT = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from {module} import {attr}
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit({attr}())
"""


def editable_marker(purelib: Path) -> str | None:
    """Name of what makes the installed ticketctl editable, if anything does."""
    for pattern in ("__editable__*ticketctl*", "ticketctl*.egg-link"):
        found = sorted(purelib.glob(pattern))
        if found:
            return found[0].name
    for direct_url in purelib.glob("ticketctl-*.dist-info/direct_url.json"):
        if json.loads(direct_url.read_text()).get("dir_info", {}).get("editable"):
            return str(direct_url.relative_to(purelib))
    return None


def non_editable_copy(python: str, info: dict, root: Path, env: dict[str, str]) -> tuple[str, str, dict]:
    """A throwaway venv that imports a plain copy of the package, as `pip install .` would leave it.
    Returns (bin/ticketctl, bin/python, facts); exits 1 if the copy does not import itself."""
    venv = root / "venv-copy"
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    vpy = venv / "bin" / "python"
    purelib = Path(probe(str(vpy), 'import json, sysconfig; print(json.dumps(sysconfig.get_paths()["purelib"]))', env))
    (purelib / "bench-deps.pth").write_text(info["purelib"] + "\n")  # dependencies; its .pth files are not run
    shutil.copytree(info["pkg"], purelib / "ticketctl", ignore=shutil.ignore_patterns("__pycache__"))
    # byte-compiled, as `pip install .` leaves it (and the timed processes may write .pyc: see main)
    subprocess.run([str(vpy), "-m", "compileall", "-q", str(purelib / "ticketctl")], check=True, capture_output=True)
    module, _, attr = info["entry_point"].partition(":")
    script = venv / "bin" / "ticketctl"
    script.write_text(PIP_SCRIPT.format(python=vpy, module=module, attr=attr or "main"))
    script.chmod(0o755)
    got = probe(str(vpy), PROBE_COPY, env)
    if not Path(got["file"]).is_relative_to(purelib) or got["editable_finder"]:
        sys.exit(f"bench: the copy imports {got['file']} (editable finder: {got['editable_finder']}), not {purelib}")
    run([str(script), "--help"], env)
    mo = len(list((purelib / "ticketctl").rglob("*.mo")))
    return str(script), str(vpy), {"copy_of": info["pkg"], "imports": got["file"], "mo_files": mo}


def choose_install(installed_script: str, as_is: bool, root: Path, env: dict[str, str]) -> tuple[str, str, dict]:
    """(ticketctl script, its python, what was measured)."""
    python = script_python(installed_script)
    info = probe(python, PROBE_INSTALL, env)
    marker = editable_marker(Path(info["purelib"]))
    facts: dict[str, object] = {"installed": installed_script, "editable": marker}
    if as_is or marker is None:
        why = "--installed" if as_is else "not editable"
        facts.update(mode="installed", why=why)
        facts["describe"] = f"the installed script as is ({why}): {installed_script}"
        return installed_script, python, facts
    script, vpy, more = non_editable_copy(python, info, root, env)
    facts.update(mode="copy", **more)
    facts["describe"] = (f"a non-editable copy of {info['pkg']} in {Path(script).parent.parent} (the installed "
                         f"ticketctl is editable: {marker}; --installed measures it as is); imports {more['imports']}, "
                         f"{more['mo_files']} .mo files copied")
    return script, vpy, facts


# --- Taskwarrior --------------------------------------------------------------------------------

def tw_time(iso: str) -> str:
    return iso.replace("-", "").replace(":", "")  # 2026-11-02T16:59:37Z -> 20261102T165937Z


def tasks_like_tickets(db: Path, seed: int) -> list[dict]:
    """One task per ticket of the demo store, pending if the ticket is open, else completed."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT title, type, dept, product, fault, priority, status, zone, created_at, updated_at,"
                           " closed_at, resolved_at, status_since, blocked_reason FROM tickets"
                           " ORDER BY created_at, key").fetchall()
    finally:
        con.close()
    rng = random.Random(seed)
    tasks = []
    for (title, typ, dept, product, fault, priority, status, zone, created, updated, closed, resolved,
         since, reason) in rows:
        task: dict[str, Any] = {"uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "description": f"{title}, {zone}",
                "status": "pending" if status in OPEN_STATUSES else "completed", "entry": tw_time(created),
                "modified": tw_time(updated), "project": f"{dept}.{product}", "tags": sorted({typ, fault}),
                "priority": TASK_PRIORITY.get(priority, "M")}
        if task["status"] == "completed":
            task["end"] = tw_time(closed or resolved or updated)
        elif status == "in_progress":
            task["start"] = tw_time(since or updated)
        elif status == "blocked":
            task["tags"].append("blocked")
            task["annotations"] = [{"entry": tw_time(since or updated), "description": f"blocked: {reason}"}]
        tasks.append(task)
    return tasks


def task_base_env(task_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TICKETCTL_", "TASK"))}
    env.update(TASKRC=str(task_dir / "taskrc"), TASKDATA=str(task_dir / "data"), HOME=str(task_dir))
    return env


def build_task_store(task: str, db: Path, size: int, runs: int, root: Path) -> dict:
    """N tasks like the N tickets, one `task import`; checked with `task count`. Returns env, ids, facts."""
    task_dir = root / f"task-{size}"
    (task_dir / "data").mkdir(parents=True)
    (task_dir / "taskrc").write_text(TASKRC.format(data=task_dir / "data"))
    env = task_base_env(task_dir)
    tasks = tasks_like_tickets(db, seed=size)
    pending = sum(t["status"] == "pending" for t in tasks)
    (task_dir / "import.json").write_text(json.dumps(tasks))
    log(f"[{size}] building the task store: task import of {len(tasks)} tasks ({pending} pending) ...")
    build_s, _ = run([task, "import", str(task_dir / "import.json")], env)
    got = {st: int(run([task, f"status:{st}", "count"], env)[1].strip()) for st in ("pending", "completed")}
    if got != {"pending": pending, "completed": len(tasks) - pending} or len(tasks) != size:
        sys.exit(f"bench: the task store holds {got}, expected {size} tasks of which {pending} pending")
    ids = [int(x) for x in run([task, "+PENDING", "-ACTIVE", "_ids"], env)[1].split()]
    if len(ids) < runs + WARMUP + 1:
        sys.exit(f"bench: only {len(ids)} pending tasks to start at {size}; need {runs + WARMUP + 1}")
    by_project = Counter(t["project"] for t in tasks if t["status"] == "pending")
    project = min(sorted(by_project), key=lambda p: abs(by_project[p] - MINE_TICKETS))
    log(f"[{size}] task store built in {build_s:.2f} s: {got['pending']} pending, {got['completed']} completed")
    return {"env": env, "show_id": ids[0], "start_ids": ids[-(runs + WARMUP):], "mine_project": project,
            "facts": {"tasks": size, "pending": got["pending"], "completed": got["completed"], "build_s": build_s,
                      "mine_project": project, "mine_project_pending": by_project[project]}}


def task_pairs(task: str, tw: dict) -> dict[str, tuple[str, Cmd]]:
    """The Taskwarrior command each ticketctl command is compared with: (label, make_cmd)."""
    show, starts, project = str(tw["show_id"]), tw["start_ids"], tw["mine_project"]
    return {
        "list": ("task limit:50 list", lambda i: [task, "limit:50", "list"]),
        "show": (f"task {show} info", lambda i: [task, show, "info"]),
        "mine": (f"task project:{project} list", lambda i: [task, f"project:{project}", "list"]),
        "new": ("task add TEXT " + " ".join(TASK_NEW_ARGS), lambda i: [task, "add", f"bench new {i}", *TASK_NEW_ARGS]),
        "start": ("task ID start", lambda i: [task, str(starts[i]), "start"]),
        "note": (f"task {show} annotate TEXT", lambda i: [task, show, "annotate", f"bench note {i}"]),
    }


def bench_size(tc: str, size: int, runs: int, base_env: dict[str, str], root: Path, task: str | None) -> dict:
    home = root / f"store-{size}"
    env = dict(base_env, TICKETCTL_HOME=str(home))
    techs = max(20, size // 500)
    log(f"[{size}] building: ticketctl demo --tickets {size} --techs {techs} --seed 1 --json ...")
    build_s, out = run([tc, "demo", "--tickets", str(size), "--techs", str(techs), "--seed", "1", "--lang", "en", "--json"], env)
    demo = json.loads(out)
    db_mb = (home / "ticketctl.db").stat().st_size / 1e6
    log(f"[{size}] built in {build_s:.2f} s ({db_mb:.1f} MB store, {demo['open']} open tickets)")
    tw = build_task_store(task, home / "ticketctl.db", size, runs, root) if task else None
    if tw and tw["facts"]["pending"] != demo["open"]:
        sys.exit(f"bench: {tw['facts']['pending']} pending tasks but {demo['open']} open tickets at {size}")

    run([tc, "tech", "add", USER, "--capacity", "1000"], env)
    run([tc, "tech", "add", MINE_USER, "--capacity", "1000"], env)
    mine_env = dict(env, TICKETCTL_USER=MINE_USER)
    for t in json.loads(run([tc, "list", "--status", "new", "--limit", str(MINE_TICKETS), "--json"], env)[1]):
        run([tc, "assign", t["key"], MINE_USER], env)
    mine_count = len(json.loads(run([tc, "mine", "--json"], mine_env)[1]))
    key = json.loads(run([tc, "list", "--limit", "1", "--json"], env)[1])[0]["key"]
    to_start = []
    for i in range(runs + WARMUP):
        new_key = json.loads(run([tc, "new", f"bench start {i}", *NEW_ARGS, "--json"], env)[1])["key"]
        run([tc, "assign", new_key, USER], env)
        to_start.append(new_key)

    cmds: dict[str, tuple[Cmd, dict[str, str]]] = {
        "list": (lambda i: [tc, "list", "--limit", "50", "--json"], env),
        "show": (lambda i: [tc, "show", key, "--json"], env),
        "mine": (lambda i: [tc, "mine", "--json"], mine_env),
        "new": (lambda i: [tc, "new", f"bench new {i}", *NEW_ARGS, "--json"], env),
        "start": (lambda i: [tc, "start", to_start[i]], env),
        "note": (lambda i: [tc, "note", key, f"bench note {i}"], env),
    }
    pairs = task_pairs(task, tw) if task and tw else {}
    task_env = tw["env"] if tw else {}
    results, task_results = {}, {}
    for name, job in cmds.items():
        if name in pairs:
            label, make_task = pairs[name]
            results[name], got = timed_interleaved([job, (make_task, task_env)], runs)
            task_results[name] = dict(got, command=label)
            log(f"[{size}] {name:<5} median {results[name]['median_ms']:.1f} ms; "
                f"{label}: {got['median_ms']:.1f} ms")
        else:
            results[name] = timed(*job, runs)
            log(f"[{size}] {name:<5} median {results[name]['median_ms']:.1f} ms")
    shutil.rmtree(home, ignore_errors=True)  # free the disk before the next size
    shutil.rmtree(root / f"task-{size}", ignore_errors=True)
    budget = BUILD_BUDGET_S.get(size)
    return {"size": size, "techs": techs, "build_s": build_s, "store_mb": db_mb, "show_key": key,
            "open_tickets": demo["open"], "by_status": demo.get("by_status"), "mine_tickets": mine_count,
            "build_budget_s": budget, "build_met": None if budget is None else build_s <= budget,
            "commands": results, "taskwarrior": tw["facts"] if tw else None, "task_commands": task_results}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", help="comma-separated ticket counts (default 1000,10000,100000)")
    ap.add_argument("--runs", type=int, help="timed runs per command, after 2 warm-ups (default 15)")
    ap.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES} and {QUICK_RUNS} runs, unless given")
    ap.add_argument("--installed", action="store_true", help="measure the installed ticketctl as is, even if editable")
    ap.add_argument("--task", default="task", help="the Taskwarrior program (default: task on PATH)")
    ap.add_argument("--no-task", action="store_true", help="leave Taskwarrior out")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    sizes = [int(s) for s in (args.sizes or (QUICK_SIZES if args.quick else "1000,10000,100000")).split(",") if s.strip()]
    runs = args.runs if args.runs is not None else QUICK_RUNS if args.quick else 15
    if runs < 1 or not sizes:
        ap.error("need --runs >= 1 and at least one size")

    installed = find_ticketctl()
    task = None if args.no_task else shutil.which(args.task)
    task_state = "left out (--no-task)" if args.no_task else "not installed"
    # PYTHONDONTWRITEBYTECODE (set on some CI and sandbox machines) would make every process recompile
    # ticketctl from source: not what a user's machine does
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_") and k != "PYTHONDONTWRITEBYTECODE"}
    base_env["TICKETCTL_USER"] = USER
    root = Path(tempfile.mkdtemp(prefix="ticketctl-bench-"))
    cwd = os.getcwd()
    try:
        os.chdir(root)  # so that no `python -c` finds a source tree's ticketctl/ in the current directory
        base_env["TICKETCTL_HOME"] = str(root / "startup")  # never touch the user's real store
        tc, python, measured = choose_install(installed, args.installed, root, base_env)
        task_version = run([task, "--version"], task_base_env(root))[1].strip() if task else None
        log(f"measured:  {measured['describe']}\nticketctl: {tc}\npython:    {python}\n"
            f"task:      {f'{task} {task_version}' if task else task_state}\n"
            "startup: python -c pass / import ticketctl.cli / --help ...")
        startup: dict[str, Any] = {"python_pass": timed(lambda i: [python, "-c", "pass"], base_env, runs),
                   "import_cli": timed(lambda i: [python, "-c", "import ticketctl.cli"], base_env, runs),
                   "importtime_top5": importtime_top(python, base_env)}
        helps = {"--help": timed(lambda i: [tc, "--help"], base_env, runs),
                 "list --help": timed(lambda i: [tc, "list", "--help"], base_env, runs)}
        sizes_out = [bench_size(tc, n, runs, base_env, root, task) for n in sizes]
    finally:
        os.chdir(cwd)
        shutil.rmtree(root, ignore_errors=True)

    pass_ms = startup["python_pass"]["median_ms"]
    import_ms = startup["import_cli"]["median_ms"]
    rows, misses = [], []
    help_rows = [{"command": f"ticketctl {name}", "median_ms": round(r["median_ms"], 1), "p90_ms": round(r["p90_ms"], 1),
                  "budget_ms": HELP_BUDGET_MS, "met": r["median_ms"] <= HELP_BUDGET_MS} for name, r in helps.items()]
    misses += [f"{h['command']}: median {h['median_ms']} ms > {HELP_BUDGET_MS} ms" for h in help_rows if not h["met"]]
    for s in sizes_out:
        target = RATIO_TARGET.get(s["size"])
        for name, r in s["commands"].items():
            tr = s["task_commands"].get(name)
            ratio = r["median_ms"] / tr["median_ms"] if tr else None
            row = {"size": s["size"], "command": name, "median_ms": round(r["median_ms"], 1),
                   "p90_ms": round(r["p90_ms"], 1), "budget_ms": BUDGET_MS[name],
                   "met": r["median_ms"] <= BUDGET_MS[name],
                   "interpreter_share": round(pass_ms / r["median_ms"], 3),
                   "startup_imports_share": round(import_ms / r["median_ms"], 3),
                   "task_command": tr["command"] if tr else None,
                   "task_median_ms": round(tr["median_ms"], 1) if tr else None,
                   "task_p90_ms": round(tr["p90_ms"], 1) if tr else None,
                   "ratio": round(ratio, 3) if ratio is not None else None, "ratio_target": target,
                   "ratio_met": None if ratio is None or target is None else ratio <= target}
            rows.append(row)
            if not row["met"]:
                misses.append(f"{name} at {s['size']}: median {row['median_ms']} ms > {row['budget_ms']} ms")
            if row["ratio_met"] is False:
                misses.append(f"{name} at {s['size']}: {row['ratio']:.2f}x {row['task_command']} > {target}x")
        if s["build_met"] is False:
            misses.append(f"demo build at {s['size']}: {s['build_s']:.1f} s > {s['build_budget_s']:.0f} s")

    if args.json:
        print(json.dumps({"ticketctl": tc, "python": python, "measured": measured, "runs": runs, "warmups": WARMUP,
                          "taskwarrior": {"path": task, "version": task_version} if task else task_state,
                          "budgets_ms": BUDGET_MS, "help_budget_ms": HELP_BUDGET_MS, "ratio_targets": RATIO_TARGET,
                          "startup": startup, "help": help_rows, "builds": sizes_out,
                          "results": rows, "misses": misses, "reference": TASKWARRIOR}, indent=2))
        return 0

    print(f"\nMeasured: {measured['describe']}")
    print(f"Taskwarrior: {f'{task} {task_version}' if task else task_state}")
    print("\nStore builds (ticketctl demo --seed 1; task import of as many tasks, the open tickets pending):")
    for s in sizes_out:
        verdict = "" if s["build_met"] is None else \
            f"  budget {s['build_budget_s']:.0f} s: {'met' if s['build_met'] else 'MISSED'}"
        tw = s["taskwarrior"]
        tw_text = (f"; task import {tw['build_s']:.2f} s ({tw['pending']} pending + {tw['completed']} completed)"
                   if tw else "")
        print(f"  {s['size']:>7} tickets, {s['techs']:>3} techs: {s['build_s']:6.2f} s"
              f"  ({s['store_mb']:.1f} MB, {s['open_tickets']} open){verdict}{tw_text}")
    print(f"\nStartup ({runs} runs, median): python -c pass {pass_ms:.1f} ms; "
          f"python -c 'import ticketctl.cli' {import_ms:.1f} ms (imports alone {import_ms - pass_ms:.1f} ms)")
    print("  top 5 by cumulative import time (-X importtime, one run):")
    for m in startup["importtime_top5"]:
        print(f"    {m['cumulative_ms']:8.1f} ms  {m['module']}")
    for h in help_rows:
        print(f"  {h['command']:<22} median {h['median_ms']:6.1f} ms, p90 {h['p90_ms']:6.1f} ms  "
              f"budget {HELP_BUDGET_MS} ms: {'met' if h['met'] else 'MISSED'}")

    print(f"\nWhole-process wall time, {runs} runs after {WARMUP} warm-ups, ticketctl and task runs alternating per "
          "command\n('startup' = share of ticketctl's median spent in interpreter start + imports; "
          "ratio = ticketctl median / task median):")
    width = max([len(task_state)] + [len(r["task_command"]) for r in rows if r["task_command"]])
    for s in sizes_out:
        tw = s["taskwarrior"]
        store = (f"{tw['tasks']} tasks, {tw['pending']} pending" if tw else f"Taskwarrior {task_state}")
        mine = f"mine as {MINE_USER}, holding {s['mine_tickets']} tickets"
        if tw:
            mine += f"; task's mine: project {tw['mine_project']} ({tw['mine_project_pending']} pending)"
        print(f"\n{s['size']} tickets ({s['open_tickets']} open) vs {store}; {mine}")
        head = (f"  {'command':<7} {'median ms':>9} {'p90 ms':>8} {'budget':>6}  {'verdict':<7} {'startup':>7}  "
                f"{'task command':<{width}} {'median ms':>9} {'ratio':>6} {'target':>6}  verdict")
        print(head + "\n  " + "-" * (len(head) - 2))
        for r in (r for r in rows if r["size"] == s["size"]):
            if r["task_command"] is None:
                tail = f"{task_state:<{width}} {'-':>9} {'-':>6} {'-':>6}  -"
            else:
                goal = f"{r['ratio_target']}x" if r["ratio_target"] is not None else "-"
                verdict = "-" if r["ratio_met"] is None else "met" if r["ratio_met"] else "MISSED"
                tail = (f"{r['task_command']:<{width}} {r['task_median_ms']:>9.1f} {r['ratio']:>5.2f}x {goal:>6}  "
                        f"{verdict}")
            print(f"  {r['command']:<7} {r['median_ms']:>9.1f} {r['p90_ms']:>8.1f} {r['budget_ms']:>6}  "
                  f"{'met' if r['met'] else 'MISSED':<7} {r['startup_imports_share']:>7.0%}  {tail}")
    if not task:
        print("\n" + TASKWARRIOR)
    if misses:
        print(f"\nMISSED {len(misses)} budget(s) or target(s):")
        for m in misses:
            print(f"  MISSED  {m}")
    else:
        print("\nAll budgets and targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Dashboard benchmark (run by hand, not in CI): headless with Textual's Pilot.

    python bench/tui.py [--home DIR] [--tickets 500000] [--techs 200] [--runs 7]

Builds (or reuses, with --home) a store with ``ticketctl demo --tickets N
--techs 200``; the demo leaves about a fifth of its tickets open, so the
default 500,000 gives ~100,000 open tickets. Then, each a median of --runs:

* first frame: from creating the app to the first complete frame (ranking,
  first rows, counts, heat map and load on screen), at 200x55;
* no-op key: a key bound to nothing, then a frame: what Pilot itself costs
  per key (~65 ms here), included in each key figure below;
* move: one key (down, page down) until the screen shows the new cursor row;
* filter: ``/ dept:<largest> Enter`` until the backlog shows the filtered rows;
* open: Enter on a ticket until its detail (with timeline) is on screen;
* another process: ``ticketctl new`` run as a separate process until the
  ticket is in the dashboard's backlog, no key pressed.

Budgets: first frame <= 2 s; a key that moves, filters or opens <= 100 ms;
another process's change visible <= 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from budget import Row, print_rows, ticketctl  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


async def until(pilot: Any, done: Any, timeout: float = 30.0) -> float:
    """Seconds until ``done()`` holds and a frame was drawn after it."""
    t0 = time.perf_counter()
    while not done():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("the dashboard did not get there")
        await asyncio.sleep(0.002)
    await pilot.pause()  # the frame that shows it
    return time.perf_counter() - t0


async def one_run(environ: dict[str, str], tc: str, i: int) -> dict[str, float]:
    from ticketctl.services.env import Env
    from ticketctl.tui.app import Dashboard
    from ticketctl.tui.screens import DetailScreen

    t0 = time.perf_counter()
    app = Dashboard(lambda: Env.from_environ(environ))
    out: dict[str, float] = {}
    async with app.run_test(size=(200, 55)) as pilot:
        await until(pilot, lambda: app.seq >= 0 and app.backlog.current_key in app.backlog.cache)
        out["first frame"] = time.perf_counter() - t0
        await pilot.pause(0.3)
        t = time.perf_counter()
        await pilot.press("x")  # bound to nothing: what Pilot itself costs per key and frame
        await pilot.pause()
        out["no-op key (Pilot's own cost)"] = time.perf_counter() - t
        for key, name in (("down", "move: down"), ("pagedown", "move: page down")):
            before = app.backlog.cursor
            t = time.perf_counter()
            await pilot.press(key)
            await until(pilot, lambda b=before: app.backlog.cursor != b and app.backlog.current_key in app.backlog.cache)
            out[name] = time.perf_counter() - t
        top = max(app.query_one("#heat").cells.items(), key=lambda kv: kv[1]["count"])[0][0]  # type: ignore[attr-defined]
        await pilot.press("slash", *f"dept:{top}")
        t = time.perf_counter()
        await pilot.press("enter")
        await until(pilot, lambda: app.filter.text() == f"dept:{top}" and app.backlog.current_key in app.backlog.cache)
        out["filter: dept"] = time.perf_counter() - t
        t = time.perf_counter()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.ticket is not None)
        out["open a ticket"] = time.perf_counter() - t
        await pilot.press("escape", "escape")
        await pilot.pause(0.3)
        t = time.perf_counter()
        proc = subprocess.run([tc, "new", f"bench tui {i}", "--type", "repair", "--dept", top, "--product", "hvac",
                               "--priority", "urgent"], env=environ, capture_output=True, text=True, check=True)
        key = proc.stdout.strip()
        await until(pilot, lambda: key in app.backlog.rank_of and key in app.backlog.cache)
        out["another process (incl. its run)"] = time.perf_counter() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", help="a TICKETCTL_HOME to use (built there when empty)")
    ap.add_argument("--tickets", type=int, default=500_000)
    ap.add_argument("--techs", type=int, default=200)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    tc = ticketctl()
    home = Path(args.home or tempfile.mkdtemp(prefix="ticketctl-bench-tui-"))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    environ.update(TICKETCTL_HOME=str(home), TICKETCTL_USER="bench")
    if not (home / "ticketctl.db").exists():
        log(f"building: ticketctl demo --tickets {args.tickets} --techs {args.techs} in {home} ...")
        subprocess.run([tc, "demo", "--tickets", str(args.tickets), "--techs", str(args.techs)], env=environ, check=True,
                       capture_output=True)
    from ticketctl.services import board
    from ticketctl.services.env import Env

    e = Env.from_environ(environ)
    open_n = board.counts(e)["open"]
    e.close()
    log(f"{open_n:,} open tickets in {home}")
    runs = []
    for i in range(args.runs):
        runs.append(asyncio.run(one_run(environ, tc, i)))
        log(f"run {i + 1}: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in runs[-1].items()))
    budgets = {"first frame": 2.0, "another process (incl. its run)": 2.0, "no-op key (Pilot's own cost)": None}
    base = statistics.median(r["no-op key (Pilot's own cost)"] for r in runs)
    rows: list[Row] = []
    for name in runs[0]:
        med = statistics.median(r[name] for r in runs)
        keyed = name.startswith(("move", "filter", "open"))
        note = f"{open_n:,} open" + (f"; {(med - base) * 1000:.0f} ms beyond Pilot's own cost" if keyed else "")
        rows.append((name, med, budgets.get(name, 0.1), note))
    print_rows(rows, digits=3)


if __name__ == "__main__":
    main()

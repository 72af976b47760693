"""Dashboard benchmark (run by hand, not in CI): headless with Textual's Pilot.

    python bench/tui.py [--home DIR] [--tickets 500000] [--techs 200] [--runs 7]

Builds (or reuses, with --home) a store with ``ticketctl demo --tickets N
--techs 200``; the demo leaves about a fifth of its tickets open, so the
default 500,000 gives ~100,000 open tickets. Then, each a median of --runs:

* first frame: from creating the app to the first rendered frame with the
  ranking, first rows, counts, heat map and load, at 200x55;
* a key (move: down, page down; filter: ``/ dept:<largest>`` then Enter, the
  Enter timed; open a ticket: Enter; back: Escape; clear the filter: Escape):
  from the key event reaching the app (``App.on_event``) to the first frame
  rendered that shows the result (a predicate checked as each frame goes to
  the display). Pilot's own round trip (~90 ms a key here, mostly its waits
  for idle) is thus left out; it is printed beside each figure, and the
  no-op key (bound to nothing, no frame) shows it alone;
* the header counts' keys (4 breached, 2 unassigned, 1 all open), ``p``
  hiding then showing the panels, and the trends screen: ``T`` to the frame
  that shows the screen, then (no budget: three reports over the whole store,
  read in the worker while the screen is up) to the frame with its figures,
  ``r`` to the next block reason's figures, Escape back;
* another process: ``ticketctl new`` run as a separate process until a frame
  shows the ticket in the dashboard's backlog, no key pressed.

Budgets: first frame <= 2 s; a key that moves, filters, opens or shows a screen <= 100 ms;
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


def timed_app(environ: dict[str, str]) -> Any:
    """The dashboard, instrumented: when a key event reaches the app, and when
    the first frame that shows the awaited state was rendered (``want``: a
    predicate checked as each frame is handed to the display, so the frame
    holds what the predicate saw)."""
    from textual import events

    from ticketctl.services.env import Env
    from ticketctl.tui.app import Dashboard

    class Timed(Dashboard):
        key_at = 0.0
        frame_at: float | None = None
        want: Any = None

        async def on_event(self, event: events.Event) -> None:
            if isinstance(event, events.Key):
                self.key_at = time.perf_counter()
            await super().on_event(event)

        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            if renderable is not None and self.want is not None and self.want():
                self.frame_at, self.want = time.perf_counter(), None

    return Timed(lambda: Env.from_environ(environ))


async def key(pilot: Any, press: tuple[str, ...], done: Any, timeout: float = 30.0) -> tuple[float, float]:
    """Press the keys; wait for a frame showing ``done()``. Returns (seconds
    from the last key event reaching the app to that frame, seconds of the
    whole Pilot round trip)."""
    app = pilot.app
    app.frame_at, app.want = None, done
    t0 = time.perf_counter()
    await pilot.press(*press)
    while app.frame_at is None:
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("the dashboard did not get there")
        await asyncio.sleep(0.001)
    await pilot.pause()
    return app.frame_at - app.key_at, time.perf_counter() - t0


def detail_shown(app: Any) -> bool:
    """A ticket's detail, with its timeline, is on screen."""
    from ticketctl.tui.screens import DetailScreen

    return isinstance(app.screen, DetailScreen) and app.screen.ticket is not None


def trends_shown(app: Any, with_data: bool = False, reason: int = 0) -> bool:
    """The trends screen is on top (with its figures read, for the ``reason``-th block reason of the menu)."""
    from ticketctl.tui.trends import TrendsScreen

    s = app.screen
    if not isinstance(s, TrendsScreen):
        return False
    if not with_data:
        return True
    return s.data is not None and s.data["trend"]["reason"] == s.reason and (reason == 0 or s.reason != "awaiting_parts")


async def one_run(environ: dict[str, str], tc: str, i: int) -> dict[str, tuple[float, float]]:
    t0 = time.perf_counter()
    app = timed_app(environ)
    out: dict[str, tuple[float, float]] = {}
    async with app.run_test(size=(200, 55)) as pilot:
        app.want = lambda: app.seq >= 0 and app.backlog.current_key in app.backlog.cache
        while app.frame_at is None:
            await asyncio.sleep(0.002)
        first = app.frame_at - t0
        out["first frame"] = (first, first)
        await pilot.pause(0.3)
        t = time.perf_counter()
        await pilot.press("x")  # bound to nothing: no frame to wait for; what Pilot's round trip costs
        await pilot.pause()
        out["no-op key (Pilot's round trip)"] = (time.perf_counter() - t,) * 2
        bl = app.backlog
        for k, name in (("down", "move: down"), ("pagedown", "move: page down")):
            before = bl.cursor
            out[name] = await key(pilot, (k,), lambda b=before: bl.cursor != b and bl.current_key in bl.cache)
        top = max(app.heat.cells.items(), key=lambda kv: kv[1]["count"])[0][0]
        await pilot.press("slash", *f"dept:{top}")
        out["filter: dept"] = await key(pilot, ("enter",), lambda: app.filter.text() == f"dept:{top}"
                                        and bl.current_key in bl.cache)
        out["open a ticket"] = await key(pilot, ("enter",), lambda: detail_shown(app))
        out["back from a ticket"] = await key(pilot, ("escape",), lambda: not detail_shown(app))
        out["clear the filter"] = await key(pilot, ("escape",), lambda: not app.filter.text() and bl.current_key in bl.cache)
        # a header count's key: 4 filters to the breached tickets (sla:breached)
        out["count key: breached"] = await key(pilot, ("4",), lambda: app.filter.sla == "breached" and bl.current_key in bl.cache)
        out["count key: unassigned"] = await key(pilot, ("2",), lambda: app.filter.text() == "assignee:-"
                                                 and bl.current_key in bl.cache)
        out["count key: all open"] = await key(pilot, ("1",), lambda: not app.filter.text() and bl.current_key in bl.cache)
        # p hides the panels (200 columns shows them), p again shows them
        main = app.query_one("#main")
        out["panels: hide"] = await key(pilot, ("p",), lambda: main.has_class("-hidden"))
        out["panels: show"] = await key(pilot, ("p",), lambda: not main.has_class("-hidden"))
        # the trends screen: drawn at once, its figures (three reports over the whole store) read in the worker
        out["trends: screen drawn"] = await key(pilot, ("T",), lambda: trends_shown(app))
        while not trends_shown(app, with_data=True):
            await asyncio.sleep(0.002)
        out["trends: figures shown (after the key)"] = (time.perf_counter() - app.key_at,) * 2
        out["trends: next block reason, figures"] = await key(pilot, ("r",), lambda: trends_shown(app, with_data=True, reason=1))
        out["back from the trends"] = await key(pilot, ("escape",), lambda: not trends_shown(app))
        await pilot.pause(0.3)
        t = time.perf_counter()
        proc = subprocess.run([tc, "new", f"bench tui {i}", "--type", "repair", "--dept", top, "--product", "hvac",
                               "--priority", "urgent"], env=environ, capture_output=True, text=True, check=True)
        new = proc.stdout.strip()
        app.frame_at, app.want = None, lambda: bl.listed(new) and new in bl.cache
        while app.frame_at is None:
            if time.perf_counter() - t > 30:
                raise TimeoutError("the new ticket never showed")
            await asyncio.sleep(0.002)
        out["another process (incl. its run)"] = (app.frame_at - t, app.frame_at - t)
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
        subprocess.run([tc, "demo", "--tickets", str(args.tickets), "--techs", str(args.techs), "--lang", "en"], env=environ, check=True,
                       capture_output=True)
    from ticketctl.services import dashboard
    from ticketctl.services.env import Env

    e = Env.from_environ(environ)
    open_n = dashboard.counts(e)["open"]
    e.close()
    log(f"{open_n:,} open tickets in {home}")
    runs = []
    for i in range(args.runs):
        runs.append(asyncio.run(one_run(environ, tc, i)))
        log(f"run {i + 1}: " + ", ".join(f"{k} {v[0] * 1000:.0f} ms (Pilot {v[1] * 1000:.0f})" for k, v in runs[-1].items()))
    budgets: dict[str, float | None] = {"first frame": 2.0, "another process (incl. its run)": 2.0,
                                        "no-op key (Pilot's round trip)": None,
                                        "trends: figures shown (after the key)": None, "trends: next block reason, figures": None}
    rows: list[Row] = []
    for name in runs[0]:
        med = statistics.median(r[name][0] for r in runs)
        note = f"{open_n:,} open"
        if name.startswith(("move", "filter", "open", "back", "clear", "count", "panels", "trends: screen", "trends: next")):
            pilot = statistics.median(r[name][1] for r in runs)
            note += f"; key event to frame (Pilot's round trip {pilot * 1000:.0f} ms)"
        rows.append((name, med, budgets.get(name, 0.1), note))
    print_rows(rows, digits=3)


if __name__ == "__main__":
    main()

"""The dispatcher's dashboard: the backlog by weight, where it piles up, who
has room, and every action a key away.

Threads: every read and every action runs in a worker thread with its own
``Env`` (and so its own SQLite connection; WAL lets it read while others
write), one at a time (``self.lock``), and hands the result to the UI thread
with ``call_from_thread``. Input is never blocked by the database.

Live: twice a second a worker asks for the newest event ``seq`` (one index
lookup). When it moved, only what the new events touched is read again: the
sort keys and rows of those tickets, the heat-map cells they are or were in,
the header's counts, the technicians' loads. A change from another shell,
from cron or from sync shows within a second, with no key pressed.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Static

from ticketctl.errors import TicketctlError
from ticketctl.services import board, dispatch, heatmap, techs, tickets
from ticketctl.services.board import Filter, Ranking
from ticketctl.services.env import Env
from ticketctl.tui.backlog import BacklogView
from ticketctl.tui.dialogs import AssignDialog, BlockDialog, DispatchDialog, HelpDialog, PromptDialog
from ticketctl.tui.panels import GROUPINGS, HeatMap, TechLoad
from ticketctl.tui.screens import BlockedScreen, DetailScreen, blocked_view

POLL_S = 0.5
RERANK_S = 60.0
FIRST_ROWS = 120

#: (key, action, footer label, description): the bindings, the command palette and the help screen
ACTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("a", "assign", "assign", "assign: technicians ranked by the dispatch engine, with the reason for each"),
    ("b", "block", "block", "block with a reason from the menu (collaboration asks for its four fields)"),
    ("u", "unblock", "unblock", "unblock"),
    ("s", "start", "start", "start work"),
    ("r", "resolve", "resolve", "resolve, with an optional note"),
    ("n", "note", "note", "add a note"),
    ("e", "escalate", "escalate", "escalate to the department's supervisor"),
    ("d", "dispatch", "dispatch all", "dispatch the whole backlog, after a preview"),
    ("/", "search", "filter", "filter: words, dept:X product:X fault:X status:X priority:X reason:X @tech"),
    ("t", "heat_axes", "heat axes", "heat map axes: dept x product, dept x fault, product x fault"),
    ("B", "blocked", "blocked", "blocked board: by reason, longest blocked first"),
    ("?", "help", "help", "help: every key"),
    ("q", "quit", "quit", "quit"),
)
#: keys that only the help screen lists (the widgets bind them)
MORE_KEYS = (("enter", "open the ticket (backlog); filter the backlog to the cell (heat map)"),
             ("escape", "clear the filter; back from a screen or dialog"),
             ("tab", "next panel: backlog, heat map, technicians"),
             ("ctrl+p", "command palette: every action by name"))
KEY_NAMES = {"/": "slash", "?": "question_mark", "B": "B,shift+b"}
#: what a worker hands back to run on the UI thread
Apply = Callable[[], object]
TICKET_ACTIONS = ("assign", "block", "unblock", "start", "resolve", "note", "escalate")


def describe(t: dict[str, Any]) -> str:
    who = f" @{t['assignee']}" if t.get("assignee") else ""
    why = f" ({t['blocked_reason']})" if t.get("blocked_reason") else ""
    return f"{t['key']} {t['status']}{why}{who}"


class Dashboard(App[None]):
    """``ticketctl`` in a terminal. ``make_env`` gives a fresh Env (its own
    connection and "now") for each unit of work."""

    TITLE = "ticketctl"
    CSS = """
    #top { height: 1; background: $panel; }
    #title { width: auto; text-style: bold; padding: 0 1; color: $text-accent; }
    #counts { width: 1fr; }
    #sync-state { width: auto; padding: 0 1; }
    #left { width: 1fr; }
    #right { width: 74; }
    #filter-line { height: 1; padding: 0 1; color: $text-muted; }
    #search { display: none; }
    #search.shown { display: block; }
    #backlog { height: 1fr; }
    .caption { height: 1; padding: 0 1; text-style: bold; background: $panel; }
    #heat { height: auto; max-height: 20; }
    #load { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(KEY_NAMES.get(k, k), a, label) for k, a, label, _ in ACTIONS),
        Binding("escape", "clear_filter", "clear filter", show=False),
    ]

    def __init__(self, make_env: Callable[[], Env], poll_s: float = POLL_S) -> None:
        super().__init__()
        self.make_env = make_env
        self.poll_s = poll_s
        self.lock = threading.Lock()
        self.filter = Filter()
        self.master: Ranking | None = None
        self.blocked_rank: Ranking | None = None
        self.seq = -1
        self.ranked_at = 0.0
        self.polling = False
        self.poll_again = False
        self.reasons: dict[str, tuple[str, list[str]]] = {}
        self.backlog = BacklogView(self.load_rows, id="backlog")
        self.clock_runs = "TICKETCTL_NOW" not in make_env().environ

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Static("ticketctl dashboard", id="title")
            yield Static("loading ...", id="counts")
            yield Static("", id="sync-state")  # sync state (pending, rejected, last sync): filled once sync is set up
        with Horizontal():
            with Vertical(id="left"):
                yield Input(placeholder="filter: words, dept:X product:X fault:X status:X priority:X reason:X @tech",
                            id="search")
                yield Static("", id="filter-line")
                yield self.backlog
            with Vertical(id="right"):
                yield Static("heat map", id="heat-caption", classes="caption")
                yield HeatMap(id="heat")
                yield Static("technicians: load / capacity", classes="caption")
                yield TechLoad(id="load")
        yield Footer()

    def on_mount(self) -> None:
        self.backlog.focus()
        self.reload()
        self.set_interval(self.poll_s, self.poll)

    # -- workers ------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Env]:
        env = self.make_env()
        try:
            yield env
        finally:
            env.close()

    def background(self, work: Callable[[Env], Apply | None], snapshot: bool = False) -> None:
        """Run ``work`` in a thread with its own Env, one at a time; the
        callable it returns runs on the UI thread. A refused action shows its
        reason; an unexpected error shows one line and goes to the log."""

        def run() -> None:
            apply: Apply | None = None
            with self.lock, self.session() as env:
                try:
                    if snapshot:  # one read transaction: every figure from the same moment
                        env.store.db.execute("BEGIN")
                    apply = work(env)
                except TicketctlError as e:
                    msg = str(e)
                    apply = lambda: self.notify(msg, severity="error", timeout=6)  # noqa: E731
                except Exception as e:
                    self._log_crash(env)
                    msg = f"internal error: {type(e).__name__}: {e} (traceback in the log)"
                    apply = lambda: self.notify(msg, severity="error", timeout=10)  # noqa: E731
                finally:
                    if snapshot and env.store.db.in_transaction:
                        env.store.db.execute("COMMIT")
                if apply is not None and self.is_running:
                    try:
                        self.call_from_thread(apply)
                    except RuntimeError:  # the app closed meanwhile
                        pass

        self.run_worker(run, thread=True, group="data", exit_on_error=False)

    @staticmethod
    def _log_crash(env: Env) -> None:
        try:
            env.home.log_dir.mkdir(parents=True, exist_ok=True)
            with open(env.home.log_file, "a", encoding="utf-8") as f:
                f.write(traceback.format_exc() + "\n")
        except OSError:
            pass

    # -- loading ------------------------------------------------------------------

    def reload(self) -> None:
        """Everything, from one moment: first frame, a bulk change, the clock moved."""
        heat = self.query_one(HeatMap)
        by, flt, first = heat.by, self.filter, self.seq < 0

        def work(env: Env) -> Apply:
            seq = board.last_seq(env)
            master = board.ranking(env)
            keep = board.matching(env, flt)
            ranks = master.ranks if keep is None else [r for r in master.ranks if r[3] in keep]
            rows = board.rows(env, [r[2] for r in ranks[:FIRST_ROWS]])
            counts, team = board.counts(env), techs.listing(env)
            cells = _cells(heatmap.heatmap(env, by))
            reasons = {k: (v.label or k, list(v.fields)) for k, v in env.config.reasons.items()}

            def apply() -> None:
                self.seq, self.master, self.ranked_at, self.reasons = seq, master, time.monotonic(), reasons
                self.backlog.set_ranking(ranks, rows, keep=not first)
                self.show_counts(counts)
                heat.show(by, cells)
                self.query_one(TechLoad).show(team, resort=True)
                self.show_filter()
                self.refresh_open_screens(None)
            return apply

        self.background(work, snapshot=True)

    def load_rows(self, keys: list[str]) -> None:
        """The backlog (or the blocked board) scrolled onto rows it has not read."""
        def work(env: Env) -> Apply:
            rows = board.rows(env, keys)
            return lambda: self._add_rows(rows)
        self.background(work)

    def _add_rows(self, rows: dict[str, dict[str, Any]]) -> None:
        for view in self.views():
            view.add_rows(rows)

    def views(self) -> list[BacklogView]:
        out = [self.backlog]
        out += [s.view for s in self.screen_stack if isinstance(s, BlockedScreen)]
        return out

    def set_filter(self, flt: Filter) -> None:
        if self.master is None:
            return
        master = self.master

        def work(env: Env) -> Apply:
            keep = board.matching(env, flt)
            ranks = master.ranks if keep is None else [r for r in master.ranks if r[3] in keep]
            rows = board.rows(env, [r[2] for r in ranks[:FIRST_ROWS]])

            def apply() -> None:
                self.filter = flt
                self.backlog.set_ranking(ranks, rows, keep=False)
                self.show_filter()
            return apply
        self.background(work)

    # -- live ---------------------------------------------------------------------

    def poll(self) -> None:
        """Ask whether anything changed; read again only what did."""
        if self.seq < 0:
            return
        if self.polling:
            self.poll_again = True
            return
        self.polling = True
        seq, flt, by, master = self.seq, self.filter, self.query_one(HeatMap).by, self.master
        blocked = self.blocked_rank if any(isinstance(s, BlockedScreen) for s in self.screen_stack) else None
        detail = [s.key for s in self.screen_stack if isinstance(s, DetailScreen)]
        if self.clock_runs and time.monotonic() - self.ranked_at > RERANK_S:
            self.polling = False
            self.reload()
            return

        def work(env: Env) -> Apply | None:
            ch = board.changes_since(env, seq)
            if ch.seq == seq:
                return self._poll_done
            if ch.many or master is None:
                return self._reload_after_poll
            new = board.ranks(env, master, ch.tickets)
            live = [k for k, r in new.items() if r is not None]
            keep = board.matching(env, flt, live)
            shown = {k: (r if r is not None and (keep is None or r[3] in keep) else None) for k, r in new.items()}
            rows = board.rows(env, live[:1000])
            blocked_new = board.ranks(env, blocked, ch.tickets) if blocked is not None else None
            counts = board.counts(env)
            cells = board.heat_cells(env, by, ch.tickets, ch.previous)
            team = techs.listing(env) if ch.techs else None
            shows = {k: tickets.show(env, k) for k in detail if k in ch.tickets}
            summary = board.blocked_summary(env) if blocked is not None else None

            def apply() -> None:
                self.seq = ch.seq
                master.patch(new)
                self.backlog.patch(shown, rows)
                for v in self.views()[1:]:
                    if blocked_new is not None:
                        v.patch(blocked_new, rows)
                self.show_counts(counts)
                heat = self.query_one(HeatMap)
                if heat.by == by:
                    heat.patch(cells)
                if team is not None:
                    self.query_one(TechLoad).show(team)
                self.show_filter()
                self.refresh_open_screens(shows, summary)
                self._poll_done()
            return apply

        self.background(work, snapshot=True)

    def _reload_after_poll(self) -> None:
        self._poll_done()
        self.reload()

    def _poll_done(self) -> None:
        self.polling = False
        if self.poll_again:
            self.poll_again = False
            self.poll()

    def refresh_open_screens(self, shows: dict[str, dict[str, Any]] | None, summary: list[dict[str, Any]] | None = None) -> None:
        for s in self.screen_stack:
            if isinstance(s, DetailScreen) and shows and s.key in shows:
                s.show(shows[s.key])
            if isinstance(s, BlockedScreen) and summary is not None:
                s.show_summary(summary)

    def show_counts(self, c: dict[str, int]) -> None:
        text = Text()
        for label, name, style in (("open", "open", "bold"), ("unassigned", "unassigned", "bold"),
                                   ("at risk", "at_risk", "bold yellow"), ("breached", "breached", "bold red"),
                                   ("blocked", "blocked", "bold magenta")):
            text.append(f"{label} ").append(f"{c[name]:,}", style).append("   ")
        self.query_one("#counts", Static).update(text)

    def show_filter(self) -> None:
        n = len(self.backlog.ranks)
        what = f"filter: {self.filter.text()}  (escape clears)" if self.filter.text() else "all open tickets, by weight"
        self.query_one("#filter-line", Static).update(f"{n:,} tickets  {what}")
        by = self.query_one(HeatMap).by
        self.query_one("#heat-caption", Static).update(f"heat map: {by[0]} x {by[1]}  (* tickets older than 4 h; t switches)")

    # -- actions ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dialogs own the keyboard: no ticket action fires from under one."""
        if isinstance(self.screen, ModalScreen) and action in (*TICKET_ACTIONS, "dispatch", "search", "heat_axes",
                                                                  "blocked", "help", "clear_filter", "quit"):
            return False
        return True

    def current_key(self) -> str | None:
        s = self.screen
        if isinstance(s, DetailScreen):
            return s.key
        if isinstance(s, BlockedScreen):
            return s.view.current_key
        return self.backlog.current_key

    def act(self, fn: Callable[[Env], dict[str, Any]], done: str) -> None:
        """Run one service call; say what happened, then show its effect the way
        any other change shows (the poll)."""
        def work(env: Env) -> Apply:
            r = fn(env)
            msg = f"{done}: {describe(r)}" if "key" in r else done.format(**r)
            def apply() -> None:
                self.notify(msg, timeout=4)
                self.poll()
            return apply
        self.background(work)

    def _with_key(self) -> str | None:
        key = self.current_key()
        if key is None:
            self.notify("no ticket selected", severity="warning")
        return key

    def action_assign(self) -> None:
        key = self._with_key()
        if key is None:
            return

        def work(env: Env) -> Apply:
            ex = dispatch.explain(env, key)

            def chosen(name: str | None) -> None:
                if name:
                    self.act(lambda env: tickets.assign(env, key, name), f"assigned to {name}")
            return lambda: self.push_screen(AssignDialog(ex), chosen)
        self.background(work)

    def action_block(self) -> None:
        key = self._with_key()
        if key is None:
            return

        def chosen(r: tuple[str, dict[str, str]] | None) -> None:
            if r:
                self.act(lambda env: tickets.block(env, key, r[0], r[1]), "blocked")
        self.push_screen(BlockDialog(key, self.reasons), chosen)

    def action_unblock(self) -> None:
        key = self._with_key()
        if key:
            self.act(lambda env: tickets.unblock(env, key), "unblocked")

    def action_start(self) -> None:
        key = self._with_key()
        if key:
            self.act(lambda env: tickets.start(env, key), "started")

    def _prompt(self, title: str, placeholder: str, optional: bool, then: Callable[[str], None]) -> None:
        self.push_screen(PromptDialog(title, placeholder, optional), lambda text: then(text) if text is not None else None)

    def action_resolve(self) -> None:
        key = self._with_key()
        if key:
            self._prompt(f"Resolve {key}", "what was done (optional)", True,
                         lambda text: self.act(lambda env: tickets.resolve(env, key, text or None), "resolved"))

    def action_note(self) -> None:
        key = self._with_key()
        if key:
            self._prompt(f"Note on {key}", "the note", False, lambda text: self.act(lambda env: tickets.note(env, key, text), "noted"))

    def action_escalate(self) -> None:
        key = self._with_key()
        if key:
            self._prompt(f"Escalate {key} to the supervisor", "why", False,
                         lambda text: self.act(lambda env: board.escalate(env, key, text), "escalated"))

    def action_dispatch(self) -> None:
        def work(env: Env) -> Apply:
            preview = dispatch.auto(env, dry_run=True)

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.act(lambda env: _dispatched(dispatch.auto(env)), "dispatched {assigned}, {unassigned} left unassigned")
            return lambda: self.push_screen(DispatchDialog(preview), confirmed)
        self.background(work)

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.value = self.filter.text()
        box.add_class("shown")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "search":
            return
        try:
            flt = Filter.parse(event.value)
        except TicketctlError as e:
            self.notify(str(e), severity="error")
            return
        event.input.remove_class("shown")
        self.backlog.focus()
        self.set_filter(flt)

    def action_clear_filter(self) -> None:
        box = self.query_one("#search", Input)
        if box.has_class("shown"):
            box.remove_class("shown")
            self.backlog.focus()
        elif self.filter.text():
            self.set_filter(Filter())

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        if isinstance(event.data_table, HeatMap):
            cell = event.data_table.cell_at(event.coordinate)
            if cell:
                self.backlog.focus()
                self.set_filter(Filter().with_fields(**cell))

    def action_heat_axes(self) -> None:
        heat = self.query_one(HeatMap)
        by = GROUPINGS[(GROUPINGS.index(heat.by) + 1) % len(GROUPINGS)]

        def work(env: Env) -> Apply:
            cells = _cells(heatmap.heatmap(env, by))
            def apply() -> None:
                heat.show(by, cells)
                self.show_filter()
            return apply
        self.background(work)

    def on_backlog_view_opened(self, event: BacklogView.Opened) -> None:
        screen = DetailScreen(event.key)
        self.push_screen(screen)

        def work(env: Env) -> Apply:
            t = tickets.show(env, event.key)
            return lambda: screen.show(t)
        self.background(work)

    def action_blocked(self) -> None:
        if any(isinstance(s, BlockedScreen) for s in self.screen_stack):
            return
        screen = BlockedScreen(blocked_view(self.load_rows))
        self.push_screen(screen)

        def work(env: Env) -> Apply:
            rk = board.ranking(env, "blocked")
            rows = board.rows(env, [r[2] for r in rk.ranks[:FIRST_ROWS]])
            summary = board.blocked_summary(env)

            def apply() -> None:
                self.blocked_rank = rk
                screen.view.set_ranking(rk.ranks, rows, keep=False)
                screen.show_summary(summary)
                screen.view.focus()
            return apply
        self.background(work, snapshot=True)

    def action_help(self) -> None:
        self.push_screen(HelpDialog([*((k, d) for k, _, _, d in ACTIONS), *MORE_KEYS]))

    def get_system_commands(self, screen: Screen[Any]) -> Iterator[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key, action, label, what in ACTIONS:
            if action not in ("quit", "help"):
                yield SystemCommand(label.capitalize(), f"{what} (key {key})", lambda a=action: self.run_action(a))


def _cells(hm: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    a, b = hm["by"]
    return {(c[a], c[b]): {k: c[k] for k in ("count", "over_4h", "oldest_age_h")} for c in hm["cells"]}


def _dispatched(r: dict[str, Any]) -> dict[str, Any]:
    return {"assigned": len(r["assigned"]), "unassigned": len(r["unassigned"])}

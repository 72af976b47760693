"""The dashboard's data side: what is on screen and how it stays current.

Threads: every read and every action runs in a worker thread with its own
``Env`` (and so its own SQLite connection; WAL lets it read while others
write), one at a time (``self.lock``), and hands the result to the UI thread
with ``call_from_thread``. Input is never blocked by the database.

Live: twice a second a worker asks for the newest event ``seq`` (one index
lookup). When it moved, only what the new events touched is read again: the
sort keys and rows of those tickets, the heat-map cells they are or were in,
the header's counts, the technicians' loads, and (while they are open) the
approvals board and the trends screen, whatever the events were. A change from another shell,
from cron or from sync shows within a second, with no key pressed. On a
store set up for sync the same poll reads the outbox (pending and rejected
changes) and the time of the last sync for the header.

Keys stay quick: a ``field:value`` filter is cut from the ranking in memory
(``dashboard.Ranking.select``) and only the rows of the first page not cached
yet are read; there is no Footer (it rebuilds a widget per key each time the
focus moves), a one-line hint instead.
"""

from __future__ import annotations

import gc
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Static

from ticketctl.core.labels import HasLabels
from ticketctl.errors import TicketctlError
from ticketctl.i18n import N_, _, ngettext
from ticketctl.services import dashboard, heatmap, techs, tickets
from ticketctl.services.dashboard import Filter, Rank, Ranking
from ticketctl.services.env import Env
from ticketctl.tui.backlog import BacklogView
from ticketctl.tui.header import Counts, sync_state, sync_text
from ticketctl.tui.panels import HeatMap, TechLoad, axis, map_cells
from ticketctl.tui.reads import similar_docs, waiting_approvals, words
from ticketctl.tui.screens import ApprovalsScreen, BlockedScreen, DetailScreen, RejectedScreen
from ticketctl.tui.trends import TrendsScreen
from ticketctl.tui.trends import read as trends_data

#: what a worker hands back to run on the UI thread
Apply = Callable[[], object]
W = TypeVar("W", bound=Widget)
POLL_S = 0.5
RERANK_S = 60.0
#: from this many columns the heat map and the technicians' load stand beside the backlog
BESIDE = 160
#: (columns, rows) from which, on a narrower terminal, they stand below it; under this they are hidden until ``p``
STACKED = (120, 35)
FIRST_ROWS = 120
#: the filter syntax (the search box's placeholder, the help screen's line for ``/``)
FILTER_HELP = N_("filter, all parts at once: words dept:X product:X fault:X status:X priority:X reason:X"
                 " assignee:X or @X (- nobody) sla:breached|at_risk|ok|paused age:>2d|<4h")
class LiveApp(App[None]):
    """The dashboard's screen and data: layout, workers, loading and the live
    poll; ``Dashboard`` adds the actions. ``make_env`` gives a fresh Env (its
    own connection and "now") for each unit of work."""

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
    #heat-box { height: auto; }
    #load-box { height: 1fr; }
    #main.-stacked { layout: vertical; }
    #main.-stacked #right { width: 1fr; height: 40%; min-height: 8; max-height: 16; layout: horizontal; }
    #main.-stacked #heat-box, #main.-stacked #load-box { width: 1fr; height: 1fr; }
    #main.-stacked #heat { height: 1fr; max-height: 100%; }
    #main.-hidden #right { display: none; }
    #top.-narrow { height: auto; layout: vertical; }
    #top.-narrow #title, #top.-narrow #sync-state.-empty { display: none; }
    #top.-narrow #counts { padding: 0 1; height: 1; }
    #keys { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, make_env: Callable[[], Env], poll_s: float = POLL_S) -> None:
        super().__init__()
        self.make_env = make_env
        self.poll_s = poll_s
        self.lock = threading.Lock()
        self.filter = Filter()
        self.master: Ranking | None = None
        self.blocked_rank: Ranking | None = None
        self.seq = -1
        #: the outbox's rejected changes (``sync.client.status``), None while sync is not set up here
        self.rejected: list[dict[str, Any]] | None = None
        self.sync_text = ""
        self.ranked_at = 0.0
        self.polling = False
        self.poll_again = False
        self.reasons: dict[str, tuple[str, list[str]]] = {}
        #: the config read with the last reload: the team's own labels (``core.labels``)
        self.config: HasLabels | None = None
        self.backlog = BacklogView(self.load_rows, id="backlog")
        self.heat = HeatMap(id="heat")
        self.load = TechLoad(id="load")
        #: the panels shown (True) or hidden (False) by ``p``; None: as the terminal's size has them (:meth:`lay_out`)
        self.panels: bool | None = None
        self.hint_text = ""
        #: under 120 columns (:meth:`lay_out`); the header's counts as last read, shown again when that changes
        self.narrow = False
        self.counts: dict[str, int] | None = None
        self.clock_runs = "TICKETCTL_NOW" not in make_env().environ

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Static(_("ticketctl dashboard"), id="title")
            yield Counts(_("loading ..."), id="counts")
            # pending, rejected and the last sync, once sync is set up; on a narrow terminal a line under the counts
            yield Static("", id="sync-state", classes="-empty")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Input(placeholder=_(FILTER_HELP),
                            id="search")
                yield Static("", id="filter-line")
                yield self.backlog
            with Vertical(id="right"):
                with Vertical(id="heat-box"):
                    yield Static(_("heat map"), id="heat-caption", classes="caption")
                    yield self.heat
                with Vertical(id="load-box"):
                    yield Static(_("technicians: load / capacity"), classes="caption")
                    yield self.load
        yield Static(self.key_hint(None), id="keys")

    def key_hint(self, width: int | None) -> Text:
        """The key hint line at the bottom, in ``width`` cells (``Dashboard`` fills it from its actions)."""
        return Text()

    def on_mount(self) -> None:
        self.lay_out(self.size.width, self.size.height)
        self.backlog.focus()
        self.reload()
        self.set_interval(self.poll_s, self.poll)

    def on_resize(self, event: events.Resize) -> None:
        self.lay_out(event.size.width, event.size.height)

    def panels_shown(self, width: int, height: int) -> bool:
        """Whether the heat map and the load show at this size: as ``p`` last
        set them, else from :data:`STACKED` up."""
        if self.panels is not None:
            return self.panels
        return width >= BESIDE or (width >= STACKED[0] and height >= STACKED[1])

    def lay_out(self, width: int, height: int) -> None:
        """The main screen for a terminal of ``width`` x ``height``: the panels
        beside the backlog from :data:`BESIDE` columns, below it (side by side)
        on a narrower terminal, or hidden (under :data:`STACKED`, until ``p``);
        on a narrow terminal the title leaves the header to the counts, and the
        sync state takes a line under them; the key line fits its
        width. Classes and one line of text: no store read, no row measured."""
        shown = self.panels_shown(width, height)
        main = self.main_widget("#main", Horizontal)
        main.set_class(not shown, "-hidden")
        main.set_class(shown and width < BESIDE, "-stacked")
        narrow = width < STACKED[0]
        self.main_widget("#top", Horizontal).set_class(narrow, "-narrow")
        if narrow != self.narrow:
            self.narrow = narrow
            if self.counts is not None:
                self.show_counts(self.counts)
        hint = self.key_hint(width - 2)  # the line's padding
        if hint.plain != self.hint_text:
            self.hint_text = hint.plain
            self.main_widget("#keys", Static).update(hint)
        if not shown and isinstance(self.focused, (HeatMap, TechLoad)):
            self.backlog.focus()

    def main_widget(self, selector: str, kind: type[W]) -> W:
        """A widget of the main screen, whichever screen is on top (a poll may
        land while a dialog is open; ``query_one`` would search the dialog)."""
        return self.screen_stack[0].query_one(selector, kind)

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
                    # one read transaction: every figure from the same moment
                    with env.store.read_snapshot() if snapshot else nullcontext():
                        apply = work(env)
                except TicketctlError as e:
                    msg = str(e)
                    apply = lambda: self.notify(msg, severity="error", timeout=6)  # noqa: E731
                except Exception as e:
                    self._log_crash(env)
                    msg = _("internal error: {kind}: {error} (traceback in the log)").format(kind=type(e).__name__, error=e)
                    apply = lambda: self.notify(msg, severity="error", timeout=10)  # noqa: E731
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
        heat = self.heat
        by, flt, first = heat.by, self.filter, self.seq < 0
        board_open = self.approvals_open()
        trends_reason = self.trends_reason()

        def work(env: Env) -> Apply:
            seq = dashboard.last_seq(env)
            master = dashboard.ranking(env)
            ranks = master.select(flt, words(env, flt))
            rows = dashboard.rows(env, [r[2] for r in ranks[:FIRST_ROWS]])
            counts, team = dashboard.counts(env), techs.listing(env)
            cells = map_cells(heatmap.heatmap(env, by))
            reasons = {k: (v.label or k, list(v.fields)) for k, v in env.config.reasons.items()}
            waiting = waiting_approvals(env) if board_open else None
            trends = trends_data(env, trends_reason) if trends_reason else None
            cfg = env.config

            def apply() -> None:
                self.seq, self.master, self.ranked_at, self.reasons = seq, master, time.monotonic(), reasons
                self.config = self.backlog.cfg = cfg  # the team's own labels
                self.backlog.set_ranking(ranks, rows, keep=not first, of=master.of)
                self.show_counts(counts)
                heat.show(by, cells)
                self.load.show(team, resort=True)
                self.show_filter()
                self.refresh_open_screens(None, waiting=waiting, trends=trends)
                # 100k sort keys live as long as the ranking: keep the collector from walking them on every
                # collection (a full collection mid-keypress costs tens of ms); they are freed by refcount as ever
                gc.freeze()
                self.group(master)
            return apply

        self.background(work, snapshot=True)

    def group(self, rk: Ranking) -> None:
        """Group the ranking by each filter field in a thread of its own (no
        lock, no database: a copy of the ranks), so that a filter is a lookup."""
        ranks = rk.start_facets()

        def run() -> None:
            groups = dashboard.facets(ranks)
            if self.is_running:
                try:
                    self.call_from_thread(rk.set_facets, groups)
                except RuntimeError:  # the app closed meanwhile
                    pass

        self.run_worker(run, thread=True, group="facets", exit_on_error=False)

    def load_rows(self, keys: list[str]) -> None:
        """The backlog (or the blocked board) scrolled onto rows it has not read."""
        def work(env: Env) -> Apply:
            rows = dashboard.rows(env, keys)
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
        """Show the backlog ``flt`` keeps: exact fields are cut from the
        ranking in memory; free words ask SQLite (a worker). Then only the
        rows of the first page that are not cached yet are read."""
        master = self.master
        if master is None:
            return
        if flt.asks_sql():
            def work(env: Env) -> Apply:
                # one trip: the rows the words keep, their ranks and the first page's rows not cached yet
                keep = words(env, flt)
                ranks, version = master.select(flt, keep), master.version
                rows = dashboard.rows(env, self._missing(ranks))
                return lambda: self._show_selected(master, flt, keep, ranks, version, rows)
            self.background(work)
        else:
            self._show_filtered(master, flt, None)

    def _missing(self, ranks: list[Rank]) -> list[str]:
        """Keys of the first page of ``ranks`` whose rows are not cached."""
        cache = self.backlog.cache
        return [r[2] for r in ranks[: self.backlog.page_height + 2] if r[2] not in cache]

    def _show_filtered(self, master: Ranking, flt: Filter, keep: set[int] | None) -> None:
        ranks, version = master.select(flt, keep), master.version
        missing = self._missing(ranks)
        if not missing:
            self._show_selected(master, flt, keep, ranks, version, {})
            return

        def work(env: Env) -> Apply:
            rows = dashboard.rows(env, missing)
            return lambda: self._show_selected(master, flt, keep, ranks, version, rows)
        self.background(work)

    def _show_selected(self, master: Ranking, flt: Filter, keep: set[int] | None, ranks: list[Rank], version: int,
                       rows: dict[str, dict[str, Any]]) -> None:
        """Show ``ranks`` (``master.select(flt, keep)`` at ``version``) with the
        first page's ``rows``; a ranking a poll patched meanwhile is selected again."""
        if master is not self.master:
            return
        shown = ranks if master.version == version else master.select(flt, keep)
        self.filter = flt
        self.backlog.set_ranking(shown, rows, keep=False, of=master.of, fresh=False)
        self.show_filter()

    # -- live ---------------------------------------------------------------------

    def poll(self) -> None:
        """Ask whether anything changed; read again only what did."""
        if self.seq < 0:
            return
        if self.polling:
            self.poll_again = True
            return
        self.polling = True
        seq, flt, by, master = self.seq, self.filter, self.heat.by, self.master
        blocked = self.blocked_rank if any(isinstance(s, BlockedScreen) for s in self.screen_stack) else None
        detail = [s.key for s in self.screen_stack if isinstance(s, DetailScreen)]
        board_open = self.approvals_open()
        trends_reason = self.trends_reason()
        if self.clock_runs and time.monotonic() - self.ranked_at > RERANK_S:
            self.polling = False
            self.reload()
            return

        def work(env: Env) -> Apply | None:
            sync = sync_state(env)
            ch = dashboard.changes_since(env, seq)
            if ch.seq == seq:
                return lambda: self._poll_done(sync)
            if ch.many or master is None:
                return self._reload_after_poll
            new = dashboard.ranks(env, master, ch.tickets)
            live = [k for k, r in new.items() if r is not None]
            keep = dashboard.matching(env, flt, live)
            shown = {k: (r if r is not None and (keep is None or r[3] in keep) else None) for k, r in new.items()}
            rows = dashboard.rows(env, live[:1000])
            blocked_new = dashboard.ranks(env, blocked, ch.tickets) if blocked is not None else None
            counts = dashboard.counts(env)
            cells = dashboard.heat_cells(env, by, ch.tickets, ch.previous)
            team = techs.listing(env) if ch.techs else None
            shows = {k: tickets.show(env, k) for k in detail if k in ch.tickets}
            summary = dashboard.blocked_summary(env) if blocked is not None else None
            waiting = waiting_approvals(env) if board_open else None  # a decision, a delegation, a request: any event
            trends = trends_data(env, trends_reason) if trends_reason else None  # any event may move a figure

            def apply() -> None:
                if master is not self.master:  # a reload read everything meanwhile
                    self._poll_done(sync)
                    return
                self.seq = ch.seq
                self.backlog.patch(master.patch(new), shown, rows)
                if blocked is not None and blocked_new is not None:
                    old = blocked.patch(blocked_new)
                    for v in self.views()[1:]:
                        v.patch(old, blocked_new, rows)
                self.show_counts(counts)
                heat = self.heat
                if heat.by == by:
                    heat.patch(cells)
                if team is not None:
                    self.load.show(team)
                self.show_filter()
                self.refresh_open_screens(shows, summary, waiting, trends)
                self._poll_done(sync)
            return apply

        self.background(work, snapshot=True)

    def _reload_after_poll(self) -> None:
        self._poll_done()
        self.reload()

    def _poll_done(self, *sync: dict[str, Any] | None) -> None:
        """The poll finished; with the sync state it read, shown."""
        if sync:
            self.show_sync(sync[0])
        self.polling = False
        if self.poll_again:
            self.poll_again = False
            self.poll()

    def approvals_open(self) -> bool:
        return any(isinstance(s, ApprovalsScreen) for s in self.screen_stack)

    def trends_reason(self) -> str | None:
        """The block reason the open trends screen shows (None: it is not open)."""
        return next((s.reason for s in self.screen_stack if isinstance(s, TrendsScreen)), None)

    def read_trends(self, screen: TrendsScreen) -> None:
        """The trends screen's figures for its reason now, read in the worker (one read transaction)."""
        reason = screen.reason

        def work(env: Env) -> Apply:
            data = trends_data(env, reason)
            return lambda: screen.show(data)
        self.background(work, snapshot=True)

    def refresh_open_screens(self, shows: dict[str, dict[str, Any]] | None, summary: list[dict[str, Any]] | None = None,
                             waiting: tuple[list[dict[str, Any]], int] | None = None,
                             trends: dict[str, Any] | None = None) -> None:
        for s in self.screen_stack:
            if isinstance(s, TrendsScreen) and trends is not None:
                s.show(trends)
            if isinstance(s, ApprovalsScreen) and waiting is not None:
                s.show(*waiting)
            if isinstance(s, DetailScreen) and shows and s.key in shows:
                s.show(shows[s.key])
                self.read_similar(s)
            if isinstance(s, BlockedScreen) and summary is not None:
                s.show_summary(summary)

    def read_similar(self, screen: DetailScreen) -> None:
        """The detail screen's similar documents, read again after its ticket
        changed (a resolution note is among the words they are found by). A
        worker of its own, not the poll's: ``kb.similar`` may catch the index
        up, a write, which must not run inside the poll's read transaction."""
        key = screen.key

        def work(env: Env) -> Apply:
            sim = similar_docs(env, key)
            return lambda: screen.show_similar(sim) if screen.key == key else None
        self.background(work)

    def show_sync(self, sync: dict[str, Any] | None) -> None:
        """The header's sync state: pending and rejected changes and the last
        sync; nothing while sync is not set up here. An open rejected-changes
        screen follows."""
        self.rejected = None if sync is None else sync["rejected"]
        text = sync_text(sync)
        if text.plain != self.sync_text:
            self.sync_text = text.plain
            state = self.main_widget("#sync-state", Static)
            state.update(text)
            state.set_class(not text.plain, "-empty")
        for s in self.screen_stack:
            if isinstance(s, RejectedScreen) and self.rejected is not None:
                s.show(self.rejected)

    def show_counts(self, c: dict[str, int]) -> None:
        """The header's counts; two spaces apart on a narrow terminal (under
        120 columns), where ``open 100,000  unassigned 67,000 ... blocked 5,700``
        just fits 80."""
        self.counts = c
        self.main_widget("#counts", Counts).show(c, self.narrow)

    def show_filter(self) -> None:
        n = len(self.backlog.ranks)
        what = (_("filter: {filter}  (escape clears)").format(filter=self.filter.text()) if self.filter.text()
                else _("all open tickets, by weight"))
        self.main_widget("#filter-line", Static).update(
            ngettext("{n} ticket  {what}", "{n} tickets  {what}", n).format(n=f"{n:,}", what=what))
        by = self.heat.by
        self.main_widget("#heat-caption", Static).update(
            _("heat map: {rows} x {columns}  (* tickets older than 4 h; t switches)").format(rows=axis(by[0]), columns=axis(by[1])))



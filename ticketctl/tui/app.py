"""The dispatcher's dashboard: the backlog by weight, where it piles up, who
has room, and every action a key away. Each action gathers what it needs in a
dialog, then calls the same service function as the CLI command of the same
name, in a worker; a refused action shows the service's reason. Its effect
then shows the way any change shows: through the live poll (``live.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from rich.text import Text
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input

from ticketctl.core.labels import HasLabels
from ticketctl.errors import TicketctlError
from ticketctl.i18n import N_, _
from ticketctl.services import dashboard, dispatch, heatmap, tickets
from ticketctl.services.dashboard import Filter
from ticketctl.services.env import Env
from ticketctl.tui.backlog import BacklogView
from ticketctl.tui.dialogs import AssignDialog, BlockDialog, DispatchDialog, ForceAssignDialog, HelpDialog, PromptDialog
from ticketctl.tui.header import sync_state
from ticketctl.tui.live import FILTER_HELP, FIRST_ROWS, Apply, LiveApp
from ticketctl.tui.panels import GROUPINGS, HeatMap, map_cells
from ticketctl.tui.reads import similar_docs, waiting_approvals
from ticketctl.tui.screens import ApprovalsScreen, BlockedScreen, DetailScreen, RejectedScreen, blocked_view
from ticketctl.tui.trends import TrendsScreen
from ticketctl.tui.words import shown

#: (key, action, footer label, description): the bindings, the command palette and the help screen
ACTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("a", "assign", N_("assign"), N_("assign: technicians ranked by the dispatch engine, with the reason for each")),
    ("b", "block", N_("block"), N_("block with a reason from the menu (collaboration asks for its four fields)")),
    ("u", "unblock", N_("unblock"), N_("unblock")),
    ("s", "start", N_("start"), N_("start work")),
    ("r", "resolve", N_("resolve"), N_("resolve, with an optional note")),
    ("n", "note", N_("note"), N_("add a note")),
    ("e", "escalate", N_("escalate"), N_("escalate to the department's supervisor")),
    ("d", "dispatch", N_("dispatch all"), N_("dispatch the whole backlog, after a preview")),
    ("/", "search", N_("filter"), FILTER_HELP),
    ("t", "heat_axes", N_("heat axes"), N_("heat map axes: dept x product, dept x fault, product x fault")),
    ("p", "panels", N_("panels"), N_("show or hide the heat map and the technicians' load (hidden under 120x35 until shown)")),
    ("B", "blocked", N_("blocked"), N_("blocked board: by reason, longest blocked first")),
    ("A", "approvals", N_("approvals"), N_("approvals board: steps waiting for a decision, their age and who holds them")),
    ("T", "trends", N_("trends"), N_("trends: wait per department against 2 h, opened, closed and blocked per day,"
                                   " technicians on time over their last 30")),
    ("R", "rejected", N_("rejected"), N_("changes the sync server rejected, with its reasons: r retries one, x discards it")),
    ("S", "sync_now", N_("sync now"), N_("sync now: push this store's changes, pull the team's")),
    ("?", "help", N_("help"), N_("help: every key")),
    ("q", "quit", N_("quit"), N_("quit")),
)
#: keys that only the help screen lists (the widgets bind them)
MORE_KEYS = (("enter", N_("open the ticket (backlog); filter the backlog to the cell (heat map)")),
             ("escape", N_("clear the filter; back from a screen or dialog")),
             ("tab", N_("next panel: backlog, heat map, technicians")),
             ("ctrl+p", N_("command palette: every action by name")))
#: a key per header count (left to right), which filters the backlog to exactly the tickets it counts
#: (``dashboard.COUNT_FILTERS``); only the help screen lists them, the bottom line has no room
COUNT_KEYS = (("1", "open", N_("show every open ticket (the header's open count)")),
              ("2", "unassigned", N_("filter to the unassigned tickets (assignee:-), as the header counts them")),
              ("3", "at_risk", N_("filter to the tickets at risk (sla:at_risk), as the header counts them")),
              ("4", "breached", N_("filter to the tickets past their SLA (sla:breached), as the header counts them")),
              ("5", "blocked", N_("filter to the blocked tickets (status:blocked), as the header counts them")))
KEY_NAMES = {"/": "slash", "?": "question_mark", "A": "A,shift+a", "B": "B,shift+b", "R": "R,shift+r", "S": "S,shift+s", "T": "T,shift+t"}
TICKET_ACTIONS = ("assign", "block", "unblock", "start", "resolve", "note", "escalate")
#: Textual's own command palette entries (``App.get_system_commands``), for the catalog: shown through ``_``
TEXTUAL_COMMANDS = (N_("Theme"), N_("Change the current theme"), N_("Quit"), N_("Quit the application as soon as possible"),
                    N_("Keys"), N_("Hide the keys and widget help panel"),
                    N_("Show help for the focused widget and a summary of available keys"),
                    N_("Minimize"), N_("Minimize the widget and restore to normal size"), N_("Maximize"),
                    N_("Maximize the focused widget"), N_("Screenshot"), N_("Save an SVG 'screenshot' of the current screen"))


def describe(t: dict[str, Any], cfg: HasLabels | None = None) -> str:
    """``TST-3 blocked (awaiting_parts) @ana``: a ticket after an action, in the reader's language."""
    who = f" @{t['assignee']}" if t.get("assignee") else ""
    status = shown("status", t["status"], cfg)
    if t.get("blocked_reason"):
        status = _("{status} ({reason})").format(status=status, reason=shown("reason", t["blocked_reason"], cfg))
    return f"{t['key']} {status}{who}"


def hint(width: int | None = None) -> Text:
    """The bottom line: each action's key and label, in the current language;
    help and quit first. In ``width`` cells: when the line is wider, the
    labels go from the last one back (the keys stay, one space apart), so
    that every key stays on the line and ``?`` says what each does::

        ? help  q quit  a assign  b block ... d dispatch all  / filter ... S sync now  ctrl+p all actions
        ? help  q quit  a assign  b block ... d dispatch all  / t p B A R S ctrl+p
    """
    first = [a for a in ACTIONS if a[0] in ("?", "q")]
    items = [(key, _(label)) for key, _action, label, _what in (*first, *(a for a in ACTIONS if a not in first))]
    items.append(("ctrl+p", _("all actions")))

    def line(labelled: int) -> Text:
        text = Text()
        for i, (key, label) in enumerate(items):
            text.append(key, "bold").append(f" {label}  " if i < labelled else " ")
        text.rstrip()
        return text

    labelled = len(items)
    text = line(labelled)
    while width is not None and labelled > 1 and text.cell_len > width:
        labelled -= 1
        text = line(labelled)
    return text


class Dashboard(LiveApp):
    """``ticketctl`` in a terminal."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(KEY_NAMES.get(k, k), a, label) for k, a, label, _what in ACTIONS),
        Binding("escape", "clear_filter", "clear filter", show=False),
        *(Binding(k, f"count('{name}')", name, show=False) for k, name, _what in COUNT_KEYS),
    ]

    def key_hint(self, width: int | None) -> Text:
        return hint(width)

    # -- actions ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dialogs own the keyboard: no ticket action fires from under one."""
        if isinstance(self.screen, ModalScreen) and action in (*TICKET_ACTIONS, "dispatch", "search", "heat_axes",
                                                                  "blocked", "approvals", "rejected", "trends", "sync_now", "help",
                                                                  "clear_filter", "count", "panels", "quit"):
            return False
        if isinstance(self.screen, (RejectedScreen, TrendsScreen)) and action in (*TICKET_ACTIONS, "dispatch", "search",
                                                                                  "heat_axes"):
            return False  # no ticket under the cursor there: r (and x) are the screen's own
        if action in ("count", "panels") and self.screen is not self.screen_stack[0]:
            return False  # the backlog is not on screen
        return True

    def current_key(self) -> str | None:
        s = self.screen
        if isinstance(s, DetailScreen):
            return s.key
        if isinstance(s, BlockedScreen):
            return s.view.current_key
        if isinstance(s, ApprovalsScreen):
            return s.current_key
        return self.backlog.current_key

    def act(self, fn: Callable[[Env], dict[str, Any]], done: str) -> None:
        """Run one service call; say what happened, then show its effect the way
        any other change shows (the poll)."""
        def work(env: Env) -> Apply:
            r = fn(env)
            msg = _("{done}: {ticket}").format(done=done, ticket=describe(r, env.config)) if "key" in r else done.format(**r)
            def apply() -> None:
                self.notify(msg, timeout=4)
                self.poll()
            return apply
        self.background(work)

    def _with_key(self) -> str | None:
        key = self.current_key()
        if key is None:
            self.notify(_("no ticket selected"), severity="warning")
        return key

    def action_assign(self) -> None:
        key = self._with_key()
        if key is None:
            return

        def work(env: Env) -> Apply:
            ex = dispatch.explain(env, key)

            def chosen(name: str | None) -> None:
                cand = next((c for c in ex["candidates"] if c["name"] == name), None)
                if not name or cand is None:
                    return
                if cand["verdict"] == "eligible":
                    self.act(lambda env: tickets.assign(env, key, name), _("assigned to {name}").format(name=name))
                    return

                def confirmed(reason: str | None) -> None:
                    if reason:  # the same call as `ticketctl assign KEY NAME --force`, with the reason
                        self.act(lambda env: tickets.assign(env, key, name, True, {"reason": reason}),
                                 _("assigned to {name} (forced)").format(name=name))
                self.push_screen(ForceAssignDialog(ex["key"], cand), confirmed)
            return lambda: self.push_screen(AssignDialog(ex), chosen)
        self.background(work)

    def action_block(self) -> None:
        key = self._with_key()
        if key is None:
            return

        def chosen(r: tuple[str, dict[str, str]] | None) -> None:
            if r:
                self.act(lambda env: tickets.block(env, key, r[0], r[1]), _("blocked"))
        self.push_screen(BlockDialog(key, self.reasons, self.config), chosen)

    def action_unblock(self) -> None:
        key = self._with_key()
        if key:
            self.act(lambda env: tickets.unblock(env, key), _("unblocked"))

    def action_start(self) -> None:
        key = self._with_key()
        if key:
            self.act(lambda env: tickets.start(env, key), _("started"))

    def _prompt(self, title: str, placeholder: str, optional: bool, then: Callable[[str], None]) -> None:
        self.push_screen(PromptDialog(title, placeholder, optional), lambda text: then(text) if text is not None else None)

    def action_resolve(self) -> None:
        key = self._with_key()
        if key:
            self._prompt(_("Resolve {key}").format(key=key), _("what was done (optional)"), True,
                         lambda text: self.act(lambda env: tickets.resolve(env, key, text or None), _("resolved")))

    def action_note(self) -> None:
        key = self._with_key()
        if key:
            self._prompt(_("Note on {key}").format(key=key), _("the note"), False,
                         lambda text: self.act(lambda env: tickets.note(env, key, text), _("noted")))

    def action_escalate(self) -> None:
        key = self._with_key()
        if key:
            self._prompt(_("Escalate {key} to the supervisor").format(key=key), _("why"), False,
                         lambda text: self.act(lambda env: dashboard.escalate(env, key, text), _("escalated")))

    def action_dispatch(self) -> None:
        def work(env: Env) -> Apply:
            preview = dispatch.auto(env, dry_run=True)

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.act(lambda env: _dispatched(dispatch.auto(env)), _("dispatched {assigned}, {unassigned} left unassigned"))
            return lambda: self.push_screen(DispatchDialog(preview), confirmed)
        self.background(work)

    def action_search(self) -> None:
        box = self.main_widget("#search", Input)
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
        box = self.main_widget("#search", Input)
        if box.has_class("shown"):
            box.remove_class("shown")
            self.backlog.focus()
        elif self.filter.text():
            self.set_filter(Filter())

    def action_count(self, name: str) -> None:
        """A header count's key (or a click on it): the backlog filtered to exactly the tickets it counts."""
        box = self.main_widget("#search", Input)
        box.remove_class("shown")
        self.backlog.focus()
        self.set_filter(dashboard.COUNT_FILTERS[name])

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        if isinstance(event.data_table, HeatMap):
            cell = event.data_table.cell_at(event.coordinate)
            if cell:
                self.backlog.focus()
                self.set_filter(Filter().with_fields(**cell))

    def action_heat_axes(self) -> None:
        heat = self.heat
        by = GROUPINGS[(GROUPINGS.index(heat.by) + 1) % len(GROUPINGS)]

        def work(env: Env) -> Apply:
            cells = map_cells(heatmap.heatmap(env, by))
            def apply() -> None:
                heat.show(by, cells)
                self.show_filter()
            return apply
        self.background(work)

    def action_panels(self) -> None:
        """Show or hide the heat map and the technicians' load (below the
        backlog on a terminal under 160 columns); the choice holds until ``p``
        again, whatever the terminal's size."""
        width, height = self.size
        self.panels = not self.panels_shown(width, height)
        self.lay_out(width, height)

    def on_backlog_view_opened(self, event: BacklogView.Opened) -> None:
        self.open_ticket(event.key)

    def on_approvals_screen_opened(self, event: ApprovalsScreen.Opened) -> None:
        self.open_ticket(event.key)

    def open_ticket(self, key: str) -> None:
        """Enter on a ticket (the backlog, the blocked board, the approvals board): its detail."""
        screen = DetailScreen(key)
        self.push_screen(screen)

        def work(env: Env) -> Apply:
            t = tickets.show(env, key)
            sim = similar_docs(env, t["key"])
            return lambda: screen.show(t, sim)
        self.background(work)

    def action_blocked(self) -> None:
        if any(isinstance(s, BlockedScreen) for s in self.screen_stack):
            return
        screen = BlockedScreen(blocked_view(self.load_rows, self.config))
        self.push_screen(screen)

        def work(env: Env) -> Apply:
            rk = dashboard.ranking(env, "blocked")
            rows = dashboard.rows(env, [r[2] for r in rk.ranks[:FIRST_ROWS]])
            summary = dashboard.blocked_summary(env)

            def apply() -> None:
                self.blocked_rank = rk
                screen.view.set_ranking(list(rk.ranks), rows, keep=False, of=rk.of)
                screen.show_summary(summary)
                screen.view.focus()
            return apply
        self.background(work, snapshot=True)

    def action_approvals(self) -> None:
        if any(isinstance(s, ApprovalsScreen) for s in self.screen_stack):
            return
        screen = ApprovalsScreen()
        self.push_screen(screen)

        def work(env: Env) -> Apply:
            pending, day_s = waiting_approvals(env)

            def apply() -> None:
                if screen.is_attached:  # not closed while it was read
                    screen.show(pending, day_s)
            return apply
        self.background(work)

    def action_trends(self) -> None:
        """The trends screen; its figures read in a worker, again for each reason ``r`` picks and on each poll."""
        if any(isinstance(s, TrendsScreen) for s in self.screen_stack):
            return
        screen = TrendsScreen(list(self.reasons), self.config)
        screen.on_reason = lambda reason: self.read_trends(screen)
        self.push_screen(screen)
        self.read_trends(screen)

    def action_rejected(self) -> None:
        if any(isinstance(s, RejectedScreen) for s in self.screen_stack):
            return
        if self.rejected is None:
            self.notify(_("sync is not set up here: `ticketctl sync setup URL --token TOKEN`"), severity="warning")
            return
        self.push_screen(RejectedScreen(self.rejected))

    def on_rejected_screen_act(self, event: RejectedScreen.Act) -> None:
        """Retry or discard a rejected change, then read the sync state again."""
        from ticketctl.sync import client

        change = event.change

        def work(env: Env) -> Apply:
            if event.action == "retry":
                r = client.retry(env, change)
                msg = _("change {id} ({name}) ran again here; it goes out with the next sync").format(id=change, name=r["name"])
            else:
                r = client.discard(env, change)
                msg = _("change {id} ({name}) discarded; its effect here is undone").format(id=change, name=r["name"])
            sync = sync_state(env)

            def apply() -> None:
                self.notify(msg, timeout=5)
                self.show_sync(sync)
                self.poll()
            return apply
        self.background(work)

    def action_sync_now(self) -> None:
        """``ticketctl sync`` in a thread of its own (a slow or absent server
        never holds up the dashboard's reads); the outcome is a notification."""
        if self.rejected is None:
            self.notify(_("sync is not set up here: `ticketctl sync setup URL --token TOKEN`"), severity="warning")
            return
        self.notify(_("syncing ..."), timeout=2)

        def run() -> None:
            from ticketctl.sync import client

            severity: SeverityLevel = "information"
            with self.session() as env:
                try:
                    r = client.sync(env)
                    msg = _("synced: pushed {pushed}, pulled {pulled}, {rejected} rejected, {pending} pending").format(
                        pushed=r["pushed"], pulled=r["pulled"], rejected=len(r["rejected"]), pending=len(r["pending"]))
                    if r["rejected"]:
                        severity = "warning"
                except TicketctlError as e:
                    msg, severity = str(e), "error"
                except Exception as e:
                    self._log_crash(env)
                    msg, severity = _("internal error: {kind}: {error} (traceback in the log)").format(
                        kind=type(e).__name__, error=e), "error"

            def done() -> None:
                self.notify(msg, severity=severity, timeout=6)
                self.poll()
            if self.is_running:
                try:
                    self.call_from_thread(done)
                except RuntimeError:  # the app closed meanwhile
                    pass

        self.run_worker(run, thread=True, group="sync", exclusive=True, exit_on_error=False)

    def action_help(self) -> None:
        self.push_screen(HelpDialog([*((k, _(d)) for k, _action, _label, d in ACTIONS), *((k, _(d)) for k, _n, d in COUNT_KEYS),
                                     *((k, _(d)) for k, d in MORE_KEYS)]))

    def action_command_palette(self) -> None:
        """Textual's palette, with its placeholder in the current language."""
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            self.push_screen(CommandPalette(placeholder=_("Search for commands…"), id="--command-palette"))

    def get_system_commands(self, screen: Screen[Any]) -> Iterator[SystemCommand]:
        for c in super().get_system_commands(screen):  # Textual's own, in the current language where the catalog has them
            yield SystemCommand(_(c.title), _(c.help), c.callback, c.discover)
        for key, action, label, what in ACTIONS:
            if action not in ("quit", "help"):
                yield SystemCommand(_(label).capitalize(), _("{what} (key {key})").format(what=_(what), key=key),
                                    lambda a=action: self.run_action(a))


def _dispatched(r: dict[str, Any]) -> dict[str, Any]:
    return {"assigned": len(r["assigned"]), "unassigned": len(r["unassigned"])}

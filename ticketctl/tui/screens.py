"""Full screens over the main one: a ticket's detail, the blocked board, the
approvals board and the changes the sync server rejected."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ticketctl.core import approvals as approval_rules
from ticketctl.core import kb
from ticketctl.core.labels import HasLabels, event_label, label
from ticketctl.i18n import N_, _, localize
from ticketctl.render.kb import match_reason
from ticketctl.render.show import event_text
from ticketctl.render.text import duration
from ticketctl.tui.backlog import BLOCKED_COLUMNS, SLA_STYLE, BacklogView
from ticketctl.tui.dialogs import field_label
from ticketctl.tui.words import join, join_clauses, shown
from ticketctl.tui.wrap import Wrapped

HINT = N_("escape back   a assign  b block  u unblock  s start  r resolve  n note  e escalate   ? help")
BLOCKED_HINT = N_("escape back   enter open   a assign  u unblock  s start  r resolve  n note  e escalate   ? help")
APPROVALS_HINT = N_("escape back   enter open   n note  e escalate   ? help")
REJECTED_HINT = N_("escape back   r retry: run it again here, it goes out with the next sync   x discard: undo it here   S sync now")
#: the timeline's columns (the last, the event's text, has no title)
TIMELINE_COLUMNS = (N_("at"), N_("who"), N_("what"), "")
HINT_CSS = "{name} .hint {{ dock: bottom; height: 1; background: $panel; color: $text-muted; padding: 0 1; }}"


def similar_section(similar: list[dict[str, Any]]) -> list[RenderableType]:
    """The resolved tickets and articles most like this ticket, each labelled
    with its kind and why it matched; an empty list says so, so that "none
    yet" never reads as "not loaded"."""
    head = Text("\n" + _("similar"), style="bold")
    if not similar:
        return [head, Text(_(kb.NOTHING_SIMILAR), style="dim")]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_column(style="dim", overflow="fold")
    for r in similar:
        kind = _("article") if r["kind"] == "article" else _("ticket")
        grid.add_row(Text(kind), Text(r["id"]), Wrapped(r["title"]), Wrapped(match_reason(r)))
    return [head, grid]


def detail(t: dict[str, Any], similar: list[dict[str, Any]] | None = None, cfg: HasLabels | None = None) -> Group:
    """``ticketctl show`` as one renderable: fields, SLA clocks, checklist, the
    similar resolved tickets and articles (when read: ``similar`` not None;
    above the timeline, which grows, so they show without scrolling), timeline."""
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="dim", justify="right")
    fields.add_column(overflow="fold")  # a Chinese description has no spaces to wrap at: fold it, never cut it to "…"
    status = shown("status", t["status"], cfg)
    if t["blocked_reason"]:
        status = _("{status} ({reason}, {time})").format(status=status, reason=shown("reason", t["blocked_reason"], cfg),
                                                         time=duration(t["blocked_for_s"]))
    sla = SLA_STYLE[t["sla_state"]]
    left = duration(t["sla_resolve_left_s"]) if t["sla_state"] != "done" else ""
    met = t["sla_response_met"]
    rows: list[tuple[str, Any]] = [
        (N_("status"), status),
        (N_("assignee"), t["assignee"] or "-"),
        (N_("priority"), _("{priority} / impact {impact} / weight {weight}").format(
            priority=shown("priority", t["priority"], cfg), impact=shown("impact", t["impact"], cfg), weight=f"{t['weight']:.1f}")),
        (N_("type"), shown("type", t["type"], cfg)),
        (N_("where"), " / ".join(x for x in (t["dept"], t["product"], t["fault"], t["zone"]) if x)),
        (N_("customer"), " ".join(x for x in (t["customer"], t["phone"], shown("channel", t["channel"], cfg)) if x) or "-"),
        (N_("response due"), t["sla_response_due"] + ("" if met is None else "  " + (_("(met: yes)") if met else _("(met: no)")))),
        (N_("resolve due"), Text.assemble(f"{t['sla_resolve_due'] or '-'}  ", (f"{shown('sla', t['sla_state'], cfg)} {left}", sla))),
        (N_("created"), t["created_at"]),
    ]
    if t["block"]:
        rows.append((N_("block"), join_clauses(_("{field}: {value}").format(field=field_label(k), value=v)
                                               for k, v in t["block"].items())))
    if t["blocked_seconds"]:
        rows.append((N_("blocked time"), join(f"{shown('reason', k, cfg)} {duration(v)}" for k, v in t["blocked_seconds"].items())))
    if t["escalations"]:
        rows.append((N_("escalations"), join(sorted(t["escalations"]))))
    if t["description"]:
        rows.append((N_("description"), t["description"]))
    if t.get("checklist"):
        rows.append((N_("checklist"), Text("  ").join(
            Text.assemble(("[x] ", "green") if i["done"] else ("[ ] ", "dim"), shown("checklist", i["item"], cfg))
            for i in t["checklist"])))
    for k, v in rows:
        fields.add_row(_(k), Wrapped(v if isinstance(v, Text) else Text(str(v))))  # no line starts with ，or ）
    timeline = Table(box=None, header_style="bold", pad_edge=False, expand=True)
    for col in TIMELINE_COLUMNS:
        timeline.add_column(_(col) if col else "", no_wrap=col != "", overflow="fold" if col == "" else "ellipsis")
    for e in t.get("timeline", []):
        timeline.add_row(e["at"], e["actor"], event_label(e["type"], cfg), Wrapped(event_text(e)))
    return Group(Wrapped(Text.assemble((t["key"], "bold"), "  ", t["title"], "\n")), fields,
                 *(similar_section(similar) if similar is not None else ()), Text("\n" + _("timeline"), style="bold"), timeline)


class DetailScreen(Screen[None]):
    """One ticket; it follows changes made anywhere while it is open. The
    action keys (a, b, u, s, r, n, e) act on it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "back")]
    DEFAULT_CSS = "DetailScreen #detail { padding: 1 2; }\n" + HINT_CSS.format(name="DetailScreen")

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.ticket: dict[str, Any] | None = None
        #: the similar resolved tickets and articles, once read (``kb.similar``, by the app's worker)
        self.similar: list[dict[str, Any]] | None = None

    def compose(self) -> ComposeResult:
        # one hint line, not a Footer: a Footer is a widget per key to style, and opening a ticket must feel instant
        with VerticalScroll():
            yield Static(Text(_("loading {key} ...").format(key=self.key), style="dim"), id="detail")
        yield Static(_(HINT), classes="hint")

    def show(self, t: dict[str, Any], similar: list[dict[str, Any]] | None = None) -> None:
        """The ticket ``t``; with ``similar``, that list too (without, the one
        shown stays: the poll reads it again after, outside its snapshot)."""
        self.ticket = t
        self.key = t["key"]
        if similar is not None:
            self.similar = similar
        self.query_one("#detail", Static).update(detail(t, self.similar, getattr(self.app, "config", None)))

    def show_similar(self, similar: list[dict[str, Any]]) -> None:
        """Only the similar section anew (a worker read it after the poll); a
        screen closed meanwhile is left alone."""
        if self.ticket is not None and self.is_attached:
            self.show(self.ticket, similar)


class BlockedScreen(Screen[None]):
    """Every blocked ticket, by reason, the longest blocked first within each;
    above, per reason, how many and since when."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "back")]
    DEFAULT_CSS = """
    BlockedScreen #blocked-summary { height: auto; padding: 0 1; background: $panel; }
    BlockedScreen BacklogView { height: 1fr; }
    """ + HINT_CSS.format(name="BlockedScreen")

    def __init__(self, view: BacklogView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield Static(Text(_("loading ..."), style="dim"), id="blocked-summary")
        yield self.view
        yield Static(_(BLOCKED_HINT), classes="hint")

    def show_summary(self, summary: list[dict[str, Any]]) -> None:
        text = Text(_("blocked now: "), style="bold")
        if not summary:
            text.append(_("nothing is blocked"), style="dim")
        cfg = getattr(self.app, "config", None)
        for s in summary:
            own = shown("reason", s["reason"], cfg)
            name = own if own != s["reason"] else _(s["label"]) if s["label"] else own
            oldest = _("(oldest {age})").format(age=duration(s["oldest_s"]))
            text.append(f"{name} ", "magenta").append(f"{s['count']}", "bold").append(
                ("" if oldest.startswith("（") else " ") + oldest + "   ", "dim")  # a full-width bracket brings its own space
        self.query_one("#blocked-summary", Static).update(text)


def blocked_view(loader: Any, cfg: HasLabels | None = None) -> BacklogView:
    view = BacklogView(loader, BLOCKED_COLUMNS, id="blocked")
    view.cfg = cfg
    return view


#: the approvals board's columns (the words of ``ticketctl approval list``)
APPROVAL_COLUMNS = approval_rules.COLUMNS


def business_duration(seconds: int, day_s: int) -> str:
    """``1d 2h``, ``2d``, ``3h 05m``, ``8h``, ``45m`` of business seconds, a
    day being the calendar's business day (``day_s``, 10 h by default): a
    limit configured as ``2d`` reads ``2d``, where wall days would say ``20h 00m``."""
    sign, s = ("-" if seconds < 0 else ""), abs(int(seconds))
    d, rem = divmod(s, max(int(day_s), 1))
    h, rem = divmod(rem, 3600)
    m = rem // 60
    if d:
        return _("{sign}{days}d {hours}h").format(sign=sign, days=d, hours=h) if h else _("{sign}{days}d").format(sign=sign, days=d)
    if h:
        return _("{sign}{hours}h {minutes}m").format(sign=sign, hours=h, minutes=f"{m:02d}") if m else _("{sign}{hours}h").format(
            sign=sign, hours=h)
    return _("{sign}{minutes}m").format(sign=sign, minutes=m)


def step_style(waited_s: int, limit_s: int) -> str:
    """Red past the step's limit, yellow from half of it: the moments ``sweep``
    escalates the step and reminds its approvers (``core.sweep.approval``)."""
    if waited_s > limit_s:
        return "bold red"
    return "yellow" if 2 * waited_s >= limit_s else ""


def held_by(step: dict[str, Any]) -> str:
    """The step's approvers, ``rita (away, lee stands in)`` for one whose delegate stands in."""
    return join(_("{name} ({away})").format(name=n, away=_("away, {name} stands in").format(name=d)) if (d := step["delegates"].get(n))
                else n for n in step["approvers"])


def approval_rows(pending: list[dict[str, Any]], day_s: int) -> list[tuple[str, tuple[str, ...], str]]:
    """One row per open step of ``services.approvals.pending`` (longest waiting
    first, as it orders them): (row key, the cells as text, the step's style)."""
    out: list[tuple[str, tuple[str, ...], str]] = []
    for r in pending:
        cost = f"{r['cost']:,.2f}".rstrip("0").rstrip(".")
        for s in r["steps"]:
            waited = business_duration(s["waited_s"], day_s) + " / " + business_duration(s["limit_s"], day_s)
            cells = (r["key"], f"#{r['n']}", r["rule"], cost, label("role", s["role"]), held_by(s), waited, r["what"])
            out.append((f"{r['key']}#{r['n']}.{s['step']}", cells, step_style(s["waited_s"], s["limit_s"])))
    return out


class ApprovalsScreen(Screen[None]):
    """The approval steps waiting for a decision, longest waiting first: the
    ticket, its request and path, the step, who holds it (and who stands in
    for someone away), and how long it has waited of its limit, in business
    time. Enter opens the ticket (:class:`ApprovalsScreen.Opened`); the live
    poll keeps the board current (``LiveApp.refresh_open_screens``)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "back")]
    DEFAULT_CSS = """
    ApprovalsScreen #approvals-caption { height: auto; padding: 0 1; background: $panel; }
    ApprovalsScreen DataTable { height: 1fr; }
    """ + HINT_CSS.format(name="ApprovalsScreen")

    class Opened(Message):
        """Enter on a step: open its ticket."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self) -> None:
        super().__init__()
        #: what the board shows, as from :func:`approval_rows`; None until the first read
        self.rows: list[tuple[str, tuple[str, ...], str]] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(_("loading ..."), style="dim"), id="approvals-caption")
        table: DataTable[Text] = DataTable(id="approvals", cursor_type="row", zebra_stripes=False)
        for col in APPROVAL_COLUMNS:  # here, not on mount: the first read may land before the screen's mount
            table.add_column(_(col), key=col)
        yield table
        yield Static(_(APPROVALS_HINT), classes="hint")

    def show(self, pending: list[dict[str, Any]], day_s: int) -> None:
        """The steps waiting now; the cursor stays on its step (or its place, when that step was decided)."""
        rows = approval_rows(pending, day_s)
        if rows == self.rows:
            return
        table = self.query_one(DataTable)
        current, at = self.current_row, table.cursor_row
        self.rows = rows
        table.clear()
        for key, cells, style in rows:
            table.add_row(*(Text(c, style=style if i in (4, 6) else "bold" if i == 0 else "") for i, c in enumerate(cells)), key=key)
        keys = [r[0] for r in rows]
        if rows:
            table.move_cursor(row=keys.index(current) if current in keys else min(max(at, 0), len(rows) - 1))
        if rows:
            caption = Text(_("waiting for a decision: {n}").format(n=len(rows)), style="bold")
            caption.append("  " + _("longest waiting first, in business time; yellow past half a step's limit, red past all of it"),
                           style="dim")
        else:
            caption = Text(_("no approvals waiting"), style="dim")
        self.query_one("#approvals-caption", Static).update(caption)

    @property
    def current_row(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.rows or not (0 <= table.cursor_row < len(self.rows)):
            return None
        return self.rows[table.cursor_row][0]

    @property
    def current_key(self) -> str | None:
        """The ticket of the step under the cursor."""
        table = self.query_one(DataTable)
        if not self.rows or not (0 <= table.cursor_row < len(self.rows)):
            return None
        return self.rows[table.cursor_row][1][0]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = self.current_key
        if key is not None:
            self.post_message(self.Opened(key))


#: the rejected changes' columns
REJECTED_COLUMNS = (N_("id"), N_("action"), N_("ticket"), N_("the server's reason"), N_("when"))
#: a change (a mutation's name) by the kind of event it makes, whose label a Chinese reader reads in its stead
MUTATION_EVENTS = {"ticket.assign": "assigned", "ticket.attach": "attached", "ticket.block": "blocked",
                   "ticket.cancel": "cancelled", "ticket.close": "closed", "ticket.confirm": "confirmed",
                   "ticket.create": "created", "ticket.edit": "edited", "ticket.note": "noted", "ticket.reopen": "reopened",
                   "ticket.resolve": "resolved", "ticket.start": "started", "ticket.unblock": "unblocked",
                   "approval.approve": "approved", "approval.reject": "rejected", "approval.request": "approval_requested",
                   "qa.record": "qa_checked"}


def change_name(name: str) -> str:
    """A rejected change's action: ``ticket.note`` (as typed, in English), 备注 (the label of its event, in Chinese)."""
    event = MUTATION_EVENTS.get(name)
    own = label("event", event) if event else name
    return own if event and own != event else name


class RejectedScreen(Screen[None]):
    """The changes the sync server refused, each with its reason, until the
    dispatcher retries (``r``: run it again here; it goes out with the next
    sync) or discards it (``x``: its local effect is undone). The app does
    both (:class:`RejectedScreen.Act`); the live poll keeps the list current."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("r", "act('retry')", "retry"),
        Binding("x", "act('discard')", "discard"),
    ]
    DEFAULT_CSS = """
    RejectedScreen #rejected-caption { height: auto; padding: 0 1; background: $panel; text-style: bold; }
    RejectedScreen DataTable { height: 1fr; }
    """ + HINT_CSS.format(name="RejectedScreen")

    class Act(Message):
        """Retry or discard one rejected change (its outbox id)."""

        def __init__(self, action: str, change: int) -> None:
            super().__init__()
            self.action = action
            self.change = change

    def __init__(self, rejected: list[dict[str, Any]]) -> None:
        super().__init__()
        self.rejected = rejected

    def compose(self) -> ComposeResult:
        yield Static("", id="rejected-caption")
        yield DataTable(id="rejected", cursor_type="row", zebra_stripes=False)
        yield Static(_(REJECTED_HINT), classes="hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for col in REJECTED_COLUMNS:
            table.add_column(_(col), key=col)
        self.show(self.rejected, force=True)

    def show(self, rejected: list[dict[str, Any]], force: bool = False) -> None:
        """The rejected changes now; the cursor stays on its change."""
        if rejected == self.rejected and not force:
            return
        current = self.current
        self.rejected = rejected
        table = self.query_one(DataTable)
        table.clear()
        for r in rejected:
            table.add_row(str(r["id"]), change_name(r["name"]), r["key"] or "-", Text(localize(r["reason"]), style="red"),
                          r["at"][:16].replace("T", " "), key=str(r["id"]))
        ids = [r["id"] for r in rejected]
        if current in ids:
            table.move_cursor(row=ids.index(current))
        n = len(rejected)
        caption = Text(_("rejected by the sync server: {n}").format(n=n), style="bold")
        if not n:
            caption.append("  " + _("nothing is rejected"), style="dim")
        self.query_one("#rejected-caption", Static).update(caption)

    @property
    def current(self) -> int | None:
        table = self.query_one(DataTable)
        if not self.rejected or not (0 <= table.cursor_row < len(self.rejected)):
            return None
        return int(self.rejected[table.cursor_row]["id"])

    def action_act(self, action: str) -> None:
        change = self.current
        if change is None:
            self.notify(_("no rejected change selected"), severity="warning")
            return
        self.post_message(self.Act(action, change))

"""Full screens over the main one: a ticket's detail, the blocked board, and
the changes the sync server rejected."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ticketctl.commands.render_show import _payload_text as event_text
from ticketctl.tui.backlog import BLOCKED_COLUMNS, SLA_STYLE, BacklogView, duration

HINT = "escape back   a assign  b block  u unblock  s start  r resolve  n note  e escalate   ? help"
BLOCKED_HINT = "escape back   enter open   a assign  u unblock  s start  r resolve  n note  e escalate   ? help"
REJECTED_HINT = "escape back   r retry: run it again here, it goes out with the next sync   x discard: undo it here   S sync now"
HINT_CSS = "{name} .hint {{ dock: bottom; height: 1; background: $panel; color: $text-muted; padding: 0 1; }}"


def detail(t: dict[str, Any]) -> Group:
    """``ticketctl show`` as one renderable: fields, SLA clocks, checklist, timeline."""
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="dim", justify="right")
    fields.add_column()
    status = t["status"] + (f" ({t['blocked_reason']}, {duration(t['blocked_for_s'])})" if t["blocked_reason"] else "")
    sla = SLA_STYLE[t["sla_state"]]
    left = duration(t["sla_resolve_left_s"]) if t["sla_state"] != "done" else ""
    met = t["sla_response_met"]
    rows: list[tuple[str, Any]] = [
        ("status", status),
        ("assignee", t["assignee"] or "-"),
        ("priority", f"{t['priority']} / impact {t['impact']} / weight {t['weight']:.1f}"),
        ("type", t["type"]),
        ("where", " / ".join(x for x in (t["dept"], t["product"], t["fault"], t["zone"]) if x)),
        ("customer", " ".join(x for x in (t["customer"], t["phone"], t["channel"]) if x) or "-"),
        ("response due", t["sla_response_due"] + ("" if met is None else f"  (met: {'yes' if met else 'no'})")),
        ("resolve due", Text.assemble(f"{t['sla_resolve_due'] or '-'}  ", (f"{t['sla_state']} {left}", sla))),
        ("created", t["created_at"]),
    ]
    if t["block"]:
        rows.append(("block", ", ".join(f"{k}: {v}" for k, v in t["block"].items())))
    if t["blocked_seconds"]:
        rows.append(("blocked time", ", ".join(f"{k} {duration(v)}" for k, v in t["blocked_seconds"].items())))
    if t["escalations"]:
        rows.append(("escalations", ", ".join(sorted(t["escalations"]))))
    if t["description"]:
        rows.append(("description", t["description"]))
    if t.get("checklist"):
        rows.append(("checklist", Text("  ").join(
            Text.assemble(("[x] ", "green") if i["done"] else ("[ ] ", "dim"), i["item"]) for i in t["checklist"])))
    for k, v in rows:
        fields.add_row(k, v if isinstance(v, Text) else escape(str(v)))
    timeline = Table(box=None, header_style="bold", pad_edge=False, expand=True)
    for col in ("at", "who", "what", ""):
        timeline.add_column(col, no_wrap=col != "")
    for e in t.get("timeline", []):
        timeline.add_row(e["at"], e["actor"], e["type"].split(".", 1)[1], Text(event_text(e)))
    return Group(Text.assemble((t["key"], "bold"), "  ", t["title"], "\n"), fields, Text("\ntimeline", style="bold"),
                 timeline)


class DetailScreen(Screen[None]):
    """One ticket; it follows changes made anywhere while it is open. The
    action keys (a, b, u, s, r, n, e) act on it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "back")]
    DEFAULT_CSS = "DetailScreen #detail { padding: 1 2; }\n" + HINT_CSS.format(name="DetailScreen")

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.ticket: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        # one hint line, not a Footer: a Footer is a widget per key to style, and opening a ticket must feel instant
        with VerticalScroll():
            yield Static(Text(f"loading {self.key} ...", style="dim"), id="detail")
        yield Static(HINT, classes="hint")

    def show(self, t: dict[str, Any]) -> None:
        self.ticket = t
        self.key = t["key"]
        self.query_one("#detail", Static).update(detail(t))


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
        yield Static(Text("loading ...", style="dim"), id="blocked-summary")
        yield self.view
        yield Static(BLOCKED_HINT, classes="hint")

    def show_summary(self, summary: list[dict[str, Any]]) -> None:
        text = Text("blocked now: ", style="bold")
        if not summary:
            text.append("nothing is blocked", style="dim")
        for s in summary:
            text.append(f"{s['label']} ", "magenta").append(f"{s['count']}", "bold").append(
                f" (oldest {duration(s['oldest_s'])})   ", "dim")
        self.query_one("#blocked-summary", Static).update(text)


def blocked_view(loader: Any) -> BacklogView:
    return BacklogView(loader, BLOCKED_COLUMNS, id="blocked")


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
        yield Static(REJECTED_HINT, classes="hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for col in ("id", "action", "ticket", "the server's reason", "when"):
            table.add_column(col, key=col)
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
            table.add_row(str(r["id"]), r["name"], r["key"] or "-", Text(r["reason"] or "", style="red"),
                          r["at"][:16].replace("T", " "), key=str(r["id"]))
        ids = [r["id"] for r in rejected]
        if current in ids:
            table.move_cursor(row=ids.index(current))
        n = len(rejected)
        caption = Text(f"rejected by the sync server: {n}", style="bold")
        if not n:
            caption.append("  nothing is rejected", style="dim")
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
            self.notify("no rejected change selected", severity="warning")
            return
        self.post_message(self.Act(action, change))

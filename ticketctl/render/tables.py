"""Tables of tickets: the listing of ``list`` and ``mine``, one line per ticket
for an action's confirmation, and plain columns aligned by terminal cells."""

from __future__ import annotations

from typing import Any

from ticketctl.core.labels import HasLabels, label
from ticketctl.i18n import N_, _
from ticketctl.render.text import SLA_STYLE, duration, paren

#: the ticket table's column headers
TICKET_COLUMNS = (N_("key"), N_("pri"), N_("weight"), N_("status"), N_("assignee"), N_("sla left"), N_("dept"), N_("product"),
                  N_("title"))


def ticket_line(t: dict[str, Any], cfg: HasLabels | None = None) -> str:
    """One plain line per ticket, for action confirmations (status and reason as their labels)."""
    who = f" @{t['assignee']}" if t.get("assignee") else ""
    why = paren(label("reason", t["blocked_reason"], cfg)) if t.get("blocked_reason") else ""
    return f"{t['key']} {label('status', t['status'], cfg)}{why}{who}  {t['title']}"


def status_text(t: dict[str, Any], cfg: HasLabels | None = None) -> str:
    """A listing's status cell: ``blocked: awaiting_parts``, ``已挂起：等待备件``."""
    status = label("status", t["status"], cfg)
    if not t.get("blocked_reason"):
        return status
    return _("{status}: {reason}").format(status=status, reason=label("reason", t["blocked_reason"], cfg))


def ticket_cells(rows: list[dict[str, Any]], cfg: HasLabels | None = None) -> list[list[str]]:
    """The listing's cells as text, one list per ticket in :data:`TICKET_COLUMNS` order."""
    cells: list[list[str]] = []
    for t in rows:
        left = duration(t.get("sla_resolve_left_s")) if t["sla_state"] != "done" else ""
        cells.append([t["key"], label("priority", t["priority"], cfg), f"{t['weight']:.1f}", status_text(t, cfg),
                      t.get("assignee") or "-", left, t["dept"], t["product"], t["title"]])
    return cells


def ticket_plain(rows: list[dict[str, Any]], cfg: HasLabels | None = None) -> str:
    """The listing as plain columns (piped or redirected output: no Rich)."""
    return plain_table([_(col) for col in TICKET_COLUMNS], ticket_cells(rows, cfg), right={TICKET_COLUMNS.index("weight")})


def ticket_table(rows: list[dict[str, Any]], cfg: HasLabels | None = None) -> Any:
    """The listing as a Rich table for a terminal, SLA time left coloured."""
    from rich.markup import escape as rich_escape
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in TICKET_COLUMNS:
        # the title wraps; "fold" breaks a run with no spaces (a Chinese title) instead of cutting it to "…"
        table.add_column(_(col), justify="right" if col == "weight" else "left", no_wrap=col != "title",
                         overflow="fold" if col == "title" else "ellipsis")
    sla = TICKET_COLUMNS.index("sla left")
    for t, row in zip(rows, ticket_cells(rows, cfg), strict=True):
        shown = [rich_escape(c) for c in row]
        shown[sla] = f"[{SLA_STYLE[t['sla_state']]}]{shown[sla]}[/]"
        table.add_row(*shown)
    return table


def plain_table(headers: list[str], rows: list[list[str]], right: frozenset[int] | set[int] = frozenset()) -> str:
    """Columns two spaces apart, padded by terminal cells (a CJK character is
    two), numbers in ``right`` right-aligned; the last column is not padded.
    The lines joined, without a final newline."""
    from ticketctl.cells import cells

    table = [headers, *rows]
    n = len(headers)
    sizes = [[cells(c) for c in r[:n]] for r in table]  # each cell measured once (a listing may have 100,000 rows)
    widths = [max(w[i] for w in sizes) for i in range(n)]
    out = []
    for r, w in zip(table, sizes, strict=True):
        last = len(r) - 1
        parts = [c if i == last else " " * (widths[i] - w[i]) + c if i in right else c + " " * (widths[i] - w[i])
                 for i, c in enumerate(r)]
        out.append("  ".join(parts).rstrip())
    return "\n".join(out)

"""Rendering shared by the commands: JSON to stdout, tables with Rich (imported
only when a human table is printed, never on the ``--json`` path)."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime
from typing import Any

import click

from ticketctl.core.model import OutOfRange, out_of_range, parse_moment
from ticketctl.errors import BadInput
from ticketctl.i18n import N_, _
from ticketctl.services.env import Env

SLA_STYLE = {"ok": "green", "at_risk": "yellow", "breached": "bold red", "paused": "cyan", "done": "dim"}
#: the ticket table's column headers
TICKET_COLUMNS = (N_("key"), N_("pri"), N_("weight"), N_("status"), N_("assignee"), N_("sla left"), N_("dept"), N_("product"),
                  N_("title"))


def env() -> Env:
    """The Env that ``ticketctl.cli.main`` put on the root click context."""
    obj = click.get_current_context().find_root().obj
    assert isinstance(obj, Env)
    return obj


def moment(option: str, text: str | None) -> datetime | None:
    """An ISO-8601 time given to ``option``, or None; a bad one is bad input."""
    if text is None:
        return None
    try:
        return parse_moment(text)
    except OutOfRange:
        raise BadInput(out_of_range(f"{option} {text!r}")) from None
    except ValueError:
        raise BadInput(_("{option} {text!r} is not an ISO-8601 time like 2026-03-02T09:00:00Z").format(option=option, text=text)) from None


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def duration(seconds: int | None) -> str:
    """``2d 3h``, ``45m``, ``-1h 20m`` (overdue) for a number of seconds."""
    if seconds is None:
        return ""
    sign, s = ("-" if seconds < 0 else ""), abs(int(seconds))
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m = rem // 60
    if d:
        return _("{sign}{days}d {hours}h").format(sign=sign, days=d, hours=h)
    if h:
        return _("{sign}{hours}h {minutes}m").format(sign=sign, hours=h, minutes=f"{m:02d}")
    return _("{sign}{minutes}m").format(sign=sign, minutes=m)


def console() -> Any:
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:  # rich exits 1; a reader that stopped early is no failure
            self.quiet = True
            raise BrokenPipeError

    # piped output is not cut to 80 columns: a script or a pager gets whole rows
    return _Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 200)


#: a Rich markup tag, as rich.markup parses one (and as :func:`escape` protects one)
_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


def escape(text: str) -> str:
    """``text`` safe inside Rich markup: what rich.markup.escape does, without
    importing Rich (a backslash before anything that would read as a tag)."""
    return _TAG.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)


class PlainConsole:
    """Prints Rich markup as plain text: the tags dropped, escaped brackets
    restored. For output that is not a terminal, so that piping ``show`` to a
    file or a pager costs no Rich import and carries no colour codes."""

    def print(self, text: str = "") -> None:
        # n backslashes before a tag: n // 2 literal backslashes, then the tag itself if n is odd (escaped)
        plain = _TAG.sub(lambda m: "\\" * (len(m.group(1)) // 2) + (m.group(2) if len(m.group(1)) % 2 else ""), text)
        sys.stdout.write(plain + "\n")


def text_console() -> Any:
    """Where a renderer of markup text (not tables) prints: Rich in a terminal, else :class:`PlainConsole`."""
    return console() if sys.stdout.isatty() else PlainConsole()


def ticket_line(t: dict[str, Any]) -> str:
    """One plain line per ticket, for action confirmations."""
    who = f" @{t['assignee']}" if t.get("assignee") else ""
    why = f" ({t['blocked_reason']})" if t.get("blocked_reason") else ""
    return f"{t['key']} {t['status']}{why}{who}  {t['title']}"


def ticket_table(rows: list[dict[str, Any]]) -> None:
    """The ticket listing for people: a Rich table in a terminal (SLA time left
    coloured); piped or redirected, plain columns aligned by terminal cells,
    without importing Rich."""
    if not rows:
        print(_("no tickets match"), file=sys.stderr)
        return
    cells: list[list[str]] = []
    for t in rows:
        status = t["status"] + (f": {t['blocked_reason']}" if t.get("blocked_reason") else "")
        left = duration(t.get("sla_resolve_left_s")) if t["sla_state"] != "done" else ""
        cells.append([t["key"], t["priority"], f"{t['weight']:.1f}", status, t.get("assignee") or "-", left,
                      t["dept"], t["product"], t["title"]])
    if not sys.stdout.isatty():
        plain_table([_(col) for col in TICKET_COLUMNS], cells, right={TICKET_COLUMNS.index("weight")})
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in TICKET_COLUMNS:
        # the title wraps; "fold" breaks a run with no spaces (a Chinese title) instead of cutting it to "…"
        table.add_column(_(col), justify="right" if col == "weight" else "left", no_wrap=col != "title",
                         overflow="fold" if col == "title" else "ellipsis")
    sla = TICKET_COLUMNS.index("sla left")
    for t, row in zip(rows, cells, strict=True):
        shown = [escape(c) for c in row]
        shown[sla] = f"[{SLA_STYLE[t['sla_state']]}]{shown[sla]}[/]"
        table.add_row(*shown)
    console().print(table)


def plain_table(headers: list[str], rows: list[list[str]], right: frozenset[int] | set[int] = frozenset()) -> None:
    """Columns two spaces apart, padded by terminal cells (a CJK character is
    two), numbers in ``right`` right-aligned; the last column is not padded."""
    from ticketctl.core.text import cells, ljust, rjust

    widths = [max(cells(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    out = []
    for r in [headers, *rows]:
        parts = [(rjust if i in right else ljust)(c, widths[i]) if i < len(r) - 1 else c for i, c in enumerate(r)]
        out.append("  ".join(parts).rstrip())
    sys.stdout.write("\n".join(out) + "\n")

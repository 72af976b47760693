"""What the commands share as the CLI: the Env on the click context, times given
as options, and printing: JSON to stdout, Rich markup and tables to a terminal,
plain text to a pipe. What is printed (durations, tables, pages) is made by
``ticketctl.render``; Rich is imported only when a human table is printed,
never on the ``--json`` path."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import click

from ticketctl.core.model import OutOfRange, out_of_range, parse_moment
from ticketctl.errors import BadInput
from ticketctl.i18n import _
from ticketctl.services.env import Env


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
    text = _flat_rows_json(data)
    sys.stdout.write((json.dumps(data, indent=2, ensure_ascii=False) if text is None else text) + "\n")


def _flat_rows_json(data: Any) -> str | None:
    """``json.dumps(data, indent=2, ensure_ascii=False)``, the same text, for a
    list of flat rows (dicts of str keys to str, int, bool or None), else None.
    With ``indent`` json falls back to its pure-Python encoder, ~1 µs a value:
    a listing of 80,000 rows (``stock list --json``) spent a second there;
    here each string goes through json's C string encoder."""
    if type(data) is not list or not data:
        return None
    enc = json.encoder.encode_basestring  # what ensure_ascii=False encodes strings with
    rows = []
    for row in data:
        if type(row) is not dict or not row:
            return None
        items = []
        for k, v in row.items():
            t = type(v)
            if type(k) is not str:
                return None
            if t is str:
                items.append(f"    {enc(k)}: {enc(v)}")
            elif t is int:
                items.append(f"    {enc(k)}: {int.__repr__(v)}")
            elif v is None:
                items.append(f"    {enc(k)}: null")
            elif t is bool:
                items.append(f"    {enc(k)}: {'true' if v else 'false'}")
            else:
                return None
        rows.append("  {\n" + ",\n".join(items) + "\n  }")
    return "[\n" + ",\n".join(rows) + "\n]"


def emit_text(text: str) -> None:
    """``text`` and a newline to stdout in one write. Not ``print()``: its
    second write (the newline) raises a broken pipe inside the command, when
    the reader stopped early (``| head``), and Click turns that into exit 1."""
    sys.stdout.write(text + "\n")


def console() -> Any:
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:  # rich exits 1; a reader that stopped early is no failure
            self.quiet = True
            raise BrokenPipeError

    # piped output is not cut to 80 columns: a script or a pager gets whole rows
    return _Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 200)


class PlainConsole:
    """Prints Rich markup as plain text: the tags dropped, escaped brackets
    restored. For output that is not a terminal, so that piping ``show`` to a
    file or a pager costs no Rich import and carries no colour codes."""

    def print(self, text: str = "") -> None:
        from ticketctl.render.text import strip_markup

        sys.stdout.write(strip_markup(text) + "\n")


def text_console() -> Any:
    """Where a renderer of markup text (not tables) prints: Rich in a terminal, else :class:`PlainConsole`."""
    return console() if sys.stdout.isatty() else PlainConsole()


def print_markup(lines: Iterable[str]) -> None:
    """Lines of Rich markup (a ``render`` page): coloured in a terminal, plain text piped."""
    c = text_console()
    for line in lines:
        c.print(line)


def print_tickets(rows: list[dict[str, Any]]) -> None:
    """The ticket listing for people: a Rich table in a terminal (SLA time left
    coloured); piped or redirected, plain columns aligned by terminal cells,
    without importing Rich."""
    from ticketctl.render import tables

    if not rows:
        print(_("no tickets match"), file=sys.stderr)
        return
    cfg = env().config  # the team's own labels
    if not sys.stdout.isatty():
        emit_text(tables.ticket_plain(rows, cfg))
        return
    console().print(tables.ticket_table(rows, cfg))

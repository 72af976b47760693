"""Wrapping Chinese text the way Chinese is set: no line begins with a
closing mark (，。、；：？！）」』》) and none ends with an opening one
(（「『《). Rich folds a run without spaces at any character, so a long
Chinese description in a ticket's fields may put its comma first on a line;
:class:`Wrapped` wraps as Rich does, then moves a character down with the
mark (or an opening mark down to what it opens)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text

CLOSING = frozenset("，。、；：？！）」』》")
OPENING = frozenset("（「『《")


def kinsoku(lines: list[Text], width: int) -> list[Text]:
    """``lines`` (a wrapped text) with no line that starts with a closing
    mark or ends with an opening one: the character before such a mark goes
    down to the next line with it, and what then no longer fits goes down
    after it."""
    out = list(lines)
    i = 0
    while i < len(out):
        line = out[i]
        if cell_len(line.plain) > width:  # what a move pushed past the edge goes down
            cut = len(line.plain)
            while cut > 1 and cell_len(line.plain[:cut]) > width:
                cut -= 1
            keep = cut
            while keep > 1 and line.plain[keep] in CLOSING:  # marks stay with the character they follow
                keep -= 1
            cut = keep if line.plain[keep] not in CLOSING else cut  # all marks: a line narrower than them
            out[i], rest = line[:cut], line[cut:]
            if i + 1 < len(out):
                out[i + 1] = Text.assemble(rest, out[i + 1])
            else:
                out.append(rest)
            line = out[i]
        prev = out[i - 1] if i else None
        if prev is not None and line.plain and len(prev.plain) > 1 and (line.plain[0] in CLOSING or prev.plain[-1] in OPENING):
            take = 1
            while take < len(prev.plain) - 1 and prev.plain[-take - 1] in OPENING:
                take += 1  # an opening mark before the character moves too
            out[i - 1], out[i] = prev[:-take], Text.assemble(prev[-take:], line)
            continue  # this line again: it may be too wide now
        i += 1
    return out


class Wrapped:
    """``text`` folded at the width it is given, with :func:`kinsoku` applied."""

    def __init__(self, text: Text | str) -> None:
        self.text = text if isinstance(text, Text) else Text(text)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        lines = list(self.text.wrap(console, width, overflow="fold"))
        for line in kinsoku(lines, width):
            yield from line.render(console)
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(4, cell_len(self.text.plain)), cell_len(self.text.plain)).normalize().clamp(
            max_width=options.max_width)

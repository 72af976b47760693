"""Lines of a certificate's text that holds Chinese, broken by the rule of
Chinese typography (禁则): no line starts with a closing mark (，。、；：？！）」』》
and their kin) and none ends with an opening one (（「『《 ...).

fpdf2's ``multi_cell`` breaks at spaces and, in a run without one, anywhere,
so a line of Chinese could begin with ``，`` or end with ``（``. Here a line
may break at a space, between two Chinese characters, and between Chinese
and a Latin word; never inside a Latin word (a key, a time, a hash) unless
that word alone is wider than the line. A closing mark is glued to what
precedes it and an opening mark to what follows, so neither is ever where a
line begins or ends. Pure: the width of a text is the caller's (the PDF's
current font).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

#: marks that never begin a line (the closing punctuation and its kin)
CLOSING = frozenset("，。、；：？！）」』》】〕〉”’％·…")
#: marks that never end a line
OPENING = frozenset("（「『《【〔〈“‘")


def _wide(c: str) -> bool:
    return unicodedata.east_asian_width(c) in ("W", "F")


def units(text: str) -> list[str]:
    """``text`` cut where a line may break: each Chinese character, each Latin
    word, each run of spaces (as one ``" "``), with closing marks glued to what
    precedes them and opening marks to what follows."""
    raw: list[str] = []
    word = ""
    for c in text:
        if c.isspace() or _wide(c) or c in CLOSING or c in OPENING:
            if word:
                raw.append(word)
                word = ""
            if c.isspace():
                if raw and raw[-1] != " ":
                    raw.append(" ")
            else:
                raw.append(c)
        else:
            word += c
    if word:
        raw.append(word)
    out: list[str] = []
    opening = ""  # opening marks (and spaces after them) waiting for what follows
    for u in raw:
        if u in CLOSING:
            u, opening = opening + u, ""
            tail = ""
            while len(out) > 1 and out[-1] == " ":
                tail += out.pop()
            if out:
                out[-1] += tail + u
            else:
                out.append(u)
        elif u in OPENING or (opening and u == " "):
            opening += u
        else:
            out.append(opening + u)
            opening = ""
    if opening:
        out.append(opening.rstrip())
    return out


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """``text`` in lines no wider than ``width`` (as ``measure`` says), broken
    only where :func:`units` allows; a unit wider than a line is cut by
    characters, never before a closing mark."""
    lines: list[str] = []
    line = ""
    for u in units(text):
        if u == " ":
            if line:
                line += " "
            continue
        if not line.strip() or measure((line + u).rstrip()) <= width:
            line = line + u if line.strip() else u
        else:
            lines.append(line.rstrip())
            line = u
        while measure(line) > width and len(line) > 1:
            cut = _fit(line, width, measure)
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _fit(text: str, width: float, measure: Callable[[str], float]) -> int:
    """How many characters of ``text`` (at least 1) fit in ``width``, moved back
    so the rest does not begin with a closing mark nor this part end with an
    opening one; where no such place fits (a line narrower than a character and
    its marks), forward: the rule before the width."""
    n = 1
    while n < len(text) and measure(text[:n + 1]) <= width:
        n += 1

    def bad(k: int) -> bool:
        return 0 < k < len(text) and (text[k] in CLOSING or text[k - 1] in OPENING)

    k = n
    while bad(k):
        k -= 1
    if k == 0:
        k = n
        while bad(k):
            k += 1
    return k

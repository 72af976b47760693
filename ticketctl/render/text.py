"""Durations, Rich markup and the SLA states' colours: what every table and page is made of."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ticketctl import cells
from ticketctl.i18n import _, current

#: the Rich style of each SLA state, wherever the CLI shows one (the listing, a ticket's page)
SLA_STYLE = {"ok": "green", "at_risk": "yellow", "breached": "bold red", "paused": "cyan", "done": "dim"}


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


def join(items: Iterable[str], how: str = "list", lang: str | None = None) -> str:
    """``items`` joined for a person reading ``lang`` (default: the current
    language): ``a, b`` in English (``a; b`` for ``statement``); in Chinese with
    full-width punctuation, ``a、b`` for a list of like things (``list``),
    ``a，b`` for clauses (``clause``), ``a；b`` for statements (``statement``).
    Every list a person reads is joined here (``cells.join`` underneath, for the
    layers below this one)."""
    return cells.join(items, how, lang or current())


def paren(text: str, lang: str | None = None) -> str:
    """``text`` as an aside after what comes before it: `` (text)`` in English,
    ``（text）`` in Chinese (full-width, no space)."""
    return cells.paren(text, lang or current())


def pair(name: str, value: object, eq: str = "=", lang: str | None = None) -> str:
    """A field and its value: ``name=value`` (or ``name: value`` with ``eq=": "``) in English, ``name：value`` in Chinese."""
    return cells.pair(name, value, eq, lang or current())


#: a Rich markup tag, as rich.markup parses one (and as :func:`escape` protects one)
_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


def escape(text: str) -> str:
    """``text`` safe inside Rich markup: what rich.markup.escape does, without
    importing Rich (a backslash before anything that would read as a tag)."""
    return _TAG.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)


def strip_markup(text: str) -> str:
    """Rich markup as the plain text Rich would print without colours: the
    tags dropped, escaped brackets restored (without importing Rich)."""
    # n backslashes before a tag: n // 2 literal backslashes, then the tag itself if n is odd (escaped)
    return _TAG.sub(lambda m: "\\" * (len(m.group(1)) // 2) + (m.group(2) if len(m.group(1)) % 2 else ""), text)

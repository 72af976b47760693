"""What the dashboard shows of a value, in the reader's language: labels
(``core.labels``) with the team's own from its config, and lists joined as the
language joins them (Chinese: ``、`` between items, no space)."""

from __future__ import annotations

from collections.abc import Iterable

from ticketctl.core.labels import HasLabels, label
from ticketctl.i18n import current


def shown(kind: str, value: str | None, cfg: HasLabels | None = None) -> str:
    """``value`` of ``kind`` as the reader reads it (``label``)."""
    return label(kind, value, cfg)


def reason_short(reason: str | None, cfg: HasLabels | None = None) -> str:
    """A blocked reason as the boards' narrow columns show it: the short word
    (``parts``, 备件) for a built-in ``awaiting_*`` reason, else its label."""
    if not reason:
        return ""
    own = label("reason", reason, cfg)
    if own != label("reason", reason):
        return own  # the team's own label for it
    short = reason.removeprefix("awaiting_")
    if own == reason:  # English: the short identifier
        return short
    return label("reason", short, cfg) if short != reason and label("reason", short, cfg) != short else own


def join(items: Iterable[str]) -> str:
    """Items of a list in a line of text: ``a, b`` in English, ``甲、乙`` in Chinese."""
    return ("、" if current() == "zh_CN" else ", ").join(items)


def join_clauses(items: Iterable[str]) -> str:
    """Clauses (``field: value``) in a line: ``a: 1, b: 2`` in English, ``甲：1；乙：2`` in Chinese."""
    return ("；" if current() == "zh_CN" else ", ").join(items)

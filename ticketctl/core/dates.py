"""Reading the dates of an imported column: one layout for the whole column.

A file from another system writes its times one way throughout, so the layout
is decided once, from every value of the column, not row by row:

* ISO-8601 (``2012-05-03T10:53:58+01:00``, ``2013-12-25 23:59:08``, ``...Z``)
  and Excel's Chinese-locale ``2013/12/25 9:05`` / ``2013年12月25日`` are read as
  they are;
* ``A/B/YYYY [H:MM[:SS]] [AM|PM]`` (``/``, ``-`` or ``.`` between the parts) is
  day-first when some A is over 12, month-first when some B is over 12; a
  column with both is refused; a column where every A and B is 12 or less is
  ambiguous and read month-first, and :class:`Layout` says so (``ambiguous``),
  so the command can tell the user to give ``--date-format``, unless another
  time column of the same file decides it (:func:`agree`);
* ``--date-format`` (``strptime`` codes: ``%d.%m.%Y %H:%M``) overrides it all.

A trailing time zone (``+01:00``, ``+0100``, ``Z``, ``UTC``/``GMT``) is honoured;
times without one are in the zone the caller gives. Pure: no clock, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from ticketctl.core.model import OutOfRange, in_range, iso
from ticketctl.errors import BadInput
from ticketctl.i18n import _

#: ``A/B/YYYY [H:MM[:SS[.fff]]] [AM|PM] [zone]``
_SLASHED = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
                      r"\s*([AaPp][Mm])?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$")
#: ``YYYY/M/D [H:MM[:SS]]``, ``YYYY年M月D日``: what ``fromisoformat`` does not take
_LOOSE = re.compile(r"^(\d{4})[/\-年.](\d{1,2})[/\-月.](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
                    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$")


def _zone(text: str | None, default: tzinfo) -> tzinfo:
    if not text:
        return default
    if text in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _clock(h: str | None, mi: str | None, s: str | None, ampm: str | None) -> tuple[int, int, int]:
    hour = int(h or 0)
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError(ampm)
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    return hour, int(mi or 0), int(s or 0)


@dataclass(frozen=True)
class Layout:
    """How a column's dates are read: ``kind`` is ``iso``, ``day_first``,
    ``month_first`` or ``format`` (``--date-format``); ``note`` is set when the
    data could not decide between day-first and month-first."""

    kind: str
    fmt: str | None = None
    ambiguous: bool = False

    def parse(self, value: Any, tz: tzinfo) -> str | None:
        """``value`` (text, or a datetime from a workbook) as ISO-8601 UTC, or None."""
        try:
            return iso(in_range(self._parse(value, tz)))
        except (ValueError, OverflowError):  # OutOfRange is a ValueError
            return None

    def _parse(self, value: Any, tz: tzinfo) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=tz)
        text = str(value).strip()
        if self.kind == "format":
            assert self.fmt is not None
            t = datetime.strptime(text, self.fmt)
            return t if t.tzinfo else t.replace(tzinfo=tz)
        m = _SLASHED.match(text)
        if m and self.kind in ("day_first", "month_first"):
            a, b, y, h, mi, s, ampm, z = m.groups()
            d, mo = (a, b) if self.kind == "day_first" else (b, a)
            return datetime(int(y), int(mo), int(d), *_clock(h, mi, s, ampm), tzinfo=_zone(z, tz))
        return _iso(text, tz)


def _iso(text: str, tz: tzinfo) -> datetime:
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        return t if t.tzinfo else t.replace(tzinfo=tz)
    except ValueError:
        m = _LOOSE.match(text)
        if not m:
            raise
        y, mo, d, h, mi, s, z = m.groups()
        return datetime(int(y), int(mo), int(d), *_clock(h, mi, s, None), tzinfo=_zone(z, tz))


class Conflict(ValueError):
    """A column with both ``13/1/2020`` and ``1/13/2020``: no single layout reads it."""

    def __init__(self, day_first: str, month_first: str):
        super().__init__(day_first, month_first)
        self.day_first, self.month_first = day_first, month_first


def detect(values: Iterable[Any], fmt: str | None = None) -> Layout:
    """The layout of a column, decided from all its (non-empty) ``values``.
    Raises :class:`Conflict` when some values are only day-first and others
    only month-first, BadInput for a ``fmt`` that ``strptime`` cannot read."""
    if fmt:
        sample = datetime(2001, 2, 3, 4, 5, 6)
        try:
            datetime.strptime(sample.strftime(fmt), fmt)
        except ValueError as e:
            raise BadInput(_("--date-format {format!r} is not a strptime layout like '%d/%m/%Y %H:%M' ({error})").format(
                format=fmt, error=e)) from None
        return Layout("format", fmt)
    slashed = False
    day_only = month_only = ""
    for v in values:
        if isinstance(v, datetime):
            continue
        m = _SLASHED.match(str(v).strip())
        if not m:
            continue
        slashed = True
        a, b = int(m.group(1)), int(m.group(2))
        if a > 12 and not day_only:
            day_only = str(v)
        if b > 12 and not month_only:
            month_only = str(v)
    if not slashed:
        return Layout("iso")
    if day_only and month_only:
        raise Conflict(day_only, month_only)
    if day_only:
        return Layout("day_first")
    return Layout("month_first", ambiguous=not month_only)


def agree(layouts: dict[str, Layout]) -> dict[str, Layout]:
    """The columns of one file, each ambiguous one read as the file's decided ones
    are (a file writes its dates one way): when every decided day/month column
    says the same, an ambiguous column follows it and is no longer ambiguous."""
    decided = {lay.kind for lay in layouts.values() if lay.kind in ("day_first", "month_first") and not lay.ambiguous}
    if len(decided) != 1:
        return layouts
    kind = decided.pop()
    return {name: Layout(kind) if lay.ambiguous else lay for name, lay in layouts.items()}


__all__ = ["Conflict", "Layout", "OutOfRange", "agree", "detect"]

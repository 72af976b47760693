"""Business calendar: business time as one monotonic number.

Every SLA rule in ticketctl speaks business time (workdays 08:00-18:00 in the
team's time zone, minus holidays). Instead of walking minute by minute, each
instant maps to its *business-second ordinal*: the number of business seconds
between a fixed epoch and that instant. The map is monotonic and flat outside
business hours::

    wall time   Fri 17:00   Fri 18:00 ... Sat ... Sun ... Mon 08:00   Mon 09:00
    ordinal        x         x+3600  (flat all weekend)   x+3600     x+7200

so "business time between a and b" is ``ordinal(b) - ordinal(a)``, "due after
N business seconds" is ``instant(ordinal(t) + N)``, and SQL can compare SLA
clocks of many tickets against one number computed once for "now".
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EPOCH = date(2000, 1, 3)  # a Monday; ordinals before it are negative, which is fine
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days and hours in one time zone, with a holiday list.

    ``workdays`` are ISO weekday indexes (Monday=0). ``holidays`` need not be
    sorted or be workdays; only holidays that fall on a workday change anything.
    """

    tz: ZoneInfo
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    start: time = time(8, 0)
    end: time = time(18, 0)
    holidays: tuple[date, ...] = ()
    _hol: list[date] = field(init=False, repr=False, compare=False)
    _wd: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.workdays:
            raise ValueError("a business calendar needs at least one workday")
        if self.end <= self.start:
            raise ValueError("business hours must end after they start")
        hol = sorted({h for h in self.holidays if h.weekday() in self.workdays})
        object.__setattr__(self, "_hol", hol)
        object.__setattr__(self, "_wd", sorted(set(self.workdays)))

    # -- day arithmetic -------------------------------------------------------

    @property
    def day_seconds(self) -> int:
        """Business seconds in one workday (36,000 for 08:00-18:00)."""
        s, e = self.start, self.end
        return (e.hour * 3600 + e.minute * 60 + e.second) - (s.hour * 3600 + s.minute * 60 + s.second)

    def _plain_workdays_before(self, d: date) -> int:
        """Workdays in [EPOCH, d), holidays ignored (negative before the epoch)."""
        days = (d - EPOCH).days
        weeks, rest = divmod(days, 7)
        return weeks * len(self._wd) + sum(w < rest for w in self._wd)

    def _plain_nth_workday(self, n: int) -> date:
        """The n-th (0-based) workday counted from EPOCH, holidays ignored."""
        per_week = len(self._wd)
        weeks, rest = divmod(n, per_week)
        return EPOCH + timedelta(days=weeks * 7 + self._wd[rest])

    def _holidays_before(self, d: date) -> int:
        """Holidays on workdays in [EPOCH, d); negative count before the epoch."""
        return bisect.bisect_left(self._hol, d) - bisect.bisect_left(self._hol, EPOCH)

    def is_business_day(self, d: date) -> bool:
        if d.weekday() not in self.workdays:
            return False
        i = bisect.bisect_left(self._hol, d)
        return not (i < len(self._hol) and self._hol[i] == d)

    def _business_days_before(self, d: date) -> int:
        return self._plain_workdays_before(d) - self._holidays_before(d)

    def _nth_business_day(self, n: int) -> date:
        """The n-th business day counted from EPOCH (0-based).

        Fixed-point walk: take the (n + h)-th plain workday, where h is the
        number of holidays up to it; h only grows, and the least fixed point
        lands on a business day with exactly n business days before it.
        """
        h = 0
        while True:
            d = self._plain_nth_workday(n + h)
            seen = self._holidays_before(d) + (0 if self.is_business_day(d) else 1)
            if seen == h:
                return d
            h = seen

    # -- instants ---------------------------------------------------------------

    def _day_start(self, d: date) -> datetime:
        """The UTC instant business hours start on local date ``d``."""
        return datetime.combine(d, self.start, tzinfo=self.tz).astimezone(UTC)

    def ordinal(self, t: datetime) -> int:
        """Business seconds from the epoch to ``t`` (an aware datetime).

        Within a day the seconds are real elapsed seconds since the day's start
        (not wall-clock differences), so the map stays monotonic even for hours
        that contain a daylight-saving change (a 24/7 desk): a repeated hour is
        counted once and a day's count stops at ``day_seconds``."""
        local = t.astimezone(self.tz)
        d = local.date()
        base = self._business_days_before(d) * self.day_seconds
        if not self.is_business_day(d):
            return base
        elapsed = int((t.astimezone(UTC) - self._day_start(d)).total_seconds())
        return base + min(max(elapsed, 0), self.day_seconds)

    def instant(self, ordinal: int) -> datetime:
        """The earliest UTC instant whose ordinal is ``ordinal``; an exact day
        boundary maps to the end of the earlier business day (18:00, not 08:00)."""
        n, rem = divmod(ordinal, self.day_seconds)
        if rem == 0:
            n, rem = n - 1, self.day_seconds
        return self._day_start(self._nth_business_day(n)) + timedelta(seconds=rem)

    def add(self, t: datetime, seconds: int) -> datetime:
        """The instant ``seconds`` of business time after ``t``."""
        return self.instant(self.ordinal(t) + seconds)

    def between(self, a: datetime, b: datetime) -> int:
        """Business seconds from ``a`` to ``b`` (negative when b is earlier)."""
        return self.ordinal(b) - self.ordinal(a)

    def in_hours(self, t: datetime) -> bool:
        """Whether ``t`` falls inside business hours on a business day."""
        local = t.astimezone(self.tz)
        if not self.is_business_day(local.date()):
            return False
        return self.start <= local.time().replace(tzinfo=None) < self.end

"""Business calendar: business time as one monotonic number.

Every SLA rule in ticketctl speaks business time (workdays 08:00-18:00 in the
team's time zone, minus holidays, plus make-up workdays such as China's
Saturday before a golden week). Instead of walking minute by minute, each
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
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days and hours in one time zone, with a holiday list and make-up workdays.

    ``workdays`` are ISO weekday indexes (Monday=0). ``holidays`` need not be
    sorted or be workdays; only holidays that fall on a workday change anything.
    ``extra_workdays`` are days off by the week that are worked all the same
    (China's 调休: the Saturday before a golden week is a workday); only those
    that fall on a non-workday change anything, and a date that is both a
    holiday and an extra workday is a holiday.
    """

    tz: ZoneInfo
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    start: time = time(8, 0)
    end: time = time(18, 0)
    holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()
    # The days where the weekly pattern is overridden, sorted: holidays on workdays (-1)
    # and extra workdays on non-workdays (+1); _cum[i] sums the first i changes.
    _adj: list[date] = field(init=False, repr=False, compare=False)
    _extra: list[bool] = field(init=False, repr=False, compare=False)
    _cum: list[int] = field(init=False, repr=False, compare=False)
    _upto: list[int] = field(init=False, repr=False, compare=False)
    _base: int = field(init=False, repr=False, compare=False)
    _wd: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.workdays:
            raise ValueError("a business calendar needs at least one workday")
        if self.end <= self.start:
            raise ValueError("business hours must end after they start")
        wd = set(self.workdays)
        hol = {h for h in self.holidays if h.weekday() in wd}
        extra = {d for d in self.extra_workdays if d.weekday() not in wd} - set(self.holidays)
        adj = sorted(hol | extra)
        cum = [0]
        for d in adj:
            cum.append(cum[-1] + (1 if d in extra else -1))
        set_ = object.__setattr__
        set_(self, "_wd", sorted(wd))
        set_(self, "_adj", adj)
        set_(self, "_extra", [d in extra for d in adj])
        set_(self, "_cum", cum)
        set_(self, "_base", cum[bisect.bisect_left(adj, EPOCH)])
        # business days up to and including each changed day; non-decreasing (see _nth_business_day)
        set_(self, "_upto", [self._plain_workdays_before(d + ONE_DAY) + cum[i + 1] - self._base for i, d in enumerate(adj)])

    @property
    def changed_days(self) -> list[tuple[date, bool]]:
        """Every day whose status differs from its weekday's, in order: (day,
        True) for a make-up workday, (day, False) for a holiday on a workday."""
        return list(zip(self._adj, self._extra, strict=True))

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

    def _changes_before(self, d: date) -> int:
        """Extra workdays minus holidays (both as they change the week) in [EPOCH, d);
        counted backwards before the epoch."""
        return self._cum[bisect.bisect_left(self._adj, d)] - self._base

    def is_business_day(self, d: date) -> bool:
        i = bisect.bisect_left(self._adj, d)
        if i < len(self._adj) and self._adj[i] == d:
            return self._extra[i]
        return d.weekday() in self.workdays

    def _business_days_before(self, d: date) -> int:
        """Business days in [EPOCH, d): plain workdays - holidays on workdays + extra workdays."""
        return self._plain_workdays_before(d) + self._changes_before(d)

    def _nth_business_day(self, n: int) -> date:
        """The n-th business day counted from EPOCH (0-based), in O(log changes).

        The answer d is the business day with n business days before it. A changed
        day a lies before d exactly when the business days up to and including a
        (``_upto``) are at most n, so a bisection counts the changes before d. Then d
        is either the next changed day (an extra workday with n days before it) or
        the plain workday that makes n once those changes are counted::

            day             Wed   Thu   Fri   Sat   Sun   Mon     (Wed is business day k)
            plain workday   k     k+1   k+2   -     -     k+3
            change                H -1        X +1
            _upto                 k+1         k+3
            n = k+1: 1 change before (H), Sat's _upto != n+1 -> plain workday k+1+1 = Fri
            n = k+2: 1 change before, Sat is extra with _upto == n+1 -> Sat
            n = k+3: 2 changes before (-1 +1 = 0)                     -> plain workday k+3 = Mon
        """
        i = bisect.bisect_right(self._upto, n)
        if i < len(self._adj) and self._extra[i] and self._upto[i] == n + 1:
            return self._adj[i]
        return self._plain_nth_workday(n - (self._cum[i] - self._base))

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

"""A country's public holidays and make-up workdays, for ``calendar.country``.

The dates come from the ``holidays`` package (vacanza/holidays), never from a
table typed into ticketctl: it follows each government's yearly notice, which
for China (``CN``) includes the adjusted workdays (调休), the Saturdays and
Sundays worked in exchange for a longer holiday. The package exposes those as
``weekend_workdays`` on a country's holiday set: China has no separate
``workday`` category there, the swaps are part of its public holidays.

Pure computation, no I/O. The package costs ~45 ms to import, so it is imported
only when a country is asked for, and the result is memoized per process; the
home (``ticketctl.home.country_cache``) keeps the dates in a file beside the config
and hands them back with :func:`remember`, so a command with a country set
usually never imports the package at all.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from ticketctl.i18n import _

#: Years computed, each time the package or the country changes. Years after the
#: last published notice get the package's estimate (statutory days, no swaps).
YEARS = range(2000, 2051)


class CountryDays(NamedTuple):
    """What a country's calendar changes: days off, and weekend days worked."""

    holidays: tuple[date, ...]
    workdays: tuple[date, ...]


_memo: dict[tuple[str, str], CountryDays] = {}


def country_days(country: str, subdivision: str = "") -> CountryDays:
    """Public holidays (all of them, weekend ones too) and make-up workdays of
    ``country`` (ISO 3166-1 code) and optionally ``subdivision`` (ISO 3166-2
    part: ``BY`` for Bavaria) over :data:`YEARS`.

    Raises ValueError naming ``calendar.country`` or ``calendar.subdivision``
    when the package does not know it (or is not installed)."""
    key = (country, subdivision)
    if key in _memo:
        return _memo[key]
    try:
        import holidays
    except ImportError:
        raise ValueError(
            _("{key}: {value!r} needs the holidays package (pip install holidays)").format(key="calendar.country", value=country)
        ) from None
    if country not in holidays.list_supported_countries():
        raise ValueError(
            _("{key}: {value!r} is not a country the holidays package knows (an ISO 3166-1 code in capitals, e.g. CN, DE, US)").format(
                key="calendar.country", value=country
            )
        )
    try:
        days = holidays.country_holidays(country, subdiv=subdivision or None, years=YEARS)
    except NotImplementedError:
        known = holidays.list_supported_countries()[country]
        if not known:
            raise ValueError(_("{key}: {country} has no subdivisions").format(key="calendar.subdivision", country=country)) from None
        raise ValueError(
            _("{key}: {country} has no subdivision {value!r} (known: {known})").format(
                key="calendar.subdivision", country=country, value=subdivision, known=", ".join(known)
            )
        ) from None
    result = CountryDays(tuple(sorted(days)), tuple(sorted(days.weekend_workdays)))
    _memo[key] = result
    return result


def cached(country: str, subdivision: str = "") -> CountryDays | None:
    """The dates already known in this process, or None."""
    return _memo.get((country, subdivision))


def remember(country: str, subdivision: str, days: CountryDays) -> None:
    """Take dates computed earlier (by this package version) instead of computing them."""
    _memo[(country, subdivision)] = days

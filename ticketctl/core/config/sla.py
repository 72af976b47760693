"""When the clocks run and how urgent work is: the business calendar
(``[calendar]``), the SLA targets per priority (``[sla]``) and the priority
weight (``[weights]``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ticketctl.core.calendar import WEEKDAYS
from ticketctl.core.config.base import check_duration, doc
from ticketctl.core.country import country_days
from ticketctl.i18n import _

PRIORITIES = ("urgent", "high", "medium", "low")
IMPACTS = ("user", "department", "system")


@dataclass
class CalendarConfig:
    """When the SLA clocks run."""

    timezone: str = doc("IANA time zone of the business hours, e.g. `Europe/Berlin`.", "UTC")
    workdays: list[str] = doc(
        "Days the clocks run, as `mon` .. `sun`.", factory=lambda: ["mon", "tue", "wed", "thu", "fri"]
    )
    start: str = doc("Start of business hours, `HH:MM` local time.", "08:00")
    end: str = doc("End of business hours, `HH:MM` local time.", "18:00")
    holidays: list[str] = doc(
        "Dates (`YYYY-MM-DD`) on which no clock runs, besides the country's (`calendar.country`).", factory=list
    )
    country: str = doc(
        "Country whose public holidays stop the clocks, as an ISO 3166-1 code (`CN`, `DE`, `US`; empty: none),"
        " from the `holidays` package, 2000-2050 (years past the last official notice are its estimate). Its"
        " make-up workdays count as workdays: with `CN`, a Saturday or Sunday worked in exchange for a longer"
        " holiday (调休) runs the clocks like a weekday. Computed dates are cached in `holidays-cache.json`"
        " beside the config file.",
        "",
    )
    subdivision: str = doc(
        "Region of `calendar.country` whose own holidays count too (ISO 3166-2 part: `BY` for Bavaria, `CA`"
        " for California); empty: the country's holidays only.",
        "",
    )


@dataclass
class SlaTarget:
    """Targets of one priority. Durations are business time: `15m`, `8h`, `3d`
    (a `d` is one business day, 10 hours with the default calendar)."""

    response: str = doc("Time to the first response by the assignee.")
    resolve: str = doc("Time to resolution; customer-caused blocks pause it.")


@dataclass
class WeightConfig:
    """Priority weight = urgency x impact x business-hours factor x SLA factor."""

    urgency: dict[str, float] = doc(
        "Factor per priority.", factory=lambda: {"urgent": 8.0, "high": 4.0, "medium": 2.0, "low": 1.0}
    )
    impact: dict[str, float] = doc(
        "Factor per impact scope.", factory=lambda: {"user": 1.0, "department": 2.0, "system": 4.0}
    )
    off_hours_factor: float = doc(
        "Factor outside business hours for priorities not in `always_on`: at night only what cannot wait rises.",
        0.5,
    )
    always_on: list[str] = doc("Priorities whose weight ignores business hours.", factory=lambda: ["urgent"])
    sla_factor: float = doc(
        "How strongly a running-out resolution clock lifts the weight: the factor grows from 1 (full"
        " time left) to 1 + sla_factor (due now) and up to 1 + 2 x sla_factor (overdue by the whole target).",
        3.0,
    )


def default_sla_targets() -> dict[str, SlaTarget]:
    return {
        "urgent": SlaTarget("15m", "2h"),
        "high": SlaTarget("1h", "8h"),
        "medium": SlaTarget("4h", "3d"),
        "low": SlaTarget("24h", "7d"),
    }


def check_calendar(c: CalendarConfig) -> None:
    """Raise ValueError naming the first ``calendar.*`` key that is wrong."""
    try:
        ZoneInfo(c.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(_("calendar.timezone: unknown time zone {value!r}").format(value=c.timezone)) from None
    for i, d in enumerate(c.workdays):
        if d not in WEEKDAYS:
            raise ValueError(_("{key}: {value!r} is not one of {known}").format(
                key=f"calendar.workdays[{i}]", value=d, known=", ".join(WEEKDAYS)))
    if not c.workdays:
        raise ValueError(_("calendar.workdays: needs at least one day"))
    for k in ("start", "end"):
        try:
            time.fromisoformat(getattr(c, k))
        except ValueError:
            raise ValueError(_("{key}: {value!r} is not a time like 08:00").format(key=f"calendar.{k}", value=getattr(c, k))) from None
    if time.fromisoformat(c.end) <= time.fromisoformat(c.start):
        raise ValueError(_("calendar.end: business hours must end after calendar.start"))
    for i, h in enumerate(c.holidays):
        try:
            date.fromisoformat(h)
        except ValueError:
            raise ValueError(_("{key}: {value!r} is not a date like 2026-12-25").format(key=f"calendar.holidays[{i}]", value=h)) from None
    if c.country:
        country_days(c.country, c.subdivision)  # raises naming calendar.country or calendar.subdivision
    elif c.subdivision:
        raise ValueError(_("calendar.subdivision: needs calendar.country"))


def check_sla(sla: dict[str, SlaTarget], w: WeightConfig) -> None:
    """Raise ValueError naming the first ``sla.*`` or ``weights.*`` key that is wrong."""
    for table, need in (("sla", PRIORITIES), ("weights.urgency", PRIORITIES), ("weights.impact", IMPACTS)):
        have = sla if table == "sla" else getattr(w, table.split(".")[1])
        for k in have:
            if k not in need:
                raise ValueError(_("{key}: unknown key (known: {known})").format(key=f"{table}.{k}", known=", ".join(need)))
        for k in need:
            if k not in have:
                raise ValueError(_("{key}: missing").format(key=f"{table}.{k}"))
    for p, t in sla.items():
        for k in ("response", "resolve"):
            check_duration(f"sla.{p}.{k}", getattr(t, k))
    for table in ("urgency", "impact"):
        for k, v in getattr(w, table).items():
            if v <= 0:
                raise ValueError(_("{key}: must be above zero").format(key=f"weights.{table}.{k}"))
    if w.off_hours_factor <= 0:
        raise ValueError(_("{key}: must be above zero").format(key="weights.off_hours_factor"))
    if w.sla_factor < 0:
        raise ValueError(_("{key}: must be zero or more").format(key="weights.sla_factor"))
    for i, p in enumerate(w.always_on):
        if p not in PRIORITIES:
            raise ValueError(_("{key}: {value!r} is not a priority").format(key=f"weights.always_on[{i}]", value=p))

"""The bands ``ticketctl report kpi`` grades each figure by (``[kpi]``)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from ticketctl.core.config.base import check_duration, doc
from ticketctl.i18n import _

#: KPIs of `report kpi` where a lower figure is better (times, transfers); for the others
#: (rates, in percent) a higher figure is better
KPI_LOWER_IS_BETTER = ("first_response", "resolution", "transfers")
KPI_PERCENT = ("first_time_fix", "evidence", "sla_attainment")


@dataclass
class KpiBand:
    """Bands of one KPI: excellent, ok, watch (between `ok` and `warning`) or warning.
    Where lower is better, a figure at or under `excellent` is excellent, at or under `ok`
    is ok and over `warning` is a warning; where higher is better, at or over, and under."""

    excellent: float = doc("At or better than this: excellent.")
    ok: float = doc("At or better than this: ok.")
    warning: float = doc("Worse than this: warning (between `ok` and this: watch).")


@dataclass
class KpiConfig:
    """Bands of `ticketctl report kpi` (defaults: industry medians) and how first-time fix is judged."""

    first_response: KpiBand = doc(
        "First response time in minutes, its median and its mean (lower is better; default 15 / 45 / 90).",
        factory=lambda: KpiBand(15.0, 45.0, 90.0),
    )
    resolution: KpiBand = doc(
        "Resolution time in hours, its median and its mean (lower is better; default 2.5 / 8 / 24).",
        factory=lambda: KpiBand(2.5, 8.0, 24.0),
    )
    first_time_fix: KpiBand = doc(
        "First-time-fix rate in percent of resolved tickets (higher is better; default 86 / 72 / 60).",
        factory=lambda: KpiBand(86.0, 72.0, 60.0),
    )
    transfers: KpiBand = doc(
        "Cross-department transfers per ticket (lower is better; default 1.2 / 2.8 / 4).",
        factory=lambda: KpiBand(1.2, 2.8, 4.0),
    )
    evidence: KpiBand = doc(
        "Evidence completeness in percent of closed tickets (higher is better; default 100 / 94 / 85).",
        factory=lambda: KpiBand(100.0, 94.0, 85.0),
    )
    sla_attainment: KpiBand = doc(
        "Percent of resolved tickets resolved within their resolution SLA (higher is better; default 95 / 90 / 80).",
        factory=lambda: KpiBand(95.0, 90.0, 80.0),
    )
    csat: KpiBand = doc(
        "Customer satisfaction: percent of confirmations whose three ratings average 4 or more of 5"
        " (higher is better; default 90 / 80 / 70).",
        factory=lambda: KpiBand(90.0, 80.0, 70.0),
    )
    repeat_window: str = doc(
        "A later ticket from the same customer for the same product and fault, opened before a ticket was resolved"
        " or within this long after (wall time), means its fix was not first-time.",
        "30d",
    )


def check_kpi(kpi: KpiConfig) -> None:
    """Raise ValueError naming the first ``kpi.*`` key that is wrong."""
    for name in (f.name for f in fields(KpiConfig) if f.name != "repeat_window"):
        b = getattr(kpi, name)
        lower = name in KPI_LOWER_IS_BETTER
        if not (b.excellent <= b.ok <= b.warning if lower else b.excellent >= b.ok >= b.warning):
            order = "excellent <= ok <= warning" if lower else "excellent >= ok >= warning"
            raise ValueError(_("{key}: bands must be ordered {order}").format(key=f"kpi.{name}", order=order))
        if min(b.excellent, b.ok, b.warning) < 0 or (name in KPI_PERCENT and max(b.excellent, b.ok, b.warning) > 100):
            if name in KPI_PERCENT:
                raise ValueError(_("{key}: bands must lie within 0..100 (percent)").format(key=f"kpi.{name}"))
            raise ValueError(_("{key}: bands must lie within 0 or more").format(key=f"kpi.{name}"))
    check_duration("kpi.repeat_window", kpi.repeat_window)

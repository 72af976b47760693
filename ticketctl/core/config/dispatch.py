"""How tickets find technicians: the assignment policy and supervisors
(``[dispatch]``) and where zones are (``[zones]``)."""

from __future__ import annotations

from dataclasses import dataclass

from ticketctl.core.config.base import doc
from ticketctl.i18n import _

POLICIES = ("least_loaded", "round_robin", "skills_first")


@dataclass
class DeptConfig:
    """Overrides for one department."""

    policy: str = doc("Assignment policy here: least_loaded, round_robin or skills_first.", "")
    supervisor: str = doc("Who escalations of this department go to.", "")


@dataclass
class DispatchConfig:
    """How tickets find technicians."""

    policy: str = doc(
        "least_loaded: skill fit, then lower load, distance, longest idle; skills_first: specialists first"
        " (fewest skills beyond the ticket's); round_robin: longest idle first.",
        "least_loaded",
    )
    vip_customers: list[str] = doc("Customers whose tickets go to senior technicians first.", factory=list)
    supervisor: str = doc("Who escalations go to when the department names none.", "supervisor")
    departments: dict[str, DeptConfig] = doc("Per-department policy and supervisor.", factory=dict)


@dataclass
class ZoneConfig:
    """Where a zone is, for distances to technicians with coordinates."""

    lat: float = doc("Latitude of the zone's centre.", 0.0)
    lon: float = doc("Longitude of the zone's centre.", 0.0)


def check_dispatch(dispatch: DispatchConfig) -> None:
    """Raise ValueError naming the first ``dispatch.*`` key that is wrong."""
    for where, pol in [("dispatch.policy", dispatch.policy)] + [
        (f"dispatch.departments.{d}.policy", dc.policy) for d, dc in dispatch.departments.items() if dc.policy
    ]:
        if pol not in POLICIES:
            raise ValueError(_("{key}: {value!r} is not one of {known}").format(key=where, value=pol, known=", ".join(POLICIES)))


def check_zones(zones: dict[str, ZoneConfig]) -> None:
    """Raise ValueError naming the first ``zones.*`` entry that is wrong."""
    for z, zc in zones.items():
        if not (-90 <= zc.lat <= 90 and -180 <= zc.lon <= 180):
            raise ValueError(_("{key}: lat must be within -90..90 and lon within -180..180").format(key=f"zones.{z}"))

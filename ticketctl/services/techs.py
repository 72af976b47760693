"""Technician actions: the team roster is event-sourced like the tickets."""

from __future__ import annotations

from typing import Any

from ticketctl.core import workflow
from ticketctl.core.model import HELD_STATUSES, FieldValue
from ticketctl.core.views import tech_public
from ticketctl.errors import BadInput, Refused
from ticketctl.i18n import _
from ticketctl.services.env import Env
from ticketctl.services.mutations import mutation
from ticketctl.services.tickets import record


def _validate(changes: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in changes.items() if v is not None}
    if "capacity" in out and out["capacity"] < 0:
        raise BadInput(_("--capacity must be zero or more"))
    if ("lat" in out) != ("lon" in out):
        raise BadInput(_("--lat and --lon go together"))
    if "lat" in out and not (-90 <= out["lat"] <= 90 and -180 <= out["lon"] <= 180):
        raise BadInput(_("--lat must be within -90..90 and --lon within -180..180"))
    if "skills" in out:
        out["skills"] = sorted({s.strip().lower() for s in out["skills"] if s.strip()})
    return out


@mutation("tech.add")
def add(env: Env, name: str, **fields: FieldValue) -> dict[str, Any]:
    name = name.strip()
    if not name or any(c.isspace() for c in name) or len(name) > 100 or "\x00" in name:
        raise BadInput(_("technician name {name!r} must be one word of at most 100 characters").format(name=name))
    payload = {"name": name, **_validate(fields)}
    st = env.mutation_store
    with st.transaction():
        if st.has_tech(name):
            raise Refused(_("technician {name!r} already exists (change them with `ticketctl tech set {name} ...`)").format(name=name))
        (e,) = record(env, st, None, [("tech.added", payload)])
        tech = workflow.apply_tech(None, e, env.config)
        st.put_tech(tech)
    return tech_public(tech, 0)


@mutation("tech.update")
def update(env: Env, name: str, **fields: FieldValue) -> dict[str, Any]:
    changes = _validate(fields)
    if not changes:
        raise BadInput(_("nothing to change: pass --skills, --zone, --lat/--lon, --capacity, --dept, --on-shift/--off-shift,"
                         " --on-leave/--back, --delegate or --senior/--not-senior"))
    st = env.mutation_store
    with st.transaction():
        before = st.tech(name)
        if "delegate" in changes:
            if changes["delegate"] == "":
                changes["delegate"] = None
            elif changes["delegate"] == name:
                raise BadInput(_("{name} cannot be their own delegate").format(name=name))
            else:
                st.tech(changes["delegate"])  # must exist
        (e,) = record(env, st, None, [("tech.updated", {"name": name, **changes})])
        tech = workflow.apply_tech(before, e, env.config)
        st.put_tech(tech)
    return tech_public(tech, st.loads(HELD_STATUSES).get(name, 0))


def listing(env: Env) -> list[dict[str, Any]]:
    st = env.store
    loads = st.loads(HELD_STATUSES)
    return [tech_public(t, loads.get(t.name, 0)) for t in st.techs()]

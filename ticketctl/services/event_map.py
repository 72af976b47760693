"""The mapping of an imported event log (or one-row-per-ticket table) to tickets:
which column is which field, which source status is which ticketctl status,
which source word is which priority; and the profiles that keep a mapping.

A profile is a JSON object::

    {"description": "...",
     "map": {"case": "SR Number", "time": "Change Date+Time", "status": "Status", ...},
     "status_map": {"Accepted/In Progress": "in_progress", "Queued": "new", ...},
     "value_map": {"priority": {"Major": "urgent", ...}},
     "defaults": {"type": "incident"},
     "tz": null, "date_format": null,
     "missing": ["?"], "row_order": "time"}

Shipped profiles live in ``ticketctl/data/import_profiles/``; ``--save-profile
NAME`` writes one beside the config file (``import_profiles/NAME.json``), which
wins over a shipped one of the same name. Options on the command line extend
or override what a profile says, pair by pair.

Status targets: ``new``, ``assigned``, ``in_progress``, ``blocked:<reason>``
(a reason of the config's ``[reasons]``), ``resolved``, ``closed``,
``cancelled``. A source status is looked up as ``Status/Sub status`` first,
then ``Status`` alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ticketctl.core.config import IMPACTS, PRIORITIES
from ticketctl.errors import BadInput
from ticketctl.home import Home, atomic_write, make_folder
from ticketctl.i18n import _

#: what ``import events --map`` may name
EVENT_FIELDS = ("case", "time", "status", "substatus", "person", "group", "created", "title", "type", "product", "fault",
                "priority", "impact", "zone", "customer", "channel", "description",
                # the source's own figures, kept from a case's final row (``report kpi`` shows them beside ours)
                "made_sla", "reopens")
EVENT_REQUIRED = ("case", "time", "status")
#: what a status may map to (``blocked`` takes ``:reason``)
TARGETS = ("new", "assigned", "in_progress", "blocked", "resolved", "closed", "cancelled")
#: the fields ``--value-map`` may translate, and the values each accepts
VALUE_FIELDS: dict[str, tuple[str, ...]] = {"priority": tuple(PRIORITIES), "impact": tuple(IMPACTS), "status": ()}
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
SHIPPED = "data/import_profiles"


@dataclass
class Mapping:
    """Everything an import needs to read a file: columns, statuses, values."""

    columns: dict[str, str] = field(default_factory=dict)
    status_map: dict[str, str] = field(default_factory=dict)
    value_map: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    tz: str | None = None
    date_format: str | None = None
    #: cell values that mean "no value" (ServiceNow writes ``?``)
    missing: list[str] = field(default_factory=list)
    #: a case's rows in ``time`` order, or in ``file`` order (a source whose file order is the truth, as
    #: ServiceNow's export is: a row stamped before the previous one is then written at its time)
    row_order: str = "time"

    def as_profile(self, description: str = "") -> dict[str, Any]:
        return {"description": description, "map": self.columns, "status_map": self.status_map,
                "value_map": self.value_map, "defaults": self.defaults, "tz": self.tz, "date_format": self.date_format,
                "missing": self.missing, "row_order": self.row_order}

    def target(self, status: str, sub: str) -> str | None:
        """The ticketctl status (``blocked:reason`` for a block) of a source status, or None."""
        if sub:
            hit = self.status_map.get(f"{status}/{sub}")
            if hit is not None:
                return hit
        return self.status_map.get(status)

    def value(self, name: str, raw: str) -> str:
        """``raw`` as ``--value-map`` translates it for field ``name`` (unchanged when not listed)."""
        return self.value_map.get(name, {}).get(raw, raw)


def _pairs(option: str, specs: list[str]) -> list[tuple[str, str]]:
    out = []
    for spec in specs:
        for pair in spec.split(","):
            if not pair.strip():
                continue
            left, eq, right = pair.rpartition("=")
            if not eq or not left.strip() or not right.strip():
                raise BadInput(_("{option}: {pair!r} is not name=value").format(option=option, pair=pair.strip()))
            out.append((left.strip(), right.strip()))
    return out


def parse_columns(specs: list[str], fields: tuple[str, ...] = EVENT_FIELDS) -> dict[str, str]:
    """``["case=SR Number,time=Change Date+Time"]`` -> {field: column}; raises BadInput."""
    out: dict[str, str] = {}
    for name, column in _pairs("--map", specs):
        if name not in fields:
            raise BadInput(_("--map: unknown field {name!r} (fields: {fields})").format(name=name, fields=", ".join(fields)))
        if name in out:
            raise BadInput(_("--map: {name} is mapped twice").format(name=name))
        out[name] = column
    return out


def check_target(target: str, reasons: Any, source: str = "") -> str:
    """``target`` if it is a status ``--status-map`` may name; raises BadInput."""
    status, _colon, reason = target.partition(":")
    if status not in TARGETS or (reason and status != "blocked"):
        raise BadInput(_("--status-map: {source!r} maps to {target!r}, which is not one of {targets}"
                         " (blocked takes :reason)").format(source=source, target=target, targets=", ".join(TARGETS)))
    if status == "blocked":
        if not reason:
            reason = "awaiting_third_party"
        if reason not in reasons:
            raise BadInput(_("--status-map: {source!r}: no blocked reason {reason!r} (reasons: {reasons})").format(
                source=source, reason=reason, reasons=", ".join(reasons)))
        return f"blocked:{reason}"
    return status


def parse_status_map(specs: list[str], reasons: Any) -> dict[str, str]:
    """``["Accepted/In Progress=in_progress,Queued=new"]`` -> {source: target}; raises BadInput."""
    return {src: check_target(dst, reasons, src) for src, dst in _pairs("--status-map", specs)}


def parse_value_map(specs: list[str]) -> dict[str, dict[str, str]]:
    """``["priority:Major=urgent,High=high", "impact:Low=user"]`` -> {field: {source: value}}.
    A pair without ``field:`` continues the previous field; raises BadInput."""
    out: dict[str, dict[str, str]] = {}
    current = ""
    for left, right in _pairs("--value-map", specs):
        name, colon, source = left.partition(":")
        if colon and name.strip() in VALUE_FIELDS:
            current, left = name.strip(), source.strip()
        elif colon and not current:
            raise BadInput(_("--value-map: unknown field {name!r} (fields: {fields})").format(
                name=name.strip(), fields=", ".join(VALUE_FIELDS)))
        if not current:
            raise BadInput(_("--value-map: {pair!r} names no field: write field:source=value, e.g. priority:Major=urgent").format(
                pair=f"{left}={right}"))
        allowed = VALUE_FIELDS[current]
        if allowed and right not in allowed:
            raise BadInput(_("--value-map: {field} {value!r} is not one of {allowed}").format(
                field=current, value=right, allowed=", ".join(allowed)))
        out.setdefault(current, {})[left] = right
    return out


def _user_dir(home: Home) -> Path:
    return home.config_file.parent / "import_profiles"


def profile_names(home: Home) -> list[str]:
    """Every profile ``--profile`` finds: shipped and saved."""
    names = {p.name.removesuffix(".json") for p in resources.files("ticketctl").joinpath(SHIPPED).iterdir()
             if p.name.endswith(".json")}
    d = _user_dir(home)
    if d.is_dir():
        names |= {p.stem for p in d.glob("*.json")}
    return sorted(names)


def load_profile(home: Home, name: str) -> dict[str, Any]:
    """The profile ``name``: a saved one, else a shipped one; raises BadInput."""
    if not _NAME.match(name):
        raise BadInput(_("--profile {name!r}: a profile's name is letters, digits, . _ -").format(name=name))
    saved = _user_dir(home) / f"{name}.json"
    try:
        if saved.is_file():
            text = saved.read_text(encoding="utf-8")
        else:
            shipped = resources.files("ticketctl").joinpath(f"{SHIPPED}/{name}.json")
            if not shipped.is_file():
                raise BadInput(_("--profile: no profile {name!r} (profiles: {names})").format(
                    name=name, names=", ".join(profile_names(home))))
            text = shipped.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as e:
        raise BadInput(_("--profile {name!r}: cannot read it: {error}").format(name=name, error=e)) from None
    if not isinstance(data, dict):
        raise BadInput(_("--profile {name!r}: cannot read it: {error}").format(name=name, error="not a JSON object"))
    return data


def check_name(name: str) -> str:
    """``name`` if ``--save-profile`` may take it; raises BadInput (before anything is imported)."""
    if not _NAME.match(name):
        raise BadInput(_("--save-profile {name!r}: a profile's name is letters, digits, . _ -").format(name=name))
    return name


def save_profile(home: Home, name: str, mapping: Mapping) -> Path:
    """Write ``mapping`` as profile ``name`` beside the config file; returns its path."""
    path = make_folder(_user_dir(home)) / f"{check_name(name)}.json"
    atomic_write(path, (json.dumps(mapping.as_profile(), ensure_ascii=False, indent=2) + "\n").encode())
    return path


def build(home: Home, reasons: Any, profile: str | None, columns: list[str], status_map: list[str],
          value_map: list[str], tz: str | None, date_format: str | None,
          fields: tuple[str, ...] = EVENT_FIELDS) -> Mapping:
    """The mapping of a run: the profile's, then the options' pairs over it. Raises BadInput."""
    m = Mapping()
    if profile:
        p = load_profile(home, profile)
        try:
            m.columns = {str(k): str(v) for k, v in dict(p.get("map") or {}).items()}
            for k in m.columns:
                if k not in fields:
                    raise BadInput(_("--map: unknown field {name!r} (fields: {fields})").format(name=k, fields=", ".join(fields)))
            m.status_map = {str(k): check_target(str(v), reasons, str(k)) for k, v in dict(p.get("status_map") or {}).items()}
            m.value_map = {str(f): {str(k): str(v) for k, v in dict(d).items()}
                           for f, d in dict(p.get("value_map") or {}).items()}
            m.defaults = {str(k): str(v) for k, v in dict(p.get("defaults") or {}).items()}
        except (TypeError, ValueError, AttributeError) as e:
            raise BadInput(_("--profile {name!r}: cannot read it: {error}").format(name=profile, error=e)) from None
        m.tz, m.date_format = p.get("tz"), p.get("date_format")
        m.missing = [str(v) for v in p.get("missing") or []]
        m.row_order = str(p.get("row_order") or "time")
        if m.row_order not in ("time", "file"):
            raise BadInput(_("--profile {name!r}: cannot read it: {error}").format(
                name=profile, error=f"row_order {m.row_order!r} is neither 'time' nor 'file'"))
    m.columns.update(parse_columns(columns, fields))
    m.status_map.update(parse_status_map(status_map, reasons))
    for f, d in parse_value_map(value_map).items():
        m.value_map.setdefault(f, {}).update(d)
    m.tz = tz or m.tz
    m.date_format = date_format or m.date_format
    return m

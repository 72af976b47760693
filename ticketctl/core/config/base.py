"""What every section of the config is made of: a documented field
(:func:`doc`), the duration grammar (``15m``, ``8h``, ``3d``) and the plain
tables a config becomes (:func:`to_dict`)."""

from __future__ import annotations

import re
from dataclasses import MISSING, field, fields, is_dataclass
from typing import Any

from ticketctl.i18n import _


def doc(text: str, default: Any = MISSING, factory: Any = MISSING) -> Any:
    """A dataclass field with its documentation attached."""
    if factory is not MISSING:
        return field(default_factory=factory, metadata={"doc": text})
    return field(default=default, metadata={"doc": text})


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")


def parse_duration(text: str, day_seconds: int = 36_000) -> int:
    """Seconds in ``15m``, ``8h`` or ``3d`` (days of ``day_seconds``: a business
    day by default, 86,400 for wall time)."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(_("{text!r} is not a duration like 15m, 8h or 3d").format(text=text))
    n, unit = float(m.group(1)), m.group(2)
    return int(n * {"m": 60, "h": 3600, "d": day_seconds}[unit])


def check_duration(key: str, text: str) -> None:
    """Raise ValueError naming ``key`` unless ``text`` is a duration longer than zero."""
    try:
        if parse_duration(text) <= 0:
            raise ValueError(_("must be longer than zero"))
    except ValueError as e:
        raise ValueError(_("{key}: {error}").format(key=key, error=e)) from None


def to_dict(obj: Any) -> Any:
    """Plain dicts and lists of a config (for TOML/JSON output and merging)."""
    if is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_dict(v) for v in obj]
    return obj

"""What every section of the config is made of: a documented field
(:func:`doc`), the duration grammar (``15m``, ``8h``, ``3d``), the plain
tables a config becomes (:func:`to_dict`), and the check of a name against a
closed set the config declares (:func:`check_known`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import MISSING, field, fields, is_dataclass
from typing import Any

from ticketctl.i18n import N_, _, fill


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
    seconds = n * {"m": 60, "h": 3600, "d": day_seconds}[unit]
    if seconds > MAX_DURATION_S:  # a due time this far away would leave the dates the clocks can hold
        raise ValueError(_("{text!r} is longer than {years} years").format(text=text, years=MAX_DURATION_S // (365 * 86_400)))
    return int(seconds)


#: the longest duration a rule may name (an SLA target, a limit, a window): 100 years
MAX_DURATION_S = 100 * 365 * 86_400


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


#: what :func:`check_known` calls each closed set in its message
KINDS = {"type": N_("type"), "priority": N_("priority"), "impact": N_("impact"), "reason": N_("block reason"),
         "answer": N_("answer")}
#: the closed sets whose values have labels (``ticketctl.core.labels``)
LABELLED_KINDS = ("type", "priority", "impact", "reason")


def check_known(kind: str, value: str, known: Iterable[str]) -> str:
    """``value`` when it is one of ``known`` (a closed set the config or the
    rules declare: ticket types, priorities, impacts, blocked reasons); else
    BadInput naming the closest known value, so that a typo (``repiar``) never
    slips past the rules that hang on the name (a type's checklist)."""
    import difflib

    from ticketctl.errors import BadInput

    names = list(known)
    if value in names:
        return value
    what = _(KINDS.get(kind, kind))
    typed = {"known": kind} if kind in LABELLED_KINDS else {}  # what to type instead: each label with its identifier
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6) or [
        n for n in names if n.casefold() == value.strip().casefold()]
    if close:
        raise BadInput(fill(N_("unknown {kind} {value!r} (did you mean {guess!r}? known: {known})"), typed=typed,
                            kind=what, value=value, guess=close[0], known=", ".join(names)))
    raise BadInput(fill(N_("unknown {kind} {value!r} (known: {known})"), typed=typed, kind=what, value=value,
                        known=", ".join(names)))

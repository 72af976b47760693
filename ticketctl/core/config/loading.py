"""Loading a config: the user's table merged over the defaults, checked
against the fields' types, then against what types alone cannot say. Never
half-accepts a table: :func:`config_from_dict` raises a ValueError naming the
key and what is wrong."""

from __future__ import annotations

import math
import typing
from dataclasses import fields, is_dataclass
from typing import Any

from ticketctl.core.config.approvals import check_approvals
from ticketctl.core.config.base import to_dict
from ticketctl.core.config.dispatch import check_dispatch, check_zones
from ticketctl.core.config.intake import check_intake
from ticketctl.core.config.kpi import check_kpi
from ticketctl.core.config.labels import check_labels
from ticketctl.core.config.proof import check_proof
from ticketctl.core.config.root import Config
from ticketctl.core.config.sla import check_calendar, check_sla
from ticketctl.core.config.sweep import check_notify, check_sweep
from ticketctl.core.config.workflow import check_reasons, check_types
from ticketctl.i18n import LANGUAGES, _


def config_from_dict(data: dict[str, Any]) -> Config:
    """A validated Config from the user's table merged over the defaults.

    Raises ValueError whose message starts with the offending key."""
    merged = _merge(to_dict(Config()), data)
    cfg: Config = _build(Config, merged)
    _check(cfg)
    return cfg


def _check(cfg: Config) -> None:
    """Semantic checks that types alone cannot express, section by section;
    the first key that is wrong raises ValueError."""
    if cfg.lang and cfg.lang not in LANGUAGES:
        raise ValueError(_("{key}: {value!r} is not one of {known}").format(key="lang", value=cfg.lang, known=", ".join(LANGUAGES)))
    check_calendar(cfg.calendar)
    check_approvals(cfg.approvals)
    check_intake(cfg.intake, cfg.types)
    check_sla(cfg.sla, cfg.weights)
    if cfg.capacity < 0:
        raise ValueError(_("{key}: must be zero or more").format(key="capacity"))
    check_reasons(cfg.reasons)
    check_dispatch(cfg.dispatch)
    check_sweep(cfg.sweep)
    check_zones(cfg.zones)
    check_notify(cfg.notify)
    check_kpi(cfg.kpi)
    check_types(cfg.types)
    check_proof(cfg.proof)
    check_labels(cfg.labels)


def _kind(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _convert(tp: Any, value: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp``; raise ValueError naming ``key``."""
    origin = typing.get_origin(tp)
    if is_dataclass(tp):
        if not isinstance(value, dict):
            raise ValueError(_("{key}: expected a table, got {value!r}").format(key=key, value=value))
        return _build(tp, value, key)
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ValueError(_("{key}: expected a list, got {value!r}").format(key=key, value=value))
        return [_convert(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _unused, item = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ValueError(_("{key}: expected a table, got {value!r}").format(key=key, value=value))
        return {k: _convert(item, v, f"{key}.{k}") for k, v in value.items()}
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):  # TOML has nan and inf
            raise ValueError(_("{key}: must be a finite number, not {value!r}").format(key=key, value=value))
        return float(value)
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        if not -(2**63) < value < 2**63:  # what a store's or a server's integer column holds
            raise ValueError(_("{key}: {value} is out of range").format(key=key, value=value))
        return value
    if tp in (str, bool) and isinstance(value, tp):
        return value
    raise ValueError(_("{key}: expected {kind}, got {value!r}").format(key=key, kind=_kind(tp), value=value))


def _build(cls: Any, data: dict[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls) if f.init}
    for k in data:
        if k not in names:
            raise ValueError(_("{key}: unknown key (known: {known})").format(
                key=f"{prefix}.{k}" if prefix else k, known=", ".join(sorted(names))))
    kwargs = {}
    for f in fields(cls):
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name], f"{prefix + '.' if prefix else ''}{f.name}")
    return cls(**kwargs)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge tables; lists and scalars in ``over`` replace."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out

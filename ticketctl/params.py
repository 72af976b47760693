"""The checks every command's parameters get, whichever command declares them.

Typer turns ``str``, ``int``, ``float`` and ``Path`` annotations into Click's
parameter types; :func:`harden` swaps each for a subclass that also refuses
what would otherwise end as an "internal error" deep in a service:

* text with a NUL or bytes that are not UTF-8 (a command line's bytes arrive as
  surrogate escapes, which SQLite, JSON and the terminal cannot encode);
* integers beyond a 64-bit row (``--limit 99999999999999999999999``);
* ``nan``, ``inf`` and ``1e999`` for a number;
* a path with a NUL (Click's and Typer's path types alike).

Each refusal is a :class:`~ticketctl.errors.BadInput` naming the parameter:
one line, exit 2. Help texts stay the same (the ranges are kept).

Where a person types a value that has labels (:data:`LABELLED`: ``block
--reason``, ``new --priority``, ``list --status``, ``close --check``, ...),
the parameter also takes the value's label in any language, and the team's
own (``core.labels.value_of``): ``--reason 等待备件`` is ``--reason
awaiting_parts`` before any check runs; what matches no label is left as
typed, for the command's own "not one of" message.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import click

from ticketctl.core.inputs import check_text
from ticketctl.errors import BadInput
from ticketctl.i18n import _

#: the largest integer a store or a server column holds (SQLite INTEGER, PostgreSQL BIGINT)
INT_MAX = 2**63 - 1


def name_of(param: click.Parameter | None) -> str:
    """How a message names a parameter: its long option (``--limit``) or its metavar (``TITLE``)."""
    if param is None:
        return _("the value")
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return param.human_readable_name


def check_int(param: click.Parameter | None, value: int) -> int:
    if not -INT_MAX <= value <= INT_MAX:
        raise BadInput(_("{name} {value} is out of range (at most {limit})").format(name=name_of(param), value=value, limit=INT_MAX))
    return value


def check_float(param: click.Parameter | None, value: float) -> float:
    if not math.isfinite(value):
        raise BadInput(_("{name} must be a finite number, not {value}").format(name=name_of(param), value=value))
    return value


class Text(click.types.StringParamType):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return check_text(name_of(param), super().convert(value, param, ctx))


class Int(click.types.IntParamType):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return check_int(param, super().convert(value, param, ctx))


class IntRange(click.IntRange):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return check_int(param, super().convert(value, param, ctx))


class Float(click.types.FloatParamType):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return check_float(param, super().convert(value, param, ctx))


class FloatRange(click.FloatRange):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.types.FloatParamType().convert(value, param, ctx)  # the number first: nan passes any range
        return super().convert(check_float(param, number), param, ctx)


class NoNulPath(click.Path):
    """Put before Click's or Typer's path type (``TyperPath``): a NUL can name no file."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise BadInput(_("{name} contains a NUL character").format(name=name_of(param)))
        return super().convert(value, param, ctx)


#: Click's type -> ours (same behaviour and help, plus the checks above)
_SWAP: dict[type, type] = {click.types.StringParamType: Text, click.types.IntParamType: Int, click.IntRange: IntRange,
                           click.types.FloatParamType: Float, click.FloatRange: FloatRange}


def _hardened(t: click.ParamType) -> click.ParamType:
    ours = _SWAP.get(type(t))
    if ours is None and isinstance(t, click.Path) and not isinstance(t, NoNulPath):
        ours = _SWAP.setdefault(type(t), type(f"NoNul{type(t).__name__}", (NoNulPath, type(t)), {}))
    if ours is None:
        return t
    swapped = copy.copy(t)  # Click shares STRING, INT and FLOAT between all parameters: never change those
    swapped.__class__ = ours
    return swapped


#: the parameters a person types a labelled value into: (command path below ``ticketctl``, option or
#: argument name) -> the kind of value (``core.labels.KINDS``)
LABELLED = {
    ("new", "--type"): "type", ("new", "--priority"): "priority", ("new", "--impact"): "impact", ("new", "--channel"): "channel",
    ("edit", "--priority"): "priority", ("edit", "--impact"): "impact", ("edit", "--channel"): "channel",
    ("list", "--status"): "status", ("mine", "--status"): "status",
    ("block", "--reason"): "reason", ("close", "--check"): "checklist", ("attach", "--for"): "checklist",
    ("why", "CHOICE"): "reason", ("server add-device", "--role"): "role",
}


def _config(ctx: click.Context | None) -> Any:
    """The config of the invocation (the team's menus and labels), or None outside one."""
    return getattr(ctx.find_root().obj, "config", None) if ctx is not None else None


def known_values(kind: str, cfg: Any, t: click.ParamType) -> list[str]:
    """The identifiers a labelled parameter takes: a choice's choices; the config's
    menu for a blocked reason, a ticket type or a checklist item; else the kind's
    built-in and team-labelled values."""
    from ticketctl.core.labels import ZH

    choices = getattr(t, "choices", None)
    if choices:
        return [str(c) for c in choices]
    if kind == "reason" and cfg is not None:
        from ticketctl.core.workflow import STALL_CHOICES

        return [*cfg.reasons, *(c for c in STALL_CHOICES if c not in cfg.reasons)]
    if kind == "type" and cfg is not None:
        return list(cfg.types)
    if kind == "checklist" and cfg is not None:
        return list(dict.fromkeys(i for tc in cfg.types.values() for i in tc.checklist))
    if kind == "priority":
        from ticketctl.core.config import PRIORITIES

        return list(PRIORITIES)
    if kind == "impact":
        from ticketctl.core.config.sla import IMPACTS

        return list(IMPACTS)
    own = [k.split(".", 1)[1] for k in (cfg.labels if cfg is not None else {}) if k.startswith(kind + ".")]
    return list(dict.fromkeys([*ZH.get(kind, {}), *own]))


class Labelled(click.ParamType):
    """Put before a parameter's own type (:func:`_labelled`): a label is read as its identifier first."""

    label_kind = ""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.strip():
            from ticketctl.core.labels import value_of

            cfg = _config(ctx)
            meant = value_of(self.label_kind, value, known_values(self.label_kind, cfg, self), cfg)
            if meant.casefold() != value.strip().casefold():  # an identifier in capitals stays the command's to judge
                value = meant
        return super().convert(value, param, ctx)

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        """A choice's refusal: in Chinese, each choice with its label, joined with 、."""
        from ticketctl.i18n import current, ngettext

        choices = getattr(self, "choices", None) or ()
        if current() == "en" or not choices:
            return str(super().get_invalid_choice_message(value, ctx))  # type: ignore[misc]
        from ticketctl.cells import join, paren
        from ticketctl.core.labels import label

        cfg = _config(ctx)
        shown = join((str(c) + (paren(lab, "zh_CN") if (lab := label(self.label_kind, str(c), cfg)) != str(c) else "")
                      for c in choices), "list", "zh_CN")
        return ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", len(choices)).format(
            value=value, choice=shown, choices=shown)


#: a parameter type -> the same reading labels first
_LABELLED_TYPES: dict[type, type] = {}


def _labelled(t: click.ParamType, kind: str) -> click.ParamType:
    cls = type(t)
    ours = _LABELLED_TYPES.setdefault(cls, type(f"Labelled{cls.__name__}", (Labelled, cls), {}))
    swapped = copy.copy(t)
    swapped.__class__ = ours
    swapped.label_kind = kind  # type: ignore[attr-defined]
    return swapped


def _param_name(param: click.Parameter) -> str:
    return max(param.opts, key=len) if isinstance(param, click.Option) else (param.name or "").upper()


def harden(command: click.Command, path: str | None = None) -> None:
    """Give every parameter of ``command`` and its subcommands the checked types,
    and the labelled ones (:data:`LABELLED`; ``path``: the command's path below
    ``ticketctl``, default its name) the reading of labels."""
    path = (command.name or "") if path is None else path
    for param in command.params:
        param.type = _hardened(param.type)
        kind = LABELLED.get((path, _param_name(param)))
        if kind is not None and not isinstance(param.type, Labelled):
            param.type = _labelled(param.type, kind)
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            harden(sub, f"{path} {name}".strip())

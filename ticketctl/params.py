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


def harden(command: click.Command) -> None:
    """Give every parameter of ``command`` and its subcommands the checked types."""
    for param in command.params:
        param.type = _hardened(param.type)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            harden(sub)

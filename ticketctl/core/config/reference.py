"""The config reference: every key with its default and its documentation,
as the README's config section shows them (``tools/gen_docs.py``)."""

from __future__ import annotations

import typing
from dataclasses import MISSING, fields, is_dataclass
from typing import Any

from ticketctl.core.config.base import to_dict
from ticketctl.core.config.root import Config


def field_docs(cls: Any = Config, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, doc) for every field, depth first, for the config reference."""
    out: list[tuple[str, str, str]] = []
    defaults = cls() if all(f.default is not MISSING or f.default_factory is not MISSING for f in fields(cls)) else None
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        key = prefix + f.name
        tp = hints[f.name]
        default = getattr(defaults, f.name) if defaults is not None else None
        if is_dataclass(tp):
            out.append((key, "", f.metadata["doc"]))
            out.extend(field_docs(tp, key + "."))
        else:
            shown = "" if default is None else _show_default(default)
            out.append((key, shown, f.metadata["doc"]))
            args = typing.get_args(tp)
            if typing.get_origin(tp) is dict and is_dataclass(args[1]):
                out.extend(field_docs(args[1], key + ".<name>."))
    return out


def _show_default(v: Any) -> str:
    import json

    return json.dumps(to_dict(v), separators=(", ", ": "))

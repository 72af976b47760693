"""``config show|set`` and ``locate``."""

from __future__ import annotations

import tomllib
from typing import Annotated, Any

import typer

from ticketctl.cells import rjust
from ticketctl.commands.output import emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.core.config.base import to_dict
from ticketctl.errors import BadInput
from ticketctl.home import read_config_table, write_config_table
from ticketctl.i18n import N_, _

app = typer.Typer(help="Show or change the rules in config.toml.", no_args_is_help=True)

#: the labels of ``locate``'s lines (its JSON keeps the keys)
LOCATE_LABELS = {"home": N_("home"), "config": N_("config"), "store": N_("store"), "logs": N_("logs")}


@app.command(epilog="Example: ticketctl config show --json")
def show(json: Json = False) -> None:
    """Print the effective config: the file's values over the defaults."""
    data = to_dict(env().config)
    if json:
        emit_json(data)
    else:
        import tomli_w

        from ticketctl.core.config.workflow import default_reasons

        # the built-in reasons' menu labels read in the reader's language (a team's own stay as written)
        builtin = {r: rc.label for r, rc in default_reasons().items()}
        for r, rc in data.get("reasons", {}).items():
            if rc.get("label") and rc["label"] == builtin.get(r):
                rc["label"] = _(rc["label"])
        print(tomli_w.dumps(data), end="")


def _key_parts(key: str) -> list[str]:
    """A dotted key as TOML reads it: ``labels."checklist.gas_test".zh_CN`` is three parts."""
    try:
        doc = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        raise BadInput(_("bad key {key!r}").format(key=key)) from None
    parts: list[str] = []
    node: Any = doc
    while isinstance(node, dict) and len(node) == 1:
        (k, node), = node.items()
        parts.append(k)
    if not parts or node != 0 or not all(parts):
        raise BadInput(_("bad key {key!r}").format(key=key))
    return parts


def _value(text: str) -> Any:
    """A TOML value (number, bool, list, quoted string), else the text itself."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


@app.command("set", context_settings={"ignore_unknown_options": True},  # VALUE may be -1
             epilog="Example: ticketctl config set calendar.holidays '[\"2026-12-25\", \"2026-12-26\"]'")
def set_(
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. me, capacity, calendar.timezone, sla.high.resolve.")],
    value: Annotated[str, typer.Argument(help="A TOML value (4, true, [\"a\", \"b\"]) or plain text.")],
) -> None:
    """Set one key in config.toml; refused (file unchanged) if the result is invalid."""
    e = env()
    data = read_config_table(e.home.config_file)
    parts = _key_parts(key)
    node = data
    for p in parts[:-1]:
        nxt = node.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise BadInput(_("{key}: {part} is not a table").format(key=key, part=p))
        node = nxt
    node[parts[-1]] = _value(value)
    write_config_table(e.home.config_file, data)
    print(f"{key} = {node[parts[-1]]!r}  ({e.home.config_file})")


def locate(json: Json = False) -> None:
    """Print where the config, the store and the logs are."""
    h = env().home
    where = {"home": str(h.root) if h.root else None, "config": str(h.config_file), "store": str(h.store_file),
             "logs": str(h.log_dir)}
    if json:
        emit_json(where)
    else:
        for k, v in where.items():
            if v:
                print(f"{rjust(_(LOCATE_LABELS[k]), 6)}  {v}")


def register(app: typer.Typer) -> None:
    """The top-level verb of this module (the `config` group is ``app``)."""
    app.command(epilog="Example: ticketctl locate --json")(locate)

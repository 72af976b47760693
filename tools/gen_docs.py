"""Generate the README's command and config references from the code.

    python tools/gen_docs.py          # rewrite README.md in place
    python tools/gen_docs.py --check  # exit 1 when README.md is out of date

The command reference is every command's ``--help`` text, exactly as a user
sees it (at 100 columns); the config reference is the docstring of every
config field (``ticketctl.core.config``). ``tests/test_docs.py`` runs the check.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

import click
import typer

README = Path(__file__).resolve().parent.parent / "README.md"
MARKS = {
    "commands": ("<!-- BEGIN COMMAND REFERENCE -->", "<!-- END COMMAND REFERENCE -->"),
    "config": ("<!-- BEGIN CONFIG REFERENCE -->", "<!-- END CONFIG REFERENCE -->"),
}


INDEX = README.parent / "ticketctl" / "commands" / "index.py"


def index_source() -> str:
    """``ticketctl/commands/index.py``: every top-level command's name, source and
    help, so that ``ticketctl --help`` and ``ticketctl CMD`` import only what they use."""
    from ticketctl.cli import command_index

    rows = "".join(f"    ({name!r}, {source}, {text!r}),\n" for name, source, text in command_index())
    return ("# ruff: noqa: E501  (generated: one line per command)\n"
            '"""Every top-level command: (name, position in ``ticketctl.cli.SOURCES``, English help).\n\n'
            "Generated from the command modules by ``python tools/gen_docs.py``; ``tests/test_docs.py``\n"
            'fails when it differs from them. The lazy root command (``ticketctl.cli.LazyGroup``) lists\n'
            'commands from here without importing them."""\n\n'
            "COMMANDS: tuple[tuple[str, int, str], ...] = (\n" + rows + ")\n")


def command_paths() -> list[list[str]]:
    """Every command and group, in the order ``--help`` lists them."""
    from ticketctl.cli import build_app

    root = typer.main.get_command(build_app())
    out: list[list[str]] = []

    def walk(cmd: click.Command, path: list[str]) -> None:
        out.append(path)
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd, info_name=" ".join(["ticketctl", *path]))
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    walk(sub, [*path, name])

    walk(root, [])
    return out


def help_text(path: list[str]) -> str:
    """The English help of one command, whatever this machine's locale or config says."""
    import tempfile

    from ticketctl.cli import main
    from ticketctl.services.env import Env

    os.environ["COLUMNS"] = "100"
    buf = io.StringIO()
    with tempfile.TemporaryDirectory() as home, contextlib.redirect_stdout(buf):
        env = Env.from_environ({**os.environ, "TICKETCTL_HOME": home, "TICKETCTL_LANG": "en"})
        rc = main([*path, "--help"], env=env)
    assert rc == 0, f"ticketctl {' '.join(path)} --help exited {rc}"
    return buf.getvalue().rstrip() + "\n"


def commands_section() -> str:
    parts = ["Generated from `--help` by `python tools/gen_docs.py`; a test fails when they differ.\n"]
    for path in command_paths():
        title = " ".join(["ticketctl", *path])
        parts.append(f"### `{title}`\n\n```text\n{help_text(path)}```\n")
    return "\n".join(parts)


def config_section() -> str:
    from ticketctl.core.config.reference import field_docs

    rows = ["Generated from the fields of `ticketctl/core/config/`. Keys are dotted paths into `config.toml`;"
            " `<name>` is a reason, type or priority of your own.\n",
            "| key | default | meaning |", "| --- | --- | --- |"]
    for key, default, doc in field_docs():
        shown = f"`{default}`" if default else ""
        cells = [f"`{key}`", shown, doc]
        rows.append("| " + " | ".join(c.replace("|", r"\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def render(text: str) -> str:
    for name, body in (("commands", commands_section()), ("config", config_section())):
        begin, end = MARKS[name]
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = f"{head}{begin}\n{body}{end}{tail}"
    return text


def main() -> int:
    index = index_source()
    if "--check" in sys.argv:
        if not INDEX.exists() or INDEX.read_text(encoding="utf-8") != index:
            print("ticketctl/commands/index.py is out of date: run python tools/gen_docs.py", file=sys.stderr)
            return 1
    elif not INDEX.exists() or INDEX.read_text(encoding="utf-8") != index:
        INDEX.write_text(index, encoding="utf-8")
    current = README.read_text(encoding="utf-8")
    fresh = render(current)
    if "--check" in sys.argv:
        if fresh != current:
            print("README.md is out of date: run python tools/gen_docs.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

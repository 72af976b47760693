"""The lazy command tree: ``ticketctl`` imports a command's module only when
that command runs, and serves ``ticketctl --help`` from a generated index
(``ticketctl/commands/index.py``) without importing any. What a user sees must
be exactly what the whole tree, built at once, would show.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer

from ticketctl import i18n
from ticketctl.cli import build_app, command_index, main
from ticketctl.commands.index import COMMANDS
from ticketctl.services.env import Env


def _lazy(argv: list[str], home: Path, lang: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_LANG": lang, "COLUMNS": "100"})
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv, env=env)
    return code, out.getvalue(), err.getvalue()


def _eager(argv: list[str], lang: str) -> str:
    """The same help from the whole tree built at once (what ticketctl did before it was lazy)."""
    i18n.use(lang)
    command = typer.main.get_command(build_app())
    i18n.translate_commands(command)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(click.exceptions.Exit):
        command.main(args=argv, prog_name="ticketctl", standalone_mode=False)
    return out.getvalue()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("argv", [["--help"], ["list", "--help"], ["tech", "--help"], ["tech", "add", "--help"],
                                  ["report", "kpi", "--help"], ["block", "--help"], ["sync", "--help"]])
def test_help_equals_the_whole_trees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], lang: str) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    code, out, err = _lazy(argv, tmp_path, lang)
    assert (code, err) == (0, "")
    assert out == _eager(argv, lang)
    assert ("命令" in out or "选项" in out) == (lang == "zh_CN")


def test_the_index_is_the_modules_commands() -> None:
    assert list(COMMANDS) == command_index()
    assert len(COMMANDS) >= 30 and {"new", "list", "start", "tech", "sync", "tui"} <= {c[0] for c in COMMANDS}


def test_an_unknown_command_suggests_once(tmp_path: Path) -> None:
    for argv, where in ((["locat"], "ticketctl"), (["tech", "lst"], "ticketctl tech")):
        code, out, err = _lazy(argv, tmp_path, "en")
        assert code == 2 and out == ""
        assert err.count("Did you mean") == 1, err
        assert err == (f"ticketctl: error: No such command {argv[-1]!r}. (Did you mean one of: "
                       f"{', '.join(repr(m) for m in sorted({'locat': ['locate', 'block'], 'lst': ['list', 'set']}[argv[-1]]))}?)"
                       f" (see `{where} --help`)\n")


LOADED = r"""
import json, sys
from ticketctl.cli import main
code = main(json.loads(sys.argv[1]))
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules if m.startswith("ticketctl.commands."))}))
"""


@pytest.mark.parametrize(("argv", "commands"), [
    (["--help"], ["ticketctl.commands.index"]),
    (["list", "--json"], ["ticketctl.commands.index", "ticketctl.commands.output", "ticketctl.commands.tickets"]),
    (["tech", "list", "--json"], ["ticketctl.commands.index", "ticketctl.commands.output", "ticketctl.commands.tech",
                                  "ticketctl.commands.tickets"]),
])
def test_a_command_imports_only_its_own_module(tmp_path: Path, argv: list[str], commands: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    env["TICKETCTL_HOME"] = str(tmp_path)
    p = subprocess.run([sys.executable, "-c", LOADED, json.dumps(argv)], capture_output=True, text=True, env=env,
                       timeout=60, check=False)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got == {"code": 0, "modules": commands}


def test_show_piped_is_richs_text_without_rich(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``show`` to a pipe prints what Rich would print in a terminal, colours aside, without importing Rich."""
    import rich.console

    from ticketctl.commands import output
    from ticketctl.render.show import ticket_page
    from ticketctl.services import techs, tickets

    env = Env.from_environ({"TICKETCTL_HOME": str(tmp_path), "TICKETCTL_USER": "ana", "TICKETCTL_NOW": "2026-03-02T09:00:00Z"})
    techs.add(env, "ana")
    t = tickets.create(env, {"title": r"Valve [bold]stuck[/] \[x] \\[red] 漏水 [ ] [", "type": "repair", "dept": "设施[部]",
                             "product": "pump", "customer": "李伟 [VIP]"})
    tickets.note(env, t["key"], r"see [red]manual[/] p.4 \ [/]")
    shown = tickets.show(env, t["key"])
    buf = io.StringIO()
    terminal = rich.console.Console(file=buf, color_system=None, width=300, highlight=False, soft_wrap=True)
    monkeypatch.setattr(output, "console", lambda: terminal)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    output.print_markup(ticket_page(shown))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    piped = io.StringIO()
    with contextlib.redirect_stdout(piped):
        output.print_markup(ticket_page(shown))
    want = [line.rstrip() for line in buf.getvalue().splitlines()]
    assert [line.rstrip() for line in piped.getvalue().splitlines()] == want
    assert any(r"Valve [bold]stuck[/] \[x] \\[red] 漏水 [ ] [" in line for line in want)

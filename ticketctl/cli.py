"""The ``ticketctl`` entry point: builds the command tree and maps every error
to one line on stderr and one exit code (the table is in ``ticketctl.errors``).

Nothing here, nor in any headless command, imports Textual, SQLAlchemy,
SQLModel or pydantic: a technician's command must start in well under 0.3 s.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click
import typer
from typer.core import TyperGroup

from ticketctl import errors
from ticketctl.i18n import _

ROOT_HELP = ("Work orders from the terminal: tickets, technicians, SLA clocks, an offline-first store.\n\n"
             "Exit codes: 0 ok, 1 refused or failed, 2 bad usage or input, 3 server unreachable.")
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

#: Where the command tree comes from, in the order ``ticketctl --help`` lists it:
#: ("verbs", module) registers top-level commands with its ``register(app)``;
#: ("group", module, name) adds its ``app`` as the group ``name`` (("group", module, name, attr): its ``attr``).
SOURCES: tuple[tuple[str, ...], ...] = (
    ("verbs", "tickets"), ("verbs", "lifecycle"), ("verbs", "proof_cmd"), ("verbs", "kb_cmd"), ("verbs", "approval_cmd"),
    ("group", "tech", "tech"), ("group", "kb_cmd", "kb"), ("group", "approval_cmd", "approval"),
    ("group", "config_cmd", "config"), ("verbs", "config_cmd"),
    ("group", "store_cmd", "store"), ("group", "dispatch_cmd", "dispatch"), ("group", "report_cmd", "report"),
    ("group", "notify_cmd", "notify"), ("group", "import_cmd", "import"), ("group", "cert_cmd", "cert"),
    ("group", "sync_cmd", "sync"), ("group", "server_cmd", "server"), ("group", "intake_cmd", "intake"),
    ("verbs", "sweep_cmd"),
    ("verbs", "demo_cmd"), ("verbs", "tui_cmd"),
    ("group", "parts_cmd", "part", "part_app"), ("group", "parts_cmd", "stock", "stock_app"),
)


def _typer() -> typer.Typer:
    return typer.Typer(name="ticketctl", help=ROOT_HELP, no_args_is_help=True, rich_markup_mode=None,
                       pretty_exceptions_enable=False, add_completion=False, suggest_commands=False,
                       context_settings=CONTEXT)


def _add(app: typer.Typer, source: tuple[str, ...]) -> None:
    module = importlib.import_module(f"ticketctl.commands.{source[1]}")
    if source[0] == "verbs":
        module.register(app)
    else:
        app.add_typer(getattr(module, source[3]) if len(source) > 3 else module.app, name=source[2])


def build_app() -> typer.Typer:
    """The whole command tree at once, every module imported (the docs, the
    catalog extractor and the tests that compare the lazy tree with it)."""
    app = _typer()
    for source in SOURCES:
        _add(app, source)
    return app


def _name(info: Any) -> str:
    """The name Typer gives a registered command."""
    return str(info.name or typer.main.get_command_name(info.callback.__name__))


class LazyGroup(TyperGroup):
    """The root command: knows every command's name and help from the index
    (``ticketctl.commands.index``, generated from the modules) and imports a
    command's module only when that command runs or shows its own help.

    A technician's ``ticketctl start KQT-12`` imports the lifecycle commands and
    what they use, not the server, the reports or the certificates; ``ticketctl
    --help`` imports no command module at all."""

    def __init__(self, index: dict[str, tuple[int, str]], **kwargs: Any):
        super().__init__(suggest_commands=False, **kwargs)
        self.index = index  # name -> (position in SOURCES, English help)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.index)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.index:
            from ticketctl import i18n
            from ticketctl.params import harden

            app = _typer()
            _add(app, SOURCES[self.index[cmd_name][0]])
            # build only this command: Typer reads every registered function's signature and types
            app.registered_commands = [c for c in app.registered_commands if _name(c) == cmd_name]
            loaded = typer.main.get_group(app).commands[cmd_name]
            for cmd in i18n.walk_commands(loaded):
                if isinstance(cmd, TyperGroup):
                    cmd.suggest_commands = False  # Click already suggests; Typer would say it twice
            i18n.translate_commands(loaded)
            harden(loaded)  # every text, number and path parameter checked the same way
            self.commands[cmd_name] = loaded
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name = click.utils.make_str(args[0])
        cmd = self.get_command(ctx, name)
        if cmd is None and not ctx.resilient_parsing:
            if click.parser._split_opt(name)[0]:
                self.parse_args(ctx, args)
            raise click.exceptions.NoSuchCommand(name, possibilities=list(self.index), ctx=ctx)
        return (name if cmd else None), cmd, args[1:]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's listing, with each command's short help made from the index
        (in the current language) instead of importing the command."""
        rows = [(name, click.Command(name, help=_(text))) for name, (_i, text) in self.index.items()]
        if not rows:
            return
        limit = formatter.width - 6 - max(len(name) for name, _cmd in rows)
        with formatter.section(_("Commands")):
            formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])


def root() -> click.Group:
    """The lazy root command, its own texts in the current language."""
    from ticketctl import i18n
    from ticketctl.commands.index import COMMANDS

    group = LazyGroup({name: (source, text) for name, source, text in COMMANDS}, name="ticketctl",
                      help=ROOT_HELP, no_args_is_help=True, context_settings=CONTEXT, rich_markup_mode=None)
    i18n.translate_commands(group)
    return group


def command_index() -> list[tuple[str, int, str]]:
    """(name, position in SOURCES, English help) of every top-level command, in
    the order the whole tree lists them (Typer puts commands before groups),
    from the modules themselves: what ``ticketctl.commands.index`` must hold."""
    source_of: dict[str, int] = {}
    for i, source in enumerate(SOURCES):
        app = _typer()
        _add(app, source)
        group = typer.main.get_group(app)
        source_of.update((name, i) for name in group.commands)
    whole = typer.main.get_group(build_app())
    return [(name, source_of[name], whole.commands[name].help or "") for name in whole.list_commands(click.Context(whole))]


def _notice(text: str) -> None:
    print(f"ticketctl: {text}", file=sys.stderr, flush=True)


def _is_terminal() -> bool:
    """Both ends are a terminal: a person at a keyboard, not a script or a pipe."""
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def _log_crash(env: object) -> str:
    """Write the traceback of an unexpected error to the log; returns where."""
    import traceback

    from ticketctl.home import Home

    try:
        home = getattr(env, "home", None) or Home.from_env()
        home.log_dir.mkdir(parents=True, exist_ok=True)
        with open(home.log_file, "a", encoding="utf-8") as f:
            f.write(traceback.format_exc() + "\n")
        return str(home.log_file)
    except Exception:
        return _("(no log: the log folder is not writable)")


def main(argv: Sequence[str] | None = None, env: object | None = None) -> int:
    """Run one command; returns its exit code. ``env`` lets tests inject a context."""
    from ticketctl import i18n
    from ticketctl.services.env import Env

    args = list(sys.argv[1:] if argv is None else argv)
    if not args and _is_terminal():  # `ticketctl` alone at a keyboard: the dashboard; in a script: help, exit 2
        args = ["tui"]
    debug = "--traceback" in args
    if debug:
        args.remove("--traceback")
    ctx_env = env
    try:
        ctx_env = env if env is not None else Env.from_environ()
        if isinstance(ctx_env, Env):
            i18n.use(i18n.choose(ctx_env.home.lang(), ctx_env.environ))
            if ctx_env.notice is None:
                ctx_env.notice = _notice
        command = root()
        rc = command.main(args=args, prog_name="ticketctl", standalone_mode=False, obj=ctx_env)
        return rc if isinstance(rc, int) else errors.OK
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        print("ticketctl: error: " + _("aborted"), file=sys.stderr)
        return errors.REFUSED
    except click.UsageError as e:
        if debug:
            raise
        if type(e).__name__ == "NoArgsIsHelpError":  # a group without its subcommand: show its help
            print(e.format_message(), file=sys.stderr)
            return errors.BAD_INPUT
        from ticketctl.cells import after  # no space before a translation's full-width paren

        where = after(_("(see `{command} --help`)").format(command=e.ctx.command_path)) if e.ctx else ""
        print(f"ticketctl: error: {e.format_message()}{where}", file=sys.stderr)
        return errors.BAD_INPUT
    except errors.TicketctlError as e:
        if debug:
            raise
        print(f"ticketctl: error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return errors.OK
    except KeyboardInterrupt:
        print("ticketctl: error: " + _("interrupted"), file=sys.stderr)
        return 130
    except Exception as e:
        if debug:
            raise
        where = _log_crash(ctx_env)
        print("ticketctl: error: " + _("internal error: {kind}: {error} (traceback in {where}; rerun with --traceback)").format(
            kind=type(e).__name__, error=e, where=where), file=sys.stderr)
        return errors.REFUSED
    finally:
        close = getattr(ctx_env, "close", None)
        if close is not None:
            close()


def run() -> None:
    """Console-script entry point. A reader that stops early (``| head``) is not
    an error: the rest of the output goes nowhere, the exit code stands."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(code)

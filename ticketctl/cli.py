"""The ``ticketctl`` entry point: builds the command tree and maps every error
to one line on stderr and one exit code (the table is in ``ticketctl.errors``).

Nothing here, nor in any headless command, imports Textual, SQLAlchemy,
SQLModel or pydantic: a technician's command must start in well under 0.3 s.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
import typer

from ticketctl import errors
from ticketctl.commands import (
    cert_cmd,
    config_cmd,
    dispatch_cmd,
    import_cmd,
    lifecycle,
    notify_cmd,
    proof_cmd,
    report_cmd,
    server_cmd,
    store_cmd,
    sweep_cmd,
    sync_cmd,
    tech,
    tickets,
)
from ticketctl.i18n import _

app = typer.Typer(
    name="ticketctl",
    help="Work orders from the terminal: tickets, technicians, SLA clocks, an offline-first store.\n\n"
    "Exit codes: 0 ok, 1 refused or failed, 2 bad usage or input, 3 server unreachable.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
tickets.register(app)
lifecycle.register(app)
proof_cmd.register(app)
app.add_typer(tech.app, name="tech")
app.add_typer(config_cmd.app, name="config")
app.command(epilog="Example: ticketctl locate --json")(config_cmd.locate)
app.add_typer(store_cmd.app, name="store")
app.add_typer(dispatch_cmd.app, name="dispatch")
app.add_typer(report_cmd.app, name="report")
app.add_typer(notify_cmd.app, name="notify")
app.add_typer(import_cmd.app, name="import")
app.add_typer(cert_cmd.app, name="cert")
app.add_typer(sync_cmd.app, name="sync")
app.add_typer(server_cmd.app, name="server")
sweep_cmd.register(app)


@app.command(epilog="Example: TICKETCTL_HOME=/tmp/demo ticketctl demo --tickets 2000 --techs 40 --seed 7")
def demo(
    tickets_: int = typer.Option(2000, "--tickets", min=1, max=2_000_000, help="Tickets to generate."),
    techs: int = typer.Option(40, "--techs", min=1, max=10_000, help="Technicians to generate."),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed gives the same team and backlog."),
    force: bool = typer.Option(False, "--force", help="Add to a store that already holds tickets."),
    json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Fill the store with a realistic team and backlog (shaped on a real ServiceNow log) and summarise it."""
    from ticketctl.commands.demo_cmd import run_demo

    run_demo(tickets_, techs, seed, force, json)


@app.command(epilog="Example: TICKETCTL_HOME=/tmp/demo ticketctl tui")
def tui() -> None:
    """Open the dispatcher's dashboard: the backlog by weight, the heat map and
    the technicians' load, live; act on tickets by key (? lists the keys).
    `ticketctl` alone in a terminal opens it too."""
    from ticketctl.commands.output import env
    from ticketctl.tui import run as run_dashboard  # Textual loads here, never for a headless command

    run_dashboard(env())


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
            i18n.use(i18n.choose(i18n.config_lang(ctx_env.home.config_file), ctx_env.environ))
        command = typer.main.get_command(app)
        i18n.translate_commands(command)
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
        where = " " + _("(see `{command} --help`)").format(command=e.ctx.command_path) if e.ctx else ""
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

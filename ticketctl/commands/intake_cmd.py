"""``intake imap``: the clients of the server's doors for work that arrives by itself."""

from __future__ import annotations

import json as json_
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ticketctl.commands.output import emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.errors import BadInput
from ticketctl.i18n import _

app = typer.Typer(help="Hand work that arrives by itself to the team's server (the server's doors: `server add-source`).",
                  no_args_is_help=True)

PASSWORD_ENV = "TICKETCTL_IMAP_PASSWORD"
TOKEN_ENV = "TICKETCTL_INTAKE_TOKEN"

Port = Annotated[int | None, typer.Option("--port", min=1, max=65535, help="IMAP port (default: 993; 143 with --starttls or --plain).")]
PasswordFile = Annotated[Path | None, typer.Option(
    "--password-file", help="File holding the password (its first line); else $TICKETCTL_IMAP_PASSWORD. Never on the command line.")]
Token = Annotated[str | None, typer.Option(
    "--token", help="The token of an imap source (`server add-source NAME --kind imap`); else --token-file, else $TICKETCTL_INTAKE_TOKEN.")]
TokenFile = Annotated[Path | None, typer.Option("--token-file", help="File holding that token (kept out of `ps`).")]
StartTls = Annotated[bool, typer.Option("--starttls", help="Plain IMAP upgraded with STARTTLS instead of IMAP over TLS.")]
Plain = Annotated[bool, typer.Option("--plain", help="No TLS at all: for a server on this machine (loopback) or tests only.")]
CaFile = Annotated[Path | None, typer.Option(
    "--cafile", help="Trust the CA certificate(s) in this PEM file (a private CA) instead of the system's.")]
Insecure = Annotated[bool, typer.Option("--insecure", help="Do not verify the server's certificate (a warning says so).")]
Watch = Annotated[bool, typer.Option(
    "--watch", help="Keep going: a pass every --every seconds until Ctrl-C. A pass that cannot reach a server says so and the"
    " next one tries again; a refused login or token ends it.")]
Every = Annotated[int, typer.Option("--every", min=1, metavar="SECONDS", help="Seconds between passes with --watch.")]


@app.command(epilog="Example: ticketctl intake imap --host mail.example.com --user support --password-file ~/.imap.pass"
             " --server http://10.0.0.5:8765 --token-file ~/.intake.token   (from cron every few minutes, or add --watch)")
def imap(
    host: Annotated[str, typer.Option("--host", help="The IMAP server.")],
    user: Annotated[str, typer.Option("--user", help="The mailbox's login name.")],
    server: Annotated[str, typer.Option("--server", metavar="URL", help="The ticketctl server, e.g. http://10.0.0.5:8765.")],
    port: Port = None,
    password_file: PasswordFile = None,
    mailbox: Annotated[str, typer.Option("--mailbox", help="The mailbox (folder) to read.")] = "INBOX",
    token: Token = None,
    token_file: TokenFile = None,
    starttls: StartTls = False,
    plain: Plain = False,
    cafile: CaFile = None,
    insecure: Insecure = False,
    watch: Watch = False,
    every: Every = 60,
    json: Json = False,
) -> None:
    """Hand each new message of a mailbox to the server: a new mail opens a ticket,
    a reply notes its ticket, attachments become evidence. Each message handed over
    is flagged $Ticketctl in the mailbox and never handed over again.

    Exit codes: 0 the pass went through (a mail the server refuses, without a subject
    or too large, is named on stderr, flagged and skipped), 1 the mail server or the
    ticketctl server refused the login or the token, 3 either server is unreachable
    (the message stays unflagged for the next pass)."""
    from ticketctl.sync import mailbox as mb

    e = env()
    if starttls and plain:
        raise BadInput(_("--starttls and --plain exclude each other"))
    security: mb.Security = "starttls" if starttls else "plain" if plain else "ssl"
    box = mb.Mailbox(host=host, port=port or (993 if security == "ssl" else 143), user=user,
                     password=_secret(password_file, "--password-file", e.environ.get(PASSWORD_ENV), PASSWORD_ENV),
                     mailbox=mailbox, security=security, cafile=str(cafile) if cafile else None, insecure=insecure)
    if token is not None and token_file is not None:
        raise BadInput(_("--token and --token-file exclude each other"))
    door = mb.Door(server, token if token is not None else _secret(token_file, "--token-file", e.environ.get(TOKEN_ENV), TOKEN_ENV))
    mb.check(box, door)
    if insecure:
        print("ticketctl: " + _("warning: --insecure: the certificate of {host} is not verified; whoever is in between can read"
                                " the password and the mail").format(host=host), file=sys.stderr)

    def notice(text: str) -> None:
        print(f"ticketctl: {text}", file=sys.stderr, flush=True)

    if not watch:
        _show(mb.run_pass(box, door, notice), json, pretty=True)
        return
    try:
        mb.watch(box, door, every, lambda r: _show(r, json, pretty=False), notice)
    except KeyboardInterrupt:
        return


def _secret(path: Path | None, option: str, fallback: str | None, variable: str) -> str:
    """The first line of ``path``, else the environment's value; neither is bad input."""
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeError) as e:
            raise BadInput(_("{option} {path}: cannot read it ({error})").format(option=option, path=path, error=e)) from None
        if not lines or not lines[0]:
            raise BadInput(_("{option} {path}: its first line is empty").format(option=option, path=path))
        return lines[0]
    if fallback:
        return fallback
    raise BadInput(_("give {option} FILE or set {variable}").format(option=option, variable=variable))


def _show(r: dict[str, Any], json: bool, pretty: bool) -> None:
    """One pass: its JSON on stdout (one line each with --watch), or one line on stderr."""
    if json:
        if pretty:
            emit_json(r)
        else:
            sys.stdout.write(json_.dumps(r, ensure_ascii=False) + "\n")
    elif "error" in r:
        print(f"ticketctl: {r['error']}", file=sys.stderr)
    else:
        print(_("mailbox {mailbox}: opened {opened}, noted {noted}, duplicates {duplicates}, skipped {skipped}").format(
            mailbox=r["mailbox"], opened=len(r["opened"]), noted=len(r["noted"]), duplicates=len(r["duplicates"]),
            skipped=len(r["skipped"])), file=sys.stderr)
    sys.stdout.flush()

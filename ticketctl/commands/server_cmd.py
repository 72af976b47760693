"""``server run|add-device|list-devices|revoke``: the team's central server."""

from __future__ import annotations

import json as json_lib
import os
import sys
from typing import Annotated

import typer

from ticketctl.commands.output import emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.core.labels import label
from ticketctl.i18n import _

app = typer.Typer(help="Run the team's sync server and manage its devices.", no_args_is_help=True)

Db = Annotated[str | None, typer.Option("--db", help="Database URL: sqlite:///PATH (default: server.db in the ticketctl home)"
                                        " or postgresql://USER@HOST:PORT/DB.")]


def _db(db: str | None) -> str:
    return db or f"sqlite:///{env().home.server_db}"


@app.command(epilog="Example: ticketctl server run --host 0.0.0.0 --port 8765 --sweep-every 60 --dispatch-every 300"
             "   (on PostgreSQL: --db postgresql://ticketctl@db.example/ticketctl --workers 4)")
def run(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8765,
    db: Db = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes (they share the database).")] = 1,
    sweep_every: Annotated[int, typer.Option("--sweep-every", min=0, metavar="SECONDS",
                                             help="Run the team's sweep (SLA escalations) every SECONDS, once for all"
                                                  " workers and instances on this database (0: never).")] = 0,
    dispatch_every: Annotated[int, typer.Option("--dispatch-every", min=0, metavar="SECONDS",
                                                help="Run `dispatch auto` every SECONDS, once for all (0: never).")] = 0,
) -> None:
    """Serve sync (push, pull, snapshot, blobs), the intake doors and the public pages on HOST:PORT until
    interrupted; with --sweep-every / --dispatch-every also the team's scheduled work, and the webhook
    notifications of every escalation."""
    _may_listen(host, port)
    import uvicorn

    from ticketctl.server.app import create_app
    from ticketctl.server.store.engine import engine_for, migrate

    url = _db(db)
    engine = engine_for(url)
    migrate(engine)  # fail here, with one line, on a bad URL or an unreachable database
    engine.dispose()
    os.environ["TICKETCTL_SERVER_DB"] = url
    from ticketctl.server.jobs import ENV

    self_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # the jobs' replica syncs over loopback
    os.environ[ENV] = json_lib.dumps({"url": f"http://{self_host}:{port}", "sweep_every": sweep_every,
                                      "dispatch_every": dispatch_every})
    if env().home.root is not None:
        os.environ["TICKETCTL_HOME"] = str(env().home.root)
    print(_("ticketctl server on http://{host}:{port} ({db})").format(host=host, port=port, db=url.split("@")[-1]), file=sys.stderr)
    if workers == 1:
        uvicorn.run(create_app(url, env().home), host=host, port=port, log_level="warning")  # reads the jobs from ENV
    else:
        from ticketctl.server.lifeline import ENV as MASTER

        os.environ[MASTER] = str(os.getpid())  # the workers stop when this process is gone, however it ends
        uvicorn.run("ticketctl.server.app:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="warning")


def _may_listen(host: str, port: int) -> None:
    """Refuse a --host that names no address of this machine's resolver, before the server starts."""
    import socket

    from ticketctl.errors import BadInput

    try:
        socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise BadInput(_("--host {host!r}: no address to listen on ({reason})").format(host=host[:80], reason=reason)) from None


@app.command("add-device", epilog="Example: ticketctl server add-device ana --role technician   (the token is the last word)")
def add_device(
    name: Annotated[str, typer.Argument(help="The person's name, as used in assignments.")],
    role: Annotated[str, typer.Option("--role", help="technician, dispatcher, supervisor or admin.")],
    db: Db = None,
    json: Json = False,
) -> None:
    """Enrol a device; prints its token (shown once) as the last word on stdout."""
    from ticketctl.server.admin import add_device as add

    r = add(_db(db), name, role)
    if json:
        emit_json(r)
    else:
        print(_("device {name} ({role}) token: {token}").format(name=r["name"], role=label("role", r["role"]), token=r["token"]))


@app.command("add-source", epilog="Example: ticketctl server add-source prometheus --kind alertmanager   (the token is the"
             " last word; --kind webhook: it signs each delivery with its time, X-Ticketctl-Timestamp and X-Signature-256;"
             " --kind imap: for `ticketctl intake imap`;"
             " --kind web: opens the customers' form at /new)")
def add_source(
    name: Annotated[str, typer.Argument(help="The source's name; it writes as the device intake:NAME.")],
    kind: Annotated[str, typer.Option("--kind", help="alertmanager, webhook, imap or web.")],
    prefix: Annotated[str | None, typer.Option("--prefix", help="Key prefix of its tickets (default: ALR, HOOK, MAIL, WEB).")] = None,
    db: Db = None,
    json: Json = False,
) -> None:
    """Open a door for work that arrives by itself; prints its token (shown once) as the last word on stdout."""
    from ticketctl.server.admin import add_source as add

    r = add(_db(db), name, kind, prefix)
    if json:
        emit_json(r)
    else:
        print(_("source {name} ({kind}, tickets {prefix}-N, device {device}) token: {token}").format(**r))


@app.command("list-devices", epilog="Example: ticketctl server list-devices --json")
def list_devices(db: Db = None, json: Json = False) -> None:
    """Enrolled devices, their roles and whether they are revoked."""
    from ticketctl.server.admin import list_devices as ls

    rows = ls(_db(db))
    if json:
        emit_json(rows)
        return
    for r in rows:
        state = _("revoked {at}").format(at=r["revoked_at"]) if r["revoked_at"] else _("active")
        print(_("{name}  {role}  prefix {prefix}  pushed {pushed}  {state}").format(
            name=r["name"], role=label("role", r["role"]), prefix=r["prefix"] or "-", pushed=r["last_client_seq"], state=state))


@app.command(epilog="Example: ticketctl server revoke ana")
def revoke(name: Annotated[str, typer.Argument(help="The device to revoke.")], db: Db = None, json: Json = False) -> None:
    """Revoke a device: its token stops working at once."""
    from ticketctl.server.admin import revoke as rv

    r = rv(_db(db), name)
    if json:
        emit_json(r)
    else:
        print(_("device {name} revoked at {at}").format(name=r["name"], at=r["revoked_at"]), file=sys.stderr)

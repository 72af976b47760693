"""``sync``, ``sync setup|status|retry|discard``: this store and the team's server."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ticketctl.commands.output import emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.errors import Refused

app = typer.Typer(
    help="Sync this store with the team's server: push queued changes, pull everyone else's.\n\n"
    "Exit codes: 0 everything went through, 1 the server refused some changes (listed, with reasons;"
    " see `sync status`), 3 the server is unreachable (local work stays queued).",
    invoke_without_command=True,
)


def _say_rejected(rejected: list[dict[str, Any]]) -> None:
    for r in rejected:
        print(f"rejected #{r['id']} {r['name']} {r.get('key') or ''}: {r['reason']}", file=sys.stderr)


@app.callback(epilog="Examples: ticketctl sync; ticketctl sync --json; ticketctl sync --watch")
def sync(
    ctx: typer.Context,
    watch: Annotated[bool, typer.Option("--watch", help="Keep syncing; wake on the server's poke or on local changes.")] = False,
    json: Json = False,
) -> None:
    """Push queued changes, then pull the team's (one sync at a time per store)."""
    if ctx.invoked_subcommand is not None:
        return
    from ticketctl.sync import client

    e = env()
    if watch:
        def show(r: dict[str, Any]) -> None:
            if json:
                emit_json(r)
            elif "error" in r:
                print(f"ticketctl: {r['error']}", file=sys.stderr)
            else:
                print(f"synced: pushed {r['pushed']}, pulled {r['pulled']}, {len(r['pending'])} pending", file=sys.stderr)
                _say_rejected(r["rejected"])
            sys.stdout.flush()

        try:
            client.watch(e, show)
        except KeyboardInterrupt:
            return
    r = client.sync(e)
    if json:
        emit_json({**r, "rejected": r["rejected"]})
    else:
        boot = " (bootstrapped from a snapshot)" if r["bootstrapped"] else ""
        print(f"synced{boot}: pushed {r['pushed']}, pulled {r['pulled']}, {len(r['pending'])} pending, cursor {r['cursor']}",
              file=sys.stderr)
    if r["rejected"]:
        if not json:
            _say_rejected(r["rejected"])
        raise Refused(f"the server refused {len(r['rejected'])} change(s); `ticketctl sync status` lists them"
                      " (`sync retry ID` to resubmit, `sync discard ID` to drop)")


@app.command(epilog="Example: ticketctl sync setup http://10.0.0.5:8765 --token 3q2-xYz...")
def setup(
    url: Annotated[str, typer.Argument(help="The server, e.g. http://10.0.0.5:8765.")],
    token: Annotated[str, typer.Option("--token", help="This device's token (`ticketctl server add-device` prints it).")],
    json: Json = False,
) -> None:
    """Point this store at the team's server and introduce this device."""
    from ticketctl.sync import client

    r = client.setup(env(), url, token)
    if json:
        emit_json(r)
    else:
        print(f"sync set up: {r['url']} as {r['device']} ({r['role']}); run `ticketctl sync`", file=sys.stderr)


@app.command(epilog="Example: ticketctl sync status --json")
def status(json: Json = False) -> None:
    """Changes waiting for the server, and those it refused, with its reasons."""
    from ticketctl.sync import client

    r = client.status(env())
    if json:
        emit_json(r)
        return
    print(f"server {r['url'] or '(not set up)'}  device {r['device'] or '-'} ({r['role'] or '-'})  last sync {r['last_sync'] or 'never'}")
    for p in r["pending"]:
        print(f"pending  #{p['id']} {p['name']} {p['key'] or ''}  {p['at']}")
    for x in r["rejected"]:
        print(f"rejected #{x['id']} {x['name']} {x['key'] or ''}  {x['at']}: {x['reason']}")
    if not r["pending"] and not r["rejected"]:
        print("nothing queued")


@app.command(epilog="Example: ticketctl sync retry 12")
def retry(
    id_: Annotated[int, typer.Argument(metavar="ID", help="The rejected change's number (from `sync status`).")],
    json: Json = False,
) -> None:
    """Run a rejected change again here (after fixing what the reason says); it goes out on the next sync."""
    from ticketctl.sync import client

    r = client.retry(env(), id_)
    if json:
        emit_json(r)
    else:
        print(f"change #{id_} ({r['name']}) queued again; run `ticketctl sync`", file=sys.stderr)


@app.command(epilog="Example: ticketctl sync discard 12")
def discard(
    id_: Annotated[int, typer.Argument(metavar="ID", help="The change's number (from `sync status`).")],
    json: Json = False,
) -> None:
    """Drop a rejected change, or one not sent yet (its local effect is undone)."""
    from ticketctl.sync import client

    r = client.discard(env(), id_)
    if json:
        emit_json(r)
    else:
        print(f"change #{id_} ({r['name']}) discarded", file=sys.stderr)

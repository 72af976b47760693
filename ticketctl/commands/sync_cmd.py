"""``sync``, ``sync setup|status|retry|discard``: this store and the team's server."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ticketctl.commands.output import emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.core.labels import label
from ticketctl.core.message import labelled_value
from ticketctl.errors import Refused
from ticketctl.i18n import _, localize

app = typer.Typer(
    help="Sync this store with the team's server: push queued changes, pull everyone else's.\n\n"
    "Exit codes: 0 everything went through, 1 the server refused some changes (listed, with reasons;"
    " see `sync status`), 3 the server is unreachable (local work stays queued).",
    invoke_without_command=True,
)


def _say_rejected(rejected: list[dict[str, Any]]) -> None:
    for r in rejected:
        print(_("rejected #{id} {name} {key}: {reason}").format(id=r["id"], name=r["name"], key=r.get("key") or "",
                                                             reason=localize(r["reason"], value=labelled_value)),
              file=sys.stderr)


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
                print(_("synced: pushed {pushed}, pulled {pulled}, {pending} pending").format(
                    pushed=r["pushed"], pulled=r["pulled"], pending=len(r["pending"])), file=sys.stderr)
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
        done = (_("synced (bootstrapped from a snapshot): pushed {pushed}, pulled {pulled}, {pending} pending, cursor {cursor}")
                if r["bootstrapped"] else _("synced: pushed {pushed}, pulled {pulled}, {pending} pending, cursor {cursor}"))
        print(done.format(pushed=r["pushed"], pulled=r["pulled"], pending=len(r["pending"]), cursor=r["cursor"]), file=sys.stderr)
    if r["rejected"]:
        if not json:
            _say_rejected(r["rejected"])
        raise Refused(_("the server refused {n} change(s); `ticketctl sync status` lists them"
                        " (`sync retry ID` to resubmit, `sync discard ID` to drop)").format(n=len(r["rejected"])))


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
        print(_("sync set up: {url} as {device} ({role}); run `ticketctl sync`").format(
            url=r["url"], device=r["device"], role=label("role", r["role"])), file=sys.stderr)


@app.command(epilog="Example: ticketctl sync status --json")
def status(json: Json = False) -> None:
    """Changes waiting for the server, and those it refused, with its reasons."""
    from ticketctl.sync import client

    r = client.status(env())
    if json:
        emit_json(r)
        return
    print(_("server {url}  device {device} ({role})  last sync {last_sync}").format(
        url=r["url"] or _("(not set up)"), device=r["device"] or "-", role=label("role", r["role"]) or "-",
        last_sync=r["last_sync"] or _("never")))
    for p in r["pending"]:
        print(_("pending  #{id} {name} {key}  {at}").format(id=p["id"], name=p["name"], key=p["key"] or "", at=p["at"]))
    for x in r["rejected"]:
        print(_("rejected #{id} {name} {key}  {at}: {reason}").format(id=x["id"], name=x["name"], key=x["key"] or "", at=x["at"],
                                                                      reason=localize(x["reason"], value=labelled_value)))
    if not r["pending"] and not r["rejected"]:
        print(_("nothing queued"))


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
        print(_("change #{id} ({name}) queued again; run `ticketctl sync`").format(id=id_, name=r["name"]), file=sys.stderr)


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
        print(_("change #{id} ({name}) discarded").format(id=id_, name=r["name"]), file=sys.stderr)

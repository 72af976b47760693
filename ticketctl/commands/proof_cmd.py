"""``attach`` and ``confirm``: the technician's proof that the work is done.

Thin adapters over ``services.evidence`` and ``services.confirm``; the rules
(which item, which time window, which ratings) are in ``core.evidence``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ticketctl.commands.lifecycle import Key
from ticketctl.commands.output import emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.errors import BadInput
from ticketctl.i18n import _, ngettext
from ticketctl.render.tables import ticket_line


def attach(
    key: Key,
    file: Annotated[Path, typer.Argument(help="The file: a photo (its EXIF time is checked), a report, a log.")],
    for_: Annotated[str | None, typer.Option("--for", help="The checklist item it proves; attaching checks the item.")] = None,
    json: Json = False,
) -> None:
    """Attach an evidence file, stored once by its SHA-256 beside the store.

    With --for ITEM the file proves that item and checks it now; a photo's EXIF capture time must lie within
    proof.photo_window (5 min) of the check, else the attach is refused with the gap. A photo without a capture
    time is attached but flagged, and proves nothing. Attaching more files for an already checked item needs
    them taken within the window of that check."""
    from ticketctl.services import evidence

    out = evidence.attach(env(), key, file, for_)
    ev = out["attached"]
    if ev.get("flag"):
        print("ticketctl: warning: " + _("{name} has no EXIF capture time: attached but flagged; it proves no checklist item").format(
            name=ev["name"]), file=sys.stderr)
    if json:
        emit_json(out)
        return
    from ticketctl.core.labels import label
    from ticketctl.render.text import join

    cfg = env().config
    what = " " + _("for {item}").format(item=label("checklist", ev["item"], cfg)) if ev.get("item") else ""
    checked = join(("", _("checked {item}").format(item=label("checklist", out["checked"], cfg))), "statement") \
        if out.get("checked") else ""
    taken = join(("", _("taken {at}").format(at=ev["captured_at"])), "clause") if ev.get("captured_at") else ""
    size = ngettext("{n} byte", "{n} bytes", ev["size"]).format(n=ev["size"])
    print(_("{key}: attached {name}{what} (sha256 {sha256}, {size}{taken}){checked}").format(
        key=out["key"], name=ev["name"], what=what, sha256=ev["sha256"][:12], size=size, taken=taken, checked=checked))


def _terminal_qr(text: str) -> str:
    """The QR code in half-block characters, light on dark (terminals are dark by default)."""
    import qrcode

    qr = qrcode.QRCode(border=2)
    qr.add_data(text)
    qr.make(fit=True)
    buf = io.StringIO()
    qr.print_ascii(out=buf, invert=True)
    return buf.getvalue()


def _push_link(e: Any, key: str) -> str | None:
    """Sync now, so that the server knows the link before the customer scans
    it; None when it does, else why not (no server set up, unreachable, or the
    server refused the link). Never fails the command: the link is queued."""
    if not e.home.sync_file.exists():
        return _("this device does not sync with a server (`ticketctl sync setup`)")
    from ticketctl.core.message import labelled_value
    from ticketctl.errors import TicketctlError
    from ticketctl.i18n import localize
    from ticketctl.sync import client

    try:
        r = client.sync(e)
    except TicketctlError as err:
        return str(err)
    refused = [x for x in r["rejected"] if x.get("key") == key]
    if refused:
        return _("the server refused it: {reason}").format(reason=localize(refused[0]["reason"], value=labelled_value))
    if any(p.get("key") == key for p in r["pending"]):
        return _("the server has not confirmed it yet")
    return None


def confirm(
    key: Key,
    rating: Annotated[list[int] | None, typer.Option(
        "--rating", help="Three times, 1-5: problem solved, professional, on time.")] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="The customer's words, 10 characters or more.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="The customer's name.")] = None,
    qr: Annotated[bool, typer.Option("--qr", help="Show a QR code the customer scans to confirm on their phone.")] = False,
    url: Annotated[str | None, typer.Option("--url", help="The server's base URL for --qr (default: proof.url).")] = None,
    json: Json = False,
) -> None:
    """Record the customer's confirmation of a resolved ticket, in person or by phone (--qr).

    In person: three ratings, a comment and the customer's name. By phone: a single-use link that expires after
    proof.token_ttl (24 h) opens the server's form at URL/c/TOKEN. On a device that syncs, --qr syncs first so that
    the link works as soon as it is shown; when the server cannot be reached (or the device does not sync) the link
    is printed all the same and stderr says it works after the next `ticketctl sync`. --json says which in "live"."""
    from ticketctl.services import confirm as confirm_

    e = env()
    if qr:
        if rating or comment or by:
            raise BadInput(_("--qr lets the customer answer on the phone: leave out --rating, --comment and --by"))
        link = confirm_.request_qr(e, key, url)
        why_not = _push_link(e, link["key"])
        link["live"] = why_not is None
        if why_not is not None:
            print("ticketctl: " + _("the link works after the next `ticketctl sync`: {reason}").format(reason=why_not), file=sys.stderr)
        if json:
            emit_json(link)
        else:
            sys.stdout.write(_terminal_qr(link["url"]))
            print(link["url"])
            print(_("single use, expires {at}").format(at=link["expires_at"]))
        return
    if url:
        raise BadInput(_("--url goes with --qr"))
    missing = [f for f, v in ((_("--rating (three times)"), rating), ("--comment", comment), ("--by", by)) if not v]
    if missing:
        raise BadInput(_("an in-person confirmation needs {missing} (or use --qr)").format(missing=", ".join(missing)))
    out: dict[str, Any] = confirm_.confirm(e, key, list(rating or []), comment or "", by or "")
    if json:
        emit_json(out)
    else:
        print(ticket_line(out, env().config) + "  " + _("(confirmed by {name})").format(name=by))


def register(app: typer.Typer) -> None:
    app.command(epilog="Example: ticketctl attach KQT-12 relay.jpg --for function_test")(attach)
    app.command(epilog="Example: ticketctl confirm KQT-12 --rating 5 --rating 4 --rating 5"
                       " --comment 'Cooling works again' --by 'Li Wei'   |   ticketctl confirm KQT-12 --qr")(confirm)

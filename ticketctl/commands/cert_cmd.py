"""``cert issue``, ``cert verify``, ``cert key``, ``cert trust``: signed service certificates."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ticketctl.commands.lifecycle import Key
from ticketctl.commands.output import emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.errors import BadInput, Refused
from ticketctl.i18n import _

app = typer.Typer(help="Signed service certificates: a PDF with a QR code anyone can verify.", no_args_is_help=True)


@app.command(epilog="Example: ticketctl cert issue KQT-12 -o KQT-12.pdf --url https://tickets.example.com")
def issue(
    key: Key,
    out: Annotated[Path, typer.Option("-o", "--out", help="The PDF to write (replaced atomically; its folder must exist).")],
    url: Annotated[str | None, typer.Option("--url", help="Server base URL for the QR (default: proof.url).")] = None,
    json: Json = False,
) -> None:
    """Issue a signed certificate for a closed ticket: summary, timeline, checklist with evidence hashes and
    thumbnails, the customer's ratings, the technician's signature and a QR code that verifies it.

    The QR holds URL/v/PAYLOAD, or the bare payload when no server URL is known. The issue is recorded on the
    ticket's timeline."""
    from ticketctl.home import output_file
    from ticketctl.services import cert

    r = cert.issue(env(), key, output_file("--out", out), url)
    if json:
        emit_json(r)
    else:
        print(_("{key}: certificate {cert_id} written to {file}").format(key=r["key"], cert_id=r["cert_id"], file=r["file"]))


@app.command(epilog="Example: ticketctl cert verify KQT-12.pdf   |   ticketctl cert verify 'https://.../v/TKC1...' --json")
def verify(
    source: Annotated[str, typer.Argument(help="A certificate PDF, or the text of its QR code (URL or payload).")],
    json: Json = False,
) -> None:
    """Verify a certificate: exit 0 when valid, 1 when not (bad signature, unknown or revoked key, content changed).

    A PDF must show exactly what its issuer signed: every page as drawn (nothing drawn over it, hidden, recoloured
    or replaced, no page added or removed), its title and metadata, its QR code and printed signature. A revoked
    device's certificate stays valid only when the team's server countersigned it before the revocation."""
    from ticketctl.services import cert

    r = cert.verify(env(), source)
    if json:
        emit_json(r)
        if not r["valid"]:
            raise typer.Exit(1)
        return
    from ticketctl.core.message import render  # the reason and warnings: English in JSON, the reader's language here

    if not r["valid"]:
        raise Refused(_("invalid certificate: {reason}").format(reason=render(r["reason"], labelled=True)))
    print(render(r["reason"], labelled=True))
    for w in r["warnings"]:
        print(f"ticketctl: warning: {render(w, labelled=True)}", file=sys.stderr)


@app.command(epilog="Example: ticketctl cert key --json")
def key(json: Json = False) -> None:
    """This device's signing key: its id and public key (made on first use; the private key never leaves)."""
    from ticketctl.services import signing

    e = env()
    r = {"key_id": signing.key_id(e), "public_key": signing.public_key_pem(e)}
    if json:
        emit_json(r)
    else:
        print(_("key id {key_id}").format(key_id=r["key_id"]) + "\n" + r["public_key"], end="")


@app.command(epilog="Example: ticketctl cert trust 3f9a0c1d2b4e5f60 van7.pem --device van-7")
def trust(
    key_id: Annotated[str, typer.Argument(help="The key id (`ticketctl cert key` on that device).")],
    pem: Annotated[Path, typer.Argument(help="A file with that device's public key (PEM).")],
    device: Annotated[str, typer.Option("--device", help="The device's name, shown when its certificates verify.")],
    revoked_at: Annotated[str | None, typer.Option(
        "--revoked-at", help="Revoke the key as of this time (ISO-8601): its certificates stop verifying, but for those"
                             " the server countersigned before then.")] = None,
    json: Json = False,
) -> None:
    """Trust (or revoke) another device's key. Sync does this for enrolled devices; this is the manual way."""
    from ticketctl.commands.output import moment
    from ticketctl.core.model import iso
    from ticketctl.services import signing

    try:
        text = pem.read_text("ascii")
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(_("cannot read a public key from {file}: {error}").format(file=pem, error=e)) from None
    when = moment("--revoked-at", revoked_at)
    signing.trust(env(), key_id, text, device, iso(when) if when else None)
    r = {"key_id": key_id, "device": device, "revoked_at": iso(when) if when else None}
    if json:
        emit_json(r)
    else:
        done = _("revoked key {key_id} of {device}") if when else _("trusted key {key_id} of {device}")
        print(done.format(key_id=key_id, device=device))

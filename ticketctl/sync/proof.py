"""The server's side of closing with proof: the customer's confirmation page
(``/c/{token}``), the certificate verification page (``/v/{payload}``), the
public keys of enrolled devices (``/sync/keys``) and countersigning.

Countersigning: when a device's ``ticket.certify`` reaches the server, the
server checks the certificate's signature against the key that device
enrolled with, then appends ``ticket.countersigned`` (its own Ed25519
signature over the payload) in the same transaction. A certificate issued
offline is valid at once (the device's signature) and shows as countersigned
once it has synced.

The pages are small, self-contained HTML (no scripts, no external assets), fit
for a phone that scanned a QR code.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Connection, insert, select

from ticketctl.core import certificate
from ticketctl.errors import TicketctlError
from ticketctl.services.env import Env
from ticketctl.sync import schema as S
from ticketctl.sync.serverdb import ticket_from_json

SERVER_DEVICE = "server"


_SERVER_KEYS: dict[str, tuple[Any, str, str]] = {}


def server_key(c: Connection) -> tuple[Any, str, str]:
    """The server's signing key (made once, kept in ``server_meta``): the
    private key object, its public PEM and its key id. Read once per process."""
    url = str(c.engine.url)
    if url not in _SERVER_KEYS:
        _SERVER_KEYS[url] = _load_server_key(c)
    return _SERVER_KEYS[url]


def _load_server_key(c: Connection) -> tuple[Any, str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    row = c.execute(select(S.server_meta.c.value).where(S.server_meta.c.key == "signing_key")).first()
    if row is None:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        c.execute(insert(S.server_meta).values(key="signing_key", value=pem))
    else:
        loaded = serialization.load_pem_private_key(row[0].encode(), None)
        assert isinstance(loaded, Ed25519PrivateKey)
        key = loaded
    pub = key.public_key()
    pub_pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    from ticketctl.services.keys import key_id_of

    return key, pub_pem, key_id_of(pub_pem)


def device_keys(c: Connection) -> dict[str, dict[str, Any]]:
    """Key id -> {pem, device, revoked_at} for every enrolled device's key, and the server's own."""
    out: dict[str, dict[str, Any]] = {}
    for name, pem, kid, revoked in c.execute(select(S.devices.c.name, S.devices.c.public_key, S.devices.c.key_id,
                                                    S.devices.c.revoked_at).where(S.devices.c.public_key.is_not(None))):
        out[kid] = {"pem": pem, "device": name, "revoked_at": revoked}
    _, pem, kid = server_key(c)
    out[kid] = {"pem": pem, "device": SERVER_DEVICE, "revoked_at": None}
    return out


def countersign(c: Connection, env: Env, device: str, args: dict[str, Any]) -> None:
    """After a device's ``ticket.certify`` ran (``env.store`` is the server's
    transaction): refuse a certificate its enrolled key did not sign, else
    append the server's countersignature."""
    from ticketctl.services.tickets import commit

    keys = device_keys(c)
    ok, reason = certificate.verify(str(args["payload"]), keys)
    entry = keys.get(str(args.get("key_id")))
    if not ok or entry is None or entry["device"] != device:
        why = reason if not ok else f"it is signed with a key that is not {device}'s enrolled key"
        raise TicketctlError(f"certificate {args.get('cert_id')} not accepted: {why}")
    key, _, kid = server_key(c)
    sig = certificate.b64(key.sign(str(args["payload"]).encode()))
    st = env.store
    commit(env, st, st.ticket(str(args["key"])), str(args["key"]),
           [("ticket.countersigned", {"cert_id": args["cert_id"], "key_id": kid, "signature": sig})])


# -- pages ------------------------------------------------------------------------

STYLE = ("body{font-family:system-ui,sans-serif;max-width:34em;margin:1em auto;padding:0 1em;line-height:1.4}"
         "h1{font-size:1.3em}.ok{color:#0a6b2d}.bad{color:#a11}label{display:block;margin:.8em 0 .2em}"
         "select,textarea,input{font-size:1em;width:100%}button{font-size:1.1em;margin-top:1em;padding:.5em 1.5em}")


def page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,'
            f'initial-scale=1"><title>{html.escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>')


def confirm_form(token: str, status: dict[str, Any]) -> str:
    t = html.escape
    if status["state"] != "open":
        why = "was already used" if status["state"] == "used" else f"expired at {status['expires_at']}"
        return page("Link not valid", f"<h1>{t(status['key'])}: {t(status['title'])}</h1>"
                                      f"<p class=bad>This confirmation link {why}. Please ask the technician for a new one.</p>")
    rows = []
    for i, q in enumerate(status["questions"]):
        opts = "".join(f'<option value="{n}">{n}</option>' for n in (5, 4, 3, 2, 1))
        rows.append(f'<label for="r{i}">{t(q)} (5 = very good)</label><select id="r{i}" name="rating">{opts}</select>')
    return page("Confirm the work", (
        f"<h1>{t(status['key'])}: {t(status['title'])}</h1><p>Please confirm the work done and rate it.</p>"
        f'<form method="post" action="/c/{t(token)}">{"".join(rows)}'
        '<label for="comment">Comment (at least 10 characters)</label><textarea id="comment" name="comment" rows="3"'
        ' minlength="10" required></textarea><label for="by">Your name</label><input id="by" name="by" required>'
        "<button type=submit>Confirm</button></form>"))


def read_form(body: bytes) -> dict[str, Any]:
    """The confirmation form's fields (``application/x-www-form-urlencoded``)."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
        ratings = [int(x) for x in fields.get("rating", [])]
    except (UnicodeDecodeError, ValueError):
        raise TicketctlError("the form could not be read: ratings are whole numbers from 1 to 5") from None
    return {"ratings": ratings, "comment": (fields.get("comment") or [""])[0], "by": (fields.get("by") or [""])[0]}


def verdict(c: Connection, text: str) -> dict[str, Any]:
    """The server's verdict on a certificate payload: the signature against
    the enrolled keys, then what the team's log says about it."""
    ok, reason = certificate.verify(text, device_keys(c))
    out: dict[str, Any] = {"valid": ok, "reason": reason, "countersigned": False, "ticket": None, "cert_id": None, "warnings": []}
    if not ok:
        return out
    p = certificate.decode_payload(certificate.extract_payload(text))
    out.update(ticket=p.ticket, cert_id=p.cert_id)
    row = c.execute(select(S.tickets.c.data).where(S.tickets.c.key == p.ticket)).first()
    if row is None:
        out["warnings"].append(f"{p.ticket} has not reached the server yet")
        return out
    t = ticket_from_json(row[0])
    mine = [x for x in t.certificates if x["cert_id"] == p.cert_id]
    if not mine:
        out["warnings"].append(f"certificate {p.cert_id} has not reached the server yet (issued offline)")
    elif mine[0]["content_hash"] != p.content_hash:
        out.update(valid=False, reason="content changed (the server recorded another content hash for this certificate)")
    else:
        out["countersigned"] = bool(mine[0].get("countersigned"))
        if mine[0].get("round", 0) != t.reopen_count or t.status != "closed":
            out["warnings"].append(f"{t.key} was reopened after this certificate; it is {t.status} now")
    return out


def verdict_page(v: dict[str, Any]) -> str:
    t = html.escape
    if not v["valid"]:
        return page("Certificate NOT valid", f"<h1 class=bad>Certificate not valid</h1><p>{t(v['reason'])}</p>")
    counter = ("<p class=ok>Countersigned by the service team's server.</p>" if v["countersigned"]
               else "<p>Signed by the technician's device; not yet countersigned by the server.</p>")
    warn = "".join(f"<p class=bad>{t(w)}</p>" for w in v["warnings"])
    return page("Certificate valid", f"<h1 class=ok>Certificate valid</h1><p>{t(v['reason'])}</p>{counter}{warn}")


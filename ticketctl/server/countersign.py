"""The server's signature on certificates, and the keys devices verify with.

Countersigning: when a device's ``ticket.certify`` reaches the server, the
server checks the certificate's signature against the key that device
enrolled with, then appends ``ticket.countersigned`` (its own Ed25519
signature over the payload), dated by the server's clock, in the same
transaction. A certificate issued offline is valid at once (the device's
signature) and shows as countersigned once it has synced. The
countersignature is what keeps a certificate valid after its device is
revoked: one countersigned before the revocation stays valid (and says when the
key was revoked), any other of that device's is not
(:func:`ticketctl.core.certificate.verify`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ticketctl.core import certificate
from ticketctl.errors import TicketctlError
from ticketctl.server.store import devices, meta
from ticketctl.server.store.engine import now_iso
from ticketctl.services.env import Env

SERVER_DEVICE = certificate.SERVER_DEVICE

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

    kept = meta.signing_key(c)
    if kept is None:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        meta.keep_signing_key(c, pem)
    else:
        loaded = serialization.load_pem_private_key(kept.encode(), None)
        assert isinstance(loaded, Ed25519PrivateKey)
        key = loaded
    pub = key.public_key()
    pub_pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    from ticketctl.services.signing import key_id_of

    return key, pub_pem, key_id_of(pub_pem)


def device_keys(c: Connection) -> dict[str, dict[str, Any]]:
    """Key id -> {pem, device, revoked_at} for every enrolled device's key, and the server's own.

    Only keys that pass ``keys.key_problem``; a key id two devices hold (possible
    in a database from before ``/sync/hello`` refused it) stays with the device
    enrolled first, never with the one that copied it."""
    from ticketctl.services.signing import key_problem

    out: dict[str, dict[str, Any]] = {}
    for name, pem, kid, revoked in devices.enrolled_keys(c):
        if kid not in out and key_problem(pem, kid) is None:
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
    import copy

    from ticketctl.core.model import parse_time

    key, _, kid = server_key(c)
    sig = certificate.b64(key.sign(str(args["payload"]).encode()))
    st = env.store
    # dated by the server's clock, not the device's: a revocation is judged against this moment
    stamped = copy.copy(env)
    stamped.__dict__["now"] = parse_time(now_iso())
    commit(stamped, st, st.ticket(str(args["key"])), str(args["key"]),
           [("ticket.countersigned", {"cert_id": args["cert_id"], "key_id": kid, "signature": sig})])

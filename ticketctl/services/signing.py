"""This device's signing key and the keys it trusts.

Each device makes its own Ed25519 key pair on first use. The private key lives
in ``<data dir>/keys/device_ed25519.pem`` (mode 0600) and never leaves the
machine: sync uploads only the public key (:func:`public_key_pem`) when the
device enrolls, and the server hands every device the public keys of the
others, which sync stores with :func:`trust`. A key the server revoked is kept
with ``revoked_at``, so a certificate it signed stops verifying instead of
turning into "unknown key".

``trusted.json`` has a schema version and is written atomically::

    {"schema": 1, "keys": {"<key id>": {"pem": "...", "device": "...", "revoked_at": null}}}

The key id is the first 16 hex digits of the SHA-256 of the raw 32-byte
public key: short enough for a QR code, and two devices colliding on it would
take 2^32 devices. ``cryptography`` is imported only here, inside functions.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ticketctl.errors import BadInput, TicketctlError
from ticketctl.home import atomic_write
from ticketctl.i18n import _
from ticketctl.services.env import Env

SCHEMA = 1


def key_dir(env: Env) -> Path:
    """Beside the store (the data dir), not the config: keys are state, not settings."""
    return env.home.store_file.parent / "keys"


def _private_file(env: Env) -> Path:
    return key_dir(env) / "device_ed25519.pem"


def _trusted_file(env: Env) -> Path:
    return key_dir(env) / "trusted.json"


def _private_key(env: Env) -> Any:
    """The device's private key, made (and written 0600) on first use."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = _private_file(env)
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        pass
    except (ValueError, TypeError) as e:
        raise TicketctlError(_("{path}: not a usable private key ({error}); move it away to make a new one").format(
            path=path, error=e)) from None
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never world-readable, not even briefly
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    return key


def _raw(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def key_id_of(pem: str) -> str:
    """The key id of a public key in PEM; BadInput when it is not an Ed25519 key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        pub = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise BadInput(_("not a public key in PEM")) from None
    if not isinstance(pub, Ed25519PublicKey):
        raise BadInput(_("not an Ed25519 public key"))
    return hashlib.sha256(_raw(pub)).hexdigest()[:16]


def key_problem(pem: Any, key_id: Any) -> str | None:
    """What is wrong with a device key as a device or the server presented it
    (English: the server's reply and the client's warning both use it), or None
    when ``pem`` is an Ed25519 public key in PEM and ``key_id`` its own id. The
    one check that the server's ``/sync/hello``, its list of keys and every
    client's sync apply, so one bad key can never stop anyone else's sync."""
    if not isinstance(pem, str) or not isinstance(key_id, str):
        return "a key and its id must be text"
    try:
        actual = key_id_of(pem)
    except BadInput:
        return "not an Ed25519 public key in PEM"
    if actual != key_id:
        return f"key id {key_id[:64]!r} is not the id of that key (it is {actual})"
    return None


def public_key_pem(env: Env) -> str:
    """This device's public key, PEM (made on first use); what enrolling uploads."""
    from cryptography.hazmat.primitives import serialization

    pub = _private_key(env).public_key()
    return str(pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii"))


def key_id(env: Env) -> str:
    """This device's key id (see the module doc)."""
    return hashlib.sha256(_raw(_private_key(env).public_key())).hexdigest()[:16]


def sign(env: Env, message: bytes) -> bytes:
    """The device's Ed25519 signature of ``message`` (64 bytes)."""
    return bytes(_private_key(env).sign(message))


def trusted(env: Env) -> dict[str, dict[str, Any]]:
    """Key id -> {pem, device, revoked_at} of the other devices this one trusts."""
    path = _trusted_file(env)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise TicketctlError(_("{path}: cannot read the trusted keys: {error}").format(path=path, error=e)) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("keys"), dict):
        raise TicketctlError(_("{path}: not a trusted-keys file of schema {schema}").format(path=path, schema=SCHEMA))
    return dict(data["keys"])


def trust(env: Env, key_id: str, pem: str, device: str, revoked_at: str | None = None) -> None:
    """Trust (or, with ``revoked_at``, revoke) another device's public key.

    Sync calls this when the server tells it about enrolled devices; calling it
    again updates the entry (a later revocation wins). BadInput when ``key_id``
    is not the id of ``pem``."""
    if key_id_of(pem) != key_id:
        raise BadInput(_("key id {key_id!r} does not belong to that public key (it is {actual})").format(
            key_id=key_id, actual=key_id_of(pem)))
    keys = trusted(env)
    keys[key_id] = {"pem": pem, "device": device, "revoked_at": revoked_at}
    body = json.dumps({"schema": SCHEMA, "keys": keys}, indent=2, sort_keys=True) + "\n"
    atomic_write(_trusted_file(env), body.encode("utf-8"))


def keyring(env: Env) -> dict[str, dict[str, Any]]:
    """Every key a certificate may be verified with: the trusted ones and this
    device's own (unless the server revoked it: the trusted entry then wins)."""
    keys = trusted(env)
    own = key_id(env)
    if own not in keys:
        keys[own] = {"pem": public_key_pem(env), "device": "this device", "revoked_at": None}
    return keys

"""Service certificates, the pure part: what a certificate says, the compact
signed payload its QR code carries, and how that payload is checked.

The payload is one line of ASCII, dot-separated, every field fixed in form::

    TKC1.<cert id>.<ticket key>.<content hash>.<key id>.<signature>
         11 b64url  ABC-12       43 b64url      16 hex   86 b64url

* cert id: 8 random bytes; content hash: SHA-256 of the certificate's content
  (:func:`canonical` JSON); signature: Ed25519 over the ASCII text of the first
  five fields, dots included (``signed_part``).
* Base64url without padding, and decoding is strict: a field must re-encode to
  exactly the text given. Without that check, the last character of a 32- or
  64-byte field carries spare bits that a forger could flip without changing
  the bytes, and "any changed character fails" would not hold.

A verification URL is ``{base}/v/{payload}``; :func:`extract_payload` takes
either form.

Revocation: a revoked key's certificates stop verifying, except those the
team's server countersigned (its own signature over the payload, on the
ticket's timeline) before the revocation: :func:`countersigned_at` says when,
if the countersignature is the server's valid one, and :func:`verify` decides,
on the server (``/v/``) and on a device (``cert verify``) alike. Verdicts are :class:`~ticketctl.core.message.Message` objects:
English (``cert verify --json``, the server's JSON) with the template a human
view renders in its language. The server's ``/v/{payload}`` page and its countersigning call
:func:`decode_payload` and :func:`verify` with its own keyring.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from ticketctl.core.labels import HasLabels, Label, label
from ticketctl.core.message import Message, msg
from ticketctl.i18n import N_

VERSION = "TKC1"
#: the customer's three ratings, by their key in a confirmation, with the label a certificate prints
RATING_LABELS = {"solved": N_("Problem solved"), "professional": N_("Professional"), "on_time": N_("On time")}
_B64 = "[A-Za-z0-9_-]"
PAYLOAD_RE = re.compile(
    rf"^{VERSION}\.({_B64}{{11}})\.([A-Z0-9][A-Z0-9-]{{0,39}})\.({_B64}{{43}})\.([0-9a-f]{{16}})\.({_B64}{{86}})$"
)


@dataclass(frozen=True)
class Payload:
    cert_id: str
    ticket: str
    content_hash: str
    key_id: str
    signature: bytes
    text: str

    @property
    def signed_part(self) -> bytes:
        return self.text.rsplit(".", 1)[0].encode("ascii")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    """Strict base64url (no padding): ValueError unless ``text`` is the one encoding of its bytes."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


def canonical(content: dict[str, Any]) -> bytes:
    """The bytes a content hash is taken of: sorted keys, no spaces, UTF-8."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_hash(content: dict[str, Any]) -> str:
    return b64(hashlib.sha256(canonical(content)).digest())


def unsigned_text(cert_id: str, ticket: str, digest: str, key_id: str) -> str:
    return f"{VERSION}.{cert_id}.{ticket}.{digest}.{key_id}"


def encode_payload(cert_id: str, ticket: str, digest: str, key_id: str, signature: bytes) -> str:
    """The payload text; ValueError when a field is not in its form (see the module doc)."""
    text = f"{unsigned_text(cert_id, ticket, digest, key_id)}.{b64(signature)}"
    decode_payload(text)
    return text


def decode_payload(text: str) -> Payload:
    """Parse a payload strictly; ValueError naming what is malformed (its
    argument a Message: :func:`reason_of`)."""
    m = PAYLOAD_RE.match(text)
    if not m:
        head = text.split(".", 1)[0]
        raise ValueError(msg(N_("not a {version} certificate payload"), version=VERSION) if head != VERSION
                         else msg(N_("malformed certificate payload")))
    cert_id, ticket, digest, kid, sig = m.groups()
    try:
        unb64(cert_id)
        unb64(digest)
        signature = unb64(sig)
    except ValueError:
        raise ValueError(msg(N_("malformed certificate payload (non-canonical encoding)"))) from None
    return Payload(cert_id, ticket, digest, kid, signature, text)


def reason_of(e: ValueError) -> str:
    """What a :func:`decode_payload` error says, as the Message it was raised
    with (``str(e)`` would keep only the English)."""
    return e.args[0] if e.args and isinstance(e.args[0], Message) else str(e)


def extract_payload(text: str) -> str:
    """The payload in a QR text: a verification URL (``.../v/PAYLOAD``) or the bare payload."""
    text = text.strip()
    if "/v/" in text:
        return text.rsplit("/v/", 1)[1].split("?", 1)[0].split("#", 1)[0]
    return text


#: the device name the team's server's own key goes by in a keyring (``/sync/keys``)
SERVER_DEVICE = "server"


def countersigned_at(record: dict[str, Any] | None, payload: Payload, keys: dict[str, dict[str, Any]]) -> str | None:
    """When the team's server countersigned ``payload``, according to
    ``record`` (the certificate's entry on its ticket, as the timeline folds
    it); None when it did not, or the countersignature is not the server's
    valid signature over this very payload (the server's key, not revoked, in
    ``keys``)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    counter = (record or {}).get("countersigned")
    if not counter or (record or {}).get("cert_id") != payload.cert_id:
        return None
    entry = keys.get(str(counter.get("key_id")))
    if entry is None or entry.get("device") != SERVER_DEVICE or entry.get("revoked_at"):
        return None
    pub = serialization.load_pem_public_key(str(entry["pem"]).encode("ascii"))
    try:
        if not isinstance(pub, Ed25519PublicKey):
            return None
        pub.verify(unb64(str(counter["signature"])), payload.text.encode("ascii"))
    except (InvalidSignature, ValueError):
        return None
    return str(counter["at"])


def _before(a: str, b: str) -> bool:
    """Whether the ISO-8601 time ``a`` is strictly before ``b``."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(a.replace("Z", "+00:00")) < datetime.fromisoformat(b.replace("Z", "+00:00"))
    except (ValueError, TypeError):  # a time that cannot be read proves nothing
        return False


def verify(text: str, keys: dict[str, dict[str, Any]], content: dict[str, Any] | None = None,
           countersigned: str | None = None) -> tuple[bool, str]:
    """Check a payload (or verification URL) against ``keys`` (key id ->
    {pem, device, revoked_at}) and, when given, the certificate's content.

    A revoked key's certificate stays valid only when the server countersigned
    it before the revocation (``countersigned``: when, from
    :func:`countersigned_at`) and, when the content is known, it was issued
    before then too: the server vouches that it existed while the key was
    trusted. One issued or countersigned later, or never countersigned, is not.

    Returns ``(True, "valid ...")`` or ``(False, reason)`` where reason is one of:
    malformed payload, unknown key, revoked key, bad signature, content changed."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        p = decode_payload(extract_payload(text))
    except ValueError as e:
        return False, reason_of(e)
    entry = keys.get(p.key_id)
    if entry is None:
        return False, msg(N_("unknown key {key_id} (not a device this one trusts)"), key_id=p.key_id)
    revoked = entry.get("revoked_at")
    device = Label("device", entry["device"]) if entry.get("device") else msg(N_("device"))
    if revoked:
        issued = (content or {}).get("issued_at")
        if not countersigned:
            return False, msg(N_("revoked key {key_id} ({device} revoked at {at}), and the server did not countersign"
                                 " this certificate before then"), key_id=p.key_id, device=device, at=revoked)
        if not _before(countersigned, revoked):
            return False, msg(N_("revoked key {key_id} ({device} revoked at {at}), and the server countersigned this"
                                 " certificate only at {countersigned}"), key_id=p.key_id, device=device, at=revoked,
                              countersigned=countersigned)
        if isinstance(issued, str) and not _before(issued, revoked):
            return False, msg(N_("revoked key {key_id} ({device} revoked at {at}), and this certificate says it was"
                                 " issued at {issued}"), key_id=p.key_id, device=device, at=revoked, issued=issued)
    pub = serialization.load_pem_public_key(str(entry["pem"]).encode("ascii"))
    if not isinstance(pub, Ed25519PublicKey):
        return False, msg(N_("key {key_id} is not an Ed25519 key"), key_id=p.key_id)
    try:
        pub.verify(p.signature, p.signed_part)
    except InvalidSignature:
        return False, msg(N_("bad signature (the payload was changed or not signed by this key)"))
    if content is not None and content_hash(content) != p.content_hash:
        return False, msg(N_("content changed (the certificate's content does not match its signed hash)"))
    if content is not None and (content.get("cert_id"), content.get("ticket", {}).get("key")) != (p.cert_id, p.ticket):
        return False, msg(N_("content changed (the content names another certificate or ticket)"))
    signer = Label("device", entry["device"]) if entry.get("device") else p.key_id
    if revoked:
        return True, msg(N_("valid: certificate {cert_id} for {ticket}, signed by {signer} and countersigned at"
                            " {countersigned}, before the key was revoked at {at}"), cert_id=p.cert_id, ticket=p.ticket,
                         signer=signer, countersigned=countersigned, at=revoked)
    return True, msg(N_("valid: certificate {cert_id} for {ticket}, signed by {signer}"), cert_id=p.cert_id, ticket=p.ticket,
                     signer=signer)


def build_content(cert_id: str, shown: dict[str, Any], issued_at: str, issuer: str, key_id: str,
                  lang: str = "en", cfg: HasLabels | None = None) -> dict[str, Any]:
    """What a certificate states, from the ticket as ``show --json`` gives it:
    the ticket summary, the key steps of its timeline, the checklist with the
    evidence hashes of this round, the customer's confirmation, who did the work
    and who issued it. Its :func:`content_hash` is what the payload signs.

    ``lang`` is the language of the page's fixed labels (headings, field names):
    the data itself is never translated, and a verifier rebuilds the page's lines
    in this language, whatever language it speaks itself. Content without it
    (certificates issued before labels were translated) is English.

    ``labels``: what the page shows for the identifiers it states (type,
    priority, the timeline's steps, checklist items, the confirmation's mode),
    ``KIND.value -> label`` in ``lang`` (:func:`ticketctl.core.labels.label`,
    the team's own from ``cfg``), only those whose label is not the identifier
    itself (so an English certificate has none and no ``labels`` key). The facts
    stay identifiers; the labels are signed with them, so a verifier finds on the
    page exactly the words that were signed, whatever its own catalog or config says."""
    steps = ("ticket.created", "ticket.assigned", "ticket.started", "ticket.blocked", "ticket.unblocked",
             "ticket.resolved", "ticket.confirmed", "ticket.closed", "ticket.reopened")
    rnd = shown.get("reopen_count", 0)
    evidence = [{k: ev.get(k) for k in ("sha256", "name", "mime", "item", "captured_at", "flag")}
                for ev in shown.get("evidence", []) if ev.get("round", 0) == rnd]
    conf = shown.get("confirmation") or {}
    content = {
        "v": 1,
        "lang": lang,
        "cert_id": cert_id,
        "issued_at": issued_at,
        "issuer": issuer,
        "key_id": key_id,
        "ticket": {k: shown.get(k) for k in ("key", "title", "type", "dept", "product", "fault", "customer",
                                             "priority", "created_at", "resolved_at", "closed_at")},
        "technician": shown.get("assignee"),
        "timeline": [{"step": e["type"].split(".", 1)[1], "at": e["at"], "by": e["actor"]}
                     for e in shown.get("timeline", []) if e["type"] in steps],
        "checklist": [{"item": c["item"], "at": c["at"], "by": c["by"],
                       "evidence": [ev["sha256"] for ev in evidence if ev.get("item") == c["item"]]}
                      for c in shown.get("checklist", [])],
        "evidence": evidence,
        "confirmation": {k: conf.get(k) for k in ("ratings", "comment", "by", "via", "at")} if conf else None,
    }
    labels = page_labels(content, lang, cfg)
    if labels:
        content["labels"] = labels
    return content


def page_labels(content: dict[str, Any], lang: str, cfg: HasLabels | None = None) -> dict[str, str]:
    """``KIND.value -> label`` in ``lang`` of the identifiers ``content`` states,
    where the label differs from the identifier (see :func:`build_content`)."""
    t = content["ticket"]
    wanted = [("type", t.get("type")), ("priority", t.get("priority")),
              *(("event", s["step"]) for s in content["timeline"]),
              *(("checklist", c["item"]) for c in content["checklist"]),
              *(("checklist", ev.get("item")) for ev in content["evidence"]),
              ("confirm", (content.get("confirmation") or {}).get("via"))]
    out: dict[str, str] = {}
    for kind, value in wanted:
        if value:
            text = label(kind, str(value), cfg, lang)
            if text != value:
                out[f"{kind}.{value}"] = text
    return out


def shown_as(content: dict[str, Any], kind: str, value: str | None) -> str:
    """What a certificate's page shows for the identifier ``value`` of ``kind``:
    its signed label, else the identifier (``''`` for None)."""
    if not value:
        return value or ""
    return str((content.get("labels") or {}).get(f"{kind}.{value}", value))

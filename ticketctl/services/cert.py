"""Service certificates: issue one for a closed ticket, verify one from its PDF
or from the text of its QR code.

Issuing: the content (``core.certificate.build_content``) is hashed, the
payload signed with this device's key (``services.keys``), the PDF drawn in
memory, then the mutation :func:`record_certificate` puts the certificate on
the ticket's timeline (it syncs like any action), and only then is the file
written. A refused issue writes nothing.

Verifying: signature and key trust always (:func:`ticketctl.core.certificate.verify`);
for a PDF also the embedded content against the signed hash, the visible text
against the content, and, when a QR decoder is installed (zxing-cpp with
pypdfium2, the test extras), the printed QR code against the payload.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from ticketctl import i18n
from ticketctl.core import certificate, evidence
from ticketctl.core.message import msg
from ticketctl.core.model import iso
from ticketctl.errors import BadInput, Refused
from ticketctl.home import atomic_write
from ticketctl.i18n import N_, _
from ticketctl.services import keys, tickets
from ticketctl.services.env import Env
from ticketctl.services.evidence import blob_path
from ticketctl.services.mutations import mutation


@mutation("ticket.certify")
def record_certificate(env: Env, key: str, cert_id: str, content_hash: str, key_id: str, payload: str) -> dict[str, Any]:
    """Put an issued certificate on a closed ticket's timeline (the server may
    countersign it; see ``docs``)."""
    cert = {"cert_id": cert_id, "content_hash": content_hash, "key_id": key_id, "payload": payload}
    return tickets.act(env, key, lambda t: evidence.decide_certify(t, cert))


def verification_text(env: Env, payload: str, base_url: str | None = None) -> str:
    """What the QR code holds: ``{base}/v/{payload}`` when a server URL is known, else the bare payload."""
    base = env.public_url(base_url)
    return f"{base}/v/{payload}" if base else payload


def issue(env: Env, key: str, out: Path, base_url: str | None = None) -> dict[str, Any]:
    """Issue a certificate for the closed ticket ``key`` into the PDF ``out``.

    The labels are in this process's language (recorded in the content); text
    the PDF core fonts lack needs a font (``proof.font``, ``ticketctl[cjk]``, the
    system's: :func:`cert_fonts.font_for`). Refused unless the ticket is closed, or
    when no font has every character; BadInput when ``out``'s folder does not exist."""
    shown = tickets.show(env, key)
    if shown["status"] != "closed":
        raise Refused(_("cannot issue a certificate for {key}: it is {status} (close it first)").format(
            key=shown["key"], status=shown["status"]))
    if not out.parent.is_dir():
        raise BadInput(_("no folder {folder!r} to write {name} in").format(folder=str(out.parent), name=out.name))
    if base_url and not base_url.startswith(("http://", "https://")):
        raise BadInput(_("--url {url!r} is not an http(s) URL").format(url=base_url))
    from ticketctl.services import cert_fonts, cert_pdf

    cert_id = certificate.b64(secrets.token_bytes(8))
    kid = keys.key_id(env)
    issued_at = iso(env.now)
    content = certificate.build_content(cert_id, shown, issued_at, env.actor, kid, i18n.current())
    # the font first: a certificate that cannot be printed exactly is refused before anything is signed
    font = cert_fonts.font_for(cert_pdf.printed_text(content), env.config.proof.font, env.environ)
    digest = certificate.content_hash(content)
    signature = keys.sign(env, certificate.unsigned_text(cert_id, shown["key"], digest, kid).encode("ascii"))
    payload = certificate.encode_payload(cert_id, shown["key"], digest, kid, signature)
    qr_text = verification_text(env, payload, base_url)
    photos = {ev["sha256"]: blob_path(env, ev["sha256"]) for ev in content["evidence"]
              if blob_path(env, ev["sha256"]).exists()}
    data = cert_pdf.render(content, payload, qr_text, certificate.b64(signature), photos, font)
    record_certificate(env, shown["key"], cert_id, digest, kid, payload)
    atomic_write(out, data)
    return {"key": shown["key"], "cert_id": cert_id, "file": str(out), "issued_at": issued_at, "key_id": kid,
            "content_hash": digest, "payload": payload, "qr": qr_text}


def _looks_like_file(source: str) -> bool:
    try:
        return source.lower().endswith(".pdf") or Path(source).is_file()
    except (OSError, ValueError):  # a name too long for a path: QR text
        return False


def verify(env: Env, source: str) -> dict[str, Any]:
    """Verify a certificate PDF (a path) or a QR text (a verification URL or
    the bare payload). Never raises for an invalid certificate: the result's
    ``valid`` and ``reason`` say why; BadInput only for a file that cannot be read.
    ``reason`` and ``warnings`` are Messages: English in JSON, ``render`` them for people."""
    ring = keys.keyring(env)
    result: dict[str, Any] = {"valid": False, "reason": "", "source": "qr", "cert_id": None, "ticket": None,
                              "key_id": None, "device": None, "warnings": []}
    content: dict[str, Any] | None = None
    text = source
    data = b""
    if _looks_like_file(source):
        from ticketctl.services import cert_pdf

        path = Path(source)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BadInput(_("no file {path!r}").format(path=source)) from None
        except OSError as e:
            raise BadInput(_("cannot read {path}: {error}").format(path=source, error=e.strerror)) from None
        result["source"] = "pdf"
        embedded = cert_pdf.read_embedded(data)
        if embedded is None:
            result["reason"] = msg(N_("{name} holds no ticketctl certificate (no signed payload in its metadata)"), name=path.name)
            return result
        text, content = embedded
    try:
        p = certificate.decode_payload(certificate.extract_payload(text))
        result.update(cert_id=p.cert_id, ticket=p.ticket, key_id=p.key_id,
                      device=(ring.get(p.key_id) or {}).get("device"))
    except ValueError:
        pass
    ok, reason = certificate.verify(text, ring, content)
    if ok and content is not None:
        from ticketctl.services import cert_pdf

        missing = cert_pdf.text_matches(data, content)
        if missing is not None:
            ok, reason = False, msg(N_("content changed (the page does not show the {field} {value!r})"),
                                    field=missing[0], value=missing[1])
        else:
            printed = _printed_qr(data)
            if printed == "":
                ok, reason = False, msg(N_("content changed (no readable QR code on the first page)"))
            elif printed is not None and certificate.extract_payload(printed) != text:
                ok, reason = False, msg(N_("content changed (the printed QR code holds another payload)"))
    result["valid"], result["reason"] = ok, reason
    if ok:
        result["warnings"] = _local_warnings(env, result["ticket"], result["cert_id"])
        result["countersigned"] = _countersigned(env, result["ticket"], result["cert_id"])
    return result


def _countersigned(env: Env, key: str | None, cert_id: str | None) -> bool:
    """Whether the team's server countersigned this certificate (as far as this store has synced)."""
    st = env.store
    if not key or not st.has_ticket(key):
        return False
    return any(c["cert_id"] == cert_id and c.get("countersigned") for c in st.ticket(key).certificates)


def _printed_qr(data: bytes) -> str | None:
    """The QR code on the first page, when pypdfium2 and zxing-cpp are installed; else None."""
    try:
        import pypdfium2
        import zxingcpp
    except ImportError:
        return None
    doc = pypdfium2.PdfDocument(data)
    try:
        codes = zxingcpp.read_barcodes(doc[0].render(scale=3).to_pil())
    finally:
        doc.close()
    return str(codes[0].text) if codes else ""


def _local_warnings(env: Env, key: str | None, cert_id: str | None) -> list[str]:
    """What this store knows that a valid certificate's holder should hear (a later reopen)."""
    st = env.store
    if not key or not st.has_ticket(key):
        return [msg(N_("{key} is not in this store; certificate {cert_id} cannot be cross-checked"), key=key, cert_id=cert_id)]
    t = st.ticket(key)
    mine = [c for c in t.certificates if c["cert_id"] == cert_id]
    if not mine:
        return [msg(N_("certificate {cert_id} is not recorded on {key} in this store (not synced yet?)"), cert_id=cert_id, key=key)]
    if mine[0].get("round", 0) != t.reopen_count or t.status != "closed":
        return [msg(N_("{key} was reopened after this certificate; it is {status} now"), key=key, status=t.status)]
    return []

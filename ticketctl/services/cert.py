"""Service certificates: issue one for a closed ticket, verify one from its PDF
or from the text of its QR code.

Issuing: the content (``core.certificate.build_content``) is drawn, what the
pages are is added to it (``cert_pdf.make``), it is hashed and the payload
signed with this device's key (``services.signing``), then the mutation
:func:`record_certificate` puts the certificate on the ticket's timeline (it
syncs like any action), and only then is the file written. A refused issue
writes nothing.

Verifying: signature and key trust always (:func:`ticketctl.core.certificate.verify`,
with the server's countersignature when this store has synced it: a revoked
key's certificate stays valid only when countersigned before the revocation);
for a PDF also that the file is whole, the embedded content against the signed
hash, the pages against what the content signed (``cert_page.check``: the page
is what was signed, nothing drawn over it, added, hidden or replaced) and the
page text against the content. Certificates issued before pages were signed get
the text check and, when a QR decoder is installed (zxing-cpp with pypdfium2,
the test extras), the printed QR code, and a warning that this is all.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from ticketctl import i18n
from ticketctl.core import certificate, evidence
from ticketctl.core.labels import Label, label
from ticketctl.core.message import msg
from ticketctl.core.model import iso
from ticketctl.errors import BadInput, Refused
from ticketctl.home import atomic_write
from ticketctl.i18n import N_, _
from ticketctl.services import signing, tickets
from ticketctl.services.env import Env
from ticketctl.services.evidence import blob_path
from ticketctl.services.mutations import mutation


@mutation("ticket.certify")
def record_certificate(env: Env, key: str, cert_id: str, content_hash: str, key_id: str, payload: str) -> dict[str, Any]:
    """Put an issued certificate on a closed ticket's timeline (the server may
    countersign it; see ``docs``)."""
    cert = {"cert_id": cert_id, "content_hash": content_hash, "key_id": key_id, "payload": payload}
    return tickets.act(env, key, lambda t: evidence.decide_certify(t, cert))


def issue(env: Env, key: str, out: Path, base_url: str | None = None) -> dict[str, Any]:
    """Issue a certificate for the closed ticket ``key`` into the PDF ``out``.

    The labels are in this process's language (recorded in the content); text
    the PDF core fonts lack needs a font (``proof.font``, the installed Noto Sans CJK, the
    system's: :func:`cert_fonts.font_for`). The QR code holds ``{url}/v/{payload}``
    (``base_url``, else ``proof.url``, else the sync server's), or the bare payload
    when no URL is known. Refused unless the ticket is closed, or when no font
    has every character; BadInput when ``out``'s folder does not exist."""
    shown = tickets.show(env, key)
    if shown["status"] != "closed":
        raise Refused(_("cannot issue a certificate for {key}: it is {status} (close it first)").format(
            key=shown["key"], status=label("status", shown["status"], env.config)))
    if not out.parent.is_dir():
        raise BadInput(_("no folder {folder!r} to write {name} in").format(folder=str(out.parent), name=out.name))
    if base_url and not base_url.startswith(("http://", "https://")):
        raise BadInput(_("--url {url!r} is not an http(s) URL").format(url=base_url))
    from ticketctl.services import cert_fonts, cert_page, cert_pdf

    cert_id = certificate.b64(secrets.token_bytes(8))
    kid = signing.key_id(env)
    issued_at = iso(env.now)
    content = certificate.build_content(cert_id, shown, issued_at, env.actor, kid, i18n.current(), env.config)
    # the font first: a certificate that cannot be printed exactly is refused before anything is signed
    font = cert_fonts.font_for(cert_pdf.printed_text(content), env.config.proof.font, env.environ)
    photos = {ev["sha256"]: blob_path(env, ev["sha256"]) for ev in content["evidence"]
              if blob_path(env, ev["sha256"]).exists()}

    def sign(signed: dict[str, Any]) -> str:
        digest = certificate.content_hash(signed)
        signature = signing.sign(env, certificate.unsigned_text(cert_id, shown["key"], digest, kid).encode("ascii"))
        return certificate.encode_payload(cert_id, shown["key"], digest, kid, signature)

    content, payload, data = cert_pdf.make(content, sign, photos, font, env.public_url(base_url) or None)
    digest = certificate.decode_payload(payload).content_hash
    record_certificate(env, shown["key"], cert_id, digest, kid, payload)
    atomic_write(out, data)
    return {"key": shown["key"], "cert_id": cert_id, "file": str(out), "issued_at": issued_at, "key_id": kid,
            "content_hash": digest, "payload": payload, "qr": cert_page.qr_text(content["overlay"], payload)}


def _looks_like_file(source: str) -> bool:
    try:
        return source.lower().endswith(".pdf") or Path(source).is_file()
    except (OSError, ValueError):  # a name too long for a path: QR text
        return False


def verify(env: Env, source: str) -> dict[str, Any]:
    """Verify a certificate PDF (a path) or a QR text (a verification URL or
    the bare payload). Never raises for an invalid certificate: the result's
    ``valid`` and ``reason`` say why; BadInput only for a file that cannot be read.
    ``reason`` and ``warnings`` are Messages: English in JSON, ``render`` them for people.
    ``revoked_at`` and ``countersigned_at``: when this device knows the key was
    revoked and the server countersigned the certificate (else None)."""
    ring = signing.keyring(env)
    result: dict[str, Any] = {"valid": False, "reason": "", "source": "qr", "cert_id": None, "ticket": None,
                              "key_id": None, "device": None, "revoked_at": None, "countersigned_at": None,
                              "countersigned": False, "warnings": []}
    content: dict[str, Any] | None = None
    reader: Any = None
    text = source
    data = b""
    if _looks_like_file(source):
        from ticketctl.services import cert_page

        path = Path(source)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BadInput(_("no file {path!r}").format(path=source)) from None
        except OSError as e:
            raise BadInput(_("cannot read {path}: {error}").format(path=source, error=e.strerror)) from None
        result["source"] = "pdf"
        try:
            reader = cert_page.open_pdf(data)
        except cert_page.Unreadable as e:
            # a certificate cut short or damaged says so; a file that never was one says that
            known = e.truncated or (e.pdf and b"<tkc:payload>" in data)
            result["reason"] = e.args[0] if known else msg(_NO_CERT, name=path.name)
            return result
        embedded = cert_page.embedded(cert_page.metadata(reader))
        if embedded is None:
            result["reason"] = msg(_NO_CERT, name=path.name)
            return result
        text, content = embedded
    try:
        p: certificate.Payload | None = certificate.decode_payload(certificate.extract_payload(text))
    except ValueError:
        p = None
    at = None
    if p is not None:
        entry = ring.get(p.key_id) or {}
        at = certificate.countersigned_at(_record(env, p.ticket, p.cert_id), p, ring)
        result.update(cert_id=p.cert_id, ticket=p.ticket, key_id=p.key_id, device=entry.get("device"),
                      revoked_at=entry.get("revoked_at"), countersigned_at=at, countersigned=at is not None)
    ok, reason = certificate.verify(text, ring, content, at)
    warnings: list[str] = []
    if ok and reader is not None and content is not None:
        ok, reason, warnings = _check_pdf(reader, data, text, content, reason)
    result["valid"], result["reason"] = ok, reason
    if ok:
        result["warnings"] = warnings + _local_warnings(env, result["ticket"], result["cert_id"])
    return result


_NO_CERT = N_("{name} holds no ticketctl certificate (no signed payload in its metadata)")


def _check_pdf(reader: Any, data: bytes, payload: str, content: dict[str, Any], reason: str) -> tuple[bool, str, list[str]]:
    """(valid, reason, warnings) of a PDF whose payload and content verified: its pages, then its text."""
    from ticketctl.services import cert_page, cert_pdf

    warnings: list[str] = []
    if "pages" in content:
        changed = cert_page.check(reader, payload, content)
        if changed is not None:
            return False, changed, []
    else:
        warnings.append(msg(N_("this certificate was issued before ticketctl signed its pages: only its text and QR code"
                               " were checked, not what else the page shows")))
    missing = cert_pdf.text_matches(data, content)
    if missing is not None:
        return False, msg(N_("content changed (the page does not show the {field} {value!r})"),
                          field=missing[0], value=missing[1]), []
    if "pages" not in content:
        printed = _printed_qr(data)
        if printed == "":
            return False, msg(N_("content changed (no readable QR code on the first page)")), []
        if printed is not None and certificate.extract_payload(printed) != payload:
            return False, msg(N_("content changed (the printed QR code holds another payload)")), []
    return True, reason, warnings


def _record(env: Env, key: str, cert_id: str) -> dict[str, Any] | None:
    """The certificate's entry on its ticket in this store (as far as it has synced), if any."""
    if not env.home.store_file.exists():  # verifying makes no store where there is none
        return None
    st = env.store
    if not st.has_ticket(key):
        return None
    return next((c for c in st.ticket(key).certificates if c["cert_id"] == cert_id), None)


def _printed_qr(data: bytes) -> str | None:
    """The QR code on the first page as a renderer draws it, when pypdfium2 and
    zxing-cpp are installed; else None. (Certificates with signed pages need
    neither: their QR image is compared module by module.)"""
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
        return [msg(N_("{key} was reopened after this certificate; it is {status} now"), key=key, status=Label("status", t.status))]
    return []

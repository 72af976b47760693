"""Make the certificate tamper corpus: each PDF here is ``base.pdf`` (or
``legacy.pdf``) changed one way, and ``manifest.json`` says what
``ticketctl cert verify`` must answer for it (see README.md).

    python tests/data/cert_tamper/make.py          # the corpus from the committed base.pdf and legacy.pdf
    python tests/data/cert_tamper/make.py --base   # issue base.pdf anew first (with test_key.pem)

The changes are made with pypdf and pikepdf (qpdf) by ``tests/cert_tampering.py``;
the same inputs give the same files. The expected verdicts below are written
by hand, not taken from ticketctl's answers.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent.parent
sys.path.insert(0, str(TESTS))

import cert_tampering as tamper  # noqa: E402

PHOTO = TESTS / "data" / "relay_1004.jpg"
URL = "https://tickets.example.com"
CERT_ID = "AAECAwQFBgc"  # bytes 0..7, base64url: fixed, so the corpus is the same each time

#: a closed repair as ``ticketctl show --json`` gives it: what base.pdf certifies
SHOWN: dict[str, Any] = {
    "key": "KQT-7", "title": "AC not cooling", "type": "repair", "dept": "facilities", "product": "hvac",
    "fault": "no cooling", "customer": "Li Wei", "priority": "high", "created_at": "2026-03-02T09:00:00Z",
    "resolved_at": "2026-03-02T10:10:00Z", "closed_at": "2026-03-02T10:30:00Z", "assignee": "ana", "reopen_count": 0,
    "timeline": [{"type": "ticket.created", "at": "2026-03-02T09:00:00Z", "actor": "disp"},
                 {"type": "ticket.assigned", "at": "2026-03-02T09:10:00Z", "actor": "disp"},
                 {"type": "ticket.started", "at": "2026-03-02T09:30:00Z", "actor": "ana"},
                 {"type": "ticket.resolved", "at": "2026-03-02T10:10:00Z", "actor": "ana"},
                 {"type": "ticket.confirmed", "at": "2026-03-02T10:20:00Z", "actor": "ana"},
                 {"type": "ticket.closed", "at": "2026-03-02T10:30:00Z", "actor": "ana"}],
    "checklist": [{"item": "function_test", "at": "2026-03-02T10:05:00Z", "by": "ana"},
                  {"item": "safety_reset", "at": "2026-03-02T10:30:00Z", "by": "ana"},
                  {"item": "parts_recorded", "at": "2026-03-02T10:30:00Z", "by": "ana"}],
    "evidence": [{"sha256": hashlib.sha256(PHOTO.read_bytes()).hexdigest(), "name": PHOTO.name, "mime": "image/jpeg",
                  "item": "function_test", "captured_at": "2026-03-02T10:04:00Z", "flag": None, "round": 0}],
    "confirmation": {"ratings": {"solved": 5, "professional": 4, "on_time": 5}, "comment": "Cooling works again",
                     "by": "Li Wei", "via": "in_person", "at": "2026-03-02T10:20:00Z"},
}


def _rating_one(content: dict[str, Any]) -> None:
    content["confirmation"]["ratings"]["solved"] = 1


#: file -> (made from, how, valid, what the reason or a warning must say, what it is)
CORPUS: dict[str, tuple[str, Any, bool, str, str]] = {
    "base.pdf": ("base.pdf", lambda d: d, True, "valid: certificate AAECAwQFBgc for KQT-7",
                      "control: the certificate as issued"),
    "resaved-pypdf.pdf": ("base.pdf", tamper.resave_pypdf, True, "valid: certificate",
                          "control: re-saved by pypdf (streams joined and compressed anew, objects renumbered)"),
    "resaved-qpdf-objstm.pdf": ("base.pdf", tamper.resave_qpdf, True, "valid: certificate",
                                "control: re-saved by qpdf with object streams and recompressed streams"),
    "producer-updated.pdf": ("base.pdf", lambda d: tamper.set_info(d, Producer="Acme PDF Editor 9"), True,
                             "valid: certificate", "control: an incremental update that changes only /Producer"),
    "overlay-white-box.pdf": ("base.pdf", tamper.white_box, False, "something was drawn on page 1 that was not signed",
                              "a white box over the ratings and '1/5' drawn on top"),
    "void-line.pdf": ("base.pdf", tamper.void_line, False, "something was drawn on page 1 that was not signed",
                      "a red VOID drawn across the page"),
    "added-page.pdf": ("base.pdf", tamper.add_page, False, "2 pages where 1 was signed",
                       "a second page (an 'addendum') added"),
    "annotation.pdf": ("base.pdf", tamper.annotate, False, "page 1 has annotations",
                       "a free-text annotation VOID on the page"),
    "rating-edited.pdf": ("base.pdf", lambda d: tamper.replace_line(d, "Problem solved 5/5", "Problem solved 1/5"), False,
                          "page 1's drawing changed", "the rating in the page's own text changed to 1/5"),
    "invisible-text.pdf": ("base.pdf", tamper.invisible_text, False, "page 1's drawing changed",
                           "the original text made invisible (text render mode 3)"),
    "white-text.pdf": ("base.pdf", tamper.white_text, False, "page 1's drawing changed", "the original text filled white"),
    "replaced-photo.pdf": ("base.pdf", tamper.replace_image, False, "a photo on page 1 was replaced",
                           "the evidence thumbnail replaced by another image of the same size"),
    "xmp-content.pdf": ("base.pdf", lambda d: tamper.change_content(d, _rating_one), False,
                        "the certificate's content does not match its signed hash",
                        "the signed content in the XMP metadata changed (a rating of 1)"),
    "xmp-title.pdf": ("base.pdf", tamper.add_xmp_title, False, "XMP metadata changed",
                      "a dc:title added to the XMP metadata"),
    "info-title.pdf": ("base.pdf", lambda d: tamper.set_info(d, Title="Certificate VOID"), False,
                       "the document's title changed", "the Info /Title changed in an incremental update"),
    "qr-replaced.pdf": ("base.pdf", tamper.replace_qr, False, "the QR code on page 1 holds another payload",
                        "the QR image replaced by a code of the same size with another signature"),
    "truncated.pdf": ("base.pdf", tamper.truncate, False, "the file is truncated", "the first 70% of the file"),
    "legacy.pdf": ("legacy.pdf", lambda d: d, True, "only its text and QR code were checked",
                   "control: a certificate issued before pages were signed (text check only, with a warning)"),
    "legacy-rating-edited.pdf": ("legacy.pdf", lambda d: tamper.replace_line(d, "Problem solved 5/5", "Problem solved 1/5"),
                                 False, "the page does not show the confirmation.ratings",
                                 "a legacy certificate whose printed rating changed: the text check still catches it"),
    "legacy-white-box.pdf": ("legacy.pdf", tamper.white_box, True, "only its text and QR code were checked",
                             "the limit of legacy certificates: an overlay keeps the text, so only the warning says so"),
}


def signing_key() -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key((HERE / "test_key.pem").read_bytes(), None)


def issue_base() -> bytes:
    """base.pdf: SHOWN certified in English with the test key, its photo as the thumbnail."""
    from ticketctl.core import certificate
    from ticketctl.services import cert_pdf

    key = signing_key()
    kid = key_id()
    content = certificate.build_content(CERT_ID, SHOWN, "2026-03-02T10:40:00Z", "ana", kid, "en")

    def sign(signed: dict[str, Any]) -> str:
        digest = certificate.content_hash(signed)
        return certificate.encode_payload(CERT_ID, SHOWN["key"], digest, kid,
                                          key.sign(certificate.unsigned_text(CERT_ID, SHOWN["key"], digest, kid).encode()))

    _content, _payload, data = cert_pdf.make(content, sign, {SHOWN["evidence"][0]["sha256"]: PHOTO}, None, URL)
    return data


def make(out: Path, new_base: bool = False) -> list[dict[str, Any]]:
    """Write the corpus into ``out`` (base.pdf and legacy.pdf are read from here); returns the manifest."""
    if new_base:
        (HERE / "base.pdf").write_bytes(issue_base())
    sources = {name: (HERE / name).read_bytes() for name in ("base.pdf", "legacy.pdf")}
    manifest = []
    for name, (source, change, valid, says, what) in CORPUS.items():
        data = change(sources[source])
        (out / name).write_bytes(data)
        manifest.append({"file": name, "from": source, "valid": valid, "says": says, "what": what,
                         "sha256": hashlib.sha256(data).hexdigest()})
    return manifest


def key_id() -> str:
    from ticketctl.services.signing import key_id_of

    return key_id_of((HERE / "test_key.pub.pem").read_text("ascii"))


if __name__ == "__main__":
    manifest = make(HERE, "--base" in sys.argv[1:])
    (HERE / "manifest.json").write_text(json.dumps({"key_id": key_id(), "files": manifest}, indent=1) + "\n")
    print(f"{len(manifest)} files written to {HERE}")

"""The certificate as a PDF (fpdf2): real text, photo thumbnails, a QR code,
and the signed payload plus the content it signs in the XMP metadata.

Why the metadata: ``cert verify FILE.pdf`` must work where only ticketctl is
installed (no PDF renderer, no QR decoder), so the payload and the content
travel in the file's uncompressed XMP packet, found with a regular expression.
The visible text is made by :func:`visible_lines` from the same content, and
verification reads the page text back (:func:`page_text`) and checks every
line is there: an edited rating in the text fails as surely as one in the
metadata. Text uses the PDF core font (Latin-1); other characters print as
``?`` in the text and stay exact in the signed content.

fpdf2, Pillow and qrcode are imported inside the functions that draw.
"""

from __future__ import annotations

import base64
import re
import zlib
from pathlib import Path
from typing import Any

NS = "https://ticketctl.dev/ns/certificate/1/"
_PAYLOAD = re.compile(rb"<tkc:payload>([^<]*)</tkc:payload>")
_CONTENT = re.compile(rb"<tkc:content>([^<]*)</tkc:content>")
RATING_LABELS = {"solved": "Problem solved", "professional": "Professional", "on_time": "On time"}


def latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def visible_lines(content: dict[str, Any]) -> list[tuple[str, str]]:
    """(style, text) of every line of the certificate's text, in order; style
    is ``h`` (a heading), ``b`` (body) or ``m`` (monospace, hashes)."""
    t = content["ticket"]
    out: list[tuple[str, str]] = [
        ("b", f"Certificate {content['cert_id']} issued {content['issued_at']} by {content['issuer']}"),
        ("h", "Ticket"),
        ("b", f"{t['key']}: {t['title']}"),
        ("b", f"{t['type']} in {t['dept']} / {t['product']}" + (f" / {t['fault']}" if t.get("fault") else "")
         + f", priority {t['priority']}"),
        ("b", f"Customer: {t.get('customer') or '-'}"),
        ("b", f"Created {t['created_at']}, resolved {t.get('resolved_at') or '-'}, closed {t.get('closed_at') or '-'}"),
        ("h", "Timeline"),
        *(("b", f"{s['at']}  {s['step']} by {s['by']}") for s in content["timeline"]),
        ("h", "Checklist"),
    ]
    for c in content["checklist"]:
        out.append(("b", f"[x] {c['item']} checked {c['at'] or '-'} by {c['by'] or '-'}"))
        out += [("m", f"evidence sha256 {h}") for h in c["evidence"]]
    loose = [ev for ev in content["evidence"] if not ev.get("item")]
    out += [("m", f"evidence sha256 {ev['sha256']} ({ev['name']})") for ev in loose]
    flagged = [ev for ev in content["evidence"] if ev.get("flag")]
    out += [("b", f"flagged: {ev['name']} has no capture time") for ev in flagged]
    conf = content.get("confirmation")
    out.append(("h", "Customer confirmation"))
    if conf:
        out.append(("b", ", ".join(f"{label} {conf['ratings'][k]}/5" for k, label in RATING_LABELS.items())))
        out.append(("b", f"\"{conf['comment']}\""))
        out.append(("b", f"Confirmed by {conf['by']} ({conf['via'].replace('_', ' ')}) at {conf['at']}"))
    else:
        out.append(("b", "Not required for this ticket type; none given."))
    out += [("h", "Technician"), ("b", f"{content['technician'] or '-'}, signed with device key {content['key_id']}")]
    return [(style, latin1(text)) for style, text in out]


def render(content: dict[str, Any], payload: str, qr_text: str, signature_b64: str,
           photos: dict[str, Path]) -> bytes:
    """The certificate's PDF bytes. ``photos`` maps an evidence sha256 to its
    blob, for thumbnails (missing blobs are simply not drawn)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(f"Service certificate {content['cert_id']}")
    pdf.set_subject(f"Ticket {content['ticket']['key']}")
    pdf.set_creator("ticketctl")
    blob = base64.urlsafe_b64encode(_canonical(content)).decode("ascii")
    pdf.set_xmp_metadata(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:tkc="{NS}"><tkc:payload>{payload}</tkc:payload>'
        f"<tkc:content>{blob}</tkc:content></rdf:Description></rdf:RDF></x:xmpmeta>")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.image(_qr_image(qr_text), x=150, y=10, w=50, h=50)
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(130, 10, "Service certificate", new_x="LMARGIN", new_y="NEXT")
    width = 130.0
    for style, text in visible_lines(content):
        if style == "h":
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 12)
        elif style == "m":
            pdf.set_font("Courier", "", 7)
        else:
            pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(width, 5 if style != "m" else 4, text, align="L", new_x="LMARGIN", new_y="NEXT")
        if pdf.get_y() > 62:
            width = 0  # below the QR code: the full width
    _thumbnails(pdf, content, photos)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 5, "Signature (Ed25519)", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", "", 7)
    pdf.multi_cell(0, 4, signature_b64, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(0, 4, "Scan the QR code or run `ticketctl cert verify` on this file to check this certificate.",
                   new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _canonical(content: dict[str, Any]) -> bytes:
    from ticketctl.core.certificate import canonical

    return canonical(content)


def _qr_image(text: str) -> Any:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=8)
    qr.add_data(text)
    qr.make(fit=True)
    return qr.make_image(fill_color="black", back_color="white").get_image()


def _thumbnails(pdf: Any, content: dict[str, Any], photos: dict[str, Path]) -> None:
    """A row of photo thumbnails (30 mm), captioned with the item they prove."""
    from PIL import Image, UnidentifiedImageError

    shots = [ev for ev in content["evidence"] if str(ev.get("mime") or "").startswith("image/") and ev["sha256"] in photos]
    if not shots:
        return
    pdf.ln(2)
    if pdf.get_y() > 240:
        pdf.add_page()
    x, y = pdf.l_margin, pdf.get_y()
    for ev in shots:
        try:
            with Image.open(photos[ev["sha256"]]) as im:
                thumb = im.convert("RGB")
                thumb.thumbnail((360, 360))
        except (UnidentifiedImageError, OSError):
            continue
        if x + 30 > pdf.w - pdf.r_margin:
            x, y = pdf.l_margin, y + 38
        h = 30 * thumb.height / thumb.width
        pdf.image(thumb, x=x, y=y, w=30, h=h)
        pdf.set_xy(x, y + min(h, 30) + 1)
        pdf.set_font("Helvetica", "", 6)
        pdf.cell(30, 3, latin1(ev.get("item") or ev["name"])[:28])
        x += 34
    pdf.set_xy(pdf.l_margin, y + 36)


# -- reading back ------------------------------------------------------------------


def read_embedded(data: bytes) -> tuple[str, dict[str, Any]] | None:
    """(payload, content) from a certificate PDF's metadata; None when absent."""
    import json

    payloads, contents = _PAYLOAD.findall(data), _CONTENT.findall(data)
    if not payloads or not contents:
        return None
    try:
        content = json.loads(base64.urlsafe_b64decode(contents[-1]))
        return payloads[-1].decode("ascii"), content
    except (ValueError, UnicodeDecodeError):
        return None


_STREAM = re.compile(rb"/Length (\d+)[^>]*>>\s*stream\r?\n")
_TJ = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", re.S)
_ESC = re.compile(rb"\\([0-7]{1,3}|.)", re.S)
_SIMPLE = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def page_text(data: bytes) -> str:
    """The text shown by the PDF's content streams (fpdf2's ``(...) Tj``), joined."""
    out: list[str] = []
    for m in _STREAM.finditer(data):
        raw = data[m.end():m.end() + int(m.group(1))]
        try:
            raw = zlib.decompress(raw)
        except zlib.error:
            pass
        for s in _TJ.findall(raw):
            text = _ESC.sub(lambda e: _SIMPLE.get(e.group(1), bytes([int(e.group(1), 8) & 0xFF])
                                                  if e.group(1)[:1].isdigit() else e.group(1)), s)
            out.append(text.decode("latin-1"))
    return "".join(out)


def text_matches(data: bytes, content: dict[str, Any]) -> str | None:
    """None when every visible line of ``content`` is on the page, else the first missing one."""
    shown = re.sub(r"\s+", "", page_text(data))
    pos = 0
    for _, line in visible_lines(content):
        want = re.sub(r"\s+", "", line)
        at = shown.find(want, pos)
        if at < 0:
            return line
        pos = at + len(want)
    return None

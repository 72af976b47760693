"""The certificate as a PDF (fpdf2): real text, photo thumbnails, a QR code,
and the signed payload plus the content it signs in the XMP metadata.

Why the metadata: ``cert verify FILE.pdf`` must work where only ticketctl is
installed (no PDF renderer, no QR decoder), so the payload and the content
travel in the file's uncompressed XMP packet, found with a regular expression.
The visible text is made by :func:`visible_lines` from the same content, and
verification reads the page text back (:func:`page_text`) and checks every
signed fact is there, line after line (:func:`text_matches`): an edited rating
in the text fails as surely as one in the metadata.

Labels (headings, field names) are in the certificate's language, the content's
``lang`` (the issuer's language), and the data is printed exactly as signed.
Text all in Latin-1 uses the PDF core fonts (nothing embedded: an English
certificate needs no font installed). Any other character (Chinese labels or
data) switches the whole page to an embedded font, subset to the characters
used, with a ToUnicode map so the text extracts (``cert_fonts.font_for`` finds
it: ``proof.font``, the ``ticketctl[cjk]`` package, then the system's CJK fonts).
Without one that has every character, issuing is refused: the page never prints
``?`` for what the signature covers. Certificates from before ``lang`` existed
printed ``?`` for non-Latin-1 characters and are read back that way.

fpdf2, fontTools, Pillow and qrcode are imported inside the functions that draw.
"""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from ticketctl import i18n
from ticketctl.errors import Refused
from ticketctl.i18n import N_, _
from ticketctl.services.cert_fonts import Font, font_for, is_latin1

NS = "https://ticketctl.dev/ns/certificate/1/"
_PAYLOAD = re.compile(rb"<tkc:payload>([^<]*)</tkc:payload>")
_CONTENT = re.compile(rb"<tkc:content>([^<]*)</tkc:content>")
RATING_LABELS = {"solved": N_("Problem solved"), "professional": N_("Professional"), "on_time": N_("On time")}


def latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _labels(content: dict[str, Any]) -> Callable[[str], str]:
    """``gettext`` of the certificate's language (not this process's: a verifier
    that speaks English rebuilds a Chinese certificate's lines in Chinese)."""
    lang = content.get("lang") or i18n.LANGUAGES[0]
    return i18n.translator(lang if lang in i18n.LANGUAGES else i18n.LANGUAGES[0]).gettext


def visible_lines(content: dict[str, Any]) -> list[tuple[str, str]]:
    """(style, text) of every line of the certificate's text, in order; style
    is ``h`` (a heading), ``b`` (body) or ``m`` (monospace, hashes)."""
    _ = _labels(content)  # the certificate's language; Babel extracts these _() calls
    t = content["ticket"]
    where = f"{t['dept']} / {t['product']}" + (f" / {t['fault']}" if t.get("fault") else "")
    out: list[tuple[str, str]] = [
        ("b", _("Certificate {cert_id} issued {issued_at} by {issuer}").format(
            cert_id=content["cert_id"], issued_at=content["issued_at"], issuer=content["issuer"])),
        ("h", _("Ticket")),
        ("b", f"{t['key']}: {t['title']}"),
        ("b", _("{type} in {where}, priority {priority}").format(type=t["type"], where=where, priority=t["priority"])),
        ("b", _("Customer: {customer}").format(customer=t.get("customer") or "-")),
        ("b", _("Created {created}, resolved {resolved}, closed {closed}").format(
            created=t["created_at"], resolved=t.get("resolved_at") or "-", closed=t.get("closed_at") or "-")),
        ("h", _("Timeline")),
        *(("b", _("{at}  {step} by {by}").format(at=s["at"], step=s["step"], by=s["by"])) for s in content["timeline"]),
        ("h", _("Checklist")),
    ]
    for c in content["checklist"]:
        out.append(("b", _("[x] {item} checked {at} by {by}").format(item=c["item"], at=c["at"] or "-", by=c["by"] or "-")))
        out += [("m", _("evidence sha256 {sha256}").format(sha256=h)) for h in c["evidence"]]
    loose = [ev for ev in content["evidence"] if not ev.get("item")]
    out += [("m", _("evidence sha256 {sha256} ({name})").format(sha256=ev["sha256"], name=ev["name"])) for ev in loose]
    flagged = [ev for ev in content["evidence"] if ev.get("flag")]
    out += [("b", _("flagged: {name} has no capture time").format(name=ev["name"])) for ev in flagged]
    conf = content.get("confirmation")
    out.append(("h", _("Customer confirmation")))
    if conf:
        out.append(("b", ", ".join(_("{label} {rating}/5").format(label=_(label), rating=conf["ratings"][k])
                                   for k, label in RATING_LABELS.items())))
        out.append(("b", _('"{comment}"').format(comment=conf["comment"])))
        out.append(("b", _("Confirmed by {by} ({via}) at {at}").format(
            by=conf["by"], via=conf["via"].replace("_", " "), at=conf["at"])))
    else:
        out.append(("b", _("Not required for this ticket type; none given.")))
    out += [("h", _("Technician")), ("b", _("{technician}, signed with device key {key_id}").format(
        technician=content["technician"] or "-", key_id=content["key_id"]))]
    if "lang" not in content:  # issued before embedded fonts: the core font printed "?" for the rest
        return [(style, latin1(text)) for style, text in out]
    return out


def _fixed(content: dict[str, Any]) -> dict[str, str]:
    """The page's fixed texts besides :func:`visible_lines`, in the certificate's language."""
    _ = _labels(content)  # the certificate's language, as in visible_lines
    return {"title": _("Service certificate"),
            "doc_title": _("Service certificate {cert_id}").format(cert_id=content["cert_id"]),
            "subject": _("Ticket {key}").format(key=content["ticket"]["key"]),
            "signature": _("Signature (Ed25519)"),
            "footer": _("Scan the QR code or run `ticketctl cert verify` on this file to check this certificate.")}


def printed_text(content: dict[str, Any], signature_b64: str = "") -> str:
    """Every text the page can print (photo captions included), for choosing its font."""
    fixed = _fixed(content)
    return "\n".join([fixed["title"], *(text for _style, text in visible_lines(content)),
                      *(ev.get("item") or ev["name"] for ev in content["evidence"]),
                      fixed["signature"], signature_b64, fixed["footer"]])


def render(content: dict[str, Any], payload: str, qr_text: str, signature_b64: str,
           photos: dict[str, Path], font: Font | None = None) -> bytes:
    """The certificate's PDF bytes. ``photos`` maps an evidence sha256 to its
    blob, for thumbnails (missing blobs are simply not drawn). ``font`` is
    ``cert_fonts.font_for`` of :func:`printed_text`; None: looked for here, with
    no ``proof.font``. Refused when the text needs a font and none has it all."""
    from fpdf import FPDF

    fixed = _fixed(content)
    if font is None:
        font = font_for(printed_text(content, signature_b64))
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(fixed["doc_title"])
    pdf.set_subject(fixed["subject"])
    pdf.set_creator("ticketctl")
    blob = base64.urlsafe_b64encode(_canonical(content)).decode("ascii")
    pdf.set_xmp_metadata(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:tkc="{NS}"><tkc:payload>{payload}</tkc:payload>'
        f"<tkc:content>{blob}</tkc:content></rdf:Description></rdf:RDF></x:xmpmeta>")
    pen = _Pen(pdf, font)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.image(_qr_image(qr_text), x=150, y=10, w=50, h=50)
    with pen("h", 18):
        pdf.cell(130, 10, fixed["title"], new_x="LMARGIN", new_y="NEXT")
    width = 130.0
    for style, text in visible_lines(content):
        if style == "h":
            pdf.ln(2)
        with pen(style, {"h": 12, "m": 7}.get(style, 10), text):
            pdf.multi_cell(width, 5 if style != "m" else 4, text, align="L", new_x="LMARGIN", new_y="NEXT")
        if pdf.get_y() > 62:
            width = 0  # below the QR code: the full width
    _thumbnails(pdf, pen, content, photos)
    pdf.ln(4)
    with pen("h", 10):
        pdf.cell(0, 5, fixed["signature"], new_x="LMARGIN", new_y="NEXT")
    with pen("m", 7, signature_b64):
        pdf.multi_cell(0, 4, signature_b64, new_x="LMARGIN", new_y="NEXT")
    with pen("b", 8):
        pdf.multi_cell(0, 4, fixed["footer"], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


class _Pen:
    """Sets the font for each kind of text. Without an embedded font: Helvetica
    (bold for headings) and Courier. With one: it for all text but Latin-1
    monospace lines (the hashes stay Courier); it has one regular face, so a
    heading is drawn bold by stroking its outline as well as filling it."""

    def __init__(self, pdf: Any, font: Font | None):
        self.pdf, self.font = pdf, font
        if font is not None:
            try:
                pdf.add_font("embedded", "", str(font.path), collection_font_number=font.face)
            except Exception as e:  # fpdf2 cannot use every font fontTools reads (e.g. bitmap-only)
                raise Refused(_("cannot use the font {path} for the certificate: {error}").format(
                    path=str(font.path), error=str(e) or type(e).__name__)) from None

    def __call__(self, style: str, size: float, text: str = "") -> AbstractContextManager[Any]:
        """Set the font for ``text`` of ``style``; draw it inside the context returned."""
        pdf = self.pdf
        if self.font is None or (style == "m" and is_latin1(text)):
            pdf.set_font("Courier" if style == "m" else "Helvetica", "B" if style == "h" and self.font is None else "", size)
            return nullcontext()
        pdf.set_font("embedded", "", size)
        if style != "h":
            return nullcontext()
        # in a saved graphics state (q ... Q): the text render mode outlives BT ... ET otherwise
        return pdf.local_context(text_mode="FILL_STROKE", line_width=size * 0.012)


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


def _thumbnails(pdf: Any, pen: _Pen, content: dict[str, Any], photos: dict[str, Path]) -> None:
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
        caption = ev.get("item") or ev["name"]
        with pen("b", 6, caption):
            while caption and pdf.get_string_width(caption) > 30:
                caption = caption[:-1]
            pdf.cell(30, 3, caption)
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
_SHOW = re.compile(rb"/([^\s/<>\[\]()]+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj", re.S)
_ESC = re.compile(rb"\\([0-7]{1,3}|.)", re.S)
_SIMPLE = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_CONTENTS = re.compile(rb"/Contents\s+(\d+)\s+0\s+R")
_FONT_DICT = re.compile(rb"/Font\s*<<(.*?)>>", re.S)
_REF = re.compile(rb"/([^\s/<>\[\]()]+)\s+(\d+)\s+0\s+R")
_TO_UNICODE = re.compile(rb"/ToUnicode\s+(\d+)\s+0\s+R")
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")


def page_text(data: bytes) -> str:
    """The text shown by the pages' content streams (fpdf2's ``(...) Tj``), joined.

    A core font's string is its Latin-1 bytes; an embedded font's are 2-byte
    glyph codes, read through the font's ToUnicode map. This reads the files
    ticketctl writes (classic objects, as fpdf2 puts them), and it checks the
    text layer: what a viewer shows for it is the font's business."""
    refs: dict[bytes, int] = {}
    for block in _FONT_DICT.findall(data):
        refs.update((name, int(num)) for name, num in _REF.findall(block))
    maps: dict[bytes, tuple[int, dict[int, str]] | None] = {}
    out: list[str] = []
    for num in dict.fromkeys(int(n) for n in _CONTENTS.findall(data)):  # the pages, in order
        current: tuple[int, dict[int, str]] | None = None
        for m in _SHOW.finditer(_stream(data, num) or b""):
            if m.group(1) is not None:
                name = m.group(1)
                if name not in maps:
                    maps[name] = _to_unicode(data, refs[name]) if name in refs else None
                current = maps[name]
                continue
            raw = _ESC.sub(lambda e: _SIMPLE.get(e.group(1), bytes([int(e.group(1), 8) & 0xFF])
                                                  if e.group(1)[:1].isdigit() else e.group(1)), m.group(2))
            if current is None:
                out.append(raw.decode("latin-1"))
            else:
                width, table = current
                out.append("".join(table.get(int.from_bytes(raw[i:i + width], "big"), "")
                                   for i in range(0, len(raw), width)))
    return "".join(out)


def _object(data: bytes, num: int) -> tuple[int, int] | None:
    """Where object ``num``'s body starts and ends (its last definition)."""
    starts = list(re.finditer(rb"(?:^|[\r\n])%d 0 obj\b" % num, data))
    if not starts:
        return None
    start = starts[-1].end()
    end = data.find(b"endobj", start)
    return start, len(data) if end < 0 else end


def _stream(data: bytes, num: int) -> bytes | None:
    """Object ``num``'s stream, inflated when it is compressed."""
    at = _object(data, num)
    m = _STREAM.search(data, at[0]) if at else None
    if at is None or m is None or m.start() > at[1]:
        return None
    raw = data[m.end():m.end() + int(m.group(1))]
    try:
        return zlib.decompress(raw)
    except zlib.error:
        return raw


def _to_unicode(data: bytes, font_num: int) -> tuple[int, dict[int, str]] | None:
    """(code length in bytes, code -> text) of a font's ToUnicode CMap; None for a font without one."""
    at = _object(data, font_num)
    head = data[at[0]:at[1]].split(b"stream", 1)[0] if at else b""
    ref = _TO_UNICODE.search(head)
    cmap = _stream(data, int(ref.group(1))) if ref else None
    if cmap is None:
        return None
    space = re.search(rb"begincodespacerange\s*<([0-9A-Fa-f]+)>", cmap)
    width = len(space.group(1)) // 2 if space else 2
    table: dict[int, str] = {}

    def text(hexa: bytes) -> str:
        return bytes.fromhex(hexa.decode("ascii")).decode("utf-16-be", "replace")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        codes = _HEX.findall(block)
        table.update((int(src, 16), text(dst)) for src, dst in zip(codes[::2], codes[1::2], strict=False))
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for m in re.finditer(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])", block):
            lo, hi = int(m.group(1), 16), int(m.group(2), 16)
            if m.group(3).startswith(b"["):
                table.update((lo + i, text(d)) for i, d in enumerate(_HEX.findall(m.group(3))))
            else:
                first = bytes.fromhex(m.group(3)[1:-1].decode("ascii"))
                for i in range(min(hi - lo + 1, 0x10000)):
                    dst = (int.from_bytes(first, "big") + i).to_bytes(len(first), "big")
                    table[lo + i] = dst.decode("utf-16-be", "replace")
    return width, table


def visible_values(content: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """The signed facts the page shows, line by line as :func:`visible_lines`
    prints them, each as (field, value): what :func:`text_matches` looks for.

    Values, not whole lines: a line's labels come from the issuer's catalog,
    which may be reworded or translated anew after the certificate was issued;
    the facts cannot change."""
    t = content["ticket"]
    lines: list[list[tuple[str, str]]] = [
        [("cert_id", content["cert_id"]), ("issued_at", content["issued_at"]), ("issuer", content["issuer"])],
        [("ticket.key", t["key"]), ("ticket.title", t["title"])],
        [("ticket.type", t["type"]), ("ticket.dept", t["dept"]), ("ticket.product", t["product"]),
         ("ticket.fault", t.get("fault") or ""), ("ticket.priority", t["priority"])],
        [("ticket.customer", t.get("customer") or "-")],
        [("ticket.created_at", t["created_at"]), ("ticket.resolved_at", t.get("resolved_at") or "-"),
         ("ticket.closed_at", t.get("closed_at") or "-")],
        *([("timeline.at", s["at"]), ("timeline.step", s["step"]), ("timeline.by", s["by"])] for s in content["timeline"]),
    ]
    for c in content["checklist"]:
        lines.append([("checklist.item", c["item"]), ("checklist.at", c["at"] or "-"), ("checklist.by", c["by"] or "-")])
        lines += [[("evidence.sha256", h)] for h in c["evidence"]]
    lines += [[("evidence.sha256", ev["sha256"]), ("evidence.name", ev["name"])] for ev in content["evidence"] if not ev.get("item")]
    lines += [[("evidence.name", ev["name"])] for ev in content["evidence"] if ev.get("flag")]
    conf = content.get("confirmation")
    if conf:
        lines.append([(f"confirmation.ratings.{k}", f"{conf['ratings'][k]}/5") for k in RATING_LABELS])
        lines.append([("confirmation.comment", conf["comment"])])
        lines.append([("confirmation.by", conf["by"]), ("confirmation.via", conf["via"].replace("_", " ")),
                      ("confirmation.at", conf["at"])])
    lines.append([("technician", content["technician"] or "-"), ("key_id", content["key_id"])])
    if "lang" not in content:  # issued before embedded fonts: the core font printed "?" for the rest
        return [[(f, latin1(v)) for f, v in line] for line in lines]
    return lines


def text_matches(data: bytes, content: dict[str, Any]) -> tuple[str, str] | None:
    """None when every signed fact of ``content`` is on the page, line after
    line, else the first missing one as (field, value).

    The facts of one line may stand in any order (a translation may reorder a
    sentence's placeholders), each at its own place; the next line's facts
    are looked for after the last of them, so a rating moved or changed shows::

        page:   ... Problem solved 1/5, Professional 4/5, On time 5/5 ...
        want:   5/5 (solved), 4/5, 5/5  -> the second 5/5 is missing
    """
    shown = re.sub(r"\s+", "", page_text(data))
    pos = 0
    for line in visible_values(content):
        used: list[tuple[int, int]] = []
        for field, value in line:
            want = re.sub(r"\s+", "", value)
            at = shown.find(want, pos)
            while at >= 0 and any(a <= at < b or at <= a < at + len(want) for a, b in used if want):
                at = shown.find(want, at + 1)
            if at < 0:
                return field, value
            used.append((at, at + len(want)))
        pos = max((b for _a, b in used), default=pos)
    return None

"""The certificate as a PDF: fpdf2 draws the page (real text, photo
thumbnails), then the QR code and the printed signature are drawn over it by
:mod:`cert_page`'s own writer, and the signed payload and the content it signs
go into the XMP metadata.

Issuing (:func:`make`) runs in this order, because the signed content
describes the page::

    content -> draw the base (fpdf2) -> page records (cert_page) -> content + pages
            -> sign -> payload -> overlay (QR, signature) + XMP + Info -> PDF

Verifying reads the file with pypdf and compares the pages with what the
content signed (:func:`cert_page.check`); it never draws the page again, so a
certificate stays valid after fpdf2, a font or the message catalog changes.
It also reads the page text back (:func:`page_text`) and checks every signed
fact is there, line after line (:func:`text_matches`): the one check
certificates from before page records get, and for newer ones a check that
what the issuer signed as content is what its page says.

Labels (headings, field names) are in the certificate's language, the content's
``lang`` (the issuer's language), and the data is printed exactly as signed.
Text all in Latin-1 uses the PDF core fonts (nothing embedded: an English
certificate needs no font installed). Any other character (Chinese labels or
data) switches the whole page to an embedded font, subset to the characters
used, with a ToUnicode map so the text extracts (``cert_fonts.font_for`` finds
it: ``proof.font``, the Noto Sans CJK package ticketctl installs, then the system's CJK fonts).
Without one that has every character, issuing is refused: the page never prints
``?`` for what the signature covers. Certificates from before ``lang`` existed
printed ``?`` for non-Latin-1 characters and are read back that way.

fpdf2, fontTools, Pillow, qrcode and pypdf are imported inside the functions that use them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from ticketctl import i18n
from ticketctl.core.certificate import RATING_LABELS, shown_as
from ticketctl.errors import Refused
from ticketctl.i18n import _
from ticketctl.services.cert_fonts import Font, font_for, is_latin1


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
        ("b", _("{key}: {title}").format(key=t["key"], title=t["title"])),
        ("b", _("{type} in {where}, priority {priority}").format(
            type=shown_as(content, "type", t["type"]), where=where, priority=shown_as(content, "priority", t["priority"]))),
        ("b", _("Customer: {customer}").format(customer=t.get("customer") or "-")),
        ("b", _("Created {created}, resolved {resolved}, closed {closed}").format(
            created=t["created_at"], resolved=t.get("resolved_at") or "-", closed=t.get("closed_at") or "-")),
        ("h", _("Timeline")),
        *(("b", _("{at}  {step} by {by}").format(at=s["at"], step=shown_as(content, "event", s["step"]), by=s["by"]))
          for s in content["timeline"]),
        ("h", _("Checklist")),
    ]
    for c in content["checklist"]:
        out.append(("b", _("[x] {item} checked {at} by {by}").format(
            item=shown_as(content, "checklist", c["item"]), at=c["at"] or "-", by=c["by"] or "-")))
        out += [("m", _("evidence sha256 {sha256}").format(sha256=h)) for h in c["evidence"]]
    loose = [ev for ev in content["evidence"] if not ev.get("item")]
    out += [("m", _("evidence sha256 {sha256} ({name})").format(sha256=ev["sha256"], name=ev["name"])) for ev in loose]
    flagged = [ev for ev in content["evidence"] if ev.get("flag")]
    out += [("b", _("flagged: {name} has no capture time").format(name=ev["name"])) for ev in flagged]
    conf = content.get("confirmation")
    out.append(("h", _("Customer confirmation")))
    if conf:
        out.append(("b", _(", ").join(_("{label} {rating}/5").format(label=_(label), rating=conf["ratings"][k])
                                      for k, label in RATING_LABELS.items())))
        out.append(("b", _('"{comment}"').format(comment=conf["comment"])))
        out.append(("b", _("Confirmed by {by} ({via}) at {at}").format(by=conf["by"], via=_via(content), at=conf["at"])))
    else:
        out.append(("b", _("Not required for this ticket type; none given.")))
    out += [("h", _("Technician")), ("b", _("{technician}, signed with device key {key_id}").format(
        technician=content["technician"] or "-", key_id=content["key_id"]))]
    if "lang" not in content:  # issued before embedded fonts: the core font printed "?" for the rest
        return [(style, latin1(text)) for style, text in out]
    return out


def _via(content: dict[str, Any]) -> str:
    """How the customer confirmed, as the page says it: the signed label, else the mode with spaces (``in person``)."""
    via = content["confirmation"]["via"]
    return shown_as(content, "confirm", via) if f"confirm.{via}" in (content.get("labels") or {}) else via.replace("_", " ")


def caption(content: dict[str, Any], ev: dict[str, Any]) -> str:
    """A photo's caption: the checklist item it proves (its label), else its file name."""
    return shown_as(content, "checklist", ev.get("item")) or ev["name"]


def _fixed(content: dict[str, Any]) -> dict[str, str]:
    """The page's fixed texts besides :func:`visible_lines`, in the certificate's language."""
    _ = _labels(content)  # the certificate's language, as in visible_lines
    return {"title": _("Service certificate"),
            "doc_title": _("Service certificate {cert_id}").format(cert_id=content["cert_id"]),
            "subject": _("Ticket {key}").format(key=content["ticket"]["key"]),
            "signature": _("Signature (Ed25519)"),
            "footer": _("Scan the QR code or run `ticketctl cert verify` on this file to check this certificate.")}


def printed_text(content: dict[str, Any]) -> str:
    """Every text the base page prints (photo captions included), for choosing
    its font. The signature is printed by the overlay, in Courier (it is ASCII)."""
    fixed = _fixed(content)
    return "\n".join([fixed["title"], *(text for _style, text in visible_lines(content)),
                      *(caption(content, ev) for ev in content["evidence"]),
                      fixed["signature"], fixed["footer"]])


#: where the QR code goes on the first page (mm from the top left: x, y, side)
QR_AT = (150.0, 10.0, 50.0)
#: the printed signature's size (pt) and line height (mm)
SIG_SIZE, SIG_LINE = 7.0, 4.0


def make(content: dict[str, Any], sign: Callable[[dict[str, Any]], str], photos: dict[str, Path],
         font: Font | None = None, url: str | None = None) -> tuple[dict[str, Any], str, bytes]:
    """Issue a certificate's PDF: draw the base page from ``content``, add what
    it signs about the pages, let ``sign`` turn that content into the payload,
    then finish the file. Returns (the signed content, the payload, the PDF).

    ``photos`` maps an evidence sha256 to its blob, for thumbnails (missing
    blobs are simply not drawn). ``font`` is ``cert_fonts.font_for`` of
    :func:`printed_text`; None: looked for here, with no ``proof.font``.
    ``url``: the server the QR code points to (None: the bare payload).
    Refused when the text needs a font and none has it all."""
    from ticketctl.services import cert_page

    if font is None:
        font = font_for(printed_text(content))
    base, layout = draw(content, photos, font, url)
    signed = {**content, "v": 2, **layout, "pages": cert_page.page_records(base)}
    payload = sign(signed)
    return signed, payload, finish(base, signed, payload)


def draw(content: dict[str, Any], photos: dict[str, Path], font: Font | None, url: str | None = None,
         ) -> tuple[bytes, dict[str, Any]]:
    """The base PDF: everything known before signing (text, thumbnails, fonts),
    with room left for the QR code and the signature; and what the content
    gains about it: ``info`` (the Title and Subject a viewer shows) and
    ``overlay`` (where the QR code and the signature go, in PDF points)."""
    from datetime import datetime

    from fpdf import FPDF

    fixed = _fixed(content)
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(fixed["doc_title"])
    pdf.set_subject(fixed["subject"])
    pdf.set_creator("ticketctl")
    pdf.set_creation_date(datetime.fromisoformat(content["issued_at"].replace("Z", "+00:00")))
    pen = _Pen(pdf, font)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    with pen("h", 18):
        pdf.cell(130, 10, fixed["title"], new_x="LMARGIN", new_y="NEXT")
    width = 130.0
    for style, text in visible_lines(content):
        if style == "h":
            pdf.ln(2)
        with pen(style, {"h": 12, "m": 7}.get(style, 10), text):
            _lines(pdf, width, 5 if style != "m" else 4, text)
        if pdf.get_y() > QR_AT[1] + QR_AT[2] + 2:
            width = 0  # below the QR code: the full width
    _thumbnails(pdf, pen, content, photos)
    pdf.ln(4)
    if pdf.get_y() > pdf.h - pdf.b_margin - 22:  # the heading, the signature and the footer stay together
        pdf.add_page()
    with pen("h", 10):
        pdf.cell(0, 5, fixed["signature"], new_x="LMARGIN", new_y="NEXT")
    sig_page, sig_y = pdf.page - 1, pdf.get_y()
    pdf.set_y(sig_y + SIG_LINE)  # the signature's line: the overlay prints it
    with pen("b", 8, fixed["footer"]):
        _lines(pdf, 0, 4, fixed["footer"])
    k, (qx, qy, side) = pdf.k, QR_AT
    baseline = sig_y + SIG_LINE / 2 + 0.3 * SIG_SIZE / k  # where fpdf2 would put a cell's text
    overlay = {"qr": {"page": 0, "rect": [round(v * k, 2) for v in (qx, pdf.h - qy - side, side, side)], "url": url or None},
               "signature": {"page": sig_page, "at": [round((pdf.l_margin + pdf.c_margin) * k, 2),
                                                       round((pdf.h - baseline) * k, 2)], "size": SIG_SIZE}}
    return bytes(pdf.output()), {"info": {"title": fixed["doc_title"], "subject": fixed["subject"]}, "overlay": overlay}


def finish(base: bytes, content: dict[str, Any], payload: str) -> bytes:
    """The certificate's file: ``base`` with the overlay drawn over its pages
    (a content stream of its own and the resources it names, see
    :func:`cert_page.overlay_stream`) and the XMP packet of ``payload`` and ``content``."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, BooleanObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject

    from ticketctl.services import cert_page

    writer = PdfWriter(clone_from=cert_page.open_pdf(base))
    overlay, sig_b64 = content["overlay"], payload.rsplit(".", 1)[1]
    for i, page in enumerate(writer.pages):
        stream = cert_page.overlay_stream(overlay, sig_b64, i)
        if not stream:
            continue
        base_res: Any = page["/Resources"].get_object()
        res = DictionaryObject(base_res)
        if overlay["qr"]["page"] == i:
            n, bits = cert_page.qr_image_bytes(cert_page.qr_modules(cert_page.qr_text(overlay, payload)))
            image = DecodedStreamObject()
            image.set_data(bits)
            image.update({NameObject(k): NameObject(v) if isinstance(v, str) else BooleanObject(v) if isinstance(v, bool)
                          else NumberObject(v) for k, v in cert_page.qr_image_dict(n).items()})
            xobjects = DictionaryObject(res.get("/XObject", DictionaryObject()).get_object())
            xobjects[NameObject(cert_page.QR_NAME)] = writer._add_object(image.flate_encode(level=9))
            res[NameObject("/XObject")] = xobjects
        if overlay["signature"]["page"] == i:
            fonts = DictionaryObject(res.get("/Font", DictionaryObject()).get_object())
            fonts[NameObject(cert_page.SIG_NAME)] = writer._add_object(
                DictionaryObject({NameObject(k): NameObject(v) for k, v in cert_page.SIG_FONT.items()}))
            res[NameObject("/Font")] = fonts
        page[NameObject("/Resources")] = res
        drawn = DecodedStreamObject()
        drawn.set_data(stream)
        before = page.raw_get("/Contents")
        parts = list(before.get_object()) if isinstance(before.get_object(), ArrayObject) else [before]
        page[NameObject("/Contents")] = ArrayObject([*parts, writer._add_object(drawn.flate_encode(level=9))])
    packet = DecodedStreamObject()
    packet.set_data(cert_page.xmp(payload, content))
    packet.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    writer.root_object[NameObject("/Metadata")] = writer._add_object(packet)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _lines(pdf: Any, width: float, height: float, text: str) -> None:
    """``text`` in lines ``width`` wide (0: to the right margin) from the left
    margin down. Latin-1 text as fpdf2 wraps it; any other (Chinese) by the
    rule of :mod:`cert_lines`: no line starts with a closing mark or ends with an opening one."""
    if is_latin1(text):
        pdf.multi_cell(width, height, text, align="L", new_x="LMARGIN", new_y="NEXT")
        return
    from ticketctl.services.cert_lines import wrap

    w = width or pdf.w - pdf.r_margin - pdf.x
    for line in wrap(text, w - 2 * pdf.c_margin, pdf.get_string_width):
        pdf.cell(w, height, line, align="L", new_x="LMARGIN", new_y="NEXT")


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
        text = caption(content, ev)
        with pen("b", 6, text):
            while text and pdf.get_string_width(text) > 30:
                text = text[:-1]
            pdf.cell(30, 3, text)
        x += 34
    pdf.set_xy(pdf.l_margin, y + 36)


# -- reading back ------------------------------------------------------------------


def read_embedded(data: bytes) -> tuple[str, dict[str, Any]] | None:
    """(payload, content) from a certificate PDF's XMP metadata; None when
    absent or when the file cannot be read."""
    from ticketctl.services import cert_page

    try:
        return cert_page.embedded(cert_page.metadata(cert_page.open_pdf(data)))
    except cert_page.Unreadable:
        return None


def page_text(data: bytes) -> str:
    """The text the pages show, in drawing order, joined (pypdf reads it,
    through each embedded font's ToUnicode map). It checks the text layer: what
    a viewer shows for it is the font's business, and the page records'.

    fpdf2 gives an embedded font an embedded identity CMap as its encoding,
    which pypdf does not read (it would take the codes for single bytes); the
    codes are 2 bytes wide there, so such a font is read as ``/Identity-H``, in
    this reader's memory only (ToUnicode maps codes, not glyphs: only their
    width matters here)."""
    from pypdf.generic import NameObject, StreamObject

    from ticketctl.services import cert_page

    reader = cert_page.open_pdf(data)
    for page in reader.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        for ref in (fonts.get_object().values() if fonts is not None else []):
            font = ref.get_object()
            encoding = font.get("/Encoding")
            cmap = encoding.get_object() if encoding is not None else None
            if font.get("/Subtype") == "/Type0" and isinstance(cmap, StreamObject) and _two_byte_codes(cmap.get_data()):
                font[NameObject("/Encoding")] = NameObject("/Identity-H")
    return "".join(page.extract_text() or "" for page in reader.pages)


def _two_byte_codes(cmap: bytes) -> bool:
    """Whether a CMap's code space ranges are all 2 bytes wide (``<0000> <FFFF>``)."""
    ranges = re.findall(rb"begincodespacerange(.*?)endcodespacerange", cmap, re.S)
    codes = [c for block in ranges for c in re.findall(rb"<([0-9A-Fa-f]*)>", block)]
    return bool(codes) and all(len(c) == 4 for c in codes)


def visible_values(content: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """The signed facts the page shows, line by line as :func:`visible_lines`
    prints them, each as (field, value): what :func:`text_matches` looks for.

    Values, not whole lines: a line's labels come from the issuer's catalog,
    which may be reworded or translated anew after the certificate was issued;
    the facts cannot change. An identifier (type, priority, step, checklist
    item, confirmation mode) is looked for as the page shows it: its label as
    signed in the content's ``labels`` (:func:`ticketctl.core.certificate.shown_as`)."""
    t = content["ticket"]
    lines: list[list[tuple[str, str]]] = [
        [("cert_id", content["cert_id"]), ("issued_at", content["issued_at"]), ("issuer", content["issuer"])],
        [("ticket.key", t["key"]), ("ticket.title", t["title"])],
        [("ticket.type", shown_as(content, "type", t["type"])), ("ticket.dept", t["dept"]), ("ticket.product", t["product"]),
         ("ticket.fault", t.get("fault") or ""), ("ticket.priority", shown_as(content, "priority", t["priority"]))],
        [("ticket.customer", t.get("customer") or "-")],
        [("ticket.created_at", t["created_at"]), ("ticket.resolved_at", t.get("resolved_at") or "-"),
         ("ticket.closed_at", t.get("closed_at") or "-")],
        *([("timeline.at", s["at"]), ("timeline.step", shown_as(content, "event", s["step"])), ("timeline.by", s["by"])]
          for s in content["timeline"]),
    ]
    for c in content["checklist"]:
        lines.append([("checklist.item", shown_as(content, "checklist", c["item"])), ("checklist.at", c["at"] or "-"),
                      ("checklist.by", c["by"] or "-")])
        lines += [[("evidence.sha256", h)] for h in c["evidence"]]
    lines += [[("evidence.sha256", ev["sha256"]), ("evidence.name", ev["name"])] for ev in content["evidence"] if not ev.get("item")]
    lines += [[("evidence.name", ev["name"])] for ev in content["evidence"] if ev.get("flag")]
    conf = content.get("confirmation")
    if conf:
        lines.append([(f"confirmation.ratings.{k}", f"{conf['ratings'][k]}/5") for k in RATING_LABELS])
        lines.append([("confirmation.comment", conf["comment"])])
        lines.append([("confirmation.by", conf["by"]), ("confirmation.via", _via(content)),
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

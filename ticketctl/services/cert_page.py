"""A certificate's pages as signed: what issuing records about them and what
verifying compares, read with pypdf.

Why page digests: a certificate is what the page shows. Checking that the
signed facts appear somewhere in the page text (what ticketctl did before)
says nothing about what else is drawn: a white box over a rating with "1/5"
on top, an added "VOID", text made invisible or white, a second page, a
replaced photo all kept that text. Rendering the page and comparing pixels
would tie every verifier to one renderer and one font stack. Regenerating the
page with fpdf2 at verify time would tie a certificate to fpdf2's version and
to the message catalog of the day. So the issuer signs the page itself, as
data that is independent of how a PDF writer stores it::

    page = base (drawn before signing)        + overlay (derived from the payload)
           text, thumbnails, fonts                the QR image, the printed signature
           -> digests in the signed content        -> regenerated here, compared

* the base content stream, decoded (filters and compression do not matter);
* its resources, canonicalised (:func:`canon`): streams by the hash of their
  decoded data, references resolved, so object numbers, object streams and
  compression do not matter; each image's hash listed too, to name a
  replaced photo;
* the page's geometry (MediaBox, CropBox, Rotate, UserUnit) and its
  transparency group;
* document-wide: the page count, the Info Title and Subject (a viewer shows
  them) and the XMP packet, which must be exactly the one :func:`xmp` writes
  for this payload and content (a viewer may show its fields, and it carries
  the signed content).

The overlay can't be signed, since it shows the signature, so it is
regenerated from the payload and the signed layout by the small writer here
(:func:`overlay_stream`) and compared byte for byte, and the QR image (one
pixel per module) is compared module by module with the QR codes of the
payload's text under each of the 8 masks (a QR library may choose another
mask; :func:`qr_holds`), else read by zxing-cpp when it is installed. Anything
else a viewer would show is refused: annotations and forms, content streams,
resources or pages that were not signed, actions and attachments.

What stays valid: the same file re-saved by a PDF writer that keeps what
each page draws (pypdf, qpdf with object streams), and an incremental update
of metadata nobody reads as the certificate (``/Producer``).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zlib
from typing import Any

from ticketctl.core.message import Message, msg
from ticketctl.i18n import N_

#: the overlay's resources, under names fpdf2 never uses: (resource kind, name)
QR_NAME, SIG_NAME = "/TkcQR", "/TkcSig"
#: the QR code's quiet zone, in modules (part of the image)
QR_BORDER = 4
#: the overlay's font: a PDF core font, nothing embedded
SIG_FONT = {"/Type": "/Font", "/Subtype": "/Type1", "/BaseFont": "/Courier", "/Encoding": "/WinAnsiEncoding"}
NS = "https://ticketctl.dev/ns/certificate/1/"

#: what a catalog may hold; anything else (a form, actions, attachments, outlines, a structure tree) was not signed
CATALOG_KEYS = {"/Type", "/Pages", "/Metadata", "/OpenAction", "/PageLayout", "/PageMode", "/ViewerPreferences", "/Lang",
                "/MarkInfo", "/Version", "/Extensions"}
#: what a page may hold; the boxes a viewer does not show and bookkeeping are allowed, the rest is digested or refused
PAGE_KEYS = {"/Type", "/Parent", "/Resources", "/Contents", "/MediaBox", "/CropBox", "/Rotate", "/UserUnit", "/Group",
             "/BleedBox", "/TrimBox", "/ArtBox", "/StructParents", "/Tabs", "/LastModified", "/PieceInfo", "/Metadata"}
#: filters that only pack data; an image codec (DCT, JPX, CCITT, JBIG2) is part of what the stream is
_PACKING = {"/FlateDecode", "/Fl", "/LZWDecode", "/LZW", "/ASCIIHexDecode", "/AHx", "/ASCII85Decode", "/A85",
            "/RunLengthDecode", "/RL"}
_STREAM_KEYS = {"/Length", "/Filter", "/DecodeParms", "/DL"}


class Unreadable(Exception):
    """The file cannot be read as a PDF; ``args[0]`` is the reason (a Message).
    ``pdf``: it begins as a PDF does (else it is something else altogether);
    ``truncated``: it does not end as a PDF ends."""

    def __init__(self, reason: Message, pdf: bool = True, truncated: bool = False):
        super().__init__(reason)
        self.pdf, self.truncated = pdf, truncated


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def open_pdf(data: bytes) -> Any:
    """A pypdf reader of ``data``, read strictly: a truncated or damaged file is
    Unreadable (a lenient reader would rebuild it from what is left)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    _quiet()
    if b"%PDF-" not in data[:1024]:
        raise Unreadable(msg(N_("the file is not a PDF")), pdf=False)
    if not data.rstrip(b"\r\n\t\f\0 ").endswith(b"%%EOF"):
        raise Unreadable(msg(N_("the file is truncated (it does not end as a PDF ends)")), truncated=True)
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        if reader.is_encrypted:
            raise Unreadable(msg(N_("the file is encrypted (a certificate never is)")))
        len(reader.pages)
        reader.trailer["/Root"].get_object()
    except Unreadable:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, zlib.error) as e:
        raise Unreadable(msg(N_("the file is damaged ({error})"), error=str(e) or type(e).__name__)) from None
    return reader


def _quiet() -> None:
    """pypdf logs what it finds odd in a file (to stderr, through logging's last
    resort); a verdict says what matters, once, in ticketctl's words."""
    import logging

    log = logging.getLogger("pypdf")
    if not log.handlers:
        log.addHandler(logging.NullHandler())
        log.propagate = False


# -- the embedded payload and content ---------------------------------------------------


def xmp(payload: str, content: dict[str, Any]) -> bytes:
    """The XMP packet of a certificate: its payload and its content (base64url
    of the canonical JSON); nothing else, so nothing else can be shown from it."""
    import base64

    from ticketctl.core.certificate import canonical

    blob = base64.urlsafe_b64encode(canonical(content)).decode("ascii")
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about="" xmlns:tkc="{NS}"><tkc:payload>{payload}</tkc:payload>'
            f"<tkc:content>{blob}</tkc:content></rdf:Description></rdf:RDF></x:xmpmeta>\n"
            '<?xpacket end="r"?>').encode()


_PAYLOAD = re.compile(rb"<tkc:payload>([^<]*)</tkc:payload>")
_CONTENT = re.compile(rb"<tkc:content>([^<]*)</tkc:content>")


def metadata(reader: Any) -> bytes | None:
    """The document's XMP packet (the catalog's ``/Metadata``, decoded); None without one."""
    ref = reader.trailer["/Root"].get_object().get("/Metadata")
    if ref is None:
        return None
    try:
        return bytes(ref.get_object().get_data())
    except Exception:  # noqa: BLE001 - pypdf raises many kinds for a stream it cannot decode
        return None


def embedded(packet: bytes | None) -> tuple[str, dict[str, Any]] | None:
    """(payload, content) from an XMP packet; None when it holds no certificate."""
    import base64

    payloads, contents = _PAYLOAD.findall(packet or b""), _CONTENT.findall(packet or b"")
    if len(payloads) != 1 or len(contents) != 1:
        return None
    try:
        content = json.loads(base64.urlsafe_b64decode(contents[0]))
        return payloads[0].decode("ascii"), content
    except (ValueError, UnicodeDecodeError):
        return None


# -- canonical form ------------------------------------------------------------------------


def canon(obj: Any, _path: tuple[int, ...] = ()) -> Any:
    """A PDF object as JSON-able data that does not depend on how it is stored:
    references resolved, dictionaries by key, numbers as numbers (``1`` and
    ``1.0`` alike), strings as the hex of their bytes, names as ``/Name``, and
    a stream as its dictionary (less the keys that say how it is packed) with
    the SHA-256 of its decoded data. An image codec (JPEG, ...) is kept, with
    its encoded bytes: decoding it is not exact. ValueError on a reference cycle."""
    from pypdf.generic import (
        ArrayObject,
        BooleanObject,
        ByteStringObject,
        DictionaryObject,
        FloatObject,
        IndirectObject,
        NameObject,
        NullObject,
        NumberObject,
        StreamObject,
        TextStringObject,
    )

    if isinstance(obj, IndirectObject):
        if obj.idnum in _path or len(_path) > 32:
            raise ValueError("reference cycle")
        return canon(obj.get_object(), (*_path, obj.idnum))
    if isinstance(obj, StreamObject):
        filters = obj.get("/Filter")
        names = [str(f) for f in (filters if isinstance(filters, ArrayObject) else [filters] if filters else [])]
        head = {str(k): canon(v, _path) for k, v in obj.items() if k not in _STREAM_KEYS}
        if all(f in _PACKING for f in names):
            return {"stream": head, "data": sha(bytes(obj.get_data()))}
        head["/Filter"] = names
        head["/DecodeParms"] = canon(obj.get("/DecodeParms"), _path)
        return {"stream": head, "raw": sha(bytes(obj._data))}
    if isinstance(obj, DictionaryObject):
        return {str(k): canon(v, _path) for k, v in obj.items()}
    if isinstance(obj, ArrayObject):
        return [canon(v, _path) for v in obj]
    if isinstance(obj, NameObject):
        return str(obj)
    if isinstance(obj, BooleanObject):
        return bool(obj.value)
    if isinstance(obj, NumberObject | FloatObject | int | float):
        return number(obj)
    if isinstance(obj, TextStringObject | ByteStringObject):
        raw = obj.get_original_bytes() if isinstance(obj, TextStringObject) else bytes(obj)
        return {"s": raw.hex()}
    if obj is None or isinstance(obj, NullObject):
        return None
    raise ValueError(f"unexpected PDF object {type(obj).__name__}")


def number(value: Any) -> int | float:
    """A PDF number as JSON: an integer when it is one, else rounded to 1/10000 of a unit."""
    f = round(float(value), 4)
    return int(f) if f == int(f) else f


def digest(data: Any) -> str:
    return sha(json.dumps(data, sort_keys=True, separators=(",", ":")).encode("ascii"))


def _without_overlay(resources: dict[str, Any]) -> dict[str, Any]:
    """Canonical resources less the overlay's two names (and a kind left empty, or
    that was: the overlay may have added the page's first image or font)."""
    out = dict(resources)
    for kind, name in (("/XObject", QR_NAME), ("/Font", SIG_NAME)):
        if isinstance(out.get(kind), dict):
            out[kind] = {k: v for k, v in out[kind].items() if k != name}
            if not out[kind]:
                del out[kind]
    return out


def _images(resources: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """name -> digest of every image a page's resources hold (inside forms too)."""
    out: dict[str, str] = {}
    xobjects = resources.get("/XObject")
    for name, x in sorted(xobjects.items() if isinstance(xobjects, dict) else []):
        head = x.get("stream", {}) if isinstance(x, dict) else {}
        if head.get("/Subtype") == "/Image":
            out[prefix + name] = digest(x)
        elif head.get("/Subtype") == "/Form" and isinstance(head.get("/Resources"), dict):
            out.update(_images(head["/Resources"], f"{prefix}{name}"))
    return out


def geometry(page: Any) -> dict[str, Any]:
    """What places the page on screen: its boxes (as a viewer takes them), rotation, unit and transparency group."""
    return {"media": [number(v) for v in page.mediabox], "crop": [number(v) for v in page.cropbox],
            "rotate": int(page.rotation) % 360, "user_unit": number(page.user_unit),
            "group": canon(page.get("/Group"))}


def _streams(page: Any) -> list[bytes]:
    """The decoded content streams of a page, in order."""
    from pypdf.generic import ArrayObject

    contents = page.get("/Contents")
    if contents is None:
        return []
    contents = contents.get_object()
    parts = list(contents) if isinstance(contents, ArrayObject) else [contents]
    return [bytes(p.get_object().get_data()) for p in parts]


def drawing_digest(data: bytes) -> str:
    """The digest of a base content stream: its decoded bytes, less trailing white space."""
    return sha(data.rstrip(b"\r\n\t\f\0 "))


def page_record(page: Any) -> dict[str, Any]:
    """What the signed content says of one base page (issuing; see the module doc)."""
    resources = canon(page.get("/Resources")) or {}
    return {"drawing": drawing_digest(b"\n".join(_streams(page))), "resources": digest(_without_overlay(resources)),
            "images": _images(_without_overlay(resources)), "geometry": digest(geometry(page))}


def page_records(pdf: bytes) -> list[dict[str, Any]]:
    """The records of every page of a base PDF, in order."""
    return [page_record(p) for p in open_pdf(pdf).pages]


# -- the overlay -------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:.2f}"


def overlay_stream(overlay: dict[str, Any], signature_b64: str, page: int) -> bytes:
    """The content stream drawn over page ``page`` (0-based) after signing: the
    QR image and the printed signature, where the signed ``overlay`` says. Every
    state it uses is set here, inside ``q ... Q``: the base leaves none behind."""
    ops: list[str] = []
    qr = overlay["qr"]
    if qr["page"] == page:
        x, y, w, h = qr["rect"]
        ops.append(f"q {_n(w)} 0 0 {_n(h)} {_n(x)} {_n(y)} cm {QR_NAME} Do Q")
    sig = overlay["signature"]
    if sig["page"] == page:
        if not re.fullmatch(r"[A-Za-z0-9_-]*", signature_b64):
            raise ValueError("a signature is base64url")
        x, y = sig["at"]
        ops.append(f"q 0 g BT {SIG_NAME} {_n(sig['size'])} Tf 0 Tr 100 Tz 0 Tc 0 Tw 0 Ts 0 TL "
                   f"{_n(x)} {_n(y)} Td ({signature_b64}) Tj ET Q")
    return ("\n".join(ops) + "\n").encode("ascii") if ops else b""


def qr_modules(text: str, mask: int | None = None, version: int | None = None) -> list[list[bool]]:
    """The QR code (level M, one byte-mode segment) of ``text``: rows of dark
    modules, no quiet zone. ``mask`` and ``version``: those, else the library's choice."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M, border=0, mask_pattern=mask)
    qr.add_data(text, optimize=0)
    qr.make(fit=version is None)
    return [[bool(m) for m in row] for row in qr.get_matrix()]


def qr_image_bytes(modules: list[list[bool]]) -> tuple[int, bytes]:
    """(size, packed rows) of the QR image: 1 bit a pixel, one pixel a module,
    with the quiet zone; 0 is black (DeviceGray)."""
    n = len(modules) + 2 * QR_BORDER
    rows = []
    for y in range(n):
        bits = [not (QR_BORDER <= y < n - QR_BORDER and QR_BORDER <= x < n - QR_BORDER
                     and modules[y - QR_BORDER][x - QR_BORDER]) for x in range(n)]
        bits += [True] * (-n % 8)
        rows.append(bytes(int("".join("1" if b else "0" for b in bits[i:i + 8]), 2) for i in range(0, len(bits), 8)))
    return n, b"".join(rows)


def qr_image_dict(n: int) -> dict[str, Any]:
    """The QR image's dictionary, as :func:`canon` shows it."""
    return {"/Type": "/XObject", "/Subtype": "/Image", "/Width": n, "/Height": n, "/ColorSpace": "/DeviceGray",
            "/BitsPerComponent": 1, "/Interpolate": False}


def _read_modules(n: int, data: bytes) -> list[list[bool]] | None:
    """The dark modules of a QR image of ``n`` pixels a side; None when its quiet zone is not blank."""
    stride = (n + 7) // 8
    if len(data) != stride * n:
        return None
    dark = [[not (data[y * stride + x // 8] >> (7 - x % 8)) & 1 for x in range(n)] for y in range(n)]
    inner = range(QR_BORDER, n - QR_BORDER)
    if any(dark[y][x] for y in range(n) for x in range(n) if y not in inner or x not in inner):
        return None
    return [[dark[y][x] for x in inner] for y in inner]


def qr_holds(modules: list[list[bool]], text: str) -> bool | None:
    """Whether a QR module matrix holds ``text``: True when it is the code of
    ``text`` under one of the 8 masks, else what zxing-cpp reads from it
    (None when it is not installed, to say "not known")."""
    size = len(modules)
    version = (size - 17) // 4
    if 1 <= version <= 40 and size == 17 + 4 * version:
        if any(qr_modules(text, mask, version) == modules for mask in range(8)):
            return True
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:
        return None
    scale, n = 4, size + 2 * QR_BORDER
    im = Image.new("L", (n * scale, n * scale), 255)
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                im.paste(0, ((x + QR_BORDER) * scale, (y + QR_BORDER) * scale, (x + QR_BORDER + 1) * scale,
                             (y + QR_BORDER + 1) * scale))
    codes = zxingcpp.read_barcodes(im)
    return len(codes) == 1 and str(codes[0].text) == text


def qr_text(overlay: dict[str, Any], payload: str) -> str:
    """What the QR code holds: ``{url}/v/{payload}``, or the bare payload when no server URL was known."""
    url = overlay["qr"].get("url")
    return f"{url}/v/{payload}" if url else payload


# -- the check ----------------------------------------------------------------------------


def _pages_changed(count: int, signed: int) -> Message:
    if signed == 1:
        return msg(N_("{count} pages where 1 was signed"), count=count)
    if count == 1:
        return msg(N_("1 page where {signed} were signed"), signed=signed)
    return msg(N_("{count} pages where {signed} were signed"), count=count, signed=signed)


def check(reader: Any, payload: str, content: dict[str, Any]) -> Message | None:
    """None when the PDF shows exactly what ``content`` signed, else what changed."""
    from pypdf.errors import PyPdfError

    try:
        return _check(reader, payload, content)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, zlib.error) as e:
        return msg(N_("the file is damaged ({error})"), error=str(e) or type(e).__name__)


def _check(reader: Any, payload: str, content: dict[str, Any]) -> Message | None:
    signed = content["pages"]
    pages = reader.pages
    if len(pages) != len(signed):
        return _pages_changed(len(pages), len(signed))
    root = reader.trailer["/Root"].get_object()
    extra = sorted(str(k) for k in root if k not in CATALOG_KEYS)
    if "/OpenAction" in root and not isinstance(root["/OpenAction"].get_object(), list):
        extra.append("/OpenAction")
    if extra:
        return msg(N_("the file has {what} that was not signed (forms, actions or attachments)"), what=", ".join(extra))
    if metadata(reader) != xmp(payload, content):
        return msg(N_("the file's XMP metadata changed"))
    info = reader.metadata or {}
    for key, field, want in (("/Title", N_("title"), content["info"]["title"]),
                             ("/Subject", N_("subject"), content["info"]["subject"]),
                             ("/Author", N_("author"), None), ("/Keywords", N_("keywords"), None)):
        have = info.get(key)
        have = have.get_object() if have is not None else None
        if (str(have) if have is not None else None) != want:
            return msg(N_("the document's {field} changed (it says {value!r})"), field=msg(field), value=str(have or ""))
    sig_b64 = payload.rsplit(".", 1)[1]
    for i, (page, record) in enumerate(zip(pages, signed, strict=True)):
        why = _check_page(page, i, record, content["overlay"], payload, sig_b64)
        if why is not None:
            return why
    return None


def _check_page(page: Any, i: int, record: dict[str, Any], overlay: dict[str, Any], payload: str,
                sig_b64: str) -> Message | None:
    n = i + 1
    extra = sorted(str(k) for k in page if k not in PAGE_KEYS)
    if "/Annots" in extra:
        return msg(N_("page {page} has annotations (notes, stamps or form fields) that were not signed"), page=n)
    if extra:
        return msg(N_("page {page} has {what} that was not signed"), page=n, what=", ".join(extra))
    if digest(geometry(page)) != record["geometry"]:
        return msg(N_("page {page}'s size, crop or rotation changed"), page=n)
    # the drawing: the base's streams, then the overlay's, nothing else
    streams = _streams(page)
    over = overlay_stream(overlay, sig_b64, i)
    joined = b"\n".join(streams)
    base = joined if not over else joined[:len(joined) - len(over)] if joined.endswith(over) else None
    if base is None or drawing_digest(base) != record["drawing"]:
        few = streams[:16]
        pieces = [b"\n".join(few[a:b]) for a in range(len(few)) for b in range(a + 1, len(few) + 1)]
        if any(drawing_digest(p) == record["drawing"] for p in pieces):
            return msg(N_("something was drawn on page {page} that was not signed"), page=n)
        return msg(N_("page {page}'s drawing changed"), page=n)
    # the resources: the base's as signed, the overlay's as the payload makes them
    resources = canon(page.get("/Resources")) or {}
    base_res = _without_overlay(resources)
    if digest(base_res) != record["resources"]:
        images = _images(base_res)
        if any(images.get(name) != h for name, h in record["images"].items()):
            return msg(N_("a photo on page {page} was replaced or removed"), page=n)
        if set(images) - set(record["images"]):
            return msg(N_("an image was added to page {page}"), page=n)
        return msg(N_("page {page}'s fonts or resources changed"), page=n)
    want_qr, want_sig = overlay["qr"]["page"] == i, overlay["signature"]["page"] == i
    xobjects, fonts = resources.get("/XObject") or {}, resources.get("/Font") or {}
    if (SIG_NAME in fonts) != want_sig or (want_sig and fonts[SIG_NAME] != SIG_FONT):
        return msg(N_("the printed signature on page {page} changed"), page=n)
    if (QR_NAME in xobjects) != want_qr:
        return msg(N_("the QR code on page {page} changed"), page=n)
    if want_qr:
        return _check_qr(page, n, qr_text(overlay, payload))
    return None


def _check_qr(page: Any, n: int, text: str) -> Message | None:
    image = page["/Resources"].get_object()["/XObject"].get_object()[QR_NAME].get_object()
    head = canon(image)["stream"]
    size = head.get("/Width")
    modules = _read_modules(size, bytes(image.get_data())) if isinstance(size, int) and head == qr_image_dict(size) else None
    holds = qr_holds(modules, text) if modules is not None else False
    if holds is None:
        return msg(N_("the QR code on page {page} is not the one this certificate makes (install zxing-cpp to read it)"), page=n)
    if not holds:
        return msg(N_("the QR code on page {page} holds another payload"), page=n)
    return None

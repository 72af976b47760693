"""Ways to change a certificate PDF, as someone holding the file could, with
ordinary PDF libraries (pypdf, and qpdf through pikepdf): draw over a page,
add a page, hide or recolour the text, replace a photo, the metadata or the
QR code, cut the file short; and the harmless ones (re-save it, update its
/Producer). Each takes the file's bytes and returns the changed file's.

Used by the certificate tests on freshly issued certificates and by
``tests/data/cert_tamper/make.py``, which makes the committed corpus.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    StreamObject,
    TextStringObject,
)

from ticketctl.core import certificate
from ticketctl.services import cert_page

HELVETICA = {"/Type": "/Font", "/Subtype": "/Type1", "/BaseFont": "/Helvetica", "/Encoding": "/WinAnsiEncoding"}


def _out(writer: PdfWriter) -> bytes:
    b = io.BytesIO()
    writer.write(b)
    return b.getvalue()


def _name_dict(d: dict[str, str]) -> DictionaryObject:
    return DictionaryObject({NameObject(k): NameObject(v) for k, v in d.items()})


def embedded(data: bytes) -> tuple[str, dict[str, Any]]:
    found = cert_page.embedded(cert_page.metadata(PdfReader(io.BytesIO(data))))
    assert found is not None
    return found


def base_stream(data: bytes, page: int = 0) -> bytes:
    """The first (the base) content stream of a page, decoded."""
    contents = PdfReader(io.BytesIO(data)).pages[page]["/Contents"].get_object()
    first = contents[0] if isinstance(contents, ArrayObject) else contents
    return bytes(first.get_object().get_data())


def where(data: bytes, text: str, page: int = 0) -> tuple[float, float]:
    """Where the base stream starts drawing the line that begins with ``text`` (x, y in points)."""
    m = re.search(rb"BT ([\d.]+) ([\d.]+) Td \(" + re.escape(text.encode("latin-1")), base_stream(data, page))
    assert m, f"no line {text!r} on page {page + 1}"
    return float(m.group(1)), float(m.group(2))


# -- harmless --------------------------------------------------------------------------


def resave_pypdf(data: bytes) -> bytes:
    """Re-saved by pypdf: every page's streams joined into one and compressed
    anew (at another level), identical objects merged, the objects renumbered."""
    writer = PdfWriter(clone_from=io.BytesIO(data))
    for page in writer.pages:
        page.compress_content_streams(level=1)
    writer.compress_identical_objects()
    return _out(writer)


def resave_qpdf(data: bytes) -> bytes:
    """Re-saved by qpdf (pikepdf): object streams, a cross-reference stream,
    every stream recompressed; the metadata left as it is."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        b = io.BytesIO()
        pdf.save(b, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True, recompress_flate=True,
                 deterministic_id=True, fix_metadata_version=False)
    return b.getvalue()


def set_info(data: bytes, **fields: str) -> bytes:
    """An incremental update (appended to the file, as an editor saves) of the document information: ``Producer="x"``."""
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    writer.add_metadata({f"/{k}": v for k, v in fields.items()})
    return _out(writer)


# -- drawn over, added ---------------------------------------------------------------------


def draw_over(data: bytes, ops: str, page: int = 0) -> bytes:
    """An incremental update that appends a content stream to a page (Helvetica as ``/TkF``): drawn over it."""
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    p = writer.pages[page]
    res = DictionaryObject(p["/Resources"].get_object())
    fonts = DictionaryObject(res.get("/Font", DictionaryObject()).get_object())
    fonts[NameObject("/TkF")] = writer._add_object(_name_dict(HELVETICA))
    res[NameObject("/Font")] = fonts
    p[NameObject("/Resources")] = res
    stream = DecodedStreamObject()
    stream.set_data(ops.encode("latin-1"))
    before = p.raw_get("/Contents")
    parts = list(before.get_object()) if isinstance(before.get_object(), ArrayObject) else [before]
    p[NameObject("/Contents")] = ArrayObject([*parts, writer._add_object(stream)])
    return _out(writer)


def white_box(data: bytes, text: str = "Problem solved", say: str = "Problem solved 1/5, Professional 1/5, On time 1/5") -> bytes:
    """A white box over the line that begins with ``text`` and another line drawn on top of it."""
    x, y = where(data, text)
    return draw_over(data, f"q 1 g {x - 2:.2f} {y - 3:.2f} 400 13 re f Q q 0 g BT /TkF 10 Tf {x:.2f} {y:.2f} Td ({say}) Tj ET Q\n")


def void_line(data: bytes) -> bytes:
    """A red "VOID" across the page."""
    return draw_over(data, "q 1 0 0 rg BT /TkF 72 Tf 0.87 0.5 -0.5 0.87 150 350 Tm (VOID) Tj ET Q\n")


def add_page(data: bytes) -> bytes:
    """A second page: an "addendum" that says the ratings were corrected."""
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    first = writer.pages[0]
    page = writer.add_blank_page(float(first.mediabox.width), float(first.mediabox.height))
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/TkF"): writer._add_object(_name_dict(HELVETICA))})})
    stream = DecodedStreamObject()
    stream.set_data(b"BT /TkF 14 Tf 40 780 Td (Addendum: the customer's ratings were corrected to 1/5.) Tj ET\n")
    page[NameObject("/Contents")] = writer._add_object(stream)
    return _out(writer)


def remove_last_page(data: bytes) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.remove_page(len(writer.pages) - 1)
    return _out(writer)


def annotate(data: bytes) -> bytes:
    """A free-text annotation ("VOID") on the first page: drawn by every viewer, not part of the page's content."""
    from pypdf.annotations import FreeText

    writer = PdfWriter(io.BytesIO(data), incremental=True)
    writer.add_annotation(0, FreeText(text="VOID", rect=(150, 400, 450, 470), font_size="48pt", font_color="ff0000"))
    return _out(writer)


def add_form(data: bytes) -> bytes:
    """An (empty) interactive form added to the document: a viewer would draw its fields over the pages."""
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    writer.root_object[NameObject("/AcroForm")] = DictionaryObject({NameObject("/Fields"): ArrayObject()})
    return _out(writer)


def add_open_script(data: bytes) -> bytes:
    """A JavaScript action run when the file opens."""
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('VOID')")})
    writer.root_object[NameObject("/OpenAction")] = writer._add_object(action)
    return _out(writer)


def rotate(data: bytes, degrees: int = 180) -> bytes:
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    writer.pages[0].rotate(degrees)
    return _out(writer)


# -- the base page changed -------------------------------------------------------------


def edit_base(data: bytes, change: Callable[[bytes], bytes], page: int = 0) -> bytes:
    """An incremental update that rewrites a page's base content stream as ``change`` says."""
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    contents = writer.pages[page]["/Contents"].get_object()
    first = (contents[0] if isinstance(contents, ArrayObject) else writer.pages[page].raw_get("/Contents")).get_object()
    assert isinstance(first, StreamObject)
    new = change(bytes(first.get_data()))
    assert new != first.get_data(), "the change changed nothing"
    first.set_data(new)
    return _out(writer)


def invisible_text(data: bytes) -> bytes:
    """Every text object of the base drawn in render mode 3 (neither filled nor stroked: invisible, still extractable)."""
    return edit_base(data, lambda s: s.replace(b"BT ", b"BT 3 Tr "))


def white_text(data: bytes) -> bytes:
    """Every text object of the base filled white."""
    return edit_base(data, lambda s: s.replace(b"BT ", b"BT 1 g "))


def replace_line(data: bytes, old: str, new: str) -> bytes:
    """A line of the base's text replaced (a core-font certificate: the text is in the stream as Latin-1)."""
    return edit_base(data, lambda s: s.replace(old.encode("latin-1"), new.encode("latin-1")))


def replace_image(data: bytes, page: int = 0) -> bytes:
    """The base's first photo thumbnail with its pixels inverted (same size, same dictionary)."""
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    xobjects = writer.pages[page]["/Resources"].get_object()["/XObject"].get_object()
    name = next(n for n in sorted(xobjects) if n != cert_page.QR_NAME and xobjects[n].get_object()["/Subtype"] == "/Image")
    image = xobjects[name].get_object()
    pixels = bytes(255 - b for b in image.get_data())
    image.pop("/DecodeParms", None)  # set_data packs without a predictor
    image.set_data(pixels)
    return _out(writer)


# -- metadata, QR code, the file -------------------------------------------------------


def set_xmp(data: bytes, packet: bytes) -> bytes:
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    stream = DecodedStreamObject()
    stream.set_data(packet)
    stream.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    writer.root_object[NameObject("/Metadata")] = writer._add_object(stream)
    return _out(writer)


def change_content(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    """The content in the XMP metadata changed (the payload kept): e.g. another rating."""
    payload, content = embedded(data)
    change(content)
    blob = base64.urlsafe_b64encode(certificate.canonical(content)).decode("ascii")
    old = cert_page.metadata(PdfReader(io.BytesIO(data))) or b""
    return set_xmp(data, re.sub(rb"<tkc:content>[^<]*</tkc:content>", f"<tkc:content>{blob}</tkc:content>".encode(), old))


def add_xmp_title(data: bytes, title: str = "Certificate (corrected)") -> bytes:
    """A dc:title added to the XMP packet (viewers show it before the Info Title)."""
    old = cert_page.metadata(PdfReader(io.BytesIO(data))) or b""
    field = (f'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt>'
             f'<rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title></rdf:Description></rdf:RDF>')
    return set_xmp(data, old.replace(b"</rdf:RDF>", field.encode()))


def replace_qr(data: bytes, text: str | None = None) -> bytes:
    """The QR image replaced by a code of the same size holding ``text`` (default: the
    payload with another signature, as a forger who cannot sign would print)."""
    payload, content = embedded(data)
    if text is None:
        head, sig = payload.rsplit(".", 1)
        text = cert_page.qr_text(content["overlay"], f"{head}.{'A' * len(sig)}")
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    page = writer.pages[content["overlay"]["qr"]["page"]]
    image = page["/Resources"].get_object()["/XObject"].get_object()[cert_page.QR_NAME].get_object()
    version = (int(image["/Width"]) - 2 * cert_page.QR_BORDER - 17) // 4
    _n, bits = cert_page.qr_image_bytes(cert_page.qr_modules(text, version=version))
    image.set_data(bits)
    return _out(writer)


def truncate(data: bytes, keep: float = 0.7) -> bytes:
    return data[:int(len(data) * keep)]

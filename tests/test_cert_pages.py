"""A certificate is what its pages show: certificates issued here (English,
Chinese, two pages) changed with pypdf and qpdf the ways a holder of the file
could, each refused with a reason that names the change, while re-saving
stays valid; the QR code and the printed signature read back by pdfium,
poppler and zxing (which ticketctl did not write) as ticketctl's own reader
reads them, whatever mask a QR library chooses."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cert_tampering as tamper
import pypdfium2
import pytest
import qrcode
import zxingcpp
from test_cert import closed_repair
from test_cert_cjk import LangCli, closed_chinese_repair, english_after  # noqa: F401
from test_cli import Cli
from test_evidence import T

from ticketctl.core import certificate
from ticketctl.home import Home
from ticketctl.services import cert, cert_page, cert_pdf, signing
from ticketctl.services.env import Env

CORPUS = Path(__file__).parent / "data" / "cert_tamper"


@pytest.fixture()
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "home", capsys)


@pytest.fixture()
def issued(cli: Cli, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    key = closed_repair(cli)
    out = tmp_path / "cert.pdf"
    return out, cli.json("cert", "issue", key, "-o", str(out), "--url", "https://t.example", now=T("10:40"))


def verdict(cli: Cli, data: bytes, tmp_path: Path, name: str = "changed.pdf") -> dict[str, Any]:
    (tmp_path / name).write_bytes(data)
    p = cli("cert", "verify", str(tmp_path / name), "--json", now=T("11:00"))
    assert p.code == (0 if p.json["valid"] else 1)
    return dict(p.json)


def _other_qr_url(data: bytes) -> bytes:
    payload, _content = tamper.embedded(data)
    return tamper.replace_qr(data, f"https://phish.example/v/{payload}")


def _signature_changed(data: bytes) -> bytes:
    """The printed signature (the overlay) replaced by another one of the same length."""
    from pypdf import PdfWriter

    payload, _content = tamper.embedded(data)
    sig = payload.rsplit(".", 1)[1]
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    overlay = writer.pages[0]["/Contents"].get_object()[-1].get_object()
    overlay.set_data(overlay.get_data().replace(sig.encode(), b"A" * len(sig)))
    return tamper._out(writer)


def _photo_removed(data: bytes) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject

    writer = PdfWriter(io.BytesIO(data), incremental=True)
    page = writer.pages[0]
    res = DictionaryObject(page["/Resources"].get_object())
    res[NameObject("/XObject")] = DictionaryObject({k: v for k, v in res["/XObject"].get_object().items() if k == cert_page.QR_NAME})
    page[NameObject("/Resources")] = res
    return tamper._out(writer)


#: (what, change, the reason; None: still valid)
CHANGES: list[tuple[str, Callable[[bytes], bytes], str | None]] = [
    ("re-saved by pypdf", tamper.resave_pypdf, None),
    ("re-saved by qpdf with object streams", tamper.resave_qpdf, None),
    ("/Producer updated", lambda d: tamper.set_info(d, Producer="Acme"), None),
    ("a white box and 1/5 over the ratings", tamper.white_box, "something was drawn on page 1 that was not signed"),
    ("a red VOID", tamper.void_line, "something was drawn on page 1 that was not signed"),
    ("a page added", tamper.add_page, "2 pages where 1 was signed"),
    ("an annotation", tamper.annotate, "page 1 has annotations (notes, stamps or form fields) that were not signed"),
    ("a rating edited in the page", lambda d: tamper.replace_line(d, "Problem solved 5/5", "Problem solved 1/5"),
     "page 1's drawing changed"),
    ("the text made invisible", tamper.invisible_text, "page 1's drawing changed"),
    ("the text made white", tamper.white_text, "page 1's drawing changed"),
    ("the photo replaced", tamper.replace_image, "a photo on page 1 was replaced or removed"),
    ("the photo removed", _photo_removed, "a photo on page 1 was replaced or removed"),
    ("the page turned upside down", tamper.rotate, "page 1's size, crop or rotation changed"),
    ("the content in the XMP changed", lambda d: tamper.change_content(d, lambda c: c["confirmation"]["ratings"].update(solved=1)),
     "content changed (the certificate's content does not match its signed hash)"),
    ("a dc:title added to the XMP", tamper.add_xmp_title, "the file's XMP metadata changed"),
    ("the Title changed", lambda d: tamper.set_info(d, Title="VOID"), "the document's title changed (it says 'VOID')"),
    ("the Subject changed", lambda d: tamper.set_info(d, Subject="Ticket ZZZ-9"),
     "the document's subject changed (it says 'Ticket ZZZ-9')"),
    ("an Author added", lambda d: tamper.set_info(d, Author="Mallory"), "the document's author changed (it says 'Mallory')"),
    ("a form added", tamper.add_form, "the file has /AcroForm that was not signed (forms, actions or attachments)"),
    ("a script run on opening", tamper.add_open_script,
     "the file has /OpenAction that was not signed (forms, actions or attachments)"),
    ("the QR code replaced", tamper.replace_qr, "the QR code on page 1 holds another payload"),
    ("the QR code pointing elsewhere", _other_qr_url, "the QR code on page 1 holds another payload"),
    ("the printed signature changed", _signature_changed, "something was drawn on page 1 that was not signed"),
    ("truncated", tamper.truncate, "the file is truncated (it does not end as a PDF ends)"),
    ("truncated by a few bytes", lambda d: d[:-8], "the file is truncated (it does not end as a PDF ends)"),
]


@pytest.mark.parametrize(("what", "change", "reason"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_changed_certificate_is_refused_naming_the_change(
        cli: Cli, issued: tuple[Path, dict[str, Any]], tmp_path: Path, what: str,
        change: Callable[[bytes], bytes], reason: str | None) -> None:
    out, r = issued
    v = verdict(cli, change(out.read_bytes()), tmp_path)
    if reason is None:
        assert v["valid"] and v["reason"].startswith(f"valid: certificate {r['cert_id']}"), (what, v)
    else:
        assert (v["valid"], v["reason"]) == (False, reason), what
    # and the people's message, through the catalog's template
    if reason is not None:
        f = cli.fails(1, "cert", "verify", str(tmp_path / "changed.pdf"), now=T("11:00"))
        assert f.err == f"ticketctl: error: invalid certificate: {reason}\n"


def test_the_untouched_certificate_is_valid_and_records_its_page(cli: Cli, issued: tuple[Path, dict[str, Any]]) -> None:
    out, r = issued
    v = cli.json("cert", "verify", str(out), now=T("11:00"))
    assert v["valid"] and v["warnings"] == [] and not v["countersigned"]
    payload, content = tamper.embedded(out.read_bytes())
    assert payload == r["payload"] and content["v"] == 2 and len(content["pages"]) == 1
    page = content["pages"][0]
    assert set(page) == {"drawing", "resources", "images", "geometry"} and len(page["images"]) == 1  # the thumbnail
    assert content["overlay"]["qr"] == {"page": 0, "rect": [425.2, 671.81, 141.73, 141.73], "url": "https://t.example"}
    assert content["info"] == {"title": f"Service certificate {r['cert_id']}", "subject": f"Ticket {r['key']}"}


def test_the_overlay_and_qr_read_back_by_other_readers(issued: tuple[Path, dict[str, Any]]) -> None:
    """pdfium decodes the QR image and renders the page for zxing; pdfium and poppler read the printed signature:
    each agrees with the payload and with ticketctl's own reading of the file."""
    out, r = issued
    sig = r["payload"].rsplit(".", 1)[1]
    reader = cert_page.open_pdf(out.read_bytes())
    image = reader.pages[0]["/Resources"]["/XObject"][cert_page.QR_NAME].get_object()
    ours = cert_page._read_modules(int(image["/Width"]), bytes(image.get_data()))
    doc = pypdfium2.PdfDocument(str(out))
    try:
        page = doc[0]
        images = [o for o in page.get_objects() if o.type == pypdfium2.raw.FPDF_PAGEOBJ_IMAGE]
        qr = max(images, key=lambda o: o.get_bounds()[2] - o.get_bounds()[0])  # the larger of QR code and thumbnail
        pil = qr.get_bitmap(render=False).to_pil().convert("L")
        n = pil.width
        assert n == pil.height == len(ours or []) + 2 * cert_page.QR_BORDER
        theirs = [[pil.getpixel((x, y)) < 128 for x in range(cert_page.QR_BORDER, n - cert_page.QR_BORDER)]
                  for y in range(cert_page.QR_BORDER, n - cert_page.QR_BORDER)]
        codes = zxingcpp.read_barcodes(page.render(scale=3).to_pil(), formats=zxingcpp.BarcodeFormat.QRCode)
        text = page.get_textpage().get_text_range()
    finally:
        doc.close()
    assert ours == theirs == cert_page.qr_modules(r["qr"])
    assert [c.text for c in codes] == [r["qr"]]
    assert text.count(sig) == 1
    exe = shutil.which("pdftotext")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftotext is missing in CI: .ci/run must install poppler-utils")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    assert subprocess.run([exe, str(out), "-"], capture_output=True, text=True, check=True).stdout.count(sig) == 1


def test_any_of_the_8_qr_masks_verifies(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another QR library (or another version of this one) may choose another mask for the same text."""
    key = closed_repair(cli, photo=False)
    real = cert_page.qr_modules
    differs = 0
    for mask in (0, 5):  # the library picks one mask for a text: at least one of these is another
        monkeypatch.setattr(cert_page, "qr_modules",
                            lambda text, m=None, version=None, _f=mask: real(text, _f if m is None else m, version))
        out = tmp_path / f"m{mask}.pdf"
        r = cli.json("cert", "issue", key, "-o", str(out), now=T("10:40"))
        monkeypatch.undo()
        stored = cert_page._read_modules(*_qr_image(out))
        assert stored is not None and stored == real(r["qr"], mask, (len(stored) - 17) // 4)
        differs += stored != real(r["qr"])
        assert cli.json("cert", "verify", str(out), now=T("11:00"))["valid"]
    assert differs >= 1


def _qr_image(out: Path) -> tuple[int, bytes]:
    image = cert_page.open_pdf(out.read_bytes()).pages[0]["/Resources"]["/XObject"][cert_page.QR_NAME].get_object()
    return int(image["/Width"]), bytes(image.get_data())


def test_a_qr_code_encoded_otherwise_is_read_by_zxing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same text in two byte segments (as an encoder that splits its input might write it): no mask makes
    our matrix, so zxing decides; without zxing the verdict is "not known", never valid."""
    text = "https://t.example/v/TKC1.AAECAwQFBgc.KQT-7.payload"
    two = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    two.add_data(qrcode.util.QRData(text[:20].encode(), mode=qrcode.util.MODE_8BIT_BYTE))
    two.add_data(qrcode.util.QRData(text[20:].encode(), mode=qrcode.util.MODE_8BIT_BYTE))
    two.make(fit=True)
    modules = [[bool(m) for m in row] for row in two.get_matrix()]
    version = (len(modules) - 17) // 4
    assert all(cert_page.qr_modules(text, m, version) != modules for m in range(8))
    assert cert_page.qr_holds(modules, text) is True
    assert cert_page.qr_holds(modules, text + "x") is False
    monkeypatch.setitem(sys.modules, "zxingcpp", None)
    assert cert_page.qr_holds(modules, text) is None
    assert cert_page.qr_holds(cert_page.qr_modules(text), text) is True  # ours needs no decoder


def corpus_env(tmp_path: Path) -> Env:
    """A device that trusts the corpus's test key."""
    environ = {"TICKETCTL_HOME": str(tmp_path / "corpus-home")}
    env = Env(Home.from_env(environ), environ)
    pem = (CORPUS / "test_key.pub.pem").read_text()
    signing.trust(env, signing.key_id_of(pem), pem, "corpus key")
    return env


def two_page_certificate() -> bytes:
    """A certificate whose timeline fills two pages, signed with the corpus's test key."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("cert_tamper_make", CORPUS / "make.py")
    assert spec and spec.loader
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    shown = dict(make.SHOWN)
    shown["timeline"] = [*shown["timeline"][:3], *({"type": f"ticket.{s}", "at": f"2026-03-02T09:{m:02d}:00Z", "actor": "ana"}
                                                   for m in range(31, 59) for s in ("blocked", "unblocked")),
                         *shown["timeline"][3:]]
    key, kid = make.signing_key(), make.key_id()
    content = certificate.build_content(make.CERT_ID, shown, "2026-03-02T10:40:00Z", "ana", kid, "en")

    def sign(signed: dict[str, Any]) -> str:
        digest = certificate.content_hash(signed)
        text = certificate.unsigned_text(make.CERT_ID, shown["key"], digest, kid)
        return certificate.encode_payload(make.CERT_ID, shown["key"], digest, kid, key.sign(text.encode()))

    return cert_pdf.make(content, sign, {shown["evidence"][0]["sha256"]: make.PHOTO}, None, None)[2]


def test_every_page_of_a_longer_certificate_is_signed(tmp_path: Path) -> None:
    data = two_page_certificate()
    _payload, content = tamper.embedded(data)
    assert len(content["pages"]) == 2 and content["overlay"]["qr"]["page"] == 0 and content["overlay"]["signature"]["page"] == 1
    env = corpus_env(tmp_path)

    def check(d: bytes) -> tuple[bool, str]:
        (tmp_path / "c.pdf").write_bytes(d)
        v = cert.verify(env, str(tmp_path / "c.pdf"))
        return v["valid"], v["reason"]

    assert check(data)[0] and check(tamper.resave_qpdf(data))[0] and check(tamper.resave_pypdf(data))[0]
    assert check(tamper.remove_last_page(data)) == (False, "1 page where 2 were signed")
    assert check(tamper.add_page(data)) == (False, "3 pages where 2 were signed")
    assert check(tamper.edit_base(data, lambda s: s.replace(b"BT ", b"BT 3 Tr "), page=1)) == (False, "page 2's drawing changed")
    assert check(tamper.draw_over(data, "q 1 0 0 rg 50 50 100 100 re f Q\n", page=1)) == (
        False, "something was drawn on page 2 that was not signed")
    env.close()


def test_a_chinese_certificate_verifies_and_a_changed_one_does_not(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    zh = LangCli(tmp_path / "home", capsys, TICKETCTL_LANG="zh_CN")
    key = closed_chinese_repair(zh, photo=True)
    out = tmp_path / "cert.pdf"
    r = zh.json("cert", "issue", key, "-o", str(out), now=T("10:40"))
    data = out.read_bytes()
    changes: list[tuple[Callable[[bytes], bytes], str | None]] = [
        (lambda d: d, None),
        (tamper.resave_pypdf, None),
        (tamper.resave_qpdf, None),
        (lambda d: tamper.set_info(d, Producer="WPS"), None),
        (lambda d: tamper.draw_over(d, "q 1 g 28 420 400 40 re f Q q 0 g BT /TkF 10 Tf 31 440 Td (1/5) Tj ET Q\n"),
         "something was drawn on page 1 that was not signed"),
        (tamper.invisible_text, "page 1's drawing changed"),
        (tamper.white_text, "page 1's drawing changed"),
        (tamper.add_page, "2 pages where 1 was signed"),
        (tamper.replace_image, "a photo on page 1 was replaced or removed"),
        (lambda d: tamper.set_info(d, Title="服务证书（作废）"), "the document's title changed (it says '服务证书（作废）')"),
        (tamper.replace_qr, "the QR code on page 1 holds another payload"),
    ]
    for change, reason in changes:
        (tmp_path / "zh.pdf").write_bytes(change(data))
        p = zh("cert", "verify", str(tmp_path / "zh.pdf"), "--json", now=T("11:00"), TICKETCTL_LANG="en")
        if reason is None:
            assert p.code == 0 and p.json["reason"] == f"valid: certificate {r['cert_id']} for {key}, signed by this device"
        else:
            assert (p.code, p.json["valid"], p.json["reason"]) == (1, False, reason)

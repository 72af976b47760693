"""Chinese certificates: the page prints the signed content exactly (never ``?``)
in an embedded, subset CJK font whose text two extractors ticketctl did not
write read back (pypdfium2 and poppler's pdftotext), the glyphs really render,
the labels are in the issuer's language while a verifier in any language
accepts the file, and without a font that has every character the issue is
refused with one line and nothing recorded."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from test_cert import read_qr
from test_cli import REPAIR_CHECKS, Cli, Result
from test_evidence import RELAY, T

from ticketctl import errors, i18n
from ticketctl.errors import Refused
from ticketctl.services import cert_fonts, cert_pdf

TITLE, CUSTOMER, COMMENT = "空调不制冷", "李伟", "制冷已经恢复正常，谢谢师傅"
NO_FONT = ("the certificate has Chinese text and no CJK font was found: reinstall ticketctl (pip install"
           " --force-reinstall noto-cjk-sans-otc), install fonts-noto-cjk, or set proof.font")
#: a few labels in Chinese: a catalog of our own, so these tests do not depend on the shipped one's wording
LABELS = {"Service certificate": "服务证书", "Ticket": "工单", "Customer: {customer}": "客户：{customer}",
          "Customer confirmation": "客户确认", "Problem solved": "问题已解决", "Professional": "专业程度",
          "On time": "准时", "Signature (Ed25519)": "签名（Ed25519）"}


class LangCli(Cli):
    """A :class:`Cli` at 09:00 of the test day, with extra environment variables (``TICKETCTL_LANG``, ``TICKETCTL_FONT_PATH``)."""

    def __call__(self, *argv: str, now: str | None = T("09:00"), user: str | None = "ana", **extra: str) -> Result:
        return super().__call__(*argv, now=now, user=user, **extra)


class Labels(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return LABELS.get(message, message)


@pytest.fixture(autouse=True)
def english_after() -> Any:
    """The process speaks English again after each test (a Chinese CLI call leaves Chinese behind)."""
    yield
    i18n.use("en")


@pytest.fixture()
def zh(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> LangCli:
    return LangCli(tmp_path / "home", capsys, TICKETCTL_LANG="zh_CN")


def package_font() -> Path:
    from noto_cjk import otc_path

    return Path(otc_path("sans"))


def closed_chinese_repair(cli: Cli, photo: bool = False, comment: str = COMMENT) -> str:
    if not cli.store_file.exists():
        cli.ok("tech", "add", "ana", "--capacity", "10", now=T("08:00"))
    key = cli.new(TITLE, "--customer", CUSTOMER, now=T("09:00"))
    cli.ok("assign", key, "ana", now=T("09:10"))
    cli.ok("start", key, now=T("09:30"))
    if photo:
        cli.ok("attach", key, RELAY, "--for", "function_test", now=T("10:05"))
    cli.ok("resolve", key, "--note", "换了继电器", now=T("10:10"))
    cli.ok("confirm", key, "--rating", "5", "--rating", "4", "--rating", "5", "--comment", comment, "--by", CUSTOMER,
           now=T("10:20"))
    cli.ok("close", key, *(a for c in REPAIR_CHECKS for a in ("--check", c)), now=T("10:30"))
    return key


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def expected_page(data: bytes) -> tuple[str, str]:
    """Every text of the page in order, from the content it signs (title, lines, captions, signature heading,
    footer), and the signature the overlay prints below its heading."""
    embedded = cert_pdf.read_embedded(data)
    assert embedded is not None
    payload, content = embedded
    fixed = cert_pdf._fixed(content)
    captions = [cert_pdf.caption(content, ev) for ev in content["evidence"] if str(ev.get("mime")).startswith("image/")]
    return squash("".join([fixed["title"], *(t for _s, t in cert_pdf.visible_lines(content)), *captions,
                           fixed["signature"], fixed["footer"]])), payload.rsplit(".", 1)[1]


def pdfium_text(pdf: Path) -> str:
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return "".join(str(page.get_textpage().get_text_range()) for page in doc)
    finally:
        doc.close()


def pdftotext(pdf: Path) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftotext is missing in CI: .ci/run must install poppler-utils")
        pytest.skip("pdftotext (Debian's poppler-utils) is not installed; CI installs it")
    return subprocess.run([exe, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture()
def issued(zh: LangCli, tmp_path: Path) -> tuple[str, Path, dict[str, Any]]:
    """A Chinese repair with a photo, closed, and its certificate issued in Chinese."""
    key = closed_chinese_repair(zh, photo=True)
    out = tmp_path / "cert.pdf"
    return key, out, zh.json("cert", "issue", key, "-o", str(out), now=T("10:40"))


def assert_shows_exactly_the_content(text: str, pdf: Path, key: str, key_id: str) -> None:
    assert "?" not in text
    heading = i18n.translator("zh_CN").gettext("{key}: {title}").format(key=key, title=TITLE)  # full-width colon
    for needle in (heading, CUSTOMER, COMMENT, key_id):
        assert squash(needle) in squash(text), needle
    base, signature = expected_page(pdf.read_bytes())
    # the signature once, printed by the overlay (after the base in drawing order, above the footer on the page)
    assert squash(text).count(signature) == 1
    assert squash(text).replace(signature, "") == base


def test_a_chinese_certificate_prints_the_signed_content_exactly(zh: LangCli, issued: tuple[str, Path, dict[str, Any]]) -> None:
    key, out, r = issued
    data = out.read_bytes()
    payload, content = cert_pdf.read_embedded(data) or ("", {})
    assert payload == r["payload"] and content["lang"] == "zh_CN"
    assert (content["ticket"]["title"], content["ticket"]["customer"], content["confirmation"]["comment"]) == (
        TITLE, CUSTOMER, COMMENT)
    assert_shows_exactly_the_content(pdfium_text(out), out, key, r["key_id"])
    # the labels are the language's (whatever the shipped catalog says for them), the data is not translated
    zh_ = i18n.translator("zh_CN").gettext
    assert squash(zh_("Customer: {customer}").format(customer=CUSTOMER)) in squash(pdfium_text(out))
    # verified by a process that speaks English, from the file and from the printed QR code
    assert read_qr(out) == r["payload"]
    for source in (str(out), r["qr"]):
        v = zh.ok("cert", "verify", source, now=T("11:00"), TICKETCTL_LANG="en")
        assert v.out == f"valid: certificate {r['cert_id']} for {key}, signed by this device\n"
    # one font embedded, as a subset (the whole collection is 19 MB), with a ToUnicode map; the hashes stay Courier
    assert len(re.findall(rb"/FontFile3", data)) == 1 and b"/ToUnicode" in data and b"/BaseFont /Courier" in data
    assert re.search(rb"/BaseFont /[A-Z]{6}\+NotoSansCJKSC", data)
    assert len(data) < 60_000, len(data)


def test_pdftotext_reads_the_same_text(issued: tuple[str, Path, dict[str, Any]]) -> None:
    key, out, r = issued
    assert_shows_exactly_the_content(pdftotext(out), out, key, r["key_id"])


def test_the_chinese_glyphs_are_drawn(zh: LangCli, tmp_path: Path) -> None:
    """Each character of the title has ink in its box, and the boxes differ (not one tofu box for all)."""
    key = closed_chinese_repair(zh)
    out = tmp_path / "cert.pdf"
    zh.ok("cert", "issue", key, "-o", str(out), now=T("10:40"))
    doc = pypdfium2.PdfDocument(str(out))
    try:
        page = doc[0]
        scale = 4
        image = page.render(scale=scale).to_pil().convert("L")
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        at = text.index(TITLE)
        crops = []
        for i, ch in enumerate(TITLE):
            left, bottom, right, top = textpage.get_charbox(at + i)
            assert right - left > 6, (ch, right - left)  # a full-width glyph at 10 pt is ~10 pt wide, not a gap
            box = (int(left * scale), int((page.get_height() - top) * scale), int(right * scale),
                   int((page.get_height() - bottom) * scale))
            crop = image.crop(box)
            dark = sum(crop.histogram()[:128])  # pixels darker than mid-grey
            assert dark > 100, (ch, dark)
            crops.append(crop)
        assert len({c.tobytes() for c in crops}) == len(TITLE)
    finally:
        doc.close()


def test_labels_are_the_certificates_language_and_any_verifier_reads_them(
        zh: LangCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(i18n._cache, "zh_CN", Labels())
    key = closed_chinese_repair(zh)
    out = tmp_path / "cert.pdf"
    r = zh.json("cert", "issue", key, "-o", str(out), now=T("10:40"))
    text = squash(pdfium_text(out))
    for label in ("服务证书", "工单", f"客户：{CUSTOMER}", "客户确认", "问题已解决5/5,专业程度4/5,准时5/5", "签名（Ed25519）"):
        assert label in text, label
    assert "Customer" not in text and "Ticket" not in text
    en = zh.ok("cert", "verify", str(out), now=T("11:00"), TICKETCTL_LANG="en")
    assert en.out == f"valid: certificate {r['cert_id']} for {key}, signed by this device\n"
    # the catalog reworded after the issue, and fpdf2 gone: the page is compared with what was signed, never drawn again
    monkeypatch.setitem(i18n._cache, "zh_CN", gettext.NullTranslations())
    monkeypatch.setitem(sys.modules, "fpdf", None)
    for lang in ("zh_CN", "en"):
        assert zh.ok("cert", "verify", str(out), now=T("11:00"), TICKETCTL_LANG=lang).code == 0
    monkeypatch.undo()
    monkeypatch.setitem(i18n._cache, "zh_CN", Labels())
    # a page drawn from another rating, finished with the genuine payload, content, QR code and signature
    data = out.read_bytes()
    payload, content = cert_pdf.read_embedded(data) or ("", {})
    font = cert_fonts.font_for(cert_pdf.printed_text(content), "", {"TICKETCTL_FONT_PATH": str(package_font())})
    changed = {**content, "confirmation": {**content["confirmation"], "ratings": {"solved": 1, "professional": 4, "on_time": 5}}}
    fake, _layout = cert_pdf.draw(changed, {}, font)
    (tmp_path / "forged.pdf").write_bytes(cert_pdf.finish(fake, content, payload))
    f = zh.fails(1, "cert", "verify", str(tmp_path / "forged.pdf"), now=T("11:00"), TICKETCTL_LANG="en")
    assert f.err == "ticketctl: error: invalid certificate: page 1's drawing changed\n"
    # the same facts under other labels: not the page that was signed either
    relabelled, _layout = cert_pdf.draw({**content, "lang": "en"}, {}, font)
    (tmp_path / "relabelled.pdf").write_bytes(cert_pdf.finish(relabelled, content, payload))
    f = zh.fails(1, "cert", "verify", str(tmp_path / "relabelled.pdf"), now=T("11:00"), TICKETCTL_LANG="en")
    assert "page 1's" in f.err  # its fonts (English labels: a smaller subset) or its drawing


def test_a_latin1_certificate_embeds_no_font(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """English and Latin-1 data: the core fonts, as before; no CJK font is even looked for."""
    cli = LangCli(tmp_path / "home", capsys, TICKETCTL_LANG="en", TICKETCTL_FONT_PATH="")
    cli.ok("tech", "add", "ana", "--capacity", "10", now=T("08:00"))
    key = cli.new("Climatisation en panne, café renversé", "--customer", "Zoë Müller", now=T("09:00"))
    cli.ok("assign", key, "ana", now=T("09:10"))
    cli.ok("start", key, now=T("09:30"))
    cli.ok("resolve", key, now=T("10:10"))
    cli.ok("confirm", key, "--rating", "5", "--rating", "5", "--rating", "5", "--comment", "Très bien, merci à vous",
           "--by", "Zoë Müller", now=T("10:20"))
    cli.ok("close", key, *(a for c in REPAIR_CHECKS for a in ("--check", c)), now=T("10:30"))
    out = tmp_path / "c.pdf"
    cli.ok("cert", "issue", key, "-o", str(out), now=T("10:40"))
    data = out.read_bytes()
    assert b"/FontFile" not in data and b"/BaseFont /Helvetica" in data
    assert "Climatisation en panne, café renversé" in pdfium_text(out) and "Zoë Müller" in pdfium_text(out)
    cli.ok("cert", "verify", str(out), now=T("11:00"))


def test_without_a_font_that_has_the_text_the_issue_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hidden = LangCli(tmp_path / "home", capsys, TICKETCTL_FONT_PATH="")
    key = closed_chinese_repair(hidden)
    out = tmp_path / "cert.pdf"
    hidden.fails(1, "cert", "issue", key, "-o", str(out), now=T("10:40"), message=NO_FONT)
    # a font that is there but has no Chinese: the same
    latin = tmp_path / "latin.otf"
    subset_latin(package_font(), latin)
    hidden.fails(1, "cert", "issue", key, "-o", str(out), now=T("10:40"), TICKETCTL_FONT_PATH=str(latin), message=NO_FONT)
    # proof.font comes first, and its problems are named
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font")
    hidden.ok("config", "set", "proof.font", str(junk))
    hidden.fails(1, "cert", "issue", key, "-o", str(out), now=T("10:40"),
                 message=f"proof.font {str(junk)!r} is not a font file ticketctl can read")
    hidden.ok("config", "set", "proof.font", str(latin))
    hidden.fails(1, "cert", "issue", key, "-o", str(out), now=T("10:40"),
                 message=f"proof.font {str(latin)!r} has no glyphs for 空 调 不 制 冷 李 伟 已 经 恢 ... on this certificate")
    assert not out.exists() and "ticket.certified" not in hidden.event_types(key)
    hidden.ok("config", "set", "proof.font", str(package_font()))
    hidden.ok("cert", "issue", key, "-o", str(out), now=T("10:40"))
    assert TITLE in pdfium_text(out)


def test_a_character_no_font_has_is_refused_not_dropped(zh: LangCli, tmp_path: Path) -> None:
    key = closed_chinese_repair(zh, comment="修好了，非常满意，谢谢 🙂")
    zh.fails(1, "cert", "issue", key, "-o", str(tmp_path / "c.pdf"), now=T("10:40"), TICKETCTL_LANG="en",
             message="no font here has glyphs for 🙂 on this certificate: set proof.font to a font that has them")


def test_font_discovery() -> None:
    ttc = package_font()
    assert cert_fonts.font_for("Zoë, café, 5/5") is None  # Latin-1: the core fonts
    # the Simplified Chinese face of the collection (face 0 is Japanese)
    sc = cert_fonts.font_for(TITLE, "", {"TICKETCTL_FONT_PATH": str(ttc)})
    assert sc == cert_fonts.Font(ttc, 2, "Noto Sans CJK SC Regular")
    # with nothing hidden the package's font is found before the system's
    assert cert_fonts.font_for(TITLE, "", {}) == sc
    # proof.font wins over everything, and a path that is not there is named
    with pytest.raises(Refused, match="proof.font '/nowhere/x.ttc' is not a font file ticketctl can read"):
        cert_fonts.font_for(TITLE, "/nowhere/x.ttc", {"TICKETCTL_FONT_PATH": str(ttc)})
    with pytest.raises(Refused) as e:
        cert_fonts.font_for(TITLE, "", {"TICKETCTL_FONT_PATH": ""})
    assert str(e.value) == NO_FONT and e.value.exit_code == errors.REFUSED


def test_the_system_fonts_come_after_the_package_and_one_without_the_text_is_passed_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    latin, system = tmp_path / "latin.otf", tmp_path / "NotoSansCJK-Regular.ttc"
    subset_latin(package_font(), latin)
    system.symlink_to(package_font())
    monkeypatch.setattr(cert_fonts, "_package_font", lambda: None)  # ticketctl[cjk] not installed
    monkeypatch.setattr(cert_fonts, "SYSTEM_FONTS", (str(tmp_path / "absent.ttc"), str(latin), str(system)))
    assert cert_fonts.font_for(TITLE, "", {}) == cert_fonts.Font(system, 2, "Noto Sans CJK SC Regular")
    # nothing but fontconfig's choice, which is any font at all when none has Chinese: passed over, refused
    monkeypatch.setattr(cert_fonts, "SYSTEM_FONTS", ())
    monkeypatch.setattr(cert_fonts, "_fc_match", lambda: latin)
    with pytest.raises(Refused, match=re.escape(NO_FONT)):
        cert_fonts.font_for(TITLE, "", {})


def test_legacy_content_without_lang_reads_back_as_the_core_font_printed_it() -> None:
    content = {"cert_id": "c", "issued_at": "t", "issuer": "ana", "key_id": "k", "technician": "ana",
               "ticket": {"key": "ABC-1", "title": TITLE, "type": "repair", "dept": "d", "product": "p", "priority": "low",
                          "created_at": "t", "customer": CUSTOMER},
               "timeline": [], "checklist": [], "evidence": [], "confirmation": None}
    assert ("b", "ABC-1: ?????") in cert_pdf.visible_lines(content)
    assert ("b", f"ABC-1: {TITLE}") in cert_pdf.visible_lines({**content, "lang": "en"})


def subset_latin(source: Path, target: Path) -> None:
    """A real OpenType font with only printable ASCII: the SC face of ``source`` subset."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source), fontNumber=2)
    sub = subset.Subsetter(subset.Options())
    sub.populate(unicodes=range(0x20, 0x7F))
    sub.subset(font)
    font.save(str(target))


#: marks that never begin a line of Chinese text, and marks that never end one
CLOSING, OPENING = "，。、；：？！）」』》", "（「『《"
#: a long comment whose clauses (of every length) put a mark at every place a line could break
LONG_COMMENT = "，".join("制冷恢复正常" * (k % 4 + 1) + "（已测试）" for k in range(9)) + "。谢谢师傅！"


def check_lines(text: str) -> list[str]:
    """The lines of ``text`` that break the rule (start with a closing mark or end with an opening one)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [line for line in lines if line[0] in CLOSING or line[-1] in OPENING]


def test_a_chinese_certificate_shows_labels_and_breaks_lines_by_the_rule(zh: LangCli, tmp_path: Path) -> None:
    """Every value on the page by its Chinese label (the facts stay identifiers in the signed content), full-width
    punctuation, no line of the page starting with a closing mark or ending with an opening one; it verifies,
    by a verifier in either language, and ``cert verify`` names the signer in Chinese."""
    key = closed_chinese_repair(zh, photo=True, comment=LONG_COMMENT)
    out = tmp_path / "cert.pdf"
    r = zh.json("cert", "issue", key, "-o", str(out), now=T("10:40"))
    data = out.read_bytes()
    _payload, content = cert_pdf.read_embedded(data) or ("", {})
    # identifiers in the signed facts, their labels signed beside them
    assert (content["ticket"]["type"], content["ticket"]["priority"], content["confirmation"]["via"]) == (
        "repair", "medium", "in_person")
    assert {s["step"] for s in content["timeline"]} >= {"created", "assigned", "started", "resolved", "closed"}
    assert content["labels"] == {"type.repair": "维修", "priority.medium": "中", "event.created": "创建",
                                 "event.assigned": "指派", "event.started": "开始处理", "event.resolved": "解决",
                                 "event.confirmed": "客户确认", "event.closed": "关闭", "checklist.function_test": "功能测试",
                                 "checklist.safety_reset": "安全复位", "checklist.parts_recorded": "备件已登记",
                                 "confirm.in_person": "当面"}
    for text in (cert_pdf.page_text(data), pdftotext(out), pdfium_text(out)):
        flat = squash(text)
        for label in ("维修，", "优先级中", "创建（ana）", "指派（ana）", "开始处理（ana）", "关闭（ana）", "[x]功能测试：",
                      "确认（当面）", "功能测试签名", squash(LONG_COMMENT)):
            assert label in flat, (label, text)
        for english in ("in person", "in_person", "repair", "medium", "high", "created", "assigned", "started", "closed",
                         "this device", "function_test", "safety_reset", ", "):
            assert english not in text, english
        assert check_lines(text) == [], check_lines(text)
    # the long comment was wrapped: some line ends inside it
    assert not any(squash(LONG_COMMENT) in squash(line) for line in cert_pdf.page_text(data).splitlines())
    for lang, says in (("zh_CN", f"有效：{key} 的服务证书 {r['cert_id']}，由 本设备 签名\n"),
                       ("en", f"valid: certificate {r['cert_id']} for {key}, signed by this device\n")):
        assert zh.ok("cert", "verify", str(out), now=T("11:00"), TICKETCTL_LANG=lang).out == says
    # a label changed on the page after signing: the facts no longer match
    relabelled = {**content, "labels": {**content["labels"], "priority.medium": "高"}}
    assert cert_pdf.text_matches(data, relabelled) == ("ticket.priority", "高")


def test_an_english_certificate_carries_no_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = LangCli(tmp_path / "home", capsys, TICKETCTL_LANG="en")
    key = closed_chinese_repair(cli)
    out = tmp_path / "c.pdf"
    cli.ok("cert", "issue", key, "-o", str(out), now=T("10:40"))
    _payload, content = cert_pdf.read_embedded(out.read_bytes()) or ("", {})
    assert "labels" not in content
    text = cert_pdf.page_text(out.read_bytes())
    for english in ("repair in facilities / hvac, priority medium", "created by ana", "[x] function_test checked",
                    "Confirmed by 李伟 (in person)"):
        assert english in text, english
    assert cli.ok("cert", "verify", str(out), now=T("11:00")).code == 0


@pytest.mark.parametrize("text", [LONG_COMMENT, "证书 kVDYCxPG0Vs，由 ana 于 2026-03-02T10:40:00Z 签发（测试）；已勾选 “好的”。",
                                  "（（括号））、「引号」『书名』《书》，。", "sha256 " + "ab" * 40 + "（照片.jpg）"])
def test_the_line_break_rule(text: str) -> None:
    """At every width: no line starts with a closing mark nor ends with an opening one, nothing is lost
    (the text less the spaces it broke at), no line is wider than the width unless one word is, and a Latin
    word (a time, a key) is cut only when it alone is wider than the line."""
    from ticketctl.services.cert_lines import wrap

    for width in range(2, 60):
        lines = wrap(text, width, len)
        assert check_lines("\n".join(lines)) == [], (width, lines)
        assert squash("".join(lines)) == squash(text)
        if width >= 6:  # narrower, a character and its marks may not fit: the rule comes first
            assert all(len(line) <= width for line in lines), (width, lines)
        if width >= 20:
            assert any("2026-03-02T10:40:00Z" in line for line in lines) or "2026" not in text


def test_the_status_in_cert_messages_is_its_label(zh: LangCli, tmp_path: Path) -> None:
    zh.ok("tech", "add", "ana", "--capacity", "10", now=T("08:00"))
    key = zh.new(TITLE, now=T("09:00"))
    zh.ok("assign", key, "ana", now=T("09:10"))
    zh.ok("start", key, now=T("09:30"))
    f = zh.fails(1, "cert", "issue", key, "-o", str(tmp_path / "c.pdf"), now=T("10:40"))
    assert "处理中" in f.err and "in_progress" not in f.err
    key = closed_chinese_repair(zh)
    out = tmp_path / "c.pdf"
    zh.ok("cert", "issue", key, "-o", str(out), now=T("10:40"))
    zh.ok("reopen", key, "--reason", "又漏水了", now=T("12:00"))
    v = zh.json("cert", "verify", str(out), now=T("12:10"), TICKETCTL_LANG="en")
    assert v["warnings"] == [f"{key} was reopened after this certificate; it is assigned now"]  # JSON: identifiers
    said = zh.ok("cert", "verify", str(out), now=T("12:10"))
    assert "已指派" in said.out + said.err and "assigned" not in said.out + said.err

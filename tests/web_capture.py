"""The customer's pages as the browser shows them (the text of the page and the
attributes a person reads: placeholders, titles, alternative text, button
labels), read from an app on the real server's database with the browser's
``Accept-Language``; and the certificate's page text (pypdfium2)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pypdfium2
from fastapi.testclient import TestClient

from ticketctl.home import Home
from ticketctl.server.admin import add_source
from ticketctl.server.app import create_app
from ticketctl.services import cert_pdf

ACCEPT = {"en": "en-GB,en;q=0.9", "zh_CN": "zh-CN,zh;q=0.9"}
SOURCE = "site"  # a source is named by an identifier (lowercase ASCII)


class _Text(HTMLParser):
    SHOWN_ATTRS = ("placeholder", "title", "alt", "aria-label")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self.skip += 1
        a = dict(attrs)
        self.parts += [v for k, v in attrs if k in self.SHOWN_ATTRS and v]
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.parts.append(str(a["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self.skip -= 1
        if tag in ("p", "div", "li", "h1", "h2", "h3", "dt", "dd", "tr", "option", "label", "title", "button"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    p = _Text()
    p.feed(html)
    return re.sub(r"[ \t]*\n\s*", "\n", "".join(p.parts)).strip()


def pages(server: Any, desk: Any, keys: dict[str, str], lang: str) -> list[tuple[str, str]]:
    """(name, text) of every customer's page in ``lang``."""
    add_source(server.db, SOURCE, "web")
    # the team's own product for what the web form brings in without one (its config is its data too)
    (server.home / "config.toml").write_text('[intake]\nproduct = "通用设备"\n', encoding="utf-8")
    app = TestClient(create_app(server.db, Home.from_env({"TICKETCTL_HOME": str(server.home)})))
    h = {"Accept-Language": ACCEPT[lang]}
    out: list[tuple[str, str]] = []

    def get(name: str, path: str, **kw: Any) -> str:
        r = app.get(path, headers=h, **kw)
        assert r.status_code < 500, (path, r.status_code)
        out.append((name, page_text(r.text)))
        return r.text

    def post(name: str, path: str, data: Any) -> str:
        r = app.post(path, headers=h, data=data)
        assert r.status_code < 500, (path, r.status_code)
        out.append((name, page_text(r.text)))
        return r.text

    get("web form", "/new")
    typed = {"title": "打印机卡纸", "description": "财务室的打印机一直卡纸", "contact": "不是电话", "product": "门禁闸机"}
    post("web form refused", "/new", typed)
    answer = post("web form answer", "/new", {**typed, "contact": "13800138000"})
    link = re.search(r'id="status-link" href="([^"]+)"', answer)
    if link:
        get("web form status", urlsplit(link.group(1)).path)
    get("kb list", "/kb")
    get("kb search", "/kb", params={"q": "漏水"})
    get("kb search nothing", "/kb", params={"q": "电梯"})
    get("kb article", f"/kb/{keys['kb']}")
    get("kb not found", "/kb/KB-ZZZ-404")
    c = urlsplit(keys["qr_url"]).path
    get("confirm form", c)
    post("confirm refused", c, {"rating": ["5", "4", "5"], "comment": "修好了，谢谢师傅", "by": "赵磊"})  # under 10 characters
    post("confirm thanks", c, {"rating": ["5", "4", "5"], "comment": "修好了，谢谢师傅，服务很周到", "by": "赵磊"})
    get("confirm used", c)
    get("confirm unknown", "/c/ZZZ-1.bad")
    embedded = cert_pdf.read_embedded(Path(keys["pdf"]).read_bytes())
    assert embedded is not None
    get("certificate verdict", f"/v/{embedded[0]}")
    get("certificate refused", "/v/not-a-certificate")
    return out


def certificate_text(pdf: Path) -> str:
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return "\n".join(str(page.get_textpage().get_text_range()) for page in doc)
    finally:
        doc.close()

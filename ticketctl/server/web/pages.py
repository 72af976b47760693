"""What every customer's page shares: the language it speaks, the page
around its content, and the response that carries it.

The pages are small, self-contained HTML (no scripts, no external assets), fit
for a phone that scanned a QR code, in the language the phone asks for
(:func:`page_language`, from ``Accept-Language``): one server answers customers
in several languages, so a page translates through its own
:func:`ticketctl.i18n.translator`, never the process-wide ``_``. What the rules
say (a refused confirmation, a certificate's verdict) arrives as English text;
:func:`ticketctl.i18n.localize` shows it in the page's language.
"""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import Header
from fastapi.responses import HTMLResponse

from ticketctl.i18n import LANGUAGES, localize, translator

STYLE = ("body{font-family:system-ui,sans-serif;max-width:34em;margin:1em auto;padding:0 1em;line-height:1.4}"
         "h1{font-size:1.3em}.ok{color:#0a6b2d}.bad{color:#a11}label{display:block;margin:.8em 0 .2em}"
         "select,textarea,input{font-size:1em;width:100%}button{font-size:1.1em;margin-top:1em;padding:.5em 1.5em}")


def page_language(accept_language: str | None, default: str) -> str:
    """The language of a page for a browser's ``Accept-Language``: its most
    preferred one ticketctl speaks (``zh``, ``zh-CN``, ``zh-Hans``, any ``zh-*``:
    ``zh_CN``; ``en-*``: ``en``), else ``default`` (the server's language)."""
    tags: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "")[:500].split(",")):
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and q > 0:
            tags.append((-q, i, tag.strip().lower()))
    for _q, _i, tag in sorted(tags):
        base = tag.replace("_", "-").split("-", 1)[0]
        if base == "zh":
            return "zh_CN"
        if base == "en":
            return "en"
    return default if default in LANGUAGES else LANGUAGES[0]


def page(title: str, body: str, lang: str = "en") -> str:
    """A whole page; ``title`` is already in ``lang``."""
    tag = lang.replace("_", "-")
    return (f'<!doctype html><html lang="{html.escape(tag)}"><head><meta charset="utf-8"><meta name="viewport"'
            f' content="width=device-width,initial-scale=1"><title>{html.escape(title)}</title><style>{STYLE}</style></head>'
            f"<body>{body}</body></html>")


def notice(title: str, message: str, lang: str) -> str:
    """A page that says one thing went wrong: ``title`` (a msgid) and an English ``message`` from the rules."""
    gettext = translator(lang).gettext
    return page(gettext(title), f"<p class=bad>{html.escape(localize(message, lang))}</p>", lang)


def html_page(body: str, lang: str, status_code: int = 200) -> HTMLResponse:
    """A page as the response: its language said, and that it varies by the browser's."""
    return HTMLResponse(body, status_code=status_code,
                        headers={"Content-Language": lang.replace("_", "-"), "Vary": "Accept-Language"})


AcceptLanguage = Annotated[str | None, Header(description="The customer's languages: the page speaks the first it can")]

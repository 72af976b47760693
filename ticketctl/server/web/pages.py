"""What every customer's page shares: the language it speaks, the templates
that draw it, and the response that carries it.

The pages are small, self-contained HTML (no scripts, no external assets), fit
for a phone that scanned a QR code, in the language the phone asks for
(:func:`page_language`, from ``Accept-Language``): one server answers customers
in several languages, so a page translates through its own
:func:`ticketctl.i18n.translator`, never the process-wide ``_``. What the rules
say (a refused confirmation, a certificate's verdict) arrives as English text;
:func:`ticketctl.i18n.localize` shows it in the page's language.

Each page is one Jinja2 template under ``templates/`` (``base.html`` is the one
skeleton: language, viewport, title, style; the form's pages add theirs through
``form.html``), rendered with autoescape on, so whatever a customer, a
technician or an article's author typed is shown as text, never as markup.
A template's texts are ``_("...")`` calls with the catalog's msgids (and
``.format(...)`` for their placeholders): :func:`render` passes the page's
``_``, and ``tools/i18n.py`` extracts them with Jinja2's Babel extractor.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ticketctl.i18n import LANGUAGES, localize, translator


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


@cache
def templates() -> Environment:
    """The pages' templates (``ticketctl/server/web/templates``), autoescaped; made once per process."""
    return Environment(loader=PackageLoader("ticketctl.server.web", "templates"), autoescape=select_autoescape(["html"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)


def render(template: str, lang: str, **data: Any) -> str:
    """The page ``template`` in ``lang``, from ``data``: the template translates
    its own texts through ``_`` (``lang``'s catalog) and names its language in ``<html lang>``."""
    return templates().get_template(template).render(data, _=translator(lang).gettext, lang=lang.replace("_", "-"))


def notice(title: str, message: str, lang: str) -> str:
    """A page that says one thing went wrong: ``title`` (a msgid) and an English ``message`` from the rules."""
    return render("notice.html", lang, title=translator(lang).gettext(title), message=localize(message, lang))


def html_page(body: str, lang: str, status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A page as the response: its language said, and that it varies by the browser's."""
    return HTMLResponse(body, status_code=status_code,
                        headers={"Content-Language": lang.replace("_", "-"), "Vary": "Accept-Language", **(headers or {})})


AcceptLanguage = Annotated[str | None, Header(description="The customer's languages: the page speaks the first it can")]

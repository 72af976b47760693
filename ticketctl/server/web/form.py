"""The customers' web form: ``GET /new`` and ``POST /new`` open a ticket as the
team's web source (``ticketctl server add-source NAME --kind web``; the first
such source that is not revoked), and ``GET /s/KEY.TOKEN`` shows its progress.

The pages are plain HTML fit for a phone (no scripts, no external assets), in
the browser's language (:func:`ticketctl.server.web.pages.page_language`), one
template each under ``templates/form/``. A post is judged in this order, and
anything refused writes nothing and shows the form again with what the
customer typed (the rules themselves are :mod:`ticketctl.server.web.form_rules`):

    read the form --(unreadable: 400)
    title, details, contact, product --(422)
    the photo: at most intake.max_photo_kb (413), really an image (Pillow, 422)
    one transaction under the sequence lock:
        the address's tickets in the last hour < intake.web_per_hour --(429)
        open the ticket (channel "web"), attach the photo (evidence by hash),
        count the hit (``intake_hits``, so the limit holds across workers)

The whole body is already capped by :class:`ticketctl.server.limits.BodyLimit`.
A contact that is a phone number goes to the ticket's ``phone`` (which
technicians never receive, ``core.roles``); an e-mail address is the ``customer``.

The status link carries an HMAC of the ticket key under the server's
``status_secret`` (made once, kept in ``server_meta``): a link cannot be guessed
from a key, and a wrong token gets the very page an unknown key gets. What the
form reads and counts in the database is ``server.store.forms``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import tzinfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from ticketctl.core import intake as I
from ticketctl.core.config import Config
from ticketctl.core.labels import label
from ticketctl.core.model import Ticket, parse_time
from ticketctl.errors import TicketctlError
from ticketctl.home import Home
from ticketctl.i18n import N_, localize, translator
from ticketctl.server.intake.door import Door
from ticketctl.server.intake.sources import Source
from ticketctl.server.store import forms
from ticketctl.server.store import intake as intake_store
from ticketctl.server.web.form_rules import (
    CONTACT_MAX,
    DESCRIPTION_MAX,
    PRODUCT_MAX,
    STATUS_WORDS,
    Entry,
    FormError,
    check_photo,
    ref_key,
    size_text,
    status_history,
    status_ref,
    web_fields,
)
from ticketctl.server.web.pages import AcceptLanguage, html_page, page_language, render

log = logging.getLogger("ticketctl.server")

#: the product menu: the most common products of the latest tickets, read at most once a minute
PRODUCTS_MAX, PRODUCTS_SCAN, PRODUCTS_TTL_S = 30, 500, 60.0
HOUR_S = 3600
FIELD_MAX_BYTES = 64 * 1024  # one text field of the multipart body


# -- pages ------------------------------------------------------------------------------------


def form_page(entry: Entry, products: list[str], max_kb: int, lang: str, error: str = "") -> str:
    """The form, filled with ``entry``; ``error`` (in ``lang``) above it."""
    return render("form/new.html", lang, entry=entry, products=products, error=error, photo_size=size_text(max_kb),
                  title_max=I.TITLE_MAX, description_max=DESCRIPTION_MAX, contact_max=CONTACT_MAX, product_max=PRODUCT_MAX)


def answer_page(key: str, link: str, lang: str) -> str:
    return render("form/thanks.html", lang, key=key, link=link)


def status_page(t: Ticket, history: list[tuple[str, str]], tz: tzinfo, lang: str) -> str:
    """The progress of a ticket and nothing personal: its key, product, status
    in words and when each status began. Not its title either: the title is
    the customer's own words and may hold a name, an address or a phone number,
    and whoever holds the link (a forwarded mail, a shared phone) would see it."""
    gettext = translator(lang).gettext

    def words(status: str) -> str:
        return gettext(STATUS_WORDS[status]) if status in STATUS_WORDS else label("status", status, None, lang)

    def when(at: str) -> tuple[str, str]:
        return at, parse_time(at).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")

    return render("form/status.html", lang, key=t.key, status=words(t.status), product=t.product,
                  opened=when(t.created_at), changed=when(t.updated_at),
                  history=[(*when(at), words(s)) for s, at in history])


def notice_page(title: str, message: str, lang: str, bad: bool = False) -> str:
    """A page of one message: ``title`` and ``message`` are msgids; ``bad``: the message tells of a problem."""
    gettext = translator(lang).gettext
    return render("form/notice.html", lang, title=gettext(title), message=gettext(message), bad=bad)


def too_many_page(times: list[int], wait_s: int, lang: str) -> str:
    """``times``: when the address's tickets of the last hour came; ``wait_s``: until it may send one more."""
    return render("form/too_many.html", lang, n=len(times), minutes=(wait_s + 59) // 60)


# -- the routes -------------------------------------------------------------------------------

FORM_SCHEMA = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["title", "contact"], "properties": {
        "title": {"type": "string", "maxLength": I.TITLE_MAX},
        "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
        "contact": {"type": "string", "maxLength": CONTACT_MAX, "description": "A phone number or an e-mail address."},
        "product": {"type": "string", "maxLength": PRODUCT_MAX},
        "photo": {"type": "string", "format": "binary", "description": "An image, at most intake.max_photo_kb KiB."}}}}}}}


class Products:
    """The product menu: the most common products of the latest tickets the
    team opened (not the web form's), read at most once per :data:`PRODUCTS_TTL_S`."""

    def __init__(self, engine: Engine, cfg: Config):
        self.engine, self.default = engine, cfg.intake.product
        self.at: float | None = None
        self.names: list[str] = []

    def __call__(self) -> list[str]:
        now = time.monotonic()
        if self.at is None or now - self.at >= PRODUCTS_TTL_S:
            with self.engine.connect() as c:
                count = Counter(forms.latest_products(c, PRODUCTS_SCAN))
            count.pop("", None)
            count.pop(self.default, None)  # "other" stands for it
            top = sorted(count, key=lambda p: (-count[p], p))[:PRODUCTS_MAX]
            self.names, self.at = sorted(top, key=str.casefold), now
        return self.names


def router(engine: Engine, home: Home, cfg: Config) -> APIRouter:
    """``/new`` and ``/s/{ref}`` (see the module's docstring)."""
    r = APIRouter(tags=["public pages"])
    products = Products(engine, cfg)
    max_kb, per_hour = cfg.intake.max_photo_kb, cfg.intake.web_per_hour
    secret: list[bytes] = []  # the status links' key, read once (made on first use)

    def status_secret() -> bytes:
        if not secret:
            secret.append(forms.status_secret(engine))
        return secret[0]

    def respond(body: str, lang: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
        return html_page(body, lang, status, {"Referrer-Policy": "no-referrer", **(headers or {})})

    def language(request: Request, accept_language: str | None) -> str:
        return page_language(accept_language, request.app.state.server.lang)

    def web_source() -> Source | None:
        with engine.connect() as c:
            row = intake_store.first_web_source(c)
        return None if row is None else Source(row)

    def no_form(lang: str) -> HTMLResponse:
        return respond(notice_page(N_("Not found"), N_("There is no web form here."), lang), lang, 404)

    def limited(times: list[int], now: int, lang: str) -> HTMLResponse:
        wait_s = max(times[0] + HOUR_S - now, 1) if times else HOUR_S
        return respond(too_many_page(times, wait_s, lang), lang, 429, {"Retry-After": str(wait_s)})

    @r.get("/new", response_class=HTMLResponse)
    def new_form(request: Request, accept_language: AcceptLanguage = None) -> HTMLResponse:
        """The customers' web form (404 while the team has no web source)."""
        lang = language(request, accept_language)
        if web_source() is None:
            return no_form(lang)
        return respond(form_page(Entry(), products(), max_kb, lang), lang)

    @r.post("/new", response_class=HTMLResponse, openapi_extra=FORM_SCHEMA)
    async def new_ticket(request: Request, accept_language: AcceptLanguage = None) -> HTMLResponse:
        """Open a ticket from the form (multipart/form-data): 201 with its key and
        status link; a refusal is the form again with the reason (400, 413, 422),
        429 over ``intake.web_per_hour`` tickets an hour from one address."""
        lang = language(request, accept_language)
        src = await run_in_threadpool(web_source)
        if src is None:
            return no_form(lang)
        try:
            form = await request.form(max_files=1, max_fields=10, max_part_size=FIELD_MAX_BYTES)
        except (StarletteHTTPException, MultiPartException, ValueError) as e:
            log.info("web form: unreadable post: %s", e)
            msg = translator(lang).gettext("The form could not be read. Please fill it in again.")
            return respond(form_page(Entry(), await run_in_threadpool(products), max_kb, lang, msg), lang, 400)
        try:
            entry = Entry(**{k: v for k in ("title", "description", "contact", "product") if isinstance(v := form.get(k), str)})
            upload = form.get("photo")
            data, name = b"", ""
            if isinstance(upload, UploadFile) and (upload.filename or upload.size):
                data, name = await upload.read(max_kb * 1024 + 1), upload.filename or ""
        finally:
            await form.close()
        address = (request.client.host if request.client else "")[:64] or "unknown"
        return await run_in_threadpool(submit, src, entry, data, name, address, lang, str(request.base_url))

    def submit(src: Source, entry: Entry, data: bytes, filename: str, address: str, lang: str, base: str) -> HTMLResponse:
        menu = products()
        now = int(time.time())
        try:
            fields = web_fields(entry, menu, cfg)
            with engine.connect() as c:  # refuse early, before reading the photo; judged again under the lock
                if len(seen := forms.hits(c, src.name, address, now - HOUR_S)) >= per_hour:
                    return limited(seen, now, lang)
            photo = check_photo(data, filename, max_kb) if data else None
            with engine.begin() as c:
                d = Door(c, home, cfg, src.name, src.prefix)
                if len(seen := forms.hits(c, src.name, address, now - HOUR_S)) >= per_hour:
                    return limited(seen, now, lang)  # leaving the block commits: nothing was written
                key = d.open(fields)
                if photo is not None:
                    d.attach(key, photo.data, photo.name, photo.mime)
                forms.count_hit(c, src.name, address, now, now - HOUR_S)
                d.commit()
        except FormError as e:
            msg = translator(lang).gettext(e.message).format(**e.values)
            return respond(form_page(entry, menu, max_kb, lang, msg), lang, e.status)
        except TicketctlError as e:  # the rules refused the ticket or its photo: the transaction rolled back
            return respond(form_page(entry, menu, max_kb, lang, localize(str(e), lang)), lang, 422)
        log.info("web form: %s opened %s from %s", src.name, key, address)
        link = base.rstrip("/") + "/s/" + status_ref(status_secret(), key)
        return respond(answer_page(key, link, lang), lang, 201)

    @r.get("/s/{ref}", response_class=HTMLResponse)
    def status(ref: str, request: Request, accept_language: AcceptLanguage = None) -> HTMLResponse:
        """The progress of a ticket for whoever holds its status link (``KEY.TOKEN``):
        no personal data; a wrong token is the same 404 as an unknown key."""
        lang = language(request, accept_language)
        key = ref_key(status_secret(), ref)
        found = None
        if key is not None:
            with engine.connect() as c:
                found = forms.progress(c, key)
        if found is None:
            return respond(notice_page(N_("Not found"), N_("There is no request at this link."), lang, bad=True), lang, 404)
        t, events = found
        return respond(status_page(t, status_history(events, cfg), cfg.business_calendar.tz, lang), lang,
                       headers={"Cache-Control": "no-store"})

    return r

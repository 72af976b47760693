"""The customers' web form: ``GET /new`` and ``POST /new`` open a ticket as the
team's web source (``ticketctl server add-source NAME --kind web``; the first
such source that is not revoked), and ``GET /s/KEY.TOKEN`` shows its progress.

The pages are plain HTML fit for a phone (no scripts, no external assets), in
the browser's language (:func:`ticketctl.server.web.pages.page_language`). A post is
judged in this order, and anything refused writes nothing and shows the form
again with what the customer typed:

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
from a key, and a wrong token gets the very page an unknown key gets.
"""

import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import time
import unicodedata
from base64 import urlsafe_b64encode
from collections import Counter
from dataclasses import dataclass
from datetime import tzinfo
from io import BytesIO
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from ticketctl.core import intake as I
from ticketctl.core.config import Config
from ticketctl.core.model import Ticket, parse_time
from ticketctl.core.workflow import apply
from ticketctl.errors import TicketctlError
from ticketctl.home import Home
from ticketctl.i18n import N_, localize, translator
from ticketctl.server import schema as S
from ticketctl.server.intake.doors import _SOURCE, Door, Source
from ticketctl.server.store.team import event_from_server_row, ticket_from_json
from ticketctl.server.web.pages import STYLE, page_language

log = logging.getLogger("ticketctl.server")

DESCRIPTION_MAX = 5000
CONTACT_MAX = 200
PRODUCT_MAX = 100
#: the product menu: the most common products of the latest tickets, read at most once a minute
PRODUCTS_MAX, PRODUCTS_SCAN, PRODUCTS_TTL_S = 30, 500, 60.0
TOKEN_CHARS = 16  # 96 bits of the HMAC
HOUR_S = 3600
FIELD_MAX_BYTES = 64 * 1024  # one text field of the multipart body

#: what phones send (MPO: the multi-picture JPEG of some cameras), and the most pixels each may have
PHOTO_FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
PIXELS_MAX = {"JPEG": 100_000_000, "MPO": 100_000_000, "": 25_000_000}  # others are decoded whole: 100 MB at most

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
PHONE = re.compile(r"\+?[0-9 ()./-]+")

#: the status in words for a customer (no names, no reasons)
STATUS_WORDS = {
    "new": N_("Received: waiting for a technician"),
    "assigned": N_("A technician is assigned"),
    "in_progress": N_("A technician is working on it"),
    "blocked": N_("On hold"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
}

FORM_STYLE = ("*,*::before,*::after{box-sizing:border-box}"
              "input,select,textarea{font-size:16px;padding:.75em;border:1px solid #888;border-radius:4px}input,select{min-height:3em}"
              "input[type=file]{padding:.4em 0;border:0}button{width:100%;min-height:3em}"
              "dl{display:grid;grid-template-columns:auto 1fr;gap:.3em 1em}dt{color:#555}dd{margin:0}"
              ".key{font-size:1.6em;font-weight:bold}a{overflow-wrap:anywhere}.note{color:#555;font-size:.9em}")


class FormError(Exception):
    """What is wrong with a post: an HTTP status and a message (a msgid and its values)."""

    def __init__(self, status: int, message: str, **values: Any):
        super().__init__(message)
        self.status, self.message, self.values = status, message, values


@dataclass(frozen=True)
class Entry:
    """What the customer typed (kept as typed, to show the form again)."""

    title: str = ""
    description: str = ""
    contact: str = ""
    product: str = ""


@dataclass(frozen=True)
class Photo:
    data: bytes
    name: str
    mime: str


# -- the rules of the form (no database) ---------------------------------------------------


def web_fields(entry: Entry, products: list[str], cfg: Config) -> dict[str, Any]:
    """A new ticket's fields from the form. Raises :class:`FormError` (422).

    ``products``: the menu the form showed; a product not on it is the
    default product (``intake.product``), so a post cannot add names to the
    menu others see. With no menu the form asked for free text, kept."""
    entry = Entry(*(v.replace("\x00", "") for v in (entry.title, entry.description, entry.contact, entry.product)))
    title = I.one_line(entry.title)
    if not title:
        raise FormError(422, N_("Please say in a few words what is wrong."))
    if len(title) > I.TITLE_MAX:
        raise FormError(422, N_("The title is longer than {n} characters."), n=I.TITLE_MAX)
    text = entry.description.replace("\r\n", "\n").strip()
    if len(text) > DESCRIPTION_MAX:
        raise FormError(422, N_("The details are longer than {n} characters."), n=DESCRIPTION_MAX)
    contact = I.one_line(unicodedata.normalize("NFKC", entry.contact))  # full-width digits and ＠ as typed by a Chinese IME
    if not contact:
        raise FormError(422, N_("Please give a phone number or an e-mail address, so that we can reach you."))
    if len(contact) > CONTACT_MAX:
        raise FormError(422, N_("The contact is longer than {n} characters."), n=CONTACT_MAX)
    reach = contact_kind(contact)
    if reach is None:
        raise FormError(422, N_("{contact} is neither a phone number nor an e-mail address."), contact=contact)
    product = I.one_line(entry.product)[:PRODUCT_MAX]
    if products and product not in products:
        product = ""
    i = cfg.intake
    return {
        "title": title,
        "description": I.clip(text, I.TEXT_MAX),
        "type": i.type,
        "dept": i.dept,
        "product": product or i.product,
        reach: contact,
        "channel": I.CHANNELS["web"],
    }


def contact_kind(contact: str) -> str | None:
    """``customer`` for an e-mail address, ``phone`` for a phone number (6 to 20 digits), else None."""
    if EMAIL.fullmatch(contact):
        return "customer"
    if PHONE.fullmatch(contact) and 6 <= sum(ch.isdigit() for ch in contact) <= 20:
        return "phone"
    return None


def check_photo(data: bytes, filename: str, max_kb: int) -> Photo:
    """The photo if it is at most ``max_kb`` KiB and Pillow reads it as a JPEG,
    PNG, WebP or GIF: ``Image.verify`` (which checks every chunk of a PNG), and
    any other decoded (a JPEG at an eighth of its size, so a large one is cheap).
    Raises :class:`FormError` (413, 422)."""
    if len(data) > max_kb * 1024:
        raise FormError(413, N_("The photo is larger than {size}. Please send a smaller one."), size=size_text(max_kb))
    from PIL import Image

    try:
        with Image.open(BytesIO(data), formats=["JPEG", "PNG", "WEBP", "GIF"]) as img:
            kind, (w, h) = img.format or "", img.size
            if w * h > PIXELS_MAX.get(kind, PIXELS_MAX[""]):
                raise FormError(413, N_("The photo has more than {n} million pixels. Please send a smaller one."),
                                n=PIXELS_MAX.get(kind, PIXELS_MAX[""]) // 1_000_000)
            img.verify()
        if kind != "PNG":
            with Image.open(BytesIO(data), formats=["JPEG" if kind == "MPO" else kind]) as img:
                img.draft("RGB", (max(w // 8, 1), max(h // 8, 1)))
                img.load()
    except FormError:
        raise
    except Exception:  # Pillow's parsers raise many kinds (OSError, SyntaxError, ValueError, struct.error, ...)
        raise FormError(422, N_("The file is not a photo we can read (JPEG, PNG, ...). Please choose another.")) from None
    base = re.split(r"[/\\]", filename)[-1]
    name = "".join(ch for ch in base if ch.isprintable())[:100].strip() or f"photo.{kind.lower()}"
    return Photo(data, name, PHOTO_FORMATS[kind])


def size_text(kb: int) -> str:
    return f"{kb / 1024:g} MB" if kb >= 1024 else f"{kb} KB"


def status_history(rows: list[Any], cfg: Config) -> list[tuple[str, str]]:
    """(status, at) for the ticket's creation and each change of its status,
    replayed from the server's events of the ticket (their ``ticket.`` types)."""
    t: Ticket | None = None
    out: list[tuple[str, str]] = []
    for r in rows:
        if not str(r["type"]).startswith("ticket."):
            continue
        e = event_from_server_row(r)
        t = apply(t, e, cfg)
        if not out or out[-1][0] != t.status:
            out.append((t.status, e.at))
    return out


# -- the status link ------------------------------------------------------------------------

_SECRETS: dict[str, bytes] = {}


def status_secret(engine: Engine) -> bytes:
    """The server's key for status links: made on first use (a worker that loses
    the race to make it reads the winner's), then read once per process."""
    url = str(engine.url)
    if url not in _SECRETS:
        query = select(S.server_meta.c.value).where(S.server_meta.c.key == "status_secret")
        with engine.connect() as c:
            row = c.execute(query).first()
        if row is None:
            try:
                with engine.begin() as c:
                    c.execute(insert(S.server_meta).values(key="status_secret", value=secrets.token_urlsafe(32)))
            except IntegrityError:
                pass  # another worker made it first
            with engine.connect() as c:
                row = c.execute(query).one()
        _SECRETS[url] = str(row[0]).encode()
    return _SECRETS[url]


def status_token(secret: bytes, key: str) -> str:
    digest = hmac.new(secret, key.encode(), hashlib.sha256).digest()
    return urlsafe_b64encode(digest).decode()[:TOKEN_CHARS]


def status_ref(secret: bytes, key: str) -> str:
    """The part of the status link after ``/s/``: ``KEY.TOKEN``."""
    return f"{key}.{status_token(secret, key)}"


def ref_key(secret: bytes, ref: str) -> str | None:
    """The ticket key ``ref`` names, if its token is right (compared in constant time)."""
    key, _dot, token = ref.rpartition(".")
    if not key or len(ref) > 100 or not hmac.compare_digest(status_token(secret, key).encode(), token.encode()):
        return None
    return key


# -- pages ------------------------------------------------------------------------------------


def _page(title: str, body: str, lang: str) -> str:
    tag = lang.replace("_", "-")
    return (f'<!doctype html><html lang="{html.escape(tag)}"><head><meta charset="utf-8"><meta name="viewport"'
            f' content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">'
            f"<title>{html.escape(title)}</title><style>{STYLE}{FORM_STYLE}</style></head><body>{body}</body></html>")


def form_page(entry: Entry, products: list[str], max_kb: int, lang: str, error: str = "") -> str:
    """The form, filled with ``entry``; ``error`` (in ``lang``) above it."""
    gettext = translator(lang).gettext
    t = html.escape
    title = gettext("Report a problem")
    intro = gettext("Tell us what is wrong. We will reach you at the phone number or e-mail address you give.")
    if products:
        other = gettext("Other / not sure")
        options = "".join(f'<option value="{t(p)}"{" selected" if p == entry.product else ""}>{t(p)}</option>' for p in products)
        product = f'<select id="product" name="product"><option value="">{t(other)}</option>{options}</select>'
    else:
        product = f'<input id="product" name="product" maxlength="{PRODUCT_MAX}" value="{t(entry.product)}">'
    labels = (gettext("What is wrong? (a few words)"), gettext("Details (optional)"),
              gettext("Your phone number or e-mail address"), gettext("Product"),
              gettext("A photo (optional, up to {size})").format(size=size_text(max_kb)), gettext("Send"))
    bad = f'<p class=bad role="alert">{t(error)}</p>' if error else ""
    return _page(title, (
        f"<h1>{t(title)}</h1><p>{t(intro)}</p>{bad}"
        '<form method="post" action="/new" enctype="multipart/form-data">'
        f'<label for="title">{t(labels[0])}</label>'
        f'<input id="title" name="title" maxlength="{I.TITLE_MAX}" required value="{t(entry.title)}">'
        f'<label for="description">{t(labels[1])}</label>'
        f'<textarea id="description" name="description" rows="5" maxlength="{DESCRIPTION_MAX}">{t(entry.description)}</textarea>'
        f'<label for="contact">{t(labels[2])}</label>'
        f'<input id="contact" name="contact" maxlength="{CONTACT_MAX}" required value="{t(entry.contact)}">'
        f'<label for="product">{t(labels[3])}</label>{product}'
        f'<label for="photo">{t(labels[4])}</label><input id="photo" name="photo" type="file" accept="image/*" capture>'
        f'<button type="submit">{t(labels[5])}</button></form>'), lang)


def answer_page(key: str, link: str, lang: str) -> str:
    gettext = translator(lang).gettext
    t = html.escape
    thanks, recorded = gettext("Thank you"), gettext("Your request is recorded. Its number:")
    follow = gettext("Follow its progress at this link (keep it: it shows the progress, none of your details):")
    return _page(thanks, (
        f"<h1 class=ok>{t(thanks)}</h1><p>{t(recorded)}</p><p class=key id=\"key\">{t(key)}</p>"
        f'<p>{t(follow)}</p><p><a id="status-link" href="{t(link)}">{t(link)}</a></p>'), lang)


def status_page(t_: Ticket, history: list[tuple[str, str]], tz: tzinfo, lang: str) -> str:
    """The progress of a ticket and nothing personal: its key, product, status
    in words and when each status began. Not its title either: the title is
    the customer's own words and may hold a name, an address or a phone number,
    and whoever holds the link (a forwarded mail, a shared phone) would see it."""
    gettext = translator(lang).gettext
    t = html.escape

    def words(status: str) -> str:
        return gettext(STATUS_WORDS.get(status, status))

    def when(at: str) -> str:
        return f'<time datetime="{t(at)}">{t(parse_time(at).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z"))}</time>'

    facts = ((gettext("Product"), t(t_.product)), (gettext("Opened"), when(t_.created_at)),
             (gettext("Last change"), when(t_.updated_at)))
    dl = "".join(f"<dt>{t(k)}</dt><dd>{v}</dd>" for k, v in facts)
    items = "".join(f"<li>{when(at)}: {t(words(s))}</li>" for s, at in history)
    heading, note = gettext("History"), gettext("This page shows the progress of the request, none of its details.")
    return _page(t_.key, (
        f'<h1>{t(t_.key)}</h1><p class=key id="status">{t(words(t_.status))}</p><dl>{dl}</dl>'
        f'<h2>{t(heading)}</h2><ol id="history">{items}</ol><p class=note>{t(note)}</p>'), lang)


def notice_page(title: str, message: str, lang: str, status: str = "") -> str:
    """A page of one message: ``title`` and ``message`` are msgids; ``status``
    a class of the message (``bad``)."""
    gettext = translator(lang).gettext
    t = html.escape
    head, text, again = gettext(title), gettext(message), gettext("Report a problem")
    cls = f" class={status}" if status else ""
    return _page(head, f'<h1>{t(head)}</h1><p{cls}>{t(text)}</p><p><a href="/new">{t(again)}</a></p>', lang)


# -- the routes -------------------------------------------------------------------------------

FORM_SCHEMA = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["title", "contact"], "properties": {
        "title": {"type": "string", "maxLength": I.TITLE_MAX},
        "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
        "contact": {"type": "string", "maxLength": CONTACT_MAX, "description": "A phone number or an e-mail address."},
        "product": {"type": "string", "maxLength": PRODUCT_MAX},
        "photo": {"type": "string", "format": "binary", "description": "An image, at most intake.max_photo_kb KiB."}}}}}}}

AcceptLanguage = Annotated[str | None, Header(description="The customer's languages: the page speaks the first it can")]


class _Products:
    """The product menu: the products of the latest tickets the team opened
    (not the web form's), read at most once per :data:`PRODUCTS_TTL_S`."""

    def __init__(self, engine: Engine, cfg: Config):
        self.engine, self.default = engine, cfg.intake.product
        self.at: float | None = None
        self.names: list[str] = []

    def __call__(self) -> list[str]:
        now = time.monotonic()
        if self.at is None or now - self.at >= PRODUCTS_TTL_S:
            with self.engine.connect() as c:
                rows = c.execute(select(S.tickets.c.data).order_by(S.tickets.c.seq.desc()).limit(PRODUCTS_SCAN))
                # not the web's own tickets: a product typed into the form is the customer's words, never shown to others
                count = Counter(str(d.get("product") or "") for d in (json.loads(r[0]) for r in rows) if d.get("channel") != "web")
            count.pop("", None)
            count.pop(self.default, None)  # "other" stands for it
            top = sorted(count, key=lambda p: (-count[p], p))[:PRODUCTS_MAX]
            self.names, self.at = sorted(top, key=str.casefold), now
        return self.names


def router(engine: Engine, home: Home, cfg: Config) -> APIRouter:
    """``/new`` and ``/s/{ref}`` (see the module's docstring)."""
    r = APIRouter(tags=["public pages"])
    products = _Products(engine, cfg)
    max_kb, per_hour = cfg.intake.max_photo_kb, cfg.intake.web_per_hour

    def respond(body: str, lang: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
        return HTMLResponse(body, status_code=status, headers={
            "Content-Language": lang.replace("_", "-"), "Vary": "Accept-Language", "Referrer-Policy": "no-referrer",
            **(headers or {})})

    def language(request: Request, accept_language: str | None) -> str:
        return page_language(accept_language, request.app.state.server.lang)

    def web_source() -> Source | None:
        query = (_SOURCE.where(S.sources.c.kind == "web", S.devices.c.revoked_at.is_(None))
                 .order_by(S.sources.c.created_at, S.sources.c.name).limit(1))
        with engine.connect() as c:
            row = c.execute(query).mappings().first()
        return None if row is None else Source(row)

    def no_form(lang: str) -> HTMLResponse:
        return respond(notice_page(N_("Not found"), N_("There is no web form here."), lang), lang, 404)

    def hits(c: Connection, source: str, address: str, now: int) -> list[int]:
        """When ``address`` opened tickets through ``source`` in the last hour, oldest first."""
        return [int(x) for (x,) in c.execute(select(S.intake_hits.c.at).where(
            S.intake_hits.c.source == source, S.intake_hits.c.address == address,
            S.intake_hits.c.at > now - HOUR_S).order_by(S.intake_hits.c.at))]

    def limited(times: list[int], now: int, lang: str) -> HTMLResponse:
        wait_s = max(times[0] + HOUR_S - now, 1) if times else HOUR_S
        gettext = translator(lang).gettext
        head = gettext("Too many requests")
        msg = gettext("This address has sent {n} requests in the last hour, the most we take. Please try again in"
                      " {minutes} min, or call us.").format(n=len(times), minutes=(wait_s + 59) // 60)
        body = _page(head, f"<h1>{html.escape(head)}</h1><p class=bad>{html.escape(msg)}</p>", lang)
        return respond(body, lang, 429, {"Retry-After": str(wait_s)})

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
                if len(seen := hits(c, src.name, address, now)) >= per_hour:
                    return limited(seen, now, lang)
            photo = check_photo(data, filename, max_kb) if data else None
            with engine.begin() as c:
                d = Door(c, home, cfg, src.name, src.prefix)
                if len(seen := hits(c, src.name, address, now)) >= per_hour:
                    return limited(seen, now, lang)  # leaving the block commits: nothing was written
                key = d.open(fields)
                if photo is not None:
                    d.attach(key, photo.data, photo.name, photo.mime)
                c.execute(delete(S.intake_hits).where(S.intake_hits.c.source == src.name, S.intake_hits.c.at <= now - HOUR_S))
                c.execute(insert(S.intake_hits).values(source=src.name, address=address, at=now))
                d.commit()
        except FormError as e:
            msg = translator(lang).gettext(e.message).format(**e.values)
            return respond(form_page(entry, menu, max_kb, lang, msg), lang, e.status)
        except TicketctlError as e:  # the rules refused the ticket or its photo: the transaction rolled back
            return respond(form_page(entry, menu, max_kb, lang, localize(str(e), lang)), lang, 422)
        log.info("web form: %s opened %s from %s", src.name, key, address)
        link = base.rstrip("/") + "/s/" + status_ref(status_secret(engine), key)
        return respond(answer_page(key, link, lang), lang, 201)

    @r.get("/s/{ref}", response_class=HTMLResponse)
    def status(ref: str, request: Request, accept_language: AcceptLanguage = None) -> HTMLResponse:
        """The progress of a ticket for whoever holds its status link (``KEY.TOKEN``):
        no personal data; a wrong token is the same 404 as an unknown key."""
        lang = language(request, accept_language)
        key = ref_key(status_secret(engine), ref)
        row = None
        if key is not None:
            with engine.connect() as c:
                row = c.execute(select(S.tickets.c.data).where(S.tickets.c.key == key)).first()
                events = list(c.execute(select(S.events).where(S.events.c.ticket == key).order_by(S.events.c.seq)).mappings())
        if row is None:
            return respond(notice_page(N_("Not found"), N_("There is no request at this link."), lang, "bad"), lang, 404)
        t = ticket_from_json(row[0])
        history = status_history(events, cfg)
        return respond(status_page(t, history, cfg.business_calendar.tz, lang), lang, headers={"Cache-Control": "no-store"})

    return r


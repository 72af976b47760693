"""The rules of the customers' web form (``server.web.form``), with no database
and no HTTP: what a post's fields must be and which ticket fields they make,
which photos it takes, what a status link is, and how a ticket's progress reads.

Each refusal is a :class:`FormError`: an HTTP status and a msgid with its
values, which the form shows in the browser's language above what the
customer typed.

A status link is ``/s/KEY.TOKEN``, the token an HMAC of the key under the
server's ``status_secret`` (``server.store.forms``): a link cannot be guessed
from a key, and a wrong token names no ticket (:func:`ref_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from ticketctl.core import intake as I
from ticketctl.core.config import Config
from ticketctl.core.model import Event, Ticket
from ticketctl.core.workflow import apply
from ticketctl.i18n import N_

DESCRIPTION_MAX = 5000
CONTACT_MAX = 200
PRODUCT_MAX = 100
TOKEN_CHARS = 16  # 96 bits of the HMAC

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


def status_history(events: list[Event], cfg: Config) -> list[tuple[str, str]]:
    """(status, at) for the ticket's creation and each change of its status,
    replayed from the server's events of the ticket (their ``ticket.`` types)."""
    t: Ticket | None = None
    out: list[tuple[str, str]] = []
    for e in events:
        if not e.type.startswith("ticket."):
            continue
        t = apply(t, e, cfg)
        if not out or out[-1][0] != t.status:
            out.append((t.status, e.at))
    return out


# -- the status link ------------------------------------------------------------------------

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

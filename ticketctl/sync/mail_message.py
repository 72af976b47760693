"""What one mail says, as the server's mail door takes it: a raw RFC 5322
message read into the body of ``POST /intake/mail`` (ids, subject, sender,
the text, HTML turned into text, attachments), each field clipped to what the
server's ``Mail`` model takes. No network: ``sync.mailbox`` reads the mailbox."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import html
import mimetypes
import re
from collections.abc import Iterator
from email.message import EmailMessage, Message
from html.parser import HTMLParser
from typing import Any

from ticketctl.i18n import _

#: what the server's ``Mail`` model takes (``ticketctl.server.intake.bodies.Mail``); more is clipped here
MESSAGE_ID_MAX = 300
SUBJECT_MAX = 2000
SENDER_MAX = 500
TEXT_MAX = 200_000
REFS_MAX = 100
ATTACHMENTS_MAX = 50
NAME_MAX = 255
MIME_MAX = 100


def parse(raw: bytes) -> dict[str, Any]:
    """The body of ``POST /intake/mail`` for one raw message (RFC 5322 bytes):
    Message-ID (made from a hash of ``raw`` when missing), In-Reply-To and
    References (nearest first), the decoded Subject and From, the text
    (text/plain preferred, else text/html as text) and the attachments, base64."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    mid = _header(msg, "Message-ID").strip()
    message_id = _mid(mid) if mid else "<" + hashlib.sha256(raw).hexdigest()[:40] + "@ticketctl.invalid>"
    refs = _ids(_header(msg, "In-Reply-To")) + _ids(_header(msg, "References"))[::-1]
    parents = list(dict.fromkeys(_mid(r) for r in refs if _mid(r) != message_id))[:REFS_MAX]
    body = msg.get_body(preferencelist=("plain", "html")) if isinstance(msg, EmailMessage) else None
    text = ""
    if body is not None:
        text = _content(body)
        if body.get_content_type() == "text/html":
            text = html_text(text)
    files = list(_attachments(msg, body))
    if len(files) > ATTACHMENTS_MAX:
        text += "\n\n" + _("({n} more attachments were not handed over)").format(n=len(files) - ATTACHMENTS_MAX)
        files = files[:ATTACHMENTS_MAX]
    return {
        "message_id": message_id,
        "in_reply_to": parents,
        "subject": _clip(" ".join(_header(msg, "Subject").split()), SUBJECT_MAX),
        "sender": _clip(" ".join(_header(msg, "From").split()), SENDER_MAX),
        "text": _clip(text.strip(), TEXT_MAX),
        "attachments": files,
    }


def _header(msg: Message, name: str) -> str:
    """A header's decoded value, or ''. Some malformed headers make the default
    policy's parser raise; those are decoded the old way (RFC 2047 words only)."""
    try:
        value = msg.get(name)
        return "" if value is None else str(value)
    except Exception:  # email._header_value_parser on a broken header: IndexError, ValueError, ...
        from email.header import decode_header, make_header

        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                try:
                    return str(make_header(decode_header(str(raw))))
                except Exception:  # undecodable words: the raw text beats losing the header
                    return str(raw)
        return ""


_ID = re.compile(r"<[^<>\s]+>")


def _ids(value: str) -> list[str]:
    found = _ID.findall(value)
    return found or [w for w in value.split() if w]  # a bare id without its <>


def _mid(value: str) -> str:
    """A Message-ID as the server keeps it: one too long for it becomes a hash
    (the same for the message and for the replies that name it)."""
    value = value.strip()
    if len(value) <= MESSAGE_ID_MAX:
        return value
    return "<" + hashlib.sha256(value.encode()).hexdigest()[:40] + "@ticketctl.invalid>"


def _clip(text: str, n: int) -> str:
    text = text.replace("\x00", "")
    return text if len(text) <= n else text[: n - 1] + "…"


def _content(part: Message) -> str:
    """A text part as str; an unknown or lying charset is read as UTF-8, with
    what does not decode replaced."""
    if isinstance(part, EmailMessage):
        try:
            return str(part.get_content())
        except (LookupError, UnicodeError, ValueError, AssertionError):
            pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _attachments(msg: Message, body: Message | None) -> Iterator[dict[str, str]]:
    """Every file of the message, depth first: parts marked attachment, parts
    with a file name, and non-text parts (an inline photo); an attached message
    as one ``.eml`` file. The chosen body and its alternatives are not files."""
    n = 0

    def walk(part: Message) -> Iterator[dict[str, str]]:
        nonlocal n
        ctype = part.get_content_type()
        if part is body:
            return
        if ctype == "message/rfc822" and part is not msg:
            inner = part.get_payload()
            data = inner[0].as_bytes() if isinstance(inner, list) and inner and isinstance(inner[0], Message) else b""
            n += 1
            yield _file(part.get_filename() or f"message-{n}.eml", "message/rfc822", data)
            return
        if part.is_multipart():
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    yield from walk(sub)
            return
        name = part.get_filename()
        if part.get_content_disposition() == "attachment" or name or part.get_content_maintype() != "text":
            payload = part.get_payload(decode=True)
            n += 1
            ext = mimetypes.guess_extension(ctype) or ".bin"
            yield _file(name or f"attachment-{n}{ext}", ctype, payload if isinstance(payload, bytes) else b"")

    yield from walk(msg)


def _file(name: str, mime: str, data: bytes) -> dict[str, str]:
    return {"name": _clip(" ".join(name.split()) or "attachment", NAME_MAX), "mime": _clip(mime, MIME_MAX),
            "data": base64.b64encode(data).decode("ascii")}


class _Text(HTMLParser):
    """HTML to plain text: tags dropped, a line break at each block, scripts
    and styles left out, entities decoded."""

    BLOCKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote",
                        "pre", "hr", "section", "article", "header", "footer"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(data)


def html_text(markup: str) -> str:
    """The text a reader sees in ``markup``: one space between words, a line per block, at most one blank line."""
    p = _Text()
    p.feed(markup)
    p.close()
    lines = [" ".join(line.split()) for line in html.unescape("".join(p.out)).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

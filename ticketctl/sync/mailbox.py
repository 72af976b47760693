"""The mail door's client: ``ticketctl intake imap`` reads a mailbox over IMAP
and hands each message it has not handed over yet to the server's
``/intake/mail`` (``ticketctl.server.intake``), which opens a ticket for a new
message and notes the ticket a reply answers.

One pass::

    LOGIN, SELECT mailbox
    UID SEARCH UNKEYWORD $Ticketctl UNDELETED
    for each UID, oldest first:
        UID FETCH uid BODY.PEEK[]   (\\Seen stays as it was)
        parse ──> POST /intake/mail
          200 opened | noted | duplicate ─┐
          413 too large, 422 refused ─────┴─> UID STORE uid +FLAGS ($Ticketctl)
          401 | 403 | 5xx | unreachable ────> stop the pass; this message and the
                                              later ones stay unflagged
    LOGOUT   (never CLOSE: that would expunge messages someone marked \\Deleted)

The keyword ``$Ticketctl`` is the mailbox's own memory of what went over, so
nothing else is kept here. A crash (or a lost connection) between the POST and
the STORE leaves a message unflagged that the server already has: the next
pass sends it again and the server, which remembers every Message-ID, answers
``duplicate`` and changes nothing. A message without a Message-ID gets one
made from a hash of its bytes, the same on every pass.

Headless: imports neither pydantic nor the server; httpx only when a pass runs.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ticketctl.errors import BadInput, NotFound, Refused, Unreachable
from ticketctl.i18n import _
from ticketctl.sync.mail_message import parse

#: the keyword a handed-over message carries (RFC 3501 keywords start with $ by convention)
KEYWORD = "$Ticketctl"
IMAP_TIMEOUT_S = 30.0
HTTP_TIMEOUT_S = 60.0

Security = Literal["ssl", "starttls", "plain"]
Notice = Callable[[str], None]


@dataclass(frozen=True)
class Mailbox:
    """Where the mail is and how to log in (``security``: IMAP over TLS, STARTTLS,
    or plain text, which :func:`check` allows only to a loopback address)."""

    host: str
    port: int
    user: str
    password: str
    mailbox: str = "INBOX"
    security: Security = "ssl"
    cafile: str | None = None
    insecure: bool = False


@dataclass(frozen=True)
class Door:
    """The ticketctl server and the token of an ``imap`` source (``server add-source``)."""

    url: str
    token: str


def check(box: Mailbox, door: Door) -> None:
    """Refuse settings that can never work, or would send a password in clear
    text over a network, before anything connects. Raises BadInput."""
    if not re.match(r"https?://[^/\s]+", door.url):
        raise BadInput(_("--server {url!r} must be a URL like http://10.0.0.5:8765").format(url=door.url))
    try:
        box.host.encode("idna")
    except UnicodeError:
        raise BadInput(_("--host {host!r} is not a host name").format(host=box.host[:80])) from None
    if not door.token.strip():
        raise BadInput(_("no intake token: --token TOKEN or TICKETCTL_INTAKE_TOKEN (from `ticketctl server add-source NAME"
                         " --kind imap`)"))
    if box.security == "plain":
        if box.cafile or box.insecure:
            raise BadInput(_("--cafile and --insecure are about TLS; --plain has none"))
        if not _loopback(box.host):
            raise BadInput(_("--plain sends the password in clear text: only to this machine (127.0.0.1, ::1, localhost),"
                             " not to {host}").format(host=box.host))
    if box.cafile and box.insecure:
        raise BadInput(_("--cafile trusts a CA, --insecure trusts anyone: give one of them"))


def _loopback(host: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addresses)


# -- one pass -------------------------------------------------------------------------------


def run_pass(box: Mailbox, door: Door, notice: Notice | None = None) -> dict[str, Any]:
    """Hand every message of the mailbox not flagged ``$Ticketctl`` to the server
    and flag those it took (or refused for good: 413, 422, each named in a
    ``notice``). Returns ``opened``, ``noted`` and ``duplicates`` (ticket keys),
    ``skipped`` (with reasons) and ``messages`` (each one's outcome and ticket).

    Raises Unreachable (the mail server or the ticketctl server cannot be
    reached, or the server failed: 5xx), Refused (a login, token or mailbox
    refused) or NotFound (no such mailbox); the message being handed over then
    stays unflagged, for the next pass."""
    say = notice or (lambda _text: None)
    summary: dict[str, Any] = {"mailbox": box.mailbox, "opened": [], "noted": [], "duplicates": [], "skipped": [], "messages": []}
    imap = _connect(box)
    server = None
    try:
        server = _Server(door)
        for uid in _unflagged(box, imap):
            raw = _fetch(box, imap, uid)
            if raw is None:  # expunged since the search
                continue
            answer: Any
            try:
                mail = parse(raw)
            except Exception as e:  # a message the email package cannot read must not block every later pass
                row = {"uid": int(uid), "message_id": "", "subject": ""}
                status, answer = 0, _("cannot read the message: {error}").format(error=f"{type(e).__name__}: {e}")
            else:
                row = {"uid": int(uid), "message_id": mail["message_id"], "subject": mail["subject"]}
                status, answer = server.hand_over(mail)
            if status == 200:
                key = str(answer.get("ticket") or "")
                outcome = "duplicate" if answer.get("duplicate") else "opened" if key in answer.get("opened", []) else "noted"
                summary["duplicates" if outcome == "duplicate" else outcome].append(key)
                summary["messages"].append({**row, "outcome": outcome, "ticket": key})
            else:
                summary["skipped"].append({**row, "reason": str(answer)})
                summary["messages"].append({**row, "outcome": "skipped", "ticket": None})
                say(_("skipped message {mid} (UID {uid}, subject {subject!r}): {reason}").format(
                    mid=row["message_id"] or "?", uid=uid, subject=row["subject"], reason=answer))
            _flag(box, imap, uid)
    finally:
        if server is not None:
            server.close()
        _logout(imap)
    return summary


def watch(box: Mailbox, door: Door, every_s: float, on_pass: Callable[[dict[str, Any]], None], notice: Notice | None = None,
          sleep: Callable[[float], None] = time.sleep) -> None:
    """A pass every ``every_s`` seconds (from the start of one to the start of
    the next) until interrupted. A pass that cannot reach a server reports
    ``{"error": ...}`` and the next one tries again; a refusal (login, token,
    mailbox) is raised: it will not mend itself."""
    while True:
        start = time.monotonic()
        try:
            on_pass(run_pass(box, door, notice))
        except Unreachable as e:
            on_pass({"mailbox": box.mailbox, "error": str(e)})
        sleep(max(0.0, start + every_s - time.monotonic()))


# -- IMAP -------------------------------------------------------------------------------------


def _where(box: Mailbox) -> str:
    return f"{box.host}:{box.port}"


def _context(box: Mailbox) -> ssl.SSLContext:
    try:
        ctx = ssl.create_default_context(cafile=box.cafile)
    except (OSError, ssl.SSLError) as e:
        raise BadInput(_("--cafile {path}: cannot read it as PEM certificates ({error})").format(path=box.cafile, error=e)) from None
    if box.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _connect(box: Mailbox) -> imaplib.IMAP4:
    """Connected, logged in, the mailbox selected read-write and able to keep the keyword."""
    where = _where(box)
    try:
        if box.security == "ssl":
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(box.host, box.port, ssl_context=_context(box), timeout=IMAP_TIMEOUT_S)
        else:
            imap = imaplib.IMAP4(box.host, box.port, timeout=IMAP_TIMEOUT_S)
            if box.security == "starttls":
                try:
                    imap.starttls(ssl_context=_context(box))
                except BaseException:
                    with contextlib.suppress(OSError):  # a failed handshake may have closed it already
                        imap.shutdown()
                    raise
    except ssl.SSLCertVerificationError as e:
        raise Refused(_("the mail server {where} has a certificate this machine does not trust ({why}); --cafile FILE"
                        " trusts a private CA").format(where=where, why=e.verify_message or e.reason)) from None
    except (OSError, imaplib.IMAP4.abort) as e:
        raise _unreachable(box, e) from None
    except imaplib.IMAP4.error as e:
        raise Refused(_("the mail server {where} refused TLS: {why}").format(where=where, why=_why(e))) from None
    try:
        _login(box, imap)
        _select(box, imap)
    except BaseException:
        _logout(imap)
        raise
    return imap


def _login(box: Mailbox, imap: imaplib.IMAP4) -> None:
    try:
        if (box.user + box.password).isascii():
            imap.login(box.user, box.password)
        else:  # LOGIN's quoted strings are ASCII in imaplib; AUTHENTICATE PLAIN carries UTF-8
            imap.authenticate("PLAIN", lambda _challenge: f"\0{box.user}\0{box.password}".encode())
    except (OSError, imaplib.IMAP4.abort) as e:
        raise _unreachable(box, e) from None
    except imaplib.IMAP4.error as e:
        raise Refused(_("the mail server {where} refused the login of {user}: {why}").format(
            where=_where(box), user=box.user, why=_why(e))) from None


def _select(box: Mailbox, imap: imaplib.IMAP4) -> None:
    try:
        typ, data = imap.select(_quote(_utf7(box.mailbox)))
    except imaplib.IMAP4.readonly:
        raise Refused(_("mailbox {mailbox!r} is read-only for {user}: the keyword {keyword} cannot be set").format(
            mailbox=box.mailbox, user=box.user, keyword=KEYWORD)) from None
    except (OSError, imaplib.IMAP4.abort) as e:
        raise _unreachable(box, e) from None
    except imaplib.IMAP4.error as e:  # BAD: a name the server cannot take
        raise Refused(_("the mail server {where} refused mailbox {mailbox!r}: {why}").format(
            where=_where(box), mailbox=box.mailbox, why=_why(e))) from None
    if typ != "OK":
        raise NotFound(_("the mail server {where} has no mailbox {mailbox!r}: {why}").format(
            where=_where(box), mailbox=box.mailbox, why=_text(data)))
    _typ, flags = imap.response("PERMANENTFLAGS")
    allowed = _text(flags).lower()
    # no PERMANENTFLAGS at all: every flag is permanent (RFC 3501 7.1); \* means any new keyword is
    if flags and flags[0] is not None and "\\*" not in allowed and KEYWORD.lower() not in allowed:
        raise Refused(_("mailbox {mailbox!r} cannot keep the keyword {keyword} (PERMANENTFLAGS {flags}); without it every"
                        " pass would hand over every message again").format(mailbox=box.mailbox, keyword=KEYWORD,
                                                                           flags=_text(flags)))


def _unflagged(box: Mailbox, imap: imaplib.IMAP4) -> list[str]:
    typ, data = _command(box, imap, "SEARCH", "UNKEYWORD", KEYWORD, "UNDELETED")
    if typ != "OK":
        raise Refused(_("the mail server {where} refused the search: {why}").format(where=_where(box), why=_text(data)))
    return sorted({u for chunk in data if isinstance(chunk, bytes) for u in chunk.decode("ascii").split()}, key=int)


def _fetch(box: Mailbox, imap: imaplib.IMAP4, uid: str) -> bytes | None:
    typ, data = _command(box, imap, "FETCH", uid, "(BODY.PEEK[])")
    if typ != "OK":
        raise Refused(_("the mail server {where} refused to fetch message UID {uid}: {why}").format(
            where=_where(box), uid=uid, why=_text(data)))
    for part in data:
        if isinstance(part, tuple) and b"BODY[]" in part[0].upper():
            return bytes(part[1])
    return None


def _flag(box: Mailbox, imap: imaplib.IMAP4, uid: str) -> None:
    typ, data = _command(box, imap, "STORE", uid, "+FLAGS.SILENT", f"({KEYWORD})")
    if typ != "OK":
        raise Refused(_("the mail server {where} refused to flag message UID {uid} {keyword}: {why}").format(
            where=_where(box), uid=uid, keyword=KEYWORD, why=_text(data)))


def _command(box: Mailbox, imap: imaplib.IMAP4, *args: str) -> tuple[str, list[Any]]:
    try:
        typ, data = imap.uid(*args)
    except (OSError, imaplib.IMAP4.abort) as e:
        raise _unreachable(box, e) from None
    except imaplib.IMAP4.error as e:
        raise Refused(_("the mail server {where} refused {command}: {why}").format(where=_where(box), command=args[0],
                                                                                  why=_why(e))) from None
    return str(typ), list(data)


def _logout(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except (OSError, imaplib.IMAP4.error):
        pass  # the connection is gone already; nothing was left to say


def _unreachable(box: Mailbox, e: BaseException) -> Unreachable:
    return Unreachable(_("the mail server {where} is unreachable ({error})").format(where=_where(box), error=_why(e)))


def _why(e: BaseException) -> str:
    """What went wrong, in one line: the IMAP server's own words, or the kind of network error and its text."""
    arg = e.args[0] if len(e.args) == 1 else None
    text = " ".join((arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(e)).split())
    if isinstance(e, imaplib.IMAP4.error) and not isinstance(e, imaplib.IMAP4.abort) and text:
        return text
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _text(data: Any) -> str:
    parts = data if isinstance(data, list) else [data]
    return " ".join(p.decode("utf-8", "replace") if isinstance(p, bytes) else str(p) for p in parts if p is not None)


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _utf7(name: str) -> str:
    """A mailbox name in IMAP's modified UTF-7 (RFC 3501 5.1.3): ``收件箱`` is ``&ZTZO9nux-``."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            b64 = base64.b64encode("".join(run).encode("utf-16-be")).decode("ascii").rstrip("=").replace("/", ",")
            out.append(f"&{b64}-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


# -- the ticketctl server ---------------------------------------------------------------------


class _Server:
    """``POST /intake/mail`` with the source's token. A dropped connection is
    tried once more (safe: the server dedups by Message-ID)."""

    def __init__(self, door: Door):
        import httpx

        self.url = door.url.rstrip("/")
        self._httpx = httpx
        self.http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {door.token.strip()}"},
                                 timeout=httpx.Timeout(HTTP_TIMEOUT_S, connect=5.0))

    def close(self) -> None:
        self.http.close()

    def hand_over(self, mail: dict[str, Any]) -> tuple[int, Any]:
        """(200, the answer) or (413 | 422, the reason); anything else raises."""
        httpx = self._httpx
        for attempt in (1, 2):
            try:
                r = self.http.post("/intake/mail", json=mail)
                break
            except httpx.TransportError as e:
                if attempt == 1:
                    time.sleep(1.0)
                    continue
                raise Unreachable(_("the server at {url} is unreachable ({error}); the mail stays in the mailbox for the"
                                    " next pass").format(url=self.url, error=type(e).__name__)) from None
        if r.status_code in (413, 422):
            return r.status_code, f"{r.status_code} {_detail(r)}"
        if r.status_code in (401, 403):
            raise Refused(_("the server refused the intake token: {detail} (a source of kind imap: `ticketctl server"
                            " add-source NAME --kind imap`)").format(detail=_detail(r)))
        if r.status_code >= 500:
            raise Unreachable(_("the server at {url} failed ({status}); the mail stays in the mailbox for the next pass").format(
                url=self.url, status=r.status_code))
        try:
            answer = r.json() if r.status_code == 200 else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise Refused(_("the server at {url} answered {status} to /intake/mail: {detail} (is it a ticketctl server"
                            " with the mail door?)").format(url=self.url, status=r.status_code, detail=_detail(r)))
        return 200, answer


def _detail(r: Any) -> str:
    try:
        detail = r.json().get("detail")
    except (ValueError, AttributeError):
        return " ".join(r.text[:200].split())
    if isinstance(detail, list):  # FastAPI's validation errors: where and why
        return "; ".join(f"{'.'.join(str(x) for x in d.get('loc', []))}: {d.get('msg', '')}" for d in detail if isinstance(d, dict))
    return str(detail)

"""The customer's confirmation by phone: ``/c/{token}``, the link the
technician's QR code opens (``services.confirm``: single use, expiring, kept
only as its hash). No login: the token is the key."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from ticketctl.errors import TicketctlError
from ticketctl.i18n import N_, localize
from ticketctl.server.context import Ctx, Server
from ticketctl.server.store.engine import lock_sequence
from ticketctl.server.store.team import ServerStore
from ticketctl.server.web.pages import AcceptLanguage, html_page, notice, page_language, render
from ticketctl.services.mutations import intent

FORM_UNREADABLE = N_("the form could not be read: ratings are whole numbers from 1 to 5")
#: the most of a posted form that is read (the route's body limit is larger: ``server.limits``)
FORM_MAX = 20_000

router = APIRouter(tags=["public pages"])


@router.get("/c/{token}", response_class=HTMLResponse)
def confirm_page(server: Ctx, token: str, accept_language: AcceptLanguage = None) -> HTMLResponse:
    """The customer's confirmation form (the link the technician's QR code opens; no token needed)."""
    from ticketctl.services import confirm

    lang = page_language(accept_language, server.lang)
    with server.engine.connect() as c:
        try:
            status = confirm.link_status(server.env(ServerStore(c, "customer"), "customer"), token)
        except TicketctlError as e:
            return html_page(not_valid_page(str(e), lang), lang, 404)
    return html_page(confirm_form(token, status, lang), lang)


@router.post("/c/{token}", response_class=HTMLResponse)
async def confirm_submit(server: Ctx, token: str, request: Request, accept_language: AcceptLanguage = None) -> HTMLResponse:
    """The customer's answer: three ratings (``rating`` x3), ``comment``, ``by``
    (form-encoded). Recorded once; the technician sees it on the next sync."""
    body = await request.body()
    return await run_in_threadpool(_record, server, token, body, page_language(accept_language, server.lang))


def _record(server: Server, token: str, body: bytes, lang: str) -> HTMLResponse:
    from ticketctl.services import confirm

    try:
        form = read_form(body[:FORM_MAX])
        with server.engine.begin() as c:
            lock_sequence(c)
            st = ServerStore(c, "customer")
            env = server.env(st, "customer")
            args = {"token": token, **form}
            with intent(env, "ticket.confirm_token", args, str(uuid.uuid4())):
                done = confirm.confirm_by_token(env, **args)
            st.flush()
    except TicketctlError as e:
        return html_page(not_recorded_page(str(e), lang), lang, 409)
    return html_page(thanks_page(done["key"], lang), lang)


def not_valid_page(message: str, lang: str) -> str:
    return notice(N_("Link not valid"), message, lang)


def not_recorded_page(message: str, lang: str) -> str:
    return notice(N_("Not recorded"), message, lang)


def thanks_page(key: str, lang: str) -> str:
    return render("confirm/thanks.html", lang, key=key)


def confirm_form(token: str, status: dict[str, Any], lang: str = "en") -> str:
    """The form for an open link; for a used or expired one, why it takes no answer."""
    return render("confirm/form.html", lang, token=token, key=status["key"], title=status["title"], state=status["state"],
                  expires_at=status["expires_at"], questions=[localize(q, lang) for q in status["questions"]])


def read_form(body: bytes) -> dict[str, Any]:
    """The confirmation form's fields (``application/x-www-form-urlencoded``)."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
        ratings = [int(x) for x in fields.get("rating", [])]
    except (UnicodeDecodeError, ValueError):
        raise TicketctlError(FORM_UNREADABLE) from None
    return {"ratings": ratings, "comment": (fields.get("comment") or [""])[0], "by": (fields.get("by") or [""])[0]}

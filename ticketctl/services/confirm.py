"""The customer's confirmation: in person on the technician's terminal, or by
phone through a single-use link the technician shows as a QR code.

The phone path, end to end (the server side lives in ``ticketctl.server.web.confirm``)::

    technician: request_qr(env, key, base)  -> token "ABC-12.<random>", url base/c/<token>
                  records ticket.confirm_requested {token: sha256(token), expires_at}
                  (a mutation: the server learns the hash, never the token)
    customer:   opens base/c/<token> on the phone; the server shows the form
                  (link_status) and on submit runs confirm_by_token(...)
    server:     confirm_by_token checks the hash is open, unused and not expired
                  by the server's clock, then records ticket.confirmed (via qr)

The token starts with the ticket key so the server finds the ticket without a
search; the random part (128 bits) is what makes it unguessable.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from ticketctl.core import evidence
from ticketctl.core.model import iso, parse_time
from ticketctl.errors import BadInput, NotFound, Refused
from ticketctl.i18n import N_, _
from ticketctl.services.env import Env
from ticketctl.services.mutations import mutation
from ticketctl.services.tickets import act

#: the three ratings' questions, in English (the page shows each in the customer's language: ``_(q)``)
QUESTIONS = (N_("Is the problem solved?"), N_("Was the technician professional?"), N_("Was the work on time?"))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_ticket(token: str) -> str:
    """The ticket key a token names (``ABC-12.xyz`` -> ``ABC-12``); NotFound when malformed."""
    key, dot, rest = token.partition(".")
    if not dot or not key or len(rest) < 16:
        raise NotFound(_("this confirmation link is not valid (ask the technician for a new one)"))
    return key


@mutation("ticket.confirm")
def confirm(env: Env, key: str, ratings: list[int], comment: str, by: str) -> dict[str, Any]:
    """The customer confirms in person: three ratings 1-5 (problem solved,
    professional, on time), a comment of 10+ characters, their name."""
    return act(env, key, lambda t: evidence.decide_confirm(t, ratings, comment, by))


@mutation("ticket.confirm_request")
def open_link(env: Env, key: str, token_hash: str, expires_at: str) -> dict[str, Any]:
    """Record a confirmation link by its token's hash (what :func:`request_qr` makes)."""
    return act(env, key, lambda t: evidence.decide_confirm_request(t, token_hash, expires_at))


def confirm_url(env: Env, base_url: str | None) -> str:
    """The server's base URL: ``base_url``, else the config's ``proof.url``, else
    the sync server's; BadInput naming the ways to give one when there is none."""
    base = env.public_url(base_url)
    if not base:
        raise BadInput(_("no server URL to send the customer to: pass --url https://tickets.example.com"
                         " or set it once with `ticketctl config set proof.url https://...`"))
    if not base.startswith(("http://", "https://")):
        raise BadInput(_("--url {url!r} is not an http(s) URL").format(url=base))
    return base


def request_qr(env: Env, key: str, base_url: str | None = None) -> dict[str, Any]:
    """Open a single-use link for the customer's phone; returns ``{key, url,
    token, expires_at}``. The link expires after ``proof.token_ttl``."""
    base = confirm_url(env, base_url)
    st = env.store
    exact = st.resolve_key(key)
    token = f"{exact}.{secrets.token_urlsafe(16)}"
    expires = iso(env.now + timedelta(seconds=env.config.wall(env.config.proof.token_ttl)))
    open_link(env, exact, token_hash(token), expires)
    return {"key": exact, "url": f"{base}/c/{token}", "token": token, "expires_at": expires}


def link_status(env: Env, token: str) -> dict[str, Any]:
    """What the server's ``/c/{token}`` page shows before the form: the ticket's
    key and title and whether the link is ``open``, ``used`` or ``expired``.
    NotFound for a link this store does not know."""
    st = env.mutation_store  # the server's /c/ page reads its own store
    key = token_ticket(token)
    if not st.has_ticket(key):
        raise NotFound(_("this confirmation link is not valid (ask the technician for a new one)"))
    t = st.ticket(key)
    link = t.confirm_tokens.get(token_hash(token))
    if link is None:
        raise NotFound(_("this confirmation link is not valid (ask the technician for a new one)"))
    state = "used" if link.get("used_at") else "expired" if env.now >= parse_time(link["expires_at"]) else "open"
    return {"key": t.key, "title": t.title, "state": state, "expires_at": link["expires_at"],
            "questions": list(QUESTIONS)}


@mutation("ticket.confirm_token", resolve_key=False)
def confirm_by_token(env: Env, token: str, ratings: list[int], comment: str, by: str) -> dict[str, Any]:
    """The customer's confirmation from the phone link (the server calls this).
    Refused when the link is unknown, used or expired at ``env.now``."""
    key = token_ticket(token)
    if not env.mutation_store.has_ticket(key):
        raise Refused(_("this confirmation link is not valid (ask the technician for a new one)"))
    h = token_hash(token)
    return act(env, key, lambda t: evidence.decide_confirm_token(t, h, env.now, ratings, comment, by))

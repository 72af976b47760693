"""The certificate check for whoever scans its QR code: ``/v/{payload}``.

The verdict is the signature against the enrolled keys (a revoked device's
certificate only when the server countersigned it before the revocation),
then what the team's log says about it. The page shows what a customer can
check against what they remember, from the server's copy of the ticket as it
was when the certificate was issued (its events replayed up to it): the work,
the dates, the technician, the customer's confirmation and ratings, and
whether the ticket was reopened since. Never the customer's phone, the
comment or internal notes. ``?format=json`` gives scripts the same.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from ticketctl.core import certificate
from ticketctl.core.config import Config
from ticketctl.core.labels import label
from ticketctl.core.model import Ticket
from ticketctl.i18n import N_, localize, translator
from ticketctl.server.context import Ctx
from ticketctl.server.countersign import device_keys
from ticketctl.server.store.team import ServerStore
from ticketctl.server.web.pages import AcceptLanguage, html_page, page_language, render

#: what the verdict warns about (English in ``?format=json``; the page shows them through :func:`ticketctl.i18n.localize`)
NOT_ON_SERVER = N_("{ticket} has not reached the server yet")
CERT_NOT_ON_SERVER = N_("certificate {cert_id} has not reached the server yet (issued offline)")
OTHER_HASH = N_("content changed (the server recorded another content hash for this certificate)")
REOPENED = N_("{key} was reopened after this certificate; it is {status} now")

router = APIRouter(tags=["public pages"])


@router.get("/v/{payload}")
def verify_page(server: Ctx, payload: str, format: Annotated[str, Query(pattern="^(html|json)$")] = "html",
                accept_language: AcceptLanguage = None) -> Response:
    """Whoever scans a certificate's QR code lands here: the verdict on its
    signature, and whether the server countersigned it (``?format=json`` for scripts)."""
    with server.engine.begin() as c:
        v = verdict(c, payload[:2000], server.config)
    if format == "json":
        return JSONResponse(v)
    lang = page_language(accept_language, server.lang)
    return html_page(verdict_page(v, lang, server.config), lang, 200 if v["valid"] else 422)


def verdict(c: Connection, text: str, cfg: Config | None = None) -> dict[str, Any]:
    """The server's verdict on a certificate payload: the signature against
    the enrolled keys (a revoked device's certificate only when countersigned
    before the revocation), then what the team's log says about it. A valid
    certificate the server holds gains what a customer can check
    (:func:`facts`); ``cfg``: the rules its timeline is replayed by."""
    keys = device_keys(c)
    st = ServerStore(c, "customer")
    out: dict[str, Any] = {"valid": False, "reason": "", "countersigned": False, "countersigned_at": None, "revoked_at": None,
                           "ticket": None, "cert_id": None, "warnings": [], **NO_FACTS}
    try:
        p: certificate.Payload | None = certificate.decode_payload(certificate.extract_payload(text))
    except ValueError:
        p = None
    t = record = None
    if p is not None:
        t = st.ticket(p.ticket) if st.has_ticket(p.ticket) else None
        record = next((x for x in t.certificates if x["cert_id"] == p.cert_id), None) if t is not None else None
        at = certificate.countersigned_at(record, p, keys)
        out.update(countersigned=at is not None, countersigned_at=at, revoked_at=(keys.get(p.key_id) or {}).get("revoked_at"))
    ok, reason = certificate.verify(text, keys, None, out["countersigned_at"])
    out.update(valid=ok, reason=reason)
    if not ok or p is None:
        return out
    out.update(ticket=p.ticket, cert_id=p.cert_id)
    if t is None:
        out["warnings"].append(NOT_ON_SERVER.format(ticket=p.ticket))
    elif record is None:
        out["warnings"].append(CERT_NOT_ON_SERVER.format(cert_id=p.cert_id))
    elif record["content_hash"] != p.content_hash:
        out.update(valid=False, reason=OTHER_HASH)
    else:
        if record.get("round", 0) != t.reopen_count or t.status != "closed":
            out["warnings"].append(REOPENED.format(key=t.key, status=t.status))
        out.update(facts(st, t, p.cert_id, cfg or Config()))
    return out


#: the keys :func:`facts` fills, empty (a verdict has them all, whatever it says)
NO_FACTS: dict[str, Any] = {"work": None, "issued_at": None, "closed_at": None, "technician": None, "confirmation": None,
                            "reopened": None, "reopened_at": None, "status": None}


def facts(st: ServerStore, now: Ticket, cert_id: str, cfg: Config) -> dict[str, Any]:
    """What the certificate's page shows a customer, from the server's copy:
    the ticket's events replayed up to the certificate's issue (the ticket as
    certified) and its state now. ``work``, ``issued_at``, ``closed_at``,
    ``technician``, ``confirmation`` (by, at, via, ratings; None when the type
    needs none), ``reopened`` (since the certificate) with ``reopened_at`` and ``status``.
    A verdict that has none of them (not valid, not on the server) has them all None."""
    from ticketctl.core.workflow import fold

    events = list(st.events(now.key))
    upto = next((i for i, e in enumerate(events) if e.type == "ticket.certified" and e.payload.get("cert_id") == cert_id), None)
    if upto is None:
        return dict(NO_FACTS)
    then, _spans = fold(None, events[:upto + 1], cfg)
    reopened = next((e.at for e in events[upto + 1:] if e.type == "ticket.reopened"), None)
    conf = then.confirmation
    return {"work": {"key": then.key, "title": then.title, "type": then.type}, "issued_at": events[upto].at,
            "closed_at": then.closed_at, "technician": then.assignee,
            "confirmation": {"by": conf["by"], "at": conf["at"], "via": conf["via"], "ratings": dict(conf["ratings"])}
            if conf else None,
            "reopened": reopened is not None, "reopened_at": reopened, "status": now.status}


#: how a confirmation was given, as the page says it (other values are shown as they are)
VIA = {"in_person": N_("in person, on the technician's device"), "qr": N_("on the customer's phone (QR link)")}


def _when(at: str | None) -> str:
    return at.replace("T", " ").replace("Z", " UTC") if at else "-"


def verdict_page(v: dict[str, Any], lang: str = "en", cfg: Config | None = None) -> str:
    """The verdict (:func:`verdict`, English) as a page in ``lang``; values
    (the work's type, a status) by their labels in ``lang`` (the team's own from ``cfg``)."""
    return render("verify/verdict.html", lang, valid=v["valid"], reason=localize(str(v["reason"] or ""), lang),
                  facts=_page_facts(v, lang, cfg), countersigned=v["countersigned"],
                  warnings=[_warning(w, v, lang, cfg) for w in v["warnings"]])


def _warning(text: str, v: dict[str, Any], lang: str, cfg: Config | None) -> str:
    """A warning of the verdict in ``lang``; the reopened ticket's status by its label."""
    if v.get("status") and v.get("ticket") and text == REOPENED.format(key=v["ticket"], status=v["status"]):
        return translator(lang).gettext(REOPENED).format(key=v["ticket"], status=label("status", v["status"], cfg, lang))
    return localize(text, lang)


def _page_facts(v: dict[str, Any], lang: str, cfg: Config | None = None) -> dict[str, Any] | None:
    """The facts of :func:`facts` as the page shows them (times in words, labels in ``lang``); None when the server has none."""
    if not v.get("work"):
        return None
    gettext = translator(lang).gettext
    work = {**v["work"], "type": label("type", v["work"]["type"], cfg, lang)}
    out: dict[str, Any] = {"work": work, "issued_at": _when(v["issued_at"]), "closed_at": _when(v["closed_at"]),
                           "technician": v["technician"] or "-", "confirmation": None, "ratings": [], "reopened": None}
    conf = v.get("confirmation")
    if conf:
        via = gettext(VIA[conf["via"]]) if conf["via"] in VIA else label("confirm", str(conf["via"]), cfg, lang)
        out["confirmation"] = {"by": conf["by"], "at": _when(conf["at"]), "via": via}
        out["ratings"] = [(gettext(label), conf["ratings"].get(k, "-")) for k, label in certificate.RATING_LABELS.items()]
    if v.get("reopened"):
        out["reopened"] = {"at": _when(v["reopened_at"]), "status": label("status", v["status"], cfg, lang)}
    return out

"""The server's side of closing with proof: the customer's confirmation page
(``/c/{token}``), the certificate verification page (``/v/{payload}``), the
public keys of enrolled devices (``/sync/keys``) and countersigning.

Countersigning: when a device's ``ticket.certify`` reaches the server, the
server checks the certificate's signature against the key that device
enrolled with, then appends ``ticket.countersigned`` (its own Ed25519
signature over the payload), dated by the server's clock, in the same
transaction. A certificate issued offline is valid at once (the device's
signature) and shows as countersigned once it has synced. The
countersignature is what keeps a certificate valid after its device is
revoked: one countersigned before the revocation stays valid (and says when the
key was revoked), any other of that device's is not
(:func:`ticketctl.core.certificate.verify`).

The verification page shows what a customer can check against what they
remember, from the server's copy of the ticket as it was when the certificate
was issued (its events replayed up to it): the work, the dates, the
technician, the customer's confirmation and ratings, and whether the ticket was
reopened since. Never the customer's phone, the comment or internal notes.

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
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Connection, insert, select

from ticketctl.core import certificate
from ticketctl.core.config import Config
from ticketctl.core.model import Ticket
from ticketctl.errors import TicketctlError
from ticketctl.i18n import LANGUAGES, N_, localize, translator
from ticketctl.server import schema as S
from ticketctl.server.store import event_from_server_row, now_iso, ticket_from_json
from ticketctl.services.env import Env

SERVER_DEVICE = certificate.SERVER_DEVICE


_SERVER_KEYS: dict[str, tuple[Any, str, str]] = {}


def server_key(c: Connection) -> tuple[Any, str, str]:
    """The server's signing key (made once, kept in ``server_meta``): the
    private key object, its public PEM and its key id. Read once per process."""
    url = str(c.engine.url)
    if url not in _SERVER_KEYS:
        _SERVER_KEYS[url] = _load_server_key(c)
    return _SERVER_KEYS[url]


def _load_server_key(c: Connection) -> tuple[Any, str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    row = c.execute(select(S.server_meta.c.value).where(S.server_meta.c.key == "signing_key")).first()
    if row is None:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        c.execute(insert(S.server_meta).values(key="signing_key", value=pem))
    else:
        loaded = serialization.load_pem_private_key(row[0].encode(), None)
        assert isinstance(loaded, Ed25519PrivateKey)
        key = loaded
    pub = key.public_key()
    pub_pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    from ticketctl.services.keys import key_id_of

    return key, pub_pem, key_id_of(pub_pem)


def device_keys(c: Connection) -> dict[str, dict[str, Any]]:
    """Key id -> {pem, device, revoked_at} for every enrolled device's key, and the server's own.

    Only keys that pass ``keys.key_problem``; a key id two devices hold (possible
    in a database from before ``/sync/hello`` refused it) stays with the device
    enrolled first, never with the one that copied it."""
    from ticketctl.services.keys import key_problem

    out: dict[str, dict[str, Any]] = {}
    rows = c.execute(select(S.devices.c.name, S.devices.c.public_key, S.devices.c.key_id, S.devices.c.revoked_at)
                     .where(S.devices.c.public_key.is_not(None)).order_by(S.devices.c.created_at, S.devices.c.name))
    for name, pem, kid, revoked in rows:
        if kid not in out and key_problem(pem, kid) is None:
            out[kid] = {"pem": pem, "device": name, "revoked_at": revoked}
    _, pem, kid = server_key(c)
    out[kid] = {"pem": pem, "device": SERVER_DEVICE, "revoked_at": None}
    return out


def countersign(c: Connection, env: Env, device: str, args: dict[str, Any]) -> None:
    """After a device's ``ticket.certify`` ran (``env.store`` is the server's
    transaction): refuse a certificate its enrolled key did not sign, else
    append the server's countersignature."""
    from ticketctl.services.tickets import commit

    keys = device_keys(c)
    ok, reason = certificate.verify(str(args["payload"]), keys)
    entry = keys.get(str(args.get("key_id")))
    if not ok or entry is None or entry["device"] != device:
        why = reason if not ok else f"it is signed with a key that is not {device}'s enrolled key"
        raise TicketctlError(f"certificate {args.get('cert_id')} not accepted: {why}")
    import copy

    from ticketctl.core.model import parse_time

    key, _, kid = server_key(c)
    sig = certificate.b64(key.sign(str(args["payload"]).encode()))
    st = env.store
    # dated by the server's clock, not the device's: a revocation is judged against this moment
    stamped = copy.copy(env)
    stamped.__dict__["now"] = parse_time(now_iso())
    commit(stamped, st, st.ticket(str(args["key"])), str(args["key"]),
           [("ticket.countersigned", {"cert_id": args["cert_id"], "key_id": kid, "signature": sig})])


# -- pages ------------------------------------------------------------------------

STYLE = ("body{font-family:system-ui,sans-serif;max-width:34em;margin:1em auto;padding:0 1em;line-height:1.4}"
         "h1{font-size:1.3em}.ok{color:#0a6b2d}.bad{color:#a11}label{display:block;margin:.8em 0 .2em}"
         "select,textarea,input{font-size:1em;width:100%}button{font-size:1.1em;margin-top:1em;padding:.5em 1.5em}")


#: what the verdict warns about (English in ``?format=json``; the page shows them through :func:`ticketctl.i18n.localize`)
NOT_ON_SERVER = N_("{ticket} has not reached the server yet")
CERT_NOT_ON_SERVER = N_("certificate {cert_id} has not reached the server yet (issued offline)")
OTHER_HASH = N_("content changed (the server recorded another content hash for this certificate)")
REOPENED = N_("{key} was reopened after this certificate; it is {status} now")
FORM_UNREADABLE = N_("the form could not be read: ratings are whole numbers from 1 to 5")

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


def not_valid_page(message: str, lang: str) -> str:
    return notice(N_("Link not valid"), message, lang)


def not_recorded_page(message: str, lang: str) -> str:
    return notice(N_("Not recorded"), message, lang)


def thanks_page(key: str, lang: str) -> str:
    gettext = translator(lang).gettext
    return page(gettext("Thank you"), "<h1 class=ok>{}</h1><p>{}</p>".format(
        html.escape(gettext("Thank you")),
        html.escape(gettext("Your confirmation of {key} is recorded. You may close this page.").format(key=key))), lang)


def confirm_form(token: str, status: dict[str, Any], lang: str = "en") -> str:
    gettext = translator(lang).gettext
    t = html.escape
    head = f"<h1>{t(status['key'])}: {t(status['title'])}</h1>"
    if status["state"] != "open":
        why = (gettext("This confirmation link was already used. Please ask the technician for a new one.")
               if status["state"] == "used" else
               gettext("This confirmation link expired at {at}. Please ask the technician for a new one.").format(
                   at=status["expires_at"]))
        return page(gettext("Link not valid"), f"{head}<p class=bad>{t(why)}</p>", lang)
    rows = []
    for i, q in enumerate(status["questions"]):
        opts = "".join(f'<option value="{n}">{n}</option>' for n in (5, 4, 3, 2, 1))
        label = gettext("{question} (5 = very good)").format(question=localize(q, lang))
        rows.append(f'<label for="r{i}">{t(label)}</label><select id="r{i}" name="rating">{opts}</select>')
    please, comment = t(gettext("Please confirm the work done and rate it.")), t(gettext("Comment (at least 10 characters)"))
    name, button = t(gettext("Your name")), t(gettext("Confirm"))
    return page(gettext("Confirm the work"), (
        f'{head}<p>{please}</p><form method="post" action="/c/{t(token)}">{"".join(rows)}'
        f'<label for="comment">{comment}</label><textarea id="comment" name="comment" rows="3" minlength="10" required>'
        f'</textarea><label for="by">{name}</label><input id="by" name="by" required><button type=submit>{button}</button></form>'),
        lang)


def read_form(body: bytes) -> dict[str, Any]:
    """The confirmation form's fields (``application/x-www-form-urlencoded``)."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
        ratings = [int(x) for x in fields.get("rating", [])]
    except (UnicodeDecodeError, ValueError):
        raise TicketctlError(FORM_UNREADABLE) from None
    return {"ratings": ratings, "comment": (fields.get("comment") or [""])[0], "by": (fields.get("by") or [""])[0]}


def verdict(c: Connection, text: str, cfg: Config | None = None) -> dict[str, Any]:
    """The server's verdict on a certificate payload: the signature against
    the enrolled keys (a revoked device's certificate only when countersigned
    before the revocation), then what the team's log says about it. A valid
    certificate the server holds gains what a customer can check
    (:func:`facts`); ``cfg``: the rules its timeline is replayed by."""
    keys = device_keys(c)
    out: dict[str, Any] = {"valid": False, "reason": "", "countersigned": False, "countersigned_at": None, "revoked_at": None,
                           "ticket": None, "cert_id": None, "warnings": [], **NO_FACTS}
    try:
        p: certificate.Payload | None = certificate.decode_payload(certificate.extract_payload(text))
    except ValueError:
        p = None
    t = record = None
    if p is not None:
        row = c.execute(select(S.tickets.c.data).where(S.tickets.c.key == p.ticket)).first()
        t = ticket_from_json(row[0]) if row is not None else None
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
        out.update(facts(c, t, p.cert_id, cfg or Config()))
    return out


#: the keys :func:`facts` fills, empty (a verdict has them all, whatever it says)
NO_FACTS: dict[str, Any] = {"work": None, "issued_at": None, "closed_at": None, "technician": None, "confirmation": None,
                            "reopened": None, "reopened_at": None, "status": None}


def facts(c: Connection, now: Ticket, cert_id: str, cfg: Config) -> dict[str, Any]:
    """What the certificate's page shows a customer, from the server's copy:
    the ticket's events replayed up to the certificate's issue (the ticket as
    certified) and its state now. ``work``, ``issued_at``, ``closed_at``,
    ``technician``, ``confirmation`` (by, at, via, ratings; None when the type
    needs none), ``reopened`` (since the certificate) with ``reopened_at`` and ``status``.
    A verdict that has none of them (not valid, not on the server) has them all None."""
    from ticketctl.core.workflow import fold

    rows = c.execute(select(S.events).where(S.events.c.ticket == now.key).order_by(S.events.c.seq)).mappings()
    events = [event_from_server_row(r) for r in rows]
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


def verdict_page(v: dict[str, Any], lang: str = "en") -> str:
    """The verdict (:func:`verdict`, English) as a page in ``lang``."""
    gettext = translator(lang).gettext
    t = html.escape
    reason = t(localize(str(v["reason"] or ""), lang))
    if not v["valid"]:
        return page(gettext("Certificate NOT valid"), "<h1 class=bad>{}</h1><p>{}</p>".format(
            t(gettext("Certificate not valid")), reason), lang)
    if v["countersigned"]:
        counter = "<p class=ok>{}</p>".format(t(gettext("Countersigned by the service team's server.")))
    else:
        counter = "<p>{}</p>".format(t(gettext("Signed by the technician's device; not yet countersigned by the server.")))
    warn = "".join(f"<p class=bad>{t(localize(w, lang))}</p>" for w in v["warnings"])
    title = gettext("Certificate valid")
    return page(title, f"<h1 class=ok>{t(title)}</h1><p>{reason}</p>{_facts_html(v, lang)}{counter}{warn}", lang)


def _facts_html(v: dict[str, Any], lang: str) -> str:
    """The facts of :func:`facts` as a list of what to check; '' when the server has none."""
    if not v.get("work"):
        return ""
    gettext = translator(lang).gettext
    t = html.escape
    work = v["work"]
    rows = [(gettext("Work"), gettext("{key}: {title} ({type})").format(key=work["key"], title=work["title"], type=work["type"])),
            (gettext("Issued"), _when(v["issued_at"])),
            (gettext("Closed"), _when(v["closed_at"])),
            (gettext("Technician"), v["technician"] or "-")]
    conf = v.get("confirmation")
    if conf:
        via = gettext(VIA[conf["via"]]) if conf["via"] in VIA else str(conf["via"]).replace("_", " ")
        rows.append((gettext("Confirmed"), gettext("by {by}, {at}, {via}").format(by=conf["by"], at=_when(conf["at"]), via=via)))
        rows.append((gettext("Ratings"), gettext(", ").join(
            gettext("{label} {rating}/5").format(label=gettext(label), rating=conf["ratings"].get(k, "-"))
            for k, label in certificate.RATING_LABELS.items())))
    else:
        rows.append((gettext("Confirmed"), gettext("not required for this type of work")))
    if v.get("reopened"):
        since = gettext("yes, at {at}; it is {status} now").format(at=_when(v["reopened_at"]), status=v["status"])
    else:
        since = gettext("no")
    rows.append((gettext("Reopened since"), since))
    return "<dl>{}</dl>".format("".join(f"<dt>{t(k)}</dt><dd>{t(str(val))}</dd>" for k, val in rows))

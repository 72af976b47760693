"""Closing with proof, the pure rules: evidence files, the customer's confirmation,
certificates on the timeline and the QA sampler's checks. No I/O, no clock: the
services compute a file's hash, size, type and EXIF time, and pass "now" in.

Order of attach and check
=========================

A checklist item is checked either by ``close --check ITEM`` (at the moment of
closing) or by attaching evidence for it (``attach KEY FILE --for ITEM``), which
checks it at the moment of the attach when it is not checked yet. An item the
type's config lists under ``evidence`` can only be checked the second way:
the file *is* the technician's statement that the step is done.

* attach-then-check (the usual order): the attach checks the item now, and a
  photo's EXIF capture time must lie within ``proof.photo_window`` of now::

      photo taken 10:02 --- attach --for function_test at 10:05 => checked 10:05 (gap 3 min, ok)
      photo taken 09:10 --- attach --for function_test at 10:05 => refused: gap 55 min

* check-then-attach: a further file for an item already checked in this round
  must have been captured within the window of *that* check (a second angle of
  the same moment), else it is refused with the gap.

A photo without an EXIF capture time is recorded with ``flag =
"no_capture_time"`` and checks nothing: it cannot say when the step was done,
so it proves no item (``show`` and ``report qa`` list it). A document (PDF,
log, anything that is not an image) has no capture time and is never flagged.

Evidence is append-only; each record carries the ``round`` (the ticket's reopen
count) it belongs to. A reopen clears the checks and the confirmation, so the
next close needs fresh proof; older files stay on the timeline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from ticketctl.core.config import Config, parse_duration
from ticketctl.core.message import msg, render, span
from ticketctl.core.model import Event, Ticket, iso, parse_time
from ticketctl.errors import BadInput, Refused
from ticketctl.i18n import N_, _, fill

Draft = tuple[str, dict[str, Any]]

#: statuses in which files may be attached (work under way or awaiting the customer)
ATTACH_FROM = ("assigned", "in_progress", "blocked", "resolved")
#: the three points a customer rates, in the order ``--rating`` takes them
RATING_NAMES = ("solved", "professional", "on_time")
MIN_COMMENT = 10
NO_CAPTURE_TIME = "no_capture_time"
#: events that prove work rather than change it (QA's look is not an update)
PROOF_EVENTS = ("ticket.attached", "ticket.confirm_requested", "ticket.confirmed", "ticket.certified",
                "ticket.qa_checked", "ticket.countersigned")


def is_photo(mime: str) -> bool:
    return mime.startswith("image/")


def window_seconds(cfg: Config) -> int:
    return parse_duration(cfg.proof.photo_window)


def window_text(cfg: Config) -> str:
    """The photo window for a person: as the config writes it in English (``5m``), a duration in the
    reader's language otherwise (``5分钟``)."""
    from ticketctl.i18n import LANGUAGES, current

    return cfg.proof.photo_window if current() == LANGUAGES[0] else render(span(window_seconds(cfg)))


def gap_minutes(a: str, b: str) -> float:
    """Minutes between two ISO times, always positive, one decimal."""
    return round(abs((parse_time(a) - parse_time(b)).total_seconds()) / 60, 1)


def parse_exif_time(value: str | None, offset: str | None, tz: tzinfo) -> str | None:
    """The ISO UTC time of an EXIF ``DateTimeOriginal`` (``2026:03:02 10:04:05``).

    EXIF keeps the camera's local wall time; ``OffsetTimeOriginal`` (``+01:00``),
    when the camera wrote one, says which zone. Without it the time is read in
    ``tz`` (the business calendar's zone: where the team works). None when the
    value is missing or not a time (some cameras write blanks or zeros)."""
    if not value:
        return None
    try:
        local = datetime.strptime(value.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if offset:
        try:
            sign = -1 if offset.strip().startswith("-") else 1
            hh, mm = offset.strip().lstrip("+-").split(":")
            return iso((local - sign * timedelta(hours=int(hh), minutes=int(mm))).replace(tzinfo=UTC))
        except ValueError:
            pass
    return iso(local.replace(tzinfo=tz))


def current(t: Ticket) -> list[dict[str, Any]]:
    """The evidence of the ticket's current round (since its last reopen)."""
    return [ev for ev in t.evidence if ev.get("round", 0) == t.reopen_count]


def proves(ev: dict[str, Any], item: str) -> bool:
    """Whether ``ev`` is valid proof of ``item`` (bound to it and not flagged)."""
    return ev.get("item") == item and not ev.get("flag")


# -- decisions ------------------------------------------------------------------


def decide_attach(t: Ticket, ev: dict[str, Any], at: str, cfg: Config, arriving: bool = False) -> list[Draft]:
    """Attach the file ``ev`` describes (sha256, name, size, mime, item,
    captured_at) at ``at``; with an item, check it (see the module doc).
    ``arriving``: a file that came with the request itself (a mail's
    attachment, the web form's photo), which a new ticket takes too.

    Refused: the ticket is not in work, the same file is already attached for
    the same item in this round, or a photo lies outside the window (the
    message gives the gap in minutes). Bad input: an item not on the checklist."""
    allowed = ("new", *ATTACH_FROM) if arriving else ATTACH_FROM
    if t.status not in allowed:
        raise Refused(fill(N_("cannot attach to {key}: it is {status} (attach needs {need})"),
                           key=t.key, status=t.status, need=" or ".join(allowed)))
    sha, item = str(ev.get("sha256", "")), ev.get("item")
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise BadInput(_("{value!r} is not a sha256 in hex").format(value=sha))
    items = cfg.checklist(t.type)
    if item is not None and item not in items:
        raise BadInput(fill(N_("{item!r} is not on the {type} checklist (items: {items})"), team=cfg,
                            item=item, type=t.type, items=", ".join(items) or _("none")))
    if any(x["sha256"] == sha and x.get("item") == item for x in current(t)):
        name = ev.get("name") or sha[:12]
        if item:
            raise Refused(fill(N_("{name} is already attached to {key} for {item}"), team=cfg, name=name, key=t.key,
                               item=item))
        raise Refused(_("{name} is already attached to {key}").format(name=name, key=t.key))
    mime = str(ev.get("mime") or "application/octet-stream")
    captured = ev.get("captured_at")
    payload: dict[str, Any] = {"sha256": sha, "name": str(ev.get("name") or sha[:12]), "size": int(ev.get("size") or 0),
                               "mime": mime, "at": at}
    if item is not None:
        payload["item"] = item
    if captured:
        payload["captured_at"] = iso(parse_time(str(captured)))
    elif is_photo(mime):
        payload["flag"] = NO_CAPTURE_TIME
    drafts: list[Draft] = [("ticket.attached", payload)]
    if item is None or payload.get("flag"):
        return drafts
    check_at = t.checks[item]["at"] if item in t.checks else at
    if "captured_at" in payload:
        gap = gap_minutes(payload["captured_at"], check_at)
        if gap * 60 > window_seconds(cfg):
            ref = (fill(N_("the check of {item} at {at}"), team=cfg, item=item, at=check_at) if item in t.checks
                   else fill(N_("now, when it would check {item}"), team=cfg, item=item))
            raise Refused(fill(N_("cannot attach {name} for {item} on {key}: taken {gap:g} min from {ref};"
                                  " the window is {window} (EXIF time {exif})"), team=cfg,
                               name=payload["name"], item=item, key=t.key, gap=gap, ref=ref, window=window_text(cfg),
                               exif=payload["captured_at"]))
    if item not in t.checks:
        drafts.append(("ticket.checked", {"item": item, "at": at, "evidence": sha}))
    return drafts


def rating_dict(ratings: list[int]) -> dict[str, int]:
    """``[5, 4, 5]`` -> ``{"solved": 5, "professional": 4, "on_time": 5}``; BadInput unless three of 1-5."""
    if len(ratings) != len(RATING_NAMES) or any(not isinstance(r, int) or isinstance(r, bool) or not 1 <= r <= 5
                                                for r in ratings):
        raise BadInput(_("a confirmation needs three ratings of 1-5, in order: problem solved, professional, on time"
                         " (--rating N three times)"))
    return dict(zip(RATING_NAMES, ratings, strict=True))


def _confirmable(t: Ticket) -> None:
    if t.status != "resolved":
        raise Refused(fill(N_("cannot confirm {key}: it is {status} (the customer confirms a resolved ticket)"),
                           key=t.key, status=t.status))
    c = t.confirmation
    if c:
        raise Refused(_("{key} is already confirmed by {by} at {at}").format(key=t.key, by=c.get("by"), at=c.get("at")))


def decide_confirm(t: Ticket, ratings: list[int], comment: str, by: str, via: str = "in_person",
                   token_hash: str | None = None) -> list[Draft]:
    """The customer's confirmation of a resolved ticket: three ratings 1-5, a
    comment of at least 10 characters, and who they are. Once per round."""
    _confirmable(t)
    rated = rating_dict(list(ratings))
    text = str(comment or "").strip()
    if len(text) < MIN_COMMENT:
        raise BadInput(_("the customer's comment needs at least {min} characters (got {got})").format(min=MIN_COMMENT, got=len(text)))
    if not str(by or "").strip():
        raise BadInput(_("a confirmation needs the customer's name (--by NAME)"))
    payload: dict[str, Any] = {"ratings": rated, "comment": text, "by": str(by).strip(), "via": via}
    if token_hash:
        payload["token"] = token_hash
    return [("ticket.confirmed", payload)]


def decide_confirm_request(t: Ticket, token_hash: str, expires_at: str) -> list[Draft]:
    """Open a single-use confirmation link; only its hash is kept (the token
    itself travels only in the QR code shown to the customer)."""
    _confirmable(t)
    if len(token_hash) != 64:
        raise BadInput(_("a confirmation link is kept by the sha256 of its token"))
    return [("ticket.confirm_requested", {"token": token_hash, "expires_at": iso(parse_time(expires_at))})]


def decide_confirm_token(t: Ticket, token_hash: str, now: datetime, ratings: list[int], comment: str,
                         by: str) -> list[Draft]:
    """A confirmation sent from the link: refused when the link is unknown,
    already used or expired at ``now`` (the server's clock)."""
    link = t.confirm_tokens.get(token_hash)
    if link is None:
        raise Refused(_("this confirmation link is not valid for {key} (ask the technician for a new one)").format(key=t.key))
    if link.get("used_at"):
        raise Refused(_("this confirmation link was already used at {at}").format(at=link["used_at"]))
    if now >= parse_time(link["expires_at"]):
        raise Refused(_("this confirmation link expired at {at} (ask the technician for a new one)").format(at=link["expires_at"]))
    return decide_confirm(t, ratings, comment, by, via="qr", token_hash=token_hash)


def decide_certify(t: Ticket, cert: dict[str, Any]) -> list[Draft]:
    """Record a certificate issued for a closed ticket (id, content hash, key id, payload)."""
    if t.status != "closed":
        raise Refused(fill(N_("cannot certify {key}: it is {status} (a certificate is issued for a closed ticket)"),
                           key=t.key, status=t.status))
    if any(c["cert_id"] == cert["cert_id"] for c in t.certificates):
        raise Refused(_("certificate {cert} is already recorded on {key}").format(cert=cert["cert_id"], key=t.key))
    return [("ticket.certified", {k: cert[k] for k in ("cert_id", "content_hash", "key_id", "payload")})]


def missing_for_close(t: Ticket, new_checks: list[str], cfg: Config) -> list[str]:
    """What still stops ``t`` from closing once ``new_checks`` are checked now:
    phrases for the refusal message (empty: it may close)."""
    parts: list[str] = []
    items = cfg.checklist(t.type)
    missing = [i for i in items if i not in t.checks and i not in new_checks]
    if missing:
        parts.append(fill(N_("checklist items not done: {items} (pass --check ITEM)"), team=cfg, items=", ".join(missing)))
    proof = current(t)
    unproved = [i for i in cfg.evidence_items(t.type) if not any(proves(ev, i) for ev in proof)]
    if unproved:
        parts.append(fill(N_("evidence missing for {items} (attach FILE --for ITEM)"), team=cfg, items=", ".join(unproved)))
    if cfg.needs_confirmation(t.type):
        c = t.confirmation
        if not c:
            parts.append(_("no customer confirmation (ticketctl confirm {key} ..., or --qr)").format(key=t.key))
        elif c["ratings"]["solved"] < cfg.proof.solved_at_least:
            parts.append(_("the customer rated problem solved {rating}/5 (reopen it)").format(rating=c["ratings"]["solved"]))
    return parts


# -- folding --------------------------------------------------------------------


def apply_proof(t: Ticket, e: Event) -> bool:
    """Fold a proof event into ``t`` (already a copy); False when ``e`` is not one."""
    p = e.payload
    if e.type == "ticket.attached":
        t.evidence = [*t.evidence, {**p, "by": e.actor, "round": t.reopen_count}]
    elif e.type == "ticket.confirm_requested":
        t.confirm_tokens = {**t.confirm_tokens, p["token"]: {"expires_at": p["expires_at"], "at": e.at, "by": e.actor}}
    elif e.type == "ticket.confirmed":
        t.confirmation = {**p, "at": e.at}
        if p.get("token") in t.confirm_tokens:
            t.confirm_tokens = {**t.confirm_tokens, p["token"]: {**t.confirm_tokens[p["token"]], "used_at": e.at}}
    elif e.type == "ticket.certified":
        t.certificates = [*t.certificates, {**p, "at": e.at, "by": e.actor, "round": t.reopen_count}]
    elif e.type == "ticket.countersigned":  # the server's signature over a certificate it accepted
        t.certificates = [{**c, "countersigned": {"key_id": p["key_id"], "signature": p["signature"], "at": e.at}}
                          if c["cert_id"] == p["cert_id"] else c for c in t.certificates]
    elif e.type == "ticket.qa_checked":
        t.qa = [*t.qa, {**p, "at": e.at, "by": e.actor}]
    else:
        return False
    return True


def on_reopen(t: Ticket) -> None:
    """A reopen: the customer's word and the open links belong to the old round."""
    t.confirmation = {}
    t.confirm_tokens = {}


# -- QA ---------------------------------------------------------------------------


#: the QA checks, by the key ``qa_issues`` files findings under (the keys stay: they are JSON)
QA_CHECKS = {"evidence": N_("evidence"), "time": N_("time"), "confirmation": N_("confirmation")}


def qa_issues(t: Ticket, cfg: Config) -> dict[str, list[str]]:
    """The QA sampler's look at a closed ticket, by check: evidence completeness,
    time consistency and confirmation. Empty lists everywhere: it passes.

    The findings are Messages (``ticketctl.core.message``): English where they
    are data, in the event (``ticket.qa_checked``) and in ``report qa --json``,
    rendered in the reader's language by the human report."""
    out: dict[str, list[str]] = {"evidence": [], "time": [], "confirmation": []}
    proof = current(t)
    for item in cfg.evidence_items(t.type):
        if not any(proves(ev, item) for ev in proof):
            out["evidence"].append(msg(N_("no evidence for {item}"), item=item))
    for ev in proof:
        if ev.get("flag"):
            out["evidence"].append(msg(N_("{name}: photo without a capture time"), name=ev["name"]))
    window = window_seconds(cfg)
    for ev in proof:
        proved, cap = ev.get("item"), ev.get("captured_at")
        if proved and cap and proved in t.checks and gap_minutes(cap, t.checks[proved]["at"]) * 60 > window:
            out["time"].append(msg(N_("{name}: taken {gap:g} min from the check of {item}"), name=ev["name"],
                                   gap=gap_minutes(cap, t.checks[proved]["at"]), item=proved))
        if cap and cap < t.created_at:
            out["time"].append(msg(N_("{name}: taken before the ticket was created"), name=ev["name"]))
    for item, c in t.checks.items():
        if t.closed_at and not (t.created_at <= c["at"] <= t.closed_at):
            out["time"].append(msg(N_("{item}: checked outside the ticket's life ({at})"), item=item, at=c["at"]))
    conf = t.confirmation
    if cfg.needs_confirmation(t.type):
        if not conf:
            out["confirmation"].append(msg(N_("closed without the customer's confirmation")))
        elif conf["ratings"]["solved"] < cfg.proof.solved_at_least:
            out["confirmation"].append(msg(N_("the customer rated problem solved {rating}/5"), rating=conf["ratings"]["solved"]))
    if conf and t.resolved_at and t.closed_at and not (t.resolved_at <= conf["at"] <= t.closed_at):
        out["time"].append(msg(N_("confirmed at {at}, outside resolved {resolved} .. closed {closed}"), at=conf["at"],
                               resolved=t.resolved_at, closed=t.closed_at))
    return out

"""A ticket's page, as ``ticketctl show`` prints it, and the text of each
event on its timeline (the dashboard's detail shows the same text)."""

from __future__ import annotations

from typing import Any

from ticketctl.cells import after, ljust, rjust
from ticketctl.core.approvals import money
from ticketctl.core.labels import HasLabels, event_label, label
from ticketctl.core.message import labelled_value
from ticketctl.i18n import N_, _, localize
from ticketctl.render.kb import match_reason
from ticketctl.render.text import SLA_STYLE, duration, escape, join, pair, paren


def _fields(p: dict[str, Any], cfg: HasLabels | None, eq: str = "=", how: str = "clause") -> str:
    """A payload's or a block's fields for people: ``note=site closed, deadline=...``
    in English, ``备注：site closed，截止时间：...`` in Chinese."""
    return join((pair(label("field", k, cfg), v, eq) for k, v in p.items()), how)


def event_text(e: dict[str, Any], cfg: HasLabels | None = None) -> str:
    """What a timeline event says, in the reader's language: ``to ana (was bob)``
    for an assignment, the reason and its fields for a block, a note's text, ...
    Values (priority, type, reason, checklist item) read as their labels (``core.labels``;
    ``cfg``: the team's own labels)."""
    p = e["payload"]
    typ = e["type"].split(".", 1)[1]
    if typ == "created":
        return _("{priority} {type} in {dept}: {title}").format(
            priority=label("priority", p.get("priority"), cfg), type=label("type", p.get("type"), cfg), dept=p.get("dept"),
            title=p.get("title"))
    if typ == "assigned":
        was = after(_("(was {name})").format(name=p["previous"])) if p.get("previous") else ""
        return _("to {name}").format(name=p["assignee"]) + was + (" " + _("forced") if p.get("forced") else "")
    if typ == "blocked":
        extra = _fields({k: v for k, v in p.items() if k != "reason"}, cfg)
        return label("reason", p["reason"], cfg) + (paren(extra) if extra else "")
    if typ == "noted":
        return p["text"]
    if typ == "checked":
        return label("checklist", p["item"], cfg) + (
            after(_("(evidence {sha256})").format(sha256=p["evidence"][:12])) if p.get("evidence") else "")
    if typ == "attached":
        return (f"{p['name']} sha256 {p['sha256'][:12]}"
                + (" " + _("for {item}").format(item=label("checklist", p["item"], cfg)) if p.get("item") else "")
                + (join(("", _("taken {at}").format(at=p["captured_at"])), "clause") if p.get("captured_at") else "")
                + (f" [{p['flag']}]" if p.get("flag") else ""))
    if typ == "confirmed":
        r = p["ratings"]
        return _("by {name} ({via}): solved {solved}, professional {professional}, on time {on_time}: {comment}").format(
            name=p["by"], via=label("confirm", p["via"], cfg), solved=r["solved"], professional=r["professional"],
            on_time=r["on_time"], comment=p["comment"])
    if typ == "escalated" and isinstance(p.get("message"), str):  # stored in English: shown in the reader's language
        to = join(label("role", x, cfg) for x in p.get("to") or [])
        told = paren(_("no one notified")) if p.get("notified") == [] else ""  # older events have no "notified": as before
        return pair(p.get("rule", ""), localize(p["message"], value=labelled_value), ": ") + (f" -> {to}" if to else "") + told
    if typ == "confirm_requested":
        return _("phone link, expires {at}").format(at=p["expires_at"])
    if typ == "certified":
        return _("certificate {cert_id} (key {key_id})").format(cert_id=p["cert_id"], key_id=p["key_id"])
    if typ == "approval_requested":
        return _("approval #{n}: {what}, cost {cost}, path {rule} ({steps})").format(
            n=p["n"], what=p["what"], cost=money(p["cost"]), rule=p["rule"],
            steps=join((pair(label("role", s["role"], cfg), join(s["approvers"]), ": ") for s in p["steps"]), "clause"))
    if typ == "approval_decided":
        who = _(" for {name}").format(name=p["for"]) if p.get("for") else ""
        return _("approval #{n}, step {step} {decision}{who}").format(
            n=p["n"], step=p["step"] + 1, decision=label("event", p["decision"], cfg), who=who) + (
            pair("", p["note"], ": ") if p.get("note") else "")
    if e["type"].startswith("stock."):
        return part_move(p)
    if typ == "qa_checked":
        found = (localize(i, value=labelled_value) for issues in p["issues"].values() for i in issues)
        return _("QA run {run}: {result}").format(run=p["run"], result=_("ok") if p["ok"] else join(found, "statement"))
    return _fields(p, cfg)


def part_move(p: dict[str, Any]) -> str:
    """A stock event as a timeline reads it: ``2 x BOSCH-08921 @ van-ana``."""
    what = f"{p['qty']} x {p['sku']}" if "qty" in p and "sku" in p else str(p.get("sku") or p.get("transfer") or p.get("name", ""))
    where = p.get("place") or (f"{p['from']} -> {p['to']}" if "from" in p else "")
    return what + (f" @ {where}" if where else "") + (pair("", p["reason"], ": ") if p.get("reason") else "")


def timeline_line(e: dict[str, Any], cfg: HasLabels | None = None) -> str:
    """One timeline row of the show page, as Rich markup: when, who, what kind, what it says."""
    return (f"    {e['at']}  {escape(ljust(e['actor'], 10))} {ljust(event_label(e['type'], cfg), 10)} "
            f"{escape(event_text(e, cfg))}")


def _label(text: str) -> str:
    """A translated row label, right-aligned in the 13-cell label column."""
    return f"  [dim]{rjust(text, 13)}[/]  "


def ticket_page(t: dict[str, Any], cfg: HasLabels | None = None) -> list[str]:
    """``ticketctl show``'s page as lines of Rich markup (``services.tickets.show``'s
    ticket, with ``similar`` when read): fields, SLA clocks, block, checklist,
    evidence, confirmation, certificates, the timeline and the similar documents.
    Values read as their labels (``core.labels``; ``cfg``: the team's own labels)."""
    out = [f"[bold]{t['key']}[/]  {escape(t['title'])}"]
    status = label("status", t["status"], cfg) + (
        paren(join((label("reason", t["blocked_reason"], cfg), duration(t["blocked_for_s"])), "clause"))
        if t["blocked_reason"] else "")
    rows = [
        (N_("status"), status),
        (N_("assignee"), t["assignee"] or "-"),
        (N_("priority"), _("{priority} / impact {impact} / weight {weight}").format(
            priority=label("priority", t["priority"], cfg), impact=label("impact", t["impact"], cfg), weight=t["weight"])),
        (N_("type"), label("type", t["type"], cfg)),
        (N_("where"), " / ".join(x for x in (t["dept"], t["product"], t["fault"], t["zone"]) if x)),
        (N_("customer"), " ".join(x for x in (t["customer"], t["phone"], label("channel", t["channel"], cfg)) if x) or "-"),
        (N_("response due"), t["sla_response_due"] + (paren(label("sla", "met" if t["sla_response_met"] else "missed", cfg))
                                                       if t["sla_response_met"] is not None else "")),
        (N_("resolve due"), f"{t['sla_resolve_due'] or '-'}  [{SLA_STYLE[t['sla_state']]}]{label('sla', t['sla_state'], cfg)}"
                        f" {duration(t['sla_resolve_left_s']) if t['sla_state'] != 'done' else ''}[/]"),
    ]
    if t["block"]:
        rows.append((N_("block"), _fields(t["block"], cfg, ": ")))
    if t["blocked_seconds"]:
        rows.append((N_("blocked time"), join(f"{label('reason', k, cfg)} {duration(v)}" for k, v in t["blocked_seconds"].items())))
    if t["description"]:
        rows.append((N_("description"), t["description"]))
    if t.get("resolution"):
        rows.append((N_("resolution"), t["resolution"]))
    for k, v in rows:
        out.append(f"  [dim]{rjust(_(k), 13)}[/]  {v if k in ('resolve due',) else escape(str(v))}")
    if t["checklist"]:
        out.append(_label(_("checklist")) + "  ".join(("[green]x[/] " if i["done"] else "[ ] ") + escape(label("checklist", i["item"], cfg))
                                                    for i in t["checklist"]))
    for ev in t["evidence"]:
        flag = f" [yellow]{ev['flag']}[/]" if ev.get("flag") else ""
        item = " " + _("for {item}").format(item=label("checklist", ev["item"], cfg)) if ev.get("item") else ""
        taken = " " + _("taken {at}").format(at=ev["captured_at"]) if ev.get("captured_at") else ""
        out.append(_label(_("evidence")) + f"{escape(ev['name'])} {ev['sha256'][:12]}{item}{taken}{flag}")
    conf = t["confirmation"]
    if conf:
        r = conf["ratings"]
        out.append(_label(_("confirmation")) + _(
            "{name} ({via}): solved {solved}/5, professional {professional}/5, on time {on_time}/5: {comment}").format(
            name=escape(conf["by"]), via=label("confirm", conf["via"], cfg), solved=r["solved"], professional=r["professional"],
            on_time=r["on_time"],
            comment=escape(conf["comment"])))
    elif t["confirmation_required"]:
        out.append(_label(_("confirmation")) + "[yellow]" + _("awaiting the customer") + "[/]")
    for cert in t["certificates"]:
        out.append(_label(_("certificate")) + _("{cert_id} issued {at} by {name}").format(
            cert_id=cert["cert_id"], at=cert["at"], name=escape(cert["by"])))
    out.append(_label(_("timeline")).rstrip())
    out.extend(timeline_line(e, cfg) for e in t["timeline"])
    if t.get("similar"):
        out.append(_label(_("similar")).rstrip())
        out.extend(f"    {escape(r['id'])}  {escape(r['title'])}  [dim]{escape(match_reason(r))}[/]" for r in t["similar"])
    return out

"""The human view of ``ticketctl show``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ticketctl.commands.output import SLA_STYLE, console


def _payload_text(e: dict[str, Any]) -> str:
    p = e["payload"]
    typ = e["type"].split(".", 1)[1]
    if typ == "created":
        return f"{p.get('priority')} {p.get('type')} in {p.get('dept')}: {p.get('title')}"
    if typ == "assigned":
        return f"to {p['assignee']}" + (f" (was {p['previous']})" if p.get("previous") else "") + (" forced" if p.get("forced") else "")
    if typ == "blocked":
        extra = ", ".join(f"{k}={v}" for k, v in p.items() if k != "reason")
        return p["reason"] + (f" ({extra})" if extra else "")
    if typ == "noted":
        return p["text"]
    if typ == "checked":
        return p["item"] + (f" (evidence {p['evidence'][:12]})" if p.get("evidence") else "")
    if typ == "attached":
        return (f"{p['name']} sha256 {p['sha256'][:12]}" + (f" for {p['item']}" if p.get("item") else "")
                + (f", taken {p['captured_at']}" if p.get("captured_at") else "") + (f" [{p['flag']}]" if p.get("flag") else ""))
    if typ == "confirmed":
        r = p["ratings"]
        return f"by {p['by']} ({p['via']}): solved {r['solved']}, professional {r['professional']}, on time {r['on_time']}: {p['comment']}"
    if typ == "confirm_requested":
        return f"phone link, expires {p['expires_at']}"
    if typ == "certified":
        return f"certificate {p['cert_id']} (key {p['key_id']})"
    if typ == "qa_checked":
        return f"QA run {p['run']}: " + ("ok" if p["ok"] else "; ".join(i for found in p["issues"].values() for i in found))
    return ", ".join(f"{k}={v}" for k, v in p.items())


def print_ticket(t: dict[str, Any], duration: Callable[[int | None], str]) -> None:
    from rich.markup import escape

    c = console()
    c.print(f"[bold]{t['key']}[/]  {escape(t['title'])}")
    status = t["status"] + (f" ({t['blocked_reason']}, {duration(t['blocked_for_s'])})" if t["blocked_reason"] else "")
    rows = [
        ("status", status),
        ("assignee", t["assignee"] or "-"),
        ("priority", f"{t['priority']} / impact {t['impact']} / weight {t['weight']}"),
        ("type", t["type"]),
        ("where", " / ".join(x for x in (t["dept"], t["product"], t["fault"], t["zone"]) if x)),
        ("customer", " ".join(x for x in (t["customer"], t["phone"], t["channel"]) if x) or "-"),
        ("response due", t["sla_response_due"] + (f" (met: {t['sla_response_met']})" if t["sla_response_met"] is not None else "")),
        ("resolve due", f"{t['sla_resolve_due'] or '-'}  [{SLA_STYLE[t['sla_state']]}]{t['sla_state']}"
                        f" {duration(t['sla_resolve_left_s']) if t['sla_state'] != 'done' else ''}[/]"),
    ]
    if t["block"]:
        rows.append(("block", ", ".join(f"{k}: {v}" for k, v in t["block"].items())))
    if t["blocked_seconds"]:
        rows.append(("blocked time", ", ".join(f"{k} {duration(v)}" for k, v in t["blocked_seconds"].items())))
    if t["description"]:
        rows.append(("description", t["description"]))
    for k, v in rows:
        c.print(f"  [dim]{k:>13}[/]  {v if k in ('resolve due',) else escape(str(v))}")
    if t["checklist"]:
        c.print("  [dim]    checklist[/]  " + "  ".join(("[green]x[/] " if i["done"] else "[ ] ".replace("[", "\\[")) + i["item"]
                                                 for i in t["checklist"]))
    for ev in t["evidence"]:
        flag = f" [yellow]{ev['flag']}[/]" if ev.get("flag") else ""
        c.print(f"  [dim]     evidence[/]  {escape(ev['name'])} {ev['sha256'][:12]}"
                f"{' for ' + ev['item'] if ev.get('item') else ''}{' taken ' + ev['captured_at'] if ev.get('captured_at') else ''}{flag}")
    conf = t["confirmation"]
    if conf:
        r = conf["ratings"]
        c.print(f"  [dim] confirmation[/]  {escape(conf['by'])} ({conf['via']}): solved {r['solved']}/5, professional"
                f" {r['professional']}/5, on time {r['on_time']}/5: {escape(conf['comment'])}")
    elif t["confirmation_required"]:
        c.print("  [dim] confirmation[/]  [yellow]awaiting the customer[/]")
    for cert in t["certificates"]:
        c.print(f"  [dim]  certificate[/]  {cert['cert_id']} issued {cert['at']} by {escape(cert['by'])}")
    c.print("  [dim]     timeline[/]")
    for e in t["timeline"]:
        c.print(f"    {e['at']}  {e['actor']:<10} {e['type'].split('.', 1)[1]:<10} {escape(_payload_text(e))}")

"""The knowledge base for people: why a document matched, the results table of
``kb search`` and ``similar``, the hint ``new`` prints, an article's page."""

from __future__ import annotations

from typing import Any

from ticketctl.core.kb import why_text
from ticketctl.core.labels import event_label, label
from ticketctl.i18n import N_, _
from ticketctl.render.text import escape, join, paren

#: the search and similar tables' column headers
RESULT_COLUMNS = (N_("id"), N_("kind"), N_("status"), N_("title"), N_("why"))


def match_reason(r: dict[str, Any]) -> str:
    """Why a result matched, for people (a similar document's ``why``, a search hit's ``matched`` words)."""
    return why_text(r["why"] if r.get("why") is not None else {"words": r.get("matched", [])})


def similar_hint(rows: list[dict[str, Any]]) -> str:
    """One line naming a similar article or ticket (``new`` prints it on stderr)."""
    r = rows[0]
    return _("similar: {id} {title} ({why}); ticketctl {cmd} {id}").format(
        id=r["id"], title=r["title"], why=match_reason(r), cmd="kb show" if r["kind"] == "article" else "show")


def result_cells(rows: list[dict[str, Any]]) -> list[list[str]]:
    """Search hits or similar documents as text, in :data:`RESULT_COLUMNS` order."""
    return [[r["id"], _("article") if r["kind"] == "article" else _("ticket"),
             (label("article" if r["kind"] == "article" else "status", r["status"]) + (" " + _("public") if r.get("public") else "")),
             r["title"], match_reason(r)] for r in rows]


def results_table(rows: list[dict[str, Any]]) -> Any:
    """Search hits or similar documents as a Rich table, for a terminal."""
    from rich.markup import escape as rich_escape
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in RESULT_COLUMNS:
        table.add_column(_(col), no_wrap=col in ("id", "kind"), overflow="fold")
    for row in result_cells(rows):
        table.add_row(*(rich_escape(c) for c in row))
    return table


def article_page(a: dict[str, Any]) -> list[str]:
    """``kb show``'s page as Rich markup (one string per print): problem, steps,
    cause, solution, tags, and the article's history."""
    public, retired = _("public"), _("retired")
    out = [f"[bold]{a['id']}[/]  {escape(a['title'])}" + (f"  [green]{public}[/]" if a["public"] else "")
           + (f"  [red]{retired}[/]" if a["status"] == "retired" else "")]
    where = " / ".join(x for x in (a["dept"], a["product"], a["fault"]) if x)
    meta = [_("version {n}").format(n=a["version"]), _("by {name}").format(name=a["author"])]
    if a["source"]:
        meta.append(_("from {key}").format(key=a["source"]))
    out.append("  [dim]" + escape("  ".join([where, *meta] if where else meta)) + "[/]")
    for heading_, value in ((_("problem"), a["problem"]), (_("cause"), a["cause"]), (_("solution"), a["solution"])):
        if value:
            out.append(f"\n[bold]{escape(heading_)}[/]\n  {escape(value)}")
    if a["steps"]:
        heading = _("steps")
        out.append(f"\n[bold]{escape(heading)}[/]")
        out.extend(f"  {i}. {escape(s)}" for i, s in enumerate(a["steps"], 1))
    if a["tags"]:
        tags = _("tags: {tags}").format(tags=" ".join(a["tags"]))
        out.append(f"\n[dim]{escape(tags)}[/]")
    if a["status"] == "retired" and a["retire_reason"]:
        why = _("retired: {reason}").format(reason=a["retire_reason"])
        out.append(f"[dim]{escape(why)}[/]")
    history = _("history")
    out.append(f"\n[bold]{escape(history)}[/]")
    for h in a["history"]:
        what = event_label(h["type"]) + (paren(join(h["changes"])) if h["changes"] else "")
        out.append(f"  {h['at']}  {escape(h['actor'])}  {escape(what)}")
    return out

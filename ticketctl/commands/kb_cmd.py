"""``kb add|list|show|edit|retire|publish|search`` and ``similar``: the
knowledge base from resolved work."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ticketctl.commands.output import console, emit_json, emit_text, env, print_markup
from ticketctl.commands.tickets import Json, comma_list
from ticketctl.errors import BadInput, Refused
from ticketctl.i18n import _
from ticketctl.services import kb

app = typer.Typer(help="The knowledge base: articles from resolved tickets, search, publishing to customers.",
                  no_args_is_help=True)

ArticleId = Annotated[str, typer.Argument(help="Article id (KB-ABC-3), its number on this device (3), or a unique prefix.")]
Title = Annotated[str | None, typer.Option("--title", help="Title: the problem in a few words.")]
Problem = Annotated[str | None, typer.Option("--problem", help="What the customer saw.")]
Steps = Annotated[list[str] | None, typer.Option("--step", help="A troubleshooting step (repeatable, in order); replaces the steps.")]
Cause = Annotated[str | None, typer.Option("--cause", help="The root cause.")]
Solution = Annotated[str | None, typer.Option("--solution", help="What fixed it.")]
Tags = Annotated[str | None, typer.Option("--tags", help="Tags, comma separated.")]
Product = Annotated[str | None, typer.Option("--product", help="Product or asset.")]
Fault = Annotated[str | None, typer.Option("--fault", help="Fault type.")]
Dept = Annotated[str | None, typer.Option("--dept", help="Department.")]
Editor = Annotated[bool, typer.Option("--edit", "-e", help="Open the article in $EDITOR (after the flags are applied).")]


def _fields(title: str | None, problem: str | None, steps: list[str] | None, cause: str | None, solution: str | None,
            tags: str | None, product: str | None, fault: str | None, dept: str | None) -> dict[str, Any]:
    out = {"title": title, "problem": problem, "steps": steps or None, "cause": cause, "solution": solution,
           "tags": comma_list(tags) if tags is not None else None, "product": product, "fault": fault, "dept": dept}
    return {k: v for k, v in out.items() if v is not None}


def _editor(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` as the user leaves them in $EDITOR; refused when not saved."""
    import click

    from ticketctl.core.kb import from_template, to_template

    text = to_template(fields, _("A knowledge article: write under each '## section'; a step per '- ' line, tags space separated.\n"
                                 "Lines starting with '#' are ignored. Save and quit to keep it; quit without saving to cancel."))
    environ = env().environ
    editor = environ.get("VISUAL") or environ.get("EDITOR") or None
    try:
        edited = click.edit(text, editor=editor, extension=".md", require_save=True)
    except click.ClickException as e:  # no such editor, or it failed: $VISUAL / $EDITOR is wrong
        raise BadInput(_("cannot run the editor ($VISUAL or $EDITOR): {error}").format(error=e.format_message())) from None
    if edited is None:
        raise Refused(_("the editor was closed without saving: nothing changed"))
    return from_template(edited)


def _article_line(a: dict[str, Any]) -> str:
    flags = [_("public") if a["public"] else "", _("retired") if a["status"] == "retired" else ""]
    extra = "".join(f" [{f}]" for f in flags if f)
    return f"{a['id']}{extra}  {a['title']}"


def add(
    ticket: Annotated[str | None, typer.Argument(
        help="The resolved or closed ticket to start from (optional: without one, give at least --title and --solution).")] = None,
    title: Title = None, problem: Problem = None, step: Steps = None, cause: Cause = None, solution: Solution = None,
    tags: Tags = None, product: Product = None, fault: Fault = None, dept: Dept = None, edit: Editor = False,
    json: Json = False,
) -> None:
    """Write a knowledge article, from a resolved ticket or from scratch.

    From a ticket, the article starts with its title, its description as the
    problem, its notes as the troubleshooting steps, its resolution note as the
    solution, and its product, fault and department. Flags replace any of
    these; --edit opens the result in $EDITOR. Phone numbers, e-mail addresses
    and the customer's name are removed from every text."""
    e = env()
    fields = _fields(title, problem, step, cause, solution, tags, product, fault, dept)
    if edit:
        start = (kb.draft(e, ticket) if ticket is not None else {}) | fields
        fields = _editor(start)
    a = kb.add(e, ticket, fields)
    emit_json(a) if json else print(_("{line} added").format(line=_article_line(a)))


def edit_(
    article: ArticleId,
    title: Title = None, problem: Problem = None, step: Steps = None, cause: Cause = None, solution: Solution = None,
    tags: Tags = None, product: Product = None, fault: Fault = None, dept: Dept = None, edit: Editor = False,
    json: Json = False,
) -> None:
    """Change an article; every change is kept in its history."""
    e = env()
    fields = _fields(title, problem, step, cause, solution, tags, product, fault, dept)
    if edit:
        shown = kb.show(e, article)
        fields = _editor({k: shown[k] for k in ("title", "problem", "steps", "cause", "solution", "tags", "product", "fault", "dept")}
                         | fields)
    a = kb.edit(e, article, fields)
    emit_json(a) if json else print(_("{line} is now version {version}").format(line=_article_line(a), version=a["version"]))


def list_(
    retired: Annotated[bool, typer.Option("--retired", help="Only retired articles.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Active and retired articles.")] = False,
    public: Annotated[bool | None, typer.Option("--public/--internal", help="Only public (or only internal) articles.")] = None,
    product: Annotated[str | None, typer.Option("--product", help="Only this product.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 50,
    json: Json = False,
) -> None:
    """List articles, most recently changed first (active ones unless --retired or --all)."""
    status = None if all_ else "retired" if retired else "active"
    rows = kb.listing(env(), status, public, product, limit)
    if json:
        emit_json(rows)
        return
    if not rows:
        print(_("no articles yet: ticketctl kb add TICKET"), file=sys.stderr)
        return
    cells = [[a["id"], _("public") if a["public"] else _("internal") if a["status"] == "active" else _("retired"),
              a["updated_at"][:10], a["product"] or "-", a["title"]] for a in rows]
    from ticketctl.render.tables import plain_table

    emit_text(plain_table([_("id"), _("state"), _("changed"), _("product"), _("title")], cells))


def show(article: ArticleId, json: Json = False) -> None:
    """Show an article: problem, steps, cause, solution, and its history."""
    a = kb.show(env(), article)
    if json:
        emit_json(a)
        return
    from ticketctl.render.kb import article_page

    print_markup(article_page(a))


def retire(
    article: ArticleId,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (outdated, wrong, replaced by KB-...).")] = None,
    json: Json = False,
) -> None:
    """Retire an article: out of search and off the public pages (its history stays)."""
    a = kb.retire(env(), article, reason)
    emit_json(a) if json else print(_("{line} retired").format(line=_article_line(a)))


def publish(
    article: ArticleId,
    undo: Annotated[bool, typer.Option("--undo", help="Take it back off the public pages.")] = False,
    json: Json = False,
) -> None:
    """Publish an article to customers: the server's /kb pages show it once synced."""
    a = kb.publish(env(), article, not undo)
    if json:
        emit_json(a)
    else:
        print((_("{line} is public (on the server's /kb once synced)") if a["public"] else _("{line} is internal again")).format(
            line=_article_line(a)))


def _results(rows: list[dict[str, Any]]) -> None:
    """Search hits or similar documents: a Rich table in a terminal, plain columns piped."""
    from ticketctl.render import kb as kb_text
    from ticketctl.render.tables import plain_table

    if not sys.stdout.isatty():
        emit_text(plain_table([_(c) for c in kb_text.RESULT_COLUMNS], kb_text.result_cells(rows)))
        return
    console().print(kb_text.results_table(rows))


def search(
    query: Annotated[list[str], typer.Argument(help="Words to look for, in any language (Chinese two-character words too).")],
    kind: Annotated[str | None, typer.Option("--kind", help="Only 'article' or only 'ticket'.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200, help="At most this many results.")] = 10,
    json: Json = False,
) -> None:
    """Search articles and resolved tickets: most relevant first, then most recent.

    Documents with every word come first, then those with any. A word the
    knowledge base has never seen is taken as a typo and its known neighbours
    are searched instead (said on stderr). A query is at most 200 characters and
    16 terms (a Chinese run of n characters is n-1 terms); a longer one is
    refused (exit 2), not cut."""
    r = kb.search(env(), " ".join(query), limit, kind)
    if json:
        emit_json(r)
        return
    for typo, fixes in r["corrected"].items():
        print(_("no {word!r} in the knowledge base: searched for {fixes}").format(word=typo, fixes=", ".join(fixes)), file=sys.stderr)
    if not r["results"]:
        print(_("nothing found for {query!r}").format(query=r["query"]), file=sys.stderr)
        return
    _results(r["results"])


def similar(
    key: Annotated[str, typer.Argument(help="Ticket key or any unique prefix of it.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=50, help="At most this many.")] = 5,
    json: Json = False,
) -> None:
    """The resolved tickets and articles closest to a ticket, each with why it matched.

    Closeness adds up how much of the ticket's rarest words the other one holds
    (bm25), and whether it has the same fault, product and department."""
    rows = kb.similar(env(), key, limit)
    if json:
        emit_json(rows)
        return
    if not rows:
        from ticketctl.core.kb import NOTHING_SIMILAR

        print(_(NOTHING_SIMILAR), file=sys.stderr)
        return
    _results(rows)


app.command("add", epilog="Example: ticketctl kb add KQT-12 --cause 'worn seal' --tags pump,seal")(add)
app.command("list", epilog="Example: ticketctl kb list --public --json")(list_)
app.command("show", epilog="Example: ticketctl kb show KB-KQT-3")(show)
app.command("edit", epilog="Example: ticketctl kb edit 3 --solution 'Replace the seal, then test at 6 bar' --edit")(edit_)
app.command("retire", epilog="Example: ticketctl kb retire KB-KQT-3 --reason 'replaced by KB-KQT-9'")(retire)
app.command("publish", epilog="Example: ticketctl kb publish KB-KQT-3")(publish)
app.command("search", epilog="Example: ticketctl kb search 漏水 pump   |   ticketctl kb search compresor --json")(search)


def register(root: typer.Typer) -> None:
    root.command(epilog="Example: ticketctl similar KQT-12 --json")(similar)

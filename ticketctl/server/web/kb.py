"""The public knowledge base on the server: ``/kb`` (a search page and an
article page, plain HTML that works on a phone, no login) and ``/kb.json``.

Only articles that are published and not retired are ever shown, and only
their public fields (no author, no source ticket, no history). Search ranks
them exactly as ``ticketctl kb search`` does on a device (the same tokens,
two-character Chinese words, typo correction and bm25, ``store.kbindex``),
over an in-memory FTS5 index of the published articles that is rebuilt when
any of them changes.
"""

from __future__ import annotations

import html
import sqlite3
import threading
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as Path_
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection

from ticketctl.core import kbtext
from ticketctl.core.kb import Article
from ticketctl.i18n import translator
from ticketctl.server.context import Ctx
from ticketctl.server.store import articles
from ticketctl.server.web.pages import AcceptLanguage, html_page, page, page_language
from ticketctl.store import kbindex

#: what a customer may see of an article
PUBLIC_FIELDS = ("id", "title", "problem", "steps", "cause", "solution", "tags", "product", "fault", "published_at", "updated_at")
LIST_LIMIT = 50


def public(a: Article) -> dict[str, Any]:
    d = {k: getattr(a, k) for k in PUBLIC_FIELDS}
    d["url"] = f"/kb/{quote(a.id)}"
    return d


@dataclass
class _Index:
    """Published articles and an in-memory FTS5 index of them."""

    version: tuple[Any, ...]
    articles: dict[str, Article]
    db: sqlite3.Connection


class PublicKb:
    """The published articles of one server database, searchable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: _Index | None = None

    def index(self, c: Connection) -> _Index:
        version = articles.version(c)
        with self._lock:
            if self._index is not None and self._index.version == version:
                return self._index
        arts = {a.id: a for a in articles.published(c)}
        idx = _Index(version, arts, kbindex.in_memory(list(arts.values())))
        with self._lock:  # a search still using the previous index keeps it open until it is done (garbage collected)
            self._index = idx
        return idx

    def search(self, c: Connection, query: str, limit: int = LIST_LIMIT) -> tuple[list[Article], dict[str, list[str]]]:
        """Published articles matching ``query`` (all of them, newest first, for
        an empty query), and the typos corrected. Raises ``kbtext.QueryTooLong``
        (the server answers 422) for a query past the bounds every search has."""
        kbtext.check_query(query)
        idx = self.index(c)
        if not query.strip():
            recent = sorted(idx.articles.values(), key=lambda a: (a.published_at or a.updated_at, a.id), reverse=True)
            return recent[:limit], {}
        with self._lock:
            q = kbtext.parse_query(query, *kbindex.vocabulary(idx))
            hits = kbindex.match(idx, q.all_of, limit)
            if len(hits) < limit and len(q.units) > 1:
                seen = {h.ref for h in hits}
                hits += [h for h in kbindex.match(idx, q.any_of, limit) if h.ref not in seen][:limit - len(hits)]
        return [idx.articles[h.ref] for h in hits], q.corrections

    def article(self, c: Connection, article_id: str) -> Article | None:
        return self.index(c).articles.get(article_id)


router = APIRouter(tags=["public pages"])
#: the index of this process's published articles, rebuilt when any of them changes
PUBLIC = PublicKb()


@router.get("/kb", response_class=HTMLResponse)
def kb_search_page(server: Ctx, q: Annotated[str, Query(max_length=kbtext.QUERY_MAX_CHARS)] = "",
                   accept_language: AcceptLanguage = None) -> HTMLResponse:
    """The public knowledge base: published articles, searched by ``q`` (no login; 422 for a query past
    the bounds every search has: 200 characters, 16 terms)."""
    lang = page_language(accept_language, server.lang)
    try:
        with server.engine.connect() as c:
            found, corrected = PUBLIC.search(c, q)
    except kbtext.QueryTooLong:
        return html_page(search_page([], q, {}, lang), lang, 422)
    return html_page(search_page(found, q, corrected, lang), lang)


@router.get("/kb.json")
def kb_json(server: Ctx, q: Annotated[str, Query(max_length=kbtext.QUERY_MAX_CHARS)] = "",
            limit: Annotated[int, Query(ge=1, le=200)] = LIST_LIMIT) -> dict[str, Any]:
    """Published articles as JSON: ``articles`` (public fields and ``url``), matching ``q``
    when given (most relevant first), else the most recently published; ``corrected`` typos.
    422 for a query past 200 characters or 16 terms."""
    try:
        with server.engine.connect() as c:
            found, corrected = PUBLIC.search(c, q, limit)
    except kbtext.QueryTooLong as e:
        raise HTTPException(422, str(e)) from None
    return {"query": q, "corrected": corrected, "articles": [public(a) for a in found]}


@router.get("/kb/{article_id}", response_class=HTMLResponse)
def kb_article_page(server: Ctx, article_id: Annotated[str, Path_(max_length=64)],
                    accept_language: AcceptLanguage = None) -> HTMLResponse:
    """One published article, for customers (404 for one not published or retired)."""
    lang = page_language(accept_language, server.lang)
    with server.engine.connect() as c:
        a = PUBLIC.article(c, article_id)
    if a is None:
        return html_page(not_found_page(article_id, lang), lang, 404)
    return html_page(article_page(a, lang), lang)


def search_page(found: list[Article], query: str, corrected: dict[str, list[str]], lang: str) -> str:
    gettext = translator(lang).gettext
    t = html.escape
    title = gettext("Knowledge base")
    label, button = gettext("Search for a problem or an error"), gettext("Search")
    form = (f'<form method="get" action="/kb"><label for="q">{t(label)}</label>'
            f'<input id="q" name="q" value="{t(query)}" autofocus><button type=submit>{t(button)}</button></form>')
    instead = gettext("Showing results for {fixes} instead of {word}")
    notes = "".join(f"<p class=note>{t(instead.format(fixes=', '.join(f), word=w))}</p>" for w, f in corrected.items())
    if found:
        items = "".join(f'<li><a href="/kb/{quote(a.id)}">{t(a.title)}</a><br><small>{t(_gist(a))}</small></li>' for a in found)
        results = f"<ol>{items}</ol>"
    elif query.strip():
        nothing = gettext("Nothing found for {query}. Try other words, or contact us.").format(query=query)
        results = f"<p>{t(nothing)}</p>"
    else:
        none_yet = gettext("No articles have been published yet.")
        results = f"<p>{t(none_yet)}</p>"
    return page(title, f"<h1>{t(title)}</h1>{form}{notes}{results}", lang)


def _gist(a: Article, width: int = 140) -> str:
    text = " ".join((a.problem or a.solution).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def article_page(a: Article, lang: str) -> str:
    gettext = translator(lang).gettext
    t = html.escape
    home = gettext("Knowledge base")
    parts = [f'<p><a href="/kb">{t(home)}</a></p><h1>{t(a.title)}</h1>']
    for label, value in ((gettext("Problem"), a.problem), (gettext("Cause"), a.cause)):
        if value:
            parts.append(f"<h2>{t(label)}</h2><p>{_para(value)}</p>")
    if a.steps:
        steps = gettext("Steps")
        parts.append(f"<h2>{t(steps)}</h2><ol>" + "".join(f"<li>{_para(s)}</li>" for s in a.steps) + "</ol>")
    solution = gettext("Solution")
    parts.append(f"<h2>{t(solution)}</h2><p>{_para(a.solution)}</p>")
    meta = [a.id, gettext("updated {date}").format(date=a.updated_at[:10])]
    if a.tags:
        meta.append(" ".join(f"#{tag}" for tag in a.tags))
    parts.append(f"<p class=note>{t(' · '.join(meta))}</p>")
    return page(a.title, "".join(parts), lang)


def _para(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.splitlines())


def not_found_page(article_id: str, lang: str) -> str:
    gettext = translator(lang).gettext
    msg = gettext("There is no published article {id}.").format(id=article_id)
    home = gettext("Knowledge base")
    back = f'<p><a href="/kb">{html.escape(home)}</a></p>'
    return page(gettext("Not found"), f"<p class=bad>{html.escape(msg)}</p>{back}", lang)

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
from ticketctl.server.context import Ctx
from ticketctl.server.store import articles
from ticketctl.server.web.pages import AcceptLanguage, html_page, page_language, render
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
    return render("kb/search.html", lang, query=query, corrected=list(corrected.items()),
                  found=[{"url": public(a)["url"], "title": a.title, "gist": _gist(a)} for a in found])


def _gist(a: Article, width: int = 140) -> str:
    text = " ".join((a.problem or a.solution).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def article_page(a: Article, lang: str) -> str:
    return render("kb/article.html", lang, id=a.id, title=a.title, problem=a.problem, cause=a.cause, steps=a.steps,
                  solution=a.solution, updated=a.updated_at[:10], tags=a.tags)


def not_found_page(article_id: str, lang: str) -> str:
    return render("kb/not_found.html", lang, article_id=article_id)

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
import json
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, func, select

from ticketctl.core import kbtext
from ticketctl.core.kb import Article, search_text
from ticketctl.i18n import translator
from ticketctl.server import schema as S
from ticketctl.server.web.proof import page
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

    def _version(self, c: Connection) -> tuple[Any, ...]:
        row = c.execute(select(func.count(), func.max(S.articles.c.seq)).select_from(S.articles)).one()
        return tuple(row)

    def index(self, c: Connection) -> _Index:
        version = self._version(c)
        with self._lock:
            if self._index is not None and self._index.version == version:
                return self._index
        rows = c.execute(select(S.articles.c.data).where(S.articles.c.public == 1, S.articles.c.status == "active"))
        arts = {a.id: a for a in (Article(**json.loads(r[0])) for r in rows)}
        db = sqlite3.connect(":memory:", check_same_thread=False)
        db.execute("CREATE TABLE kb_docs (id INTEGER PRIMARY KEY, kind TEXT, ref TEXT, product TEXT, fault TEXT, dept TEXT, at TEXT)")
        db.execute(kbindex.FTS_DDL)
        db.execute(kbindex.VOCAB_DDL)
        for i, a in enumerate(arts.values(), 1):
            title, body = search_text(a)
            db.execute("INSERT INTO kb_docs VALUES (?, 'article', ?, ?, ?, ?, ?)", (i, a.id, a.product, a.fault, a.dept, a.updated_at))
            db.execute("INSERT INTO kb_fts (rowid, title, body) VALUES (?, ?, ?)", (i, kbtext.index_text(title), kbtext.index_text(body)))
        idx = _Index(version, arts, db)
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

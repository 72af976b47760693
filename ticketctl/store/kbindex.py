"""The knowledge base's search index: SQLite FTS5 over the active articles and
the resolved and closed tickets of the local store.

``kb_fts`` holds each document's tokens (``core.kbtext.index_text``: words,
and bigrams of Chinese); ``kb_docs`` says what each FTS row is (an article or
a ticket, its product, fault, department and when it was last relevant), so a
ranking reads no projection. Triggers on ``tickets`` and ``articles`` (schema
v7) list every document whose searchable state may have changed in
``kb_dirty``, whatever wrote it (a command, a sync, an import, a rebuild);
:func:`refresh` brings the index up to date from that list. A search first
refreshes, so it never misses a change; a bulk writer (import, sync) refreshes
once at its end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ticketctl.core import kb, kbtext
from ticketctl.store.db import Store


class Indexed(Protocol):
    """What the readers below need: a connection holding ``kb_docs``, ``kb_fts`` and ``kb_vocab``."""

    db: sqlite3.Connection


#: documents indexed per executemany
CHUNK = 2000
#: bm25 weights of the title and body columns
WEIGHTS = (3.0, 1.0)
#: an article outranks a ticket of equal text relevance by this factor
ARTICLE_BOOST = 1.25
#: bm25 scores every document a query matches (~1 us each) before it keeps the
#: best: a query matching more than this many ranks the most recent of them
#: (rowids follow recency: a catch-up indexes in time order, later changes get
#: later rowids)
MAX_SCORED = 25_000

_TICKETS = """
    SELECT t.key, t.title, t.description, t.resolution, t.product, t.fault, t.dept,
           COALESCE(t.resolved_at, t.closed_at, t.updated_at)
      FROM kb_dirty k JOIN tickets t ON t.key = k.ref
     WHERE k.kind = 'ticket' AND t.status IN ('resolved', 'closed')
     ORDER BY 8"""
_ARTICLES = """
    SELECT a.id FROM kb_dirty k JOIN articles a ON a.id = k.ref
     WHERE k.kind = 'article' AND a.status = 'active'"""


def in_memory(articles: list[kb.Article]) -> sqlite3.Connection:
    """An index of just these articles, in memory (the server's public pages):
    searched with :func:`match` and :func:`vocabulary` like a store's, its
    tables made as a store's are (``store.ddl``)."""
    from ticketctl.store.ddl import OBJECTS

    db = sqlite3.connect(":memory:", check_same_thread=False)
    for name in ("kb_docs", "kb_fts", "kb_vocab"):
        db.execute(OBJECTS[name])
    for i, a in enumerate(articles, 1):
        title, body = kb.search_text(a)
        db.execute("INSERT INTO kb_docs VALUES (?, 'article', ?, ?, ?, ?, ?)", (i, a.id, a.product, a.fault, a.dept, a.updated_at))
        db.execute("INSERT INTO kb_fts (rowid, title, body) VALUES (?, ?, ?)", (i, kbtext.index_text(title), kbtext.index_text(body)))
    return db


def pending(st: Store) -> int:
    """Documents waiting to be (re)indexed."""
    return int(st.db.execute("SELECT count(*) FROM kb_dirty").fetchone()[0])


def refresh(st: Store, progress: Callable[[int, int], None] | None = None) -> int:
    """Index what changed since the last refresh (one transaction); returns
    how many documents were looked at. ``progress(done, total)`` is called
    between chunks of a long catch-up."""
    db = st.db
    with st.transaction():
        total = pending(st)
        if not total:
            return 0
        # whatever was indexed for a changed document goes; what is still searchable comes back below
        old = [r[0] for r in db.execute("SELECT d.id FROM kb_docs d JOIN kb_dirty k ON k.kind = d.kind AND k.ref = d.ref")]
        for i in range(0, len(old), 500):
            part = old[i:i + 500]
            marks = ", ".join("?" * len(part))
            db.execute(f"DELETE FROM kb_fts WHERE rowid IN ({marks})", part)
            db.execute(f"DELETE FROM kb_docs WHERE id IN ({marks})", part)
        next_id = int(db.execute("SELECT COALESCE(max(id), 0) FROM kb_docs").fetchone()[0]) + 1
        done = 0
        docs: list[tuple[Any, ...]] = []
        texts: list[tuple[Any, ...]] = []

        def flush() -> None:
            nonlocal done
            db.executemany("INSERT INTO kb_docs (id, kind, ref, product, fault, dept, at) VALUES (?, ?, ?, ?, ?, ?, ?)", docs)
            db.executemany("INSERT INTO kb_fts (rowid, title, body) VALUES (?, ?, ?)", texts)
            done += len(docs)
            docs.clear()
            texts.clear()
            if progress is not None:
                progress(min(done, total), total)

        for key, title, description, resolution, product, fault, dept, at in db.execute(_TICKETS).fetchall():
            docs.append((next_id, "ticket", key, product, fault, dept, at))
            texts.append((next_id, kbtext.index_text(title), kbtext.index_text(description, resolution, product, fault)))
            next_id += 1
            if len(docs) >= CHUNK:
                flush()
        ids = [r[0] for r in db.execute(_ARTICLES).fetchall()]
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            for a in st.select_articles(f"id IN ({', '.join('?' * len(part))})", part):
                title, body = kb.search_text(a)
                docs.append((next_id, "article", a.id, a.product, a.fault, a.dept, a.updated_at))
                texts.append((next_id, kbtext.index_text(title), kbtext.index_text(body)))
                next_id += 1
            if len(docs) >= CHUNK:
                flush()
        flush()
        db.execute("DELETE FROM kb_dirty")
    return total


def rebuild(st: Store) -> int:
    """Index everything again from the projections (``store rebuild``)."""
    with st.transaction():
        st.db.execute("DELETE FROM kb_fts")
        st.db.execute("DELETE FROM kb_docs")
        st.db.execute("INSERT OR IGNORE INTO kb_dirty (kind, ref)"
                      " SELECT 'ticket', key FROM tickets WHERE status IN ('resolved', 'closed')")
        st.db.execute("INSERT OR IGNORE INTO kb_dirty (kind, ref) SELECT 'article', id FROM articles")
        return refresh(st)


# -- the vocabulary, for query parsing --------------------------------------------------


def _upper(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def vocabulary(st: Indexed) -> tuple[kbtext.HasPrefix, kbtext.Known]:
    """The index's vocabulary as ``core.kbtext.parse_query`` asks for it."""
    db = st.db

    def has_prefix(prefix: str) -> bool:
        return db.execute("SELECT 1 FROM kb_vocab WHERE term >= ? AND term < ? LIMIT 1",
                          (prefix, _upper(prefix))).fetchone() is not None

    def known(terms: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(0, len(terms), 900):
            part = list(terms[i:i + 900])
            out.update(db.execute(f"SELECT term, doc FROM kb_vocab WHERE term IN ({', '.join('?' * len(part))})", part))
        return out

    return has_prefix, known


def doc_count(st: Indexed) -> int:
    return int(st.db.execute("SELECT count(*) FROM kb_docs").fetchone()[0])


# -- ranking ----------------------------------------------------------------------------


@dataclass
class Hit:
    """One document a query matched: which, and how well (higher is better)."""

    kind: str
    ref: str
    product: str
    fault: str
    dept: str
    at: str
    score: float


def postings(st: Indexed, token: str) -> int:
    """How many documents hold ``token`` as ``core.kbtext.parse_query`` writes
    one (``"word"`` or ``"prefix"*``); for a prefix, an upper bound (the sum
    over the terms it covers)."""
    prefix = token.endswith("*")
    term = token.rstrip("*")[1:-1].replace('""', '"')
    if not term:
        return 0
    if prefix:
        row = st.db.execute("SELECT COALESCE(sum(doc), 0) FROM kb_vocab WHERE term >= ? AND term < ?", (term, _upper(term))).fetchone()
    else:
        row = st.db.execute("SELECT COALESCE(sum(doc), 0) FROM kb_vocab WHERE term = ?", (term,)).fetchone()
    return int(row[0])


def recent_floor(st: Indexed, expected: int) -> int | None:
    """The rowid above which a query expected to match ``expected`` documents
    is ranked, so that about :data:`MAX_SCORED` of them are scored; None when
    all of them can be."""
    if expected <= MAX_SCORED:
        return None
    lo, hi = st.db.execute("SELECT min(id), max(id) FROM kb_docs").fetchone()
    if lo is None:
        return None
    return int(hi - (hi - lo + 1) * MAX_SCORED / expected)


def match(st: Indexed, expr: str, limit: int, kind: str | None = None, offset: int = 0,
          floor: int | None = None) -> list[Hit]:
    """Documents matching the FTS5 expression, by relevance (bm25, title
    weighted, articles boosted), then recency: scores within a tenth of each
    other count as equal, and the more recent comes first (an article before
    a ticket of the same moment). ``floor``: only rowids above it
    (:func:`recent_floor`)."""
    if not expr:
        return []
    where = "kb_fts MATCH ?"
    params: list[Any] = [expr]
    if kind is not None:
        where += " AND d.kind = ?"
        params.append(kind)
    if floor is not None:
        where += " AND kb_fts.rowid > ?"
        params.append(floor)
    sql = (f"SELECT d.kind, d.ref, d.product, d.fault, d.dept, d.at,"
           f" -bm25(kb_fts, {WEIGHTS[0]}, {WEIGHTS[1]}) * (CASE d.kind WHEN 'article' THEN {ARTICLE_BOOST} ELSE 1 END) AS s"
           f" FROM kb_fts JOIN kb_docs d ON d.id = kb_fts.rowid WHERE {where}"
           f" ORDER BY round(s, 1) DESC, d.at DESC, d.kind = 'article' DESC, d.ref LIMIT ? OFFSET ?")
    return [Hit(*r) for r in st.db.execute(sql, [*params, limit, offset])]


def by_fields(st: Indexed, product: str, fault: str, limit: int) -> list[Hit]:
    """The most recent documents of one fault and product, then of that fault
    in any product, for similar tickets (each query one index range)."""
    cols = "kind, ref, product, fault, dept, at, 0.0"
    hits = [Hit(*r) for r in st.db.execute(f"SELECT {cols} FROM kb_docs WHERE fault = ? AND product = ? ORDER BY at DESC LIMIT ?",
                                           (fault, product, limit))]
    seen = {(h.kind, h.ref) for h in hits}
    hits += [h for h in (Hit(*r) for r in st.db.execute(f"SELECT {cols} FROM kb_docs WHERE fault = ? ORDER BY at DESC LIMIT ?",
                                                        (fault, limit))) if (h.kind, h.ref) not in seen]
    return hits

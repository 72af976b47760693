"""The knowledge base: articles from resolved work, search, similar tickets.

Articles are changed by named mutations (``kb.add``, ``kb.edit``,
``kb.publish``, ``kb.retire``) like tickets, so they sync and the server
re-runs (and re-scrubs) every change. Search and similar tickets read the
local index (``store.kbindex``), caught up before they read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ticketctl.core import kb, kbtext
from ticketctl.core.kb import Article
from ticketctl.core.model import FieldValue, Ticket
from ticketctl.errors import BadInput, NotFound
from ticketctl.i18n import _, ngettext
from ticketctl.services.env import Env
from ticketctl.services.mutations import mutation
from ticketctl.services.tickets import record
from ticketctl.store import kbindex, queries

#: a technician's command catches the index up itself below this many
#: waiting documents; above (after a bootstrap), only search and similar do
QUICK_CATCH_UP = 2000
#: how the parts of a similarity score weigh (they add up to 1)
SIMILAR_WEIGHTS = {"text": 0.40, "fault": 0.35, "product": 0.15, "dept": 0.10}
#: a similar document this close is worth telling the technician about unasked
STRONG = 0.75
#: words of a ticket similar() looks for, the rarest first, while the documents
#: they are in add up to no more than SIMILAR_POSTINGS
SIMILAR_WORDS = 12
SIMILAR_POSTINGS = 20_000


def _commit(env: Env, before: Article | None, article_id: str, drafts: list[tuple[str, dict[str, Any]]]) -> Article:
    st = env.mutation_store
    a = kb.fold_article(record(env, st, article_id, drafts), before)
    assert a is not None
    st.put_article(a)
    return a


def _source(env: Env, key: str | None) -> Ticket | None:
    st = env.mutation_store
    return st.ticket(key) if key is not None and st.has_ticket(key) else None


# -- mutations ----------------------------------------------------------------------


def add(env: Env, ticket: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    """A new article ``KB-PFX-N`` (this device's prefix and next number), from
    the resolved ticket ``ticket`` when one is named: ``fields`` over what
    :func:`draft` prefills."""
    st = env.store
    key = st.resolve_key(ticket) if ticket is not None else None
    given = {k: v for k, v in fields.items() if v is not None}
    fields = (draft(env, key) if key is not None else {}) | given
    with st.transaction():
        n = int(st.meta("next_article_no", "1"))
        st.set_meta("next_article_no", str(n + 1))
        return add_as(env, f"KB-{st.meta('key_prefix')}-{n}", fields, key)


@mutation("kb.add", resolve_key=False)
def add_as(env: Env, article: str, fields: dict[str, FieldValue], ticket: str | None = None) -> dict[str, Any]:
    """Add the article ``article`` (an id the making device chose) with
    ``fields``, made from the ticket ``ticket`` (resolved or closed)."""
    st = env.mutation_store
    with st.transaction():
        if st.has_article(article):
            from ticketctl.errors import Refused

            raise Refused(_("article {id} already exists").format(id=article))
        drafts = kb.decide_add(article, fields, _source(env, ticket), ticket)
        a = _commit(env, None, article, drafts)
    return kb.article_public(a)


@mutation("kb.edit")
def edit(env: Env, article: str, fields: dict[str, FieldValue]) -> dict[str, Any]:
    """Change an article's fields (its source ticket's customer is scrubbed again)."""
    st = env.mutation_store
    with st.transaction():
        a = st.article(article)
        a = _commit(env, a, a.id, kb.decide_edit(a, fields, _source(env, a.source)))
    return kb.article_public(a)


@mutation("kb.publish")
def publish(env: Env, article: str, public: bool = True) -> dict[str, Any]:
    """Make an article public on the server's ``/kb`` pages (or, ``public=False``, take it back)."""
    st = env.mutation_store
    with st.transaction():
        a = st.article(article)
        a = _commit(env, a, a.id, kb.decide_publish(a, public))
    return kb.article_public(a)


@mutation("kb.retire")
def retire(env: Env, article: str, reason: str | None = None) -> dict[str, Any]:
    """Take an article out of search and off the public pages (its history stays)."""
    st = env.mutation_store
    with st.transaction():
        a = st.article(article)
        a = _commit(env, a, a.id, kb.decide_retire(a, reason))
    return kb.article_public(a)


# -- reading ------------------------------------------------------------------------


def draft(env: Env, ticket: str) -> dict[str, Any]:
    """The fields ``kb add TICKET`` starts from (``core.kb.draft_from_ticket``),
    already scrubbed of the customer's phone and name."""
    st = env.store
    t = st.ticket(st.resolve_key(ticket))
    notes = [str(e.payload.get("text", "")) for e in st.events(t.key) if e.type == "ticket.noted"]
    return kb.clean(kb.draft_from_ticket(t, notes), *kb.secrets_of(t))


def show(env: Env, article: str) -> dict[str, Any]:
    """The article, with its history (who changed what, when), oldest first."""
    st = env.store
    a = st.article(st.resolve_article(article))
    out = kb.article_public(a)
    out["history"] = [{"at": e.at, "actor": e.actor, "type": e.type,
                       "changes": sorted(e.payload.get("changes", {})) if e.type == "kb.edited" else []}
                      for e in st.events(a.id)]
    return out


def listing(env: Env, status: str | None = "active", public: bool | None = None, product: str | None = None,
            limit: int | None = 50) -> list[dict[str, Any]]:
    """Articles, most recently changed first."""
    return [kb.article_public(a) for a in queries.articles(env.store, status, public, product, limit)]


def catch_up(env: Env, everything: bool = True, progress: Callable[[int, int], None] | None = None) -> int:
    """Bring the search index up to date; returns how many documents it looked
    at. A long catch-up says so (``env.notice``) unless a ``progress`` bar
    shows it. With ``everything=False`` (a command that only shows a hint) a
    backlog larger than :data:`QUICK_CATCH_UP` is left for search to do."""
    st = env.store
    n = kbindex.pending(st)
    if not n or (not everything and n > QUICK_CATCH_UP):
        return 0
    if progress is not None:
        return kbindex.refresh(st, progress)
    if n > QUICK_CATCH_UP and env.notice is not None:
        env.notice(ngettext("indexing {n} ticket or article for search (once)",
                            "indexing {n} tickets and articles for search (once)", n).format(n=f"{n:,}"))
    return kbindex.refresh(st)


def search(env: Env, text: str, limit: int = 10, kind: str | None = None) -> dict[str, Any]:
    """Articles and resolved tickets matching ``text``, by relevance then
    recency: first those with every word, then those with any. ``kind``:
    ``article`` or ``ticket`` only. Words found in very many documents rank
    only the most recent of them (``kbindex.MAX_SCORED``)."""
    if kind not in (None, "article", "ticket"):
        raise BadInput(_("--kind must be article or ticket, not {kind!r}").format(kind=kind))
    if limit < 1:
        raise BadInput(_("--limit must be at least 1"))
    try:
        kbtext.check_query(text)
    except kbtext.QueryTooLong as e:
        raise BadInput(str(e)) from None
    st = env.store
    catch_up(env)
    q = kbtext.parse_query(text, *kbindex.vocabulary(st))
    if not q.units:
        raise BadInput(_("nothing to search for in {query!r}: give a word").format(query=text))
    counts = {t: kbindex.postings(st, t) for u in q.units for t in u.tokens}
    each = [(min if kbtext.is_cjk(u.text) and len(u.tokens) > 1 else sum)(counts[t] for t in u.tokens) for u in q.units]
    hits = kbindex.match(st, q.all_of, limit, kind, floor=kbindex.recent_floor(st, min(each)))
    every = len(hits)
    if len(hits) < limit and len(q.units) > 1:
        seen = {(h.kind, h.ref) for h in hits}
        more = kbindex.match(st, q.any_of, limit + len(hits), kind, floor=kbindex.recent_floor(st, sum(counts.values())))
        hits += [h for h in more if (h.kind, h.ref) not in seen][:limit - len(hits)]
    results = [_describe(env, h, q.words + [c for cs in q.corrections.values() for c in cs]) for h in hits]
    for i, r in enumerate(results):
        r["all_words"] = i < every
    return {"query": text, "words": q.words, "corrected": q.corrections, "results": results}


def _describe(env: Env, h: kbindex.Hit, words: list[str]) -> dict[str, Any]:
    st = env.store
    out: dict[str, Any] = {"kind": h.kind, "id": h.ref, "score": round(h.score, 3), "at": h.at,
                           "product": h.product, "fault": h.fault, "dept": h.dept}
    if h.kind == "article":
        a = st.article(h.ref)
        text = "\n".join([a.problem, *a.steps, a.cause, a.solution])
        out.update(title=a.title, status=a.status, public=a.public, source=a.source,
                   matched=kbtext.matched_words(words, f"{a.title}\n{text}\n{' '.join(a.tags)}"),
                   snippet=snippet(a.solution or text, words))
    else:
        t = st.ticket(h.ref)
        text = f"{t.description}\n{t.resolution}"
        out.update(title=t.title, status=t.status, assignee=t.assignee,
                   matched=kbtext.matched_words(words, f"{t.title}\n{text}\n{t.product}\n{t.fault}"),
                   snippet=snippet(t.resolution or t.description, words))
    return out


def snippet(text: str, words: list[str], width: int = 80) -> str:
    """The part of ``text`` around the first query word it contains, on one line."""
    flat = " ".join(text.split())
    low = kbtext.normalize(flat)
    at = min((i for i in (low.find(kbtext.stem(w)) for w in words if w) if i >= 0), default=0)
    start = max(0, at - width // 3)
    out = flat[start:start + width]
    return ("…" if start else "") + out + ("…" if start + width < len(flat) else "")


def similar(env: Env, key: str, limit: int = 5, everything: bool = True) -> list[dict[str, Any]]:
    """The resolved tickets and articles closest to ticket ``key``: its rarest
    words (bm25 over the index), the same fault, product and department
    (weights :data:`SIMILAR_WEIGHTS`); each with why it matched. The ticket
    itself is never among them."""
    st = env.store
    t = st.ticket(st.resolve_key(key))
    catch_up(env, everything)
    return similar_to(env, t, limit)


def similar_to(env: Env, t: Ticket, limit: int = 5) -> list[dict[str, Any]]:
    st = env.store
    has_prefix, known = kbindex.vocabulary(st)
    words = [w for w in dict.fromkeys(kbtext.tokens(f"{t.title}\n{t.description}\n{t.resolution}"))
             if w not in kbtext.STOPWORDS and (len(w) > 1 or kbtext.is_cjk(w))]
    df = known(words) if words else {}
    n_docs = max(kbindex.doc_count(st), 1)
    rare: list[str] = []
    postings = 0
    for w in sorted((w for w in words if 0 < df.get(w, 0) <= max(n_docs // 5, 20)), key=lambda w: (df[w], w))[:SIMILAR_WORDS]:
        if rare and postings + df[w] > SIMILAR_POSTINGS:
            break  # bm25 scores every document a word is in: the rarest words say the most and cost the least
        rare.append(w)
        postings += df[w]
    cands: dict[tuple[str, str], tuple[kbindex.Hit, float]] = {}
    if rare:
        hits = kbindex.match(st, " OR ".join(f'"{w}"' for w in rare), 100)
        best = max((h.score for h in hits), default=0.0) or 1.0
        for h in hits:
            cands[(h.kind, h.ref)] = (h, h.score / best)
    if t.fault:
        for h in kbindex.by_fields(st, t.product, t.fault, 50):
            cands.setdefault((h.kind, h.ref), (h, 0.0))
    cands.pop(("ticket", t.key), None)
    weight = SIMILAR_WEIGHTS
    scored = []
    for (_kind, ref), (h, text_sim) in cands.items():
        same = {f: getattr(t, f) for f in ("fault", "product", "dept") if getattr(t, f) and getattr(h, f) == getattr(t, f)}
        score = weight["text"] * text_sim + sum(weight[f] for f in same)
        scored.append((round(score, 3), h.at, ref, h, same, text_sim))
    scored.sort(key=lambda s: (-s[0], -_ts(s[1]), s[3].kind != "article", s[2]))
    out = []
    for score, _at, _ref, h, same, text_sim in scored[:limit]:
        d = _describe(env, h, rare)
        d["score"] = score
        d["why"] = {**same, "words": d.pop("matched") if text_sim else []}
        d.pop("all_words", None)
        out.append(d)
    return out


def _ts(at: str) -> float:
    from ticketctl.core.model import parse_time

    try:
        return parse_time(at).timestamp()
    except ValueError:
        return 0.0


def strong_match(env: Env, key: str) -> dict[str, Any] | None:
    """The best similar document for a ticket just opened, when it is close
    enough to tell the technician (:data:`STRONG`); None otherwise."""
    try:
        best = similar(env, key, 1, everything=False)
    except NotFound:
        return None
    return best[0] if best and best[0]["score"] >= STRONG else None

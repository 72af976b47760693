"""Text for the knowledge base: what the search index stores, how a query
becomes an FTS5 expression, and what an article may never say.

**Chinese (and Japanese, Korean) without a segmenter.** Chinese is written
without spaces, and the everyday query is a two-character word (漏水, 死机,
跳闸). SQLite's ``unicode61`` tokenizer would make a whole run of Han
characters one token, so 漏水 would never match 管道漏水; its ``trigram``
tokenizer cannot match a two-character query at all. A dictionary segmenter
such as jieba would, but it takes ~0.6 s to load its dictionary (more than a
technician's whole command may take), and it segments the index and the
query independently: a word it splits one way in a ticket and another way in
the query is never found.

So the index holds **overlapping bigrams** of every CJK run (管道漏水 ->
管道 道漏 漏水; a lone character is kept as itself), the approach of Lucene's
CJKAnalyzer and Elasticsearch's ``cjk_bigram``: every two-character word of
the text is a token, whatever the dictionary would say, so recall of
two-character queries is complete; a longer query word is all of its bigrams
(ranked higher where they stand together). No dictionary, nothing to load,
and the same function serves the index and the query.

**English.** Words are lowercased, accents folded, and a query word matches
as a prefix after a light suffix strip (``leaking`` -> ``leak*`` finds leak,
leaks, leaked). A query word the index has never seen (no term starts with
it) is taken as a typo: it is replaced by the known words one edit away
(insert, delete, substitute, transpose), the most common first.

This module is pure: the index's vocabulary is passed in as a function.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

#: Han (with extensions and compatibility ideographs), kana, Hangul syllables
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af\U00020000-\U0002fa1f"
_WORD = re.compile(rf"[{CJK}]+|[^\W_{CJK}]+")
_CJK_RUN = re.compile(rf"[{CJK}]")

#: words a query drops when it has others (they match nearly everything)
STOPWORDS = frozenset(
    "a an and are as at be by for from in is it no not of on or the to was were with".split())

#: how many corrections of one misspelled word the query tries
MAX_CORRECTIONS = 4
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def normalize(text: str) -> str:
    """Lowercase, width-folded (NFKC), accents removed: what both the index and
    the query see."""
    text = unicodedata.normalize("NFKC", text).lower()
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def is_cjk(token: str) -> bool:
    return bool(_CJK_RUN.match(token))


def bigrams(run: str) -> list[str]:
    """The overlapping bigrams of a CJK run (a single character: itself)."""
    if len(run) < 2:
        return [run]
    return [run[i:i + 2] for i in range(len(run) - 1)]


def tokens(text: str) -> list[str]:
    """The index tokens of ``text``, in order: words, and bigrams of CJK runs."""
    out: list[str] = []
    for m in _WORD.finditer(normalize(text)):
        w = m.group()
        if is_cjk(w):
            out.extend(bigrams(w))
        else:
            out.append(w)
    return out


def index_text(*parts: str) -> str:
    """What the FTS5 index stores for ``parts``: the tokens, space-separated
    (``unicode61`` then splits exactly there)."""
    return " ".join(t for p in parts if p for t in tokens(p))


def stem(word: str) -> str:
    """A light English suffix strip for prefix matching (``leaking`` -> ``leak``,
    ``stopped`` -> ``stop``, ``boxes`` -> ``box``); other words unchanged."""
    if not word.isascii() or not word.isalpha() or len(word) < 5:
        return word
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if suffix == "es" and not word.endswith(("xes", "ches", "shes", "sses", "zes")):
                continue
            base = word[: -len(suffix)]
            if suffix in ("ing", "ed") and len(base) >= 4 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]
            return base
    return word


def edits1(word: str) -> set[str]:
    """Every string one edit from ``word`` (Norvig's corrector): a letter
    deleted, two swapped, one replaced or one inserted."""
    letters = _ALPHABET + "".join(sorted({c for c in word if c not in _ALPHABET}))
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in letters}
    out |= {a + c + b for a, b in splits for c in letters}
    out.discard(word)
    return out


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


@dataclass
class Unit:
    """One word of a query as FTS5 sees it."""

    text: str                 #: as typed (normalized)
    expr: str                 #: its FTS5 expression ("" when nothing can match it)
    tokens: list[str]         #: the index tokens it stands for (OR mode)
    corrected: list[str] = field(default_factory=list)  #: known words tried instead of a typo


@dataclass
class Query:
    """A parsed query: ``all_of`` (every word) and ``any_of`` (any word) as
    FTS5 MATCH expressions, and what was corrected."""

    units: list[Unit]

    @property
    def all_of(self) -> str:
        exprs = [u.expr for u in self.units]
        return "" if not exprs or "" in exprs else " AND ".join(exprs)

    @property
    def any_of(self) -> str:
        toks = list(dict.fromkeys(t for u in self.units for t in u.tokens))
        return " OR ".join(toks)

    @property
    def corrections(self) -> dict[str, list[str]]:
        return {u.text: u.corrected for u in self.units if u.corrected}

    @property
    def words(self) -> list[str]:
        return [u.text for u in self.units]


#: (prefix) -> whether any index term starts with it
HasPrefix = Callable[[str], bool]
#: (candidate terms) -> {term: documents} for those the index knows
Known = Callable[[Sequence[str]], dict[str, int]]


#: the longest query searched: longer text is refused (the CLI: exit 2; the server's /kb: 422), not cut
QUERY_MAX_CHARS = 200
#: the most terms a query may score: a word is one, a Chinese run of n characters n - 1 (its bigrams)
QUERY_MAX_TERMS = 16


class QueryTooLong(ValueError):
    """A query over :data:`QUERY_MAX_CHARS` or :data:`QUERY_MAX_TERMS`; its text says which, in the reader's language."""


def check_query(text: str) -> None:
    """Raise :class:`QueryTooLong` for a query that would cost more to search
    than a person could have meant: every term is looked up, scored and, when
    unknown, corrected, so the worst case grows with their number."""
    from ticketctl.i18n import _

    if len(text) > QUERY_MAX_CHARS:
        raise QueryTooLong(_("the query is {n} characters long; at most {limit} are searched").format(n=len(text), limit=QUERY_MAX_CHARS))
    words = [m.group() for m in _WORD.finditer(normalize(text))]
    if any(w not in STOPWORDS for w in words):
        words = [w for w in words if w not in STOPWORDS]
    terms = sum(max(len(w) - 1, 1) if is_cjk(w) else 1 for w in dict.fromkeys(words))
    if terms > QUERY_MAX_TERMS:
        raise QueryTooLong(_("the query has {n} search terms; at most {limit} (a Chinese run of n characters is n-1 terms)").format(
            n=terms, limit=QUERY_MAX_TERMS))


def parse_query(text: str, has_prefix: HasPrefix, known: Known) -> Query:
    """The FTS5 expressions for a user's query. A word of three letters or
    more matches as a prefix of its stem; digits and short words exactly; a
    CJK run as all its bigrams; a word the index has no term for (a typo) as
    any of its known neighbours one edit away."""
    words = [m.group() for m in _WORD.finditer(normalize(text))]
    if any(w not in STOPWORDS for w in words):
        words = [w for w in words if w not in STOPWORDS]
    units: list[Unit] = []
    for w in dict.fromkeys(words):
        if is_cjk(w):
            grams = bigrams(w)
            if len(w) == 1:
                units.append(Unit(w, _quote(w) + "*", [_quote(w) + "*"]))
            else:
                units.append(Unit(w, " AND ".join(_quote(g) for g in grams) if len(grams) > 1 else _quote(grams[0]),
                                  [_quote(g) for g in grams]))
            continue
        if w.isdigit() or len(w) < 3:
            units.append(Unit(w, _quote(w), [_quote(w)]))
            continue
        s = stem(w)
        if has_prefix(s):
            units.append(Unit(w, _quote(s) + "*", [_quote(s) + "*"]))
            continue
        fixes = corrections(w, known)
        expr = "(" + " OR ".join(_quote(f) + "*" for f in fixes) + ")" if fixes else ""
        units.append(Unit(w, expr, [_quote(f) + "*" for f in fixes], fixes))
    return Query(units)


def corrections(word: str, known: Known) -> list[str]:
    """The known words one edit from ``word`` (or from its stem), most
    documents first; words of under four letters are not corrected."""
    if len(word) < 4 or word.isdigit():
        return []
    cands = edits1(word) | edits1(stem(word))
    hits = known(sorted(cands))
    return [t for t, _n in sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))][:MAX_CORRECTIONS]


def matched_words(query_words: Iterable[str], text: str) -> list[str]:
    """Which of the query's words (or their stems, bigrams) ``text`` contains:
    the "why" of a hit."""
    toks = set(tokens(text))
    out = []
    for w in query_words:
        if is_cjk(w):
            if all(g in toks for g in bigrams(w)):
                out.append(w)
        elif w in toks or any(t.startswith(stem(w)) for t in toks if len(stem(w)) >= 3 and not w.isdigit()):
            out.append(w)
    return out


# -- what an article may never say ------------------------------------------------------

_PHONE = re.compile(r"(?<![\w+(])[+(]?\d[\d ()./-]{5,}\d(?!\w)")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2})?|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?: \d{1,2})?")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_MARK, EMAIL_MARK, CUSTOMER_MARK = "[phone]", "[email]", "[customer]"


def _phone(m: re.Match[str]) -> str:
    s = m.group()
    digits = sum(c.isdigit() for c in s)
    if not 7 <= digits <= 15 or _DATE.fullmatch(s.strip()) or re.fullmatch(r"\d+\.\d+", s):
        return s
    return PHONE_MARK


def scrub(text: str, phones: Iterable[str] = (), names: Iterable[str] = ()) -> str:
    """``text`` without phone numbers, e-mail addresses, and the given
    customer's phone numbers and names (any case): what a knowledge article
    may hold, since every technician and, once published, every customer
    reads it."""
    for p in phones:
        digits = re.sub(r"\D", "", p)
        if len(digits) >= 5:  # the number however it was written: 138-0013-8000, 13800138000, +86 138 ...
            pattern = r"\D{0,3}".join(re.escape(d) for d in digits[-min(len(digits), 11):])
            text = re.sub(rf"(?:\+\d{{1,3}}[ -]?)?(?:\(0\)\s?)?{pattern}", PHONE_MARK, text)
    for n in names:
        n = n.strip()
        if len(n) >= 3 or (len(n) >= 2 and is_cjk(n)):
            text = re.sub(re.escape(n), CUSTOMER_MARK, text, flags=re.IGNORECASE)
    text = _EMAIL.sub(EMAIL_MARK, text)
    return _PHONE.sub(_phone, text)

"""Knowledge articles: what a resolved ticket teaches, as events like the rest.

An article is folded from its events (``kb.added``, ``kb.edited``,
``kb.published``, ``kb.retired``) exactly as a ticket is, so it syncs to the
team, has a history and can be rebuilt. Its events carry the article's id in
the event's ``ticket`` column (``KB-ABC-3``: the ``KB-`` marks it, and no
ticket key has two dashes), so an article's history is one indexed lookup.

The rules, all pure:

* an article is made from a resolved or closed ticket (its ``source``), or
  from nothing; it needs a title and a solution;
* its text never holds a phone number, an e-mail address or the source
  ticket's customer (``kbtext.scrub``), on the device that writes it and
  again on the server that re-runs the change: every technician reads it;
* ``publish`` makes it public (the server's ``/kb`` pages), ``unpublish``
  takes it back; ``retire`` takes it out of search and off the public pages
  for good (its history stays).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ticketctl.core import kbtext
from ticketctl.core.model import Event, Ticket
from ticketctl.errors import BadInput, Refused
from ticketctl.i18n import N_, _, fill

#: ``KB-`` + the making device's key prefix + its number
ID_RE = re.compile(r"KB-[A-Z]{1,12}-[1-9][0-9]{0,11}")
EVENT_PREFIX = "kb."

#: the text fields of an article, in the order a page shows them
TEXT_FIELDS = ("title", "problem", "cause", "solution")
#: what ``kb add`` and ``kb edit`` may set
FIELDS = ("title", "problem", "steps", "cause", "solution", "tags", "product", "fault", "dept")
LIMITS = {"title": 200, "problem": 5000, "cause": 5000, "solution": 5000, "step": 2000, "tag": 40,
          "product": 200, "fault": 200, "dept": 200}
MAX_STEPS, MAX_TAGS = 50, 20


def is_article_event(e: Event) -> bool:
    return e.type.startswith(EVENT_PREFIX)


@dataclass
class Article:
    """The projection of one knowledge article."""

    id: str
    title: str
    author: str
    created_at: str
    updated_at: str
    problem: str = ""
    steps: list[str] = field(default_factory=list)
    cause: str = ""
    solution: str = ""
    tags: list[str] = field(default_factory=list)
    product: str = ""
    fault: str = ""
    dept: str = ""
    source: str | None = None          #: the ticket it was made from
    status: str = "active"             #: active or retired
    public: bool = False
    published_at: str | None = None
    retired_at: str | None = None
    retire_reason: str | None = None
    version: int = 1                   #: 1 + the edits since it was added
    editors: list[str] = field(default_factory=list)


def clean(fields: dict[str, Any], phones: tuple[str, ...] = (), names: tuple[str, ...] = ()) -> dict[str, Any]:
    """The article fields of ``fields`` checked and scrubbed (see the module doc);
    None values are left out. Raises BadInput on a field too long or unknown."""
    out: dict[str, Any] = {}
    for k, v in fields.items():
        if v is None:
            continue
        if k not in FIELDS:
            raise BadInput(_("an article has no field {field!r} (fields: {known})").format(field=k, known=", ".join(FIELDS)))
        if k == "steps":
            steps = [kbtext.scrub(str(s).strip(), phones, names) for s in v if str(s).strip()]
            if len(steps) > MAX_STEPS or any(len(s) > LIMITS["step"] for s in steps):
                raise BadInput(_("an article has at most {n} steps of at most {chars} characters each").format(
                    n=MAX_STEPS, chars=LIMITS["step"]))
            out[k] = steps
        elif k == "tags":
            tags = sorted({str(t).strip().lower() for t in v if str(t).strip()})
            if len(tags) > MAX_TAGS or any(len(t) > LIMITS["tag"] or any(c.isspace() for c in t) for t in tags):
                raise BadInput(_("an article has at most {n} tags, each one word of at most {chars} characters").format(
                    n=MAX_TAGS, chars=LIMITS["tag"]))
            out[k] = tags
        else:
            text = str(v).strip()
            if len(text) > LIMITS[k]:
                raise BadInput(_("the article's {field} is longer than {chars} characters").format(field=k, chars=LIMITS[k]))
            out[k] = kbtext.scrub(text, phones, names) if k in TEXT_FIELDS else text
    return out


def secrets_of(t: Ticket | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The phone numbers and names an article from ``t`` must not repeat."""
    if t is None:
        return (), ()
    return tuple(p for p in (t.phone,) if p), tuple(n for n in (t.customer,) if n)


def decide_add(article_id: str, fields: dict[str, Any], source: Ticket | None, source_key: str | None) -> list[tuple[str, dict[str, Any]]]:
    """The event that adds an article; refused unless it has a title and a
    solution, and its source (when named) is a resolved or closed ticket."""
    if not ID_RE.fullmatch(article_id):
        raise BadInput(_("article id {id!r} is not KB-PREFIX-NUMBER like KB-KQT-3").format(id=article_id))
    if source_key is not None:
        if source is None:
            raise Refused(_("no ticket {key!r}").format(key=source_key))
        if source.status not in ("resolved", "closed"):
            raise Refused(fill(N_("{key} is {status}: an article is made from a resolved or closed ticket"),
                               key=source.key, status=source.status))
    data = clean(fields, *secrets_of(source))
    for need in ("title", "solution"):
        if not data.get(need):
            raise BadInput(_("an article needs a {field} (pass --{field} TEXT, or --edit)").format(field=need))
    payload: dict[str, Any] = {"id": article_id, **data}
    if source is not None:
        payload["source"] = source.key
    return [("kb.added", payload)]


def decide_edit(a: Article, fields: dict[str, Any], source: Ticket | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The event that changes an article's fields (only those that change)."""
    if a.status == "retired":
        raise Refused(_("{id} is retired: it cannot be edited").format(id=a.id))
    data = clean(fields, *secrets_of(source))
    changes = {k: v for k, v in data.items() if getattr(a, k) != v}
    for need in ("title", "solution"):
        if need in changes and not changes[need]:
            raise BadInput(_("an article needs a {field} (pass --{field} TEXT, or --edit)").format(field=need))
    if not changes:
        raise Refused(_("nothing to change in {id}: the fields given are what it already says").format(id=a.id))
    return [("kb.edited", {"id": a.id, "changes": changes})]


def decide_publish(a: Article, public: bool) -> list[tuple[str, dict[str, Any]]]:
    if a.status == "retired":
        raise Refused(_("{id} is retired: it cannot be published").format(id=a.id))
    if a.public == public:
        raise Refused((_("{id} is already public") if public else _("{id} is not public")).format(id=a.id))
    return [("kb.published", {"id": a.id, "public": public})]


def decide_retire(a: Article, reason: str | None) -> list[tuple[str, dict[str, Any]]]:
    if a.status == "retired":
        raise Refused(_("{id} was already retired at {at}").format(id=a.id, at=a.retired_at))
    payload: dict[str, Any] = {"id": a.id}
    if reason:
        payload["reason"] = kbtext.scrub(reason.strip())[:500]
    return [("kb.retired", payload)]


def apply_article(a: Article | None, e: Event) -> Article:
    """The article after event ``e`` (never mutates ``a``)."""
    p = e.payload
    if e.type == "kb.added":
        known = {k: p[k] for k in (*FIELDS, "source") if k in p}
        return Article(id=p["id"], author=e.actor, created_at=e.at, updated_at=e.at, **known)
    if a is None:
        raise ValueError(f"event {e.id} ({e.type}) for {e.ticket} comes before the article was added")
    if e.type == "kb.edited":
        changes: dict[str, Any] = {k: (list(v) if k in ("steps", "tags") else v) for k, v in p["changes"].items() if k in FIELDS}
        editors = a.editors if e.actor in a.editors or e.actor == a.author else [*a.editors, e.actor]
        return replace(a, updated_at=e.at, version=a.version + 1, editors=list(editors), **changes)
    if e.type == "kb.published":
        public = bool(p["public"])
        return replace(a, updated_at=e.at, public=public, published_at=e.at if public else None)
    if e.type == "kb.retired":
        return replace(a, updated_at=e.at, status="retired", public=False, retired_at=e.at, retire_reason=p.get("reason"))
    raise ValueError(f"unknown event type {e.type!r}")


def fold_article(events: list[Event], base: Article | None = None) -> Article | None:
    a = base
    for e in events:
        a = apply_article(a, e)
    return a


def article_public(a: Article) -> dict[str, Any]:
    """The article as ``kb show --json`` prints it."""
    return asdict(a)


def draft_from_ticket(t: Ticket, notes: list[str]) -> dict[str, Any]:
    """An article's fields prefilled from a resolved ticket: its title, the
    description as the problem, the notes as the steps, the resolution as the
    solution, product, fault and department; the skills it needed as tags."""
    fields = {
        "title": t.title,
        "problem": t.description or t.title,
        "steps": [n[:LIMITS["step"]] for n in notes if n.strip()][-MAX_STEPS:],
        "cause": "",
        "solution": t.resolution,
        "tags": [s for s in t.skills if len(s) <= LIMITS["tag"] and not any(c.isspace() for c in s)][:MAX_TAGS],
        "product": t.product,
        "fault": t.fault,
        "dept": t.dept,
    }
    return {k: (v[:LIMITS[k]] if isinstance(v, str) and k in LIMITS else v) for k, v in fields.items()}


#: the sections of the text ``kb add --edit`` and ``kb edit --edit`` open, in order
SECTIONS = ("title", "problem", "steps", "cause", "solution", "tags", "product", "fault", "dept")


def to_template(fields: dict[str, Any], help_line: str) -> str:
    """The article as text for an editor: a ``## section`` per field, steps one
    per line (``- ``), tags space-separated; lines starting ``#`` that are not a
    section are comments (``help_line`` says so)."""
    out = [f"# {line}" for line in help_line.splitlines()]
    for s in SECTIONS:
        v = fields.get(s) or ([] if s in ("steps", "tags") else "")
        out += ["", f"## {s}"]
        if s == "steps":
            out += [f"- {step}" for step in v]
        elif s == "tags":
            out.append(" ".join(v))
        else:
            out.append(str(v))
    return "\n".join(out) + "\n"


def from_template(text: str) -> dict[str, Any]:
    """The fields of an edited template (see :func:`to_template`); unknown
    sections are refused."""
    fields: dict[str, Any] = {}
    current: str | None = None
    lines: dict[str, list[str]] = {}
    for line in text.splitlines():
        head = re.fullmatch(r"##\s*(\w+)\s*", line)
        if head:
            current = head.group(1).lower()
            if current not in SECTIONS:
                raise BadInput(_("unknown section '## {name}' (sections: {known})").format(name=head.group(1), known=", ".join(SECTIONS)))
            lines.setdefault(current, [])
        elif line.startswith("#"):
            continue
        elif current is not None:
            lines[current].append(line)
    for s, body in lines.items():
        if s == "steps":
            steps: list[str] = []
            for line in body:
                if re.match(r"\s*[-*]\s+", line) or not steps:
                    steps.append(re.sub(r"^\s*[-*]\s+", "", line).strip())
                elif line.strip():
                    steps[-1] = f"{steps[-1]} {line.strip()}"
            fields[s] = [x for x in steps if x]
        elif s == "tags":
            fields[s] = " ".join(body).split()
        else:
            fields[s] = "\n".join(body).strip()
    return fields


def search_text(a: Article) -> tuple[str, str]:
    """(title, body) the index holds for an article."""
    body = "\n".join([a.problem, *a.steps, a.cause, a.solution, " ".join(a.tags), a.product, a.fault])
    return a.title, body


#: what ``similar`` and the dashboard's detail say when nothing is similar
NOTHING_SIMILAR = N_("nothing similar yet: no resolved ticket or article shares its words, fault, product or department")


def why_text(why: dict[str, Any]) -> str:
    """Why a similar document (or a search hit: only ``words``) matched, for
    people: the words, then the fields it shares. One function for ``show``,
    ``similar``, ``kb search`` and the dashboard."""
    words = why.get("words", [])
    parts = [_("words: {words}").format(words=_(", ").join(words))] if words else []  # ", " and "; ": 、 and ； in Chinese
    parts += [label.format(value=why[f]) for f, label in (
        ("fault", _("same fault {value}")), ("product", _("same product {value}")), ("dept", _("same department {value}")))
        if f in why]
    return _("; ").join(parts)

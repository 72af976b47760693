"""What the dispatcher's dashboard reads, and the one action it adds (escalate).

Headless on purpose (no Textual here): every function takes an :class:`Env`
and returns plain data, so the queries are tested and benchmarked without a
screen, and a worker thread can call them with its own connection.

The backlog is never loaded whole. A dashboard over 100k open tickets holds:

* the *ranking*: every open ticket's sort key, ``(-weight, created_at, key,
  rowid)``, computed by SQLite for one "now" with the same expression as
  ``ticketctl list`` (~0.3 s for 100k, in a worker, once a minute);
* with each sort key, the ticket's filter columns (dept, product, ...), so a
  ``field:value`` filter never asks SQLite: once a worker has grouped the
  ranking by each column (:func:`facets`), a filter is a dict lookup; before
  that, one pass in C. Free words are the set of row ids SQLite finds
  (:func:`matching`); the ranking filtered by either keeps its order, so
  filtering never re-sorts. The ranking reads only the ``tickets_rank``
  covering index (schema v6);
* the *rows* of a window around what is on screen, fetched by key.

A change touches a few tickets: :func:`ranks` gives their new sort keys for
the ranking's "now", and the list is patched by bisection, not reloaded. The
ranking is recomputed only as the clock moves (weights grow as SLA time runs
out).
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from itertools import compress, repeat
from operator import eq, itemgetter
from typing import Any

from ticketctl.core import workflow
from ticketctl.core.config import PRIORITIES
from ticketctl.core.labels import ZH, label, value_of
from ticketctl.core.model import OPEN_STATUSES, STATUSES, iso, parse_time
from ticketctl.core.views import AT_RISK_SHARE, ticket_public
from ticketctl.errors import BadInput, Refused
from ticketctl.i18n import _
from ticketctl.services.env import Env
from ticketctl.services.heatmap import STUCK_HOURS
from ticketctl.services.tickets import commit
from ticketctl.store.board import FILTER_FIELDS, ORDERS, Clock

#: a sort key, (-weight, created_at, key, rowid) for the backlog, (reason, blocked_since, key, rowid) for the
#: blocked board, then the ticket's FILTER_FIELDS (they never decide the order: rowid is unique)
Rank = tuple[Any, ...]
#: where each filter field (``store.board.FILTER_FIELDS``: search words ``field:value``) sits in a Rank
AT = {name: 4 + i for i, name in enumerate(FILTER_FIELDS)}
#: a ranking's facets: per filter field, per value, the ranks holding it, in order
Facets = dict[str, dict[Any, list[Rank]]]
__all__ = ["FILTER_FIELDS", "ORDERS"]


#: the values a filter field takes by label too (``status:已挂起`` is ``status:blocked``): (label kind, identifiers)
LABELLED = {"status": ("status", STATUSES), "priority": ("priority", PRIORITIES), "reason": ("reason", tuple(ZH["reason"]))}


#: the SLA states an open ticket is in (``core.views.sla_state``), as ``sla:`` takes them; ``risk`` is ``at_risk``
SLA_STATES = ("ok", "at_risk", "breached", "paused")
#: ``age:>2d``, ``age:<4h``: opened more (``>``) or less (``<``) than so long ago (wall time)
AGE = re.compile(r"^([<>])(\d{1,6})([mhdw])$")
AGE_UNITS = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
#: the words ``Filter.parse`` takes as ``word:value``, besides ``FILTER_FIELDS``
CONDITIONS = ("sla", "age")


def typed(name: str, value: str) -> str:
    """A filter field's value as stored: the identifier a label stands for
    (built-in labels, any language), else the value as typed."""
    if name not in LABELLED:
        return value
    kind, known = LABELLED[name]
    return value_of(kind, value, known)


def age_seconds(spec: str) -> int:
    """``2d`` -> 172800 (the part of an ``age:`` filter after ``>`` or ``<``)."""
    return int(spec[:-1]) * AGE_UNITS[spec[-1]]


@dataclass(frozen=True)
class Filter:
    """Which open tickets the backlog shows, every part at once (AND): exact
    fields (``dept:facilities``, ``@ana`` or ``assignee:ana`` for the assignee,
    ``assignee:-`` or ``@-`` for nobody), the SLA state (``sla:breached``, as
    the header counts it), the age (``age:>2d``: opened more than two days
    ago, ``age:<4h``: less than four hours ago) and free words, each matched
    against key, title, customer and assignee."""

    fields: tuple[tuple[str, str], ...] = ()
    words: tuple[str, ...] = ()
    sla: str | None = None
    #: ``age:>2d`` keeps ``2d`` here, ``age:<4h`` ``4h`` in ``newer``
    older: str | None = None
    newer: str | None = None

    @classmethod
    def parse(cls, text: str) -> Filter:
        """``dept:facilities @ana sla:breached age:>2d pump`` -> its parts; an
        unknown ``field:`` is bad input naming the fields there are."""
        fields: dict[str, str] = {}
        words = []
        cond: dict[str, str | None] = {}
        for tok in text.split():
            if tok.startswith("@") and len(tok) > 1:
                fields["assignee"] = tok[1:]
            elif ":" in tok and not tok.startswith(":"):
                name, value = tok.split(":", 1)
                if name == "sla":
                    cond["sla"] = sla_state_of(value)
                elif name == "age":
                    m = AGE.match(value)
                    if m is None:
                        raise BadInput(_("age wants > or < and a duration (m, h, d, w): age:>2d, age:<4h; not {value!r}").format(
                            value=value))
                    cond["older" if m.group(1) == ">" else "newer"] = value[1:]
                elif name not in FILTER_FIELDS:
                    raise BadInput(_("unknown filter {name!r} (use {fields}, or plain words)").format(
                        name=name, fields=", ".join((*FILTER_FIELDS, *CONDITIONS))))
                else:
                    fields[name] = typed(name, value)
            else:
                words.append(tok)
        return cls(tuple(sorted(fields.items())), tuple(words), cond.get("sla"), cond.get("older"), cond.get("newer"))

    def with_fields(self, **values: str) -> Filter:
        """This filter with some exact fields set (a heat-map cell)."""
        merged = dict(self.fields)
        merged.update(values)
        return replace(self, fields=tuple(sorted(merged.items())))

    def text(self) -> str:
        """The filter as typed: statuses, priorities, reasons and SLA states
        as the reader reads them (``status:已挂起 sla:已超时`` in Chinese),
        which :meth:`parse` takes back."""
        parts = [f"{k}:{label(LABELLED[k][0], v) if k in LABELLED else v}" for k, v in self.fields]
        if self.sla is not None:
            parts.append(f"sla:{label('sla', self.sla)}")
        parts += [f"age:>{self.older}"] if self.older else []
        parts += [f"age:<{self.newer}"] if self.newer else []
        return " ".join([*parts, *self.words])

    def asks_sql(self) -> bool:
        """Whether SQLite must say which tickets pass (words, SLA state, age:
        they are not in a Rank)."""
        return bool(self.words) or self.sla is not None or self.older is not None or self.newer is not None

    def conditions(self) -> Filter:
        """This filter without its exact fields: what :func:`matching` asks SQLite for."""
        return replace(self, fields=())

    def values(self) -> list[tuple[str, str | None]]:
        """The exact fields as (field, value in the Rank): ``assignee:-`` is None."""
        return [(n, None if n == "assignee" and v in ("-", "none") else v) for n, v in self.fields]

    def keeps(self, r: Rank) -> bool:
        """Whether rank ``r`` passes the exact fields (words are not checked)."""
        return all(r[AT[n]] == v for n, v in self.values())


def sla_state_of(text: str) -> str:
    """``breached``, ``已超时`` or ``risk`` -> the SLA state an ``sla:`` filter means."""
    value = "at_risk" if text == "risk" else value_of("sla", text, SLA_STATES)
    if value not in SLA_STATES:
        raise BadInput(_("unknown SLA state {value!r} (use {states})").format(
            value=text, states=", ".join(label("sla", s) for s in SLA_STATES)))
    return value


#: what each of the header's counts (:func:`counts`) counts, as a filter: its key on the dashboard shows exactly those
COUNT_FILTERS = {"open": Filter(), "unassigned": Filter(fields=(("assignee", "-"),)), "at_risk": Filter(sla="at_risk"),
                 "breached": Filter(sla="breached"), "blocked": Filter(fields=(("status", "blocked"),))}


@dataclass
class Ranking:
    """Sort keys of every open ticket (``order`` weight) or every blocked one
    (``order`` blocked), best first, for one "now"; once :meth:`set_facets`
    ran, also grouped by each filter field."""

    order: str
    now_bt: int
    in_hours: bool
    ranks: list[Rank] = field(default_factory=list)
    of: dict[str, Rank] = field(default_factory=dict)
    facets: Facets | None = None
    #: patches made while the facets were being built elsewhere: replayed onto them
    log: list[tuple[Rank | None, Rank | None]] | None = None
    #: how many patches so far (a filter cut before a patch is cut again)
    version: int = 0

    def __post_init__(self) -> None:
        self.of = dict(zip(map(itemgetter(2), self.ranks), self.ranks, strict=True))

    def only(self, keep: set[int] | None) -> list[Rank]:
        """The ranking filtered to the row ids in ``keep`` (all for None), in
        order; the loop runs in C (~10 ms for 100k, a Python loop takes ~60)."""
        if keep is None:
            return list(self.ranks)
        return list(compress(self.ranks, map(keep.__contains__, map(itemgetter(3), self.ranks))))

    def select(self, flt: Filter, keep: set[int] | None = None) -> list[Rank]:
        """The ranks ``flt``'s exact fields keep and, when given, whose row id
        is in ``keep`` (its words), in order: with facets, the smallest
        matching group narrowed by the other fields; without, one pass in C."""
        want = flt.values()
        if not want:
            return self.only(keep)
        if self.facets is not None:
            groups = [self.facets[n].get(v, []) for n, v in want]
            base = min(groups, key=len)
            out = list(base) if len(want) == 1 else [r for r in base if flt.keeps(r)]
        else:
            at = itemgetter(*(AT[n] for n, _v in want))
            target = want[0][1] if len(want) == 1 else tuple(v for _n, v in want)
            # operator.eq, not target.__eq__: "bob".__eq__(None) is NotImplemented, which is true
            out = list(compress(self.ranks, map(eq, repeat(target), map(at, self.ranks))))
        return out if keep is None else [r for r in out if r[3] in keep]

    def patch(self, new: dict[str, Rank | None]) -> dict[str, Rank | None]:
        """Apply fresh sort keys (None: no longer listed) by bisection, to the
        ranking and its facets; returns the ranks they replaced."""
        old_ranks: dict[str, Rank | None] = {}
        self.version += 1
        for key, r in new.items():
            old = self.of.pop(key, None)
            old_ranks[key] = old
            if old is not None:
                remove_rank(self.ranks, old)
            if r is not None:
                bisect.insort(self.ranks, r)
                self.of[key] = r
            if self.facets is not None:
                _patch_facets(self.facets, old, r)
            if self.log is not None:
                self.log.append((old, r))
        return old_ranks

    def start_facets(self) -> list[Rank]:
        """A copy of the ranks to group in a worker (:func:`facets`); patches
        from now on are kept to replay onto the groups."""
        self.log = []
        return list(self.ranks)

    def set_facets(self, facets: Facets) -> None:
        """Take the groups a worker built from :meth:`start_facets`' copy."""
        for old, r in self.log or ():
            _patch_facets(facets, old, r)
        self.facets, self.log = facets, None


def facets(ranks: list[Rank]) -> Facets:
    """``ranks`` grouped by each filter field, each group in ranking order
    (~0.1 s for 100k: run it in a worker)."""
    out: Facets = {}
    for name in FILTER_FIELDS:
        groups: dict[Any, list[Rank]] = {}
        at = AT[name]
        for r in ranks:
            g = groups.get(r[at])
            if g is None:
                groups[r[at]] = [r]
            else:
                g.append(r)
        out[name] = groups
    return out


def remove_rank(ranks: list[Rank], r: Rank) -> None:
    """Drop ``r`` from the sorted ``ranks`` if it is there (bisection)."""
    i = bisect.bisect_left(ranks, r)
    if i < len(ranks) and ranks[i] == r:
        del ranks[i]


def _patch_facets(facets: Facets, old: Rank | None, new: Rank | None) -> None:
    for name, groups in facets.items():
        if old is not None and old[AT[name]] in groups:
            remove_rank(groups[old[AT[name]]], old)
        if new is not None:
            bisect.insort(groups.setdefault(new[AT[name]], []), new)


def ranking(env: Env, order: str = "weight") -> Ranking:
    """Every listed ticket's sort key, in the order ``ticketctl list`` gives
    (``weight``: the same expression, ``created_at``, ``key``)."""
    cal = env.config.business_calendar
    now_bt, in_hours = cal.ordinal(env.now), cal.in_hours(env.now)
    rows = env.store.board.ranking(env.config, order, now_bt, in_hours)
    rows.sort()
    return Ranking(order, now_bt, in_hours, rows)


def ranks(env: Env, rk: Ranking, keys: list[str]) -> dict[str, Rank | None]:
    """The sort keys ``keys`` have now under ``rk``'s clock; None for a ticket
    that is no longer listed (resolved, unblocked, gone)."""
    out: dict[str, Rank | None] = dict.fromkeys(keys)
    for r in env.store.board.ranks(env.config, rk.order, rk.now_bt, rk.in_hours, keys):
        out[r[2]] = r
    return out


def matching(env: Env, flt: Filter, keys: list[str] | None = None) -> set[int] | None:
    """Row ids of the open tickets ``flt`` keeps (among ``keys``, when given);
    None for no filter. A ranking filtered by these keeps its order, so a
    filter costs one indexed lookup (dept, product, fault, status) instead of
    a new ranking; only free words read the rows."""
    if not flt.fields and not flt.asks_sql():
        return None
    return env.store.board.matching(flt.fields, flt.words, keys, clock(env, flt))


def clock(env: Env, flt: Filter) -> Clock | None:
    """What ``flt``'s SLA state and age are decided against: ``env``'s "now",
    as :func:`counts` reads it (None: neither is asked for)."""
    if flt.sla is None and flt.older is None and flt.newer is None:
        return None
    now = env.now
    before = iso(now - timedelta(seconds=age_seconds(flt.older))) if flt.older else None
    after = iso(now - timedelta(seconds=age_seconds(flt.newer))) if flt.newer else None
    return Clock(env.config.business_calendar.ordinal(now), AT_RISK_SHARE, flt.sla, before, after)


def rows(env: Env, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The public view of each ticket in ``keys`` that exists (``list --json`` keys)."""
    cfg, now = env.config, env.now
    return {t.key: ticket_public(t, cfg, now) for t in env.store.tickets_by_key(keys)}


def counts(env: Env) -> dict[str, int]:
    """The header's figures: open, unassigned, at risk, breached, blocked (the
    SLA states as ``core.views.sla_state`` names them)."""
    now_bt = env.config.business_calendar.ordinal(env.now)
    names = ("open", "unassigned", "breached", "at_risk", "blocked")
    return dict(zip(names, env.store.board.counts(now_bt, AT_RISK_SHARE), strict=True))


def last_seq(env: Env) -> int:
    """The newest event's ``seq``: the cheap question a dashboard asks twice a second."""
    return env.store.last_event_seq()


@dataclass
class Changes:
    """What the events after some ``seq`` touched."""

    seq: int
    tickets: list[str] = field(default_factory=list)
    techs: bool = False
    #: per ticket and dimension (dept, product, fault), values it had before these events
    previous: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    many: bool = False


def changes_since(env: Env, seq: int, cap: int = 5000) -> Changes:
    """Tickets (and whether technicians) changed by events after ``seq``; more
    than ``cap`` events (a bulk import, a first sync) sets ``many``: reload."""
    top = last_seq(env)
    out = Changes(top)
    if top <= seq:
        return out
    if top - seq > cap:
        out.many = True
        return out
    touched: dict[str, None] = {}
    for ticket, typ, payload in env.store.board.events_after(seq):
        if ticket is None:
            out.techs = True
            continue
        touched[ticket] = None
        if typ != "ticket.noted":
            out.techs = True  # a status or an assignee may have moved, and with it a load
        if typ in ("ticket.transferred", "ticket.edited"):
            p = json.loads(payload)
            dim = "dept" if typ == "ticket.transferred" else p.get("field")
            if dim in ("dept", "product", "fault") and p.get("previous") is not None:
                out.previous.setdefault(ticket, {}).setdefault(dim, set()).add(str(p["previous"]))
    out.tickets = list(touched)
    return out


def heat_cells(env: Env, by: tuple[str, str], keys: list[str], previous: dict[str, dict[str, set[str]]]) -> dict[
        tuple[str, str], dict[str, Any]]:
    """Fresh counts of the heat-map cells that ``keys`` are in or were in
    (``previous``): ``{(row, col): {count, over_4h, oldest_age_h}}``, a cell
    with no backlog left as count 0. The cells of an unchanged map stay as they were."""
    now = env.now
    wanted: set[tuple[str, str]] = set()
    for key, a, b in env.store.board.cells_of(by, keys):
        before = previous.get(key, {})
        for x in {a, *before.get(by[0], ())}:
            for y in {b, *before.get(by[1], ())}:
                wanted.add((x, y))
    out: dict[tuple[str, str], dict[str, Any]] = {c: {"count": 0, "over_4h": 0, "oldest_age_h": 0.0} for c in wanted}
    cut = iso(now - timedelta(hours=STUCK_HOURS))
    for a, b in wanted:
        cell = env.store.board.heat_cell(by, (a, b), cut)
        if cell is not None:
            n, old, first = cell
            out[(a, b)] = {"count": n, "over_4h": old, "oldest_age_h": round((now - parse_time(first)).total_seconds() / 3600, 1)}
    return out


def blocked_summary(env: Env) -> list[dict[str, Any]]:
    """Blocked tickets now, per reason: how many and since when the oldest,
    oldest first; reasons labelled from the config's menu."""
    now, menu = env.now, env.config.reasons
    out = []
    for reason, n, oldest in env.store.board.blocked_by_reason():
        label = menu[reason].label if reason in menu and menu[reason].label else reason
        age = int((now - parse_time(oldest)).total_seconds()) if oldest else 0
        out.append({"reason": reason, "label": label, "count": n, "oldest_s": age})
    return out


def escalate(env: Env, key: str, message: str) -> dict[str, Any]:
    """A dispatcher escalates a ticket by hand: a ``ticket.escalated`` event
    (rule ``manual@<time>``) to the department's supervisor and the assignee,
    and a queued notification per webhook target that takes ``manual``, in one
    transaction, as ``sweep`` writes its own. Refused on a ticket that left the
    backlog."""
    from ticketctl.services import notify

    if not message.strip():
        raise BadInput(_("an escalation needs a message"))
    cfg, st = env.config, env.store
    with st.transaction():
        t = st.ticket(st.resolve_key(key))
        if t.status not in OPEN_STATUSES:
            raise Refused(_("cannot escalate {key}: it is {status}").format(key=t.key, status=label("status", t.status)))
        to = [cfg.supervisor(t.dept), *([t.assignee] if t.assignee else [])]
        rule = f"manual@{iso(env.now)}"
        drafts = workflow.decide_escalate(t, rule, to, message.strip())
        if not drafts:
            raise Refused(_("{key} was escalated a moment ago").format(key=t.key))
        t = commit(env, st, t, t.key, drafts)
        notify.enqueue(st, cfg, env.now, t.key, "manual", message.strip(), to)
    return ticket_public(t, cfg, env.now)

"""What the dispatcher's dashboard reads (``services.dashboard``): the ranking's
sort keys, the row ids a filter keeps, the header's counts, the events since
the last look, and the heat-map cells a change touched.

The ranking reads only the ``tickets_rank`` covering index (schema v6); a
filter by an exact field is one indexed lookup; keys are looked up a few
hundred at a time by primary key (``+status`` keeps SQLite off the status
index there).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from ticketctl.core.config import Config
from ticketctl.store.part import Part
from ticketctl.store.queries import OPEN_SQL, weight_sql

#: search words ``field:value`` that filter one column exactly
FILTER_FIELDS = ("dept", "product", "fault", "status", "priority", "assignee", "zone", "reason")
FIELD_COLUMNS = ", ".join("blocked_reason" if f == "reason" else f for f in FILTER_FIELDS)
ORDERS = ("weight", "blocked")
#: the columns a heat-map cell may be keyed by
HEAT_COLUMNS = frozenset({"dept", "product", "fault", "channel"})
CHUNK = 500
#: the resolution time a ticket has left at business second ``:now_bt`` (``core.views.sla_left``)
LEFT_SQL = "COALESCE(resolve_due_bt - :now_bt, resolve_left_s, 0)"
#: an open ticket's SLA state as ``core.views.sla_state`` decides it (``:share``: ``core.views.AT_RISK_SHARE``);
#: the header's counts and the ``sla:`` filter both read these, so they always agree
SLA_SQL = {
    "breached": f"{LEFT_SQL} < 0",
    "at_risk": f"({LEFT_SQL} >= 0 AND resolve_due_bt IS NOT NULL AND {LEFT_SQL} < :share * resolve_target_s)",
    "paused": f"({LEFT_SQL} >= 0 AND resolve_due_bt IS NULL)",
    "ok": f"({LEFT_SQL} >= 0 AND resolve_due_bt IS NOT NULL AND {LEFT_SQL} >= :share * resolve_target_s)",
}


def _chunks(keys: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(keys), CHUNK):
        yield keys[i:i + CHUNK]


def _rank_columns(cfg: Config, order: str, in_hours: bool) -> tuple[str, str]:
    """(sort-key columns, WHERE) of a ranking; the key columns end with key, rowid, then the filter fields."""
    if order == "weight":
        return f"-({weight_sql(cfg, in_hours)}), created_at, key, rowid, {FIELD_COLUMNS}", OPEN_SQL
    if order == "blocked":
        return f"COALESCE(blocked_reason, ''), COALESCE(blocked_since, ''), key, rowid, {FIELD_COLUMNS}", "status = 'blocked'"
    raise ValueError(f"unknown order {order!r}")


class Clock(NamedTuple):
    """What an ``sla:`` or ``age:`` filter is decided against: the business
    second of "now", the at-risk share, and creation times (ISO) a ticket must
    be older (``before``) or newer (``after``) than."""

    now_bt: int = 0
    share: float = 0.0
    sla: str | None = None
    before: str | None = None
    after: str | None = None


def _filter_sql(fields: Sequence[tuple[str, str]], words: Sequence[str], clock: Clock | None = None) -> tuple[
        str, dict[str, Any]]:
    """The WHERE clause (open tickets only) and its parameters of exact fields
    (``assignee`` ``-`` or ``none``: nobody), free words (each in key,
    title, customer or assignee) and ``clock``'s SLA state and age."""
    where: list[str] = [OPEN_SQL]
    params: dict[str, Any] = {}
    if clock is not None:
        if clock.sla is not None:
            where.append(SLA_SQL[clock.sla])
            params.update(now_bt=clock.now_bt, share=clock.share)
        if clock.before is not None:
            where.append("created_at < :before")
            params["before"] = clock.before
        if clock.after is not None:
            where.append("created_at > :after")
            params["after"] = clock.after
    for i, (name, value) in enumerate(fields):
        if name not in FILTER_FIELDS:
            raise ValueError(f"unknown filter field {name!r}")
        column = "blocked_reason" if name == "reason" else name
        if name == "assignee" and value in ("-", "none"):
            where.append("assignee IS NULL")
            continue
        where.append(f"{column} = :f{i}")
        params[f"f{i}"] = value
    for i, word in enumerate(words):
        where.append(f"(key LIKE :w{i} OR title LIKE :w{i} OR customer LIKE :w{i} OR assignee LIKE :w{i})")
        params[f"w{i}"] = f"%{word}%"
    return " AND ".join(where), params


class Board(Part):
    """The dashboard's queries (``st.board``)."""

    def ranking(self, cfg: Config, order: str, now_bt: int, in_hours: bool) -> list[tuple[Any, ...]]:
        """Every listed ticket's sort key (``weight``: open tickets, ``-weight,
        created_at, key, rowid``, the weight as ``ticketctl list`` computes it
        for business-second ``now_bt``; ``blocked``: blocked tickets, ``reason,
        blocked_since, key, rowid``), then its ``FILTER_FIELDS``; unsorted."""
        cols, where = _rank_columns(cfg, order, in_hours)
        return self.db.execute(f"SELECT {cols} FROM tickets WHERE {where}", {"now_bt": now_bt}).fetchall()

    def ranks(self, cfg: Config, order: str, now_bt: int, in_hours: bool, keys: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """The sort keys of those of ``keys`` still listed (as :meth:`ranking` gives them)."""
        cols, where = _rank_columns(cfg, order, in_hours)
        for chunk in _chunks(keys):
            marks = ", ".join(f":k{j}" for j in range(len(chunk)))
            p = {"now_bt": now_bt, **{f"k{j}": k for j, k in enumerate(chunk)}}
            # "+status": look the keys up by primary key, not through the status index
            for r in self.db.execute(f"SELECT {cols} FROM tickets WHERE key IN ({marks}) AND +{where}", p):
                yield tuple(r)

    def matching(self, fields: Sequence[tuple[str, str]], words: Sequence[str], keys: Sequence[str] | None = None,
                 clock: Clock | None = None) -> set[int]:
        """Row ids of the open tickets with these exact fields, words, SLA
        state and age (see :func:`_filter_sql`), among ``keys`` when given."""
        where, params = _filter_sql(fields, words, clock)
        if keys is None:
            return {r[0] for r in self.db.execute(f"SELECT rowid FROM tickets WHERE {where}", params)}
        out: set[int] = set()
        for chunk in _chunks(keys):
            marks = ", ".join(f":k{j}" for j in range(len(chunk)))
            p = {**params, **{f"k{j}": k for j, k in enumerate(chunk)}}
            out.update(r[0] for r in self.db.execute(f"SELECT rowid FROM tickets WHERE key IN ({marks}) AND +{where}", p))
        return out

    def counts(self, now_bt: int, at_risk_share: float) -> tuple[int, int, int, int, int]:
        """Open tickets: how many, unassigned, breached, at risk (less than
        ``at_risk_share`` of the resolution target left) and blocked."""
        row = self.db.execute(
            f"SELECT count(*), sum(assignee IS NULL), sum({SLA_SQL['breached']}), sum({SLA_SQL['at_risk']}),"
            f" sum(status = 'blocked') FROM tickets WHERE {OPEN_SQL}", {"now_bt": now_bt, "share": at_risk_share}).fetchone()
        return tuple(int(v or 0) for v in row)  # type: ignore[return-value]

    def events_after(self, seq: int) -> Iterator[tuple[str | None, str, str]]:
        """(ticket, type, payload as JSON text) of the events after local ``seq``, in order."""
        yield from self.db.execute("SELECT ticket, type, payload FROM events WHERE seq > ? ORDER BY seq", (seq,))

    def cells_of(self, by: tuple[str, str], keys: Sequence[str]) -> Iterator[tuple[str, Any, Any]]:
        """(key, value of ``by[0]``, value of ``by[1]``) of each of ``keys`` that exists."""
        a, b = _heat_columns(by)
        for chunk in _chunks(keys):
            marks = ", ".join("?" * len(chunk))
            yield from self.db.execute(f"SELECT key, {a}, {b} FROM tickets WHERE key IN ({marks})", tuple(chunk))

    def heat_cell(self, by: tuple[str, str], values: tuple[Any, Any], cut: str) -> tuple[int, int, str] | None:
        """One heat-map cell of the open backlog: how many, how many created at
        or before ``cut``, and the oldest creation; None for an empty cell."""
        a, b = _heat_columns(by)
        n, old, first = self.db.execute(
            f"SELECT count(*), sum(created_at <= ?), min(created_at) FROM tickets WHERE {OPEN_SQL}"
            f" AND {a} = ? AND {b} = ?", (cut, *values)).fetchone()
        return (n, old or 0, first) if n else None

    def blocked_by_reason(self) -> list[tuple[str | None, int, str | None]]:
        """Blocked tickets per reason: (reason, how many, oldest ``blocked_since``), oldest first."""
        return self.db.execute(
            "SELECT blocked_reason, count(*), min(blocked_since) FROM tickets WHERE status = 'blocked'"
            " GROUP BY blocked_reason ORDER BY min(blocked_since)").fetchall()


def _heat_columns(by: tuple[str, str]) -> tuple[str, str]:
    if not set(by) <= HEAT_COLUMNS:
        raise ValueError(f"cannot key a heat-map cell by {by!r}")
    return by[0], by[1]

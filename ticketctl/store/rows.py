"""Rows of the local store's tables as the core's dataclasses, and back.

The JSON columns (``columns.JSON_COLUMNS``, generated from ``store.tables``)
are written compact, with sorted keys (``encode``): the server's snapshot text
is the same, and reports may search it as text (``store.kpi``). The flags
(``columns.FLAG_COLUMNS``) are 0 or 1 in the store, ``bool`` in the dataclass."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from ticketctl.core.kb import Article
from ticketctl.core.model import Event, Technician, Ticket
from ticketctl.store.columns import FLAG_COLUMNS, JSON_COLUMNS

TICKET_COLUMNS = tuple(f.name for f in fields(Ticket))
TECH_COLUMNS = tuple(f.name for f in fields(Technician))
ARTICLE_COLUMNS = tuple(f.name for f in fields(Article))
#: fold order: confirmed events by the server's sequence, then local ones as made
EVENT_ORDER = "server_seq IS NULL, server_seq, seq"
EVENT_COLUMNS = ("id", "mutation_id", "ticket", "type", "payload", "actor", "device", "device_seq", "at", "server_seq")


def encode(table: str, obj: Any, columns: Sequence[str]) -> tuple[Any, ...]:
    """The row of ``obj`` (a dataclass) for ``columns`` of ``table``."""
    js = JSON_COLUMNS[table]
    out = []
    for c in columns:
        v = getattr(obj, c)
        out.append(json.dumps(v, separators=(",", ":"), sort_keys=True) if c in js else v)
    return tuple(out)


def ticket_from_row(row: Sequence[Any]) -> Ticket:
    """A Ticket from a ``SELECT {TICKET_COLUMNS}`` row."""
    d = dict(zip(TICKET_COLUMNS, row, strict=True))
    for c in JSON_COLUMNS["tickets"]:
        d[c] = json.loads(d[c])
    for c in FLAG_COLUMNS["tickets"]:
        d[c] = None if d[c] is None else bool(d[c])
    return Ticket(**d)


def tech_from_row(row: Sequence[Any]) -> Technician:
    d = dict(zip(TECH_COLUMNS, row, strict=True))
    for c in JSON_COLUMNS["technicians"]:
        d[c] = json.loads(d[c])
    for c in FLAG_COLUMNS["technicians"]:
        d[c] = bool(d[c])
    return Technician(**d)


def article_from_row(row: Sequence[Any]) -> Article:
    d = dict(zip(ARTICLE_COLUMNS, row, strict=True))
    for c in JSON_COLUMNS["articles"]:
        d[c] = json.loads(d[c])
    for c in FLAG_COLUMNS["articles"]:
        d[c] = bool(d[c])
    return Article(**d)


def event_from_row(row: Sequence[Any]) -> Event:
    d = dict(zip(EVENT_COLUMNS, row, strict=True))
    d["payload"] = json.loads(d["payload"])
    return Event(**d)

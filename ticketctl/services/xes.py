"""Reading an XES event log (IEEE 1849, what process-mining tools export) as
the table ``import events`` reads: a header row, then one row per event.

Columns: each trace attribute as ``case:<key>`` (``case:concept:name`` is the
case's id, as pm4py names it) and each event attribute as its key
(``concept:name``, ``lifecycle:transition``, ``time:timestamp``,
``org:resource``, ``org:group``, ...). Row numbers count events in file order,
the first event being row 2 (the header is row 1), as a CSV's would.
Nested (list/container) attributes are skipped. ``.xes`` or ``.xes.gz``.

Parsed with the standard library's expat (``iterparse``), which fetches no
external entities and, with expat 2.4 or later, refuses entity-expansion bombs.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError, iterparse

from ticketctl.errors import BadInput
from ticketctl.i18n import _

SIMPLE = ("string", "date", "int", "float", "boolean", "id")


def is_xes(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".xes") or name.endswith(".xes.gz")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _events(f: Any) -> Iterator[dict[str, Any]]:
    trace: dict[str, Any] = {}
    event: dict[str, Any] | None = None
    depth_in_event = 0
    stack: list[str] = []
    for kind, el in iterparse(f, events=("start", "end")):
        tag = _local(el.tag)
        if kind == "start":
            stack.append(tag)
            if tag == "trace":
                trace = {}
            elif tag == "event":
                event, depth_in_event = {}, len(stack)
            continue
        stack.pop()
        if tag == "event" and event is not None:
            yield {**trace, **event}
            event = None
        elif tag in SIMPLE and el.get("key") is not None:
            parent = stack[-1] if stack else ""
            if event is not None and parent == "event" and len(stack) == depth_in_event:
                event[el.get("key", "")] = el.get("value", "")
            elif event is None and parent == "trace":
                trace["case:" + el.get("key", "")] = el.get("value", "")
        if tag in ("event", "trace") or (tag in SIMPLE and event is None):
            el.clear()


def rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells): the header first (row 1), then one row per event.
    Raises BadInput for a missing file or one that is not XES."""
    try:
        raw = gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")  # noqa: SIM115
    except OSError as e:
        raise BadInput(_("{path}: cannot read it: {error}").format(path=path, error=e.strerror or e)) from None
    try:
        with raw:
            events = list(_events(raw))
    except (ParseError, OSError, EOFError) as e:
        raise BadInput(_("{path}: not a readable XES log: {error}").format(path=path, error=e)) from None
    header: list[str] = []
    seen: set[str] = set()
    for ev in events:
        for k in ev:
            if k not in seen:
                seen.add(k)
                header.append(k)
    yield 1, header
    for no, ev in enumerate(events, start=2):
        yield no, [ev.get(k, "") for k in header]

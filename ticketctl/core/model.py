"""The shapes the rules work on: events and the projections folded from them.

An :class:`Event` is immutable and is the only source of truth; a
:class:`Ticket` or :class:`Technician` is what folding a ticket's (or a
technician's) events with :mod:`ticketctl.core.workflow` gives. Times are
ISO-8601 UTC strings (``2026-03-02T09:00:00Z``) so that a projection row, an
event and a ``--json`` line all read the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

STATUSES = ("new", "assigned", "in_progress", "blocked", "resolved", "closed", "cancelled")
OPEN_STATUSES = ("new", "assigned", "in_progress", "blocked")
#: statuses that count against a technician's capacity
HELD_STATUSES = ("assigned", "in_progress", "blocked")


def iso(t: datetime) -> str:
    """``2026-03-02T09:00:00Z``: UTC, whole seconds."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An aware datetime from ISO-8601; a naive time is taken as UTC."""
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def resolve_key(text: str, own_prefix: str, exists: Callable[[str], bool], starting: Callable[[str], list[str]]) -> str:
    """The ticket key that ``text`` names, by the one rule every store follows:
    the spelling normalised (white space around it dropped, letters upper-cased),
    then the exact key, ``N`` for this device's ``PFX-N``, or any unique prefix.
    ``exists(key)`` says whether a key is taken; ``starting(q)`` lists up to six
    keys that start with ``q``, in order. NotFound when none or several match."""
    from ticketctl.errors import NotFound
    from ticketctl.i18n import _

    q = text.strip().upper()
    if not q:
        raise NotFound(_("no ticket key given"))
    candidates = [f"{own_prefix}-{q}", q] if q.isdigit() and own_prefix else [q]
    for c in candidates:
        if exists(c):
            return c
    hits = starting(q)
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise NotFound(_("no ticket {key!r}").format(key=text))
    more = ", ..." if len(hits) > 5 else ""
    raise NotFound(_("{key!r} is ambiguous: {keys}").format(key=text, keys=", ".join(hits[:5]) + more))


#: a field's value as a mutation carries it (a ticket's, an article's, a roster entry's): text, a
#: number, a flag, a list of text, or nothing; never a nested object (the server refuses one)
FieldValue = str | int | float | bool | list[str] | None


#: the moments a person, a script or a file may give: from the Unix epoch to the year 9000. The SLA clocks
#: and due times add years of business time to a moment, which must stay a date Python can hold (year 9999).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class OutOfRange(ValueError):
    """A well-formed time outside :data:`EARLIEST` .. :data:`LATEST`."""


def in_range(t: datetime) -> datetime:
    """``t`` (aware) in UTC; raises :class:`OutOfRange` outside EARLIEST .. LATEST."""
    try:
        utc = t.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        raise OutOfRange(t.isoformat()) from None
    if not EARLIEST <= utc < LATEST:
        raise OutOfRange(t.isoformat())
    return utc


def parse_moment(text: str) -> datetime:
    """:func:`parse_time` for a time given from outside (an option, TICKETCTL_NOW,
    a file): raises ValueError when it is not ISO-8601, :class:`OutOfRange`
    (a ValueError) when it lies outside EARLIEST .. LATEST."""
    t = parse_time(text)
    in_range(t)
    return t


def out_of_range(what: str) -> str:
    """The one sentence for a time outside EARLIEST .. LATEST; ``what`` names
    it as given (``--at '0001-01-01T00:00:00Z'``)."""
    from ticketctl.i18n import _

    return _("{what} is out of range: times run from {earliest} to {latest}").format(
        what=what, earliest=EARLIEST.date().isoformat(), latest=(LATEST.date().replace(year=LATEST.year - 1, month=12, day=31)).isoformat())


#: what a span of a ticket's history is made of: a change to any starts a new span
SPAN_FIELDS = ("status", "dept", "product", "fault")


def span_row(t: Ticket, at: str) -> tuple[str, str, None, str, str, str, str, str]:
    """The row that opens a span of ``t`` at ``at`` (``to_at`` still open)."""
    return (t.key, at, None, t.status, t.dept, t.product, t.fault, t.created_at)


def spans_differ(before: Ticket | None, after: Ticket) -> bool:
    return before is None or any(getattr(before, f) != getattr(after, f) for f in SPAN_FIELDS)


@dataclass(frozen=True)
class Event:
    """One immutable change. ``ticket`` is the ticket key, or ``None`` for a
    change to a technician (the name is then in the payload), or a knowledge
    article's id for its ``kb.*`` events (``core.kb``).

    ``mutation_id`` groups the events of one user action (the unit that sync
    pushes and the server re-runs); ``device``/``device_seq`` order a device's
    own events; ``server_seq`` is set once the server has accepted it."""

    id: str
    type: str
    at: str
    actor: str
    device: str
    device_seq: int
    mutation_id: str
    ticket: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    server_seq: int | None = None


@dataclass
class Ticket:
    """The projection of one ticket. SLA clocks are kept as business-second
    ordinals (see :mod:`ticketctl.core.calendar`): while the resolution clock
    runs, ``resolve_due_bt`` is its due ordinal; while it is paused or stopped,
    ``resolve_left_s`` holds the business seconds it had left.

    ``escalations`` maps each sweep rule that fired to when (a rule fires once
    per ticket, or once per block for block rules); ``stall`` is the open stall
    question, if any; ``parent`` / ``links`` tie batch incidents together."""

    key: str
    title: str
    type: str
    dept: str
    product: str
    created_at: str
    updated_at: str
    fault: str = ""
    description: str = ""
    priority: str = "medium"
    impact: str = "user"
    zone: str = ""
    skills: list[str] = field(default_factory=list)
    customer: str = ""
    phone: str = ""
    channel: str = ""
    status: str = "new"
    assignee: str | None = None
    blocked_reason: str | None = None
    blocked_since: str | None = None
    block: dict[str, str] = field(default_factory=dict)
    status_before_block: str | None = None
    first_response_at: str | None = None
    resolved_at: str | None = None
    closed_at: str | None = None
    cancel_reason: str | None = None
    response_due_bt: int = 0
    resolve_target_s: int = 0
    resolve_due_bt: int | None = None
    resolve_left_s: int | None = None
    blocked_seconds: dict[str, int] = field(default_factory=dict)
    checks: dict[str, dict[str, str]] = field(default_factory=dict)
    reopen_count: int = 0
    status_since: str = ""
    parent: str | None = None
    links: list[str] = field(default_factory=list)
    escalations: dict[str, str] = field(default_factory=dict)
    stall: dict[str, Any] = field(default_factory=dict)
    #: proof of the work (``ticketctl.core.evidence``): files attached (append-only,
    #: each tagged with the ``round``, the reopen count it belongs to), the customer's
    #: confirmation of this round, open confirmation tokens by their hash, the
    #: certificates issued and the QA samples that looked at the ticket
    evidence: list[dict[str, Any]] = field(default_factory=list)
    confirmation: dict[str, Any] = field(default_factory=dict)
    confirm_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    qa: list[dict[str, Any]] = field(default_factory=list)
    #: the note given with the last resolution of this round (cleared on reopen):
    #: what the knowledge base searches and an article's solution starts from
    resolution: str = ""
    #: approval requests (``ticketctl.core.approvals``), oldest first, each with its
    #: path, its steps' decisions and its outcome
    approvals: list[dict[str, Any]] = field(default_factory=list)
    #: the source system's own figures of an imported ticket (``import servicenow``, ``import events``
    #: with ``made_sla``/``reopens`` mapped): its SLA verdict and its reopen count, as its final row
    #: had them; None when the source has none. ``report kpi`` shows them beside ticketctl's own
    source_made_sla: bool | None = None
    source_reopens: int | None = None


@dataclass
class Technician:
    """The projection of one technician. Off shift or on leave, work routes
    to ``delegate`` when one is named."""

    name: str
    created_at: str
    updated_at: str
    skills: list[str] = field(default_factory=list)
    zone: str = ""
    lat: float | None = None
    lon: float | None = None
    capacity: int = 3
    dept: str = ""
    on_shift: bool = True
    senior: bool = False
    on_leave: bool = False
    delegate: str | None = None

"""The backlog table: a Line API widget over a ranking of any size.

Textual's ``DataTable`` measures every row before its first frame (~0.3 ms a
row: ~25 s for 100k rows), so this table draws only what is on screen. It
holds the ranking (one sort key per matching ticket, see
``services.dashboard``) and a bounded cache of rows around the viewport; a line
whose row is not cached yet draws its key and asks ``loader`` for the rows
around it, which a worker fetches from SQLite by key::

    ranking  [r0 r1 r2 ... r99999]        every matching ticket, best first
    cache        [ r40 .. r340 ]          <= MAX_CACHED rows, fetched by key
    screen          [r100..r150]          what render_line draws
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any, ClassVar, NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ticketctl.cells import cells, fit
from ticketctl.core.config.sla import PRIORITIES
from ticketctl.core.labels import HasLabels, label
from ticketctl.i18n import N_, _
from ticketctl.render.text import duration  # the CLI's durations, in the current language
from ticketctl.services.dashboard import Rank, remove_rank
from ticketctl.tui.words import reason_short

SLA_STYLE = {"ok": "green", "at_risk": "bold yellow", "breached": "bold red", "paused": "cyan", "done": "dim"}
PRIORITY_STYLE = {"urgent": "bold red", "high": "yellow", "medium": "", "low": "dim"}
MAX_CACHED = 1000
FETCH_AHEAD = 150


def blocked_text(row: dict[str, Any], cfg: HasLabels | None = None) -> str:
    """``parts 2d 3h``, ``备件 2天3小时``: why and how long a ticket is blocked."""
    if not row.get("blocked_reason"):
        return ""
    return f"{reason_short(row['blocked_reason'], cfg)} {duration(row.get('blocked_for_s'))}"


def sla_left(row: dict[str, Any], cfg: HasLabels | None = None) -> str:
    return duration(row["sla_resolve_left_s"])


#: the widest SLA times a column shows without measuring its rows: two digits of days or of hours, overdue
SLA_SAMPLES = (-(99 * 86400 + 23 * 3600), -(23 * 3600 + 59 * 60))
#: the statuses the backlog lists (every open one)
LISTED_STATUSES = ("new", "assigned", "in_progress", "blocked")


class Column(NamedTuple):
    """A column of the backlog or the blocked board. ``fit`` says how wide it
    is: ``whole`` (its widest value, never cut: keys, labels, times), ``cut``
    (its widest value up to ``width`` cells, narrower down to ``least`` when
    the title needs room) or ``rest`` (what the others leave, at least
    :data:`MIN_TITLE`: the title). ``widest`` gives the values it may show
    before any row is read (every label in the current language). ``drop``:
    0, always shown; else the column leaves a line too narrow for it, the
    highest ``drop`` first (dept and product before key, priority, status,
    assignee and SLA, which always stay)."""

    title: str
    width: int
    text: Callable[[dict[str, Any], HasLabels | None], str]
    style: Callable[[dict[str, Any]], str]
    fit: str = "whole"
    least: int = 0
    widest: Callable[[], Iterable[str]] = tuple
    drop: int = 0


def _labels(kind: str, values: Iterable[str]) -> Callable[[], list[str]]:
    return lambda: [label(kind, v) for v in values]


def _durations() -> list[str]:
    return [duration(s) for s in SLA_SAMPLES]


PRIORITY = Column(N_("pri"), 0, lambda r, c: label("priority", r["priority"], c),
                  lambda r: PRIORITY_STYLE.get(r["priority"], ""), widest=_labels("priority", PRIORITIES))
SLA = Column(N_("SLA left"), 0, sla_left, lambda r: SLA_STYLE[r["sla_state"]], widest=_durations)
ASSIGNEE = Column(N_("assignee"), 9, lambda r, c: r["assignee"] or "-", lambda r: "" if r["assignee"] else "dim", "cut", 6)
KEY = Column(N_("key"), 0, lambda r, c: r["key"], lambda r: "bold")
TITLE = Column(N_("title"), 0, lambda r, c: r["title"], lambda r: "", "rest")
COLUMNS: tuple[Column, ...] = (
    KEY,
    PRIORITY,
    TITLE,
    Column(N_("dept"), 14, lambda r, c: r["dept"], lambda r: "", "cut", 6, drop=2),
    Column(N_("product"), 12, lambda r, c: r["product"], lambda r: "", "cut", 6, drop=3),
    Column(N_("status"), 0, lambda r, c: label("status", r["status"], c), lambda r: "magenta" if r["status"] == "blocked" else "",
           widest=_labels("status", LISTED_STATUSES)),
    ASSIGNEE,
    SLA,
    Column(N_("blocked"), 0, blocked_text, lambda r: "magenta", drop=1),
)
MIN_TITLE = 12
LEAST_TITLE = 6
#: what a cut column (dept, product, assignee) keeps at the very least: a wide character and the ellipsis
LEAST_CUT = 4


def waiting_on(row: dict[str, Any], cfg: HasLabels | None = None) -> str:
    """What a blocked ticket waits for: the collaboration fields, else the note."""
    b = row.get("block") or {}
    by = _("by {deadline}").format(deadline=b["deadline"][:16]) if b.get("deadline") else None
    parts = [b.get("collaborator"), b.get("deliverable"), by]
    return " / ".join(p for p in parts if p) or b.get("note", "")


#: the blocked board: by reason, oldest block first
BLOCKED_COLUMNS: tuple[Column, ...] = (
    Column(N_("reason"), 22, lambda r, c: reason_short(r["blocked_reason"], c), lambda r: "magenta", "cut", 8),
    Column(N_("blocked for"), 0, lambda r, c: duration(r.get("blocked_for_s")), lambda r: "bold"),
    KEY,
    PRIORITY,
    ASSIGNEE,
    SLA,
    Column(N_("waiting on"), 40, waiting_on, lambda r: "", "cut", 12),
    TITLE,
)


def widths(columns: tuple[Column, ...], total: int, measured: list[int]) -> list[int]:
    """Each column's cells in ``total`` (a space after each shown column):
    ``whole`` columns their widest value or title (``measured``: the rows'
    widest, per column), ``cut`` ones theirs up to their ``width``, the title
    the rest; when the rest is under :data:`MIN_TITLE`, the ``cut`` columns
    give up cells, the widest first, down to their headers; if that is not
    enough, the columns with a ``drop`` leave (0 cells: not drawn), the
    highest first, until it is; then the title goes down to
    :data:`LEAST_TITLE` and the cut columns on below their headers, to
    :data:`LEAST_CUT`; the row is cropped at the edge only when even that
    does not fit (under ~50 cells in English)::

        wide      key pri title........... dept...... product.. status assignee SLA blocked
        narrower  key pri title dept… prod… status assignee SLA blocked     (cut to their headers)
        narrow    key pri title.. status assignee SLA                       (product, dept, blocked left)
    """
    gone: set[int] = set()
    leave = sorted((i for i, col in enumerate(columns) if col.drop), key=lambda i: -columns[i].drop)
    while True:
        out, free = _fit(columns, total, measured, gone)
        if free >= MIN_TITLE or not leave:
            return out
        gone.add(leave.pop(0))


def _fit(columns: tuple[Column, ...], total: int, measured: list[int], gone: set[int]) -> tuple[list[int], int]:
    """:func:`widths` without the columns in ``gone``; with the cells the title
    has once the cut columns gave up what they may above their headers."""
    want, least = [], []
    for col, m in zip(columns, measured, strict=True):
        head = cells(_(col.title))
        least.append(min(col.width, max(head, col.least)))  # a header is never cut
        if col.fit == "whole":
            want.append(max(head, m, *map(cells, col.widest()), 1))
        elif col.fit == "cut":
            want.append(min(col.width, max(m, least[-1])))
        else:
            want.append(0)
    free = total - sum(w for i, w in enumerate(want) if i not in gone) - (len(columns) - len(gone))
    cut = [i for i, col in enumerate(columns) if col.fit == "cut" and i not in gone]
    above_heads = free
    # first down to the headers for the title's MIN_TITLE; then, rather than crop a label at the edge, below them
    for floor, goal in ((least, MIN_TITLE), ([min(c.width, LEAST_CUT) for c in columns], LEAST_TITLE)):
        while free < goal:
            give = [i for i in cut if want[i] > floor[i]]
            if not give:
                break
            i = max(give, key=lambda j: want[j] - floor[j])
            want[i] -= 1
            free += 1
        if goal == MIN_TITLE:
            above_heads = free
    out = [0 if i in gone else w if col.fit != "rest" else max(free, LEAST_TITLE)
           for i, (col, w) in enumerate(zip(columns, want, strict=True))]
    return out, above_heads


class BacklogView(ScrollView, can_focus=True):
    """Tickets in ranking order with a row cursor; Enter opens the ticket."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "up", show=False),
        Binding("down", "cursor(1)", "down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home", "jump(0)", "top", show=False),
        Binding("end", "jump(-1)", "bottom", show=False),
        Binding("enter", "open", "open", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"backlog--header", "backlog--cursor"}
    DEFAULT_CSS = """
    BacklogView { background: $surface; overflow-x: hidden; }
    BacklogView > .backlog--header { text-style: bold; color: $text-accent; }
    BacklogView > .backlog--cursor { background: $primary 40%; }
    BacklogView:focus > .backlog--cursor { background: $primary; }
    """

    cursor: reactive[int] = reactive(0, always_update=True)

    class Opened(Message):
        """Enter on a ticket."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, loader: Callable[[list[str]], None] | None = None, columns: tuple[Column, ...] = COLUMNS,
                 *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.loader = loader
        self.columns = columns
        self.ranks: list[Rank] = []
        #: key -> rank for the whole ranking this view shows a part of (shared with it, never copied:
        #: building a dict of 100k keys per filter costs more than the rest of a filter)
        self.of: dict[str, Rank] = {}
        self.cache: dict[str, dict[str, Any]] = {}
        self.requested: set[str] = set()
        self.loaded = False
        #: the team's config, for its own labels (``core.labels``); the app sets it once read
        self.cfg: HasLabels | None = None
        #: per column, the cells of its widest value among the cached rows (what :func:`widths` sizes by)
        self.measured = [0] * len(columns)
        self._widths: tuple[int, tuple[int, ...], list[int]] | None = None

    # -- data ---------------------------------------------------------------------

    @property
    def current_key(self) -> str | None:
        return str(self.ranks[self.cursor][2]) if 0 <= self.cursor < len(self.ranks) else None

    def keys(self, start: int, stop: int) -> list[str]:
        return [str(r[2]) for r in self.ranks[max(start, 0): max(stop, 0)]]

    def listed(self, key: str) -> bool:
        """Whether ``key`` is in this view (bisection, no per-view dict)."""
        return self._find(key) is not None

    def _find(self, key: str | None) -> int | None:
        r = self.of.get(key) if key is not None else None
        if r is None:
            return None
        i = bisect.bisect_left(self.ranks, r)
        return i if i < len(self.ranks) and self.ranks[i] == r else None

    def set_ranking(self, ranks: list[Rank], rows: dict[str, dict[str, Any]], keep: bool = True,
                    of: dict[str, Rank] | None = None, fresh: bool = True) -> None:
        """Show a new ranking (a new filter, or the clock moved); with ``keep``
        the cursor stays on its ticket when that is still listed. ``of`` maps
        each key of the whole ranking ``ranks`` comes from to its rank; with
        ``fresh`` the rows cached so far are dropped (the clock moved), else
        kept (a filter: they are still current, as every change evicts its rows)."""
        key = self.current_key if keep else None
        self.ranks = ranks  # patched in place: the caller hands over a list of its own
        self.of = of if of is not None else dict(zip(map(itemgetter(2), ranks), ranks, strict=True))
        if fresh:
            self.cache = {}
        self.cache.update(rows)
        self.measure(self.cache.values(), fresh)
        self.requested.clear()
        self.loaded = True
        self._resize()
        found = self._find(key)
        self.cursor = found if found is not None else (min(self.cursor, len(ranks) - 1) if keep else 0)
        if not keep:
            self.scroll_to(y=0, animate=False, immediate=True)
        self._trim()
        self._follow()
        self.refresh()

    def patch(self, old: dict[str, Rank | None], new: dict[str, Rank | None], rows: dict[str, dict[str, Any]]) -> None:
        """Move, add or drop the tickets in ``new`` (their sort key, or None:
        not in this view) whose rank was ``old``, and replace their rows;
        nothing else is reloaded. ``of`` already holds the new ranks."""
        key = self.current_key
        for k, r in new.items():
            before = old.get(k)
            if before is not None:
                remove_rank(self.ranks, before)
            self.cache.pop(k, None)
            self.requested.discard(k)
            if r is not None:
                bisect.insort(self.ranks, r)
        self.cache.update({k: v for k, v in rows.items() if self.listed(k)})
        self.measure(rows.values())
        self._resize()
        found = self._find(key)
        self.cursor = found if found is not None else min(self.cursor, max(len(self.ranks) - 1, 0))
        self.refresh()

    def add_rows(self, rows: dict[str, dict[str, Any]]) -> None:
        """Rows a worker fetched for the cache; the cache keeps those nearest the cursor."""
        self.cache.update({k: v for k, v in rows.items() if self.listed(k)})
        self.measure(rows.values())
        self.requested.difference_update(rows)
        self._trim()
        self.refresh()

    def _trim(self) -> None:
        if len(self.cache) > MAX_CACHED:
            keep = set(self.keys(self.cursor - MAX_CACHED // 2, self.cursor + MAX_CACHED // 2))
            self.cache = {k: v for k, v in self.cache.items() if k in keep}
            self.measure(self.cache.values(), fresh=True)

    def _resize(self) -> None:
        self.virtual_size = Size(self.line_width, len(self.ranks) + 1)

    def _want(self, first: int, last: int) -> None:
        """Ask for the rows of the viewport and some ahead that are not cached."""
        missing = [k for k in self.keys(first - FETCH_AHEAD // 3, last + FETCH_AHEAD)
                   if k not in self.cache and k not in self.requested]
        near_edge = any(k not in self.cache for k in self.keys(last, last + FETCH_AHEAD // 3))
        if missing and self.loader is not None and (near_edge or any(k not in self.cache for k in self.keys(first, last))):
            self.requested.update(missing)
            self.loader(missing)

    # -- cursor -------------------------------------------------------------------

    @property
    def page_height(self) -> int:
        """The rows on screen (under the header line)."""
        return max(self.scrollable_content_region.height - 1, 1)

    @property
    def line_width(self) -> int:
        """The cells of a line: the widget's width less the scrollbar's, once a
        long backlog has one (drawn at ``size.width``, the last column would be
        under the scrollbar, and a horizontal one would take the last row)."""
        return self.scrollable_content_region.width

    def watch_cursor(self, value: int) -> None:
        self._follow()
        self.refresh()

    def _follow(self) -> None:
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + self.page_height:
            self.scroll_to(y=self.cursor - self.page_height + 1, animate=False, immediate=True)

    def _move(self, to: int) -> None:
        if self.ranks:
            self.cursor = max(0, min(to, len(self.ranks) - 1))

    def action_cursor(self, step: int) -> None:
        self._move(self.cursor + step)

    def action_page(self, step: int) -> None:
        self._move(self.cursor + step * self.page_height)

    def action_jump(self, where: int) -> None:
        self._move(where if where >= 0 else len(self.ranks) - 1)

    def action_open(self) -> None:
        if self.current_key is not None:
            self.post_message(self.Opened(self.current_key))

    def on_click(self, event: Any) -> None:
        row = int(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= row < len(self.ranks):
            if row == self.cursor and getattr(event, "chain", 1) >= 2:
                self.action_open()
            self._move(row)

    def on_resize(self) -> None:
        self._resize()

    # -- drawing ------------------------------------------------------------------

    def measure(self, rows: Iterable[dict[str, Any]], fresh: bool = False) -> None:
        """Widen the columns to ``rows``' values (``fresh``: to theirs only,
        the cache was replaced); a column that grows redraws the table."""
        top = [0] * len(self.columns) if fresh else list(self.measured)
        for row in rows:
            for i, col in enumerate(self.columns):
                if col.fit != "rest":
                    n = cells(col.text(row, self.cfg))
                    if n > top[i]:
                        top[i] = n
        self.measured = top

    def widths(self, total: int) -> list[int]:
        """The columns' cells in a line of ``total`` (:func:`widths`, once per frame)."""
        at = (total, tuple(self.measured))
        if self._widths is None or self._widths[:2] != at:
            self._widths = (*at, widths(self.columns, total, self.measured))
        return self._widths[2]

    def cell_text(self, col: Column, row: dict[str, Any]) -> str:
        """What column ``col`` shows of ``row``."""
        return col.text(row, self.cfg)

    def _cells(self, texts: Iterable[tuple[str, Style]], widths: list[int], base: Style) -> list[Segment]:
        segs: list[Segment] = []
        for (text, style), w in zip(texts, widths, strict=True):
            if not w:
                continue  # a column the width has no room for (``Column.drop``)
            cell = fit(text, w)  # by terminal cells: 空调不制冷 takes 10, not 5
            segs.append(Segment(cell, base + style))
            segs.append(Segment(" ", base))
        return segs

    def render_line(self, y: int) -> Strip:
        width = self.line_width
        widths = self.widths(width)
        base = self.rich_style
        if y == 0:
            head = self.get_component_rich_style("backlog--header")
            texts = [(_(col.title), Style()) for col in self.columns]
            return Strip(self._cells(texts, widths, base + head)).adjust_cell_length(width, base + head)
        index = int(self.scroll_y) + y - 1
        if y == 1:  # once per frame: fetch what this frame shows and the next pages
            self._want(index, index + self.page_height)
        if index >= len(self.ranks):
            if index == 0 and self.loaded:
                return Strip([Segment("  " + _("no open tickets match"), base + Style(dim=True))]).adjust_cell_length(width, base)
            return Strip.blank(width, base)
        style = base + self.get_component_rich_style("backlog--cursor") if index == self.cursor else base
        key = str(self.ranks[index][2])
        row = self.cache.get(key)
        if row is None:
            texts = [(key if col.title == "key" else "", Style(bold=True)) for col in self.columns]
        else:
            texts = [(col.text(row, self.cfg), Style.parse(sty) if (sty := col.style(row)) else Style()) for col in self.columns]
        return Strip(self._cells(texts, widths, style)).adjust_cell_length(width, style)

"""The dashboard's header: the counts (each a filter one key or click away)
and the sync state (pending and rejected changes, the last sync)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from ticketctl.i18n import N_, _
from ticketctl.services.env import Env

#: the header's counts: (label, ``dashboard.counts`` name, style)
COUNTS = ((N_("open"), "open", "bold"), (N_("unassigned"), "unassigned", "bold"), (N_("at risk"), "at_risk", "bold yellow"),
          (N_("breached"), "breached", "bold red"), (N_("blocked"), "blocked", "bold magenta"))

class Counts(Static):
    """The header's counts; a click on one filters the backlog to the tickets
    it counts, as its key does (``Dashboard.action_count``)."""

    #: (first cell, cell after the last, ``dashboard.counts`` name) of each count as shown
    spans: list[tuple[int, int, str]] = []

    def show(self, c: dict[str, int], narrow: bool) -> None:
        """The counts ``c`` (``dashboard.counts``), two spaces apart when ``narrow``."""
        gap = "  " if narrow else "   "
        text = Text()
        spans = []
        for label, name, style in COUNTS:
            start = text.cell_len
            text.append(f"{_(label)} ").append(f"{c[name]:,}", style)
            spans.append((start, text.cell_len, name))
            text.append(gap)
        self.spans = spans
        self.update(text)

    async def on_click(self, event: Any) -> None:
        at = event.get_content_offset(self)  # the text's cell (a narrow header pads it by one)
        for start, end, name in self.spans:
            if at is not None and start <= at.x < end:
                await self.app.run_action(f"count({name!r})")


def sync_state(env: Env) -> dict[str, Any] | None:
    """What the header shows of sync (``sync.client.status``: it reads the
    outbox), None when sync is not set up on this store."""
    if not env.home.sync_file.exists():
        return None
    from ticketctl.sync import client

    st = client.status(env)
    return {"pending": len(st["pending"]), "rejected": st["rejected"], "last_sync": st["last_sync"]}


def sync_text(sync: dict[str, Any] | None) -> Text:
    """``sync: 2 pending  1 rejected (R)  last 09:41Z``."""
    if sync is None:
        return Text()
    text = Text(_("sync: "), style="dim")
    text.append(_("{n} pending").format(n=sync["pending"]), "bold" if sync["pending"] else "dim")
    n = len(sync["rejected"])
    text.append("  ").append(_("{n} rejected").format(n=n), "bold red" if n else "dim")
    if n:
        text.append(" (R)", "dim")
    last = sync["last_sync"]
    text.append("  ").append(_("last {time}Z {date}").format(time=last[11:16], date=last[5:10]) if last else _("never synced"), "dim")
    return text

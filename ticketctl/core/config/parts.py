"""Parts and stock (``[parts]``): what happens by itself when stock arrives.
The rules that read it are ``core.stock`` and ``services.parts``."""

from __future__ import annotations

from dataclasses import dataclass

from ticketctl.core.config.base import doc


@dataclass
class PartsConfig:
    """Parts and stock (`ticketctl part`, `ticketctl stock`)."""

    auto_unblock: bool = doc(
        "When stock is received (or a transfer arrives) at a place that can serve it, tickets blocked"
        " `awaiting_parts` for that part get their reservation and unblock by themselves, oldest SLA first."
        " The customer is not notified.", True)

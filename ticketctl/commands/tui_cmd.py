"""``ticketctl tui``: the dispatcher's dashboard (Textual loads only here)."""

from __future__ import annotations

import typer


def tui() -> None:
    """Open the dispatcher's dashboard: the backlog by weight, the heat map and
    the technicians' load, live; act on tickets by key (? lists the keys).
    `ticketctl` alone in a terminal opens it too."""
    from ticketctl.commands.output import env
    from ticketctl.tui import run as run_dashboard  # Textual loads here, never for a headless command

    run_dashboard(env())


def register(app: typer.Typer) -> None:
    app.command(epilog="Example: TICKETCTL_HOME=/tmp/demo ticketctl tui")(tui)

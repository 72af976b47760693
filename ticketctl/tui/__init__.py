"""The dispatcher's dashboard (Textual). Only ``ticketctl tui`` (or
``ticketctl`` alone in a terminal) imports this package: headless commands
never load Textual (``tests/test_import_hygiene.py``)."""

from __future__ import annotations

from ticketctl.services.env import Env


def run(env: Env) -> None:
    """Open the dashboard on ``env``'s store until the user quits. Each unit of
    work gets a fresh Env on the same home and environment: its own SQLite
    connection (workers run in threads) and its own "now"."""
    from ticketctl.tui.app import Dashboard

    env.config  # a broken config file stops here, as one error line, before the screen opens  # noqa: B018
    Dashboard(lambda: Env(env.home, env.environ)).run()

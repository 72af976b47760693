"""Regenerate the README's screenshot of the dashboard:

    python -m ticketctl.tui.screenshot [docs/screenshot.svg]

A fresh demo store (3,000 tickets, 40 technicians, seed 1) in a temporary
home at a fixed "now", the main screen at 200x55, exported as SVG by Textual.
The same seed and clock give the same picture, so a diff of the SVG shows what
a change to the screen did.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from ticketctl.services import demo
from ticketctl.services.env import Env
from ticketctl.tui.app import Dashboard

NOW = "2026-03-02T10:30:00Z"
SIZE = (200, 55)


async def _shoot(environ: dict[str, str]) -> str:
    app = Dashboard(lambda: Env.from_environ(environ))
    async with app.run_test(size=SIZE) as pilot:
        while app.seq < 0 or any(w.is_running for w in app.workers):
            await pilot.pause(0.05)
        await pilot.pause()
        return app.export_screenshot(title="ticketctl")


def main(argv: list[str] | None = None) -> int:
    out = Path((argv if argv is not None else sys.argv[1:] or ["docs/screenshot.svg"])[0])
    with tempfile.TemporaryDirectory() as home:
        environ = {"TICKETCTL_HOME": home, "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "dispatch"}
        env = Env.from_environ(environ)
        with env.store.transaction():
            env.store.set_meta("key_prefix", "KQT")
        demo.generate(env, 3000, 40, 1)
        env.close()
        svg = asyncio.run(_shoot(environ))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(svg, encoding="utf-8")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

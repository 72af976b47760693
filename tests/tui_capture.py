"""The dashboard's screens as text, driven by Textual Pilot at 160x50: the
backlog, a ticket, the blocked board, the approvals board, the rejected
changes, the trends, help, the assign, block and dispatch dialogs, the heat map's other
axes, the command palette; then the backlog at 80x24, alone and with the
panels (``p``). Each is what the terminal shows (the composited
screen, as Textual's own screenshot renders it), as plain text."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

from rich.cells import cell_len
from test_tui import settle

from ticketctl import i18n
from ticketctl.tui.app import Dashboard

SIZE = (160, 50)


TEXT = re.compile(r'<text [^>]*?x="([\d.]+)"[^>]*?clip-path="url\(#[\w-]+-line-(\d+)\)"[^>]*>(.*?)</text>', re.S)
CLIP = re.compile(r'<clipPath id="[\w-]+-line-0">\s*<rect x="0" y="[\d.]+" width="([\d.]+)"')


def screen_text(app: Any) -> str:
    """The screen as the terminal shows it, in plain text: Textual's own screenshot (an SVG
    with one ``<text>`` per run of characters, at its cell column and line) put back in cells."""
    svg = app.export_screenshot()
    clip = CLIP.search(svg)
    assert clip, "no line in the screenshot"
    cell = float(clip.group(1)) / app.size[0]
    lines: dict[int, list[tuple[int, str]]] = {}
    for x, line, text in TEXT.findall(svg):
        lines.setdefault(int(line), []).append((round(float(x) / cell), html.unescape(text).replace("\xa0", " ")))
    out = []
    for n in range(max(lines, default=-1) + 1):
        row = ""
        for col, text in sorted(lines.get(n, [])):
            row += " " * max(col - cell_len(row), 0) + text
        out.append(row.rstrip())
    return "\n".join(out)


async def _capture(desk: Any, keys: dict[str, str]) -> list[tuple[str, str]]:
    shots: list[tuple[str, str]] = []
    app = Dashboard(lambda: desk.env(), poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        async def shot(name: str, *press: str, back: tuple[str, ...] = ("escape",)) -> None:
            await pilot.press(*press)
            await settle(pilot)
            await pilot.pause(0.05)
            shots.append((name, screen_text(app)))
            if back:
                await pilot.press(*back)
                await settle(pilot)

        shots.append(("backlog", screen_text(app)))
        listed = app.backlog.keys(0, len(app.backlog.ranks))
        app.backlog.cursor = listed.index(keys["urgent"])
        await pilot.pause()
        await shot("ticket", "enter")
        await shot("blocked board", "B")
        await shot("approvals board", "A")
        await shot("rejected changes", "R")
        await shot("trends", "T")
        await shot("help", "question_mark")
        await shot("assign dialog", "a")
        await shot("block dialog", "b")
        await shot("dispatch dialog", "d", back=("n",))
        await shot("heat map axes", "t", back=())
        await shot("command palette", "ctrl+p")
        await pilot.resize_terminal(80, 24)  # the backlog alone, then with the panels below it (``p``)
        await shot("small terminal", back=())
        await shot("small terminal with panels", "p", back=())
        await pilot.press("q")
    return shots


def screens(desk: Any, keys: dict[str, str]) -> list[tuple[str, str]]:
    """(name, text) of every screen, in ``desk``'s language."""
    i18n.use(desk.lang)
    try:
        return asyncio.run(_capture(desk, keys))
    finally:
        i18n.use("en")

"""`ticketctl demo` then the dashboard: `d` (dispatch all), confirmed, assigns
most of the demo's unassigned work, and nobody ends over capacity. Issue 24's
"a real morning": the default-size demo, a real SQLite store, Textual's Pilot."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from test_tui import settle

from ticketctl.core.model import HELD_STATUSES
from ticketctl.services import demo, rebuild
from ticketctl.services.env import Env
from ticketctl.tui.app import Dashboard
from ticketctl.tui.dialogs import DispatchDialog

NOW = "2026-03-04T10:30:00Z"  # a Wednesday morning, in business hours
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def unassigned(home: Path) -> set[str]:
    db = sqlite3.connect(home / "ticketctl.db")
    try:
        return {k for (k,) in db.execute("SELECT key FROM tickets WHERE status = 'new' AND assignee IS NULL")}
    finally:
        db.close()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
async def test_d_dispatches_most_of_the_demos_unassigned_work_within_capacity(tmp_path: Path, lang: str) -> None:
    def make() -> Env:
        return Env.from_environ({"TICKETCTL_HOME": str(tmp_path), "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "disp"})

    env = make()
    made = demo.generate(env, 2000, 40, seed=1, lang=lang)  # `ticketctl demo`'s defaults
    env.close()
    before = unassigned(env.home.root)
    assert len(before) == made["unassigned"] >= 20
    app = Dashboard(make, poll_s=0.1)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DispatchDialog)
        planned: dict[str, Any] = {a["key"]: a["assignee"] for a in dialog.preview["assigned"]}
        await pilot.press("y")
        await settle(pilot)
    after = unassigned(env.home.root)
    assigned = before - after
    assert len(assigned) > len(before) / 2, (len(assigned), len(before))
    assert assigned == set(planned)
    env = make()
    try:
        loads = env.store.loads(HELD_STATUSES)
        over = {t.name: (loads.get(t.name, 0), t.capacity) for t in env.store.techs() if loads.get(t.name, 0) > t.capacity}
        assert not over
        for key in assigned:
            t = env.store.ticket(key)
            assert t.assignee == planned[key] and t.status == "assigned"
        assert rebuild.differences(env.store, env.config) == []
    finally:
        env.close()

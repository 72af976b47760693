"""No dead ends in the dashboard's dialogs (issue 24), driven by Pilot:
assigning over capacity with a confirmation and a reason, recorded as
``ticketctl assign KEY NAME --force`` records it; a dialog that meets bad
input keeps what was typed and says why inline, in the dashboard's words."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_tui import SIZE, app_for, build_store, recorded, settle, ticket, to_key
from textual.widgets import Input, Label, Static

from ticketctl.services import techs, tickets
from ticketctl.services.env import Env
from ticketctl.tui.dialogs import AssignDialog, BlockDialog, ForceAssignDialog, PromptDialog

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def make_env(tmp_path: Path) -> Callable[[], Env]:
    return build_store(tmp_path)


@pytest.fixture
def full_env(tmp_path: Path) -> Callable[[], Env]:
    """The same store with every technician at capacity (ana 1/1, bob 0/0, cyd 1/1)."""
    make = build_store(tmp_path)
    e = make()
    techs.update(e, "ana", capacity=1)
    techs.update(e, "bob", capacity=0)
    e.close()
    return make


def error_line(screen: Any) -> str:
    line = screen.query_one(".error", Static)
    return str(line.render()) if line.has_class("shown") else ""


async def pick_ana(pilot: Any) -> AssignDialog:
    app = pilot.app
    await settle(pilot)
    await to_key(pilot, "TST-1")
    await pilot.press("a")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, AssignDialog)
    assert dialog.explain["best"] is None  # nobody is eligible: the dead end of before
    names = [c["name"] for c in dialog.explain["candidates"]]
    await pilot.press(*["down"] * names.index("ana"), "enter")
    await settle(pilot)
    assert isinstance(app.screen, ForceAssignDialog)
    return dialog


async def test_assign_over_capacity_with_a_reason_is_recorded_as_forced(full_env: Callable[[], Env]) -> None:
    app = app_for(full_env)
    async with app.run_test(size=SIZE) as pilot:
        await pick_ana(pilot)
        assert ticket(full_env, "TST-1")["assignee"] is None  # nothing yet: it asks first
        await pilot.press("enter")  # no reason: stays open and says so
        await settle(pilot)
        assert isinstance(app.screen, ForceAssignDialog)
        assert "reason" in error_line(app.screen) and "--" not in error_line(app.screen)
        await pilot.press(*"VIP site, ana knows it", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, ForceAssignDialog)
    t = ticket(full_env, "TST-1")
    assert (t["status"], t["assignee"]) == ("assigned", "ana")
    event = t["timeline"][-1]
    assert event["type"] == "ticket.assigned"
    assert event["payload"] == {"assignee": "ana", "forced": True, "reason": "VIP site, ana knows it"}

    # the same record as the command line's `assign --force`
    e = full_env()
    try:
        cli = tickets.assign(e, "TST-2", "ana", True, {"reason": "VIP site, ana knows it"})
    finally:
        e.close()
    assert cli["assignee"] == "ana"
    assert ticket(full_env, "TST-2")["timeline"][-1]["payload"] == event["payload"]


async def test_cancelling_the_confirmation_assigns_nothing(full_env: Callable[[], Env]) -> None:
    app = app_for(full_env)
    async with app.run_test(size=SIZE) as pilot:
        await pick_ana(pilot)
        await pilot.press(*"typed then", "escape")
        await settle(pilot)
        assert not isinstance(app.screen, ForceAssignDialog | AssignDialog)
    t = ticket(full_env, "TST-1")
    assert (t["status"], t["assignee"]) == ("new", None)
    assert [e["type"] for e in t["timeline"]] == ["ticket.created"]


async def test_a_bad_deadline_keeps_the_fields_and_says_why_inline(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        notes = recorded(app)
        await settle(pilot)
        await to_key(pilot, "TST-6")
        await pilot.press("b")
        await settle(pilot)
        reasons = list(app.reasons)
        await pilot.press(*["down"] * reasons.index("awaiting_collaboration"), "enter")
        for text in ("net", "VLAN", "next friday", "up", "call first"):
            await pilot.press(*text, "enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, BlockDialog)  # still open
        typed = {f: dialog.query_one(f"#f-{f}", Input).value
                 for f in ("collaborator", "deliverable", "deadline", "expected_result", "note")}
        assert typed == {"collaborator": "net", "deliverable": "VLAN", "deadline": "next friday",
                         "expected_result": "up", "note": "call first"}
        error = error_line(dialog)
        assert "next friday" in error and "2026-03-05T17:00" in error and "--" not in error
        assert not [n for n in notes if n[1] == "error"]
        assert dialog.focused is dialog.query_one("#f-deadline", Input)
        assert ticket(make_env, "TST-6")["status"] == "in_progress"

        box = dialog.query_one("#f-deadline", Input)
        box.value = ""
        await pilot.press(*"2026-03-06T17:00", "enter", "enter", "enter")  # deadline, expected result, note
        await settle(pilot)
        assert not isinstance(app.screen, BlockDialog)
    t = ticket(make_env, "TST-6")
    assert (t["status"], t["blocked_reason"]) == ("blocked", "awaiting_collaboration")
    assert t["block"] == {"collaborator": "net", "deliverable": "VLAN", "deadline": "2026-03-06T17:00:00Z",
                          "expected_result": "up", "note": "call first"}


async def test_a_missing_collaboration_field_is_named_inline(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await to_key(pilot, "TST-6")
        await pilot.press("b")
        await settle(pilot)
        reasons = list(app.reasons)
        await pilot.press(*["down"] * reasons.index("awaiting_collaboration"), "enter")
        for text in ("net", "", "2026-03-05", "up", ""):
            await pilot.press(*text, "enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, BlockDialog)
        assert "deliverable" in error_line(dialog) and "--" not in error_line(dialog)
        assert dialog.focused is dialog.query_one("#f-deliverable", Input)
        assert dialog.query_one("#f-collaborator", Input).value == "net"
    assert ticket(make_env, "TST-6")["status"] == "in_progress"


async def test_an_empty_note_stays_open_and_says_so(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await to_key(pilot, "TST-1")
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptDialog)
        assert error_line(app.screen)
        await pilot.press(*"checked", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, PromptDialog)
        assert ticket(make_env, "TST-1")["timeline"][-1]["payload"] == {"text": "checked"}


@pytest.fixture
def zh() -> Iterator[None]:
    from ticketctl import i18n

    i18n.use("zh_CN")
    yield
    i18n.use("en")


async def test_in_chinese_the_confirmation_and_the_errors_read_chinese(full_env: Callable[[], Env], zh: None) -> None:
    app = app_for(full_env)
    async with app.run_test(size=SIZE) as pilot:
        await pick_ana(pilot)
        dialog = app.screen
        title = str(dialog.query_one(".title", Label).render())
        assert title.startswith("仍将 TST-1 指派给 ana？") and "1/1" in title and "capacity" not in title
        await pilot.press("enter")
        await settle(pilot)
        assert error_line(dialog) == "需要填写原因：它会随强制指派一并记录"
        await pilot.press(*"urgent", "enter")
        await settle(pilot)
    assert ticket(full_env, "TST-1")["timeline"][-1]["payload"]["forced"] is True

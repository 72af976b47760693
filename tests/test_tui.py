"""The dashboard, driven by Pilot: every action by key, asserting the store
afterwards (read back through a fresh Env, as another shell would); a change
written by another connection shows with no key pressed.

The store is built with the services at a fixed "now" (a Monday, 09:00 UTC,
inside business hours) and a fixed key prefix, so screens are reproducible.
Snapshots (one per screen) live in ``test_tui_snapshots.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from ticketctl.errors import BadInput, Refused
from ticketctl.services import approvals, dashboard, kb, techs, tickets
from ticketctl.services.env import Env
from ticketctl.tui.app import Dashboard
from ticketctl.tui.dialogs import AssignDialog, BlockDialog, DispatchDialog, HelpDialog, PromptDialog
from ticketctl.tui.panels import HeatMap
from ticketctl.tui.screens import ApprovalsScreen, BlockedScreen, DetailScreen, RejectedScreen, business_duration

NOW = "2026-03-02T09:00:00Z"
SIZE = (160, 40)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def build_store(home: Path) -> Callable[[], Env]:
    """Three technicians and six tickets in every state the screen colours."""
    environ = {"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "dispatch"}

    def make() -> Env:
        return Env.from_environ(environ)

    e = make()
    with e.store.transaction():
        e.store.set_meta("key_prefix", "TST")
    techs.add(e, "ana", skills=["hvac"], zone="north", capacity=3)
    techs.add(e, "bob", skills=["router"], zone="south", capacity=2)
    techs.add(e, "cyd", skills=["hvac", "pump"], zone="north", capacity=1)
    new = [
        ("No cooling in server room", "facilities", "hvac", "urgent", "system"),
        ("Router drops every hour", "it-network", "router", "high", "department"),
        ("Pump noisy", "facilities", "pump", "medium", "user"),
        ("Lights flicker in hall B", "facilities", "lighting", "low", "user"),
        ("Badge reader dead at gate", "security", "badge-reader", "high", "user"),
        ("Chiller leaks", "facilities", "hvac", "medium", "user"),
    ]
    for title, dept, product, prio, impact in new:
        tickets.create(e, {"title": title, "type": "repair", "dept": dept, "product": product, "priority": prio,
                           "impact": impact})
    tickets.assign(e, "TST-3", "cyd")
    tickets.block(e, "TST-3", "awaiting_parts", {"note": "impeller ordered"})
    tickets.assign(e, "TST-6", "ana")
    tickets.start(e, "TST-6")
    e.close()
    return make


@pytest.fixture
def make_env(tmp_path: Path) -> Callable[[], Env]:
    return build_store(tmp_path)


def ticket(make_env: Callable[[], Env], key: str) -> dict[str, Any]:
    e = make_env()
    try:
        return tickets.show(e, key)
    finally:
        e.close()


async def settle(pilot: Pilot[Any]) -> None:
    """Until no worker runs and no poll is under way: the screen shows the store."""
    app = pilot.app
    assert isinstance(app, Dashboard)
    for _ in range(200):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        if app.seq >= 0 and not app.polling and not any(w.is_running for w in app.workers):
            return
    raise AssertionError("the dashboard never settled")


def recorded(app: Dashboard) -> list[tuple[str, str]]:
    """The app's notifications, as (message, severity)."""
    out: list[tuple[str, str]] = []
    original = app.notify

    def notify(message: str, **kw: Any) -> None:
        out.append((message, kw.get("severity", "information")))
        original(message, **kw)

    app.notify = notify  # type: ignore[method-assign]
    return out


async def to_key(pilot: Pilot[Any], key: str) -> None:
    """Move the backlog cursor onto ``key``."""
    app = pilot.app
    assert isinstance(app, Dashboard)
    keys = app.backlog.keys(0, len(app.backlog.ranks))
    app.backlog.cursor = keys.index(key)
    await pilot.pause()
    assert app.backlog.current_key == key


def app_for(make_env: Callable[[], Env]) -> Dashboard:
    return Dashboard(make_env, poll_s=0.1)


async def test_backlog_is_in_list_order_with_counts_heat_and_load(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        e = make_env()
        expected = [t["key"] for t in tickets.listing(e, limit=None)]
        counts = dashboard.counts(e)
        e.close()
        assert app.backlog.keys(0, 100) == expected
        assert expected[0] == "TST-1"
        assert set(app.backlog.cache) == set(expected)
        assert counts == {"open": 6, "unassigned": 4, "breached": 0, "at_risk": 0, "blocked": 1}
        assert "open 6" in str(app.query_one("#counts").render())
        heat = app.query_one(HeatMap)
        assert heat.cells[("facilities", "hvac")]["count"] == 2
        load = {t["name"]: t["load"] for t in app.query_one("#load").techs}  # type: ignore[attr-defined]
        assert load == {"ana": 1, "bob": 0, "cyd": 1}
        assert str(app.query_one("#sync-state").render()) == ""


async def test_assign_takes_the_dispatch_engines_best(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await to_key(pilot, "TST-1")
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, AssignDialog)
        assert dialog.explain["best"] == "ana"
        assert [c["name"] for c in dialog.explain["candidates"]][0] == "ana"
        await pilot.press("enter")
        await settle(pilot)
    t = ticket(make_env, "TST-1")
    assert (t["status"], t["assignee"]) == ("assigned", "ana")
    assert t["timeline"][-1]["type"] == "ticket.assigned"


async def test_block_with_a_reason_then_unblock(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await to_key(pilot, "TST-6")
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, BlockDialog)
        await pilot.press("down", "enter")  # the second reason of the menu: awaiting_parts
        await settle(pilot)
        t = ticket(make_env, "TST-6")
        assert (t["status"], t["blocked_reason"]) == ("blocked", "awaiting_parts")
        assert app.backlog.cache["TST-6"]["status"] == "blocked"
        await pilot.press("u")
        await settle(pilot)
    t = ticket(make_env, "TST-6")
    assert (t["status"], t["blocked_reason"]) == ("in_progress", None)


async def test_block_for_collaboration_asks_for_its_four_fields(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await to_key(pilot, "TST-6")
        await pilot.press("b")
        await settle(pilot)
        reasons = list(app.reasons)
        await pilot.press(*["down"] * reasons.index("awaiting_collaboration"), "enter")
        for text in ("net", "VLAN", "2026-03-05", "up"):
            await pilot.press(*text, "enter")
        await pilot.press("enter")  # the note may stay empty
        await settle(pilot)
    t = ticket(make_env, "TST-6")
    assert t["blocked_reason"] == "awaiting_collaboration"
    assert t["block"] == {"collaborator": "net", "deliverable": "VLAN", "deadline": "2026-03-05T00:00:00Z",
                          "expected_result": "up"}


async def test_start_note_resolve_and_escalate(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        e = make_env()
        tickets.assign(e, "TST-2", "bob")
        e.close()
        await settle(pilot)
        await to_key(pilot, "TST-2")
        await pilot.press("s")
        await settle(pilot)
        assert ticket(make_env, "TST-2")["status"] == "in_progress"
        await pilot.press("n", *"reboot", "enter")
        await settle(pilot)
        await pilot.press("e", *"3rd outage", "enter")
        await settle(pilot)
        await pilot.press("r", *"new PSU", "enter")
        await settle(pilot)
        assert not app.backlog.listed("TST-2")  # resolved: out of the backlog
    t = ticket(make_env, "TST-2")
    types = [ev["type"] for ev in t["timeline"]]
    assert t["status"] == "resolved"
    assert types[-4:] == ["ticket.started", "ticket.noted", "ticket.escalated", "ticket.resolved"]
    escalated = t["timeline"][-2]["payload"]
    assert escalated["to"] == ["supervisor", "bob"] and escalated["message"] == "3rd outage"
    assert t["timeline"][-1]["payload"] == {"note": "new PSU"}


async def test_dispatch_previews_then_assigns_the_backlog(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DispatchDialog)
        planned = {a["key"]: a["assignee"] for a in dialog.preview["assigned"]}
        assert ticket(make_env, "TST-1")["assignee"] is None  # a preview writes nothing
        await pilot.press("y")
        await settle(pilot)
    assert planned
    for key, who in planned.items():
        assert ticket(make_env, key)["assignee"] == who


async def test_a_refused_action_shows_the_reason_and_changes_nothing(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        notes = recorded(app)
        await settle(pilot)
        await to_key(pilot, "TST-1")
        await pilot.press("s")  # a new ticket cannot start
        await settle(pilot)
        await pilot.press("escape")
    assert notes == [("cannot start TST-1: it is new (start needs assigned)", "error")]
    assert ticket(make_env, "TST-1")["status"] == "new"


async def test_search_and_heat_map_cell_filter_the_backlog(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"dept:facilities", "enter")
        await settle(pilot)
        e = make_env()
        assert app.backlog.keys(0, 100) == [t["key"] for t in tickets.listing(e, dept="facilities", limit=None)]
        e.close()
        assert len(app.backlog.ranks) == 4
        await pilot.press("slash", "ctrl+u", *"leak", "enter")
        await settle(pilot)
        assert app.backlog.keys(0, 100) == ["TST-6"]
        await pilot.press("escape")
        await settle(pilot)
        assert len(app.backlog.ranks) == 6
        heat = app.query_one(HeatMap)
        heat.focus()
        rows, cols = heat.labels
        heat.cursor_coordinate = heat.cursor_coordinate._replace(row=rows.index("facilities"), column=cols.index("hvac") + 1)
        await pilot.press("enter")
        await settle(pilot)
        assert app.filter.text() == "dept:facilities product:hvac"
        assert app.backlog.keys(0, 100) == ["TST-1", "TST-6"]
        await pilot.press("t")
        await settle(pilot)
        assert heat.by == ("dept", "fault")


async def test_a_change_from_another_connection_shows_without_a_key(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        seq = app.seq
        other = make_env()  # another shell: its own Env, its own connection
        created = tickets.create(other, {"title": "Boiler out", "type": "repair", "dept": "facilities", "product": "hvac",
                                         "priority": "urgent", "impact": "system"})
        tickets.assign(other, "TST-4", "bob")
        other.close()
        for _ in range(40):  # no key pressed: only the poll can bring it
            await pilot.pause(0.05)
            if app.backlog.listed(created["key"]) and app.seq > seq:
                break
        await settle(pilot)
        assert app.backlog.listed(created["key"])
        assert app.backlog.cache["TST-4"]["assignee"] == "bob"
        assert app.query_one(HeatMap).cells[("facilities", "hvac")]["count"] == 3
        load = {t["name"]: t["load"] for t in app.query_one("#load").techs}  # type: ignore[attr-defined]
        assert load["bob"] == 1
        e = make_env()
        assert app.backlog.keys(0, 100) == [t["key"] for t in tickets.listing(e, limit=None)]
        e.close()


async def test_detail_blocked_board_and_help_screens(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await to_key(pilot, "TST-3")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.ticket is not None and app.screen.ticket["key"] == "TST-3"
        assert [e["type"] for e in app.screen.ticket["timeline"]] == ["ticket.created", "ticket.assigned", "ticket.blocked"]
        await pilot.press("n", *"Tuesday", "enter")  # actions work on the open ticket
        await settle(pilot)
        assert app.screen.ticket["timeline"][-1]["payload"] == {"text": "Tuesday"}
        await pilot.press("escape", "B")
        await settle(pilot)
        assert isinstance(app.screen, BlockedScreen)
        assert app.screen.view.keys(0, 10) == ["TST-3"]
        await pilot.press("u")
        await settle(pilot)
        assert app.screen.view.ranks == []
        await pilot.press("escape", "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpDialog)
        assert ("a", "assign: technicians ranked by the dispatch engine, with the reason for each") in app.screen.keys
        await pilot.press("escape", "q")
    assert ticket(make_env, "TST-3")["status"] == "assigned"


APPROVERS = '[approvals.approvers]\nsupervisor = "sam"\nregional_manager = "rita"\nfinance_director = "fred"\n'
#: the approvals board's dashboard runs on Wednesday noon (business hours 08:00-18:00 UTC: a business day is 10 h)
LATER = "2026-03-04T12:00:00Z"


def env_at(home: Path, now: str, user: str) -> Env:
    """Another shell on the same store, as ``user`` at ``now``."""
    return Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": now, "TICKETCTL_USER": user})


def build_approvals_store(home: Path) -> Callable[[], Env]:
    """:func:`build_store` with approvers, and three requests waiting by
    Wednesday noon (the returned Envs' "now"): TST-6's large one (6,000, the
    quote attached) from Monday 09:00, which sam approved at once, so that only
    rita's regional_manager step of its first stage is open (2d 3h of its 2d:
    red), rita away with lee standing in; TST-2's small one from Tuesday 10:00
    (1d 2h: yellow); TST-1's from Wednesday 11:00 (1h)."""
    build_store(home)
    (home / "config.toml").write_text(APPROVERS)
    quote = home / "quote.pdf"
    quote.write_bytes(b"%PDF-1.4 quote for a new compressor")

    def do(now: str, user: str, fn: Callable[..., Any], *args: Any) -> None:
        e = env_at(home, now, user)
        try:
            fn(e, *args)
        finally:
            e.close()

    do(NOW, "ana", approvals.request, "TST-6", 6000, "replace compressor", [str(quote)])
    do(NOW, "sam", approvals.approve, "TST-6")
    do(NOW, "rita", approvals.delegate, "rita", "lee", "2026-03-03T00:00:00Z", "2026-03-09T00:00:00Z")
    tuesday = "2026-03-03T10:00:00Z"
    do(tuesday, "dispatch", tickets.assign, "TST-2", "bob")
    do(tuesday, "bob", tickets.start, "TST-2")
    do(tuesday, "bob", approvals.request, "TST-2", 300, "new router")
    wednesday = "2026-03-04T11:00:00Z"
    do(wednesday, "dispatch", tickets.assign, "TST-1", "ana")
    do(wednesday, "ana", tickets.start, "TST-1")
    do(wednesday, "ana", approvals.request, "TST-1", 120, "new filter")
    return lambda: env_at(home, LATER, "dispatch")


def board_rows(screen: ApprovalsScreen) -> list[tuple[str, ...]]:
    assert screen.rows is not None
    return [cells for _key, cells, _style in screen.rows]


async def test_the_approvals_board_lists_the_open_steps_and_follows_decisions_made_elsewhere(tmp_path: Path) -> None:
    make_env = build_approvals_store(tmp_path)
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ApprovalsScreen)
        assert board_rows(screen) == [  # the finance step is stage 2: it opens once rita (stage 1) approves
            ("TST-6", "#1", "large", "6,000", "regional_manager", "rita (away, lee stands in)", "2d 3h / 2d", "replace compressor"),
            ("TST-2", "#1", "small", "300", "supervisor", "sam", "1d 2h / 2d", "new router"),
            ("TST-1", "#1", "small", "120", "supervisor", "sam", "1h / 2d", "new filter")]
        table = screen.query_one(DataTable)
        assert [table.get_row_at(i)[6].style for i in range(3)] == ["bold red", "yellow", ""]
        assert str(screen.query_one("#approvals-caption").render()).startswith("waiting for a decision: 3")

        other = env_at(tmp_path, LATER, "rita")  # another shell: rita approves her step herself
        approvals.approve(other, "TST-6", "ok")
        other.close()
        for _ in range(40):  # no key pressed: only the poll can bring it
            await pilot.pause(0.05)
            if screen.rows and screen.rows[-1][1][4] == "finance_director":
                break
        await settle(pilot)
        assert board_rows(screen) == [
            ("TST-2", "#1", "small", "300", "supervisor", "sam", "1d 2h / 2d", "new router"),
            ("TST-1", "#1", "small", "120", "supervisor", "sam", "1h / 2d", "new filter"),
            ("TST-6", "#1", "large", "6,000", "finance_director", "fred", "0m / 2d", "replace compressor")]

        other = env_at(tmp_path, LATER, "fred")  # a delegation is an event too, of no ticket
        approvals.delegate(other, "fred", "fay", LATER, "2026-03-06T00:00:00Z")
        other.close()
        for _ in range(40):
            await pilot.pause(0.05)
            if screen.rows and screen.rows[-1][1][5] == "fred (away, fay stands in)":
                break
        await settle(pilot)
        assert board_rows(screen)[-1][5] == "fred (away, fay stands in)"
        other = env_at(tmp_path, LATER, "sam")
        approvals.approve(other, "TST-1")  # the last step: TST-1 unblocks and leaves the board
        other.close()
        for _ in range(40):
            await pilot.pause(0.05)
            if screen.rows and len(screen.rows) == 2:
                break
        await settle(pilot)
        assert [(c[0], c[5]) for c in board_rows(screen)] == [("TST-2", "sam"), ("TST-6", "fred (away, fay stands in)")]

        assert screen.current_key == "TST-2"  # the cursor stayed on its step
        await pilot.press("n", *"asked sam", "enter")  # the action keys act on the step's ticket
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.ticket is not None
        assert (app.screen.ticket["key"], app.screen.ticket["blocked_reason"]) == ("TST-6", "awaiting_approval")
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert not app.approvals_open()
    assert ticket(make_env, "TST-2")["timeline"][-1]["payload"] == {"text": "asked sam"}
    assert ticket(make_env, "TST-1")["status"] == "in_progress"


async def test_an_empty_approvals_board_says_so(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert isinstance(app.screen, ApprovalsScreen) and app.screen.rows == []
        assert str(app.screen.query_one("#approvals-caption").render()) == "no approvals waiting"
        await pilot.press("A")  # already open: not a second one
        await pilot.press("escape", "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpDialog)
        assert ("A", "approvals board: steps waiting for a decision, their age and who holds them") in app.screen.keys
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert commands["Approvals"].endswith("(key A)")
        assert sum(isinstance(s, ApprovalsScreen) for s in app.screen_stack) == 0


def test_business_time_is_counted_in_the_calendars_days() -> None:
    day = 36_000  # 08:00-18:00
    assert [business_duration(s, day) for s in (0, 59, 2700, 3600, 11_100, 36_000, 72_000, 93_600, 82_800)] == [
        "0m", "0m", "45m", "1h", "3h 05m", "1d", "2d", "2d 6h", "2d 3h"]
    assert business_duration(86_400, 86_400) == "1d" and business_duration(-5400, day) == "-1h 30m"


def build_kb_store(home: Path) -> Callable[[], Env]:
    """:func:`build_store`, plus what a ticket about a seized pump impeller is
    like: an article (``KB-TST-1``) and a resolved ticket (``TST-7``) with the
    same fault, product and words; two resolved pump tickets that share less
    (``TST-8``, ``TST-9``); a resolved one about something else (``TST-1``);
    and the new ticket itself (``TST-10``)."""
    make = build_store(home)
    e = make()

    def resolved(title: str, fault: str, note: str) -> str:
        key = str(tickets.create(e, {"title": title, "type": "repair", "dept": "facilities", "product": "pump", "fault": fault,
                                     "priority": "medium", "impact": "user"})["key"])
        tickets.assign(e, key, "bob")
        tickets.start(e, key)
        tickets.resolve(e, key, note)
        return key

    assert resolved("Pump impeller seized", "seized-impeller", "replaced the impeller and the shaft seal") == "TST-7"
    resolved("Pump leaks at the seal", "", "tightened the seal")
    resolved("Pump motor hums", "", "new bearings")
    tickets.assign(e, "TST-1", "ana")
    tickets.start(e, "TST-1")
    tickets.resolve(e, "TST-1", "reset the chiller's controller")
    kb.add(e, None, {"title": "Seized pump impeller", "solution": "Replace the impeller and the shaft seal, then test at 6 bar",
                     "product": "pump", "fault": "seized-impeller", "dept": "facilities"})
    tickets.create(e, {"title": "Pump impeller grinding", "type": "repair", "dept": "facilities", "product": "pump",
                       "fault": "seized-impeller", "priority": "medium", "impact": "user"})
    e.close()
    return make


def detail_text(screen: DetailScreen) -> str:
    """What the detail screen shows, as plain text (its whole content, scrolled or not)."""
    import io

    from rich.console import Console

    out = io.StringIO()
    Console(file=out, width=SIZE[0], color_system=None).print(screen.query_one("#detail", Static).content)
    return out.getvalue()


async def test_the_detail_lists_the_three_most_similar_articles_and_resolved_tickets(tmp_path: Path) -> None:
    """``kb.similar`` (as ``ticketctl show``), each labelled article or ticket
    with why it matched; the ticket itself is never among them, not even once
    it is resolved (and so indexed), which the open screen follows."""
    make_env = build_kb_store(tmp_path)
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await to_key(pilot, "TST-10")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.similar is not None
        ids = [r["id"] for r in screen.similar]
        assert len(ids) == 3 and ids[:2] == ["KB-TST-1", "TST-7"] and ids[2] in ("TST-8", "TST-9")
        lines = [line.strip() for line in detail_text(screen).splitlines()]
        section = lines[lines.index("similar") + 1:lines.index("timeline")]  # above the timeline: seen without scrolling
        assert [" ".join(line.split()) for line in section if line] == [
            "article KB-TST-1 Seized pump impeller words: impeller, pump; same fault seized-impeller; same product pump; "
            "same department facilities",
            "ticket TST-7 Pump impeller seized words: impeller, pump; same fault seized-impeller; same product pump; "
            "same department facilities",
            f"ticket {ids[2]} {screen.similar[2]['title']} words: pump; same product pump; same department facilities",
        ]
        e = make_env()  # resolved from another shell: the screen follows, and reads its similar documents again
        tickets.assign(e, "TST-10", "ana")
        tickets.start(e, "TST-10")
        tickets.resolve(e, "TST-10", "replaced the impeller")
        e.close()
        for _ in range(40):  # no key pressed: only the poll can bring it
            await pilot.pause(0.05)
            if screen.ticket is not None and screen.ticket["status"] == "resolved":
                break
        await settle(pilot)
        assert screen.ticket is not None and screen.ticket["status"] == "resolved"
        assert [r["id"] for r in screen.similar][:2] == ["TST-7", "KB-TST-1"]  # "replaced" is a word they share now
        e = make_env()
        assert "TST-10" in [r["id"] for r in kb.search(e, "impeller", 10, "ticket")["results"]]  # indexed, yet not its own match
        e.close()
        assert "TST-10" not in [r["id"] for r in screen.similar]


async def test_a_ticket_with_nothing_similar_says_so(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await to_key(pilot, "TST-3")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.similar == []
        assert "nothing similar yet" in detail_text(app.screen)


async def test_scrolling_a_long_backlog_reads_rows_by_page(tmp_path: Path) -> None:
    """A backlog far longer than the screen: only a window of rows is read."""
    make_env = build_store(tmp_path)
    e = make_env()
    for i in range(400):
        tickets.create(e, {"title": f"Lamp {i}", "type": "repair", "dept": "facilities", "product": "lighting",
                           "priority": "low"})
    e.close()
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(app.backlog.ranks) == 406
        assert len(app.backlog.cache) < 406
        await pilot.press("end")
        await settle(pilot)
        last = app.backlog.current_key
        assert last is not None and last in app.backlog.cache
        e = make_env()
        assert last == tickets.listing(e, limit=None)[-1]["key"]
        e.close()


def test_filter_words_and_fields() -> None:
    f = dashboard.Filter.parse("dept:facilities @ana pump")
    assert f.fields == (("assignee", "ana"), ("dept", "facilities")) and f.words == ("pump",)
    assert dashboard.Filter.parse("").text() == ""
    with pytest.raises(BadInput, match="unknown filter 'colour'"):
        dashboard.Filter.parse("colour:red")


def test_heat_cells_equal_a_fresh_heat_map(make_env: Callable[[], Env]) -> None:
    from ticketctl.services.heatmap import heatmap

    e = make_env()
    tickets.edit(e, "TST-4", {"product": "hvac"})
    seq = dashboard.last_seq(e) - 1
    ch = dashboard.changes_since(e, seq)
    assert ch.tickets == ["TST-4"] and ch.previous == {"TST-4": {"product": {"lighting"}}}
    cells = dashboard.heat_cells(e, ("dept", "product"), ch.tickets, ch.previous)
    fresh = {(c["dept"], c["product"]): c["count"] for c in heatmap(e, ("dept", "product"))["cells"]}
    assert {k: v["count"] for k, v in cells.items()} == {("facilities", "hvac"): fresh[("facilities", "hvac")],
                                                         ("facilities", "lighting"): 0}
    e.close()


def test_escalate_is_refused_once_the_ticket_left_the_backlog(make_env: Callable[[], Env]) -> None:
    e = make_env()
    tickets.cancel(e, "TST-5", "duplicate")
    with pytest.raises(Refused, match="cannot escalate TST-5: it is cancelled"):
        dashboard.escalate(e, "TST-5", "why")
    e.close()
    db = sqlite3.connect(Path(e.home.store_file))
    assert db.execute("SELECT count(*) FROM events WHERE type = 'ticket.escalated'").fetchone()[0] == 0


def test_tui_command_and_no_arguments_at_a_terminal_open_the_dashboard(monkeypatch: pytest.MonkeyPatch,
                                                                        make_env: Callable[[], Env]) -> None:
    import ticketctl.tui
    from ticketctl import cli

    opened: list[Path] = []
    monkeypatch.setattr(ticketctl.tui, "run", lambda env: opened.append(env.home.store_file))
    assert cli.main(["tui"], env=make_env()) == 0
    monkeypatch.setattr(cli, "_is_terminal", lambda: True)
    assert cli.main([], env=make_env()) == 0
    monkeypatch.setattr(cli, "_is_terminal", lambda: False)
    assert cli.main([], env=make_env()) == 2  # a script or a pipe: help, as before
    assert opened == [make_env().home.store_file] * 2


def set_up_sync(make_env: Callable[[], Env], rejected: list[tuple[str, dict[str, Any], str]]) -> list[int]:
    """Sync set up here without a server: a ``sync.json`` pointing at a port
    nobody listens on, a last sync at 08:30, and ``rejected`` changes (name,
    args, the server's reason) in the outbox as a pull leaves them. Returns
    their outbox ids."""
    import json
    import uuid

    e = make_env()
    e.home.sync_file.write_text(json.dumps({"url": "http://127.0.0.1:9", "token": "t0ken"}), encoding="utf-8")
    ids = []
    with e.store.transaction():
        e.store.set_meta("sync_last", "2026-03-02T08:30:00Z")
        for i, (name, args, reason) in enumerate(rejected):
            cur = e.store.db.execute(
                "INSERT INTO outbox (mutation_id, name, args, created_at, actor, client_seq, status, reason, result_seq)"
                " VALUES (?, ?, ?, ?, 'dispatch', ?, 'rejected', ?, ?)",
                (str(uuid.uuid4()), name, json.dumps(args), f"2026-03-02T08:1{i}:00Z", 900 + i, reason, 40 + i))
            ids.append(int(cur.lastrowid or 0))
    e.close()
    return ids


def outbox(make_env: Callable[[], Env]) -> list[tuple[int, str, str, str]]:
    e = make_env()
    try:
        return [tuple(r) for r in e.store.db.execute("SELECT id, name, args, status FROM outbox ORDER BY id")]
    finally:
        e.close()


REJECTED = [("ticket.note", {"key": "TST-2", "text": "customer called back"}, "TST-2 is assigned to bob, not to ana"),
            ("ticket.start", {"key": "TST-6"}, "cannot start TST-6: it is in_progress")]


async def test_the_header_shows_pending_and_rejected_changes_and_the_last_sync(make_env: Callable[[], Env]) -> None:
    pending = len(outbox(make_env))  # every action above queued its mutation
    set_up_sync(make_env, REJECTED)
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.3)  # a poll reads the outbox
        await settle(pilot)
        assert str(app.query_one("#sync-state").render()) == f"sync: {pending} pending  2 rejected (R)  last 08:30Z 03-02"
        other = make_env()
        tickets.note(other, "TST-1", "on site at 10")  # another shell queues one more
        other.close()
        for _ in range(40):
            await pilot.pause(0.05)
            if f"{pending + 1} pending" in str(app.query_one("#sync-state").render()):
                break
        assert str(app.query_one("#sync-state").render()).startswith(f"sync: {pending + 1} pending  2 rejected")


async def test_rejected_changes_are_retried_here_or_discarded(make_env: Callable[[], Env]) -> None:
    note_id, start_id = set_up_sync(make_env, REJECTED)
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        notes = recorded(app)
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RejectedScreen)
        assert [(r["id"], r["name"], r["key"], r["reason"]) for r in screen.rejected] == [
            (note_id, "ticket.note", "TST-2", "TST-2 is assigned to bob, not to ana"),
            (start_id, "ticket.start", "TST-6", "cannot start TST-6: it is in_progress")]
        await pilot.press("r")  # the cursor is on the first: the note runs again here
        await settle(pilot)
        assert [r["id"] for r in screen.rejected] == [start_id]
        await pilot.press("x")
        await settle(pilot)
        assert screen.rejected == []
        assert "0 rejected" in str(app.query_one("#sync-state").render())
        await pilot.press("x")  # nothing left
        await pilot.press("escape")
        await settle(pilot)
    assert notes[:2] == [(f"change {note_id} (ticket.note) ran again here; it goes out with the next sync", "information"),
                         (f"change {start_id} (ticket.start) discarded; its effect here is undone", "information")]
    assert notes[2] == ("no rejected change selected", "warning")
    rows = outbox(make_env)
    assert not [r for r in rows if r[0] in (note_id, start_id) or r[3] == "rejected"]
    assert rows[-1][1:] == ("ticket.note", '{"key":"TST-2","text":"customer called back"}', "pending")  # queued anew
    t = ticket(make_env, "TST-2")
    assert (t["timeline"][-1]["type"], t["timeline"][-1]["payload"]) == ("ticket.noted", {"text": "customer called back"})
    assert ticket(make_env, "TST-6")["status"] == "in_progress"


async def test_a_refused_retry_and_a_server_that_is_down_are_notifications(make_env: Callable[[], Env]) -> None:
    (cancelled,) = set_up_sync(make_env, [("ticket.note", {"key": "TST-5", "text": "x"}, "gone")])
    e = make_env()
    tickets.cancel(e, "TST-5", "duplicate")  # the retry will be refused here too
    e.close()
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        notes = recorded(app)
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        await pilot.press("R", "r")
        await settle(pilot)
        assert isinstance(app.screen, RejectedScreen) and [r["id"] for r in app.screen.rejected] == [cancelled]
        await pilot.press("S")  # nobody listens on the server's port
        for _ in range(100):
            await pilot.pause(0.05)
            if any("unreachable" in m for m, _ in notes):
                break
        await settle(pilot)
        assert app.is_running
    assert notes[0][1] == "error" and "TST-5" in notes[0][0]
    assert notes[1] == ("syncing ...", "information")
    assert notes[2] == ("the sync server at http://127.0.0.1:9 is unreachable (ConnectError); local work stays queued", "error")
    assert [r[3] for r in outbox(make_env) if r[0] == cancelled] == ["rejected"]


async def test_without_sync_set_up_the_header_is_empty_and_R_says_so(make_env: Callable[[], Env]) -> None:
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        notes = recorded(app)
        await settle(pilot)
        await pilot.pause(0.3)
        await pilot.press("R", "S")
        await settle(pilot)
        assert str(app.query_one("#sync-state").render()) == ""
        assert not isinstance(app.screen, RejectedScreen)
    assert notes == [("sync is not set up here: `ticketctl sync setup URL --token TOKEN`", "warning")] * 2


def test_a_filter_cut_in_memory_equals_sqlite_before_and_after_a_patch(make_env: Callable[[], Env]) -> None:
    """``Ranking.select`` (one pass, then facets grouped from a copy while a
    patch lands) keeps the rows SQLite's WHERE keeps, in ranking order."""
    e = make_env()
    rk = dashboard.ranking(e)
    copy = rk.start_facets()
    tickets.assign(e, "TST-4", "bob")  # lands while the facets are being built
    tickets.edit(e, "TST-5", {"product": "hvac"})
    rk.patch(dashboard.ranks(e, rk, ["TST-4", "TST-5"]))
    flts = [dashboard.Filter.parse(t) for t in ("dept:facilities", "@bob", "assignee:-", "dept:facilities status:new",
                                            "reason:awaiting_parts", "product:hvac", "dept:security")]
    one_pass = [rk.select(f) for f in flts]
    rk.set_facets(dashboard.facets(copy))
    for f, before in zip(flts, one_pass, strict=True):
        expected = [r for r in rk.ranks if r[3] in (dashboard.matching(e, f) or set())]
        assert rk.select(f) == before == expected, f.text()
    assert [r[2] for r in rk.select(dashboard.Filter.parse("dept:facilities @bob"))] == ["TST-4"]
    e.close()


async def test_the_dashboard_speaks_chinese(make_env: Callable[[], Env]) -> None:
    """``lang = zh_CN``: titles, headers, the hint line, notifications, dialogs,
    the help screen and the command palette are Chinese (needs the compiled
    catalog); the data (keys, names) is as stored, statuses and priorities are
    labels (tests/test_tui_zh.py, over a Chinese team's store)."""
    from ticketctl import i18n

    i18n.use("zh_CN")
    app = app_for(make_env)
    async with app.run_test(size=SIZE) as pilot:
        notes = recorded(app)
        await settle(pilot)
        assert str(app.query_one("#title").render()) == "ticketctl 调度台"
        assert str(app.query_one("#counts").render()).startswith("未关闭 6   未指派 4")
        assert str(app.query_one("#filter-line").render()) == "6 个工单  所有未关闭工单，按权重排序"
        assert str(app.query_one("#heat-caption").render()).startswith("热力图：部门 × 产品")
        hint = str(app.query_one("#keys").render())
        assert hint.startswith("? 帮助  q 退出  a 指派  b 挂起  u 恢复") and hint.endswith(" ctrl+p")  # the last labels gave way
        assert "ctrl+p 所有操作" in app.key_hint(None).plain  # where there is room
        assert "工单号" in "".join(s.text for s in app.backlog.render_line(0))
        await to_key(pilot, "TST-1")
        await pilot.press("s")  # refused: the reason is the service's, in Chinese too
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, PromptDialog) and app.screen.title_text == "解决 TST-1"
        await pilot.press("escape", "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpDialog)
        assert ("a", "指派：按派单引擎排序的技术员，附每人的原因") in app.screen.keys
        await pilot.press("escape")
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert commands["指派"] == "指派：按派单引擎排序的技术员，附每人的原因（按键 a）" and "主题" in commands
    assert notes and notes[0][1] == "error" and "TST-1" in notes[0][0] and not notes[0][0].startswith("cannot start")

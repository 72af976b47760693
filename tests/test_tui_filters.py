"""No dead ends (issue 24): every count in the dashboard's header is a filter
one key (or a click) away, and that filter keeps exactly the tickets the header
counts. The expected tickets are worked out apart from the dashboard, from the
rows ``ticketctl list --json`` prints (their ``sla_state`` is decided in Python
by ``core.views``; the header and the filter ask SQLite).

The store is the demo's, at a "now" when some tickets are at risk and some
past their SLA.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from test_tui import settle
from textual.widgets import Input

from ticketctl import i18n
from ticketctl.core.model import OPEN_STATUSES, parse_time
from ticketctl.errors import BadInput
from ticketctl.services import dashboard, demo, tickets
from ticketctl.services.dashboard import Filter
from ticketctl.services.env import Env
from ticketctl.tui.app import COUNT_KEYS, Dashboard
from ticketctl.tui.header import Counts

NOW = "2026-03-04T10:30:00Z"  # a Wednesday, in business hours
SIZE = (160, 40)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def make_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Env]]:
    environ = {"TICKETCTL_HOME": str(tmp_path_factory.mktemp("demo")), "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "disp"}

    def make() -> Env:
        return Env.from_environ(environ)

    e = make()
    demo.generate(e, 300, 12, seed=3)
    e.close()
    yield make


@pytest.fixture(scope="module")
def listed(make_env: Callable[[], Env]) -> list[dict[str, Any]]:
    """Every open ticket as ``list --json`` prints it."""
    e = make_env()
    try:
        return tickets.listing(e, statuses=list(OPEN_STATUSES), limit=None)
    finally:
        e.close()


#: what each header count counts, decided from ``list --json``'s fields
COUNTED: dict[str, Callable[[dict[str, Any]], bool]] = {
    "open": lambda t: True,
    "unassigned": lambda t: t["assignee"] is None,
    "at_risk": lambda t: t["sla_state"] == "at_risk",
    "breached": lambda t: t["sla_state"] == "breached",
    "blocked": lambda t: t["status"] == "blocked",
}


def expected(listed: list[dict[str, Any]], name: str, also: Callable[[dict[str, Any]], bool] = lambda t: True) -> set[str]:
    return {t["key"] for t in listed if COUNTED[name](t) and also(t)}


def shown(app: Dashboard) -> set[str]:
    keys = app.backlog.keys(0, len(app.backlog.ranks))
    assert len(keys) == len(set(keys))
    return set(keys)


def header(app: Dashboard) -> dict[str, int]:
    """The header's figures as it reads them (``open 300   unassigned 12 ...``)."""
    text = str(app.query_one("#counts", Counts).render())
    out = {}
    for start, end, name in app.query_one("#counts", Counts).spans:
        out[name] = int(text[start:end].rsplit(" ", 1)[1].replace(",", ""))
    return out


def test_the_store_has_tickets_in_every_counted_state(listed: list[dict[str, Any]]) -> None:
    for name in COUNTED:
        assert expected(listed, name), name  # else a test below could not fail


async def test_each_header_count_is_one_key_from_exactly_its_tickets(make_env: Callable[[], Env],
                                                                      listed: list[dict[str, Any]]) -> None:
    app = Dashboard(make_env, poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        figures = header(app)
        assert set(figures) == set(COUNTED)
        for key, name, _what in COUNT_KEYS:
            await pilot.press("5" if key == "1" else "1")  # from some other filter
            await settle(pilot)
            await pilot.press(key)
            await settle(pilot)
            want = expected(listed, name)
            assert shown(app) == want, name
            assert figures[name] == len(want), name
            assert app.filter == dashboard.COUNT_FILTERS[name]


async def test_a_click_on_a_header_count_filters_to_it(make_env: Callable[[], Env], listed: list[dict[str, Any]]) -> None:
    app = Dashboard(make_env, poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.query_one("#counts", Counts)
        for start, _end, name in bar.spans:
            await pilot.click("#counts", offset=(start + 1, 0))
            await settle(pilot)
            assert shown(app) == expected(listed, name), name


async def test_typed_filters_labels_and_combinations(make_env: Callable[[], Env], listed: list[dict[str, Any]]) -> None:
    dept = next(t["dept"] for t in listed if t["sla_state"] == "breached")
    now = parse_time(NOW)
    cases = {
        "sla:breached": expected(listed, "breached"),
        "sla:已超时": expected(listed, "breached"),
        "sla:risk": expected(listed, "at_risk"),
        "sla:有风险": expected(listed, "at_risk"),
        "sla:ok": {t["key"] for t in listed if t["sla_state"] == "ok"},
        "sla:paused": {t["key"] for t in listed if t["sla_state"] == "paused"},
        f"sla:breached dept:{dept}": expected(listed, "breached", lambda t: t["dept"] == dept),
        "assignee:- status:new": expected(listed, "unassigned", lambda t: t["status"] == "new"),
        "@- sla:at_risk": expected(listed, "unassigned", lambda t: t["sla_state"] == "at_risk"),
        "age:>2d": expected(listed, "open", lambda t: now - parse_time(t["created_at"]) > timedelta(days=2)),
        "age:<4h sla:ok": expected(listed, "open", lambda t: now - parse_time(t["created_at"]) < timedelta(hours=4)
                                   and t["sla_state"] == "ok"),
        "age:>1d age:<1w status:blocked": expected(listed, "blocked", lambda t: timedelta(days=1) < now - parse_time(
            t["created_at"]) < timedelta(days=7)),
    }
    who = next(t["assignee"] for t in listed if t["assignee"] and t["sla_state"] == "breached")
    cases[f"assignee:{who} sla:breached"] = expected(listed, "breached", lambda t: t["assignee"] == who)
    cases[f"@{who}"] = expected(listed, "open", lambda t: t["assignee"] == who)
    app = Dashboard(make_env, poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for text, want in cases.items():
            await pilot.press("slash")
            app.query_one("#search", Input).value = text
            await pilot.press("enter")
            await settle(pilot)
            assert shown(app) == want, text


def test_filter_parses_the_new_parts_and_reads_back() -> None:
    f = Filter.parse("sla:已超时 age:>2d age:<1w assignee:ana pump")
    assert (f.sla, f.older, f.newer, f.fields, f.words) == ("breached", "2d", "1w", (("assignee", "ana"),), ("pump",))
    assert Filter.parse(f.text()) == f
    assert Filter.parse("sla:risk") == Filter.parse("sla:at_risk") == dashboard.COUNT_FILTERS["at_risk"]
    assert Filter.parse("@-") == Filter.parse("assignee:-") == dashboard.COUNT_FILTERS["unassigned"]
    i18n.use("zh_CN")
    try:
        assert Filter(sla="at_risk").text() == "sla:有风险"
    finally:
        i18n.use("en")
    with pytest.raises(BadInput, match="unknown SLA state 'late'"):
        Filter.parse("sla:late")
    for bad in ("age:2d", "age:>2y", "age:>", "age:<d"):
        with pytest.raises(BadInput, match="age wants > or <"):
            Filter.parse(bad)
    with pytest.raises(BadInput, match="unknown filter 'colour' .*sla, age"):
        Filter.parse("colour:red")


def test_the_header_and_the_sla_filter_agree_with_list_json(make_env: Callable[[], Env],
                                                            listed: list[dict[str, Any]]) -> None:
    e = make_env()
    try:
        counts = dashboard.counts(e)
        by_rowid = {r[3]: r[2] for r in dashboard.ranking(e).ranks}
        for name, flt in dashboard.COUNT_FILTERS.items():
            want = expected(listed, name)
            assert counts[name] == len(want), name
            keep = dashboard.matching(e, flt)
            got = set(by_rowid.values()) if keep is None else {by_rowid[i] for i in keep}
            assert got == want, name
    finally:
        e.close()

"""``calendar.country = "CN"``: China's public holidays and make-up workdays (调休)
stop and run the SLA clocks, checked through the real CLI against due times
worked out by hand.

The hand computations use the State Council's 2026 schedule (notice of November
2025), typed here as the reference the package must agree with:

- 元旦 Jan 1 (Thu) - Jan 3 off; Sun Jan 4 is a workday.
- 春节 Feb 15 (Sun) - Feb 23 (Mon) off; Sat Feb 14 and Sat Feb 28 are workdays.
- 清明 Apr 4-6 off. 劳动节 May 1-5 off; Sat May 9 is a workday. 端午 Jun 19-21 off.
  中秋 Sep 25-27 off.
- 国庆 Oct 1 (Thu) - Oct 7 (Wed) off; Sun Sep 20 and Sat Oct 10 are workdays;
  Thu Oct 8 is a normal workday.

Default calendar, 08:00-18:00 Mon-Fri, here in Asia/Shanghai (UTC+8, no DST);
medium priority: 4 h to respond, 3 d = 30 business hours to resolve.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from ticketctl import errors
from ticketctl.cli import main
from ticketctl.core.config import config_from_dict
from ticketctl.home import HOLIDAYS_CACHE, holidays_version
from ticketctl.services.env import Env

H = 3600


def official_2026() -> tuple[set[date], set[date]]:
    """(days off, make-up workdays) of the 2026 notice."""

    def span(a: date, b: date) -> set[date]:
        return {a + timedelta(days=i) for i in range((b - a).days + 1)}

    off = (span(date(2026, 1, 1), date(2026, 1, 3)) | span(date(2026, 2, 15), date(2026, 2, 23))
           | span(date(2026, 4, 4), date(2026, 4, 6)) | span(date(2026, 5, 1), date(2026, 5, 5))
           | span(date(2026, 6, 19), date(2026, 6, 21)) | span(date(2026, 9, 25), date(2026, 9, 27))
           | span(date(2026, 10, 1), date(2026, 10, 7)))
    makeup = {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)}
    return off, makeup


def test_the_package_agrees_with_the_2026_notice_day_by_day() -> None:
    cal = config_from_dict({"calendar": {"country": "CN", "timezone": "Asia/Shanghai"}}).business_calendar
    off, makeup = official_2026()
    d, wrong = date(2026, 1, 1), []
    while d.year == 2026:
        want = d in makeup or (d.weekday() < 5 and d not in off)
        if cal.is_business_day(d) is not want:
            wrong.append(d.isoformat())
        d += timedelta(days=1)
    assert wrong == []
    assert cal.is_business_day(date(2026, 10, 8)) and not cal.is_business_day(date(2026, 10, 11))


# -- the CLI ---------------------------------------------------------------------------------


class Cli:
    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]):
        self.home, self.capsys = home, capsys

    def __call__(self, *argv: str, now: str = "2026-09-01T09:00:00+08:00") -> tuple[int, str, str]:
        environ = {"TICKETCTL_HOME": str(self.home), "TICKETCTL_NOW": now, "TICKETCTL_USER": "ana"}
        self.capsys.readouterr()
        code = main(list(argv), env=Env.from_environ(environ))
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *argv: str, now: str = "2026-09-01T09:00:00+08:00") -> str:
        code, out, err = self(*argv, now=now)
        assert code == errors.OK, err
        return out

    def json(self, *argv: str, now: str = "2026-09-01T09:00:00+08:00") -> Any:
        return json.loads(self.ok(*argv, "--json", now=now))

    def new(self, now: str) -> str:
        return str(self.json("new", "Chiller alarm", "--type", "repair", "--dept", "facilities", "--product", "hvac", now=now)["key"])


@pytest.fixture()
def cn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    cli = Cli(tmp_path / "home", capsys)
    assert cli.ok("config", "set", "calendar.country", "CN").startswith("calendar.country = 'CN'")
    cli.ok("config", "set", "calendar.timezone", "Asia/Shanghai")
    cli.ok("tech", "add", "ana")
    return cli


# (case, opened at (Beijing time), response due, resolve due), due times in UTC = Beijing - 8 h
CASES = [
    # Wed Sep 30 15:00, the day before National Day. Response: 3 h on Sep 30, Oct 1-7 off, 1 h on
    # Thu Oct 8 -> Oct 8 09:00. Resolve 30 h: 3 (Sep 30) + 10 (Oct 8) + 10 (Fri Oct 9) + 7 on the
    # make-up Saturday Oct 10 -> Sat Oct 10 15:00 (without the make-up day: Mon Oct 12 15:00).
    ("before-national-day", "2026-09-30T15:00:00+08:00", "2026-10-08T01:00:00Z", "2026-10-10T07:00:00Z"),
    # Fri Oct 2 10:00, a holiday: both clocks start Thu Oct 8 08:00. Response -> Oct 8 12:00.
    # Resolve: 10 + 10 + 10 (Oct 8, 9, Sat 10) -> exactly at the close of Sat Oct 10, 18:00.
    ("on-a-holiday", "2026-10-02T10:00:00+08:00", "2026-10-08T04:00:00Z", "2026-10-10T10:00:00Z"),
    # Sat Feb 14 10:00, the make-up Saturday before Spring Festival: the clocks run at once.
    # Response -> Feb 14 14:00. Resolve: 8 (Feb 14), Feb 15-23 off, 10 (Tue Feb 24), 10 (Wed 25),
    # 2 (Thu 26) -> Feb 26 10:00.
    ("on-the-make-up-saturday", "2026-02-14T10:00:00+08:00", "2026-02-14T06:00:00Z", "2026-02-26T02:00:00Z"),
    # Fri Feb 13 16:00: the weekend after it is half worked. Response: 2 h on Friday, 2 h on Sat
    # Feb 14 -> Feb 14 10:00. Resolve: 2 + 10 (Sat 14) + 10 (Tue 24) + 8 (Wed 25) -> Feb 25 16:00.
    ("friday-before-the-make-up-saturday", "2026-02-13T16:00:00+08:00", "2026-02-14T02:00:00Z", "2026-02-25T08:00:00Z"),
    # Wed Dec 31 2025 17:00, before New Year: 1 h, Jan 1-3 off, Sun Jan 4 is a workday.
    # Response: 1 + 3 -> Sun Jan 4 11:00. Resolve: 1 + 10 (Sun 4) + 10 (Mon 5) + 9 (Tue 6) -> Jan 6 17:00.
    ("before-new-year", "2025-12-31T17:00:00+08:00", "2026-01-04T03:00:00Z", "2026-01-06T09:00:00Z"),
]


@pytest.mark.parametrize(("opened", "response_due", "resolve_due"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_due_times_across_chinese_holidays_equal_the_hand_computation(
    cn: Cli, opened: str, response_due: str, resolve_due: str
) -> None:
    key = cn.new(opened)
    t = cn.json("show", key, now=opened)
    assert (t["sla_response_due"], t["sla_resolve_due"]) == (response_due, resolve_due)
    assert t["sla_resolve_left_s"] == 30 * H


def test_without_a_country_the_golden_week_is_business_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli(tmp_path / "home", capsys)
    cli.ok("config", "set", "calendar.timezone", "Asia/Shanghai")
    key = cli.new("2026-09-30T15:00:00+08:00")
    t = cli.json("show", key, now="2026-09-30T15:00:00+08:00")
    # 3 h on Sep 30, then Thu Oct 1 counts: response Oct 1 09:00, resolve 3 + 10 + 10 + 7 -> Mon Oct 5 15:00
    assert (t["sla_response_due"], t["sla_resolve_due"]) == ("2026-10-01T01:00:00Z", "2026-10-05T07:00:00Z")


def test_hand_listed_holidays_add_to_the_country(cn: Cli) -> None:
    cn.ok("config", "set", "calendar.holidays", '["2026-10-09"]')
    key = cn.new("2026-09-30T15:00:00+08:00")
    # Fri Oct 9 off as well: 3 (Sep 30) + 10 (Oct 8) + 10 (Sat Oct 10) + 7 (Mon Oct 12) -> Oct 12 15:00
    assert cn.json("show", key, now="2026-09-30T15:00:00+08:00")["sla_resolve_due"] == "2026-10-12T07:00:00Z"


def resolve(cli: Cli, key: str, opened: str, at: str) -> dict[str, Any]:
    for step in (["assign", key, "ana"], ["start", key]):
        cli.ok(*step, now=opened)
    cli.ok("resolve", key, now=at)
    return dict(cli.json("show", key, now=at))


def kpi(cli: Cli, day: str, now: str) -> dict[str, Any]:
    r = cli.json("report", "kpi", "--from", f"{day}T00:00:00+08:00", "--to", f"{day}T23:59:59+08:00", now=now)
    return {k: (v["value"], v["n"]) for k, v in r["kpis"].items() if k in ("resolution_median", "resolution_mean", "sla_attainment")}


def test_resolution_time_business_clock_and_kpi_wall_time(cn: Cli) -> None:
    """``report kpi`` promises resolution time as wall time (created to resolved, in
    hours) and SLA attainment from the business-time clock: both are checked."""
    # opened Wed Sep 30 15:00, resolved Sat Oct 10 11:00 (the make-up Saturday):
    # business time 3 + 10 + 10 + 3 = 26 h of 30 -> 4 h left; wall time 10 days - 4 h = 236 h
    a = cn.new("2026-09-30T15:00:00+08:00")
    t = resolve(cn, a, "2026-09-30T15:00:00+08:00", "2026-10-10T11:00:00+08:00")
    assert (t["status"], t["resolved_at"], t["sla_resolve_left_s"]) == ("resolved", "2026-10-10T03:00:00Z", 4 * H)
    assert kpi(cn, "2026-09-30", "2026-10-10T11:00:00+08:00") == {
        "resolution_median": (236.0, 1), "resolution_mean": (236.0, 1), "sla_attainment": (100.0, 1)}

    # opened Fri Oct 2 10:00 (a holiday), resolved Mon Oct 12 09:00: business time
    # 10 + 10 + 10 (Oct 8, 9, Sat 10) + 1 = 31 h -> 1 h late; wall time 10 days - 1 h = 239 h
    b = cn.new("2026-10-02T10:00:00+08:00")
    t = resolve(cn, b, "2026-10-02T10:00:00+08:00", "2026-10-12T09:00:00+08:00")
    assert t["sla_resolve_left_s"] == -1 * H
    assert kpi(cn, "2026-10-02", "2026-10-12T09:00:00+08:00") == {
        "resolution_median": (239.0, 1), "resolution_mean": (239.0, 1), "sla_attainment": (0.0, 1)}

    # Spring Festival: opened on the make-up Sat Feb 14 10:00, resolved Wed Feb 25 17:00:
    # business 8 + 10 + 9 = 27 h -> 3 h left; wall 11 days + 7 h = 271 h
    c = cn.new("2026-02-14T10:00:00+08:00")
    t = resolve(cn, c, "2026-02-14T10:00:00+08:00", "2026-02-25T17:00:00+08:00")
    assert t["sla_resolve_left_s"] == 3 * H
    assert kpi(cn, "2026-02-14", "2026-02-25T17:00:00+08:00") == {
        "resolution_median": (271.0, 1), "resolution_mean": (271.0, 1), "sla_attainment": (100.0, 1)}


# -- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "value", "message"), [
    ("calendar.country", "XX", "calendar.country: 'XX' is not a country the holidays package knows"),
    ("calendar.country", "cn", "calendar.country: 'cn' is not a country the holidays package knows"),
    ("calendar.subdivision", "BJ", "calendar.subdivision: CN has no subdivisions"),
])
def test_unknown_country_or_subdivision_is_refused_naming_the_key(cn: Cli, key: str, value: str, message: str) -> None:
    before = (cn.home / "config.toml").read_bytes()
    code, out, err = cn("config", "set", key, value)
    assert code == errors.BAD_INPUT and out == ""
    assert err.startswith("ticketctl: error: ") and message in err and err.count("\n") == 1
    assert (cn.home / "config.toml").read_bytes() == before


def test_a_hand_edited_bad_country_stops_every_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli(tmp_path / "home", capsys)
    cli.home.mkdir()
    (cli.home / "config.toml").write_text('[calendar]\ncountry = "Narnia"\n')
    code, out, err = cli("list")
    assert code == errors.BAD_INPUT and out == ""
    assert err == f"ticketctl: error: {cli.home / 'config.toml'}: calendar.country: 'Narnia' is not a country the holidays" \
                  " package knows (an ISO 3166-1 code in capitals, e.g. CN, DE, US)\n"
    (cli.home / "config.toml").write_text('[calendar]\nsubdivision = "BY"\n')
    code, _, err = cli("list")
    assert code == errors.BAD_INPUT and err.endswith("calendar.subdivision: needs calendar.country\n")


def test_other_countries_and_subdivisions_come_from_the_holidays_package() -> None:
    de = config_from_dict({"calendar": {"country": "DE"}}).business_calendar
    by = config_from_dict({"calendar": {"country": "DE", "subdivision": "BY"}}).business_calendar
    us = config_from_dict({"calendar": {"country": "US"}}).business_calendar
    assert not de.is_business_day(date(2026, 12, 25)) and de.is_business_day(date(2026, 12, 28))
    assert de.is_business_day(date(2026, 1, 6)) and not by.is_business_day(date(2026, 1, 6))  # Epiphany: Bavaria only
    assert not us.is_business_day(date(2026, 7, 3))  # Independence Day (Sat) observed on Friday
    assert us.is_business_day(date(2026, 7, 6))


# -- the cache beside the config ------------------------------------------------------------


def run_list(home: Path) -> tuple[str, bool]:
    """``list --json`` in a fresh interpreter: (stdout, whether the holidays package was imported)."""
    code = ("import sys; from ticketctl.cli import main; rc = main(['list', '--json']);"
            " print('HOLIDAYS' if 'holidays' in sys.modules else 'NO-HOLIDAYS', file=sys.stderr); sys.exit(rc)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    env.update(TICKETCTL_HOME=str(home), TICKETCTL_NOW="2026-10-08T09:00:00+08:00", TICKETCTL_USER="ana")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout, r.stderr.splitlines()[-1] == "HOLIDAYS"


def test_the_computed_dates_are_cached_beside_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli(tmp_path / "home", capsys)
    cli.home.mkdir()
    (cli.home / "config.toml").write_text('[calendar]\ncountry = "CN"\ntimezone = "Asia/Shanghai"\n')
    cache = cli.home / HOLIDAYS_CACHE
    k = cli.new("2026-09-30T15:00:00+08:00")
    assert cache.exists()
    cache.unlink()
    first, imported = run_list(cli.home)
    assert imported and cache.exists()
    # what the cache holds is what the clocks use: the ticket over the golden week
    assert [(t["key"], t["sla_resolve_due"]) for t in json.loads(first)] == [(k, "2026-10-10T07:00:00Z")]
    (key, entry), = json.loads(cache.read_text()).items()
    assert key == f"CN||holidays {holidays_version()}|2000-2050"
    assert "2026-10-10" in entry["workdays"] and "2026-10-07" in entry["holidays"]
    again, imported = run_list(cli.home)
    assert (again, imported) == (first, False)  # read from the cache: the package is not even imported
    # a cache of another package version (or a broken file) is a miss: computed again and rewritten
    cache.write_text(json.dumps({"CN||holidays 0.1|2000-2050": {"holidays": [], "workdays": []}}))
    assert run_list(cli.home) == (first, True)
    assert list(json.loads(cache.read_text())) == [key]
    cache.write_text("{not json")
    assert run_list(cli.home) == (first, True)
    assert list(json.loads(cache.read_text())) == [key]


def test_setting_the_country_refolds_the_clocks_of_open_tickets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A ticket opened before the team set its country gets the country's clock at the next
    command (the store notices the rules changed and folds the events again)."""
    cli = Cli(tmp_path / "home", capsys)
    cli.ok("config", "set", "calendar.timezone", "Asia/Shanghai")
    opened, response_due, resolve_due = CASES[0][1:]
    key = cli.new(opened)
    before = cli.json("show", key, now=opened)
    assert before["sla_resolve_due"] == "2026-10-05T07:00:00Z"  # Mon Oct 5 15:00: Oct 1-2 and 5 count without a country
    cli.ok("config", "set", "calendar.country", "CN")
    code, out, err = cli("show", key, "--json", now=opened)
    assert (code, err) == (0, "ticketctl: the calendar or SLA rules changed: folding the clock of 1 ticket again\n")
    after = json.loads(out)
    assert (after["sla_response_due"], after["sla_resolve_due"]) == (response_due, resolve_due)
    assert cli("store", "check", now=opened)[0] == errors.OK
    cli.ok("config", "set", "calendar.country", "")
    assert cli.json("show", key, now=opened)["sla_resolve_due"] == before["sla_resolve_due"]
    # a config key written out with its default value changes no rule: nothing is folded again
    cli.ok("config", "set", "calendar.subdivision", "")
    cli.ok("config", "set", "sla.medium.resolve", "3d")
    assert cli("show", key, "--json", now=opened)[2] == ""

"""``core.dates``: one layout per column, decided by the data."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ticketctl.core import dates

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("column", "kind", "ambiguous"), [
    (["2012-05-03T10:53:58+01:00", "2013-12-25 23:59:08"], "iso", False),
    (["25/12/2013 11:59 PM", "01/02/2014 1:00 AM"], "day_first", False),
    (["12/25/2013 11:59:08 PM", "01/02/2014 01:00:00 AM"], "month_first", False),
    (["05/01/2022 12:00:03 AM", "05/01/2022 02:06:26 AM"], "month_first", True),
    (["3.4.2024 09:00", "13.4.2024 10:00"], "day_first", False),
])
def test_the_whole_column_decides(column: list[str], kind: str, ambiguous: bool) -> None:
    lay = dates.detect(column)
    assert (lay.kind, lay.ambiguous) == (kind, ambiguous)
    assert all(lay.parse(v, UTC) for v in column)


def test_a_column_both_ways_is_refused() -> None:
    with pytest.raises(dates.Conflict) as e:
        dates.detect(["13/01/2024", "01/13/2024"])
    assert (e.value.day_first, e.value.month_first) == ("13/01/2024", "01/13/2024")


@pytest.mark.parametrize(("text", "want"), [
    ("12/25/2013 11:59:08 PM", "2013-12-26T04:59:08Z"),  # New York, winter: UTC-5
    ("05/01/2022 12:00:03 AM", "2022-05-01T04:00:03Z"),  # midnight, summer: UTC-4
    ("05/01/2022 12:30:00 PM", "2022-05-01T16:30:00Z"),  # noon
    ("05/01/2022 01:00 PM +0200", "2022-05-01T11:00:00Z"),  # its own zone wins
    ("05/01/2022 13:00 PM", None),  # no 13 o'clock PM
    ("not a date", None),
])
def test_am_pm_and_zones(text: str, want: str | None) -> None:
    assert dates.Layout("month_first").parse(text, NY) == want


def test_iso_excel_and_format() -> None:
    assert dates.Layout("iso").parse("2013/12/25 9:05", UTC) == "2013-12-25T09:05:00Z"
    assert dates.Layout("iso").parse("2024-01-02T03:04:05Z", NY) == "2024-01-02T03:04:05Z"
    assert dates.Layout("iso").parse(datetime(2024, 1, 2, 3, 4), UTC) == "2024-01-02T03:04:00Z"
    lay = dates.detect(["whatever"], "%d.%m.%Y %H:%M")
    assert lay.parse("03.04.2024 09:00", UTC) == "2024-04-03T09:00:00Z" and lay.parse("2024-04-03", UTC) is None
    assert dates.Layout("iso").parse("1900-01-01", UTC) is None  # out of range: a slip, not a ticket's time


def test_an_ambiguous_column_follows_the_files_decided_one() -> None:
    both = dates.agree({"created_at": dates.detect(["05/01/2022 10:00"]), "closed_at": dates.detect(["13/01/2022 10:00"])})
    assert (both["created_at"].kind, both["created_at"].ambiguous) == ("day_first", False)
    assert both["created_at"].parse("05/01/2022 10:00", UTC) == "2022-01-05T10:00:00Z"
    alone = dates.agree({"created_at": dates.detect(["05/01/2022 10:00"])})
    assert (alone["created_at"].kind, alone["created_at"].ambiguous) == ("month_first", True)


def test_a_format_strptime_cannot_read_is_bad_input() -> None:
    from ticketctl.errors import BadInput

    with pytest.raises(BadInput, match="--date-format '%Q'"):
        dates.detect([], "%Q")

"""Business-time arithmetic: nights, weekends, time zones and DST; no database needed."""

import datetime

import pytest

from cases import sla
from cases.models import BusinessCalendar

UTC = datetime.UTC
BERLIN = "Europe/Berlin"


def cal(tz="UTC", weekdays="0,1,2,3,4", opens=9, closes=17):
    return BusinessCalendar(
        name="t", time_zone=tz, weekdays=weekdays, opens_at=datetime.time(opens), closes_at=datetime.time(closes)
    )


def at(y, m, d, h=0, mi=0, tz=UTC):
    return datetime.datetime(y, m, d, h, mi, tzinfo=tz)


# 2026-11-23 is a Monday.
@pytest.mark.parametrize(
    "start, minutes, expected",
    [
        (at(2026, 11, 23, 10), 60, at(2026, 11, 23, 11)),  # inside the day
        (at(2026, 11, 23, 16), 120, at(2026, 11, 24, 10)),  # across the night
        (at(2026, 11, 23, 20), 60, at(2026, 11, 24, 10)),  # opened at night: the clock starts at 9
        (at(2026, 11, 23, 6), 30, at(2026, 11, 23, 9, 30)),  # opened before opening time
        (at(2026, 11, 27, 16), 120, at(2026, 11, 30, 10)),  # Friday afternoon → Monday
        (at(2026, 11, 28, 12), 60, at(2026, 11, 30, 10)),  # opened on Saturday
        (at(2026, 11, 23, 9), 8 * 60 * 5, at(2026, 11, 27, 17)),  # exactly one working week
        (at(2026, 11, 23, 9), 8 * 60 * 5 + 1, at(2026, 11, 30, 9, 1)),  # a minute more: next Monday
        (at(2026, 11, 23, 17), 0, at(2026, 11, 23, 17)),
    ],
)
def test_add_business_time_across_nights_and_weekends(start, minutes, expected):
    assert sla.due_at(cal(), start, minutes) == expected


def test_time_zone_of_the_calendar_counts():
    # 09:00–17:00 in Berlin (UTC+1 in November) is 08:00–16:00 UTC.
    berlin = cal(BERLIN)
    assert sla.due_at(berlin, at(2026, 11, 23, 15, 30), 60) == at(2026, 11, 24, 8, 30)


def test_dst_change_keeps_local_opening_hours():
    # Berlin leaves summer time on Sunday 2026-10-25: Friday 16:00 local (14:00 UTC) + 2h →
    # Monday 10:00 local, which is 09:00 UTC after the change.
    assert sla.due_at(cal(BERLIN), at(2026, 10, 23, 14), 120) == at(2026, 10, 26, 9)


def test_round_the_clock_without_calendar():
    assert sla.due_at(None, at(2026, 11, 28, 12), 60) == at(2026, 11, 28, 13)


@pytest.mark.parametrize(
    "start, end, seconds",
    [
        (at(2026, 11, 23, 10), at(2026, 11, 23, 12), 2 * 3600),
        (at(2026, 11, 23, 16), at(2026, 11, 24, 10), 2 * 3600),  # the night does not count
        (at(2026, 11, 27, 16), at(2026, 11, 30, 10), 2 * 3600),  # nor the weekend
        (at(2026, 11, 28, 0), at(2026, 11, 29, 23), 0),
        (at(2026, 11, 24, 10), at(2026, 11, 23, 16), -(2 * 3600)),
    ],
)
def test_business_seconds_between(start, end, seconds):
    assert sla.business_seconds_between(cal(), start, end) == seconds


def test_add_and_between_are_inverse():
    calendar = cal(BERLIN, weekdays="0,1,2,3,5")
    start = at(2026, 11, 26, 7, 13)
    for minutes in (1, 59, 480, 481, 2000, 10000):
        due = sla.due_at(calendar, start, minutes)
        assert sla.business_seconds_between(calendar, start, due) == minutes * 60


def test_state_colours():
    due = at(2026, 11, 24, 12)
    assert sla.state(due, at(2026, 11, 23, 9), 3600, cal()) == "ok"
    assert sla.state(due, at(2026, 11, 24, 11, 30), 3600, cal()) == "warn"
    # One business hour before a Monday-morning due is Friday afternoon: already warn.
    monday = at(2026, 11, 30, 9, 30)
    assert sla.state(monday, at(2026, 11, 27, 16, 45), 3600, cal()) == "warn"
    assert sla.state(due, at(2026, 11, 24, 12), 3600, cal()) == "bad"
    assert sla.state(due, at(2026, 11, 24, 13), 3600, cal(), paused=True) == "paused"


def test_calendar_that_never_opens_is_an_error():
    with pytest.raises(ValueError):
        sla.due_at(cal(weekdays=""), at(2026, 11, 23), 60)

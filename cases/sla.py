"""Business-time arithmetic for SLA targets: adding business seconds to an instant and counting the
business seconds between two instants, in a calendar's time zone (DST-safe: each day's window is
resolved in local time and the arithmetic is done in UTC)."""

import datetime

from django.utils import timezone

UTC = datetime.UTC
MAX_DAYS = 3660  # guard against a calendar that never opens


class _Hours:
    """The calendar's working hours; a calendar of None means round the clock."""

    def __init__(self, calendar):
        self.calendar = calendar
        if calendar is not None:
            self.tz = calendar.tz
            self.weekdays = calendar.working_weekdays
            self.opens, self.closes = calendar.opens_at, calendar.closes_at

    def window(self, day: datetime.date):
        """The working window of a local date, as UTC instants, or None on a day off."""
        if day.weekday() not in self.weekdays:
            return None
        start = datetime.datetime.combine(day, self.opens, tzinfo=self.tz).astimezone(UTC)
        end = datetime.datetime.combine(day, self.closes, tzinfo=self.tz).astimezone(UTC)
        return start, end


def add_business_seconds(calendar, start: datetime.datetime, seconds: float) -> datetime.datetime:
    """The instant at which `seconds` of business time have passed since `start`."""
    if timezone.is_naive(start):
        raise ValueError("start must be aware")
    start = start.astimezone(UTC)
    if calendar is None or seconds <= 0:
        return start + datetime.timedelta(seconds=max(seconds, 0))
    hours = _Hours(calendar)
    remaining = datetime.timedelta(seconds=max(seconds, 0))
    cursor = start
    day = start.astimezone(hours.tz).date()
    for _ in range(MAX_DAYS):
        window = hours.window(day)
        if window is not None:
            open_at, close_at = window
            if cursor < open_at:
                cursor = open_at
            if cursor < close_at:
                available = close_at - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
                cursor = close_at
        day += datetime.timedelta(days=1)
    raise ValueError("The calendar has no working time.")


def business_seconds_between(calendar, start: datetime.datetime, end: datetime.datetime) -> int:
    """Business seconds from `start` to `end` (negative when `end` is before `start`)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end < start:
        return -business_seconds_between(calendar, end, start)
    if calendar is None:
        return int((end - start).total_seconds())
    hours = _Hours(calendar)
    total = datetime.timedelta()
    day = start.astimezone(hours.tz).date()
    last = end.astimezone(hours.tz).date()
    while day <= last:
        window = hours.window(day)
        if window is not None:
            lo, hi = max(window[0], start), min(window[1], end)
            if hi > lo:
                total += hi - lo
        day += datetime.timedelta(days=1)
    return int(total.total_seconds())


def due_at(calendar, start, minutes: int) -> datetime.datetime:
    return add_business_seconds(calendar, start, minutes * 60)


def state(due, now, warn_seconds: int, calendar=None, paused=False) -> str:
    """'ok', 'warn' (inside the warning window), 'bad' (breached) or 'paused' — the portal's colour."""
    if due is None:
        return ""
    if paused:
        return "paused"
    if now >= due:
        return "bad"
    if business_seconds_between(calendar, now, due) <= warn_seconds:
        return "warn"
    return "ok"


def summary(case, now=None) -> dict:
    """The case's SLA clocks as the API and the portal show them."""
    now = now or timezone.now()
    warn = case.sla_policy.warn_before_minutes * 60 if case.sla_policy_id else 0
    calendar = case.queue.calendar
    paused = case.sla_paused_at is not None
    if case.first_response_at is not None:
        first = "met"
    else:
        first = state(case.first_response_due_at, now, warn, calendar) if case.is_open else ""
    return {
        "first_response_due_at": case.first_response_due_at,
        "first_response_at": case.first_response_at,
        "first_response_state": first,
        "resolution_due_at": case.resolution_due_at,
        "resolution_state": state(case.resolution_due_at, now, warn, calendar, paused=paused) if case.is_open else "",
        "paused": paused,
        "breached": case.sla_breached,
    }

"""Reporting periods: parse what people type, derive explicit (start, end) dates."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

GRANULARITIES = ("day", "week", "month", "quarter", "year", "event")

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(ValueError):
    """A period that cannot be read; the message says what was expected."""


def period_end(start: date, granularity: str) -> date:
    """The last day of the period of this granularity that starts on ``start``."""
    if granularity in ("day", "event"):
        return start
    if granularity == "week":
        return start + timedelta(days=6)
    if granularity == "month":
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    if granularity == "quarter":
        last_month = start.month + 2
        return date(start.year, last_month, calendar.monthrange(start.year, last_month)[1])
    if granularity == "year":
        return date(start.year, 12, 31)
    raise PeriodError(f"unknown granularity {granularity!r}; use one of {', '.join(GRANULARITIES)}")


def check_period_start(start: date, granularity: str) -> None:
    """Refuse a start date that does not open a period of this granularity."""
    if granularity == "week" and start.isoweekday() != 1:
        raise PeriodError(f"weekly periods start on a Monday; {start.isoformat()} is a {start:%A}")
    if granularity == "month" and start.day != 1:
        raise PeriodError(f"monthly periods start on the 1st; got {start.isoformat()}")
    if granularity == "quarter" and (start.day != 1 or start.month not in (1, 4, 7, 10)):
        raise PeriodError(
            f"quarters start on 1 January, April, July or October; got {start.isoformat()}"
        )
    if granularity == "year" and (start.month, start.day) != (1, 1):
        raise PeriodError(f"yearly periods start on 1 January; got {start.isoformat()}")


def parse_period(text: str, granularity: str) -> tuple[date, date]:
    """Read a period as people write it: 2024-03-01, 2024-03, 2024-W05, 2024-Q1 or 2024.

    >>> parse_period("2024-02", "month")
    (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
    >>> parse_period("2024-W01", "week")
    (datetime.date(2024, 1, 1), datetime.date(2024, 1, 7))
    """
    if granularity not in GRANULARITIES:
        raise PeriodError(
            f"unknown granularity {granularity!r}; use one of {', '.join(GRANULARITIES)}"
        )
    raw = (text or "").strip()
    if not raw:
        raise PeriodError("the period is empty")
    try:
        if m := _MONTH.match(raw):
            start = date(int(m[1]), int(m[2]), 1)
        elif m := _WEEK.match(raw):
            start = date.fromisocalendar(int(m[1]), int(m[2]), 1)
        elif m := _QUARTER.match(raw):
            start = date(int(m[1]), 3 * int(m[2]) - 2, 1)
        elif m := _YEAR.match(raw):
            start = date(int(m[1]), 1, 1)
        else:
            start = date.fromisoformat(raw[:10])
    except ValueError:
        raise PeriodError(
            f"{raw!r} is not a date or period; write 2024-03-01, 2024-03, 2024-W05, 2024-Q1 or 2024"
        ) from None
    check_period_start(start, granularity)
    return start, period_end(start, granularity)

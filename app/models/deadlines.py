"""Statutory deadlines for rights requests (UK GDPR Article 12(3), as the ICO reads it).

Pure date arithmetic, no store:
- the clock starts on the day identity (or an agent's authority) is confirmed, and that day is
  day 1: the deadline is the same date in the following month, or the last day of that month
  when it has no such date (31 January -> 28 February);
- days spent waiting for clarification do not count. The statute (DPA 2018 s.54(3C), as the
  Data (Use and Access) Act 2025 inserted it) leaves out "the period beginning with the day on
  which the controller makes the request and ending with the day on which the controller
  receives the information": both days are inside it, so a pause from date A to date B pushes
  the deadline back by B - A + 1 days (only the part of a pause from the start day on counts);
- a deadline that falls on a weekend or an England and Wales bank holiday moves to the next
  working day. Bank holidays come from the ``holidays`` library, substitute days included;
- a complex request may be extended to three months from the start (same rules).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections.abc import Iterable

import holidays

ONE_MONTH = 1
EXTENDED_MONTHS = 3
# A stop of the clock: from the day clarification was asked for to the day it arrived.
Pause = tuple[dt.date, dt.date]


def add_months(day: dt.date, months: int) -> dt.date:
    """The same date ``months`` later, or the last day of that month when it has no such date."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@functools.lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[dt.date]:
    """England and Wales bank holidays in ``year``, with substitute days."""
    calendar_ = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return frozenset(calendar_.keys())


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def next_working_day(day: dt.date) -> dt.date:
    """``day`` itself when it is a working day, otherwise the first working day after it."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def paused_days(start: dt.date, pauses: Iterable[Pause]) -> int:
    """Days the clock stood still from ``start`` on: each pause counts the day clarification
    was asked for and the day it arrived, both included; overlapping pauses count once."""
    pauses = list(pauses)
    if any(b < a for a, b in pauses):
        raise ValueError("a pause cannot end before it starts")
    total, reach = 0, start  # ``reach``: the first day not yet counted
    for a, b in sorted((max(a, start), b) for a, b in pauses if b >= start):
        a = max(a, reach)
        if b >= a:
            total += (b - a).days + 1
            reach = b + dt.timedelta(days=1)
    return total


def deadline(start: dt.date, months: int = ONE_MONTH, pauses: Iterable[Pause] = ()) -> dt.date:
    """The working day by which a request whose clock started on ``start`` must be answered."""
    pushed = add_months(start, months) + dt.timedelta(days=paused_days(start, pauses))
    return next_working_day(pushed)


def due_date(start: dt.date, pauses: Iterable[Pause] = ()) -> dt.date:
    """One calendar month from the start, moved past pauses, weekends and bank holidays."""
    return deadline(start, ONE_MONTH, pauses)


def extended_date(start: dt.date, pauses: Iterable[Pause] = ()) -> dt.date:
    """Three months from the start, for a complex request (same rules)."""
    return deadline(start, EXTENDED_MONTHS, pauses)

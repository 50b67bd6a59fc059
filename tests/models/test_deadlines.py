"""Statutory deadlines: the ICO's one-calendar-month rule, the working-day roll over weekends
and England and Wales bank holidays, clarification pauses and the three-month extension."""

from __future__ import annotations

import datetime as dt

import pytest

from app.models.deadlines import (
    add_months,
    bank_holidays,
    deadline,
    due_date,
    extended_date,
    is_working_day,
    next_working_day,
    paused_days,
)

D = dt.date


# -- the same date next month -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2026, 1, 5), 1, D(2026, 2, 5)),  # day of receipt is day 1: same date next month
        (D(2026, 1, 31), 1, D(2026, 2, 28)),  # no 31 February: the last day of February
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # a leap year has a 29th
        (D(2026, 3, 31), 1, D(2026, 4, 30)),  # 30-day month
        (D(2026, 1, 30), 1, D(2026, 2, 28)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),  # across the year end
        (D(2027, 12, 31), 1, D(2028, 1, 31)),
        (D(2026, 1, 31), 3, D(2026, 4, 30)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2026, 5, 31), 0, D(2026, 5, 31)),
    ],
)
def test_add_months_keeps_the_date_or_takes_the_last_day(
    start: dt.date, months: int, expected: dt.date
) -> None:
    assert add_months(start, months) == expected


# -- the working-day roll -----------------------------------------------------------------------


def test_received_31_january_is_due_28_february_then_rolls_off_the_weekend() -> None:
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert D(2026, 2, 28).weekday() == 5  # a Saturday
    assert due_date(D(2026, 1, 31)) == D(2026, 3, 2)  # the Monday


def test_an_ordinary_weekday_deadline_stays_put() -> None:
    assert due_date(D(2026, 1, 5)) == D(2026, 2, 5)  # a Thursday
    assert due_date(D(2028, 1, 31)) == D(2028, 2, 29)  # a Tuesday


def test_a_saturday_or_sunday_deadline_moves_to_monday() -> None:
    assert D(2026, 3, 7).weekday() == 5
    assert due_date(D(2026, 2, 7)) == D(2026, 3, 9)
    assert D(2026, 3, 8).weekday() == 6
    assert due_date(D(2026, 2, 8)) == D(2026, 3, 9)


def test_good_friday_and_easter_monday_move_to_the_next_working_day() -> None:
    assert D(2026, 4, 3) in bank_holidays(2026)  # Good Friday
    assert D(2026, 4, 6) in bank_holidays(2026)  # Easter Monday
    assert due_date(D(2026, 3, 3)) == D(2026, 4, 7)  # Fri, weekend, Easter Monday -> Tue
    assert due_date(D(2026, 3, 6)) == D(2026, 4, 7)  # Easter Monday -> Tuesday
    assert due_date(D(2027, 2, 26)) == D(2027, 3, 30)  # Good Friday 2027 is 26 March


def test_christmas_boxing_day_and_their_substitute_days() -> None:
    # 2026: Christmas Friday, Boxing Day Saturday with its substitute on Monday 28th.
    assert D(2026, 12, 28) in bank_holidays(2026)
    assert due_date(D(2026, 11, 25)) == D(2026, 12, 29)
    assert due_date(D(2026, 11, 26)) == D(2026, 12, 29)
    # 2027: Christmas Saturday, Boxing Day Sunday: substitutes Monday 27th and Tuesday 28th.
    assert {D(2027, 12, 27), D(2027, 12, 28)} <= bank_holidays(2027)
    assert due_date(D(2027, 11, 25)) == D(2027, 12, 29)
    assert due_date(D(2027, 11, 27)) == D(2027, 12, 29)
    # 2022: Christmas Sunday, so Tuesday 27th was the substitute for it.
    assert due_date(D(2022, 11, 25)) == D(2022, 12, 28)
    # New Year's Day on a Friday in 2027.
    assert due_date(D(2026, 12, 1)) == D(2027, 1, 4)


def test_one_off_bank_holidays_come_from_the_library() -> None:
    assert due_date(D(2023, 4, 8)) == D(2023, 5, 9)  # the coronation, Monday 8 May 2023
    assert due_date(D(2022, 8, 19)) == D(2022, 9, 20)  # the state funeral, 19 September 2022


def test_only_the_england_and_wales_calendar_counts() -> None:
    assert is_working_day(D(2026, 1, 2))  # a bank holiday in Scotland only
    assert due_date(D(2025, 12, 2)) == D(2026, 1, 2)
    assert is_working_day(D(2026, 3, 17))  # St Patrick's Day: Northern Ireland only
    assert is_working_day(D(2026, 11, 30))  # St Andrew's Day: Scotland only


def test_next_working_day() -> None:
    assert next_working_day(D(2026, 5, 1)) == D(2026, 5, 1)  # a Friday
    assert next_working_day(D(2026, 5, 2)) == D(2026, 5, 5)  # Sat, Sun, early May bank holiday
    assert next_working_day(D(2026, 8, 29)) == D(2026, 9, 1)
    assert not is_working_day(D(2026, 12, 25))


# -- clarification pauses -----------------------------------------------------------------------


def test_a_clarification_pause_leaves_out_both_the_day_asked_and_the_day_answered() -> None:
    """DPA 2018 s.54(3C)(b): "the period beginning with the day on which the controller makes
    the request and ending with the day on which the controller receives the information does
    not count towards ... the applicable time period". "Beginning with" and "ending with" put
    both days inside the period, so a pause from A to B is B - A + 1 days."""
    start = D(2026, 1, 5)
    pause = (D(2026, 1, 10), D(2026, 1, 17))  # asked on the 10th, answered on the 17th
    assert paused_days(start, [pause]) == 8  # 10, 11, ... 17 January
    assert due_date(start, [pause]) == D(2026, 2, 13)  # 5 Feb + 8 days, a Friday


def test_a_question_answered_the_same_day_still_stops_the_clock_for_that_day() -> None:
    """The same rule when the answer comes on the day it was asked for: that one day does not
    count, and the deadline it pushes onto a weekend and a bank holiday rolls on past them."""
    start = D(2026, 4, 1)
    assert due_date(start) == D(2026, 5, 1)  # a Friday
    same_day = (D(2026, 4, 10), D(2026, 4, 10))
    assert paused_days(start, [same_day]) == 1
    # 1 May + 1 day = Saturday 2 May; Sunday 3 May; Monday 4 May is the early May bank holiday.
    assert due_date(start, [same_day]) == D(2026, 5, 5)


def test_the_roll_is_applied_after_the_pause() -> None:
    start = D(2026, 1, 5)
    # 5 Feb + 3 days (20, 21, 22 January) = Sunday 8 February -> Monday 9 February.
    assert due_date(start, [(D(2026, 1, 20), D(2026, 1, 22))]) == D(2026, 2, 9)
    # 2026-01-31 -> 28 Feb (Saturday); without the roll, a 4-day pause gives 4 March (Wednesday).
    assert due_date(D(2026, 1, 31), [(D(2026, 2, 2), D(2026, 2, 5))]) == D(2026, 3, 4)


def test_pauses_before_the_clock_started_do_not_count_and_overlaps_count_once() -> None:
    start = D(2026, 1, 10)
    assert paused_days(start, [(D(2026, 1, 1), D(2026, 1, 8))]) == 0
    assert paused_days(start, [(D(2026, 1, 1), D(2026, 1, 9))]) == 0
    assert paused_days(start, [(D(2026, 1, 8), D(2026, 1, 12))]) == 3  # 10, 11, 12 January
    overlapping = [(D(2026, 1, 15), D(2026, 1, 20)), (D(2026, 1, 18), D(2026, 1, 25))]
    assert paused_days(start, overlapping) == 11  # 15 to 25 January
    # A second pause asked for on the day the first was answered shares that day.
    touching = [(D(2026, 1, 15), D(2026, 1, 20)), (D(2026, 1, 20), D(2026, 1, 22))]
    assert paused_days(start, touching) == 8  # 15 to 22 January


def test_a_pause_that_ends_before_it_starts_is_a_mistake() -> None:
    with pytest.raises(ValueError):
        paused_days(D(2026, 1, 1), [(D(2026, 1, 20), D(2026, 1, 10))])


# -- the three-month extension ------------------------------------------------------------------


def test_an_extension_runs_three_months_from_the_start() -> None:
    assert extended_date(D(2026, 1, 31)) == D(2026, 4, 30)  # a Thursday: no roll needed
    assert extended_date(D(2026, 1, 5)) == D(2026, 4, 7)  # 5 April is Sunday, 6 Easter Monday
    assert extended_date(D(2025, 11, 30)) == D(2026, 3, 2)  # 28 Feb 2026 is a Saturday
    # A pause from 1 to 4 February is 4 days: 5 April + 4 = Thursday 9 April.
    assert extended_date(D(2026, 1, 5), [(D(2026, 2, 1), D(2026, 2, 4))]) == D(2026, 4, 9)
    assert deadline(D(2026, 1, 31), 3) == extended_date(D(2026, 1, 31))


def test_the_issue_example_rolls_over_christmas_and_boxing_day() -> None:
    # Identity confirmed on Monday 25 November 2024: one month on is Wednesday 25 December
    # (Christmas Day), then Boxing Day, so the request is due on Friday 27 December.
    assert {D(2024, 12, 25), D(2024, 12, 26)} <= bank_holidays(2024)
    assert add_months(D(2024, 11, 25), 1) == D(2024, 12, 25)
    assert due_date(D(2024, 11, 25)) == D(2024, 12, 27)

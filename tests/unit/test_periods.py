"""Notice periods counted as the Civil Code counts them, on the official holiday calendar."""

from __future__ import annotations

from datetime import date

import pytest

from colift.errors import BadInput
from colift.rules.periods import (
    Counting,
    FirstDay,
    NoticeRule,
    calendar_years,
    is_rest_day,
    notice_period,
)

TEN = NoticeRule(10)


def test_a_last_day_on_a_weekend_moves_to_monday() -> None:
    # Posted Wed 4 March 2026: days run 5-14 March (art. 201); Sat 14 March is a rest day,
    # so the notice ends on Mon 16 March (art. 203) and can be passed on the 17th.
    p = notice_period(date(2026, 3, 4), TEN)
    assert p.first_day == date(2026, 3, 5)
    assert p.nominal_last_day == date(2026, 3, 14)
    assert p.last_day == date(2026, 3, 16)
    assert p.elapsed_on == date(2026, 3, 17)
    assert p.assumptions == ()


def test_a_last_day_in_the_spring_festival_moves_past_the_whole_holiday() -> None:
    # 2026 Spring Festival: 15-23 February are rest days. Posted 5 Feb, the 10th day is
    # Sun 15 Feb: the notice ends on Tue 24 Feb, the first working day after the holiday.
    p = notice_period(date(2026, 2, 5), TEN)
    assert p.nominal_last_day == date(2026, 2, 15)
    assert p.last_day == date(2026, 2, 24)
    assert all(is_rest_day(date(2026, 2, d)) for d in range(15, 24))


def test_working_days_count_adjusted_weekends_and_skip_the_holiday() -> None:
    # Sat 14 Feb 2026 is an adjusted working day (调休上班); 15-23 Feb are not working days.
    assert not is_rest_day(date(2026, 2, 14))
    p = notice_period(date(2026, 2, 12), NoticeRule(5, Counting.WORKING))
    # 13 Feb (1), 14 Feb (2), 24 Feb (3), 25 Feb (4), 26 Feb (5)
    assert p.last_day == date(2026, 2, 26)
    weekend = notice_period(date(2026, 3, 6), NoticeRule(5, Counting.WORKING))  # posted Friday
    assert weekend.first_day == date(2026, 3, 7)
    assert weekend.last_day == date(2026, 3, 13)  # Mon 9 .. Fri 13


def test_a_city_may_count_the_posting_day() -> None:
    p = notice_period(date(2025, 5, 1), NoticeRule(20, first_day=FirstDay.POSTING_DAY))
    assert (p.first_day, p.last_day) == (date(2025, 5, 1), date(2025, 5, 20))


def test_a_day_outside_the_calendar_is_counted_under_a_shown_assumption() -> None:
    first, last = calendar_years()
    assert first <= 2026 <= last  # the package carries the 2026 schedule
    beyond = date(last + 1, 2, 1)
    p = notice_period(date(last, 12, 28), TEN)
    assert p.last_day.year == last + 1
    (assumption,) = p.assumptions
    assert f"for {last + 1} is not in the calendar" in assumption.render("en")
    assert "国务院" in assumption.render("zh-CN")
    assert is_rest_day(date(last + 1, 1, 2)) is (date(last + 1, 1, 2).weekday() >= 5)
    assert notice_period(beyond, TEN).assumptions  # wholly outside: still said


def test_impossible_lengths_are_refused() -> None:
    with pytest.raises(BadInput, match="not possible"):
        notice_period(date(2026, 1, 5), NoticeRule(0))

"""Periods in days as the Civil Code counts them, on the official Chinese calendar.

- Art. 201: a period counted in days does not count the day it starts; it runs from the next
  day. (A city may say otherwise: a profile can count the posting day as day 1.)
- Art. 203: when the last day is a statutory rest day (法定休假日), the period ends on the first
  day after the rest days end.
- Some cities count working days (工作日): the adjusted working days of the State Council's
  holiday schedule (调休上班的周末) count, the holidays moved onto weekdays do not.

Rest and working days come from the `chinesecalendar` package, which carries the State
Council's yearly schedule (holidays and adjusted working days) and refuses years it does not
know rather than guessing them. For a day outside its coverage colift counts Saturdays and
Sundays as rest days and nothing else, and says so: every period that touches such a day carries
that assumption, and every place that shows the period shows it (docs/consent.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache

import chinese_calendar
from chinese_calendar import constants as _calendar_data

from colift.errors import BadInput
from colift.i18n import Message, msg

MAX_PERIOD_DAYS = 366


class Counting(StrEnum):
    CALENDAR = "calendar"  # 自然日
    WORKING = "working"  # 工作日


class FirstDay(StrEnum):
    NEXT_DAY = "next-day"  # Civil Code art. 201: the posting day is not counted
    POSTING_DAY = "posting-day"  # the posting day is day 1 (a city rule that says so)


@cache
def calendar_years() -> tuple[int, int]:
    """The first and last year whose official schedule the calendar package knows."""
    years = [d.year for d in _calendar_data.holidays]
    return min(years), max(years)


def day_is_known(day: date) -> bool:
    first, last = calendar_years()
    return first <= day.year <= last


def is_rest_day(day: date) -> bool:
    """A statutory rest day: a holiday, or a weekend that is not an adjusted working day.

    Outside the package's years only Saturdays and Sundays are rest days (an assumption the
    period results carry).
    """
    if day_is_known(day):
        return not bool(chinese_calendar.is_workday(day))
    return day.weekday() >= 5


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while is_rest_day(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class NoticeRule:
    """How long a city's public notice runs and how its days are counted."""

    days: int
    counting: Counting = Counting.CALENDAR
    first_day: FirstDay = FirstDay.NEXT_DAY
    source: str = ""
    confidence: str = "assumption"

    def describe_zh(self) -> str:
        unit = "个工作日" if self.counting is Counting.WORKING else "日"
        start = "自公示次日起算" if self.first_day is FirstDay.NEXT_DAY else "公示当日计入"
        return f"{self.days}{unit}（{start}）"

    def describe_en(self) -> str:
        unit = "working days" if self.counting is Counting.WORKING else "days"
        start = (
            "counted from the day after posting"
            if self.first_day is FirstDay.NEXT_DAY
            else "the posting day counts as day 1"
        )
        return f"{self.days} {unit} ({start})"


@dataclass(frozen=True)
class Period:
    """A notice period: from its posting day to its last day, inclusive."""

    posted_on: date
    first_day: date
    nominal_last_day: date  # before art. 203 moved it off a rest day
    last_day: date
    rule: NoticeRule
    assumptions: tuple[Message, ...] = ()

    @property
    def elapsed_on(self) -> date:
        """The first day the period is over (the day after its last day)."""
        return self.last_day + timedelta(days=1)

    @property
    def moved(self) -> bool:
        return self.last_day != self.nominal_last_day

    def elapsed(self, today: date) -> bool:
        return today >= self.elapsed_on

    def contains(self, day: date) -> bool:
        """The posting day and every day up to the last: objections in this window count."""
        return self.posted_on <= day <= self.last_day


def notice_period(posted_on: date, rule: NoticeRule) -> Period:
    """The notice's days under `rule` (module docstring); the last day is inclusive."""
    if rule.days < 1 or rule.days > MAX_PERIOD_DAYS:
        raise BadInput(
            "a notice of {days} days is not possible: give 1 to {most} days",
            days=rule.days,
            most=MAX_PERIOD_DAYS,
        )
    first = posted_on if rule.first_day is FirstDay.POSTING_DAY else posted_on + timedelta(days=1)
    if rule.counting is Counting.WORKING:
        day = next_working_day(first)
        counted = 1
        while counted < rule.days:
            day = next_working_day(day + timedelta(days=1))
            counted += 1
        nominal = last = day
    else:
        nominal = first + timedelta(days=rule.days - 1)
        last = next_working_day(nominal)  # art. 203
    return Period(posted_on, first, nominal, last, rule, _assumptions(posted_on, last))


def _assumptions(start: date, end: date) -> tuple[Message, ...]:
    if day_is_known(start) and day_is_known(end):
        return ()
    first, last = calendar_years()
    return (
        msg(
            "the official holiday schedule for {year} is not in the calendar colift uses "
            "(it covers {first}–{last}): only Saturdays and Sundays were counted as rest days "
            "after {last}; check the State Council's notice for {year} before relying on the "
            "last day",
            year=end.year if not day_is_known(end) else start.year,
            first=first,
            last=last,
        ),
    )

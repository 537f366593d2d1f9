"""Specification of vbp_rules.calendar: working days, deadlines, schedules."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from ruamel.yaml import YAML

from vbp_rules.calendar import (
    CalendarDay,
    CalendarDays,
    Deadline,
    EndOfNextMonth,
    Hours,
    Months,
    WorkCalendar,
    WorkingDays,
    YearSchedule,
    ensure_aware,
    load_schedule,
)
from vbp_rules.errors import CalendarError, NaiveDatetimeError, ProvisionalYearError

SHANGHAI = ZoneInfo("Asia/Shanghai")
SNAPSHOTS = Path(__file__).parent / "data" / "calendar"


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.china()


def at(*args: int) -> datetime:
    """An instant in Beijing time."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


# --------------------------------------------------------------------------- the oracle

# Days on which the chinesecalendar package and we disagree, each checked against the
# State Council's notice (see docs/calendar.md, "Comparison with chinesecalendar").
ORACLE_EXCEPTIONS = {
    # 国办发明电〔2005〕35号 (2006 schedule), item 一: "12月31日(星期六)上班" — Saturday
    # 2005-12-31 was a make-up working day for the 2006 New Year. holidays.China has it;
    # chinesecalendar treats the day as an ordinary Saturday.
    date(2005, 12, 31): True,
}


def test_working_days_agree_with_chinesecalendar_2004_to_2026(cal: WorkCalendar) -> None:
    chinese_calendar = pytest.importorskip("chinese_calendar")
    day, last = date(2004, 1, 1), date(2026, 12, 31)
    compared = 0
    disagreements: dict[date, bool] = {}
    while day <= last:
        ours = cal.is_working_day(day)
        if ours != chinese_calendar.is_workday(day):
            disagreements[day] = ours
        compared += 1
        day += timedelta(days=1)
    assert compared == 8401
    assert disagreements == ORACLE_EXCEPTIONS


# --------------------------------------------------------------------------- golden weeks

# (year, festival, make-up working days, (first, last) day of the holiday period)
GOLDEN_WEEKS = [
    (2023, "春节", ["2023-01-28", "2023-01-29"], ("2023-01-21", "2023-01-27")),
    (2024, "春节", ["2024-02-04", "2024-02-18"], ("2024-02-10", "2024-02-17")),
    (2025, "春节", ["2025-01-26", "2025-02-08"], ("2025-01-28", "2025-02-04")),
    (2026, "春节", ["2026-02-14", "2026-02-28"], ("2026-02-15", "2026-02-23")),
    (2023, "劳动节", ["2023-04-23", "2023-05-06"], ("2023-04-29", "2023-05-03")),
    (2024, "劳动节", ["2024-04-28", "2024-05-11"], ("2024-05-01", "2024-05-05")),
    (2025, "劳动节", ["2025-04-27"], ("2025-05-01", "2025-05-05")),
    (2026, "劳动节", ["2026-05-09"], ("2026-05-01", "2026-05-05")),
    (2023, "国庆节", ["2023-10-07", "2023-10-08"], ("2023-09-29", "2023-10-06")),
    (2024, "国庆节", ["2024-09-29", "2024-10-12"], ("2024-10-01", "2024-10-07")),
    (2025, "国庆节", ["2025-09-28", "2025-10-11"], ("2025-10-01", "2025-10-08")),
    (2026, "国庆节", ["2026-09-20", "2026-10-10"], ("2026-10-01", "2026-10-07")),
]


@pytest.mark.parametrize(("year", "festival", "make_up", "period"), GOLDEN_WEEKS)
def test_golden_weeks(
    cal: WorkCalendar, year: int, festival: str, make_up: list[str], period: tuple[str, str]
) -> None:
    served = [d for d in cal.make_up_days(year) if festival in (cal.make_up_for(d) or "")]
    assert [d.isoformat() for d in served] == make_up
    for d in served:
        assert d.weekday() >= 5
        assert cal.is_working_day(d)
        assert cal.is_make_up_day(d)
        assert cal.holiday_name(d) is None
    start, end = (date.fromisoformat(day) for day in period)
    assert cal.is_working_day(start - timedelta(days=1))
    assert cal.is_working_day(end + timedelta(days=1))
    names = set()
    day = start
    while day <= end:
        assert not cal.is_working_day(day)
        names.add(cal.holiday_name(day))
        day += timedelta(days=1)
    assert None not in names
    assert any(festival in name for name in names if name)


# --------------------------------------------------------------------------- stray dates


# Cross-year make-up days: ``holidays`` puts them in ``weekend_workdays`` whatever
# ``years=`` asks for. Each is genuine and belongs to the next year's New Year holiday.
CROSS_YEAR = [
    ("2001-12-29", "2002-01-02"),
    ("2001-12-30", "2002-01-03"),
    ("2005-12-31", "2006-01-03"),
    ("2006-12-30", "2007-01-02"),
    ("2006-12-31", "2007-01-03"),
    ("2011-12-31", "2012-01-03"),
]


@pytest.mark.parametrize(("worked", "off"), CROSS_YEAR)
def test_cross_year_make_up_days(cal: WorkCalendar, worked: str, off: str) -> None:
    assert cal.is_make_up_day(date.fromisoformat(worked))
    assert cal.is_working_day(date.fromisoformat(worked))
    assert cal.make_up_for(date.fromisoformat(worked)) == "元旦"
    assert cal.make_up_for(date.fromisoformat(worked), "en") == "New Year's Day"
    assert not cal.is_working_day(date.fromisoformat(off))


def test_every_holidays_weekend_workday_is_a_named_make_up_day(cal: WorkCalendar) -> None:
    from holidays.countries.china import China

    stray = China(years=2024).weekend_workdays  # one year asked for
    assert {d.isoformat() for d in stray if d.year != 2024} == {w for w, _ in CROSS_YEAR}
    every = China(years=range(2000, 2041)).weekend_workdays
    for day in every:
        assert cal.is_make_up_day(day)
        assert cal.make_up_for(day) is not None
    assert len([d for y in range(2000, 2041) for d in cal.make_up_days(y)]) == len(every)


# --------------------------------------------------------------------------- basics


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2024-09-27", True),  # Friday
        ("2024-09-28", False),  # ordinary Saturday
        ("2024-09-29", True),  # make-up Sunday
        ("2024-10-01", False),  # 国庆节
        ("2024-10-04", False),  # 调休 day off
        ("2024-10-07", False),
        ("2024-10-08", True),
        ("2024-10-12", True),  # make-up Saturday
    ],
)
def test_is_working_day(cal: WorkCalendar, day: str, working: bool) -> None:
    assert cal.is_working_day(date.fromisoformat(day)) is working


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        ("2024-09-27", 1, "2024-09-29"),
        ("2024-09-27", 2, "2024-09-30"),
        ("2024-09-27", 3, "2024-10-08"),
        ("2024-09-28", 1, "2024-09-29"),  # counted from a non-working day
        ("2024-09-30", 1, "2024-10-08"),
        ("2024-10-01", 0, "2024-10-08"),  # zero rolls forward
        ("2024-09-30", 0, "2024-09-30"),
        ("2024-10-08", -1, "2024-09-30"),
        ("2024-10-05", -1, "2024-09-30"),  # back from a non-working day
        ("2024-10-08", -3, "2024-09-27"),
        ("2024-10-13", -1, "2024-10-12"),
        ("2024-01-01", 250, "2024-12-30"),
    ],
)
def test_add_working_days(cal: WorkCalendar, day: str, n: int, expected: str) -> None:
    assert cal.add_working_days(date.fromisoformat(day), n) == date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("2024-09-27", "2024-09-27", 0),
        ("2024-09-27", "2024-09-30", 2),
        ("2024-09-27", "2024-10-08", 3),
        ("2024-10-08", "2024-09-27", -3),
        ("2024-10-01", "2024-10-07", 0),
        ("2024-09-30", "2024-10-08", 1),
        ("2024-01-01", "2024-12-31", 251),  # every working day of 2024; 1 January is off
        ("2023-12-31", "2024-12-31", 251),
    ],
)
def test_working_days_between(cal: WorkCalendar, a: str, b: str, expected: int) -> None:
    assert cal.working_days_between(date.fromisoformat(a), date.fromisoformat(b)) == expected


def test_working_day_index(cal: WorkCalendar) -> None:
    assert cal.working_day_index(date(2000, 1, 1)) == 0  # a Saturday
    assert cal.working_day_index(date(2000, 1, 4)) == 1  # 3 January was 补假 for 元旦
    assert cal.working_day_index(date(2024, 10, 7)) == cal.working_day_index(date(2024, 9, 30))
    assert cal.working_day_index(date(2024, 10, 8)) == cal.working_day_index(date(2024, 9, 30)) + 1


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.is_working_day(date(1999, 12, 31)),
        lambda c: c.is_working_day(date(2041, 1, 1)),
        lambda c: c.add_working_days(date(2040, 12, 28), 5),
        lambda c: c.add_working_days(date(2000, 1, 4), -2),
        lambda c: c.working_days_between(date(1999, 1, 1), date(2024, 1, 1)),
        lambda c: c.is_provisional(2041),
        lambda c: c.make_up_days(1999),
        lambda c: c.days_off(2041),
    ],
)
def test_outside_the_range(cal: WorkCalendar, call: object) -> None:
    with pytest.raises(CalendarError, match=r"supported calendar range 2000"):
        call(cal)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.is_working_day(datetime(2024, 1, 1, tzinfo=UTC)), "local_date"),
        (lambda c: c.is_working_day("2024-01-01"), "must be a datetime.date"),
        (lambda c: c.add_working_days(date(2024, 1, 1), 1.0), "whole number"),
        (lambda c: c.add_working_days(date(2024, 1, 1), True), "whole number"),
        (lambda c: c.is_provisional("2027"), "whole number"),
        (lambda c: c.holiday_name(date(2024, 1, 1), "fr"), "unknown language"),
        (lambda c: c.calendar_table(date(2024, 1, 2), date(2024, 1, 1)), "before start"),
        (lambda c: c.next_month_end(datetime(2024, 1, 1, tzinfo=UTC)), "datetime.date"),
        (lambda c: c.deadline(at(2024, 1, 1), 3), "unknown period"),
    ],
)
def test_bad_arguments(cal: WorkCalendar, call: object, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        call(cal)  # type: ignore[operator]


def test_names(cal: WorkCalendar) -> None:
    assert cal.holiday_name(date(2024, 10, 1)) == "国庆节"
    assert cal.holiday_name(date(2024, 10, 1), "en") == "National Day"
    assert cal.holiday_name(date(2024, 10, 4)) == "国庆节"  # a 调休 day off
    assert cal.holiday_name(date(2024, 10, 5)) == "国庆节"  # a weekend inside the period
    assert cal.holiday_name(date(2024, 9, 28)) is None  # an ordinary weekend
    assert cal.holiday_name(date(2024, 9, 29)) is None  # a make-up working day
    assert cal.holiday_name(date(2024, 9, 30)) is None
    assert cal.holiday_name(date(2024, 2, 13), "en") == "Chinese New Year (Spring Festival)"
    assert cal.holiday_name(date(2023, 9, 29)) == "中秋节"
    assert cal.holiday_name(date(2023, 10, 5)) == "中秋节、国庆节"
    assert cal.holiday_name(date(2023, 10, 5), "en") == "Mid-Autumn Festival; National Day"
    assert cal.holiday_name(date(2020, 10, 1)) == "中秋节、国庆节"  # one day, two festivals
    assert cal.holiday_name(date(2015, 9, 3), "en") is not None  # a one-off holiday
    assert cal.make_up_for(date(2024, 9, 30)) is None
    assert not cal.is_make_up_day(date(2024, 9, 28))


def test_days_off_and_make_up_days(cal: WorkCalendar) -> None:
    days_off = cal.days_off(2024)
    assert len(days_off) == 21
    assert date(2024, 10, 5) not in days_off  # weekends are not declared days off
    assert days_off[date(2024, 10, 4)] == "国庆节"
    assert cal.days_off(2024, lang="en")[date(2024, 1, 1)] == "New Year's Day"
    # 国务院办公厅关于2024年部分节假日安排的通知: the weekend days worked
    assert cal.make_up_days(2024) == [
        date(2024, 2, 4),
        date(2024, 2, 18),
        date(2024, 4, 7),
        date(2024, 4, 28),
        date(2024, 5, 11),
        date(2024, 9, 14),
        date(2024, 9, 29),
        date(2024, 10, 12),
    ]


def test_properties(cal: WorkCalendar) -> None:
    assert cal.tz == SHANGHAI
    assert cal.supported_range == (date(2000, 1, 1), date(2040, 12, 31))
    assert cal.official_years == frozenset(range(2001, 2027))
    assert cal.schedules == {}
    assert repr(cal) == "WorkCalendar(tz='Asia/Shanghai', years=2000..2040, official=2001..2026)"
    assert WorkCalendar.china() is WorkCalendar.china()
    assert WorkCalendar.china(tz="UTC").tz == ZoneInfo("UTC")
    with pytest.raises(CalendarError, match="unknown time zone"):
        WorkCalendar.china(tz="Mars/Olympus")


def test_next_month_end(cal: WorkCalendar) -> None:
    assert cal.next_month_end(date(2024, 1, 31)) == date(2024, 2, 29)
    assert cal.next_month_end(date(2024, 12, 1)) == date(2025, 1, 31)
    assert cal.next_month_end(date(2024, 10, 15)) == date(2024, 11, 30)  # a Saturday


def test_calendar_table(cal: WorkCalendar) -> None:
    rows = cal.calendar_table(date(2024, 9, 28), date(2024, 10, 1))
    assert [row.date for row in rows] == [date(2024, 9, 28) + timedelta(n) for n in range(4)]
    assert rows[1] == CalendarDay(
        date=date(2024, 9, 29),
        is_working_day=True,
        working_day_index=cal.working_day_index(date(2024, 9, 29)),
        holiday_name_zh=None,
        holiday_name_en=None,
        is_make_up_day=True,
        make_up_for_zh="国庆节",
        make_up_for_en="National Day",
        is_provisional=False,
    )
    records = cal.calendar_records(date(2024, 10, 1), date(2024, 10, 1))
    assert records == [
        {
            "date": date(2024, 10, 1),
            "is_working_day": False,
            "working_day_index": cal.working_day_index(date(2024, 9, 30)),
            "holiday_name_zh": "国庆节",
            "holiday_name_en": "National Day",
            "is_make_up_day": False,
            "make_up_for_zh": None,
            "make_up_for_en": None,
            "is_provisional": False,
        }
    ]
    assert cal.calendar_table(date(2027, 1, 1), date(2027, 1, 1))[0].is_provisional


# --------------------------------------------------------------------------- instants


def test_ensure_aware() -> None:
    aware = at(2024, 9, 27, 15, 30)
    assert ensure_aware(aware) is aware
    assert ensure_aware(datetime(2024, 9, 27, 15, 30), tz="Asia/Shanghai") == aware
    assert ensure_aware(datetime(2024, 9, 27, 7, 30), tz=UTC) == aware
    with pytest.raises(NaiveDatetimeError, match="no time zone"):
        ensure_aware(datetime(2024, 9, 27, 15, 30))
    with pytest.raises(NaiveDatetimeError, match="expected an aware datetime"):
        ensure_aware(date(2024, 9, 27))  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="unknown time zone"):
        ensure_aware(datetime(2024, 9, 27), tz="Nowhere/Here")


def test_local_date(cal: WorkCalendar) -> None:
    assert cal.local_date(datetime(2024, 9, 30, 16, 0, tzinfo=UTC)) == date(2024, 10, 1)
    assert cal.local_date(datetime(2024, 9, 30, 15, 59, tzinfo=UTC)) == date(2024, 9, 30)
    with pytest.raises(NaiveDatetimeError):
        cal.local_date(datetime(2024, 9, 30, 16, 0))


# --------------------------------------------------------------------------- deadlines


@pytest.mark.parametrize(
    ("start", "period", "last_day"),
    [
        # working days: the start day never counts; 29 September 2024 was worked
        (at(2024, 9, 27, 15, 30), WorkingDays(2), "2024-09-30"),
        (at(2024, 9, 27, 0, 0), WorkingDays(2), "2024-09-30"),
        (at(2024, 9, 27, 23, 59), WorkingDays(3), "2024-10-08"),
        (at(2024, 10, 1, 9, 0), WorkingDays(1), "2024-10-08"),
        (at(2024, 10, 1, 9, 0), WorkingDays(0), "2024-10-08"),
        (at(2024, 9, 30, 9, 0), WorkingDays(0), "2024-09-30"),
        # calendar days: a last day off rolls forward (民法典第二百零三条)
        (at(2024, 9, 27, 15, 30), CalendarDays(3), "2024-09-30"),
        (at(2024, 9, 27, 15, 30), CalendarDays(4), "2024-10-08"),
        (at(2024, 9, 27, 15, 30), CalendarDays(1), "2024-09-29"),  # Sat 28th rolls to Sun
        (at(2024, 9, 20, 15, 30), CalendarDays(1), "2024-09-23"),  # Sat 21st rolls to Mon
        (at(2024, 9, 29, 15, 30), CalendarDays(0), "2024-09-29"),
        # months: the corresponding day, or the month's last day (第二百零二条)
        (at(2024, 1, 31, 10, 0), Months(1), "2024-02-29"),
        (at(2024, 8, 31, 10, 0), Months(1), "2024-09-30"),
        (at(2024, 9, 1, 10, 0), Months(1), "2024-10-08"),
        (at(2024, 11, 15, 10, 0), Months(2), "2025-01-15"),
        (at(2024, 5, 10, 10, 0), Months(0), "2024-05-10"),
        # 次月底: a fixed date, not rolled
        (at(2024, 10, 10, 10, 0), EndOfNextMonth(), "2024-11-30"),
        (at(2024, 12, 31, 23, 0), EndOfNextMonth(), "2025-01-31"),
    ],
)
def test_day_based_deadlines(
    cal: WorkCalendar, start: datetime, period: WorkingDays, last_day: str
) -> None:
    deadline = cal.deadline(start, period)
    last = date.fromisoformat(last_day)
    assert deadline == Deadline(
        start=start,
        period=period,
        last_day=last,
        due=datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI),
        provisional=False,
    )


def test_start_is_read_in_the_calendar_zone(cal: WorkCalendar) -> None:
    # 17:00 UTC on 29 September is 01:00 on 30 September in Beijing.
    deadline = cal.deadline(datetime(2024, 9, 29, 17, 0, tzinfo=UTC), WorkingDays(1))
    assert deadline.last_day == date(2024, 10, 8)
    deadline = cal.deadline(datetime(2024, 9, 29, 15, 0, tzinfo=UTC), WorkingDays(1))
    assert deadline.last_day == date(2024, 9, 30)


def test_hours_deadline(cal: WorkCalendar) -> None:
    start = at(2024, 9, 30, 15, 30)
    deadline = cal.deadline(start, Hours(48))
    assert deadline.last_day is None
    assert deadline.due == at(2024, 10, 2, 15, 30)  # holidays do not stop the clock
    assert not deadline.provisional
    assert deadline.is_met_by(at(2024, 10, 2, 15, 30))  # exactly 48 hours: on time
    assert not deadline.is_met_by(at(2024, 10, 2, 15, 30, 0, 1))  # 超过48小时


def test_hours_across_a_dst_change_are_elapsed_hours() -> None:
    new_york = WorkCalendar.china(tz="America/New_York")
    start = datetime(2024, 3, 9, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    due = new_york.deadline(start, Hours(24)).due
    assert due.isoformat() == "2024-03-10T13:00:00-04:00"
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=24)


def test_deadline_boundaries(cal: WorkCalendar) -> None:
    deadline = cal.deadline(at(2024, 9, 27, 15, 30), WorkingDays(2))
    assert deadline.due == at(2024, 10, 1, 0, 0)  # 24:00 of 30 September
    assert deadline.is_met_by(at(2024, 9, 30, 23, 59, 59))
    assert deadline.is_met_by(at(2024, 10, 1, 0, 0))  # 24:00 itself is on time
    assert not deadline.is_met_by(at(2024, 10, 1, 0, 0, 0, 1))
    assert deadline.is_met_by(datetime(2024, 9, 30, 16, 0, tzinfo=UTC))  # same instant
    assert deadline.is_met_by(at(2024, 9, 1))  # early is on time
    with pytest.raises(NaiveDatetimeError):
        deadline.is_met_by(datetime(2024, 9, 30, 12, 0))


@pytest.mark.parametrize(
    ("event", "as_of", "expected"),
    [
        (at(2024, 9, 30, 12, 0), at(2024, 12, 1), False),
        (at(2024, 10, 1, 0, 0), at(2024, 12, 1), False),
        (at(2024, 10, 8, 9, 0), at(2024, 12, 1), True),
        (at(2024, 10, 8, 9, 0), at(2024, 9, 28), True),  # a late event is late, whenever
        (None, at(2024, 9, 30, 23, 0), None),  # pending
        (None, at(2024, 10, 1, 0, 0), None),  # still pending at 24:00
        (None, at(2024, 10, 1, 0, 0, 1), True),
    ],
)
def test_is_breached(
    cal: WorkCalendar, event: datetime | None, as_of: datetime, expected: bool | None
) -> None:
    deadline = cal.deadline(at(2024, 9, 27, 15, 30), WorkingDays(2))
    assert deadline.is_breached(event, as_of=as_of) is expected


def test_is_breached_refuses_naive_instants(cal: WorkCalendar) -> None:
    deadline = cal.deadline(at(2024, 9, 27, 15, 30), WorkingDays(2))
    with pytest.raises(NaiveDatetimeError):
        deadline.is_breached(None, as_of=datetime(2024, 10, 2))
    with pytest.raises(NaiveDatetimeError):
        deadline.is_breached(datetime(2024, 10, 2), as_of=at(2024, 10, 2))


def test_naive_start_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(NaiveDatetimeError, match="no time zone"):
        cal.deadline(datetime(2024, 9, 27, 15, 30), WorkingDays(2))


def test_deadline_outside_the_range(cal: WorkCalendar) -> None:
    with pytest.raises(CalendarError, match="supported calendar range"):
        cal.deadline(at(2040, 12, 20), CalendarDays(30))
    with pytest.raises(CalendarError, match="supported calendar range"):
        cal.deadline(at(2040, 12, 20), WorkingDays(30))


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("duration", "text", "unit"),
    [
        (WorkingDays(1), "1 working day", "working_days"),
        (WorkingDays(2), "2 working days", "working_days"),
        (CalendarDays(30), "30 calendar days", "calendar_days"),
        (Hours(1), "1 hour", "hours"),
        (Hours(48), "48 hours", "hours"),
        (Months(1), "1 month", "months"),
        (Months(6), "6 months", "months"),
        (EndOfNextMonth(), "end of next month", "end_of_next_month"),
    ],
)
def test_duration_text(duration: object, text: str, unit: str) -> None:
    assert str(duration) == text
    assert duration.unit == unit  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", [WorkingDays, CalendarDays, Hours, Months])
@pytest.mark.parametrize("bad", [-1, 1.5, True, "2", None])
def test_duration_validation(kind: type, bad: object) -> None:
    with pytest.raises(CalendarError, match=kind.__name__):
        kind(bad)


def test_durations_are_frozen_values() -> None:
    assert WorkingDays(2) == WorkingDays(n=2)
    assert WorkingDays(2) != CalendarDays(2)
    assert len({Hours(1), Hours(1), EndOfNextMonth(), EndOfNextMonth()}) == 2
    with pytest.raises(AttributeError):
        WorkingDays(2).n = 3  # type: ignore[misc]


# --------------------------------------------------------------------------- provisional


def test_2027_is_provisional(cal: WorkCalendar) -> None:
    assert cal.is_provisional(2027)
    assert cal.is_provisional(2040)
    assert cal.is_provisional(2000)  # holidays has no notice for 2000
    assert not cal.is_provisional(2001)
    assert not cal.is_provisional(2026)
    assert cal.make_up_days(2027) == []
    # computed by rule: statutory days and 补假 for those on a weekend
    assert not cal.is_working_day(date(2027, 10, 4))
    assert cal.holiday_name(date(2027, 10, 4)) == "国庆节"
    deadline = cal.deadline(at(2026, 12, 30, 15, 0), WorkingDays(2))
    assert deadline.provisional
    assert not cal.deadline(at(2026, 12, 1, 15, 0), WorkingDays(2)).provisional
    assert not cal.deadline(at(2026, 12, 30, 15, 0), Hours(72)).provisional
    assert not cal.deadline(at(2026, 12, 30, 15, 0), EndOfNextMonth()).provisional
    with pytest.raises(ProvisionalYearError, match="2027"):
        cal.deadline(at(2026, 12, 30, 15, 0), WorkingDays(2), strict=True)
    assert isinstance(ProvisionalYearError("x"), CalendarError)


# A made-up 2027 schedule in the shape of a State Council notice (not the real one).
SCHEDULE_2027 = {
    date(2027, 1, 1): "元旦",
    date(2027, 10, 1): "国庆节",
    date(2027, 10, 4): "国庆节",
    date(2027, 10, 5): "国庆节",
    date(2027, 10, 6): None,
    date(2027, 10, 7): None,
}


def test_with_schedule_makes_2027_official(cal: WorkCalendar) -> None:
    official = cal.with_schedule(
        2027,
        holidays=SCHEDULE_2027,
        workdays={date(2027, 9, 26): "国庆节", date(2027, 10, 9): None},
        notice="国办发明电〔2026〕XX号",
    )
    assert not official.is_provisional(2027)
    assert official.schedules[2027].notice == "国办发明电〔2026〕XX号"
    assert official.make_up_days(2027) == [date(2027, 9, 26), date(2027, 10, 9)]
    assert official.is_working_day(date(2027, 9, 26))
    assert official.make_up_for(date(2027, 9, 26), "en") == "National Day"
    assert official.make_up_for(date(2027, 10, 9)) is None
    assert not official.is_working_day(date(2027, 10, 7))
    assert official.holiday_name(date(2027, 10, 7)) == "国庆节"  # from its period
    assert official.holiday_name(date(2027, 10, 6), "en") == "National Day"
    # the schedule replaces the rule-computed year: Spring Festival is not listed here
    assert official.is_working_day(date(2027, 2, 8))
    assert official.holiday_name(date(2027, 2, 8)) is None
    assert official.days_off(2027) == {
        d: "元旦" if d.month == 1 else "国庆节" for d in SCHEDULE_2027
    }
    deadline = official.deadline(at(2026, 12, 30, 15, 0), WorkingDays(2))
    assert not deadline.provisional
    assert deadline.last_day == date(2027, 1, 4)
    # the original calendar is unchanged
    assert cal.is_provisional(2027)
    assert not cal.is_working_day(date(2027, 2, 8))
    assert "official=2001..2027" in repr(official)


def test_with_schedule_unnamed_dates_take_names_from_holidays(cal: WorkCalendar) -> None:
    official = cal.with_schedule(2027, holidays=[date(2027, 2, 6), date(2027, 3, 3)])
    assert official.holiday_name(date(2027, 2, 6)) == "春节"
    assert official.holiday_name(date(2027, 3, 3)) == "休息日"
    assert official.holiday_name(date(2027, 3, 3), "en") == "Day off"
    assert official.make_up_days(2027) == []


def test_with_schedule_replaces_an_official_year(cal: WorkCalendar) -> None:
    # Re-stating 2006 drops the make-up days of the 2006 notice, 2005-12-31 included.
    restated = cal.with_schedule(2006, holidays={date(2006, 1, 2): "元旦"})
    assert not restated.is_make_up_day(date(2005, 12, 31))
    assert not restated.is_working_day(date(2005, 12, 31))
    assert restated.is_working_day(date(2006, 1, 3))
    assert restated.is_make_up_day(date(2006, 12, 30))  # belongs to the 2007 notice
    stacked = restated.with_schedule(2027, holidays={}, workdays=[date(2027, 1, 2)])
    assert sorted(stacked.schedules) == [2006, 2027]
    assert "official=2001..2027" in repr(stacked)
    gap = cal.with_schedule(2030, holidays={})
    assert repr(gap).endswith("2024,2025,2026,2030)")


@pytest.mark.parametrize(
    ("year", "holidays", "workdays", "message"),
    [
        (1999, {}, [], "field 'year' must lie in the supported range"),
        ("2027", {}, [], "field 'year' must be a whole number"),
        (2027, {"2027-01-01": "元旦"}, [], "field 'holidays': '2027-01-01' is not a date"),
        (2027, {date(2027, 3, 1): 5}, [], "the name of 2027-03-01 must be text"),
        (2027, {date(2027, 3, 1): " "}, [], "the name of 2027-03-01 must be text"),
        (2027, {date(2026, 11, 30): "x"}, [], "lies outside 2026-12-01..2028-01-31"),
        (2027, {}, [date(2027, 9, 27)], "2027-09-27 is a Monday"),
        (2027, {date(2027, 9, 26): "x"}, [date(2027, 9, 26)], "2027-09-26 is listed twice"),
        (2027, "2027-01-01", [], "expected dates"),
        (2027, 5, [], "expected dates"),
    ],
)
def test_with_schedule_validation(
    cal: WorkCalendar, year: object, holidays: object, workdays: object, message: str
) -> None:
    with pytest.raises(CalendarError, match=message):
        cal.with_schedule(year, holidays=holidays, workdays=workdays)  # type: ignore[arg-type]


def test_schedule_file(cal: WorkCalendar, tmp_path: Path) -> None:
    file = tmp_path / "2027.yaml"
    file.write_text(
        "year: 2027\n"
        "notice: 国办发明电〔2026〕XX号\n"
        "holidays:\n"
        "  2027-10-01: 国庆节\n"
        "  2027-10-04: 国庆节\n"
        "  '2027-10-05': 国庆节\n"
        "workdays: [2027-09-26]\n",
        encoding="utf-8",
    )
    official = cal.with_schedule_file(file)
    assert not official.is_provisional(2027)
    assert official.is_make_up_day(date(2027, 9, 26))
    assert official.make_up_for(date(2027, 9, 26)) is None  # a list gives no festival
    assert not official.is_working_day(date(2027, 10, 5))
    assert official.schedules[2027].source == str(file)
    same = WorkCalendar.china(schedules=[file])
    assert same.days_off(2027) == official.days_off(2027)
    schedule = load_schedule(file)
    assert WorkCalendar.china(schedules=[schedule]).make_up_days(2027) == [date(2027, 9, 26)]
    assert isinstance(schedule, YearSchedule)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("year: [", "not valid YAML"),
        ("- 2027\n", "expected a mapping with the fields year, holidays and workdays"),
        ("", "expected a mapping"),
        ("year: 2027\nholidays: {}\nextra: 1\n", "bad.yaml:3: unknown field 'extra' "),
        (
            "year: 2027\nholiday: {}\n",
            "bad.yaml:2: unknown field 'holiday'; did you mean 'holidays'",
        ),
        ("holidays: {}\n", "field 'year' is missing"),
        ("year: 2027\n", "field 'holidays' is missing"),
        ("year: soon\nholidays: {}\n", "field 'year': expected a year"),
        ("year: 2027\nnotice: 5\nholidays: {}\n", "field 'notice': expected text"),
        ("year: 2027\nholidays: 2027-01-01\n", "field 'holidays': expected a list"),
        ("year: 2027\nholidays: [2027-02-30]\n", "field 'holidays': '2027-02-30' is not a date"),
        ("year: 2027\nholidays: [2027-01-01 10:00:00]\n", "field 'holidays'"),
        ("year: 2027\nholidays: [2027-01-01, '2027-01-01']\n", "2027-01-01 is listed twice"),
        ("year: 2027\nholidays: {2027-01-01: 元旦, 2027-01-01: 元旦}\n", "not valid YAML"),
        ("year: 2027\nholidays: {2027-01-01: [x]}\n", "the name of 2027-01-01 must be text"),
        ("year: 2027\nholidays: []\nworkdays: [2027-01-04]\n", "field 'workdays'"),
        ("year: 2027\nholidays: []\nworkdays: {2027-01-02: 5}\n", "must be text"),
    ],
)
def test_bad_schedule_files(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError, match=message) as caught:
        load_schedule(file)
    assert str(file) in str(caught.value)


def test_missing_schedule_file(cal: WorkCalendar, tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="cannot be read"):
        cal.with_schedule_file(tmp_path / "missing.yaml")


# --------------------------------------------------------------------------- snapshots


def snapshot(cal: WorkCalendar, year: int) -> dict[str, object]:
    return {
        "year": year,
        "provisional": cal.is_provisional(year),
        "days_off": {d.isoformat(): name for d, name in cal.days_off(year).items()},
        "make_up_days": {d.isoformat(): cal.make_up_for(d) for d in cal.make_up_days(year)},
    }


def render_snapshot(data: dict[str, object]) -> str:
    lines = [
        f"# Days off and make-up working days of {data['year']}, from holidays.China.",
        "# Generated by tests/test_calendar.py (VBP_UPDATE_SNAPSHOTS=1 rewrites it); when",
        "# the holidays package moves, review this file's diff against the State Council",
        "# notice before committing it.",
        f"year: {data['year']}",
        f"provisional: {str(data['provisional']).lower()}",
    ]
    for key in ("days_off", "make_up_days"):
        entries = data[key]
        assert isinstance(entries, dict)
        lines.append(f"{key}:" + ("" if entries else " {}"))
        lines.extend(f"  '{day}': {name}" for day, name in entries.items())
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("year", range(2019, 2027))
def test_snapshot(cal: WorkCalendar, year: int) -> None:
    file = SNAPSHOTS / f"{year}.yaml"
    current = snapshot(cal, year)
    stored = (
        YAML(typ="safe", pure=True).load(file.read_text(encoding="utf-8"))
        if file.exists()
        else None
    )
    if stored != current and os.environ.get("VBP_UPDATE_SNAPSHOTS") == "1":  # pragma: no cover
        # maintenance: rewrite, and still fail, so the diff is reviewed before it passes
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(render_snapshot(current), encoding="utf-8")
        pytest.fail(f"{file.name} rewritten: review its diff, then run the tests again")
    assert stored == current


def test_snapshot_renders_what_it_reads(cal: WorkCalendar) -> None:
    current = snapshot(cal, 2024)
    assert YAML(typ="safe", pure=True).load(render_snapshot(current)) == current
    empty = snapshot(cal, 2027)
    assert "make_up_days: {}" in render_snapshot(empty)


def test_timezone_objects_are_accepted() -> None:
    assert ensure_aware(datetime(2024, 1, 1), tz=timezone(timedelta(hours=8))).utcoffset() == (
        timedelta(hours=8)
    )

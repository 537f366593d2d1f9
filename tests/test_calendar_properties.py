"""Properties of vbp_rules.calendar that hold for every day and count (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vbp_rules.calendar import (
    CalendarDays,
    Duration,
    EndOfNextMonth,
    Hours,
    Months,
    WorkCalendar,
    WorkingDays,
    ensure_aware,
)
from vbp_rules.errors import NaiveDatetimeError

CAL = WorkCalendar.china()

# Days far enough from the range's ends (2000..2040) that two counts of up to 500
# working days (about four years together) never leave it.
days = st.dates(min_value=date(2006, 1, 1), max_value=date(2035, 12, 31))
counts = st.integers(min_value=1, max_value=500)
signed_counts = st.integers(min_value=-500, max_value=500)
zones = st.sampled_from(
    [ZoneInfo("Asia/Shanghai"), ZoneInfo("UTC"), ZoneInfo("America/New_York"), UTC]
)
instants = st.datetimes(
    min_value=datetime(2003, 1, 1), max_value=datetime(2038, 12, 31), timezones=zones
)
naive_instants = st.datetimes(min_value=datetime(2003, 1, 1), max_value=datetime(2038, 12, 31))
day_periods: st.SearchStrategy[Duration] = st.one_of(
    st.builds(WorkingDays, counts),
    st.builds(CalendarDays, st.integers(min_value=0, max_value=400)),
    st.builds(Months, st.integers(min_value=0, max_value=24)),
)
periods: st.SearchStrategy[Duration] = st.one_of(
    day_periods,
    st.builds(Hours, st.integers(min_value=0, max_value=10_000)),
    st.just(EndOfNextMonth()),
)


@given(days, signed_counts)
def test_results_are_working_days(d: date, n: int) -> None:
    assert CAL.is_working_day(CAL.add_working_days(d, n))


@given(days, counts)
def test_strictly_increasing_in_n(d: date, n: int) -> None:
    assert CAL.add_working_days(d, n) < CAL.add_working_days(d, n + 1)
    assert d < CAL.add_working_days(d, 1)
    assert CAL.add_working_days(d, -n) > CAL.add_working_days(d, -n - 1)
    assert CAL.add_working_days(d, -1) < d


@given(days, counts, counts)
def test_adding_composes(d: date, a: int, b: int) -> None:
    assert CAL.add_working_days(CAL.add_working_days(d, a), b) == CAL.add_working_days(d, a + b)
    assert CAL.add_working_days(CAL.add_working_days(d, -a), -b) == CAL.add_working_days(d, -a - b)


@given(days, signed_counts, signed_counts)
def test_adding_composes_with_mixed_signs_from_a_working_day(d: date, a: int, b: int) -> None:
    start = CAL.add_working_days(d, 0)  # a working day
    assert CAL.add_working_days(CAL.add_working_days(start, a), b) == CAL.add_working_days(
        start, a + b
    )


@given(days)
def test_zero_rolls_forward(d: date) -> None:
    rolled = CAL.add_working_days(d, 0)
    assert rolled == (d if CAL.is_working_day(d) else CAL.add_working_days(d, 1))
    assert rolled == CAL.roll_forward(d)


@given(days, counts)
def test_agrees_with_working_days_between(d: date, n: int) -> None:
    forward = CAL.add_working_days(d, n)
    assert CAL.working_days_between(d, forward) == n
    assert CAL.working_days_between(forward, d) == -n
    start = CAL.add_working_days(d, 0)
    assert CAL.working_days_between(start, CAL.add_working_days(start, -n)) == -n


@given(days, days)
def test_between_is_a_difference_of_indexes(a: date, b: date) -> None:
    count = CAL.working_days_between(a, b)
    assert count == CAL.working_day_index(b) - CAL.working_day_index(a)
    assert count == -CAL.working_days_between(b, a)
    if a <= b:
        walked = sum(CAL.is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))
        assert count == walked


@given(days)
def test_index_steps_on_working_days(d: date) -> None:
    step = CAL.working_day_index(d) - CAL.working_day_index(d - timedelta(days=1))
    assert step == int(CAL.is_working_day(d))


@given(instants, day_periods)
def test_day_based_deadlines_end_on_a_working_day(start: datetime, period: Duration) -> None:
    deadline = CAL.deadline(start, period)
    assert deadline.last_day is not None
    assert CAL.is_working_day(deadline.last_day)
    assert deadline.last_day > CAL.local_date(start) or (
        period.n == 0  # type: ignore[union-attr]
    )
    assert deadline.due == datetime.combine(
        deadline.last_day + timedelta(days=1), datetime.min.time(), tzinfo=CAL.tz
    )
    assert deadline.is_met_by(deadline.due)
    assert not deadline.is_met_by(deadline.due + timedelta(microseconds=1))


@given(instants, st.integers(min_value=0, max_value=10_000))
def test_hours_deadlines_are_exact(start: datetime, n: int) -> None:
    deadline = CAL.deadline(start, Hours(n))
    assert deadline.due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=n)
    assert deadline.last_day is None
    exactly = start.astimezone(UTC) + timedelta(hours=n)  # elapsed, not wall-clock, hours
    assert deadline.is_met_by(exactly)
    assert not deadline.is_met_by(exactly + timedelta(microseconds=1))


@given(instants)
def test_end_of_next_month_is_the_next_month_end(start: datetime) -> None:
    deadline = CAL.deadline(start, EndOfNextMonth())
    last = deadline.last_day
    assert last is not None
    assert (last + timedelta(days=1)).day == 1
    local = CAL.local_date(start)
    assert (last.year * 12 + last.month) - (local.year * 12 + local.month) == 1


@given(naive_instants, periods)
def test_naive_datetimes_always_raise(naive: datetime, period: Duration) -> None:
    with pytest.raises(NaiveDatetimeError):
        CAL.deadline(naive, period)
    with pytest.raises(NaiveDatetimeError):
        CAL.local_date(naive)
    with pytest.raises(NaiveDatetimeError):
        ensure_aware(naive)
    deadline = CAL.deadline(naive.replace(tzinfo=UTC), period)
    with pytest.raises(NaiveDatetimeError):
        deadline.is_met_by(naive)
    with pytest.raises(NaiveDatetimeError):
        deadline.is_breached(None, as_of=naive)


@given(instants, periods, instants)
def test_breach_agrees_with_is_met_by(start: datetime, period: Duration, event: datetime) -> None:
    deadline = CAL.deadline(start, period)
    assert deadline.is_breached(event, as_of=event) is (not deadline.is_met_by(event))
    pending = deadline.is_breached(None, as_of=event)
    assert pending is (True if not deadline.is_met_by(event) else None)

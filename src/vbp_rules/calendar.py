"""Working days in mainland China, and deadlines counted in them.

A working day is a Monday to Friday that is not a day off of the State Council's yearly
holiday schedule, or a weekend day that the schedule makes a make-up working day (调休上班).
The schedule comes from ``holidays.China`` (statutory days, 调休 days off and
``weekend_workdays``); nothing is typed by hand here. Years the ``holidays`` data has no
official schedule for are *provisional*: computed by rule (statutory days and 补假 for
statutory days on weekends, no make-up days) and flagged, until a release or
:meth:`WorkCalendar.with_schedule` brings the official schedule.

Deadlines follow the Civil Code (《民法典》第二百零一条至第二百零四条): see
:meth:`WorkCalendar.deadline`.

>>> from datetime import date
>>> cal = WorkCalendar.china()
>>> cal.is_working_day(date(2024, 9, 29))  # a Sunday worked for National Day
True
>>> cal.add_working_days(date(2024, 9, 27), 2)
datetime.date(2024, 9, 30)
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import ClassVar, Literal, TypeAlias
from zoneinfo import ZoneInfo

import attrs

from vbp_rules import _calendar_data as _data
from vbp_rules.errors import (
    CalendarError,
    NaiveDatetimeError,
    ProvisionalYearError,
    VbpRulesError,
)

__all__ = [
    "CalendarDay",
    "CalendarDays",
    "Deadline",
    "Duration",
    "EndOfNextMonth",
    "Hours",
    "Language",
    "Months",
    "WorkCalendar",
    "WorkingDays",
    "YearSchedule",
    "add_months",
    "ensure_aware",
    "load_schedule",
    "month_end",
]

Language: TypeAlias = Literal["zh", "en"]
_UTC = _dt.UTC


# --------------------------------------------------------------------------- months


def add_months(d: date, n: int) -> date:
    """The corresponding day ``n`` months on, or that month's last day (民法典第二百零二条).

    >>> add_months(date(2024, 1, 31), 1), add_months(date(2024, 12, 31), 2)
    (datetime.date(2024, 2, 29), datetime.date(2025, 2, 28))
    """
    try:
        return _data.add_months(d, n)
    except (OverflowError, ValueError) as exc:
        raise CalendarError(f"{d} plus {n} months is out of range ({exc})") from None


def month_end(d: date) -> date:
    """The last day of ``d``'s month.

    >>> month_end(date(2024, 2, 10))
    datetime.date(2024, 2, 29)
    """
    return _data.month_end(d.year, d.month)


# --------------------------------------------------------------------------- durations


@attrs.frozen(slots=True)
class WorkingDays:
    """A period of ``n`` working days (工作日).

    >>> str(WorkingDays(2)), WorkingDays(2).unit
    ('2 working days', 'working_days')
    """

    n: int = attrs.field(validator=_data.check_count)
    unit: ClassVar[str] = "working_days"

    def __str__(self) -> str:
        return _data.plural(self.n, "working day")


@attrs.frozen(slots=True)
class CalendarDays:
    """A period of ``n`` calendar days (日／自然日).

    >>> str(CalendarDays(1)), CalendarDays(1).unit
    ('1 calendar day', 'calendar_days')
    """

    n: int = attrs.field(validator=_data.check_count)
    unit: ClassVar[str] = "calendar_days"

    def __str__(self) -> str:
        return _data.plural(self.n, "calendar day")


@attrs.frozen(slots=True)
class Hours:
    """A period of ``n`` whole clock hours (小时), counted from the exact instant.

    >>> str(Hours(48)), Hours(48).unit
    ('48 hours', 'hours')
    """

    n: int = attrs.field(validator=_data.check_count)
    unit: ClassVar[str] = "hours"

    def __str__(self) -> str:
        return _data.plural(self.n, "hour")


@attrs.frozen(slots=True)
class Months:
    """A period of ``n`` months (个月), ending on the corresponding day (民法典第二百零二条).

    >>> str(Months(3)), Months(3).unit
    ('3 months', 'months')
    """

    n: int = attrs.field(validator=_data.check_count)
    unit: ClassVar[str] = "months"

    def __str__(self) -> str:
        return _data.plural(self.n, "month")


@attrs.frozen(slots=True)
class EndOfNextMonth:
    """The fixed date "end of next month" (次月底): the last day of the following month.

    >>> str(EndOfNextMonth()), EndOfNextMonth().unit
    ('end of next month', 'end_of_next_month')
    """

    unit: ClassVar[str] = "end_of_next_month"

    def __str__(self) -> str:
        return "end of next month"


Duration: TypeAlias = WorkingDays | CalendarDays | Hours | Months | EndOfNextMonth


# --------------------------------------------------------------------------- instants


def ensure_aware(dt: datetime, *, tz: str | tzinfo | None = None) -> datetime:
    """Return ``dt`` as an aware datetime, or refuse a naive one.

    Args:
        dt: a datetime; if it is aware it is returned unchanged.
        tz: the zone to read a naive ``dt`` in (a zone name or a ``tzinfo``).

    Returns:
        An aware datetime denoting one instant.

    Raises:
        NaiveDatetimeError: ``dt`` is naive and no ``tz`` was given, or ``dt`` is not a
            datetime at all.
        CalendarError: ``tz`` names no known time zone.

    >>> ensure_aware(datetime(2024, 9, 27, 15, 30), tz="Asia/Shanghai").isoformat()
    '2024-09-27T15:30:00+08:00'
    >>> ensure_aware(datetime(2024, 9, 27, 15, 30))
    Traceback (most recent call last):
    ...
    vbp_rules.errors.NaiveDatetimeError: naive datetime 2024-09-27T15:30:00 ...
    """
    if not isinstance(dt, datetime):
        raise NaiveDatetimeError(
            f"expected an aware datetime, got {type(dt).__name__} {dt!r}; "
            "give a time and a zone, e.g. 2024-09-27T15:30+08:00"
        )
    if _data.is_aware(dt):
        return dt
    if tz is None:
        raise NaiveDatetimeError(
            f"naive datetime {dt.isoformat()} has no time zone: pass an aware datetime "
            "(e.g. 2024-09-27T15:30+08:00) or name the zone (tz='Asia/Shanghai')"
        )
    return dt.replace(tzinfo=_data.zone(tz))


# --------------------------------------------------------------------------- schedules


@attrs.frozen(slots=True, kw_only=True)
class YearSchedule:
    """The official holiday schedule of one year, as the State Council's notice gives it.

    Attributes:
        year: the year of the notice (e.g. 2027 for 国务院办公厅关于2027年部分节假日安排的通知).
        holidays: every declared day off of the year (statutory days, 调休 days off, 补假),
            each with its festival name in Chinese, or ``None`` to take the name from the
            ``holidays`` data or from the holiday period it lies in. Ordinary weekends need
            not be listed.
        workdays: the make-up working days (调休上班), each a Saturday or Sunday, with the
            festival they serve or ``None``.
        notice: the notice's citation (文号), if known.
        source: the file it was read from, if any (used in error messages).

    Dates may lie in December of the year before or January of the year after (a New
    Year swap such as 2005-12-31 worked for the 2006 New Year).

    Raises:
        CalendarError: a field is malformed; the message names the field (and the file).

    >>> s = YearSchedule(year=2027, holidays={date(2027, 1, 1): "元旦"}, workdays=[])
    >>> s.holidays
    ((datetime.date(2027, 1, 1), '元旦'),)
    """

    year: int
    holidays: tuple[tuple[date, str | None], ...] = attrs.field(converter=_data.named_dates)
    workdays: tuple[tuple[date, str | None], ...] = attrs.field(
        default=(), converter=_data.named_dates
    )
    notice: str | None = None
    source: str | None = None

    def __attrs_post_init__(self) -> None:
        _data.check_schedule(
            self.year, holidays=self.holidays, workdays=self.workdays, source=self.source
        )


def load_schedule(path: str | os.PathLike[str]) -> YearSchedule:
    """Read one year's official schedule from a small YAML file.

    The file has ``year``, ``holidays`` (a mapping of date to festival name, or a list
    of dates), ``workdays`` (a list of make-up working days, or a mapping of date to the
    festival served) and an optional ``notice`` (the notice's citation)::

        year: 2027
        notice: 国办发明电〔2026〕XX号
        holidays: {2027-01-01: 元旦, 2027-02-06: 春节}
        workdays: [2027-02-20]

    Args:
        path: the YAML file.

    Returns:
        The schedule, validated.

    Raises:
        CalendarError: the file cannot be read, is not YAML, or a field is wrong; the
            message names the file and the field.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     file = pathlib.Path(folder, "2027.yaml")
    ...     _ = file.write_text("year: 2027\\nholidays: {2027-01-01: 元旦}\\nworkdays: []\\n")
    ...     load_schedule(file).holidays
    ((datetime.date(2027, 1, 1), '元旦'),)
    """
    fields = _data.read_schedule_file(Path(path))
    return YearSchedule(**fields)


# --------------------------------------------------------------------------- rows


@attrs.frozen(slots=True, kw_only=True)
class CalendarDay:
    """One row of :meth:`WorkCalendar.calendar_table`.

    Attributes:
        date: the day.
        is_working_day: whether it is a working day.
        working_day_index: :meth:`WorkCalendar.working_day_index` of the day.
        holiday_name_zh: festival name of a day off in a holiday period (else ``None``).
        holiday_name_en: the same in English.
        is_make_up_day: whether it is a make-up working day (调休上班).
        make_up_for_zh: the festival a make-up day serves, when known.
        make_up_for_en: the same in English.
        is_provisional: whether its year is provisional.
    """

    date: _dt.date
    is_working_day: bool
    working_day_index: int
    holiday_name_zh: str | None
    holiday_name_en: str | None
    is_make_up_day: bool
    make_up_for_zh: str | None
    make_up_for_en: str | None
    is_provisional: bool

    def to_dict(self) -> dict[str, object]:
        """The row as a plain dict (for data frames and JSON).

        Returns:
            A dict keyed by field name; the date stays a ``datetime.date``.

        >>> row = WorkCalendar.china().calendar_table(date(2024, 10, 1), date(2024, 10, 1))[0]
        >>> row.to_dict()["holiday_name_en"]
        'National Day'
        """
        return attrs.asdict(self)


# --------------------------------------------------------------------------- deadlines


def _utc(value: datetime) -> datetime:
    return value.astimezone(_UTC)


@attrs.frozen(slots=True, kw_only=True)
class Deadline:
    """When a period that starts at an instant ends (see :meth:`WorkCalendar.deadline`).

    Attributes:
        start: the instant the period runs from (aware).
        period: the period.
        last_day: the period's last day (in the calendar's zone); ``None`` for hours.
        due: the instant the period ends, in the calendar's zone; for day-based periods
            00:00 of the day after ``last_day``, which is 24:00 of ``last_day``.
        provisional: the result depends on a provisional (unofficial) calendar year.
    """

    start: datetime
    period: Duration
    last_day: date | None
    due: datetime
    provisional: bool

    def is_met_by(self, event: datetime) -> bool:
        """Whether an event at ``event`` is on time: ``event <= due`` (inclusive).

        An event at exactly 24:00 of the last day (00:00 of the next day) is on time, and
        so is one exactly N hours after the start of an N-hour period: "超过48小时" is
        late only past the 48th hour.

        Args:
            event: the instant of the event (aware).

        Returns:
            True if on time.

        Raises:
            NaiveDatetimeError: ``event`` is naive.

        >>> cal = WorkCalendar.china()
        >>> start = datetime(2024, 9, 27, 15, 30, tzinfo=cal.tz)
        >>> d = cal.deadline(start, Hours(48))
        >>> d.is_met_by(start + timedelta(hours=48)), d.is_met_by(start + timedelta(hours=49))
        (True, False)
        """
        return _utc(ensure_aware(event)) <= _utc(self.due)

    def is_breached(self, event: datetime | None, *, as_of: datetime) -> bool | None:
        """Whether the deadline is breached, judged at ``as_of``.

        Args:
            event: the instant the obligation was met, or ``None`` if it has not been.
            as_of: the instant of judgement (aware; nothing reads the clock).

        Returns:
            True for a late event, or for no event once ``as_of`` is past ``due``; False
            for an event on time; ``None`` ("pending") for no event while ``as_of <= due``.

        Raises:
            NaiveDatetimeError: ``event`` or ``as_of`` is naive.

        >>> cal = WorkCalendar.china()
        >>> d = cal.deadline(datetime(2024, 9, 27, 15, 30, tzinfo=cal.tz), WorkingDays(2))
        >>> print(d.is_breached(None, as_of=datetime(2024, 9, 30, 23, 0, tzinfo=cal.tz)))
        None
        >>> d.is_breached(None, as_of=datetime(2024, 10, 1, 0, 1, tzinfo=cal.tz))
        True
        """
        judged_at = _utc(ensure_aware(as_of))
        if event is not None:
            return not self.is_met_by(event)
        if judged_at > _utc(self.due):
            return True
        return None


# --------------------------------------------------------------------------- calendar


@functools.cache
def _base_tables() -> _data.Tables:
    return _data.build_tables(_data.base_facts())


@functools.lru_cache(maxsize=16)
def _china(tz: str) -> WorkCalendar:
    return WorkCalendar(
        tz=_data.zoneinfo(tz), facts=_data.base_facts(), tables=_base_tables(), schedules={}
    )


class WorkCalendar:
    """The mainland-China working-day calendar; build it with :meth:`china`.

    Immutable: :meth:`with_schedule` returns a new calendar. Every lookup is an index into
    tables precomputed for the supported years (2000..2040); no query walks day by day.
    """

    __slots__ = ("_facts", "_schedules", "_tables", "_tz")

    def __init__(
        self,
        *,
        tz: ZoneInfo,
        facts: _data.Facts,
        tables: _data.Tables,
        schedules: Mapping[int, YearSchedule],
    ) -> None:
        """Private: use :meth:`china`.

        >>> WorkCalendar.china().tz
        zoneinfo.ZoneInfo(key='Asia/Shanghai')
        """
        self._tz = tz
        self._facts = facts
        self._tables = tables
        self._schedules = dict(schedules)

    # ---------------------------------------------------------------- construction

    @classmethod
    def china(
        cls,
        *,
        tz: str = "Asia/Shanghai",
        schedules: Iterable[YearSchedule | str | os.PathLike[str]] = (),
    ) -> WorkCalendar:
        """The mainland-China calendar (cached: calls without schedules share one object).

        Args:
            tz: the zone in which instants are turned into calendar days.
            schedules: official schedules to add, as :class:`YearSchedule` values or
                paths of schedule YAML files (see :func:`load_schedule`).

        Returns:
            The calendar.

        Raises:
            CalendarError: unknown zone, or a bad schedule.

        >>> WorkCalendar.china() is WorkCalendar.china()
        True
        >>> WorkCalendar.china().is_provisional(2027)
        True
        """
        base = _china(tz)
        loaded = [
            item if isinstance(item, YearSchedule) else load_schedule(item) for item in schedules
        ]
        return base._with_schedules(loaded) if loaded else base

    def _with_schedules(self, schedules: Iterable[YearSchedule]) -> WorkCalendar:
        merged = dict(self._schedules)
        merged.update((schedule.year, schedule) for schedule in schedules)
        facts = _data.apply_schedules(
            _data.base_facts(), {year: (s.holidays, s.workdays) for year, s in merged.items()}
        )
        return WorkCalendar(
            tz=self._tz, facts=facts, tables=_data.build_tables(facts), schedules=merged
        )

    def with_schedule(
        self,
        year: int,
        *,
        holidays: Mapping[date, str] | Mapping[date, str | None] | Iterable[date],
        workdays: Mapping[date, str] | Mapping[date, str | None] | Iterable[date] = (),
        notice: str | None = None,
    ) -> WorkCalendar:
        """A new calendar in which ``year`` follows the given official schedule.

        The schedule replaces everything the calendar knew for that year: its declared
        days off, and the make-up days of that year's notice. The year stops being
        provisional.

        Args:
            year: the year of the notice.
            holidays: every declared day off (mapping of date to festival name, or dates).
            workdays: the make-up working days (Saturdays or Sundays).
            notice: the notice's citation, kept with the schedule.

        Returns:
            The new calendar.

        Raises:
            CalendarError: a malformed schedule (see :class:`YearSchedule`).

        >>> cal = WorkCalendar.china().with_schedule(
        ...     2027, holidays={date(2027, 10, 1): "国庆节"}, workdays=[date(2027, 9, 26)]
        ... )
        >>> cal.is_provisional(2027), cal.is_working_day(date(2027, 9, 26))
        (False, True)
        """
        schedule = YearSchedule(year=year, holidays=holidays, workdays=workdays, notice=notice)
        return self._with_schedules([schedule])

    def with_schedule_file(self, path: str | os.PathLike[str]) -> WorkCalendar:
        """A new calendar with the schedule read from a YAML file (see :func:`load_schedule`).

        Args:
            path: the schedule file.

        Returns:
            The new calendar.

        Raises:
            CalendarError: the file is unreadable or malformed (the message names the file
                and the field).

        >>> WorkCalendar.china().with_schedule_file("no/such/file.yaml")
        Traceback (most recent call last):
        ...
        vbp_rules.errors.CalendarError: schedule file no/such/file.yaml: cannot be read ...
        """
        return self._with_schedules([load_schedule(path)])

    # ---------------------------------------------------------------- properties

    @property
    def tz(self) -> ZoneInfo:
        """The zone in which instants become calendar days.

        >>> str(WorkCalendar.china().tz)
        'Asia/Shanghai'
        """
        return self._tz

    @property
    def supported_range(self) -> tuple[date, date]:
        """The first and last day the calendar answers for (both included).

        >>> WorkCalendar.china().supported_range
        (datetime.date(2000, 1, 1), datetime.date(2040, 12, 31))
        """
        return _data.EPOCH, _data.LAST_DATE

    @property
    def official_years(self) -> frozenset[int]:
        """Years that follow an official State Council schedule (data or user-given).

        >>> 2026 in WorkCalendar.china().official_years
        True
        """
        return self._facts.official_years

    @property
    def schedules(self) -> Mapping[int, YearSchedule]:
        """The schedules added with :meth:`with_schedule` and friends, by year.

        >>> dict(WorkCalendar.china().schedules)
        {}
        """
        return dict(self._schedules)

    def __repr__(self) -> str:
        """Show the zone and the official years.

        >>> WorkCalendar.china()
        WorkCalendar(tz='Asia/Shanghai', years=2000..2040, official=2001..2026)
        """
        official = sorted(self._facts.official_years)
        span = f"{official[0]}..{official[-1]}" if official else "none"
        if official and len(official) != official[-1] - official[0] + 1:
            span = ",".join(str(year) for year in official)
        return (
            f"WorkCalendar(tz={str(self._tz)!r}, years={_data.FIRST_YEAR}..{_data.LAST_YEAR}, "
            f"official={span})"
        )

    # ---------------------------------------------------------------- lookups

    def _offset(self, day: object, what: str = "date") -> int:
        checked = _data.as_date(day, what)
        offset = checked.toordinal() - _data.EPOCH_ORDINAL
        if not 0 <= offset < _data.DAY_COUNT:
            raise CalendarError(self._range_message(checked))
        return offset

    @staticmethod
    def _range_message(day: object) -> str:
        return f"{day} is outside the supported calendar range {_data.EPOCH}..{_data.LAST_DATE}"

    def _check_year(self, year: int) -> None:
        if isinstance(year, bool) or not isinstance(year, int):
            raise CalendarError(f"year must be a whole number, got {year!r}")
        if not _data.FIRST_YEAR <= year <= _data.LAST_YEAR:
            raise CalendarError(
                f"year {year} is outside the supported calendar range "
                f"{_data.FIRST_YEAR}..{_data.LAST_YEAR}"
            )

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day.

        False on declared days off and on weekends that are not make-up working days; True
        on other weekdays and on make-up working days.

        Args:
            d: the day.

        Returns:
            True for a working day.

        Raises:
            CalendarError: ``d`` is outside the supported range or not a date.

        >>> cal = WorkCalendar.china()
        >>> cal.is_working_day(date(2024, 10, 1)), cal.is_working_day(date(2024, 9, 29))
        (False, True)
        """
        return bool(self._tables.working[self._offset(d)])

    def is_make_up_day(self, d: date) -> bool:
        """Whether ``d`` is a make-up working day (a weekend day worked, 调休上班).

        Args:
            d: the day.

        Returns:
            True for a make-up working day.

        Raises:
            CalendarError: ``d`` is outside the supported range or not a date.

        >>> WorkCalendar.china().is_make_up_day(date(2024, 9, 29))
        True
        """
        self._offset(d)
        return d in self._facts.make_up

    def is_provisional(self, year: int) -> bool:
        """Whether ``year`` is computed by rule because no official schedule is known.

        Args:
            year: the year.

        Returns:
            True for a provisional year.

        Raises:
            CalendarError: ``year`` is outside the supported range.

        >>> cal = WorkCalendar.china()
        >>> cal.is_provisional(2026), cal.is_provisional(2027)
        (False, True)
        """
        self._check_year(year)
        return year not in self._facts.official_years

    def holiday_name(self, d: date, lang: Language = "zh") -> str | None:
        """The festival a day off belongs to, or ``None`` for other days.

        Days off of a holiday period, weekend days inside it included, carry the names
        of the festivals in that period (a 调休 day off in the National Day week is
        "国庆节"); working days, make-up days and ordinary weekends carry ``None``.

        Args:
            d: the day.
            lang: ``"zh"`` (Chinese, as the notices write it) or ``"en"``.

        Returns:
            The name, or ``None``.

        Raises:
            CalendarError: bad ``lang``, or ``d`` outside the supported range.

        >>> cal = WorkCalendar.china()
        >>> cal.holiday_name(date(2024, 10, 5)), cal.holiday_name(date(2024, 10, 5), "en")
        ('国庆节', 'National Day')
        """
        self._offset(d)
        names = self._tables.names_zh if self._lang(lang) == "zh" else self._tables.names_en
        return names.get(d)

    def make_up_for(self, d: date, lang: Language = "zh") -> str | None:
        """The festival a make-up working day serves, or ``None``.

        Args:
            d: the day.
            lang: ``"zh"`` or ``"en"``.

        Returns:
            The festival name; ``None`` if ``d`` is not a make-up day or nothing names it.

        Raises:
            CalendarError: bad ``lang``, or ``d`` outside the supported range.

        >>> WorkCalendar.china().make_up_for(date(2024, 9, 29), "en")
        'National Day'
        """
        self._offset(d)
        names = self._tables.make_up_zh if self._lang(lang) == "zh" else self._tables.make_up_en
        return names.get(d)

    @staticmethod
    def _lang(lang: str) -> str:
        if lang not in ("zh", "en"):
            raise CalendarError(f"unknown language {lang!r} (expected 'zh' or 'en')")
        return lang

    def day_arrays(self) -> tuple[date, bytes, tuple[int, ...], tuple[int, ...]]:
        """The supported range as arrays, for data-frame joins (the frame engine's day table).

        Returns:
            ``(first_day, working, cum, positions)``: ``working[i]`` is 1 when day
            ``first_day + i`` is a working day, ``cum[i]`` is :meth:`working_day_index` of
            that day, and ``positions[k]`` is the offset of the ``(k + 1)``-th working day.

        >>> first, working, cum, positions = WorkCalendar.china().day_arrays()
        >>> first, working[0], cum[0], positions[0]
        (datetime.date(2000, 1, 1), 0, 0, 3)
        """
        t = self._tables
        return _data.EPOCH, bytes(t.working), tuple(t.cum), tuple(t.positions)

    def working_day_index(self, d: date) -> int:
        """The number of working days from 2000-01-01 up to and including ``d``.

        Differences of indexes count working days: the index is the column a data frame
        can join on to do working-day arithmetic with integers.

        Args:
            d: the day.

        Returns:
            The running index (equal on a non-working day to that of the working day
            before it).

        Raises:
            CalendarError: ``d`` is outside the supported range.

        >>> cal = WorkCalendar.china()
        >>> cal.working_day_index(date(2024, 9, 30)) - cal.working_day_index(date(2024, 9, 27))
        2
        """
        return self._tables.cum[self._offset(d)]

    def add_working_days(self, d: date, n: int) -> date:
        """Move ``n`` working days from ``d``.

        * ``n >= 1``: the n-th working day after ``d``, not counting ``d``.
        * ``n == 0``: ``d`` if it is a working day, else the next working day — a period
          of zero working days ending on a day off rolls forward (民法典第二百零三条).
        * ``n < 0``: the |n|-th working day before ``d``, not counting ``d``.

        Args:
            d: the day to count from.
            n: the number of working days.

        Returns:
            The working day reached.

        Raises:
            CalendarError: ``n`` is not a whole number, or ``d`` or the result lies outside
                the supported range.

        >>> cal = WorkCalendar.china()
        >>> cal.add_working_days(date(2024, 9, 27), 2)  # Sunday 29 September was worked
        datetime.date(2024, 9, 30)
        >>> cal.add_working_days(date(2024, 10, 1), 0), cal.add_working_days(date(2024, 10, 8), -1)
        (datetime.date(2024, 10, 8), datetime.date(2024, 9, 30))
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise CalendarError(f"n must be a whole number of working days, got {n!r}")
        offset = self._offset(d)
        tables = self._tables
        index = tables.cum[offset]
        # n >= 1 counts from d's own index; n <= 0 from the last working day before d.
        target = index + n if n >= 1 else index - tables.working[offset] + 1 + n
        if not 1 <= target <= len(tables.positions):
            raise CalendarError(
                f"{d} {'+' if n >= 0 else '-'} {abs(n)} working days falls outside the "
                f"supported calendar range {_data.EPOCH}..{_data.LAST_DATE}"
            )
        return date.fromordinal(_data.EPOCH_ORDINAL + tables.positions[target - 1])

    def roll_forward(self, d: date) -> date:
        """``d`` if it is a working day, else the next working day (民法典第二百零三条).

        Args:
            d: the day.

        Returns:
            The working day.

        Raises:
            CalendarError: ``d`` or the result lies outside the supported range.

        >>> WorkCalendar.china().roll_forward(date(2024, 10, 1))
        datetime.date(2024, 10, 8)
        """
        return self.add_working_days(d, 0)

    def working_days_between(self, a: date, b: date) -> int:
        """The number of working days in ``(a, b]`` (``a`` excluded, ``b`` included).

        For ``a > b`` it is minus the count in ``(b, a]``. So it equals
        ``working_day_index(b) - working_day_index(a)``, and
        ``working_days_between(d, add_working_days(d, n)) == n`` for every ``n >= 1``
        (and for every ``n`` when ``d`` is a working day).

        Args:
            a: the day counted from (excluded).
            b: the day counted to (included).

        Returns:
            The signed number of working days.

        Raises:
            CalendarError: a day outside the supported range.

        >>> cal = WorkCalendar.china()
        >>> cal.working_days_between(date(2024, 9, 27), date(2024, 10, 8))
        3
        >>> cal.working_days_between(date(2024, 10, 8), date(2024, 9, 27))
        -3
        """
        cum = self._tables.cum
        return cum[self._offset(b, "b")] - cum[self._offset(a, "a")]

    def next_month_end(self, d: date) -> date:
        """The last day of the month after ``d``'s month (次月底).

        Args:
            d: the day.

        Returns:
            The last calendar day of the next month (working day or not).

        Raises:
            CalendarError: ``d`` is not a date.

        >>> WorkCalendar.china().next_month_end(date(2024, 1, 31))
        datetime.date(2024, 2, 29)
        """
        checked = _data.as_date(d)
        year, month = (
            (checked.year + 1, 1) if checked.month == 12 else (checked.year, checked.month + 1)
        )
        try:
            return _data.month_end(year, month)
        except (OverflowError, ValueError):
            raise CalendarError(f"the month after {checked} is out of range") from None

    def local_date(self, instant: datetime) -> date:
        """The calendar day (in :attr:`tz`) on which an instant falls.

        Args:
            instant: an aware datetime.

        Returns:
            The local date.

        Raises:
            NaiveDatetimeError: ``instant`` is naive.

        >>> from datetime import timezone
        >>> WorkCalendar.china().local_date(datetime(2024, 9, 30, 17, 0, tzinfo=timezone.utc))
        datetime.date(2024, 10, 1)
        """
        return ensure_aware(instant).astimezone(self._tz).date()

    # ---------------------------------------------------------------- deadlines

    def deadline(self, start: datetime, period: Duration, *, strict: bool = False) -> Deadline:
        """When ``period`` counted from the instant ``start`` ends (民法典第二百零一至二百零三条).

        * Working days, calendar days, months: the day of ``start`` (in :attr:`tz`) is not
          counted; the period begins the next day (第二百零一条) and ends at 24:00 of its
          last day (第二百零三条第二款). For N working days the last day is
          ``add_working_days(start_day, N)``; for N calendar days ``start_day + N``; for N
          months the corresponding day of the month N months on, or that month's last day
          (第二百零二条). A last day that is not a working day (a statutory holiday or a
          weekend) moves to the next working day (第二百零三条第一款).
        * Hours: from the exact instant; due exactly N hours later; no roll-forward.
        * End of next month (次月底): the last day of the month after ``start``'s month,
          24:00, *not* rolled forward: it is a fixed date named by the notice (期日), not a
          counted period. Use :meth:`roll_forward` on it if a notice says otherwise.

        Args:
            start: the instant the period runs from (aware).
            period: the period.
            strict: raise instead of returning a provisional result.

        Returns:
            The :class:`Deadline`. ``provisional`` is True when a day-based period spans a
            provisional year (from ``start``'s day to the last day); hours and 次月底 never
            depend on the holiday schedule, so they are never provisional.

        Raises:
            NaiveDatetimeError: ``start`` is naive.
            ProvisionalYearError: ``strict`` and the result is provisional.
            CalendarError: the period runs outside the supported range, or is not a
                duration.

        >>> cal = WorkCalendar.china()
        >>> d = cal.deadline(datetime(2024, 9, 27, 15, 30, tzinfo=cal.tz), WorkingDays(2))
        >>> d.last_day, d.due.isoformat(), d.provisional
        (datetime.date(2024, 9, 30), '2024-10-01T00:00:00+08:00', False)
        """
        start = ensure_aware(start)
        try:
            return self._deadline(start, period, strict=strict)
        except (OverflowError, ValueError) as exc:
            if isinstance(exc, VbpRulesError):
                raise
            raise CalendarError(f"{period} from {start.isoformat()} is out of range") from None

    def _deadline(self, start: datetime, period: Duration, *, strict: bool) -> Deadline:
        start_day = self.local_date(start)
        if isinstance(period, Hours):
            due = (_utc(start) + timedelta(hours=period.n)).astimezone(self._tz)
            return Deadline(start=start, period=period, last_day=None, due=due, provisional=False)
        depends_on_calendar = True
        if isinstance(period, WorkingDays):
            last = self.add_working_days(start_day, period.n)
        elif isinstance(period, CalendarDays):
            last = self._roll(start_day + timedelta(days=period.n))
        elif isinstance(period, Months):
            last = self._roll(_data.add_months(start_day, period.n))
        elif isinstance(period, EndOfNextMonth):
            last = self.next_month_end(start_day)
            depends_on_calendar = False
        else:
            raise CalendarError(
                f"unknown period {period!r}: expected WorkingDays, CalendarDays, Hours, "
                "Months or EndOfNextMonth"
            )
        provisional = depends_on_calendar and any(
            self.is_provisional(year) for year in range(start_day.year, last.year + 1)
        )
        if provisional and strict:
            years = [
                str(year)
                for year in range(start_day.year, last.year + 1)
                if self.is_provisional(year)
            ]
            raise ProvisionalYearError(
                f"{period} from {start.isoformat()} runs through provisional year(s) "
                f"{', '.join(years)}: no official holiday schedule is known; add one with "
                "WorkCalendar.with_schedule or drop strict"
            )
        due = datetime.combine(last + timedelta(days=1), time(0), tzinfo=self._tz)
        return Deadline(start=start, period=period, last_day=last, due=due, provisional=provisional)

    def _roll(self, day: date) -> date:
        if not _data.EPOCH <= day <= _data.LAST_DATE:
            raise CalendarError(self._range_message(day))
        return self.add_working_days(day, 0)

    # ---------------------------------------------------------------- tables

    def calendar_table(self, start: date, end: date) -> list[CalendarDay]:
        """One row per day from ``start`` to ``end``, both included.

        Args:
            start: the first day.
            end: the last day (not before ``start``).

        Returns:
            The rows, in date order.

        Raises:
            CalendarError: ``end`` is before ``start``, or a day is outside the range.

        >>> rows = WorkCalendar.china().calendar_table(date(2024, 9, 28), date(2024, 9, 29))
        >>> [(r.date.day, r.is_working_day, r.is_make_up_day) for r in rows]
        [(28, False, False), (29, True, True)]
        """
        first = self._offset(start, "start")
        last = self._offset(end, "end")
        if last < first:
            raise CalendarError(f"end {end} is before start {start}")
        tables = self._tables
        official = self._facts.official_years
        rows = []
        for offset in range(first, last + 1):
            day = date.fromordinal(_data.EPOCH_ORDINAL + offset)
            rows.append(
                CalendarDay(
                    date=day,
                    is_working_day=bool(tables.working[offset]),
                    working_day_index=tables.cum[offset],
                    holiday_name_zh=tables.names_zh.get(day),
                    holiday_name_en=tables.names_en.get(day),
                    is_make_up_day=day in self._facts.make_up,
                    make_up_for_zh=tables.make_up_zh.get(day),
                    make_up_for_en=tables.make_up_en.get(day),
                    is_provisional=day.year not in official,
                )
            )
        return rows

    def calendar_records(self, start: date, end: date) -> list[dict[str, object]]:
        """:meth:`calendar_table` as plain dicts, ready for a data frame.

        Args:
            start: the first day.
            end: the last day.

        Returns:
            One dict per day.

        Raises:
            CalendarError: as :meth:`calendar_table`.

        >>> WorkCalendar.china().calendar_records(date(2024, 9, 29), date(2024, 9, 29))[0][
        ...     "make_up_for_zh"
        ... ]
        '国庆节'
        """
        return [row.to_dict() for row in self.calendar_table(start, end)]

    def days_off(self, year: int, *, lang: Language = "zh") -> dict[date, str]:
        """The declared days off that fall in ``year``, with their festival names.

        These are the statutory days, 调休 days off and 补假 of the schedule; ordinary
        weekends (even inside a holiday period) are not listed.

        Args:
            year: the year.
            lang: ``"zh"`` or ``"en"``.

        Returns:
            Date to name, in date order.

        Raises:
            CalendarError: bad ``year`` or ``lang``.

        >>> list(WorkCalendar.china().days_off(2024, lang="en").items())[0]
        (datetime.date(2024, 1, 1), "New Year's Day")
        """
        self._check_year(year)
        names = self._tables.names_zh if self._lang(lang) == "zh" else self._tables.names_en
        return {day: names[day] for day in sorted(self._facts.days_off) if day.year == year}

    def make_up_days(self, year: int) -> list[date]:
        """The make-up working days that fall in ``year``, in date order.

        Args:
            year: the year.

        Returns:
            The dates (a December date may serve the next year's New Year holiday).

        Raises:
            CalendarError: ``year`` is outside the supported range.

        >>> WorkCalendar.china().make_up_days(2024)[:2]
        [datetime.date(2024, 2, 4), datetime.date(2024, 2, 18)]
        """
        self._check_year(year)
        return sorted(day for day in self._facts.make_up if day.year == year)

"""Functions the engines add to the expression language: calendar and date arithmetic.

Each evaluation binds them to a :class:`~vbp_rules.calendar.WorkCalendar` and records
which calendar years a result touched, so findings that depend on a provisional year
(one whose official holiday schedule is not yet published) can be flagged.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from types import MappingProxyType

import attrs

from vbp_rules.calendar import (
    CalendarDays,
    Duration,
    EndOfNextMonth,
    Hours,
    Months,
    WorkCalendar,
    WorkingDays,
)
from vbp_rules.calendar import add_months as _add_months
from vbp_rules.calendar import month_end as _month_end
from vbp_rules.errors import CalendarError, ExpressionError, VbpRulesError
from vbp_rules.expr import BUILTIN_FUNCTIONS, Expression, FunctionSpec, parse

__all__ = [
    "ENGINE_FUNCTION_DOCS",
    "CalendarContext",
    "parse_expression",
    "split_aggregate",
]

#: Name -> (arity range, description) of every engine function, for docs and parsing.
ENGINE_FUNCTION_DOCS: Mapping[str, tuple[int, int, str]] = MappingProxyType(
    {
        "working_days_between": (2, 2, "working days in (a, b]: a excluded, b included"),
        "calendar_days_between": (2, 2, "calendar days from a to b (b - a)"),
        "add_working_days": (2, 2, "the n-th working day after a date"),
        "add_months": (2, 2, "the same day n months later (month end if none)"),
        "local_date": (1, 1, "the calendar-zone date of an instant (a date is returned as is)"),
        "start_of_day": (1, 1, "00:00 of a date in the calendar's zone, as an instant"),
        "end_of_day": (1, 1, "24:00 of a date (00:00 of the next day), as an instant"),
        "deadline": (2, 2, "the due instant of a duration after a start (民法典 201/203)"),
        "month_end": (1, 1, "the last day of the date's month"),
        "next_month_end": (1, 1, "the last day of the next month (次月底)"),
        "working_days": (1, 1, "a duration of n working days"),
        "calendar_days": (1, 1, "a duration of n calendar days"),
        "hours": (1, 1, "a duration of n clock hours"),
        "months": (1, 1, "a duration of n months"),
        "year_of": (1, 1, "the year of a date or instant"),
        "add_days": (2, 2, "the date n calendar days later (n may be negative)"),
        "is_working_day": (1, 1, "whether a date is a working day (调休 included)"),
    }
)

_PARSE_NAMES = frozenset(BUILTIN_FUNCTIONS) | frozenset(ENGINE_FUNCTION_DOCS)


def parse_expression(source: str) -> Expression:
    """Parse a pack expression with the engine functions available.

    Raises:
        ExpressionError: the text does not parse or calls an unknown function.
    """
    return parse(source, functions=_PARSE_NAMES)


def split_aggregate(source: str) -> tuple[str, Expression | None]:
    """Split ``sum(expr)`` into ``("sum", Expression(expr))``; ``count()`` has no argument.

    Raises:
        ExpressionError: the text is not one aggregate call around a row expression.
    """
    text = source.strip()
    head, sep, rest = text.partition("(")
    name = head.strip()
    if not sep or not rest.endswith(")"):
        raise ExpressionError(f"expected an aggregate call like sum(x), got {source!r}")
    inner = rest[:-1].strip()
    if name == "count":
        if inner:
            raise ExpressionError("count() takes no argument; use count_if(condition)")
        return name, None
    if not inner:
        raise ExpressionError(f"{name}() needs a row expression, e.g. {name}(quantity)")
    return name, parse_expression(inner)


def _as_int(v: object, what: str) -> int:
    if isinstance(v, bool):
        raise ExpressionError(f"{what} must be a whole number, not a boolean")
    if isinstance(v, int):
        return v
    if isinstance(v, Fraction) and v.denominator == 1:
        return v.numerator
    raise ExpressionError(f"{what} must be a whole number, got {v!r}")


def _as_date(v: object, what: str) -> date:
    if isinstance(v, datetime) or not isinstance(v, date):
        raise ExpressionError(f"{what} must be a date, got {type(v).__name__}")
    return v


_SHARED = threading.local()


@attrs.define(kw_only=True)
class CalendarContext:
    """Calendar functions bound to one calendar, recording the years they touched.

    :meth:`shared` gives one context per calendar and thread, so the function table (and
    the expressions compiled against it) is built once, not on every evaluation.
    """

    calendar: WorkCalendar
    years: set[int] = attrs.field(factory=set)
    _table: dict[str, FunctionSpec] | None = attrs.field(default=None, repr=False)

    @classmethod
    def shared(cls, calendar: WorkCalendar) -> CalendarContext:
        """This thread's context for ``calendar`` (touched years cleared)."""
        cache: dict[int, CalendarContext] | None = getattr(_SHARED, "contexts", None)
        if cache is None:
            cache = {}
            _SHARED.contexts = cache
        ctx = cache.get(id(calendar))
        if ctx is None or ctx.calendar is not calendar:
            ctx = cls(calendar=calendar)
            cache[id(calendar)] = ctx
        ctx.reset()
        return ctx

    def _touch(self, *days: date) -> None:
        for d in days:
            self.years.add(d.year)

    def provisional(self) -> bool:
        """True when a touched year's schedule is provisional."""
        return any(self.calendar.is_provisional(y) for y in self.years)

    def reset(self) -> None:
        """Forget the touched years (before the next subject)."""
        self.years.clear()

    def local_date(self, v: object) -> date:
        """The calendar-zone date of an instant; a date stays as it is."""
        if isinstance(v, datetime):
            return self.calendar.local_date(v)
        return _as_date(v, "local_date()")

    def start_of_day(self, d: object) -> datetime:
        """00:00 of a date in the calendar's zone."""
        day = _as_date(d, "start_of_day()")
        return datetime.combine(day, time(0), tzinfo=self.calendar.tz)

    def deadline(self, start: object, period: object) -> datetime:
        """The due instant of ``period`` after ``start`` (an instant, or a date's 00:00)."""
        if not isinstance(period, WorkingDays | CalendarDays | Hours | Months | EndOfNextMonth):
            raise ExpressionError(f"deadline() needs a duration, got {period!r}")
        instant = start if isinstance(start, datetime) else self.start_of_day(start)
        d = self.calendar.deadline(instant, period)
        self._touch(self.calendar.local_date(instant), self.calendar.local_date(d.due))
        if d.provisional:
            self.years.update(y for y in range(instant.year, d.due.year + 1))
        return d.due

    def functions(self) -> dict[str, FunctionSpec]:
        """The function table to pass to :meth:`Expression.evaluate` (built once)."""
        if self._table is None:
            self._table = self._build()
        return self._table

    def _build(self) -> dict[str, FunctionSpec]:
        cal = self.calendar

        def wdb(a: object, b: object) -> int:
            da, db = _as_date(a, "working_days_between()"), _as_date(b, "working_days_between()")
            self._touch(da, db)
            return cal.working_days_between(da, db)

        def cdb(a: object, b: object) -> int:
            da, db = _as_date(a, "calendar_days_between()"), _as_date(b, "calendar_days_between()")
            return (db - da).days

        def awd(d: object, n: object) -> date:
            day = _as_date(d, "add_working_days()")
            out = cal.add_working_days(day, _as_int(n, "add_working_days() n"))
            self._touch(day, out)
            return out

        def add_months(d: object, n: object) -> date:
            return _add_months(_as_date(d, "add_months()"), _as_int(n, "add_months() n"))

        def month_end(d: object) -> date:
            return _month_end(_as_date(d, "month_end()"))

        def next_month_end(d: object) -> date:
            day = _as_date(self.local_date(d), "next_month_end()")
            return cal.next_month_end(day)

        def end_of_day(d: object) -> datetime:
            return self.start_of_day(d) + timedelta(days=1)

        def year_of(v: object) -> int:
            return self.local_date(v).year

        def add_days(d: object, n: object) -> date:
            return _as_date(d, "add_days()") + timedelta(days=_as_int(n, "add_days() n"))

        def is_working_day(d: object) -> bool:
            day = _as_date(self.local_date(d), "is_working_day()")
            self._touch(day)
            return cal.is_working_day(day)

        def dur(kind: type[Duration]) -> Callable[[object], object]:
            return lambda n: kind(_as_int(n, f"{kind.__name__}()"))  # type: ignore[call-arg]

        impls: dict[str, Callable[..., object]] = {
            "working_days_between": wdb,
            "calendar_days_between": cdb,
            "add_working_days": awd,
            "add_months": add_months,
            "local_date": self.local_date,
            "start_of_day": self.start_of_day,
            "end_of_day": end_of_day,
            "deadline": self.deadline,
            "month_end": month_end,
            "next_month_end": next_month_end,
            "working_days": dur(WorkingDays),
            "calendar_days": dur(CalendarDays),
            "hours": dur(Hours),
            "months": dur(Months),
            "year_of": year_of,
            "add_days": add_days,
            "is_working_day": is_working_day,
        }
        table = dict(BUILTIN_FUNCTIONS)
        for name, impl in impls.items():
            lo, hi, doc = ENGINE_FUNCTION_DOCS[name]
            table[name] = FunctionSpec(
                name=name, min_args=lo, max_args=hi, impl=_calendar_errors(name, impl), doc=doc
            )
        return table


def _calendar_errors(name: str, impl: Callable[..., object]) -> Callable[..., object]:
    """``impl`` raising :class:`CalendarError` where date arithmetic would overflow.

    ``add_days(d, 10**12)`` or ``end_of_day`` of 9999-12-31 leave the range
    :mod:`datetime` holds; that is a library error about the value, not a crash.
    """

    @functools.wraps(impl)
    def checked(*args: object) -> object:
        try:
            return impl(*args)
        except (OverflowError, ValueError) as exc:
            if isinstance(exc, VbpRulesError):
                raise
            raise CalendarError(f"{name}(): result out of range ({exc})") from None

    return checked

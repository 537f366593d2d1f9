"""Typed parameter values: converting what a pack (or a caller) writes to exact values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from vbp_rules.calendar import CalendarDays, EndOfNextMonth, Hours, Months, WorkingDays
from vbp_rules.expr import to_fraction

__all__ = ["MAX_DURATION", "convert_parameter", "render_parameter"]

MAX_DURATION: dict[str, int] = {
    "working_days": 10_000,
    "calendar_days": 36_600,
    "hours": 24 * 36_600,
    "months": 1_200,
}
"""The longest duration of each unit a parameter may hold (about a century): anything
longer runs past every calendar and is refused at load instead of failing later."""

_MAX_INT64 = 2**63 - 1
_MAX_TEXT = 100  # longest text read as a number
_MAX_EXPONENT = 30  # largest exponent magnitude of a number written as 1E+3

_DURATIONS = {
    "working_days": WorkingDays,
    "calendar_days": CalendarDays,
    "hours": Hours,
    "months": Months,
}


def _whole(value: object, what: str) -> int:
    if isinstance(value, bool):
        msg = f"{what} must be a whole number, not a boolean"
        raise TypeError(msg)
    if isinstance(value, int):
        n = value
    else:
        try:
            f = to_fraction(value)
        except (ValueError, TypeError) as exc:
            msg = f"{what} must be a whole number, got {value!r}"
            raise ValueError(msg) from exc
        if f.denominator != 1:
            msg = f"{what} must be a whole number, got {value!r}"
            raise ValueError(msg)
        n = f.numerator
    if n < 0:
        msg = f"{what} must not be negative, got {n}"
        raise ValueError(msg)
    if n > _MAX_INT64:
        msg = f"{what} must be at most {_MAX_INT64}"
        raise ValueError(msg)
    return n


def _bounded(value: object) -> object:
    """Refuse number forms whose exact value would be huge to compute (``1E+1000000000``)."""
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        msg = f"a number is at most {_MAX_TEXT} characters, got {len(value)}"
        raise ValueError(msg)
    if isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and abs(exponent) > _MAX_EXPONENT:
            msg = f"exponent out of range (at most {_MAX_EXPONENT} either way), got {value}"
            raise ValueError(msg)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_INT64:
        msg = f"a number must be at most {_MAX_INT64} in size"
        raise ValueError(msg)
    return value


def convert_parameter(type_: str, value: object) -> object:
    """Convert a written value to the exact runtime value of a parameter type.

    Ratios become ``Fraction`` (``"95%"``, ``"0.95"``, ``Decimal("0.95")``), counts ``int``,
    money ``Decimal`` (at most 2 decimal places), durations the calendar's duration types.

    >>> convert_parameter("ratio", "95%")
    Fraction(19, 20)
    >>> convert_parameter("working_days", 2)
    WorkingDays(n=2)
    >>> convert_parameter("date", "2021-01-26")
    datetime.date(2021, 1, 26)

    Raises:
        ValueError: the value does not fit the type (floats are refused).
    """
    if isinstance(value, float):
        msg = f"binary float {value!r} is not exact; write it as a string such as '95%'"
        raise ValueError(msg)
    if isinstance(value, bool):
        msg = f"a {type_} value must not be a boolean ({str(value).lower()})"
        raise TypeError(msg)
    if isinstance(value, list | tuple | dict | set | frozenset | bytes):
        msg = f"a {type_} value is one number or text, not a {type(value).__name__}"
        raise TypeError(msg)
    value = _bounded(value)
    if type_ == "ratio":
        f = to_fraction(value)
        if f < 0:
            msg = f"a ratio must not be negative, got {value!r}"
            raise ValueError(msg)
        return f
    if type_ == "number":
        return to_fraction(value)
    if type_ == "count":
        return _whole(value, "a count")
    if type_ == "money":
        try:
            d = Decimal(str(value)) if not isinstance(value, Decimal) else value
        except InvalidOperation as exc:
            msg = f"money must be a decimal amount in yuan, got {value!r}"
            raise ValueError(msg) from exc
        if not d.is_finite() or d.as_tuple().exponent < -2:  # type: ignore[operator]
            msg = f"money is exact to the fen (2 decimal places), got {value!r}"
            raise ValueError(msg)
        if d.adjusted() > _MAX_EXPONENT or abs(d) * 100 > _MAX_INT64:
            msg = f"money must be at most {_MAX_INT64} fen, got {value!r}"
            raise ValueError(msg)
        return d
    if type_ == "end_of_next_month":
        return EndOfNextMonth()
    if type_ == "date":
        if isinstance(value, datetime):
            msg = f"a date parameter takes a calendar day, not an instant: {value!r}"
            raise ValueError(msg)
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            msg = f"a date is written YYYY-MM-DD, got {value!r}"
            raise ValueError(msg) from exc
    if type_ in _DURATIONS:
        n = _whole(value, f"a duration in {type_}")
        if n > MAX_DURATION[type_]:
            msg = f"a duration in {type_} must be at most {MAX_DURATION[type_]}, got {n}"
            raise ValueError(msg)
        return _DURATIONS[type_](n)
    msg = f"unknown parameter type {type_!r}"  # pragma: no cover - schema forbids it
    raise ValueError(msg)


def render_parameter(value: object) -> str:
    """A short human rendering: ratios as percentages where exact."""
    if isinstance(value, Fraction):
        pct = value * 100
        if pct.denominator == 1:
            return f"{pct.numerator}%"
        return f"{value.numerator}/{value.denominator}"
    if value is None:
        return "unspecified"
    return str(value)
